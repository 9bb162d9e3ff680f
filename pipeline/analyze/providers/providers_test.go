package providers_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"nexus/pipeline/analyze"
	"nexus/pipeline/analyze/analyzetest"
	"nexus/pipeline/analyze/providers"
)

const key = "AIzaTEST-providers-secret"

func conv(t *testing.T) analyze.Conversation {
	t.Helper()
	c, err := analyze.Build("100", analyzetest.Thread(2))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var camp = analyze.Campaign{Name: "nexus", Context: "A self-hosted social listening tool.", Keywords: []string{"social listening"}}

func TestChoice(t *testing.T) {
	for _, tc := range []struct {
		cfg        providers.Config
		name, want string
		err        string
	}{
		{cfg: providers.Config{}, want: "heuristic/heuristic-v1"},
		{cfg: providers.Config{APIKey: key}, want: "gemini/gemini-2.5-flash"},
		{cfg: providers.Config{Provider: "gemini", APIKey: key, Model: "gemini-2.5-pro"}, want: "gemini/gemini-2.5-pro"},
		{cfg: providers.Config{Provider: "openai", Model: "qwen2.5:7b", BaseURL: "http://127.0.0.1:11434/v1"}, want: "openai/qwen2.5:7b"},
		{cfg: providers.Config{Provider: "heuristic", APIKey: key}, want: "heuristic/heuristic-v1"},
		{cfg: providers.Config{Provider: "gemini"}, err: "API key is required"},
		{cfg: providers.Config{Provider: "openai"}, err: "model name is required"},
		{cfg: providers.Config{Provider: "claude"}, err: `"claude"`},
	} {
		p, err := providers.New(tc.cfg, nil)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: err = %v, want %q", tc.cfg, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%+v: %v", tc.cfg, err)
			continue
		}
		if got := p.Name() + "/" + p.Model(); got != tc.want {
			t.Errorf("%+v: provider %s, want %s", tc.cfg, got, tc.want)
		}
	}
}

func TestHeuristicByDefault(t *testing.T) {
	p, err := providers.New(providers.Config{RunTokenBudget: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := p.ForRun()
	for range 3 { // no tokens, so no budget to run out of
		r, err := a.Analyze(context.Background(), camp, conv(t))
		if err != nil || r.Provider != "heuristic" {
			t.Fatalf("r %+v err %v", r, err)
		}
	}
}

func TestBudgetsStopAnalysis(t *testing.T) {
	fake := analyzetest.NewGemini(t, key)
	p, err := providers.New(providers.Config{
		APIKey: key, BaseURL: fake.URL, RunTokenBudget: 1500, DailyTokenBudget: 2500,
		Retry: analyze.Retry{Sleep: func(context.Context, time.Duration) error { return nil }},
	}, &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		fake.Push(analyzetest.Reply{Text: analyzetest.Answer, PromptTokens: 900, ResponseTokens: 100})
	}

	run1 := p.ForRun()
	for i, wantErr := range []bool{false, false, true} {
		_, err := run1.Analyze(context.Background(), camp, conv(t))
		if (err != nil) != wantErr || (wantErr && !errors.Is(err, analyze.ErrBudgetExceeded)) {
			t.Fatalf("run 1 call %d: err = %v", i+1, err)
		}
	}
	if len(fake.Requests()) != 2 {
		t.Fatalf("%d requests, want 2: the budget must stop calls before they are sent", len(fake.Requests()))
	}

	// A new run has its own budget, but the day's 2,500 tokens are spent after one more.
	run2 := p.ForRun()
	if _, err := run2.Analyze(context.Background(), camp, conv(t)); err != nil {
		t.Fatal(err)
	}
	_, err = run2.Analyze(context.Background(), camp, conv(t))
	if !errors.Is(err, analyze.ErrBudgetExceeded) || !strings.Contains(err.Error(), "today") {
		t.Fatalf("daily budget: err = %v", err)
	}
	if p.Budget().UsedToday() != 3000 || len(fake.Requests()) != 3 {
		t.Errorf("used %d, %d requests", p.Budget().UsedToday(), len(fake.Requests()))
	}
}

func TestCacheKeyNamesProviderAndModel(t *testing.T) {
	h, _ := providers.New(providers.Config{}, nil)
	g, _ := providers.New(providers.Config{APIKey: key}, nil)
	if h.CacheKey(camp, conv(t)) == g.CacheKey(camp, conv(t)) {
		t.Error("two providers share a cache key")
	}
	if g.CacheKey(camp, conv(t)) != analyze.CacheKey(camp, conv(t), "gemini/gemini-2.5-flash") {
		t.Error("CacheKey is not analyze.CacheKey of provider/model")
	}
}

func TestConcurrencyLimitIsSharedByRuns(t *testing.T) {
	fake := analyzetest.NewGemini(t, key)
	p, err := providers.New(providers.Config{APIKey: key, BaseURL: fake.URL, MaxConcurrency: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fake.Push(analyzetest.Reply{Hang: true})
	ctx1, cancel1 := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := p.ForRun().Analyze(ctx1, camp, conv(t))
		done <- err
	}()
	for len(fake.Requests()) == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel2()
	_, err = p.ForRun().Analyze(ctx2, camp, conv(t))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "slot") {
		t.Errorf("second run: err = %v, want to time out waiting for the slot", err)
	}
	cancel1()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("first run: err = %v", err)
	}
	if len(fake.Requests()) != 1 {
		t.Errorf("%d requests, want 1", len(fake.Requests()))
	}
}
