package analyze

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrBudgetExceeded is returned, wrapped, by a budget that has no tokens left. A run that
// meets it stops analysing (the rest of the run goes on).
var ErrBudgetExceeded = errors.New("token budget exceeded")

// Budget counts the tokens spent per UTC day against a daily limit. One Budget is shared
// by every run of a process; each run takes a RunBudget from it. It is safe for
// concurrent use. A limit ≤ 0 means no limit.
type Budget struct {
	limit int64
	now   func() time.Time

	mu   sync.Mutex
	day  string // UTC date the count is for
	used int64
}

// NewBudget returns a daily budget of limit tokens; now is the clock (nil: time.Now).
func NewBudget(limit int64, now func() time.Time) *Budget {
	if now == nil {
		now = time.Now
	}
	return &Budget{limit: limit, now: now}
}

// roll resets the count when the UTC day has changed. b.mu must be held.
func (b *Budget) roll() {
	if d := b.now().UTC().Format(time.DateOnly); d != b.day {
		b.day, b.used = d, 0
	}
}

// SetUsedToday sets today's count, for a process that starts after it has already spent
// tokens today (the caller sums them from the stored analyses).
func (b *Budget) SetUsedToday(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll()
	b.used = n
}

// UsedToday is today's count.
func (b *Budget) UsedToday() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll()
	return b.used
}

// Allow returns an error wrapping ErrBudgetExceeded when today's tokens are spent.
func (b *Budget) Allow() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll()
	if b.limit > 0 && b.used >= b.limit {
		return fmt.Errorf("%w: %d of %d tokens used today (UTC)", ErrBudgetExceeded, b.used, b.limit)
	}
	return nil
}

// Spend adds n tokens to today's count.
func (b *Budget) Spend(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll()
	b.used += int64(n)
}

// Run starts the budget of one run: limit tokens (≤ 0: no limit) for the run, and the
// daily budget too.
func (b *Budget) Run(limit int64) *RunBudget {
	return &RunBudget{day: b, limit: limit}
}

// RunBudget counts the tokens of one run against the run's limit and the day's. It is
// safe for concurrent use.
type RunBudget struct {
	day   *Budget
	limit int64

	mu   sync.Mutex
	used int64
}

// Allow returns an error wrapping ErrBudgetExceeded when the run's or the day's tokens
// are spent.
func (r *RunBudget) Allow() error {
	r.mu.Lock()
	used := r.used
	r.mu.Unlock()
	if r.limit > 0 && used >= r.limit {
		return fmt.Errorf("%w: %d of %d tokens used by this run", ErrBudgetExceeded, used, r.limit)
	}
	if r.day != nil {
		return r.day.Allow()
	}
	return nil
}

// Spend adds n tokens to the run's count and the day's.
func (r *RunBudget) Spend(n int) {
	r.mu.Lock()
	r.used += int64(n)
	r.mu.Unlock()
	if r.day != nil {
		r.day.Spend(n)
	}
}

// Used is the run's count.
func (r *RunBudget) Used() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.used
}

// Meter is what Metered needs of a budget; *Budget and *RunBudget are meters.
type Meter interface {
	Allow() error
	Spend(tokens int)
}

// Metered wraps a with a budget: each Analyze first asks m, and returns its
// ErrBudgetExceeded error without calling a; then charges m what the call cost, a failed
// analysis included. Calls already in flight when the budget runs out still finish, so a
// budget can be overrun by the cost of the calls in flight; put Metered inside a
// Limiter (limiter.Wrap(Metered(a, m))) so that those are few and the check happens
// when a call gets its slot, not while it queues.
func Metered(a Analyzer, m Meter) Analyzer { return &metered{a: a, m: m} }

type metered struct {
	a Analyzer
	m Meter
}

func (w *metered) Analyze(ctx context.Context, c Campaign, conv Conversation) (Result, error) {
	if err := w.m.Allow(); err != nil {
		return Result{}, err
	}
	r, err := w.a.Analyze(ctx, c, conv)
	var fa *FailedAnalysis
	switch {
	case err == nil:
		w.m.Spend(r.Tokens())
	case errors.As(err, &fa):
		w.m.Spend(fa.PromptTokens + fa.ResponseTokens)
	}
	return r, err
}
