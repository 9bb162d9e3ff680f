package pipeline

// Fault storms (issue 9, "Faults"): runs against fakes that misbehave in every way
// they are known to, each ending with the same checks: the run is in a terminal
// state, nothing is stored, analysed or delivered twice, nothing X served is lost
// when the run succeeds, and no job is left queued or running.
//
// Time: the X client's backoffs, waits for X accounts, rate-limit windows, job
// backoffs and delivery retries run on a fakeClock, which jumps instead of waiting,
// so that a 15-minute lock or a 10-minute outage takes milliseconds. The tests on it
// give the pool a lease of 24 hours: the clock jumps minutes while jobs run (another
// job's Sleep, driveClock), and the default lease of 30 seconds would expire under a
// job still running, which would then run twice. Advancing in small steps would not
// help, since jobs themselves move the clock; a lease no jump reaches does.
//
// -full runs bigger storms; -faults.seed replays a storm's draws; -faults.debug logs
// the warnings of the runs.

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"nexus/pipeline/analyze"
	"nexus/pipeline/analyze/analyzetest"
	"nexus/pipeline/analyze/providers"
	"nexus/pipeline/deliver/slack/slackfake"
	"nexus/pipeline/deliver/webhook/webhookfake"
	"nexus/scraper/xfake"
	"nexus/store"
)

var faultsDebug = flag.Bool("faults.debug", false, "log the warnings of the fault storms' runs")

var faultsSeed = flag.Uint64("faults.seed", 0, "seed of the random fault storms (0: a new one each run; the tests log theirs)")

// stormSeed is the seed of one storm: -faults.seed, or a fresh one, logged so that a
// failure can be replayed (as far as the goroutines' interleaving allows).
func stormSeed(t testing.TB) uint64 {
	s := *faultsSeed
	if s == 0 {
		s = rand.Uint64()
	}
	t.Logf("storm seed %d (replay with -faults.seed=%d)", s, s)
	return s
}

// fakeClock runs with the wall clock plus an offset that only grows: Sleep and
// Advance add to it instead of waiting. It never runs behind the wall clock, so the
// times the store stamps with time.Now (a job's run_at when enqueued) are never in
// its future.
type fakeClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// Advance moves the clock d ahead.
func (c *fakeClock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// AdvanceTo moves the clock to t, if t is ahead.
func (c *fakeClock) AdvanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := t.Sub(time.Now().Add(c.off)); d > 0 {
		c.off += d
	}
}

// Offset is how far the clock is ahead of the wall clock.
func (c *fakeClock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.off
}

// Sleep lets d pass on the clock at once, after a real pause of a hundredth of it (at
// most 10ms): a goroutine that polls in a loop, such as the X client waiting for an
// account (a write transaction per look), must not spin on the CPU the others need.
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	time.Sleep(min(max(d/100, 50*time.Microsecond), 10*time.Millisecond))
	return ctx.Err()
}

// driveClock keeps time moving while the pool has nothing to do: whenever no job is
// running and the next queued job is due in the clock's future (a backoff, a deferral
// until an X account frees, a delivery retry), it moves the clock there and wakes the
// pool. It stops when the test ends.
func (e *runEnv) driveClock(t testing.TB, clk *fakeClock) {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { stop(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
			next, err := e.st.NextJobDue(ctx)
			if err != nil || next.IsZero() {
				continue
			}
			if next.After(clk.Now()) {
				running, err := e.st.Count(ctx, `SELECT COUNT(*) FROM jobs WHERE state = 'running'`)
				if err != nil || running > 0 {
					continue
				}
				clk.AdvanceTo(next)
			}
			// The pool sleeps until the next job is due by its clock; when another
			// goroutine's Sleep moved the clock past that, only a wake-up tells it.
			e.pool.Wake()
		}
	}()
}

// faultCard is one kind of fault a storm deals.
type faultCard struct {
	name string
	f    xfake.Fault
}

func card(name string, f xfake.Fault) faultCard {
	f.Name = name
	return faultCard{name, f}
}

// transientXFaults are X's answers of research §1.6 and §1.7 that say X or the network
// is in trouble, or that one account must rest for a while: none takes an account out
// of rotation for good, so a run under them must end with everything.
func transientXFaults() []faultCard {
	return []faultCard{
		card("429 code 88, quota spent", xfake.FaultRateLimited()),
		card("429 code 88, no rate headers", xfake.FaultRateLimitedNoHeaders()),
		card("503 code 130 over capacity", xfake.FaultOverCapacity()),
		card("200 LoadShed", xfake.FaultLoadShed()),
		card("200 code 131 dependency", xfake.FaultDependency()),
		card("200 data with a partial error", xfake.FaultPartial()),
		card("500 {}", xfake.FaultServerError()),
		card("403 Cloudflare page", xfake.FaultCloudflare(403)),
		card("503 Cloudflare page", xfake.FaultCloudflare(503)),
		card("TCP reset", xfake.FaultReset()),
		card("200 cut JSON", xfake.FaultInvalidJSON()),
		card("404 empty", xfake.FaultEmpty404()),
		card("400 code 336 features", xfake.FaultFeatures("nexus_storm_flag")),
	}
}

