package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"nexus/pipeline"
	"nexus/store"
)

const testPassword = "correct horse battery staple"

// apiEnv is a server on a real database with two organizations.
type apiEnv struct {
	t       *testing.T
	srv     *Server
	st      *store.Store
	logs    *syncBuffer
	now     time.Time
	mu      sync.Mutex
	orgA    store.Organization
	orgB    store.Organization
	tokens  map[string]string // adminA, memberA, adminB, memberB, revoked
	hookURL string            // a webhook receiver on loopback
	users   map[string]store.Member
}

func newAPIEnv(t *testing.T) *apiEnv {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "nexus.db"),
		store.Options{Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	env := &apiEnv{t: t, st: st, logs: &syncBuffer{}, now: time.Now(), tokens: map[string]string{}, users: map[string]store.Member{}}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	t.Cleanup(hook.Close)
	env.hookURL = hook.URL
	env.srv, err = New(Options{Log: zerolog.New(env.logs), Store: st, BodyLimit: 1 << 20, Now: env.clock,
		Runs: pipeline.NewRunner(pipeline.RunnerOptions{Store: st}), EventInterval: 10 * time.Millisecond,
		Senders: pipeline.NewSenders(st, true)})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func (e *apiEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *apiEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// populate sets up organization A through the API and B through the store, with an
// admin and a member in each and a token for each.
func (e *apiEnv) populate() {
	t := e.t
	t.Helper()
	rec := e.do("POST", "/api/v1/setup", "", fmt.Sprintf(`{"organization":"A","email":"admin@a.test","password":%q}`, testPassword))
	if rec.Code != 201 {
		t.Fatalf("setup: %d %s", rec.Code, rec.Body)
	}
	ctx := context.Background()
	e.orgA, _ = e.st.OrganizationByName(ctx, "A")
	e.orgB, _ = e.st.CreateOrganization(ctx, "B")
	hash, _ := store.HashPassword(testPassword)
	add := func(name string, org store.Organization, email, role string) {
		m, err := e.st.AddMember(ctx, org.ID, email, hash, role)
		if err != nil && name != "adminA" {
			t.Fatal(err)
		}
		if name == "adminA" {
			m, _ = e.st.MemberByEmail(ctx, org.ID, email)
		}
		_, tok, err := e.st.CreateToken(ctx, org.ID, m.ID, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		e.users[name], e.tokens[name] = m, tok
	}
	add("adminA", e.orgA, "admin@a.test", "admin")
	add("memberA", e.orgA, "member@a.test", "member")
	add("adminB", e.orgB, "admin@b.test", "admin")
	add("memberB", e.orgB, "member@b.test", "member")
	tok, plain, _ := e.st.CreateToken(ctx, e.orgA.ID, e.users["adminA"].ID, "revoked", nil)
	e.st.RevokeToken(ctx, e.orgA.ID, 0, tok.ID)
	e.tokens["revoked"] = plain
}

func (e *apiEnv) do(method, path, token, body string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return rec
}

// routeCase says how to call one route as its rightful user. prepare runs before each
// call and returns the path (with ids of organization A's objects) and the body.
type routeCase struct {
	as      string // the rightful caller: adminA or memberA
	status  int
	hasID   bool
	prepare func(e *apiEnv) (path, body string)
}

func staticPath(path, body string) func(*apiEnv) (string, string) {
	return func(*apiEnv) (string, string) { return path, body }
}

// newMemberA adds a throwaway member of A and returns it.
func newMemberA(e *apiEnv) store.Member {
	hash, _ := store.HashPassword(testPassword)
	m, err := e.st.AddMember(context.Background(), e.orgA.ID, fmt.Sprintf("tmp%d@a.test", time.Now().UnixNano()), hash, "member")
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func newXAccountA(e *apiEnv) store.XAccount {
	a, err := e.st.AddXAccount(context.Background(), e.orgA.ID, fmt.Sprintf("x%d", time.Now().UnixNano()), []byte(`{"auth_token":"t","ct0":"c"}`), "", "UA")
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func newCampaignA(e *apiEnv) store.Campaign {
	c, err := e.st.CreateCampaign(context.Background(), store.Campaign{OrgID: e.orgA.ID, Name: fmt.Sprintf("c%d", time.Now().UnixNano()),
		Keywords: []string{"golang"}, Match: "any", Threshold: 70})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func newRunA(e *apiEnv, cancelled bool) store.Run {
	c := newCampaignA(e)
	r, err := e.st.CreateRun(context.Background(), e.orgA.ID, c.ID, "test", "golang", "", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if cancelled {
		e.st.CancelRun(context.Background(), e.orgA.ID, r.ID)
	}
	return r
}

// newOpportunityA makes a conversation of A's that is an opportunity.
func newOpportunityA(e *apiEnv) store.Opportunity {
	ctx := context.Background()
	r := newRunA(e, false)
	id := fmt.Sprint(time.Now().UnixNano())
	tweet := store.StoredTweet{ID: id, ConversationID: id, Username: "u", CreatedAt: time.Now(),
		Data: []byte(fmt.Sprintf(`{"id":%q,"conversation_id":%q,"text":"hi"}`, id, id))}
	conv, err := e.st.SaveThread(ctx, r, store.ThreadUpdate{ConversationID: id, HitID: id, Tweets: []store.StoredTweet{tweet},
		Thread: []byte(fmt.Sprintf(`[{"id":%q,"depth":0}]`, id)), ContentHash: "h" + id})
	if err != nil {
		e.t.Fatal(err)
	}
	err = e.st.SaveAnalysis(ctx, r, conv, store.Analysis{CacheKey: "k" + id, Status: "ok", Result: []byte(`{"relevance":90,"opportunity":true}`),
		Relevance: 90, Opportunity: true, Provider: "heuristic", Model: "m"}, conv.ContentHash, store.OpportunityDecision{Is: true, Relevance: 90})
	if err != nil {
		e.t.Fatal(err)
	}
	ops, err := e.st.Opportunities(ctx, e.orgA.ID, store.OpportunityFilter{Sort: "newest", Limit: 1})
	if err != nil || len(ops) == 0 {
		e.t.Fatalf("opportunity: %v", err)
	}
	return ops[0]
}

func setWebhookA(e *apiEnv) {
	cfg := fmt.Sprintf(`{"url":%q,"secret":"s","format":"json"}`, e.hookURL)
	if err := e.st.SetIntegration(context.Background(), e.orgA.ID, "webhook", []byte(cfg), []byte(`{"format":"json"}`)); err != nil {
		e.t.Fatal(err)
	}
}

var routeCases = map[string]routeCase{
	"POST /api/v1/auth/logout": {as: "memberA", status: 204, prepare: staticPath("/api/v1/auth/logout", "")},
	"GET /api/v1/me":           {as: "memberA", status: 200, prepare: staticPath("/api/v1/me", "")},
	"POST /api/v1/me/password": {as: "memberA", status: 200, prepare: staticPath("/api/v1/me/password", fmt.Sprintf(`{"current_password":%q,"new_password":%q}`, testPassword, testPassword))},
	"GET /api/v1/users":        {as: "memberA", status: 200, prepare: staticPath("/api/v1/users", "")},
	"POST /api/v1/users": {as: "adminA", status: 201, prepare: func(e *apiEnv) (string, string) {
		return "/api/v1/users", fmt.Sprintf(`{"email":"new%d@a.test","password":%q}`, time.Now().UnixNano(), testPassword)
	}},
	"PATCH /api/v1/users/:id": {as: "adminA", status: 200, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/api/v1/users/%d", newMemberA(e).ID), `{"role":"admin"}`
	}},
	"DELETE /api/v1/users/:id": {as: "adminA", status: 204, hasID: true, prepare: func(e *apiEnv) (string, string) { return fmt.Sprintf("/api/v1/users/%d", newMemberA(e).ID), "" }},
	"GET /api/v1/tokens":       {as: "memberA", status: 200, prepare: staticPath("/api/v1/tokens", "")},
	"POST /api/v1/tokens":      {as: "memberA", status: 201, prepare: staticPath("/api/v1/tokens", `{"name":"script"}`)},
	"DELETE /api/v1/tokens/:id": {as: "memberA", status: 204, hasID: true, prepare: func(e *apiEnv) (string, string) {
		tok, _, err := e.st.CreateToken(context.Background(), e.orgA.ID, e.users["memberA"].ID, "tmp", nil)
		if err != nil {
			e.t.Fatal(err)
		}
		return fmt.Sprintf("/api/v1/tokens/%d", tok.ID), ""
	}},
	"GET /api/v1/audit":    {as: "adminA", status: 200, prepare: staticPath("/api/v1/audit", "")},
	"GET /api/v1/accounts": {as: "memberA", status: 200, prepare: staticPath("/api/v1/accounts", "")},
	"POST /api/v1/accounts": {as: "adminA", status: 201, prepare: func(e *apiEnv) (string, string) {
		return "/api/v1/accounts", fmt.Sprintf(`{"name":"acct%d","cookies":"auth_token=tok%d; ct0=csrf"}`, time.Now().UnixNano(), time.Now().UnixNano())
	}},
	"DELETE /api/v1/accounts/:id": {as: "adminA", status: 204, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/api/v1/accounts/%d", newXAccountA(e).ID), ""
	}},
	"POST /api/v1/accounts/:id/reactivate": {as: "adminA", status: 200, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/api/v1/accounts/%d/reactivate", newXAccountA(e).ID), ""
	}},
	"POST /api/v1/accounts/reset-locks": {as: "adminA", status: 204, prepare: staticPath("/api/v1/accounts/reset-locks", "")},
	"GET /api/v1/campaigns":             {as: "memberA", status: 200, prepare: staticPath("/api/v1/campaigns", "")},
	"POST /api/v1/campaigns": {as: "adminA", status: 201, prepare: func(e *apiEnv) (string, string) {
		return "/api/v1/campaigns", fmt.Sprintf(`{"name":"n%d","keywords":["golang"]}`, time.Now().UnixNano())
	}},
	"POST /api/v1/campaigns/preview": {as: "memberA", status: 200, prepare: staticPath("/api/v1/campaigns/preview", `{"keywords":["golang"]}`)},
	"GET /api/v1/campaigns/:id": {as: "memberA", status: 200, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/api/v1/campaigns/%d", newCampaignA(e).ID), ""
	}},
	"PATCH /api/v1/campaigns/:id": {as: "adminA", status: 200, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/api/v1/campaigns/%d", newCampaignA(e).ID), `{"threshold":80}`
	}},
	"DELETE /api/v1/campaigns/:id": {as: "adminA", status: 204, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/api/v1/campaigns/%d", newCampaignA(e).ID), ""
	}},
	"POST /api/v1/campaigns/:id/runs": {as: "memberA", status: 202, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/api/v1/campaigns/%d/runs", newCampaignA(e).ID), ""
	}},
	"GET /api/v1/campaigns/:id/runs": {as: "memberA", status: 200, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/api/v1/campaigns/%d/runs", newCampaignA(e).ID), ""
	}},
	"GET /api/v1/runs/:id": {as: "memberA", status: 200, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/api/v1/runs/%d", newRunA(e, false).ID), ""
	}},
	"GET /api/v1/runs/:id/events": {as: "memberA", status: 200, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/api/v1/runs/%d/events", newRunA(e, true).ID), ""
	}},
	"GET /api/v1/campaigns/:id/opportunities": {as: "memberA", status: 200, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/api/v1/campaigns/%d/opportunities", newOpportunityA(e).CampaignID), ""
	}},
	"GET /api/v1/campaigns/:id/conversations": {as: "memberA", status: 200, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/api/v1/campaigns/%d/conversations", newOpportunityA(e).CampaignID), ""
	}},
	"GET /api/v1/opportunities": {as: "memberA", status: 200, prepare: staticPath("/api/v1/opportunities", "")},
	"PATCH /api/v1/opportunities/:id": {as: "memberA", status: 200, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/api/v1/opportunities/%d", newOpportunityA(e).ID), `{"status":"done"}`
	}},
	"POST /api/v1/opportunities/:id/feedback": {as: "memberA", status: 200, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/api/v1/opportunities/%d/feedback", newOpportunityA(e).ID), `{"feedback":"relevant","note":"good"}`
	}},
	"GET /api/v1/conversations/:id": {as: "memberA", status: 200, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/api/v1/conversations/%d", newOpportunityA(e).ConversationID), ""
	}},
	"GET /api/v1/integrations": {as: "memberA", status: 200, prepare: staticPath("/api/v1/integrations", "")},
	"GET /api/v1/integrations/:kind": {as: "memberA", status: 200, hasID: true, prepare: func(e *apiEnv) (string, string) {
		setWebhookA(e)
		return "/api/v1/integrations/webhook", ""
	}},
	"PUT /api/v1/integrations/:kind": {as: "adminA", status: 200, prepare: staticPath("/api/v1/integrations/webhook",
		`{"url":"https://93.184.215.14/hook","secret":"topsecret"}`)},
	"DELETE /api/v1/integrations/:kind": {as: "adminA", status: 204, hasID: true, prepare: func(e *apiEnv) (string, string) {
		setWebhookA(e)
		return "/api/v1/integrations/webhook", ""
	}},
	"POST /api/v1/integrations/:kind/test": {as: "adminA", status: 200, hasID: true, prepare: func(e *apiEnv) (string, string) {
		setWebhookA(e)
		return "/api/v1/integrations/webhook/test", ""
	}},
	"POST /api/v1/runs/:id/cancel": {as: "memberA", status: 200, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/api/v1/runs/%d/cancel", newRunA(e, false).ID), ""
	}},
}

