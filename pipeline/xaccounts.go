package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"nexus/scraper"
	"nexus/store"
)

// XAccounts is the SQLite account pool of one organization as the X client sees it.
// The scraper declares what it needs and knows nothing of the store; this adapter
// translates between the two.
type XAccounts struct {
	st    *store.Store
	orgID int64
	// onSuccess, when set, is told of every lease under which X answered with data:
	// the organization has a usable account (the runner's wait for one is over).
	onSuccess func()
}

// NewXAccounts returns the pool of orgID's X sessions.
func NewXAccounts(st *store.Store, orgID int64) *XAccounts { return &XAccounts{st: st, orgID: orgID} }

// Acquire leases the least recently used free account for op.
func (x *XAccounts) Acquire(ctx context.Context, op string, now, until time.Time) (scraper.Account, error) {
	a, err := x.st.AcquireXAccount(ctx, x.orgID, op, now, until)
	var none *store.NoXAccountError
	if errors.As(err, &none) {
		return scraper.Account{}, &scraper.NoAccountError{Operation: none.Operation, NextFree: none.NextFree}
	}
	if err != nil {
		return scraper.Account{}, err
	}
	var cookies scraper.Cookies
	if err := json.Unmarshal(a.Cookies, &cookies); err != nil {
		return scraper.Account{}, fmt.Errorf("X account %q: stored cookies: %w", a.Name, err)
	}
	return scraper.Account{ID: a.ID, Name: a.Name, Cookies: cookies, Proxy: a.Proxy, UserAgent: a.UserAgent, Bare403s: a.Bare403s}, nil
}

// Release ends a lease and records what happened.
func (x *XAccounts) Release(ctx context.Context, accountID int64, op string, o scraper.Outcome) error {
	if o.Success && x.onSuccess != nil {
		x.onSuccess()
	}
	// The lease must end even when the caller was cancelled mid-request, or the
	// account would sit leased until the lease runs out.
	return x.st.ReleaseXAccount(context.WithoutCancel(ctx), accountID, op, store.XOutcome{
		Requests: o.Requests, Errors: o.Errors, LockedUntil: o.LockedUntil, CooldownUntil: o.CooldownUntil,
		Bare403: o.Bare403, Success: o.Success, Deactivate: o.Deactivate, LastError: o.LastError,
	})
}
