package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Run states and stages (DESIGN.md).
const (
	RunQueued    = "queued"
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
	RunCancelled = "cancelled"
)

// Job kinds of a listening run, in pipeline order.
const (
	KindSearch  = "search"
	KindThread  = "thread"
	KindAnalyze = "analyze"
	KindDeliver = "deliver"
	KindDigest  = "digest"
)

// ErrRunActive is returned when a campaign already has a queued or running run.
var ErrRunActive = errors.New("the campaign already has a run in progress")

// Run is one listening run of a campaign.
type Run struct {
	ID           int64      `json:"id"`
	OrgID        int64      `json:"-"`
	CampaignID   int64      `json:"campaign_id"`
	Status       string     `json:"status"`
	Stage        string     `json:"stage"`
	Trigger      string     `json:"trigger"`
	Query        string     `json:"query"`
	SinceID      string     `json:"-"`
	SearchCursor string     `json:"-"`
	SearchDone   bool       `json:"-"`
	SearchPages  int        `json:"-"`
	NewestID     string     `json:"-"`
	Progress     Progress   `json:"progress"`
	Error        string     `json:"error"`
	CreatedAt    time.Time  `json:"created_at"`
	StartedAt    *time.Time `json:"started_at"`
	FinishedAt   *time.Time `json:"finished_at"`
}

// Progress is counted from the rows a run produced and its jobs.
type Progress struct {
	Percent       int `json:"percent"`
	TweetsFound   int `json:"tweets_found"`
	TweetsNew     int `json:"tweets_new"`
	Conversations int `json:"conversations"`
	Analyzed      int `json:"analyzed"`
	Opportunities int `json:"opportunities"`
	Delivered     int `json:"delivered"`
}

// Active reports whether the run may still change.
func (r Run) Active() bool { return r.Status == RunQueued || r.Status == RunRunning }

// CreateRun queues a run of a campaign and its first job in one transaction. A
// campaign runs once at a time: a second request while one is active is ErrRunActive.
func (s *Store) CreateRun(ctx context.Context, orgID, campaignID int64, trigger, query, sinceID string, searchPayload []byte) (Run, error) {
	r := Run{OrgID: orgID, CampaignID: campaignID, Status: RunQueued, Stage: "searching", Trigger: trigger,
		Query: query, SinceID: sinceID, CreatedAt: time.Now().UTC()}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Incremental runs continue from the previous run's newest tweet even when
		// they find nothing themselves.
		r.NewestID = sinceID
		var active int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE campaign_id = ? AND status IN ('queued', 'running')`,
			campaignID).Scan(&active); err != nil {
			return fmt.Errorf("store: check active runs: %w", err)
		}
		if active > 0 {
			return ErrRunActive
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO runs (org_id, campaign_id, trigger, query, since_id, newest_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, orgID, campaignID, trigger, query, sinceID, sinceID, ts(r.CreatedAt)).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("store: create run: %w", err)
		}
		return EnqueueTx(ctx, tx, Job{OrgID: orgID, Kind: KindSearch, Key: fmt.Sprintf("run:%d:search", r.ID), RunID: r.ID,
			MaxAttempts: 10, Payload: searchPayload})
	})
	return r, err
}

const runCols = `id, org_id, campaign_id, status, trigger, query, since_id, search_cursor, search_done, search_pages,
	tweets_found, newest_id, error, created_at, started_at, finished_at`

func scanRun(r rowScanner) (Run, error) {
	var run Run
	var started, finished sql.NullString
	err := r.Scan(&run.ID, &run.OrgID, &run.CampaignID, &run.Status, &run.Trigger, &run.Query, &run.SinceID,
		&run.SearchCursor, &run.SearchDone, &run.SearchPages, &run.Progress.TweetsFound, &run.NewestID, &run.Error,
		scanTime(&run.CreatedAt), &started, &finished)
	run.StartedAt, run.FinishedAt = parseNullTS(started), parseNullTS(finished)
	return run, err
}

// Run returns a run of the organization with its progress.
func (s *Store) Run(ctx context.Context, orgID, id int64) (Run, error) {
	r, err := scanRun(s.ro.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE id = ? AND (? = 0 OR org_id = ?)`, id, orgID, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("run %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("store: run %d: %w", id, err)
	}
	runs := []Run{r}
	err = s.fillProgress(ctx, runs)
	return runs[0], err
}

