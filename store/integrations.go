package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Integration is where an organization's opportunities go. Config holds the settings
// with their secrets and is filled only by Integration (for sending); Public is the
// part that may be shown (a channel, a spreadsheet id, a host).
type Integration struct {
	OrgID     int64           `json:"-"`
	Kind      string          `json:"kind"` // slack | sheets | webhook
	Config    json.RawMessage `json:"-"`
	Public    json.RawMessage `json:"settings"`
	UpdatedAt time.Time       `json:"updated_at"`
}

const aadIntegration = "integrations.config"

// SetIntegration creates or replaces an integration's settings; config is sealed.
func (s *Store) SetIntegration(ctx context.Context, orgID int64, kind string, config, public json.RawMessage) error {
	sealed := s.sealer.Seal(config, aadIntegration)
	_, err := s.rw.ExecContext(ctx, `INSERT INTO integrations (org_id, kind, config, public, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (org_id, kind) DO UPDATE SET config = excluded.config, public = excluded.public, updated_at = excluded.updated_at`,
		orgID, kind, sealed, string(public), ts(time.Now()))
	if err != nil {
		return fmt.Errorf("store: set integration %s: %w", kind, err)
	}
	return nil
}

// Integration returns an integration with its opened settings, for sending.
func (s *Store) Integration(ctx context.Context, orgID int64, kind string) (Integration, error) {
	i := Integration{OrgID: orgID, Kind: kind}
	var sealed []byte
	var public string
	err := s.ro.QueryRowContext(ctx, `SELECT config, public, updated_at FROM integrations WHERE org_id = ? AND kind = ?`, orgID, kind).
		Scan(&sealed, &public, scanTime(&i.UpdatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return i, fmt.Errorf("integration %s: %w", kind, ErrNotFound)
	}
	if err != nil {
		return i, fmt.Errorf("store: integration %s: %w", kind, err)
	}
	cfg, err := s.sealer.Open(sealed, aadIntegration)
	if err != nil {
		return i, fmt.Errorf("integration %s: %w", kind, err)
	}
	i.Config, i.Public = cfg, json.RawMessage(public)
	return i, nil
}

// Integrations lists the organization's integrations without their secrets.
func (s *Store) Integrations(ctx context.Context, orgID int64) ([]Integration, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT kind, public, updated_at FROM integrations WHERE org_id = ? ORDER BY kind`, orgID)
	if err != nil {
		return nil, fmt.Errorf("store: list integrations: %w", err)
	}
	defer rows.Close()
	out := []Integration{}
	for rows.Next() {
		i := Integration{OrgID: orgID}
		var public string
		if err := rows.Scan(&i.Kind, &public, scanTime(&i.UpdatedAt)); err != nil {
			return nil, fmt.Errorf("store: scan integration: %w", err)
		}
		i.Public = json.RawMessage(public)
		out = append(out, i)
	}
	return out, rows.Err()
}

// DeleteIntegration removes an integration.
func (s *Store) DeleteIntegration(ctx context.Context, orgID int64, kind string) error {
	res, err := s.rw.ExecContext(ctx, `DELETE FROM integrations WHERE org_id = ? AND kind = ?`, orgID, kind)
	if err != nil {
		return fmt.Errorf("store: delete integration %s: %w", kind, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("integration %s: %w", kind, ErrNotFound)
	}
	return nil
}

// SheetLedger is the Sheets client's record of appended rows for one organization.
type SheetLedger struct {
	st    *Store
	orgID int64
}

// SheetLedger returns the organization's ledger of rows appended to spreadsheets.
func (s *Store) SheetLedger(orgID int64) *SheetLedger { return &SheetLedger{st: s, orgID: orgID} }

// Appended reports whether key's row was appended.
func (l *SheetLedger) Appended(ctx context.Context, key string) (bool, error) {
	var n int
	err := l.st.ro.QueryRowContext(ctx, `SELECT COUNT(*) FROM sheet_rows WHERE key = ?`, key).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: sheet ledger: %w", err)
	}
	return n > 0, nil
}

// MarkAppended records key's row as appended.
func (l *SheetLedger) MarkAppended(ctx context.Context, key string) error {
	_, err := l.st.rw.ExecContext(ctx, `INSERT INTO sheet_rows (key, org_id, appended_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		key, l.orgID, ts(time.Now()))
	if err != nil {
		return fmt.Errorf("store: sheet ledger: %w", err)
	}
	return nil
}
