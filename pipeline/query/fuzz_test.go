package query

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"nexus/store"
)

var jul10noon = time.Date(2026, 7, 10, 12, 0, 0, 0, time.UTC)

// FuzzCompile builds campaigns from random fields; lists are split on '|'. Compile must
// never panic, and a query it returns must be well formed: balanced parentheses (counted
// plainly, quotes or not), an even number of double quotes, at most MaxQueryLen
// characters. Normalize must be idempotent, and a campaign Validate accepts must compile.
func FuzzCompile(f *testing.F) {
	f.Add("golang|rust", `state of "the" art`, "#go", "@nasa", "esa|nasa", "-spam|buy now", "bot", "en",
		"(a OR b) -c", "all", 10, uint8(0), "1810000000000000000")
	f.Add("OR|-x|from:y|(z)", `"`, "＃東京|2024", "@", "@@", `"(`, ")", "IW", `"a (b" c)`, "ANY", -3, uint8(3), "")
	f.Add("0", "0", "0", "0", "0", "0", "0", " ", `"" ( )`, "0", -3, uint8(3), "")
	f.Add("café|東京 タワー", "", "", "", "", "", "", "", "FROM:x Lang:EN", "", 0, uint8(1), "x")
	f.Fuzz(func(t *testing.T, kw, ph, ht, mn, fu, ew, eu, lang, adv, match string, n int, flags uint8, sinceID string) {
		c := store.Campaign{
			Name: "fuzz", Keywords: split(kw), Phrases: split(ph), Hashtags: split(ht), Mentions: split(mn),
			FromUsers: split(fu), ExcludeWords: split(ew), ExcludeUsers: split(eu), Lang: lang,
			AdvancedQuery: adv, Match: match, MinLikes: n, MinRetweets: n / 2, MinReplies: -n,
			IncludeReplies: flags&1 != 0, IncludeRetweets: flags&2 != 0,
		}
		o := Options{SinceID: sinceID}
		if flags&4 != 0 {
			o.Since = jul10noon.Add(-time.Duration(n) * time.Minute)
		}
		if flags&8 != 0 {
			o.Until = jul10noon
		}

		got, err := Compile(c, o)
		if err == nil {
			checkWellFormed(t, got.Query)
		}

		norm := c
		Normalize(&norm)
		again := norm
		Normalize(&again)
		if !reflect.DeepEqual(norm, again) {
			t.Fatalf("Normalize not idempotent:\n%#v\n%#v", norm, again)
		}

		if Validate(c) == nil {
			worst := Options{SinceID: "18100000000000000000", Since: o.Since, Until: jul10noon}
			got, err := Compile(c, worst)
			if err != nil {
				t.Fatalf("Validate accepted %#v but Compile: %v", c, err)
			}
			checkWellFormed(t, got.Query)
		}
	})
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "|")
}

func checkWellFormed(t *testing.T, q string) {
	t.Helper()
	depth := 0
	for _, r := range q {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		}
		if depth < 0 {
			t.Fatalf("query %q closes a group it did not open", q)
		}
	}
	if depth != 0 {
		t.Fatalf("query %q leaves %d groups open", q, depth)
	}
	if strings.Count(q, `"`)%2 != 0 {
		t.Fatalf("query %q has an odd number of double quotes", q)
	}
	if n := utf8.RuneCountInString(q); n > MaxQueryLen {
		t.Fatalf("query of %d characters", n)
	}
	if q == "" || strings.Contains(q, "()") || strings.Contains(q, `""`) {
		t.Fatalf("query %q is empty or has an empty group or phrase", q)
	}
}
