package scraper

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"
)

// Account is one logged-in X session as the client uses it while it holds the lease.
type Account struct {
	ID      int64
	Name    string
	Cookies Cookies
	// Proxy is "" (direct) or the proxy every request of this session goes through:
	// http://, https:// or socks5:// with optional user:password.
	Proxy string
	// UserAgent is the browser the session claims to be, fixed for its life; "" derives
	// one from ID (see BrowserUserAgent).
	UserAgent string
	// Bare403s counts the bare 403s since the session's last success: X answers them to
	// dying sessions but also in passing, so the first rests the account and the second
	// bans it.
	Bare403s int
}

// Outcome is what happened while a lease was held, for AccountStore.Release.
type Outcome struct {
	Requests, Errors int       // requests sent under the lease, and how many failed
	LockedUntil      time.Time // lock the operation until then (rate limit); zero: none
	CooldownUntil    time.Time // rest the whole account until then; zero: none
	Bare403          bool      // a bare 403 was answered: one more towards a ban
	Success          bool      // X answered with data: the bare-403 count starts over
	Deactivate       bool      // banned or logged out: out of rotation until reactivated
	LastError        string    // why, for the operator; never holds a cookie. "" keeps the previous one unless Success
}

// AccountStore is the pool of X sessions the client draws from. *store.Store satisfies
// it in the server and the CLI; MemAccounts does in tests.
type AccountStore interface {
	// Acquire leases the least recently used free account for op until `until`: an
	// active account, not cooling down, not locked on op and not leased on op. It
	// returns a *NoAccountError when none is free.
	Acquire(ctx context.Context, op string, now, until time.Time) (Account, error)
	// Release ends the lease of accountID on op and records o.
	Release(ctx context.Context, accountID int64, op string, o Outcome) error
}

// NoAccountError says that no account is free for an operation, and when the first one
// frees.
type NoAccountError struct {
	Operation string
	NextFree  time.Time // zero: no active account at all, so none will free by waiting
}

// Error says when the first account frees, or that none is active.
func (e *NoAccountError) Error() string {
	if e.NextFree.IsZero() {
		return fmt.Sprintf("no active X account for %s; add one or reactivate one", e.Operation)
	}
	return fmt.Sprintf("every X account is busy or rate-limited for %s until %s", e.Operation, e.NextFree.UTC().Format(time.RFC3339))
}

// MemAccounts is an AccountStore in memory, for tests and for running the client
// without a database. It keeps the rules of the SQLite store: least recently used
// first, per-operation locks and leases, account-wide cooldowns, deactivation. It is
// safe for concurrent use.
type MemAccounts struct {
	mu     sync.Mutex
	accts  []*memAccount
	nextID int64
}

type memAccount struct {
	a        Account
	active   bool
	lastErr  string
	cooldown time.Time
	lastUsed time.Time
	ops      map[string]*OperationState
}

// AccountState is a snapshot of one MemAccounts account, without its cookies.
type AccountState struct {
	ID            int64
	Name          string
	Active        bool
	LastError     string
	Bare403s      int
	CooldownUntil time.Time
	LastUsed      time.Time
	Operations    map[string]OperationState
}

// OperationState is an account's state on one operation.
type OperationState struct {
	LockedUntil time.Time
	LeasedUntil time.Time
	Requests    int
	Errors      int
}

// NewMemAccounts returns a pool holding accounts, active and unused. An account with
// ID 0 gets the next free id.
func NewMemAccounts(accounts ...Account) *MemAccounts {
	m := &MemAccounts{}
	for _, a := range accounts {
		m.Add(a)
	}
	return m
}

// Add puts a into the pool, active, and returns it with its id.
func (m *MemAccounts) Add(a Account) Account {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a.ID == 0 {
		a.ID = m.nextID + 1
	}
	m.nextID = max(m.nextID, a.ID)
	a.Cookies = maps.Clone(a.Cookies)
	m.accts = append(m.accts, &memAccount{a: a, active: true, ops: make(map[string]*OperationState)})
	return a
}

