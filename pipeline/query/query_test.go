package query

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"nexus/scraper"
	"nexus/store"
)

// tail is what every campaign that includes neither replies nor retweets ends with.
const tail = " -filter:replies -filter:nativeretweets"

func TestCompile(t *testing.T) {
	t.Parallel()
	july1 := time.Date(2026, 7, 1, 15, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		c    store.Campaign
		o    Options
		want string
	}{
		{"one keyword", store.Campaign{Keywords: []string{"golang"}}, Options{},
			"golang" + tail},
		{"keywords any", store.Campaign{Keywords: []string{"golang", "rust"}}, Options{},
			"(golang OR rust)" + tail},
		{"keywords all", store.Campaign{Keywords: []string{"golang", "rust"}, Match: "all"}, Options{},
			"golang rust" + tail},
		{"match in capitals", store.Campaign{Keywords: []string{"golang", "rust"}, Match: " ALL "}, Options{},
			"golang rust" + tail},
		// The original's bug: `a OR b lang:en since:...` bound the window to b alone.
		{"global operators apply to the whole OR group", store.Campaign{
			Keywords: []string{"acme", "acmecorp"}, Hashtags: []string{"acme"}, Lang: "en"},
			Options{Since: july1},
			"(acme OR acmecorp OR #acme) lang:en" + tail + " since:2026-07-01"},
		{"phrase", store.Campaign{Phrases: []string{"state of the art"}}, Options{},
			`"state of the art"` + tail},
		{"phrase typed with its quotes", store.Campaign{Phrases: []string{` "hello world" `}}, Options{},
			`"hello world"` + tail},
		{"embedded quote split", store.Campaign{Phrases: []string{`the 5"screen "deal"`}}, Options{},
			`"the 5 screen deal"` + tail},
		{"curly quotes and parentheses split", store.Campaign{Phrases: []string{`“best (cheap) laptop”`}}, Options{},
			`"best cheap laptop"` + tail},
		{"hashtags with and without #", store.Campaign{Hashtags: []string{"#golang", "gopher", "##go"}}, Options{},
			"(#golang OR #gopher OR #go)" + tail},
		{"mentions with @", store.Campaign{Mentions: []string{"@nasa", "esa"}}, Options{},
			"(@nasa OR @esa)" + tail},
		{"one from user alone", store.Campaign{FromUsers: []string{"@NASA"}}, Options{},
			"from:NASA" + tail},
		{"from users narrow keywords", store.Campaign{Keywords: []string{"moon"}, FromUsers: []string{"nasa", "@esa"}}, Options{},
			"moon (from:nasa OR from:esa)" + tail},
		{"excluded words", store.Campaign{Keywords: []string{"golang"}, ExcludeWords: []string{"spam", "-ads", "buy  now", "from:x"}}, Options{},
			`golang -spam -ads -"buy now" -"from:x"` + tail},
		{"excluded users", store.Campaign{Keywords: []string{"golang"}, ExcludeUsers: []string{"@bot1", "Bot2"}}, Options{},
			"golang -from:bot1 -from:Bot2" + tail},
		{"lang lower-cased", store.Campaign{Keywords: []string{"golang"}, Lang: " EN "}, Options{},
			"golang lang:en" + tail},
		{"hebrew as X writes it", store.Campaign{Keywords: []string{"שלום"}, Lang: "he"}, Options{},
			"שלום lang:iw" + tail},
		{"indonesian given as X writes it", store.Campaign{Keywords: []string{"halo"}, Lang: "in"}, Options{},
			"halo lang:in" + tail},
		{"minimum counts", store.Campaign{Keywords: []string{"golang"}, MinLikes: 10, MinRetweets: 5, MinReplies: 2}, Options{},
			"golang min_faves:10 min_retweets:5 min_replies:2" + tail},
		{"include replies", store.Campaign{Keywords: []string{"golang"}, IncludeReplies: true}, Options{},
			"golang -filter:nativeretweets"},
		{"include retweets", store.Campaign{Keywords: []string{"golang"}, IncludeRetweets: true}, Options{},
			"golang -filter:replies include:nativeretweets"},
		{"include both", store.Campaign{Keywords: []string{"a", "b"}, IncludeReplies: true, IncludeRetweets: true}, Options{},
			"(a OR b) include:nativeretweets"},
		{"since date", store.Campaign{Keywords: []string{"golang"}}, Options{Since: july1},
			"golang" + tail + " since:2026-07-01"},
		{"since date is the UTC day", store.Campaign{Keywords: []string{"golang"}},
			Options{Since: time.Date(2026, 7, 2, 1, 0, 0, 0, time.FixedZone("CEST", 2*3600))},
			"golang" + tail + " since:2026-07-01"},
		{"since_id wins over since", store.Campaign{Keywords: []string{"golang"}},
			Options{SinceID: "1810000000000000000", Since: july1},
			"golang" + tail + " since_id:1810000000000000000"},
		{"until within a day", store.Campaign{Keywords: []string{"golang"}},
			Options{Since: july1, Until: time.Date(2026, 7, 10, 12, 0, 0, 0, time.UTC)},
			"golang" + tail + " since:2026-07-01 until:2026-07-11"},
		{"until at midnight", store.Campaign{Keywords: []string{"golang"}},
			Options{Until: time.Date(2026, 7, 10, 0, 0, 0, 0, time.UTC)},
			"golang" + tail + " until:2026-07-10"},
		{"dedupe case-insensitively, drop empty", store.Campaign{
			Keywords: []string{"Go", "go", " GO ", "", "  "}, Hashtags: []string{"#Go", "go"}}, Options{},
			"(Go OR #Go)" + tail},
		{"unicode keywords", store.Campaign{Keywords: []string{"café", "東京", "Crème Brûlée"}}, Options{},
			"(café OR 東京 OR (Crème Brûlée))" + tail},
		{"japanese phrase and hashtag", store.Campaign{Phrases: []string{"機械学習 入門"}, Hashtags: []string{"＃プログラミング"}}, Options{},
			`("機械学習 入門" OR #プログラミング)` + tail},
		{"several-word keyword grouped", store.Campaign{Keywords: []string{"machine learning", "ai"}}, Options{},
			"((machine learning) OR ai)" + tail},
		{"match all words flattened and deduped", store.Campaign{
			Keywords: []string{"machine learning", "Learning curve"}, Match: "all"}, Options{},
			"machine learning curve" + tail},
		{"match all is one alternative among phrases", store.Campaign{
			Keywords: []string{"a", "b"}, Match: "all", Phrases: []string{"c d"}}, Options{},
			`((a b) OR "c d")` + tail},
		{"operator-like keywords quoted", store.Campaign{Keywords: []string{"OR", "-foo", "from:x", "or"}}, Options{},
			`("OR" OR "-foo" OR "from:x")` + tail},
		{"advanced query alone", store.Campaign{AdvancedQuery: "(a OR b) -c"}, Options{},
			"((a OR b) -c)" + tail},
		{"advanced query ANDed as a group", store.Campaign{
			Keywords: []string{"x", "y"}, AdvancedQuery: "  FROM:nasa   OR Lang:en \"To: you\" "}, Options{},
			`(x OR y) (from:nasa OR lang:en "To: you")` + tail},
		{"everything", store.Campaign{
			Keywords: []string{"acme", "widget"}, Phrases: []string{"acme widget"}, Hashtags: []string{"acme"},
			Mentions: []string{"acme"}, FromUsers: []string{"alice", "bob"}, ExcludeWords: []string{"job"},
			ExcludeUsers: []string{"acmebot"}, Lang: "en", MinLikes: 3, AdvancedQuery: "filter:links",
		}, Options{SinceID: "42", Until: time.Date(2026, 7, 10, 0, 0, 0, 0, time.UTC)},
			`(acme OR widget OR "acme widget" OR #acme OR @acme) (from:alice OR from:bob) (filter:links) ` +
				`-job -from:acmebot lang:en min_faves:3` + tail + " since_id:42 until:2026-07-10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Compile(tt.c, tt.o)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if got.Query != tt.want {
				t.Errorf("query\n got %s\nwant %s", got.Query, tt.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	long := make([]string, 40)
	for i := range long {
		long[i] = strings.Repeat("w", 20) + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	tests := []struct {
		name  string
		c     store.Campaign
		o     Options
		field string // "" for an error that is not a *ValidationError
	}{
		{"no positive term", store.Campaign{ExcludeWords: []string{"spam"}, Lang: "en"}, Options{}, "query"},
		{"only empty terms", store.Campaign{Keywords: []string{" ", `""`}, Hashtags: []string{"#"}}, Options{}, "query"},
		{"unbalanced advanced query", store.Campaign{AdvancedQuery: "(a OR b"}, Options{}, "advanced_query"},
		{"unknown lang", store.Campaign{Keywords: []string{"a"}, Lang: "xx"}, Options{}, "lang"},
		{"too long", store.Campaign{Keywords: long}, Options{}, "query"},
		{"since_id not an id", store.Campaign{Keywords: []string{"a"}}, Options{SinceID: "12 OR x"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Compile(tt.c, tt.o)
			if err == nil {
				t.Fatal("Compile succeeded")
			}
			var ve *ValidationError
			if errors.As(err, &ve) != (tt.field != "") || ve != nil && ve.Field != tt.field {
				t.Errorf("error %v (%T), want field %q", err, err, tt.field)
			}
		})
	}
}

func TestCompileLeavesCallerAlone(t *testing.T) {
	t.Parallel()
	c := store.Campaign{Keywords: []string{" #Go ", "go"}, Hashtags: []string{"#x"}}
	if _, err := Compile(c, Options{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Keywords, []string{" #Go ", "go"}) || c.Hashtags[0] != "#x" || c.Match != "" {
		t.Errorf("Compile changed its argument: %+v", c)
	}
}

func TestCompileFilter(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 7, 1, 15, 4, 5, 0, time.UTC)
	c := store.Campaign{Keywords: []string{"Go Lang", "-Fast", "#tag"}, Match: "all", ExcludeUsers: []string{"@SpamBot"},
		MinLikes: 5, MinRetweets: 1, IncludeRetweets: true}
	got, err := Compile(c, Options{Since: since})
	if err != nil {
		t.Fatal(err)
	}
	want := Filter{Since: since, ExcludeUsers: []string{"spambot"}, MinLikes: 5, MinRetweets: 1,
		DropReplies: true, AllWords: []string{"go", "lang", "fast"}}
	if a, b := mustJSON(t, got.Filter), mustJSON(t, want); a != b {
		t.Errorf("filter\n got %s\nwant %s", a, b)
	}

	// Other alternatives than the keywords: no word is required of every tweet.
	c.Phrases = []string{"go fast"}
	if got, _ := Compile(c, Options{}); got.Filter.AllWords != nil {
		t.Errorf("AllWords = %q with a phrase alternative", got.Filter.AllWords)
	}
}

func TestFilterKeep(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 7, 1, 15, 0, 0, 0, time.UTC)
	until := time.Date(2026, 7, 3, 0, 0, 0, 0, time.UTC)
	id := "1"
	base := scraper.Tweet{ID: "10", Username: "alice", Text: "Go Lang is fast",
		CreatedAt: since.Add(time.Hour), LikeCount: 5, RetweetCount: 2, ReplyCount: 1}
	f := Filter{Since: since, Until: until, ExcludeUsers: []string{"spambot"}, MinLikes: 5, MinRetweets: 2,
		MinReplies: 1, DropReplies: true, DropRetweets: true, AllWords: []string{"go", "lang"}}
	tests := []struct {
		name   string
		f      Filter
		change func(*scraper.Tweet)
		reject string
	}{
		{"passes", f, func(*scraper.Tweet) {}, ""},
		{"same UTC day but before the instant", f, func(t *scraper.Tweet) { t.CreatedAt = since.Add(-time.Minute) }, "before since"},
		{"at since", f, func(t *scraper.Tweet) { t.CreatedAt = since }, ""},
		{"at until", f, func(t *scraper.Tweet) { t.CreatedAt = until }, "not before until"},
		{"no creation time", f, func(t *scraper.Tweet) { t.CreatedAt = time.Time{} }, ""},
		{"reply leaked", f, func(t *scraper.Tweet) { t.InReplyToID = &id }, "reply"},
		{"reply wanted", Filter{}, func(t *scraper.Tweet) { t.InReplyToID = &id }, ""},
		{"retweet leaked", f, func(t *scraper.Tweet) { t.RetweetedID = &id }, "retweet"},
		{"excluded user in other case", f, func(t *scraper.Tweet) { t.Username = "SpamBot" }, "excluded user"},
		{"retweet of excluded user", Filter{ExcludeUsers: []string{"spambot"}}, func(t *scraper.Tweet) {
			t.Retweeted = &scraper.Tweet{Username: "spambot"}
		}, "excluded user"},
		{"likes below minimum", f, func(t *scraper.Tweet) { t.LikeCount = 4 }, "below minimum counts"},
		{"retweets below minimum", f, func(t *scraper.Tweet) { t.RetweetCount = 1 }, "below minimum counts"},
		{"replies below minimum", f, func(t *scraper.Tweet) { t.ReplyCount = 0 }, "below minimum counts"},
		{"retweet judged by the original's counts", Filter{MinLikes: 5}, func(t *scraper.Tweet) {
			t.LikeCount = 0
			t.Retweeted = &scraper.Tweet{Username: "bob", LikeCount: 50}
		}, ""},
		{"word only in the handle", f, func(t *scraper.Tweet) { t.Username = "golang"; t.Text = "lang news" }, "missing word go"},
		{"word only in a link", f, func(t *scraper.Tweet) {
			t.Text = "lang news https://t.co/x"
			t.Links = []string{"https://go.dev"}
		}, "missing word go"},
		{"unicode words case-insensitively", Filter{AllWords: []string{"café", "東京"}}, func(t *scraper.Tweet) {
			t.Text = "CAFÉ in 東京タワー"
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tw := base
			tt.change(&tw)
			if got := tt.f.reject(tw); got != tt.reject {
				t.Errorf("reject = %q, want %q", got, tt.reject)
			}
			if tt.f.Keep(tw) != (tt.reject == "") {
				t.Errorf("Keep disagrees with reject")
			}
		})
	}
}

func TestFilterSurvivesJSON(t *testing.T) {
	t.Parallel()
	c, err := Compile(store.Campaign{Keywords: []string{"a", "b"}, Match: "all", ExcludeUsers: []string{"x"}},
		Options{Since: time.Date(2026, 7, 1, 15, 4, 5, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var back Compiled
	if err := json.Unmarshal([]byte(mustJSON(t, c)), &back); err != nil {
		t.Fatal(err)
	}
	if mustJSON(t, back) != mustJSON(t, c) || !back.Filter.Since.Equal(c.Filter.Since) {
		t.Errorf("round trip changed %s into %s", mustJSON(t, c), mustJSON(t, back))
	}
}

func TestLookback(t *testing.T) {
	t.Parallel()
	if got := Lookback(store.Campaign{}); got != 24*time.Hour {
		t.Errorf("default lookback = %s", got)
	}
	if got := Lookback(store.Campaign{LookbackHours: 72}); got != 72*time.Hour {
		t.Errorf("lookback 72 = %s", got)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func BenchmarkCompile(b *testing.B) {
	c := store.Campaign{Keywords: []string{"acme", "widget", "machine learning"}, Phrases: []string{"acme widget"},
		Hashtags: []string{"#acme"}, FromUsers: []string{"alice", "bob"}, ExcludeWords: []string{"job"},
		Lang: "en", MinLikes: 3, AdvancedQuery: "filter:links"}
	o := Options{SinceID: "1810000000000000000"}
	for b.Loop() {
		if _, err := Compile(c, o); err != nil {
			b.Fatal(err)
		}
	}
}
