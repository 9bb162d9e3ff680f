package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"nexus/store"
)

// Handler does one job. It must be idempotent: a job whose result was not recorded
// (a crash after the work, before the bookkeeping) runs again.
type Handler func(ctx context.Context, j store.Job) error

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent wraps err so the job fails at once instead of being retried.
func Permanent(err error) error { return permanentError{err} }

// retryAfterError asks for the next attempt at a given time (a rate limit's reset).
type retryAfterError struct {
	err error
	at  time.Time
}

func (e retryAfterError) Error() string { return e.err.Error() }
func (e retryAfterError) Unwrap() error { return e.err }

// RetryAt wraps err so the next attempt waits until at, instead of the usual backoff.
func RetryAt(err error, at time.Time) error { return retryAfterError{err, at} }

// deferredError puts a job back until a time without counting the attempt.
type deferredError struct {
	err error
	at  time.Time
}

func (e deferredError) Error() string { return e.err.Error() }
func (e deferredError) Unwrap() error { return e.err }

// Defer wraps err so the job waits until at and the attempt is given back: the job
// did not fail, a resource it needs is busy (every X account locked until at).
// Waiting must not use up its attempts; the caller bounds the wait (AccountWait).
func Defer(err error, at time.Time) error { return deferredError{err, at} }

// PoolOptions tune the pool; zero values take the defaults.
type PoolOptions struct {
	Size    int
	Lease   time.Duration // how long a claim lasts before it must be extended (30s)
	MaxPoll time.Duration // longest idle sleep, to notice jobs other processes enqueue (1s)
	Now     func() time.Time
	Backoff func(attempt int) time.Duration
	// FullWait is how long a job whose write found the disk full waits before it runs
	// again (30s): the attempt is not counted, and retrying sooner would only ask X
	// again for what cannot be stored.
	FullWait time.Duration
	Handlers map[string]Handler
}

// Pool runs jobs from the store's job table with a fixed set of worker goroutines.
// The table is the queue of record: the pool claims jobs in batches, hands them to
// idle workers, and records results in batches, so a crash loses at most the
// bookkeeping of jobs in flight, which then run again after their lease expires.
type Pool struct {
	st    *store.Store
	log   zerolog.Logger
	opts  PoolOptions
	owner string

	wake    chan struct{}
	slots   chan struct{}  // one token per job the pool may hold: running or prefetched
	jobs    chan store.Job // claimed jobs waiting for a worker
	results chan store.JobResult

	stopClaiming context.CancelFunc
	stopWork     context.CancelFunc
	dispatchDone chan struct{}
	workers      sync.WaitGroup
	finishDone   chan struct{}

	alive   atomic.Int64
	started atomic.Bool
	stopped atomic.Bool
}

