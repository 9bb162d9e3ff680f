package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"nexus/store"
)

func TestUICampaignForm(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	var changed []store.Campaign
	e.srv.opts.OnCampaignChange = func(c store.Campaign) { changed = append(changed, c) }
	form := url.Values{"name": {"Brand"}, "keywords": {"acme cloud, acmecloud\n#notatag"}, "phrases": {"switching from acme, really"},
		"match": {"any"}, "threshold": {"55"}, "lookback_hours": {"48"}, "schedule": {"@every 1m"}, "route_slack": {"digest"},
		"include_replies": {"on"}, "context": {"We sell Helio."}}
	rec := e.post("/campaigns", "admin", form)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "shortest interval") {
		t.Fatalf("a one-minute schedule: %d", rec.Code)
	}
	if body := rec.Body.String(); !strings.Contains(body, `value="Brand"`) || !strings.Contains(body, "switching from acme, really") ||
		!strings.Contains(body, `<option value="digest" selected>`) {
		t.Fatal("the form lost what was typed")
	}
	form.Set("schedule", "@every 30m")
	rec = e.post("/campaigns", "admin", form)
	if rec.Code != 303 {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	c, err := e.st.CampaignByName(context.Background(), e.org.ID, "Brand")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Header().Get("Location") != "/campaigns/"+itoa(c.ID) || len(changed) != 1 || changed[0].Schedule != "@every 30m" {
		t.Fatalf("redirect %q, scheduler told %+v", rec.Header().Get("Location"), changed)
	}
	if strings.Join(c.Keywords, "|") != "acme cloud|acmecloud|#notatag" || strings.Join(c.Phrases, "|") != "switching from acme, really" ||
		c.Threshold != 55 || c.LookbackHours != 48 || !c.IncludeReplies || len(c.Routes) != 1 || c.Routes[0].Mode != "digest" {
		t.Fatalf("stored %+v", c)
	}
	if rec := e.post("/campaigns", "admin", form); rec.Code != 400 || !strings.Contains(rec.Body.String(), "taken") {
		t.Fatalf("a second campaign of the same name: %d", rec.Code)
	}
	form.Set("threshold", "lots")
	if rec := e.post("/campaigns/"+itoa(c.ID), "admin", form); rec.Code != 400 || !strings.Contains(rec.Body.String(), "whole number") {
		t.Fatalf("a threshold that is not a number: %d", rec.Code)
	}
	for body, want := range map[string]string{
		`{"keywords":["acme cloud"],"exclude_words":["jobs"]}`: `"query":"acme cloud -jobs`,
		`{"keywords":[]}`:                     `"error":{"field":"query"`,
		`{"keywords":["x"],"schedule":"bad"}`: `"error":{"field":"schedule"`,
	} {
		req := httptest.NewRequest("POST", "/campaigns/preview", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(csrfHeader, e.csrf["member"])
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: e.cookie["member"]})
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("preview %s: %d %s, want %s", body, rec.Code, rec.Body, want)
		}
	}
}

func TestUIAccountsNeverEchoCookies(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	secret := "totally-secret-value-123"
	rec := e.post("/accounts", "admin", url.Values{"name": {"main"}, "cookies": {"ct0=" + secret}, "proxy": {"http://user:" + secret + "@proxy"}})
	if rec.Code != 400 || strings.Contains(rec.Body.String(), secret) || !strings.Contains(rec.Body.String(), `value="main"`) {
		t.Fatalf("refused account: %d, echoes the secret: %v", rec.Code, strings.Contains(rec.Body.String(), secret))
	}
	if rec := e.post("/accounts", "admin", url.Values{"name": {"main"}, "cookies": {"auth_token=" + secret + "; ct0=abc"}}); rec.Code != 303 {
		t.Fatalf("add: %d %s", rec.Code, rec.Body)
	}
	body := e.get("/accounts", "member").Body.String()
	if strings.Contains(body, secret) || !strings.Contains(body, "main") || !strings.Contains(body, "Ready") {
		t.Fatal("account list shows the cookie, or not the account")
	}
}

