package app

import (
	"bytes"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"nexus/scraper/xfake"
)

var (
	crashSoak = flag.Bool("crash.soak", false,
		"repeat the crash test 50 times, each with its own random kill points (the seed is logged)")
	crashSeed = flag.Uint64("crash.seed", 0,
		"with -crash.soak, the seed of the first repetition (default: from the clock); repetition i uses seed+i")
	crashRealLeases = flag.Bool("crash.real-leases", false,
		"between a kill and the restart, wait for the job and X account leases to run out in real time instead of "+
			"expiring them in the database (slow: the X account lease is 2 minutes)")
)

// The crash test's campaign: every tweet says the keyword, but the campaign leaves
// replies out, so each conversation is found once, by its root.
const (
	crashPerConv = 5
	crashKeyword = "nexusprobe"
)

// crashConversations is the size of the crash test: 300 conversations, 100 with
// -short, 60 with -race (the children are race-instrumented too, and SQLite in pure
// Go is several times slower so).
func crashConversations() int {
	switch {
	case raceEnabled():
		return 60
	case testing.Short():
		return 100
	}
	return 300
}

func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// TestCrashRecovery is issue 5's crash test: a listening run of 300 conversations of 5
// tweets, whose opportunities go to a webhook one by one and to Slack as a digest, is
// killed with SIGKILL at ten points (X requests, a webhook delivery or the digest in
// flight, right after a commit) and restarted each time: the first process is
// `nexus run --wait`, the next ones `nexus serve`, which pick the run up from the job
// table. The run must end succeeded with every tweet, conversation, analysis and
// delivery stored exactly once and nothing lost; a delivery cut off by a kill is sent
// again with the same X-Nexus-Delivery id, so the receiver can drop the copy.
//
// Between a kill and the restart the test expires the leases the dead process held
// (its jobs' and its X accounts'), as if their time had passed; -crash.real-leases
// waits for them instead. -crash.soak repeats the test 50 times with random points.
func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	n := crashConversations()
	if !*crashSoak {
		// One after the other: each keeps the two cores busy on its own.
		t.Run("spread", func(t *testing.T) {
			crashRun(t, n, defaultCrashPlan(n))
		})
		// Ten kills in a row while the search runs: each process stores a page or two
		// and dies on the next request. Neither the search job nor the thread jobs the
		// processes claimed (and never ran) may run out of attempts because of that.
		t.Run("searching", func(t *testing.T) {
			plan := make([]killPoint, 10)
			for i := range plan {
				plan[i] = killPoint{name: "second search request in flight", inFlight: nthRequest(xfake.OpSearchTimeline, 2)}
			}
			crashRun(t, n, plan)
		})
		return
	}
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	for i := range uint64(50) {
		t.Run(fmt.Sprintf("seed=%d", seed+i), func(t *testing.T) {
			crashRun(t, n, randomCrashPlan(n, seed+i))
		})
	}
}

// crashState is what the test sees of the run, counted from the database.
type crashState struct {
	runID         int64
	status        string
	searchPages   int
	searchDone    bool
	conversations int
	analyses      int
	openJobs      int
}

func (s crashState) active() bool {
	return s.runID == 0 || s.status == "queued" || s.status == "running"
}

// killPoint says when to kill a child. Either inFlight (checked on each request the
// child makes to X, the webhook or Slack; the answer to the one it picks never comes,
// so the kill lands while that request is in flight), or committed (checked on the
// rows, polled every 2ms; base is the state when the child started), or after.
type killPoint struct {
	name      string
	inFlight  func(op string, nth int) bool // nth: the child's nth request for op
	committed func(base, now crashState) bool
	after     time.Duration // committed points: kill this long after start, whatever the state
}

func nthRequest(op string, n int) func(string, int) bool {
	return func(o string, nth int) bool { return o == op && nth == n }
}

// Operations the kill hook sees besides X's: a webhook delivery and a Slack post.
const (
	opWebhook = "webhook"
	opSlack   = "slack"
)