// accountKillingXFaults are the answers after which an account is out of rotation
// until someone reactivates it: bans, locks, dead sessions (a bare 403 twice in a row).
func accountKillingXFaults() []faultCard {
	return []faultCard{
		card("429 code 88 with quota left (soft ban)", xfake.FaultSoftBan()),
		card("403 code 326 locked", xfake.FaultLocked()),
		card("403 code 64 suspended", xfake.FaultSuspended()),
		card("401 code 32 could not authenticate", xfake.FaultCouldNotAuthenticate()),
		card("401 code 89 invalid token", xfake.FaultError(401, xfake.ErrInvalidToken)),
		card("403 code 353 csrf", xfake.FaultError(403, xfake.ErrCSRF)),
		card("bare 401", xfake.FaultBare401()),
		card("bare 403", xfake.FaultBare403()),
	}
}

// faultDeck deals faults to a share of the requests, in random order: the cards are
// shuffled, dealt one per faulted request, and shuffled again when used up, so that
// every kind comes up once per round. Independently, a share of the requests is slow.
type faultDeck struct {
	rate, slow float64
	maxDelay   time.Duration

	mu    sync.Mutex
	rng   *rand.Rand
	cards []faultCard
	next  int
	dealt map[string]int
}

func newFaultDeck(seed uint64, cards []faultCard, rate, slow float64, maxDelay time.Duration) *faultDeck {
	return &faultDeck{rate: rate, slow: slow, maxDelay: maxDelay, rng: rand.New(rand.NewPCG(seed, 0x5eed)),
		cards: slices.Clone(cards), next: len(cards), dealt: map[string]int{}}
}

// choose is the fake X's fault rule (xfake.InjectFaultFunc).
func (d *faultDeck) choose(xfake.Request) (xfake.Fault, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var f xfake.Fault
	hit := false
	if len(d.cards) > 0 && d.rng.Float64() < d.rate {
		if d.next == len(d.cards) {
			d.rng.Shuffle(len(d.cards), func(i, j int) { d.cards[i], d.cards[j] = d.cards[j], d.cards[i] })
			d.next = 0
		}
		c := d.cards[d.next]
		d.next++
		d.dealt[c.name]++
		f, hit = c.f, true
	}
	if d.maxDelay > 0 && d.rng.Float64() < d.slow {
		f.Delay = time.Duration(d.rng.Int64N(int64(d.maxDelay)))
		if !hit {
			f.Name = "slow"
		}
		d.dealt["slow"]++
		hit = true
	}
	return f, hit
}

// report lists how often each kind was dealt.
func (d *faultDeck) report() (string, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	names := make([]string, 0, len(d.dealt))
	total := 0
	for n, c := range d.dealt {
		names = append(names, fmt.Sprintf("%s ×%d", n, c))
		if n != "slow" {
			total += c
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", "), total
}

// missing lists the kinds never dealt.
func (d *faultDeck) missing() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, c := range d.cards {
		if d.dealt[c.name] == 0 {
			out = append(out, c.name)
		}
	}
	return out
}

// runFor starts a run and waits (in wall time) until it is no longer active; on a
// timeout it reports what the run's jobs and accounts were doing.
func (e *runEnv) runFor(t testing.TB, within time.Duration, logs fmt.Stringer) store.Run {
	t.Helper()
	ctx := context.Background()
	run, err := e.runner.Start(ctx, e.campaign, "test")
	if err != nil {
		t.Fatal(err)
	}
	return e.waitOver(t, run.ID, within, logs)
}

