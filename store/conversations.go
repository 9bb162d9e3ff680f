package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Conversation is a thread a campaign found: its root id, the tweet that matched, and
// the shape of the thread as the last refresh saw it.
type Conversation struct {
	ID             int64           `json:"id"`
	OrgID          int64           `json:"-"`
	CampaignID     int64           `json:"campaign_id"`
	ConversationID string          `json:"conversation_id"`
	HitID          string          `json:"hit_id"`
	RunID          int64           `json:"run_id"`
	Thread         json.RawMessage `json:"thread"` // [{id, parent_id, depth}], root first
	TweetCount     int             `json:"tweet_count"`
	Complete       bool            `json:"complete"`
	ContentHash    string          `json:"-"`
	AnalyzedHash   string          `json:"-"`
	UpdatedAt      time.Time       `json:"updated_at"`
}

// ThreadUpdate is a freshly fetched thread, saved by SaveThread.
type ThreadUpdate struct {
	ConversationID string
	HitID          string
	Tweets         []StoredTweet
	Thread         json.RawMessage
	Complete       bool
	ContentHash    string // over the thread's ids and texts: counts change, content does not
}

// SaveThread stores a thread's tweets and its conversation row and, when the content
// differs from what was last analysed, enqueues its analysis, in one transaction.
func (s *Store) SaveThread(ctx context.Context, r Run, u ThreadUpdate) (Conversation, error) {
	var c Conversation
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := UpsertTweetsTx(ctx, tx, r.OrgID, 0, r.ID, u.Tweets); err != nil {
			return err
		}
		now := ts(time.Now())
		err := tx.QueryRowContext(ctx, `INSERT INTO conversations (org_id, campaign_id, conversation_id, hit_id, run_id, thread,
				tweet_count, complete, content_hash, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (campaign_id, conversation_id) DO UPDATE SET run_id = excluded.run_id, thread = excluded.thread,
				tweet_count = excluded.tweet_count, complete = excluded.complete, content_hash = excluded.content_hash,
				updated_at = excluded.updated_at
			RETURNING id, analyzed_hash`,
			r.OrgID, r.CampaignID, u.ConversationID, u.HitID, r.ID, []byte(u.Thread), len(u.Tweets), u.Complete, u.ContentHash, now).
			Scan(&c.ID, &c.AnalyzedHash)
		if err != nil {
			return fmt.Errorf("store: save conversation %s: %w", u.ConversationID, err)
		}
		if c.AnalyzedHash == u.ContentHash {
			return nil // unchanged since its last analysis: nothing to judge again
		}
		return EnqueueTx(ctx, tx, analyzeJob(r, c.ID))
	})
	if err != nil {
		return c, err
	}
	return s.Conversation(ctx, r.OrgID, c.ID)
}

// analyzeJob is run r's analysis of a conversation; its key makes it one per run.
func analyzeJob(r Run, conversationID int64) Job {
	return Job{OrgID: r.OrgID, Kind: KindAnalyze, RunID: r.ID, MaxAttempts: 6,
		Key:     fmt.Sprintf("run:%d:analyze:%d", r.ID, conversationID),
		Payload: []byte(fmt.Sprintf(`{"conversation":%d}`, conversationID))}
}

const conversationCols = `id, org_id, campaign_id, conversation_id, hit_id, run_id, thread, tweet_count, complete,
	content_hash, analyzed_hash, updated_at`

func scanConversation(r rowScanner) (Conversation, error) {
	var c Conversation
	var thread []byte
	err := r.Scan(&c.ID, &c.OrgID, &c.CampaignID, &c.ConversationID, &c.HitID, &c.RunID, &thread, &c.TweetCount, &c.Complete,
		&c.ContentHash, &c.AnalyzedHash, scanTime(&c.UpdatedAt))
	c.Thread = thread
	return c, err
}