func defaultCrashPlan(n int) []killPoint {
	return []killPoint{
		{name: "first search request in flight", inFlight: nthRequest(xfake.OpSearchTimeline, 1)},
		{name: "two search pages committed", committed: func(b, s crashState) bool { return s.searchPages >= b.searchPages+2 }},
		{name: "third search request in flight", inFlight: nthRequest(xfake.OpSearchTimeline, 3)},
		{name: "third thread request in flight", inFlight: nthRequest(xfake.OpTweetDetail, 3)},
		{name: "search finished", committed: func(b, s crashState) bool { return s.searchDone }},
		{name: fmt.Sprintf("%d more conversations committed", n/8), committed: func(b, s crashState) bool { return s.conversations >= b.conversations+n/8 }},
		{name: fmt.Sprintf("thread request %d in flight", n/12), inFlight: nthRequest(xfake.OpTweetDetail, n/12)},
		{name: "fifth webhook delivery in flight", inFlight: nthRequest(opWebhook, 5)},
		{name: "last analysis committed", committed: func(b, s crashState) bool { return s.analyses >= n }},
		{name: "digest in flight", inFlight: nthRequest(opSlack, 1)},
	}
}

// randomCrashPlan draws ten points: the first three while the search still runs (it
// starts over after each restart, so it cannot finish in between), the others anywhere,
// some right at start-up (while the restarted process opens the database and requeues).
func randomCrashPlan(n int, seed uint64) []killPoint {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var plan []killPoint
	for range 3 {
		n := 1 + rng.IntN(8)
		plan = append(plan, killPoint{name: fmt.Sprintf("search request %d in flight", n), inFlight: nthRequest(xfake.OpSearchTimeline, n)})
	}
	for range 6 {
		switch k, n := rng.IntN(6), 1+rng.IntN(n/5); k {
		case 5:
			n = 1 + rng.IntN(10)
			plan = append(plan, killPoint{name: fmt.Sprintf("webhook delivery %d in flight", n), inFlight: nthRequest(opWebhook, n)})
		case 0:
			plan = append(plan, killPoint{name: fmt.Sprintf("thread request %d in flight", n), inFlight: nthRequest(xfake.OpTweetDetail, n)})
		case 1:
			plan = append(plan, killPoint{name: fmt.Sprintf("%d more conversations committed", n),
				committed: func(b, s crashState) bool { return s.conversations >= b.conversations+n }})
		case 2:
			plan = append(plan, killPoint{name: fmt.Sprintf("%d more analyses committed", n),
				committed: func(b, s crashState) bool { return s.analyses >= b.analyses+n }})
		case 3:
			d := time.Duration(rng.IntN(400)) * time.Millisecond
			plan = append(plan, killPoint{name: fmt.Sprintf("%v after start", d), after: d,
				committed: func(b, s crashState) bool { return false }})
		default:
			plan = append(plan, killPoint{name: "search finished", committed: func(b, s crashState) bool { return s.searchDone }})
		}
	}
	if rng.IntN(2) == 0 {
		return append(plan, killPoint{name: "digest in flight", inFlight: nthRequest(opSlack, 1)})
	}
	return append(plan, killPoint{name: "last analysis committed",
		committed: func(b, s crashState) bool { return s.analyses >= n }})
}

// crashHook sees every request the child makes to X, the webhook and Slack, and holds
// back the one where the armed point says to kill: its answer never comes.
type crashHook struct {
	mu    sync.Mutex
	point *killPoint
	seen  map[string]int // requests per operation since the child started
	fired chan string
}

func (h *crashHook) arm(p *killPoint) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.point, h.seen, h.fired = p, map[string]int{}, make(chan string, 1)
}

// request counts a request of op and reports whether to hold it, telling the test to
// kill the child now.
func (h *crashHook) request(op string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen == nil {
		return false
	}
	h.seen[op]++
	if h.point == nil || h.point.inFlight == nil || !h.point.inFlight(op, h.seen[op]) {
		return false
	}
	h.fired <- fmt.Sprintf("%s request %d in flight", op, h.seen[op])
	h.point = nil
	return true
}

// match is request for the fake X (see xfake.InjectFault).
func (h *crashHook) match(r xfake.Request) bool { return h.request(r.Operation) }

// crashReceiver is a webhook or Slack endpoint: it answers 200 and records what it got.
type crashReceiver struct {
	op   string
	hook *crashHook
	mu   sync.Mutex
	ids  map[string]int // X-Nexus-Delivery id -> requests
	n    int
}