// NewPool builds a pool over st; Start launches it.
func NewPool(st *store.Store, opts PoolOptions, log zerolog.Logger) *Pool {
	if opts.Size <= 0 {
		opts.Size = 4
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.MaxPoll <= 0 {
		opts.MaxPoll = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Backoff == nil {
		opts.Backoff = Backoff
	}
	if opts.FullWait <= 0 {
		opts.FullWait = 30 * time.Second
	}
	b := make([]byte, 6)
	rand.Read(b)
	// A few jobs beyond the workers are claimed ahead, so that one claim transaction
	// feeds several jobs; run re-checks the lease of a job that waited.
	held := opts.Size + max(opts.Size, 8)
	p := &Pool{
		st: st, log: log, opts: opts, owner: "nexus-" + hex.EncodeToString(b),
		wake:    make(chan struct{}, 1),
		slots:   make(chan struct{}, held),
		jobs:    make(chan store.Job, held),
		results: make(chan store.JobResult, held),
	}
	for range held {
		p.slots <- struct{}{}
	}
	return p
}

// Backoff is the default delay before attempt n+1: 2s doubling per attempt, capped at
// 10 minutes, with full jitter on the upper half so that retries of a burst spread out.
func Backoff(attempt int) time.Duration {
	d := 2 * time.Second << min(attempt-1, 10)
	d = min(d, 10*time.Minute)
	return d/2 + mrand.N(d/2+1)
}

// Start launches the dispatcher, the workers and the result recorder. Workers keep
// running their current job after Stop begins, until Stop's deadline.
func (p *Pool) Start(ctx context.Context) {
	claimCtx, stopClaiming := context.WithCancel(ctx)
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	p.stopClaiming, p.stopWork = stopClaiming, stopWork
	p.dispatchDone, p.finishDone = make(chan struct{}), make(chan struct{})
	p.started.Store(true)
	// Counted alive before they are scheduled, so that a health check right after Start
	// does not see a worker that has not run yet as a dead one; each uncounts itself
	// when it exits.
	p.alive.Add(int64(p.opts.Size))
	for range p.opts.Size {
		p.workers.Go(func() { p.work(workCtx) })
	}
	go p.dispatch(claimCtx)
	go p.record()
	p.log.Info().Int("workers", p.opts.Size).Str("owner", p.owner).Msg("worker pool started")
}

// Wake tells the dispatcher that a job may be due now. It never blocks.
func (p *Pool) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// dispatch claims as many due jobs as there are idle workers and hands them out.
func (p *Pool) dispatch(ctx context.Context) {
	defer close(p.dispatchDone)
	defer close(p.jobs)
	sweep := time.NewTicker(p.opts.Lease / 3)
	defer sweep.Stop()
	p.requeueExpired(ctx)
	for {
		select {
		case <-sweep.C:
			p.requeueExpired(ctx)
		default:
		}
		// Wait for at least one free slot, then take every other free one.
		select {
		case <-ctx.Done():
			return
		case <-p.slots:
		}
		n := 1
	more:
		for n < cap(p.slots) {
			select {
			case <-p.slots:
				n++
			default:
				break more
			}
		}
		claimed, claimErr := p.st.ClaimJobs(ctx, p.owner, n, p.opts.Now(), p.opts.Now().Add(p.opts.Lease))
		if claimErr != nil && ctx.Err() == nil {
			p.log.Error().Err(claimErr).Msg("claim jobs")
		}
		for _, j := range claimed {
			p.jobs <- j
		}
		for range n - len(claimed) {
			p.slots <- struct{}{}
		}
		if len(claimed) > 0 {
			continue
		}
		// Nothing due: sleep until the next job is due, a wake-up, or the poll interval
		// (another process, such as the CLI, may enqueue without waking us).
		// After a failed claim (a full disk), wait the whole poll interval: the due jobs
		// are still due, and retrying at once spun a core and flooded the log.
		wait := p.opts.MaxPoll
		if next, err := p.st.NextJobDue(ctx); err == nil && !next.IsZero() && claimErr == nil {
			// By the pool's clock, which a test may run ahead of the wall clock.
			wait = min(wait, max(next.Sub(p.opts.Now()), time.Millisecond))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-p.wake:
		case <-timer.C:
		case <-sweep.C:
			p.requeueExpired(ctx)
		}
		timer.Stop()
	}
}

func (p *Pool) requeueExpired(ctx context.Context) {
	n, err := p.st.RequeueExpired(ctx, p.opts.Now())
	if err != nil && ctx.Err() == nil {
		p.log.Error().Err(err).Msg("requeue expired jobs")
	}
	if n > 0 {
		p.log.Warn().Int64("jobs", n).Msg("requeued jobs whose lease expired")
	}
}

func (p *Pool) work(ctx context.Context) {
	defer p.alive.Add(-1)
	for j := range p.jobs {
		if ctx.Err() != nil {
			// Past the stop deadline: hand prefetched jobs straight back.
			p.results <- store.JobResult{ID: j.ID, Owner: p.owner, State: store.JobQueued, RetryAt: p.opts.Now()}
		} else {
			p.results <- p.run(ctx, j)
		}
		p.slots <- struct{}{}
	}
}

// run executes one job, extending its lease while it takes long, and turns the
// handler's error into the job's next state.
func (p *Pool) run(ctx context.Context, j store.Job) (res store.JobResult) {
	res = store.JobResult{ID: j.ID, Owner: p.owner, State: store.JobDone}
	h, ok := p.opts.Handlers[j.Kind]
	if !ok {
		res.State, res.LastError = store.JobFailed, fmt.Sprintf("no handler for job kind %q", j.Kind)
		return res
	}
	// A prefetched job may have waited; renew its lease first if a third of it is gone.
	if p.opts.Now().After(j.LeaseUntil.Add(-2 * p.opts.Lease / 3)) {
		ok, err := p.st.ExtendLease(ctx, j.ID, p.owner, p.opts.Now().Add(p.opts.Lease))
		if err != nil || !ok {
			res.State, res.RetryAt = store.JobQueued, p.opts.Now()
			return res // lost to the sweep: someone else runs it; the update is a no-op
		}
	}
	jctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopExtend := p.extendWhileRunning(jctx, cancel, j.ID)
	defer stopExtend()

	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = Permanent(fmt.Errorf("panic: %v", r))
			}
		}()
		return h(jctx, j)
	}()
	if err == nil {
		return res
	}
	res.LastError = err.Error()
	var perm permanentError
	var ra retryAfterError
	var def deferredError
	switch {
	case ctx.Err() != nil:
		// Shutdown interrupted the job: back to the queue at once.
		res.State, res.RetryAt, res.Refund = store.JobQueued, p.opts.Now(), true
	case store.IsFull(err):
		// The disk is full: the job did not fail, and must not die of a full disk
		// (a storm of them spent every attempt of the jobs that were saving).
		res.State, res.RetryAt, res.Refund = store.JobQueued, p.opts.Now().Add(p.opts.FullWait), true
	case errors.As(err, &perm):
		res.State = store.JobFailed
	case errors.As(err, &def):
		res.State, res.RetryAt, res.Refund = store.JobQueued, def.at, true
	case j.Attempts >= j.MaxAttempts:
		res.State = store.JobDead
	case errors.As(err, &ra):
		res.State, res.RetryAt = store.JobQueued, ra.at
	default:
		res.State, res.RetryAt = store.JobQueued, p.opts.Now().Add(p.opts.Backoff(j.Attempts))
	}
	if errors.As(err, &def) && ctx.Err() == nil && !store.IsFull(err) {
		// A deferral is a wait (for an X account to free), not a failure: during a long
		// rate-limit window a warning for each look drowned the log.
		p.log.Info().Int64("job_id", j.ID).Str("kind", j.Kind).Time("until", def.at).Err(err).Msg("job waits")
		return res
	}
	p.log.Warn().Int64("job_id", j.ID).Str("kind", j.Kind).Int("attempt", j.Attempts).
		Str("next", res.State).Err(err).Msg("job failed")
	return res
}

