package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"nexus/pipeline"
	"nexus/store"
)

// uiEnv is a server on a real database with one organization, an admin and a member,
// each with a browser session.
type uiEnv struct {
	t      testing.TB
	st     *store.Store
	srv    *Server
	logs   *syncBuffer
	org    store.Organization
	admin  store.Member
	member store.Member
	cookie map[string]string // admin | member → session cookie
	csrf   map[string]string
}

func newUIEnv(t testing.TB) *uiEnv {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "nexus.db"), store.Options{Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &uiEnv{t: t, st: st, logs: &syncBuffer{}, cookie: map[string]string{}, csrf: map[string]string{}}
	e.srv, err = New(Options{Log: zerolog.New(e.logs), Store: st, BodyLimit: 1 << 20,
		Runs: pipeline.NewRunner(pipeline.RunnerOptions{Store: st}), EventInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := store.HashPassword(testPassword)
	e.org, e.admin, err = st.Setup(ctx, "Acme", "admin@acme.test", hash)
	if err != nil {
		t.Fatal(err)
	}
	if e.member, err = st.AddMember(ctx, e.org.ID, "member@acme.test", hash, store.RoleMember); err != nil {
		t.Fatal(err)
	}
	for who, m := range map[string]store.Member{"admin": e.admin, "member": e.member} {
		ck, p, err := st.CreateSession(ctx, e.org.ID, m.ID, "192.0.2.1", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		e.cookie[who], e.csrf[who] = ck, p.CSRFToken
	}
	return e
}

// request sends a browser-like request as who ("" for nobody).
func (e *uiEnv) request(method, path, who string, form url.Values) *httptest.ResponseRecorder {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, path, body)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if who != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: e.cookie[who]})
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return rec
}

func (e *uiEnv) get(path, who string) *httptest.ResponseRecorder {
	return e.request("GET", path, who, nil)
}

// post submits a form as who with their CSRF token.
func (e *uiEnv) post(path, who string, form url.Values) *httptest.ResponseRecorder {
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", e.csrf[who])
	}
	return e.request("POST", path, who, form)
}

func TestUIPagesRender(t *testing.T) {
	e := newUIEnv(t)
	s := seedStore(t, e.st, e.org.ID, seedOptions{Campaigns: 2, Conversations: 12, Replies: 3, Days: 7})
	ctx := context.Background()
	camp := s.Campaigns[0]
	runs, _ := e.st.Runs(ctx, e.org.ID, camp.ID, 1)
	convs, _ := e.st.Conversations(ctx, e.org.ID, camp.ID, 1, 0)
	e.st.AddXAccount(ctx, e.org.ID, "acct", []byte(`{"auth_token":"a","ct0":"b"}`), "", "UA")
	pages := []string{"/", "/?window=24h", "/?window=90d&campaign=" + itoa(camp.ID), "/campaigns", "/campaigns/" + itoa(camp.ID),
		"/campaigns/" + itoa(camp.ID) + "?page=2", "/runs/" + itoa(runs[0].ID), "/conversations/" + itoa(convs[0].ID),
		"/opportunities", "/opportunities?status=all&sort=newest&min=50&campaign=" + itoa(camp.ID), "/opportunities?page=2",
		"/accounts", "/integrations", "/users", "/tokens"}
	for _, who := range []string{"admin", "member"} {
		for _, p := range pages {
			rec := e.get(p, who)
			if rec.Code != 200 {
				t.Errorf("%s GET %s: %d %s", who, p, rec.Code, rec.Body)
				continue
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("%s: content type %q", p, ct)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("%s: cache-control %q", p, cc)
			}
		}
	}
	for _, p := range []string{"/campaigns/new", "/campaigns/" + itoa(camp.ID) + "/edit"} {
		if rec := e.get(p, "admin"); rec.Code != 200 {
			t.Errorf("admin GET %s: %d %s", p, rec.Code, rec.Body)
		}
		if rec := e.get(p, "member"); rec.Code != 403 || !strings.Contains(rec.Body.String(), "admin role") {
			t.Errorf("member GET %s: %d, want a 403 page", p, rec.Code)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

var scriptTag = regexp.MustCompile(`<script[^>]*>`)

// TestUINoInlineScriptOrStyle keeps every page within the CSP: scripts only from
// files, no style attributes, no event handler attributes.
func TestUINoInlineScriptOrStyle(t *testing.T) {
	e := newUIEnv(t)
	seedStore(t, e.st, e.org.ID, seedOptions{Campaigns: 1, Conversations: 5, Replies: 2, Days: 3})
	for _, p := range []string{"/", "/campaigns", "/campaigns/new", "/opportunities", "/accounts", "/integrations", "/users", "/tokens"} {
		body := e.get(p, "admin").Body.String()
		for _, tag := range scriptTag.FindAllString(body, -1) {
			if !strings.Contains(tag, `src="/static/`) {
				t.Errorf("%s: inline script %s", p, tag)
			}
		}
		if strings.Contains(body, " style=") || regexp.MustCompile(`\son[a-z]+=`).MatchString(body) {
			t.Errorf("%s has a style or event-handler attribute", p)
		}
	}
	rec := e.get("/login", "")
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Fatalf("CSP %q", csp)
	}
}
