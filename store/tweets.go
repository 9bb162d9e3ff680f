package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// StoredTweet is a tweet as kept: the JSON of scraper.Tweet plus the columns that
// are queried. The store does not import the scraper; callers marshal and unmarshal.
type StoredTweet struct {
	ID             string
	ConversationID string
	Username       string
	CreatedAt      time.Time
	Data           json.RawMessage
}

// UpsertTweets stores a page of tweets in one transaction and records that the
// campaign found them in run. It returns how many were new to the campaign: a tweet
// seen by an earlier run is refreshed (counts change) but not counted again.
func (s *Store) UpsertTweets(ctx context.Context, orgID, campaignID, runID int64, tweets []StoredTweet) (int, error) {
	var fresh []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		fresh, err = UpsertTweetsTx(ctx, tx, orgID, campaignID, runID, tweets)
		return err
	})
	return len(fresh), err
}

// UpsertTweetsTx is UpsertTweets inside the caller's transaction (a search page is
// stored together with the thread jobs it causes). It returns the ids new to the
// campaign.
func UpsertTweetsTx(ctx context.Context, tx *sql.Tx, orgID, campaignID, runID int64, tweets []StoredTweet) ([]string, error) {
	// One multi-row statement per chunk rather than one per tweet: the per-statement
	// cost of the driver, not SQLite, dominates at this size.
	const chunk = 100
	now := ts(time.Now())
	var fresh []string
	for lo := 0; lo < len(tweets); lo += chunk {
		part := tweets[lo:min(lo+chunk, len(tweets))]
		args := make([]any, 0, 7*len(part))
		for _, t := range part {
			args = append(args, orgID, t.ID, t.ConversationID, t.Username, ts(t.CreatedAt), []byte(t.Data), now)
		}
		q := `INSERT INTO tweets (org_id, id, conversation_id, username, created_at, data, updated_at) VALUES ` +
			placeholders(len(part), 7) + `
			ON CONFLICT (org_id, id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return nil, fmt.Errorf("store: upsert %d tweets: %w", len(part), err)
		}
		if campaignID == 0 {
			continue
		}
		args = args[:0]
		for _, t := range part {
			args = append(args, campaignID, t.ID, runID)
		}
		// RETURNING lists only the rows inserted, which are the tweets new to the campaign.
		rows, err := tx.QueryContext(ctx, `INSERT INTO campaign_tweets (campaign_id, tweet_id, run_id) VALUES `+
			placeholders(len(part), 3)+` ON CONFLICT DO NOTHING RETURNING tweet_id`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: record tweets for campaign %d: %w", campaignID, err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: record tweets for campaign %d: %w", campaignID, err)
			}
			fresh = append(fresh, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: record tweets for campaign %d: %w", campaignID, err)
		}
	}
	return fresh, nil
}

// placeholders returns "(?, ?), (?, ?)" for rows rows of cols columns.
func placeholders(rows, cols int) string {
	one := "(?" + strings.Repeat(", ?", cols-1) + ")"
	return one + strings.Repeat(", "+one, rows-1)
}

// Tweet returns one stored tweet of the organization.
func (s *Store) Tweet(ctx context.Context, orgID int64, id string) (StoredTweet, error) {
	var t StoredTweet
	var created string
	err := s.ro.QueryRowContext(ctx, `SELECT id, conversation_id, username, created_at, data FROM tweets WHERE org_id = ? AND id = ?`,
		orgID, id).Scan(&t.ID, &t.ConversationID, &t.Username, &created, &t.Data)
	if err == sql.ErrNoRows {
		return t, fmt.Errorf("tweet %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("store: tweet %s: %w", id, err)
	}
	t.CreatedAt = parseTS(created)
	return t, nil
}
