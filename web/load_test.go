package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"nexus/pipeline"
	"nexus/pipeline/analyze/providers"
	"nexus/scraper"
	"nexus/scraper/xfake"
	"nexus/store"
)

// The flags of TestAPILoad. -load selects the full size; the others tune it.
var (
	loadFull  = flag.Bool("load", false, "run TestAPILoad at full size: 100,000 stored tweets, 200 clients for 20 s while a run is in progress")
	loadThink = flag.Duration("load.think", time.Second,
		"TestAPILoad -load: each client's mean pause between two requests (exponential); 0 sends the next at once, which measures saturation")
	loadXLatency = flag.Duration("load.xlatency", 100*time.Millisecond,
		"TestAPILoad -load: how long the fake X takes to answer; 0 lets the run take all the CPU it can")
	loadReaders = flag.Int("load.readers", 0, "TestAPILoad: size of the store's read pool; 0 is the store's default")
)

// loadSize is how big TestAPILoad is.
type loadSize struct {
	seed        seedOptions
	clients     int
	duration    time.Duration
	maxRequests int64
	runConvs    int           // conversations the run in progress finds on the fake X
	runPerConv  int           // tweets in each of them
	xLatency    time.Duration // the fake X's time to answer
}

var (
	// loadShort runs in every `go test`: cheap, and it still proves that every
	// endpoint answers a well-formed 200 while a run writes.
	loadShort = loadSize{seed: seedOptions{Campaigns: 2, Conversations: 500, Replies: 4, Days: 30},
		clients: 50, duration: 2 * time.Second, maxRequests: 100_000, runConvs: 300, runPerConv: 5,
		xLatency: 50 * time.Millisecond}
	// loadRace is the short mode under the race detector, which makes the pure-Go
	// SQLite nearly ten times slower: a tenth of the data, fewer clients, one second.
	loadRace = loadSize{seed: seedOptions{Campaigns: 2, Conversations: 50, Replies: 4, Days: 30},
		clients: 20, duration: time.Second, maxRequests: 10_000, runConvs: 100, runPerConv: 5,
		xLatency: 50 * time.Millisecond}
	// loadFullSize is the figure: 100,000 stored tweets (benchData's seed),
	// 200 clients, and a run big enough to outlast the load.
	loadFullSize = loadSize{seed: seedOptions{Campaigns: 4, Conversations: 5000, Replies: 4, Days: 60},
		clients: 200, duration: 20 * time.Second, maxRequests: 2_000_000, runConvs: 4000, runPerConv: 10,
		xLatency: 100 * time.Millisecond}
)

// loadP99 is the target of the full mode.
const loadP99 = 50 * time.Millisecond

// loadEnv is one seeded organization behind the real handler, with an API token, and
// optionally a real runner and worker pool listening on a fake X.
type loadEnv struct {
	st     *store.Store
	srv    *Server
	org    store.Organization
	token  string
	seeded seeded
	probe  store.Campaign // the campaign that runs during the load; zero without a runner
	pool   *pipeline.Pool
	active int64 // the run in progress during the load, once started
}

func newLoadEnv(tb testing.TB, size loadSize, withRun bool) *loadEnv {
	tb.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(tb.TempDir(), "nexus.db"), store.Options{Secret: []byte("0123456789abcdef0123456789abcdef"),
		Readers: *loadReaders})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	e := &loadEnv{st: st}
	hash, _ := store.HashPassword(testPassword)
	org, admin, err := st.Setup(ctx, "Acme", "admin@acme.test", hash)
	if err != nil {
		tb.Fatal(err)
	}
	e.org = org
	if _, e.token, err = st.CreateToken(ctx, org.ID, admin.ID, "load", nil); err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	e.seeded = seedStore(tb, st, org.ID, size.seed)
	tb.Logf("seeded %d tweets in %d conversations in %s", e.seeded.Tweets, size.seed.Campaigns*size.seed.Conversations,
		time.Since(start).Round(100*time.Millisecond))

	// Requests are logged as in production (a JSON line each), to a sink rather than
	// a terminal.
	opts := Options{Log: zerolog.New(io.Discard), Store: st, BodyLimit: 1 << 20}
	if withRun {
		opts.Runs = e.startPipeline(tb, size)
	}
	if e.srv, err = New(opts); err != nil {
		tb.Fatal(err)
	}
	return e
}

