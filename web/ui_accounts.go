package web

import (
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"nexus/store"
)

type accountView struct {
	store.XAccount
	State    string // ok | cooling | limited | inactive
	Label    string
	Ops      []opView
	Requests int64
	Errors   int64
}

type opView struct {
	Name        string
	LockedUntil *time.Time
	InUse       bool
	Requests    int64
	Errors      int64
}

type accountsData struct {
	Accounts []accountView
	Name     string // what was typed, when adding failed
	Error    string
}

// accountState sums up an account in a word and a sentence.
func accountState(a store.XAccount, now time.Time) accountView {
	v := accountView{XAccount: a, State: "ok", Label: "Ready"}
	names := make([]string, 0, len(a.Ops))
	for n := range a.Ops {
		names = append(names, n)
	}
	sort.Strings(names)
	var locked []string
	for _, n := range names {
		o := a.Ops[n]
		v.Ops = append(v.Ops, opView{Name: n, LockedUntil: o.LockedUntil, InUse: o.InUse, Requests: o.Requests, Errors: o.Errors})
		v.Requests += o.Requests
		v.Errors += o.Errors
		if o.LockedUntil != nil && o.LockedUntil.After(now) {
			locked = append(locked, n)
		}
	}
	switch {
	case !a.Active:
		v.State, v.Label = "inactive", "Inactive: X refused this session; reactivate it after fixing the account"
	case a.CooldownUntil != nil && a.CooldownUntil.After(now):
		v.State, v.Label = "cooling", "Cooling down after an error from X"
	case len(locked) > 0:
		v.State, v.Label = "limited", "Rate-limited on "+strings.Join(locked, ", ")
	}
	return v
}

func (u *ui) accountsView(c *echo.Context, d accountsData, status int) error {
	as, err := u.store.XAccounts(c.Request().Context(), principal(c).OrgID)
	if err != nil {
		return err
	}
	now := u.opts.Now()
	for _, a := range as {
		d.Accounts = append(d.Accounts, accountState(a, now))
	}
	return u.render(c, status, "accounts", view{Title: "X accounts", Nav: "accounts", Data: d})
}

func (u *ui) accountsPage(c *echo.Context) error {
	return u.accountsView(c, accountsData{}, http.StatusOK)
}

// accountAdd stores a pasted session. A refusal shows the form again with the name
// only: cookies and the proxy (it may carry a password) are never echoed back.
func (u *ui) accountAdd(c *echo.Context) error {
	name := strings.TrimSpace(c.FormValue("name"))
	proxy := strings.TrimSpace(c.FormValue("proxy"))
	stored, ua, err := NormalizeAccount(name, c.FormValue("cookies"), proxy)
	var ae *Error
	if errors.As(err, &ae) {
		return u.accountsView(c, accountsData{Name: name, Error: capitalize(ae.Message)}, http.StatusBadRequest)
	}
	if err != nil {
		return err
	}
	p := principal(c)
	a, err := u.store.AddXAccount(c.Request().Context(), p.OrgID, name, stored, proxy, ua)
	if errors.Is(err, store.ErrConflict) {
		return u.accountsView(c, accountsData{Name: name, Error: "An account named " + name + " already exists."}, http.StatusConflict)
	}
	if err != nil {
		return err
	}
	u.audit(c, p.OrgID, p.UserID, p.Email, "x_account.add", a.Name)
	return u.done(c, "/accounts", "Account "+a.Name+" added.")
}

func (u *ui) uiAccount(c *echo.Context) (store.XAccount, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return store.XAccount{}, err
	}
	return u.store.XAccount(c.Request().Context(), principal(c).OrgID, id)
}

func (u *ui) accountReactivate(c *echo.Context) error {
	a, err := u.uiAccount(c)
	if err != nil {
		return err
	}
	p := principal(c)
	if err := u.store.ReactivateXAccount(c.Request().Context(), p.OrgID, a.ID); err != nil {
		return err
	}
	u.audit(c, p.OrgID, p.UserID, p.Email, "x_account.reactivate", a.Name)
	return u.done(c, "/accounts", "Account "+a.Name+" reactivated.")
}

func (u *ui) accountDelete(c *echo.Context) error {
	a, err := u.uiAccount(c)
	if err != nil {
		return err
	}
	p := principal(c)
	if err := u.store.RemoveXAccount(c.Request().Context(), p.OrgID, a.ID); err != nil {
		return err
	}
	u.audit(c, p.OrgID, p.UserID, p.Email, "x_account.remove", a.Name)
	return u.done(c, "/accounts", "Account "+a.Name+" removed.")
}

func (u *ui) accountsResetLocks(c *echo.Context) error {
	p := principal(c)
	if err := u.store.ResetXLocks(c.Request().Context(), p.OrgID); err != nil {
		return err
	}
	u.audit(c, p.OrgID, p.UserID, p.Email, "x_account.reset_locks", "all")
	return u.done(c, "/accounts", "Every rate-limit lock was cleared.")
}
