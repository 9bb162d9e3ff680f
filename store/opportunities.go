package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Opportunity is a conversation worth a reply, with what the team needs to act: the
// analysis, and the root and hit tweets (as stored JSON).
type Opportunity struct {
	ID             int64           `json:"id"`
	OrgID          int64           `json:"-"`
	CampaignID     int64           `json:"campaign_id"`
	Campaign       string          `json:"campaign"`
	ConversationID int64           `json:"conversation_id"`
	RunID          int64           `json:"run_id"`
	Relevance      int             `json:"relevance"`
	Status         string          `json:"status"`   // new | done | dismissed
	Feedback       int             `json:"feedback"` // -1, 0, 1
	FeedbackNote   string          `json:"feedback_note"`
	Analysis       json.RawMessage `json:"analysis"`
	Root           json.RawMessage `json:"root"`
	Hit            json.RawMessage `json:"hit"`
	CreatedAt      time.Time       `json:"created_at"`
}

// OpportunityFilter selects and orders opportunities.
type OpportunityFilter struct {
	CampaignID   int64  // 0: every campaign
	Status       string // "" any
	MinRelevance int
	Sort         string // "relevance" (default) or "newest"
	Limit        int    // default 100
	Offset       int
}

const opportunitySelect = `SELECT o.id, o.org_id, o.campaign_id, c.name, o.conversation_id, o.run_id, o.relevance, o.status,
		o.feedback, o.feedback_note, a.result, COALESCE(rt.data, ht.data, '{}'), COALESCE(ht.data, '{}'), o.created_at
	FROM opportunities o
	JOIN campaigns c ON c.id = o.campaign_id
	JOIN analyses a ON a.id = o.analysis_id
	JOIN conversations cv ON cv.id = o.conversation_id
	LEFT JOIN tweets rt ON rt.org_id = o.org_id AND rt.id = cv.conversation_id
	LEFT JOIN tweets ht ON ht.org_id = o.org_id AND ht.id = cv.hit_id `

func scanOpportunity(r rowScanner) (Opportunity, error) {
	var o Opportunity
	var analysis, root, hit []byte
	err := r.Scan(&o.ID, &o.OrgID, &o.CampaignID, &o.Campaign, &o.ConversationID, &o.RunID, &o.Relevance, &o.Status,
		&o.Feedback, &o.FeedbackNote, &analysis, &root, &hit, scanTime(&o.CreatedAt))
	o.Analysis, o.Root, o.Hit = analysis, root, hit
	return o, err
}