// extendWhileRunning renews the lease every third of its length; if the lease is lost
// (this process was too slow and another may have the job), the job's context ends.
func (p *Pool) extendWhileRunning(ctx context.Context, cancel context.CancelFunc, id int64) func() {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(p.opts.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				ok, err := p.st.ExtendLease(context.WithoutCancel(ctx), id, p.owner, p.opts.Now().Add(p.opts.Lease))
				if err == nil && !ok {
					p.log.Warn().Int64("job_id", id).Msg("lease lost; abandoning job")
					cancel()
					return
				}
			}
		}
	}()
	return func() { close(done) }
}

// record writes results in batches: it blocks for one, then takes whatever else is
// already waiting, so a busy pool commits many results per transaction and an idle
// one commits each at once.
func (p *Pool) record() {
	defer close(p.finishDone)
	batch := make([]store.JobResult, 0, 256)
	for r := range p.results {
		batch = append(batch[:0], r)
	drain:
		for len(batch) < cap(batch) {
			select {
			case r, ok := <-p.results:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		p.finish(batch)
	}
}

// finish records a batch of results, trying again for a third of a lease when the
// write fails (a full disk, say): given up, the jobs stay leased and run again, work
// and all, once their lease expires. Meanwhile the workers wait to hand in results.
func (p *Pool) finish(batch []store.JobResult) {
	giveUp := time.Now().Add(p.opts.Lease / 3)
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		err := p.st.FinishJobs(context.Background(), batch)
		if err == nil {
			return
		}
		if time.Now().Add(wait).After(giveUp) {
			// The jobs stay leased and run again after the lease expires.
			p.log.Error().Err(err).Int("jobs", len(batch)).Msg("record job results")
			return
		}
		p.log.Warn().Err(err).Int("jobs", len(batch)).Dur("retry_in", wait).Msg("record job results")
		time.Sleep(wait)
	}
}

// Stop stops claiming, lets running jobs finish until ctx ends (then cancels them,
// which puts them back in the queue), and records every result.
func (p *Pool) Stop(ctx context.Context) error {
	if !p.started.Load() || !p.stopped.CompareAndSwap(false, true) {
		return nil
	}
	p.stopClaiming()
	<-p.dispatchDone
	done := make(chan struct{})
	go func() { p.workers.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		p.stopWork()
		<-done
		err = fmt.Errorf("worker pool: jobs interrupted at the deadline and requeued: %w", ctx.Err())
	}
	p.stopWork()
	close(p.results)
	<-p.finishDone
	return err
}

// Health reports whether every worker is running.
func (p *Pool) Health(context.Context) error {
	switch {
	case !p.started.Load():
		return errors.New("worker pool not started")
	case p.stopped.Load():
		return errors.New("worker pool stopped")
	}
	if n := p.alive.Load(); n != int64(p.opts.Size) {
		return fmt.Errorf("%d of %d workers running", n, p.opts.Size)
	}
	return nil
}