func (rc *crashReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	if rc.hook.request(rc.op) {
		select { // held until the killed child's connection closes
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
		return
	}
	rc.mu.Lock()
	rc.n++
	if id := r.Header.Get("X-Nexus-Delivery"); id != "" {
		rc.ids[id]++
	}
	rc.mu.Unlock()
	w.Write([]byte("ok"))
}

// crashChild is one nexus process of the test.
type crashChild struct {
	cmd    *exec.Cmd
	out    bytes.Buffer
	exited chan error
}

func crashRun(t *testing.T, nConv int, plan []killPoint) {
	x := xfake.New(xfake.WithRateLimit(xfake.OpSearchTimeline, xfake.Limit{}), xfake.WithRateLimit(xfake.OpTweetDetail, xfake.Limit{}),
		xfake.WithPromoted(false))
	defer x.Close()
	x.AddAccount("tok-a", "ct0-a")
	x.AddAccount("tok-b", "ct0-b")
	base := time.Now().Add(-time.Hour)
	want := map[string]bool{} // conversation ids
	for i := range nConv {
		at := base.Add(time.Duration(i) * time.Second)
		// A third of the roots ask for advice, which makes them opportunities (for the
		// heuristic analyzer); the others only mention the keyword.
		text := fmt.Sprintf("shipped our %s integration today, build %d", crashKeyword, i)
		if i%3 == 0 {
			text = fmt.Sprintf("anyone tried %s? looking for a recommendation (%d)", crashKeyword, i)
		}
		root := x.AddTweet(xfake.Tweet{Text: text, CreatedAt: at})
		want[root.ID] = true
		parent := root.ID
		for j := 1; j < crashPerConv; j++ {
			r := x.AddTweet(xfake.Tweet{Text: fmt.Sprintf("reply %d: %s works for me (%d)", j, crashKeyword, i), InReplyToID: parent,
				CreatedAt: at.Add(time.Duration(j) * time.Millisecond)})
			if j%2 == 0 {
				parent = r.ID
			}
		}
	}
	hook := &crashHook{}
	hooks := &crashReceiver{op: opWebhook, hook: hook, ids: map[string]int{}}
	slackFake := &crashReceiver{op: opSlack, hook: hook, ids: map[string]int{}}
	hookSrv, slackSrv := httptest.NewServer(hooks), httptest.NewServer(slackFake)
	defer hookSrv.Close()
	defer slackSrv.Close()
	// The hook comes first: the first matching rule answers. The small delays stretch
	// the run over a second or two, so the points land at distinct moments.
	x.InjectFault(hook.match, xfake.Fault{Name: "held for the kill", Delay: time.Minute}, 0)
	x.InjectFault(xfake.OnOperation(xfake.OpSearchTimeline), xfake.Fault{Name: "slow search", Delay: 10 * time.Millisecond}, 0)
	x.InjectFault(xfake.OnOperation(xfake.OpTweetDetail), xfake.Fault{Name: "slow thread", Delay: 3 * time.Millisecond}, 0)

	dir := t.TempDir()
	for _, a := range []string{"a", "b"} {
		if code, _, stderr := runCLIWithX(t, dir, x, "", "accounts", "add", "acct-"+a, "--cookies", fmt.Sprintf("auth_token=tok-%s; ct0=ct0-%s", a, a)); code != 0 {
			t.Fatalf("accounts add: %s", stderr)
		}
	}
	campaign := fmt.Sprintf(`{"name": "probe", "keywords": [%q], "lookback_hours": 24, "threshold": 70,
		"routes": [{"integration": "webhook", "mode": "instant"}, {"integration": "slack", "mode": "digest"}]}`, crashKeyword)
	if code, _, stderr := runCLIWithX(t, dir, x, campaign, "campaigns", "create", "--file", "-"); code != 0 {
		t.Fatalf("campaigns create: %s", stderr)
	}
	crashIntegrations(t, filepath.Join(dir, "data"), hookSrv.URL, slackSrv.URL)
	dbPath := filepath.Join(dir, "data", "nexus.db")
	// A reader beside the children: WAL lets it read while they write, and it stays
	// open across their deaths, as a second process on the same file would.
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(10000)&_pragma=query_only(ON)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	env := []string{"NEXUS_DATA_DIR=" + filepath.Join(dir, "data"), "NEXUS_X_API_BASE=" + x.URL(), "NEXUS_X_WEB_BASE=" + x.RootURL(),
		"NEXUS_X_TRANSACTION_ID=off", "NEXUS_SERVER_ADDR=127.0.0.1:0", "NEXUS_LLM_PROVIDER=heuristic", "NEXUS_WORKERS_CONCURRENCY=4",
		"NEXUS_LOG_FORMAT=json", "NEXUS_DELIVERY_ALLOW_PRIVATE_TARGETS=true"}
	start := func(args ...string) *crashChild {
		t.Helper()
		c := &crashChild{cmd: nexusProcess(dir, env, args...), exited: make(chan error, 1)}
		c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { c.exited <- c.cmd.Wait() }()
		return c
	}
	started := time.Now()
	var killed []string
	var alive *crashChild // the child not killed, if any
	for i := range plan {
		p := &plan[i]
		args := []string{"serve"}
		if i == 0 {
			args = []string{"run", "probe", "--wait"}
		}
		baseState := crashReadState(t, db)
		hook.arm(p)
		child := start(args...)
		alive = child
		what, finished := crashWatch(t, db, hook, p, baseState, child)
		hook.arm(nil)
		if finished {
			t.Logf("the run finished before kill point %d (%s)", i+1, p.name)
			break
		}
		killed = append(killed, fmt.Sprintf("%d. %s: %s", i+1, p.name, what))
		if err := child.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Fatal(err)
		}
		err := <-child.exited
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("kill point %d (%s): the child was not killed but ended: %v\n%s", i+1, p.name, err, tail(child.out.String(), 3000))
		}
		alive = nil
		if !*crashRealLeases {
			crashExpireLeases(t, dbPath)
		}
	}
	t.Logf("killed %d times in %v:\n%s", len(killed), time.Since(started).Round(time.Millisecond), strings.Join(killed, "\n"))

	// The last restart finishes the run, then stops cleanly.
	last := alive
	if last == nil {
		last = start("serve")
	}
	deadline := time.Now().Add(2 * time.Minute)
	if *crashRealLeases {
		deadline = time.Now().Add(10 * time.Minute)
	}
	for crashReadState(t, db).active() {
		select {
		case err := <-last.exited:
			t.Fatalf("serve ended before the run did: %v\n%s", err, tail(last.out.String(), 3000))
		default:
		}
		if time.Now().After(deadline) {
			last.cmd.Process.Kill()
			t.Fatalf("the run did not finish after the last restart: %+v\n%s", crashReadState(t, db), tail(last.out.String(), 3000))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if last.cmd.Args[1] == "serve" {
		last.cmd.Process.Signal(syscall.SIGTERM)
	} // else `nexus run --wait`, which ends with the run
	select {
	case err, ok := <-last.exited:
		if !ok {
			break // already seen to end
		}
		if err != nil {
			t.Errorf("%s did not end cleanly: %v\n%s", last.cmd.Args[1], err, tail(last.out.String(), 3000))
		}
	case <-time.After(40 * time.Second):
		last.cmd.Process.Kill()
		t.Errorf("%s did not stop within 40s", last.cmd.Args[1])
	}
	t.Logf("run finished %v after the first start; %d search and %d thread requests to X",
		time.Since(started).Round(time.Millisecond), x.Count(xfake.OpSearchTimeline), x.Count(xfake.OpTweetDetail))

	crashCheck(t, db, nConv, want)
	crashCheckDeliveries(t, db, hooks, slackFake, len(killed))
	if len(killed) < len(plan) && !*crashSoak {
		t.Errorf("only %d of the %d kill points were reached", len(killed), len(plan))
	}

	if t.Failed() {
		return
	}
	// The state the crashes left is a sound base for the next run: nothing new on X is
	// one search request and no analysis.
	searches := x.Count(xfake.OpSearchTimeline)
	analyses := crashCount(t, db, `SELECT COUNT(*) FROM analyses`)
	if code, _, stderr := runCLIWithX(t, dir, x, "", "run", "probe", "--wait"); code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, tail(stderr, 3000))
	}
	if n := x.Count(xfake.OpSearchTimeline) - searches; n != 1 {
		t.Errorf("the second run made %d search requests, want 1", n)
	}
	if n := crashCount(t, db, `SELECT COUNT(*) FROM analyses`) - analyses; n != 0 {
		t.Errorf("the second run made %d analyses, want 0", n)
	}
}

