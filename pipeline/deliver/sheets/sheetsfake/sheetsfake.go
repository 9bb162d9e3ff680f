// Package sheetsfake is an in-process fake of the parts of the Google Sheets API v4
// that Nexus uses (spreadsheets.get, batchUpdate with addSheet and updateCells,
// values.get, values.append) and of Google's OAuth token endpoint, on a loopback
// httptest server. ServiceAccountJSON makes a real service-account key whose
// token_uri points at the fake, so the genuine JWT flow of golang.org/x/oauth2 runs.
package sheetsfake

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// SpreadsheetID is the one spreadsheet the fake holds.
const SpreadsheetID = "sheet-nexus-test"

const clientEmail = "nexus@nexus-test.iam.gserviceaccount.com"

// Fault is a canned failure for the next API request (token requests excepted).
type Fault struct {
	Status     int
	Code       string // google.rpc status, e.g. PERMISSION_DENIED
	Reason     string // legacy errors[].reason, e.g. rateLimitExceeded
	RetryAfter string
	// Apply performs the request before failing it, as when a response is lost
	// after the server committed the write.
	Apply bool
}

// Call is one API request the fake served.
type Call struct {
	Method, Op, Range string
	Query             url.Values
}

type tab struct {
	id   int64
	rows [][]any
}

// Server is the fake.
type Server struct {
	*httptest.Server
	key *rsa.PrivateKey

	mu     sync.Mutex
	tabs   map[string]*tab
	order  []string
	faults []queued
	calls  []Call
	tokens int
}

type queued struct {
	after int
	f     Fault
}

// testKey is the service account's RSA key, made once per test binary: generating
// a 2048-bit key takes about a second under the race detector.
var testKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// New starts a fake holding SpreadsheetID with one empty tab "Sheet1", stopped when
// the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	key, err := testKey()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{key: key, tabs: map[string]*tab{"Sheet1": {id: 0}}, order: []string{"Sheet1"}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Endpoint is the API base URL for option.WithEndpoint.
func (s *Server) Endpoint() string { return s.URL + "/" }

// ServiceAccountJSON is a service-account key file whose token_uri is this fake.
func (s *Server) ServiceAccountJSON() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(s.key)
	if err != nil {
		panic(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "nexus-test",
		"private_key_id": "test-key-1",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   clientEmail,
		"client_id":      "100000000000000000001",
		"token_uri":      s.URL + "/token",
	})
	return b
}

// Fail queues faults for the next API requests.
func (s *Server) Fail(f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range f {
		s.faults = append(s.faults, queued{f: f})
	}
}

// FailAfter queues f behind n API requests that are let through.
func (s *Server) FailAfter(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, queued{after: n, f: f})
}

// Rows returns the rows of a tab, header included, or nil if there is no such tab.
func (s *Server) Rows(title string) [][]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tabs[title]
	if !ok {
		return nil
	}
	out := make([][]any, len(t.rows))
	for i, r := range t.rows {
		out[i] = append([]any(nil), r...)
	}
	return out
}

// Tabs returns the tab titles in creation order.
func (s *Server) Tabs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.order...)
}

// Calls returns the API requests served, token requests excluded.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CountOp counts served calls of one operation: get, batchUpdate, values.get, values.append.
func (s *Server) CountOp(op string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Op == op {
			n++
		}
	}
	return n
}

