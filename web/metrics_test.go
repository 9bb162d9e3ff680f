package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"nexus/store"
)

// scrape reads /metrics through the router as token and parses the text format.
func scrape(t *testing.T, env *apiEnv, token string) map[string]*dto.MetricFamily {
	t.Helper()
	rec := env.do("GET", "/metrics", token, "")
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("content type %q", ct)
	}
	return parseMetrics(t, rec.Body.String())
}

func parseMetrics(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse metrics: %v\n%s", err, text)
	}
	return fams
}

// sample finds the series of family name whose labels include want.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

func gaugeValue(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	m := sample(fams, name, labels)
	if m == nil {
		t.Fatalf("no series %s%v", name, labels)
	}
	return m.GetGauge().GetValue()
}

func TestMetricsNeedAnAdmin(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	for _, c := range []struct {
		token string
		want  int
	}{{"", 401}, {"nexus_garbage", 401}, {env.tokens["revoked"], 401}, {env.tokens["memberA"], 403},
		{env.tokens["adminA"], 200}, {env.tokens["adminB"], 200}} {
		rec := env.do("GET", "/metrics", c.token, "")
		if rec.Code != c.want {
			t.Errorf("token %.12q: %d, want %d", c.token, rec.Code, c.want)
		}
		if c.want != 200 && strings.Contains(rec.Body.String(), "nexus_jobs") {
			t.Errorf("metrics leaked to %.12q", c.token)
		}
	}
}

func TestMetricsFamilies(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	fams := scrape(t, env, env.tokens["adminA"])
	for _, name := range []string{"nexus_http_request_duration_seconds", "nexus_runs", "nexus_jobs", "nexus_x_accounts",
		"nexus_deliveries", "nexus_opportunities", "go_goroutines", "process_resident_memory_bytes"} {
		if fams[name] == nil {
			t.Errorf("no family %s", name)
		}
	}
	for _, status := range []string{"queued", "running", "succeeded", "failed", "cancelled"} {
		gaugeValue(t, fams, "nexus_runs", map[string]string{"status": status})
	}
	for _, state := range []string{"queued", "running", "done", "failed", "dead"} {
		gaugeValue(t, fams, "nexus_jobs", map[string]string{"state": state})
	}
}

// TestMetricsHTTPHistogram: a request is counted under its route pattern and status
// class, never under the raw URL.
func TestMetricsHTTPHistogram(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	camp := newCampaignA(env)
	for range 3 {
		if rec := env.do("GET", fmt.Sprintf("/api/v1/campaigns/%d", camp.ID), env.tokens["memberA"], ""); rec.Code != 200 {
			t.Fatalf("get campaign: %d", rec.Code)
		}
	}
	env.do("GET", "/api/v1/campaigns/987654", env.tokens["memberA"], "")
	env.do("GET", "/no/such/page/42", "", "")
	env.do("BREW", "/api/v1/campaigns", "", "")
	fams := scrape(t, env, env.tokens["adminA"])
	h := sample(fams, "nexus_http_request_duration_seconds", map[string]string{"method": "GET", "route": "/api/v1/campaigns/:id", "status": "2xx"})
	if h == nil || h.GetHistogram().GetSampleCount() != 3 {
		t.Fatalf("histogram of GET /api/v1/campaigns/:id 2xx: %v", h)
	}
	if h := sample(fams, "nexus_http_request_duration_seconds", map[string]string{"route": "/api/v1/campaigns/:id", "status": "4xx"}); h == nil || h.GetHistogram().GetSampleCount() != 1 {
		t.Fatalf("histogram of the 404: %v", h)
	}
	if h := sample(fams, "nexus_http_request_duration_seconds", map[string]string{"method": "other"}); h == nil {
		t.Fatal("an unknown method is not counted as other")
	}
	for _, m := range fams["nexus_http_request_duration_seconds"].GetMetric() {
		for _, l := range m.GetLabel() {
			if strings.Contains(l.GetValue(), "987654") || strings.Contains(l.GetValue(), "/no/such") || l.GetValue() == "BREW" {
				t.Fatalf("a raw URL or method became a label: %v", m.GetLabel())
			}
		}
	}
}

