package scraper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"nexus/scraper/xfake"
)

// addQTweets stores n tweets matching "q" with every kind of content the parser must
// carry over: entities, escaped characters, long posts, visibility wrappers, media,
// missing views, quotes, replies, and deleted posts, which search never returns.
func addQTweets(srv *xfake.Server, start time.Time, n int) {
	users := srv.Users()
	var prev string
	for i := range n {
		u := users[(i*7)%len(users)]
		tw := xfake.Tweet{
			AuthorID:  u.ID,
			Text:      fmt.Sprintf("q #tag%d @%s https://example.com/p/%d a&b <i> number %d", i%5, users[(i+1)%len(users)].ScreenName, i, i),
			CreatedAt: start.Add(time.Duration(i) * time.Minute),
			LikeCount: int64(i * 3), RetweetCount: int64(i % 9), QuoteCount: int64(i % 4), BookmarkCount: int64(i % 6),
			ViewCount: int64(100 + i*10), Lang: []string{"en", "es", "de"}[i%3],
		}
		switch {
		case i%7 == 1:
			tw.Text = "q " + strings.Repeat("a long post that goes on ", 15)
		case i%11 == 2:
			tw.Visibility = true
		case i%13 == 3:
			tw.Media = []xfake.Media{{Type: "photo", URL: "https://pbs.twimg.com/media/q.jpg"}, {Type: "video", URL: "https://pbs.twimg.com/v.jpg"}}
		case i%17 == 4:
			tw.NoViews = true
		case i%19 == 5 && prev != "":
			tw.QuotedID = prev
		case i%23 == 6 && prev != "":
			tw.InReplyToID = prev
		case i%29 == 7:
			tw.Deleted = true
		}
		prev = srv.AddTweet(tw).ID
	}
}

// TestSearchAcceptance is the acceptance test: two accounts, "q", limit 200.
// Every entry-level tweet of every page comes exactly once with the fake's fields, and
// when the first account's quota runs out the second carries on, the first untouched
// until its reset.
func TestSearchAcceptance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		spend      func(h *harness)
		aPages     int // pages a served
		aRequests  int
		lastStatus int
	}{
		{"the page that spends the quota is kept", func(h *harness) {
			h.srv.SetRemaining(token("a"), OpSearchTimeline, 3)
		}, 3, 3, 200},
		{"429 with x-rate-limit-remaining 0", func(h *harness) {
			h.srv.InjectFault(xfake.All(onA, func(r xfake.Request) bool { return r.AccountOpSeq == 3 }), xfake.FaultRateLimited(), 1)
		}, 2, 3, 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, setup{xopts: []xfake.Option{xfake.WithCorpus(12, 1000)}})
			addQTweets(h.srv, h.clock.Now().Add(-300*time.Minute), 260)
			tt.spend(h)
			got, err := h.search(SearchOptions{Query: "q", Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			want := h.srv.MatchingIDs("q", "Latest")
			if len(want) < 220 {
				t.Fatalf("the fake matches %d tweets; the test needs more than the limit", len(want))
			}
			if !slices.Equal(tweetIDs(got), want[:200]) {
				t.Fatalf("got %d tweets, not the fake's first 200 matches in order", len(got))
			}
			for _, tw := range got {
				checkTweet(t, h.srv, tw)
			}

			reqs := h.opRequests(OpSearchTimeline)
			var aReqs []xfake.Request
			lastA := 0
			for i, r := range reqs {
				if r.Account == token("a") {
					aReqs = append(aReqs, r)
					lastA = i
				}
			}
			if len(aReqs) != tt.aRequests || aReqs[len(aReqs)-1].Status != tt.lastStatus {
				t.Fatalf("a sent %d requests, the last answered %d", len(aReqs), aReqs[len(aReqs)-1].Status)
			}
			if pages := len(reqs) - (len(aReqs) - tt.aPages); pages != 10 {
				t.Errorf("%d pages served for 200 tweets, want 10", pages)
			}
			for _, r := range reqs[lastA+1:] {
				if r.Account != token("b") || r.Status != 200 {
					t.Fatalf("after a's quota ran out: request by %s answered %d", r.Account, r.Status)
				}
			}
			_, reset := h.srv.RateLimit(token("a"), OpSearchTimeline)
			a := h.state(t, "a")
			if !a.Operations[OpSearchTimeline].LockedUntil.Equal(reset) || !a.Active {
				t.Fatalf("a locked until %v, want X's reset %v", a.Operations[OpSearchTimeline].LockedUntil, reset)
			}

			// Before the reset a is not touched, even by a new search; after it, a is
			// the least recently used account again.
			h.clock.Advance(reset.Sub(h.clock.Now()) - time.Second)
			if _, err := h.search(SearchOptions{Query: "q", Limit: 20}); err != nil {
				t.Fatal(err)
			}
			if n := h.srv.CountAccount(token("a"), OpSearchTimeline); n != tt.aRequests {
				t.Fatalf("a was used before its reset")
			}
			h.clock.Advance(time.Second)
			if _, err := h.search(SearchOptions{Query: "q", Limit: 20}); err != nil {
				t.Fatal(err)
			}
			if n := h.srv.CountAccount(token("a"), OpSearchTimeline); n != tt.aRequests+1 {
				t.Fatalf("a should serve again after its reset: %d requests", n)
			}
		})
	}
}

