package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"nexus/store"
)

type authForm struct {
	Token        string // the pre-session form token
	Organization string
	Email        string
	Next         string
	Error        string
}

// setupPage is the first-run form; once anybody exists it sends people to log in.
func (u *ui) setupPage(c *echo.Context) error {
	if u.setup.done.Load() {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return u.render(c, 200, "setup", view{Title: "Set up Nexus", Data: authForm{Token: formToken(c)}})
}

// setupSubmit creates the first organization and admin, exactly as POST
// /api/v1/setup does, and logs the new admin in.
func (u *ui) setupSubmit(c *echo.Context) error {
	f := authForm{Token: formToken(c), Organization: strings.TrimSpace(c.FormValue("organization")),
		Email: strings.TrimSpace(c.FormValue("email"))}
	if err := checkFormToken(c); err != nil {
		return err
	}
	if u.setup.done.Load() {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	fail := func(msg string) error {
		f.Error = msg
		return u.render(c, http.StatusBadRequest, "setup", view{Title: "Set up Nexus", Data: f})
	}
	org, err := checkName("organization", f.Organization, 100)
	if err != nil {
		return fail("Name your organization (up to 100 characters).")
	}
	email, err := checkEmail("email", f.Email)
	if err != nil {
		return fail("That is not an e-mail address.")
	}
	if c.FormValue("password") != c.FormValue("password2") {
		return fail("The two passwords differ.")
	}
	hash, err := store.HashPassword(c.FormValue("password"))
	if err != nil {
		return fail(capitalize(err.Error()) + ".")
	}
	ctx := c.Request().Context()
	o, m, err := u.store.Setup(ctx, org, email, hash)
	if errors.Is(err, store.ErrAlreadySetUp) {
		u.setup.done.Store(true)
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	if err != nil {
		return err
	}
	u.setup.done.Store(true)
	u.audit(c, o.ID, m.ID, m.Email, "setup", "organization "+o.Name)
	if err := u.startSession(c, m); err != nil {
		return err
	}
	setFlash(c, "Welcome! Add an X account, then create your first campaign.")
	return c.Redirect(http.StatusSeeOther, "/")
}

func (u *ui) loginPage(c *echo.Context) error {
	if !u.setup.done.Load() {
		return c.Redirect(http.StatusSeeOther, "/setup")
	}
	next := localPath(c.QueryParam("next"), "/")
	if _, err := u.credentials(c); err == nil {
		return c.Redirect(http.StatusSeeOther, next) // already logged in
	}
	return u.render(c, 200, "login", view{Title: "Log in", Data: authForm{Token: formToken(c), Next: next}})
}

// loginSubmit checks a password with the API login's rules: the same answer and the
// same work for an unknown e-mail and a wrong password, failures limited per address
// and per account, every attempt audited.
func (u *ui) loginSubmit(c *echo.Context) error {
	f := authForm{Token: formToken(c), Email: strings.TrimSpace(c.FormValue("email")),
		Organization: strings.TrimSpace(c.FormValue("organization")), Next: localPath(c.FormValue("next"), "/")}
	if err := checkFormToken(c); err != nil {
		return err
	}
	if !u.setup.done.Load() {
		return c.Redirect(http.StatusSeeOther, "/setup")
	}
	fail := func(status int, msg string) error {
		f.Error = msg
		return u.render(c, status, "login", view{Title: "Log in", Data: f})
	}
	password := c.FormValue("password")
	if f.Email == "" || password == "" {
		return fail(http.StatusBadRequest, "Enter your e-mail and password.")
	}
	m, wait, err := u.checkPassword(c, f.Email, password, f.Organization)
	switch {
	case wait > 0:
		c.Response().Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		return fail(http.StatusTooManyRequests, fmt.Sprintf("Too many failed logins. Try again in %d minutes.", int(wait.Minutes())+1))
	case errors.Is(err, store.ErrUnauthenticated):
		return fail(http.StatusUnauthorized, "Wrong e-mail or password.")
	case err != nil:
		return err
	}
	if err := u.startSession(c, m); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, f.Next)
}

// checkPassword is the API login's check (sessions.go), shared here rather than
// changed there: rate limits first, then the password against the store's hash (a
// dummy one for an unknown e-mail), then the membership.
func (u *ui) checkPassword(c *echo.Context, email, password, org string) (store.Member, time.Duration, error) {
	ctx := c.Request().Context()
	ip := c.RealIP()
	account := strings.ToLower(email)
	for _, lim := range []struct {
		l   *failureLimiter
		key string
	}{{u.loginByIP, ip}, {u.loginByAccount, account}} {
		if ok, wait := lim.l.allow(lim.key); !ok {
			return store.Member{}, wait, nil
		}
	}
	userID, hash, err := u.store.PasswordHash(ctx, account)
	if err != nil {
		return store.Member{}, 0, err
	}
	ok := store.CheckPassword(hash, password) && userID != 0
	var m store.Member
	if ok {
		ms, err := u.store.Memberships(ctx, account)
		if err != nil {
			return store.Member{}, 0, err
		}
		m, ok = pickMembership(ms, org)
	}
	if !ok {
		u.loginByIP.fail(ip)
		u.loginByAccount.fail(account)
		u.auditLoginFailure(c, userID, account)
		return store.Member{}, 0, store.ErrUnauthenticated
	}
	u.loginByAccount.reset(account)
	return m, 0, nil
}

func (u *ui) startSession(c *echo.Context, m store.Member) error {
	cookie, _, err := u.store.CreateSession(c.Request().Context(), m.OrgID, m.ID, c.RealIP(), u.opts.SessionTTL)
	if err != nil {
		return err
	}
	u.setSessionCookie(c, cookie, u.opts.SessionTTL)
	u.audit(c, m.OrgID, m.ID, m.Email, "login.success", "")
	return nil
}

func (u *ui) logoutSubmit(c *echo.Context) error {
	p := principal(c)
	if p.SessionID != 0 {
		if err := u.store.RevokeSession(c.Request().Context(), p.SessionID); err != nil {
			return err
		}
		u.setSessionCookie(c, "", -time.Second)
		u.audit(c, p.OrgID, p.UserID, p.Email, "logout", "")
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}
