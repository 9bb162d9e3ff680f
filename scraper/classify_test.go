package scraper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// X's error bodies, as research/x-graphql.md and twscrape's tests record them.
const (
	bodyFeatures   = `{"errors":[{"message":"The following features cannot be null: responsive_web_grok_imagine_annotation_enabled, rweb_video_screen_enabled","code":336,"kind":"Validation","name":"BadRequestError","source":"Client","tracing":{"trace_id":"7c1e"}}]}`
	bodyRate88     = `{"errors":[{"code":88,"message":"Rate limit exceeded."}]}`
	bodyLocked326  = `{"errors":[{"code":326,"message":"Authorization: Denied by access control: To protect our users from spam and other malicious activity, this account is temporarily locked. Please log in to https://twitter.com to unlock your account.","bounce_location":"https://twitter.com/account/access"}]}`
	bodyAuth32     = `{"errors":[{"code":32,"message":"Could not authenticate you."}]}`
	bodySusp64     = `{"errors":[{"code":64,"message":"Your account is suspended and is not permitted to access this feature."}]}`
	bodySusp37     = `{"errors":[{"message":"Authorization: Denied by access control: Missing TwitterUserNotSuspended","locations":[{"line":4,"column":11}],"path":["search_by_raw_query"],"extensions":{"name":"AuthorizationError","source":"Client","code":37,"kind":"Permissions"},"code":37,"kind":"Permissions","name":"AuthorizationError","source":"Client"}],"data":{}}`
	bodyDenied37   = `{"errors":[{"message":"Authorization: Denied by access control: Missing LdapGroup(visibility-admins)","extensions":{"code":37,"kind":"Permissions"},"kind":"Permissions"}],"data":{"user":null}}`
	bodyCSRF353    = `{"errors":[{"code":353,"message":"This request requires a matching csrf cookie and header."}]}`
	bodyMissing    = `{"errors":[{"message":"_Missing: No status found with that ID.","locations":[{"line":2,"column":3}],"path":["threaded_conversation_with_injections_v2"],"extensions":{"name":"GenericError","source":"Server","code":144,"kind":"NonFatal"},"code":144,"kind":"NonFatal","name":"GenericError","source":"Server"}],"data":{}}`
	bodyDep131     = `{"errors":[{"message":"Dependency: Internal error.","locations":[{"line":2,"column":3}],"path":["search_by_raw_query"],"extensions":{"name":"DependencyError","source":"Server","retry_after":0,"code":131,"kind":"Operational","tracing":{"trace_id":"1f2e"}},"code":131,"kind":"Operational","name":"DependencyError","source":"Server","retry_after":0,"tracing":{"trace_id":"1f2e"}}],"data":{}}`
	bodyDepUnspec  = `{"errors":[{"message":"Dependency: Unspecified","kind":"Operational","name":"DependencyError"}]}`
	bodyDeadline   = `{"errors":[{"message":"DeadlineExceeded: Unspecified","kind":"Operational"}]}`
	bodyLoadShed   = `{"errors":[{"message":"LoadShed: Unspecified"}]}`
	bodyNotFound34 = `{"errors":[{"code":34,"message":"Sorry, that page does not exist."}]}`
	bodyData       = `{"data":{"search_by_raw_query":{"search_timeline":{"timeline":{"instructions":[]}}}}}`
	bodyCloudflare = `<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head><body><div id="cf-wrapper"><h1>Sorry, you have been blocked</h1><span>Cloudflare Ray ID: 8a1b2c3d4e5f</span></div></body></html>`
)

