package xfake

import (
	"net/http"
	"testing"
)

func searchVars(q string) map[string]any {
	return map[string]any{"rawQuery": q, "count": 20, "product": "Latest", "querySource": "typed_query"}
}

func TestAuthFailures(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.AddAccount("tok-susp", "c1")
	s.SetAccountState("tok-susp", AccountSuspended)
	s.AddAccount("tok-locked", "c2")
	s.SetAccountState("tok-locked", AccountLocked)
	s.AddAccount("tok-expired", "c3")
	s.SetAccountState("tok-expired", AccountExpired)
	tests := []struct {
		name   string
		c      call
		status int
		code   int
	}{
		{"ok", call{}, 200, 0},
		{"wrong bearer", call{bearer: "AAAA"}, 401, 89},
		{"no auth_token", call{token: "-", ct0: "x"}, 401, 32},
		{"unknown auth_token", call{token: "nope", ct0: "x"}, 401, 32},
		{"no csrf header", call{csrf: "-"}, 403, 353},
		{"csrf mismatch", call{csrf: "other"}, 403, 353},
		{"no ct0 cookie", call{ct0: "-", csrf: ct0A}, 403, 353},
		{"ct0 of another session", call{ct0: "zzz"}, 403, 353},
		{"suspended", call{token: "tok-susp", ct0: "c1"}, 403, 64},
		{"locked", call{token: "tok-locked", ct0: "c2"}, 403, 326},
		{"expired", call{token: "tok-expired", ct0: "c3"}, 401, 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.vars = searchVars("hello")
			res := do(t, s, tt.c)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if got := res.errorCode(); got != tt.code {
				t.Errorf("error code %d, want %d: %s", got, tt.code, res.body)
			}
			if tt.status != 200 && res.header.Get("x-rate-limit-limit") != "" {
				t.Errorf("auth failure carries rate headers")
			}
		})
	}
	if got := s.CountAccount("tok-susp", ""); got != 0 {
		t.Errorf("failed auth recorded as account requests: %d", got)
	}
}

func TestReadOnlyAccountGets88WithQuotaLeft(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.SetAccountState(tokA, AccountReadOnly)
	res := do(t, s, call{vars: searchVars("x")})
	if res.status != 429 || res.errorCode() != 88 {
		t.Fatalf("got %d %s", res.status, res.body)
	}
	if res.header.Get("x-rate-limit-remaining") != "49" {
		t.Errorf("remaining %q, want 49 (a soft ban shows quota left)", res.header.Get("x-rate-limit-remaining"))
	}
}

func TestRoutesAndMethods(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.AddTweet(Tweet{Text: "hello world"})
	empty404 := func(t *testing.T, res result) {
		t.Helper()
		if res.status != 404 || len(res.body) != 0 {
			t.Fatalf("got %d %q, want an empty 404", res.status, res.body)
		}
	}
	t.Run("GET and POST", func(t *testing.T) {
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			res := do(t, s, call{method: m, vars: searchVars("hello")})
			if res.status != 200 || len(arr(res.json, "data", "search_by_raw_query", "search_timeline", "timeline", "instructions")) == 0 {
				t.Fatalf("%s: %d %s", m, res.status, res.body)
			}
		}
	})
	t.Run("without /i/api", func(t *testing.T) {
		if res := do(t, s, call{noRoot: true, vars: searchVars("hello")}); res.status != 200 {
			t.Fatalf("%d", res.status)
		}
	})
	t.Run("unknown operation", func(t *testing.T) {
		empty404(t, do(t, s, call{op: "Nope", queryID: "abc", vars: searchVars("x")}))
	})
	t.Run("stale query id", func(t *testing.T) {
		empty404(t, do(t, s, call{queryID: "U3QTLwGF8sZCHDuWIMSAmg", vars: searchVars("x")}))
	})
	t.Run("POST only", func(t *testing.T) {
		s2 := newTestServer(t)
		s2.SetMethods(OpSearchTimeline, http.MethodPost)
		empty404(t, do(t, s2, call{vars: searchVars("x")}))
		if res := do(t, s2, call{method: http.MethodPost, vars: searchVars("x")}); res.status != 200 {
			t.Fatalf("POST: %d", res.status)
		}
		s2.SetOperation(OpSearchTimeline, "newid123")
		empty404(t, do(t, s2, call{method: http.MethodPost, queryID: DefaultSearchTimelineID, vars: searchVars("x")}))
		if res := do(t, s2, call{method: http.MethodPost, vars: searchVars("x")}); res.status != 200 {
			t.Fatalf("new id: %d", res.status)
		}
	})
	t.Run("transaction id required", func(t *testing.T) {
		s2 := newTestServer(t, WithTransactionIDRequired())
		empty404(t, do(t, s2, call{vars: searchVars("x"), header: map[string]string{"x-client-transaction-id": ""}}))
		if res := do(t, s2, call{vars: searchVars("x")}); res.status != 200 {
			t.Fatalf("%d", res.status)
		}
	})
	t.Run("missing variables", func(t *testing.T) {
		res := do(t, s, call{vars: map[string]any{"count": 20}})
		if res.status != 400 || len(arr(res.json, "errors")) != 1 {
			t.Fatalf("%d %s", res.status, res.body)
		}
	})
	t.Run("features 336", func(t *testing.T) {
		s2 := newTestServer(t)
		s2.SetRequiredFeatures(OpSearchTimeline, "view_counts_everywhere_api_enabled", "rweb_video_screen_enabled")
		res := do(t, s2, call{vars: searchVars("x")})
		if res.errorCode() != 336 || str(res.json, "errors", 0, "message") != "The following features cannot be null: rweb_video_screen_enabled" {
			t.Fatalf("%d %s", res.status, res.body)
		}
	})
}