// Opportunities lists the organization's opportunities. The page is chosen from the
// opportunities table alone before the analyses and tweets are joined, so a page costs
// the same with a hundred or a hundred thousand opportunities.
func (s *Store) Opportunities(ctx context.Context, orgID int64, f OpportunityFilter) ([]Opportunity, error) {
	where, args := opportunityWhere(orgID, f)
	inner, outer := "relevance DESC, id DESC", "o.relevance DESC, o.id DESC"
	if f.Sort == "newest" {
		inner, outer = "id DESC", "o.id DESC"
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	args = append(args, f.Limit, f.Offset)
	rows, err := s.ro.QueryContext(ctx, opportunitySelect+`WHERE o.id IN (SELECT id FROM opportunities WHERE `+where+
		` ORDER BY `+inner+` LIMIT ? OFFSET ?) ORDER BY `+outer, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list opportunities: %w", err)
	}
	defer rows.Close()
	out := []Opportunity{}
	for rows.Next() {
		o, err := scanOpportunity(rows)
		if err != nil {
			return nil, fmt.Errorf("store: scan opportunity: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Opportunity returns one opportunity of the organization (orgID 0: any, for jobs).
func (s *Store) Opportunity(ctx context.Context, orgID, id int64) (Opportunity, error) {
	o, err := scanOpportunity(s.ro.QueryRowContext(ctx, opportunitySelect+`WHERE o.id = ? AND (? = 0 OR o.org_id = ?)`, id, orgID, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("opportunity %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("store: opportunity %d: %w", id, err)
	}
	return o, nil
}

// SetOpportunityFeedback records a judgement on an opportunity: 1 relevant, -1 not.
func (s *Store) SetOpportunityFeedback(ctx context.Context, orgID, id int64, feedback int, note string) error {
	res, err := s.rw.ExecContext(ctx, `UPDATE opportunities SET feedback = ?, feedback_note = ? WHERE id = ? AND org_id = ?`,
		feedback, note, id, orgID)
	if err != nil {
		return fmt.Errorf("store: feedback on opportunity %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("opportunity %d: %w", id, ErrNotFound)
	}
	return nil
}

// SetOpportunityStatus marks an opportunity new, done or dismissed.
func (s *Store) SetOpportunityStatus(ctx context.Context, orgID, id int64, status string) error {
	res, err := s.rw.ExecContext(ctx, `UPDATE opportunities SET status = ? WHERE id = ? AND org_id = ?`, status, id, orgID)
	if err != nil {
		return fmt.Errorf("store: status of opportunity %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("opportunity %d: %w", id, ErrNotFound)
	}
	return nil
}

// FeedbackExample is a conversation a person judged, for the analyzer's prompt.
type FeedbackExample struct {
	Hit      json.RawMessage
	Relevant bool
	Note     string
}

// FeedbackExamples returns the campaign's last n judged opportunities, newest first.
func (s *Store) FeedbackExamples(ctx context.Context, campaignID int64, n int) ([]FeedbackExample, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT COALESCE(t.data, '{}'), o.feedback, o.feedback_note
		FROM opportunities o JOIN conversations cv ON cv.id = o.conversation_id
		LEFT JOIN tweets t ON t.org_id = o.org_id AND t.id = cv.hit_id
		WHERE o.campaign_id = ? AND o.feedback != 0 ORDER BY o.id DESC LIMIT ?`, campaignID, n)
	if err != nil {
		return nil, fmt.Errorf("store: feedback examples: %w", err)
	}
	defer rows.Close()
	var out []FeedbackExample
	for rows.Next() {
		var e FeedbackExample
		var hit []byte
		var fb int
		if err := rows.Scan(&hit, &fb, &e.Note); err != nil {
			return nil, fmt.Errorf("store: feedback examples: %w", err)
		}
		e.Hit, e.Relevant = hit, fb > 0
		out = append(out, e)
	}
	return out, rows.Err()
}

// Delivery is one opportunity sent (or to be sent) to one integration.
type Delivery struct {
	ID            int64  `json:"id"`
	OrgID         int64  `json:"-"`
	OpportunityID int64  `json:"opportunity_id"`
	RunID         int64  `json:"run_id"`
	Integration   string `json:"integration"`
	State         string `json:"state"`
	Error         string `json:"error"`
}

// Delivery returns a delivery row for its job.
func (s *Store) Delivery(ctx context.Context, id int64) (Delivery, error) {
	var d Delivery
	err := s.ro.QueryRowContext(ctx, `SELECT id, org_id, opportunity_id, run_id, integration, state, error FROM deliveries WHERE id = ?`, id).
		Scan(&d.ID, &d.OrgID, &d.OpportunityID, &d.RunID, &d.Integration, &d.State, &d.Error)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("delivery %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("store: delivery %d: %w", id, err)
	}
	return d, nil
}

// FinishDeliveries records several deliveries (a digest) as sent or failed at once.
func (s *Store) FinishDeliveries(ctx context.Context, ids []int64, sent bool, errMsg string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			state, at := "failed", any(nil)
			if sent {
				state, at = "sent", ts(time.Now())
			}
			if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = ?, error = ?, sent_at = ? WHERE id = ? AND state = 'pending'`,
				state, errMsg, at, id); err != nil {
				return fmt.Errorf("store: finish delivery %d: %w", id, err)
			}
		}
		return nil
	})
}

// FinishDelivery records a delivery as sent or failed.
func (s *Store) FinishDelivery(ctx context.Context, id int64, sent bool, errMsg string) error {
	state, at := "failed", any(nil)
	if sent {
		state, at = "sent", ts(time.Now())
	}
	_, err := s.rw.ExecContext(ctx, `UPDATE deliveries SET state = ?, error = ?, sent_at = ? WHERE id = ? AND state = 'pending'`,
		state, errMsg, at, id)
	if err != nil {
		return fmt.Errorf("store: finish delivery %d: %w", id, err)
	}
	return nil
}

// RunDeliveries lists the deliveries a run created, for the run view and its API.
func (s *Store) RunDeliveries(ctx context.Context, orgID, runID int64) ([]Delivery, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT id, org_id, opportunity_id, run_id, integration, state, error FROM deliveries
		WHERE run_id = ? AND (? = 0 OR org_id = ?) ORDER BY id`, runID, orgID, orgID)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries of run %d: %w", runID, err)
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		var d Delivery
		if err := rows.Scan(&d.ID, &d.OrgID, &d.OpportunityID, &d.RunID, &d.Integration, &d.State, &d.Error); err != nil {
			return nil, fmt.Errorf("store: scan delivery: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
