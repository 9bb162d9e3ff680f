package xfake

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		f           Fault
		status      int
		code        int
		message     string
		contentType string
		rateHeaders bool
		data        bool
		body        string
	}{
		{"32", FaultCouldNotAuthenticate(), 401, 32, "Could not authenticate you.", "application/json", true, false, ""},
		{"64", FaultSuspended(), 403, 64, "Your account is suspended", "application/json", true, false, ""},
		{"88", FaultRateLimited(), 429, 88, "Rate limit exceeded.", "application/json", true, false, ""},
		{"88 soft ban", FaultSoftBan(), 429, 88, "Rate limit exceeded.", "application/json", true, false, ""},
		{"88 without headers", FaultRateLimitedNoHeaders(), 429, 88, "Rate limit exceeded.", "application/json", false, false, ""},
		{"131", FaultDependency(), 200, 131, "Dependency: Internal error.", "application/json", true, false, ""},
		{"326", FaultLocked(), 403, 326, "Authorization: Denied by access control", "application/json", true, false, ""},
		{"336", FaultFeatures("rweb_video_screen_enabled", "responsive_web_jetfuel_frame"), 400, 336,
			"The following features cannot be null: rweb_video_screen_enabled, responsive_web_jetfuel_frame", "application/json", true, false, ""},
		{"LoadShed", FaultLoadShed(), 200, -1, "LoadShed: Unspecified", "application/json", true, false, ""},
		{"over capacity", FaultOverCapacity(), 503, 130, "Over capacity", "application/json", true, false, ""},
		{"partial", FaultPartial(), 200, 0, "Dependency: Unspecified", "application/json", true, true, ""},
		{"bare 403", FaultBare403(), 403, 0, "", "application/json", true, false, "{}"},
		{"bare 401", FaultBare401(), 401, 0, "", "", true, false, ""},
		{"500", FaultServerError(), 500, 0, "", "application/json", true, false, "{}"},
		{"empty 404", FaultEmpty404(), 404, 0, "", "", false, false, ""},
		{"cloudflare 403", FaultCloudflare(403), 403, 0, "", "text/html", false, false, ""},
		{"cloudflare 503", FaultCloudflare(503), 503, 0, "", "text/html", false, false, ""},
		{"custom", FaultError(403, XError{Code: 37, Message: "Not authorized."}), 403, 37, "Not authorized.", "application/json", true, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t)
			s.AddTweet(Tweet{Text: "faulty words"})
			s.InjectFault(OnOperation(OpSearchTimeline), tt.f, 1)
			res := do(t, s, call{vars: searchVars("faulty")})
			if res.status != tt.status {
				t.Fatalf("status %d, want %d", res.status, tt.status)
			}
			if !strings.HasPrefix(res.header.Get("Content-Type"), tt.contentType) || (tt.contentType == "") != (res.header.Get("Content-Type") == "") {
				t.Errorf("content type %q, want %q", res.header.Get("Content-Type"), tt.contentType)
			}
			if got := res.header.Get("x-rate-limit-remaining") != ""; got != tt.rateHeaders {
				t.Errorf("rate headers %v, want %v", got, tt.rateHeaders)
			}
			if tt.message != "" {
				if got := str(res.json, "errors", 0, "message"); !strings.HasPrefix(got, tt.message) {
					t.Errorf("message %q, want %q", got, tt.message)
				}
				if got := res.errorCode(); got != tt.code {
					t.Errorf("code %d, want %d", got, tt.code)
				}
			} else if string(res.body) != tt.body && tt.contentType != "text/html" {
				t.Errorf("body %q, want %q", res.body, tt.body)
			}
			if got := get(res.json, "data", "search_by_raw_query") != nil; got != tt.data {
				t.Errorf("data present %v, want %v: %s", got, tt.data, res.body)
			}
			if tt.contentType == "text/html" && (res.header.Get("cf-ray") == "" || !strings.Contains(string(res.body), "Just a moment")) {
				t.Errorf("not a Cloudflare page: %v", res.header)
			}
			if log := s.Requests(); log[0].Fault != tt.f.Name {
				t.Errorf("log fault %q, want %q", log[0].Fault, tt.f.Name)
			}
			switch tt.name {
			case "88":
				// A rate limit: nothing left until the reset.
				if res.header.Get("x-rate-limit-remaining") != "0" {
					t.Errorf("remaining %s, want 0", res.header.Get("x-rate-limit-remaining"))
				}
				if res := do(t, s, call{vars: searchVars("faulty")}); res.status != 429 {
					t.Errorf("after a rate limit: %d", res.status)
				}
				return
			case "88 soft ban":
				if res.header.Get("x-rate-limit-remaining") != "49" {
					t.Errorf("remaining %s, want 49", res.header.Get("x-rate-limit-remaining"))
				}
			}
			// One time only: the next request is normal.
			if res := do(t, s, call{vars: searchVars("faulty")}); res.status != 200 || res.json["errors"] != nil {
				t.Errorf("after the fault: %d %s", res.status, res.body)
			}
		})
	}
}

func TestFaultInvalidJSON(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.AddTweet(Tweet{Text: "broken json"})
	s.InjectFault(nil, FaultInvalidJSON(), 1)
	res := do(t, s, call{vars: searchVars("broken")})
	var v any
	if res.status != 200 || json.Unmarshal(res.body, &v) == nil {
		t.Fatalf("got valid JSON: %d %s", res.status, res.body)
	}
}

