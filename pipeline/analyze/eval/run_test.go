package eval_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"nexus/pipeline/analyze"
	"nexus/pipeline/analyze/eval"
)

// scripted answers each case from a table keyed by the case's campaign name, so a test
// can say what the analyzer thinks of every case.
type scripted map[string]analyze.Result

func (s scripted) Analyze(ctx context.Context, c analyze.Campaign, _ analyze.Conversation) (analyze.Result, error) {
	r, ok := s[c.Name]
	if !ok {
		return analyze.Result{}, errors.New("no answer")
	}
	return r, nil
}

func TestRun(t *testing.T) {
	mk := func(id, cat string, opp, rel bool) eval.Case {
		return eval.Case{ID: id, Category: cat, Opportunity: opp, Relevant: rel, Campaign: analyze.Campaign{Name: id}}
	}
	set := []eval.Case{
		mk("tp", "recommendation_request", true, true),
		mk("fn", "complaint_about_competitor", true, true),
		mk("fp", "irrelevant_same_word", false, false),
		mk("tn", "off_topic", false, false),
		mk("tn2", "off_topic", false, false),
		mk("err", "praise", false, true),
	}
	yes := analyze.Result{Provider: "fake", Model: "m1", Opportunity: true, Relevance: 90, PromptTokens: 10, ResponseTokens: 5, Latency: time.Second}
	no := analyze.Result{Provider: "fake", Model: "m1", Relevance: 20, PromptTokens: 10, ResponseTokens: 5, Latency: 3 * time.Second}
	r := eval.Run(context.Background(), scripted{"tp": yes, "fn": no, "fp": yes, "tn": no, "tn2": no}, set)

	if r.TP != 1 || r.FN != 1 || r.FP != 1 || r.TN != 2 || r.Scored() != 5 || len(r.Errors) != 1 || r.Errors[0].ID != "err" {
		t.Fatalf("TP %d FN %d FP %d TN %d errors %v", r.TP, r.FN, r.FP, r.TN, r.Errors)
	}
	if r.Precision() != 0.5 || r.Recall() != 0.5 || r.F1() != 0.5 || r.OpportunityAccuracy() != 0.6 {
		t.Errorf("precision %v recall %v F1 %v accuracy %v", r.Precision(), r.Recall(), r.F1(), r.OpportunityAccuracy())
	}
	// fn (relevant, said 20) and fp (irrelevant, said 90) are on the wrong side of 50.
	if r.RelevantOK != 3 || r.RelevanceAccuracy() != 0.6 {
		t.Errorf("relevance right %d, accuracy %v", r.RelevantOK, r.RelevanceAccuracy())
	}
	if r.Provider != "fake" || r.Model != "m1" || r.Calls != 6 || r.PromptTokens != 50 || r.ResponseTokens != 25 {
		t.Errorf("provider %s/%s calls %d tokens %d+%d", r.Provider, r.Model, r.Calls, r.PromptTokens, r.ResponseTokens)
	}
	if r.Latency(0) != time.Second || r.Latency(1) != 3*time.Second || r.Latency(0.5) != 3*time.Second {
		t.Errorf("latency p0 %v p50 %v max %v", r.Latency(0), r.Latency(0.5), r.Latency(1))
	}
	var names []string
	for _, c := range r.Categories {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "recommendation_request complaint_about_competitor irrelevant_same_word off_topic" {
		t.Errorf("categories %s", got)
	}
	if len(r.Mistakes) != 2 || r.Mistakes[0].ID != "fn" || r.Mistakes[1].ID != "fp" {
		t.Errorf("mistakes %v", r.Mistakes)
	}
	s := r.String()
	for _, want := range []string{"fake/m1: 6 cases, 5 analysed, 1 errors", "precision 0.500", "(TP 1 FP 1 FN 1 TN 2)", "off_topic"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() lacks %q:\n%s", want, s)
		}
	}
}

func TestRunCancelled(t *testing.T) {
	set, err := eval.Load(setPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := eval.Run(ctx, ctxAware{}, set)
	if len(r.Errors) != len(set) || r.Scored() != 0 {
		t.Errorf("%d errors, %d scored; want every case failed", len(r.Errors), r.Scored())
	}
	if !strings.Contains(r.String(), "0 analysed") {
		t.Errorf("String() = %s", r.String())
	}
}

type ctxAware struct{}

func (ctxAware) Analyze(ctx context.Context, _ analyze.Campaign, _ analyze.Conversation) (analyze.Result, error) {
	return analyze.Result{}, ctx.Err()
}
