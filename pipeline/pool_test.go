package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"nexus/store"
)

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "nexus.db"),
		store.Options{Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func counts(t *testing.T, st *store.Store) map[string]int64 {
	t.Helper()
	c, err := st.JobCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPoolRunsRetriesAndFails(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	ctx := context.Background()
	var mu sync.Mutex
	runs := map[string]int{}
	flaky := func(ctx context.Context, j store.Job) error {
		mu.Lock()
		runs[j.Key]++
		n := runs[j.Key]
		mu.Unlock()
		switch string(j.Payload) {
		case "ok":
			return nil
		case "flaky":
			if n < 3 {
				return errors.New("transient")
			}
			return nil
		case "permanent":
			return Permanent(errors.New("bad input"))
		case "panic":
			panic("boom")
		}
		return errors.New("always fails")
	}
	p := NewPool(st, PoolOptions{Size: 3, Handlers: map[string]Handler{"test": flaky},
		Backoff: func(int) time.Duration { return time.Millisecond }}, zerolog.Nop())
	p.Start(ctx)
	defer p.Stop(ctx)
	jobs := []store.Job{
		{Kind: "test", Key: "ok", Payload: []byte("ok")},
		{Kind: "test", Key: "flaky", Payload: []byte("flaky")},
		{Kind: "test", Key: "permanent", Payload: []byte("permanent")},
		{Kind: "test", Key: "panic", Payload: []byte("panic")},
		{Kind: "test", Key: "doomed", Payload: []byte("never"), MaxAttempts: 3},
		{Kind: "unknown", Key: "unknown"},
	}
	if err := st.EnqueueJobs(ctx, jobs...); err != nil {
		t.Fatal(err)
	}
	// Enqueueing again changes nothing: keys are idempotent.
	if err := st.EnqueueJobs(ctx, jobs...); err != nil {
		t.Fatal(err)
	}
	p.Wake()
	waitFor(t, "all jobs to settle", func() bool {
		c := counts(t, st)
		return c["done"]+c["failed"]+c["dead"] == int64(len(jobs))
	})
	want := map[string]string{"ok": "done", "flaky": "done", "permanent": "failed", "panic": "failed", "doomed": "dead", "unknown": "failed"}
	for key, state := range want {
		j, err := st.JobByKey(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if j.State != state {
			t.Errorf("%s: state %s, want %s (error %q)", key, j.State, state, j.LastError)
		}
	}
	if runs["flaky"] != 3 || runs["doomed"] != 3 || runs["ok"] != 1 {
		t.Fatalf("runs: %v", runs)
	}
	if j, _ := st.JobByKey(ctx, "panic"); j.LastError != "panic: boom" {
		t.Fatalf("panic error: %q", j.LastError)
	}
}

// TestCrashedWorkersJobsRunAgain: jobs claimed by a process that died are run by
// another once their lease expires.
func TestCrashedWorkersJobsRunAgain(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	ctx := context.Background()
	for i := range 5 {
		st.EnqueueJobs(ctx, store.Job{Kind: "test", Key: fmt.Sprint("k", i)})
	}
	// The "crashed" owner claims everything with a short lease and never reports.
	claimed, err := st.ClaimJobs(ctx, "dead-process", 10, time.Now(), time.Now().Add(50*time.Millisecond))
	if err != nil || len(claimed) != 5 {
		t.Fatalf("claim: %d %v", len(claimed), err)
	}
	var ran atomic.Int64
	p := NewPool(st, PoolOptions{Size: 2, Lease: 150 * time.Millisecond, MaxPoll: 20 * time.Millisecond,
		Handlers: map[string]Handler{"test": func(context.Context, store.Job) error { ran.Add(1); return nil }}}, zerolog.Nop())
	p.Start(ctx)
	defer p.Stop(ctx)
	waitFor(t, "requeued jobs to finish", func() bool { return counts(t, st)["done"] == 5 })
	if ran.Load() != 5 {
		t.Fatalf("ran %d jobs, want 5", ran.Load())
	}
	// The claim the crash cut off is not an attempt (the job never failed); it is
	// counted as a lease expiry instead.
	if j, _ := st.JobByKey(ctx, "k0"); j.Attempts != 1 {
		t.Fatalf("attempts %d, want 1 (the crashed claim is given back)", j.Attempts)
	}
	if n, _ := st.Count(ctx, `SELECT expiries FROM jobs WHERE key = 'k0'`); n < 1 {
		t.Fatalf("expiries %d, want at least 1", n)
	}
}

// TestLongJobKeepsItsLease: a job longer than its lease is extended, not stolen.
func TestLongJobKeepsItsLease(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	ctx := context.Background()
	var ran atomic.Int64
	slow := func(ctx context.Context, j store.Job) error {
		ran.Add(1)
		select {
		case <-time.After(400 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p := NewPool(st, PoolOptions{Size: 2, Lease: 90 * time.Millisecond, MaxPoll: 10 * time.Millisecond,
		Handlers: map[string]Handler{"slow": slow}}, zerolog.Nop())
	p.Start(ctx)
	defer p.Stop(ctx)
	st.EnqueueJobs(ctx, store.Job{Kind: "slow", Key: "slow"})
	p.Wake()
	waitFor(t, "the slow job", func() bool { return counts(t, st)["done"] == 1 })
	if ran.Load() != 1 {
		t.Fatalf("the slow job ran %d times", ran.Load())
	}
}

// TestStopFinishesInFlightJobs: Stop waits for a running job, and a job cut off by
// the deadline goes back to the queue instead of being lost.
func TestStopFinishesInFlightJobs(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	ctx := context.Background()
	started := make(chan string, 2)
	h := func(ctx context.Context, j store.Job) error {
		started <- j.Key
		d := 200 * time.Millisecond
		if j.Key == "endless" {
			d = time.Hour
		}
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p := NewPool(st, PoolOptions{Size: 2, Handlers: map[string]Handler{"h": h}}, zerolog.Nop())
	p.Start(ctx)
	st.EnqueueJobs(ctx, store.Job{Kind: "h", Key: "short"}, store.Job{Kind: "h", Key: "endless"})
	p.Wake()
	<-started
	<-started
	stopCtx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := p.Stop(stopCtx); err == nil {
		t.Fatal("Stop reported no interruption")
	}
	if j, _ := st.JobByKey(ctx, "short"); j.State != "done" {
		t.Fatalf("short job: %s", j.State)
	}
	if j, _ := st.JobByKey(ctx, "endless"); j.State != "queued" {
		t.Fatalf("interrupted job: %s, want queued", j.State)
	}
	if err := p.Health(ctx); err == nil {
		t.Fatal("healthy after stop")
	}
}

// BenchmarkQueue measures jobs/s from enqueue to recorded done, with an empty
// handler: each iteration enqueues 10,000 jobs (500 per transaction, as a run's fan-out
// does) and waits until the table says every one is done.
//
//	go test -run '^$' -bench Queue -count 5 ./pipeline/
func BenchmarkQueue(b *testing.B) {
	const perIter, batch = 10000, 500
	for _, workers := range []int{1, 8} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			st := openStore(b)
			ctx := context.Background()
			var ran atomic.Int64
			p := NewPool(st, PoolOptions{Size: workers, Handlers: map[string]Handler{
				"noop": func(context.Context, store.Job) error { ran.Add(1); return nil }}}, zerolog.Nop())
			p.Start(ctx)
			defer p.Stop(ctx)
			iter, total := 0, 0
			start := time.Now()
			for b.Loop() {
				jobs := make([]store.Job, 0, batch)
				for i := range perIter {
					jobs = append(jobs, store.Job{Kind: "noop", Key: fmt.Sprintf("%d-%d", iter, i)})
					if len(jobs) == batch {
						if err := st.EnqueueJobs(ctx, jobs...); err != nil {
							b.Fatal(err)
						}
						jobs = jobs[:0]
						p.Wake()
					}
				}
				total += perIter
				// Wait on a counter, not on the table: polling a COUNT over the growing
				// jobs table would cost more than the queue itself. Then check the table
				// once the recorder has had the results.
				for ran.Load() < int64(total) {
					time.Sleep(200 * time.Microsecond)
				}
				for {
					c, _ := st.JobCounts(ctx)
					if c["done"] == int64(total) {
						break
					}
					time.Sleep(2 * time.Millisecond)
				}
				iter++
			}
			b.ReportMetric(float64(total)/time.Since(start).Seconds(), "jobs/s")
		})
	}
}
