package pipeline

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"nexus/pipeline/deliver/sheets/sheetsfake"
	"nexus/pipeline/deliver/slack/slackfake"
	"nexus/pipeline/deliver/webhook/webhookfake"
	"nexus/store"
)

// TestRunDeliversEachOpportunityOnce: a run whose opportunities go to Slack, Sheets
// and a webhook delivers each to each exactly once, and a second run over the same
// data delivers nothing. (Slack paces one message a second per channel, so the short
// run has a handful of opportunities; -full has fifty.)
func TestRunDeliversEachOpportunityOnce(t *testing.T) {
	n := 6
	if *full {
		n = 50
	}
	env := newRunEnv(t, n, 3)
	ctx := context.Background()
	slack := slackfake.New(t)
	sheets := sheetsfake.New(t)
	hook := webhookfake.New(t, "hook-secret")
	env.senders.SheetsEndpoint = sheets.Endpoint()
	set := func(kind string, v any) {
		b, _ := json.Marshal(v)
		if err := env.st.SetIntegration(ctx, env.org.ID, kind, b, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	set("slack", SlackSettings{WebhookURL: slack.WebhookURL()})
	set("sheets", SheetsSettings{ServiceAccountJSON: string(sheets.ServiceAccountJSON()), SpreadsheetID: sheetsfake.SpreadsheetID})
	set("webhook", WebhookSettings{URL: hook.URL, Secret: "hook-secret"})
	env.campaign.Threshold = 40
	env.campaign.Routes = []store.Route{{Integration: "slack", Mode: "instant"}, {Integration: "sheets", Mode: "instant"},
		{Integration: "webhook", Mode: "instant"}}
	c, err := env.st.UpdateCampaign(ctx, env.campaign)
	if err != nil {
		t.Fatal(err)
	}
	env.campaign = c

	run := env.runToEnd(t)
	if run.Status != store.RunSucceeded {
		t.Fatalf("run: %+v", run)
	}
	opps := run.Progress.Opportunities
	if opps != n {
		t.Fatalf("%d opportunities, want %d (every conversation asks for a recommendation)", opps, n)
	}
	if run.Progress.Delivered != 3*n {
		dumpDeliveries(t, env.st, run.ID)
		t.Fatalf("%d deliveries sent, want %d", run.Progress.Delivered, 3*n)
	}
	rows := 0
	for _, tab := range sheets.Tabs() {
		if tab != "Sheet1" {
			rows += len(sheets.Rows(tab)) - 1 // minus the header
		}
	}
	if got := len(slack.Messages()); got != n {
		t.Fatalf("%d Slack messages, want %d", got, n)
	}
	if rows != n {
		t.Fatalf("%d sheet rows, want %d", rows, n)
	}
	if got := len(hook.Deliveries()); got != n {
		t.Fatalf("%d webhook calls, want %d", got, n)
	}

	// Nothing new on X: nothing delivered again.
	second := env.runToEnd(t)
	if second.Status != store.RunSucceeded || second.Progress.Delivered != 0 {
		t.Fatalf("second run: %+v", second)
	}
	if len(slack.Messages()) != n || len(hook.Deliveries()) != n {
		t.Fatalf("the second run delivered again: %d slack, %d webhook", len(slack.Messages()), len(hook.Deliveries()))
	}
}

func dumpDeliveries(t *testing.T, st *store.Store, runID int64) {
	ds, _ := st.RunDeliveries(context.Background(), 0, runID)
	for _, d := range ds {
		if d.State != "sent" {
			t.Logf("delivery %d to %s: %s %s", d.ID, d.Integration, d.State, d.Error)
		}
	}
}

// TestRunSendsDigests: on digest routes a run's opportunities are gathered and sent
// once, together, when everything else in the run is done.
func TestRunSendsDigests(t *testing.T) {
	env := newRunEnv(t, 8, 2)
	ctx := context.Background()
	hook := webhookfake.New(t, "")
	b, _ := json.Marshal(WebhookSettings{URL: hook.URL})
	if err := env.st.SetIntegration(ctx, env.org.ID, "webhook", b, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	env.campaign.Threshold = 40
	env.campaign.Routes = []store.Route{{Integration: "webhook", Mode: "digest"}}
	env.campaign, _ = env.st.UpdateCampaign(ctx, env.campaign)
	run := env.runToEnd(t)
	if run.Status != store.RunSucceeded || run.Progress.Opportunities != 8 || run.Progress.Delivered != 8 {
		t.Fatalf("run: %+v", run.Progress)
	}
	got := hook.Deliveries()
	if len(got) != 1 {
		t.Fatalf("%d webhook calls, want one digest", len(got))
	}
	var body struct {
		Event         string
		Opportunities []json.RawMessage
	}
	json.Unmarshal(got[0].Body, &body)
	if body.Event != "digest" || len(body.Opportunities) != 8 {
		t.Fatalf("digest body: event %q, %d opportunities", body.Event, len(body.Opportunities))
	}
}

// TestQuietHoursHoldDeliveries: during the campaign's quiet hours a delivery waits for
// the end of the window instead of going out (or being lost).
func TestQuietHoursHoldDeliveries(t *testing.T) {
	env := newRunEnv(t, 2, 1)
	ctx := context.Background()
	hook := webhookfake.New(t, "")
	b, _ := json.Marshal(WebhookSettings{URL: hook.URL})
	env.st.SetIntegration(ctx, env.org.ID, "webhook", b, []byte(`{}`))
	now := time.Now().UTC()
	env.campaign.Threshold = 40
	env.campaign.Routes = []store.Route{{Integration: "webhook", Mode: "instant"}}
	env.campaign.QuietHours = &store.QuietHours{Start: now.Add(-time.Hour).Format("15:04"), End: now.Add(time.Hour).Format("15:04"), TZ: "UTC"}
	env.campaign, _ = env.st.UpdateCampaign(ctx, env.campaign)
	run, err := env.runner.Start(ctx, env.campaign, "test")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := env.st.JobByKey(ctx, "deliver:1")
		if err == nil && j.State == store.JobQueued && j.Attempts > 0 {
			if j.RunAt.Before(now.Add(50 * time.Minute)) {
				t.Fatalf("held until %v, want the end of the window (~%v)", j.RunAt, now.Add(time.Hour))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivery was not held: %+v %v", j, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(hook.Deliveries()) != 0 {
		t.Fatal("delivered during quiet hours")
	}
	// The analysis job's own result is recorded in a batch just after; wait for it.
	for {
		r, _ := env.st.Run(ctx, env.org.ID, run.ID)
		if !r.Active() {
			t.Fatalf("run ended during quiet hours: %s", r.Status)
		}
		if r.Stage == "delivering" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run during quiet hours: %s %s", r.Status, r.Stage)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
