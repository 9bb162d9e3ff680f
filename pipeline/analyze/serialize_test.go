package analyze_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"nexus/pipeline/analyze"
	"nexus/pipeline/analyze/analyzetest"
	"nexus/scraper"
)

func TestSerializeSmallThread(t *testing.T) {
	P := analyzetest.Post
	root := P("1", "", "alice", 0, "Any good CRM\nfor a tiny team?")
	root.Author.FollowersCount, root.LikeCount, root.Author.Verified = 12_345, 7, true
	reply := P("2", "1", "bob", 90, "Try a spreadsheet")
	conv, _ := analyze.Build("2", []scraper.Tweet{root, reply})
	got := analyze.Serialize(conv, 0)
	want := "Thread 1, 2 posts, started 2026-03-02T09:00:00Z; times are relative to the start.\n" +
		"[ROOT] @alice (12k followers, verified) 2026-03-02T09:00:00Z [7 likes]: Any good CRM / for a tiny team?\n" +
		"  [HIT] @bob (100 followers) +1h: Try a spreadsheet\n"
	if got != want {
		t.Errorf("Serialize =\n%s\nwant\n%s", got, want)
	}
}

func TestSerializeTrimsToBudget(t *testing.T) {
	tweets := analyzetest.Thread(100)
	// The hit is reply 40, a deep reply: its ancestors must survive the trimming.
	conv, err := analyze.Build("140", tweets)
	if err != nil {
		t.Fatal(err)
	}
	full := analyze.Serialize(conv, 0)
	budget := 600
	trimmed := analyze.Serialize(conv, budget)
	if analyze.EstimateTokens(full) <= budget {
		t.Fatalf("test thread too small: %d tokens", analyze.EstimateTokens(full))
	}
	if got := analyze.EstimateTokens(trimmed); got > budget+budget/10 {
		t.Errorf("trimmed to %d tokens, budget %d", got, budget)
	}
	lines := strings.Split(trimmed, "\n")
	has := func(s string) bool {
		return slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, s) })
	}
	for _, must := range []string{"[ROOT] @founder", "[HIT] @user40", "@user39 ", "@user100 ", "posts omitted]", "shown: root, hit"} {
		if !has(must) {
			t.Errorf("trimmed thread lacks %q:\n%s", must, trimmed)
		}
	}
	if has("@user5 ") {
		t.Errorf("an old reply survived over newer ones:\n%s", trimmed)
	}
	// The omitted counts add up.
	shown, omitted := 0, 0
	for _, l := range lines[1:] {
		switch {
		case strings.Contains(l, "omitted]"):
			var n int
			fmt.Sscanf(strings.TrimSpace(l), "[… %d", &n)
			omitted += n
		case strings.TrimSpace(l) != "":
			shown++
		}
	}
	if shown+omitted != len(conv.Tweets) {
		t.Errorf("shown %d + omitted %d != %d posts", shown, omitted, len(conv.Tweets))
	}
}

func TestSerializeClipsLongPosts(t *testing.T) {
	P := analyzetest.Post
	root := P("1", "", "a", 0, strings.Repeat("word ", 5000))
	conv, _ := analyze.Build("1", []scraper.Tweet{root})
	if n := analyze.EstimateTokens(analyze.Serialize(conv, 0)); n > 500 {
		t.Errorf("a 25,000-character post takes %d tokens", n)
	}
}

func TestCacheKey(t *testing.T) {
	camp := analyze.Campaign{Name: "crm", Context: "We sell a CRM.", Keywords: []string{"crm"}}
	tweets := analyzetest.Thread(5)
	conv, _ := analyze.Build("100", tweets)
	key := analyze.CacheKey(camp, conv, "m1")
	if len(key) != 64 {
		t.Fatalf("key %q is not hex sha256", key)
	}

	// Counters move on every fetch; they do not change the key.
	moved := slices.Clone(tweets)
	moved[2].LikeCount += 50
	moved[2].Author.FollowersCount *= 2
	slices.Reverse(moved)
	c2, _ := analyze.Build("100", moved)
	if analyze.CacheKey(camp, c2, "m1") != key {
		t.Error("key changed with like and follower counts or input order")
	}

	edited := slices.Clone(tweets)
	edited[3].Text += " (edited)"
	c3, _ := analyze.Build("100", edited)
	grown, _ := analyze.Build("100", append(slices.Clone(tweets), analyzetest.Post("999", "100", "new", 99, "new reply")))
	otherCamp := camp
	otherCamp.Context = "We sell a CRM for dentists."
	otherTerms := camp
	otherTerms.Keywords = []string{"crm", "hubspot"}
	for name, k := range map[string]string{
		"text":     analyze.CacheKey(camp, c3, "m1"),
		"reply":    analyze.CacheKey(camp, grown, "m1"),
		"context":  analyze.CacheKey(otherCamp, conv, "m1"),
		"keywords": analyze.CacheKey(otherTerms, conv, "m1"),
		"model":    analyze.CacheKey(camp, conv, "m2"),
	} {
		if k == key {
			t.Errorf("key unchanged by a different %s", name)
		}
	}
}

// TestPromptTokens holds the target: a 10-reply thread's whole prompt (system
// instruction and thread) stays under 1,200 tokens.
func TestPromptTokens(t *testing.T) {
	camp := analyze.Campaign{
		Name: "nexus", Context: "We make Nexus, a self-hosted social listening tool for small teams. " +
			"An opportunity is someone looking for a listening tool or unhappy with an expensive one.",
		Keywords: []string{"social listening", "brand monitoring"}, Lang: "en",
	}
	for _, tc := range []struct{ replies, max int }{{1, 700}, {10, 1200}, {100, analyze.DefaultThreadTokens + 700}} {
		conv, _ := analyze.Build("100", analyzetest.Thread(tc.replies))
		req := analyze.NewRequest(camp, conv, 0)
		n := analyze.EstimateTokens(req.System) + analyze.EstimateTokens(req.Turns[0].Text)
		t.Logf("%3d replies: ~%d prompt tokens", tc.replies, n)
		if n > tc.max {
			t.Errorf("%d replies: ~%d prompt tokens, want ≤ %d", tc.replies, n, tc.max)
		}
	}
}

// BenchmarkPromptTokens reports the estimated prompt tokens of threads of 1, 10 and 100
// replies, for docs/benchmarks.md (every prompt of one size is the same, so the median
// and p95 are that one figure).
func BenchmarkPromptTokens(b *testing.B) {
	camp := analyze.Campaign{Name: "nexus", Context: "We make Nexus, a self-hosted social listening tool.", Keywords: []string{"social listening"}}
	for _, n := range []int{1, 10, 100} {
		conv, _ := analyze.Build("100", analyzetest.Thread(n))
		b.Run(fmt.Sprintf("replies=%d", n), func(b *testing.B) {
			var tokens int
			for b.Loop() {
				req := analyze.NewRequest(camp, conv, 0)
				tokens = analyze.EstimateTokens(req.System) + analyze.EstimateTokens(req.Turns[0].Text)
			}
			b.ReportMetric(float64(tokens), "tokens/prompt")
		})
	}
}
