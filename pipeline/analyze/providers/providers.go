// Package providers picks and builds the analysis provider from config. It is apart from
// package analyze because it imports every provider, and each provider imports analyze.
package providers

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"nexus/pipeline/analyze"
	"nexus/pipeline/analyze/gemini"
	"nexus/pipeline/analyze/heuristic"
	"nexus/pipeline/analyze/openai"
)

// Names of the providers, as llm.provider spells them.
const (
	Gemini    = "gemini"
	OpenAI    = "openai"
	Heuristic = "heuristic"
)

// Config is the llm.* settings.
type Config struct {
	Provider         string   // gemini | openai | heuristic | "": gemini when APIKey is set, else heuristic
	Model            string   // default per provider (gemini: gemini-2.5-flash); required for openai
	APIKey           string   // never logged, never in an error
	BaseURL          string   // default per provider
	Temperature      *float64 // default 0.2
	MaxConcurrency   int      // calls at once; default 4 for gemini, 2 for openai, no limit for heuristic
	RunTokenBudget   int64    // tokens per run; ≤ 0: no limit
	DailyTokenBudget int64    // tokens per UTC day; ≤ 0: no limit
	ThreadTokens     int      // thread budget of a prompt; default analyze.DefaultThreadTokens
	Retry            analyze.Retry
	Now              func() time.Time // clock of the daily budget; nil: time.Now
}

// Provider is the configured analyzer, with its concurrency limit and token budgets.
// It is safe for concurrent use; build one per process.
type Provider struct {
	name     string
	model    string
	base     analyze.Analyzer
	limiter  *analyze.Limiter // shared by every run: the limit is the provider's
	day      *analyze.Budget
	runLimit int64
}

// New builds the provider cfg names. hc is the HTTP client of the LLM providers (nil: a
// default with a timeout); the heuristic provider does not use it.
func New(cfg Config, hc *http.Client) (*Provider, error) {
	name := cfg.Provider
	if name == "" {
		name = Heuristic
		if cfg.APIKey != "" {
			name = Gemini
		}
	}
	p := &Provider{name: name, day: analyze.NewBudget(cfg.DailyTokenBudget, cfg.Now), runLimit: cfg.RunTokenBudget}
	var a analyze.Analyzer
	limit := cfg.MaxConcurrency
	switch name {
	case Gemini:
		c, err := gemini.New(gemini.Config{
			APIKey: cfg.APIKey, Model: cfg.Model, BaseURL: cfg.BaseURL, Temperature: cfg.Temperature,
			ThreadTokens: cfg.ThreadTokens, Retry: cfg.Retry,
		}, hc)
		if err != nil {
			return nil, fmt.Errorf("analysis provider: %w", err)
		}
		a, p.model = c, c.Model()
		if limit == 0 {
			limit = 4
		}
	case OpenAI:
		c, err := openai.New(openai.Config{
			APIKey: cfg.APIKey, Model: cfg.Model, BaseURL: cfg.BaseURL, Temperature: cfg.Temperature,
			ThreadTokens: cfg.ThreadTokens, Retry: cfg.Retry,
		}, hc)
		if err != nil {
			return nil, fmt.Errorf("analysis provider: %w", err)
		}
		a, p.model = c, c.Model()
		if limit == 0 {
			limit = 2
		}
	case Heuristic:
		h := heuristic.New()
		a, p.model = h, h.Model()
	default:
		return nil, fmt.Errorf("analysis provider %q: want gemini, openai or heuristic", name)
	}
	p.base, p.limiter = a, analyze.NewLimiter(limit)
	return p, nil
}

// Name is the provider's name: gemini, openai or heuristic.
func (p *Provider) Name() string { return p.name }

// Model is the model the provider asks.
func (p *Provider) Model() string { return p.model }

// CacheKey is analyze.CacheKey for this provider and model: the key to store a result
// under and to look it up by before calling Analyze.
func (p *Provider) CacheKey(c analyze.Campaign, conv analyze.Conversation) string {
	return analyze.CacheKey(c, conv, p.name+"/"+p.model)
}

// Budget is the daily budget, for the caller to seed with what today's stored analyses
// already spent (SetUsedToday) and to report.
func (p *Provider) Budget() *analyze.Budget { return p.day }

// Analyze judges one conversation under the concurrency limit and the daily budget.
func (p *Provider) Analyze(ctx context.Context, c analyze.Campaign, conv analyze.Conversation) (analyze.Result, error) {
	return p.meter(p.day).Analyze(ctx, c, conv)
}

// ForRun returns the analyzer for one run: the provider under its concurrency limit, the
// daily budget and a fresh per-run budget. When either is spent, Analyze returns an error
// wrapping analyze.ErrBudgetExceeded without calling the model: the run stops analysing
// and goes on. The heuristic provider spends no tokens and has no budget.
func (p *Provider) ForRun() analyze.Analyzer {
	return p.meter(p.day.Run(p.runLimit))
}

func (p *Provider) meter(m analyze.Meter) analyze.Analyzer {
	if p.name == Heuristic {
		return p.limiter.Wrap(p.base)
	}
	return p.limiter.Wrap(analyze.Metered(p.base, m))
}
