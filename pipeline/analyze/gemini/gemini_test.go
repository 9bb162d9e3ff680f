package gemini_test

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
	"nexus/pipeline/analyze/gemini"
)

const key = "AIzaTEST-secret-key-0123456789"

var campaign = analyze.Campaign{
	Name:     "nexus",
	Context:  "We make Nexus, a self-hosted social listening tool for small teams.",
	Keywords: []string{"social listening"},
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

func setup(t *testing.T) (*analyzetest.Gemini, *gemini.Client, *sleeper) {
	t.Helper()
	fake := analyzetest.NewGemini(t, key)
	s := &sleeper{}
	c, err := gemini.New(gemini.Config{
		APIKey: key, BaseURL: fake.URL, Model: "gemini-2.5-flash",
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

// noKey fails the test if err's message shows the API key.
func noKey(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), key) {
		t.Errorf("error shows the API key: %v", err)
	}
}

func TestAnalyzeThroughGenai(t *testing.T) {
	// The SDK must not pick the backend or the key from the environment.
	t.Setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
	t.Setenv("GOOGLE_API_KEY", "env-key-must-not-be-used")
	fake, c, _ := setup(t)
	fake.Push(analyzetest.Reply{Text: analyzetest.Answer, PromptTokens: 912, ResponseTokens: 143})

	r, err := c.Analyze(context.Background(), campaign, conversation(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.Relevance != 86 || r.Sentiment != "neutral" || r.Intent != "seeking_recommendation" || !r.Opportunity ||
		len(r.SuggestedReplies) != 2 || len(r.Insights) != 2 {
		t.Errorf("result %+v", r)
	}
	if r.Provider != "gemini" || r.Model != "gemini-2.5-flash" || r.PromptTokens != 912 || r.ResponseTokens != 143 || r.Latency <= 0 {
		t.Errorf("provider %q model %q tokens %d/%d latency %v", r.Provider, r.Model, r.PromptTokens, r.ResponseTokens, r.Latency)
	}

	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	req := reqs[0]
	if req.Model != "gemini-2.5-flash" || req.Header.Get("x-goog-api-key") != key {
		t.Errorf("model %q, key header %q", req.Model, req.Header.Get("x-goog-api-key"))
	}
	gc := req.Body.GenerationConfig
	if gc.ResponseMIMEType != "application/json" || gc.Temperature == nil || *gc.Temperature < 0.19 || *gc.Temperature > 0.21 {
		t.Errorf("generation config %+v", gc)
	}
	var schema struct {
		Type       string                     `json:"type"`
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
	}
	if err := json.Unmarshal(gc.ResponseSchema, &schema); err != nil {
		t.Fatalf("schema %s: %v", gc.ResponseSchema, err)
	}
	if schema.Type != "OBJECT" || len(schema.Properties) != 7 || !slices.Contains(schema.Required, "suggested_replies") {
		t.Errorf("schema %s", gc.ResponseSchema)
	}
	if !strings.Contains(string(schema.Properties["sentiment"]), `"negative"`) {
		t.Errorf("sentiment schema %s", schema.Properties["sentiment"])
	}
	if req.Body.SystemInstruction == nil || !strings.Contains(req.Body.SystemInstruction.Text(), "self-hosted social listening tool") {
		t.Errorf("system instruction lacks the campaign context: %+v", req.Body.SystemInstruction)
	}
	if len(req.Body.Contents) != 1 || req.Body.Contents[0].Role != "user" || !strings.Contains(req.Body.Contents[0].Text(), "[ROOT] [HIT] @founder") {
		t.Errorf("contents %+v", req.Body.Contents)
	}
}

func TestRateLimitHonoursRetryDelay(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply analyzetest.Reply
		want  time.Duration
	}{
		{"RetryInfo", analyzetest.Reply{Status: 429, Message: "Resource has been exhausted (e.g. check quota).", RetryDelay: "17s"}, 17 * time.Second},
		{"Retry-After", analyzetest.Reply{Status: 429, Message: "Resource has been exhausted", RetryAfter: "3"}, 3 * time.Second},
		{"both: the header wins", analyzetest.Reply{Status: 429, RetryAfter: "5", RetryDelay: "40s"}, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, c, s := setup(t)
			fake.Push(tc.reply, analyzetest.Reply{Text: analyzetest.Answer, PromptTokens: 10, ResponseTokens: 5})
			r, err := c.Analyze(context.Background(), campaign, conversation(t))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(s.waits, []time.Duration{tc.want}) || len(fake.Requests()) != 2 || r.PromptTokens != 10 {
				t.Errorf("waits %v, %d requests, %d tokens", s.waits, len(fake.Requests()), r.PromptTokens)
			}
		})
	}
}

func TestServerErrorsAreRetried(t *testing.T) {
	fake, c, s := setup(t)
	fake.Push(analyzetest.Reply{Status: 500, Message: "An internal error has occurred."},
		analyzetest.Reply{Status: 503, Message: "The model is overloaded."},
		analyzetest.Reply{Text: analyzetest.Answer})
	if _, err := c.Analyze(context.Background(), campaign, conversation(t)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.waits, []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("waits %v", s.waits)
	}
}

func TestRetriesRunOut(t *testing.T) {
	fake, c, _ := setup(t)
	for range 4 {
		fake.Push(analyzetest.Reply{Status: 503, Message: "overloaded"})
	}
	_, err := c.Analyze(context.Background(), campaign, conversation(t))
	var te *analyze.TransientError
	if !errors.As(err, &te) || te.Status != 503 || len(fake.Requests()) != 4 {
		t.Fatalf("err = %v after %d requests", err, len(fake.Requests()))
	}
	noKey(t, err)
}

func TestDailyQuotaIsNotWaitedFor(t *testing.T) {
	fake, c, s := setup(t)
	fake.Push(analyzetest.Reply{Status: 429, Message: "quota", RetryDelay: "3600s"})
	_, err := c.Analyze(context.Background(), campaign, conversation(t))
	var te *analyze.TransientError
	if !errors.As(err, &te) || te.After != time.Hour || len(s.waits) != 0 {
		t.Fatalf("err = %v, waits %v", err, s.waits)
	}
}

func TestInvalidJSONIsRepaired(t *testing.T) {
	fake, c, _ := setup(t)
	fake.Push(analyzetest.Reply{Text: `{"relevance": 86, "sentiment": "neutral", `, PromptTokens: 800, ResponseTokens: 12},
		analyzetest.Reply{Text: analyzetest.Answer, PromptTokens: 830, ResponseTokens: 140})
	r, err := c.Analyze(context.Background(), campaign, conversation(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.PromptTokens != 1630 || r.ResponseTokens != 152 {
		t.Errorf("tokens %d/%d, want both exchanges counted", r.PromptTokens, r.ResponseTokens)
	}
	reqs := fake.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	turns := reqs[1].Body.Contents
	if len(turns) != 3 || turns[1].Role != "model" || turns[2].Role != "user" ||
		!strings.Contains(turns[2].Text(), "no complete JSON object") {
		t.Errorf("repair request %+v", turns)
	}
}

func TestSchemaViolationTwiceIsAFailedAnalysis(t *testing.T) {
	fake, c, _ := setup(t)
	bad := strings.Replace(analyzetest.Answer, `"relevance": 86`, `"relevance": 186`, 1)
	fake.Push(analyzetest.Reply{Text: bad, PromptTokens: 800, ResponseTokens: 100},
		analyzetest.Reply{Text: bad, PromptTokens: 1000, ResponseTokens: 100})
	_, err := c.Analyze(context.Background(), campaign, conversation(t))
	var fa *analyze.FailedAnalysis
	if !errors.As(err, &fa) {
		t.Fatalf("err = %v, want FailedAnalysis", err)
	}
	if fa.Raw != bad || fa.Provider != "gemini" || fa.PromptTokens != 1800 || fa.ResponseTokens != 200 ||
		!strings.Contains(fa.Err.Error(), "relevance 186") {
		t.Errorf("failed analysis %+v", fa)
	}
	if len(fake.Requests()) != 2 {
		t.Errorf("%d requests, want 2", len(fake.Requests()))
	}
}

func TestBlockedPromptIsAFailedAnalysis(t *testing.T) {
	fake, c, _ := setup(t)
	fake.Push(analyzetest.Reply{BlockReason: "SAFETY", PromptTokens: 700})
	_, err := c.Analyze(context.Background(), campaign, conversation(t))
	var fa *analyze.FailedAnalysis
	if !errors.As(err, &fa) || fa.PromptTokens != 700 || !strings.Contains(err.Error(), "SAFETY") {
		t.Fatalf("err = %v", err)
	}
}

func TestContextCancellation(t *testing.T) {
	fake, c, _ := setup(t)
	fake.Push(analyzetest.Reply{Hang: true})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(fake.Requests()) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	_, err := c.Analyze(ctx, campaign, conversation(t))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if time.Since(start) > 5*time.Second || len(fake.Requests()) != 1 {
		t.Errorf("took %v and %d requests", time.Since(start), len(fake.Requests()))
	}
}

func TestKeyNeverInErrors(t *testing.T) {
	fake, c, _ := setup(t)
	// A server that echoes the key in its message.
	fake.Push(analyzetest.Reply{Status: 400, Message: "API key " + key + " not valid. Please pass a valid API key."})
	_, err := c.Analyze(context.Background(), campaign, conversation(t))
	if err == nil || !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("err = %v", err)
	}
	noKey(t, err)
	if got := fake.Requests()[0].Header.Get("x-goog-api-key"); got != key {
		t.Errorf("fake saw key %q", got)
	}

	// A client with the wrong key is refused; its error does not show the key either.
	wrong, err := gemini.New(gemini.Config{APIKey: key + "-wrong", BaseURL: fake.URL, Retry: analyze.Retry{Attempts: 1}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.Analyze(context.Background(), campaign, conversation(t))
	if err == nil || strings.Contains(err.Error(), key) {
		t.Errorf("wrong key: err = %v", err)
	}

	if _, err := gemini.New(gemini.Config{}, nil); err == nil {
		t.Error("New without a key succeeded")
	}
}
