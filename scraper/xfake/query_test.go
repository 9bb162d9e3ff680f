package xfake

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestQuery(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	alice := s.AddUser(User{ScreenName: "Alice"})
	bob := s.AddUser(User{ScreenName: "bob"})
	day := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	add := func(tw Tweet) string {
		if tw.CreatedAt.IsZero() {
			tw.CreatedAt = day
		}
		return s.AddTweet(tw).ID
	}
	t1 := add(Tweet{AuthorID: alice.ID, Text: "Golang is great for APIs #golang", LikeCount: 120})
	t2 := add(Tweet{AuthorID: bob.ID, Text: "I love rust and golang", LikeCount: 5, CreatedAt: day.Add(48 * time.Hour)})
	t3 := add(Tweet{AuthorID: bob.ID, Text: "@Alice the new pricing page is broken", InReplyToID: t1, Lang: "en"})
	t4 := add(Tweet{AuthorID: alice.ID, Text: "Hola, el precio es muy bueno", Lang: "es", Media: []Media{{Type: "photo", URL: "https://pbs.twimg.com/media/x.jpg"}}})
	t5 := add(Tweet{AuthorID: alice.ID, Text: "read https://golang.org/doc today", QuotedID: t2})
	t6 := add(Tweet{AuthorID: bob.ID, Text: "Q&A about new pricing"})
	add(Tweet{AuthorID: bob.ID, Text: "golang deleted", Deleted: true})

	tests := []struct {
		q    string
		want []string
	}{
		{"golang", []string{t2, t1}},
		{"GOLANG", []string{t2, t1}},
		{"#golang", []string{t1}},
		{"@alice", []string{t3}},
		{"golang rust", []string{t2}},
		{"rust OR pricing", []string{t2, t6, t3}},
		{"(rust OR pricing) -broken", []string{t2, t6}},
		{`"new pricing"`, []string{t6, t3}},
		{`-"new pricing" pricing`, nil},
		{"from:alice", []string{t5, t4, t1}},
		{"from:@Bob golang", []string{t2}},
		{"to:alice", []string{t3}},
		{"lang:es", []string{t4}},
		{"min_faves:100", []string{t1}},
		{"filter:replies", []string{t3}},
		{"-filter:replies from:bob", []string{t2, t6}},
		{"filter:media", []string{t4}},
		{"filter:links", []string{t5}},
		{"filter:quote", []string{t5}},
		{"doc", nil}, // words inside links do not match
		{"q&a", []string{t6}},
		{"since_id:" + t5, []string{t2, t6}},
		{"max_id:" + t2 + " golang", []string{t2, t1}},
		{"since:2026-07-02", []string{t2}},
		{"until:2026-07-02 golang", []string{t1}},
		{"conversation_id:" + t1, []string{t3, t1}},
		{"golang near:berlin", []string{t2, t1}}, // unknown operators are ignored
		{"-(golang OR pricing) from:alice", []string{t5, t4}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			got := s.MatchingIDs(tt.q, "Latest")
			if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if got := s.MatchingIDs("golang OR pricing", "Top"); got[0] != t1 {
		t.Errorf("Top does not rank by likes: %v", got)
	}
	if got := s.MatchingIDs("golang", "People"); len(got) != 0 {
		t.Errorf("People: %v", got)
	}
}

func TestEntities(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	u := s.AddUser(User{ScreenName: "gopher", Name: "Gopher"})
	parent := s.AddTweet(Tweet{AuthorID: u.ID, Text: "root"})
	tw := s.AddTweet(Tweet{
		Text:        "@gopher 🇪🇺 Tom & Jerry <3 #Go and @nobody_known see https://example.com/a/very/long/path/for/display?x=1.",
		InReplyToID: parent.ID,
		Media:       []Media{{Type: "video", URL: "https://pbs.twimg.com/thumb.jpg"}},
	})
	if !slices.Equal(tw.Hashtags(), []string{"Go"}) || !slices.Equal(tw.Mentions(), []string{"gopher", "nobody_known"}) ||
		!slices.Equal(tw.Links(), []string{"https://example.com/a/very/long/path/for/display?x=1"}) {
		t.Fatalf("accessors: %v %v %v", tw.Hashtags(), tw.Mentions(), tw.Links())
	}
	res := do(t, s, call{op: OpTweetDetail, vars: map[string]any{"focalTweetId": tw.ID}})
	var legacy map[string]any
	walk(res.json, func(m map[string]any) {
		if m["rest_id"] == tw.ID && m["legacy"] != nil {
			legacy, _ = m["legacy"].(map[string]any)
		}
	})
	if legacy == nil {
		t.Fatalf("tweet not served: %s", res.body)
	}
	full := []rune(legacy["full_text"].(string))
	span := func(e any) string {
		ix := arr(e, "indices")
		return string(full[int(ix[0].(float64)):int(ix[1].(float64))])
	}
	if got := span(get(legacy, "entities", "hashtags", 0)); got != "#Go" {
		t.Errorf("hashtag span %q", got)
	}
	if got := span(get(legacy, "entities", "user_mentions", 1)); got != "@nobody_known" {
		t.Errorf("mention span %q", got)
	}
	if str(legacy, "entities", "user_mentions", 0, "id_str") != u.ID || str(legacy, "entities", "user_mentions", 0, "name") != "Gopher" {
		t.Errorf("mention not resolved: %v", get(legacy, "entities", "user_mentions", 0))
	}
	link := get(legacy, "entities", "urls", 0)
	if span(link) != str(link, "url") || str(link, "url") != TCo(tw.Links()[0]) || str(link, "expanded_url") != tw.Links()[0] ||
		str(link, "display_url") != "example.com/a/very/long/p…" {
		t.Errorf("link %v, span %q", link, span(link))
	}
	media := get(legacy, "extended_entities", "media", 0)
	if span(media) != str(media, "url") || str(media, "type") != "video" || str(media, "media_url_https") != "https://pbs.twimg.com/thumb.jpg" ||
		len(arr(media, "video_info", "variants")) != 3 {
		t.Errorf("media %v", media)
	}
	dr := arr(legacy, "display_text_range")
	if int(dr[0].(float64)) != len([]rune("@gopher ")) || string(full[int(dr[1].(float64))-1]) != "." {
		t.Errorf("display_text_range %v of %q", dr, string(full))
	}
	if want := "Tom &amp; Jerry &lt;3"; !strings.Contains(string(full), want) {
		t.Errorf("full_text not HTML-escaped: %q", string(full))
	}
	if str(legacy, "in_reply_to_screen_name") != "gopher" || str(legacy, "in_reply_to_user_id_str") != u.ID {
		t.Errorf("reply fields: %v", legacy)
	}
}

func TestNoteTweet(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	long := ""
	for len([]rune(long)) < 400 {
		long += "ünïcode words for a long post #long "
	}
	tw := s.AddTweet(Tweet{Text: long + "end"})
	res := do(t, s, call{vars: searchVars("end")})
	r := get(res.json, "data", "search_by_raw_query", "search_timeline", "timeline", "instructions", 0, "entries", 0, "content", "itemContent", "tweet_results", "result")
	if str(r, "rest_id") != tw.ID {
		t.Fatalf("%s", res.body)
	}
	if got := str(r, "note_tweet", "note_tweet_results", "result", "text"); got != tw.Text {
		t.Errorf("note text %q", got)
	}
	if n := len([]rune(str(r, "legacy", "full_text"))); n != 280 {
		t.Errorf("legacy.full_text has %d runes, want 280", n)
	}
	if len(arr(r, "note_tweet", "note_tweet_results", "result", "entity_set", "hashtags")) <= len(arr(r, "legacy", "entities", "hashtags")) {
		t.Errorf("note entity_set not complete")
	}
}
