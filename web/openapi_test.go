package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"nexus/pipeline/analyze"
	"nexus/scraper"
	"nexus/store"
)

// The operator's routes take part in the authorization walk of auth_test.go.
func init() {
	publicRoutes["GET /api/v1/openapi.json"] = true
	publicRoutes["GET /docs"] = true
	routeCases["GET /metrics"] = routeCase{as: "adminA", status: 200, prepare: staticPath("/metrics", "")}
}

// loadOpenAPI parses and validates the embedded document with kin-openapi.
func loadOpenAPI(t testing.TB) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapiJSON)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI 3 document: %v", err)
	}
	return doc
}

var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// openapiPath turns an Echo route under /api/v1 into the document's path.
func openapiPath(echoPath string) string {
	return echoParam.ReplaceAllString(strings.TrimPrefix(echoPath, "/api/v1"), "{$1}")
}

// apiRoutes is every route the router serves under /api/v1, as "METHOD /path" keys of
// the document, mapped to the Echo path.
func apiRoutes(s *Server) map[string]string {
	out := map[string]string{}
	for _, r := range s.Echo().Router().Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || strings.HasSuffix(r.Path, "*") {
			continue
		}
		out[r.Method+" "+openapiPath(r.Path)] = r.Path
	}
	return out
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := loadOpenAPI(t)
	if doc.OpenAPI[:2] != "3." {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	for _, name := range []string{"bearerAuth", "sessionCookie", "csrfToken"} {
		if doc.Components.SecuritySchemes[name] == nil {
			t.Errorf("no security scheme %s", name)
		}
	}
	// Served as it is embedded, before set-up and without credentials.
	env := newAPIEnv(t)
	rec := env.do("GET", "/api/v1/openapi.json", "", "")
	if rec.Code != 200 || rec.Body.String() != string(openapiJSON) || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", rec.Code, rec.Header())
	}
}

// TestOpenAPIListsEveryRoute holds the document to the router in both directions: a
// route added without documentation, or documentation of a route that is gone, fails.
// The access each operation declares is the one the route is registered with.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	env := newAPIEnv(t)
	routes := apiRoutes(env.srv)
	documented := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			documented[method+" "+path] = op
		}
	}
	var missing, extra []string
	for key := range routes {
		if documented[key] == nil {
			missing = append(missing, key)
		}
	}
	for key := range documented {
		if _, ok := routes[key]; !ok {
			extra = append(extra, key)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, k := range missing {
		t.Errorf("route %s is not in web/openapi.json", k)
	}
	for _, k := range extra {
		t.Errorf("web/openapi.json documents %s, which the router does not serve", k)
	}
	if len(routes) < 40 {
		t.Fatalf("only %d routes found under /api/v1", len(routes))
	}
	for key, echoPath := range routes {
		op := documented[key]
		if op == nil {
			continue
		}
		method := strings.Fields(key)[0]
		want, ok := env.srv.access[method+" "+echoPath]
		if !ok && publicRoutes[method+" "+echoPath] {
			want, ok = public, true // registered outside the access table (health)
		}
		if !ok {
			t.Errorf("%s is not in the access table", key)
			continue
		}
		if got := op.Extensions["x-nexus-access"]; got != want.String() {
			t.Errorf("%s: x-nexus-access %v, registered as %s", key, got, want)
		}
		noAuth := op.Security != nil && len(*op.Security) == 0
		if noAuth != (want == public) {
			t.Errorf("%s: security %v, but the route is %s", key, op.Security, want)
		}
		if op.OperationID == "" || op.Summary == "" {
			t.Errorf("%s: no operationId or summary", key)
		}
		for _, p := range echoParam.FindAllStringSubmatch(echoPath, -1) {
			item := doc.Paths.Value(openapiPath(echoPath))
			if item.Parameters.GetByInAndName("path", p[1]) == nil && op.Parameters.GetByInAndName("path", p[1]) == nil {
				t.Errorf("%s: path parameter %s is not documented", key, p[1])
			}
		}
		if (method == "POST" || method == "PUT" || method == "PATCH") && op.RequestBody != nil {
			if op.Responses.Status(400) == nil || op.Responses.Status(413) == nil {
				t.Errorf("%s takes a body but documents no 400 or 413", key)
			}
		}
	}
}

// validateResponse checks a recorded response against the operation's documented
// response for its status: an undocumented status, a missing required field, a wrong
// type or a write-only field in a response all fail.
func validateResponse(t *testing.T, doc *openapi3.T, req *http.Request, echoPath string, rec *httptest.ResponseRecorder) {
	t.Helper()
	path := openapiPath(echoPath)
	item := doc.Paths.Value(path)
	if item == nil {
		t.Fatalf("%s is not documented", path)
	}
	op := item.GetOperation(req.Method)
	if op == nil {
		t.Fatalf("%s %s is not documented", req.Method, path)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req,
			Route:   &routers.Route{Spec: doc, Path: path, PathItem: item, Method: req.Method, Operation: op},
		},
		Status:  rec.Code,
		Header:  rec.Header(),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(rec.Body.Bytes())
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s → %d does not match the document: %v\nbody: %.600s", req.Method, req.URL.Path, rec.Code, err, rec.Body)
	}
}