func TestFaultReset(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.InjectFault(OnOperation(OpSearchTimeline), FaultReset(), 1)
	_, err := try(s, call{vars: searchVars("x")})
	if err == nil {
		t.Fatal("no error on a reset connection")
	}
	if !errors.Is(err, syscall.ECONNRESET) && !strings.Contains(err.Error(), "EOF") {
		t.Logf("reset surfaced as %v", err)
	}
	if r := s.Requests()[0]; r.Status != 0 || r.Fault != "reset" {
		t.Errorf("log: %+v", r)
	}
}

func TestFaultSlow(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.InjectFault(nil, FaultSlow(150*time.Millisecond), 0)
	start := time.Now()
	if res := do(t, s, call{vars: searchVars("x")}); res.status != 200 || time.Since(start) < 150*time.Millisecond {
		t.Fatalf("%d after %v", res.status, time.Since(start))
	}

	// A client that gives up is not kept waiting, and the server notices.
	s.ClearFaults()
	s.InjectFault(nil, FaultSlow(time.Hour), 1)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/graphql/"+DefaultSearchTimelineID+"/SearchTimeline?variables=%7B%7D", nil)
	req.Header.Set("authorization", "Bearer "+WebBearer)
	req.Header.Set("x-csrf-token", ct0A)
	req.Header.Set("cookie", "auth_token="+tokA+"; ct0="+ct0A)
	start = time.Now()
	if _, err := s.Client().Do(req); err == nil {
		t.Fatal("no timeout")
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("slow fault ignored the client's context")
	}
}

func TestFaultMatching(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.InjectFault(All(OnAccount(tokB), OnOperation(OpTweetDetail)), FaultSuspended(), 0)
	s.InjectFault(OnSeq(2), FaultLoadShed(), 1)
	s.InjectFault(OnOpSeq(OpSearchTimeline, 4), FaultBare403(), 1)
	statuses := []int{
		do(t, s, call{vars: searchVars("x")}).status,                                                     // 1
		do(t, s, call{vars: searchVars("x")}).errorCode(),                                                // 2: LoadShed
		do(t, s, call{token: tokB, op: OpTweetDetail, vars: map[string]any{"focalTweetId": "1"}}).status, // 3: suspended
		do(t, s, call{op: OpTweetDetail, vars: map[string]any{"focalTweetId": "1"}}).status,              // 4
		do(t, s, call{vars: searchVars("x")}).status,                                                     // search #3
		do(t, s, call{vars: searchVars("x")}).status,                                                     // search #4: bare 403
		do(t, s, call{token: tokB, op: OpTweetDetail, vars: map[string]any{"focalTweetId": "1"}}).status, // still suspended
	}
	want := []int{200, -1, 403, 200, 200, 403, 403}
	for i := range want {
		if statuses[i] != want[i] {
			t.Errorf("request %d: %d, want %d", i+1, statuses[i], want[i])
		}
	}
	s.ClearFaults()
	if res := do(t, s, call{token: tokB, op: OpTweetDetail, vars: map[string]any{"focalTweetId": "1"}}); res.status != 200 {
		t.Errorf("after ClearFaults: %d", res.status)
	}

	// A matcher may consult the server: here, an account's third request fails.
	s.InjectFault(func(r Request) bool { return s.CountAccount(r.Account, OpUserByScreenName) == 3 }, FaultServerError(), 0)
	var got []int
	for range 4 {
		got = append(got, do(t, s, call{op: OpUserByScreenName, vars: map[string]any{"screen_name": "xfake"}}).status)
	}
	if !slices.Equal(got, []int{200, 200, 500, 200}) {
		t.Errorf("stateful matcher: %v", got)
	}
}

func TestFaultAfterRateLimit(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithRateLimit(OpSearchTimeline, Limit{Requests: 1, Window: time.Minute}))
	do(t, s, call{vars: searchVars("x")})
	s.InjectFault(nil, FaultLoadShed(), 1)
	// Exhausted: the real 429 answers and the fault stays armed.
	if res := do(t, s, call{vars: searchVars("x")}); res.status != 429 {
		t.Fatalf("%d", res.status)
	}
	if res := do(t, s, call{token: tokB, vars: searchVars("x")}); res.errorCode() != -1 {
		t.Fatalf("fault not kept for the next allowed request: %s", res.body)
	}
}

// TestInjectFaultFunc: one rule picks each request's fault, or passes it on to the
// rules after it; the request records the fault's name.
func TestInjectFaultFunc(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.InjectFaultFunc(func(r Request) (Fault, bool) {
		switch r.Seq % 3 {
		case 1:
			return FaultServerError(), true
		case 2:
			return FaultOverCapacity(), true
		}
		return Fault{}, false
	})
	s.InjectFault(nil, FaultBare401(), 0)
	var got []int
	for range 6 {
		got = append(got, do(t, s, call{vars: searchVars("x")}).status)
	}
	if !slices.Equal(got, []int{500, 503, 401, 500, 503, 401}) {
		t.Errorf("statuses %v", got)
	}
	if f := s.Requests()[1].Fault; f != "error 130" {
		t.Errorf("the second request's fault is %q", f)
	}
}
