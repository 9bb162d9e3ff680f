package analyze_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"nexus/pipeline/analyze"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func TestBudgetDayRollsOverAtUTCMidnight(t *testing.T) {
	// 23:30 in New York is 04:30 UTC the next day: the UTC date decides.
	ny := time.FixedZone("EST", -5*3600)
	c := &clock{t: time.Date(2026, 3, 1, 18, 0, 0, 0, ny)} // 23:00 UTC, March 1
	b := analyze.NewBudget(1000, c.now)
	b.Spend(1000)
	if err := b.Allow(); !errors.Is(err, analyze.ErrBudgetExceeded) {
		t.Fatalf("Allow = %v, want exceeded", err)
	}
	c.set(time.Date(2026, 3, 1, 18, 59, 0, 0, ny)) // 23:59 UTC
	if b.Allow() == nil {
		t.Fatal("budget came back before midnight UTC")
	}
	c.set(time.Date(2026, 3, 1, 19, 0, 0, 0, ny)) // 00:00 UTC, March 2
	if err := b.Allow(); err != nil || b.UsedToday() != 0 {
		t.Fatalf("after midnight UTC: Allow = %v, used %d", err, b.UsedToday())
	}
	b.SetUsedToday(999)
	if b.Allow() != nil {
		t.Fatal("999 of 1000 should be allowed")
	}
}

func TestRunBudget(t *testing.T) {
	day := analyze.NewBudget(0, nil) // no daily limit
	run := day.Run(500)
	run.Spend(499)
	if run.Allow() != nil {
		t.Fatal("499 of 500 should be allowed")
	}
	run.Spend(1)
	if err := run.Allow(); !errors.Is(err, analyze.ErrBudgetExceeded) {
		t.Fatalf("Allow = %v", err)
	}
	if day.UsedToday() != 500 {
		t.Errorf("day used %d, want 500", day.UsedToday())
	}
	// A second run has its own count, and the same day.
	if day.Run(500).Allow() != nil {
		t.Error("a new run starts with its budget")
	}
	limited := analyze.NewBudget(600, nil)
	r1 := limited.Run(0)
	r1.Spend(600)
	if err := limited.Run(1000).Allow(); !errors.Is(err, analyze.ErrBudgetExceeded) {
		t.Errorf("the day's limit binds every run: %v", err)
	}
}

func TestBudgetConcurrent(t *testing.T) {
	day := analyze.NewBudget(0, nil)
	run := day.Run(0)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for range 100 {
				run.Spend(1)
				_ = run.Allow()
			}
		})
	}
	wg.Wait()
	if run.Used() != 5000 || day.UsedToday() != 5000 {
		t.Errorf("run %d, day %d, want 5000", run.Used(), day.UsedToday())
	}
}

// stub is an Analyzer that answers with a fixed cost, or fails.
type stub struct {
	calls   atomic.Int64
	tokens  int
	err     error
	running atomic.Int64
	peak    atomic.Int64
	gate    chan struct{}
}

func (s *stub) Analyze(ctx context.Context, _ analyze.Campaign, _ analyze.Conversation) (analyze.Result, error) {
	s.calls.Add(1)
	n := s.running.Add(1)
	defer s.running.Add(-1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return analyze.Result{}, ctx.Err()
		}
	}
	if s.err != nil {
		return analyze.Result{}, s.err
	}
	return analyze.Result{PromptTokens: s.tokens, ResponseTokens: 0}, nil
}

func TestMeteredStopsAnalysis(t *testing.T) {
	s := &stub{tokens: 400}
	run := analyze.NewBudget(0, nil).Run(1000)
	a := analyze.Metered(s, run)
	var stopped error
	for range 5 {
		if _, err := a.Analyze(context.Background(), analyze.Campaign{}, analyze.Conversation{}); err != nil {
			stopped = err
			break
		}
	}
	if !errors.Is(stopped, analyze.ErrBudgetExceeded) || s.calls.Load() != 3 || run.Used() != 1200 {
		t.Errorf("err %v after %d calls, %d tokens", stopped, s.calls.Load(), run.Used())
	}
}

func TestMeteredChargesFailedAnalyses(t *testing.T) {
	s := &stub{err: &analyze.FailedAnalysis{Err: errors.New("bad"), PromptTokens: 70, ResponseTokens: 30}}
	run := analyze.NewBudget(0, nil).Run(0)
	_, err := analyze.Metered(s, run).Analyze(context.Background(), analyze.Campaign{}, analyze.Conversation{})
	if err == nil || run.Used() != 100 {
		t.Errorf("err %v, used %d, want 100", err, run.Used())
	}
}

func TestLimit(t *testing.T) {
	s := &stub{gate: make(chan struct{})}
	a := analyze.Limit(s, 2)
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() { _, _ = a.Analyze(context.Background(), analyze.Campaign{}, analyze.Conversation{}) })
	}
	for s.running.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	// With two calls held, a third caller with a short deadline gives up waiting.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	_, err := a.Analyze(ctx, analyze.Campaign{}, analyze.Conversation{})
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting caller: err = %v", err)
	}
	close(s.gate)
	wg.Wait()
	if s.peak.Load() != 2 || s.calls.Load() != 6 {
		t.Errorf("peak %d, calls %d; want 2 and 6", s.peak.Load(), s.calls.Load())
	}
}
