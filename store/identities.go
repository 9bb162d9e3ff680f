package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Roles of a membership.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
)

var (
	// ErrAlreadySetUp is returned by Setup once any user exists.
	ErrAlreadySetUp = errors.New("already set up")
	// ErrConflict is returned when a unique value (an e-mail, a name) is taken.
	ErrConflict = errors.New("already exists")
	// ErrLastAdmin protects an organization from losing its last admin.
	ErrLastAdmin = errors.New("an organization needs at least one admin")
)

// Organization is a team; every other row belongs to exactly one.
type Organization struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// User is a person who logs in. The password hash never leaves the store except
// through userWithHash.
type User struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	CreatedAt time.Time `json:"created_at"`
}

// Member is a user as seen from one organization.
type Member struct {
	User
	OrgID        int64  `json:"org_id"`
	Organization string `json:"organization"`
	Role         string `json:"role"`
}

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// HasUsers reports whether anybody has been set up yet.
func (s *Store) HasUsers(ctx context.Context) (bool, error) {
	var n int
	if err := s.ro.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users)`).Scan(&n); err != nil {
		return false, fmt.Errorf("store: count users: %w", err)
	}
	return n == 1, nil
}

// Setup creates the first organization and its admin, once: it fails with
// ErrAlreadySetUp when any user exists, checked inside the same write transaction so
// two concurrent set-ups cannot both win.
func (s *Store) Setup(ctx context.Context, orgName, email, passwordHash string) (Organization, Member, error) {
	var org Organization
	var m Member
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
			return fmt.Errorf("store: count users: %w", err)
		}
		if n > 0 {
			return ErrAlreadySetUp
		}
		var err error
		if org, err = insertOrg(ctx, tx, orgName); err != nil {
			return err
		}
		m, err = insertMember(ctx, tx, org.ID, email, passwordHash, RoleAdmin)
		return err
	})
	return org, m, err
}

func insertOrg(ctx context.Context, tx *sql.Tx, name string) (Organization, error) {
	o := Organization{Name: name, CreatedAt: time.Now().UTC()}
	err := tx.QueryRowContext(ctx, `INSERT INTO organizations (name, created_at) VALUES (?, ?) RETURNING id`,
		name, ts(o.CreatedAt)).Scan(&o.ID)
	if isUniqueViolation(err) {
		return o, fmt.Errorf("organization %q: %w", name, ErrConflict)
	}
	if err != nil {
		return o, fmt.Errorf("store: insert organization: %w", err)
	}
	return o, nil
}

// insertMember creates the user when the e-mail is new and adds the membership.
// An existing user keeps their password; passwordHash is then ignored.
func insertMember(ctx context.Context, tx *sql.Tx, orgID int64, email, passwordHash, role string) (Member, error) {
	now := time.Now().UTC()
	m := Member{OrgID: orgID, Role: role}
	err := tx.QueryRowContext(ctx, `SELECT id, email, created_at FROM users WHERE email = ?`, email).
		Scan(&m.ID, &m.Email, scanTime(&m.CreatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		if passwordHash == "" {
			return m, fmt.Errorf("user %s: %w", email, ErrNotFound)
		}
		m.Email, m.CreatedAt = email, now
		err = tx.QueryRowContext(ctx, `INSERT INTO users (email, password_hash, created_at, password_changed_at)
			VALUES (?, ?, ?, ?) RETURNING id`, email, passwordHash, ts(now), ts(now)).Scan(&m.ID)
	}
	if err != nil {
		return m, fmt.Errorf("store: user %s: %w", email, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (?, ?, ?, ?)`,
		orgID, m.ID, role, ts(now))
	if isUniqueViolation(err) || (err != nil && strings.Contains(err.Error(), "PRIMARY KEY")) {
		return m, fmt.Errorf("user %s is already a member: %w", email, ErrConflict)
	}
	if err != nil {
		return m, fmt.Errorf("store: add member %s: %w", email, err)
	}
	return m, nil
}

