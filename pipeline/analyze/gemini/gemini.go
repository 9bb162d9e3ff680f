// Package gemini analyses conversations with Google's Gemini API through
// google.golang.org/genai, asking for JSON that matches a response schema.
package gemini

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"google.golang.org/genai"

	"nexus/pipeline/analyze"
)

// Defaults for a Config that leaves them out.
const (
	DefaultModel       = "gemini-2.5-flash"
	DefaultTemperature = 0.2
)

// Config is what the client needs; app builds it from the llm.* settings.
type Config struct {
	APIKey       string
	Model        string   // default DefaultModel
	BaseURL      string   // default the SDK's (https://generativelanguage.googleapis.com/)
	Temperature  *float64 // default DefaultTemperature
	ThreadTokens int      // thread budget of a prompt; default analyze.DefaultThreadTokens
	Retry        analyze.Retry
}

// Client analyses conversations with one Gemini model. It is safe for concurrent use.
type Client struct {
	genai        *genai.Client
	model        string
	temperature  float32
	threadTokens int
	retry        analyze.Retry
	key          string // only to keep it out of error messages
}

// New returns a client for the Gemini API. It needs an API key and always uses the
// Gemini API backend with that key, so the SDK never looks for Google Cloud credentials
// in the environment. hc may be nil; its transport is wrapped to read Retry-After, which
// the SDK's errors do not carry.
func New(cfg Config, hc *http.Client) (*Client, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("gemini: an API key is required")
	}
	c := &Client{
		model:        cfg.Model,
		temperature:  DefaultTemperature,
		threadTokens: cfg.ThreadTokens,
		retry:        cfg.Retry,
		key:          cfg.APIKey,
	}
	if c.model == "" {
		c.model = DefaultModel
	}
	if cfg.Temperature != nil {
		c.temperature = float32(*cfg.Temperature)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Minute}
	}
	tapped := *hc
	tapped.Transport = tapTransport{base: hc.Transport}
	gc, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		APIKey:      cfg.APIKey,
		Backend:     genai.BackendGeminiAPI,
		HTTPClient:  &tapped,
		HTTPOptions: genai.HTTPOptions{BaseURL: cfg.BaseURL},
	})
	if err != nil {
		// The SDK's configuration errors print the whole config, key included.
		return nil, fmt.Errorf("gemini: new client: %s", analyze.Redact(err.Error(), cfg.APIKey))
	}
	c.genai = gc
	return c, nil
}

// Model is the model the client asks, as CacheKey wants it.
func (c *Client) Model() string { return c.model }

// Analyze judges one conversation for a campaign. An answer that stays unusable after
// one repair is a *analyze.FailedAnalysis (wrapped); a 429 or 5xx that outlasts the
// retries is a *analyze.TransientError (wrapped).
func (c *Client) Analyze(ctx context.Context, camp analyze.Campaign, conv analyze.Conversation) (analyze.Result, error) {
	req := analyze.NewRequest(camp, conv, c.threadTokens)
	r, err := analyze.Ask(ctx, c.complete, c.retry, req)
	if err != nil {
		var fa *analyze.FailedAnalysis
		if errors.As(err, &fa) {
			fa.Provider, fa.Model = "gemini", c.model
		}
		return analyze.Result{}, analyze.Scrub(fmt.Errorf("gemini: analyze conversation %s: %w", conv.ID, err), c.key)
	}
	r.Provider, r.Model = "gemini", c.model
	return r, nil
}

