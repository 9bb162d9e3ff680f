package query

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"nexus/store"
)

// good is a valid campaign that each case of TestValidate breaks in one field.
func good() store.Campaign {
	return store.Campaign{
		Name: "Acme", Keywords: []string{"acme"}, Match: "any", Lang: "en", Threshold: 70,
		LookbackHours: 24, Schedule: "*/15 * * * *", Context: "We sell widgets.\nAnswer questions.",
		Routes: []store.Route{{Integration: "slack", Mode: "instant"}, {Integration: "sheets", Mode: "digest"}},
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	many := make([]string, MaxListItems+1)
	for i := range many {
		many[i] = "w" + strings.Repeat("x", i)
	}
	tests := []struct {
		name   string
		change func(*store.Campaign)
		field  string // "" when the campaign is valid
	}{
		{"valid", func(*store.Campaign) {}, ""},
		{"valid raw input", func(c *store.Campaign) {
			c.Match, c.Lang, c.Hashtags, c.FromUsers = "", " JA ", []string{"#東京", "#go_lang"}, []string{"@Nasa_1"}
			c.Schedule, c.LookbackHours, c.Routes = "@Every 30m", 0, []store.Route{{Integration: "Webhook"}}
		}, ""},
		{"valid lang iw", func(c *store.Campaign) { c.Lang = "iw" }, ""},
		{"valid schedule @daily", func(c *store.Campaign) { c.Schedule = "@daily" }, ""},
		{"valid schedule with time zone", func(c *store.Campaign) { c.Schedule = "CRON_TZ=UTC 0 9 * * 1-5" }, ""},
		{"valid schedule every five minutes", func(c *store.Campaign) { c.Schedule = "*/5 * * * *" }, ""},
		{"valid schedule @every 5m", func(c *store.Campaign) { c.Schedule = "@every 5m" }, ""},
		{"valid schedule @hourly", func(c *store.Campaign) { c.Schedule = "@hourly" }, ""},
		{"valid schedule hour apart across midnight", func(c *store.Campaign) { c.Schedule = "30 23,0 * * *" }, ""},
		{"valid empty schedule", func(c *store.Campaign) { c.Schedule = "" }, ""},
		{"valid only advanced query", func(c *store.Campaign) { c.Keywords, c.AdvancedQuery = nil, `"a b" (c OR d)` }, ""},
		{"valid threshold bounds", func(c *store.Campaign) { c.Threshold = 100 }, ""},
		{"valid lookback max", func(c *store.Campaign) { c.LookbackHours = MaxLookbackHours }, ""},
		{"valid hashtag with marks", func(c *store.Campaign) {
			c.Hashtags = []string{"हिन्दी", "ภาษาไทย", "2024_vote"}
		}, ""},

		{"name missing", func(c *store.Campaign) { c.Name = "  " }, "name"},
		{"name too long", func(c *store.Campaign) { c.Name = strings.Repeat("é", MaxNameLen+1) }, "name"},
		{"name control char", func(c *store.Campaign) { c.Name = "a\x00b" }, "name"},
		{"name bad utf-8", func(c *store.Campaign) { c.Name = "a\xffb" }, "name"},
		{"no search term", func(c *store.Campaign) { c.Keywords = []string{" ", ""} }, "query"},
		{"keywords too many", func(c *store.Campaign) { c.Keywords = many }, "keywords"},
		{"keyword too long", func(c *store.Campaign) { c.Keywords = []string{strings.Repeat("k", MaxItemLen+1)} }, "keywords"},
		{"keyword control char", func(c *store.Campaign) { c.Keywords = []string{"a\x1bb"} }, "keywords"},
		{"phrase too long", func(c *store.Campaign) { c.Phrases = []string{strings.Repeat("p ", 60)} }, "phrases"},
		{"hashtag with a dash", func(c *store.Campaign) { c.Hashtags = []string{"#go-lang"} }, "hashtags"},
		{"hashtag of digits", func(c *store.Campaign) { c.Hashtags = []string{"#2024"} }, "hashtags"},
		{"mention too long", func(c *store.Campaign) { c.Mentions = []string{"@abcdefghijklmnop"} }, "mentions"},
		{"from user with a dot", func(c *store.Campaign) { c.FromUsers = []string{"john.doe"} }, "from_users"},
		{"from user unicode", func(c *store.Campaign) { c.FromUsers = []string{"café"} }, "from_users"},
		{"exclude word control char", func(c *store.Campaign) { c.ExcludeWords = []string{"x\x7f"} }, "exclude_words"},
		{"exclude word is a keyword", func(c *store.Campaign) { c.ExcludeWords = []string{"ACME"} }, "exclude_words"},
		{"exclude user bad handle", func(c *store.Campaign) { c.ExcludeUsers = []string{"a b"} }, "exclude_users"},
		{"exclude user is a from user", func(c *store.Campaign) {
			c.FromUsers, c.ExcludeUsers = []string{"nasa"}, []string{"@NASA"}
		}, "exclude_users"},
		{"match unknown", func(c *store.Campaign) { c.Match = "some" }, "match"},
		{"lang unknown", func(c *store.Campaign) { c.Lang = "xx" }, "lang"},
		{"lang three letters", func(c *store.Campaign) { c.Lang = "eng" }, "lang"},
		{"lang und", func(c *store.Campaign) { c.Lang = "und" }, "lang"},
		{"min_likes negative", func(c *store.Campaign) { c.MinLikes = -1 }, "min_likes"},
		{"min_retweets negative", func(c *store.Campaign) { c.MinRetweets = -1 }, "min_retweets"},
		{"min_replies negative", func(c *store.Campaign) { c.MinReplies = -1 }, "min_replies"},
		{"lookback negative", func(c *store.Campaign) { c.LookbackHours = -1 }, "lookback_hours"},
		{"lookback too long", func(c *store.Campaign) { c.LookbackHours = MaxLookbackHours + 1 }, "lookback_hours"},
		{"threshold negative", func(c *store.Campaign) { c.Threshold = -1 }, "threshold"},
		{"threshold over 100", func(c *store.Campaign) { c.Threshold = 101 }, "threshold"},
		{"advanced too long", func(c *store.Campaign) { c.AdvancedQuery = strings.Repeat("a ", 260) }, "advanced_query"},
		{"advanced open paren", func(c *store.Campaign) { c.AdvancedQuery = "(a OR b" }, "advanced_query"},
		{"advanced close paren", func(c *store.Campaign) { c.AdvancedQuery = "a) OR (b" }, "advanced_query"},
		{"advanced open quote", func(c *store.Campaign) { c.AdvancedQuery = `"a b` }, "advanced_query"},
		{"advanced empty group", func(c *store.Campaign) { c.AdvancedQuery = "a ( ) b" }, "advanced_query"},
		{"advanced empty phrase", func(c *store.Campaign) { c.AdvancedQuery = `a "" b` }, "advanced_query"},
		{"advanced paren in quotes", func(c *store.Campaign) { c.AdvancedQuery = `"a (b"` }, "advanced_query"},
		{"context too long", func(c *store.Campaign) { c.Context = strings.Repeat("c", MaxContextLen+1) }, "context"},
		{"context control char", func(c *store.Campaign) { c.Context = "bell\a" }, "context"},
		{"schedule garbage", func(c *store.Campaign) { c.Schedule = "every day" }, "schedule"},
		{"schedule six fields", func(c *store.Campaign) { c.Schedule = "0 */15 * * * *" }, "schedule"},
		{"schedule every too short", func(c *store.Campaign) { c.Schedule = "@every 1m" }, "schedule"},
		{"schedule every bad duration", func(c *store.Campaign) { c.Schedule = "@every soon" }, "schedule"},
		{"schedule cron every minute", func(c *store.Campaign) { c.Schedule = "* * * * *" }, "schedule"},
		{"schedule cron two minutes apart", func(c *store.Campaign) { c.Schedule = "0,2 9 * * *" }, "schedule"},
		{"schedule two minutes apart across hours", func(c *store.Campaign) { c.Schedule = "0,58 9,10 * * *" }, "schedule"},
		{"schedule never fires", func(c *store.Campaign) { c.Schedule = "0 0 30 2 *" }, "schedule"},
		{"route unknown integration", func(c *store.Campaign) { c.Routes = []store.Route{{Integration: "email", Mode: "instant"}} }, "routes"},
		{"route unknown mode", func(c *store.Campaign) { c.Routes = []store.Route{{Integration: "slack", Mode: "hourly"}} }, "routes"},
		{"route twice", func(c *store.Campaign) {
			c.Routes = []store.Route{{Integration: "slack", Mode: "instant"}, {Integration: "Slack", Mode: "digest"}}
		}, "routes"},
		{"compiled query too long", func(c *store.Campaign) {
			c.Keywords = make([]string, 0, MaxListItems)
			for i := range MaxListItems {
				c.Keywords = append(c.Keywords, "keyword"+strings.Repeat("x", i%10)+string(rune('a'+i%26))+string(rune('a'+i/26)))
			}
		}, "query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := good()
			tt.change(&c)
			err := Validate(c)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a *ValidationError on %s", err, tt.field)
			}
			if ve.Field != tt.field {
				t.Errorf("field %q (%v), want %q", ve.Field, err, tt.field)
			}
			if !strings.HasPrefix(err.Error(), tt.field+": ") {
				t.Errorf("Error() = %q does not start with the field", err.Error())
			}
		})
	}
}

