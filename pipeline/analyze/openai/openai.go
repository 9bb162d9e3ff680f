// Package openai analyses conversations with any server that speaks OpenAI's chat
// completions API: OpenAI itself, or a model the team runs on its own machine with
// Ollama, llama.cpp's server or vLLM.
//
// It is written on net/http rather than an SDK: it needs one endpoint, must degrade
// across servers that each support a different part of response_format (json_schema,
// json_object, neither), and must read the non-OpenAI error bodies those servers send;
// retries are analyze.Retry's, so an SDK's own retry loop would have to be turned off.
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"nexus/pipeline/analyze"
)

// Defaults for a Config that leaves them out.
const (
	DefaultBaseURL     = "https://api.openai.com/v1"
	DefaultTemperature = 0.2
)

// Config is what the client needs; app builds it from the llm.* settings.
type Config struct {
	BaseURL      string   // up to and including /v1, e.g. http://127.0.0.1:11434/v1 for Ollama
	APIKey       string   // optional: local servers need none
	Model        string   // required: each server names its models its own way
	Temperature  *float64 // default DefaultTemperature
	ThreadTokens int      // thread budget of a prompt; default analyze.DefaultThreadTokens
	Retry        analyze.Retry
}

// Response formats, from the best a server may support to none; a Client moves down
// when a server refuses one, and stays there.
const (
	formatJSONSchema int32 = iota
	formatJSONObject
	formatText
)

// Client analyses conversations with one model of an OpenAI-compatible server. It is
// safe for concurrent use.
type Client struct {
	hc           *http.Client
	endpoint     string
	key          string
	model        string
	temperature  float64
	threadTokens int
	retry        analyze.Retry
	format       atomic.Int32
	noTemp       atomic.Bool // the server refused a temperature (OpenAI's reasoning models)
}

// New returns a client for the chat completions API at cfg.BaseURL. hc may be nil.
func New(cfg Config, hc *http.Client) (*Client, error) {
	if cfg.Model == "" {
		return nil, errors.New("openai: a model name is required")
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("openai: base URL %q is not an http(s) URL", analyze.Redact(base, cfg.APIKey))
	}
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Minute} // a local model on a CPU is slow
	}
	c := &Client{
		hc:           hc,
		endpoint:     strings.TrimRight(base, "/") + "/chat/completions",
		key:          cfg.APIKey,
		model:        cfg.Model,
		temperature:  DefaultTemperature,
		threadTokens: cfg.ThreadTokens,
		retry:        cfg.Retry,
	}
	if cfg.Temperature != nil {
		c.temperature = *cfg.Temperature
	}
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
			fa.Provider, fa.Model = "openai", c.model
		}
		return analyze.Result{}, analyze.Scrub(fmt.Errorf("openai: analyze conversation %s: %w", conv.ID, err), c.key)
	}
	r.Provider, r.Model = "openai", c.model
	return r, nil
}

// complete is one chat completion. A refused response format is retried at once with
// the next one down, and a refused temperature without one; neither is an attempt of
// the retry policy, and the client remembers both.
func (c *Client) complete(ctx context.Context, req analyze.Request) (analyze.Reply, error) {
	msgs := make([]message, 0, len(req.Turns)+1)
	msgs = append(msgs, message{Role: "system", Content: req.System})
	for _, t := range req.Turns {
		role := "user"
		if t.Role == analyze.RoleModel {
			role = "assistant"
		}
		msgs = append(msgs, message{Role: role, Content: t.Text})
	}
	for {
		format := c.format.Load()
		body := chatRequest{Model: c.model, Messages: msgs, ResponseFormat: responseFormat(format)}
		if !c.noTemp.Load() {
			body.Temperature = &c.temperature
		}
		rep, err := c.post(ctx, body)
		var rf *refused
		switch {
		case errors.As(err, &rf) && rf.temperature && body.Temperature != nil:
			c.noTemp.Store(true)
			continue
		case errors.As(err, &rf) && !rf.temperature && format < formatText:
			c.format.CompareAndSwap(format, format+1)
			continue
		}
		return rep, err
	}
}

