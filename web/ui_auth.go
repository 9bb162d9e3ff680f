package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v5"

	"nexus/store"
)

const (
	csrfField  = "csrf"        // the hidden form field that carries the session's CSRF token
	formCookie = "nexus_form"  // double-submit token of the forms shown before a session exists
	flashCook  = "nexus_flash" // a one-line message for the page after a redirect
)

// gate is the UI's version of the API's requireSetup + authenticate + requireAdmin.
// It accepts the same credentials (a session cookie, or a bearer token for scripts and
// tests) and differs in how it refuses: a browser is sent to /setup or /login, and gets
// readable pages for the rest, while any other client gets the API's JSON errors.
func (u *ui) gate(a access) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			ctx := c.Request().Context()
			if !u.setup.done.Load() {
				ok, err := u.store.HasUsers(ctx)
				if err != nil {
					return err
				}
				if ok {
					u.setup.done.Store(true)
				}
			}
			if a == public {
				return next(c)
			}
			if !u.setup.done.Load() {
				if wantsHTML(c) {
					return c.Redirect(http.StatusSeeOther, "/setup")
				}
				return apiError(http.StatusServiceUnavailable, "setup_required", "setup required: open /setup in a browser")
			}
			p, err := u.credentials(c)
			if errors.Is(err, store.ErrUnauthenticated) {
				if wantsHTML(c) {
					return c.Redirect(http.StatusSeeOther, loginURL(c))
				}
				return apiError(http.StatusUnauthorized, "unauthorized", "log in, or send Authorization: Bearer <token>")
			}
			if err != nil {
				return err
			}
			if p.SessionID != 0 && !safeMethod(c.Request().Method) {
				got := c.Request().Header.Get(csrfHeader)
				if got == "" {
					got = c.FormValue(csrfField)
				}
				if subtle.ConstantTimeCompare([]byte(got), []byte(p.CSRFToken)) != 1 {
					return apiError(http.StatusForbidden, "csrf", "this form has expired; reload the page and try again")
				}
			}
			if a == admin && !p.IsAdmin() {
				return apiError(http.StatusForbidden, "forbidden", "this needs the admin role")
			}
			c.Set(principalKey, p)
			return next(c)
		}
	}
}

// credentials resolves the caller from a bearer token or the session cookie;
// store.ErrUnauthenticated when there is neither or it is invalid.
func (u *ui) credentials(c *echo.Context) (store.Principal, error) {
	ctx := c.Request().Context()
	if h := c.Request().Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return store.Principal{}, store.ErrUnauthenticated
		}
		return u.store.AuthenticateToken(ctx, strings.TrimSpace(tok))
	}
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return store.Principal{}, store.ErrUnauthenticated
	}
	return u.store.AuthenticateSession(ctx, ck.Value)
}

// wantsHTML tells a browser (which asks for text/html when it navigates or submits a
// form) from API clients and the UI's own fetch calls.
func wantsHTML(c *echo.Context) bool {
	return strings.Contains(c.Request().Header.Get("Accept"), "text/html")
}

// loginURL sends the browser to the login page and, for a page it asked for, back
// there afterwards.
func loginURL(c *echo.Context) string {
	if c.Request().Method != http.MethodGet {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(c.Request().URL.RequestURI())
}

// localPath keeps a redirect target on this site: a path, never a scheme, a host or
// a protocol-relative "//host".
func localPath(p, fallback string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") ||
		strings.ContainsAny(p, "\r\n") {
		return fallback
	}
	return p
}

// done ends an action: the UI's own fetch calls (Accept: application/json) get 204,
// a form post a flash message and a redirect, so a reload does not post again.
func (u *ui) done(c *echo.Context, to, flash string) error {
	if strings.Contains(c.Request().Header.Get("Accept"), "application/json") {
		return c.NoContent(http.StatusNoContent)
	}
	if flash != "" {
		setFlash(c, flash)
	}
	return c.Redirect(http.StatusSeeOther, localPath(to, "/"))
}

// back is where an action returns to: the page it was posted from (a field the forms
// carry), else fallback.
func back(c *echo.Context, fallback string) string {
	return localPath(c.FormValue("back"), fallback)
}

func setFlash(c *echo.Context, msg string) {
	c.SetCookie(&http.Cookie{Name: flashCook, Value: url.QueryEscape(msg), Path: "/", MaxAge: 60,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.Scheme() == "https"})
}

// takeFlash reads and clears the message left by the last action.
func takeFlash(c *echo.Context) string {
	ck, err := c.Cookie(flashCook)
	if err != nil || ck.Value == "" {
		return ""
	}
	c.SetCookie(&http.Cookie{Name: flashCook, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	msg, err := url.QueryUnescape(ck.Value)
	if err != nil || len(msg) > 300 {
		return ""
	}
	return msg
}

// formToken returns the double-submit token of the pre-session forms (setup, login),
// setting its cookie when there is none. The cookie is SameSite=Strict, so another
// site can neither read nor send it: a login CSRF that signs a victim into the
// attacker's account fails the comparison.
func formToken(c *echo.Context) string {
	if ck, err := c.Cookie(formCookie); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	tok := randomString(24)
	c.SetCookie(&http.Cookie{Name: formCookie, Value: tok, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.Scheme() == "https"})
	return tok
}

// checkFormToken compares the posted pre-session token with its cookie.
func checkFormToken(c *echo.Context) error {
	ck, err := c.Cookie(formCookie)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(c.FormValue(csrfField))) != 1 {
		return apiError(http.StatusForbidden, "csrf", "this form has expired; reload the page and try again")
	}
	return nil
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}
