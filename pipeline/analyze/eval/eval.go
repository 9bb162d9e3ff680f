package eval

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"nexus/pipeline/analyze"
)

// RelevanceThreshold is the relevance at or above which an analysis counts as saying
// "relevant" when it is compared with a case's label.
const RelevanceThreshold = 50

// parallel is how many cases Run analyses at once: a hosted model's round trip is
// seconds, and a set of 70+ cases one at a time would outlast go test's default timeout.
// A provider's own limiter still applies.
const parallel = 4

// Report is what Run measured. Its figures are methods over the counts, so a Report
// stays a plain value to compare or print.
type Report struct {
	Provider, Model string // as the first result says

	Cases  int // in the set
	Errors []CaseError

	// The opportunity confusion matrix over the cases that were analysed.
	TP, FP, FN, TN int
	// RelevantOK counts analysed cases whose relevance ≥ RelevanceThreshold agrees with
	// the relevant label.
	RelevantOK int

	Categories []CategoryScore // in the order of Categories, those present in the set
	Mistakes   []Mistake       // in set order

	Calls                        int             // calls to Analyze
	Latencies                    []time.Duration // of the analysed cases, sorted
	PromptTokens, ResponseTokens int             // failed analyses included
}

// CaseError is a case the analyzer failed on; it counts in no figure.
type CaseError struct {
	ID  string
	Err string
}

// CategoryScore is how the analyzer did on one category of cases.
type CategoryScore struct {
	Name          string
	Cases         int // analysed
	OpportunityOK int // opportunity as labelled
	RelevantOK    int // relevance on the right side of RelevanceThreshold
}

// Mistake is an analysed case where the opportunity or the relevance disagrees with the
// label.
type Mistake struct {
	ID, Category, Hard string
	Want, Got          bool // opportunity
	Relevant           bool // the label
	Relevance          int
	Intent             string
}

// Run analyses every case of set with a and scores the results against the labels. An
// analysis that fails is recorded in Errors and left out of the figures; when ctx ends,
// the cases not yet analysed fail with its error.
func Run(ctx context.Context, a analyze.Analyzer, set []Case) Report {
	type outcome struct {
		res analyze.Result
		err error
		d   time.Duration
	}
	out := make([]outcome, len(set))
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	for i, c := range set {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			start := time.Now()
			res, err := a.Analyze(ctx, c.Campaign, c.Conversation)
			d := time.Since(start)
			if res.Latency > 0 {
				d = res.Latency // without the wait for a provider's slot
			}
			out[i] = outcome{res, err, d}
		})
	}
	wg.Wait()

	r := Report{Cases: len(set), Calls: len(set)}
	cats := map[string]*CategoryScore{}
	for i, c := range set {
		o := out[i]
		if o.err != nil {
			r.Errors = append(r.Errors, CaseError{ID: c.ID, Err: o.err.Error()})
			var fa *analyze.FailedAnalysis
			if errors.As(o.err, &fa) {
				r.PromptTokens += fa.PromptTokens
				r.ResponseTokens += fa.ResponseTokens
			}
			continue
		}
		res := o.res
		if r.Provider == "" {
			r.Provider, r.Model = res.Provider, res.Model
		}
		r.PromptTokens += res.PromptTokens
		r.ResponseTokens += res.ResponseTokens
		r.Latencies = append(r.Latencies, o.d)

		switch {
		case c.Opportunity && res.Opportunity:
			r.TP++
		case c.Opportunity:
			r.FN++
		case res.Opportunity:
			r.FP++
		default:
			r.TN++
		}
		relOK := (res.Relevance >= RelevanceThreshold) == c.Relevant
		if relOK {
			r.RelevantOK++
		}
		cs := cats[c.Category]
		if cs == nil {
			cs = &CategoryScore{Name: c.Category}
			cats[c.Category] = cs
		}
		cs.Cases++
		if res.Opportunity == c.Opportunity {
			cs.OpportunityOK++
		}
		if relOK {
			cs.RelevantOK++
		}
		if res.Opportunity != c.Opportunity || !relOK {
			r.Mistakes = append(r.Mistakes, Mistake{ID: c.ID, Category: c.Category, Hard: c.Hard,
				Want: c.Opportunity, Got: res.Opportunity, Relevant: c.Relevant,
				Relevance: res.Relevance, Intent: res.Intent})
		}
	}
	for _, name := range Categories {
		if cs := cats[name]; cs != nil {
			r.Categories = append(r.Categories, *cs)
		}
	}
	slices.Sort(r.Latencies)
	return r
}

