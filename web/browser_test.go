package web

import (
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"nexus/pipeline"
	"nexus/pipeline/analyze/providers"
	"nexus/scraper"
	"nexus/scraper/xfake"
	"nexus/store"
)

var screenshots = flag.Bool("screenshots", false, "save PNGs of the main pages to docs/screenshots/")

const chromiumPath = "/usr/bin/chromium"

// hostile is a tweet that tries every way into the page: a script element, an
// attribute break-out with an event handler, a javascript: link.
const hostile = `is acmecloud any good? <script>alert(1)</script> "><img src=x onerror=alert(1)> javascript:alert(1)`

// browserEnv is the real server, pipeline and fake X, in-process.
type browserEnv struct {
	st   *store.Store
	x    *xfake.Server
	base string
}

func newBrowserEnv(t *testing.T) *browserEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "nexus.db"), store.Options{Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	x := xfake.New(xfake.WithCorpus(11, 400))
	x.AddAccount("tok-a", "ct0-a")
	x.AddAccount("tok-b", "ct0-b")
	users := x.Users()
	now := time.Now()
	roots := []string{
		"Can anyone recommend an alternative to acmecloud? The pricing doubled overnight.",
		"acmecloud support has been terrible this week, still waiting on a refund",
		"Switching from acmecloud to something self-hosted, any suggestions?",
		hostile,
		"Shipped our acmecloud migration today, smoother than expected!",
	}
	for i, text := range roots {
		// users 0 and 1 are the fake's own accounts; the corpus's authors follow.
		root := x.AddTweet(xfake.Tweet{AuthorID: users[2+i].ID, Text: text, CreatedAt: now.Add(-time.Duration(i+1) * 7 * time.Minute),
			LikeCount: int64(20 + 7*i), ReplyCount: 3, ViewCount: 4000})
		parent := root.ID
		for j, r := range []string{"Same here, the pricing page changed again.", "We moved last month, happy to share notes.", "Following this."} {
			rep := x.AddTweet(xfake.Tweet{AuthorID: users[10+i*3+j].ID, Text: r, InReplyToID: parent,
				CreatedAt: now.Add(-time.Duration(i+1)*7*time.Minute + time.Duration(j+1)*time.Minute)})
			if j == 0 {
				parent = rep.ID
			}
		}
	}
	analyzer, err := providers.New(providers.Config{Provider: "heuristic"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var pool *pipeline.Pool
	runner := pipeline.NewRunner(pipeline.RunnerOptions{Store: st, Analyzer: analyzer, Log: zerolog.Nop(),
		NewClient: func(accounts scraper.AccountStore) (*scraper.Client, error) {
			return scraper.New(scraper.Options{APIBase: x.URL(), WebBase: x.RootURL(), TransactionID: "off", Accounts: accounts,
				Log: zerolog.Nop(), WaitForAccount: time.Minute})
		},
		Wake: func() { pool.Wake() },
	})
	pool = pipeline.NewPool(st, pipeline.PoolOptions{Size: 4, Handlers: runner.Handlers()}, zerolog.Nop())
	pool.Start(ctx)
	go runner.Watch(ctx, 100*time.Millisecond)
	srv, err := New(Options{Log: zerolog.Nop(), Store: st, BodyLimit: 1 << 20, Runs: runner, EventInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		cancel()
		pool.Stop(context.Background())
		x.Close()
		st.Close()
	})
	return &browserEnv{st: st, x: x, base: ts.URL}
}

// TestBrowser walks the product as a person would, in a real browser against the real
// server, pipeline and X client (X itself is the fake): set up, log in, add accounts,
// create a campaign, run it, read a conversation, judge an opportunity, export them.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "true" {
			t.Skipf("%s not installed (apt-get install chromium); CI=true makes this a failure", chromiumPath)
		}
		t.Fatalf("CI needs %s: %v", chromiumPath, err)
	}
	if testing.Short() {
		t.Skip("-short")
	}
	env := newBrowserEnv(t)
	b := newBrowser(t, env.base)

	// First run: everything leads to the set-up form.
	b.open("/campaigns")
	b.wait("redirect to set-up", `location.pathname === "/setup"`, 10*time.Second)
	b.shot("setup")
	b.fill("form", map[string]string{"organization": "Acme", "email": "admin@acme.test", "password": testPassword, "password2": testPassword})
	b.do("submit set-up", chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))
	b.wait("dashboard after set-up", `location.pathname === "/" && !!document.querySelector(".kpis")`, 10*time.Second)

	// Log out and back in.
	b.do("log out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
	b.wait("login page", `location.pathname === "/login"`, 10*time.Second)
	b.expect("401", "/login")
	b.fill("form", map[string]string{"email": "admin@acme.test", "password": "wrong password"})
	b.do("submit wrong login", chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))
	b.wait("wrong password refused", `document.querySelector(".error") && document.querySelector(".error").textContent.includes("Wrong e-mail or password")`, 10*time.Second)
	b.shot("login")
	b.fill("form", map[string]string{"email": "admin@acme.test", "password": testPassword})
	b.do("submit login", chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))
	b.wait("dashboard after login", `location.pathname === "/" && !!document.querySelector(".kpis")`, 10*time.Second)

	// Two X sessions, pasted as cookie headers.
	for _, a := range []string{"a", "b"} {
		b.open("/accounts")
		b.fill(`form[action="/accounts"]`, map[string]string{"name": "research-" + a, "cookies": "auth_token=tok-" + a + "; ct0=ct0-" + a})
		b.do("add account", chromedp.Click(chromedp.CSS(`form[action="/accounts"] button`)))
		b.wait("account added", `document.querySelector(".flash") && document.querySelector(".flash").textContent.includes("added")`, 10*time.Second)
	}

	// A campaign, with the live preview of its query.
	b.open("/campaigns/new")
	b.fill("[data-campaign-form]", map[string]string{"name": "Acme Cloud", "threshold": "40",
		"context": "We sell Helio, a simpler cloud host. Opportunities: people unhappy with acmecloud or asking for alternatives."})
	b.do("type keywords", chromedp.SendKeys(chromedp.CSS(`textarea[name="keywords"]`), "acmecloud"))
	b.wait("query preview", `document.querySelector("[data-preview-query]").textContent.includes("acmecloud")`, 10*time.Second)
	b.shot("campaign-form")
	b.do("create campaign", chromedp.Click(chromedp.CSS(`[data-campaign-form] button[type="submit"]`)))
	b.wait("campaign page", `/^\/campaigns\/\d+$/.test(location.pathname)`, 10*time.Second)
	campaignPath := eval[string](b, `location.pathname`)

	// Run it and follow the progress until it is done.
	b.do("run now", chromedp.Click(chromedp.CSS(`form[action$="/runs"] button`)))
	b.wait("run page", `/^\/runs\/\d+$/.test(location.pathname)`, 10*time.Second)
	b.wait("run succeeded", `document.querySelector("[data-run-status]").textContent.trim() === "succeeded" && !document.querySelector("[data-live]")`, 90*time.Second)
	if v := eval[int](b, `document.querySelector("[data-run-progress]").value`); v != 100 {
		t.Fatalf("finished run shows %d%%", v)
	}
	if n := eval[int](b, `+document.querySelector('[data-k="opportunities"]').textContent`); n == 0 {
		t.Fatalf("the run found no opportunity")
	}
	b.shot("run")

	// The hostile tweet's conversation: its text is text, nothing ran.
	b.open(campaignPath)
	href := eval[string](b, `(Array.from(document.querySelectorAll(".convs a.conv-main")).find(a => a.textContent.includes("<script>")) || {}).href || ""`)
	if href == "" {
		t.Fatalf("the hostile tweet's conversation is not listed as text")
	}
	b.do("open conversation", chromedp.Navigate(href), chromedp.WaitReady(chromedp.CSS(".thread")))
	text := eval[string](b, `document.querySelector(".thread").innerText`)
	for _, want := range []string{"<script>alert(1)</script>", `"><img src=x onerror=alert(1)>`, "Same here"} {
		if !strings.Contains(text, want) {
			t.Errorf("conversation text lacks %q:\n%s", want, text)
		}
	}
	if n := eval[int](b, `document.querySelectorAll("main img, main script, [onerror]").length + document.scripts.length - 1`); n != 0 {
		t.Errorf("%d injected elements in the page", n)
	}
	if bad := eval[int](b, `Array.from(document.querySelectorAll("a[href]")).filter(a => !/^(https:\/\/x\.com\/|\/|http:\/\/127\.0\.0\.1)/.test(a.getAttribute("href"))).length`); bad != 0 {
		t.Errorf("%d links that are neither local nor to x.com", bad)
	}

	// An opportunity: thumbs up, persisted; then done.
	b.open("/opportunities")
	b.wait("opportunities listed", `document.querySelectorAll(".opp").length > 0`, 10*time.Second)
	b.shot("opportunities")
	b.do("thumbs up", chromedp.Click(chromedp.CSS(`.opp [data-fb="up"]`)))
	b.wait("feedback shown", `document.querySelector('.opp [data-fb="up"]').getAttribute("aria-pressed") === "true"`, 10*time.Second)
	b.open("/opportunities")
	b.wait("feedback kept", `document.querySelector('.opp [data-fb="up"]').classList.contains("on")`, 10*time.Second)
	first := eval[string](b, `document.querySelector(".opp").dataset.opp`)
	b.do("mark done", chromedp.Click(chromedp.CSS(`.opp .when-open button[value="done"]`)))
	b.wait("marked done", `document.querySelector(".opp [data-opp-status]").textContent === "done"`, 10*time.Second)
	var st string
	ctx := context.Background()
	for _, o := range mustOpps(t, env.st, ctx) {
		if fmt.Sprint(o.ID) == first {
			st = fmt.Sprintf("%s/%d", o.Status, o.Feedback)
		}
	}
	if st != "done/1" {
		t.Errorf("opportunity %s stored as %q, want done/1", first, st)
	}

	// The CSV export the inbox links to.
	csv := eval[string](b, `fetch(document.querySelector("[data-export]").href.replace("status=new", "")).then(r => r.ok ? r.text() : "HTTP " + r.status)`)
	if !strings.HasPrefix(csv, "id,campaign,created_at") || strings.Count(csv, "\n") < 2 {
		t.Errorf("CSV export: %.300q", csv)
	}

	// An integration, through the JSON API from the page: a refusal is shown in the
	// form, a valid one is saved, then removed (after a confirmation).
	b.open("/integrations")
	b.expect("400", "/api/v1/integrations/webhook")
	b.fill(`[data-integration-form="webhook"]`, map[string]string{"url": "http://10.0.0.1/hook"})
	b.do("save private webhook", chromedp.Click(chromedp.CSS(`[data-integration-form="webhook"] button[type="submit"]`)))
	b.wait("refusal shown", `document.querySelector('[data-integration-form="webhook"] [data-result]').textContent.includes("refused")`, 10*time.Second)
	b.fill(`[data-integration-form="webhook"]`, map[string]string{"url": "https://93.184.216.34/hook", "secret": "s3cret"})
	b.do("save webhook", chromedp.Click(chromedp.CSS(`[data-integration-form="webhook"] button[type="submit"]`)))
	b.wait("webhook configured", `document.querySelector('[data-kind="webhook"] .pill').textContent === "configured"`, 10*time.Second)
	if strings.Contains(eval[string](b, `document.body.innerHTML`), "s3cret") {
		t.Error("the webhook secret is shown")
	}
	b.do("remove webhook", chromedp.Click(chromedp.CSS(`[data-integration-form="webhook"] [data-action="delete"]`)))
	b.wait("webhook removed", `document.querySelector('[data-kind="webhook"] .pill').textContent === "not set up"`, 10*time.Second)

	if *screenshots {
		takeScreenshots(t, b, env, campaignPath)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.dialogs) > 0 {
		t.Errorf("dialogs opened (an injected script ran?): %v", b.dialogs)
	}
	if len(b.console) > 0 {
		t.Errorf("console errors and warnings:\n%s", strings.Join(b.console, "\n"))
	}
}

