package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/rs/zerolog"
)

// heartbeatEvery is how often the scheduler proves it is firing jobs; the health check
// fails when three beats are missed.
const heartbeatEvery = 10 * time.Second

// Scheduler starts jobs on a timetable (the campaigns' schedules, once they exist). It
// wraps gocron and carries a heartbeat job so that health proves jobs really fire.
type Scheduler struct {
	cron      gocron.Scheduler
	log       zerolog.Logger
	lastBeat  atomic.Int64 // unix nanoseconds
	running   atomic.Bool
	startedAt atomic.Int64 // unix nanoseconds
	heartbeat time.Duration
}

// NewScheduler builds a stopped scheduler.
func NewScheduler(log zerolog.Logger) (*Scheduler, error) {
	return newScheduler(log, heartbeatEvery)
}

func newScheduler(log zerolog.Logger, heartbeat time.Duration) (*Scheduler, error) {
	c, err := gocron.NewScheduler(gocron.WithLocation(time.UTC))
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	s := &Scheduler{cron: c, log: log, heartbeat: heartbeat}
	_, err = c.NewJob(gocron.DurationJob(s.heartbeat),
		gocron.NewTask(func() { s.lastBeat.Store(time.Now().UnixNano()) }),
		gocron.WithName("heartbeat"),
		gocron.WithStartAt(gocron.WithStartImmediately()),
		gocron.WithSingletonMode(gocron.LimitModeReschedule))
	if err != nil {
		return nil, fmt.Errorf("scheduler: heartbeat: %w", err)
	}
	return s, nil
}

// Start begins firing jobs.
func (s *Scheduler) Start() {
	s.startedAt.Store(time.Now().UnixNano())
	s.cron.Start()
	s.running.Store(true)
	s.log.Info().Msg("scheduler started")
}

// Stop stops the timetable and waits for running jobs until ctx ends.
func (s *Scheduler) Stop(ctx context.Context) error {
	if !s.running.CompareAndSwap(true, false) {
		return nil
	}
	if err := s.cron.ShutdownWithContext(ctx); err != nil {
		return fmt.Errorf("scheduler: shutdown: %w", err)
	}
	return nil
}

// Health fails when the scheduler is not running or its heartbeat stopped.
func (s *Scheduler) Health(context.Context) error {
	if !s.running.Load() {
		return errors.New("scheduler not running")
	}
	last := s.lastBeat.Load()
	if last == 0 {
		// Just started: the immediate beat may not have run yet, so count from start.
		last = s.startedAt.Load()
	}
	if age := time.Since(time.Unix(0, last)); age > 3*s.heartbeat {
		return fmt.Errorf("scheduler heartbeat is %s old", age.Round(time.Second))
	}
	return nil
}
