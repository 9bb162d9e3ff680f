package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"nexus/store"
)

type usersData struct {
	Users []store.Member
	Email string // what was typed, when adding failed
	Role  string
	Error string
}

func (u *ui) usersView(c *echo.Context, d usersData, status int) error {
	ms, err := u.store.Members(c.Request().Context(), principal(c).OrgID)
	if err != nil {
		return err
	}
	d.Users = ms
	return u.render(c, status, "users", view{Title: "Users", Nav: "users", Data: d})
}

func (u *ui) usersPage(c *echo.Context) error {
	return u.usersView(c, usersData{Role: store.RoleMember}, http.StatusOK)
}

// userAdd adds a user to the organization, like POST /api/v1/users: an e-mail that
// already has an account elsewhere joins with its own password.
func (u *ui) userAdd(c *echo.Context) error {
	d := usersData{Email: strings.TrimSpace(c.FormValue("email")), Role: c.FormValue("role")}
	fail := func(msg string) error { d.Error = msg; return u.usersView(c, d, http.StatusBadRequest) }
	email, err := checkEmail("email", d.Email)
	if err != nil {
		return fail("That is not an e-mail address.")
	}
	if err := checkRole("role", d.Role); err != nil {
		return fail("Choose the admin or member role.")
	}
	var hash string
	if pw := c.FormValue("password"); pw != "" {
		if hash, err = store.HashPassword(pw); err != nil {
			return fail(capitalize(err.Error()) + ".")
		}
	}
	p := principal(c)
	m, err := u.store.AddMember(c.Request().Context(), p.OrgID, email, hash, d.Role)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fail("A new user needs a password.")
	case errors.Is(err, store.ErrConflict):
		return fail(email + " is already a member.")
	case err != nil:
		return err
	}
	u.audit(c, p.OrgID, p.UserID, p.Email, "user.add", m.Email+" as "+m.Role)
	return u.done(c, "/users", m.Email+" added as "+m.Role+".")
}

func (u *ui) userRole(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	role := c.FormValue("role")
	if err := checkRole("role", role); err != nil {
		return err
	}
	p := principal(c)
	m, err := u.store.SetRole(c.Request().Context(), p.OrgID, id, role)
	if err != nil {
		return err
	}
	u.audit(c, p.OrgID, p.UserID, p.Email, "user.role", m.Email+" to "+m.Role)
	return u.done(c, "/users", m.Email+" is now "+m.Role+".")
}

func (u *ui) userDelete(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p := principal(c)
	m, err := u.store.RemoveMember(c.Request().Context(), p.OrgID, id)
	if err != nil {
		return err
	}
	u.audit(c, p.OrgID, p.UserID, p.Email, "user.remove", m.Email)
	return u.done(c, "/users", m.Email+" removed.")
}

type tokensData struct {
	Tokens  []store.Token
	Users   []store.Member
	Created *createTokenResponse // shown once, right after creation
	Error   string
}

func (u *ui) tokensView(c *echo.Context, d tokensData, status int) error {
	p := principal(c)
	ctx := c.Request().Context()
	var err error
	if d.Tokens, err = u.store.Tokens(ctx, p.OrgID, ownerFilter(p)); err != nil {
		return err
	}
	if p.IsAdmin() {
		if d.Users, err = u.store.Members(ctx, p.OrgID); err != nil {
			return err
		}
	}
	return u.render(c, status, "tokens", view{Title: "API tokens", Nav: "tokens", Data: d})
}

func (u *ui) tokensPage(c *echo.Context) error { return u.tokensView(c, tokensData{}, http.StatusOK) }

// tokenCreate issues a token and shows its secret on the page it answers with, not
// after a redirect: the secret is never stored and must not land in a cookie or URL.
func (u *ui) tokenCreate(c *echo.Context) error {
	fail := func(msg string) error { return u.tokensView(c, tokensData{Error: msg}, http.StatusBadRequest) }
	name, err := checkName("name", c.FormValue("name"), 100)
	if err != nil {
		return fail("Give the token a name (up to 100 characters).")
	}
	days, err := strconv.Atoi(strings.TrimSpace(c.FormValue("expires_in_days")))
	if c.FormValue("expires_in_days") == "" {
		days, err = 0, nil
	}
	if err != nil || days < 0 || days > 3650 {
		return fail("Expiry must be 0 (never) to 3650 days.")
	}
	p := principal(c)
	owner := p.UserID
	if v := c.FormValue("user_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fail("Choose a user.")
		}
		if id != p.UserID {
			if !p.IsAdmin() {
				return apiError(http.StatusForbidden, "forbidden", "only admins issue tokens for other users")
			}
			if _, err := u.store.Member(c.Request().Context(), p.OrgID, id); err != nil {
				return err
			}
			owner = id
		}
	}
	var expires *time.Time
	if days > 0 {
		t := time.Now().Add(time.Duration(days) * 24 * time.Hour)
		expires = &t
	}
	t, secret, err := u.store.CreateToken(c.Request().Context(), p.OrgID, owner, name, expires)
	if err != nil {
		return err
	}
	u.audit(c, p.OrgID, p.UserID, p.Email, "token.create", t.Prefix+" "+t.Name)
	if strings.Contains(c.Request().Header.Get("Accept"), "application/json") {
		return c.JSON(http.StatusCreated, createTokenResponse{t, secret})
	}
	return u.tokensView(c, tokensData{Created: &createTokenResponse{t, secret}}, http.StatusCreated)
}

func (u *ui) tokenRevoke(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p := principal(c)
	if err := u.store.RevokeToken(c.Request().Context(), p.OrgID, ownerFilter(p), id); err != nil {
		return err
	}
	u.audit(c, p.OrgID, p.UserID, p.Email, "token.revoke", fmt.Sprintf("token %d", id))
	return u.done(c, "/tokens", "Token revoked.")
}

type integrationView struct {
	Kind       string
	Label      string
	Configured bool
	Settings   map[string]string
	UpdatedAt  time.Time
}

// integrationsPage shows which destinations are set up. The forms talk to the
// integrations API from the script, since secrets go there write-only as JSON.
func (u *ui) integrationsPage(c *echo.Context) error {
	ins, err := u.store.Integrations(c.Request().Context(), principal(c).OrgID)
	if err != nil {
		return err
	}
	list := []integrationView{{Kind: "slack", Label: "Slack"}, {Kind: "sheets", Label: "Google Sheets"}, {Kind: "webhook", Label: "Webhook"}}
	for i := range list {
		for _, in := range ins {
			if in.Kind == list[i].Kind {
				list[i].Configured, list[i].UpdatedAt = true, in.UpdatedAt
				json.Unmarshal(in.Public, &list[i].Settings) //nolint:errcheck // shown as is; an odd row shows no settings
			}
		}
	}
	return u.render(c, 200, "integrations", view{Title: "Integrations", Nav: "integrations", Data: list})
}
