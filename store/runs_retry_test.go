package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestRunAfterAFailedOne: a run that found tweets but could not fetch their threads
// ends failed with the reason a job gave (SetRunError), and the next run, finding the
// same tweets, fetches the threads the campaign still lacks, and only those.
func TestRunAfterAFailedOne(t *testing.T) {
	t.Parallel()
	s := openTest(t, filepath.Join(t.TempDir(), "nexus.db"))
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	c, err := s.CreateCampaign(ctx, Campaign{OrgID: org.ID, Name: "c", Keywords: []string{"go"}, Threshold: 70})
	if err != nil {
		t.Fatal(err)
	}
	hits := []StoredTweet{
		{ID: "100", ConversationID: "100", Username: "u", CreatedAt: time.Now(), Data: []byte("{}")},
		{ID: "101", ConversationID: "101", Username: "u", CreatedAt: time.Now(), Data: []byte("{}")},
	}
	threadJobs := func(runID int64) int {
		n, err := s.Count(ctx, `SELECT COUNT(*) FROM jobs WHERE run_id = ? AND kind = 'thread'`, runID)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// finish ends every open job of a run (done, or failed with msg when fail is set),
	// then lets FinishIdleRuns close the run.
	finish := func(r Run, fail map[string]string) Run {
		t.Helper()
		jobs, err := s.ClaimJobs(ctx, "me", 100, time.Now(), time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		var res []JobResult
		for _, j := range jobs {
			if msg, ok := fail[j.Key]; ok {
				res = append(res, JobResult{ID: j.ID, Owner: "me", State: JobFailed, LastError: msg})
				continue
			}
			res = append(res, JobResult{ID: j.ID, Owner: "me", State: JobDone})
		}
		if err := s.FinishJobs(ctx, res); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FinishIdleRuns(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := s.Run(ctx, org.ID, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	r1, _ := s.CreateRun(ctx, org.ID, c.ID, "manual", "go", "", nil)
	s.StartRun(ctx, r1.ID)
	r1, _ = s.RunForJob(ctx, r1.ID)
	if _, err := s.SaveSearchPage(ctx, r1, SearchPage{Tweets: hits, Done: true}); err != nil {
		t.Fatal(err)
	}
	// Thread 100 is stored, 101 fails for want of accounts.
	if _, err := s.SaveThread(ctx, r1, ThreadUpdate{ConversationID: "100", HitID: "100", Tweets: hits[:1], Thread: []byte("[]"), ContentHash: "h"}); err != nil {
		t.Fatal(err)
	}
	const why = "no usable X account: none active"
	if err := s.SetRunError(ctx, r1.ID, why); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRunError(ctx, r1.ID, "a later reason"); err != nil {
		t.Fatal(err)
	}
	r1 = finish(r1, map[string]string{"run:1:thread:101": why})
	if r1.Status != RunFailed || r1.Error != why {
		t.Fatalf("first run: %s %q; want failed with %q", r1.Status, r1.Error, why)
	}

	r2, _ := s.CreateRun(ctx, org.ID, c.ID, "manual", "go", "", nil)
	s.StartRun(ctx, r2.ID)
	r2, _ = s.RunForJob(ctx, r2.ID)
	n, err := s.SaveSearchPage(ctx, r2, SearchPage{Tweets: hits, Done: true})
	if err != nil || n != 0 {
		t.Fatalf("second run's page: %d new (%v), want 0", n, err)
	}
	if got := threadJobs(r2.ID); got != 1 {
		t.Fatalf("second run queued %d thread jobs, want 1 (conversation 101 only)", got)
	}
	if _, err := s.JobByKey(ctx, "run:2:thread:101"); err != nil {
		t.Fatalf("the missing thread was not queued: %v", err)
	}
	if r2 = finish(r2, nil); r2.Status != RunSucceeded || r2.Error != "" {
		t.Fatalf("second run: %s %q", r2.Status, r2.Error)
	}
}