// withData adds data to an error body, as X sends errors beside a partial result.
func withData(errBody string) string {
	return strings.Replace(errBody, `{"errors"`, `{"data":{"threaded_conversation_with_injections_v2":{"instructions":[]}},"errors"`, 1)
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestClassify(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 8, 7, 12, 0, 0, 0, time.UTC)
	reset := now.Add(7 * time.Minute)
	resetS := fmt.Sprint(reset.Unix())
	rateLeft := func(n int, kv ...string) http.Header {
		return hdr(append([]string{"x-rate-limit-limit", "50", "x-rate-limit-remaining", fmt.Sprint(n), "x-rate-limit-reset", resetS, "content-type", "application/json;charset=utf-8"}, kv...)...)
	}
	json := hdr("content-type", "application/json;charset=utf-8")

	tests := []struct {
		name     string
		status   int
		h        http.Header
		body     string
		prior403 int
		want     Action
		until    time.Time // zero: Until must be zero
		reason   string    // prefix of Reason
		codes    []int
		stale    []string
	}{
		// Row 0: an HTML error page, Cloudflare or not, before anything else.
		{"0 cloudflare 403 with cf-ray", 403, hdr("content-type", "text/html; charset=UTF-8", "cf-ray", "8a1b2c3d4e5f-FRA", "x-rate-limit-remaining", "0", "x-rate-limit-reset", resetS), bodyCloudflare, 0,
			ActionTransient, now.Add(TransientCooldown), "blocked by Cloudflare (HTTP 403)", nil, nil},
		{"0 cloudflare 503 by its page", 503, hdr("content-type", "text/html"), bodyCloudflare, 0,
			ActionTransient, now.Add(TransientCooldown), "blocked by Cloudflare (HTTP 503)", nil, nil},
		{"0 other HTML 503", 503, hdr("content-type", "text/html"), "<html><body>Something went wrong</body></html>", 0,
			ActionTransient, now.Add(TransientCooldown), "HTML error page (HTTP 503)", nil, nil},
		// Row 1: features drift, whatever the rate headers say.
		{"1 features 336", 400, rateLeft(0), bodyFeatures, 0,
			ActionFeaturesDrift, time.Time{}, "features drift: X requires responsive_web_grok_imagine_annotation_enabled, rweb_video_screen_enabled", []int{336},
			[]string{"responsive_web_grok_imagine_annotation_enabled", "rweb_video_screen_enabled"}},
		// Row 2: quota spent; the data of that page is kept.
		{"2 last page kept", 200, rateLeft(0), bodyData, 0,
			ActionOKThenLock, reset, "rate limit reached; reset 2026-08-07T12:07:00Z", nil, nil},
		{"2 last page with partial errors kept", 200, rateLeft(0), withData(bodyDep131), 0,
			ActionOKThenLock, reset, "rate limit reached", []int{131}, nil},
		{"2 429 with 88 and headers", 429, rateLeft(0), bodyRate88, 0,
			ActionLock, reset, "rate limit reached", []int{88}, nil},
		{"2 bogus far reset is capped", 429, hdr("x-rate-limit-remaining", "0", "x-rate-limit-reset", "9999999999"), bodyRate88, 0,
			ActionLock, now.Add(MaxLock), "rate limit reached", []int{88}, nil},
		{"2 past reset (clock skew)", 200, hdr("x-rate-limit-remaining", "0", "x-rate-limit-reset", fmt.Sprint(now.Add(-time.Hour).Unix())), bodyData, 0,
			ActionOKThenLock, now.Add(MinLock), "rate limit reached", nil, nil},
		// Row 3: 88 with quota left is a read-only account.
		{"3 88 with quota left", 429, rateLeft(1), bodyRate88, 0,
			ActionBan, time.Time{}, "ban: rate limited with quota left (read-only account): (88) Rate limit exceeded.", []int{88}, nil},
		// Row 4: 326, locked.
		{"4 326 locked", 403, rateLeft(40), bodyLocked326, 0,
			ActionBan, time.Time{}, "ban: account locked: (326) Authorization: Denied by access control: To protect our users", []int{326}, nil},
		// Row 5: 32, not authenticated.
		{"5 32 could not authenticate", 401, json, bodyAuth32, 0,
			ActionBan, time.Time{}, "ban: could not authenticate: (32) Could not authenticate you.", []int{32}, nil},
		// Row 5b (twscrape gap): suspended.
		{"5b 64 suspended", 403, rateLeft(49), bodySusp64, 0,
			ActionBan, time.Time{}, "ban: account suspended: (64) Your account is suspended", []int{64}, nil},
		{"5b 37 missing TwitterUserNotSuspended", 200, json, bodySusp37, 0,
			ActionBan, time.Time{}, "ban: account suspended: (37) Authorization: Denied by access control: Missing TwitterUserNotSuspended", []int{37}, nil},
		// Row 6: a bare 403 cools down first, bans when it repeats.
		{"6 first bare 403", 403, json, `{}`, 0,
			ActionCooldown, now.Add(Bare403Cooldown), "cooldown: HTTP 403 without an error", nil, nil},
		{"6 repeated bare 403", 403, hdr(), "", 1,
			ActionBan, time.Time{}, "ban: HTTP 403 without an error, 2 times in a row", nil, nil},
		// Row 7: a deleted tweet is an answer.
		{"7 missing status", 200, json, bodyMissing, 0,
			ActionOK, time.Time{}, "tweet not found: (144) _Missing: No status found with that ID.", []int{144}, nil},
		// Row 8: errors beside data.
		{"8 131 with data", 200, rateLeft(30), withData(bodyDep131), 0,
			ActionOK, time.Time{}, "partial data: (131) Dependency: Internal error.", []int{131}, nil},
		{"8 Dependency: Unspecified with data", 200, json, withData(bodyDepUnspec), 0,
			ActionOK, time.Time{}, "partial data: (-1) Dependency: Unspecified", []int{-1}, nil},
		{"8 LoadShed with data", 200, json, withData(bodyLoadShed), 0,
			ActionOK, time.Time{}, "partial data: (-1) LoadShed: Unspecified", []int{-1}, nil},
		// Row 9: LoadShed alone: retry the same account.
		{"9 LoadShed", 200, json, bodyLoadShed, 0,
			ActionTransient, now.Add(TransientCooldown), "X overloaded: (-1) LoadShed: Unspecified", []int{-1}, nil},
		// Row 10: other errors without data. X's internal errors rest no account: they
		// are often about one tweet, not the session.
		{"10 131 internal error", 200, json, bodyDep131, 0,
			ActionTransient, time.Time{}, "X internal error: (131) Dependency: Internal error.", []int{131}, nil},
		{"10 Dependency: Unspecified", 200, json, bodyDepUnspec, 0,
			ActionTransient, time.Time{}, "X internal error: (-1) Dependency: Unspecified", []int{-1}, nil},
		{"10 DeadlineExceeded", 200, json, bodyDeadline, 0,
			ActionTransient, time.Time{}, "X internal error: (-1) DeadlineExceeded", []int{-1}, nil},
		{"10 88 without rate headers", 429, json, bodyRate88, 0,
			ActionLock, now.Add(DefaultLock), "rate limited: (88) Rate limit exceeded.", []int{88}, nil},
		{"10 88 with reset but no remaining", 429, hdr("x-rate-limit-reset", resetS), bodyRate88, 0,
			ActionLock, reset, "rate limited: (88)", []int{88}, nil},
		{"10 csrf mismatch 353", 403, json, bodyCSRF353, 0,
			ActionAuthFailed, time.Time{}, "auth failed: (353) This request requires a matching csrf cookie and header.", []int{353}, nil},
		{"10 401 with another error", 401, json, `{"errors":[{"code":89,"message":"Invalid or expired token."}]}`, 0,
			ActionAuthFailed, time.Time{}, "auth failed: (89) Invalid or expired token.", []int{89}, nil},
		{"10 access denied to this request", 200, json, bodyDenied37, 0,
			ActionFailed, time.Time{}, "HTTP 200: (37) Authorization: Denied by access control: Missing LdapGroup", []int{37}, nil},
		{"10 page does not exist", 404, json, bodyNotFound34, 0,
			ActionFailed, time.Time{}, "HTTP 404: (34) Sorry, that page does not exist.", []int{34}, nil},
		// Row 11: a failure status and no error.
		{"11 401 bare", 401, hdr(), "", 0,
			ActionAuthFailed, time.Time{}, "auth failed: HTTP 401", nil, nil},
		{"11 404 empty: stale operation", 404, hdr("content-length", "0"), "", 0,
			ActionStaleOperation, time.Time{}, "HTTP 404 with an empty body: stale operation ID or bad x-client-transaction-id", nil, nil},
		{"11 404 {}: stale operation", 404, json, " {} \n", 0,
			ActionStaleOperation, time.Time{}, "HTTP 404 with an empty body", nil, nil},
		{"11 429 without headers", 429, hdr(), "", 0,
			ActionLock, now.Add(DefaultLock), "rate limited: HTTP 429 until 2026-08-07T12:15:00Z", nil, nil},
		{"11 429 with reset only", 429, hdr("x-rate-limit-reset", resetS), "", 0,
			ActionLock, reset, "rate limited: HTTP 429 until 2026-08-07T12:07:00Z", nil, nil},
		{"11 500 {}", 500, json, `{}`, 0,
			ActionTransient, time.Time{}, "X server error: HTTP 500", nil, nil},
		{"11 400 {}", 400, json, `{}`, 0,
			ActionLock, now.Add(DefaultLock), "unexpected HTTP 400", nil, nil},
		{"11 404 with text", 404, hdr("content-type", "text/plain"), "Not Found", 0,
			ActionLock, now.Add(DefaultLock), "unexpected HTTP 404", nil, nil},
		// Row 12: success.
		{"12 ok", 200, rateLeft(48), bodyData, 0,
			ActionOK, time.Time{}, "", nil, nil},
		{"12 ok after a bare 403 earlier", 200, json, bodyData, 1,
			ActionOK, time.Time{}, "", nil, nil},
		{"12 200 but not JSON", 200, hdr("content-type", "text/html"), "<html>login</html>", 0,
			ActionTransient, now.Add(TransientCooldown), "HTTP 200 with a body that is not JSON", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := Classify(now, tt.status, tt.h, []byte(tt.body), nil, tt.prior403)
			if v.Action != tt.want {
				t.Fatalf("Action = %v (%s), want %v", v.Action, v.Reason, tt.want)
			}
			if !v.Until.Equal(tt.until) {
				t.Errorf("Until = %v, want %v", v.Until, tt.until)
			}
			if !strings.HasPrefix(v.Reason, tt.reason) || (tt.reason == "" && v.Reason != "") {
				t.Errorf("Reason = %q, want prefix %q", v.Reason, tt.reason)
			}
			if !slices.Equal(v.Codes, tt.codes) {
				t.Errorf("Codes = %v, want %v", v.Codes, tt.codes)
			}
			if !slices.Equal(v.StaleFeatures, tt.stale) {
				t.Errorf("StaleFeatures = %v, want %v", v.StaleFeatures, tt.stale)
			}
		})
	}
}