// Acquire implements AccountStore.
func (m *MemAccounts) Acquire(ctx context.Context, op string, now, until time.Time) (Account, error) {
	if err := ctx.Err(); err != nil {
		return Account{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var best *memAccount
	for _, ma := range m.accts {
		if !ma.active || ma.freeAt(op, time.Time{}).After(now) {
			continue
		}
		if best == nil || ma.lastUsed.Before(best.lastUsed) {
			best = ma
		}
	}
	if best == nil {
		e := &NoAccountError{Operation: op}
		for _, ma := range m.accts {
			// As in the SQLite store: a lease ends when its operation does, usually within
			// seconds, not at its expiry, so a merely busy account is expected a second
			// from now.
			t := ma.freeAt(op, now.Add(time.Second))
			if ma.active && (e.NextFree.IsZero() || t.Before(e.NextFree)) {
				e.NextFree = t
			}
		}
		return Account{}, e
	}
	st := best.op(op)
	st.LeasedUntil = until
	best.lastUsed = now
	a := best.a
	a.Cookies = maps.Clone(a.Cookies)
	return a, nil
}

// freeAt is when the account is next free for op: after its cooldown, its lock and its
// lease on op, the lease counted as ending at leaseEnd when that is earlier (zero: at
// its expiry).
func (ma *memAccount) freeAt(op string, leaseEnd time.Time) time.Time {
	t := ma.cooldown
	if st := ma.ops[op]; st != nil {
		lease := st.LeasedUntil
		if !leaseEnd.IsZero() && leaseEnd.Before(lease) {
			lease = leaseEnd
		}
		for _, u := range []time.Time{st.LockedUntil, lease} {
			if u.After(t) {
				t = u
			}
		}
	}
	return t
}

func (ma *memAccount) op(op string) *OperationState {
	st := ma.ops[op]
	if st == nil {
		st = &OperationState{}
		ma.ops[op] = st
	}
	return st
}

// Release implements AccountStore.
func (m *MemAccounts) Release(_ context.Context, accountID int64, op string, o Outcome) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ma := m.find(accountID)
	if ma == nil {
		return fmt.Errorf("scraper: release X account %d: no such account", accountID)
	}
	st := ma.op(op)
	st.LeasedUntil = time.Time{}
	if !o.LockedUntil.IsZero() {
		st.LockedUntil = o.LockedUntil
	}
	st.Requests += o.Requests
	st.Errors += o.Errors
	switch {
	case o.LastError != "":
		ma.lastErr = o.LastError
	case o.Success:
		ma.lastErr = ""
	}
	switch {
	case o.Bare403:
		ma.a.Bare403s++
	case o.Success:
		ma.a.Bare403s = 0
	}
	if !o.CooldownUntil.IsZero() {
		ma.cooldown = o.CooldownUntil
	}
	if o.Deactivate {
		ma.active = false
	}
	return nil
}

// Reactivate puts a deactivated account back in rotation and clears its locks, cooldown
// and last error.
func (m *MemAccounts) Reactivate(accountID int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ma := m.find(accountID)
	if ma == nil {
		return fmt.Errorf("scraper: reactivate X account %d: no such account", accountID)
	}
	ma.active, ma.lastErr, ma.cooldown, ma.a.Bare403s = true, "", time.Time{}, 0
	for _, st := range ma.ops {
		st.LockedUntil = time.Time{}
	}
	return nil
}

// State returns a snapshot of the account with id accountID.
func (m *MemAccounts) State(accountID int64) (AccountState, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ma := m.find(accountID)
	if ma == nil {
		return AccountState{}, false
	}
	s := AccountState{
		ID: ma.a.ID, Name: ma.a.Name, Active: ma.active, LastError: ma.lastErr, Bare403s: ma.a.Bare403s,
		CooldownUntil: ma.cooldown, LastUsed: ma.lastUsed, Operations: make(map[string]OperationState, len(ma.ops)),
	}
	for op, st := range ma.ops {
		s.Operations[op] = *st
	}
	return s, true
}

func (m *MemAccounts) find(id int64) *memAccount {
	for _, ma := range m.accts {
		if ma.a.ID == id {
			return ma
		}
	}
	return nil
}
