package scraper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"nexus/scraper/xfake"
)

func TestNewChecksOptions(t *testing.T) {
	t.Parallel()
	pool := NewMemAccounts()
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no accounts", Options{}, "no account store"},
		{"bad api base", Options{Accounts: pool, APIBase: "ftp://x"}, "api base"},
		{"bad web base", Options{Accounts: pool, WebBase: "x.com"}, "web base"},
		{"bad transaction id", Options{Accounts: pool, TransactionID: "sometimes"}, "auto or off"},
		{"bad operation", Options{Accounts: pool, Operations: map[string]string{"SearchTimeline": "bad id!"}}, "SearchTimeline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want an error with %q", err, tt.want)
			}
		})
	}
	c, err := New(Options{Accounts: pool, Operations: map[string]string{"SearchTimeline": ":POST"}})
	if err != nil {
		t.Fatal(err)
	}
	if op := c.Operations()[OpSearchTimeline]; op.Method != http.MethodPost || op.ID != DefaultOperations()[OpSearchTimeline].ID {
		t.Fatalf("override = %+v", op)
	}
	if c.maxRetries != 3 || c.lease != 2*time.Minute || c.apiBase != "https://x.com/i/api" || c.txOff {
		t.Fatalf("defaults: retries %d lease %v base %s txOff %v", c.maxRetries, c.lease, c.apiBase, c.txOff)
	}
}

func TestRequestHeadersAndParameters(t *testing.T) {
	t.Parallel()
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, setup{
				xopts:    []xfake.Option{xfake.WithCorpus(1, 500)},
				accounts: []string{"a"},
				opts: func(o *Options) {
					o.Operations = map[string]string{OpSearchTimeline: ":" + method}
				},
			})
			if _, err := h.search(SearchOptions{Query: `coffee OR "a<b"`, Limit: 1}); err != nil {
				t.Fatal(err)
			}
			reqs := h.opRequests(OpSearchTimeline)
			if len(reqs) != 1 || reqs[0].Status != 200 || reqs[0].Method != method {
				t.Fatalf("%d requests, first %s %d", len(reqs), reqs[0].Method, reqs[0].Status)
			}
			r := reqs[0]
			want := map[string]string{
				"Authorization":             "Bearer " + BearerToken,
				"X-Csrf-Token":              "ct0-a",
				"Cookie":                    "auth_token=tok-a; ct0=ct0-a; guest_id=v1%3A17",
				"X-Twitter-Auth-Type":       "OAuth2Session",
				"X-Twitter-Active-User":     "yes",
				"X-Twitter-Client-Language": "en",
				"Content-Type":              "application/json",
				"User-Agent":                BrowserUserAgent("account:1"),
				"Referer":                   h.c.webBase + "/search?q=coffee%20OR%20%22a%3Cb%22&src=typed_query&f=live",
				"X-Client-Transaction-Id":   "",
			}
			if method == http.MethodPost {
				want["Origin"] = h.c.webBase
			}
			for k, v := range want {
				if got := r.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if r.Path != "/i/api/graphql/"+xfake.DefaultSearchTimelineID+"/SearchTimeline" {
				t.Errorf("path %s", r.Path)
			}
			wantVars := map[string]any{"rawQuery": `coffee OR "a<b"`, "count": float64(20), "querySource": "typed_query", "product": "Latest"}
			for k, v := range wantVars {
				if r.Variables[k] != v {
					t.Errorf("variable %s = %v, want %v", k, r.Variables[k], v)
				}
			}
			if len(r.Features) != len(DefaultFeatures()) || r.FieldToggles["withArticleRichContentState"] != false {
				t.Errorf("features %d, toggles %v", len(r.Features), r.FieldToggles)
			}
		})
	}
}

