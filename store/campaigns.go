package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Campaign is what a team listens for on X. The JSON names are the API contract of
// DESIGN.md.
type Campaign struct {
	ID              int64    `json:"id"`
	OrgID           int64    `json:"-"`
	Name            string   `json:"name"`
	Keywords        []string `json:"keywords"`
	Match           string   `json:"match"` // any | all
	Phrases         []string `json:"phrases"`
	Hashtags        []string `json:"hashtags"`
	Mentions        []string `json:"mentions"`
	FromUsers       []string `json:"from_users"`
	ExcludeWords    []string `json:"exclude_words"`
	ExcludeUsers    []string `json:"exclude_users"`
	Lang            string   `json:"lang"`
	MinLikes        int      `json:"min_likes"`
	MinRetweets     int      `json:"min_retweets"`
	MinReplies      int      `json:"min_replies"`
	IncludeReplies  bool     `json:"include_replies"`
	IncludeRetweets bool     `json:"include_retweets"`
	LookbackHours   int      `json:"lookback_hours"`
	AdvancedQuery   string   `json:"advanced_query"`
	Context         string   `json:"context"`
	Threshold       int      `json:"threshold"`
	Schedule        string   `json:"schedule"`
	Routes          []Route  `json:"routes"`
	// QuietHours hold deliveries (instant and digest) until the window ends, in the
	// team's time zone; nil sends at any hour.
	QuietHours *QuietHours `json:"quiet_hours,omitempty"`
	CreatedAt  time.Time   `json:"created_at"`
	UpdatedAt  time.Time   `json:"updated_at"`
}

// QuietHours is a daily window, "22:00" to "07:00" in TZ (an IANA zone), during which
// nothing is delivered.
type QuietHours struct {
	Start string `json:"start"`
	End   string `json:"end"`
	TZ    string `json:"tz"`
}

// Until reports whether t falls in the window and, if so, when the window ends.
func (q *QuietHours) Until(t time.Time) (time.Time, bool) {
	if q == nil {
		return time.Time{}, false
	}
	loc, err := time.LoadLocation(q.TZ)
	if err != nil {
		return time.Time{}, false
	}
	start, err1 := time.Parse("15:04", q.Start)
	end, err2 := time.Parse("15:04", q.End)
	if err1 != nil || err2 != nil || q.Start == q.End {
		return time.Time{}, false
	}
	local := t.In(loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	at := func(d time.Time, hm time.Time) time.Time {
		return time.Date(d.Year(), d.Month(), d.Day(), hm.Hour(), hm.Minute(), 0, 0, loc)
	}
	s, e := at(day, start), at(day, end)
	if s.Before(e) { // within one day, e.g. 12:00-14:00
		return e, !local.Before(s) && local.Before(e)
	}
	// Across midnight, e.g. 22:00-07:00.
	if !local.Before(s) {
		return at(day.AddDate(0, 0, 1), end), true
	}
	if local.Before(e) {
		return e, true
	}
	return time.Time{}, false
}

// Route sends a campaign's opportunities to one integration, one by one (instant) or
// gathered (digest).
type Route struct {
	Integration string `json:"integration"` // slack | sheets | webhook
	Mode        string `json:"mode"`        // instant | digest
}

// definition is what the campaigns.definition column holds: the campaign without the
// fields that are columns or derived.
func definition(c Campaign) ([]byte, error) {
	c.ID, c.OrgID, c.CreatedAt, c.UpdatedAt = 0, 0, time.Time{}, time.Time{}
	return json.Marshal(c)
}

const campaignCols = `id, org_id, name, schedule, definition, created_at, updated_at`

func scanCampaign(r rowScanner) (Campaign, error) {
	var c Campaign
	var id, org int64
	var name, schedule string
	var def []byte
	var created, updated time.Time
	if err := r.Scan(&id, &org, &name, &schedule, &def, scanTime(&created), scanTime(&updated)); err != nil {
		return c, err
	}
	if err := json.Unmarshal(def, &c); err != nil {
		return c, fmt.Errorf("campaign %d definition: %w", id, err)
	}
	c.ID, c.OrgID, c.Name, c.Schedule, c.CreatedAt, c.UpdatedAt = id, org, name, schedule, created, updated
	return c, nil
}

// CreateCampaign stores a validated campaign; a taken name is ErrConflict.
func (s *Store) CreateCampaign(ctx context.Context, c Campaign) (Campaign, error) {
	def, err := definition(c)
	if err != nil {
		return c, fmt.Errorf("store: encode campaign: %w", err)
	}
	now := time.Now().UTC()
	c.CreatedAt, c.UpdatedAt = now, now
	err = s.rw.QueryRowContext(ctx, `INSERT INTO campaigns (org_id, name, schedule, definition, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, c.OrgID, c.Name, c.Schedule, string(def), ts(now), ts(now)).Scan(&c.ID)
	if isUniqueViolation(err) {
		return c, fmt.Errorf("campaign %q: %w", c.Name, ErrConflict)
	}
	if err != nil {
		return c, fmt.Errorf("store: create campaign: %w", err)
	}
	return c, nil
}

// UpdateCampaign replaces a campaign's definition.
func (s *Store) UpdateCampaign(ctx context.Context, c Campaign) (Campaign, error) {
	def, err := definition(c)
	if err != nil {
		return c, fmt.Errorf("store: encode campaign: %w", err)
	}
	now := time.Now().UTC()
	res, err := s.rw.ExecContext(ctx, `UPDATE campaigns SET name = ?, schedule = ?, definition = ?, updated_at = ?
		WHERE org_id = ? AND id = ?`, c.Name, c.Schedule, string(def), ts(now), c.OrgID, c.ID)
	if isUniqueViolation(err) {
		return c, fmt.Errorf("campaign %q: %w", c.Name, ErrConflict)
	}
	if err != nil {
		return c, fmt.Errorf("store: update campaign %d: %w", c.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return c, fmt.Errorf("campaign %d: %w", c.ID, ErrNotFound)
	}
	return s.Campaign(ctx, c.OrgID, c.ID)
}

// Campaign returns one campaign of the organization.
func (s *Store) Campaign(ctx context.Context, orgID, id int64) (Campaign, error) {
	c, err := scanCampaign(s.ro.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE org_id = ? AND id = ?`, orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("campaign %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("store: campaign %d: %w", id, err)
	}
	return c, nil
}

// CampaignByName returns a campaign of the organization by name.
func (s *Store) CampaignByName(ctx context.Context, orgID int64, name string) (Campaign, error) {
	c, err := scanCampaign(s.ro.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE org_id = ? AND name = ?`, orgID, name))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("campaign %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("store: campaign %q: %w", name, err)
	}
	return c, nil
}

// Campaigns lists the organization's campaigns by name; orgID 0 lists every
// organization's (the scheduler builds its timetable from all of them).
func (s *Store) Campaigns(ctx context.Context, orgID int64) ([]Campaign, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE ? = 0 OR org_id = ? ORDER BY name, id`, orgID, orgID)
	if err != nil {
		return nil, fmt.Errorf("store: list campaigns: %w", err)
	}
	defer rows.Close()
	out := []Campaign{}
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, fmt.Errorf("store: scan campaign: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteCampaign removes a campaign and what it found.
func (s *Store) DeleteCampaign(ctx context.Context, orgID, id int64) error {
	res, err := s.rw.ExecContext(ctx, `DELETE FROM campaigns WHERE org_id = ? AND id = ?`, orgID, id)
	if err != nil {
		return fmt.Errorf("store: delete campaign %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("campaign %d: %w", id, ErrNotFound)
	}
	return nil
}
