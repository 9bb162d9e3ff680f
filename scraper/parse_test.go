package scraper

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the parser's output")

// fixtures lists every captured X response in testdata/x with what parsing it must give.
var fixtures = []struct {
	path     string
	tweets   int
	top      bool // has a Top cursor
	bottom   bool // has a Bottom cursor
	showMore int
}{
	{path: "2024-06/raw_search.json", tweets: 17, top: true, bottom: true},
	{path: "2024-06/raw_tweet_replies.json", tweets: 4, showMore: 1},
	{path: "2025-03/raw_tweet_details.json", tweets: 11, bottom: true},
	{path: "2026/raw_search.json", tweets: 20, top: true, bottom: true},
	{path: "2026/raw_tweet_details.json", tweets: 37, bottom: true},
	{path: "2026/raw_user_by_login.json", tweets: 0}, // UserByScreenName: data, no timeline
	{path: "2026/raw_user_tweets.json", tweets: 21, top: true, bottom: true},
	{path: "edge/_issue_42_regr.json", tweets: 2},
	{path: "edge/_issue_56.json", tweets: 11, bottom: true, showMore: 3},
	{path: "edge/card_summary.json", tweets: 5, showMore: 1},
	{path: "edge/manual_tweet_with_video_1.json", tweets: 11, bottom: true},
}

func readFixture(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "x", path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseFixture(t testing.TB, path string) Page {
	t.Helper()
	p, err := ParseTimeline(readFixture(t, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

func TestParseTimelineFixtures(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "x", "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(fixtures) {
		t.Errorf("testdata/x has %d files, the table %d: add the new ones to it", len(files), len(fixtures))
	}
	for _, tt := range fixtures {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			p := parseFixture(t, tt.path)
			if len(p.Tweets) != tt.tweets {
				t.Errorf("tweets = %d, want %d", len(p.Tweets), tt.tweets)
			}
			if (p.Cursors.Top != "") != tt.top || (p.Cursors.Bottom != "") != tt.bottom {
				t.Errorf("cursors top=%q bottom=%q, want top %v bottom %v", p.Cursors.Top, p.Cursors.Bottom, tt.top, tt.bottom)
			}
			if len(p.Cursors.ShowMore) != tt.showMore {
				t.Errorf("show-more cursors = %d, want %d", len(p.Cursors.ShowMore), tt.showMore)
			}
			if p.Errors != nil {
				t.Errorf("errors = %v", p.Errors)
			}
			seen := map[string]bool{}
			for _, tw := range p.Tweets {
				checkTweetInvariants(t, tw)
				if seen[tw.ID] {
					t.Errorf("tweet %s twice", tw.ID)
				}
				seen[tw.ID] = true
			}
		})
	}
}

// checkTweetInvariants checks what must hold for every parsed tweet of a real response.
func checkTweetInvariants(t *testing.T, tw Tweet) {
	t.Helper()
	if tw.ID == "" || tw.Username == "" || tw.UserID == "" || tw.Author.ID != tw.UserID {
		t.Errorf("tweet %q: id, username %q, user id %q or author %q missing", tw.ID, tw.Username, tw.UserID, tw.Author.ID)
	}
	if tw.URL != "https://x.com/"+tw.Username+"/status/"+tw.ID {
		t.Errorf("tweet %s: url %q", tw.ID, tw.URL)
	}
	if tw.CreatedAt.IsZero() || tw.CreatedAt.Location() != time.UTC || tw.Author.CreatedAt.IsZero() {
		t.Errorf("tweet %s: created_at %v, author created_at %v", tw.ID, tw.CreatedAt, tw.Author.CreatedAt)
	}
	if tw.Text == "" || tw.ConversationID == "" || tw.Lang == "" {
		t.Errorf("tweet %s: text, conversation id or lang empty", tw.ID)
	}
	if tw.Hashtags == nil || tw.Mentions == nil || tw.Links == nil || tw.Media == nil {
		t.Errorf("tweet %s: nil slice", tw.ID)
	}
	if strings.Contains(tw.Text, "&amp;") || strings.Contains(tw.Text, "&gt;") {
		t.Errorf("tweet %s: HTML entity left in %q", tw.ID, tw.Text)
	}
	if tw.Quoted != nil && (tw.QuotedID == nil || *tw.QuotedID != tw.Quoted.ID) {
		t.Errorf("tweet %s: quoted_id %v does not match the nested tweet %s", tw.ID, tw.QuotedID, tw.Quoted.ID)
	}
	if tw.Retweeted != nil && (tw.RetweetedID == nil || *tw.RetweetedID != tw.Retweeted.ID) {
		t.Errorf("tweet %s: retweeted_id %v does not match the nested tweet %s", tw.ID, tw.RetweetedID, tw.Retweeted.ID)
	}
}

func findTweet(t *testing.T, p Page, id string) Tweet {
	t.Helper()
	for _, tw := range p.Tweets {
		if tw.ID == id {
			return tw
		}
	}
	t.Fatalf("tweet %s not in page", id)
	return Tweet{}
}

func ptr[T any](v T) *T { return &v }

func eq[T comparable](t *testing.T, name string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

func eqPtr[T comparable](t *testing.T, name string, got, want *T) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %v, want %v", name, deref(got), deref(want))
	case *got != *want:
		t.Errorf("%s = %v, want %v", name, *got, *want)
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return "nil"
	}
	return *p
}