// TokenRequests counts token grants.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		s.token(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+accessToken {
		apiError(w, Fault{Status: 401, Code: "UNAUTHENTICATED"}, "Request had invalid authentication credentials.")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v4/spreadsheets/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	var op, id, rng string
	switch {
	case r.Method == http.MethodGet && !strings.Contains(rest, "/"):
		op, id = "get", rest
	case r.Method == http.MethodPost && strings.HasSuffix(rest, ":batchUpdate") && !strings.Contains(rest, "/"):
		op, id = "batchUpdate", strings.TrimSuffix(rest, ":batchUpdate")
	case strings.Contains(rest, "/values/"):
		id, rng, _ = strings.Cut(rest, "/values/")
		op = "values.get"
		if r.Method == http.MethodPost && strings.HasSuffix(rng, ":append") {
			op, rng = "values.append", strings.TrimSuffix(rng, ":append")
		}
	default:
		http.NotFound(w, r)
		return
	}
	if id != SpreadsheetID {
		apiError(w, Fault{Status: 404, Code: "NOT_FOUND"}, "Requested entity was not found.")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Method: r.Method, Op: op, Range: rng, Query: r.URL.Query()})
	var fault *Fault
	if len(s.faults) > 0 {
		if s.faults[0].after > 0 {
			s.faults[0].after--
		} else {
			f := s.faults[0].f
			s.faults = s.faults[1:]
			fault = &f
		}
	}
	if fault != nil && !fault.Apply {
		apiError(w, *fault, "injected fault")
		return
	}
	var status int
	var body any
	switch op {
	case "get":
		status, body = s.get()
	case "batchUpdate":
		status, body = s.batchUpdate(r)
	case "values.get":
		status, body = s.valuesGet(rng, r.URL.Query())
	case "values.append":
		status, body = s.valuesAppend(rng, r)
	}
	if fault != nil {
		apiError(w, *fault, "injected fault after the change was applied")
		return
	}
	if status != http.StatusOK {
		apiError(w, Fault{Status: status, Code: "INVALID_ARGUMENT"}, body.(string))
		return
	}
	writeJSON(w, status, body)
}

const accessToken = "fake-access-token"

// token implements the JWT-bearer grant and checks the assertion's RS256 signature
// against the key it handed out.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		writeJSON(w, 400, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	parts := strings.Split(r.PostForm.Get("assertion"), ".")
	if len(parts) != 3 {
		writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "malformed JWT"})
		return
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err != nil || rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
		return
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Iss   string `json:"iss"`
		Scope string `json:"scope"`
		Aud   string `json:"aud"`
	}
	if json.Unmarshal(raw, &claims) != nil || claims.Iss != clientEmail || claims.Aud != s.URL+"/token" ||
		!strings.Contains(claims.Scope, "https://www.googleapis.com/auth/spreadsheets") {
		writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "bad claims"})
		return
	}
	s.mu.Lock()
	s.tokens++
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"access_token": accessToken, "token_type": "Bearer", "expires_in": 3600})
}

func (s *Server) get() (int, any) {
	sheets := []map[string]any{}
	for _, title := range s.order {
		sheets = append(sheets, map[string]any{"properties": map[string]any{"sheetId": s.tabs[title].id, "title": title}})
	}
	return 200, map[string]any{"spreadsheetId": SpreadsheetID, "sheets": sheets}
}

