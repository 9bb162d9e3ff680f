package store

import (
	"context"
	"fmt"
	"time"
)

// AuditEntry is one security-relevant event: who did what, when, from where.
type AuditEntry struct {
	ID     int64     `json:"id"`
	OrgID  int64     `json:"-"`
	UserID int64     `json:"user_id,omitempty"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	IP     string    `json:"ip"`
	At     time.Time `json:"at"`
}

// Audit records an event. OrgID 0 records an event with no organization (a failed
// login for an unknown e-mail).
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	var org, user any
	if e.OrgID != 0 {
		org = e.OrgID
	}
	if e.UserID != 0 {
		user = e.UserID
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	_, err := s.rw.ExecContext(ctx, `INSERT INTO audit_log (org_id, user_id, actor, action, target, ip, at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, org, user, e.Actor, e.Action, e.Target, e.IP, ts(e.At))
	if err != nil {
		return fmt.Errorf("store: audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditLog lists the organization's events, newest first, before the id beforeID
// (0 for the newest), at most limit.
func (s *Store) AuditLog(ctx context.Context, orgID, beforeID int64, limit int) ([]AuditEntry, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT id, COALESCE(user_id, 0), actor, action, target, ip, at FROM audit_log
		WHERE org_id = ? AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?`, orgID, beforeID, beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		e := AuditEntry{OrgID: orgID}
		if err := rows.Scan(&e.ID, &e.UserID, &e.Actor, &e.Action, &e.Target, &e.IP, scanTime(&e.At)); err != nil {
			return nil, fmt.Errorf("store: scan audit entry: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
