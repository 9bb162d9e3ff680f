package xfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	tokA = "token-a"
	ct0A = "csrf-a"
	tokB = "token-b"
	ct0B = "csrf-b"
)

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 7, 9, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := New(append([]Option{WithAccount(tokA, ct0A), WithAccount(tokB, ct0B)}, opts...)...)
	t.Cleanup(s.Close)
	return s
}

// call is a request as the real client sends it.
type call struct {
	method  string
	op      string
	queryID string // default: the server's
	token   string // auth_token; ct0 follows from it
	ct0     string
	csrf    string
	bearer  string
	vars    map[string]any
	header  map[string]string
	noRoot  bool // path without /i/api
}

type result struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func (r result) errorCode() int {
	errs, _ := r.json["errors"].([]any)
	if len(errs) == 0 {
		return 0
	}
	e, _ := errs[0].(map[string]any)
	c, _ := e["code"].(float64)
	return int(c)
}

func do(t testing.TB, s *Server, c call) result {
	t.Helper()
	res, err := try(s, c)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func try(s *Server, c call) (result, error) {
	if c.method == "" {
		c.method = http.MethodGet
	}
	if c.op == "" {
		c.op = OpSearchTimeline
	}
	if c.queryID == "" {
		c.queryID = s.QueryID(c.op)
	}
	if c.token == "" {
		c.token = tokA
	}
	if c.ct0 == "" {
		c.ct0 = map[string]string{tokA: ct0A, tokB: ct0B}[c.token]
		if c.ct0 == "" {
			c.ct0 = "csrf-x"
		}
	}
	if c.csrf == "" {
		c.csrf = c.ct0
	}
	if c.bearer == "" {
		c.bearer = WebBearer
	}
	base := s.URL()
	if c.noRoot {
		base = s.RootURL()
	}
	u := base + "/graphql/" + c.queryID + "/" + c.op
	vars, _ := json.Marshal(c.vars)
	features := `{"view_counts_everywhere_api_enabled":true}`
	var body io.Reader
	if c.method == http.MethodPost {
		b, _ := json.Marshal(map[string]any{"variables": json.RawMessage(vars), "features": json.RawMessage(features), "queryId": c.queryID})
		body = bytes.NewReader(b)
	} else {
		u += "?" + url.Values{"variables": {string(vars)}, "features": {features}}.Encode()
	}
	req, err := http.NewRequest(c.method, u, body)
	if err != nil {
		return result{}, err
	}
	req.Header.Set("authorization", "Bearer "+c.bearer)
	req.Header.Set("content-type", "application/json")
	req.Header.Set("x-twitter-active-user", "yes")
	req.Header.Set("x-client-transaction-id", "tx-"+fmt.Sprint(time.Now().UnixNano()))
	if c.csrf != "-" {
		req.Header.Set("x-csrf-token", c.csrf)
	}
	var cookies []string
	if c.token != "-" {
		cookies = append(cookies, "auth_token="+c.token)
	}
	if c.ct0 != "-" {
		cookies = append(cookies, "ct0="+c.ct0)
	}
	cookies = append(cookies, "guest_id=v1%3A1")
	req.Header.Set("cookie", strings.Join(cookies, "; "))
	for k, v := range c.header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{}, err
	}
	res := result{status: resp.StatusCode, header: resp.Header, body: b}
	if len(b) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(b, &res.json)
	}
	return res, nil
}

// get walks a decoded JSON value by keys and array indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func str(v any, path ...any) string {
	s, _ := get(v, path...).(string)
	return s
}

func arr(v any, path ...any) []any {
	a, _ := get(v, path...).([]any)
	return a
}

// keyPaths collects the key paths under v ("a.b[].c"), leaves and containers alike.
func keyPaths(v any, prefix string, into map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			p := prefix + "." + k
			into[p] = true
			keyPaths(c, p, into)
		}
	case []any:
		for _, c := range x {
			keyPaths(c, prefix+"[]", into)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// walk calls fn on every object under v.
func walk(v any, fn func(m map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(x)
		for _, c := range x {
			walk(c, fn)
		}
	case []any:
		for _, c := range x {
			walk(c, fn)
		}
	}
}
