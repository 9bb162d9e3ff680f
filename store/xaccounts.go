package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// XAccount is one logged-in X session of an organization. Cookies and Proxy are
// opened only by XAccountForUse; listings leave them empty.
type XAccount struct {
	ID            int64             `json:"id"`
	Name          string            `json:"name"`
	Cookies       []byte            `json:"-"`
	Proxy         string            `json:"-"`
	ProxySet      bool              `json:"proxy_set"`
	UserAgent     string            `json:"user_agent"`
	Active        bool              `json:"active"`
	LastError     string            `json:"last_error"`
	Bare403s      int               `json:"-"`
	CooldownUntil *time.Time        `json:"cooldown_until"`
	LastUsedAt    *time.Time        `json:"last_used_at"`
	CreatedAt     time.Time         `json:"created_at"`
	Ops           map[string]XOpRow `json:"operations"`
}

// XOpRow is an account's state for one GraphQL operation.
type XOpRow struct {
	LockedUntil *time.Time `json:"locked_until"`
	InUse       bool       `json:"in_use"`
	Requests    int64      `json:"requests"`
	Errors      int64      `json:"errors"`
	LastUsedAt  *time.Time `json:"last_used_at"`
}

// NoXAccountError says no account is free for an operation, and when the first one
// frees (zero when none ever will: no active account).
type NoXAccountError struct {
	Operation string
	NextFree  time.Time
}

func (e *NoXAccountError) Error() string {
	if e.NextFree.IsZero() {
		return fmt.Sprintf("no active X account for %s; add one or reactivate one", e.Operation)
	}
	return fmt.Sprintf("every X account is busy or rate-limited for %s until %s", e.Operation, e.NextFree.Format(time.RFC3339))
}

const (
	aadCookies = "x_accounts.cookies"
	aadProxy   = "x_accounts.proxy"
)

// AddXAccount stores a new session; a taken name in the organization is ErrConflict.
func (s *Store) AddXAccount(ctx context.Context, orgID int64, name string, cookies []byte, proxy, userAgent string) (XAccount, error) {
	var sealedProxy any
	if proxy != "" {
		sealedProxy = s.sealer.Seal([]byte(proxy), aadProxy)
	}
	now := time.Now().UTC()
	a := XAccount{Name: name, ProxySet: proxy != "", UserAgent: userAgent, Active: true, CreatedAt: now, Ops: map[string]XOpRow{}}
	err := s.rw.QueryRowContext(ctx, `INSERT INTO x_accounts (org_id, name, cookies, proxy, user_agent, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		orgID, name, s.sealer.Seal(cookies, aadCookies), sealedProxy, userAgent, ts(now)).Scan(&a.ID)
	if isUniqueViolation(err) {
		return a, fmt.Errorf("X account %q: %w", name, ErrConflict)
	}
	if err != nil {
		return a, fmt.Errorf("store: add X account %q: %w", name, err)
	}
	return a, nil
}

const xAccountCols = `id, name, proxy IS NOT NULL, user_agent, active, last_error, bare_403s, cooldown_until, last_used_at, created_at`

func scanXAccount(r rowScanner) (XAccount, error) {
	var a XAccount
	var cooldown, lastUsed sql.NullString
	err := r.Scan(&a.ID, &a.Name, &a.ProxySet, &a.UserAgent, &a.Active, &a.LastError, &a.Bare403s, &cooldown, &lastUsed, scanTime(&a.CreatedAt))
	a.CooldownUntil, a.LastUsedAt = parseNullTS(cooldown), parseNullTS(lastUsed)
	a.Ops = map[string]XOpRow{}
	return a, err
}

// XAccounts lists the organization's sessions with their per-operation state, never
// their cookies.
func (s *Store) XAccounts(ctx context.Context, orgID int64) ([]XAccount, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT `+xAccountCols+` FROM x_accounts WHERE org_id = ? ORDER BY name`, orgID)
	if err != nil {
		return nil, fmt.Errorf("store: list X accounts: %w", err)
	}
	defer rows.Close()
	out := []XAccount{}
	byID := map[int64]int{}
	for rows.Next() {
		a, err := scanXAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("store: scan X account: %w", err)
		}
		byID[a.ID] = len(out)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	now := ts(time.Now())
	ops, err := s.ro.QueryContext(ctx, `SELECT o.account_id, o.operation, o.locked_until, COALESCE(o.in_use_until > ?, 0),
			o.requests, o.errors, o.last_used_at
		FROM x_account_ops o JOIN x_accounts a ON a.id = o.account_id WHERE a.org_id = ?`, now, orgID)
	if err != nil {
		return nil, fmt.Errorf("store: list X account operations: %w", err)
	}
	defer ops.Close()
	for ops.Next() {
		var id int64
		var op string
		var r XOpRow
		var locked, used sql.NullString
		if err := ops.Scan(&id, &op, &locked, &r.InUse, &r.Requests, &r.Errors, &used); err != nil {
			return nil, fmt.Errorf("store: scan X account operation: %w", err)
		}
		r.LockedUntil, r.LastUsedAt = parseNullTS(locked), parseNullTS(used)
		if i, ok := byID[id]; ok {
			out[i].Ops[op] = r
		}
	}
	return out, ops.Err()
}