// TestParseTimelineFixtureFields checks fields of a few tweets against values read from the
// raw JSON by hand (jq), one function per fixture.
func TestParseTimelineFixtureFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path  string
		check func(t *testing.T, p Page)
	}{
		{"2026/raw_search.json", func(t *testing.T, p Page) {
			eq(t, "first id", p.Tweets[0].ID, "2074976613713031490")
			eq(t, "cursor top", p.Cursors.Top != "" && p.Cursors.Bottom != "" && p.Cursors.Top != p.Cursors.Bottom, true)

			// A long post: note_tweet text, 2026 user schema.
			tw := p.Tweets[0]
			eq(t, "username", tw.Username, "piloly")
			eq(t, "display name", tw.DisplayName, "Roland Pircher")
			eq(t, "user id", tw.UserID, "20472409")
			eq(t, "url", tw.URL, "https://x.com/piloly/status/2074976613713031490")
			eq(t, "created", tw.CreatedAt, time.Date(2026, 7, 8, 21, 59, 10, 0, time.UTC))
			eq(t, "text runes", utf8.RuneCountInString(tw.Text), 473)
			eq(t, "text start", strings.HasPrefix(tw.Text, "In Europe*, 4.7k Tesla sales were reported"), true)
			eq(t, "text end", strings.HasSuffix(tw.Text, "Czech Republic, Iceland (~60% of Tesla sales in Europe)"), true)
			eqPtr(t, "views", tw.ViewCount, ptr[int64](25900))
			eq(t, "likes", tw.LikeCount, 312)
			eq(t, "retweets", tw.RetweetCount, 21)
			eq(t, "replies", tw.ReplyCount, 11)
			eq(t, "quotes", tw.QuoteCount, 9)
			eq(t, "bookmarks", tw.BookmarkCount, 7)
			eq(t, "lang", tw.Lang, "en")
			eq(t, "conversation", tw.ConversationID, tw.ID)
			eqPtr(t, "in reply to", tw.InReplyToID, nil)
			eq(t, "media", len(tw.Media), 4)
			eq(t, "media[2]", tw.Media[2], Media{Type: "photo", URL: "https://pbs.twimg.com/media/HMvMNUEXEAAuqM5.png"})
			eq(t, "followers", tw.Author.FollowersCount, 29524)
			eq(t, "following", tw.Author.FollowingCount, 419)
			eq(t, "verified (blue)", tw.Author.Verified, true)
			eq(t, "author created", tw.Author.CreatedAt, time.Date(2009, 2, 9, 22, 11, 12, 0, time.UTC))

			// A quote: the quoted tweet is nested, never a result of its own.
			q := findTweet(t, p, "2074963269429661921")
			eq(t, "quote username", q.Username, "teslascope")
			eqPtr(t, "quoted id", q.QuotedID, ptr("2072535265533456878"))
			if q.Quoted == nil {
				t.Fatal("quoted tweet not nested")
			}
			eq(t, "quoted username", q.Quoted.Username, "teslascope")
			eqPtr(t, "quoted views", q.Quoted.ViewCount, ptr[int64](206576))
			eq(t, "quoted text", strings.HasPrefix(q.Quoted.Text, "We noticed a new Tesla software update 2026.20.6.1 on Model "), true)
			for _, tw := range p.Tweets {
				if tw.ID == "2072535265533456878" {
					t.Error("quoted tweet returned as a result")
				}
			}
		}},
		{"2024-06/raw_search.json", func(t *testing.T, p Page) {
			// The pre-2026 user schema (everything under user.legacy); fresh tweets without a
			// view count.
			tw := p.Tweets[0]
			eq(t, "id", tw.ID, "1807077687061586202")
			eq(t, "username", tw.Username, "TianLu51253699")
			eq(t, "display name", tw.DisplayName, "Améthyste")
			eq(t, "user id", tw.UserID, "1470439225552158725")
			eq(t, "followers", tw.Author.FollowersCount, 77)
			eq(t, "following", tw.Author.FollowingCount, 48)
			eq(t, "verified (blue)", tw.Author.Verified, true)
			eq(t, "author created", tw.Author.CreatedAt, time.Date(2021, 12, 13, 17, 3, 48, 0, time.UTC))
			eq(t, "created", tw.CreatedAt, time.Date(2024, 6, 29, 15, 44, 29, 0, time.UTC))
			eqPtr(t, "views", tw.ViewCount, nil)
			eqPtr(t, "in reply to", tw.InReplyToID, ptr("1807064962742747390"))
			eq(t, "conversation", tw.ConversationID, "1807064962742747390")
			eq(t, "mentions", strings.Join(tw.Mentions, " "), "EPavlic elonmusk cyb3rgam3r420 WholeMarsBlog teslaownersSV MagazineTesla TeslaOracle_com DJpowers69 occupymars42069 kerrikgray Kristennetten AIXBird")
			eq(t, "text", strings.HasSuffix(tw.Text, "What Elon likes is not necessarily what you would like the most."), true)

			q := findTweet(t, p, "1807077669453889551")
			eq(t, "quote author", q.Username, "PMBHARAT2024")
			eq(t, "quote verified", q.Author.Verified, false)
			eqPtr(t, "quoted id", q.QuotedID, ptr("1807058394030674318"))
			if q.Quoted == nil || q.Quoted.Username != "World_At_War_6" {
				t.Errorf("quoted = %+v", q.Quoted)
			}
			// Legacy full_text is HTML-escaped; the parsed text is not.
			found := false
			for _, tw := range p.Tweets {
				found = found || strings.Contains(tw.Text, "Chamath Palihapitiya & David Sacks")
			}
			if !found {
				t.Error(`no text with "Chamath Palihapitiya & David Sacks" (full_text has &amp;)`)
			}
		}},
		{"2026/raw_user_tweets.json", func(t *testing.T, p Page) {
			// TimelinePinEntry comes first; retweets nest the original.
			eq(t, "pinned first", p.Tweets[0].ID, "2019881223666233717")
			rt := findTweet(t, p, "2083305234688803178")
			eq(t, "rt username", rt.Username, "XDevelopers")
			eqPtr(t, "retweeted id", rt.RetweetedID, ptr("2083289084567724316"))
			if rt.Retweeted == nil {
				t.Fatal("retweeted tweet not nested")
			}
			eq(t, "original author", rt.Retweeted.Username, "benjitaylor")
			eq(t, "original likes", rt.Retweeted.LikeCount, 674)
			eqPtr(t, "rt views", rt.ViewCount, ptr[int64](2062))
			eqPtr(t, "original views", rt.Retweeted.ViewCount, ptr[int64](104358))
			// The RT's own text is cut with "…"; it is rebuilt from the original.
			eq(t, "rt text", rt.Text, "RT @benjitaylor: "+rt.Retweeted.Text)
			eq(t, "rt text end", strings.HasSuffix(rt.Text, "continue investing in our DX! https://t.co/7MkjBRWz9P"), true)
			for _, tw := range p.Tweets {
				if tw.ID == "2083289084567724316" {
					t.Error("retweeted original returned as a result")
				}
			}
			// The profile-conversation module's tweets are results; who-to-follow users are not.
			findTweet(t, p, "2082640274845811115")
			findTweet(t, p, "2082640276389249363")
			eq(t, "users", len(p.Users), 0)
		}},
		{"2026/raw_tweet_details.json", func(t *testing.T, p Page) {
			focal := p.Tweets[0]
			eq(t, "focal", focal.ID, "1649191520250245121")
			eq(t, "focal conversation", focal.ConversationID, focal.ID)
			// The first reply thread: a self-thread of three tweets, each replying to the last.
			eqPtr(t, "reply 1", p.Tweets[1].InReplyToID, ptr("1649191520250245121"))
			eq(t, "reply 2 id", p.Tweets[2].ID, "1649191522485817345")
			eqPtr(t, "reply 2", p.Tweets[2].InReplyToID, ptr("1649191521323995138"))
			for _, tw := range p.Tweets {
				eq(t, "conversation of "+tw.ID, tw.ConversationID, "1649191520250245121")
			}
			gif := findTweet(t, p, "1649263296434806785")
			if len(gif.Media) != 1 || gif.Media[0].Type != "animated_gif" || !strings.HasSuffix(gif.Media[0].URL, ".mp4") {
				t.Errorf("gif media = %+v", gif.Media)
			}
		}},
		{"2025-03/raw_tweet_details.json", func(t *testing.T, p Page) {
			// The 2025 user schema and a note tweet whose text drops the leading @mention.
			tw := findTweet(t, p, "1667373163150278657")
			eq(t, "username", tw.Username, "therealmck3nzie")
			eq(t, "text", strings.HasPrefix(tw.Text, "Hey @TwitterDev 💕 not too sure how to give feedback"), true)
			eq(t, "text end", strings.HasSuffix(tw.Text, "Id rather not see my own tweets in my ‘for you’ 💕"), true)
			eq(t, "text long", utf8.RuneCountInString(tw.Text) > 280, true)
		}},
		{"edge/manual_tweet_with_video_1.json", func(t *testing.T, p Page) {
			tw := p.Tweets[0]
			eq(t, "id", tw.ID, "1671508600538161153")
			eq(t, "username", tw.Username, "TheFigen_")
			want := Media{Type: "video", URL: "https://video.twimg.com/ext_tw_video/1668857866328100864/pu/vid/720x1280/ENfeGwtfyiYvpNy8.mp4?tag=12"}
			if len(tw.Media) != 1 || tw.Media[0] != want {
				t.Errorf("media = %+v, want the 2176000 bps mp4", tw.Media)
			}
			// The highest bitrate is listed last but one here, after the HLS playlist.
			v := findTweet(t, p, "1671700833363447808")
			if len(v.Media) != 1 || !strings.Contains(v.Media[0].URL, "/1080x1920/") {
				t.Errorf("media = %+v, want the 10368000 bps mp4", v.Media)
			}
		}},
		{"edge/_issue_42_regr.json", func(t *testing.T, p Page) {
			rt := p.Tweets[0]
			eq(t, "id", rt.ID, "1665951747842641921")
			if rt.Retweeted == nil {
				t.Fatal("retweeted tweet not nested")
			}
			eq(t, "text", rt.Text, "RT @ChinaDaily: Today marks the arrival of a traditional Chinese solar term called mangzhong, or Grain in Ear, signifying a busy farming period. https://t.co/SQMrX99bWr")
			// The retweet has no view count of its own; X shows the original's (twscrape #28).
			eqPtr(t, "views", rt.ViewCount, ptr[int64](5229))
		}},
		{"edge/_issue_56.json", func(t *testing.T, p Page) {
			tw := p.Tweets[0]
			eq(t, "id", tw.ID, "1682072224013099008")
			eq(t, "text runes", utf8.RuneCountInString(tw.Text), 441)
			// Legacy and note entities overlap: each link once.
			eq(t, "links unique", len(tw.Links) == len(dedupe(tw.Links)) && len(tw.Links) > 0, true)
			eq(t, "hashtag", strings.Join(tw.Hashtags, ","), "Fortnite")
			for i, c := range p.Cursors.ShowMore {
				if c == "" || (i > 0 && c == p.Cursors.ShowMore[i-1]) {
					t.Errorf("show-more cursor %d = %q", i, c)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			tt.check(t, parseFixture(t, tt.path))
		})
	}
}

// goldenPage is the first line of a golden file: what a page holds besides its tweets.
type goldenPage struct {
	Cursors Cursors         `json:"cursors"`
	Users   []User          `json:"users"`
	Authors map[string]User `json:"authors"` // Tweet.Author is not in the tweet JSON
}

// TestParseTimelineGolden compares each fixture's parse with testdata/golden/<dir>_<name>.jsonl:
// one line for the page, then one line per tweet as `nexus search --format jsonl` prints
// it. Run `go test ./scraper -run Golden -update` to rewrite them after a deliberate change.
func TestParseTimelineGolden(t *testing.T) {
	t.Parallel()
	for _, tt := range fixtures {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			p := parseFixture(t, tt.path)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			gp := goldenPage{Cursors: p.Cursors, Users: p.Users, Authors: map[string]User{}}
			for _, tw := range p.Tweets {
				gp.Authors[tw.UserID] = tw.Author
			}
			if err := enc.Encode(gp); err != nil {
				t.Fatal(err)
			}
			for _, tw := range p.Tweets {
				if err := enc.Encode(tw); err != nil {
					t.Fatal(err)
				}
			}
			name := filepath.Join("testdata", "golden", strings.ReplaceAll(strings.TrimSuffix(tt.path, ".json"), "/", "_")+".jsonl")
			if *update {
				if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(name)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got := buf.Bytes(); !bytes.Equal(got, want) {
				gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
				for i := 0; i < len(gl) || i < len(wl); i++ {
					var g, w string
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s", name, i+1, g, w)
					}
				}
			}
		})
	}
}

