package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"nexus/pipeline/analyze"
	"nexus/pipeline/analyze/heuristic"
	"nexus/scraper"
	"nexus/scraper/xfake"
	"nexus/store"
)

// envOptions vary newRunEnv for the tests below.
type envOptions struct {
	accounts       int           // X sessions in the organization (-1: none)
	analyzer       Analyzer      // default: the counting heuristic (env.analyzer)
	accountWait    time.Duration // RunnerOptions.AccountWait (default: the runner's)
	waitForAccount time.Duration // scraper.Options.WaitForAccount (default 1m, as newRunEnv)
	// clientSleep replaces the X client's sleeps (backoffs, waits for an account).
	clientSleep func(ctx context.Context, d time.Duration) error
	// clock, when set, is the clock of the fake X, the X client, the runner and the
	// pool, and its Sleep the client's (unless clientSleep is set): faults_test.go.
	clock    *fakeClock
	xOptions []xfake.Option // added to the fake X's options (after the unlimited rates)
	lease    time.Duration  // PoolOptions.Lease (default the pool's)
	// backoff is PoolOptions.Backoff (default: 1ms, so attempts run out within a test).
	backoff func(attempt int) time.Duration
	log     io.Writer // where the runner, the pool and the X client log warnings (default nowhere)
	// fullWait is PoolOptions.FullWait (default: 5ms).
	fullWait time.Duration
}

// newRunEnvWith is newRunEnv with options; the pool retries failed jobs after 1ms
// instead of seconds, so that a job's attempts run out within a test.
func newRunEnvWith(t testing.TB, nConv, perConv int, o envOptions) *runEnv {
	t.Helper()
	ctx := context.Background()
	st := openStore(t)
	xopts := []xfake.Option{xfake.WithRateLimit(xfake.OpSearchTimeline, xfake.Limit{}), xfake.WithRateLimit(xfake.OpTweetDetail, xfake.Limit{}),
		xfake.WithPromoted(false)}
	var now func() time.Time
	if o.clock != nil {
		now = o.clock.Now
		xopts = append(xopts, xfake.WithClock(now))
		if o.clientSleep == nil {
			o.clientSleep = o.clock.Sleep
		}
	}
	x := xfake.New(append(xopts, o.xOptions...)...)
	t.Cleanup(x.Close)
	log := zerolog.Nop()
	if o.log != nil {
		log = zerolog.New(o.log).Level(zerolog.WarnLevel).With().Timestamp().Logger()
	}
	if o.backoff == nil {
		o.backoff = func(int) time.Duration { return time.Millisecond }
	}
	if o.fullWait == 0 {
		o.fullWait = 5 * time.Millisecond
	}
	if o.accounts == 0 {
		o.accounts = 2
	}
	if o.waitForAccount == 0 {
		o.waitForAccount = time.Minute
	}
	base := time.Now().Add(-time.Hour)
	for i := range nConv {
		root := x.AddTweet(xfake.Tweet{Text: fmt.Sprintf("anyone using nexusprobe for thread %d?", i), CreatedAt: base.Add(time.Duration(i) * time.Second)})
		parent := root.ID
		for j := 1; j < perConv; j++ {
			r := x.AddTweet(xfake.Tweet{Text: fmt.Sprintf("reply %d to %d", j, i), InReplyToID: parent,
				CreatedAt: base.Add(time.Duration(i)*time.Second + time.Duration(j)*time.Millisecond)})
			if j%3 == 0 {
				parent = r.ID
			}
		}
	}
	org, _ := st.CreateOrganization(ctx, "A")
	for i := range max(o.accounts, 0) {
		tok := fmt.Sprintf("tok-%d", i)
		x.AddAccount(tok, "ct0-"+tok)
		if _, err := st.AddXAccount(ctx, org.ID, "acct-"+tok, []byte(fmt.Sprintf(`{"auth_token":%q,"ct0":"ct0-%s"}`, tok, tok)), "", "UA"); err != nil {
			t.Fatal(err)
		}
	}
	c, err := st.CreateCampaign(ctx, store.Campaign{OrgID: org.ID, Name: "probe", Keywords: []string{"nexusprobe"}, Match: "any",
		Threshold: 70, LookbackHours: 24})
	if err != nil {
		t.Fatal(err)
	}
	env := &runEnv{st: st, x: x, org: org, campaign: c, analyzer: &countingAnalyzer{h: heuristic.New()},
		senders: NewSenders(st, true)}
	var analyzer Analyzer = env.analyzer
	if o.analyzer != nil {
		analyzer = o.analyzer
	}
	env.runner = NewRunner(RunnerOptions{Store: st, Analyzer: analyzer, Log: log, AccountWait: o.accountWait, Now: now,
		NewClient: func(accounts scraper.AccountStore) (*scraper.Client, error) {
			return scraper.New(scraper.Options{APIBase: x.URL(), WebBase: x.RootURL(), TransactionID: "off", Accounts: accounts, Log: log,
				WaitForAccount: o.waitForAccount, Sleep: o.clientSleep, Now: now})
		},
		Wake:    func() { env.pool.Wake() },
		Senders: env.senders,
	})
	env.pool = NewPool(st, PoolOptions{Size: 4, Handlers: env.runner.Handlers(), Backoff: o.backoff, Lease: o.lease, Now: now, FullWait: o.fullWait}, log)
	env.pool.Start(ctx)
	watch, stop := context.WithCancel(ctx)
	go env.runner.Watch(watch, 20*time.Millisecond)
	t.Cleanup(func() { stop(); env.pool.Stop(context.Background()) })
	return env
}