// Scored is the number of cases analysed without error.
func (r Report) Scored() int { return r.TP + r.FP + r.FN + r.TN }

// Precision is the share of the opportunities found that are labelled so (0 when none
// was found).
func (r Report) Precision() float64 { return ratio(r.TP, r.TP+r.FP) }

// Recall is the share of the labelled opportunities that were found.
func (r Report) Recall() float64 { return ratio(r.TP, r.TP+r.FN) }

// F1 is the harmonic mean of precision and recall.
func (r Report) F1() float64 {
	p, rc := r.Precision(), r.Recall()
	if p+rc == 0 {
		return 0
	}
	return 2 * p * rc / (p + rc)
}

// OpportunityAccuracy is the share of analysed cases whose opportunity is as labelled.
func (r Report) OpportunityAccuracy() float64 { return ratio(r.TP+r.TN, r.Scored()) }

// RelevanceAccuracy is the share of analysed cases whose relevance, cut at
// RelevanceThreshold, agrees with the relevant label.
func (r Report) RelevanceAccuracy() float64 { return ratio(r.RelevantOK, r.Scored()) }

// Latency is the q-quantile (0–1) of the analyses' latencies.
func (r Report) Latency(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(q*float64(len(r.Latencies)-1) + 0.5)
	return r.Latencies[min(max(i, 0), len(r.Latencies)-1)]
}

// String is the report as a small table.
func (r Report) String() string {
	var b strings.Builder
	name := r.Provider
	if r.Model != "" {
		name += "/" + r.Model
	}
	fmt.Fprintf(&b, "%s: %d cases, %d analysed, %d errors\n", name, r.Cases, r.Scored(), len(r.Errors))
	fmt.Fprintf(&b, "opportunity    precision %.3f  recall %.3f  F1 %.3f  accuracy %.3f  (TP %d FP %d FN %d TN %d)\n",
		r.Precision(), r.Recall(), r.F1(), r.OpportunityAccuracy(), r.TP, r.FP, r.FN, r.TN)
	fmt.Fprintf(&b, "relevance≥%d   accuracy %.3f (%d/%d)\n", RelevanceThreshold, r.RelevanceAccuracy(), r.RelevantOK, r.Scored())
	fmt.Fprintf(&b, "calls %d  latency p50 %s  p95 %s  max %s  tokens %d prompt + %d response\n\n",
		r.Calls, round(r.Latency(0.5)), round(r.Latency(0.95)), round(r.Latency(1)), r.PromptTokens, r.ResponseTokens)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "category\tcases\topportunity\t\trelevance")
	for _, c := range r.Categories {
		fmt.Fprintf(tw, "%s\t%d\t%d/%d\t%.2f\t%d/%d\t%.2f\n", c.Name, c.Cases,
			c.OpportunityOK, c.Cases, ratio(c.OpportunityOK, c.Cases), c.RelevantOK, c.Cases, ratio(c.RelevantOK, c.Cases))
	}
	tw.Flush()
	return strings.TrimRight(b.String(), "\n")
}

// String is one line: the case, what was wanted and what the analyzer said.
func (m Mistake) String() string {
	hard := ""
	if m.Hard != "" {
		hard = " [" + m.Hard + "]"
	}
	return fmt.Sprintf("%s (%s%s): opportunity want %v got %v; relevant %v, relevance %d; intent %s",
		m.ID, m.Category, hard, m.Want, m.Got, m.Relevant, m.Relevance, m.Intent)
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// round keeps a latency readable: microseconds for the heuristic, milliseconds for a model.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
