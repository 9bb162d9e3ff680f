// Package delivertest holds fakes shared by the delivery tests: an in-memory ledger,
// a fake clock and generated opportunities. Nothing here talks to a network.
package delivertest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"nexus/pipeline/deliver"
	"nexus/scraper"
)

// Ledger is an in-memory implementation of the sheets.Ledger mapping, the part the
// store provides in production. Fail, when set, makes MarkAppended fail, to simulate
// a crash between the append and the record.
type Ledger struct {
	mu   sync.Mutex
	keys map[string]bool
	Fail error
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger { return &Ledger{keys: map[string]bool{}} }

// Appended reports whether key was marked.
func (l *Ledger) Appended(_ context.Context, key string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.keys[key], nil
}

// MarkAppended records key, unless Fail is set.
func (l *Ledger) MarkAppended(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.Fail != nil {
		return l.Fail
	}
	l.keys[key] = true
	return nil
}

// Len is the number of marked keys.
func (l *Ledger) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// Clock is a fake clock: Now returns a time that only Sleep and Advance move, so
// rate-limit waits are measured without waiting.
type Clock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the fake time forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Sleep records d and advances the clock by it, returning at once unless ctx is done.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	return nil
}

// Slept returns every duration passed to Sleep, in order.
func (c *Clock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// Opportunities returns n distinct opportunities of one campaign, with relevance
// spread over 50–99 so sorting is visible, and texts that carry Slack and
// spreadsheet metacharacters so escaping is exercised.
func Opportunities(campaign string, n int) []deliver.Opportunity {
	base := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	out := make([]deliver.Opportunity, n)
	for i := range n {
		root := scraper.Tweet{
			ID:             fmt.Sprintf("19000000000000%05d", i),
			Username:       "founder",
			DisplayName:    "A Founder",
			Text:           fmt.Sprintf("Which tool do you use for social listening? <asking> #%d & more", i),
			CreatedAt:      base.Add(time.Duration(i) * time.Minute),
			LikeCount:      int64(10 + i),
			ReplyCount:     int64(i % 7),
			RetweetCount:   int64(i % 3),
			ConversationID: fmt.Sprintf("19000000000000%05d", i),
		}
		hit := root
		hit.ID = fmt.Sprintf("19100000000000%05d", i)
		hit.Username = fmt.Sprintf("user%d", i)
		hit.DisplayName = fmt.Sprintf("User %d", i)
		hit.Text = fmt.Sprintf("=HYPERLINK(\"http://evil\") we need monitoring for X, any ideas? %d", i)
		hit.InReplyToID = &root.ID
		out[i] = deliver.Opportunity{
			ID:               fmt.Sprintf("opp-%04d", i),
			CampaignID:       1,
			Campaign:         campaign,
			ConversationID:   root.ConversationID,
			Root:             root,
			Hit:              hit,
			Relevance:        50 + (i*37)%50,
			Sentiment:        []string{"positive", "neutral", "negative"}[i%3],
			Intent:           "looking_for_tool",
			Reason:           "Asks for a listening tool; we offer one.",
			Insights:         []string{"mentions budget", "compares tools"},
			SuggestedReplies: []string{"We built Nexus for exactly this — happy to show you.", "@" + hit.Username + " try a self-hosted option: " + strings.Repeat("x", 10)},
			Provider:         "heuristic",
			CreatedAt:        base.Add(time.Duration(i) * time.Minute),
		}
	}
	return out
}

// Outage is a delivery target that is down: until a time of the test's clock (which
// may be a fake one) it refuses every request with one status. The zero Outage is
// none. The fakes that hold one call it under their own lock.
type Outage struct {
	now    func() time.Time
	until  time.Time
	status int
	failed int
}

// Set starts an outage answering status (503 when 0) until now reaches until.
func (o *Outage) Set(now func() time.Time, until time.Time, status int) {
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	*o = Outage{now: now, until: until, status: status}
}

// Refuse reports whether a request arriving now is refused, and with which status;
// it counts the refusals.
func (o *Outage) Refuse() (int, bool) {
	if o.now == nil || !o.now().Before(o.until) {
		return 0, false
	}
	o.failed++
	return o.status, true
}

// Failed counts the requests refused.
func (o *Outage) Failed() int { return o.failed }