// waitOver waits (in wall time) until the run is no longer active. It polls the run's
// status alone: its progress is a dozen queries, which under -race would take the
// CPU the run needs.
func (e *runEnv) waitOver(t testing.TB, id int64, within time.Duration, logs fmt.Stringer) store.Run {
	t.Helper()
	deadline := time.Now().Add(within)
	for scalar(t, e.st, `SELECT COUNT(*) FROM runs WHERE id = ? AND status IN ('queued', 'running')`, id) > 0 {
		if time.Now().After(deadline) {
			r, _ := e.st.Run(context.Background(), e.org.ID, id)
			e.dump(t, id, logs)
			t.Fatalf("run %d still %s at %d%% after %v: %+v", id, r.Status, r.Progress.Percent, within, r)
		}
		time.Sleep(10 * time.Millisecond)
	}
	r, err := e.st.Run(context.Background(), e.org.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// dump logs the state of a run's jobs, the X accounts and the tail of the logs.
func (e *runEnv) dump(t testing.TB, runID int64, logs fmt.Stringer) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+e.st.Path()+"?_pragma=busy_timeout(10000)&_pragma=query_only(ON)")
	if err != nil {
		t.Logf("dump: %v", err)
		return
	}
	defer db.Close()
	rows, err := db.Query(`SELECT kind, state, COUNT(*), MAX(attempts) FROM jobs WHERE run_id = ? GROUP BY 1, 2 ORDER BY 1, 2`, runID)
	if err == nil {
		for rows.Next() {
			var kind, state string
			var n, attempts int
			rows.Scan(&kind, &state, &n, &attempts)
			t.Logf("jobs %s %s: %d (at most %d attempts)", kind, state, n, attempts)
		}
		rows.Close()
	}
	rows, err = db.Query(`SELECT key, state, attempts, max_attempts, run_at, last_error FROM jobs
		WHERE run_id = ? AND state != 'done' ORDER BY id LIMIT 12`, runID)
	if err == nil {
		for rows.Next() {
			var key, state, lastErr string
			var attempts, maxAttempts int
			var runAt int64
			rows.Scan(&key, &state, &attempts, &maxAttempts, &runAt, &lastErr)
			t.Logf("  %s %s: attempt %d of %d, due %s, last error %q", key, state, attempts, maxAttempts,
				time.UnixMilli(runAt).Format(time.TimeOnly), lastErr)
		}
		rows.Close()
	}
	if accts, err := e.st.XAccounts(context.Background(), e.org.ID); err == nil {
		for _, a := range accts {
			var locks []string
			for op, o := range a.Ops {
				if o.LockedUntil != nil {
					locks = append(locks, fmt.Sprintf("%s locked until %s", op, o.LockedUntil.Format(time.TimeOnly)))
				}
			}
			t.Logf("account %s: active %v, last error %q, %v", a.Name, a.Active, a.LastError, locks)
		}
	}
	reqs := e.x.Requests()
	var b strings.Builder
	for _, q := range reqs[max(len(reqs)-40, 0):] {
		fmt.Fprintf(&b, "\n  #%d %s %s %s: %d %s", q.Seq, q.Time.Format("15:04:05.000"), q.Operation, q.Account, q.Status, q.Fault)
	}
	t.Logf("last requests to X (of %d):%s", len(reqs), b.String())
	if logs != nil {
		t.Logf("logs (tail):\n%s", tail(logs.String(), 4000))
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// outcome is what a storm's run must end with.
type outcome struct {
	status   string // store.RunSucceeded or store.RunFailed
	errorHas string // for a failed run: what its error must say
	all      bool   // every conversation X serves is stored, whole, and analysed
}

// checkRun checks what every storm ends with: the run is over and no job is left
// open; every conversation is stored once and analysed exactly once (calls is how
// often the analyzer was called, -1 when the test counts it itself); with o.all,
// nothing X served is missing.
func (e *runEnv) checkRun(t testing.TB, r store.Run, nConv, perConv int, calls int64, o outcome, logs fmt.Stringer) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		e.dump(t, r.ID, logs)
		t.Fatalf(format, args...)
	}
	if r.Active() || r.FinishedAt == nil {
		fail("run %d is not over: %+v", r.ID, r)
	}
	if r.Status != o.status || !strings.Contains(r.Error, o.errorHas) {
		fail("run %d %s with error %q; want %s with %q", r.ID, r.Status, r.Error, o.status, o.errorHas)
	}
	if n := scalar(t, e.st, `SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')`); n != 0 {
		fail("%d jobs still queued or running after the run ended", n)
	}
	convs := scalar(t, e.st, `SELECT COUNT(*) FROM conversations WHERE campaign_id = ?`, e.campaign.ID)
	if n := scalar(t, e.st, `SELECT COUNT(*) FROM conversations c
			WHERE (SELECT COUNT(*) FROM analyses a WHERE a.conversation_id = c.id) != 1`); n != 0 {
		fail("%d of %d conversations not analysed exactly once", n, convs)
	}
	if calls >= 0 && calls != int64(convs) {
		fail("%d analyzer calls for %d conversations", calls, convs)
	}
	if mine := scalar(t, e.st, `SELECT COUNT(*) FROM conversations WHERE run_id = ?`, r.ID); r.Progress.Conversations != mine || r.Progress.Analyzed != mine {
		fail("progress %+v; the run stored %d conversations", r.Progress, mine)
	}
	if !o.all {
		return
	}
	if convs != nConv {
		fail("%d conversations stored, X serves %d", convs, nConv)
	}
	if n := scalar(t, e.st, `SELECT COUNT(*) FROM conversations WHERE tweet_count = ? AND complete`, perConv); n != nConv {
		fail("%d of %d conversations stored whole (%d tweets each)", n, nConv, perConv)
	}
	if n := scalar(t, e.st, `SELECT COUNT(*) FROM tweets`); n != nConv*perConv {
		fail("%d tweets stored, X serves %d", n, nConv*perConv)
	}
}

