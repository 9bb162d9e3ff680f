package xfake

import (
	"hash/fnv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// entity is a hashtag, mention or link found in a text, with X's indices: Unicode
// code points into the text as served (after t.co substitution and escaping).
type entity struct {
	kind       byte   // '#' hashtag, '@' mention, 'u' link
	text       string // tag without '#', screen name without '@', or the expanded URL
	tco        string // the t.co link that stands for a URL in the served text
	start, end int
}

// wireText is a text as X serves it.
type wireText struct {
	text  string
	ents  []entity
	runes int
}

// maxTweetRunes is where X cuts legacy.full_text and serves the rest as a note tweet.
const maxTweetRunes = 280

// buildWire rewrites text the way X serves it: every link becomes its t.co form,
// and with escape set (legacy.full_text) '&', '<' and '>' become HTML entities, as X
// does. Indices count code points of the result.
func buildWire(text string, escape bool) wireText {
	var b strings.Builder
	b.Grow(len(text) + 16)
	var w wireText
	n := 0 // runes written
	plain := func(s string) {
		for _, r := range s {
			if escape {
				switch r {
				case '&':
					b.WriteString("&amp;")
					n += 5
					continue
				case '<':
					b.WriteString("&lt;")
					n += 4
					continue
				case '>':
					b.WriteString("&gt;")
					n += 4
					continue
				}
			}
			b.WriteRune(r)
			n++
		}
	}
	i, last := 0, 0
	for i < len(text) {
		c := text[i]
		if c != 'h' && c != '#' && c != '@' {
			_, sz := utf8.DecodeRuneInString(text[i:])
			i += sz
			continue
		}
		prevOK := i == 0 || !isWordByte(text, i)
		switch {
		case (c == 'h') && prevOK && (strings.HasPrefix(text[i:], "https://") || strings.HasPrefix(text[i:], "http://")):
			j := i
			for j < len(text) && !isSpaceAt(text, j) {
				_, sz := utf8.DecodeRuneInString(text[j:])
				j += sz
			}
			for j > i && strings.ContainsRune(".,!?)'\":;", rune(text[j-1])) {
				j--
			}
			url := text[i:j]
			plain(text[last:i])
			tco := TCo(url)
			w.ents = append(w.ents, entity{kind: 'u', text: url, tco: tco, start: n, end: n + len(tco)})
			b.WriteString(tco)
			n += len(tco)
			i, last = j, j
			continue
		case (c == '#' || c == '@') && prevOK:
			j := i + 1
			for j < len(text) {
				r, sz := utf8.DecodeRuneInString(text[j:])
				if c == '@' && !(r < utf8.RuneSelf && (isASCIIAlnum(byte(r)) || r == '_')) {
					break
				}
				if c == '#' && !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') {
					break
				}
				j += sz
			}
			if j > i+1 {
				plain(text[last:i])
				tag := text[i+1 : j]
				runes := utf8.RuneCountInString(tag) + 1
				w.ents = append(w.ents, entity{kind: c, text: tag, start: n, end: n + runes})
				b.WriteString(text[i:j])
				n += runes
				i, last = j, j
				continue
			}
		}
		_, sz := utf8.DecodeRuneInString(text[i:])
		i += sz
	}
	plain(text[last:])
	w.text = b.String()
	w.runes = n
	return w
}

// isWordByte reports whether the rune ending just before i is a word character, so
// that "a#b" or "me@x.com" are not a hashtag or a mention.
func isWordByte(s string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '&'
}

func isSpaceAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsSpace(r)
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// TCo is the t.co link the fake shows in place of url. It is a pure function of url,
// so a test can compute what a client will read in legacy.full_text.
func TCo(url string) string {
	return "https://t.co/" + base62(hashString(url), 10)
}

const base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func base62(v uint64, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = base62Digits[v%62]
		v /= 62
	}
	return string(b)
}

// displayURL is how X shows a link: no scheme, no "www.", cut at 25 runes plus "…".
func displayURL(url string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(url, "https://"), "http://")
	s = strings.TrimPrefix(s, "www.")
	if utf8.RuneCountInString(s) > 26 {
		r := []rune(s)
		s = string(r[:25]) + "…"
	}
	return s
}

// cutText returns the first n runes of s, backing off to before a link the cut
// would split, so that legacy.full_text never holds half a URL.
func cutText(s string, n int) string {
	cut := cutRunes(s, n)
	if len(cut) == len(s) {
		return cut
	}
	start := strings.LastIndexAny(cut, " \n") + 1
	if chunk := cut[start:]; strings.HasPrefix(chunk, "http") && !strings.ContainsAny(s[len(cut):len(cut)+1], " \n") {
		return strings.TrimRight(cut[:start], " \n")
	}
	return cut
}

// cutRunes returns the first n runes of s.
func cutRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

func (t Tweet) entities(kind byte) []string {
	var out []string
	for _, e := range buildWire(t.Text, false).ents {
		if e.kind == kind {
			out = append(out, e.text)
		}
	}
	return out
}

// Hashtags are the tags (without '#') the fake serves in entities.hashtags.
func (t Tweet) Hashtags() []string { return t.entities('#') }

// Mentions are the screen names (without '@') served in entities.user_mentions.
func (t Tweet) Mentions() []string { return t.entities('@') }

// Links are the expanded URLs served in entities.urls.
func (t Tweet) Links() []string { return t.entities('u') }

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