// fullTweet is a tweet as the scraper stores it: every field of the contract.
func fullTweet(id, conv string, reply *string) []byte {
	views := int64(1234)
	tw := scraper.Tweet{ID: id, URL: "https://x.com/dev/status/" + id, CreatedAt: time.Now().UTC().Truncate(time.Second),
		UserID: "42", Username: "dev", DisplayName: "A Developer", Text: "Which Go HTTP router do you use? #golang",
		Lang: "en", ReplyCount: 2, RetweetCount: 1, LikeCount: 10, ViewCount: &views, ConversationID: conv,
		InReplyToID: reply, Hashtags: []string{"golang"}, Mentions: []string{}, Links: []string{"https://go.dev/"},
		Media: []scraper.Media{{Type: "photo", URL: "https://pbs.twimg.com/media/x.jpg"}}}
	b, _ := json.Marshal(tw)
	return b
}

// newFullOpportunityA is newOpportunityA with contract-complete tweets and analysis,
// so that the responses built from them can be held to the document.
func newFullOpportunityA(e *apiEnv) store.Opportunity {
	ctx := context.Background()
	r := newRunA(e, false)
	root := fmt.Sprint(time.Now().UnixNano())
	hit := root + "1"
	tweets := []store.StoredTweet{
		{ID: root, ConversationID: root, Username: "dev", CreatedAt: time.Now(), Data: fullTweet(root, root, nil)},
		{ID: hit, ConversationID: root, Username: "dev", CreatedAt: time.Now(), Data: fullTweet(hit, root, &root)},
	}
	thread := fmt.Sprintf(`[{"id":%q,"depth":0},{"id":%q,"parent_id":%q,"depth":1}]`, root, hit, root)
	conv, err := e.st.SaveThread(ctx, r, store.ThreadUpdate{ConversationID: root, HitID: hit, Tweets: tweets,
		Thread: []byte(thread), Complete: true, ContentHash: "h" + root})
	if err != nil {
		e.t.Fatal(err)
	}
	res, _ := json.Marshal(analyze.Result{Relevance: 91, Sentiment: "neutral", Intent: "asks_recommendation",
		Insights: []string{"compares routers"}, Opportunity: true, OpportunityReason: "asks for a tool",
		SuggestedReplies: []string{"We use Echo.", "Try the standard mux first."}, Provider: "heuristic", Model: "rules",
		PromptTokens: 100, ResponseTokens: 20})
	err = e.st.SaveAnalysis(ctx, r, conv, store.Analysis{CacheKey: "k" + root, Status: "ok", Result: res, Relevance: 91,
		Opportunity: true, Provider: "heuristic", Model: "rules", PromptTokens: 100, ResponseTokens: 20},
		conv.ContentHash, store.OpportunityDecision{Is: true, Relevance: 91})
	if err != nil {
		e.t.Fatal(err)
	}
	ops, err := e.st.Opportunities(ctx, e.orgA.ID, store.OpportunityFilter{Sort: "newest", Limit: 1})
	if err != nil || len(ops) == 0 {
		e.t.Fatalf("opportunity: %v", err)
	}
	return ops[0]
}

