package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Job states.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed" // a permanent error: retrying cannot help
	JobDead    = "dead"   // out of attempts
)

// Job is one unit of background work.
type Job struct {
	ID          int64
	OrgID       int64
	Kind        string
	Key         string // idempotency key: enqueueing an existing key does nothing
	Payload     []byte
	RunID       int64 // 0 when the job belongs to no run
	State       string
	Attempts    int
	MaxAttempts int
	RunAt       time.Time
	LeaseUntil  time.Time // set by ClaimJobs
	LastError   string
}

func ms(t time.Time) int64          { return t.UnixMilli() }
func fromMS(v int64) time.Time      { return time.UnixMilli(v).UTC() }
func nullInt(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: v != 0} }

// EnqueueJobs adds jobs in one transaction; jobs whose key exists are skipped.
func (s *Store) EnqueueJobs(ctx context.Context, jobs ...Job) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return EnqueueTx(ctx, tx, jobs...) })
}

// EnqueueTx adds jobs inside the caller's transaction, so that a step's results and
// the steps that follow from them commit together or not at all.
func EnqueueTx(ctx context.Context, tx *sql.Tx, jobs ...Job) error {
	if len(jobs) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO jobs (org_id, kind, key, payload, run_id, max_attempts, run_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("store: prepare enqueue: %w", err)
	}
	defer stmt.Close()
	now := time.Now()
	for _, j := range jobs {
		if j.Kind == "" || j.Key == "" {
			return fmt.Errorf("store: enqueue: job needs a kind and a key (kind %q, key %q)", j.Kind, j.Key)
		}
		if j.MaxAttempts <= 0 {
			j.MaxAttempts = 5
		}
		runAt := j.RunAt
		if runAt.IsZero() {
			runAt = now
		}
		if j.Payload == nil {
			j.Payload = []byte{}
		}
		if _, err := stmt.ExecContext(ctx, j.OrgID, j.Kind, j.Key, j.Payload, nullInt(j.RunID), j.MaxAttempts, ms(runAt), ms(now)); err != nil {
			return fmt.Errorf("store: enqueue %s %s: %w", j.Kind, j.Key, err)
		}
	}
	return nil
}