func TestClassifyRateHeaders(t *testing.T) {
	t.Parallel()
	now := time.Unix(1786000000, 0)
	v := Classify(now, 200, hdr("x-rate-limit-remaining", "12", "x-rate-limit-reset", "1786000600"), []byte(bodyData), nil, 0)
	if v.Remaining != 12 || !v.Reset.Equal(time.Unix(1786000600, 0)) {
		t.Fatalf("Remaining, Reset = %d, %v", v.Remaining, v.Reset)
	}
	v = Classify(now, 200, hdr("x-rate-limit-remaining", "many"), []byte(bodyData), nil, 0)
	if v.Remaining != -1 || !v.Reset.IsZero() {
		t.Fatalf("unusable headers: Remaining, Reset = %d, %v", v.Remaining, v.Reset)
	}
}

// timeoutErr is a net.Error that timed out, as http.Client's Timeout produces.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassifyTransportErrors(t *testing.T) {
	t.Parallel()
	now := time.Unix(1786000000, 0)
	// A proxy's password must never reach Reason, which is stored and shown.
	proxy := &url.Error{Op: "Get", URL: "https://x.com/i/api/graphql/x/SearchTimeline", Err: &net.OpError{
		Op: "proxyconnect", Net: "tcp", Err: errors.New("dial tcp user:s3cretpw@10.0.0.1:8080: connection refused")}}
	tests := []struct {
		name   string
		err    error
		want   Action
		reason string
	}{
		{"timeout", &url.Error{Op: "Get", URL: "https://x.com/", Err: timeoutErr{}}, ActionTransient, "network: timeout"},
		{"deadline", fmt.Errorf("page 2: %w", context.DeadlineExceeded), ActionTransient, "network: timeout"},
		{"os deadline", &url.Error{Op: "Get", URL: "u", Err: os.ErrDeadlineExceeded}, ActionTransient, "network: timeout"},
		{"dns", &url.Error{Op: "Get", URL: "u", Err: &net.DNSError{Err: "no such host", Name: "x.com"}}, ActionTransient, "network: DNS lookup failed"},
		{"refused", &url.Error{Op: "Get", URL: "u", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, ActionTransient, "network: connection refused"},
		{"reset", &url.Error{Op: "Get", URL: "u", Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}, ActionTransient, "network: connection closed"},
		{"eof", &url.Error{Op: "Get", URL: "u", Err: io.ErrUnexpectedEOF}, ActionTransient, "network: connection closed"},
		{"proxy", proxy, ActionTransient, "network: proxy connection failed"},
		{"other", errors.New("something odd"), ActionTransient, "network: request failed"},
		{"cancelled", &url.Error{Op: "Get", URL: "u", Err: context.Canceled}, ActionFailed, "request cancelled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := Classify(now, 0, nil, nil, tt.err, 0)
			if v.Action != tt.want || v.Reason != tt.reason {
				t.Fatalf("got %v %q, want %v %q", v.Action, v.Reason, tt.want, tt.reason)
			}
			if tt.want == ActionTransient && !v.Until.Equal(now.Add(TransientCooldown)) {
				t.Fatalf("Until = %v", v.Until)
			}
			if strings.Contains(v.Reason, "s3cret") {
				t.Fatal("Reason leaks the proxy password")
			}
		})
	}
}