// waitRun polls the run until it is no longer active.
func (e *runEnv) waitRun(t testing.TB, id int64, within time.Duration) store.Run {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r, err := e.st.Run(context.Background(), e.org.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Active() {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %d still %s after %v: %+v", id, r.Status, within, r)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settle waits until the run has no job queued or running, then until the fake X has
// seen no request for quiet: whatever ran when the run ended has finished.
func (e *runEnv) settle(t testing.TB, runID int64, quiet time.Duration) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for scalar(t, e.st, `SELECT COUNT(*) FROM jobs WHERE run_id = ? AND state IN ('queued', 'running')`, runID) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("jobs of run %d still open", runID)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for n := e.x.Count(""); ; {
		time.Sleep(quiet)
		m := e.x.Count("")
		if m == n {
			return
		}
		n = m
	}
}

// slowAnalyzer is the counting heuristic, each call taking delay (nanoseconds) more.
type slowAnalyzer struct {
	countingAnalyzer
	delay atomic.Int64
}

func (a *slowAnalyzer) Analyze(ctx context.Context, c analyze.Campaign, conv analyze.Conversation) (analyze.Result, error) {
	a.calls.Add(1)
	select {
	case <-time.After(time.Duration(a.delay.Load())):
	case <-ctx.Done():
		return analyze.Result{}, ctx.Err()
	}
	return a.h.Analyze(ctx, c, conv)
}

// TestRunCancelAtEachStage cancels a run while it searches, while it fetches threads
// and while it analyses: the run ends cancelled, its queued jobs are dropped without
// running, and once the jobs that were running have returned, X hears nothing more
// and the analyzer is not called again.
func TestRunCancelAtEachStage(t *testing.T) {
	t.Parallel()
	const nConv, perConv = 200, 4
	tests := []struct {
		stage string
		// arm makes the environment cancel the run (through cancel) at its stage.
		arm func(e *runEnv, a *slowAnalyzer, cancel func())
	}{
		{"searching", func(e *runEnv, a *slowAnalyzer, cancel func()) {
			e.x.InjectFault(func(r xfake.Request) bool {
				if r.Operation == xfake.OpSearchTimeline && r.OpSeq == 3 {
					cancel() // while the third page is in flight
				}
				return false
			}, xfake.Fault{}, 0)
		}},
		{"threads", func(e *runEnv, a *slowAnalyzer, cancel func()) {
			// Threads take 3ms a request, so that they are still going when the search
			// job is done; the first thread request after that cancels.
			e.x.InjectFault(func(r xfake.Request) bool {
				if r.Operation == xfake.OpTweetDetail && scalar(t, e.st, `SELECT COUNT(*) FROM jobs WHERE kind = 'search' AND state = 'done'`) > 0 {
					cancel()
				}
				return false
			}, xfake.Fault{}, 0)
			e.x.InjectFault(xfake.OnOperation(xfake.OpTweetDetail), xfake.FaultSlow(3*time.Millisecond), 0)
		}},
		{"analyzing", func(e *runEnv, a *slowAnalyzer, cancel func()) {
			// Analyses take 20ms each, far longer than threads: once every thread is
			// in, the run is analysing, and is cancelled.
			a.delay.Store(int64(20 * time.Millisecond))
			go func() {
				for scalar(t, e.st, `SELECT COUNT(*) FROM jobs WHERE kind = 'thread'`) == 0 ||
					scalar(t, e.st, `SELECT COUNT(*) FROM jobs WHERE kind IN ('search', 'thread') AND state != 'done'`) > 0 {
					time.Sleep(2 * time.Millisecond)
				}
				cancel()
			}()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.stage, func(t *testing.T) {
			t.Parallel()
			a := &slowAnalyzer{countingAnalyzer: countingAnalyzer{h: heuristic.New()}}
			e := newRunEnvWith(t, nConv, perConv, envOptions{analyzer: a})
			ctx := context.Background()
			type atCancel struct {
				run           store.Run
				requests      int
				calls         int64
				conversations int
			}
			cancelled := make(chan atCancel, 1)
			var once sync.Once
			tt.arm(e, a, func() {
				once.Do(func() {
					id := int64(scalar(t, e.st, `SELECT MAX(id) FROM runs`))
					before, _ := e.st.Run(ctx, e.org.ID, id)
					if _, err := e.st.CancelRun(ctx, e.org.ID, id); err != nil {
						t.Error(err)
					}
					cancelled <- atCancel{run: before, requests: e.x.Count(""), calls: a.calls.Load(),
						conversations: scalar(t, e.st, `SELECT COUNT(*) FROM conversations`)}
				})
			})
			run, err := e.runner.Start(ctx, e.campaign, "test")
			if err != nil {
				t.Fatal(err)
			}
			var at atCancel
			select {
			case at = <-cancelled:
			case <-time.After(2 * time.Minute):
				t.Fatal("the run was never cancelled")
			}
			if at.run.Stage != tt.stage {
				t.Errorf("cancelled at stage %q, want %q (progress %+v)", at.run.Stage, tt.stage, at.run.Progress)
			}
			e.settle(t, run.ID, 300*time.Millisecond)
			final, err := e.st.Run(ctx, e.org.ID, run.ID)
			if err != nil {
				t.Fatal(err)
			}
			if final.Status != store.RunCancelled || final.FinishedAt == nil || final.Error != "cancelled" {
				t.Fatalf("run after cancel: %+v", final)
			}
			// The jobs that ran at the cancel finish what they were doing: a search page,
			// a thread's last pages, an analysis. Nothing starts after them.
			if extra := e.x.Count("") - at.requests; extra > 2*e.pool.opts.Size {
				t.Errorf("%d requests to X after the cancel", extra)
			}
			if extra := a.calls.Load() - at.calls; extra > int64(e.pool.opts.Size) {
				t.Errorf("%d analyzer calls after the cancel", extra)
			}
			// The queued jobs were dropped before anyone claimed them.
			dropped := scalar(t, e.st, `SELECT COUNT(*) FROM jobs WHERE run_id = ? AND state = 'failed' AND last_error = 'run cancelled' AND attempts = 0`, run.ID)
			if dropped == 0 {
				t.Error("no queued job was dropped by the cancel")
			}
			if n := scalar(t, e.st, `SELECT COUNT(*) FROM jobs WHERE run_id = ? AND state IN ('queued', 'running', 'dead')`, run.ID); n != 0 {
				t.Errorf("%d jobs of the cancelled run still queued, running or dead", n)
			}
			convs := scalar(t, e.st, `SELECT COUNT(*) FROM conversations`)
			if convs >= nConv && tt.stage != "analyzing" {
				t.Errorf("%d conversations threaded: the cancel stopped nothing", convs)
			}
			if extra := convs - at.conversations; extra > e.pool.opts.Size {
				t.Errorf("%d threads saved after the cancel", extra)
			}
			if n := scalar(t, e.st, `SELECT COUNT(*) FROM analyses`); n >= nConv {
				t.Errorf("%d analyses: the cancel stopped nothing", n)
			}
			t.Logf("at the cancel: %d requests, %d analyzer calls, %d conversations; after: %d requests, %d calls, %d conversations, %d jobs dropped",
				at.requests, at.calls, at.conversations, e.x.Count(""), a.calls.Load(), convs, dropped)

			// A later FinishIdleRuns leaves the cancelled run alone, and the campaign
			// can run again.
			time.Sleep(50 * time.Millisecond)
			if r, _ := e.st.Run(ctx, e.org.ID, run.ID); r.Status != store.RunCancelled {
				t.Fatalf("cancelled run became %s", r.Status)
			}
			if _, err := e.runner.Start(ctx, e.campaign, "test"); err != nil {
				t.Fatalf("a new run after the cancel: %v", err)
			}
		})
	}
}

// syncBuffer is a log sink the scheduler's goroutines write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestScheduleStartsRunsAndSkipsBusyTicks: a campaign on "@every 1s" gets runs from
// the scheduler; a run that takes longer than a second makes the ticks during it skip
// (logged), with no second run beside it; removing the schedule stops the runs.
func TestScheduleStartsRunsAndSkipsBusyTicks(t *testing.T) {
	t.Parallel()
	e := newRunEnvWith(t, 40, 4, envOptions{})
	// Every thread request takes 60ms: with two accounts, the first run lasts over 1s.
	e.x.InjectFault(xfake.OnOperation(xfake.OpTweetDetail), xfake.FaultSlow(60*time.Millisecond), 0)
	var logs syncBuffer
	s, err := newScheduler(zerolog.New(&logs), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var started, skipped atomic.Int64
	start := func(ctx context.Context, c store.Campaign, trigger string) (store.Run, error) {
		r, err := e.runner.Start(ctx, c, trigger)
		switch {
		case errors.Is(err, store.ErrRunActive):
			skipped.Add(1)
		case err == nil:
			started.Add(1)
		}
		return r, err
	}
	c := e.campaign
	c.Schedule = "@every 1s"
	if err := s.SetCampaign(c, start); err != nil {
		t.Fatal(err)
	}
	if n := s.ScheduledCampaigns(); n != 1 {
		t.Fatalf("%d scheduled campaigns, want 1", n)
	}
	s.Start()
	defer s.Stop(context.Background())

	deadline := time.Now().Add(2 * time.Minute)
	for started.Load() < 2 || skipped.Load() < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("after 2 minutes: %d runs started, %d ticks skipped", started.Load(), skipped.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.Schedule = ""
	if err := s.SetCampaign(c, start); err != nil {
		t.Fatal(err)
	}
	if n := s.ScheduledCampaigns(); n != 0 {
		t.Fatalf("%d scheduled campaigns after removing the schedule", n)
	}
	runs, err := e.st.Runs(context.Background(), e.org.ID, c.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Status != store.RunSucceeded {
			e.waitRun(t, r.ID, 30*time.Second)
		}
	}
	runs, _ = e.st.Runs(context.Background(), e.org.ID, c.ID, 10)
	// Runs, oldest first, never overlap, and all come from the schedule.
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		if r.Trigger != "schedule" || r.Status != store.RunSucceeded {
			t.Errorf("run %d: trigger %q, status %s", r.ID, r.Trigger, r.Status)
		}
		if i > 0 && runs[i-1].CreatedAt.Before(*r.FinishedAt) {
			t.Errorf("run %d started at %v, before run %d finished at %v", runs[i-1].ID, runs[i-1].CreatedAt, r.ID, *r.FinishedAt)
		}
	}
	if first := runs[len(runs)-1]; first.Progress.Conversations != 40 {
		t.Errorf("first scheduled run: %+v", first.Progress)
	}
	if !strings.Contains(logs.String(), "scheduled run skipped") {
		t.Errorf("a skipped tick was not logged:\n%s", logs.String())
	}
	n := len(runs)
	time.Sleep(1500 * time.Millisecond)
	if runs, _ := e.st.Runs(context.Background(), e.org.ID, c.ID, 10); len(runs) != n {
		t.Errorf("%d runs after the schedule was removed, want %d", len(runs), n)
	}
	t.Logf("%d runs started, %d ticks skipped", started.Load(), skipped.Load())
}

// TestRunWithoutXAccount: a run that cannot reach X fails at once with a readable
// error, and one whose accounts are banned midway fails the same way but keeps the
// tweets and threads it already had.
func TestRunWithoutXAccount(t *testing.T) {
	t.Parallel()
	t.Run("none at all", func(t *testing.T) {
		t.Parallel()
		e := newRunEnvWith(t, 10, 3, envOptions{accounts: -1})
		run, err := e.runner.Start(context.Background(), e.campaign, "test")
		if err != nil {
			t.Fatal(err)
		}
		r := e.waitRun(t, run.ID, 20*time.Second)
		if r.Status != store.RunFailed || !strings.Contains(r.Error, "no usable X account") {
			t.Fatalf("run %s, error %q; want failed with \"no usable X account\"", r.Status, r.Error)
		}
		if e.x.Count("") != 0 {
			t.Fatalf("%d requests to X without an account", e.x.Count(""))
		}
		t.Logf("error: %s", r.Error)
	})
	t.Run("banned midway", func(t *testing.T) {
		t.Parallel()
		e := newRunEnvWith(t, 100, 3, envOptions{})
		// From the third search page on, X answers every request of every account with
		// "account suspended" (403 code 64): a ban, for good.
		var banned atomic.Bool
		e.x.InjectFault(func(r xfake.Request) bool {
			if r.Operation == xfake.OpSearchTimeline && r.OpSeq == 3 {
				banned.Store(true)
			}
			return banned.Load()
		}, xfake.FaultSuspended(), 0)
		run, err := e.runner.Start(context.Background(), e.campaign, "test")
		if err != nil {
			t.Fatal(err)
		}
		r := e.waitRun(t, run.ID, 30*time.Second)
		if r.Status != store.RunFailed || !strings.Contains(r.Error, "no usable X account") {
			t.Fatalf("run %s, error %q; want failed with \"no usable X account\"", r.Status, r.Error)
		}
		// The two pages before the ban are kept, with every thread fetched before it.
		if r.Progress.TweetsNew != 40 {
			t.Errorf("%d hits kept, want the 40 of the first two pages", r.Progress.TweetsNew)
		}
		threaded := scalar(t, e.st, `SELECT COUNT(*) FROM conversations WHERE run_id = ?`, run.ID)
		ok := scalar(t, e.st, `SELECT COUNT(*) FROM jobs WHERE run_id = ? AND kind = 'thread' AND state = 'done'`, run.ID)
		if threaded != ok || scalar(t, e.st, `SELECT COUNT(*) FROM analyses WHERE run_id = ?`, run.ID) != threaded {
			t.Errorf("%d conversations kept, %d thread jobs done, analyses %d", threaded, ok,
				scalar(t, e.st, `SELECT COUNT(*) FROM analyses WHERE run_id = ?`, run.ID))
		}
		if n := scalar(t, e.st, `SELECT COUNT(*) FROM jobs WHERE run_id = ? AND state IN ('queued', 'running')`, run.ID); n != 0 {
			t.Errorf("%d jobs left open", n)
		}
		if n := scalar(t, e.st, `SELECT COUNT(*) FROM x_accounts WHERE active`); n != 0 {
			t.Errorf("%d accounts still active after X suspended them", n)
		}
		t.Logf("kept %d hits, %d conversations; %d requests to X; error: %s", r.Progress.TweetsNew, threaded, e.x.Count(""), r.Error)
	})
}

// TestRunOneThreadAlwaysFails: X fails every TweetDetail of one conversation (HTTP
// 500), the first the search finds. The run still threads and analyses the others,
// and succeeds within a minute; the failing conversation's job ends dead (or failed)
// and that conversation is not stored.
func TestRunOneThreadAlwaysFails(t *testing.T) {
	t.Parallel()
	const nConv, perConv = 60, 4
	var clientSlept atomic.Int64
	e := newRunEnvWith(t, nConv, perConv, envOptions{
		// The client's backoffs (2s, 4s, 8s) are counted and shortened a hundredfold;
		// the account locks they lead to keep their real length.
		clientSleep: func(ctx context.Context, d time.Duration) error {
			clientSlept.Add(int64(d))
			select {
			case <-time.After(d / 100):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
		waitForAccount: 10 * time.Second,
	})
	bad := e.x.MatchingIDs("nexusprobe", "Latest")[0]
	e.x.InjectFault(xfake.All(xfake.OnOperation(xfake.OpTweetDetail), func(r xfake.Request) bool {
		return fmt.Sprint(r.Variables["focalTweetId"]) == bad
	}), xfake.FaultServerError(), 0)
	e.x.InjectFault(xfake.OnOperation(xfake.OpTweetDetail), xfake.FaultSlow(5*time.Millisecond), 0)
	ctx := context.Background()
	began := time.Now()
	run, err := e.runner.Start(ctx, e.campaign, "test")
	if err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("run:%d:thread:%s", run.ID, bad)
	var r store.Run
	for {
		if r, err = e.st.Run(ctx, e.org.ID, run.ID); err != nil {
			t.Fatal(err)
		}
		if !r.Active() {
			break
		}
		if time.Since(began) > time.Minute {
			j, _ := e.st.JobByKey(ctx, key)
			accts, _ := e.st.XAccounts(ctx, e.org.ID)
			var locks []string
			for _, a := range accts {
				for op, o := range a.Ops {
					if o.LockedUntil != nil && o.LockedUntil.After(time.Now()) {
						locks = append(locks, fmt.Sprintf("%s %s until %s", a.Name, op, time.Until(*o.LockedUntil).Round(time.Second)))
					}
				}
			}
			var jobs []string
			for _, kind := range []string{store.KindThread, store.KindAnalyze} {
				for _, state := range []string{store.JobQueued, store.JobRunning, store.JobDone} {
					n := scalar(t, e.st, `SELECT COUNT(*) FROM jobs WHERE kind = ? AND state = ?`, kind, state)
					jobs = append(jobs, fmt.Sprintf("%s %s %d", kind, state, n))
				}
			}
			t.Fatalf("after %v the run is still %s at %d%% (%d of %d conversations analysed); the failing thread's job is %s "+
				"after %d attempts, next in %v (%q); accounts locked: %v; jobs: %v",
				time.Since(began).Round(time.Second), r.Status, r.Progress.Percent, r.Progress.Analyzed, nConv, j.State, j.Attempts,
				time.Until(j.RunAt).Round(time.Second), j.LastError, locks, jobs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(began)
	if r.Status != store.RunSucceeded {
		t.Fatalf("run %s (%q); want succeeded", r.Status, r.Error)
	}
	if r.Progress.Conversations != nConv-1 || r.Progress.Analyzed != nConv-1 {
		t.Errorf("progress %+v, want %d conversations threaded and analysed", r.Progress, nConv-1)
	}
	j, err := e.st.JobByKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if (j.State != store.JobDead && j.State != store.JobFailed) || !strings.Contains(j.LastError, "500") {
		t.Errorf("the failing thread's job: %s after %d attempts, %q", j.State, j.Attempts, j.LastError)
	}
	if n := scalar(t, e.st, `SELECT COUNT(*) FROM conversations WHERE conversation_id = ?`, bad); n != 0 {
		t.Errorf("the failing conversation was stored")
	}
	badReqs := 0
	for _, req := range e.x.Requests() {
		if req.Operation == xfake.OpTweetDetail && fmt.Sprint(req.Variables["focalTweetId"]) == bad {
			badReqs++
		}
	}
	t.Logf("run took %v; %d requests for the failing conversation over %d attempts; the client slept %v (shortened 100x)",
		took.Round(time.Millisecond), badReqs, j.Attempts, time.Duration(clientSlept.Load()).Round(time.Second))
}