// scanTime adapts a TEXT timestamp column to a time.Time destination.
type timeScanner struct{ t *time.Time }

func scanTime(t *time.Time) timeScanner { return timeScanner{t} }

func (ts timeScanner) Scan(v any) error {
	switch x := v.(type) {
	case string:
		*ts.t = parseTS(x)
	case []byte:
		*ts.t = parseTS(string(x))
	case nil:
		*ts.t = time.Time{}
	default:
		return fmt.Errorf("store: time column holds %T", v)
	}
	return nil
}

// Organizations lists every organization, oldest first (for the CLI's --org default).
func (s *Store) Organizations(ctx context.Context) ([]Organization, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT id, name, created_at FROM organizations ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: list organizations: %w", err)
	}
	defer rows.Close()
	var out []Organization
	for rows.Next() {
		var o Organization
		if err := rows.Scan(&o.ID, &o.Name, scanTime(&o.CreatedAt)); err != nil {
			return nil, fmt.Errorf("store: scan organization: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// OrganizationByName finds an organization by its case-insensitive name.
func (s *Store) OrganizationByName(ctx context.Context, name string) (Organization, error) {
	var o Organization
	err := s.ro.QueryRowContext(ctx, `SELECT id, name, created_at FROM organizations WHERE name = ?`, name).
		Scan(&o.ID, &o.Name, scanTime(&o.CreatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("organization %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("store: organization %q: %w", name, err)
	}
	return o, nil
}

// CreateOrganization adds an organization; a taken name is ErrConflict.
func (s *Store) CreateOrganization(ctx context.Context, name string) (Organization, error) {
	var o Organization
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		o, err = insertOrg(ctx, tx, name)
		return err
	})
	return o, err
}

// AddMember adds email to the organization with role, creating the user with
// passwordHash when the e-mail is new. An existing user keeps their own password.
func (s *Store) AddMember(ctx context.Context, orgID int64, email, passwordHash, role string) (Member, error) {
	var m Member
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		m, err = insertMember(ctx, tx, orgID, email, passwordHash, role)
		return err
	})
	return m, err
}

const memberCols = `u.id, u.email, u.created_at, m.org_id, o.name, m.role`

// memberFrom joins what memberCols reads.
const memberFrom = ` FROM memberships m JOIN users u ON u.id = m.user_id JOIN organizations o ON o.id = m.org_id `

func scanMember(r rowScanner) (Member, error) {
	var m Member
	err := r.Scan(&m.ID, &m.Email, scanTime(&m.CreatedAt), &m.OrgID, &m.Organization, &m.Role)
	return m, err
}

// Members lists the organization's users.
func (s *Store) Members(ctx context.Context, orgID int64) ([]Member, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT `+memberCols+memberFrom+`WHERE m.org_id = ? ORDER BY u.email`, orgID)
	if err != nil {
		return nil, fmt.Errorf("store: list members: %w", err)
	}
	defer rows.Close()
	out := []Member{}
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, fmt.Errorf("store: scan member: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Member is one user of the organization; a user of another organization is ErrNotFound.
func (s *Store) Member(ctx context.Context, orgID, userID int64) (Member, error) {
	m, err := scanMember(s.ro.QueryRowContext(ctx, `SELECT `+memberCols+memberFrom+`WHERE m.org_id = ? AND m.user_id = ?`, orgID, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("user %d: %w", userID, ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("store: user %d: %w", userID, err)
	}
	return m, nil
}

// MemberByEmail finds a user of the organization by e-mail.
func (s *Store) MemberByEmail(ctx context.Context, orgID int64, email string) (Member, error) {
	m, err := scanMember(s.ro.QueryRowContext(ctx, `SELECT `+memberCols+memberFrom+`WHERE m.org_id = ? AND u.email = ?`, orgID, email))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("user %s: %w", email, ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("store: user %s: %w", email, err)
	}
	return m, nil
}

// Memberships lists the organizations of a user, oldest membership first.
func (s *Store) Memberships(ctx context.Context, email string) ([]Member, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT `+memberCols+memberFrom+`WHERE u.email = ? ORDER BY m.created_at, m.org_id`, email)
	if err != nil {
		return nil, fmt.Errorf("store: memberships of %s: %w", email, err)
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, fmt.Errorf("store: scan member: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// countAdmins is used to refuse removing or demoting the last admin.
func countAdmins(ctx context.Context, tx *sql.Tx, orgID int64) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM memberships WHERE org_id = ? AND role = 'admin'`, orgID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count admins: %w", err)
	}
	return n, nil
}

// SetRole changes a member's role; demoting the last admin is ErrLastAdmin.
func (s *Store) SetRole(ctx context.Context, orgID, userID int64, role string) (Member, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT role FROM memberships WHERE org_id = ? AND user_id = ?`, orgID, userID).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %d: %w", userID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: role of %d: %w", userID, err)
		}
		if cur == RoleAdmin && role != RoleAdmin {
			n, err := countAdmins(ctx, tx, orgID)
			if err != nil {
				return err
			}
			if n <= 1 {
				return ErrLastAdmin
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE memberships SET role = ? WHERE org_id = ? AND user_id = ?`, role, orgID, userID)
		if err != nil {
			return fmt.Errorf("store: set role: %w", err)
		}
		return nil
	})
	if err != nil {
		return Member{}, err
	}
	return s.Member(ctx, orgID, userID)
}

// RemoveMember takes a user out of the organization, revoking their tokens and
// sessions there; a user left without any organization is deleted.
func (s *Store) RemoveMember(ctx context.Context, orgID, userID int64) (Member, error) {
	m, err := s.Member(ctx, orgID, userID)
	if err != nil {
		return m, err
	}
	now := ts(time.Now())
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if m.Role == RoleAdmin {
			n, err := countAdmins(ctx, tx, orgID)
			if err != nil {
				return err
			}
			if n <= 1 {
				return ErrLastAdmin
			}
		}
		stmts := []struct {
			q    string
			args []any
		}{
			{`DELETE FROM memberships WHERE org_id = ? AND user_id = ?`, []any{orgID, userID}},
			{`UPDATE api_tokens SET revoked_at = ? WHERE org_id = ? AND user_id = ? AND revoked_at IS NULL`, []any{now, orgID, userID}},
			{`UPDATE sessions SET revoked_at = ? WHERE org_id = ? AND user_id = ? AND revoked_at IS NULL`, []any{now, orgID, userID}},
			{`DELETE FROM users WHERE id = ? AND NOT EXISTS (SELECT 1 FROM memberships WHERE user_id = ?)`, []any{userID, userID}},
		}
		for _, st := range stmts {
			if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
				return fmt.Errorf("store: remove member %d: %w", userID, err)
			}
		}
		return nil
	})
	return m, err
}

// PasswordHash returns a user's id and password hash for a login. For an unknown
// e-mail it returns a dummy hash and id 0, so the caller spends the same time
// verifying and cannot tell the two cases apart by timing.
func (s *Store) PasswordHash(ctx context.Context, email string) (int64, string, error) {
	var id int64
	var hash string
	err := s.ro.QueryRowContext(ctx, `SELECT id, password_hash FROM users WHERE email = ?`, email).Scan(&id, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, dummyHash(), nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("store: password of %s: %w", email, err)
	}
	return id, hash, nil
}

// SetPassword replaces a user's password and revokes all of their sessions, so a
// stolen session dies with the old password.
func (s *Store) SetPassword(ctx context.Context, userID int64, passwordHash string) error {
	now := ts(time.Now())
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?`, passwordHash, now, userID)
		if err != nil {
			return fmt.Errorf("store: set password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("user %d: %w", userID, ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, now, userID); err != nil {
			return fmt.Errorf("store: revoke sessions: %w", err)
		}
		return nil
	})
}
