package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"nexus/pipeline/analyze"
	"nexus/pipeline/analyze/analyzetest"
	"nexus/pipeline/analyze/openai"
)

const key = "sk-test-secret-0123456789"

var campaign = analyze.Campaign{
	Name:    "nexus",
	Context: "We make Nexus, a self-hosted social listening tool for small teams.",
}

type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func setup(t *testing.T, apiKey string) (*analyzetest.OpenAI, *openai.Client, *sleeper) {
	t.Helper()
	fake := analyzetest.NewOpenAI(t, apiKey)
	s := &sleeper{}
	c, err := openai.New(openai.Config{
		BaseURL: fake.BaseURL, APIKey: apiKey, Model: "llama3.1:8b",
		Retry: analyze.Retry{Sleep: s.sleep, Jitter: func(d time.Duration) time.Duration { return d }},
	}, &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return fake, c, s
}

func conversation(t *testing.T) analyze.Conversation {
	t.Helper()
	conv, err := analyze.Build("100", analyzetest.Thread(3))
	if err != nil {
		t.Fatal(err)
	}
	return conv
}

func TestJSONSchemaSupported(t *testing.T) {
	fake, c, _ := setup(t, key)
	fake.Push(analyzetest.Reply{Text: analyzetest.Answer, PromptTokens: 700, ResponseTokens: 150})
	r, err := c.Analyze(context.Background(), campaign, conversation(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.Relevance != 86 || r.Provider != "openai" || r.Model != "llama3.1:8b" || r.PromptTokens != 700 || r.ResponseTokens != 150 {
		t.Errorf("result %+v", r)
	}
	req := fake.Requests()[0]
	if req.Temperature == nil || *req.Temperature != openai.DefaultTemperature {
		t.Errorf("temperature %v", req.Temperature)
	}
	if req.Header.Get("Authorization") != "Bearer "+key || req.Model != "llama3.1:8b" || req.Stream {
		t.Errorf("auth %q model %q stream %v", req.Header.Get("Authorization"), req.Model, req.Stream)
	}
	var rf struct {
		Type       string `json:"type"`
		JSONSchema struct {
			Name   string         `json:"name"`
			Strict bool           `json:"strict"`
			Schema map[string]any `json:"schema"`
		} `json:"json_schema"`
	}
	if err := json.Unmarshal(req.ResponseFormat, &rf); err != nil {
		t.Fatal(err)
	}
	if rf.Type != "json_schema" || !rf.JSONSchema.Strict || rf.JSONSchema.Name == "" || rf.JSONSchema.Schema["additionalProperties"] != false {
		t.Errorf("response_format %s", req.ResponseFormat)
	}
	if len(req.Messages) != 2 || req.Messages[0].Role != "system" || !strings.Contains(req.Messages[0].Content, "self-hosted") ||
		req.Messages[1].Role != "user" || !strings.Contains(req.Messages[1].Content, "[HIT]") {
		t.Errorf("messages %+v", req.Messages)
	}
}

func TestResponseFormatFallback(t *testing.T) {
	for _, tc := range []struct {
		name         string
		rejectObject bool
		want         string
		rejected     int
	}{
		{"json_schema refused, json_object used", false, "json_object", 1},
		{"both refused, plain text used", true, "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, c, s := setup(t, "")
			fake.RejectJSONSchema, fake.RejectJSONObject = true, tc.rejectObject
			fake.Push(analyzetest.Reply{Text: analyzetest.Answer}, analyzetest.Reply{Text: analyzetest.Answer})
			for range 2 { // the second call starts from the format that worked
				if _, err := c.Analyze(context.Background(), campaign, conversation(t)); err != nil {
					t.Fatal(err)
				}
			}
			if fake.Rejected() != tc.rejected || len(s.waits) != 0 {
				t.Errorf("rejected %d, want %d; waits %v", fake.Rejected(), tc.rejected, s.waits)
			}
			for _, req := range fake.Requests() {
				if req.FormatType() != tc.want {
					t.Errorf("format %q, want %q", req.FormatType(), tc.want)
				}
				if req.Header.Get("Authorization") != "" {
					t.Errorf("sent Authorization without a key")
				}
			}
		})
	}
}

func TestTemperatureRefused(t *testing.T) {
	fake, c, _ := setup(t, key)
	fake.RejectTemperature = true
	fake.Push(analyzetest.Reply{Text: analyzetest.Answer}, analyzetest.Reply{Text: analyzetest.Answer})
	for range 2 {
		if _, err := c.Analyze(context.Background(), campaign, conversation(t)); err != nil {
			t.Fatal(err)
		}
	}
	if fake.Rejected() != 1 {
		t.Errorf("rejected %d, want 1: the client should remember", fake.Rejected())
	}
	for _, req := range fake.Requests() {
		if req.Temperature != nil || req.FormatType() != "json_schema" {
			t.Errorf("temperature %v, format %q", req.Temperature, req.FormatType())
		}
	}
}

func TestFencedAndChattyOutput(t *testing.T) {
	fake, c, _ := setup(t, "")
	fake.Push(analyzetest.Reply{Text: "<think>The user wants {json}.</think>\nSure! Here it is:\n```json\n" + analyzetest.Answer + "\n```\nLet me know!"})
	r, err := c.Analyze(context.Background(), campaign, conversation(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.Relevance != 86 || len(fake.Requests()) != 1 {
		t.Errorf("relevance %d after %d requests", r.Relevance, len(fake.Requests()))
	}
}

func TestRateLimitWithRetryAfter(t *testing.T) {
	fake, c, s := setup(t, key)
	fake.Push(analyzetest.Reply{Status: 429, Message: "Rate limit reached for requests", RetryAfter: "2"},
		analyzetest.Reply{Status: 502, Message: "bad gateway"},
		analyzetest.Reply{Text: analyzetest.Answer})
	if _, err := c.Analyze(context.Background(), campaign, conversation(t)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.waits, []time.Duration{2 * time.Second, 2 * time.Second}) {
		t.Errorf("waits %v, want the server's 2s then backoff 2s", s.waits)
	}
}

func TestRepairThenFailedAnalysis(t *testing.T) {
	fake, c, _ := setup(t, "")
	fake.Push(analyzetest.Reply{Text: "I think it's relevant.", PromptTokens: 10, ResponseTokens: 5},
		analyzetest.Reply{Text: "Still no JSON, sorry.", PromptTokens: 20, ResponseTokens: 5})
	_, err := c.Analyze(context.Background(), campaign, conversation(t))
	var fa *analyze.FailedAnalysis
	if !errors.As(err, &fa) || fa.Raw != "Still no JSON, sorry." || fa.PromptTokens != 30 || fa.Provider != "openai" {
		t.Fatalf("err = %v (%+v)", err, fa)
	}
	msgs := fake.Requests()[1].Messages
	if len(msgs) != 4 || msgs[2].Role != "assistant" || msgs[2].Content != "I think it's relevant." || msgs[3].Role != "user" {
		t.Errorf("repair messages %+v", msgs)
	}
}

func TestErrorsHideTheKey(t *testing.T) {
	fake, c, _ := setup(t, key)
	fake.Push(analyzetest.Reply{Status: 401, Message: "Incorrect API key provided: " + key})
	_, err := c.Analyze(context.Background(), campaign, conversation(t))
	if err == nil || strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v", err)
	}
	if len(fake.Requests()) != 1 {
		t.Errorf("a 401 was retried: %d requests", len(fake.Requests()))
	}
}

func TestContextCancellation(t *testing.T) {
	fake, c, _ := setup(t, "")
	fake.Push(analyzetest.Reply{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Analyze(ctx, campaign, conversation(t))
	if !errors.Is(err, context.DeadlineExceeded) || len(fake.Requests()) != 1 {
		t.Fatalf("err = %v after %d requests", err, len(fake.Requests()))
	}
}

func TestNewNeedsAModelAndAnHTTPURL(t *testing.T) {
	if _, err := openai.New(openai.Config{}, nil); err == nil {
		t.Error("no model accepted")
	}
	if _, err := openai.New(openai.Config{Model: "m", BaseURL: "ftp://x"}, nil); err == nil {
		t.Error("ftp base URL accepted")
	}
}
