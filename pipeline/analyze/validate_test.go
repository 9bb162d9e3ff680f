package analyze_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"nexus/pipeline/analyze"
	"nexus/pipeline/analyze/analyzetest"
)

func valid() analyze.Result {
	return analyze.Result{
		Relevance: 80, Sentiment: "neutral", Intent: "seeking_recommendation",
		Insights: []string{"asks for a CRM"}, Opportunity: true, OpportunityReason: "asks for a CRM",
		SuggestedReplies: []string{"We built a small CRM for exactly this; happy to share a setup guide.", "What does your team use today?"},
	}
}

func TestValidate(t *testing.T) {
	long := strings.Repeat("x", 281)
	tests := []struct {
		name    string
		edit    func(r *analyze.Result)
		problem string // "" = valid
		check   func(t *testing.T, r analyze.Result)
	}{
		{name: "valid", edit: func(*analyze.Result) {}},
		{name: "relevance high", edit: func(r *analyze.Result) { r.Relevance = 140 }, problem: "relevance 140"},
		{name: "relevance negative", edit: func(r *analyze.Result) { r.Relevance = -1 }, problem: "relevance -1"},
		{name: "sentiment", edit: func(r *analyze.Result) { r.Sentiment = "mixed" }, problem: `sentiment "mixed"`},
		{name: "normalises", edit: func(r *analyze.Result) {
			r.Sentiment, r.Intent = " Positive ", "Seeking Recommendation"
			r.Insights = []string{" a ", "", "b", "c", "d", "e", "f"}
		}, check: func(t *testing.T, r analyze.Result) {
			if r.Sentiment != "positive" || r.Intent != "seeking_recommendation" {
				t.Errorf("sentiment %q intent %q", r.Sentiment, r.Intent)
			}
			if len(r.Insights) != 5 || r.Insights[0] != "a" {
				t.Errorf("insights %q", r.Insights)
			}
		}},
		{name: "empty intent", edit: func(r *analyze.Result) { r.Intent = " " }, problem: "intent is empty"},
		{name: "no reason", edit: func(r *analyze.Result) { r.OpportunityReason = "" }, problem: "opportunity_reason is empty"},
		{name: "one reply", edit: func(r *analyze.Result) { r.SuggestedReplies = r.SuggestedReplies[:1] }, problem: "needs 2 or 3 replies, not 1"},
		{name: "four replies", edit: func(r *analyze.Result) { r.SuggestedReplies = []string{"a", "b", "c", "d"} }, problem: "not 4"},
		{name: "no opportunity, no replies", edit: func(r *analyze.Result) { r.Opportunity, r.SuggestedReplies = false, nil }},
		{name: "too long", edit: func(r *analyze.Result) { r.SuggestedReplies[1] = long }, problem: "reply 2 is 281 characters"},
		{name: "link counts 23", edit: func(r *analyze.Result) {
			r.SuggestedReplies[1] = strings.Repeat("y", 250) + " https://example.com/" + strings.Repeat("p", 100)
		}},
		{name: "CJK counts 2", edit: func(r *analyze.Result) { r.SuggestedReplies[1] = strings.Repeat("日", 141) }, problem: "282 characters"},
		{name: "hashtags", edit: func(r *analyze.Result) { r.SuggestedReplies[0] = "Try it #crm #sales" }, problem: "reply 1 has 2 hashtags"},
		{name: "one hashtag", edit: func(r *analyze.Result) { r.SuggestedReplies[0] = "Try it #crm, it is C# friendly" }},
		{name: "customer", edit: func(r *analyze.Result) { r.SuggestedReplies[0] = "As a happy long-time customer, I can vouch for it." }, problem: "claims to be someone"},
		{name: "founder", edit: func(r *analyze.Result) { r.SuggestedReplies[1] = "I'm the founder of Acme and..." }, problem: "reply 2 claims"},
		{name: "on behalf", edit: func(r *analyze.Result) { r.SuggestedReplies[1] = "Writing on behalf of the CEO: thanks!" }, problem: "claims"},
		{name: "spanish", edit: func(r *analyze.Result) { r.SuggestedReplies[1] = "Como cliente, lo recomiendo." }, problem: "claims"},
		{name: "team voice ok", edit: func(r *analyze.Result) { r.SuggestedReplies[1] = "We at Acme built this for teams like yours." }},
		{name: "mentions stripped", edit: func(r *analyze.Result) { r.SuggestedReplies[0] = "@alice @bob, try our free plan" },
			check: func(t *testing.T, r analyze.Result) {
				if r.SuggestedReplies[0] != "try our free plan" {
					t.Errorf("reply = %q", r.SuggestedReplies[0])
				}
			}},
		{name: "only mentions", edit: func(r *analyze.Result) { r.SuggestedReplies[0] = "@alice" }, problem: "reply 1 is empty"},
		{name: "duplicates", edit: func(r *analyze.Result) { r.SuggestedReplies[1] = r.SuggestedReplies[0] }, problem: "replies 1 and 2 are the same"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := valid()
			r.SuggestedReplies = append([]string(nil), r.SuggestedReplies...)
			tc.edit(&r)
			err := analyze.Validate(&r)
			switch {
			case tc.problem == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.problem != "" && (err == nil || !strings.Contains(err.Error(), tc.problem)):
				t.Fatalf("Validate = %v, want a problem containing %q", err, tc.problem)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, text, problem string
	}{
		{"plain", analyzetest.Answer, ""},
		{"fenced", "```json\n" + analyzetest.Answer + "\n```", ""},
		{"prose around", "Here is the analysis {as asked}:\n" + analyzetest.Answer + "\nHope this helps! }", ""},
		{"braces in strings", `{"relevance": 10, "sentiment": "neutral", "intent": "discussion", "insights": ["uses {curly} and \"quotes\" }"], "opportunity": false, "opportunity_reason": "no", "suggested_replies": []}`, ""},
		{"float relevance", `{"relevance": 72.0, "sentiment": "neutral", "intent": "x", "insights": [], "opportunity": false, "opportunity_reason": "", "suggested_replies": []}`, ""},
		{"no json", "I cannot help with that.", "no complete JSON object"},
		{"truncated", analyzetest.Answer[:80], "no complete JSON object"},
		{"missing key", `{"relevance": 10, "sentiment": "neutral", "intent": "x", "insights": [], "opportunity": false, "suggested_replies": []}`, "missing key opportunity_reason"},
		{"wrong type", `{"relevance": "high", "sentiment": "neutral", "intent": "x", "insights": [], "opportunity": false, "opportunity_reason": "", "suggested_replies": []}`, "relevance has the wrong type"},
		{"schema break", strings.Replace(analyzetest.Answer, `"relevance": 86`, `"relevance": 186`, 1), "relevance 186"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := analyze.Parse(tc.text)
			if tc.problem == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if r.Sentiment == "" {
					t.Errorf("empty result %+v", r)
				}
				return
			}
			var ve *analyze.ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.problem) {
				t.Fatalf("Parse = %v, want a ValidationError containing %q", err, tc.problem)
			}
		})
	}
}

func TestResultJSON(t *testing.T) {
	r := analyze.Result{Relevance: 5, Sentiment: "neutral", Intent: "x", Provider: "heuristic", Latency: 1500 * time.Millisecond}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"latency_ms":1500`, `"insights":[]`, `"suggested_replies":[]`, `"opportunity_reason":""`, `"prompt_tokens":0`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	var back analyze.Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Latency != r.Latency || back.Provider != "heuristic" || back.Relevance != 5 {
		t.Errorf("round trip: %+v", back)
	}
}

func TestJSONSchemaIsStrict(t *testing.T) {
	s := analyze.JSONSchema()
	props := s["properties"].(map[string]any)
	req := s["required"].([]string)
	if len(props) != len(req) || s["additionalProperties"] != false {
		t.Errorf("strict mode needs every property required and no others: %d props, %d required", len(props), len(req))
	}
	if _, err := json.Marshal(s); err != nil {
		t.Error(err)
	}
}
