package deliver

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// PermanentError is a failure that retrying cannot fix: bad or revoked credentials, a
// missing channel or spreadsheet, a refused target, a 4xx other than 408 and 429.
// The runner marks the delivery failed and surfaces Err to the user.
type PermanentError struct {
	Err error
}

// Error returns the message of the wrapped error.
func (e *PermanentError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error, so errors.Is sees through the class.
func (e *PermanentError) Unwrap() error { return e.Err }

// RetryError is a failure that may pass: a rate limit, a 5xx, a timeout. After is
// how long the service asked us to wait (Retry-After); zero leaves the delay to the
// runner's backoff.
type RetryError struct {
	After time.Duration
	Err   error
}

// Error returns the wrapped error's message and the requested wait.
func (e *RetryError) Error() string {
	if e.After > 0 {
		return fmt.Sprintf("%s (retry after %s)", e.Err, e.After)
	}
	return e.Err.Error()
}

// Unwrap returns the wrapped error, so errors.Is sees through the class.
func (e *RetryError) Unwrap() error { return e.Err }

// Permanent wraps err as a *PermanentError; nil stays nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// Retry wraps err as a *RetryError that asks for a wait of after; nil stays nil.
func Retry(after time.Duration, err error) error {
	if err == nil {
		return nil
	}
	return &RetryError{After: after, Err: err}
}

// IsPermanent reports whether err, or an error it wraps, is a *PermanentError.
func IsPermanent(err error) bool {
	var pe *PermanentError
	return errors.As(err, &pe)
}

// RetryAfter returns the wait a *RetryError in err's chain asks for, and whether
// there is one.
func RetryAfter(err error) (time.Duration, bool) {
	var re *RetryError
	if errors.As(err, &re) {
		return re.After, true
	}
	return 0, false
}

// ClassifyStatus turns a non-2xx HTTP status into an error class for cause: 408, 425,
// 429 and 5xx are retryable (honouring Retry-After), every other status is permanent.
// It is the one place the HTTP senders share this decision.
func ClassifyStatus(status int, h http.Header, now time.Time, cause error) error {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooEarly,
		status == http.StatusTooManyRequests, status >= 500:
		return Retry(ParseRetryAfter(h.Get("Retry-After"), now), cause)
	default:
		return Permanent(cause)
	}
}

// maxRetryAfter bounds what a remote server can ask for, so a hostile or broken
// Retry-After cannot park a delivery for a year.
const maxRetryAfter = 24 * time.Hour

// ParseRetryAfter reads a Retry-After value, either delay-seconds or an HTTP date
// (RFC 9110 §10.2.3). It returns 0 when the value is absent or unreadable.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
