package analyze_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"nexus/pipeline/analyze"
	"nexus/pipeline/analyze/analyzetest"
	"nexus/scraper"
)

func ids(conv analyze.Conversation) string {
	var b []string
	for _, n := range conv.Tweets {
		b = append(b, fmt.Sprintf("%s/%d", n.Tweet.ID, n.Depth))
	}
	return strings.Join(b, " ")
}

func TestBuild(t *testing.T) {
	P := analyzetest.Post
	tweets := []scraper.Tweet{
		P("4", "2", "dan", 30, "deep"),
		P("2", "1", "bob", 10, "first reply"),
		P("1", "", "alice", 0, "root"),
		P("3", "1", "carol", 20, "second reply"),
		P("9", "8", "eve", 40, "parent missing"),
	}
	conv, err := analyze.Build("4", tweets)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(conv), "1/0 2/1 4/2 3/1 9/1"; got != want {
		t.Errorf("order = %q, want %q", got, want)
	}
	if conv.RootID != "1" || conv.HitID != "4" || conv.ID != "1" {
		t.Errorf("root %q hit %q id %q", conv.RootID, conv.HitID, conv.ID)
	}
	if n, _ := conv.Node("9"); n.Parent != "1" {
		t.Errorf("orphan parent = %q, want the root", n.Parent)
	}
	if conv.Lang() != "en" {
		t.Errorf("Lang = %q", conv.Lang())
	}

	// The same posts in any order build the same conversation.
	for range 5 {
		shuffled := append([]scraper.Tweet(nil), tweets...)
		rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		c2, _ := analyze.Build("4", shuffled)
		if ids(c2) != ids(conv) {
			t.Fatalf("order depends on input: %q vs %q", ids(c2), ids(conv))
		}
	}

	if _, err := analyze.Build("nope", tweets); !errors.Is(err, analyze.ErrNoHit) {
		t.Errorf("missing hit: err = %v", err)
	}
}

func TestBuildUsesConversationIDAndSurvivesCycles(t *testing.T) {
	P := analyzetest.Post
	a, b := P("a", "b", "x", 1, "a"), P("b", "a", "y", 2, "b") // a cycle, never on X
	root := P("r", "", "z", 0, "root")
	for _, tw := range []*scraper.Tweet{&a, &b, &root} {
		tw.ConversationID = "r"
	}
	conv, err := analyze.Build("a", []scraper.Tweet{a, b, root})
	if err != nil {
		t.Fatal(err)
	}
	if conv.RootID != "r" || len(conv.Tweets) != 3 {
		t.Fatalf("root %q, %d posts (%s)", conv.RootID, len(conv.Tweets), ids(conv))
	}
}

func TestLangSkipsUndetermined(t *testing.T) {
	P := analyzetest.Post
	root, hit := P("1", "", "a", 0, "hola"), P("2", "1", "b", 1, "https://t.co/x")
	root.Lang, hit.Lang = "es", "zxx"
	conv, _ := analyze.Build("2", []scraper.Tweet{root, hit})
	if conv.Lang() != "es" {
		t.Errorf("Lang = %q, want es", conv.Lang())
	}
}
