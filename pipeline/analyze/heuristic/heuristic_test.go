package heuristic_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"nexus/pipeline/analyze"
	"nexus/pipeline/analyze/analyzetest"
	"nexus/pipeline/analyze/heuristic"
	"nexus/scraper"
)

var crm = analyze.Campaign{
	Name:     "acme crm",
	Context:  "We sell Acme, a lightweight CRM for freelancers and small agencies.",
	Keywords: []string{"crm", "pipeline"},
	Phrases:  []string{"client tracking"},
	Hashtags: []string{"#smallbiz"},
}

// thread builds a conversation whose hit is the last post given.
func thread(t *testing.T, posts ...scraper.Tweet) analyze.Conversation {
	t.Helper()
	conv, err := analyze.Build(posts[len(posts)-1].ID, posts)
	if err != nil {
		t.Fatal(err)
	}
	return conv
}

func TestHeuristic(t *testing.T) {
	P := analyzetest.Post
	popular := P("1", "", "bigaccount", 0, "Any recommendations for a simple CRM? Our spreadsheet is falling apart.")
	popular.Author.FollowersCount, popular.LikeCount, popular.ReplyCount = 250_000, 900, 120

	tests := []struct {
		name        string
		conv        analyze.Conversation
		minRel      int
		maxRel      int
		sentiment   string
		intent      string
		opportunity bool
		insight     string // a substring one insight must contain
	}{
		{
			name:   "recommendation request in the root",
			conv:   thread(t, P("1", "", "maria", 0, "Looking for a CRM for my two-person agency, any recommendations?")),
			minRel: 60, maxRel: 100, sentiment: "neutral", intent: "seeking_recommendation", opportunity: true,
			insight: "crm ×1",
		},
		{
			name: "complaint about a competitor with pricing replies",
			conv: thread(t,
				P("1", "", "joe", 0, "Our CRM is terrible, the pipeline view has been broken for a week and support is useless."),
				P("2", "1", "ann", 5, "Same here, and the price went up again. So expensive."),
				P("3", "1", "bo", 9, "They doubled the pricing last year, not worth it."),
				P("4", "3", "cy", 12, "Honestly I am not happy with it either"),
			),
			minRel: 60, maxRel: 100, sentiment: "negative", intent: "complaint", opportunity: true,
			insight: "replies mention pricing",
		},
		{
			name:   "praise is not an opportunity",
			conv:   thread(t, P("1", "", "kim", 0, "Love our new CRM, the pipeline board is amazing. Great job team!")),
			minRel: 40, maxRel: 100, sentiment: "positive", intent: "praise", opportunity: false,
		},
		{
			name:   "negation flips sentiment",
			conv:   thread(t, P("1", "", "lee", 0, "The crm is not good and not reliable.")),
			minRel: 1, maxRel: 100, sentiment: "negative", intent: "discussion",
		},
		{
			name:   "unrelated",
			conv:   thread(t, P("1", "", "sam", 0, "What a beautiful sunset over the harbour tonight.")),
			minRel: 0, maxRel: 10, sentiment: "positive", intent: "discussion",
		},
		{
			name: "spam",
			conv: thread(t, P("1", "", "bot", 0,
				"GIVEAWAY! Win a free CRM license, follow and retweet #crm #smallbiz #win #free #giveaway #sales")),
			minRel: 0, maxRel: 15, intent: "spam",
		},
		{
			name: "a term deep in the replies weighs little",
			conv: func() analyze.Conversation {
				c, _ := analyze.Build("1", []scraper.Tweet{
					P("1", "", "a", 0, "Weekend plans?"),
					P("2", "1", "b", 1, "Hiking"),
					P("3", "2", "c", 2, "Nice"),
					P("4", "3", "d", 3, "I'd rather update my crm"),
				})
				return c
			}(),
			minRel: 10, maxRel: 40, intent: "question",
		},
		{
			name:   "phrase and hashtag",
			conv:   thread(t, P("1", "", "e", 0, "Client tracking is the hardest part of freelancing #smallbiz")),
			minRel: 50, maxRel: 100, intent: "discussion", sentiment: "neutral",
		},
		{
			name:   "reach and engagement",
			conv:   thread(t, popular),
			minRel: 70, maxRel: 100, intent: "seeking_recommendation", opportunity: true,
			insight: "250k followers",
		},
		{
			name:   "spanish",
			conv:   thread(t, P("1", "", "luz", 0, "¿Alguien conoce un CRM bueno para freelancers? El mío es pésimo y no funciona.")),
			minRel: 60, maxRel: 100, intent: "seeking_recommendation", opportunity: true,
		},
		{
			name:   "german negation",
			conv:   thread(t, P("1", "", "max", 0, "Unser CRM ist nicht gut und sehr langsam.")),
			minRel: 1, maxRel: 100, sentiment: "negative",
		},
	}
	a := heuristic.New()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := a.Analyze(context.Background(), crm, tc.conv)
			if err != nil {
				t.Fatal(err)
			}
			if r.Relevance < tc.minRel || r.Relevance > tc.maxRel {
				t.Errorf("relevance %d, want %d–%d", r.Relevance, tc.minRel, tc.maxRel)
			}
			if tc.sentiment != "" && r.Sentiment != tc.sentiment {
				t.Errorf("sentiment %q, want %q", r.Sentiment, tc.sentiment)
			}
			if tc.intent != "" && r.Intent != tc.intent {
				t.Errorf("intent %q, want %q", r.Intent, tc.intent)
			}
			if r.Opportunity != tc.opportunity {
				t.Errorf("opportunity %v, want %v (%s)", r.Opportunity, tc.opportunity, r.OpportunityReason)
			}
			if tc.insight != "" && !strings.Contains(strings.Join(r.Insights, " | "), tc.insight) {
				t.Errorf("insights %q lack %q", r.Insights, tc.insight)
			}
			if r.Provider != "heuristic" || r.Model != "heuristic-v1" || r.SuggestedReplies == nil || len(r.SuggestedReplies) != 0 ||
				r.OpportunityReason == "" || r.PromptTokens != 0 {
				t.Errorf("result %+v", r)
			}
			t.Logf("%d %s %s %v | %s | %q", r.Relevance, r.Sentiment, r.Intent, r.Opportunity, r.OpportunityReason, r.Insights)
		})
	}
}