// startPipeline wires a runner and a pool of four workers (workers.concurrency's
// default) the way app/serve.go does, against a fake X that holds the conversations
// of the probe campaign, and returns the runner.
func (e *loadEnv) startPipeline(tb testing.TB, size loadSize) *pipeline.Runner {
	ctx := context.Background()
	x := xfake.New(xfake.WithRateLimit(xfake.OpSearchTimeline, xfake.Limit{}), xfake.WithRateLimit(xfake.OpTweetDetail, xfake.Limit{}),
		xfake.WithPromoted(false))
	tb.Cleanup(x.Close)
	if size.xLatency > 0 {
		// X takes its time to answer, as it does over the Internet: the run's four
		// workers then write a few dozen threads and analyses a second, the pace of a
		// busy real run, instead of spinning on a loopback fake that answers at once.
		x.InjectFault(nil, xfake.Fault{Name: "latency", Delay: size.xLatency}, 0)
	}
	base := time.Now().Add(-time.Hour)
	for i := range size.runConvs {
		root := x.AddTweet(xfake.Tweet{Text: fmt.Sprintf("anyone comparing nexusprobe with the others? thread %d", i),
			CreatedAt: base.Add(time.Duration(i) * time.Second)})
		parent := root.ID
		for j := 1; j < size.runPerConv; j++ {
			r := x.AddTweet(xfake.Tweet{Text: fmt.Sprintf("reply %d to %d: pricing matters most", j, i), InReplyToID: parent,
				CreatedAt: base.Add(time.Duration(i)*time.Second + time.Duration(j)*time.Millisecond)})
			if j%3 == 0 {
				parent = r.ID
			}
		}
	}
	for _, tok := range []string{"a", "b"} {
		x.AddAccount("tok-"+tok, "ct0-"+tok)
		if _, err := e.st.AddXAccount(ctx, e.org.ID, "acct-"+tok, []byte(fmt.Sprintf(`{"auth_token":"tok-%s","ct0":"ct0-%s"}`, tok, tok)), "", "UA"); err != nil {
			tb.Fatal(err)
		}
	}
	var err error
	e.probe, err = e.st.CreateCampaign(ctx, store.Campaign{OrgID: e.org.ID, Name: "Probe", Keywords: []string{"nexusprobe"}, Match: "any",
		Threshold: 50, LookbackHours: 24})
	if err != nil {
		tb.Fatal(err)
	}
	analyzer, err := providers.New(providers.Config{Provider: providers.Heuristic}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	runner := pipeline.NewRunner(pipeline.RunnerOptions{Store: e.st, Analyzer: analyzer, Log: zerolog.Nop(),
		NewClient: func(accounts scraper.AccountStore) (*scraper.Client, error) {
			return scraper.New(scraper.Options{APIBase: x.URL(), WebBase: x.RootURL(), TransactionID: "off", Accounts: accounts,
				Log: zerolog.Nop(), WaitForAccount: time.Minute})
		},
		Wake: func() { e.pool.Wake() },
	})
	e.pool = pipeline.NewPool(e.st, pipeline.PoolOptions{Size: 4, Handlers: runner.Handlers()}, zerolog.Nop())
	e.pool.Start(ctx)
	watch, stop := context.WithCancel(ctx)
	go runner.Watch(watch, 100*time.Millisecond)
	tb.Cleanup(func() {
		stop()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		e.pool.Stop(sctx)
	})
	return runner
}

// loadEndpoint is one kind of request the clients send.
type loadEndpoint struct {
	name   string
	weight int
	// path picks the request's path and query; check is given its answer's body and
	// says what is wrong with it.
	path func(r *rand.Rand) (string, func(body []byte) error)
}

// endpoints are the list and detail reads a team's browsers and scripts make, over
// ids that exist, with deep pages as often as first ones.
func (e *loadEnv) endpoints(tb testing.TB) []loadEndpoint {
	ctx := context.Background()
	facts, err := e.st.ConversationFacts(ctx, e.org.ID, 0, 1<<30)
	if err != nil {
		tb.Fatal(err)
	}
	campaigns := e.seeded.Campaigns
	nConvs := map[int64]int{}
	for _, f := range facts {
		nConvs[f.CampaignID]++
	}
	var runIDs []int64
	for _, c := range campaigns {
		rs, err := e.st.Runs(ctx, e.org.ID, c.ID, 1<<20)
		if err != nil {
			tb.Fatal(err)
		}
		for _, r := range rs {
			runIDs = append(runIDs, r.ID)
		}
	}
	countOpps := func(f store.OpportunityFilter) int {
		n, err := e.st.CountOpportunities(ctx, e.org.ID, f)
		if err != nil {
			tb.Fatal(err)
		}
		return n
	}
	allOpps := countOpps(store.OpportunityFilter{})
	oppsOf := map[int64]int{}
	for _, c := range campaigns {
		oppsOf[c.ID] = countOpps(store.OpportunityFilter{CampaignID: c.ID})
	}
	nCampaigns := len(campaigns)
	nAccounts := 0
	if e.probe.ID != 0 {
		nCampaigns++
		nAccounts = 2
	}
	camp := func(r *rand.Rand) store.Campaign { return campaigns[r.IntN(len(campaigns))] }
	// page is a first page one time in three and any page of n rows otherwise; want is
	// how many rows it holds at least (rows are only ever added during the load).
	page := func(r *rand.Rand, n, limit int) (offset, want int) {
		if r.IntN(3) > 0 && n > 0 {
			offset = r.IntN(n)
		}
		return offset, min(limit, n-offset)
	}
	return []loadEndpoint{
		{"GET /conversations/:id", 20, func(r *rand.Rand) (string, func([]byte) error) {
			f := facts[r.IntN(len(facts))]
			return fmt.Sprintf("/api/v1/conversations/%d", f.ID), func(b []byte) error {
				var v struct {
					Conversation struct {
						ID         int64 `json:"id"`
						CampaignID int64 `json:"campaign_id"`
					} `json:"conversation"`
					Thread   []struct{ Tweet json.RawMessage } `json:"thread"`
					Analyses []json.RawMessage                 `json:"analyses"`
				}
				if err := decodeLoad(b, &v); err != nil {
					return err
				}
				if v.Conversation.ID != f.ID || v.Conversation.CampaignID != f.CampaignID || len(v.Thread) == 0 || len(v.Analyses) == 0 {
					return fmt.Errorf("conversation %d: got id %d, %d tweets, %d analyses", f.ID, v.Conversation.ID, len(v.Thread), len(v.Analyses))
				}
				return nil
			}
		}},
		{"GET /opportunities", 8, func(r *rand.Rand) (string, func([]byte) error) {
			return "/api/v1/opportunities", listOf("opportunities", min(100, allOpps), 100)
		}},
		{"GET /opportunities?sort=newest&offset=", 8, func(r *rand.Rand) (string, func([]byte) error) {
			off, want := page(r, allOpps, 50)
			return fmt.Sprintf("/api/v1/opportunities?sort=newest&limit=50&offset=%d", off), listOf("opportunities", want, 50)
		}},
		{"GET /opportunities?campaign_id=&status=&min_relevance=", 8, func(r *rand.Rand) (string, func([]byte) error) {
			c := camp(r)
			return fmt.Sprintf("/api/v1/opportunities?campaign_id=%d&status=new&min_relevance=80&limit=25", c.ID), listOf("opportunities", 1, 25)
		}},
		{"GET /campaigns/:id/conversations", 15, func(r *rand.Rand) (string, func([]byte) error) {
			c := camp(r)
			off, want := page(r, nConvs[c.ID], 50)
			if e.probe.ID != 0 && r.IntN(5) == 0 {
				// The campaign that is being written to, newest page first.
				return fmt.Sprintf("/api/v1/campaigns/%d/conversations?limit=50", e.probe.ID), listOf("conversations", 0, 50)
			}
			return fmt.Sprintf("/api/v1/campaigns/%d/conversations?limit=50&offset=%d", c.ID, off), listOf("conversations", want, 50)
		}},
		{"GET /campaigns/:id/opportunities", 10, func(r *rand.Rand) (string, func([]byte) error) {
			c := camp(r)
			off, want := page(r, oppsOf[c.ID], 50)
			return fmt.Sprintf("/api/v1/campaigns/%d/opportunities?limit=50&offset=%d", c.ID, off), listOf("opportunities", want, 50)
		}},
		{"GET /campaigns", 5, func(r *rand.Rand) (string, func([]byte) error) {
			return "/api/v1/campaigns", listOf("campaigns", nCampaigns, nCampaigns)
		}},
		{"GET /campaigns/:id", 5, func(r *rand.Rand) (string, func([]byte) error) {
			c := camp(r)
			return fmt.Sprintf("/api/v1/campaigns/%d", c.ID), objectWithID(c.ID)
		}},
		{"GET /runs/:id", 10, func(r *rand.Rand) (string, func([]byte) error) {
			id := runIDs[r.IntN(len(runIDs))]
			if e.active != 0 && r.IntN(2) == 0 {
				id = e.active // the progress of the run in progress, as the UI polls it
			}
			return fmt.Sprintf("/api/v1/runs/%d", id), objectWithID(id)
		}},
		{"GET /campaigns/:id/runs", 5, func(r *rand.Rand) (string, func([]byte) error) {
			c := camp(r)
			return fmt.Sprintf("/api/v1/campaigns/%d/runs", c.ID), listOf("runs", 1, 50)
		}},
		{"GET /accounts", 3, func(r *rand.Rand) (string, func([]byte) error) {
			return "/api/v1/accounts", listOf("accounts", nAccounts, nAccounts)
		}},
	}
}

// decodeLoad decodes an answer strictly enough to catch a cut or malformed body.
func decodeLoad(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if d.More() {
		return errors.New("decode: trailing data")
	}
	return nil
}

// listOf checks {"<key>": [objects with an id]} with between least and most of them.
func listOf(key string, least, most int) func([]byte) error {
	return func(b []byte) error {
		var v map[string][]struct {
			ID int64 `json:"id"`
		}
		if err := decodeLoad(b, &v); err != nil {
			return err
		}
		items, ok := v[key]
		if !ok || items == nil {
			return fmt.Errorf("no %q list in %.200s", key, b)
		}
		if len(items) < least || len(items) > most {
			return fmt.Errorf("%d %s, want %d to %d", len(items), key, least, most)
		}
		for _, it := range items {
			if it.ID == 0 {
				return fmt.Errorf("a %s entry without an id", key)
			}
		}
		return nil
	}
}

// objectWithID checks an object whose "id" is id.
func objectWithID(id int64) func([]byte) error {
	return func(b []byte) error {
		var v struct {
			ID int64 `json:"id"`
		}
		if err := decodeLoad(b, &v); err != nil {
			return err
		}
		if v.ID != id {
			return fmt.Errorf("id %d, want %d", v.ID, id)
		}
		return nil
	}
}

// loadStats are the latencies of one client, per endpoint, and its errors.
type loadStats struct {
	lat    [][]time.Duration
	errors []int
	first  []string // the first few error messages
}

// TestAPILoad drives the API with concurrent clients over loopback while a listening
// run writes to the same database, and reports throughput and latency percentiles
// per endpoint. Every answer must be a 200 with a well-formed body of the expected
// shape. The short mode runs in every `go test`; the full size asserts the p99
// target too:
//
//	go test ./web -run TestAPILoad -load -v -timeout 30m
//
// In the full size each client pauses a second on average between its requests (a
// person or a script polling; 200 clients ask about 200 requests a second), and the
// fake X answers in 100 ms, so that the run writes at the pace of a busy real one.
// -load.think=0 measures saturation instead, and -load.xlatency=0 lets the run take
// all the CPU it can.
func TestAPILoad(t *testing.T) {
	size, think := loadShort, time.Duration(0)
	if raceEnabled {
		size = loadRace
	}
	if *loadFull {
		size, think = loadFullSize, *loadThink
		size.xLatency = *loadXLatency
	} else if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	e := newLoadEnv(t, size, true)
	ts := httptest.NewServer(e.srv.Handler())
	defer ts.Close()
	// One transport for every client, with a kept-alive connection each, as a fleet
	// of browsers behind a proxy would hold.
	tr := &http.Transport{MaxIdleConns: size.clients, MaxIdleConnsPerHost: size.clients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx := context.Background()
	eps := e.endpoints(t)

	// The run starts through the API, just before the load, so that its searches,
	// thread saves and analyses compete with the reads for the database.
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/campaigns/%d/runs", ts.URL, e.probe.ID), nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var run store.Run
	json.NewDecoder(resp.Body).Decode(&run)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || run.ID == 0 {
		t.Fatalf("start run: status %d, %+v", resp.StatusCode, run)
	}
	e.active = run.ID
	if r, err := e.st.Run(ctx, e.org.ID, run.ID); err != nil || !r.Active() {
		t.Fatalf("the run is not in progress when the load starts: %+v, %v", r, err)
	}

	var picks []int // endpoint index by weight
	for i, ep := range eps {
		for range ep.weight {
			picks = append(picks, i)
		}
	}
	var issued atomic.Int64
	lctx, stop := context.WithTimeout(ctx, size.duration)
	defer stop()
	// The watcher notes when the run ends, if it does during the load.
	var runEnded atomic.Int64 // nanoseconds into the load; 0 while the run is active
	start, cpu0 := time.Now(), cpuTime()
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-lctx.Done():
				return
			case <-tick.C:
				if r, err := e.st.Run(ctx, e.org.ID, run.ID); err == nil && !r.Active() {
					runEnded.Store(int64(time.Since(start)))
					return
				}
			}
		}
	}()
	stats := make([]loadStats, size.clients)
	var wg sync.WaitGroup
	for ci := range size.clients {
		st := &stats[ci]
		st.lat, st.errors = make([][]time.Duration, len(eps)), make([]int, len(eps))
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(ci), 7))
			if think > 0 {
				// Clients arrive spread over the first pause instead of all at once.
				time.Sleep(time.Duration(rng.Float64() * float64(think)))
			}
			for n := 0; lctx.Err() == nil && issued.Add(1) <= size.maxRequests; n++ {
				i := picks[rng.IntN(len(picks))]
				if n == 0 {
					i = ci % len(eps) // with as many clients as endpoints, each is asked at least once
				}
				path, check := eps[i].path(rng)
				began := time.Now()
				// A request in flight at the deadline finishes and counts: the load stops
				// sending, it does not drop answers.
				err := loadGet(ctx, hc, ts.URL+path, e.token, check)
				d := time.Since(began)
				st.lat[i] = append(st.lat[i], d)
				if err != nil {
					st.errors[i]++
					if len(st.first) < 3 {
						st.first = append(st.first, fmt.Sprintf("%s: %v", path, err))
					}
				}
				if think > 0 {
					select {
					case <-lctx.Done():
					case <-time.After(time.Duration(rng.ExpFloat64() * float64(think))):
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	stop()
	cpu := cpuTime() - cpu0
	<-watched

	final, err := e.st.Run(ctx, e.org.ID, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := runEnded.Load(); d != 0 || !final.Active() {
		t.Logf("the run finished %s into the %s load: %s, %+v", time.Duration(d).Round(10*time.Millisecond), elapsed.Round(10*time.Millisecond),
			final.Status, final.Progress)
	} else {
		t.Logf("the run was in progress throughout the load: %s %d%%, %+v", final.Stage, final.Progress.Percent, final.Progress)
	}

	all, errs := loadReport(t, eps, stats, elapsed, size.clients, think)
	// The process's CPU time covers the server, the clients and the run together: on a
	// shared machine it shows how much of it the load actually had.
	t.Logf("process CPU during the load: %.1f s (%.2f cores), %.2f ms per request",
		cpu.Seconds(), cpu.Seconds()/elapsed.Seconds(), float64(cpu.Microseconds())/1000/float64(max(len(all), 1)))
	if errs > 0 {
		var msgs []string
		for _, s := range stats {
			msgs = append(msgs, s.first...)
		}
		t.Errorf("%d of %d requests failed; first: %s", errs, len(all), strings.Join(msgs[:min(len(msgs), 5)], "; "))
	}
	for i, ep := range eps {
		n := 0
		for _, s := range stats {
			n += len(s.lat[i])
		}
		if n == 0 {
			t.Errorf("no request to %s completed", ep.name)
		}
	}
	if *loadFull {
		if p := percentile(all, 0.99); p > loadP99 {
			t.Errorf("p99 %s is over the %s target", p, loadP99)
		}
	}
}

// loadGet sends one authenticated GET and checks the answer.
func loadGet(ctx context.Context, hc *http.Client, url, token string, check func([]byte) error) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %.200s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("content type %q", ct)
	}
	return check(body)
}

// loadReport logs a table of throughput and latency percentiles per endpoint and
// overall, and returns every latency and the number of errors.
func loadReport(t *testing.T, eps []loadEndpoint, stats []loadStats, elapsed time.Duration, clients int, think time.Duration) ([]time.Duration, int) {
	var all []time.Duration
	errs := 0
	var b strings.Builder
	fmt.Fprintf(&b, "%d clients (think %s) for %s\n%-55s %8s %8s %8s %8s %8s %8s %6s\n", clients, think, elapsed.Round(10*time.Millisecond),
		"endpoint", "requests", "req/s", "p50", "p90", "p99", "max", "errors")
	row := func(name string, ds []time.Duration, n int) {
		slices.Sort(ds)
		fmt.Fprintf(&b, "%-55s %8d %8.0f %8s %8s %8s %8s %6d\n", name, len(ds), float64(len(ds))/elapsed.Seconds(),
			ms(percentile(ds, 0.50)), ms(percentile(ds, 0.90)), ms(percentile(ds, 0.99)), ms(percentile(ds, 1)), n)
	}
	for i, ep := range eps {
		var ds []time.Duration
		n := 0
		for _, s := range stats {
			ds = append(ds, s.lat[i]...)
			n += s.errors[i]
		}
		row(ep.name, ds, n)
		all = append(all, ds...)
		errs += n
	}
	row("all", all, errs)
	t.Log(b.String())
	return all, errs
}

// percentile is the nearest-rank q-quantile of sorted ds (q = 1: the maximum).
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(q*float64(len(ds))+0.999999) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// BenchmarkAPIEndpoints times each endpoint of the load test alone, one request at a
// time through the whole handler (routing, token, queries, JSON) over 100,000 stored
// tweets with no run in progress: the single-request latency beside the loaded
// figures of TestAPILoad.
//
//	go test ./web -run '^$' -bench APIEndpoints -benchtime 200x
func BenchmarkAPIEndpoints(b *testing.B) {
	e := newLoadEnv(b, loadFullSize, false)
	h := e.srv.Handler()
	for _, ep := range e.endpoints(b) {
		b.Run(ep.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 7))
			timePage(b, func() *httptest.ResponseRecorder {
				path, check := ep.path(rng)
				req := httptest.NewRequest("GET", path, nil)
				req.Header.Set("Authorization", "Bearer "+e.token)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code == 200 {
					if err := check(rec.Body.Bytes()); err != nil {
						b.Fatalf("%s: %v", path, err)
					}
				}
				return rec
			})
		})
	}
}