func TestUITokenSecretShownOnce(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	rec := e.post("/tokens", "member", url.Values{"name": {"nightly"}, "expires_in_days": {"30"}})
	if rec.Code != 201 {
		t.Fatalf("create: %d", rec.Code)
	}
	i := strings.Index(rec.Body.String(), "data-secret>")
	if i < 0 {
		t.Fatal("no secret on the page")
	}
	secret := rec.Body.String()[i+len("data-secret>"):]
	secret = secret[:strings.Index(secret, "<")]
	if _, err := e.st.AuthenticateToken(context.Background(), secret); err != nil {
		t.Fatalf("the shown token does not work: %v", err)
	}
	if strings.Contains(e.get("/tokens", "member").Body.String(), secret) {
		t.Fatal("the secret is shown again")
	}
	if rec := e.post("/tokens", "member", url.Values{"name": {"x"}, "user_id": {itoa(e.admin.ID)}}); rec.Code != 403 {
		t.Fatalf("a member issues a token for the admin: %d", rec.Code)
	}
}

func TestUIRunExplainsFailures(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	ctx := context.Background()
	c, _ := e.st.CreateCampaign(ctx, store.Campaign{OrgID: e.org.ID, Name: "c", Keywords: []string{"go"}, Match: "any", Threshold: 70})
	r, _ := e.st.CreateRun(ctx, e.org.ID, c.ID, "test", "go", "", nil)
	body := e.get("/runs/"+itoa(r.ID), "member").Body.String()
	if !strings.Contains(body, "data-live") || !strings.Contains(body, `class="current" data-stage="searching"`) {
		t.Fatal("an active run's page does not follow it live")
	}
	e.st.FinishRun(ctx, r.ID, store.RunFailed, "search failed: no usable X account: no active X account for SearchTimeline; add one or reactivate one")
	body = e.get("/runs/"+itoa(r.ID), "member").Body.String()
	if !strings.Contains(body, "No X account could search") || !strings.Contains(body, "add one or reactivate one") || strings.Contains(body, "data-live") {
		t.Fatal("a failed run is not explained in plain words with its details")
	}
	if rec := e.post("/campaigns/"+itoa(c.ID)+"/runs", "member", nil); rec.Code != 303 || !strings.HasPrefix(rec.Header().Get("Location"), "/runs/") {
		t.Fatalf("run again: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

func TestUIStaticAssets(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	page := e.get("/login", "").Body.String()
	i := strings.Index(page, "/static/app.css?v=")
	if i < 0 {
		t.Fatal("no versioned stylesheet link")
	}
	link := page[i : i+strings.Index(page[i:], `"`)]
	rec := e.get(link, "")
	if rec.Code != 200 || !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") {
		t.Fatalf("%s: %d %v", link, rec.Code, rec.Header())
	}
	if rec := e.get("/static/app.css?v=old", ""); rec.Header().Get("Cache-Control") != "public, max-age=60" {
		t.Fatalf("stale version cached for long: %q", rec.Header().Get("Cache-Control"))
	}
	for _, p := range []string{"/static/../ui.go", "/static/%2e%2e/ui.go", "/static/nope.js"} {
		if rec := e.get(p, ""); rec.Code != 404 {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
}

// TestUIDashboardFollowsDeletes checks that the dashboard's kept facts start over when
// a campaign (and what it found) is deleted.
func TestUIDashboardFollowsDeletes(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	s := seedStore(t, e.st, e.org.ID, seedOptions{Campaigns: 2, Conversations: 6, Replies: 1, Days: 3})
	kpi := func() string {
		body := e.get("/?window=7d", "admin").Body.String()
		i := strings.Index(body, "Conversations</span><span class=\"kpi-value\">")
		return body[i+len("Conversations</span><span class=\"kpi-value\">"):][:2]
	}
	if got := kpi(); got != "12" {
		t.Fatalf("conversations before: %q", got)
	}
	e.post("/campaigns/"+itoa(s.Campaigns[1].ID)+"/delete", "admin", nil)
	if got := kpi(); got != "6<" {
		t.Fatalf("conversations after deleting a campaign: %q", got)
	}
}