func mustOpps(t *testing.T, st *store.Store, ctx context.Context) []store.Opportunity {
	orgs, err := st.Organizations(ctx)
	if err != nil || len(orgs) != 1 {
		t.Fatalf("organizations: %v %v", orgs, err)
	}
	os, err := st.Opportunities(ctx, orgs[0].ID, store.OpportunityFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return os
}

// takeScreenshots adds a month of history to the organization, so the dashboard has
// something to draw, and saves the main pages: desktop, a 375 px phone, dark mode.
func takeScreenshots(t *testing.T, b *browser, env *browserEnv, campaignPath string) {
	ctx := context.Background()
	orgs, _ := env.st.Organizations(ctx)
	seedStore(t, env.st, orgs[0].ID, seedOptions{Campaigns: 2, Conversations: 140, Replies: 3, Days: 30,
		Names: []string{"Competitor watch", "Support pain"}})
	b.open("/?window=30d")
	b.shot("dashboard")
	b.open("/campaigns")
	b.shot("campaigns")
	b.open(campaignPath)
	b.shot("campaign")
	href := eval[string](b, `document.querySelector(".convs a.conv-main").href`)
	b.do("open conversation", chromedp.Navigate(href), chromedp.WaitReady(chromedp.CSS(".thread")))
	b.shot("conversation")
	b.open("/accounts")
	b.shot("accounts")
	b.open("/integrations")
	b.shot("integrations")

	b.do("phone viewport", chromedp.EmulateViewport(375, 812, chromedp.EmulateScale(2)))
	b.open("/?window=30d")
	b.shotScreen("dashboard-mobile")
	b.open("/opportunities")
	b.shotScreen("opportunities-mobile")
	b.do("desktop viewport", chromedp.EmulateViewport(1280, 900))
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatal(err)
	}
	b.open("/?window=30d")
	b.shot("dashboard-dark")
	b.open(campaignPath)
	href = eval[string](b, `document.querySelector(".convs a.conv-main").href`)
	b.do("open conversation", chromedp.Navigate(href), chromedp.WaitReady(chromedp.CSS(".thread")))
	b.shot("conversation-dark")
}