// RunForJob returns a run for a job handler, which acts for the job's organization.
// Its Progress and Stage are left empty: handlers check the run's status before every
// job, and counting the run's rows each time made a run of n jobs cost O(n²).
func (s *Store) RunForJob(ctx context.Context, id int64) (Run, error) {
	r, err := scanRun(s.ro.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("run %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("store: run %d: %w", id, err)
	}
	return r, nil
}

// Runs lists a campaign's runs, newest first.
func (s *Store) Runs(ctx context.Context, orgID, campaignID int64, limit int) ([]Run, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT `+runCols+` FROM runs WHERE org_id = ? AND campaign_id = ? ORDER BY id DESC LIMIT ?`,
		orgID, campaignID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list runs: %w", err)
	}
	defer rows.Close()
	out := []Run{}
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("store: scan run: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := s.fillProgress(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// LastRuns returns the latest run of each of the organization's campaigns that has
// run, with its progress, by campaign id: a list of campaigns asks three queries for
// them all instead of three per campaign.
func (s *Store) LastRuns(ctx context.Context, orgID int64) (map[int64]Run, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT `+runCols+` FROM runs WHERE id IN (
			SELECT (SELECT MAX(r.id) FROM runs r WHERE r.campaign_id = c.id) FROM campaigns c WHERE c.org_id = ?)`, orgID)
	if err != nil {
		return nil, fmt.Errorf("store: last runs: %w", err)
	}
	defer rows.Close()
	var list []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("store: scan run: %w", err)
		}
		list = append(list, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: last runs: %w", err)
	}
	if err := s.fillProgress(ctx, list); err != nil {
		return nil, err
	}
	out := make(map[int64]Run, len(list))
	for _, r := range list {
		out[r.CampaignID] = r
	}
	return out, nil
}

