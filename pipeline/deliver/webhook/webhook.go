package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"nexus/pipeline/deliver"
)

// Header names and the User-Agent of every webhook request.
const (
	HeaderTimestamp = "X-Nexus-Timestamp"
	HeaderSignature = "X-Nexus-Signature"
	HeaderDelivery  = "X-Nexus-Delivery"
	UserAgent       = "Nexus-Webhook/1"
)

// Payload formats.
const (
	FormatJSON    = "json"
	FormatDiscord = "discord"
)

var _ deliver.Sender = (*Client)(nil)

// Config is one webhook destination.
type Config struct {
	URL    string
	Secret string
	// Format is "json" (the default) or "discord".
	Format string
	// AllowPrivate lets the URL point at loopback and private networks
	// (delivery.allow_private_targets); off, such targets are refused.
	AllowPrivate bool
}

// Client posts to one webhook URL. It is safe for concurrent use.
type Client struct {
	cfg Config
	hc  *http.Client
	now func() time.Time
}

// New returns a client for cfg. A nil hc, or one without a Transport, gets
// deliver.SafeTransport(cfg.AllowPrivate); a caller-supplied Transport is used as is.
// Redirects are never followed.
func New(cfg Config, hc *http.Client) *Client {
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		c.Timeout = 15 * time.Second
	}
	if c.Transport == nil {
		c.Transport = deliver.SafeTransport(cfg.AllowPrivate)
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{cfg: cfg, hc: &c, now: time.Now}
}

// Send posts m: one request per opportunity in instant mode, one for a digest (Discord:
// as many as its embed limits need). Each request has its own delivery id derived
// from m.IdempotencyKey, so a retry of the whole message lets receivers drop the
// requests they already took.
func (c *Client) Send(ctx context.Context, m deliver.Message) error {
	if err := deliver.CheckTarget(c.cfg.URL, c.cfg.AllowPrivate); err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	reqs, err := c.bodies(m)
	if err != nil {
		return deliver.Permanent(fmt.Errorf("webhook: %w", err))
	}
	for _, r := range reqs {
		if err := c.post(ctx, r.id, r.body); err != nil {
			return err
		}
	}
	return nil
}

// request is one body to post and its delivery id.
type request struct {
	id   string
	body []byte
}

func (c *Client) bodies(m deliver.Message) ([]request, error) {
	if len(m.Opportunities) == 0 && !m.Test {
		return nil, nil
	}
	switch c.cfg.Format {
	case "", FormatJSON:
		return jsonBodies(m)
	case FormatDiscord:
		return discordBodies(m)
	default:
		return nil, fmt.Errorf("config: unknown format %q", c.cfg.Format)
	}
}

// post sends one signed request and classifies the outcome.
func (c *Client) post(ctx context.Context, id string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return deliver.Permanent(fmt.Errorf("webhook: build request: %w", err))
	}
	ts := strconv.FormatInt(c.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderTimestamp, ts)
	if id != "" {
		req.Header.Set(HeaderDelivery, id)
	}
	if c.cfg.Secret != "" {
		req.Header.Set(HeaderSignature, Sign(c.cfg.Secret, ts, body))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return classifyTransport(err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16)) // let the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	cause := fmt.Errorf("webhook: post %s: status %d%s", id, resp.StatusCode, excerpt(snippet))
	return deliver.ClassifyStatus(resp.StatusCode, resp.Header, c.now(), cause)
}

func classifyTransport(err error) error {
	wrapped := fmt.Errorf("webhook: %w", redactURL(err))
	switch {
	case errors.Is(err, deliver.ErrForbiddenTarget):
		return deliver.Permanent(wrapped)
	case errors.Is(err, context.Canceled):
		return wrapped
	}
	// Timeouts, refused connections, resets: the receiver may be back soon.
	return deliver.Retry(0, wrapped)
}

// redactURL drops the URL from a *url.Error: its path or query may hold a token.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

func excerpt(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	return ": " + deliver.Truncate(strings.Join(strings.Fields(s), " "), 200)
}

// Sign returns the X-Nexus-Signature value for body signed at ts.
func Sign(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Errors returned by Verify.
var (
	ErrBadSignature = errors.New("webhook: signature mismatch")
	ErrStale        = errors.New("webhook: timestamp outside tolerance")
)

// Verify checks a received webhook: sig must be Sign(secret, ts, body), compared in
// constant time, and ts must be within tolerance of now in either direction, which
// bounds how long a captured request could be replayed. Receivers should also
// dedupe on X-Nexus-Delivery.
func Verify(secret, ts string, body []byte, sig string, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: unreadable timestamp", ErrStale)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: off by %s", ErrStale, d.Round(time.Second))
	}
	if !hmac.Equal([]byte(sig), []byte(Sign(secret, ts, body))) {
		return ErrBadSignature
	}
	return nil
}

// jsonBodies is the native format: one body per opportunity, or one for a digest.
func jsonBodies(m deliver.Message) ([]request, error) {
	event := "opportunity"
	switch {
	case m.Test:
		event = "test"
	case m.Digest:
		event = "digest"
	}
	if m.Digest || len(m.Opportunities) == 0 {
		b, err := json.Marshal(jsonPayload{Event: event, DeliveryID: m.IdempotencyKey, Test: m.Test,
			Title: m.Title, Opportunities: nonNil(m.Opportunities)})
		return []request{{id: m.IdempotencyKey, body: b}}, err
	}
	out := make([]request, 0, len(m.Opportunities))
	for _, o := range m.Opportunities {
		id := subID(m.IdempotencyKey, o.ID, len(m.Opportunities))
		b, err := json.Marshal(jsonPayload{Event: event, DeliveryID: id, Test: m.Test, Title: m.Title,
			Opportunities: []deliver.Opportunity{o}})
		if err != nil {
			return nil, err
		}
		out = append(out, request{id: id, body: b})
	}
	return out, nil
}

// subID names one request of a message: the key itself when the message is one
// request, else key/part so each part dedupes on its own.
func subID(key, part string, n int) string {
	if n == 1 || key == "" {
		return key
	}
	return key + "/" + part
}

func nonNil(o []deliver.Opportunity) []deliver.Opportunity {
	if o == nil {
		return []deliver.Opportunity{}
	}
	return o
}

// jsonPayload is the body of the native format.
type jsonPayload struct {
	Event         string                `json:"event"` // opportunity | digest | test
	DeliveryID    string                `json:"delivery_id"`
	Test          bool                  `json:"test"`
	Title         string                `json:"title,omitempty"`
	Opportunities []deliver.Opportunity `json:"opportunities"`
}