// responseCases are the authorization walk's cases, with the opportunity routes fed
// contract-complete data.
func responseCases() map[string]routeCase {
	cases := map[string]routeCase{}
	for k, v := range routeCases {
		cases[k] = v
	}
	opp := func(format string, field func(store.Opportunity) int64, body string) func(*apiEnv) (string, string) {
		return func(e *apiEnv) (string, string) { return fmt.Sprintf(format, field(newFullOpportunityA(e))), body }
	}
	byCampaign := func(o store.Opportunity) int64 { return o.CampaignID }
	byID := func(o store.Opportunity) int64 { return o.ID }
	byConversation := func(o store.Opportunity) int64 { return o.ConversationID }
	set := func(key, format string, field func(store.Opportunity) int64, body string) {
		c := cases[key]
		c.prepare = opp(format, field, body)
		cases[key] = c
	}
	set("GET /api/v1/campaigns/:id/opportunities", "/api/v1/campaigns/%d/opportunities", byCampaign, "")
	set("GET /api/v1/campaigns/:id/conversations", "/api/v1/campaigns/%d/conversations", byCampaign, "")
	set("GET /api/v1/opportunities", "/api/v1/opportunities?campaign_id=%d", byCampaign, "")
	set("PATCH /api/v1/opportunities/:id", "/api/v1/opportunities/%d", byID, `{"status":"done"}`)
	set("POST /api/v1/opportunities/:id/feedback", "/api/v1/opportunities/%d/feedback", byID, `{"feedback":"relevant","note":"good"}`)
	set("GET /api/v1/conversations/:id", "/api/v1/conversations/%d", byConversation, "")
	return cases
}

