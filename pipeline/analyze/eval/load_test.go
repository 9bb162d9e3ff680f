package eval_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"nexus/pipeline/analyze/eval"
)

// TestSet checks that the set is well formed and as balanced as issue 6 asks: Load
// already rejects unknown campaigns and categories, missing parents and hits; this adds
// the balance, the hard cases and the languages.
func TestSet(t *testing.T) {
	set, err := eval.Load(setPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(set) < 60 {
		t.Errorf("%d cases, want at least 60", len(set))
	}
	pos, neg := 0, 0
	cats, hard, langs, camps := map[string]int{}, map[string]int{}, map[string]bool{}, map[string]bool{}
	for _, c := range set {
		if c.Opportunity {
			pos++
		} else {
			neg++
		}
		cats[c.Category]++
		hard[c.Hard]++
		camps[c.Campaign.Name] = true
		conv := c.Conversation
		if _, ok := conv.Node(conv.HitID); !ok {
			t.Errorf("%s: hit %s not in the conversation", c.ID, conv.HitID)
		}
		for _, n := range conv.Tweets {
			langs[n.Tweet.Lang] = true
			if n.Parent == "" && n.Tweet.ID != conv.RootID {
				t.Errorf("%s: post %s has no parent and is not the root", c.ID, n.Tweet.ID)
			}
			if _, ok := conv.Node(n.Parent); n.Parent != "" && !ok {
				t.Errorf("%s: post %s answers %s, not in the conversation", c.ID, n.Tweet.ID, n.Parent)
			}
		}
		if c.Hard == "url_only" {
			checkURLOnly(t, c)
		}
	}
	if pos < 20 || neg < 30 {
		t.Errorf("%d opportunities and %d others, want at least 20 and 30", pos, neg)
	}
	for _, name := range eval.Categories {
		if cats[name] < 4 {
			t.Errorf("category %s has %d cases, want at least 4", name, cats[name])
		}
	}
	for _, h := range []string{"sarcasm", "negation", "url_only", "answered", "language"} {
		if hard[h] == 0 {
			t.Errorf("no hard case of kind %q", h)
		}
	}
	for _, l := range []string{"en", "es", "fr", "de"} {
		if !langs[l] {
			t.Errorf("no post in %q", l)
		}
	}
	if len(camps) < 3 {
		t.Errorf("%d campaigns, want 3 or more", len(camps))
	}
}

// checkURLOnly holds a url_only case to its premise: a campaign keyword is in a link and
// nowhere else in the text.
func checkURLOnly(t *testing.T, c eval.Case) {
	t.Helper()
	hit, _ := c.Conversation.Node(c.Conversation.HitID)
	text := strings.ToLower(hit.Tweet.Text)
	for _, l := range hit.Tweet.Links {
		text = strings.ReplaceAll(text, strings.ToLower(l), " ")
	}
	links := strings.ToLower(strings.Join(hit.Tweet.Links, " "))
	inLink := false
	for _, k := range c.Campaign.Keywords {
		k = strings.ToLower(k)
		if strings.Contains(text, k) {
			t.Errorf("%s: url_only, but %q is in the text outside the link", c.ID, k)
		}
		inLink = inLink || strings.Contains(links, k)
	}
	if !inLink {
		t.Errorf("%s: url_only, but no campaign keyword is in a link", c.ID)
	}
}

func TestLoadRejects(t *testing.T) {
	campaigns, err := os.ReadFile(filepath.Join("testdata", eval.CampaignsFile))
	if err != nil {
		t.Fatal(err)
	}
	const root = `{"id":"1","user":"a","lang":"en","text":"Any CRM for a small agency?"}`
	line := func(fields, posts string) string {
		return `{"id":"x-1","campaign":"pipewell","category":"recommendation_request","relevant":true,"opportunity":true` +
			fields + `,"posts":[` + posts + `]}`
	}
	tests := []struct {
		name, jsonl, want string
	}{
		{"unknown campaign", strings.Replace(line(`,"hit":"1"`, root), "pipewell", "nope", 1), `unknown campaign "nope"`},
		{"unknown category", strings.Replace(line(`,"hit":"1"`, root), "recommendation_request", "rant", 1), `unknown category "rant"`},
		{"unknown field", line(`,"hit":"1","opportunty":false`, root), "unknown field"},
		{"missing hit", line(`,"hit":"9"`, root), `hit "9" is not in the thread`},
		{"missing parent", line(`,"hit":"1"`, root+`,{"id":"2","reply_to":"7","user":"b","lang":"en","text":"hi"}`), `replies to "7"`},
		{"two roots", line(`,"hit":"1"`, root+`,{"id":"2","user":"b","lang":"en","text":"hi"}`), "two roots"},
		{"no lang", line(`,"hit":"1"`, `{"id":"1","user":"a","text":"hi"}`), "needs a user and a lang"},
		{"duplicate post", line(`,"hit":"1"`, root+","+root), `duplicate post "1"`},
		{"cycle", line(`,"hit":"1"`, root+`,{"id":"2","reply_to":"3","user":"b","lang":"en","text":"hi"},{"id":"3","reply_to":"2","user":"c","lang":"en","text":"ho"}`), "cycle"},
		{"opportunity not relevant", strings.Replace(line(`,"hit":"1"`, root), `"relevant":true`, `"relevant":false`, 1), "must be relevant"},
		{"duplicate case", line(`,"hit":"1"`, root) + "\n" + line(`,"hit":"1"`, root), `duplicate case id "x-1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, eval.CampaignsFile), campaigns, 0o644); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "set.jsonl")
			if err := os.WriteFile(path, []byte(tt.jsonl+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			set, err := eval.Load(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load = %d cases, %v; want an error containing %q", len(set), err, tt.want)
			}
		})
	}

	t.Run("a good line loads", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, eval.CampaignsFile), campaigns, 0o644); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "set.jsonl")
		good := line(`,"hit":"2"`, root+`,{"id":"2","reply_to":"1","user":"b","lang":"es","minute":5,"likes":3,"text":"Same, see https://x.example/y #agencylife @a"}`)
		if err := os.WriteFile(path, []byte("\n"+good+"\n\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		set, err := eval.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		hit, _ := set[0].Conversation.Node("2")
		tw := hit.Tweet
		if tw.ConversationID != "1" || *tw.InReplyToID != "1" || tw.LikeCount != 3 || tw.CreatedAt != eval.Epoch.Add(5*60e9) ||
			!slices.Equal(tw.Links, []string{"https://x.example/y"}) || !slices.Equal(tw.Hashtags, []string{"agencylife"}) ||
			!slices.Equal(tw.Mentions, []string{"a"}) || tw.Lang != "es" {
			t.Errorf("hit tweet = %+v", tw)
		}
		if root, _ := set[0].Conversation.Node("1"); root.Tweet.ReplyCount != 1 {
			t.Errorf("root reply count = %d, want 1", root.Tweet.ReplyCount)
		}
	})
}
