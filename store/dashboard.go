package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The web UI's read-only aggregates. They must answer within a page's time budget
// over a hundred thousand tweets with only the indexes the schema already has, so:
//
//   - A tweet's time is read from its id. X ids are snowflakes whose high bits are the
//     creation time in milliseconds since X's epoch, so "posted since T" is a range
//     over campaign_tweets' primary key (campaign_id, tweet_id) instead of a join to
//     tweets for every hit. Ids of the same length compare as text the way they
//     compare as numbers, which is why each range also pins the length.
//   - Facts about every conversation (its hit's author, the sentiment of its latest
//     analysis) are read incrementally, after an id the caller already has: the UI
//     keeps them and asks only for what is new, instead of scanning and joining every
//     conversation on every page view.

// twepoch is the start of X's snowflake clock, in Unix milliseconds.
const twepoch = 1288834974657

// SnowflakeMin is the smallest tweet id X could have given a post created at t.
func SnowflakeMin(t time.Time) string {
	ms := max(t.UnixMilli()-twepoch, 0)
	return strconv.FormatUint(uint64(ms)<<22, 10)
}

// SnowflakeTime is the creation time encoded in a tweet id (zero for an id that is
// not a number).
func SnowflakeTime(id string) time.Time {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(int64(n>>22) + twepoch).UTC()
}

// MentionBucket is how many tweets a campaign found that were posted in one bucket
// of time.
type MentionBucket struct {
	CampaignID int64
	Start      time.Time // UTC, a multiple of the bucket size since the Unix epoch
	Count      int
}

// MentionsOverTime counts each campaign's hits by when they were posted, in n buckets
// of the given size (an hour, a day) from the one that holds from. Empty buckets are
// absent.
//
// Each bucket is an id range counted on campaign_tweets' primary key, one count per
// campaign and bucket: SQLite counts index entries an order of magnitude faster than
// it groups computed values, so a 90-day chart over 100,000 hits stays a few
// milliseconds.
func (s *Store) MentionsOverTime(ctx context.Context, orgID int64, from time.Time, bucket time.Duration, n int) ([]MentionBucket, error) {
	if bucket <= 0 || n <= 0 || n > 1000 {
		return nil, fmt.Errorf("store: mentions over time: %d buckets of %s", n, bucket)
	}
	start := from.UTC().Truncate(bucket)
	var values strings.Builder
	args := make([]any, 0, 3*n+1)
	for i := range n {
		lo, hi := SnowflakeMin(start.Add(time.Duration(i)*bucket)), SnowflakeMin(start.Add(time.Duration(i+1)*bucket))
		if i > 0 {
			values.WriteString(", ")
		}
		values.WriteString("(?, ?, ?)")
		args = append(args, i, lo, hi)
	}
	args = append(args, orgID)
	// The length check keeps ids of another length (not snowflakes of these years)
	// out of a range they would fall in as text.
	rows, err := s.ro.QueryContext(ctx, `WITH b (i, lo, hi) AS (VALUES `+values.String()+`)
		SELECT c.id, b.i, (SELECT COUNT(*) FROM campaign_tweets ct
			WHERE ct.campaign_id = c.id AND ct.tweet_id >= b.lo AND ct.tweet_id < b.hi AND length(ct.tweet_id) = length(b.lo))
		FROM campaigns c, b WHERE c.org_id = ? ORDER BY c.id, b.i`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: mentions over time: %w", err)
	}
	defer rows.Close()
	var out []MentionBucket
	for rows.Next() {
		var m MentionBucket
		var i int
		if err := rows.Scan(&m.CampaignID, &i, &m.Count); err != nil {
			return nil, fmt.Errorf("store: scan mentions over time: %w", err)
		}
		if m.Count > 0 {
			m.Start = start.Add(time.Duration(i) * bucket)
			out = append(out, m)
		}
	}
	return out, rows.Err()
}

