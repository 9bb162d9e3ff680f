package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"nexus/pipeline/analyze"
	"nexus/pipeline/deliver"
	"nexus/pipeline/deliver/sheets"
	"nexus/pipeline/deliver/slack"
	"nexus/pipeline/deliver/webhook"
	"nexus/scraper"
	"nexus/store"
)

// Integration settings as the API takes them and the store keeps them (sealed).
type (
	// SlackSettings: an incoming webhook, or a bot token and a channel.
	SlackSettings struct {
		WebhookURL string `json:"webhook_url,omitempty"`
		BotToken   string `json:"bot_token,omitempty"`
		Channel    string `json:"channel,omitempty"`
	}
	// SheetsSettings: a service account allowed to edit the spreadsheet.
	SheetsSettings struct {
		ServiceAccountJSON string `json:"service_account_json"`
		SpreadsheetID      string `json:"spreadsheet_id"`
	}
	// WebhookSettings: a URL, the HMAC secret, and the body format (json or discord).
	WebhookSettings struct {
		URL    string `json:"url"`
		Secret string `json:"secret,omitempty"`
		Format string `json:"format,omitempty"`
	}
)

// Senders builds and caches the delivery client of each (organization, integration):
// Slack's per-channel pacing and the Sheets token live in the client, so one is kept
// for as long as its settings do not change.
type Senders struct {
	st           *store.Store
	allowPrivate bool
	// SheetsEndpoint replaces Google's API base; tests only, never from a user.
	SheetsEndpoint string
	// Now and Sleep pace the Slack clients (a message a second per channel); nil: the
	// real clock. Tests that run on a fake clock set both.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	mu    sync.Mutex
	cache map[string]deliver.Sender
}

// NewSenders returns the registry; allowPrivate is delivery.allow_private_targets.
func NewSenders(st *store.Store, allowPrivate bool) *Senders {
	return &Senders{st: st, allowPrivate: allowPrivate, cache: map[string]deliver.Sender{}}
}

// Sender returns the client of an organization's integration.
func (s *Senders) Sender(ctx context.Context, orgID int64, kind string) (deliver.Sender, error) {
	in, err := s.st.Integration(ctx, orgID, kind)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%d/%s/%d", orgID, kind, in.UpdatedAt.UnixNano())
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.cache[key]; ok {
		return c, nil
	}
	c, err := newSender(kind, in.Config, s.allowPrivate, s.st.SheetLedger(orgID), s.SheetsEndpoint, s.Now, s.Sleep)
	if err != nil {
		return nil, err
	}
	s.cache[key] = c
	return c, nil
}

// NewSender builds one integration's client from its stored settings. The registry
// of kinds lives here, not in package deliver, which its children import.
func NewSender(kind string, config json.RawMessage, allowPrivate bool, ledger sheets.Ledger, sheetsEndpoint string) (deliver.Sender, error) {
	return newSender(kind, config, allowPrivate, ledger, sheetsEndpoint, nil, nil)
}

// newSender is NewSender with the clock of Slack's pacing (nil: the real one).
func newSender(kind string, config json.RawMessage, allowPrivate bool, ledger sheets.Ledger, sheetsEndpoint string,
	now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) (deliver.Sender, error) {
	hc := &http.Client{Transport: deliver.SafeTransport(allowPrivate), Timeout: 30 * time.Second}
	switch kind {
	case "slack":
		var c SlackSettings
		if err := json.Unmarshal(config, &c); err != nil {
			return nil, fmt.Errorf("slack settings: %w", err)
		}
		return slack.New(slack.Config{WebhookURL: c.WebhookURL, BotToken: c.BotToken, Channel: c.Channel, Now: now, Sleep: sleep}, hc), nil
	case "sheets":
		var c SheetsSettings
		if err := json.Unmarshal(config, &c); err != nil {
			return nil, fmt.Errorf("sheets settings: %w", err)
		}
		return sheets.New(sheets.Config{ServiceAccountJSON: []byte(c.ServiceAccountJSON), SpreadsheetID: c.SpreadsheetID,
			Endpoint: sheetsEndpoint, Ledger: ledger}, hc), nil
	case "webhook":
		var c WebhookSettings
		if err := json.Unmarshal(config, &c); err != nil {
			return nil, fmt.Errorf("webhook settings: %w", err)
		}
		return webhook.New(webhook.Config{URL: c.URL, Secret: c.Secret, Format: c.Format, AllowPrivate: allowPrivate}, nil), nil
	}
	return nil, fmt.Errorf("unknown integration %q", kind)
}

// DeliverOpportunity converts a stored opportunity into what integrations send.
func DeliverOpportunity(o store.Opportunity) (deliver.Opportunity, error) {
	var res analyze.Result
	if err := json.Unmarshal(o.Analysis, &res); err != nil {
		return deliver.Opportunity{}, fmt.Errorf("opportunity %d analysis: %w", o.ID, err)
	}
	var root, hit scraper.Tweet
	if err := json.Unmarshal(o.Root, &root); err != nil {
		return deliver.Opportunity{}, fmt.Errorf("opportunity %d root: %w", o.ID, err)
	}
	if err := json.Unmarshal(o.Hit, &hit); err != nil {
		return deliver.Opportunity{}, fmt.Errorf("opportunity %d hit: %w", o.ID, err)
	}
	return deliver.Opportunity{
		ID: strconv.FormatInt(o.ID, 10), CampaignID: o.CampaignID, Campaign: o.Campaign,
		ConversationID: root.ConversationID, Root: root, Hit: hit, Relevance: o.Relevance,
		Sentiment: res.Sentiment, Intent: res.Intent, Reason: res.OpportunityReason, Insights: res.Insights,
		SuggestedReplies: res.SuggestedReplies, Provider: res.Provider, CreatedAt: o.CreatedAt,
	}, nil
}