// searchPageBody is a SearchTimeline page of synthetic tweets and a bottom cursor.
func searchPageBody(cursor string, ids ...string) []byte {
	var entries []string
	for _, id := range ids {
		entries = append(entries, tweetEntry(id, tweetJSON(id, "", "")))
	}
	if cursor != "" {
		entries = append(entries, cursorEntry("Bottom", cursor))
	}
	return []byte(searchBody(addEntries(entries...)))
}

// adsPage is a search page holding a promoted tweet only.
func adsPage(cursor string) []byte {
	return []byte(searchBody(addEntries(
		itemEntry("promoted-tweet-77-1f", `,"tweet_results":{"result":`+tweetJSON("77", "", "")+`},"promotedMetadata":{"disclosureType":"NoDisclosure"}`),
		cursorEntry("Bottom", cursor))))
}

func TestSearchStops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		pages    [][]byte
		limit    int
		want     string // tweet ids received, per page, "|" between pages
		requests int
	}{
		{"limit cuts the last page", [][]byte{searchPageBody("c1", "1", "2"), searchPageBody("c2", "3", "4"), searchPageBody("c3", "5")},
			3, "1,2|3", 2},
		{"repeated cursor", [][]byte{searchPageBody("c1", "1", "2"), searchPageBody("c1", "3"), searchPageBody("c2", "4")},
			0, "1,2|3", 2},
		{"repeated page", [][]byte{searchPageBody("c1", "1", "2"), searchPageBody("c2", "1", "2"), searchPageBody("c3", "4")},
			0, "1,2", 2},
		{"three empty pages", [][]byte{searchPageBody("c1", "1"), searchPageBody("c2"), searchPageBody("c3"), searchPageBody("c4"), searchPageBody("c5", "9")},
			0, "1", 4},
		{"an empty page between full ones does not stop", [][]byte{searchPageBody("c1", "1"), searchPageBody("c2"), searchPageBody("c3", "2"), searchPageBody("")},
			0, "1|2", 4},
		{"pages of old tweets count as empty", [][]byte{searchPageBody("c1", "1", "2"), searchPageBody("c2", "1"), searchPageBody("c3", "2"), searchPageBody("c4", "1"), searchPageBody("c5", "7")},
			0, "1,2", 4},
		{"an empty first page is the end", [][]byte{searchPageBody("c1"), searchPageBody("c2", "1")},
			0, "", 1},
		{"a first page of ads only is not the end", [][]byte{adsPage("c1"), searchPageBody("", "1")},
			0, "1", 2},
		{"no cursor", [][]byte{searchPageBody("", "1", "2"), searchPageBody("c2", "3")},
			0, "1,2", 1},
		{"streams only new tweets", [][]byte{searchPageBody("c1", "1", "2"), searchPageBody("c2", "2", "3"), searchPageBody("", "3", "4", "1")},
			0, "1,2|3|4", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, setup{})
			h.srv.ServeFixture(OpSearchTimeline, tt.pages...)
			var pages []string
			var sentBefore []string // requests sent when each page was handed over
			err := h.c.Search(context.Background(), SearchOptions{Query: "x", Limit: tt.limit}, func(p Page) error {
				pages = append(pages, strings.Join(tweetIDs(p.Tweets), ","))
				sentBefore = append(sentBefore, fmt.Sprint(len(h.opRequests(OpSearchTimeline))))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(pages, "|"); got != tt.want {
				t.Errorf("pages %q, want %q", got, tt.want)
			}
			if n := len(h.opRequests(OpSearchTimeline)); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
			if tt.name == "streams only new tweets" && strings.Join(sentBefore, ",") != "1,2,3" {
				t.Errorf("pages handed over after %v requests: want each page as it arrives", sentBefore)
			}
			if vars := h.opRequests(OpSearchTimeline); len(vars) > 1 && vars[1].Variables["cursor"] != "c1" {
				t.Errorf("page 2 asked with cursor %v", vars[1].Variables["cursor"])
			}
		})
	}
}