// crashWatch waits for the child to reach p and returns what it hit, or finished when
// the run ended first.
func crashWatch(t *testing.T, db *sql.DB, hook *crashHook, p *killPoint, base crashState, child *crashChild) (string, bool) {
	t.Helper()
	hook.mu.Lock()
	fired := hook.fired
	hook.mu.Unlock()
	begun := time.Now()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case what := <-fired:
			return what, false
		case err := <-child.exited:
			if err == nil && !crashReadState(t, db).active() {
				close(child.exited) // `nexus run --wait` saw the run end
				return "", true
			}
			t.Fatalf("kill point %q: the child exited by itself: %v\n%s", p.name, err, tail(child.out.String(), 3000))
		case <-tick.C:
		}
		if p.after > 0 && time.Since(begun) >= p.after {
			return "killed at start-up", false
		}
		s := crashReadState(t, db)
		if p.committed != nil && p.committed(base, s) {
			return fmt.Sprintf("search pages %d (done %v), conversations %d, analyses %d, open jobs %d",
				s.searchPages, s.searchDone, s.conversations, s.analyses, s.openJobs), false
		}
		if !s.active() {
			return "", true
		}
		if time.Since(begun) > 90*time.Second {
			child.cmd.Process.Kill()
			t.Fatalf("kill point %q not reached in 90s: %+v\n%s", p.name, s, tail(child.out.String(), 3000))
		}
	}
}