// publicRoutes need no credentials; each has its own test below.
var publicRoutes = map[string]bool{
	"GET /health": true, "GET /api/v1/health": true, "POST /api/v1/setup": true, "POST /api/v1/auth/login": true,
}

// TestEveryRouteIsAuthorized walks every route registered on the router: a new route
// without a case here fails the test, so none can be forgotten.
func TestEveryRouteIsAuthorized(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	var routes []string
	for _, r := range env.srv.Echo().Router().Routes() {
		key := r.Method + " " + r.Path
		if strings.HasSuffix(r.Path, "/*") && r.Method == "echo_route_not_found" || r.Path == "/*" {
			continue
		}
		routes = append(routes, key)
	}
	sort.Strings(routes)
	for _, key := range routes {
		if publicRoutes[key] {
			continue
		}
		tc, ok := routeCases[key]
		if !ok {
			t.Errorf("route %s has no authorization case", key)
			continue
		}
		want, ok := env.srv.access[key]
		if !ok {
			t.Errorf("route %s is not in the access table", key)
			continue
		}
		t.Run(key, func(t *testing.T) {
			method := strings.Fields(key)[0]
			check := func(who, token string, wantStatus int) {
				t.Helper()
				path, body := tc.prepare(env)
				rec := env.do(method, path, token, body)
				if rec.Code != wantStatus {
					t.Fatalf("%s: %s %s: status %d, want %d: %s", who, method, path, rec.Code, wantStatus, rec.Body)
				}
				if wantStatus >= 400 {
					decodeError(t, rec)
				}
			}
			check("no credentials", "", 401)
			check("revoked token", env.tokens["revoked"], 401)
			check("garbage token", "nexus_garbage", 401)
			if want == admin {
				check("member on an admin route", env.tokens["memberA"], 403)
			}
			if tc.hasID {
				check("admin of B on A's object", env.tokens["adminB"], 404)
				check("member of B on A's object", env.tokens["memberB"], map[access]int{admin: 403, member: 404}[want])
			}
			check("rightful user", env.tokens[tc.as], tc.status)
		})
	}
	for key := range routeCases {
		if !contains(routes, key) {
			t.Errorf("case for %s, which is not a route", key)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestSetupRequiredThenOnce(t *testing.T) {
	env := newAPIEnv(t)
	rec := env.do("GET", "/api/v1/me", "", "")
	if rec.Code != 503 || decodeError(t, rec).Code != "setup_required" {
		t.Fatalf("before setup: %d %s", rec.Code, rec.Body)
	}
	if rec := env.do("GET", "/api/v1/health", "", ""); rec.Code != 200 {
		t.Fatalf("health before setup: %d", rec.Code)
	}
	for _, body := range []string{
		`{"organization":"","email":"a@b.test","password":"long enough pw"}`,
		`{"organization":"A","email":"not-an-email","password":"long enough pw"}`,
		`{"organization":"A","email":"a@b.test","password":"short"}`,
		`{"organization":"A","email":"a@b.test","password":"long enough pw","admin":true}`,
	} {
		if rec := env.do("POST", "/api/v1/setup", "", body); rec.Code != 400 {
			t.Fatalf("bad setup %s: %d %s", body, rec.Code, rec.Body)
		}
	}
	env.populate()
	rec = env.do("POST", "/api/v1/setup", "", `{"organization":"C","email":"c@c.test","password":"long enough pw"}`)
	if rec.Code != 409 {
		t.Fatalf("second setup: %d %s", rec.Code, rec.Body)
	}
	if rec := env.do("GET", "/api/v1/me", env.tokens["memberA"], ""); rec.Code != 200 {
		t.Fatalf("after setup: %d %s", rec.Code, rec.Body)
	}
}

func login(e *apiEnv, email, password, ip string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = ip + ":40000"
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return rec
}

func TestLoginBruteForce(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	first429 := 0
	for i := 1; i <= 50; i++ {
		rec := login(env, "admin@a.test", fmt.Sprintf("wrong password %d", i), "203.0.113.7")
		if rec.Code == 429 {
			if first429 == 0 {
				first429 = i
				if ra := rec.Header().Get("Retry-After"); ra == "" || ra == "0" {
					t.Fatalf("429 without Retry-After")
				}
			}
			continue
		}
		if rec.Code != 401 {
			t.Fatalf("attempt %d: %d %s", i, rec.Code, rec.Body)
		}
		if first429 != 0 {
			t.Fatalf("attempt %d allowed after a 429 at %d", i, first429)
		}
	}
	if first429 == 0 || first429 > 11 {
		t.Fatalf("first 429 at attempt %d, want at most 11", first429)
	}
	// The owner, from another address, still gets in.
	rec := login(env, "admin@a.test", testPassword, "198.51.100.1")
	if rec.Code != 200 {
		t.Fatalf("correct password from another IP: %d %s", rec.Code, rec.Body)
	}
	// Once the window has passed the address may try again.
	env.advance(loginWindow + time.Second)
	if rec := login(env, "admin@a.test", testPassword, "203.0.113.7"); rec.Code != 200 {
		t.Fatalf("after the window: %d %s", rec.Code, rec.Body)
	}
}

func TestLoginSameAnswerForUnknownUserAndWrongPassword(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	a := login(env, "nobody@a.test", testPassword, "192.0.2.1")
	b := login(env, "admin@a.test", "wrong password!", "192.0.2.2")
	if a.Code != 401 || b.Code != 401 || a.Body.String() != b.Body.String() {
		t.Fatalf("unknown user %d %s, wrong password %d %s", a.Code, a.Body, b.Code, b.Body)
	}
}

// TestSessionCookieAndCSRF logs in like the web UI: the cookie authenticates reads;
// writes also need the CSRF token; logout and password changes end the session.
func TestSessionCookieAndCSRF(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	rec := login(env, "member@a.test", testPassword, "192.0.2.10")
	if rec.Code != 200 {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	var sess struct {
		CSRFToken string `json:"csrf_token"`
		User      store.Member
	}
	json.Unmarshal(rec.Body.Bytes(), &sess)
	var cookie *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || sess.CSRFToken == "" {
		t.Fatalf("cookie %+v, csrf %q", cookie, sess.CSRFToken)
	}
	if sess.User.Organization != "A" || sess.User.Role != "member" {
		t.Fatalf("session user %+v", sess.User)
	}
	withCookie := func(method, path, body string, headers ...string) *httptest.ResponseRecorder {
		return env.do(method, path, "", body, append([]string{"Cookie", sessionCookie + "=" + cookie.Value}, headers...)...)
	}
	if rec := withCookie("GET", "/api/v1/me", ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"auth":"session"`) {
		t.Fatalf("read with cookie: %d %s", rec.Code, rec.Body)
	}
	if rec := withCookie("POST", "/api/v1/tokens", `{"name":"x"}`); rec.Code != 403 || decodeError(t, rec).Code != "csrf" {
		t.Fatalf("write without CSRF token: %d %s", rec.Code, rec.Body)
	}
	if rec := withCookie("POST", "/api/v1/tokens", `{"name":"x"}`, csrfHeader, "wrong"); rec.Code != 403 {
		t.Fatalf("write with wrong CSRF token: %d", rec.Code)
	}
	if rec := withCookie("POST", "/api/v1/tokens", `{"name":"x"}`, csrfHeader, sess.CSRFToken); rec.Code != 201 {
		t.Fatalf("write with CSRF token: %d %s", rec.Code, rec.Body)
	}
	if rec := withCookie("POST", "/api/v1/auth/logout", "", csrfHeader, sess.CSRFToken); rec.Code != 204 {
		t.Fatalf("logout: %d %s", rec.Code, rec.Body)
	}
	if rec := withCookie("GET", "/api/v1/me", ""); rec.Code != 401 {
		t.Fatalf("after logout: %d", rec.Code)
	}
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	rec := login(env, "member@a.test", testPassword, "192.0.2.20")
	var old *http.Cookie
	for _, c := range rec.Result().Cookies() {
		old = c
	}
	body := fmt.Sprintf(`{"current_password":%q,"new_password":"a brand new password"}`, testPassword)
	if rec := env.do("POST", "/api/v1/me/password", env.tokens["memberA"], body); rec.Code != 200 {
		t.Fatalf("change: %d %s", rec.Code, rec.Body)
	}
	if rec := env.do("GET", "/api/v1/me", "", "", "Cookie", sessionCookie+"="+old.Value); rec.Code != 401 {
		t.Fatalf("old session after password change: %d", rec.Code)
	}
	if rec := login(env, "member@a.test", "a brand new password", "192.0.2.20"); rec.Code != 200 {
		t.Fatalf("login with the new password: %d", rec.Code)
	}
	bad := `{"current_password":"not it at all","new_password":"whatever else"}`
	if rec := env.do("POST", "/api/v1/me/password", env.tokens["memberA"], bad); rec.Code != 400 {
		t.Fatalf("wrong current password: %d", rec.Code)
	}
}

func TestAuditRecordsSecurityEvents(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	login(env, "admin@a.test", "wrong password!!", "192.0.2.30")
	login(env, "admin@a.test", testPassword, "192.0.2.30")
	rec := env.do("POST", "/api/v1/tokens", env.tokens["adminA"], `{"name":"deploy"}`)
	var tok struct{ ID int64 }
	json.Unmarshal(rec.Body.Bytes(), &tok)
	env.do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", tok.ID), env.tokens["adminA"], "")
	env.do("POST", "/api/v1/users", env.tokens["adminA"], fmt.Sprintf(`{"email":"x@a.test","password":%q}`, testPassword))

	rec = env.do("GET", "/api/v1/audit", env.tokens["adminA"], "")
	var got struct{ Entries []store.AuditEntry }
	json.Unmarshal(rec.Body.Bytes(), &got)
	var actions []string
	for _, e := range got.Entries {
		actions = append(actions, e.Action)
		if e.Actor == "" || e.IP == "" || e.At.IsZero() {
			t.Fatalf("incomplete entry %+v", e)
		}
	}
	for _, want := range []string{"setup", "login.failure", "login.success", "token.create", "token.revoke", "user.add"} {
		if !contains(actions, want) {
			t.Fatalf("audit lacks %s: %v", want, actions)
		}
	}
	// B sees none of A's events.
	rec = env.do("GET", "/api/v1/audit", env.tokens["adminB"], "")
	if strings.Contains(rec.Body.String(), "admin@a.test") {
		t.Fatalf("B sees A's audit log: %s", rec.Body)
	}
}

// TestNoSecretInLogs runs the whole auth flow and then searches the log for every
// password, token and cookie that went through it.
func TestNoSecretInLogs(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	rec := login(env, "member@a.test", testPassword, "192.0.2.40")
	var cookie string
	for _, c := range rec.Result().Cookies() {
		cookie = c.Value
	}
	rec = env.do("POST", "/api/v1/tokens", env.tokens["memberA"], `{"name":"leak-check"}`)
	var created struct{ Token string }
	json.Unmarshal(rec.Body.Bytes(), &created)
	env.do("GET", "/api/v1/me?token="+env.tokens["adminA"], env.tokens["memberA"], "")
	env.do("POST", "/api/v1/me/password", env.tokens["memberA"], `{"current_password":"wrong wrong wrong","new_password":"zzzzzzzzzzzzzz"}`)
	logs := env.logs.String()
	if logs == "" {
		t.Fatal("no log captured")
	}
	secrets := []string{testPassword, "wrong wrong wrong", "zzzzzzzzzzzzzz", cookie, created.Token}
	for _, tok := range env.tokens {
		secrets = append(secrets, tok)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Fatalf("log contains a secret %q", s[:min(8, len(s))])
		}
	}
	// Token listings show the prefix, never the token.
	rec = env.do("GET", "/api/v1/tokens", env.tokens["adminA"], "")
	for _, tok := range env.tokens {
		if strings.Contains(rec.Body.String(), tok) {
			t.Fatal("token listing contains a token")
		}
	}
}

func TestMemberSeesOnlyOwnTokens(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	rec := env.do("GET", "/api/v1/tokens", env.tokens["memberA"], "")
	if strings.Contains(rec.Body.String(), "admin@a.test") {
		t.Fatalf("member sees the admin's tokens: %s", rec.Body)
	}
	adminTok, _ := env.st.Tokens(context.Background(), env.orgA.ID, env.users["adminA"].ID)
	rec = env.do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", adminTok[0].ID), env.tokens["memberA"], "")
	if rec.Code != 404 {
		t.Fatalf("member revoking the admin's token: %d", rec.Code)
	}
	rec = env.do("POST", "/api/v1/tokens", env.tokens["memberA"], fmt.Sprintf(`{"name":"x","user_id":%d}`, env.users["adminA"].ID))
	if rec.Code != 403 {
		t.Fatalf("member issuing a token for the admin: %d", rec.Code)
	}
}

func TestCORSOffByDefault(t *testing.T) {
	env := newAPIEnv(t)
	rec := env.do("GET", "/api/v1/health", "", "", "Origin", "https://evil.example")
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS header without configuration")
	}
	srv, _ := New(Options{Log: zerolog.Nop(), Store: env.st, BodyLimit: 1024, CORSOrigins: []string{"https://app.example"}})
	req := httptest.NewRequest("OPTIONS", "/api/v1/me", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	rec = httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example" || rec.Header().Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("preflight from an allowed origin: %v", rec.Header())
	}
	req.Header.Set("Origin", "https://evil.example")
	rec = httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("preflight from another origin allowed")
	}
}

func TestTrustedProxy(t *testing.T) {
	ipx, err := ipExtractor([]string{"10.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	req.RemoteAddr = "10.0.0.1:1234"
	if got := ipx(req); got != "203.0.113.9" {
		t.Fatalf("behind a trusted proxy: %s", got)
	}
	req.RemoteAddr = "198.51.100.2:1234"
	if got := ipx(req); got != "198.51.100.2" {
		t.Fatalf("from an untrusted peer the header must be ignored: %s", got)
	}
}