// TestOpenAPIResponsesMatch calls every documented route as its rightful user and
// validates the real response against the document, so that a field renamed, added
// as required, or typed differently in the code fails here.
func TestOpenAPIResponsesMatch(t *testing.T) {
	doc := loadOpenAPI(t)

	// Set-up and login, which the walk below does not cover.
	fresh := newAPIEnv(t)
	body := fmt.Sprintf(`{"organization":"A","email":"admin@a.test","password":%q}`, testPassword)
	req := jsonRequest("POST", "/api/v1/setup", "", body)
	rec := serve(fresh, req)
	if rec.Code != 201 {
		t.Fatalf("setup: %d %s", rec.Code, rec.Body)
	}
	validateResponse(t, doc, req, "/api/v1/setup", rec)
	env := newAPIEnv(t)
	env.populate()
	req = jsonRequest("POST", "/api/v1/auth/login", "", fmt.Sprintf(`{"email":"admin@a.test","password":%q}`, testPassword))
	if rec = serve(env, req); rec.Code != 200 {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	validateResponse(t, doc, req, "/api/v1/auth/login", rec)
	req = jsonRequest("GET", "/api/v1/health", "", "")
	validateResponse(t, doc, req, "/api/v1/health", serve(env, req))
	req = jsonRequest("GET", "/api/v1/openapi.json", "", "")
	validateResponse(t, doc, req, "/api/v1/openapi.json", serve(env, req))

	validated := map[string]bool{}
	cases := responseCases()
	keys := slices.Sorted(maps.Keys(cases))
	for _, key := range keys {
		tc := cases[key]
		method, echoPath, _ := strings.Cut(key, " ")
		if !strings.HasPrefix(echoPath, "/api/v1/") {
			continue
		}
		path, body := tc.prepare(env)
		req := jsonRequest(method, path, env.tokens[tc.as], body)
		rec := serve(env, req)
		if rec.Code != tc.status {
			t.Errorf("%s %s: %d, want %d: %s", method, path, rec.Code, tc.status, rec.Body)
			continue
		}
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "text/event-stream") {
			continue // the stream's events are Run objects, checked through GET /runs/{id}
		}
		validateResponse(t, doc, req, echoPath, rec)
		validated[key] = true
	}
	for _, key := range []string{"POST /api/v1/campaigns", "GET /api/v1/runs/:id", "GET /api/v1/accounts",
		"GET /api/v1/opportunities", "GET /api/v1/conversations/:id", "PUT /api/v1/integrations/:kind"} {
		if !validated[key] {
			t.Errorf("%s was not validated", key)
		}
	}

	// A run with progress, an account with operations, and a campaign with a last run.
	camp := newCampaignA(env)
	rec = env.do("POST", fmt.Sprintf("/api/v1/campaigns/%d/runs", camp.ID), env.tokens["memberA"], "")
	var run store.Run
	json.Unmarshal(rec.Body.Bytes(), &run)
	for _, path := range []string{fmt.Sprintf("/api/v1/runs/%d", run.ID), fmt.Sprintf("/api/v1/campaigns/%d", camp.ID), "/api/v1/campaigns"} {
		req := jsonRequest("GET", path, env.tokens["memberA"], "")
		rec := serve(env, req)
		echoPath := regexp.MustCompile(`/\d+`).ReplaceAllString(path, "/:id")
		validateResponse(t, doc, req, echoPath, rec)
	}

	// Errors have the documented shape and status.
	for _, c := range []struct{ method, path, echoPath, token, body string }{
		{"POST", "/api/v1/campaigns", "/api/v1/campaigns", env.tokens["adminA"], `{"name":"x","threshold":1000}`},
		{"POST", "/api/v1/campaigns", "/api/v1/campaigns", env.tokens["adminA"], `{"name":`},
		{"POST", "/api/v1/campaigns", "/api/v1/campaigns", env.tokens["memberA"], `{"name":"x"}`},
		{"GET", "/api/v1/campaigns/999999", "/api/v1/campaigns/:id", env.tokens["adminA"], ""},
		{"GET", "/api/v1/me", "/api/v1/me", "nexus_wrong", ""},
		{"POST", "/api/v1/tokens", "/api/v1/tokens", env.tokens["adminA"], `{"name":"t","user_id":999999}`},
	} {
		req := jsonRequest(c.method, c.path, c.token, c.body)
		rec := serve(env, req)
		if rec.Code < 400 {
			t.Errorf("%s %s %s: %d", c.method, c.path, c.body, rec.Code)
		}
		validateResponse(t, doc, req, c.echoPath, rec)
	}
}

func jsonRequest(method, path, token, body string) *http.Request {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

func serve(e *apiEnv, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return rec
}

func TestDocsPage(t *testing.T) {
	env := newAPIEnv(t)
	rec := env.do("GET", "/docs", "", "")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /docs: %d %s", rec.Code, rec.Header())
	}
	page := rec.Body.String()
	doc := loadOpenAPI(t)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if !strings.Contains(page, `id="`+op.OperationID+`"`) || !strings.Contains(page, "/api/v1"+path) {
				t.Errorf("docs page lacks %s %s (%s)", method, path, op.OperationID)
			}
		}
	}
	for name := range doc.Components.Schemas {
		if !strings.Contains(page, `id="schema-`+name+`"`) {
			t.Errorf("docs page lacks schema %s", name)
		}
	}
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(page, "<script") {
		t.Errorf("docs page CSP %q, or it carries a script", csp)
	}
	// The browser applies the inline style only if its hash is the one the policy names.
	_, style, _ := strings.Cut(page, "<style>")
	style, _, _ = strings.Cut(style, "</style>")
	sum := sha256.Sum256([]byte(style))
	if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, want) {
		t.Errorf("docs page CSP %q does not allow its style %s", csp, want)
	}
}
