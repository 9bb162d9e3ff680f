package analyze

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// TransientError marks a failure worth trying again: a 429, a 5xx, a timeout. After, when
// positive, is how long the server asked to wait (Retry-After, Gemini's RetryInfo).
// Providers return it; Retry acts on it; a caller that gets one back after the last
// attempt can reschedule its job after After.
type TransientError struct {
	Status int           // HTTP status, 0 for a transport failure
	After  time.Duration // the server's requested delay, 0 when it named none
	Err    error
}

func (e *TransientError) Error() string {
	if e.After > 0 {
		return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
	}
	return e.Err.Error()
}

func (e *TransientError) Unwrap() error { return e.Err }

// TransientStatus reports whether an HTTP status is worth retrying: 408, 429 and 5xx
// other than 501 (not implemented will not get better).
func TransientStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests ||
		(code >= 500 && code != http.StatusNotImplemented)
}

// RetryAfter reads a Retry-After header (seconds or an HTTP date) or, failing that, the
// retry-after-ms header some OpenAI-compatible servers send. It returns 0 when there is
// none or it is in the past.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
			return time.Duration(s * float64(time.Second))
		}
		if t, err := http.ParseTime(v); err == nil && t.After(now) {
			return t.Sub(now)
		}
	}
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	return 0
}

// Retry is a retry policy: exponential backoff with jitter on transient errors, the
// server's own delay when it names one, a bounded number of attempts. The zero value is
// usable and takes the defaults below. Sleep and Jitter are fields so that tests do not
// sleep (tailscale's backoff does the same with its clock).
type Retry struct {
	Attempts       int           // total attempts, the first included; default 4
	Base           time.Duration // first backoff; default 1s, doubling each attempt
	Max            time.Duration // cap on a computed backoff; default 30s
	MaxWait        time.Duration // a server delay longer than this is not waited for; default 2m
	AttemptTimeout time.Duration // deadline of one attempt; 0: none beyond ctx and the HTTP client

	// Sleep waits d or until ctx is done; nil sleeps on a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter turns a backoff d into the delay to wait; nil gives d/2 + rand[0, d).
	Jitter func(d time.Duration) time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 4
	}
	if r.Base <= 0 {
		r.Base = time.Second
	}
	if r.Max <= 0 {
		r.Max = 30 * time.Second
	}
	if r.MaxWait <= 0 {
		r.MaxWait = 2 * time.Minute
	}
	if r.Sleep == nil {
		r.Sleep = sleep
	}
	if r.Jitter == nil {
		r.Jitter = func(d time.Duration) time.Duration { return d/2 + rand.N(d) }
	}
	return r
}

// Do calls fn until it succeeds, fails for good, or the attempts run out. It retries a
// *TransientError, a network timeout, a connection reset or cut short, and an attempt
// that ran into AttemptTimeout while ctx was still alive. It waits the server's delay
// when one was given (giving up at once, with the error, if it is longer than MaxWait:
// the caller should reschedule rather than hold a worker), else Base·2ⁿ with jitter,
// capped at Max. It stops as soon as ctx is done and returns ctx's error then.
func (r Retry) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	r = r.withDefaults()
	var err error
	for attempt := 0; ; attempt++ {
		err = r.once(ctx, fn)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		transient, after := r.transient(err)
		if !transient || attempt+1 >= r.Attempts {
			return err
		}
		delay := after
		if delay > r.MaxWait {
			return err
		}
		if delay <= 0 {
			delay = r.Jitter(min(r.Base<<attempt, r.Max))
		}
		if serr := r.Sleep(ctx, delay); serr != nil {
			return fmt.Errorf("%w: %w", serr, err)
		}
	}
}

func (r Retry) once(ctx context.Context, fn func(ctx context.Context) error) error {
	if r.AttemptTimeout <= 0 {
		return fn(ctx)
	}
	actx, cancel := context.WithTimeoutCause(ctx, r.AttemptTimeout, errAttemptTimeout)
	defer cancel()
	err := fn(actx)
	if err != nil && ctx.Err() == nil && context.Cause(actx) == errAttemptTimeout {
		return &TransientError{Err: fmt.Errorf("attempt timed out after %s: %w", r.AttemptTimeout, err)}
	}
	return err
}

var errAttemptTimeout = errors.New("attempt timeout")

func (r Retry) transient(err error) (bool, time.Duration) {
	var te *TransientError
	if errors.As(err, &te) {
		return true, te.After
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true, 0
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) {
		return true, 0
	}
	return false, 0
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