// Builders for hand-made responses, for shapes the captured fixtures do not have.

const created2026 = "Wed Jul 08 21:59:10 +0000 2026"

// user2026 is a user in the 2026 schema only (no legacy).
func user2026(id, screenName string) string {
	return `{"__typename":"User","rest_id":"` + id + `","is_blue_verified":false,
	 "core":{"screen_name":"` + screenName + `","name":"New ` + screenName + `","created_at":"Sat Dec 14 04:35:55 +0000 2013"},
	 "relationship_counts":{"followers":10,"following":20},"verification":{"verified":false}}`
}

// userLegacy is a user in the pre-2026 schema only.
func userLegacy(id, screenName string) string {
	return `{"__typename":"User","rest_id":"` + id + `","is_blue_verified":false,
	 "legacy":{"screen_name":"` + screenName + `","name":"Old ` + screenName + `","created_at":"Mon Dec 13 17:03:48 +0000 2021",
	  "followers_count":30,"friends_count":40,"verified":true}}`
}

// tweetJSON is a Tweet result by user 1/alice; legacy and top are extra members of legacy
// and of the result, each starting with a comma.
func tweetJSON(id, legacy, top string) string {
	return `{"__typename":"Tweet","rest_id":"` + id + `",
	 "core":{"user_results":{"result":` + user2026("1", "alice") + `}},
	 "legacy":{"id_str":"` + id + `","user_id_str":"1","created_at":"` + created2026 + `","full_text":"text ` + id + `",
	  "lang":"en","conversation_id_str":"` + id + `","favorite_count":3,"retweet_count":2,"reply_count":1,"quote_count":0,
	  "entities":{"hashtags":[],"user_mentions":[],"urls":[]}` + legacy + `},
	 "views":{"count":"5","state":"EnabledWithCount"}` + top + `}`
}