func TestHeuristicIsDeterministic(t *testing.T) {
	conv, _ := analyze.Build("100", analyzetest.Thread(30))
	a := heuristic.New()
	first, _ := a.Analyze(context.Background(), crm, conv)
	for range 20 {
		r, _ := a.Analyze(context.Background(), crm, conv)
		r.Latency, first.Latency = 0, 0
		if !reflect.DeepEqual(r, first) {
			t.Fatalf("results differ:\n%+v\n%+v", r, first)
		}
	}
}

func TestHeuristicWithoutTerms(t *testing.T) {
	conv, _ := analyze.Build("100", analyzetest.Thread(2))
	r, err := heuristic.New().Analyze(context.Background(), analyze.Campaign{}, conv)
	if err != nil || r.Relevance == 0 || r.Intent != "seeking_recommendation" {
		t.Errorf("r %+v err %v", r, err)
	}
}

func TestHeuristicHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := heuristic.New().Analyze(ctx, crm, analyze.Conversation{}); err == nil {
		t.Error("no error on a cancelled context")
	}
}

// BenchmarkHeuristic measures conversations analysed per second, on a 20-reply thread.
func BenchmarkHeuristic(b *testing.B) {
	conv, _ := analyze.Build("100", analyzetest.Thread(20))
	a := heuristic.New()
	ctx := context.Background()
	for b.Loop() {
		if _, err := a.Analyze(ctx, crm, conv); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "conversations/s")
}
