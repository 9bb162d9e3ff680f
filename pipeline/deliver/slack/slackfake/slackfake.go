// Package slackfake is an in-process fake of the two Slack endpoints Nexus uses, an
// incoming webhook and the Web API's chat.postMessage, on a loopback httptest server.
// It records every accepted message and can be told to fail the next requests.
package slackfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"nexus/pipeline/deliver/delivertest"
)

// Token is the bot token the fake accepts; any other gets invalid_auth.
const Token = "xoxb-test-token"

// Channel is the channel the fake knows; any other gets channel_not_found.
const Channel = "C0NEXUS"

// Message is one message the fake accepted.
type Message struct {
	Mode     string           // "webhook" or "bot"
	Channel  string           // bot mode
	Text     string           // notification text
	Blocks   []map[string]any // decoded Block Kit blocks
	Metadata map[string]any   // bot mode: the metadata parameter, decoded
}

// Fault is a canned failure for the next request.
type Fault struct {
	Status     int    // HTTP status, e.g. 429 or 500; 0 means 200 with Error
	RetryAfter string // Retry-After header value
	Error      string // Web API error code, e.g. "invalid_auth"
}

// Server is the fake.
type Server struct {
	*httptest.Server
	mu     sync.Mutex
	msgs   []Message
	faults []queued
	hits   int
	down   delivertest.Outage
}

// outage is a time during which every request fails.
type outage struct {
	now    func() time.Time
	until  time.Time
	status int
	failed int
}

// New starts a fake and stops it when the test ends.
func New(t testing.TB) *Server {
	s := &Server{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/chat.postMessage", s.postMessage)
	mux.HandleFunc("POST /services/", s.webhook)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// WebhookURL is an incoming-webhook URL served by the fake.
func (s *Server) WebhookURL() string { return s.URL + "/services/T000/B000/secret" }

// APIURL is the Web API base URL for slack.OptionAPIURL.
func (s *Server) APIURL() string { return s.URL + "/api/" }

type queued struct {
	after int // successful requests to let through first
	f     Fault
}

// Fail queues faults, applied one per request in order.
func (s *Server) Fail(f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range f {
		s.faults = append(s.faults, queued{f: f})
	}
}

// FailAfter queues f behind n requests that are let through, e.g. to fail the third
// page of a digest.
func (s *Server) FailAfter(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, queued{after: n, f: f})
}

// DownUntil makes every request fail with status (503 when 0), as during an outage
// of Slack, until now reaches until; now is the test's clock, which may be a fake one.
func (s *Server) DownUntil(now func() time.Time, until time.Time, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down.Set(now, until, status)
}

// FailedDown counts the requests refused by DownUntil's outage.
func (s *Server) FailedDown() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down.Failed()
}

// Messages returns the accepted messages in arrival order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Requests counts every request, accepted or failed.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

// fault pops the next queued fault and writes it; it reports whether it did.
func (s *Server) fault(w http.ResponseWriter, webAPI bool) bool {
	s.mu.Lock()
	s.hits++
	if status, down := s.down.Refuse(); down {
		s.mu.Unlock()
		w.WriteHeader(status)
		return true
	}
	if len(s.faults) == 0 {
		s.mu.Unlock()
		return false
	}
	if s.faults[0].after > 0 {
		s.faults[0].after--
		s.mu.Unlock()
		return false
	}
	f := s.faults[0].f
	s.faults = s.faults[1:]
	s.mu.Unlock()
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Status != 0 {
		w.WriteHeader(f.Status)
		if !webAPI {
			w.Write([]byte(f.Error))
		}
		return true
	}
	writeJSON(w, map[string]any{"ok": false, "error": f.Error})
	return true
}

func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	if s.fault(w, false) {
		return
	}
	var body struct {
		Text   string           `json:"text"`
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || (body.Text == "" && len(body.Blocks) == 0) {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	s.record(Message{Mode: "webhook", Text: body.Text, Blocks: body.Blocks})
	w.Write([]byte("ok"))
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	if s.fault(w, true) {
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if token != Token {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	ch := r.PostForm.Get("channel")
	if ch != Channel {
		writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	m := Message{Mode: "bot", Channel: ch, Text: r.PostForm.Get("text")}
	if b := r.PostForm.Get("blocks"); b != "" {
		if err := json.Unmarshal([]byte(b), &m.Blocks); err != nil {
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_blocks_format"})
			return
		}
	}
	if md := r.PostForm.Get("metadata"); md != "" {
		if err := json.Unmarshal([]byte(md), &m.Metadata); err != nil {
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_metadata_format"})
			return
		}
	}
	n := s.record(m)
	writeJSON(w, map[string]any{"ok": true, "channel": ch, "ts": "1700000000." + strconv.Itoa(100000+n)})
}

func (s *Server) record(m Message) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	return len(s.msgs)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