type deliverPayload struct {
	Delivery int64 `json:"delivery"`
}

// deliverOne sends one opportunity to one integration. A delivery row is pending
// until sent or failed; the idempotency key is the row's, so every retry of it carries
// the same key and a receiver that dedupes sees it once.
func (r *Runner) deliverOne(ctx context.Context, j store.Job) error {
	var p deliverPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return Permanent(fmt.Errorf("deliver job payload: %w", err))
	}
	st := r.o.Store
	d, err := st.Delivery(ctx, p.Delivery)
	if err != nil {
		return err
	}
	if d.State != "pending" {
		return nil
	}
	if r.o.Senders == nil {
		return errors.New("this process has no delivery clients")
	}
	fail := func(err error) error {
		if ferr := st.FinishDelivery(ctx, d.ID, false, err.Error()); ferr != nil {
			return ferr
		}
		return Permanent(err)
	}
	sender, err := r.o.Senders.Sender(ctx, d.OrgID, d.Integration)
	if errors.Is(err, store.ErrNotFound) {
		return fail(fmt.Errorf("integration %s is no longer configured", d.Integration))
	}
	if err != nil {
		return fail(err)
	}
	o, err := st.Opportunity(ctx, d.OrgID, d.OpportunityID)
	if err != nil {
		return err
	}
	if until, quiet, err := r.quietUntil(ctx, d.OrgID, o.CampaignID); err != nil {
		return err
	} else if quiet {
		return RetryAt(errors.New("quiet hours"), until)
	}
	opp, err := DeliverOpportunity(o)
	if err != nil {
		return fail(err)
	}
	err = sender.Send(ctx, deliver.Message{Opportunities: []deliver.Opportunity{opp}, Title: o.Campaign,
		IdempotencyKey: fmt.Sprintf("nexus-delivery-%d", d.ID)})
	switch {
	case err == nil:
		return st.FinishDelivery(ctx, d.ID, true, "")
	case deliver.IsPermanent(err):
		return fail(err)
	case j.Attempts >= j.MaxAttempts:
		return fail(fmt.Errorf("gave up after %d attempts: %w", j.Attempts, err))
	}
	// A retryable error without a Retry-After (a 5xx, a timeout) has After 0: it
	// takes the pool's backoff. Taken as "retry now", it spent the job's 12 attempts
	// within a second of a target going down.
	if after, ok := deliver.RetryAfter(err); ok && after > 0 {
		return RetryAt(err, r.o.Now().Add(after))
	}
	return err
}

type digestPayload struct {
	Run         int64  `json:"run"`
	Integration string `json:"integration"`
}

// deliverDigest sends a run's gathered opportunities to one integration as one
// digest (split by the integration where its limits require), most relevant first.
func (r *Runner) deliverDigest(ctx context.Context, j store.Job) error {
	var p digestPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return Permanent(fmt.Errorf("digest job payload: %w", err))
	}
	if r.o.Senders == nil {
		return errors.New("this process has no delivery clients")
	}
	st := r.o.Store
	ds, err := st.DigestDeliveries(ctx, p.Run, p.Integration)
	if err != nil || len(ds) == 0 {
		return err
	}
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	fail := func(err error) error {
		if ferr := st.FinishDeliveries(ctx, ids, false, err.Error()); ferr != nil {
			return ferr
		}
		return Permanent(err)
	}
	sender, err := r.o.Senders.Sender(ctx, ds[0].OrgID, p.Integration)
	if err != nil {
		return fail(err)
	}
	run, err := st.RunForJob(ctx, p.Run)
	if err != nil {
		return err
	}
	if until, quiet, err := r.quietUntil(ctx, run.OrgID, run.CampaignID); err != nil {
		return err
	} else if quiet {
		return RetryAt(errors.New("quiet hours"), until)
	}
	msg := deliver.Message{Digest: true, IdempotencyKey: fmt.Sprintf("nexus-digest-%d-%s", p.Run, p.Integration)}
	for _, d := range ds {
		o, err := st.Opportunity(ctx, d.OrgID, d.OpportunityID)
		if err != nil {
			return err
		}
		opp, err := DeliverOpportunity(o)
		if err != nil {
			return fail(err)
		}
		msg.Title = o.Campaign
		msg.Opportunities = append(msg.Opportunities, opp)
	}
	err = sender.Send(ctx, msg)
	switch {
	case err == nil:
		return st.FinishDeliveries(ctx, ids, true, "")
	case deliver.IsPermanent(err):
		return fail(err)
	case j.Attempts >= j.MaxAttempts:
		return fail(fmt.Errorf("gave up after %d attempts: %w", j.Attempts, err))
	}
	if after, ok := deliver.RetryAfter(err); ok && after > 0 { // else the pool's backoff, as in deliverOne
		return RetryAt(err, r.o.Now().Add(after))
	}
	return err
}

// quietUntil reports whether the campaign is in its quiet hours now, and until when.
// A delivery waits for the end of the window (RetryAt); it is not lost, and the run
// finishes only once it has gone out.
func (r *Runner) quietUntil(ctx context.Context, orgID, campaignID int64) (time.Time, bool, error) {
	c, err := r.o.Store.Campaign(ctx, orgID, campaignID)
	if err != nil {
		return time.Time{}, false, err
	}
	until, quiet := c.QuietHours.Until(r.o.Now())
	return until, quiet, nil
}
