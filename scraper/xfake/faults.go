package xfake

import (
	"bytes"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Fault is an abnormal answer injected for a test. The zero Fault answers normally;
// each field changes one thing, and the Fault* constructors build the answers X is
// known to give. A fault fires after authentication and after the request has been
// counted against the account's rate limit (X counts every request it receives), so
// a fault's answer carries the real x-rate-limit-* headers unless NoRateHeaders.
type Fault struct {
	Name          string        // recorded in Request.Fault
	Delay         time.Duration // wait this long first (aborted when the client goes away)
	Reset         bool          // then drop the TCP connection with a reset, answering nothing
	Status        int           // with Body: the answer's status
	Body          []byte        // with Status: the answer's body (nil: empty)
	ContentType   string        // for Body; default application/json;charset=utf-8
	Header        http.Header   // extra response headers, e.g. cf-ray
	NoRateHeaders bool          // leave out x-rate-limit-*
	Exhaust       bool          // spend the account's quota on the operation: remaining 0 until the reset
	Partial       []XError      // answer the normal data with these errors beside it
	Truncate      bool          // answer the normal body cut in half: invalid JSON
}

// replaces reports whether f supplies its own status and body.
func (f *Fault) replaces() bool { return f.Status != 0 }

type faultRule struct {
	match  func(Request) bool
	f      Fault
	left   int                         // < 0: forever
	choose func(Request) (Fault, bool) // when set, decides instead of match and f
}

// InjectFault makes the next times requests that match answer with f (times <= 0:
// every matching request, until ClearFaults). A nil match matches every request.
// Rules are tried in the order they were injected; the first one left wins. match
// sees the request after authentication (Account, OpSeq and AccountOpSeq are set).
func (s *Server) InjectFault(match func(Request) bool, f Fault, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if times <= 0 {
		times = -1
	}
	if match == nil {
		match = func(Request) bool { return true }
	}
	s.faults = append(s.faults, &faultRule{match: match, f: f, left: times})
}

// InjectFaultFunc adds a rule that lets choose pick the fault of each request: it
// answers with the Fault choose returns when choose reports true, and passes the
// request on to the next rules otherwise. A storm of varied faults (each request
// drawing one at random) is one such rule. Like a match function, choose runs
// without the server's lock and sees the request after authentication.
func (s *Server) InjectFaultFunc(choose func(Request) (Fault, bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultRule{choose: choose, left: -1})
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// matchFault returns the fault for req, if any, counting it against its rule. The
// match functions run without the server's lock, so they may call its methods.
func (s *Server) matchFault(req *Request) *Fault {
	s.mu.Lock()
	rules := slices.Clone(s.faults)
	snapshot := *req
	s.mu.Unlock()
	for _, r := range rules {
		if r.choose != nil {
			f, ok := r.choose(snapshot)
			if !ok {
				continue
			}
			s.mu.Lock()
			req.Fault = f.Name
			s.mu.Unlock()
			return &f
		}
		if !r.match(snapshot) {
			continue
		}
		s.mu.Lock()
		if r.left == 0 {
			s.mu.Unlock()
			continue
		}
		if r.left > 0 {
			r.left--
		}
		f := r.f
		req.Fault = f.Name
		s.mu.Unlock()
		return &f
	}
	return nil
}

// applyFault turns the normal answer rep into the fault's. It reports false when
// nothing is to be written (connection reset, or the client left during a delay).
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, req *Request, rep reply, f *Fault) (reply, bool) {
	if f.Delay > 0 && !sleep(r.Context(), f.Delay) {
		return rep, false
	}
	if f.Reset {
		resetConn(w)
		return rep, false
	}
	if f.replaces() {
		rate := rep.rate
		rep = reply{status: f.Status, body: f.Body, header: f.Header, contentType: f.ContentType, rate: rate}
		if rep.contentType == "" && len(f.Body) > 0 {
			rep.contentType = jsonType
		}
	}
	if len(f.Partial) > 0 && rep.status == http.StatusOK && bytes.HasPrefix(rep.body, []byte("{")) {
		w := &jsonw{}
		w.obj()
		writeErrors(w, f.Partial)
		body := append(w.b, ',')
		rep.body = append(body, rep.body[1:]...)
	}
	if f.Truncate {
		rep.body = rep.body[:len(rep.body)/2]
	}
	if f.NoRateHeaders {
		rep.rate = nil
	}
	return rep, true
}

// resetConn closes the connection under w with SO_LINGER 0, so the client reads a
// TCP reset ("connection reset by peer"), not a clean end of stream.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// FaultError answers status with {"errors":[errs...]}.
func FaultError(status int, errs ...XError) Fault {
	name := "error"
	if len(errs) > 0 {
		name = "error " + strconv.Itoa(errs[0].Code)
	}
	return Fault{Name: name, Status: status, Body: ErrorBody(errs...)}
}

// FaultCouldNotAuthenticate is 401 code 32: the session expired or was banned.
func FaultCouldNotAuthenticate() Fault {
	return FaultError(http.StatusUnauthorized, ErrCouldNotAuthenticate)
}

// FaultSuspended is 403 code 64: the account is suspended (a ban).
func FaultSuspended() Fault { return FaultError(http.StatusForbidden, ErrSuspended) }

// FaultLocked is 403 code 326: the account is locked until unlocked by hand.
func FaultLocked() Fault { return FaultError(http.StatusForbidden, ErrLocked) }

// FaultRateLimited is a real rate limit arriving early: 429 code 88, the account's
// quota on the operation spent until its window resets, x-rate-limit-remaining 0.
func FaultRateLimited() Fault {
	f := FaultError(http.StatusTooManyRequests, ErrRateLimit)
	f.Exhaust = true
	return f
}

// FaultSoftBan is 429 code 88 while the rate headers still show quota left: what X
// answers a read-only (soft-banned) account, a ban rather than a rate limit.
func FaultSoftBan() Fault {
	f := FaultError(http.StatusTooManyRequests, ErrRateLimit)
	f.Name = "soft ban"
	return f
}

// FaultRateLimitedNoHeaders is 429 code 88 without any x-rate-limit-* header.
func FaultRateLimitedNoHeaders() Fault {
	f := FaultError(http.StatusTooManyRequests, ErrRateLimit)
	f.Name, f.NoRateHeaders = "429 no headers", true
	return f
}

// FaultFeatures is 400 code 336: the request lacks required feature flags.
func FaultFeatures(names ...string) Fault {
	return FaultError(http.StatusBadRequest, ErrFeatures(names...))
}

// FaultLoadShed is 200 {"errors":[{"code":-1,"message":"LoadShed: Unspecified"}]}
// with no data: transient, retry the same account.
func FaultLoadShed() Fault { return FaultError(http.StatusOK, ErrLoadShed) }

// FaultOverCapacity is 503 code 130 "Over capacity".
func FaultOverCapacity() Fault { return FaultError(http.StatusServiceUnavailable, ErrOverCapacity) }

// FaultDependency is 200 code 131 "Dependency: Internal error." with no data.
func FaultDependency() Fault { return FaultError(http.StatusOK, ErrDependencyInternal) }

// FaultPartial answers the normal data with errs beside it (default "Dependency:
// Unspecified"), which a client must accept as data.
func FaultPartial(errs ...XError) Fault {
	if len(errs) == 0 {
		errs = []XError{ErrDependencyUnspecified}
	}
	return Fault{Name: "partial", Partial: errs}
}

// FaultBare403 is 403 with the body {} and no error: "session expired or banned".
func FaultBare403() Fault {
	return Fault{Name: "bare 403", Status: http.StatusForbidden, Body: []byte("{}")}
}

// FaultBare401 is 401 with an empty body.
func FaultBare401() Fault { return Fault{Name: "bare 401", Status: http.StatusUnauthorized} }

// FaultServerError is 500 with the body {}.
func FaultServerError() Fault {
	return Fault{Name: "500", Status: http.StatusInternalServerError, Body: []byte("{}")}
}

// FaultEmpty404 is X's 404 with an empty body: a stale operation id or a bad
// x-client-transaction-id.
func FaultEmpty404() Fault {
	return Fault{Name: "empty 404", Status: http.StatusNotFound, NoRateHeaders: true}
}

// FaultCloudflare is Cloudflare's HTML challenge page (status 403 or 503) with a
// cf-ray header and no rate headers.
func FaultCloudflare(status int) Fault {
	return Fault{
		Name: "cloudflare " + strconv.Itoa(status), Status: status, Body: []byte(cloudflarePage),
		ContentType: "text/html; charset=UTF-8", NoRateHeaders: true,
		Header: http.Header{"Cf-Ray": {"8f1c2d3e4a5b6c7d-FRA"}, "Server": {"cloudflare"}, "Cf-Mitigated": {"challenge"}},
	}
}

// FaultSlow answers normally after d (or not at all when the client gives up first).
func FaultSlow(d time.Duration) Fault { return Fault{Name: "slow", Delay: d} }

// FaultReset drops the connection with a TCP reset instead of answering.
func FaultReset() Fault { return Fault{Name: "reset", Reset: true} }

// FaultInvalidJSON answers 200 with the normal body cut in half.
func FaultInvalidJSON() Fault { return Fault{Name: "invalid json", Truncate: true} }

// OnOperation matches requests for op.
func OnOperation(op string) func(Request) bool {
	return func(r Request) bool { return r.Operation == op }
}

// OnAccount matches requests from the session authToken.
func OnAccount(authToken string) func(Request) bool {
	return func(r Request) bool { return r.Account == authToken }
}

// OnSeq matches the n-th request the server received (Request.Seq).
func OnSeq(n int) func(Request) bool {
	return func(r Request) bool { return r.Seq == n }
}

// OnOpSeq matches the n-th request for op, whichever account sent it.
func OnOpSeq(op string, n int) func(Request) bool {
	return func(r Request) bool { return r.Operation == op && r.OpSeq == n }
}

// All matches when every m matches.
func All(ms ...func(Request) bool) func(Request) bool {
	return func(r Request) bool {
		for _, m := range ms {
			if !m(r) {
				return false
			}
		}
		return true
	}
}

const cloudflarePage = `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>` +
	`<meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><meta name="robots" content="noindex,nofollow">` +
	`</head><body><div class="main-wrapper" role="main"><div class="main-content"><h1 class="zone-name-title h1">x.com</h1>` +
	`<h2 class="h2" id="challenge-running">Checking if the site connection is secure</h2>` +
	`<noscript><div id="challenge-error-title">Enable JavaScript and cookies to continue</div></noscript>` +
	`</div></div><script>(function(){window._cf_chl_opt={cvId: '3',cZone: "x.com",cType: 'managed'};}());</script></body></html>`