// Conversation returns one conversation of the organization (orgID 0: any, for jobs).
func (s *Store) Conversation(ctx context.Context, orgID, id int64) (Conversation, error) {
	c, err := scanConversation(s.ro.QueryRowContext(ctx, `SELECT `+conversationCols+` FROM conversations
		WHERE id = ? AND (? = 0 OR org_id = ?)`, id, orgID, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("conversation %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("store: conversation %d: %w", id, err)
	}
	return c, nil
}

// ConversationTweets returns the stored tweets of a conversation's thread.
func (s *Store) ConversationTweets(ctx context.Context, c Conversation) ([]StoredTweet, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT id, conversation_id, username, created_at, data FROM tweets
		WHERE org_id = ? AND id IN (SELECT value ->> '$.id' FROM json_each(?))`, c.OrgID, []byte(c.Thread))
	if err != nil {
		return nil, fmt.Errorf("store: tweets of conversation %d: %w", c.ID, err)
	}
	defer rows.Close()
	var out []StoredTweet
	for rows.Next() {
		var t StoredTweet
		var created string
		if err := rows.Scan(&t.ID, &t.ConversationID, &t.Username, &created, &t.Data); err != nil {
			return nil, fmt.Errorf("store: scan tweet: %w", err)
		}
		t.CreatedAt = parseTS(created)
		out = append(out, t)
	}
	return out, rows.Err()
}

// Analysis is one judgement of a conversation, successful or not.
type Analysis struct {
	ID             int64           `json:"id"`
	ConversationID int64           `json:"conversation_id"`
	RunID          int64           `json:"run_id"`
	CacheKey       string          `json:"-"`
	Status         string          `json:"status"` // ok | failed
	Result         json.RawMessage `json:"result"`
	Relevance      int             `json:"relevance"`
	Opportunity    bool            `json:"opportunity"`
	Provider       string          `json:"provider"`
	Model          string          `json:"model"`
	PromptTokens   int             `json:"prompt_tokens"`
	ResponseTokens int             `json:"response_tokens"`
	Raw            string          `json:"raw,omitempty"`
	Error          string          `json:"error,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
}

// CachedAnalysis finds a successful analysis with the same cache key (the same
// conversation text, campaign context, prompt and model), from any conversation of the
// organization: an unchanged conversation is never sent to the model twice.
func (s *Store) CachedAnalysis(ctx context.Context, orgID int64, key string) (Analysis, bool, error) {
	var a Analysis
	var created string
	err := s.ro.QueryRowContext(ctx, `SELECT id, conversation_id, result, relevance, opportunity, provider, model, created_at
		FROM analyses WHERE cache_key = ? AND status = 'ok' AND org_id = ? ORDER BY id DESC LIMIT 1`, key, orgID).
		Scan(&a.ID, &a.ConversationID, &a.Result, &a.Relevance, &a.Opportunity, &a.Provider, &a.Model, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return a, false, nil
	}
	if err != nil {
		return a, false, fmt.Errorf("store: cached analysis: %w", err)
	}
	a.CreatedAt = parseTS(created)
	return a, true, nil
}

// OpportunityDecision says whether an analysis makes its conversation an opportunity,
// and where a new opportunity is delivered at once (the campaign's instant routes
// that are configured).
type OpportunityDecision struct {
	Is        bool
	Relevance int
	Deliver   []string // integration kinds, sent at once
	Digest    []string // integration kinds, gathered until the run's end
}

// SaveAnalysis records an analysis, marks which content it judged, and creates or
// updates the conversation's opportunity, in one transaction. Recording the same
// (conversation, cache key) twice keeps the first: a retried job changes nothing.
func (s *Store) SaveAnalysis(ctx context.Context, r Run, conv Conversation, a Analysis, contentHash string, opp OpportunityDecision) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		now := ts(time.Now())
		var analysisID int64
		err := tx.QueryRowContext(ctx, `INSERT INTO analyses (org_id, conversation_id, run_id, cache_key, status, result, relevance,
				opportunity, provider, model, prompt_tokens, response_tokens, raw, error, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (conversation_id, cache_key) DO UPDATE SET run_id = run_id
			RETURNING id`,
			r.OrgID, conv.ID, r.ID, a.CacheKey, a.Status, []byte(a.Result), a.Relevance, a.Opportunity, a.Provider, a.Model,
			a.PromptTokens, a.ResponseTokens, a.Raw, a.Error, now).Scan(&analysisID)
		if err != nil {
			return fmt.Errorf("store: save analysis of conversation %d: %w", conv.ID, err)
		}
		if a.Status != "ok" {
			return nil // a failed analysis is kept for the operator; the content stays "not analysed"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE conversations SET analyzed_hash = ? WHERE id = ?`, contentHash, conv.ID); err != nil {
			return fmt.Errorf("store: mark conversation %d analysed: %w", conv.ID, err)
		}
		if !opp.Is {
			return nil
		}
		var oppID int64
		err = tx.QueryRowContext(ctx, `INSERT INTO opportunities (org_id, campaign_id, conversation_id, analysis_id, run_id, relevance, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (conversation_id) DO UPDATE SET analysis_id = excluded.analysis_id, relevance = excluded.relevance
			RETURNING id`,
			r.OrgID, r.CampaignID, conv.ID, analysisID, r.ID, opp.Relevance, now).Scan(&oppID)
		if err != nil {
			return fmt.Errorf("store: save opportunity of conversation %d: %w", conv.ID, err)
		}
		// One delivery per (opportunity, integration), ever: a conversation that is an
		// opportunity again in a later run is not sent again.
		for _, kind := range opp.Digest {
			_, err := tx.ExecContext(ctx, `INSERT INTO deliveries (org_id, opportunity_id, run_id, integration, mode)
				VALUES (?, ?, ?, ?, 'digest') ON CONFLICT (opportunity_id, integration) DO NOTHING`, r.OrgID, oppID, r.ID, kind)
			if err != nil {
				return fmt.Errorf("store: digest delivery of opportunity %d to %s: %w", oppID, kind, err)
			}
		}
		for _, kind := range opp.Deliver {
			var deliveryID int64
			err := tx.QueryRowContext(ctx, `INSERT INTO deliveries (org_id, opportunity_id, run_id, integration) VALUES (?, ?, ?, ?)
				ON CONFLICT (opportunity_id, integration) DO NOTHING RETURNING id`, r.OrgID, oppID, r.ID, kind).Scan(&deliveryID)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("store: delivery of opportunity %d to %s: %w", oppID, kind, err)
			}
			if err := EnqueueTx(ctx, tx, Job{OrgID: r.OrgID, Kind: KindDeliver, RunID: r.ID, MaxAttempts: 12,
				Key: fmt.Sprintf("deliver:%d", deliveryID), Payload: []byte(fmt.Sprintf(`{"delivery":%d}`, deliveryID))}); err != nil {
				return err
			}
		}
		return nil
	})
}

