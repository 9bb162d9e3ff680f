package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestSchedulerHeartbeat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := newScheduler(zerolog.Nop(), time.Hour) // the immediate beat, then none during the test
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Health(ctx); err == nil {
		t.Fatal("healthy before start")
	}
	s.Start()
	deadline := time.Now().Add(5 * time.Second)
	for s.lastBeat.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := s.Health(ctx); err != nil {
		t.Fatalf("after start: %v", err)
	}
	// A heartbeat three intervals old means the scheduler stopped firing.
	s.lastBeat.Store(time.Now().Add(-4 * time.Hour).UnixNano())
	if err := s.Health(ctx); err == nil {
		t.Fatal("healthy with a stale heartbeat")
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Health(ctx); err == nil {
		t.Fatal("healthy after stop")
	}
}
