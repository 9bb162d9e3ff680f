package store

import "time"

// Campaign is what a team listens for on X. The JSON names are the API contract of
// DESIGN.md.
type Campaign struct {
	ID              int64     `json:"id"`
	OrgID           int64     `json:"-"`
	Name            string    `json:"name"`
	Keywords        []string  `json:"keywords"`
	Match           string    `json:"match"` // any | all
	Phrases         []string  `json:"phrases"`
	Hashtags        []string  `json:"hashtags"`
	Mentions        []string  `json:"mentions"`
	FromUsers       []string  `json:"from_users"`
	ExcludeWords    []string  `json:"exclude_words"`
	ExcludeUsers    []string  `json:"exclude_users"`
	Lang            string    `json:"lang"`
	MinLikes        int       `json:"min_likes"`
	MinRetweets     int       `json:"min_retweets"`
	MinReplies      int       `json:"min_replies"`
	IncludeReplies  bool      `json:"include_replies"`
	IncludeRetweets bool      `json:"include_retweets"`
	LookbackHours   int       `json:"lookback_hours"`
	AdvancedQuery   string    `json:"advanced_query"`
	Context         string    `json:"context"`
	Threshold       int       `json:"threshold"`
	Schedule        string    `json:"schedule"`
	Routes          []Route   `json:"routes"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// Route sends a campaign's opportunities to one integration, one by one (instant) or
// gathered (digest).
type Route struct {
	Integration string `json:"integration"` // slack | sheets | webhook
	Mode        string `json:"mode"`        // instant | digest
}
