package slack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"nexus/pipeline/deliver"
)

// Config selects one of Slack's two ways in: an incoming webhook URL, or a bot token
// and a channel (ID or name) for chat.postMessage.
type Config struct {
	WebhookURL string
	BotToken   string
	Channel    string
	// DigestMax caps a digest at its most relevant opportunities; 0 sends them all.
	DigestMax int
	// APIURL replaces Slack's Web API base URL; tests point it at a fake.
	APIURL string
	// Now and Sleep are the clock of the per-channel pacing; nil: the real one. Tests
	// that run on a fake clock pass theirs.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

var _ deliver.Sender = (*Client)(nil)

// perChannel is Slack's documented pace for posting to one channel.
const perChannel = time.Second

// metadataEvent is the Slack message metadata type that carries our idempotency key.
const metadataEvent = "nexus_delivery"

// Client posts to one Slack destination. It is safe for concurrent use; keep one per
// configured integration so its per-channel pacing spans all deliveries.
type Client struct {
	cfg Config
	hc  *http.Client
	api *slack.Client // bot mode only

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	mu   sync.Mutex
	next map[string]time.Time // channel → earliest time of its next message
	done map[string]int       // idempotency key → digest parts already posted
}

// New returns a client for cfg. With a nil hc it dials through
// deliver.SafeTransport, so a pasted webhook URL cannot reach private addresses.
func New(cfg Config, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second, Transport: deliver.SafeTransport(false)}
	}
	c := &Client{
		cfg:   cfg,
		hc:    hc,
		now:   time.Now,
		sleep: sleepCtx,
		next:  map[string]time.Time{},
		done:  map[string]int{},
	}
	if cfg.Now != nil {
		c.now = cfg.Now
	}
	if cfg.Sleep != nil {
		c.sleep = cfg.Sleep
	}
	if cfg.WebhookURL == "" {
		opts := []slack.Option{slack.OptionHTTPClient(hc)}
		if cfg.APIURL != "" {
			opts = append(opts, slack.OptionAPIURL(strings.TrimSuffix(cfg.APIURL, "/")+"/"))
		}
		c.api = slack.New(cfg.BotToken, opts...)
	}
	return c
}

// Send posts m: one message per opportunity, or the pages of a digest, paced to one
// message per second per channel. A failure part-way through a digest is remembered
// under m.IdempotencyKey, so the retry starts at the first page not yet posted.
func (c *Client) Send(ctx context.Context, m deliver.Message) error {
	if err := c.check(); err != nil {
		return deliver.Permanent(fmt.Errorf("slack: %w", err))
	}
	msgs := build(m, c.cfg.DigestMax)
	key := m.IdempotencyKey
	start := c.resume(key)
	for i := start; i < len(msgs); i++ {
		if err := c.wait(ctx, c.channelKey()); err != nil {
			return fmt.Errorf("slack: wait for channel slot: %w", err)
		}
		if err := c.post(ctx, msgs[i], key, i, len(msgs)); err != nil {
			c.progress(key, i)
			return err
		}
	}
	c.progress(key, -1)
	return nil
}

func (c *Client) check() error {
	if c.cfg.WebhookURL != "" {
		// Scheme and host only; the transport decides about addresses at dial time.
		return deliver.CheckTarget(c.cfg.WebhookURL, true)
	}
	if c.cfg.BotToken == "" || c.cfg.Channel == "" {
		return errors.New("config: set webhook_url, or bot_token and channel")
	}
	return nil
}

func (c *Client) channelKey() string {
	if c.cfg.WebhookURL != "" {
		return c.cfg.WebhookURL
	}
	return c.cfg.Channel
}

func (c *Client) post(ctx context.Context, p payload, key string, part, parts int) error {
	if c.cfg.WebhookURL != "" {
		blocks := slack.Blocks{BlockSet: p.blocks}
		err := slack.PostWebhookCustomHTTPContext(ctx, c.cfg.WebhookURL, c.hc, &slack.WebhookMessage{Text: p.text, Blocks: &blocks})
		if err != nil {
			return c.classify("post webhook", err)
		}
		return nil
	}
	opts := []slack.MsgOption{
		slack.MsgOptionText(p.text, false),
		slack.MsgOptionBlocks(p.blocks...),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	}
	if key != "" {
		opts = append(opts, slack.MsgOptionMetadata(slack.SlackMetadata{
			EventType:    metadataEvent,
			EventPayload: map[string]any{"idempotency_key": key, "part": part + 1, "parts": parts},
		}))
	}
	if _, _, err := c.api.PostMessageContext(ctx, c.cfg.Channel, opts...); err != nil {
		return c.classify("post message", err)
	}
	return nil
}

// permanentCodes are Web API errors that no retry can fix.
var permanentCodes = map[string]bool{
	"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true,
	"token_expired": true, "no_permission": true, "missing_scope": true, "not_allowed_token_type": true,
	"channel_not_found": true, "not_in_channel": true, "is_archived": true, "restricted_action": true,
	"msg_too_long": true, "no_text": true, "invalid_blocks": true, "invalid_blocks_format": true,
	"invalid_arguments": true, "invalid_metadata_format": true, "invalid_metadata_schema": true,
	"metadata_too_large": true, "team_access_not_granted": true, "ekm_access_denied": true,
	"access_denied": true, "org_login_required": true, "two_factor_setup_required": true,
}

// retryCodes are Web API errors that may pass.
var retryCodes = map[string]bool{
	"ratelimited": true, "internal_error": true, "fatal_error": true,
	"service_unavailable": true, "request_timeout": true,
}

// classify maps a slack-go error to the deliver error classes. A rate limit also
// pushes back this client's own pacing for the channel, so concurrent sends wait too.
func (c *Client) classify(op string, err error) error {
	wrapped := fmt.Errorf("slack: %s: %w", op, err)
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		c.mu.Lock()
		if at := c.now().Add(rl.RetryAfter); at.After(c.next[c.channelKey()]) {
			c.next[c.channelKey()] = at
		}
		c.mu.Unlock()
		return deliver.Retry(rl.RetryAfter, wrapped)
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return deliver.ClassifyStatus(sc.Code, nil, c.now(), wrapped)
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch {
		case permanentCodes[se.Err]:
			return deliver.Permanent(wrapped)
		case retryCodes[se.Err]:
			return deliver.Retry(0, wrapped)
		}
		return wrapped
	}
	if errors.Is(err, deliver.ErrForbiddenTarget) {
		return deliver.Permanent(wrapped)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return deliver.Retry(0, wrapped)
	}
	return wrapped
}

// wait blocks until key may receive its next message. Slots are reserved under the
// lock, so concurrent senders to one channel queue one second apart.
func (c *Client) wait(ctx context.Context, key string) error {
	c.mu.Lock()
	now := c.now()
	at := c.next[key]
	if at.Before(now) {
		at = now
	}
	c.next[key] = at.Add(perChannel)
	c.mu.Unlock()
	if d := at.Sub(now); d > 0 {
		return c.sleep(ctx, d)
	}
	return nil
}

// maxRemembered bounds the in-process record of half-sent digests.
const maxRemembered = 1024

// resume returns the first part of key's message not yet posted.
func (c *Client) resume(key string) int {
	if key == "" {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done[key]
}

// progress records that parts before part were posted; part < 0 forgets key.
func (c *Client) progress(key string, part int) {
	if key == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if part <= 0 {
		delete(c.done, key)
		return
	}
	if len(c.done) >= maxRemembered {
		clear(c.done)
	}
	c.done[key] = part
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
