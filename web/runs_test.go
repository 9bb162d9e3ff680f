package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"nexus/store"
)

// TestRunEventsStreamProgressUntilDone follows a run over server-sent events while it
// changes, and sees the stream end with a "done" event carrying the final state.
func TestRunEventsStreamProgressUntilDone(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	run := newRunA(env, false)
	srv := httptest.NewServer(env.srv.Handler())
	defer srv.Close()
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/runs/%d/events", srv.URL, run.ID), nil)
	req.Header.Set("Authorization", "Bearer "+env.tokens["memberA"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := make(chan [2]string, 10)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		var name string
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				name = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok {
				events <- [2]string{name, v}
			}
		}
		close(events)
	}()
	first := <-events
	if first[0] != "progress" || !strings.Contains(first[1], `"status":"queued"`) {
		t.Fatalf("first event: %v", first)
	}
	ctx := context.Background()
	env.st.StartRun(ctx, run.ID)
	if ev := <-events; !strings.Contains(ev[1], `"status":"running"`) {
		t.Fatalf("second event: %v", ev)
	}
	env.st.CancelRun(ctx, env.orgA.ID, run.ID)
	var last [2]string
	for ev := range events {
		last = ev
	}
	if last[0] != "done" {
		t.Fatalf("stream ended on %v", last)
	}
	var got store.Run
	if err := json.Unmarshal([]byte(last[1]), &got); err != nil || got.Status != store.RunCancelled {
		t.Fatalf("final event: %s (%v)", last[1], err)
	}
}

func TestStartRunTwiceConflicts(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	c := newCampaignA(env)
	path := fmt.Sprintf("/api/v1/campaigns/%d/runs", c.ID)
	if rec := env.do("POST", path, env.tokens["memberA"], ""); rec.Code != 202 {
		t.Fatalf("first: %d %s", rec.Code, rec.Body)
	}
	rec := env.do("POST", path, env.tokens["memberA"], "")
	if rec.Code != 409 || decodeError(t, rec).Code != "run_active" {
		t.Fatalf("second: %d %s", rec.Code, rec.Body)
	}
}

func TestCampaignValidationNamesTheField(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	for _, tt := range []struct{ body, field string }{
		{`{"name":"x"}`, "query"},
		{`{"name":"x","keywords":["a"],"threshold":101}`, "threshold"},
		{`{"name":"x","keywords":["a"],"schedule":"every tuesday"}`, "schedule"},
		{`{"name":"x","keywords":["a"],"lang":"klingon"}`, "lang"},
		{`{"name":"","keywords":["a"]}`, "name"},
		{`{"name":"x","keywords":"a"}`, "keywords"},
		{`{"name":"x","keywords":["a"],"quiet_hours":{"start":"25:00","end":"07:00","tz":"UTC"}}`, "quiet_hours.start"},
		{`{"name":"x","keywords":["a"],"quiet_hours":{"start":"22:00","end":"07:00","tz":"Mars/Olympus"}}`, "quiet_hours.tz"},
	} {
		rec := env.do("POST", "/api/v1/campaigns", env.tokens["adminA"], tt.body)
		if rec.Code != 400 || !strings.Contains(decodeError(t, rec).Message, tt.field) {
			t.Fatalf("%s: %d %s (want field %s)", tt.body, rec.Code, rec.Body, tt.field)
		}
	}
	rec := env.do("POST", "/api/v1/campaigns", env.tokens["adminA"], `{"name":"ok","keywords":["crm"],"hashtags":["#saas"],"schedule":"@every 30m"}`)
	if rec.Code != 201 || !strings.Contains(rec.Body.String(), `"threshold":70`) || !strings.Contains(rec.Body.String(), `#saas`) {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
}

// TestInputHardening covers what the hostile-input table found.
func TestInputHardening(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	admin := env.tokens["adminA"]
	rec := env.do("POST", "/api/v1/tokens", admin, `{"name":"ci"}`)
	if rec.Code != 201 || !strings.Contains(rec.Body.String(), `"email":"admin@a.test"`) {
		t.Fatalf("token create: %d %s", rec.Code, rec.Body)
	}
	for _, tt := range []struct{ path, body string }{
		{"/api/v1/tokens", `{"name":"\u202egnp.exe"}`},
		{"/api/v1/tokens", `{"name":"zero\u200bwidth"}`},
		{"/api/v1/campaigns", `{"name":"\ufeffbom","keywords":["a"]}`},
		{"/api/v1/tokens", "{\"name\":\"\xff\xfe x\"}"},
	} {
		if rec := env.do("POST", tt.path, admin, tt.body); rec.Code != 400 {
			t.Fatalf("%s %q: %d %s", tt.path, tt.body, rec.Code, rec.Body)
		}
	}
	o := newOpportunityA(env)
	path := fmt.Sprintf("/api/v1/opportunities/%d/feedback", o.ID)
	if rec := env.do("POST", path, admin, `{"feedback":"relevant","note":"nul\u0000byte\u001b[31m"}`); rec.Code != 400 {
		t.Fatalf("control characters in a note: %d", rec.Code)
	}
	if rec := env.do("POST", path, admin, `{"feedback":"relevant","note":"two\nlines"}`); rec.Code != 200 {
		t.Fatalf("a note with a line break: %d %s", rec.Code, rec.Body)
	}
	// The request log says what the client got: a missing campaign is a 404.
	env.do("GET", "/api/v1/campaigns/987654", admin, "")
	if !strings.Contains(env.logs.String(), `"path":"/api/v1/campaigns/987654","status":404`) {
		t.Fatalf("log: %s", env.logs.String()[max(0, len(env.logs.String())-400):])
	}
}