// TestStormX: X answers a fifth of the requests with one of its errors, dealt in
// random order, and a tenth slowly.
//
//   - transient: the errors that say X or the network is in trouble, or that one
//     account must rest (rate limits without and with headers, over capacity, LoadShed,
//     internal errors, Cloudflare, resets, cut JSON, empty 404s, features drift). No
//     account is lost for good, so the run must succeed with every conversation.
//     (runs.account_wait is an hour here: two 15-minute locks of both accounts back to
//     back, a legitimate wait of 30 minutes, are rare but possible in this storm, and
//     the bound has its own test, TestStormAccountsOutage.)
//   - accounts banned: the search gets the same; thread requests fail three times in
//     ten, two thirds of the failures being answers that take an account out of
//     rotation until someone reactivates it (soft ban, locked, suspended, logged out, a
//     second bare 403). Both accounts are gone long before the threads are (each
//     thread request has about one chance in six to kill its account), so the run must
//     fail saying there is no usable X account, with what it stored consistent. Then
//     the accounts come back (reactivated) and X calms down: the next run must fetch
//     and analyse every conversation the failed one missed, and nothing twice.
func TestStormX(t *testing.T) {
	t.Parallel()
	nConv, perConv := 24, 7
	if *full {
		nConv, perConv = 200, 10
	}
	for _, banned := range []bool{false, true} {
		name := "transient"
		if banned {
			name = "accounts banned"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			seed := stormSeed(t)
			clk := &fakeClock{}
			var logs syncBuffer
			// The client waits 2s (of fake time) for a busy account before its job is
			// deferred: each look is a write transaction, costly under -race, and every
			// job waiting for a locked pool looks. One thread module a page, so that a
			// thread takes several requests.
			e := newRunEnvWith(t, nConv, perConv, envOptions{clock: clk, log: &logs, lease: 24 * time.Hour, waitForAccount: 2 * time.Second,
				accountWait: time.Hour, xOptions: []xfake.Option{xfake.WithPaging(xfake.Paging{ThreadsPerPage: 1, ModuleItems: 2, ModuleMore: 2})}})
			transient := newFaultDeck(seed, transientXFaults(), 0.2, 0.1, 20*time.Millisecond)
			deck := transient
			if banned {
				killers := accountKillingXFaults()
				deck = newFaultDeck(seed+1, slices.Concat(transientXFaults(), killers, killers, killers), 0.3, 0.1, 20*time.Millisecond)
				e.x.InjectFaultFunc(func(r xfake.Request) (xfake.Fault, bool) {
					if r.Operation == xfake.OpSearchTimeline {
						return transient.choose(r)
					}
					return deck.choose(r)
				})
			} else {
				e.x.InjectFaultFunc(deck.choose)
			}
			e.driveClock(t, clk)
			began := time.Now()
			r := e.runFor(t, 2*time.Minute, &logs)
			took := time.Since(began)
			dealt, faulted := deck.report()
			t.Logf("run %s in %v (%v of fake time) with %d requests to X, %d of them faulted: %s",
				r.Status, took.Round(time.Millisecond), clk.Offset().Round(time.Second), e.x.Count(""), faulted, dealt)
			if *faultsDebug {
				t.Logf("%s", logs.String())
			}
			if !banned {
				e.checkRun(t, r, nConv, perConv, e.analyzer.calls.Load(), outcome{status: store.RunSucceeded, all: true}, &logs)
				if faulted >= len(deck.cards) {
					if m := deck.missing(); len(m) > 0 {
						t.Errorf("never dealt: %v", m)
					}
				}
				return
			}
			e.checkRun(t, r, nConv, perConv, e.analyzer.calls.Load(), outcome{status: store.RunFailed, errorHas: "no usable X account"}, &logs)
			if *faultsDebug {
				e.dump(t, r.ID, &logs)
			}
			if r.Progress.TweetsNew != nConv {
				t.Errorf("%d hits kept, want the %d the search found", r.Progress.TweetsNew, nConv)
			}
			if n := scalar(t, e.st, `SELECT COUNT(*) FROM x_accounts WHERE active`); n != 0 {
				t.Errorf("%d accounts still active", n)
			}
			// What the run stored is whole: each thread job either stored its
			// conversation or failed for want of an account.
			done := scalar(t, e.st, `SELECT COUNT(*) FROM jobs WHERE run_id = ? AND kind = 'thread' AND state = 'done'`, r.ID)
			if done != r.Progress.Conversations {
				t.Errorf("%d thread jobs done, %d conversations stored", done, r.Progress.Conversations)
			}
			if n := scalar(t, e.st, `SELECT COUNT(*) FROM jobs WHERE run_id = ? AND state IN ('failed', 'dead')
					AND last_error NOT LIKE '%no usable X account%'`, r.ID); n != 0 {
				e.dump(t, r.ID, &logs)
				t.Errorf("%d jobs failed for another reason than the accounts", n)
			}
			t.Logf("kept %d hits and %d conversations; error: %s", r.Progress.TweetsNew, r.Progress.Conversations, r.Error)

			// The accounts come back, X calms down: the next run gets the rest.
			accts, err := e.st.XAccounts(context.Background(), e.org.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range accts {
				if err := e.st.ReactivateXAccount(context.Background(), e.org.ID, a.ID); err != nil {
					t.Fatal(err)
				}
			}
			e.x.ClearFaults()
			again := e.runFor(t, time.Minute, &logs)
			t.Logf("second run: %s, %d new hits, %d conversations", again.Status, again.Progress.TweetsNew, again.Progress.Conversations)
			e.checkRun(t, again, nConv, perConv, e.analyzer.calls.Load(), outcome{status: store.RunSucceeded, all: true}, &logs)
		})
	}
}

