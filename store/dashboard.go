package store

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// The dashboard's read-only aggregates. They answer "what happened in the last N
// days" over tables of a hundred thousand rows within a page's time budget, so each
// query is shaped around an index the schema already has:
//
//   - A tweet's time is read from its id. X ids are snowflakes whose high bits are the
//     creation time in milliseconds since X's epoch, so "posted since T" is a range
//     over campaign_tweets' primary key (campaign_id, tweet_id) instead of a join to
//     tweets for every hit. Ids of the same length compare as text the way they
//     compare as numbers, which is why the range also pins the length.
//   - Per-conversation facts (sentiment, author) are read for the conversations whose
//     hit falls in the window, through the unique (conversation_id, cache_key) and
//     (org_id, id) indexes.

// twepoch is the start of X's snowflake clock, in Unix milliseconds.
const twepoch = 1288834974657

// SnowflakeMin is the smallest tweet id X could have given a post created at t.
func SnowflakeMin(t time.Time) string {
	ms := t.UnixMilli() - twepoch
	if ms < 0 {
		ms = 0
	}
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

// MentionDay is how many tweets a campaign found that were posted on one UTC day.
type MentionDay struct {
	CampaignID int64
	Day        time.Time // midnight UTC
	Count      int
}

// MentionsByDay counts each campaign's hits by the UTC day they were posted, from
// since (rounded down to its day) on. Days without hits are absent.
func (s *Store) MentionsByDay(ctx context.Context, orgID int64, since time.Time) ([]MentionDay, error) {
	day := since.UTC().Truncate(24 * time.Hour)
	minID := SnowflakeMin(day)
	rows, err := s.ro.QueryContext(ctx, `SELECT ct.campaign_id,
			((CAST(ct.tweet_id AS INTEGER) >> 22) + ?) / 86400000 AS day, COUNT(*)
		FROM campaigns c JOIN campaign_tweets ct ON ct.campaign_id = c.id
		WHERE c.org_id = ? AND ct.tweet_id >= ? AND length(ct.tweet_id) = ?
		GROUP BY 1, 2 ORDER BY 1, 2`, twepoch, orgID, minID, len(minID))
	if err != nil {
		return nil, fmt.Errorf("store: mentions by day: %w", err)
	}
	defer rows.Close()
	var out []MentionDay
	for rows.Next() {
		var m MentionDay
		var d int64
		if err := rows.Scan(&m.CampaignID, &d, &m.Count); err != nil {
			return nil, fmt.Errorf("store: scan mentions by day: %w", err)
		}
		m.Day = time.UnixMilli(d * 86400000).UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

// SentimentSplit counts conversations by the sentiment of their latest successful
// analysis.
type SentimentSplit struct {
	Positive, Neutral, Negative int
}

// Total is the number of analysed conversations counted.
func (s SentimentSplit) Total() int { return s.Positive + s.Neutral + s.Negative }

// Sentiments splits the conversations whose hit was posted since since by the
// sentiment of their latest successful analysis; campaignID 0 counts every campaign.
func (s *Store) Sentiments(ctx context.Context, orgID, campaignID int64, since time.Time) (SentimentSplit, error) {
	minID := SnowflakeMin(since)
	rows, err := s.ro.QueryContext(ctx, `SELECT a.result ->> '$.sentiment', COUNT(*)
		FROM conversations cv
		JOIN analyses a ON a.id = (SELECT MAX(id) FROM analyses WHERE conversation_id = cv.id AND status = 'ok')
		WHERE cv.org_id = ? AND (? = 0 OR cv.campaign_id = ?) AND cv.hit_id >= ? AND length(cv.hit_id) = ?
		GROUP BY 1`, orgID, campaignID, campaignID, minID, len(minID))
	if err != nil {
		return SentimentSplit{}, fmt.Errorf("store: sentiment split: %w", err)
	}
	defer rows.Close()
	var out SentimentSplit
	for rows.Next() {
		var label *string
		var n int
		if err := rows.Scan(&label, &n); err != nil {
			return out, fmt.Errorf("store: scan sentiment split: %w", err)
		}
		switch {
		case label == nil:
		case *label == "positive":
			out.Positive += n
		case *label == "negative":
			out.Negative += n
		default:
			out.Neutral += n
		}
	}
	return out, rows.Err()
}
