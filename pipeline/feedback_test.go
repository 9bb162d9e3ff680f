package pipeline

import (
	"context"
	"strings"
	"testing"
	"time"

	"nexus/pipeline/analyze"
	"nexus/scraper/xfake"
	"nexus/store"
)

// recordingAnalyzer keeps the campaign context of every analysis it is asked for.
type recordingAnalyzer struct {
	*countingAnalyzer
	contexts chan string
}

func (a *recordingAnalyzer) Analyze(ctx context.Context, c analyze.Campaign, conv analyze.Conversation) (analyze.Result, error) {
	a.contexts <- c.Context
	return a.countingAnalyzer.Analyze(ctx, c, conv)
}

// TestFeedbackReachesThePrompt: once the team judges an opportunity, the next
// analysis of the campaign is told about it, and the cache key changes with it.
func TestFeedbackReachesThePrompt(t *testing.T) {
	env := newRunEnv(t, 4, 2)
	rec := &recordingAnalyzer{countingAnalyzer: env.analyzer, contexts: make(chan string, 100)}
	env.runner.o.Analyzer = rec
	ctx := context.Background()
	env.campaign.Threshold = 40
	env.campaign.Context = "We sell nexusprobe."
	env.campaign, _ = env.st.UpdateCampaign(ctx, env.campaign)
	if run := env.runToEnd(t); run.Progress.Opportunities == 0 {
		t.Fatalf("no opportunity to judge: %+v", run.Progress)
	}
	ops, _ := env.st.Opportunities(ctx, env.org.ID, store.OpportunityFilter{Limit: 1})
	if err := env.st.SetOpportunityFeedback(ctx, env.org.ID, ops[0].ID, -1, "we only sell to agencies"); err != nil {
		t.Fatal(err)
	}
	before, _ := env.runner.analyzeCampaign(ctx, store.Campaign{ID: 0, Name: env.campaign.Name})
	after, err := env.runner.analyzeCampaign(ctx, env.campaign)
	if err != nil || !strings.Contains(after.Context, "NOT an opportunity") || !strings.Contains(after.Context, "we only sell to agencies") {
		t.Fatalf("context after feedback: %q, %v", after.Context, err)
	}
	if before.Context == after.Context {
		t.Fatal("feedback did not change the prompt")
	}
	// A new post in one conversation makes it analysed again, now with the example.
	for len(rec.contexts) > 0 {
		<-rec.contexts
	}
	env.x.AddTweet(xfake.Tweet{Text: "anyone using nexusprobe with agencies?", CreatedAt: time.Now()})
	env.runToEnd(t)
	select {
	case c := <-rec.contexts:
		if !strings.Contains(c, "we only sell to agencies") {
			t.Fatalf("the next prompt lacks the feedback: %q", c)
		}
	default:
		t.Fatal("nothing was analysed on the second run")
	}
}
