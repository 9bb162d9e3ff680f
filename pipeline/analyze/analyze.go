// Package analyze judges one conversation for one campaign: relevance, sentiment, intent,
// insights, whether it is an opportunity, and what the team could reply.
//
// The parent package holds what every provider shares: the Analyzer interface, the
// conversation and result types, the prompt and the compact thread text, validation and
// JSON repair (Ask), retries, token budgets and a concurrency limit. The providers live in
// subpackages of one shape (gemini, openai, heuristic) and import this package; the
// registry that picks one from config is the separate package analyze/providers, so that
// no package imports its own children.
package analyze

import (
	"context"
	"encoding/json"
	"time"
)

// PromptVersion names the prompt, the schema and the validation rules. Change it whenever
// any of them changes: it is part of CacheKey, so cached results of an older prompt are
// not reused.
const PromptVersion = "analyze-v1"

// Analyzer judges one conversation for one campaign.
type Analyzer interface {
	Analyze(ctx context.Context, c Campaign, conv Conversation) (Result, error)
}

// Campaign is what the analyzer needs of a campaign: who the team is, what it offers and
// what counts as an opportunity (Context), and the terms the campaign listens for.
type Campaign struct {
	Name     string
	Context  string
	Keywords []string
	Phrases  []string
	Hashtags []string
	Lang     string
}

// Sentiment values a Result may carry.
const (
	Positive = "positive"
	Neutral  = "neutral"
	Negative = "negative"
)

// Result is one structured judgement of a conversation, with DESIGN.md's JSON names.
type Result struct {
	Relevance         int      `json:"relevance"` // 0–100
	Sentiment         string   `json:"sentiment"` // positive | neutral | negative
	Intent            string   `json:"intent"`    // short snake_case label
	Insights          []string `json:"insights"`
	Opportunity       bool     `json:"opportunity"`
	OpportunityReason string   `json:"opportunity_reason"`
	SuggestedReplies  []string `json:"suggested_replies"`

	Provider       string        `json:"provider"`
	Model          string        `json:"model"`
	PromptTokens   int           `json:"prompt_tokens"`
	ResponseTokens int           `json:"response_tokens"`
	Latency        time.Duration `json:"-"` // encoded as latency_ms
}

type resultJSON Result // same fields without the methods, so encoding does not recurse

// MarshalJSON writes Latency as whole milliseconds (latency_ms), which is what an API
// client and a stored row want, and empty lists as [] rather than null.
func (r Result) MarshalJSON() ([]byte, error) {
	if r.Insights == nil {
		r.Insights = []string{}
	}
	if r.SuggestedReplies == nil {
		r.SuggestedReplies = []string{}
	}
	return json.Marshal(struct {
		resultJSON
		LatencyMS int64 `json:"latency_ms"`
	}{resultJSON(r), r.Latency.Milliseconds()})
}

// UnmarshalJSON reads what MarshalJSON writes, so a cached result round-trips.
func (r *Result) UnmarshalJSON(b []byte) error {
	var v struct {
		resultJSON
		LatencyMS int64 `json:"latency_ms"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = Result(v.resultJSON)
	r.Latency = time.Duration(v.LatencyMS) * time.Millisecond
	return nil
}

// Tokens is the prompt plus response token count, what a Budget is charged.
func (r Result) Tokens() int { return r.PromptTokens + r.ResponseTokens }
