package deliver

import (
	"context"
	"time"

	"nexus/scraper"
)

// Opportunity is one conversation worth answering, with everything a message about it
// shows. Its JSON names are what webhooks and JSONL exports emit.
type Opportunity struct {
	ID               string        `json:"id"`
	CampaignID       int64         `json:"campaign_id,omitempty"`
	Campaign         string        `json:"campaign"`
	ConversationID   string        `json:"conversation_id"`
	Root             scraper.Tweet `json:"root"`
	Hit              scraper.Tweet `json:"hit"`
	Relevance        int           `json:"relevance"`
	Sentiment        string        `json:"sentiment"`
	Intent           string        `json:"intent"`
	Reason           string        `json:"opportunity_reason"`
	Insights         []string      `json:"insights"`
	SuggestedReplies []string      `json:"suggested_replies"`
	Provider         string        `json:"provider"`
	CreatedAt        time.Time     `json:"created_at"`
}

// Message is one delivery: a single opportunity in instant mode, or several in a
// digest. IdempotencyKey is stable across retries of the same delivery (the delivery
// row's key); senders pass it on where the destination can dedupe on it.
type Message struct {
	Opportunities  []Opportunity
	Digest         bool
	Title          string
	IdempotencyKey string
	// Test marks the "send test message" of the integrations API; senders label it
	// and keep it out of the campaign's real output where they can.
	Test bool
}

// Sender delivers a message to one configured destination.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// TweetURL is the link to a tweet on X: its own URL when the scraper set one, else
// one built from the author and id.
func TweetURL(t scraper.Tweet) string {
	if t.URL != "" {
		return t.URL
	}
	if t.ID == "" {
		return ""
	}
	user := t.Username
	if user == "" {
		user = "i/web"
	}
	return "https://x.com/" + user + "/status/" + t.ID
}
