package analyze

import (
	"context"
	"fmt"
)

// Limiter bounds how many analyses run at once across every analyzer it wraps: one
// Limiter per provider keeps a local model from being flooded and a hosted one under its
// rate limit, however many runs share it.
type Limiter struct {
	sem chan struct{}
}

// NewLimiter returns a limiter of n calls at once; n ≤ 0 means no limit (a nil Limiter).
func NewLimiter(n int) *Limiter {
	if n <= 0 {
		return nil
	}
	return &Limiter{sem: make(chan struct{}, n)}
}

// Wrap returns a that waits for a slot of l (or for ctx) before each call. A nil l
// returns a as it is.
func (l *Limiter) Wrap(a Analyzer) Analyzer {
	if l == nil {
		return a
	}
	return &limited{a: a, l: l}
}

// Limit wraps a so that at most n calls run at once (n ≤ 0: no limit).
func Limit(a Analyzer, n int) Analyzer { return NewLimiter(n).Wrap(a) }

type limited struct {
	a Analyzer
	l *Limiter
}

func (w *limited) Analyze(ctx context.Context, c Campaign, conv Conversation) (Result, error) {
	select {
	case w.l.sem <- struct{}{}:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("wait for an analysis slot: %w", ctx.Err())
	}
	defer func() { <-w.l.sem }()
	return w.a.Analyze(ctx, c, conv)
}
