package analyze_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"nexus/pipeline/analyze"
	"nexus/pipeline/analyze/analyzetest"
)

// sleeper records the waits of a Retry instead of sleeping.
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeper) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.waits)
}

func policy(s *sleeper) analyze.Retry {
	return analyze.Retry{Sleep: s.sleep, Jitter: func(d time.Duration) time.Duration { return d }}
}

// failing returns fn that fails with errs in turn, then succeeds.
func failing(errs ...error) (func(context.Context) error, *int) {
	calls := 0
	return func(context.Context) error {
		calls++
		if calls <= len(errs) {
			return errs[calls-1]
		}
		return nil
	}, &calls
}

func transient(status int, after time.Duration) error {
	return &analyze.TransientError{Status: status, After: after, Err: errors.New(http.StatusText(status))}
}

func TestRetry(t *testing.T) {
	tests := []struct {
		name  string
		errs  []error
		retry func(analyze.Retry) analyze.Retry
		calls int
		waits []time.Duration
		fails bool
	}{
		{name: "backoff doubles", errs: []error{transient(500, 0), transient(503, 0)}, calls: 3, waits: []time.Duration{time.Second, 2 * time.Second}},
		{name: "retry after honoured", errs: []error{transient(429, 7*time.Second)}, calls: 2, waits: []time.Duration{7 * time.Second}},
		{name: "attempts bounded", errs: []error{transient(500, 0), transient(500, 0), transient(500, 0), transient(500, 0), transient(500, 0)},
			calls: 4, waits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, fails: true},
		{name: "backoff capped", errs: []error{transient(500, 0), transient(500, 0), transient(500, 0)},
			retry: func(r analyze.Retry) analyze.Retry { r.Max = 1500 * time.Millisecond; return r },
			calls: 4, waits: []time.Duration{time.Second, 1500 * time.Millisecond, 1500 * time.Millisecond}},
		{name: "too long a wait is not waited", errs: []error{transient(429, time.Hour)}, calls: 1, fails: true},
		{name: "permanent error", errs: []error{errors.New("400 bad request")}, calls: 1, fails: true},
		{name: "timeout is transient", errs: []error{&timeoutError{}}, calls: 2, waits: []time.Duration{time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &sleeper{}
			r := policy(s)
			if tc.retry != nil {
				r = tc.retry(r)
			}
			fn, calls := failing(tc.errs...)
			err := r.Do(context.Background(), fn)
			if (err != nil) != tc.fails {
				t.Fatalf("err = %v, fails = %v", err, tc.fails)
			}
			if *calls != tc.calls {
				t.Errorf("calls = %d, want %d", *calls, tc.calls)
			}
			if !slices.Equal(s.got(), tc.waits) {
				t.Errorf("waits = %v, want %v", s.got(), tc.waits)
			}
		})
	}
}

type timeoutError struct{}

func (*timeoutError) Error() string   { return "i/o timeout" }
func (*timeoutError) Timeout() bool   { return true }
func (*timeoutError) Temporary() bool { return true }

func TestRetryDefaultJitterStaysInRange(t *testing.T) {
	s := &sleeper{}
	r := analyze.Retry{Sleep: s.sleep, Attempts: 2}
	fn, _ := failing(transient(500, 0))
	for range 50 {
		s.waits = nil
		_ = r.Do(context.Background(), fn)
	}
	for _, w := range s.got() {
		if w < 500*time.Millisecond || w >= 1500*time.Millisecond {
			t.Fatalf("jittered wait %v outside [0.5s, 1.5s)", w)
		}
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := analyze.Retry{Sleep: func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }}
	fn, calls := failing(transient(503, 0), transient(503, 0))
	err := r.Do(ctx, fn)
	if !errors.Is(err, context.Canceled) || *calls != 1 {
		t.Fatalf("err = %v after %d calls", err, *calls)
	}
}

