package xfake

import (
	"net/http"
	"time"
)

// Request is what the fake saw of one request and how it answered, so tests can
// assert on the client's behaviour ("account A never called after its 429 before the
// reset", "the transaction id changes per request").
type Request struct {
	Seq          int       // 1-based order of arrival at the server
	OpSeq        int       // 1-based among requests for the same operation (0: unknown route)
	AccountOpSeq int       // 1-based among this account's requests for the operation
	Time         time.Time // the server clock at arrival
	Method       string
	Path         string
	QueryID      string
	Operation    string
	Account      string // the auth_token cookie, once authenticated ("" before or on failure)
	Variables    map[string]any
	Features     map[string]any
	FieldToggles map[string]any
	Header       http.Header // as received: x-client-transaction-id, x-csrf-token, cookie, ...
	Status       int         // the status answered; 0 for a reset connection or one still in flight
	Fault        string      // the Name of the injected fault that answered, if any
}

// arrive records a request as it comes in.
func (s *Server) arrive(r *http.Request) *Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	req := &Request{
		Seq:    len(s.log) + 1,
		Time:   s.clock(),
		Method: r.Method,
		Path:   r.URL.Path,
		Header: r.Header.Clone(),
	}
	s.log = append(s.log, req)
	return req
}

// Requests returns a copy of the request log, in order of arrival.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.log))
	for i, r := range s.log {
		out[i] = *r
	}
	return out
}

// Count is the number of requests received for op (all accounts, all outcomes);
// op "" counts every request.
func (s *Server) Count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.log {
		if op == "" || r.Operation == op {
			n++
		}
	}
	return n
}

// CountAccount is the number of authenticated requests account authToken made for op
// ("" for every operation).
func (s *Server) CountAccount(authToken, op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.log {
		if r.Account == authToken && (op == "" || r.Operation == op) {
			n++
		}
	}
	return n
}

// ResetRequests empties the request log. Sequence numbers start again at 1; rate
// limits are kept.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
	clear(s.opSeq)
	clear(s.acctOpSeq)
}