// TestValidateQueryRoom checks that a campaign Validate accepts still compiles on a run
// with the longest bounds.
func TestValidateQueryRoom(t *testing.T) {
	t.Parallel()
	c := good()
	for n := 1; ; n++ {
		c.Keywords = append(c.Keywords, "word"+strings.Repeat("y", n%7)+string(rune('a'+n%26))+string(rune('a'+n/26)))
		if Validate(c) != nil {
			c.Keywords = c.Keywords[:len(c.Keywords)-1]
			break
		}
	}
	if _, err := Compile(c, Options{SinceID: "18100000000000000000", Until: jul10noon}); err != nil {
		t.Errorf("accepted campaign does not compile: %v", err)
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	c := store.Campaign{
		Name: "  Acme  ", Match: " ALL ", Keywords: []string{" go\tlang ", "Go Lang", "", `"quoted"`},
		Phrases: []string{`  "hello   world" `}, Hashtags: []string{"#Go", "go", "＃東京"},
		Mentions: []string{"@@nasa"}, FromUsers: []string{" @ESA "}, ExcludeWords: []string{"-spam", "- -ads"},
		ExcludeUsers: []string{"@bot"}, Lang: " IN ", AdvancedQuery: " FROM:nasa  \"FROM: me\"  -Filter:links ",
		Context: "  offer \n", Schedule: "  @Every   30m ", Threshold: 0,
		Routes: []store.Route{{Integration: " Slack ", Mode: ""}},
	}
	Normalize(&c)
	want := store.Campaign{
		Name: "Acme", Match: "all", Keywords: []string{"go lang", "quoted"}, Phrases: []string{"hello world"},
		Hashtags: []string{"Go", "東京"}, Mentions: []string{"nasa"}, FromUsers: []string{"ESA"},
		ExcludeWords: []string{"spam", "ads"}, ExcludeUsers: []string{"bot"}, Lang: "id",
		AdvancedQuery: `from:nasa "FROM: me" -filter:links`, Context: "offer", Schedule: "@every 30m",
		LookbackHours: DefaultLookbackHours, Threshold: 0,
		Routes: []store.Route{{Integration: "slack", Mode: "instant"}},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Normalize\n got %+v\nwant %+v", c, want)
	}
	again := c
	Normalize(&again)
	if !reflect.DeepEqual(again, c) {
		t.Errorf("Normalize is not idempotent:\n%+v\n%+v", c, again)
	}

	var empty store.Campaign
	Normalize(&empty)
	if empty.Keywords == nil || empty.Routes == nil || empty.Match != MatchAny {
		t.Errorf("empty campaign normalised to %+v", empty)
	}
}

func TestLanguages(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, l := range Languages() {
		if len(l.Code) != 2 || strings.ToLower(l.Code) != l.Code || l.Name == "" || seen[l.Code] {
			t.Errorf("bad or repeated entry %+v", l)
		}
		seen[l.Code] = true
	}
	for _, code := range strings.Fields("en es fr de it pt ja ko zh ar hi ru tr nl pl sv id th vi uk fa he el cs ro hu da fi no ca") {
		if !seen[code] {
			t.Errorf("%s missing", code)
		}
	}
	for iso := range seen {
		if _, ok := isoLang[iso]; ok {
			t.Errorf("%s is X's code, the table must hold the ISO one", iso)
		}
	}
}