// TestSearchToTheEnd follows the fake's cursors to the end of the results, where X
// keeps sending empty pages with fresh cursors; Top comes in its own order.
func TestSearchToTheEnd(t *testing.T) {
	t.Parallel()
	for _, product := range []string{"Latest", "Top"} {
		t.Run(product, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, setup{xopts: []xfake.Option{xfake.WithCorpus(13, 3000)}})
			want := h.srv.MatchingIDs("coffee", product)
			got, err := h.search(SearchOptions{Query: "coffee", Product: strings.ToLower(product), PageSize: 50})
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 || !slices.Equal(tweetIDs(got), want) {
				t.Fatalf("got %d tweets, want the fake's %d in order", len(got), len(want))
			}
			full := (len(want) + 49) / 50
			if n := len(h.opRequests(OpSearchTimeline)); n != full+maxEmptyPages {
				t.Fatalf("%d requests for %d full pages; want %d", n, full, full+maxEmptyPages)
			}
			if r := h.opRequests(OpSearchTimeline)[0]; r.Variables["product"] != product || r.Variables["count"] != float64(50) {
				t.Fatalf("variables %v", r.Variables)
			}
		})
	}
}

func TestSearchCallbackErrorStops(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{xopts: []xfake.Option{xfake.WithCorpus(14, 1000)}})
	errFull := errors.New("disk full")
	err := h.c.Search(context.Background(), SearchOptions{Query: "the"}, func(Page) error { return errFull })
	if err != errFull {
		t.Fatalf("err = %v, want the callback's error as is", err)
	}
	if n := len(h.opRequests(OpSearchTimeline)); n != 1 {
		t.Fatalf("%d requests after the callback failed", n)
	}
	if a := h.state(t, "a"); !a.Operations[OpSearchTimeline].LeasedUntil.IsZero() || a.Operations[OpSearchTimeline].Requests != 1 {
		t.Fatalf("a not released with its count: %+v", a.Operations[OpSearchTimeline])
	}
}

func TestSearchValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	for _, o := range []SearchOptions{{Query: "  "}, {Query: "x", Product: "People"}} {
		if err := h.c.Search(context.Background(), o, func(Page) error { return nil }); err == nil {
			t.Errorf("Search(%+v) should fail", o)
		}
	}
	if h.srv.Count("") != 0 {
		t.Fatal("nothing should be sent")
	}
}

// BenchmarkSearch measures tweets per second through the whole client (request
// building, the fake X over loopback, classification, parsing), 20-tweet pages.
func BenchmarkSearch(b *testing.B) {
	h := newHarness(b, setup{
		xopts:    []xfake.Option{xfake.WithCorpus(15, 20000), xfake.WithRateLimit(OpSearchTimeline, xfake.Limit{}), xfake.WithPromoted(false)},
		accounts: []string{"a"},
	})
	h.c.log = zerolog.Nop()
	total := 0
	start := time.Now()
	for b.Loop() {
		got, err := h.search(SearchOptions{Query: "the", Limit: 1000})
		if err != nil {
			b.Fatal(err)
		}
		total += len(got)
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "tweets/s")
}

// TestSearchResumesFromCursor: a search stopped after some pages and started again
// from the last page's Bottom cursor continues with the next tweets, none twice.
func TestSearchResumesFromCursor(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	addQTweets(h.srv, h.clock.Now().Add(-10*time.Hour), 120)
	want := h.srv.MatchingIDs("q", "Latest")
	var first []Tweet
	var cursor string
	errStop := errors.New("stop")
	err := h.c.Search(context.Background(), SearchOptions{Query: "q"}, func(p Page) error {
		first = append(first, p.Tweets...)
		cursor = p.Cursors.Bottom
		if len(first) >= 40 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || cursor == "" {
		t.Fatalf("first part: %v, cursor %q", err, cursor)
	}
	rest, err := h.search(SearchOptions{Query: "q", Cursor: cursor})
	if err != nil {
		t.Fatal(err)
	}
	got := append(tweetIDs(first), tweetIDs(rest)...)
	if !slices.Equal(got, want) {
		t.Fatalf("resumed search: %d tweets, want the %d matches once each in order", len(got), len(want))
	}
}