func itemEntry(entryID, itemContentExtra string) string {
	return `{"entryId":"` + entryID + `","sortIndex":"1","content":{"entryType":"TimelineTimelineItem",
	 "__typename":"TimelineTimelineItem","itemContent":{"itemType":"TimelineTweet","__typename":"TimelineTweet"` + itemContentExtra + `}}}`
}

func tweetEntry(id, result string) string {
	return itemEntry("tweet-"+id, `,"tweet_results":{"result":`+result+`}`)
}

func cursorEntry(typ, value string) string {
	return `{"entryId":"cursor-` + strings.ToLower(typ) + `-1","sortIndex":"0","content":{"entryType":"TimelineTimelineCursor",
	 "__typename":"TimelineTimelineCursor","value":"` + value + `","cursorType":"` + typ + `"}}`
}

func addEntries(entries ...string) string {
	return `{"type":"TimelineAddEntries","entries":[` + strings.Join(entries, ",") + `]}`
}

func searchBody(instructions ...string) string {
	return `{"data":{"search_by_raw_query":{"search_timeline":{"timeline":{"instructions":[` +
		strings.Join(instructions, ",") + `]}}}}}`
}

func ids(p Page) string {
	var s []string
	for _, t := range p.Tweets {
		s = append(s, t.ID)
	}
	return strings.Join(s, ",")
}

func TestParseTimelineShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, p Page)
	}{
		{"TweetWithVisibilityResults", searchBody(addEntries(tweetEntry("10",
			`{"__typename":"TweetWithVisibilityResults","tweet":`+strings.Replace(tweetJSON("10", "", ""), `"__typename":"Tweet",`, "", 1)+`,
			  "limitedActionResults":{"limited_actions":[{"action":"Reply","prompt":{"__typename":"CtaLimitedActionPrompt"}}]}}`))),
			func(t *testing.T, p Page) {
				eq(t, "ids", ids(p), "10")
				eq(t, "username", p.Tweets[0].Username, "alice")
			}},
		{"visibility wrapper as quoted tweet", searchBody(addEntries(tweetEntry("11", tweetJSON("11", `,"quoted_status_id_str":"12"`,
			`,"quoted_status_result":{"result":{"__typename":"TweetWithVisibilityResults","tweet":`+tweetJSON("12", "", "")+`}}`)))),
			func(t *testing.T, p Page) {
				eq(t, "ids", ids(p), "11")
				if q := p.Tweets[0].Quoted; q == nil || q.ID != "12" {
					t.Errorf("quoted = %+v", q)
				}
				eqPtr(t, "quoted id", p.Tweets[0].QuotedID, ptr("12"))
			}},
		{"quoted stub gives the id only", searchBody(addEntries(tweetEntry("13", tweetJSON("13", "",
			`,"quoted_status_result":{"result":{"__typename":"Tweet","rest_id":"14"}}`)))),
			func(t *testing.T, p Page) {
				eqPtr(t, "quoted id", p.Tweets[0].QuotedID, ptr("14"))
				eq(t, "quoted", p.Tweets[0].Quoted == nil, true)
			}},
		{"tombstones, unavailable and missing results are skipped", searchBody(addEntries(
			tweetEntry("1", `{"__typename":"TweetTombstone","tombstone":{"__typename":"TextTombstone","text":{"text":"This Post was deleted by the Post author. Learn more","entities":[]}}}`),
			tweetEntry("2", `{"__typename":"TweetUnavailable","reason":"Suspended"}`),
			tweetEntry("3", `null`),
			itemEntry("tweet-4", `,"tweet_results":{}`),
			tweetEntry("5", tweetJSON("5", "", "")),
		)), func(t *testing.T, p Page) { eq(t, "ids", ids(p), "5") }},
		{"promoted entries are dropped", searchBody(addEntries(
			tweetEntry("20", tweetJSON("20", "", "")),
			strings.Replace(tweetEntry("21", tweetJSON("21", "", "")), `"tweet-21"`, `"promoted-tweet-21-abc"`, 1),
			itemEntry("tweet-22", `,"promotedMetadata":{"advertiser_results":{"result":{}},"impressionId":"x"},"tweet_results":{"result":`+tweetJSON("22", "", "")+`}`),
			tweetEntry("23", tweetJSON("23", "", "")),
		)), func(t *testing.T, p Page) { eq(t, "ids", ids(p), "20,23") }},
		{"TimelineReplaceEntry replaces the cursors of later search pages", searchBody(
			addEntries(tweetEntry("30", tweetJSON("30", "", "")), cursorEntry("Bottom", "old")),
			`{"type":"TimelineReplaceEntry","entry_id_to_replace":"cursor-top-1","entry":`+cursorEntry("Top", "top2")+`}`,
			`{"type":"TimelineReplaceEntry","entry_id_to_replace":"cursor-bottom-0","entry":`+cursorEntry("Bottom", "bottom2")+`}`,
		), func(t *testing.T, p Page) {
			eq(t, "ids", ids(p), "30")
			eq(t, "top", p.Cursors.Top, "top2")
			eq(t, "bottom", p.Cursors.Bottom, "bottom2")
		}},
		{"TimelineAddToModule adds tweets and a deeper ShowMore cursor",
			`{"data":{"threaded_conversation_with_injections_v2":{"instructions":[
			  {"type":"TimelineAddToModule","moduleEntryId":"conversationthread-40","prepend":false,"moduleItems":[
			    {"entryId":"conversationthread-40-tweet-41","item":{"itemContent":{"itemType":"TimelineTweet","__typename":"TimelineTweet",
			      "tweet_results":{"result":` + tweetJSON("41", `,"in_reply_to_status_id_str":"40"`, "") + `}}}},
			    {"entryId":"conversationthread-40-cursor-showmore-9","item":{"itemContent":{"itemType":"TimelineTimelineCursor",
			      "__typename":"TimelineTimelineCursor","value":"more-9","cursorType":"ShowMore","displayTreatment":{"actionText":"Show replies"}}}}]},
			  {"type":"TimelineTerminateTimeline","direction":"Top"}]}}}`,
			func(t *testing.T, p Page) {
				eq(t, "ids", ids(p), "41")
				eqPtr(t, "reply to", p.Tweets[0].InReplyToID, ptr("40"))
				eq(t, "show more", strings.Join(p.Cursors.ShowMore, ","), "more-9")
			}},
		{"TimelinePinEntry comes first and is not repeated",
			`{"data":{"user":{"result":{"__typename":"User","timeline":{"timeline":{"instructions":[
			  {"type":"TimelineClearCache"},
			  {"type":"TimelinePinEntry","entry":` + tweetEntry("50", tweetJSON("50", "", "")) + `},
			  ` + addEntries(tweetEntry("51", tweetJSON("51", "", "")), tweetEntry("50", tweetJSON("50", "", ""))) + `]}}}}}}`,
			func(t *testing.T, p Page) { eq(t, "ids", ids(p), "50,51") }},
		{"legacy user schema only", searchBody(addEntries(tweetEntry("60",
			strings.Replace(tweetJSON("60", "", ""), user2026("1", "alice"), userLegacy("7", "olduser"), 1)))),
			func(t *testing.T, p Page) {
				tw := p.Tweets[0]
				eq(t, "username", tw.Username, "olduser")
				eq(t, "display name", tw.DisplayName, "Old olduser")
				eq(t, "user id", tw.UserID, "7")
				eq(t, "url", tw.URL, "https://x.com/olduser/status/60")
				eq(t, "author", tw.Author, User{ID: "7", Username: "olduser", DisplayName: "Old olduser",
					FollowersCount: 30, FollowingCount: 40, Verified: true,
					CreatedAt: time.Date(2021, 12, 13, 17, 3, 48, 0, time.UTC)})
			}},
		{"2026 user schema only", searchBody(addEntries(tweetEntry("61", tweetJSON("61", "", "")))),
			func(t *testing.T, p Page) {
				eq(t, "author", p.Tweets[0].Author, User{ID: "1", Username: "alice", DisplayName: "New alice",
					FollowersCount: 10, FollowingCount: 20, CreatedAt: time.Date(2013, 12, 14, 4, 35, 55, 0, time.UTC)})
			}},
		{"user schemas mixed field by field", searchBody(addEntries(tweetEntry("62",
			strings.Replace(tweetJSON("62", "", ""), user2026("1", "alice"),
				`{"__typename":"User","rest_id":"8","core":{"screen_name":"mixed"},
				  "legacy":{"screen_name":"stale","name":"Legacy Name","followers_count":99,"friends_count":5},
				  "relationship_counts":{"following":6},"verification":{"verified_type":"Business"}}`, 1)))),
			func(t *testing.T, p Page) {
				a := p.Tweets[0].Author
				eq(t, "username", a.Username, "mixed")
				eq(t, "name", a.DisplayName, "Legacy Name")
				eq(t, "followers", a.FollowersCount, 99)
				eq(t, "following", a.FollowingCount, 6)
				eq(t, "verified", a.Verified, true)
			}},
		{"UserUnavailable author", searchBody(addEntries(tweetEntry("63",
			strings.Replace(tweetJSON("63", "", ""), user2026("1", "alice"),
				`{"__typename":"UserUnavailable","message":"User is not available","reason":"NoReason"}`, 1)))),
			func(t *testing.T, p Page) {
				tw := p.Tweets[0]
				eq(t, "username", tw.Username, "")
				eq(t, "user id", tw.UserID, "1") // from legacy.user_id_str
				eq(t, "url", tw.URL, "https://x.com/i/status/63")
			}},
		{"author filled in from another tweet by user_id_str", searchBody(addEntries(
			tweetEntry("64", tweetJSON("64", "", "")),
			tweetEntry("65", strings.Replace(tweetJSON("65", "", ""), `"core":{"user_results":{"result":`+user2026("1", "alice")+`}},`, "", 1)),
		)), func(t *testing.T, p Page) {
			eq(t, "username", p.Tweets[1].Username, "alice")
			eq(t, "url", p.Tweets[1].URL, "https://x.com/alice/status/65")
		}},
		{"legacy null with the fields at the top level", searchBody(addEntries(tweetEntry("66",
			`{"__typename":"Tweet","rest_id":"66","core":{"user_results":{"result":`+user2026("1", "alice")+`}},"legacy":null,
			  "created_at":"`+created2026+`","full_text":"top level &amp; all","lang":"de","conversation_id_str":"60",
			  "in_reply_to_status_id_str":"60","favorite_count":9,"entities":{"hashtags":[{"text":"go"}]},
			  "extended_entities":{"media":[{"type":"photo","media_url_https":"https://pbs.twimg.com/media/a.jpg"}]}}`))),
			func(t *testing.T, p Page) {
				tw := p.Tweets[0]
				eq(t, "text", tw.Text, "top level & all")
				eq(t, "lang", tw.Lang, "de")
				eq(t, "likes", tw.LikeCount, 9)
				eq(t, "created", tw.CreatedAt, time.Date(2026, 7, 8, 21, 59, 10, 0, time.UTC))
				eqPtr(t, "reply to", tw.InReplyToID, ptr("60"))
				eq(t, "hashtags", strings.Join(tw.Hashtags, ","), "go")
				eq(t, "media", len(tw.Media), 1)
				eqPtr(t, "views", tw.ViewCount, nil)
			}},
		{"top-level fields win over legacy, legacy fills the gaps", searchBody(addEntries(tweetEntry("67",
			tweetJSON("67", `,"in_reply_to_status_id_str":"1"`, `,"full_text":"newer","favorite_count":8`)))),
			func(t *testing.T, p Page) {
				eq(t, "text", p.Tweets[0].Text, "newer")
				eq(t, "likes", p.Tweets[0].LikeCount, 8)
				eq(t, "retweets", p.Tweets[0].RetweetCount, 2)
				eqPtr(t, "reply to", p.Tweets[0].InReplyToID, ptr("1"))
			}},
		{"views: absent, without count, as a number, zero", searchBody(addEntries(
			tweetEntry("70", strings.Replace(tweetJSON("70", "", ""), `"views":{"count":"5","state":"EnabledWithCount"}`, `"views":{"state":"Enabled"}`, 1)),
			tweetEntry("71", strings.Replace(tweetJSON("71", "", ""), `,
	 "views":{"count":"5","state":"EnabledWithCount"}`, ``, 1)),
			tweetEntry("72", strings.Replace(tweetJSON("72", "", ""), `"count":"5"`, `"count":7`, 1)),
			tweetEntry("73", strings.Replace(tweetJSON("73", "", ""), `"count":"5"`, `"count":"0"`, 1)),
		)), func(t *testing.T, p Page) {
			eq(t, "ids", ids(p), "70,71,72,73")
			eqPtr(t, "no count", p.Tweets[0].ViewCount, nil)
			eqPtr(t, "no views", p.Tweets[1].ViewCount, nil)
			eqPtr(t, "number", p.Tweets[2].ViewCount, ptr[int64](7))
			eqPtr(t, "zero", p.Tweets[3].ViewCount, ptr[int64](0))
			j, _ := json.Marshal(p.Tweets[1])
			eq(t, "json", strings.Contains(string(j), `"view_count":null`), true)
		}},
		{"text: legacy entities unescaped, note text kept, JSON escapes decoded", searchBody(addEntries(
			tweetEntry("80", strings.Replace(tweetJSON("80", "", ""), `"text 80"`, `"a &amp; b &lt;3 &gt; &amp;amp; \"q\" \u00e9 \ud83d\ude00\n&copy;"`, 1)),
			tweetEntry("81", tweetJSON("81", "", `,"note_tweet":{"is_expandable":true,"note_tweet_results":{"result":{"id":"Tm90ZTox",
			  "text":"note & kept &amp; as typed #long @bob https://t.co/x","entity_set":{"hashtags":[{"indices":[26,31],"text":"long"}],
			  "user_mentions":[{"id_str":"2","name":"Bob","screen_name":"bob"}],"urls":[{"expanded_url":"https://example.com/x","url":"https://t.co/x"}]}}}}`)),
		)), func(t *testing.T, p Page) {
			eq(t, "legacy text", p.Tweets[0].Text, "a & b <3 > &amp; \"q\" é 😀\n&copy;")
			tw := p.Tweets[1]
			eq(t, "note text", tw.Text, "note & kept &amp; as typed #long @bob https://t.co/x")
			eq(t, "hashtags", strings.Join(tw.Hashtags, ","), "long")
			eq(t, "mentions", strings.Join(tw.Mentions, ","), "bob")
			eq(t, "links", strings.Join(tw.Links, ","), "https://example.com/x")
		}},
		{"entities: without # and @, duplicates once", searchBody(addEntries(tweetEntry("82", tweetJSON("82",
			`,"entities":{"hashtags":[{"text":"Go"},{"text":"Go"},{"text":"Rust"}],"symbols":[],"user_mentions":[{"screen_name":"ann","id_str":"3"}],
			  "urls":[{"expanded_url":"https://go.dev","url":"https://t.co/a","display_url":"go.dev"},{"url":"https://t.co/b"}]}`, "")))),
			func(t *testing.T, p Page) {
				tw := p.Tweets[0]
				eq(t, "hashtags", strings.Join(tw.Hashtags, ","), "Go,Rust")
				eq(t, "mentions", strings.Join(tw.Mentions, ","), "ann")
				eq(t, "links", strings.Join(tw.Links, ","), "https://go.dev")
			}},
		{"media: photo, best mp4 of a video, GIF", searchBody(addEntries(tweetEntry("90", tweetJSON("90",
			`,"extended_entities":{"media":[
			  {"type":"photo","media_url_https":"https://pbs.twimg.com/media/p.jpg"},
			  {"type":"video","media_url_https":"https://pbs.twimg.com/thumb.jpg","video_info":{"duration_millis":1000,"variants":[
			    {"content_type":"application/x-mpegURL","url":"https://video.twimg.com/v.m3u8"},
			    {"bitrate":2176000,"content_type":"video/mp4","url":"https://video.twimg.com/720.mp4"},
			    {"bitrate":632000,"content_type":"video/mp4","url":"https://video.twimg.com/320.mp4"}]}},
			  {"type":"animated_gif","media_url_https":"https://pbs.twimg.com/gif.jpg","video_info":{"variants":[
			    {"bitrate":0,"content_type":"video/mp4","url":"https://video.twimg.com/gif.mp4"}]}},
			  {"type":"hologram","media_url_https":"https://example.com/h"}]}`, "")))),
			func(t *testing.T, p Page) {
				want := []Media{{"photo", "https://pbs.twimg.com/media/p.jpg"}, {"video", "https://video.twimg.com/720.mp4"},
					{"animated_gif", "https://video.twimg.com/gif.mp4"}}
				got := p.Tweets[0].Media
				if len(got) != len(want) {
					t.Fatalf("media = %+v", got)
				}
				for i := range want {
					eq(t, "media", got[i], want[i])
				}
			}},
		{"retweet nests the original and rebuilds the cut text", searchBody(addEntries(tweetEntry("100", tweetJSON("100",
			`,"full_text":"RT @alice: text 1…","retweeted_status_result":{"result":`+tweetJSON("101", "", "")+`}`, "")))),
			func(t *testing.T, p Page) {
				tw := p.Tweets[0]
				eqPtr(t, "retweeted id", tw.RetweetedID, ptr("101"))
				eq(t, "text", tw.Text, "RT @alice: text 101")
				eq(t, "ids", ids(p), "100")
			}},
		{"2025 cursors inside itemContent, ShowMoreThreadsPrompt", `{"data":{"threaded_conversation_with_injections_v2":{"instructions":[` + addEntries(
			tweetEntry("110", tweetJSON("110", "", "")),
			itemEntry("cursor-bottom-1", `,"itemType":"TimelineTimelineCursor","__typename":"TimelineTimelineCursor","value":"b1","cursorType":"Bottom"`),
			itemEntry("cursor-showmorethreadsprompt-1", `,"itemType":"TimelineTimelineCursor","value":"p1","cursorType":"ShowMoreThreadsPrompt"`),
			itemEntry("cursor-showmorethreads-1", `,"itemType":"TimelineTimelineCursor","value":"s1","cursorType":"ShowMoreThreads"`),
			itemEntry("cursor-gap-1", `,"itemType":"TimelineTimelineCursor","value":"g1","cursorType":"Gap"`),
		) + `]}}}`, func(t *testing.T, p Page) {
			eq(t, "bottom", p.Cursors.Bottom, "b1")
			eq(t, "show more", strings.Join(p.Cursors.ShowMore, ","), "p1,s1")
		}},
		{"duplicates keep the first position", `{"data":{"threaded_conversation_with_injections_v2":{"instructions":[` + addEntries(
			tweetEntry("120", tweetJSON("120", "", "")),
			`{"entryId":"conversationthread-121","content":{"entryType":"TimelineTimelineModule","__typename":"TimelineTimelineModule",
			  "displayType":"VerticalConversation","items":[
			  {"entryId":"conversationthread-121-tweet-121","item":{"itemContent":{"tweet_results":{"result":`+tweetJSON("121", "", "")+`}}}},
			  {"entryId":"conversationthread-121-tweet-120","item":{"itemContent":{"tweet_results":{"result":`+tweetJSON("120", "", "")+`}}}}]}}`,
			tweetEntry("121", tweetJSON("121", "", "")),
		) + `]}}}`, func(t *testing.T, p Page) { eq(t, "ids", ids(p), "120,121") }},
		{"user entries are users, module users are suggestions", `{"data":{"user":{"result":{"timeline":{"timeline":{"instructions":[` + addEntries(
			`{"entryId":"user-1","content":{"entryType":"TimelineTimelineItem","itemContent":{"itemType":"TimelineUser","__typename":"TimelineUser",
			  "user_results":{"result":`+user2026("1", "alice")+`},"userDisplayType":"User"}}}`,
			`{"entryId":"user-2","content":{"entryType":"TimelineTimelineItem","itemContent":{"itemType":"TimelineUser",
			  "user_results":{"result":`+userLegacy("2", "bob")+`}}}}`,
			`{"entryId":"user-3","content":{"entryType":"TimelineTimelineItem","itemContent":{"itemType":"TimelineUser",
			  "user_results":{"result":{"__typename":"UserUnavailable","message":"User is not available"}}}}}`,
			`{"entryId":"user-1","content":{"entryType":"TimelineTimelineItem","itemContent":{"itemType":"TimelineUser",
			  "user_results":{"result":`+user2026("1", "alice")+`}}}}`,
			`{"entryId":"who-to-follow-1","content":{"entryType":"TimelineTimelineModule","items":[
			  {"entryId":"who-to-follow-1-user-4","item":{"itemContent":{"itemType":"TimelineUser","user_results":{"result":`+user2026("4", "dave")+`}}}}]}}`,
			cursorEntry("Bottom", "1872784690123924126|"),
		) + `]}}}}}}`, func(t *testing.T, p Page) {
			var names []string
			for _, u := range p.Users {
				names = append(names, u.Username)
			}
			eq(t, "users", strings.Join(names, ","), "alice,bob")
			eq(t, "tweets", len(p.Tweets), 0)
			eq(t, "bottom", p.Cursors.Bottom, "1872784690123924126|")
		}},
		{"instructions found by structure under an unknown path, other instructions ignored",
			`{"data":{"brand_new_operation":{"__typename":"X","meta":{"a":[1,2,{"b":null}]},"result":{"timeline_v3":{"timeline":{"instructions":[
			  {"type":"TimelineClearCache"},
			  {"type":"TimelineShowAlert","alertType":"NewTweets","usersResults":[{"result":` + user2026("5", "eve") + `}]},
			  {"type":"TimelineShowCover","clientEventInfo":{}},
			  ` + addEntries(tweetEntry("130", tweetJSON("130", "", ""))) + `,
			  {"type":"TimelineTerminateTimeline","direction":"Bottom"}]}}}}}}`,
			func(t *testing.T, p Page) {
				eq(t, "ids", ids(p), "130")
				eq(t, "users", len(p.Users), 0)
			}},
		{"empty instructions", searchBody(), func(t *testing.T, p Page) {
			j, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "json", string(j), `{"tweets":[],"users":[],"cursors":{"top":"","bottom":"","show_more":[]}}`)
		}},
		{"data without a timeline", `{"data":{"user":{"result":{"__typename":"User","rest_id":"1"}}}}`,
			func(t *testing.T, p Page) { eq(t, "tweets", len(p.Tweets), 0) }},
		{"type drift costs the field, not the page", searchBody(addEntries(tweetEntry("140", tweetJSON("140",
			`,"favorite_count":"12","retweet_count":1.5e1,"reply_count":null,"lang":["en"],"entities":"none","extended_entities":[]`, "")))),
			func(t *testing.T, p Page) {
				tw := p.Tweets[0]
				eq(t, "likes", tw.LikeCount, 12)
				eq(t, "retweets", tw.RetweetCount, 15)
				eq(t, "replies", tw.ReplyCount, 0)
				eq(t, "lang", tw.Lang, "")
				eq(t, "hashtags", len(tw.Hashtags), 0)
			}},
		{"partial answer: data and errors", `{"data":{"threaded_conversation_with_injections_v2":{"instructions":[` +
			addEntries(tweetEntry("150", tweetJSON("150", "", ""))) + `]}},
			"errors":[{"message":"Dependency: Internal error","locations":[{"line":1,"column":1}],"path":["threaded_conversation_with_injections_v2"],
			  "extensions":{"name":"DependencyError","source":"Server","code":131,"kind":"Operational","tracing":{"trace_id":"x"}},
			  "code":131,"kind":"Operational","name":"DependencyError","source":"Server"}]}`,
			func(t *testing.T, p Page) {
				eq(t, "ids", ids(p), "150")
				if len(p.Errors) != 1 {
					t.Fatalf("errors = %v", p.Errors)
				}
				eq(t, "error", p.Errors[0], GraphQLError{Code: 131, Message: "Dependency: Internal error", Kind: "Operational"})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParseTimeline([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, p)
		})
	}
}

func TestParseTimelineErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		wantErrs GraphQLErrors // when the error must be GraphQLErrors
		wantMsg  string        // a part of the error message
	}{
		{name: "errors only", body: `{"errors":[{"message":"Rate limit exceeded","code":88}]}`,
			wantErrs: GraphQLErrors{{Code: 88, Message: "Rate limit exceeded"}}, wantMsg: "(88) Rate limit exceeded"},
		{name: "errors with null data", body: `{"data":{"user":null},"errors":[{"message":"LoadShed: Unspecified","extensions":{"kind":"Operational"}},
			{"message":"Your account is suspended and is not permitted to access this feature","code":64,"kind":"Permissions"}]}`,
			wantErrs: GraphQLErrors{{Code: -1, Message: "LoadShed: Unspecified", Kind: "Operational"},
				{Code: 64, Message: "Your account is suspended and is not permitted to access this feature", Kind: "Permissions"}},
			wantMsg: "x graphql: (-1) LoadShed: Unspecified; (64) Your account is suspended"},
		{name: "features drift", body: `{"errors":[{"message":"The following features cannot be null: rweb_video_screen_enabled","extensions":{"code":336,"kind":"Validation"}}],"data":null}`,
			wantErrs: GraphQLErrors{{Code: 336, Message: "The following features cannot be null: rweb_video_screen_enabled", Kind: "Validation"}}},
		{name: "Cloudflare HTML", body: "<!DOCTYPE html>\n<html lang=\"en-US\"><head><title>Just a moment...</title></head><body></body></html>",
			wantMsg: `not a JSON object: starts with "<!DOCTYPE html`},
		{name: "plain text", body: "upstream connect error or disconnect/reset before headers", wantMsg: "not a JSON object"},
		{name: "empty body", body: "", wantMsg: "empty body"},
		{name: "white space only", body: " \n\t ", wantMsg: "empty body"},
		{name: "top-level array", body: `[{"data":{}}]`, wantMsg: "not a JSON object"},
		{name: "no data and no errors", body: `{}`, wantMsg: "no data"},
		{name: "null data", body: `{"data":null}`, wantMsg: "no data"},
		{name: "truncated", body: searchBody(addEntries(tweetEntry("1", tweetJSON("1", "", ""))))[:700], wantMsg: "invalid JSON"},
		{name: "unterminated string", body: `{"data":{"a":"b`, wantMsg: "unterminated string"},
		{name: "trailing data", body: `{"data":{}} <html>`, wantMsg: "after the top-level object"},
		{name: "bad literal", body: `{"data":{"a":nope}}`, wantMsg: "invalid literal"},
		{name: "missing colon", body: `{"data" {}}`, wantMsg: "expected ':'"},
		{name: "trailing comma", body: `{"data":{"a":1,}}`, wantMsg: "expected string"},
		{name: "stray closer", body: `{"data":{"a":]}}`, wantMsg: "unexpected ']'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParseTimeline([]byte(tt.body))
			if err == nil {
				t.Fatalf("no error, page %+v", p)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
			if tt.wantErrs == nil {
				return
			}
			var ge GraphQLErrors
			if !errors.As(err, &ge) {
				t.Fatalf("error %T is not GraphQLErrors", err)
			}
			if len(ge) != len(tt.wantErrs) {
				t.Fatalf("errors = %+v, want %+v", ge, tt.wantErrs)
			}
			for i := range ge {
				eq(t, "error", ge[i], tt.wantErrs[i])
			}
			eq(t, "page errors", len(p.Errors), len(tt.wantErrs))
		})
	}
}

