package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v5"
	"github.com/rs/zerolog"
)

// syncBuffer is a log sink that parallel requests can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTestServer(t *testing.T, checks ...Check) (*Server, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	s, err := New(Options{Log: zerolog.New(logs), BodyLimit: 1024, Checks: checks, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return s, logs
}

func do(t *testing.T, h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) Error {
	t.Helper()
	var b struct{ Error Error }
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatalf("error body %q is not JSON: %v", rec.Body, err)
	}
	if b.Error.Code == "" || b.Error.Message == "" {
		t.Fatalf("error body %q lacks code or message", rec.Body)
	}
	return b.Error
}

func TestHealth(t *testing.T) {
	t.Parallel()
	fail := errors.New("database is read-only")
	tests := []struct {
		name   string
		checks []Check
		status int
		want   string
	}{
		{"all ok", []Check{{"database", func(context.Context) error { return nil }}, {"workers", func(context.Context) error { return nil }}}, 200, "ok"},
		{"one failing", []Check{{"database", func(context.Context) error { return fail }}, {"workers", func(context.Context) error { return nil }}}, 503, "degraded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestServer(t, tt.checks...)
			for _, path := range []string{"/health", "/api/v1/health"} {
				rec := do(t, s.Handler(), "GET", path, "")
				if rec.Code != tt.status {
					t.Fatalf("%s: status %d, want %d", path, rec.Code, tt.status)
				}
				var got healthResponse
				json.Unmarshal(rec.Body.Bytes(), &got)
				if got.Status != tt.want {
					t.Fatalf("%s: status %q, want %q", path, got.Status, tt.want)
				}
				if tt.status == 503 && got.Checks["database"].Error != fail.Error() {
					t.Fatalf("failing check not named: %+v", got.Checks)
				}
			}
		})
	}
}

func TestUnknownRouteIsJSON404(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	rec := do(t, s.Handler(), "GET", "/api/v1/nope", "")
	if rec.Code != 404 || decodeError(t, rec).Code != "not_found" {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("X-Frame-Options") != "DENY" {
		t.Fatalf("secure headers missing: %v", rec.Header())
	}
}

func TestPanicIsLogged500AndServerLivesOn(t *testing.T) {
	t.Parallel()
	s, logs := newTestServer(t, Check{"database", func(context.Context) error { return nil }})
	s.Echo().GET("/boom", func(c *echo.Context) error { panic("kaboom") })
	rec := do(t, s.Handler(), "GET", "/boom", "")
	if rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
	e := decodeError(t, rec)
	id := rec.Header().Get("X-Request-Id")
	if id == "" || !strings.Contains(e.Message, id) {
		t.Fatalf("request id %q not in message %q", id, e.Message)
	}
	if strings.Contains(rec.Body.String(), "kaboom") {
		t.Fatal("panic value leaked to the client")
	}
	if !strings.Contains(logs.String(), "kaboom") || !strings.Contains(logs.String(), id) {
		t.Fatalf("panic not logged with request id: %s", logs)
	}
	if rec := do(t, s.Handler(), "GET", "/health", ""); rec.Code != 200 {
		t.Fatalf("after panic, health %d", rec.Code)
	}
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	type body struct {
		Name  string   `json:"name"`
		Count int      `json:"count"`
		Tags  []string `json:"tags"`
	}
	s, _ := newTestServer(t)
	s.Echo().POST("/echo", func(c *echo.Context) error {
		var b body
		if err := decodeJSON(c, &b); err != nil {
			return err
		}
		return c.JSON(200, b)
	})
	tests := []struct {
		name    string
		body    string
		ctype   string
		status  int
		msg     string
		chunked bool
	}{
		{"ok", `{"name":"a","count":2}`, "application/json", 200, "", false},
		{"unknown field", `{"name":"a","colour":"red"}`, "application/json", 400, `"colour"`, false},
		{"wrong type", `{"name":"a","count":"two"}`, "application/json", 400, `field "count" must be an integer`, false},
		{"wrong type in array", `{"tags":[1]}`, "application/json", 400, `"tags`, false},
		{"malformed", `{"name":`, "application/json", 400, "truncated", false},
		{"syntax", `{"name" "a"}`, "application/json", 400, "malformed JSON at byte", false},
		{"empty", ``, "application/json", 400, "empty", false},
		{"not an object", `[1,2]`, "application/json", 400, "JSON object", false},
		{"two objects", `{"name":"a"}{"name":"b"}`, "application/json", 400, "single JSON object", false},
		{"too large", `{"name":"` + strings.Repeat("a", 2000) + `"}`, "application/json", 413, "exceeds", false},
		{"too large, chunked", `{"name":"` + strings.Repeat("a", 2000) + `"}`, "application/json", 413, "exceeds", true},
		{"wrong content type", `name=a`, "application/x-www-form-urlencoded", 415, "application/json", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest("POST", "/echo", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ctype)
			if tt.chunked {
				req.ContentLength = -1 // the limit must hold without a Content-Length too
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status != 200 {
				if e := decodeError(t, rec); !strings.Contains(e.Message, tt.msg) {
					t.Fatalf("message %q does not contain %q", e.Message, tt.msg)
				}
			}
		})
	}
}

// TestUnknownPageIsHTMLForBrowsers: a browser asking for a page that does not exist gets
// the UI's error page; an API path answers JSON even to a browser.
func TestUnknownPageIsHTMLForBrowsers(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	get := func(path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		return rec
	}
	rec := get("/no-such-page")
	if rec.Code != 404 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
		!strings.Contains(rec.Body.String(), "There is no such page.") {
		t.Fatalf("browser 404: %d %s\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	rec = get("/api/v1/nope")
	if rec.Code != 404 || decodeError(t, rec).Code != "not_found" {
		t.Fatalf("API 404 for a browser: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, s.Handler(), "GET", "/no-such-page", ""); rec.Code != 404 || decodeError(t, rec).Code != "not_found" {
		t.Fatalf("non-browser 404: %d %s", rec.Code, rec.Body)
	}
}
