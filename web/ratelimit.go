package web

import (
	"sync"
	"time"
)

// failureLimiter counts failures per key (an IP, an account) in a sliding window and
// refuses a key that reached max failures until the oldest one leaves the window.
// It lives in memory: Nexus is one process, and a restart forgetting the counts only
// gives a guesser ten more tries.
type failureLimiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	hits map[string][]time.Time
}

func newFailureLimiter(max int, window time.Duration, now func() time.Time) *failureLimiter {
	return &failureLimiter{max: max, window: window, now: now, hits: map[string][]time.Time{}}
}

// allow reports whether key may try again, and if not, how long until it may.
func (l *failureLimiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	h := l.prune(key, now)
	if len(h) < l.max {
		return true, 0
	}
	return false, h[0].Add(l.window).Sub(now)
}

// fail records a failure for key.
func (l *failureLimiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.hits[key] = append(l.prune(key, now), now)
	// Keep memory bounded under a spray of distinct keys: sweep everything expired
	// whenever the map grows large.
	if len(l.hits) > 10000 {
		for k := range l.hits {
			l.prune(k, now)
		}
	}
}

// reset forgets key's failures (after a successful login on that account).
func (l *failureLimiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.hits, key)
}

func (l *failureLimiter) prune(key string, now time.Time) []time.Time {
	h := l.hits[key]
	i := 0
	for i < len(h) && now.Sub(h[i]) >= l.window {
		i++
	}
	h = h[i:]
	if len(h) == 0 {
		delete(l.hits, key)
		return nil
	}
	l.hits[key] = h
	return h
}
