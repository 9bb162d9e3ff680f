package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"nexus/store"
)

type loginRequest struct {
	Email        string `json:"email"`
	Password     string `json:"password"`
	Organization string `json:"organization"` // optional: which of the user's organizations
}

type sessionResponse struct {
	User      store.Member `json:"user"`
	CSRFToken string       `json:"csrf_token"`
}

// login checks a password and starts a session. Unknown e-mail and wrong password
// get the same answer after the same work; failures are limited per IP and per
// account, and every attempt is audited.
func (s *Server) login(c *echo.Context) error {
	var req loginRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Email == "" || req.Password == "" {
		return invalid("email", "email and password are required")
	}
	ctx := c.Request().Context()
	ip := c.RealIP()
	account := strings.ToLower(strings.TrimSpace(req.Email))
	for _, lim := range []struct {
		l   *failureLimiter
		key string
	}{{s.loginByIP, ip}, {s.loginByAccount, account}} {
		if ok, wait := lim.l.allow(lim.key); !ok {
			secs := int(wait.Seconds()) + 1
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
			return apiError(http.StatusTooManyRequests, "rate_limited", fmt.Sprintf("too many failed logins; retry in %d s", secs))
		}
	}

	userID, hash, err := s.store.PasswordHash(ctx, account)
	if err != nil {
		return err
	}
	ok := store.CheckPassword(hash, req.Password) && userID != 0
	var m store.Member
	if ok {
		ms, err := s.store.Memberships(ctx, account)
		if err != nil {
			return err
		}
		m, ok = pickMembership(ms, req.Organization)
	}
	if !ok {
		s.loginByIP.fail(ip)
		s.loginByAccount.fail(account)
		s.auditLoginFailure(c, userID, account)
		return apiError(http.StatusUnauthorized, "unauthorized", "wrong e-mail or password")
	}
	s.loginByAccount.reset(account)

	cookie, p, err := s.store.CreateSession(ctx, m.OrgID, m.ID, ip, s.opts.SessionTTL)
	if err != nil {
		return err
	}
	s.setSessionCookie(c, cookie, s.opts.SessionTTL)
	s.audit(c, m.OrgID, m.ID, m.Email, "login.success", "")
	return c.JSON(http.StatusOK, sessionResponse{User: m, CSRFToken: p.CSRFToken})
}

// auditLoginFailure records a failed login in every organization of a known user,
// so each of their admins sees attempts on the account; an unknown e-mail is kept
// without an organization.
func (s *Server) auditLoginFailure(c *echo.Context, userID int64, account string) {
	if userID == 0 {
		s.audit(c, 0, 0, account, "login.failure", "unknown e-mail")
		return
	}
	ms, err := s.store.Memberships(c.Request().Context(), account)
	if err != nil {
		s.log.Error().Err(err).Msg("audit: memberships")
	}
	for _, m := range ms {
		s.audit(c, m.OrgID, userID, account, "login.failure", "")
	}
}

// pickMembership chooses the organization named at login, else the oldest membership.
// A name the user is not a member of fails like a wrong password.
func pickMembership(ms []store.Member, org string) (store.Member, bool) {
	for _, m := range ms {
		if org == "" || strings.EqualFold(m.Organization, org) {
			return m, true
		}
	}
	return store.Member{}, false
}

func (s *Server) setSessionCookie(c *echo.Context, value string, ttl time.Duration) {
	c.SetCookie(&http.Cookie{
		Name:     sessionCookie,
		Value:    value,
		Path:     "/",
		MaxAge:   int(ttl.Seconds()),
		HttpOnly: true,
		Secure:   c.Scheme() == "https",
		SameSite: http.SameSiteLaxMode,
	})
}

// logout ends the current session (a token caller has none, and gets 204 all the same).
func (s *Server) logout(c *echo.Context) error {
	p := principal(c)
	if p.SessionID != 0 {
		if err := s.store.RevokeSession(c.Request().Context(), p.SessionID); err != nil {
			return err
		}
		s.setSessionCookie(c, "", -time.Second)
		s.audit(c, p.OrgID, p.UserID, p.Email, "logout", "")
	}
	return c.NoContent(http.StatusNoContent)
}

type meResponse struct {
	store.Member
	Auth string `json:"auth"` // token | session
}

// me describes the caller: who, in which organization, with which role.
func (s *Server) me(c *echo.Context) error {
	p := principal(c)
	m, err := s.store.Member(c.Request().Context(), p.OrgID, p.UserID)
	if err != nil {
		return err
	}
	auth := "token"
	if p.SessionID != 0 {
		auth = "session"
	}
	return c.JSON(http.StatusOK, meResponse{m, auth})
}

type passwordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword replaces the caller's password. Every session of the user ends; a
// cookie caller gets a fresh one so the page they are on keeps working.
func (s *Server) changePassword(c *echo.Context) error {
	var req passwordRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p := principal(c)
	ctx := c.Request().Context()
	_, hash, err := s.store.PasswordHash(ctx, p.Email)
	if err != nil {
		return err
	}
	if !store.CheckPassword(hash, req.CurrentPassword) {
		s.audit(c, p.OrgID, p.UserID, p.Email, "password.change_failure", "")
		return invalid("current_password", "wrong password")
	}
	newHash, err := store.HashPassword(req.NewPassword)
	if errors.Is(err, store.ErrWeakPassword) {
		return invalid("new_password", "%s", err)
	}
	if err != nil {
		return err
	}
	if err := s.store.SetPassword(ctx, p.UserID, newHash); err != nil {
		return err
	}
	s.audit(c, p.OrgID, p.UserID, p.Email, "password.change", "")
	resp := map[string]any{"sessions_revoked": true}
	if p.SessionID != 0 {
		cookie, np, err := s.store.CreateSession(ctx, p.OrgID, p.UserID, c.RealIP(), s.opts.SessionTTL)
		if err != nil {
			return err
		}
		s.setSessionCookie(c, cookie, s.opts.SessionTTL)
		resp["csrf_token"] = np.CSRFToken
	}
	return c.JSON(http.StatusOK, resp)
}