// ConversationFact is what the dashboard keeps about one conversation.
type ConversationFact struct {
	ID         int64
	CampaignID int64
	HitID      string // its time is SnowflakeTime(HitID)
	Author     string // the hit's username; "" when the tweet is missing
}

// ConversationFacts lists the organization's conversations with an id above
// afterID, in id order, at most limit of them. A conversation's campaign and hit
// never change, so a caller that keeps the facts only needs the new ones.
func (s *Store) ConversationFacts(ctx context.Context, orgID, afterID int64, limit int) ([]ConversationFact, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT cv.id, cv.campaign_id, cv.hit_id,
			COALESCE((SELECT t.username FROM tweets t WHERE t.org_id = cv.org_id AND t.id = cv.hit_id), '')
		FROM conversations cv WHERE cv.org_id = ? AND cv.id > ? ORDER BY cv.id LIMIT ?`, orgID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: conversation facts: %w", err)
	}
	defer rows.Close()
	var out []ConversationFact
	for rows.Next() {
		var f ConversationFact
		if err := rows.Scan(&f.ID, &f.CampaignID, &f.HitID, &f.Author); err != nil {
			return nil, fmt.Errorf("store: scan conversation fact: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// AnalysisFact is the verdict one successful analysis gave its conversation.
type AnalysisFact struct {
	ID             int64
	ConversationID int64
	Sentiment      string
	Intent         string
}

// AnalysisFacts lists the organization's successful analyses with an id above
// afterID, in id order, at most limit of them; applied in order, the last one of a
// conversation is its current judgement.
func (s *Store) AnalysisFacts(ctx context.Context, orgID, afterID int64, limit int) ([]AnalysisFact, error) {
	// The result is read whole and its two fields picked out in Go: SQLite's JSON
	// functions parse the whole document for each path and cost most of this query.
	rows, err := s.ro.QueryContext(ctx, `SELECT id, conversation_id, result
		FROM analyses WHERE org_id = ? AND status = 'ok' AND id > ? ORDER BY id LIMIT ?`, orgID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: analysis facts: %w", err)
	}
	defer rows.Close()
	var out []AnalysisFact
	var result []byte
	for rows.Next() {
		var f AnalysisFact
		if err := rows.Scan(&f.ID, &f.ConversationID, &result); err != nil {
			return nil, fmt.Errorf("store: scan analysis fact: %w", err)
		}
		var ok1, ok2 bool
		f.Sentiment, ok1 = compactStringField(result, "sentiment")
		f.Intent, ok2 = compactStringField(result, "intent")
		if !ok1 || !ok2 {
			var v struct{ Sentiment, Intent string }
			json.Unmarshal(result, &v) //nolint:errcheck // a broken result has no verdict
			f.Sentiment, f.Intent = v.Sentiment, v.Intent
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// compactStringField finds "key":"value" in JSON as encoding/json writes it (no
// spaces) and returns the value when it holds no escape. Inside a JSON string a quote
// is always escaped, so the pattern can only match a real key; anything unusual
// reports false, and the caller decodes the document properly.
func compactStringField(doc []byte, key string) (string, bool) {
	pat := `"` + key + `":"`
	i := bytes.Index(doc, []byte(pat))
	if i < 0 {
		return "", false
	}
	rest := doc[i+len(pat):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 || bytes.IndexByte(rest[:j], '\\') >= 0 {
		return "", false
	}
	return string(rest[:j]), true
}

// OpportunityFact ties an opportunity to its conversation.
type OpportunityFact struct {
	ID             int64
	ConversationID int64
}

// OpportunityFacts lists the organization's opportunities with an id above afterID,
// in id order, at most limit of them.
func (s *Store) OpportunityFacts(ctx context.Context, orgID, afterID int64, limit int) ([]OpportunityFact, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT id, conversation_id FROM opportunities WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?`,
		orgID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: opportunity facts: %w", err)
	}
	defer rows.Close()
	var out []OpportunityFact
	for rows.Next() {
		var f OpportunityFact
		if err := rows.Scan(&f.ID, &f.ConversationID); err != nil {
			return nil, fmt.Errorf("store: scan opportunity fact: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// DisplayNames maps tweet ids to their authors' display names, for the few tweets a
// page shows by author.
func (s *Store) DisplayNames(ctx context.Context, orgID int64, tweetIDs []string) (map[string]string, error) {
	out := make(map[string]string, len(tweetIDs))
	if len(tweetIDs) == 0 {
		return out, nil
	}
	args := []any{orgID}
	for _, id := range tweetIDs {
		args = append(args, id)
	}
	rows, err := s.ro.QueryContext(ctx, `SELECT id, COALESCE(data ->> '$.display_name', '') FROM tweets
		WHERE org_id = ? AND id IN (?`+strings.Repeat(", ?", len(tweetIDs)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: display names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("store: scan display name: %w", err)
		}
		out[id] = name
	}
	return out, rows.Err()
}

// opportunityWhere is the WHERE clause of f over the opportunities table alone.
func opportunityWhere(orgID int64, f OpportunityFilter) (string, []any) {
	where := []string{"org_id = ?"}
	args := []any{orgID}
	if f.CampaignID != 0 {
		where, args = append(where, "campaign_id = ?"), append(args, f.CampaignID)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.MinRelevance > 0 {
		where, args = append(where, "relevance >= ?"), append(args, f.MinRelevance)
	}
	return strings.Join(where, " AND "), args
}

// CountOpportunities counts the opportunities f selects (Limit and Offset aside).
func (s *Store) CountOpportunities(ctx context.Context, orgID int64, f OpportunityFilter) (int, error) {
	where, args := opportunityWhere(orgID, f)
	var n int
	if err := s.ro.QueryRowContext(ctx, `SELECT COUNT(*) FROM opportunities WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count opportunities: %w", err)
	}
	return n, nil
}

// CampaignCounts is what a campaign found so far.
type CampaignCounts struct {
	Mentions         int // tweets its searches found
	Conversations    int
	Opportunities    int
	NewOpportunities int // not yet done or dismissed
}

// CampaignCounts counts, for one campaign of the organization or all of them (0), what
// it found. Each
// count is a correlated COUNT(*) over an index whose first column is campaign_id, which
// SQLite answers without reading the rows, except the open opportunities (the status
// is only in the rows).
func (s *Store) CampaignCounts(ctx context.Context, orgID, campaignID int64) (map[int64]CampaignCounts, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT c.id,
			(SELECT COUNT(*) FROM campaign_tweets WHERE campaign_id = c.id),
			(SELECT COUNT(*) FROM conversations WHERE campaign_id = c.id),
			(SELECT COUNT(*) FROM opportunities WHERE campaign_id = c.id),
			(SELECT COUNT(*) FROM opportunities WHERE campaign_id = c.id AND status = 'new')
		FROM campaigns c WHERE c.org_id = ? AND (? = 0 OR c.id = ?)`, orgID, campaignID, campaignID)
	if err != nil {
		return nil, fmt.Errorf("store: campaign counts: %w", err)
	}
	defer rows.Close()
	out := map[int64]CampaignCounts{}
	for rows.Next() {
		var id int64
		var c CampaignCounts
		if err := rows.Scan(&id, &c.Mentions, &c.Conversations, &c.Opportunities, &c.NewOpportunities); err != nil {
			return nil, fmt.Errorf("store: scan campaign counts: %w", err)
		}
		out[id] = c
	}
	return out, rows.Err()
}

// OpportunityOfConversation returns the opportunity a conversation became, if any.
func (s *Store) OpportunityOfConversation(ctx context.Context, orgID, conversationID int64) (Opportunity, bool, error) {
	o, err := scanOpportunity(s.ro.QueryRowContext(ctx, opportunitySelect+`WHERE o.conversation_id = ? AND o.org_id = ?`, conversationID, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		return o, false, nil
	}
	if err != nil {
		return o, false, fmt.Errorf("store: opportunity of conversation %d: %w", conversationID, err)
	}
	return o, true, nil
}