// TestParseTimelineHostileNesting checks that deep nesting neither recurses without bound
// nor fails a page that is otherwise fine.
func TestParseTimelineHostileNesting(t *testing.T) {
	t.Parallel()
	const n = 100000
	deep := `{"data":` + strings.Repeat(`{"a":`, n) + `1` + strings.Repeat(`}`, n) + `}`
	if _, err := ParseTimeline([]byte(deep)); err != nil {
		t.Errorf("deep objects: %v", err)
	}
	arrays := `{"data":{"a":` + strings.Repeat(`[`, n) + strings.Repeat(`]`, n) + `}}`
	if _, err := ParseTimeline([]byte(arrays)); err != nil {
		t.Errorf("deep arrays: %v", err)
	}
	// Quotes of quotes, far deeper than X nests them.
	tw := tweetJSON("0", "", "")
	for i := 1; i < 200; i++ {
		id := strconv.Itoa(i)
		tw = tweetJSON(id, "", `,"quoted_status_result":{"result":`+tw+`}`)
	}
	p, err := ParseTimeline([]byte(searchBody(addEntries(tweetEntry("199", tw)))))
	if err != nil {
		t.Fatal(err)
	}
	depth := 0
	for q := p.Tweets[0].Quoted; q != nil; q = q.Quoted {
		depth++
	}
	if depth == 0 || depth > maxTweetDepth {
		t.Errorf("quote depth = %d, want 1..%d", depth, maxTweetDepth)
	}
}

func TestGraphQLErrorsError(t *testing.T) {
	t.Parallel()
	es := GraphQLErrors{{Code: 88, Message: "Rate limit exceeded"}, {Code: -1, Message: "LoadShed"}}
	eq(t, "error", es.Error(), "x graphql: (88) Rate limit exceeded; (-1) LoadShed")
}

func TestUnescapeJSON(t *testing.T) {
	t.Parallel()
	tests := []string{
		``, `plain`, `\"quoted\"`, `back\\slash`, `\/`, `\b\f\n\r\t`, `\u00e9\u4e2d`,
		`\ud83d\ude00`, `\ud835\udd4f Chat`, `lone \ud83d end`, `lone \ude00 low`, `\ud83d\u0041`, `\ud83d\ud83d\ude00`,
		`\u00`, `\uZZZZ`, `\x`,
	}
	for _, s := range tests {
		t.Run(s, func(t *testing.T) {
			t.Parallel()
			got := unescapeJSON([]byte(s))
			var want string
			if err := json.Unmarshal([]byte(`"`+s+`"`), &want); err != nil {
				return // not valid JSON: only checked not to panic
			}
			eq(t, "unescape", got, want)
		})
	}
}
