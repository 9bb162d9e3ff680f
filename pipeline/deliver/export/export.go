package export

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"

	"nexus/pipeline/deliver"
	"nexus/scraper"
)

// flushEvery is how many rows pass between flushes to an http.Flusher.
const flushEvery = 500

// CSV writes a header and then rows, neutralising formula injection in every cell.
type CSV struct {
	w       io.Writer
	cw      *csv.Writer
	columns []string
	started bool
	rows    int
}

// NewCSV returns a CSV writer for columns. The header is written with the first row
// (or by Flush when there are none), so an export that fails before its first row
// has written nothing and can still answer with an error status.
func NewCSV(w io.Writer, columns []string) *CSV {
	return &CSV{w: w, cw: csv.NewWriter(w), columns: columns}
}

// Write writes one row; it must have one cell per column.
func (c *CSV) Write(row []string) error {
	if len(row) != len(c.columns) {
		return fmt.Errorf("export: csv row has %d cells, want %d", len(row), len(c.columns))
	}
	if err := c.header(); err != nil {
		return err
	}
	cells := make([]string, len(row))
	for i, v := range row {
		cells[i] = deliver.NeutralizeCell(v)
	}
	if err := c.cw.Write(cells); err != nil {
		return fmt.Errorf("export: write csv row: %w", err)
	}
	c.rows++
	if c.rows%flushEvery == 0 {
		if _, ok := c.w.(http.Flusher); ok {
			return c.Flush()
		}
	}
	return nil
}

// Flush writes any buffered data (and the header, if no row came) to the writer.
func (c *CSV) Flush() error {
	if err := c.header(); err != nil {
		return err
	}
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return fmt.Errorf("export: flush csv: %w", err)
	}
	if f, ok := c.w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

func (c *CSV) header() error {
	if c.started {
		return nil
	}
	c.started = true
	if err := c.cw.Write(c.columns); err != nil {
		return fmt.Errorf("export: write csv header: %w", err)
	}
	return nil
}

// JSONL writes one JSON object per line.
type JSONL struct {
	w    io.Writer
	bw   *bufio.Writer
	enc  *json.Encoder
	rows int
}

// NewJSONL returns a JSONL writer on w.
func NewJSONL(w io.Writer) *JSONL {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &JSONL{w: w, bw: bw, enc: enc}
}

// Write writes v as one line.
func (j *JSONL) Write(v any) error {
	if err := j.enc.Encode(v); err != nil {
		return fmt.Errorf("export: write jsonl: %w", err)
	}
	j.rows++
	if j.rows%flushEvery == 0 {
		if _, ok := j.w.(http.Flusher); ok {
			return j.Flush()
		}
	}
	return nil
}

// Flush writes buffered lines to the writer.
func (j *JSONL) Flush() error {
	if err := j.bw.Flush(); err != nil {
		return fmt.Errorf("export: flush jsonl: %w", err)
	}
	if f, ok := j.w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

// WriteOpportunitiesCSV streams opportunities as CSV with OpportunityColumns. The
// iterator reports its own errors (a store iterator keeps them for after the loop).
func WriteOpportunitiesCSV(w io.Writer, seq iter.Seq[deliver.Opportunity]) error {
	return writeCSV(w, OpportunityColumns(), seq, OpportunityRecord)
}

// WriteTweetsCSV streams tweets as CSV with TweetColumns.
func WriteTweetsCSV(w io.Writer, seq iter.Seq[scraper.Tweet]) error {
	return writeCSV(w, TweetColumns(), seq, TweetRecord)
}

// WriteOpportunitiesJSONL streams opportunities as JSONL, one deliver.Opportunity a line.
func WriteOpportunitiesJSONL(w io.Writer, seq iter.Seq[deliver.Opportunity]) error {
	return writeJSONL(w, seq)
}

// WriteTweetsJSONL streams tweets as JSONL in the DESIGN.md tweet shape.
func WriteTweetsJSONL(w io.Writer, seq iter.Seq[scraper.Tweet]) error {
	return writeJSONL(w, seq)
}

func writeCSV[T any](w io.Writer, columns []string, seq iter.Seq[T], record func(T) []string) error {
	c := NewCSV(w, columns)
	for v := range seq {
		if err := c.Write(record(v)); err != nil {
			return err
		}
	}
	return c.Flush()
}

func writeJSONL[T any](w io.Writer, seq iter.Seq[T]) error {
	j := NewJSONL(w)
	for v := range seq {
		if err := j.Write(v); err != nil {
			return err
		}
	}
	return j.Flush()
}

// OpportunityColumns are the CSV columns of an opportunity export.
func OpportunityColumns() []string {
	return []string{
		"id", "campaign", "created_at", "relevance", "sentiment", "intent", "opportunity_reason",
		"insights", "suggested_replies", "provider", "conversation_id",
		"hit_id", "hit_url", "hit_username", "hit_display_name", "hit_text", "hit_created_at",
		"hit_like_count", "hit_reply_count", "hit_retweet_count",
		"root_id", "root_url", "root_username", "root_text",
	}
}

// OpportunityRecord is o as a row of OpportunityColumns (not yet neutralised).
func OpportunityRecord(o deliver.Opportunity) []string {
	return []string{
		o.ID, o.Campaign, timeCell(o.CreatedAt), strconv.Itoa(o.Relevance), o.Sentiment, o.Intent, o.Reason,
		strings.Join(o.Insights, "\n"), strings.Join(o.SuggestedReplies, "\n\n"), o.Provider, o.ConversationID,
		o.Hit.ID, deliver.TweetURL(o.Hit), o.Hit.Username, o.Hit.DisplayName, o.Hit.Text, timeCell(o.Hit.CreatedAt),
		itoa(o.Hit.LikeCount), itoa(o.Hit.ReplyCount), itoa(o.Hit.RetweetCount),
		o.Root.ID, deliver.TweetURL(o.Root), o.Root.Username, o.Root.Text,
	}
}

// TweetColumns are the DESIGN.md tweet fields, in order.
func TweetColumns() []string {
	return []string{
		"id", "url", "created_at", "user_id", "username", "display_name", "text", "lang",
		"reply_count", "retweet_count", "like_count", "quote_count", "bookmark_count", "view_count",
		"conversation_id", "in_reply_to_id", "quoted_id", "retweeted_id",
		"hashtags", "mentions", "links", "media",
	}
}

// TweetRecord is t as a row of TweetColumns. Nulls are empty cells; lists are
// space-separated, media as type:url.
func TweetRecord(t scraper.Tweet) []string {
	media := make([]string, len(t.Media))
	for i, m := range t.Media {
		media[i] = m.Type + ":" + m.URL
	}
	view := ""
	if t.ViewCount != nil {
		view = itoa(*t.ViewCount)
	}
	return []string{
		t.ID, t.URL, timeCell(t.CreatedAt), t.UserID, t.Username, t.DisplayName, t.Text, t.Lang,
		itoa(t.ReplyCount), itoa(t.RetweetCount), itoa(t.LikeCount), itoa(t.QuoteCount), itoa(t.BookmarkCount), view,
		t.ConversationID, deref(t.InReplyToID), deref(t.QuotedID), deref(t.RetweetedID),
		strings.Join(t.Hashtags, " "), strings.Join(t.Mentions, " "), strings.Join(t.Links, " "), strings.Join(media, " "),
	}
}

func timeCell(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