// XAccountByName finds a session of the organization by name.
func (s *Store) XAccountByName(ctx context.Context, orgID int64, name string) (XAccount, error) {
	a, err := scanXAccount(s.ro.QueryRowContext(ctx, `SELECT `+xAccountCols+` FROM x_accounts WHERE org_id = ? AND name = ?`, orgID, name))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("X account %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("store: X account %q: %w", name, err)
	}
	return a, nil
}

// XAccount finds a session of the organization by id.
func (s *Store) XAccount(ctx context.Context, orgID, id int64) (XAccount, error) {
	a, err := scanXAccount(s.ro.QueryRowContext(ctx, `SELECT `+xAccountCols+` FROM x_accounts WHERE org_id = ? AND id = ?`, orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("X account %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("store: X account %d: %w", id, err)
	}
	return a, nil
}

// RemoveXAccount deletes a session and its counters.
func (s *Store) RemoveXAccount(ctx context.Context, orgID, id int64) error {
	res, err := s.rw.ExecContext(ctx, `DELETE FROM x_accounts WHERE org_id = ? AND id = ?`, orgID, id)
	if err != nil {
		return fmt.Errorf("store: remove X account %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("X account %d: %w", id, ErrNotFound)
	}
	return nil
}

// ReactivateXAccount puts a banned or failed session back in rotation and clears its
// locks and error: the operator has refreshed its cookies or checked it by hand.
func (s *Store) ReactivateXAccount(ctx context.Context, orgID, id int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE x_accounts SET active = 1, last_error = '', bare_403s = 0, cooldown_until = NULL
			WHERE org_id = ? AND id = ?`, orgID, id)
		if err != nil {
			return fmt.Errorf("store: reactivate X account %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("X account %d: %w", id, ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, `UPDATE x_account_ops SET locked_until = NULL, in_use_until = NULL WHERE account_id = ?`, id)
		return err
	})
}

// ResetXLocks clears every rate-limit lock, cooldown and lease of the organization's
// sessions (not their active flag): for when the operator knows better than the
// headers, for example after moving to a new IP.
func (s *Store) ResetXLocks(ctx context.Context, orgID int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE x_accounts SET cooldown_until = NULL WHERE org_id = ?`, orgID); err != nil {
			return fmt.Errorf("store: reset cooldowns: %w", err)
		}
		_, err := tx.ExecContext(ctx, `UPDATE x_account_ops SET locked_until = NULL, in_use_until = NULL
			WHERE account_id IN (SELECT id FROM x_accounts WHERE org_id = ?)`, orgID)
		if err != nil {
			return fmt.Errorf("store: reset locks: %w", err)
		}
		return nil
	})
}

