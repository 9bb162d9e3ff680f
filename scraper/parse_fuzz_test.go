package scraper

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParseTimeline feeds ParseTimeline arbitrary bodies, seeded with every fixture and the
// hand-made shapes. It must never panic, must accept every valid JSON body without a syntax
// error, must not depend on white space, and must keep its output invariants.
//
// The fixtures are large (up to 900 KB), and minimizing each new interesting input stalls
// the fuzzer for minutes, so fuzz with minimization off:
//
//	go test ./scraper -run '^$' -fuzz FuzzParseTimeline -fuzzminimizetime 0 -fuzztime 5m
func FuzzParseTimeline(f *testing.F) {
	for _, fx := range fixtures {
		f.Add(readFixture(f, fx.path))
	}
	for _, s := range []string{
		searchBody(addEntries(tweetEntry("1", tweetJSON("1", "", "")), cursorEntry("Bottom", "b"))),
		searchBody(addEntries(tweetEntry("2", `{"__typename":"TweetWithVisibilityResults","tweet":`+tweetJSON("2", "", "")+`}`))),
		searchBody(`{"type":"TimelineReplaceEntry","entry":` + cursorEntry("Top", "t") + `}`),
		`{"data":{"x":{"instructions":[{"type":"TimelineAddToModule","moduleItems":[{"entryId":"a","item":{"itemContent":{"cursorType":"ShowMore","value":"v"}}}]}]}}}`,
		`{"data":{"x":{"instructions":[{"type":"TimelinePinEntry","entry":` + tweetEntry("3", tweetJSON("3", "", "")) + `}]}}}`,
		`{"errors":[{"message":"Rate limit exceeded","code":88}]}`,
		`{"data":{},"errors":[{"extensions":{"code":131}}]}`,
		`<!DOCTYPE html><html></html>`,
		`{"data":{"a":"\ud83d\ude00 \u00e9 \"x\" \\"}}`,
		`{}`, `[]`, ``, `null`, `{"data":[1,-2.5e3,true,false,null,"s",{}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParseTimeline(body)
		var se *syntaxError
		if errors.As(err, &se) && json.Valid(body) {
			t.Fatalf("valid JSON rejected: %v", err)
		}
		if err != nil {
			return
		}
		if p.Tweets == nil || p.Users == nil || p.Cursors.ShowMore == nil {
			t.Fatal("nil slice in page")
		}
		seen := map[string]bool{}
		for _, tw := range p.Tweets {
			if tw.ID == "" || seen[tw.ID] {
				t.Fatalf("tweet id %q empty or repeated", tw.ID)
			}
			seen[tw.ID] = true
			if tw.Hashtags == nil || tw.Mentions == nil || tw.Links == nil || tw.Media == nil {
				t.Fatalf("tweet %s: nil slice", tw.ID)
			}
			if !strings.HasPrefix(tw.URL, "https://x.com/") {
				t.Fatalf("tweet %s: url %q", tw.ID, tw.URL)
			}
		}
		if _, err := json.Marshal(p); err != nil {
			t.Fatal(err)
		}
		// The same body compacted and indented parses to the same page.
		if !json.Valid(body) {
			return
		}
		var compact, indented bytes.Buffer
		if json.Compact(&compact, body) != nil || json.Indent(&indented, body, "", "   ") != nil {
			return
		}
		for _, other := range [][]byte{compact.Bytes(), indented.Bytes()} {
			q, err := ParseTimeline(other)
			if err != nil {
				t.Fatalf("reformatted body: %v", err)
			}
			if !reflect.DeepEqual(p, q) {
				t.Fatal("white space changed the page")
			}
		}
	})
}

// FuzzUnescapeJSON checks the reader's string decoding against encoding/json.
func FuzzUnescapeJSON(f *testing.F) {
	for _, s := range []string{`plain`, `\n\t\"\\\/`, `\u00e9`, `\ud83d\ude00`, `\ud83d`, `\ude00\ud83d`, `\u12`, `x\\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := unescapeJSON([]byte(s)) // must not panic on anything
		quoted := []byte(`"` + s + `"`)
		if !utf8.ValidString(s) || !json.Valid(quoted) {
			return
		}
		var want string
		if err := json.Unmarshal(quoted, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("unescapeJSON(%q) = %q, encoding/json %q", s, got, want)
		}
	})
}

// FuzzParseRubyDate checks the fast created_at parser against time.Parse: whatever it
// accepts, time.Parse accepts as the same instant.
func FuzzParseRubyDate(f *testing.F) {
	for _, s := range []string{
		"Wed Jul 08 21:59:10 +0000 2026", "Sat Feb 29 23:59:59 -0730 2020", "Mon Feb 29 00:00:00 +0000 2021",
		"Sun Dec 31 23:59:60 +2400 1999", "Xyz Jan 01 00:00:00 +0000 2000", "Mon Jan 1 00:00:00 +0000 2000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseRubyDate([]byte(s))
		if !ok {
			return
		}
		want, err := time.Parse(time.RubyDate, s)
		if err != nil {
			t.Fatalf("parseRubyDate(%q) = %v, time.Parse fails: %v", s, got, err)
		}
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Fatalf("parseRubyDate(%q) = %v, time.Parse %v", s, got, want)
		}
	})
}
