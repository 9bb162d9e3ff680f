package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func TestRunLifecycle(t *testing.T) {
	t.Parallel()
	s := openTest(t, filepath.Join(t.TempDir(), "nexus.db"))
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	other, _ := s.CreateOrganization(ctx, "B")
	c, err := s.CreateCampaign(ctx, Campaign{OrgID: org.ID, Name: "c", Keywords: []string{"go"}, Threshold: 70})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.CreateRun(ctx, org.ID, c.ID, "manual", "go", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRun(ctx, org.ID, c.ID, "manual", "go", "", nil); !errors.Is(err, ErrRunActive) {
		t.Fatalf("second run while active: %v", err)
	}
	if _, err := s.Run(ctx, other.ID, r.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another org's run: %v", err)
	}
	got, _ := s.Run(ctx, org.ID, r.ID)
	if got.Status != RunQueued || got.Stage != "searching" || got.Progress.Percent != 0 {
		t.Fatalf("queued run: %+v", got)
	}
	s.StartRun(ctx, r.ID)
	page := func(ids ...string) []StoredTweet {
		var out []StoredTweet
		for i, id := range ids {
			out = append(out, StoredTweet{ID: id, ConversationID: fmt.Sprint("conv", i%2), Username: "u", CreatedAt: time.Now(), Data: []byte("{}")})
		}
		return out
	}
	r, _ = s.Run(ctx, org.ID, r.ID)
	n, err := s.SaveSearchPage(ctx, r, SearchPage{Tweets: page("100", "101", "102"), NextCursor: "c1"})
	if err != nil || n != 3 {
		t.Fatalf("page 1: %d %v", n, err)
	}
	r, _ = s.Run(ctx, org.ID, r.ID)
	n, _ = s.SaveSearchPage(ctx, r, SearchPage{Tweets: page("102", "103"), Done: true})
	if n != 1 {
		t.Fatalf("page 2: %d new, want 1", n)
	}
	r, _ = s.Run(ctx, org.ID, r.ID)
	if r.NewestID != "103" || r.Progress.TweetsFound != 5 || r.Progress.TweetsNew != 4 || !r.SearchDone {
		t.Fatalf("after search: %+v", r)
	}
	counts, _ := s.JobCounts(ctx)
	if counts["queued"] != 3 { // the search job + one thread job per conversation (conv0, conv1)
		t.Fatalf("jobs: %v", counts)
	}
	// Finish the search job: the stage moves to threads.
	jobs, _ := s.ClaimJobs(ctx, "me", 10, time.Now(), time.Now().Add(time.Minute))
	for _, j := range jobs {
		if j.Kind == KindSearch {
			s.FinishJobs(ctx, []JobResult{{ID: j.ID, Owner: "me", State: JobDone}})
		}
	}
	r, _ = s.Run(ctx, org.ID, r.ID)
	if r.Stage != "threads" || r.Progress.Percent != 25 {
		t.Fatalf("threads stage: %s %d", r.Stage, r.Progress.Percent)
	}
	if ids, _ := s.FinishIdleRuns(ctx); len(ids) != 0 {
		t.Fatalf("finished a run with jobs left: %v", ids)
	}
	for _, j := range jobs {
		s.FinishJobs(ctx, []JobResult{{ID: j.ID, Owner: "me", State: JobDone}})
	}
	if ids, _ := s.FinishIdleRuns(ctx); len(ids) != 1 {
		t.Fatalf("idle run not finished: %v", ids)
	}
	r, _ = s.Run(ctx, org.ID, r.ID)
	if r.Status != RunSucceeded || r.Stage != "done" || r.Progress.Percent != 100 || r.FinishedAt == nil {
		t.Fatalf("finished run: %+v", r)
	}
	if id, _ := s.LastNewestID(ctx, c.ID); id != "103" {
		t.Fatalf("last newest id %q", id)
	}

	// Cancel drops queued jobs and ends the run.
	r2, _ := s.CreateRun(ctx, org.ID, c.ID, "manual", "go", "103", nil)
	r2, err = s.CancelRun(ctx, org.ID, r2.ID)
	if err != nil || r2.Status != RunCancelled {
		t.Fatalf("cancel: %+v %v", r2, err)
	}
	if j, _ := s.JobByKey(ctx, fmt.Sprintf("run:%d:search", r2.ID)); j.State != JobFailed {
		t.Fatalf("search job after cancel: %s", j.State)
	}

	// A list counts the progress of all its runs at once, each the same as alone.
	list, err := s.Runs(ctx, org.ID, c.ID, 10)
	if err != nil || len(list) != 2 || list[0].ID != r2.ID || list[1].ID != r.ID {
		t.Fatalf("runs: %+v %v", list, err)
	}
	if list[1].Progress.TweetsNew != 4 || list[1].Progress.TweetsFound != 5 || list[0].Progress.TweetsNew != 0 {
		t.Fatalf("listed progress: %+v, %+v", list[0].Progress, list[1].Progress)
	}
	for _, l := range list {
		one, _ := s.Run(ctx, org.ID, l.ID)
		if l.Stage != one.Stage || l.Progress != one.Progress {
			t.Fatalf("run %d listed as %s %+v, alone %s %+v", l.ID, l.Stage, l.Progress, one.Stage, one.Progress)
		}
	}
	if foreign, _ := s.Runs(ctx, other.ID, c.ID, 10); len(foreign) != 0 {
		t.Fatalf("another org lists %d runs", len(foreign))
	}
	idle, _ := s.CreateCampaign(ctx, Campaign{OrgID: org.ID, Name: "never run", Keywords: []string{"go"}, Threshold: 70})
	last, err := s.LastRuns(ctx, org.ID)
	if err != nil || len(last) != 1 || last[c.ID].ID != r2.ID || last[c.ID].Progress != list[0].Progress || last[c.ID].Stage != list[0].Stage {
		t.Fatalf("last runs: %+v %v", last, err)
	}
	if _, ok := last[idle.ID]; ok {
		t.Fatal("a campaign that never ran has a last run")
	}
	if foreign, _ := s.LastRuns(ctx, other.ID); len(foreign) != 0 {
		t.Fatalf("another org's last runs: %+v", foreign)
	}
}