func TestClassifyReasonIsShort(t *testing.T) {
	t.Parallel()
	long := `{"errors":[{"code":131,"message":"` + strings.Repeat("é", 400) + `"}]}`
	v := Classify(time.Now(), 200, nil, []byte(long), nil, 0)
	if len(v.Reason) > 304 || !strings.HasSuffix(v.Reason, "…") {
		t.Fatalf("Reason of %d bytes", len(v.Reason))
	}
	for _, r := range v.Reason {
		if r == '\uFFFD' {
			t.Fatal("Reason cut inside a rune")
		}
	}
}

func TestActionString(t *testing.T) {
	t.Parallel()
	if ActionOKThenLock.String() != "ok_then_lock" || ActionStaleOperation.String() != "stale_operation" || Action(99).String() != "action(99)" {
		t.Fatal("Action names")
	}
}

func BenchmarkClassifyLargePage(b *testing.B) {
	page := []byte(`{"data":{"search_by_raw_query":{"search_timeline":{"timeline":{"instructions":[` +
		strings.Repeat(`{"type":"TimelineAddEntries","entries":[{"entryId":"tweet-1","content":{"itemContent":{"tweet_results":{"result":{"legacy":{"full_text":"hello world"}}}}}}]},`, 5000) +
		`{"type":"TimelineTerminateTimeline"}]}}}}}`)
	h := hdr("x-rate-limit-remaining", "10", "x-rate-limit-reset", "1786000600")
	now := time.Now()
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		if v := Classify(now, 200, h, page, nil, 0); v.Action != ActionOK {
			b.Fatal(v.Action)
		}
	}
}

