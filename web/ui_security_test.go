package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"nexus/store"
)

// cookieOf returns the value a response set for a cookie.
func cookieOf(rec *httptest.ResponseRecorder, name string) string {
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func TestUISetupThenLogin(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "nexus.db"), store.Options{Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, _ := New(Options{Log: zerolog.Nop(), Store: st, BodyLimit: 1 << 20})
	send := func(method, path string, form url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec
	}
	for _, p := range []string{"/", "/campaigns", "/login"} {
		if rec := send("GET", p, nil); rec.Code != 303 || rec.Header().Get("Location") != "/setup" {
			t.Fatalf("GET %s before set-up: %d %q", p, rec.Code, rec.Header().Get("Location"))
		}
	}
	page := send("GET", "/setup", nil)
	tok := cookieOf(page, formCookie)
	if page.Code != 200 || tok == "" || !strings.Contains(page.Body.String(), `value="`+tok+`"`) {
		t.Fatalf("set-up form: %d, token %q", page.Code, tok)
	}
	fields := url.Values{"organization": {"Acme"}, "email": {"admin@acme.test"}, "password": {testPassword}, "password2": {testPassword}}
	if rec := send("POST", "/setup", fields, &http.Cookie{Name: formCookie, Value: tok}); rec.Code != 403 {
		t.Fatalf("set-up without the form token: %d", rec.Code)
	}
	fields.Set("csrf", tok)
	bad := url.Values{}
	for k, v := range fields {
		bad[k] = v
	}
	bad.Set("password2", "something else entirely")
	if rec := send("POST", "/setup", bad, &http.Cookie{Name: formCookie, Value: tok}); rec.Code != 400 || !strings.Contains(rec.Body.String(), "differ") {
		t.Fatalf("mismatched passwords: %d", rec.Code)
	}
	rec := send("POST", "/setup", fields, &http.Cookie{Name: formCookie, Value: tok})
	if rec.Code != 303 || rec.Header().Get("Location") != "/" || cookieOf(rec, sessionCookie) == "" {
		t.Fatalf("set-up: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := send("GET", "/", nil, &http.Cookie{Name: sessionCookie, Value: cookieOf(rec, sessionCookie)}); rec.Code != 200 {
		t.Fatalf("dashboard after set-up: %d", rec.Code)
	}
	if rec := send("GET", "/setup", nil); rec.Code != 303 || rec.Header().Get("Location") != "/login" {
		t.Fatalf("set-up page afterwards: %d", rec.Code)
	}

	login := func(password, next string) *httptest.ResponseRecorder {
		f := url.Values{"email": {"admin@acme.test"}, "password": {password}, "csrf": {tok}, "next": {next}}
		return send("POST", "/login", f, &http.Cookie{Name: formCookie, Value: tok})
	}
	if rec := login("wrong password", "/"); rec.Code != 401 || !strings.Contains(rec.Body.String(), "Wrong e-mail or password") {
		t.Fatalf("wrong password: %d", rec.Code)
	}
	for next, want := range map[string]string{"/opportunities?status=done": "/opportunities?status=done", "//evil.example/x": "/",
		"https://evil.example": "/", "/\\evil.example": "/"} {
		if rec := login(testPassword, next); rec.Code != 303 || rec.Header().Get("Location") != want {
			t.Errorf("next=%q: %d to %q, want %q", next, rec.Code, rec.Header().Get("Location"), want)
		}
	}
	for range loginMaxPerIP {
		login("wrong password", "/")
	}
	if rec := login(testPassword, "/"); rec.Code != 429 {
		t.Fatalf("after %d failures: %d, want 429", loginMaxPerIP, rec.Code)
	}
}

func TestUICSRFAndRoles(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	ctx := context.Background()
	c, _ := e.st.CreateCampaign(ctx, store.Campaign{OrgID: e.org.ID, Name: "c", Keywords: []string{"go"}, Match: "any", Threshold: 70})
	path := "/campaigns/" + itoa(c.ID) + "/delete"
	for name, tok := range map[string]string{"no token": "", "wrong token": "x" + e.csrf["admin"], "the member's token": e.csrf["member"]} {
		rec := e.request("POST", path, "admin", url.Values{"csrf": {tok}})
		if rec.Code != 403 || !strings.Contains(rec.Body.String(), "expired") {
			t.Errorf("%s: %d", name, rec.Code)
		}
	}
	if rec := e.post(path, "member", nil); rec.Code != 403 || !strings.Contains(rec.Body.String(), "admin role") {
		t.Fatalf("member deletes a campaign: %d", rec.Code)
	}
	if _, err := e.st.Campaign(ctx, e.org.ID, c.ID); err != nil {
		t.Fatalf("campaign gone after refused requests: %v", err)
	}
	for page, adminOnly := range map[string]string{"/campaigns": `href="/campaigns/new"`, "/accounts": `action="/accounts"`,
		"/users": `action="/users"`, "/integrations": "data-integration-form"} {
		if body := e.get(page, "member").Body.String(); strings.Contains(body, adminOnly) {
			t.Errorf("member sees %s on %s", adminOnly, page)
		}
		if body := e.get(page, "admin").Body.String(); !strings.Contains(body, adminOnly) {
			t.Errorf("admin lacks %s on %s", adminOnly, page)
		}
	}
	if rec := e.post(path, "admin", nil); rec.Code != 303 || rec.Header().Get("Location") != "/campaigns" {
		t.Fatalf("admin deletes: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := e.get("/campaigns", ""); rec.Code != 303 || !strings.HasPrefix(rec.Header().Get("Location"), "/login?next=") {
		t.Fatalf("logged out: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

// TestUIEscapesHostileTweets stores a conversation whose every field a stranger
// controls is an attack, and checks every page that shows it.
func TestUIEscapesHostileTweets(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	ctx := context.Background()
	camp, _ := e.st.CreateCampaign(ctx, store.Campaign{OrgID: e.org.ID, Name: `<b>camp</b>`, Keywords: []string{"go"}, Match: "any", Threshold: 10})
	run, _ := e.st.CreateRun(ctx, e.org.ID, camp.ID, "test", "go", "", nil)
	id := store.SnowflakeMin(time.Now().Add(-time.Hour))
	tweet, _ := json.Marshal(map[string]any{"id": id, "conversation_id": id, "url": "javascript:alert(1)",
		"username": `x"><script>alert(1)</script>`, "display_name": `<img src=x onerror=alert(2)>`,
		"text": `go <script>alert(3)</script> "><svg onload=alert(4)> javascript:alert(5)`, "links": []string{"javascript:alert(6)"},
		"created_at": time.Now().UTC()})
	if _, err := e.st.SaveSearchPage(ctx, run, store.SearchPage{Tweets: []store.StoredTweet{{ID: id, ConversationID: id, Username: "x", Data: tweet}}, Done: true}); err != nil {
		t.Fatal(err)
	}
	conv, err := e.st.SaveThread(ctx, run, store.ThreadUpdate{ConversationID: id, HitID: id, ContentHash: "h",
		Tweets: []store.StoredTweet{{ID: id, ConversationID: id, Username: "x", Data: tweet}}, Thread: json.RawMessage(`[{"id":"` + id + `","depth":0}]`)})
	if err != nil {
		t.Fatal(err)
	}
	res, _ := json.Marshal(map[string]any{"relevance": 90, "sentiment": "<i>neg</i>", "intent": "<u>x</u>", "opportunity": true,
		"opportunity_reason": "<script>alert(7)</script>", "insights": []string{"<script>alert(8)</script>"},
		"suggested_replies": []string{`"><script>alert(9)</script>`}})
	e.st.SaveAnalysis(ctx, run, conv, store.Analysis{CacheKey: "k", Status: "ok", Result: res, Relevance: 90, Opportunity: true,
		Provider: "p", Model: "m"}, "h", store.OpportunityDecision{Is: true, Relevance: 90})
	e.st.FinishRun(ctx, run.ID, store.RunFailed, `<script>alert(10)</script>`)

	href := regexp.MustCompile(`(?i)(href|src|action)="([^"]*)"`)
	for _, p := range []string{"/", "/campaigns", "/campaigns/" + itoa(camp.ID), "/conversations/" + itoa(conv.ID), "/opportunities",
		"/runs/" + itoa(run.ID)} {
		rec := e.get(p, "admin")
		body := rec.Body.String()
		if rec.Code != 200 {
			t.Fatalf("%s: %d", p, rec.Code)
		}
		for _, bad := range []string{"<script>alert", "<img src=x", "<svg onload", "<b>camp", "<i>neg", "<u>x"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s renders %q unescaped", p, bad)
			}
		}
		for _, m := range href.FindAllStringSubmatch(body, -1) {
			if u := m[2]; strings.Contains(strings.ToLower(u), "javascript") || !(strings.HasPrefix(u, "/") || strings.HasPrefix(u, "https://x.com/")) {
				t.Errorf("%s: %s=%q", p, m[1], u)
			}
		}
	}
	body := e.get("/conversations/"+itoa(conv.ID), "admin").Body.String()
	if !strings.Contains(body, "&lt;script&gt;alert(3)&lt;/script&gt;") || !strings.Contains(body, `href="https://x.com/i/status/`+id+`"`) {
		t.Fatal("the tweet is not shown as text, or its link is not built from its id")
	}
	if !strings.Contains(body, `https://x.com/intent/post?in_reply_to=`+id+`&amp;text=%22%3E%3Cscript%3Ealert%289%29%3C%2Fscript%3E`) {
		t.Fatal("the suggested reply's composer link is not an escaped intent URL")
	}
}