func TestRequestLog(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	do(t, s, call{vars: searchVars("golang")})
	do(t, s, call{method: http.MethodPost, token: tokB, op: OpTweetDetail, vars: map[string]any{"focalTweetId": "1"}})
	do(t, s, call{op: "Nope", queryID: "x"})
	log := s.Requests()
	if len(log) != 3 {
		t.Fatalf("%d requests logged", len(log))
	}
	r := log[0]
	if r.Seq != 1 || r.Account != tokA || r.Operation != OpSearchTimeline || r.Method != "GET" || r.Status != 200 ||
		r.Variables["rawQuery"] != "golang" || r.Header.Get("x-client-transaction-id") == "" || r.OpSeq != 1 || r.AccountOpSeq != 1 {
		t.Errorf("first request: %+v", r)
	}
	if r.Features["view_counts_everywhere_api_enabled"] != true {
		t.Errorf("features not recorded: %v", r.Features)
	}
	if r := log[1]; r.Account != tokB || r.Method != "POST" || r.Variables["focalTweetId"] != "1" {
		t.Errorf("second request: %+v", r)
	}
	if r := log[2]; r.Status != 404 || r.Account != "" {
		t.Errorf("third request: %+v", r)
	}
	if s.Count(OpSearchTimeline) != 1 || s.Count("") != 3 || s.CountAccount(tokB, OpTweetDetail) != 1 {
		t.Errorf("counts: %d %d %d", s.Count(OpSearchTimeline), s.Count(""), s.CountAccount(tokB, OpTweetDetail))
	}
	s.ResetRequests()
	if len(s.Requests()) != 0 {
		t.Error("log not reset")
	}
}

func TestUserByScreenName(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.AddUser(User{ID: "2244994945", ScreenName: "XDevelopers", Name: "Developers", Followers: 695695})
	for _, sc := range []Schema{Schema2026, SchemaLegacy} {
		s.SetSchema(sc)
		res := do(t, s, call{op: OpUserByScreenName, vars: map[string]any{"screen_name": "xdevelopers", "withSafetyModeUserFields": true}})
		u := get(res.json, "data", "user", "result")
		if str(u, "rest_id") != "2244994945" {
			t.Fatalf("schema %d: %s", sc, res.body)
		}
		name := str(u, "core", "screen_name")
		if sc == SchemaLegacy {
			name = str(u, "legacy", "screen_name")
		}
		if name != "XDevelopers" {
			t.Errorf("schema %d: screen name %q", sc, name)
		}
	}
	res := do(t, s, call{op: OpUserByScreenName, vars: map[string]any{"screen_name": "nobody_here"}})
	if res.status != 200 || string(res.body) != `{"data":{}}` {
		t.Errorf("unknown user: %d %s", res.status, res.body)
	}
}

func TestServeFixture(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.ServeFixture(OpSearchTimeline, []byte(`{"data":{"page":1}}`), []byte(`{"data":{"page":2}}`))
	for i, want := range []string{`{"data":{"page":1}}`, `{"data":{"page":2}}`, `{"data":{"page":2}}`} {
		res := do(t, s, call{vars: searchVars("x")})
		if string(res.body) != want || res.header.Get("x-rate-limit-remaining") == "" {
			t.Errorf("request %d: %s", i, res.body)
		}
	}
	s.ServeFixture(OpSearchTimeline)
	if res := do(t, s, call{vars: searchVars("x")}); get(res.json, "data", "search_by_raw_query") == nil {
		t.Errorf("corpus not back: %s", res.body)
	}
}