// TestStormAccountsOutage: every X account of the organization becomes unusable in the
// middle of a run (X rate-limits them all, with a reset time) and comes back when the
// window resets. The run waits, resumes where it was, and succeeds with every
// conversation, each fetched once.
//
//   - threads: all accounts hit their TweetDetail quota at the 10th thread request,
//     for the rest of a 20-minute window.
//   - search: the same for SearchTimeline at the second page; the search resumes at
//     the page it had reached.
//   - windows past account_wait: a TweetDetail quota of 6 requests per 15 minutes per
//     account, so the run waits out window after window, an hour in all: longer than
//     runs.account_wait (30m), though no single wait is. (The wait used to be counted
//     from the creation of the run, and the threads after the first half hour failed.)
func TestStormAccountsOutage(t *testing.T) {
	t.Parallel()
	exhaustAt := func(op string, n int) func(e *runEnv) {
		return func(e *runEnv) {
			e.x.InjectFault(func(r xfake.Request) bool {
				if r.Operation == op && r.OpSeq == n {
					for _, tok := range []string{"tok-0", "tok-1"} {
						e.x.SetRemaining(tok, op, 0)
					}
				}
				return false
			}, xfake.Fault{}, 0)
		}
	}
	tests := []struct {
		name           string
		nConv, perConv int
		limits         []xfake.Option
		arm            func(e *runEnv)
		minFake        time.Duration // the fake time the run must at least have taken
		limited        bool          // X answers 429s (else the client stops at remaining 0 by itself)
	}{
		{"threads", 30, 4, []xfake.Option{xfake.WithRateLimit(xfake.OpTweetDetail, xfake.Limit{Requests: 1000, Window: 20 * time.Minute})},
			exhaustAt(xfake.OpTweetDetail, 10), 15 * time.Minute, true},
		{"search", 50, 2, []xfake.Option{xfake.WithRateLimit(xfake.OpSearchTimeline, xfake.Limit{Requests: 1000, Window: 20 * time.Minute})},
			exhaustAt(xfake.OpSearchTimeline, 2), 15 * time.Minute, true},
		{"windows past account_wait", 40, 3, []xfake.Option{xfake.WithRateLimit(xfake.OpTweetDetail, xfake.Limit{Requests: 6, Window: 15 * time.Minute})},
			func(*runEnv) {}, 40 * time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := &fakeClock{}
			var logs syncBuffer
			e := newRunEnvWith(t, tt.nConv, tt.perConv, envOptions{clock: clk, log: &logs, lease: 24 * time.Hour,
				waitForAccount: 2 * time.Second, accountWait: 30 * time.Minute, xOptions: tt.limits})
			tt.arm(e)
			e.driveClock(t, clk)
			began := time.Now()
			r := e.runFor(t, 2*time.Minute, &logs)
			t.Logf("run %s in %v (%v of fake time), %d requests to X", r.Status, time.Since(began).Round(time.Millisecond),
				clk.Offset().Round(time.Second), e.x.Count(""))
			e.checkRun(t, r, tt.nConv, tt.perConv, e.analyzer.calls.Load(), outcome{status: store.RunSucceeded, all: true}, &logs)
			if clk.Offset() < tt.minFake {
				t.Errorf("the run took %v of fake time: the accounts were not out for long", clk.Offset())
			}
			// Each thread and each search page was fetched once, and waits used up no
			// attempt.
			limited, pages := 0, map[string]int{}
			for _, q := range e.x.Requests() {
				switch {
				case q.Status == 429:
					limited++
				case q.Status == 200 && q.Operation == xfake.OpTweetDetail:
					pages[fmt.Sprint(q.Variables["focalTweetId"], q.Variables["cursor"])]++
				case q.Status == 200 && q.Operation == xfake.OpSearchTimeline:
					pages[fmt.Sprint("search ", q.Variables["cursor"])]++
				}
			}
			for p, n := range pages {
				if n > 1 {
					t.Errorf("%s fetched %d times", p, n)
				}
			}
			if tt.limited && limited == 0 {
				t.Error("X never rate-limited the accounts")
			}
			if n := scalar(t, e.st, `SELECT MAX(attempts) FROM jobs WHERE run_id = ?`, r.ID); n > 1 {
				e.dump(t, r.ID, &logs)
				t.Errorf("a job took %d attempts: waiting for accounts used some up", n)
			}
		})
	}
}

// geminiStorm is the fake Gemini's behaviour in TestStormGemini: answers per
// conversation (some broken for good, some broken once), under a 429 storm.
type geminiStorm struct {
	clk       *fakeClock
	burst     time.Duration // how long the storm at the first request lasts (fake time)
	rate503   float64
	rate429   float64
	brokenFor func(thread int) (first, repair bool)

	mu                     sync.Mutex
	rng                    *rand.Rand
	stormEnd               time.Time
	valid                  map[int]int // thread number → usable answers given
	broken                 map[int]int // thread number → cut answers given
	throttled, unavailable int
}

var threadNumber = regexp.MustCompile(`nexusprobe for thread (\d+)\?`)

