package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrUnauthenticated is returned for a token or session that is unknown, revoked or
// expired; the caller does not learn which.
var ErrUnauthenticated = errors.New("invalid or expired credentials")

// Principal is who a request acts as: one user within one organization.
type Principal struct {
	UserID    int64
	OrgID     int64
	Email     string
	Role      string
	TokenID   int64  // set when authenticated by an API token
	SessionID int64  // set when authenticated by a session cookie
	CSRFToken string // the session's CSRF token
}

// IsAdmin reports whether the principal may manage the organization.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

// tokenPrefix starts every API token, so that secret scanners and people recognise one.
const tokenPrefix = "nexus_"

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashCredential(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// Token is an API token as listed; the secret itself is shown once, at creation.
type Token struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Email      string     `json:"email"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// CreateToken issues an API token for a member and returns it with its plaintext,
// which is stored only as a SHA-256 hash (tokens are 192 random bits: a fast hash is
// enough, no password hashing needed).
func (s *Store) CreateToken(ctx context.Context, orgID, userID int64, name string, expiresAt *time.Time) (Token, string, error) {
	m, err := s.Member(ctx, orgID, userID)
	if err != nil {
		return Token{}, "", err
	}
	plain := tokenPrefix + randomToken(24)
	t := Token{UserID: userID, Email: m.Email, Name: name, Prefix: plain[:len(tokenPrefix)+6], CreatedAt: time.Now().UTC(), ExpiresAt: expiresAt}
	err = s.rw.QueryRowContext(ctx, `INSERT INTO api_tokens (org_id, user_id, name, prefix, hash, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		orgID, userID, name, t.Prefix, hashCredential(plain), ts(t.CreatedAt), nullTS(expiresAt)).Scan(&t.ID)
	if err != nil {
		return Token{}, "", fmt.Errorf("store: create token: %w", err)
	}
	return t, plain, nil
}

// lastUsedEvery throttles last_used_at updates so that reads do not each cost a write.
const lastUsedEvery = time.Minute

// AuthenticateToken resolves an API token to its principal. The membership is joined
// in, so a user removed from the organization loses access with it.
func (s *Store) AuthenticateToken(ctx context.Context, plain string) (Principal, error) {
	if !strings.HasPrefix(plain, tokenPrefix) {
		return Principal{}, ErrUnauthenticated
	}
	var p Principal
	var expires, lastUsed sql.NullString
	now := time.Now().UTC()
	err := s.ro.QueryRowContext(ctx, `SELECT t.id, t.org_id, t.user_id, u.email, m.role, t.expires_at, t.last_used_at
		FROM api_tokens t
		JOIN memberships m ON m.org_id = t.org_id AND m.user_id = t.user_id
		JOIN users u ON u.id = t.user_id
		WHERE t.hash = ? AND t.revoked_at IS NULL`, hashCredential(plain)).
		Scan(&p.TokenID, &p.OrgID, &p.UserID, &p.Email, &p.Role, &expires, &lastUsed)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("store: authenticate token: %w", err)
	}
	if e := parseNullTS(expires); e != nil && !now.Before(*e) {
		return Principal{}, ErrUnauthenticated
	}
	if lu := parseNullTS(lastUsed); lu == nil || now.Sub(*lu) > lastUsedEvery {
		if _, err := s.rw.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, ts(now), p.TokenID); err != nil {
			return Principal{}, fmt.Errorf("store: token last used: %w", err)
		}
	}
	return p, nil
}

// Tokens lists the organization's tokens, or only userID's when userID is not 0.
func (s *Store) Tokens(ctx context.Context, orgID, userID int64) ([]Token, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT t.id, t.user_id, u.email, t.name, t.prefix, t.created_at,
			t.last_used_at, t.expires_at, t.revoked_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.org_id = ? AND (? = 0 OR t.user_id = ?) ORDER BY t.id`, orgID, userID, userID)
	if err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		var t Token
		var lu, ex, rv sql.NullString
		if err := rows.Scan(&t.ID, &t.UserID, &t.Email, &t.Name, &t.Prefix, scanTime(&t.CreatedAt), &lu, &ex, &rv); err != nil {
			return nil, fmt.Errorf("store: scan token: %w", err)
		}
		t.LastUsedAt, t.ExpiresAt, t.RevokedAt = parseNullTS(lu), parseNullTS(ex), parseNullTS(rv)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token of the organization (only userID's when userID is not
// 0). A token of another organization, or already revoked, is ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, orgID, userID, id int64) error {
	res, err := s.rw.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ?
		WHERE id = ? AND org_id = ? AND (? = 0 OR user_id = ?) AND revoked_at IS NULL`,
		ts(time.Now()), id, orgID, userID, userID)
	if err != nil {
		return fmt.Errorf("store: revoke token %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("token %d: %w", id, ErrNotFound)
	}
	return nil
}

// CreateSession starts a browser session and returns its plaintext id (for the
// cookie); only its hash is stored. The CSRF token is kept in the row so that any
// process serving the session can check it.
func (s *Store) CreateSession(ctx context.Context, orgID, userID int64, ip string, ttl time.Duration) (string, Principal, error) {
	plain := randomToken(32)
	now := time.Now().UTC()
	p := Principal{OrgID: orgID, UserID: userID, CSRFToken: randomToken(24)}
	err := s.rw.QueryRowContext(ctx, `INSERT INTO sessions (hash, org_id, user_id, csrf_token, ip, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		hashCredential(plain), orgID, userID, p.CSRFToken, ip, ts(now), ts(now), ts(now.Add(ttl))).Scan(&p.SessionID)
	if err != nil {
		return "", Principal{}, fmt.Errorf("store: create session: %w", err)
	}
	m, err := s.Member(ctx, orgID, userID)
	if err != nil {
		return "", Principal{}, err
	}
	p.Email, p.Role = m.Email, m.Role
	return plain, p, nil
}

// AuthenticateSession resolves a session cookie to its principal.
func (s *Store) AuthenticateSession(ctx context.Context, plain string) (Principal, error) {
	var p Principal
	var expires string
	err := s.ro.QueryRowContext(ctx, `SELECT s.id, s.org_id, s.user_id, u.email, m.role, s.csrf_token, s.expires_at
		FROM sessions s
		JOIN memberships m ON m.org_id = s.org_id AND m.user_id = s.user_id
		JOIN users u ON u.id = s.user_id
		WHERE s.hash = ? AND s.revoked_at IS NULL`, hashCredential(plain)).
		Scan(&p.SessionID, &p.OrgID, &p.UserID, &p.Email, &p.Role, &p.CSRFToken, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("store: authenticate session: %w", err)
	}
	if !time.Now().Before(parseTS(expires)) {
		return Principal{}, ErrUnauthenticated
	}
	return p, nil
}

// RevokeSession ends one session (logout).
func (s *Store) RevokeSession(ctx context.Context, id int64) error {
	_, err := s.rw.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, ts(time.Now()), id)
	if err != nil {
		return fmt.Errorf("store: revoke session %d: %w", id, err)
	}
	return nil
}
