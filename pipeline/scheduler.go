package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/rs/zerolog"

	"nexus/store"
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

// campaignTag keys a campaign's job, so that a change replaces it.
func campaignTag(id int64) string { return fmt.Sprintf("campaign:%d", id) }

// SetCampaign (re)builds the campaign's scheduled job from its schedule: removed when
// the schedule is empty (or the campaign was deleted), replaced otherwise. The job only
// queues a run; a tick while the campaign still runs is skipped and logged, and gocron's
// singleton mode keeps two ticks of one campaign from overlapping.
func (s *Scheduler) SetCampaign(c store.Campaign, start func(ctx context.Context, c store.Campaign, trigger string) (store.Run, error)) error {
	s.cron.RemoveByTags(campaignTag(c.ID))
	if c.Schedule == "" {
		return nil
	}
	def := gocron.CronJob(c.Schedule, false)
	if every, ok := strings.CutPrefix(c.Schedule, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(every))
		if err != nil {
			return fmt.Errorf("campaign %d schedule %q: %w", c.ID, c.Schedule, err)
		}
		def = gocron.DurationJob(d)
	}
	log := s.log.With().Int64("campaign_id", c.ID).Str("schedule", c.Schedule).Logger()
	_, err := s.cron.NewJob(def, gocron.NewTask(func() {
		run, err := start(context.Background(), c, "schedule")
		switch {
		case errors.Is(err, store.ErrRunActive):
			log.Info().Msg("scheduled run skipped: the previous run is still in progress")
		case err != nil:
			log.Error().Err(err).Msg("scheduled run not started")
		default:
			log.Info().Int64("run_id", run.ID).Msg("scheduled run queued")
		}
	}), gocron.WithTags(campaignTag(c.ID)), gocron.WithName(c.Name),
		gocron.WithSingletonMode(gocron.LimitModeReschedule))
	if err != nil {
		return fmt.Errorf("campaign %d schedule %q: %w", c.ID, c.Schedule, err)
	}
	return nil
}

// ScheduledCampaigns is how many campaigns have a job (for health and tests).
func (s *Scheduler) ScheduledCampaigns() int {
	n := 0
	for _, j := range s.cron.Jobs() {
		for _, t := range j.Tags() {
			if strings.HasPrefix(t, "campaign:") {
				n++
			}
		}
	}
	return n
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
