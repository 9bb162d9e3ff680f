package pipeline

import (
	"context"
	"flag"
	"fmt"
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

var full = flag.Bool("full", false, "run the full-size end-to-end run (10,000 tweets in 1,000 conversations)")

// countingAnalyzer is the offline heuristic with a call counter: the test checks that
// nothing is analysed twice.
type countingAnalyzer struct {
	h     *heuristic.Analyzer
	calls atomic.Int64
}

func (a *countingAnalyzer) Analyze(ctx context.Context, c analyze.Campaign, conv analyze.Conversation) (analyze.Result, error) {
	a.calls.Add(1)
	return a.h.Analyze(ctx, c, conv)
}

func (a *countingAnalyzer) CacheKey(c analyze.Campaign, conv analyze.Conversation) string {
	return analyze.CacheKey(c, conv, "heuristic/"+a.h.Model())
}

// runEnv is a store, a fake X holding nConv conversations of perConv tweets each
// (a root that mentions the campaign's keyword and its replies), and a runner with a
// worker pool over them.
type runEnv struct {
	st       *store.Store
	x        *xfake.Server
	org      store.Organization
	campaign store.Campaign
	runner   *Runner
	pool     *Pool
	analyzer *countingAnalyzer
	senders  *Senders
}

func newRunEnv(t testing.TB, nConv, perConv int) *runEnv {
	t.Helper()
	ctx := context.Background()
	st := openStore(t)
	x := xfake.New(xfake.WithRateLimit(xfake.OpSearchTimeline, xfake.Limit{}), xfake.WithRateLimit(xfake.OpTweetDetail, xfake.Limit{}),
		xfake.WithPromoted(false))
	t.Cleanup(x.Close)
	x.AddAccount("tok-a", "ct0-a")
	x.AddAccount("tok-b", "ct0-b")
	base := time.Now().Add(-time.Hour)
	for i := range nConv {
		root := x.AddTweet(xfake.Tweet{Text: fmt.Sprintf("anyone using nexusprobe for thread %d?", i), CreatedAt: base.Add(time.Duration(i) * time.Second)})
		parent := root.ID
		for j := 1; j < perConv; j++ {
			r := x.AddTweet(xfake.Tweet{Text: fmt.Sprintf("reply %d to %d", j, i), InReplyToID: parent,
				CreatedAt: base.Add(time.Duration(i)*time.Second + time.Duration(j)*time.Millisecond)})
			if j%3 == 0 {
				parent = r.ID // some depth, not only a flat list
			}
		}
	}
	org, _ := st.CreateOrganization(ctx, "A")
	for _, tok := range []string{"a", "b"} {
		if _, err := st.AddXAccount(ctx, org.ID, "acct-"+tok, []byte(fmt.Sprintf(`{"auth_token":"tok-%s","ct0":"ct0-%s"}`, tok, tok)), "", "UA"); err != nil {
			t.Fatal(err)
		}
	}
	c, err := st.CreateCampaign(ctx, store.Campaign{OrgID: org.ID, Name: "probe", Keywords: []string{"nexusprobe"}, Match: "any",
		Threshold: 70, LookbackHours: 24})
	if err != nil {
		t.Fatal(err)
	}
	env := &runEnv{st: st, x: x, org: org, campaign: c, analyzer: &countingAnalyzer{h: heuristic.New()},
		senders: NewSenders(st, true)} // the fakes of Slack, Sheets and webhooks listen on loopback
	env.runner = NewRunner(RunnerOptions{Store: st, Analyzer: env.analyzer, Log: zerolog.Nop(),
		NewClient: func(accounts scraper.AccountStore) (*scraper.Client, error) {
			return scraper.New(scraper.Options{APIBase: x.URL(), WebBase: x.RootURL(), TransactionID: "off", Accounts: accounts, Log: zerolog.Nop(),
				WaitForAccount: time.Minute})
		},
		Wake:    func() { env.pool.Wake() },
		Senders: env.senders,
	})
	env.pool = NewPool(st, PoolOptions{Size: 4, Handlers: env.runner.Handlers()}, zerolog.Nop())
	env.pool.Start(ctx)
	watch, stop := context.WithCancel(ctx)
	go env.runner.Watch(watch, 20*time.Millisecond)
	t.Cleanup(func() { stop(); env.pool.Stop(context.Background()) })
	return env
}

// runToEnd starts a run and waits until it is no longer active.
func (e *runEnv) runToEnd(t testing.TB) store.Run {
	t.Helper()
	ctx := context.Background()
	run, err := e.runner.Start(ctx, e.campaign, "test")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r, err := e.st.Run(ctx, e.org.ID, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Active() {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("run did not finish: %+v", r)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func scalar(t testing.TB, st *store.Store, q string, args ...any) int {
	t.Helper()
	n, err := st.Count(context.Background(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRunEndToEnd: every conversation threaded and analysed exactly once; a second
// run with nothing new makes one search request and no analysis.
func TestRunEndToEnd(t *testing.T) {
	nConv, perConv := 60, 10
	if *full {
		nConv = 1000
	}
	env := newRunEnv(t, nConv, perConv)
	run := env.runToEnd(t)
	if run.Status != store.RunSucceeded || run.Stage != "done" || run.Progress.Percent != 100 {
		t.Fatalf("run: %+v", run)
	}
	if run.Progress.TweetsNew != nConv || run.Progress.Conversations != nConv || run.Progress.Analyzed != nConv {
		t.Fatalf("progress: %+v, want %d conversations", run.Progress, nConv)
	}
	if n := scalar(t, env.st, `SELECT COUNT(*) FROM tweets`); n != nConv*perConv {
		t.Fatalf("%d tweets stored, want %d", n, nConv*perConv)
	}
	if n := scalar(t, env.st, `SELECT COUNT(*) FROM conversations WHERE tweet_count = ?`, perConv); n != nConv {
		t.Fatalf("%d complete conversations, want %d", n, nConv)
	}
	if n := scalar(t, env.st, `SELECT COUNT(*) FROM (SELECT conversation_id FROM analyses GROUP BY 1 HAVING COUNT(*) > 1)`); n != 0 {
		t.Fatalf("%d conversations analysed twice", n)
	}
	if got := env.analyzer.calls.Load(); got != int64(nConv) {
		t.Fatalf("%d analyzer calls, want %d", got, nConv)
	}
	if n := env.x.Count(xfake.OpTweetDetail); n < nConv {
		t.Fatalf("%d TweetDetail requests for %d conversations", n, nConv)
	}

	searches := env.x.Count(xfake.OpSearchTimeline)
	calls := env.analyzer.calls.Load()
	second := env.runToEnd(t)
	if second.Status != store.RunSucceeded || second.Progress.TweetsNew != 0 || second.Progress.Analyzed != 0 {
		t.Fatalf("second run: %+v", second)
	}
	if n := env.x.Count(xfake.OpSearchTimeline) - searches; n != 1 {
		t.Fatalf("second run made %d search requests, want 1", n)
	}
	if n := env.analyzer.calls.Load() - calls; n != 0 {
		t.Fatalf("second run made %d analyzer calls, want 0", n)
	}
}