// ClaimJobs leases up to n due jobs to owner until leaseUntil, oldest due first, in a
// single UPDATE ... RETURNING: a job is claimed by one owner or none.
func (s *Store) ClaimJobs(ctx context.Context, owner string, n int, now, leaseUntil time.Time) ([]Job, error) {
	rows, err := s.rw.QueryContext(ctx, `UPDATE jobs SET state = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= ? ORDER BY run_at, id LIMIT ?)
		RETURNING id, org_id, kind, key, payload, COALESCE(run_id, 0), attempts, max_attempts, run_at, last_error`,
		owner, ms(leaseUntil), ms(now), n)
	if err != nil {
		return nil, fmt.Errorf("store: claim jobs: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		var j Job
		var runAt int64
		if err := rows.Scan(&j.ID, &j.OrgID, &j.Kind, &j.Key, &j.Payload, &j.RunID, &j.Attempts, &j.MaxAttempts, &runAt, &j.LastError); err != nil {
			return nil, fmt.Errorf("store: scan claimed job: %w", err)
		}
		j.State, j.RunAt, j.LeaseUntil = JobRunning, fromMS(runAt), leaseUntil
		out = append(out, j)
	}
	return out, rows.Err()
}

// NextJobDue is when the next queued job is due (zero when there is none), so an idle
// pool can sleep until then instead of polling.
func (s *Store) NextJobDue(ctx context.Context) (time.Time, error) {
	var v sql.NullInt64
	if err := s.rw.QueryRowContext(ctx, `SELECT MIN(run_at) FROM jobs WHERE state = 'queued'`).Scan(&v); err != nil {
		return time.Time{}, fmt.Errorf("store: next job due: %w", err)
	}
	if !v.Valid {
		return time.Time{}, nil
	}
	return fromMS(v.Int64), nil
}

// ExtendLease pushes a running job's lease while its owner still holds it; false
// means the lease was lost (it expired and the job went back to the queue).
func (s *Store) ExtendLease(ctx context.Context, id int64, owner string, until time.Time) (bool, error) {
	res, err := s.rw.ExecContext(ctx, `UPDATE jobs SET lease_until = ? WHERE id = ? AND state = 'running' AND lease_owner = ?`,
		ms(until), id, owner)
	if err != nil {
		return false, fmt.Errorf("store: extend lease of job %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// JobResult is how one claimed job ended.
type JobResult struct {
	ID        int64
	Owner     string
	State     string    // JobDone, JobQueued (retry), JobFailed or JobDead
	RetryAt   time.Time // for JobQueued
	Refund    bool      // for JobQueued: the attempt is not counted (the job was deferred, not failed)
	LastError string
}

// FinishJobs records many results in one transaction: per-job commits would cap the
// queue at a few thousand jobs a second on SQLite. A result for a job whose lease was
// lost (owner differs) is ignored: the job belongs to someone else now.
func (s *Store) FinishJobs(ctx context.Context, results []JobResult) error {
	if len(results) == 0 {
		return nil
	}
	now := ms(time.Now())
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// Done jobs, the common case, go in chunks of one statement per owner. (A row-value
		// IN over (id, owner) pairs would not use the primary key and scan the table.)
		doneBy := map[string][]any{}
		for _, r := range results {
			if r.State == JobDone {
				doneBy[r.Owner] = append(doneBy[r.Owner], r.ID)
			}
		}
		for owner, ids := range doneBy {
			for i := 0; i < len(ids); i += 500 {
				chunk := ids[i:min(i+500, len(ids))]
				args := append([]any{now, owner}, chunk...)
				q := `UPDATE jobs SET state = 'done', finished_at = ?, lease_owner = NULL, lease_until = NULL, last_error = ''
					WHERE state = 'running' AND lease_owner = ? AND id IN (?` + strings.Repeat(",?", len(chunk)-1) + `)`
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					return fmt.Errorf("store: finish jobs: %w", err)
				}
			}
		}
		for _, r := range results {
			var err error
			switch r.State {
			case JobDone:
				continue
			case JobQueued:
				refund := 0
				if r.Refund {
					refund = 1
				}
				_, err = tx.ExecContext(ctx, `UPDATE jobs SET state = 'queued', run_at = ?, lease_owner = NULL, lease_until = NULL, last_error = ?,
						attempts = MAX(attempts - ?, 0)
					WHERE id = ? AND state = 'running' AND lease_owner = ?`, ms(r.RetryAt), r.LastError, refund, r.ID, r.Owner)
			case JobFailed, JobDead:
				_, err = tx.ExecContext(ctx, `UPDATE jobs SET state = ?, finished_at = ?, lease_owner = NULL, lease_until = NULL, last_error = ?
					WHERE id = ? AND state = 'running' AND lease_owner = ?`, r.State, now, r.LastError, r.ID, r.Owner)
			default:
				err = fmt.Errorf("unknown state %q", r.State)
			}
			if err != nil {
				return fmt.Errorf("store: finish job %d: %w", r.ID, err)
			}
		}
		return nil
	})
}

// MaxLeaseExpiries is how many times a job's lease may expire (its process died or
// hung while holding it) before the job is dead: a job that takes its process down
// must not do so forever.
const MaxLeaseExpiries = 20

// RequeueExpired puts back jobs whose lease expired (their worker crashed or hung).
// The claim that expired is not counted as an attempt: prefetched jobs that never
// started and jobs cut off by a kill -9 did not fail. The expiry is counted instead,
// and a job dies at MaxLeaseExpiries. It returns how many jobs it touched.
func (s *Store) RequeueExpired(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'dead', finished_at = ?, lease_owner = NULL, lease_until = NULL,
				expiries = expiries + 1, last_error = 'lease expired too many times (the job brings its worker down)'
			WHERE state = 'running' AND lease_until <= ? AND expiries + 1 >= ?`, ms(now), ms(now), MaxLeaseExpiries)
		if err != nil {
			return fmt.Errorf("store: expire jobs: %w", err)
		}
		d, _ := res.RowsAffected()
		res, err = tx.ExecContext(ctx, `UPDATE jobs SET state = 'queued', run_at = ?, lease_owner = NULL, lease_until = NULL,
				attempts = MAX(attempts - 1, 0), expiries = expiries + 1,
				last_error = 'lease expired (worker crashed or hung); retried'
			WHERE state = 'running' AND lease_until <= ?`, ms(now), ms(now))
		if err != nil {
			return fmt.Errorf("store: requeue jobs: %w", err)
		}
		q, _ := res.RowsAffected()
		n = d + q
		return nil
	})
	return n, err
}

// JobByKey returns a job by its idempotency key.
func (s *Store) JobByKey(ctx context.Context, key string) (Job, error) {
	var j Job
	var runAt int64
	err := s.ro.QueryRowContext(ctx, `SELECT id, org_id, kind, key, payload, COALESCE(run_id, 0), state, attempts, max_attempts, run_at, last_error
		FROM jobs WHERE key = ?`, key).
		Scan(&j.ID, &j.OrgID, &j.Kind, &j.Key, &j.Payload, &j.RunID, &j.State, &j.Attempts, &j.MaxAttempts, &runAt, &j.LastError)
	if errors.Is(err, sql.ErrNoRows) {
		return j, fmt.Errorf("job %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return j, fmt.Errorf("store: job %q: %w", key, err)
	}
	j.RunAt = fromMS(runAt)
	return j, nil
}

// JobCounts counts jobs by state (for health, metrics and tests).
func (s *Store) JobCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT state, COUNT(*) FROM jobs GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("store: count jobs: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("store: count jobs: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}