// TestRequestEncoding checks the GET URL byte for byte: the web app's parameter order,
// compact JSON without HTML escaping, encodeURIComponent escaping.
func TestRequestEncoding(t *testing.T) {
	t.Parallel()
	c, err := New(Options{Accounts: NewMemAccounts(), TransactionID: "off"})
	if err != nil {
		t.Fatal(err)
	}
	a := Account{ID: 7, Cookies: Cookies{"auth_token": "t", "ct0": "c"}, UserAgent: "UA/1"}
	cl := call{op: OpSearchTimeline, vars: gqlVars{{"rawQuery", "a&b <c>"}, {"count", 20}}.with("cursor", "DAAD=="),
		features: Flags{{"x", true}}, toggles: Flags{{"y", false}}}
	req, err := c.newRequest(context.Background(), a, Operation{Name: OpSearchTimeline, ID: "ID1", Method: http.MethodGet}, cl)
	if err != nil {
		t.Fatal(err)
	}
	const want = "https://x.com/i/api/graphql/ID1/SearchTimeline?variables=%7B%22rawQuery%22%3A%22a%26b%20%3Cc%3E%22%2C%22count%22%3A20%2C%22cursor%22%3A%22DAAD%3D%3D%22%7D" +
		"&features=%7B%22x%22%3Atrue%7D&fieldToggles=%7B%22y%22%3Afalse%7D"
	if req.URL.String() != want {
		t.Fatalf("URL\n%s\nwant\n%s", req.URL, want)
	}
	if req.Header.Get("User-Agent") != "UA/1" {
		t.Fatalf("user agent %q", req.Header.Get("User-Agent"))
	}
	cl.toggles = nil
	req, err = c.newRequest(context.Background(), a, Operation{Name: OpSearchTimeline, ID: "ID1", Method: http.MethodPost}, cl)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(req.Body)
	if got := body.String(); got != `{"variables":{"rawQuery":"a&b <c>","count":20,"cursor":"DAAD=="},"features":{"x":true},"queryId":"ID1"}` {
		t.Fatalf("POST body %s", got)
	}
	if encodeURIComponent("aZ09-_.!~*'() é/?") != "aZ09-_.!~*'()%20%C3%A9%2F%3F" {
		t.Fatal(encodeURIComponent("aZ09-_.!~*'() é/?"))
	}
}

// txWeb serves the reference x.com page and signing script of xclid_test.go, counting
// page loads and recording the cookies they came with.
func txWeb(t *testing.T) (*httptest.Server, *atomic.Int32, *syncBuffer) {
	t.Helper()
	var loads atomic.Int32
	cookies := &syncBuffer{}
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("/tesla", func(w http.ResponseWriter, r *http.Request) {
		loads.Add(1)
		fmt.Fprintln(cookies, r.Header.Get("Cookie"))
		fmt.Fprint(w, refPage(srv.URL+"/x-web/assets/main-b2.js"))
	})
	mux.HandleFunc("/x-web/assets/main-b2.js", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `const t=()=>import("./sign.o-C3d4.js");`)
	})
	mux.HandleFunc("/x-web/assets/sign.o-C3d4.js", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `function f(n,e){return[parseInt(e(n[2],16)),e(n[5], 16),e(n[17],16)*e(n[30],16)]}`)
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &loads, cookies
}

func TestTransactionIDAuto(t *testing.T) {
	t.Parallel()
	web, loads, cookies := txWeb(t)
	h := newHarness(t, setup{
		xopts: []xfake.Option{xfake.WithCorpus(2, 800), xfake.WithTransactionIDRequired()},
		opts:  func(o *Options) { o.TransactionID, o.WebBase = "auto", web.URL },
	})
	got, err := h.search(SearchOptions{Query: "the", Limit: 60})
	if err != nil || len(got) != 60 {
		t.Fatalf("search: %d tweets, %v", len(got), err)
	}
	// Each request gets an id of its own. Two requests in the same second may still
	// share one: as in X's script, a single random byte masks it (1 chance in 256 per
	// pair), so the test asks for a fresh id, not for all ids to differ.
	ids := map[string]bool{}
	reqs := h.opRequests(OpSearchTimeline)
	for _, r := range reqs {
		id := r.Header.Get("X-Client-Transaction-Id")
		if len(id) != 94 {
			t.Fatalf("transaction id %q: want 94 characters", id)
		}
		ids[id] = true
	}
	if len(reqs) < 3 || len(ids) < 2 {
		t.Fatalf("%d distinct transaction ids over %d requests: want one made per request", len(ids), len(reqs))
	}
	if loads.Load() != 1 || !strings.Contains(cookies.String(), "auth_token=tok-a") {
		t.Fatalf("web page loaded %d times with cookies %q; want once, with the account's", loads.Load(), cookies.String())
	}
	if strings.Contains(h.logs.String(), "fallback") {
		t.Fatal("a real generator was expected")
	}
}

