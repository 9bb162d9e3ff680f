package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Pool is the fixed set of worker goroutines. The job table is the queue of record; the
// pool only wakes workers, so a crash loses nothing that a restart cannot pick up again.
type Pool struct {
	size int
	log  zerolog.Logger
	now  func() time.Time

	wake    chan struct{}
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	alive   atomic.Int64 // workers inside their loop
	started atomic.Bool
	stopped atomic.Bool
}

// NewPool returns a pool of size workers; Start launches them.
func NewPool(size int, log zerolog.Logger) *Pool {
	return &Pool{size: size, log: log, now: time.Now, wake: make(chan struct{}, 1)}
}

// Start launches the workers. They run until Stop or until ctx ends.
func (p *Pool) Start(ctx context.Context) {
	ctx, p.cancel = context.WithCancel(ctx)
	p.started.Store(true)
	for range p.size {
		p.wg.Go(func() { p.work(ctx) })
	}
	p.log.Info().Int("workers", p.size).Msg("worker pool started")
}

func (p *Pool) work(ctx context.Context) {
	p.alive.Add(1)
	defer p.alive.Add(-1)
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
			// Job kinds are registered by the runs and delivery steps; until one is
			// claimed, a wake-up has nothing to do.
		}
	}
}

// Wake tells an idle worker that a job may be due. It never blocks.
func (p *Pool) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Stop asks the workers to finish and waits for them until ctx ends.
func (p *Pool) Stop(ctx context.Context) error {
	if !p.started.Load() || !p.stopped.CompareAndSwap(false, true) {
		return nil
	}
	p.cancel()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("worker pool: %d workers still busy: %w", p.alive.Load(), ctx.Err())
	}
}

// Health reports whether every worker is running.
func (p *Pool) Health(context.Context) error {
	switch {
	case !p.started.Load():
		return errors.New("worker pool not started")
	case p.stopped.Load():
		return errors.New("worker pool stopped")
	}
	if n := p.alive.Load(); n != int64(p.size) {
		return fmt.Errorf("%d of %d workers running", n, p.size)
	}
	return nil
}