// fillProgress counts what each run produced and derives its stage and percent from
// its jobs: searching until the search job is done, then threads, analysis and
// delivery while jobs of those kinds are pending. It asks two queries whatever the
// number of runs: a list of 50 runs used to ask 100, one after another, each waiting
// for a pooled connection behind every other request's queries, which made a list of
// runs take seconds while 200 clients read the API.
func (s *Store) fillProgress(ctx context.Context, runs []Run) error {
	if len(runs) == 0 {
		return nil
	}
	index := make(map[int64]int, len(runs))
	ids := make([]any, len(runs))
	for i, r := range runs {
		index[r.ID], ids[i] = i, r.ID
	}
	in := "(?" + strings.Repeat(", ?", len(runs)-1) + ")"
	rows, err := s.ro.QueryContext(ctx, `SELECT r.id,
			(SELECT COUNT(*) FROM campaign_tweets WHERE run_id = r.id),
			(SELECT COUNT(*) FROM conversations WHERE run_id = r.id),
			(SELECT COUNT(*) FROM analyses WHERE run_id = r.id),
			(SELECT COUNT(*) FROM opportunities WHERE run_id = r.id),
			(SELECT COUNT(*) FROM deliveries WHERE run_id = r.id AND state = 'sent')
		FROM runs r WHERE r.id IN `+in, ids...)
	if err != nil {
		return fmt.Errorf("store: progress of %d runs: %w", len(runs), err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var p Progress
		if err := rows.Scan(&id, &p.TweetsNew, &p.Conversations, &p.Analyzed, &p.Opportunities, &p.Delivered); err != nil {
			return fmt.Errorf("store: scan progress: %w", err)
		}
		p.TweetsFound = runs[index[id]].Progress.TweetsFound // a column of the run, read with it
		runs[index[id]].Progress = p
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: progress of %d runs: %w", len(runs), err)
	}
	rows.Close()

	pending, total := make([]map[string]int, len(runs)), make([]map[string]int, len(runs))
	for i := range runs {
		pending[i], total[i] = map[string]int{}, map[string]int{}
	}
	// Grouped by the columns of jobs_run_progress in its order, the count is a walk
	// of that index alone.
	jobs, err := s.ro.QueryContext(ctx, `SELECT run_id, state, kind, COUNT(*) FROM jobs
		WHERE run_id IN `+in+` GROUP BY run_id, state, kind`, ids...)
	if err != nil {
		return fmt.Errorf("store: jobs of %d runs: %w", len(runs), err)
	}
	defer jobs.Close()
	for jobs.Next() {
		var id int64
		var state, kind string
		var n int
		if err := jobs.Scan(&id, &state, &kind, &n); err != nil {
			return fmt.Errorf("store: scan jobs of runs: %w", err)
		}
		i := index[id]
		total[i][kind] += n
		if state == "queued" || state == "running" {
			pending[i][kind] += n
		}
	}
	if err := jobs.Err(); err != nil {
		return fmt.Errorf("store: jobs of %d runs: %w", len(runs), err)
	}
	for i := range runs {
		runs[i].stage(pending[i], total[i])
	}
	return nil
}

// stage derives the run's stage and percent from its pending and total jobs by kind.
func (r *Run) stage(pending, total map[string]int) {
	p := &r.Progress
	pending[KindDeliver] += pending[KindDigest] // digests are part of delivering
	total[KindDeliver] += total[KindDigest]
	// Each stage owns a share of the bar; within it, the share of its jobs done.
	stages := []struct {
		kind, name string
		from, to   int
	}{{KindSearch, "searching", 0, 25}, {KindThread, "threads", 25, 55}, {KindAnalyze, "analyzing", 55, 90}, {KindDeliver, "delivering", 90, 100}}
	r.Stage, p.Percent = "done", 100
	for _, st := range stages {
		if pending[st.kind] == 0 && !(st.kind == KindSearch && !r.SearchDone && r.Active()) {
			continue
		}
		r.Stage = st.name
		done := 0.0
		if total[st.kind] > 0 {
			done = float64(total[st.kind]-pending[st.kind]) / float64(total[st.kind])
		}
		p.Percent = st.from + int(done*float64(st.to-st.from))
		break
	}
	if r.Active() && p.Percent == 100 {
		p.Percent = 99 // the run is wrapping up; 100 means finished
	}
}

// StartRun marks a queued run running (the first job to touch it does so).
func (s *Store) StartRun(ctx context.Context, id int64) error {
	_, err := s.rw.ExecContext(ctx, `UPDATE runs SET status = 'running', started_at = COALESCE(started_at, ?) WHERE id = ? AND status = 'queued'`,
		ts(time.Now()), id)
	if err != nil {
		return fmt.Errorf("store: start run %d: %w", id, err)
	}
	return nil
}

// SearchPage is one page of search results as a run stores it.
type SearchPage struct {
	Tweets     []StoredTweet
	NextCursor string // where the search goes on; kept so a restart resumes there
	Done       bool   // the search is finished
}

// SaveSearchPage stores a page, advances the run's cursor and enqueues a thread job
// for every conversation with a tweet new to the campaign, or with a tweet the
// campaign has but no stored thread (an earlier run found the tweet and failed to
// fetch its thread, for want of X accounts say), all in one transaction: a crash
// before the commit fetches the page again, after it continues from the next.
func (s *Store) SaveSearchPage(ctx context.Context, r Run, p SearchPage) (newTweets int, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		fresh, err := UpsertTweetsTx(ctx, tx, r.OrgID, r.CampaignID, r.ID, p.Tweets)
		if err != nil {
			return err
		}
		newTweets = len(fresh)
		isNew := make(map[string]bool, len(fresh))
		for _, id := range fresh {
			isNew[id] = true
		}
		// Without this, a hit whose thread a failed run could not fetch was never
		// threaded again: the next run saw it as known and skipped it.
		unthreaded, err := unthreadedTx(ctx, tx, r.CampaignID, p.Tweets, isNew)
		if err != nil {
			return err
		}
		for _, t := range p.Tweets {
			if unthreaded[t.ConversationID] {
				isNew[t.ID] = true
			}
		}
		var jobs []Job
		seen := map[string]bool{}
		newest := r.NewestID
		for _, t := range p.Tweets {
			if newerID(t.ID, newest) {
				newest = t.ID
			}
			if !isNew[t.ID] || seen[t.ConversationID] {
				continue
			}
			seen[t.ConversationID] = true
			jobs = append(jobs, Job{OrgID: r.OrgID, Kind: KindThread, RunID: r.ID, MaxAttempts: 8,
				Key:     fmt.Sprintf("run:%d:thread:%s", r.ID, t.ConversationID),
				Payload: []byte(fmt.Sprintf(`{"conversation_id":%q,"hit_id":%q}`, t.ConversationID, t.ID))})
		}
		if p.Done {
			retry, err := unanalyzedTx(ctx, tx, r)
			if err != nil {
				return err
			}
			jobs = append(jobs, retry...)
		}
		if err := EnqueueTx(ctx, tx, jobs...); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE runs SET search_cursor = ?, search_done = ?, search_pages = search_pages + 1,
			tweets_found = tweets_found + ?, newest_id = ? WHERE id = ?`, p.NextCursor, p.Done, len(p.Tweets), newest, r.ID)
		if err != nil {
			return fmt.Errorf("store: advance run %d: %w", r.ID, err)
		}
		return nil
	})
	return newTweets, err
}

// maxAnalysisRetries bounds the older conversations one run analyses again, so that a
// long LLM outage is caught up over a few runs instead of swelling one.
const maxAnalysisRetries = 500

// unanalyzedTx returns analyze jobs, for run r, of the campaign's conversations that no
// analysis ever came back for: their analyze jobs died (an LLM outage longer than the
// jobs' attempts, say), and without this a later run never judged them, since it only
// analyses what changed. A conversation with a failed analysis on record is not
// retried (the model could not read it; a change to the thread tries again), nor one
// this run is threading, whose analysis follows its new content.
func unanalyzedTx(ctx context.Context, tx *sql.Tx, r Run) ([]Job, error) {
	rows, err := tx.QueryContext(ctx, `SELECT cv.id FROM conversations cv
		WHERE cv.campaign_id = ? AND cv.analyzed_hash != cv.content_hash
		  AND NOT EXISTS (SELECT 1 FROM analyses a WHERE a.conversation_id = cv.id)
		  AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.key = 'run:' || ? || ':thread:' || cv.conversation_id)
		ORDER BY cv.id LIMIT ?`, r.CampaignID, r.ID, maxAnalysisRetries)
	if err != nil {
		return nil, fmt.Errorf("store: unanalysed conversations of campaign %d: %w", r.CampaignID, err)
	}
	defer rows.Close()
	var jobs []Job
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: unanalysed conversations of campaign %d: %w", r.CampaignID, err)
		}
		jobs = append(jobs, analyzeJob(r, id))
	}
	return jobs, rows.Err()
}

// unthreadedTx returns the conversations of the known (not new) tweets of a page that
// the campaign has no stored thread of.
func unthreadedTx(ctx context.Context, tx *sql.Tx, campaignID int64, tweets []StoredTweet, isNew map[string]bool) (map[string]bool, error) {
	args := []any{campaignID}
	seen := map[string]bool{}
	for _, t := range tweets {
		if !isNew[t.ID] && !seen[t.ConversationID] {
			seen[t.ConversationID] = true
			args = append(args, t.ConversationID)
		}
	}
	if len(args) == 1 {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT conversation_id FROM conversations WHERE campaign_id = ? AND conversation_id IN (?`+
		strings.Repeat(", ?", len(args)-2)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: threads of campaign %d: %w", campaignID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: threads of campaign %d: %w", campaignID, err)
		}
		delete(seen, id)
	}
	return seen, rows.Err()
}