// broken is an answer cut in the middle, as a model that ran out of tokens gives.
const brokenAnswer = `{"relevance": 80, "sentiment": "posi`

func (g *geminiStorm) respond(req analyzetest.GeminiRequest) analyzetest.Reply {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clk.Now()
	if g.stormEnd.IsZero() {
		g.stormEnd = now.Add(g.burst)
	}
	if left := g.stormEnd.Sub(now); left > 0 {
		// The quota is spent until the storm ends: RetryInfo says so, in whole seconds.
		g.throttled++
		return analyzetest.Reply{Status: 429, Message: "Resource has been exhausted (e.g. check quota).",
			RetryDelay: fmt.Sprintf("%ds", int(left.Seconds())+1)}
	}
	switch x := g.rng.Float64(); {
	case g.unavailable == 0 && g.rate503 > 0:
		// The first answer after the storm is a 503, so that every run sees one: left
		// to chance, a short run missed them one time in twenty.
		g.unavailable++
		return analyzetest.Reply{Status: 503, Message: "The model is overloaded. Please try again later."}
	case x < g.rate429:
		g.throttled++
		return analyzetest.Reply{Status: 429, Message: "Resource has been exhausted (e.g. check quota).",
			RetryDelay: fmt.Sprintf("%ds", 1+g.rng.IntN(40))}
	case x < g.rate429+g.rate503:
		g.unavailable++
		return analyzetest.Reply{Status: 503, Message: "The model is overloaded. Please try again later."}
	}
	m := threadNumber.FindStringSubmatch(req.Body.Contents[0].Text())
	if m == nil {
		return analyzetest.Reply{Status: 400, Message: "no thread in the prompt"}
	}
	n, _ := strconv.Atoi(m[1])
	first, repair := g.brokenFor(n)
	isRepair := len(req.Body.Contents) > 1
	if (!isRepair && first) || (isRepair && repair) {
		g.broken[n]++
		return analyzetest.Reply{Text: brokenAnswer, PromptTokens: 900, ResponseTokens: 9}
	}
	g.valid[n]++
	return analyzetest.Reply{Text: analyzetest.Answer, PromptTokens: 900, ResponseTokens: 120}
}

