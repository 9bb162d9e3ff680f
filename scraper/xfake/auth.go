package xfake

import (
	"net/http"
)

// WebBearer is the public bearer token of X's web app (research/x-graphql.md §1.3).
// Every GraphQL request must carry "authorization: Bearer " + WebBearer.
const WebBearer = "AAAAAAAAAAAAAAAAAAAAANRILgAAAAAAnNwIzUejRCOuH5E6I8xnZz4puTs%3D1Zv7ttfk8LF81IUq16cHjhLTvJu4FA33AGWWjCpTnA"

// AccountState is what X thinks of a session.
type AccountState int

// The session states and how the fake answers each (research §1.6, §5, §7).
const (
	AccountActive    AccountState = iota // served normally
	AccountExpired                       // 401 {"errors":[{"code":32,"message":"Could not authenticate you."}]}
	AccountSuspended                     // 403 code 64 "Your account is suspended ..."
	AccountLocked                        // 403 code 326 "Authorization: Denied by access control ..."
	AccountReadOnly                      // 429 code 88 while x-rate-limit-remaining is still above 0 (soft ban)
)

type account struct {
	ct0   string
	state AccountState
}

// AddAccount registers a logged-in session: requests whose cookie carries this
// auth_token and ct0 (and x-csrf-token = ct0) are served. Adding a token again
// replaces its ct0 and makes it active.
func (s *Server) AddAccount(authToken, ct0 string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addAccountLocked(authToken, ct0)
}

func (s *Server) addAccountLocked(authToken, ct0 string) {
	s.accounts[authToken] = &account{ct0: ct0}
}

// RemoveAccount forgets a session; its requests then answer 401 code 32.
func (s *Server) RemoveAccount(authToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.accounts, authToken)
}

// SetAccountState changes how X treats a registered session.
func (s *Server) SetAccountState(authToken string, st AccountState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.accounts[authToken]; a != nil {
		a.state = st
	}
}

// authenticate checks the request the way X does, in this order: the bearer
// (401 code 89), the auth_token cookie (401 code 32), ct0 against x-csrf-token
// (403 code 353), the session being known with that ct0 (401 code 32 / 403 code
// 353), then the account's state. It returns the auth_token, or the answer.
func (s *Server) authenticate(r *http.Request) (string, *reply) {
	deny := func(status int, e XError) (string, *reply) {
		rep := jsonReply(status, ErrorBody(e))
		return "", &rep
	}
	if r.Header.Get("Authorization") != "Bearer "+WebBearer {
		return deny(http.StatusUnauthorized, ErrInvalidToken)
	}
	var token, ct0 string
	for _, c := range r.Cookies() {
		switch c.Name {
		case "auth_token":
			token = c.Value
		case "ct0":
			ct0 = c.Value
		}
	}
	if token == "" {
		return deny(http.StatusUnauthorized, ErrCouldNotAuthenticate)
	}
	if ct0 == "" || r.Header.Get("X-Csrf-Token") != ct0 {
		return deny(http.StatusForbidden, ErrCSRF)
	}
	s.mu.Lock()
	a := s.accounts[token]
	var st AccountState
	var known string
	if a != nil {
		st, known = a.state, a.ct0
	}
	s.mu.Unlock()
	switch {
	case a == nil:
		return deny(http.StatusUnauthorized, ErrCouldNotAuthenticate)
	case known != "" && known != ct0:
		return deny(http.StatusForbidden, ErrCSRF)
	}
	switch st {
	case AccountExpired:
		return deny(http.StatusUnauthorized, ErrCouldNotAuthenticate)
	case AccountSuspended:
		return deny(http.StatusForbidden, ErrSuspended)
	case AccountLocked:
		return deny(http.StatusForbidden, ErrLocked)
	}
	return token, nil
}