func crashReadState(t *testing.T, db *sql.DB) crashState {
	t.Helper()
	var s crashState
	err := db.QueryRow(`SELECT r.id, r.status, r.search_pages, r.search_done,
			(SELECT COUNT(*) FROM conversations), (SELECT COUNT(*) FROM analyses),
			(SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running'))
		FROM runs r ORDER BY r.id LIMIT 1`).
		Scan(&s.runID, &s.status, &s.searchPages, &s.searchDone, &s.conversations, &s.analyses, &s.openJobs)
	if errors.Is(err, sql.ErrNoRows) {
		return crashState{}
	}
	if err != nil {
		t.Fatalf("read the run's state: %v", err)
	}
	return s
}

// crashExpireLeases does to the file what time would: the dead process's job leases
// (30s) and X account leases (5m) run out.
func crashExpireLeases(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`UPDATE jobs SET lease_until = 1 WHERE state = 'running'`,
		`UPDATE x_account_ops SET in_use_until = NULL`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func crashCount(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// crashCheck is the acceptance: one succeeded run; every tweet, conversation and
// analysis exactly once; no conversation lost; no job left over or given up.
func crashCheck(t *testing.T, db *sql.DB, nConv int, want map[string]bool) {
	t.Helper()
	var status, runErr string
	var tweetsFound int
	if err := db.QueryRow(`SELECT status, error, tweets_found FROM runs ORDER BY id LIMIT 1`).Scan(&status, &runErr, &tweetsFound); err != nil {
		t.Fatal(err)
	}
	if status != "succeeded" || runErr != "" {
		t.Errorf("run %s, error %q; want succeeded", status, runErr)
	}
	if tweetsFound != nConv {
		// tweets_found adds up the search pages saved: more than the hits means a page
		// was saved twice, fewer that the search stopped early.
		t.Logf("tweets_found %d for %d hits", tweetsFound, nConv)
	}
	checks := []struct {
		what string
		q    string
		want int
	}{
		{"tweets", `SELECT COUNT(*) FROM tweets`, nConv * crashPerConv},
		{"distinct tweet ids", `SELECT COUNT(DISTINCT id) FROM tweets`, nConv * crashPerConv},
		{"campaign hits", `SELECT COUNT(*) FROM campaign_tweets`, nConv},
		{"conversations", `SELECT COUNT(*) FROM conversations`, nConv},
		{"whole conversations", `SELECT COUNT(*) FROM conversations WHERE tweet_count = ? AND complete`, nConv},
		{"analyses", `SELECT COUNT(*) FROM analyses`, nConv},
		{"conversations with one ok analysis", `SELECT COUNT(*) FROM (SELECT conversation_id FROM analyses WHERE status = 'ok'
			GROUP BY conversation_id HAVING COUNT(*) = 1)`, nConv},
		{"conversations analysed as they are", `SELECT COUNT(*) FROM conversations WHERE analyzed_hash = content_hash`, nConv},
		{"search jobs", `SELECT COUNT(*) FROM jobs WHERE kind = 'search'`, 1},
		{"thread jobs", `SELECT COUNT(*) FROM jobs WHERE kind = 'thread'`, nConv},
		{"analysis jobs", `SELECT COUNT(*) FROM jobs WHERE kind = 'analyze'`, nConv},
		{"jobs not done", `SELECT COUNT(*) FROM jobs WHERE state != 'done'`, 0},
	}
	for _, c := range checks {
		var args []any
		if strings.Contains(c.q, "?") {
			args = append(args, crashPerConv)
		}
		if got := crashCount(t, db, c.q, args...); got != c.want {
			t.Errorf("%s: %d, want %d", c.what, got, c.want)
		}
	}
	rows, err := db.Query(`SELECT conversation_id FROM conversations`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		if !want[id] {
			t.Errorf("conversation %s was not on X", id)
		}
		got[id] = true
	}
	lost := 0
	for id := range want {
		if !got[id] {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d conversations lost", lost)
	}
	var jobs strings.Builder
	r2, err := db.Query(`SELECT kind, state, COUNT(*), MAX(attempts) FROM jobs GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	for r2.Next() {
		var kind, state string
		var n, attempts int
		r2.Scan(&kind, &state, &n, &attempts)
		fmt.Fprintf(&jobs, " %s/%s %d (max attempts %d);", kind, state, n, attempts)
	}
	t.Logf("jobs:%s", jobs.String())
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// crashIntegrations configures the organization's webhook and Slack (an incoming
// webhook) to point at the test's receivers, as PUT /integrations/... would.
func crashIntegrations(t *testing.T, dataDir, webhookURL, slackURL string) {
	t.Helper()
	ctx := t.Context()
	cfg := DefaultConfig()
	cfg.DataDir = dataDir
	st, err := openStore(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	orgs, err := st.Organizations(ctx)
	if err != nil || len(orgs) != 1 {
		t.Fatalf("organizations: %v, %v", orgs, err)
	}
	for kind, config := range map[string]string{
		"webhook": fmt.Sprintf(`{"url": %q, "secret": "crash-test-secret", "format": "json"}`, webhookURL),
		"slack":   fmt.Sprintf(`{"webhook_url": %q}`, slackURL),
	} {
		if err := st.SetIntegration(ctx, orgs[0].ID, kind, []byte(config), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
}

// crashCheckDeliveries: one delivery row per opportunity and route, each sent; the
// webhook got every one (a copy only for a delivery a kill cut off, with the same
// id), and the digest arrived.
func crashCheckDeliveries(t *testing.T, db *sql.DB, hooks, slackFake *crashReceiver, kills int) {
	t.Helper()
	opps := crashCount(t, db, `SELECT COUNT(*) FROM opportunities`)
	if opps == 0 {
		t.Fatal("no opportunity: the deliveries were not exercised")
	}
	checks := []struct {
		what string
		q    string
		want int
	}{
		{"webhook deliveries", `SELECT COUNT(*) FROM deliveries WHERE integration = 'webhook' AND mode = 'instant'`, opps},
		{"digest deliveries", `SELECT COUNT(*) FROM deliveries WHERE integration = 'slack' AND mode = 'digest'`, opps},
		{"deliveries not sent", `SELECT COUNT(*) FROM deliveries WHERE state != 'sent'`, 0},
		{"deliver jobs", `SELECT COUNT(*) FROM jobs WHERE kind = 'deliver'`, opps},
		{"digest jobs", `SELECT COUNT(*) FROM jobs WHERE kind = 'digest'`, 1},
	}
	for _, c := range checks {
		if got := crashCount(t, db, c.q); got != c.want {
			t.Errorf("%s: %d, want %d", c.what, got, c.want)
		}
	}
	hooks.mu.Lock()
	defer hooks.mu.Unlock()
	copies := 0
	for _, n := range hooks.ids {
		copies += n - 1
	}
	if len(hooks.ids) != opps {
		t.Errorf("the webhook received %d distinct deliveries for %d opportunities", len(hooks.ids), opps)
	}
	// A copy is a delivery sent but not yet recorded when its process died: at most
	// the jobs one process holds at a time (4 workers and 8 prefetched) per kill.
	if copies > 12*kills {
		t.Errorf("the webhook received %d copies over %d kills", copies, kills)
	}
	slackFake.mu.Lock()
	defer slackFake.mu.Unlock()
	if slackFake.n == 0 {
		t.Error("no digest reached Slack")
	}
	t.Logf("%d opportunities; webhook: %d requests, %d copies; Slack digest: %d posts", opps, hooks.n, copies, slackFake.n)
}