func TestRetryAttemptTimeout(t *testing.T) {
	s := &sleeper{}
	r := policy(s)
	r.AttemptTimeout = 10 * time.Millisecond
	calls := 0
	err := r.Do(context.Background(), func(ctx context.Context) error {
		calls++
		if calls == 1 {
			<-ctx.Done() // a server that never answers
			return ctx.Err()
		}
		return nil
	})
	if err != nil || calls != 2 {
		t.Fatalf("err = %v after %d calls", err, calls)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{"Retry-After": {"12"}}, 12 * time.Second},
		{http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second},
		{http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{http.Header{"Retry-After-Ms": {"250"}}, 250 * time.Millisecond},
		{http.Header{}, 0},
	} {
		if got := analyze.RetryAfter(tc.h, now); got != tc.want {
			t.Errorf("RetryAfter(%v) = %v, want %v", tc.h, got, tc.want)
		}
	}
}

// script is a CompleteFunc answering from a list, recording the requests.
type script struct {
	replies []analyze.Reply
	errs    []error
	reqs    []analyze.Request
}

func (s *script) complete(_ context.Context, req analyze.Request) (analyze.Reply, error) {
	i := len(s.reqs)
	s.reqs = append(s.reqs, req)
	var err error
	if i < len(s.errs) {
		err = s.errs[i]
	}
	if i < len(s.replies) {
		return s.replies[i], err
	}
	return analyze.Reply{}, err
}

func TestAskRepairsOnce(t *testing.T) {
	s := &script{replies: []analyze.Reply{
		{Text: "Sure! {relevance: high}", PromptTokens: 100, ResponseTokens: 10},
		{Text: analyzetest.Answer, PromptTokens: 130, ResponseTokens: 90},
	}}
	req := analyze.Request{System: "sys", Turns: []analyze.Turn{{Role: analyze.RoleUser, Text: "thread"}}}
	r, err := analyze.Ask(context.Background(), s.complete, analyze.Retry{}, req)
	if err != nil {
		t.Fatal(err)
	}
	if r.Relevance != 86 || r.PromptTokens != 230 || r.ResponseTokens != 100 {
		t.Errorf("result %+v", r)
	}
	if len(s.reqs) != 2 {
		t.Fatalf("%d requests", len(s.reqs))
	}
	rep := s.reqs[1].Turns
	if len(rep) != 3 || rep[1].Role != analyze.RoleModel || rep[1].Text != "Sure! {relevance: high}" ||
		!strings.Contains(rep[2].Text, "no complete JSON object") {
		t.Errorf("repair turns %+v", rep)
	}
}

func TestAskGivesUpAfterOneRepair(t *testing.T) {
	bad := strings.Replace(analyzetest.Answer, `"sentiment": "neutral"`, `"sentiment": "mixed"`, 1)
	s := &script{replies: []analyze.Reply{{Text: bad, PromptTokens: 10, ResponseTokens: 5}, {Text: bad + " ", PromptTokens: 20, ResponseTokens: 5}}}
	_, err := analyze.Ask(context.Background(), s.complete, analyze.Retry{}, analyze.Request{Turns: []analyze.Turn{{Role: analyze.RoleUser, Text: "x"}}})
	var fa *analyze.FailedAnalysis
	if !errors.As(err, &fa) {
		t.Fatalf("err = %v, want FailedAnalysis", err)
	}
	if fa.Raw != bad+" " || fa.PromptTokens != 30 || fa.ResponseTokens != 10 || !strings.Contains(fa.Err.Error(), "mixed") {
		t.Errorf("failed analysis %+v", fa)
	}
	if len(s.reqs) != 2 {
		t.Errorf("%d requests, want 2", len(s.reqs))
	}
}

func TestAskPassesTransportErrors(t *testing.T) {
	s := &script{errs: []error{errors.New("400 bad request")}}
	_, err := analyze.Ask(context.Background(), s.complete, analyze.Retry{}, analyze.Request{})
	var fa *analyze.FailedAnalysis
	if err == nil || errors.As(err, &fa) {
		t.Fatalf("err = %v", err)
	}
}