func TestMetricsStoreGauges(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	ctx := context.Background()
	var jobs []store.Job
	for i := range 7 {
		jobs = append(jobs, store.Job{OrgID: env.orgA.ID, Kind: "test", Key: fmt.Sprintf("metrics-%d", i)})
	}
	if err := env.st.EnqueueJobs(ctx, jobs...); err != nil {
		t.Fatal(err)
	}
	claimed, err := env.st.ClaimJobs(ctx, "metrics-test", 2, time.Now(), time.Now().Add(time.Minute))
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %v %d", err, len(claimed))
	}
	newRunA(env, true) // a cancelled run
	newFullOpportunityA(env)

	// Three sessions of A, leased in turn (least recently used first): one is banned,
	// one rests after a bare 403, one is rate-limited on SearchTimeline.
	for range 3 {
		newXAccountA(env)
	}
	now := time.Now()
	lease := func(o store.XOutcome) {
		t.Helper()
		got, err := env.st.AcquireXAccount(ctx, env.orgA.ID, "SearchTimeline", now, now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if err := env.st.ReleaseXAccount(ctx, got.ID, "SearchTimeline", o); err != nil {
			t.Fatal(err)
		}
	}
	lease(store.XOutcome{Requests: 1, Errors: 1, Deactivate: true, LastError: "banned"})
	lease(store.XOutcome{Requests: 1, Errors: 1, CooldownUntil: now.Add(time.Hour), Bare403: true})
	lease(store.XOutcome{Requests: 1, Errors: 1, LockedUntil: now.Add(15 * time.Minute)})
	// An account of the other organization counts too: the metrics are the process's.
	if _, err := env.st.AddXAccount(ctx, env.orgB.ID, "b1", []byte(`{"auth_token":"t","ct0":"c"}`), "", "UA"); err != nil {
		t.Fatal(err)
	}

	fams := scrape(t, env, env.tokens["adminB"])
	for state, want := range map[string]float64{"queued": 5, "running": 2, "done": 0, "dead": 0} {
		if got := gaugeValue(t, fams, "nexus_jobs", map[string]string{"state": state}); got < want || (state != "queued" && got != want) {
			t.Errorf("nexus_jobs{state=%q} = %v, want %v", state, got, want)
		}
	}
	// The opportunity's run enqueued a search job of its own: queued counts it with ours.
	queued, err := env.st.JobCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := gaugeValue(t, fams, "nexus_jobs", map[string]string{"state": "queued"}); got != float64(queued["queued"]) {
		t.Errorf("nexus_jobs{queued} = %v, store says %d", got, queued["queued"])
	}
	if got := gaugeValue(t, fams, "nexus_runs", map[string]string{"status": "cancelled"}); got != 1 {
		t.Errorf("cancelled runs %v", got)
	}
	if got := gaugeValue(t, fams, "nexus_opportunities", map[string]string{"status": "new"}); got != 1 {
		t.Errorf("opportunities %v", got)
	}
	for state, want := range map[string]float64{"active": 2, "inactive": 1, "cooling_down": 1} {
		if got := gaugeValue(t, fams, "nexus_x_accounts", map[string]string{"state": state}); got != want {
			t.Errorf("nexus_x_accounts{state=%q} = %v, want %v", state, got, want)
		}
	}
	if got := gaugeValue(t, fams, "nexus_x_account_operation_locks", map[string]string{"operation": "SearchTimeline"}); got != 1 {
		t.Errorf("locked on SearchTimeline: %v", got)
	}
}

// TestMetricsHooks: the counters the app feeds from the X client and the analyzer,
// and the handler it may serve on server.metrics_addr.
func TestMetricsHooks(t *testing.T) {
	var none *Metrics
	none.XRequest("SearchTimeline", 200, "ok") // a nil Metrics ignores hooks
	none.LLMTokens("gemini", "m", 1, 1)

	m := NewMetrics(nil)
	m.XRequest("SearchTimeline", 200, "ok")
	m.XRequest("SearchTimeline", 200, "ok")
	m.XRequest("SearchTimeline", 429, "lock")
	m.XRequest("TweetDetail", 0, "failed")
	m.LLMTokens("gemini", "gemini-2.5-flash", 1200, 300)
	m.LLMTokens("gemini", "gemini-2.5-flash", 800, 0)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	fams := parseMetrics(t, rec.Body.String())
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"nexus_x_requests_total", map[string]string{"operation": "SearchTimeline", "status": "200", "action": "ok"}, 2},
		{"nexus_x_requests_total", map[string]string{"operation": "SearchTimeline", "status": "429", "action": "lock"}, 1},
		{"nexus_x_requests_total", map[string]string{"operation": "TweetDetail", "status": "0"}, 1},
		{"nexus_llm_tokens_total", map[string]string{"provider": "gemini", "kind": "prompt"}, 2000},
		{"nexus_llm_tokens_total", map[string]string{"provider": "gemini", "kind": "response"}, 300},
	} {
		s := sample(fams, c.name, c.labels)
		if s == nil || s.GetCounter().GetValue() != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, s, c.want)
		}
	}
	if fams["nexus_jobs"] != nil {
		t.Error("store gauges without a store")
	}
}