// newerID compares X's snowflake ids, which grow with time: longer is newer, then
// lexical order.
func newerID(a, b string) bool {
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a > b
}

// FinishRun ends an active run with status and, for a failure, a readable error.
func (s *Store) FinishRun(ctx context.Context, id int64, status, errMsg string) error {
	_, err := s.rw.ExecContext(ctx, `UPDATE runs SET status = ?, error = ?, finished_at = ?
		WHERE id = ? AND status IN ('queued', 'running')`, status, errMsg, ts(time.Now()), id)
	if err != nil {
		return fmt.Errorf("store: finish run %d: %w", id, err)
	}
	return nil
}

// SetRunError records why an active run will end failed, without ending it: its
// other jobs go on (the analyses of what it fetched), and FinishIdleRuns ends it
// failed with msg once they are done. The first reason recorded stays.
func (s *Store) SetRunError(ctx context.Context, id int64, msg string) error {
	_, err := s.rw.ExecContext(ctx, `UPDATE runs SET error = ? WHERE id = ? AND status IN ('queued', 'running') AND error = ''`, msg, id)
	if err != nil {
		return fmt.Errorf("store: set error of run %d: %w", id, err)
	}
	return nil
}

// CancelRun stops a run: its queued jobs are dropped (marked failed as cancelled) and
// running ones see the status at their next check. Finished runs are left alone.
func (s *Store) CancelRun(ctx context.Context, orgID, id int64) (Run, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET status = 'cancelled', error = 'cancelled', finished_at = ?
			WHERE id = ? AND org_id = ? AND status IN ('queued', 'running')`, ts(time.Now()), id, orgID)
		if err != nil {
			return fmt.Errorf("store: cancel run %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE jobs SET state = 'failed', last_error = 'run cancelled', finished_at = ?
			WHERE run_id = ? AND state = 'queued'`, ms(time.Now()), id)
		return err
	})
	if err != nil {
		return Run{}, err
	}
	return s.Run(ctx, orgID, id)
}