// complete is one generateContent call.
func (c *Client) complete(ctx context.Context, req analyze.Request) (analyze.Reply, error) {
	contents := make([]*genai.Content, 0, len(req.Turns))
	for _, t := range req.Turns {
		role := genai.Role(genai.RoleUser)
		if t.Role == analyze.RoleModel {
			role = genai.RoleModel
		}
		contents = append(contents, genai.NewContentFromText(t.Text, role))
	}
	cfg := &genai.GenerateContentConfig{
		SystemInstruction: genai.NewContentFromText(req.System, genai.RoleUser),
		Temperature:       genai.Ptr(c.temperature),
		CandidateCount:    1,
		ResponseMIMEType:  "application/json",
		ResponseSchema:    responseSchema(),
	}
	tp := &tap{}
	resp, err := c.genai.Models.GenerateContent(context.WithValue(ctx, tapKey{}, tp), c.model, contents, cfg)
	if err != nil {
		return analyze.Reply{}, c.classify(err, tp.retryAfter())
	}
	var rep analyze.Reply
	if u := resp.UsageMetadata; u != nil {
		rep.PromptTokens = int(u.PromptTokenCount)
		// Thinking tokens are billed as output but not counted in candidatesTokenCount.
		rep.ResponseTokens = int(u.CandidatesTokenCount + u.ThoughtsTokenCount)
	}
	if pf := resp.PromptFeedback; pf != nil && pf.BlockReason != "" {
		return rep, &analyze.FailedAnalysis{Err: fmt.Errorf("prompt blocked: %s", pf.BlockReason)}
	}
	rep.Text = resp.Text()
	return rep, nil
}

// classify turns the SDK's error into ours: a *TransientError for 408, 429 and 5xx, with
// the delay the server asked for (Retry-After, else RetryInfo), and a plain error with the
// API's status and message otherwise. The API's own error is not wrapped: its message is
// the server's, and only our text is known to be free of the key.
func (c *Client) classify(err error, after time.Duration) error {
	var ae genai.APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("generate content: %w", err)
	}
	msg := fmt.Errorf("generate content: %d %s: %s", ae.Code, ae.Status, analyze.Redact(ae.Message, c.key))
	if !analyze.TransientStatus(ae.Code) {
		return msg
	}
	if after <= 0 {
		after = retryInfoDelay(ae.Details)
	}
	return &analyze.TransientError{Status: ae.Code, After: after, Err: msg}
}

// retryInfoDelay reads google.rpc.RetryInfo's retryDelay ("37s") from an error's details,
// where the Gemini API says when a quota frees up.
func retryInfoDelay(details []map[string]any) time.Duration {
	for _, d := range details {
		if t, _ := d["@type"].(string); !strings.HasSuffix(t, "google.rpc.RetryInfo") {
			continue
		}
		if s, ok := d["retryDelay"].(string); ok {
			if v, err := time.ParseDuration(s); err == nil && v > 0 {
				return v
			}
		}
	}
	return 0
}

// The SDK returns no response headers with its errors, so the transport records a
// Retry-After into a tap that complete puts in the request's context.
type tapKey struct{}

type tap struct {
	mu    sync.Mutex
	after time.Duration
}

func (t *tap) retryAfter() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.after
}

type tapTransport struct{ base http.RoundTripper }

func (t tapTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err == nil && resp.StatusCode >= 400 {
		if tp, ok := req.Context().Value(tapKey{}).(*tap); ok {
			tp.mu.Lock()
			tp.after = analyze.RetryAfter(resp.Header, time.Now())
			tp.mu.Unlock()
		}
	}
	return resp, err
}

// responseSchema is the answer's schema in Gemini's dialect (an OpenAPI 3.0 subset), the
// same as analyze.JSONSchema.
func responseSchema() *genai.Schema {
	str := &genai.Schema{Type: genai.TypeString}
	return &genai.Schema{
		Type: genai.TypeObject,
		Properties: map[string]*genai.Schema{
			"relevance":          {Type: genai.TypeInteger, Minimum: genai.Ptr(0.0), Maximum: genai.Ptr(100.0)},
			"sentiment":          {Type: genai.TypeString, Format: "enum", Enum: []string{analyze.Positive, analyze.Neutral, analyze.Negative}},
			"intent":             {Type: genai.TypeString, Description: "short snake_case label"},
			"insights":           {Type: genai.TypeArray, Items: str, MaxItems: genai.Ptr[int64](analyze.MaxInsights)},
			"opportunity":        {Type: genai.TypeBoolean},
			"opportunity_reason": str,
			"suggested_replies":  {Type: genai.TypeArray, Items: str, MaxItems: genai.Ptr[int64](3)},
		},
		Required:         order,
		PropertyOrdering: order,
	}
}

var order = []string{
	"relevance", "sentiment", "intent", "insights", "opportunity", "opportunity_reason", "suggested_replies",
}