// ConversationSummary is a conversation as listed: its hit and the latest analysis.
type ConversationSummary struct {
	Conversation
	Hit      json.RawMessage `json:"hit"`
	Analysis json.RawMessage `json:"analysis"` // null before the first successful analysis
}

// Conversations lists a campaign's conversations, the most recently refreshed first
// (a thread that grew in a later run comes back to the top), with their hit and latest
// analysis. The page is chosen from the conversations_refreshed index alone before
// anything is joined, so a page, the thousandth as well as the first, costs the same
// however many conversations the campaign has; joining and sorting every row before
// the LIMIT took about 70 ms a page at 100,000 tweets (5,000 conversations a campaign).
func (s *Store) Conversations(ctx context.Context, orgID, campaignID int64, limit, offset int) ([]ConversationSummary, error) {
	if limit <= 0 {
		limit = 50
	}
	// org_id is checked on the page's rows, not inside the subquery: a campaign belongs
	// to one organization, and reading it there would fetch every skipped row's table
	// entry (thread included) instead of walking the index.
	rows, err := s.ro.QueryContext(ctx, `SELECT cv.id, cv.org_id, cv.campaign_id, cv.conversation_id, cv.hit_id, cv.run_id, cv.thread,
			cv.tweet_count, cv.complete, cv.content_hash, cv.analyzed_hash, cv.updated_at,
			COALESCE(t.data, '{}'),
			(SELECT a.result FROM analyses a WHERE a.conversation_id = cv.id AND a.status = 'ok' ORDER BY a.id DESC LIMIT 1)
		FROM conversations cv LEFT JOIN tweets t ON t.org_id = cv.org_id AND t.id = cv.hit_id
		WHERE cv.org_id = ? AND cv.id IN (SELECT id FROM conversations WHERE campaign_id = ?
			ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?)
		ORDER BY cv.updated_at DESC, cv.id DESC`, orgID, campaignID, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("store: list conversations of campaign %d: %w", campaignID, err)
	}
	defer rows.Close()
	out := []ConversationSummary{}
	for rows.Next() {
		var c ConversationSummary
		var thread, hit, analysis []byte
		if err := rows.Scan(&c.ID, &c.OrgID, &c.CampaignID, &c.ConversationID, &c.HitID, &c.RunID, &thread, &c.TweetCount,
			&c.Complete, &c.ContentHash, &c.AnalyzedHash, scanTime(&c.UpdatedAt), &hit, &analysis); err != nil {
			return nil, fmt.Errorf("store: scan conversation: %w", err)
		}
		c.Thread, c.Hit, c.Analysis = thread, hit, analysis
		if analysis == nil {
			c.Analysis = json.RawMessage("null") // not analysed yet
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Analyses lists a conversation's analyses, newest first (failed ones included, with
// the model's raw answer, for the operator).
func (s *Store) Analyses(ctx context.Context, conversationID int64) ([]Analysis, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT id, conversation_id, run_id, status, result, relevance, opportunity, provider, model,
			prompt_tokens, response_tokens, raw, error, created_at
		FROM analyses WHERE conversation_id = ? ORDER BY id DESC`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("store: analyses of conversation %d: %w", conversationID, err)
	}
	defer rows.Close()
	out := []Analysis{}
	for rows.Next() {
		var a Analysis
		var result []byte
		if err := rows.Scan(&a.ID, &a.ConversationID, &a.RunID, &a.Status, &result, &a.Relevance, &a.Opportunity, &a.Provider,
			&a.Model, &a.PromptTokens, &a.ResponseTokens, &a.Raw, &a.Error, scanTime(&a.CreatedAt)); err != nil {
			return nil, fmt.Errorf("store: scan analysis: %w", err)
		}
		a.Result = result
		out = append(out, a)
	}
	return out, rows.Err()
}

// TokensSince sums the LLM tokens analyses spent since t, so that a restart carries
// the day's spending into the daily budget.
func (s *Store) TokensSince(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	err := s.ro.QueryRowContext(ctx, `SELECT COALESCE(SUM(prompt_tokens + response_tokens), 0) FROM analyses WHERE created_at >= ?`, ts(t)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: tokens since %s: %w", t.Format(time.RFC3339), err)
	}
	return n, nil
}
