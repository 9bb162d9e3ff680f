package xfake

import (
	"slices"
	"strings"
	"testing"
)

// searchPage is what a client reads from one SearchTimeline response.
type searchPage struct {
	tweets       []string // entry-level tweet ids, promoted entries excluded
	promoted     int
	bottom, top  string
	instructions []string
}

func readSearchPage(t *testing.T, res result) searchPage {
	t.Helper()
	if res.status != 200 {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	var p searchPage
	cursor := func(e any) {
		switch str(e, "content", "cursorType") {
		case "Bottom":
			p.bottom = str(e, "content", "value")
		case "Top":
			p.top = str(e, "content", "value")
		}
	}
	for _, in := range arr(res.json, "data", "search_by_raw_query", "search_timeline", "timeline", "instructions") {
		p.instructions = append(p.instructions, str(in, "type"))
		switch str(in, "type") {
		case "TimelineAddEntries":
			for _, e := range arr(in, "entries") {
				id := str(e, "entryId")
				switch {
				case strings.HasPrefix(id, "promoted-tweet-"):
					if get(e, "content", "itemContent", "promotedMetadata") == nil {
						t.Errorf("%s without promotedMetadata", id)
					}
					p.promoted++
				case strings.HasPrefix(id, "tweet-"):
					r := get(e, "content", "itemContent", "tweet_results", "result")
					if str(r, "__typename") == "TweetWithVisibilityResults" {
						r = get(r, "tweet")
					}
					if rid := str(r, "rest_id"); "tweet-"+rid != id {
						t.Errorf("entry %s holds tweet %s", id, rid)
					}
					p.tweets = append(p.tweets, strings.TrimPrefix(id, "tweet-"))
				case strings.HasPrefix(id, "cursor-"):
					cursor(e)
				default:
					t.Errorf("unexpected entry %s", id)
				}
			}
		case "TimelineReplaceEntry":
			cursor(get(in, "entry"))
		}
	}
	return p
}

func TestSearchPagination(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithCorpus(42, 1000), WithRateLimit(OpSearchTimeline, Limit{}))
	tests := []struct {
		query, product string
	}{
		{"the", "Latest"},
		{"the", "Top"},
		{"support OR pricing -refund", "Latest"},
		{"lang:es", "Latest"},
		{"filter:media", "Media"},
		{"-filter:replies min_faves:50", "Top"},
	}
	for _, tt := range tests {
		t.Run(tt.query+"/"+tt.product, func(t *testing.T) {
			want := s.MatchingIDs(tt.query, tt.product)
			if len(want) < 25 {
				t.Fatalf("only %d matches: the test needs several pages", len(want))
			}
			vars := map[string]any{"rawQuery": tt.query, "count": 20, "product": tt.product, "querySource": "typed_query"}
			var got []string
			seenBottom := map[string]bool{}
			empty := 0
			for page := 1; empty < 3; page++ {
				if page > 200 {
					t.Fatal("no end")
				}
				p := readSearchPage(t, do(t, s, call{vars: vars}))
				if p.bottom == "" || p.top == "" {
					t.Fatalf("page %d: cursors missing", page)
				}
				if seenBottom[p.bottom] {
					t.Fatalf("page %d: bottom cursor repeated", page)
				}
				seenBottom[p.bottom] = true
				if page == 1 && !slices.Equal(p.instructions, []string{"TimelineAddEntries"}) {
					t.Errorf("page 1 instructions %v", p.instructions)
				}
				if page > 1 && !slices.Equal(p.instructions, []string{"TimelineAddEntries", "TimelineReplaceEntry", "TimelineReplaceEntry"}) {
					t.Errorf("page %d instructions %v", page, p.instructions)
				}
				if len(p.tweets) > 20 {
					t.Errorf("page %d: %d tweets", page, len(p.tweets))
				}
				if len(p.tweets) >= 3 && p.promoted != 1 {
					t.Errorf("page %d: %d promoted entries", page, p.promoted)
				}
				if len(p.tweets) == 0 {
					empty++
				}
				got = append(got, p.tweets...)
				vars["cursor"] = p.bottom
			}
			if !slices.Equal(got, want) {
				t.Fatalf("collected %d tweets, want %d in order", len(got), len(want))
			}
		})
	}
}

func TestSearchTopCursorGetsNewTweets(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newTestServer(t, WithClock(clock.Now))
	for range 5 {
		clock.Advance(10)
		s.AddTweet(Tweet{Text: "fresh news"})
	}
	vars := searchVars("fresh")
	p := readSearchPage(t, do(t, s, call{vars: vars}))
	if len(p.tweets) != 5 {
		t.Fatalf("%d tweets", len(p.tweets))
	}
	vars["cursor"] = p.top
	if p := readSearchPage(t, do(t, s, call{vars: vars})); len(p.tweets) != 0 {
		t.Fatalf("top cursor before new tweets: %v", p.tweets)
	}
	var added []string
	for range 3 {
		clock.Advance(1e9)
		added = append(added, s.AddTweet(Tweet{Text: "fresh again"}).ID)
	}
	p = readSearchPage(t, do(t, s, call{vars: vars}))
	slices.Reverse(added)
	if !slices.Equal(p.tweets, added) {
		t.Fatalf("top cursor gave %v, want %v", p.tweets, added)
	}
}

func TestSearchRespectsCountAndBadCursor(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithCorpus(3, 300), WithPromoted(false))
	vars := map[string]any{"rawQuery": "the", "count": 7, "product": "Latest"}
	p := readSearchPage(t, do(t, s, call{vars: vars}))
	if len(p.tweets) != 7 || p.promoted != 0 {
		t.Fatalf("%d tweets, %d promoted", len(p.tweets), p.promoted)
	}
	vars["cursor"] = "garbage"
	res := do(t, s, call{vars: vars})
	if res.status != 200 || len(arr(res.json, "data", "search_by_raw_query", "search_timeline", "timeline", "instructions")) != 0 {
		t.Fatalf("bad cursor: %d %s", res.status, res.body)
	}
}

func TestSearchExcludesDeletedAndRetweetsByDefault(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	orig := s.AddTweet(Tweet{Text: "keyword original"})
	s.AddTweet(Tweet{Text: "keyword gone", Deleted: true})
	rt := s.AddTweet(Tweet{Text: orig.Text, RetweetedID: orig.ID})
	if got := s.MatchingIDs("keyword", "Latest"); !slices.Equal(got, []string{orig.ID}) {
		t.Errorf("default: %v", got)
	}
	if got := s.MatchingIDs("keyword include:nativeretweets", "Latest"); !slices.Equal(got, []string{rt.ID, orig.ID}) {
		t.Errorf("include:nativeretweets: %v", got)
	}
	if got := s.MatchingIDs("keyword filter:nativeretweets", "Latest"); !slices.Equal(got, []string{rt.ID}) {
		t.Errorf("filter:nativeretweets: %v", got)
	}
}