func (c *Client) post(ctx context.Context, body chatRequest) (analyze.Reply, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return analyze.Reply{}, fmt.Errorf("encode request: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(payload))
	if err != nil {
		return analyze.Reply{}, fmt.Errorf("new request: %s", analyze.Redact(err.Error(), c.key))
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", "nexus")
	if c.key != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.hc.Do(hreq)
	if err != nil {
		return analyze.Reply{}, fmt.Errorf("post chat completion: %w", analyze.Scrub(err, c.key))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return analyze.Reply{}, &analyze.TransientError{Status: resp.StatusCode, Err: fmt.Errorf("read chat completion: %w", err)}
	}
	if resp.StatusCode != http.StatusOK {
		msg := analyze.Redact(errorMessage(raw), c.key)
		err := fmt.Errorf("chat completion: %d %s: %s", resp.StatusCode, http.StatusText(resp.StatusCode), msg)
		badRequest := resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnprocessableEntity
		switch {
		case badRequest && body.Temperature != nil && strings.Contains(strings.ToLower(msg), "temperature"):
			return analyze.Reply{}, &refused{err: err, temperature: true}
		case badRequest && body.ResponseFormat != nil && mentionsFormat.MatchString(msg):
			return analyze.Reply{}, &refused{err: err}
		case analyze.TransientStatus(resp.StatusCode):
			return analyze.Reply{}, &analyze.TransientError{Status: resp.StatusCode, After: analyze.RetryAfter(resp.Header, time.Now()), Err: err}
		}
		return analyze.Reply{}, err
	}
	var cr chatResponse
	if err := json.Unmarshal(raw, &cr); err != nil {
		return analyze.Reply{}, fmt.Errorf("decode chat completion: %w", err)
	}
	rep := analyze.Reply{PromptTokens: cr.Usage.PromptTokens, ResponseTokens: cr.Usage.CompletionTokens}
	if len(cr.Choices) == 0 {
		return rep, &analyze.FailedAnalysis{Err: errors.New("chat completion has no choices")}
	}
	m := cr.Choices[0].Message
	if m.Refusal != nil && *m.Refusal != "" {
		return rep, &analyze.FailedAnalysis{Raw: *m.Refusal, Err: errors.New("the model refused")}
	}
	if m.Content != nil {
		rep.Text = stripThinking(*m.Content)
	}
	return rep, nil
}

func responseFormat(format int32) map[string]any {
	switch format {
	case formatJSONSchema:
		return map[string]any{"type": "json_schema", "json_schema": map[string]any{
			"name": analyze.SchemaName, "schema": analyze.JSONSchema(), "strict": true,
		}}
	case formatJSONObject:
		return map[string]any{"type": "json_object"}
	}
	return nil
}

// refused is a 400 about a parameter the server does not support: the response_format
// sent, or (temperature true) any temperature but its default.
type refused struct {
	err         error
	temperature bool
}

func (r *refused) Error() string { return r.err.Error() }
func (r *refused) Unwrap() error { return r.err }

var mentionsFormat = regexp.MustCompile(`(?i)response_?format|json[_ ]schema|json_object|response format|grammar`)

// errorMessage reads the message of an error body in the shapes the compatible servers
// use: OpenAI's and vLLM's {"error":{"message"}}, Ollama's {"error":"..."}, FastAPI's
// {"detail":...}, or plain text.
func errorMessage(raw []byte) string {
	var e struct {
		Error  json.RawMessage `json:"error"`
		Detail json.RawMessage `json:"detail"`
	}
	msg := strings.TrimSpace(string(raw))
	if json.Unmarshal(raw, &e) == nil {
		var obj struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(e.Error, &obj) == nil && obj.Message != "":
			msg = obj.Message
		case json.Unmarshal(e.Error, &s) == nil && s != "":
			msg = s
		case len(e.Detail) > 0:
			msg = string(e.Detail)
		}
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

// stripThinking drops the <think>…</think> block that reasoning models served by Ollama
// or llama.cpp put before their answer.
func stripThinking(s string) string {
	if i := strings.Index(s, "</think>"); i >= 0 && strings.Contains(s[:i], "<think>") {
		return s[i+len("</think>"):]
	}
	return s
}

type chatRequest struct {
	Model          string         `json:"model"`
	Messages       []message      `json:"messages"`
	Temperature    *float64       `json:"temperature,omitempty"`
	ResponseFormat map[string]any `json:"response_format,omitempty"`
	Stream         bool           `json:"stream"`
}

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatResponse struct {
	Choices []struct {
		Message struct {
			Content *string `json:"content"`
			Refusal *string `json:"refusal"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}