func (s *Server) batchUpdate(r *http.Request) (int, any) {
	var req struct {
		Requests []struct {
			AddSheet *struct {
				Properties struct {
					SheetID int64  `json:"sheetId"`
					Title   string `json:"title"`
				} `json:"properties"`
			} `json:"addSheet"`
			UpdateCells *struct {
				Start struct {
					SheetID     int64 `json:"sheetId"`
					RowIndex    int   `json:"rowIndex"`
					ColumnIndex int   `json:"columnIndex"`
				} `json:"start"`
				Rows []struct {
					Values []struct {
						UserEnteredValue struct {
							StringValue *string  `json:"stringValue"`
							NumberValue *float64 `json:"numberValue"`
						} `json:"userEnteredValue"`
					} `json:"values"`
				} `json:"rows"`
			} `json:"updateCells"`
		} `json:"requests"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return 400, "Invalid JSON payload received."
	}
	// Validate everything first: a batchUpdate is atomic.
	byID := map[int64]*tab{}
	for _, t := range s.tabs {
		byID[t.id] = t
	}
	added := map[int64]string{}
	for _, q := range req.Requests {
		switch {
		case q.AddSheet != nil:
			p := q.AddSheet.Properties
			if _, ok := s.tabs[p.Title]; ok {
				return 400, fmt.Sprintf("Invalid requests[0].addSheet: A sheet with the name \"%s\" already exists. Please enter another name.", p.Title)
			}
			if _, ok := byID[p.SheetID]; ok {
				return 400, fmt.Sprintf("Invalid requests[0].addSheet: Sheet with id %d already exists.", p.SheetID)
			}
			added[p.SheetID] = p.Title
		case q.UpdateCells != nil:
			if _, ok := byID[q.UpdateCells.Start.SheetID]; !ok {
				if _, ok := added[q.UpdateCells.Start.SheetID]; !ok {
					return 400, "Invalid requests[1].updateCells: No grid with id: " + strconv.FormatInt(q.UpdateCells.Start.SheetID, 10)
				}
			}
		default:
			return 400, "unsupported request in fake"
		}
	}
	for _, q := range req.Requests {
		switch {
		case q.AddSheet != nil:
			p := q.AddSheet.Properties
			t := &tab{id: p.SheetID}
			s.tabs[p.Title], byID[p.SheetID] = t, t
			s.order = append(s.order, p.Title)
		case q.UpdateCells != nil:
			t := byID[q.UpdateCells.Start.SheetID]
			for i, rd := range q.UpdateCells.Rows {
				ri := q.UpdateCells.Start.RowIndex + i
				for len(t.rows) <= ri {
					t.rows = append(t.rows, nil)
				}
				var cells []any
				for _, v := range rd.Values {
					switch {
					case v.UserEnteredValue.StringValue != nil:
						cells = append(cells, *v.UserEnteredValue.StringValue)
					case v.UserEnteredValue.NumberValue != nil:
						cells = append(cells, *v.UserEnteredValue.NumberValue)
					default:
						cells = append(cells, "")
					}
				}
				t.rows[ri] = cells
			}
		}
	}
	return 200, map[string]any{"spreadsheetId": SpreadsheetID, "replies": []any{}}
}

// tabOf parses the tab name out of an A1 range such as 'It”s'!A:A.
func (s *Server) tabOf(rng string) (*tab, string, bool) {
	name, _, ok := strings.Cut(rng, "!")
	if !ok {
		name = rng
	}
	if strings.HasPrefix(name, "'") && strings.HasSuffix(name, "'") && len(name) >= 2 {
		name = strings.ReplaceAll(name[1:len(name)-1], "''", "'")
	}
	t, ok := s.tabs[name]
	return t, name, ok
}

func (s *Server) valuesGet(rng string, q url.Values) (int, any) {
	t, _, ok := s.tabOf(rng)
	if !ok {
		return 400, "Unable to parse range: " + rng
	}
	if !strings.HasSuffix(rng, "!A:A") {
		return 400, "the fake only serves column A"
	}
	var col []any
	for _, r := range t.rows {
		if len(r) > 0 {
			col = append(col, r[0])
		} else {
			col = append(col, "")
		}
	}
	var values [][]any
	if q.Get("majorDimension") == "COLUMNS" {
		if len(col) > 0 {
			values = [][]any{col}
		}
	} else {
		for _, v := range col {
			values = append(values, []any{v})
		}
	}
	return 200, map[string]any{"range": rng, "majorDimension": "ROWS", "values": values}
}

func (s *Server) valuesAppend(rng string, r *http.Request) (int, any) {
	t, name, ok := s.tabOf(rng)
	if !ok {
		return 400, "Unable to parse range: " + rng
	}
	if r.URL.Query().Get("valueInputOption") != "RAW" {
		return 400, "the fake wants valueInputOption=RAW"
	}
	var vr struct {
		Values [][]any `json:"values"`
	}
	if err := json.NewDecoder(r.Body).Decode(&vr); err != nil {
		return 400, "Invalid JSON payload received."
	}
	first := len(t.rows) + 1
	t.rows = append(t.rows, vr.Values...)
	updated := fmt.Sprintf("'%s'!A%d:T%d", name, first, len(t.rows))
	return 200, map[string]any{
		"spreadsheetId": SpreadsheetID,
		"updates":       map[string]any{"spreadsheetId": SpreadsheetID, "updatedRange": updated, "updatedRows": len(vr.Values)},
	}
}

// apiError writes Google's JSON error envelope, with the legacy errors[] list when
// the fault has a reason.
func apiError(w http.ResponseWriter, f Fault, msg string) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	e := map[string]any{"code": f.Status, "message": msg, "status": f.Code}
	if f.Reason != "" {
		e["errors"] = []map[string]string{{"reason": f.Reason, "message": msg, "domain": "usageLimits"}}
	}
	writeJSON(w, f.Status, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