// FinishIdleRuns closes every running run that has no job left queued or running:
// succeeded, or failed when its search job failed (nothing could be searched) or a
// job recorded why the run fails (SetRunError). It is called periodically by the
// pool, so completion needs no job of its own.
func (s *Store) FinishIdleRuns(ctx context.Context) ([]int64, error) {
	rows, err := s.rw.QueryContext(ctx, `SELECT r.id, COALESCE(
			(SELECT 'search failed: ' || last_error FROM jobs j WHERE j.run_id = r.id AND j.kind = 'search' AND j.state IN ('failed', 'dead')),
			r.error)
		FROM runs r
		WHERE r.status IN ('queued', 'running')
		  AND EXISTS (SELECT 1 FROM jobs j WHERE j.run_id = r.id)
		  AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.run_id = r.id AND j.state IN ('queued', 'running'))`)
	if err != nil {
		return nil, fmt.Errorf("store: idle runs: %w", err)
	}
	type idle struct {
		id     int64
		failed string
	}
	var list []idle
	for rows.Next() {
		var i idle
		if err := rows.Scan(&i.id, &i.failed); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: idle runs: %w", err)
		}
		list = append(list, i)
	}
	rows.Close()
	var ids []int64
	for _, i := range list {
		// A run whose digests are still to be sent is not idle: queue them first.
		queued, err := s.enqueueDigests(ctx, i.id)
		if err != nil {
			return ids, err
		}
		if queued {
			continue
		}
		status, msg := RunSucceeded, ""
		if i.failed != "" {
			status, msg = RunFailed, i.failed
		}
		if err := s.FinishRun(ctx, i.id, status, msg); err != nil {
			return ids, err
		}
		ids = append(ids, i.id)
	}
	return ids, nil
}

// LastNewestID is the newest tweet id a finished run of the campaign saw, so that the
// next run asks X only for what is newer ("" when there was none).
func (s *Store) LastNewestID(ctx context.Context, campaignID int64) (string, error) {
	var id sql.NullString
	err := s.ro.QueryRowContext(ctx, `SELECT newest_id FROM runs WHERE campaign_id = ? AND status = 'succeeded' AND newest_id != ''
		ORDER BY id DESC LIMIT 1`, campaignID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: last run of campaign %d: %w", campaignID, err)
	}
	return id.String, nil
}

// enqueueDigests queues one digest job per integration that has digest deliveries of
// the run still pending. It reports whether it queued any.
func (s *Store) enqueueDigests(ctx context.Context, runID int64) (bool, error) {
	queued := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT d.org_id, d.integration FROM deliveries d
			WHERE d.run_id = ? AND d.mode = 'digest' AND d.state = 'pending' GROUP BY d.org_id, d.integration`, runID)
		if err != nil {
			return fmt.Errorf("store: digests of run %d: %w", runID, err)
		}
		var jobs []Job
		for rows.Next() {
			var org int64
			var kind string
			if err := rows.Scan(&org, &kind); err != nil {
				rows.Close()
				return fmt.Errorf("store: digests of run %d: %w", runID, err)
			}
			jobs = append(jobs, Job{OrgID: org, Kind: KindDigest, RunID: runID, MaxAttempts: 12,
				Key:     fmt.Sprintf("digest:%d:%s", runID, kind),
				Payload: []byte(fmt.Sprintf(`{"run":%d,"integration":%q}`, runID, kind))})
		}
		rows.Close()
		// A digest job that already ran (its key exists) is not queued again: its
		// deliveries are then whatever it recorded, and the run can finish.
		for _, j := range jobs {
			res, err := tx.ExecContext(ctx, `INSERT INTO jobs (org_id, kind, key, payload, run_id, max_attempts, run_at, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
				j.OrgID, j.Kind, j.Key, j.Payload, j.RunID, j.MaxAttempts, ms(time.Now()), ms(time.Now()))
			if err != nil {
				return fmt.Errorf("store: queue digest %s: %w", j.Key, err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				queued = true
			}
		}
		return nil
	})
	return queued, err
}

// DigestDeliveries are a run's pending digest deliveries to one integration.
func (s *Store) DigestDeliveries(ctx context.Context, runID int64, integration string) ([]Delivery, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT id, org_id, opportunity_id, run_id, integration, state, error FROM deliveries
		WHERE run_id = ? AND integration = ? AND mode = 'digest' AND state = 'pending' ORDER BY id`, runID, integration)
	if err != nil {
		return nil, fmt.Errorf("store: digest of run %d: %w", runID, err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		if err := rows.Scan(&d.ID, &d.OrgID, &d.OpportunityID, &d.RunID, &d.Integration, &d.State, &d.Error); err != nil {
			return nil, fmt.Errorf("store: scan delivery: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
