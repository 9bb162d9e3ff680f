package scraper

import "time"

// Tweet is one post as Nexus stores and prints it. The JSON names are the contract of
// DESIGN.md: `nexus search --format jsonl` and the API both emit exactly these fields.
type Tweet struct {
	ID             string    `json:"id"`
	URL            string    `json:"url"`
	CreatedAt      time.Time `json:"created_at"`
	UserID         string    `json:"user_id"`
	Username       string    `json:"username"`
	DisplayName    string    `json:"display_name"`
	Text           string    `json:"text"`
	Lang           string    `json:"lang"`
	ReplyCount     int64     `json:"reply_count"`
	RetweetCount   int64     `json:"retweet_count"`
	LikeCount      int64     `json:"like_count"`
	QuoteCount     int64     `json:"quote_count"`
	BookmarkCount  int64     `json:"bookmark_count"`
	ViewCount      *int64    `json:"view_count"`
	ConversationID string    `json:"conversation_id"`
	InReplyToID    *string   `json:"in_reply_to_id"`
	QuotedID       *string   `json:"quoted_id"`
	RetweetedID    *string   `json:"retweeted_id"`
	Hashtags       []string  `json:"hashtags"`
	Mentions       []string  `json:"mentions"`
	Links          []string  `json:"links"`
	Media          []Media   `json:"media"`

	// Quoted and Retweeted nest the referenced post instead of returning it as a second
	// result; they are not part of the flat JSON contract.
	Quoted    *Tweet `json:"quoted,omitempty"`
	Retweeted *Tweet `json:"retweeted,omitempty"`

	// Author carries the user's public counters, which the analyzer weighs.
	Author User `json:"-"`
}

// Media is one attached photo, video or animated GIF.
type Media struct {
	Type string `json:"type"` // photo | video | animated_gif
	URL  string `json:"url"`
}

// User is the author of a tweet, read from either of X's two user schemas.
type User struct {
	ID             string    `json:"id"`
	Username       string    `json:"username"`
	DisplayName    string    `json:"display_name"`
	FollowersCount int64     `json:"followers_count"`
	FollowingCount int64     `json:"following_count"`
	Verified       bool      `json:"verified"`
	CreatedAt      time.Time `json:"created_at"`
}
