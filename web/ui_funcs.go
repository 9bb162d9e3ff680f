package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"nexus/pipeline/analyze"
	"nexus/scraper"
)

// funcs are the template helpers. Links to X are built here from ids and checked
// handles only: a tweet's own url, links and media come from strangers and are never
// put in an href.
func (u *ui) funcs() template.FuncMap {
	return template.FuncMap{
		"asset": func(name string) string { return "/static/" + name + "?v=" + u.assets[name] },
		"ago":   func(t time.Time) string { return ago(u.opts.Now(), t) },
		"agop": func(t *time.Time) string {
			if t == nil {
				return "never"
			}
			return ago(u.opts.Now(), *t)
		},
		"when":     func(t time.Time) string { return t.UTC().Format("Jan 2, 2006 15:04 UTC") },
		"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"xStatus":  xStatusURL,
		"xProfile": xProfileURL,
		"xReply":   xReplyURL,
		"plural": func(n int, one, many string) string {
			if n == 1 {
				return fmt.Sprintf("%d %s", n, one)
			}
			return fmt.Sprintf("%d %s", n, many)
		},
		"pct": func(a, b int) int {
			if b <= 0 {
				return 0
			}
			return (100*a + b/2) / b
		},
		"add":   func(a, b int) int { return a + b },
		"sub":   func(a, b int) int { return a - b },
		"human": human,
		"label": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
		"join":  strings.Join,
		"clip":  clipRunes,
		"depth": func(d int) int { return min(d, 8) },
		// card passes an opportunity to its partial with the page (for the CSRF
		// token) and where its actions return to.
		"card": func(o oppView, root view, back string) map[string]any {
			return map[string]any{"O": o, "Root": root, "Back": back}
		},
	}
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, " from now"
	}
	switch {
	case d < 45*time.Second:
		if suffix == " ago" {
			return "just now"
		}
		return "in a moment"
	case d < time.Hour:
		return fmt.Sprintf("%d min%s", int(d.Minutes()+0.5), suffix)
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h%s", int(d.Hours()+0.5), suffix)
	case d < 30*24*time.Hour:
		return fmt.Sprintf("%d d%s", int(d.Hours()/24+0.5), suffix)
	}
	return t.UTC().Format("Jan 2, 2006")
}

func human(n int64) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 10_000:
		return fmt.Sprintf("%dk", n/1000)
	case n >= 1_000:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

func clipRunes(n int, s string) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

var (
	tweetIDPattern = regexp.MustCompile(`^[0-9]{1,25}$`)
	handlePattern  = regexp.MustCompile(`^[A-Za-z0-9_]{1,15}$`)
)

// xStatusURL links a tweet by id alone; X redirects /i/status/<id> to the author's
// URL. An id that is not a number gets no link.
func xStatusURL(id string) string {
	if !tweetIDPattern.MatchString(id) {
		return ""
	}
	return "https://x.com/i/status/" + id
}

// xProfileURL links an account when its handle is one X could have issued.
func xProfileURL(username string) string {
	if !handlePattern.MatchString(username) {
		return ""
	}
	return "https://x.com/" + username
}

// xReplyURL opens X's composer answering tweet id, prefilled with text.
func xReplyURL(id, text string) string {
	if !tweetIDPattern.MatchString(id) {
		return ""
	}
	q := url.Values{"in_reply_to": {id}}
	if text != "" {
		q.Set("text", text)
	}
	return "https://x.com/intent/post?" + q.Encode()
}

// tweetView is a stored tweet as pages show it.
type tweetView struct {
	scraper.Tweet
	Depth  int
	IsHit  bool
	IsRoot bool
}

// parseTweet reads a stored tweet; a row that does not parse shows as empty rather
// than failing the page (the id still links to X).
func parseTweet(raw json.RawMessage) tweetView {
	var t scraper.Tweet
	json.Unmarshal(raw, &t) //nolint:errcheck // see above
	return tweetView{Tweet: t}
}

// Views is the view count, or -1 when X gave none.
func (t tweetView) Views() int64 {
	if t.ViewCount == nil {
		return -1
	}
	return *t.ViewCount
}

// Name is the author's display name, else the handle.
func (t tweetView) Name() string {
	if strings.TrimSpace(t.DisplayName) != "" {
		return t.DisplayName
	}
	return "@" + t.Username
}

// parseResult reads an analysis; null or broken JSON is an empty result.
func parseResult(raw json.RawMessage) (analyze.Result, bool) {
	var r analyze.Result
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "{}" {
		return r, false
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, false
	}
	return r, true
}