// TestStormGemini: the run's analyses go to the real Gemini client (through the
// provider, as nexus serve builds it) and a fake Gemini that throttles every request
// for the first 10 minutes (429 with a RetryInfo of the time left, longer than the
// client's own retries wait), then answers a fifth of the requests 429 (RetryInfo of
// 1-40s) and a tenth 503. One conversation in six gets a cut JSON answer twice (its
// analysis is recorded failed, with the raw answer kept), one in six once (repaired by
// the second answer). The run succeeds; every conversation has one analysis, and
// Gemini was asked once per conversation, twice when a repair was needed: no analysis
// was repeated. Time is fake: the client's waits and the jobs' retries cost nothing.
func TestStormGemini(t *testing.T) {
	t.Parallel()
	nConv, perConv := 24, 3
	if *full {
		nConv = 200
	}
	seed := stormSeed(t)
	clk := &fakeClock{}
	fake := analyzetest.NewGemini(t, "gemini-key")
	storm := &geminiStorm{clk: clk, burst: 10 * time.Minute, rate429: 0.2, rate503: 0.1,
		rng: rand.New(rand.NewPCG(seed, 0x6e)), valid: map[int]int{}, broken: map[int]int{},
		brokenFor: func(n int) (bool, bool) { return n%6 == 0 || n%6 == 1, n%6 == 0 }}
	fake.Respond = storm.respond
	var waited sync.Map // delays the client was told to wait
	provider, err := providers.New(providers.Config{Provider: providers.Gemini, APIKey: "gemini-key", BaseURL: fake.URL,
		Retry: analyze.Retry{Sleep: func(ctx context.Context, d time.Duration) error {
			waited.Store(d, true)
			return clk.Sleep(ctx, d)
		}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	e := newRunEnvWith(t, nConv, perConv, envOptions{clock: clk, log: &logs, lease: 24 * time.Hour, analyzer: provider, backoff: Backoff})
	e.driveClock(t, clk)
	began := time.Now()
	r := e.runFor(t, 2*time.Minute, &logs)
	t.Logf("run %s in %v (%v of fake time); Gemini: %d requests, %d throttled, %d unavailable",
		r.Status, time.Since(began).Round(time.Millisecond), clk.Offset().Round(time.Second),
		len(fake.Requests()), storm.throttled, storm.unavailable)
	e.checkRun(t, r, nConv, perConv, -1, outcome{status: store.RunSucceeded, all: true}, &logs)

	// A usable answer is given once per conversation that ends analysed (none for
	// those broken for good): no analysis was asked for twice. (A cut answer may be
	// given again: when the repair's request outlasts the client's retries, the job
	// starts over.)
	broken, repaired := 0, 0
	for n := range nConv {
		first, again := storm.brokenFor(n)
		want := 1
		switch {
		case first && again:
			broken, want = broken+1, 0
		case first:
			repaired++
		}
		if got := storm.valid[n]; got != want {
			t.Errorf("thread %d: Gemini gave %d usable answers, want %d", n, got, want)
		}
		if first && storm.broken[n] < 1+btoi(again) {
			t.Errorf("thread %d: Gemini gave %d cut answers, want at least %d", n, storm.broken[n], 1+btoi(again))
		}
	}
	if n := scalar(t, e.st, `SELECT COUNT(*) FROM analyses WHERE status = 'failed' AND raw = ? AND error LIKE '%unusable model answer%'`, brokenAnswer); n != broken {
		e.dump(t, r.ID, &logs)
		t.Errorf("%d failed analyses keeping the raw answer, want %d", n, broken)
	}
	if n := scalar(t, e.st, `SELECT COUNT(*) FROM analyses WHERE status = 'ok' AND provider = 'gemini'`); n != nConv-broken {
		t.Errorf("%d good analyses, want %d (%d repaired)", n, nConv-broken, repaired)
	}
	long := false
	waited.Range(func(k, _ any) bool {
		long = long || k.(time.Duration) >= 20*time.Second
		return true
	})
	if !long {
		t.Error("the client never waited the delays Gemini asked for")
	}
	if storm.throttled == 0 || storm.unavailable == 0 {
		t.Errorf("no storm: %d throttled, %d unavailable", storm.throttled, storm.unavailable)
	}
}

// TestStormDeliveryOutage: Slack and the webhook receiver are down (503 and 502) for
// the first ten minutes of the run, in fake time, and the jobs retry on the pool's real
// backoff policy (2s doubling, capped at 10 minutes, with jitter). A delivery job has
// 12 attempts: the first 11 wait at least 1+2+4+…+256s and then 300s, 811s in all,
// so an outage of ten minutes is outlived however the jitter falls. After it, every
// opportunity is delivered exactly once to each target, and the run succeeds.
func TestStormDeliveryOutage(t *testing.T) {
	t.Parallel()
	n := 6
	if *full {
		n = 40
	}
	clk := &fakeClock{}
	var logs syncBuffer
	e := newRunEnvWith(t, n, 3, envOptions{clock: clk, log: &logs, lease: 24 * time.Hour, backoff: Backoff})
	e.senders.Now, e.senders.Sleep = clk.Now, clk.Sleep // Slack's pacing, a message a second
	ctx := context.Background()
	slack := slackfake.New(t)
	hook := webhookfake.New(t, "hook-secret")
	set := func(kind string, v any) {
		b, _ := json.Marshal(v)
		if err := e.st.SetIntegration(ctx, e.org.ID, kind, b, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	set("slack", SlackSettings{WebhookURL: slack.WebhookURL()})
	set("webhook", WebhookSettings{URL: hook.URL, Secret: "hook-secret"})
	e.campaign.Threshold = 40 // every conversation asks for a recommendation: an opportunity
	e.campaign.Routes = []store.Route{{Integration: "slack", Mode: "instant"}, {Integration: "webhook", Mode: "instant"}}
	c, err := e.st.UpdateCampaign(ctx, e.campaign)
	if err != nil {
		t.Fatal(err)
	}
	e.campaign = c
	back := clk.Now().Add(10 * time.Minute)
	slack.DownUntil(clk.Now, back, http.StatusServiceUnavailable)
	hook.DownUntil(clk.Now, back, http.StatusBadGateway)
	e.driveClock(t, clk)

	began := time.Now()
	r := e.runFor(t, 2*time.Minute, &logs)
	attempts := scalar(t, e.st, `SELECT MAX(attempts) FROM jobs WHERE run_id = ? AND kind = 'deliver'`, r.ID)
	t.Logf("run %s in %v (%v of fake time); %d Slack and %d webhook requests refused during the outage; a delivery took up to %d attempts",
		r.Status, time.Since(began).Round(time.Millisecond), clk.Offset().Round(time.Second), slack.FailedDown(), hook.FailedDown(), attempts)
	e.checkRun(t, r, n, 3, e.analyzer.calls.Load(), outcome{status: store.RunSucceeded, all: true}, &logs)
	if r.Progress.Opportunities != n || r.Progress.Delivered != 2*n {
		dumpDeliveries(t, e.st, r.ID)
		t.Fatalf("%d opportunities, %d deliveries sent; want %d and %d", r.Progress.Opportunities, r.Progress.Delivered, n, 2*n)
	}
	if got := len(slack.Messages()); got != n {
		t.Errorf("%d Slack messages, want %d", got, n)
	}
	if got := len(hook.Deliveries()); got != n || hook.Duplicates() != 0 || hook.Rejected() != 0 {
		t.Errorf("%d webhook deliveries (%d duplicates, %d rejected), want %d", got, hook.Duplicates(), hook.Rejected(), n)
	}
	if slack.FailedDown() == 0 || hook.FailedDown() == 0 {
		t.Errorf("the outage refused nothing: %d Slack, %d webhook", slack.FailedDown(), hook.FailedDown())
	}
	if clk.Offset() < 10*time.Minute {
		t.Errorf("the run ended %v into the ten-minute outage", clk.Offset())
	}
}

// TestStormDiskFull: the disk fills up in the middle of a run (the database may not
// grow: PRAGMA max_page_count at its current size, which gives SQLite's own
// SQLITE_FULL on the writes that need a new page) and space comes back a moment later.
// Writes fail with "database or disk is full"; the jobs that hit it wait for space
// without spending their attempts; the run then succeeds with every conversation,
// nothing twice, and the database passes integrity_check.
func TestStormDiskFull(t *testing.T) {
	t.Parallel()
	nConv, perConv := 30, 4
	if *full {
		nConv = 200
	}
	var logs syncBuffer
	e := newRunEnvWith(t, nConv, perConv, envOptions{log: &logs})
	ctx := context.Background()
	var (
		once   sync.Once
		capped = make(chan int64, 1)
	)
	// The disk fills when the tenth thread is asked for, while other threads are
	// being saved.
	e.x.InjectFault(func(r xfake.Request) bool {
		if r.Operation == xfake.OpTweetDetail && r.OpSeq == 10 {
			once.Do(func() {
				pages := int64(scalar(t, e.st, `SELECT page_count FROM pragma_page_count()`))
				got, err := e.st.SetMaxPageCount(ctx, pages)
				if err != nil {
					t.Error(err)
				}
				capped <- got
			})
		}
		return false
	}, xfake.Fault{}, 0)
	run, err := e.runner.Start(ctx, e.campaign, "test")
	if err != nil {
		t.Fatal(err)
	}
	var pages int64
	select {
	case pages = <-capped:
	case <-time.After(time.Minute):
		e.dump(t, run.ID, &logs)
		t.Fatal("the run never reached its tenth thread")
	}
	// Full for a second and a half, and until the writes have failed many times: more
	// than a job's attempts, were they counted.
	full := func() int { return strings.Count(logs.String(), "database or disk is full") }
	for until := time.Now().Add(1500 * time.Millisecond); full() < 3*8 || time.Now().Before(until); {
		if time.Since(until) > 30*time.Second {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	failedWrites := full()
	storedWhileFull := scalar(t, e.st, `SELECT COUNT(*) FROM conversations`)
	if _, err := e.st.SetMaxPageCount(ctx, 0); err != nil {
		t.Fatal(err)
	}
	r := e.waitOver(t, run.ID, time.Minute, &logs)
	if *faultsDebug {
		t.Logf("%s", logs.String())
	}
	t.Logf("capped at %d pages; %d writes failed with a full disk (%d conversations stored by then); run %s with %d conversations",
		pages, failedWrites, storedWhileFull, r.Status, r.Progress.Conversations)
	if failedWrites == 0 {
		t.Fatal("no write failed with a full disk: max_page_count did not bite")
	}
	e.checkRun(t, r, nConv, perConv, e.analyzer.calls.Load(), outcome{status: store.RunSucceeded, all: true}, &logs)
	if n := scalar(t, e.st, `SELECT COUNT(*) FROM pragma_integrity_check WHERE integrity_check != 'ok'`); n != 0 {
		t.Errorf("integrity_check: %d problems", n)
	}
	if n := scalar(t, e.st, `SELECT COUNT(*) FROM jobs WHERE attempts > 1`); n != 0 {
		e.dump(t, r.ID, &logs)
		t.Errorf("%d jobs spent attempts on the full disk", n)
	}
	// A thread fetched while the disk was full is kept and stored when space is back,
	// not fetched again (nor is an analysis asked for twice: checkRun counts the calls).
	fetched := map[string]int{}
	for _, q := range e.x.Requests() {
		if q.Operation == xfake.OpTweetDetail && q.Status == 200 {
			fetched[fmt.Sprint(q.Variables["focalTweetId"])]++
		}
	}
	for id, n := range fetched {
		if n > 1 {
			t.Errorf("thread %s fetched %d times", id, n)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestAccountWaitEpisodes: runs.account_wait bounds one stretch without a usable X
// account, not the age of a run; X answering with data ends the stretch, and so does
// nobody coming back to it.
func TestAccountWaitEpisodes(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{}
	r := NewRunner(RunnerOptions{AccountWait: 30 * time.Minute, Now: clk.Now})
	const org = 1
	wait := func(d time.Duration) bool {
		_, ok := r.waitForAccount(org, clk.Now().Add(d))
		return ok
	}
	if !wait(20 * time.Minute) {
		t.Fatal("a 20-minute lock at the start of a wait was refused")
	}
	clk.Advance(20 * time.Minute)
	if wait(15 * time.Minute) {
		t.Fatal("a second lock past account_wait from the start of the wait was granted")
	}
	r.accountsUsable(org) // X answered: the wait is over
	if !wait(15 * time.Minute) {
		t.Fatal("a lock after X answered was refused")
	}
	clk.Advance(15*time.Minute + 30*time.Minute + time.Second) // nobody came back: that wait ended with its run
	if !wait(20 * time.Minute) {
		t.Fatal("a lock after an abandoned wait was refused")
	}
	if wait(31 * time.Minute) {
		t.Fatal("a lock longer than account_wait was granted")
	}
}
