package xfake

import (
	"net/http"
	"strconv"
	"time"
)

// Limit is X's per-account, per-operation quota: Requests per Window. Requests <= 0
// means unlimited (no rate-limit headers are sent then).
type Limit struct {
	Requests int
	Window   time.Duration
}

// defaultLimits are the quotas other projects measured on X (research §2.4, §6).
func defaultLimits() map[string]Limit {
	return map[string]Limit{
		OpSearchTimeline:   {Requests: 50, Window: 15 * time.Minute},
		OpTweetDetail:      {Requests: 150, Window: 15 * time.Minute},
		OpUserByScreenName: {Requests: 95, Window: 15 * time.Minute},
	}
}

type rateKey struct{ account, op string }

// window is one account's quota on one operation. It starts at the first request
// and ends at reset (a whole second, the header's value).
type window struct {
	used  int
	reset time.Time
}

// rateHeaders are the x-rate-limit-* values of one answer.
type rateHeaders struct {
	limit, remaining int
	reset            int64
}

func (r *rateHeaders) set(h http.Header) {
	if r.limit <= 0 {
		return
	}
	h.Set("x-rate-limit-limit", strconv.Itoa(r.limit))
	h.Set("x-rate-limit-remaining", strconv.Itoa(r.remaining))
	h.Set("x-rate-limit-reset", strconv.FormatInt(r.reset, 10))
}

// takeLocked counts one request of k against its quota. Like X, the request that
// brings remaining to 0 is served; the next one is limited until reset.
func (s *Server) takeLocked(k rateKey, now time.Time) (rateHeaders, bool) {
	l := s.limits[k.op]
	if l.Requests <= 0 {
		return rateHeaders{}, false
	}
	win := s.windows[k]
	if win == nil || !now.Before(win.reset) {
		reset := now.Add(l.Window)
		if reset.Truncate(time.Second) != reset {
			reset = reset.Truncate(time.Second).Add(time.Second)
		}
		win = &window{reset: reset}
		s.windows[k] = win
	}
	h := rateHeaders{limit: l.Requests, reset: win.reset.Unix()}
	if win.used >= l.Requests {
		return h, true
	}
	win.used++
	h.remaining = l.Requests - win.used
	return h, false
}

// SetRateLimit sets the quota of op for every account; windows already open keep
// their reset time.
func (s *Server) SetRateLimit(op string, l Limit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits[op] = l
}

// RateLimit reports an account's remaining quota on op and when its window resets
// (zero time when no window is open: the next request opens one).
func (s *Server) RateLimit(authToken, op string) (remaining int, reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.limits[op]
	win := s.windows[rateKey{authToken, op}]
	if win == nil || !s.clock().Before(win.reset) {
		return l.Requests, time.Time{}
	}
	return l.Requests - win.used, win.reset
}

// SetRemaining opens (or updates) the account's window on op with n requests left,
// e.g. 0 to start a test with an exhausted account.
func (s *Server) SetRemaining(authToken, op string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := rateKey{authToken, op}
	l := s.limits[op]
	now := s.clock()
	win := s.windows[k]
	if win == nil || !now.Before(win.reset) {
		reset := now.Add(l.Window).Truncate(time.Second).Add(time.Second)
		win = &window{reset: reset}
		s.windows[k] = win
	}
	win.used = max(l.Requests-n, 0)
}
