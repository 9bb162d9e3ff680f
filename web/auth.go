package web

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/labstack/echo/v5"

	"nexus/store"
)

// access is what a route demands of the caller.
type access int

const (
	public access = iota // anybody (health, setup, login)
	member               // any user of the organization
	admin                // an admin of the organization
)

func (a access) String() string {
	return [...]string{"public", "member", "admin"}[a]
}

const (
	sessionCookie = "nexus_session"
	csrfHeader    = "X-CSRF-Token"
	principalKey  = "principal"
)

// setupDone caches "some user exists": it never turns false again, so after the first
// yes no request pays for the query.
type setupState struct{ done atomic.Bool }

// requireSetup answers 503 setup_required on every API route but the public ones
// while nobody has been set up.
func (s *Server) requireSetup(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if s.setup.done.Load() {
			return next(c)
		}
		ok, err := s.store.HasUsers(c.Request().Context())
		if err != nil {
			return err
		}
		if !ok {
			return apiError(http.StatusServiceUnavailable, "setup_required",
				"setup required: create the first organization and admin with POST /api/v1/setup or `nexus users create`")
		}
		s.setup.done.Store(true)
		return next(c)
	}
}

// authenticate resolves the caller from a bearer token or a session cookie. A cookie
// only authenticates a state-changing request that also carries the session's CSRF
// token, since a browser attaches the cookie to cross-site requests by itself.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ctx := c.Request().Context()
		var p store.Principal
		var err error
		if h := c.Request().Header.Get("Authorization"); h != "" {
			scheme, tok, ok := strings.Cut(h, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") {
				return apiError(http.StatusUnauthorized, "unauthorized", "Authorization must be \"Bearer <token>\"")
			}
			p, err = s.store.AuthenticateToken(ctx, strings.TrimSpace(tok))
		} else if ck, cerr := c.Cookie(sessionCookie); cerr == nil && ck.Value != "" {
			p, err = s.store.AuthenticateSession(ctx, ck.Value)
			if err == nil && !safeMethod(c.Request().Method) {
				got := c.Request().Header.Get(csrfHeader)
				if subtle.ConstantTimeCompare([]byte(got), []byte(p.CSRFToken)) != 1 {
					return apiError(http.StatusForbidden, "csrf", "missing or wrong "+csrfHeader+" header")
				}
			}
		} else {
			return apiError(http.StatusUnauthorized, "unauthorized", "authentication required: send Authorization: Bearer <token>")
		}
		if errors.Is(err, store.ErrUnauthenticated) {
			return apiError(http.StatusUnauthorized, "unauthorized", "invalid, revoked or expired credentials")
		}
		if err != nil {
			return err
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// requireAdmin refuses members on admin routes.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if !principal(c).IsAdmin() {
			return apiError(http.StatusForbidden, "forbidden", "this needs the admin role")
		}
		return next(c)
	}
}

// principal is the authenticated caller; routes behind authenticate always have one.
func principal(c *echo.Context) store.Principal {
	p, _ := c.Get(principalKey).(store.Principal)
	return p
}

// audit records a security event for the caller, logging (not failing the request)
// when the audit write itself fails.
func (s *Server) audit(c *echo.Context, orgID, userID int64, actor, action, target string) {
	err := s.store.Audit(c.Request().Context(), store.AuditEntry{
		OrgID: orgID, UserID: userID, Actor: actor, Action: action, Target: target, IP: c.RealIP(),
	})
	if err != nil {
		s.log.Error().Err(err).Str("action", action).Msg("audit write failed")
	}
}
