package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"nexus/pipeline/analyze/analyzetest"
	"nexus/scraper/xfake"
)

// TestStormServerAnswers: one storm through the real wiring of `nexus serve`. X (a
// fake, reached through x.api_base) fails a fifth of the requests with its passing
// errors (500, over capacity, internal error, LoadShed, resets, cut JSON, partial
// data) and answers a tenth slowly; Gemini (a fake, reached through llm.base_url)
// answers every fourth request 429 with a short RetryInfo, and one conversation's
// analysis with broken JSON twice. A run is started through the API; meanwhile
// /health, the run, the campaigns and the conversations are read every 50ms, and each
// must answer 200 within two seconds. The run must succeed with every conversation
// analysed once.
//
// The X client keeps its real backoffs here (1-3s for a first retry): the serve
// wiring has no knob for them, and the errors dealt leave the accounts in rotation.
func TestStormServerAnswers(t *testing.T) {
	t.Parallel()
	const nConv = 12
	seed := rand.Uint64()
	t.Logf("storm seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	var rngMu sync.Mutex

	x := xfake.New(xfake.WithPromoted(false))
	defer x.Close()
	x.AddAccount("tok-a", "ct0-a")
	x.AddAccount("tok-b", "ct0-b")
	base := time.Now().Add(-time.Hour)
	for i := range nConv {
		root := x.AddTweet(xfake.Tweet{Text: fmt.Sprintf("anyone using nexusprobe for thread %d?", i), CreatedAt: base.Add(time.Duration(i) * time.Second)})
		for j := 1; j < 3; j++ {
			x.AddTweet(xfake.Tweet{Text: fmt.Sprintf("reply %d to %d", j, i), InReplyToID: root.ID,
				CreatedAt: base.Add(time.Duration(i)*time.Second + time.Duration(j)*time.Millisecond)})
		}
	}
	faults := []xfake.Fault{xfake.FaultServerError(), xfake.FaultOverCapacity(), xfake.FaultDependency(), xfake.FaultLoadShed(),
		xfake.FaultReset(), xfake.FaultInvalidJSON(), xfake.FaultPartial()}
	x.InjectFaultFunc(func(xfake.Request) (xfake.Fault, bool) {
		rngMu.Lock()
		defer rngMu.Unlock()
		var f xfake.Fault
		hit := false
		if rng.Float64() < 0.2 {
			f, hit = faults[rng.IntN(len(faults))], true
		}
		if rng.Float64() < 0.1 {
			f.Delay, hit = time.Duration(rng.Int64N(int64(50*time.Millisecond))), true
		}
		return f, hit
	})

	gemini := analyzetest.NewGemini(t, "gemini-key")
	threadNo := regexp.MustCompile(`nexusprobe for thread (\d+)\?`)
	var (
		gmu       sync.Mutex
		gRequests int
		valid     = map[string]int{} // usable answers given, per thread
		broken    int                // cut answers given to thread 3
	)
	gemini.Respond = func(req analyzetest.GeminiRequest) analyzetest.Reply {
		gmu.Lock()
		defer gmu.Unlock()
		gRequests++
		if gRequests%4 == 0 {
			return analyzetest.Reply{Status: 429, Message: "Resource has been exhausted (e.g. check quota).", RetryDelay: "0.2s"}
		}
		m := threadNo.FindStringSubmatch(req.Body.Contents[0].Text())
		if m == nil {
			return analyzetest.Reply{Status: 400, Message: "no thread in the prompt"}
		}
		if m[1] == "3" {
			broken++
			return analyzetest.Reply{Text: `{"relevance": 80, "sentiment": "posi`, PromptTokens: 900, ResponseTokens: 9}
		}
		valid[m[1]]++
		return analyzetest.Reply{Text: analyzetest.Answer, PromptTokens: 900, ResponseTokens: 120}
	}

	cfg := testConfig(t)
	cfg.X.APIBase, cfg.X.WebBase, cfg.X.TransactionID = x.URL(), x.RootURL(), "off"
	cfg.LLM.Provider, cfg.LLM.APIKey, cfg.LLM.BaseURL = "gemini", "gemini-key", gemini.URL
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := newServer(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	baseURL, done := startServer(t, ctx, srv)

	hc := &http.Client{Timeout: 10 * time.Second}
	token := ""
	call := func(method, path string, body any, out any) int {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, baseURL+path, rd)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		if out != nil {
			json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	var setup struct {
		Organization struct{ ID int64 }
		User         struct{ ID int64 }
	}
	if code := call("POST", "/api/v1/setup", map[string]string{"organization": "A", "email": "a@a.test", "password": "long enough password"}, &setup); code != 201 {
		t.Fatalf("setup: %d", code)
	}
	if _, token, err = srv.store.CreateToken(ctx, setup.Organization.ID, setup.User.ID, "storm", nil); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"a", "b"} {
		if code := call("POST", "/api/v1/accounts", map[string]string{"name": "acct-" + a, "cookies": fmt.Sprintf("auth_token=tok-%s; ct0=ct0-%s", a, a)}, nil); code != 201 {
			t.Fatalf("add account: %d", code)
		}
	}
	var camp struct{ ID int64 }
	if code := call("POST", "/api/v1/campaigns", map[string]any{"name": "probe", "keywords": []string{"nexusprobe"}, "lookback_hours": 24}, &camp); code != 201 {
		t.Fatalf("create campaign: %d", code)
	}
	var run struct {
		ID     int64
		Status string
	}
	if code := call("POST", fmt.Sprintf("/api/v1/campaigns/%d/runs", camp.ID), nil, &run); code != 202 {
		t.Fatalf("start run: %d", code)
	}

	// Readers, as a dashboard open during the run would be.
	const bound = 2 * time.Second
	paths := []string{"/health", fmt.Sprintf("/api/v1/runs/%d", run.ID), "/api/v1/campaigns", fmt.Sprintf("/api/v1/campaigns/%d/conversations", camp.ID)}
	type stat struct {
		n, bad int
		worst  time.Duration
		last   string
	}
	var (
		smu   sync.Mutex
		stats = map[string]*stat{}
	)
	readCtx, stopReading := context.WithCancel(ctx)
	var readers sync.WaitGroup
	for _, p := range paths {
		stats[p] = &stat{}
		readers.Go(func() {
			rc := &http.Client{Timeout: bound}
			for readCtx.Err() == nil {
				req, _ := http.NewRequest("GET", baseURL+p, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				began := time.Now()
				resp, err := rc.Do(req)
				took := time.Since(began)
				status := 0
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				}
				smu.Lock()
				s := stats[p]
				s.n++
				s.worst = max(s.worst, took)
				if status != 200 || took > bound {
					s.bad++
					s.last = fmt.Sprintf("status %d after %v (%v)", status, took.Round(time.Millisecond), err)
				}
				smu.Unlock()
				time.Sleep(50 * time.Millisecond)
			}
		})
	}

	began := time.Now()
	var got struct {
		Status   string
		Error    string
		Progress struct{ Conversations, Analyzed int }
	}
	for {
		if code := call("GET", fmt.Sprintf("/api/v1/runs/%d", run.ID), nil, &got); code != 200 {
			t.Fatalf("run: %d", code)
		}
		if got.Status != "queued" && got.Status != "running" {
			break
		}
		if time.Since(began) > 2*time.Minute {
			t.Fatalf("run still %s after 2 minutes: %+v", got.Status, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(began)
	stopReading()
	readers.Wait()

	faulted := 0
	for _, q := range x.Requests() {
		if q.Fault != "" {
			faulted++
		}
	}
	t.Logf("run %s in %v: %d requests to X (%d faulted), %d to Gemini", got.Status, took.Round(time.Millisecond), x.Count(""), faulted, gRequests)
	for _, p := range paths {
		s := stats[p]
		t.Logf("GET %s: %d reads, slowest %v", p, s.n, s.worst.Round(time.Millisecond))
		if s.bad > 0 || s.n == 0 {
			t.Errorf("GET %s: %d of %d reads failed or took over %v; last: %s", p, s.bad, s.n, bound, s.last)
		}
	}
	if got.Status != "succeeded" || got.Progress.Conversations != nConv || got.Progress.Analyzed != nConv {
		t.Fatalf("run %s (%q): %+v; want succeeded with %d conversations analysed", got.Status, got.Error, got.Progress, nConv)
	}
	var convs struct{ Conversations []json.RawMessage }
	if code := call("GET", fmt.Sprintf("/api/v1/campaigns/%d/conversations?limit=100", camp.ID), nil, &convs); code != 200 || len(convs.Conversations) != nConv {
		t.Fatalf("conversations: %d, %d of %d", code, len(convs.Conversations), nConv)
	}
	// One usable answer per conversation: none was analysed twice. Thread 3 got a cut
	// answer, then a cut repair: a failed analysis, its raw answer kept.
	gmu.Lock()
	for i := range nConv {
		if n := valid[fmt.Sprint(i)]; i != 3 && n != 1 {
			t.Errorf("thread %d: Gemini gave %d usable answers, want 1", i, n)
		}
	}
	if broken < 2 {
		t.Errorf("thread 3: %d cut answers, want 2", broken)
	}
	gmu.Unlock()
	failed, err := srv.store.Count(ctx, `SELECT COUNT(*) FROM analyses WHERE status = 'failed' AND raw != ''`)
	if err != nil || failed != 1 {
		t.Errorf("%d failed analyses keeping the raw answer, want 1 (%v)", failed, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