// AcquireXAccount leases the least recently used session that is active, not cooling
// down, not locked for op and not leased for op, until `until`. It is one write
// transaction, so two callers never get the same account for the same operation. With
// none free it returns a *NoXAccountError saying when the first frees.
func (s *Store) AcquireXAccount(ctx context.Context, orgID int64, op string, now, until time.Time) (XAccount, error) {
	var a XAccount
	n := ts(now)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var sealedCookies, sealedProxy []byte
		row := tx.QueryRowContext(ctx, `SELECT a.id, a.name, a.cookies, a.proxy, a.user_agent, a.bare_403s
			FROM x_accounts a LEFT JOIN x_account_ops o ON o.account_id = a.id AND o.operation = ?
			WHERE a.org_id = ? AND a.active = 1
			  AND (a.cooldown_until IS NULL OR a.cooldown_until <= ?)
			  AND (o.locked_until IS NULL OR o.locked_until <= ?)
			  AND (o.in_use_until IS NULL OR o.in_use_until <= ?)
			ORDER BY COALESCE(a.last_used_at, '') , a.id LIMIT 1`, op, orgID, n, n, n)
		err := row.Scan(&a.ID, &a.Name, &sealedCookies, &sealedProxy, &a.UserAgent, &a.Bare403s)
		if errors.Is(err, sql.ErrNoRows) {
			return s.noXAccount(ctx, tx, orgID, op, n)
		}
		if err != nil {
			return fmt.Errorf("store: acquire X account: %w", err)
		}
		if a.Cookies, err = s.sealer.Open(sealedCookies, aadCookies); err != nil {
			return fmt.Errorf("X account %q cookies: %w", a.Name, err)
		}
		if sealedProxy != nil {
			p, err := s.sealer.Open(sealedProxy, aadProxy)
			if err != nil {
				return fmt.Errorf("X account %q proxy: %w", a.Name, err)
			}
			a.Proxy, a.ProxySet = string(p), true
		}
		a.Active = true
		if _, err := tx.ExecContext(ctx, `INSERT INTO x_account_ops (account_id, operation, in_use_until, last_used_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (account_id, operation) DO UPDATE SET in_use_until = excluded.in_use_until,
			last_used_at = excluded.last_used_at`, a.ID, op, ts(until), n); err != nil {
			return fmt.Errorf("store: lease X account %q: %w", a.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE x_accounts SET last_used_at = ? WHERE id = ?`, n, a.ID); err != nil {
			return fmt.Errorf("store: lease X account %q: %w", a.Name, err)
		}
		return nil
	})
	return a, err
}

// noXAccount builds the error for "none free": the earliest moment an active account
// is expected to be neither cooling down nor locked nor leased for op.
func (s *Store) noXAccount(ctx context.Context, tx *sql.Tx, orgID int64, op, now string) error {
	// A lease ends when its operation does, usually within seconds, not at its expiry:
	// for a merely busy account the estimate is a second from now.
	soon := ts(parseTS(now).Add(time.Second))
	var next sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT MIN(MAX(COALESCE(a.cooldown_until, ''), COALESCE(o.locked_until, ''),
			MIN(COALESCE(o.in_use_until, ''), ?)))
		FROM x_accounts a LEFT JOIN x_account_ops o ON o.account_id = a.id AND o.operation = ?
		WHERE a.org_id = ? AND a.active = 1`, soon, op, orgID).Scan(&next)
	if err != nil {
		return fmt.Errorf("store: next free X account: %w", err)
	}
	e := &NoXAccountError{Operation: op}
	if next.Valid && next.String != "" {
		e.NextFree = parseTS(next.String)
	}
	return e
}

// XOutcome is what happened with a leased account, as the X client classified it.
type XOutcome struct {
	Requests      int       // requests made under the lease
	Errors        int       // of which failed
	LockedUntil   time.Time // lock op until then (rate limit); zero: none
	CooldownUntil time.Time // park the whole account until then; zero: none
	Bare403       bool      // a bare 403 was seen: counted, a second one is a ban
	Success       bool      // a clean success: the bare-403 count starts over
	Deactivate    bool      // banned or logged out: out of rotation until reactivated
	LastError     string    // "" keeps the previous one unless Success
}

// ReleaseXAccount ends a lease and records its outcome.
func (s *Store) ReleaseXAccount(ctx context.Context, id int64, op string, o XOutcome) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE x_account_ops SET in_use_until = NULL,
				locked_until = CASE WHEN ? != '' THEN ? ELSE locked_until END,
				requests = requests + ?, errors = errors + ?
			WHERE account_id = ? AND operation = ?`,
			tsOrEmpty(o.LockedUntil), tsOrEmpty(o.LockedUntil), o.Requests, o.Errors, id, op); err != nil {
			return fmt.Errorf("store: release X account %d: %w", id, err)
		}
		sets := `last_error = CASE WHEN ? != '' THEN ? WHEN ? THEN '' ELSE last_error END,
			bare_403s = CASE WHEN ? THEN bare_403s + 1 WHEN ? THEN 0 ELSE bare_403s END,
			cooldown_until = CASE WHEN ? != '' THEN ? ELSE cooldown_until END,
			active = CASE WHEN ? THEN 0 ELSE active END`
		_, err := tx.ExecContext(ctx, `UPDATE x_accounts SET `+sets+` WHERE id = ?`,
			o.LastError, o.LastError, o.Success,
			o.Bare403, o.Success,
			tsOrEmpty(o.CooldownUntil), tsOrEmpty(o.CooldownUntil),
			o.Deactivate, id)
		if err != nil {
			return fmt.Errorf("store: release X account %d: %w", id, err)
		}
		return nil
	})
}

func tsOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return ts(t)
}