func TestTransactionIDFallback(t *testing.T) {
	t.Parallel()
	var loads atomic.Int32
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loads.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(web.Close)
	h := newHarness(t, setup{
		xopts: []xfake.Option{xfake.WithCorpus(2, 800)},
		opts:  func(o *Options) { o.TransactionID, o.WebBase = "auto", web.URL },
	})
	ctx := context.Background()
	for range 2 {
		if _, err := h.search(SearchOptions{Query: "the", Limit: 40}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range h.opRequests(OpSearchTimeline) {
		if len(r.Header.Get("X-Client-Transaction-Id")) != 94 {
			t.Fatalf("fallback id %q", r.Header.Get("X-Client-Transaction-Id"))
		}
	}
	if n := strings.Count(h.logs.String(), `"level":"warn","error"`); n != 1 {
		t.Fatalf("%d warnings about the fallback, want 1:\n%s", n, h.logs)
	}
	before := loads.Load()
	if before != 2 { // one try per account
		t.Fatalf("web page loaded %d times, want 2", before)
	}
	h.clock.Advance(txRetryEvery)
	if err := h.c.Search(ctx, SearchOptions{Query: "the", Limit: 1}, func(Page) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if loads.Load() != before+1 {
		t.Fatalf("after %v the real generator should be tried again", txRetryEvery)
	}
}

func TestParseProxy(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want, err string }{
		{"http://u:p@proxy:8080", "http://u:p@proxy:8080", ""},
		{"socks5://proxy:1080", "socks5://proxy:1080", ""},
		{"proxy:3128", "http://proxy:3128", ""},
		{"u:p@proxy:3128", "http://u:p@proxy:3128", ""},
		{"proxy:3128:user:secret", "http://user:secret@proxy:3128", ""},
		{"ftp://user:secret@proxy:21", "", "unsupported scheme"},
		{"socks5://proxy", "", "host and port"},
	}
	for _, tt := range tests {
		u, err := ParseProxy(tt.in)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "secret")):
			t.Errorf("ParseProxy(%q) error = %v, want %q without the password", tt.in, err, tt.err)
		case tt.err == "" && (err != nil || u.String() != tt.want):
			t.Errorf("ParseProxy(%q) = %v, %v; want %s", tt.in, u, err, tt.want)
		}
	}
}

// TestProxy sends an account's requests through its proxy (a plain HTTP proxy that
// forwards to the fake), and sets aside an account whose proxy cannot be used.
func TestProxy(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{xopts: []xfake.Option{xfake.WithCorpus(3, 500)}, accounts: []string{}})
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		out, _ := http.NewRequest(r.Method, r.URL.String(), r.Body)
		out.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		w.Write(b.Bytes())
	}))
	t.Cleanup(proxy.Close)
	bad := h.accts.Add(Account{Name: "bad", Proxy: "ftp://user:secret@nowhere:21", Cookies: Cookies{"auth_token": "tok-bad", "ct0": "x"}})
	good := h.accts.Add(Account{Name: "proxied", Proxy: proxy.URL, Cookies: Cookies{"auth_token": token("p"), "ct0": csrf("p")}})
	h.srv.AddAccount(token("p"), csrf("p"))
	c, err := New(Options{APIBase: h.srv.URL(), TransactionID: "off", Accounts: h.accts, Now: h.clock.Now, Sleep: h.clock.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := c.Search(context.Background(), SearchOptions{Query: "the", Limit: 30}, func(p Page) error { n += len(p.Tweets); return nil }); err != nil || n != 30 {
		t.Fatalf("search: %d tweets, %v", n, err)
	}
	if proxied.Load() != 2 {
		t.Fatalf("%d requests through the proxy, want 2", proxied.Load())
	}
	s, _ := h.accts.State(bad.ID)
	if s.Active || !strings.Contains(s.LastError, "unsupported scheme") || strings.Contains(s.LastError, "secret") {
		t.Fatalf("bad proxy account: active %v, last error %q", s.Active, s.LastError)
	}
	if s, _ := h.accts.State(good.ID); !s.Active || s.Operations[OpSearchTimeline].Requests != 2 {
		t.Fatalf("proxied account state %+v", s)
	}
	hc1, _ := c.httpClient(proxy.URL)
	hc2, _ := c.httpClient(proxy.URL)
	if hc1 != hc2 {
		t.Fatal("HTTP clients are not cached per proxy")
	}
}

func TestContextCancelReleasesAccount(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{xopts: []xfake.Option{xfake.WithCorpus(4, 500)}})
	ctx, cancel := context.WithCancel(context.Background())
	err := h.c.Search(ctx, SearchOptions{Query: "the"}, func(p Page) error {
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	for _, n := range []string{"a", "b"} {
		s := h.state(t, n)
		if !s.Operations[OpSearchTimeline].LeasedUntil.IsZero() || !s.Active || s.LastError != "" {
			t.Fatalf("account %s after cancel: %+v", n, s)
		}
	}
}