func FuzzClassify(f *testing.F) {
	for _, b := range []string{bodyFeatures, bodyRate88, bodyLocked326, bodySusp37, bodyMissing, withData(bodyDep131), bodyLoadShed, bodyData, bodyCloudflare, "", "{}", "null", `{"data":null}`, `{"errors":{}}`, `{"data":[1]}`} {
		f.Add(200, "0", "1786000600", []byte(b), 0)
		f.Add(403, "", "", []byte(b), 1)
	}
	now := time.Unix(1786000000, 0)
	f.Fuzz(func(t *testing.T, status int, remaining, reset string, body []byte, prior403 int) {
		v := Classify(now, status, hdr("x-rate-limit-remaining", remaining, "x-rate-limit-reset", reset), body, nil, prior403)
		if v.Action < ActionOK || v.Action > ActionFailed {
			t.Fatalf("unknown action %d", v.Action)
		}
		switch v.Action {
		case ActionOKThenLock, ActionLock, ActionCooldown:
			if v.Until.Before(now) || v.Until.After(now.Add(MaxLock)) {
				t.Fatalf("%v until %v", v.Action, v.Until)
			}
		case ActionTransient:
			// X's own server errors rest no account (zero Until); the others rest it briefly.
			if !v.Until.IsZero() && (v.Until.Before(now) || v.Until.After(now.Add(MaxLock))) {
				t.Fatalf("%v until %v", v.Action, v.Until)
			}
		}
		if len(v.Reason) > 310 {
			t.Fatalf("Reason of %d bytes", len(v.Reason))
		}
	})
}
