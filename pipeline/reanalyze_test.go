package pipeline

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"

	"nexus/pipeline/analyze"
	"nexus/store"
)

// outageAnalyzer is the counting heuristic, except that while down it fails every
// third thread (by the number in its root's text) with a transient error, as an LLM
// outage longer than a job's attempts does.
type outageAnalyzer struct {
	*countingAnalyzer
	down atomic.Bool
}

var rootNumber = regexp.MustCompile(`for thread (\d+)\?`)

func (a *outageAnalyzer) Analyze(ctx context.Context, c analyze.Campaign, conv analyze.Conversation) (analyze.Result, error) {
	if a.down.Load() {
		for _, n := range conv.Tweets {
			if m := rootNumber.FindStringSubmatch(n.Tweet.Text); m != nil {
				if i, _ := strconv.Atoi(m[1]); i%3 == 0 {
					return analyze.Result{}, errors.New("the model is overloaded")
				}
			}
		}
	}
	return a.countingAnalyzer.Analyze(ctx, c, conv)
}

// TestNextRunAnalysesWhatAnOutageLost: a run whose analyses of some conversations
// died (every attempt failed) leaves them unanalysed; the next run, with nothing new
// on X, analyses exactly those, once each, and the run after it nothing.
func TestNextRunAnalysesWhatAnOutageLost(t *testing.T) {
	t.Parallel()
	const nConv, perConv = 30, 3
	a := &outageAnalyzer{}
	e := newRunEnvWith(t, nConv, perConv, envOptions{})
	a.countingAnalyzer = e.analyzer
	e.runner.o.Analyzer = a
	a.down.Store(true)

	first := e.runToEnd(t)
	lost := nConv / 3
	if first.Progress.Conversations != nConv || first.Progress.Analyzed != nConv-lost {
		t.Fatalf("first run: %s %+v; want %d conversations, %d analysed", first.Status, first.Progress, nConv, nConv-lost)
	}
	if n := scalar(t, e.st, `SELECT COUNT(*) FROM jobs WHERE run_id = ? AND kind = 'analyze' AND state = 'dead'`, first.ID); n != lost {
		t.Fatalf("%d analyze jobs dead, want %d", n, lost)
	}

	a.down.Store(false)
	calls := e.analyzer.calls.Load()
	second := e.runToEnd(t)
	if second.Status != store.RunSucceeded || second.Progress.TweetsNew != 0 || second.Progress.Analyzed != lost {
		t.Fatalf("second run: %s %+v; want %d analyses and nothing new", second.Status, second.Progress, lost)
	}
	if n := e.analyzer.calls.Load() - calls; n != int64(lost) {
		t.Fatalf("second run asked the analyzer %d times, want %d", n, lost)
	}
	if n := scalar(t, e.st, `SELECT COUNT(*) FROM conversations WHERE analyzed_hash = content_hash`); n != nConv {
		t.Fatalf("%d of %d conversations analysed", n, nConv)
	}
	if n := scalar(t, e.st, `SELECT COUNT(*) FROM (SELECT conversation_id FROM analyses GROUP BY 1 HAVING COUNT(*) > 1)`); n != 0 {
		t.Fatalf("%d conversations analysed twice", n)
	}

	third := e.runToEnd(t)
	if third.Progress.Analyzed != 0 {
		t.Fatalf("third run analysed %d conversations, want none", third.Progress.Analyzed)
	}
}
