package analyze

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"nexus/scraper"
)

// DefaultThreadTokens is the thread budget the providers use when their config gives none:
// a 10-reply thread fits whole, a 100-reply one is trimmed.
const DefaultThreadTokens = 1500

// Caps on one post's text: a note tweet can be 25,000 characters, and one post must not
// crowd out the rest of the thread.
const (
	maxTextRunes   = 600
	maxKeyRunes    = 1500 // root and hit
	maxQuotedRunes = 200
	maxIndent      = 8
)

// EstimateTokens is the rough token count of s that budgets use: one token per four
// characters, which is close for English and errs high for code-like text.
func EstimateTokens(s string) int {
	return (utf8.RuneCountInString(s) + 3) / 4
}

// Serialize writes the thread compactly for a prompt: one line per post, indented by its
// depth, with the author's @handle and follower count, the time (the root's in RFC 3339,
// the others relative to it), engagement, and the text; the root and the hit are marked.
//
// When the text would exceed budgetTokens (estimated by EstimateTokens; ≤ 0 means no
// limit), it keeps the root, the hit and the hit's ancestors, then the newest replies
// that fit, and replaces each run of left-out posts by one "[… n posts omitted]" line.
func Serialize(conv Conversation, budgetTokens int) string {
	if len(conv.Tweets) == 0 {
		return ""
	}
	start := conv.Tweets[0].Tweet.CreatedAt
	if n, ok := conv.Node(conv.RootID); ok {
		start = n.Tweet.CreatedAt
	}
	lines := make([]string, len(conv.Tweets))
	cost := 0
	for i, n := range conv.Tweets {
		lines[i] = nodeLine(conv, n, start)
		cost += EstimateTokens(lines[i]) + 1
	}

	keep := make([]bool, len(conv.Tweets))
	for i := range keep {
		keep[i] = true
	}
	if budgetTokens > 0 && cost > budgetTokens {
		must := conv.ancestors()
		cost = 0
		for i, n := range conv.Tweets {
			keep[i] = must[n.Tweet.ID]
			if keep[i] {
				cost += EstimateTokens(lines[i]) + 1
			}
		}
		cost += 12 // the header's "shown" note and the omitted markers, roughly
		newest := make([]int, 0, len(conv.Tweets))
		for i := range conv.Tweets {
			if !keep[i] {
				newest = append(newest, i)
			}
		}
		slices.SortStableFunc(newest, func(a, b int) int {
			ta, tb := conv.Tweets[a].Tweet, conv.Tweets[b].Tweet
			if c := tb.CreatedAt.Compare(ta.CreatedAt); c != 0 {
				return c
			}
			return strings.Compare(tb.ID, ta.ID)
		})
		for _, i := range newest {
			c := EstimateTokens(lines[i]) + 1 + 3 // + its share of an omitted marker
			if cost+c <= budgetTokens {
				keep[i] = true
				cost += c
			}
		}
	}

	shown := 0
	for _, k := range keep {
		if k {
			shown++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Thread %s, %d posts", conv.ID, len(conv.Tweets))
	if shown < len(conv.Tweets) {
		fmt.Fprintf(&b, " (%d shown: root, hit and its ancestors, newest replies)", shown)
	}
	fmt.Fprintf(&b, ", started %s; times are relative to the start.\n", start.UTC().Format(time.RFC3339))
	for i := 0; i < len(lines); i++ {
		if keep[i] {
			b.WriteString(lines[i])
			b.WriteByte('\n')
			continue
		}
		j := i
		for j < len(lines) && !keep[j] {
			j++
		}
		fmt.Fprintf(&b, "%s[… %d %s omitted]\n", indent(conv.Tweets[i].Depth), j-i, plural(j-i, "post", "posts"))
		i = j - 1
	}
	return b.String()
}

func nodeLine(conv Conversation, n Node, start time.Time) string {
	t := n.Tweet
	var b strings.Builder
	b.WriteString(indent(n.Depth))
	limit := maxTextRunes
	if t.ID == conv.RootID {
		b.WriteString("[ROOT] ")
		limit = maxKeyRunes
	}
	if t.ID == conv.HitID {
		b.WriteString("[HIT] ")
		limit = maxKeyRunes
	}
	handle := t.Username
	if handle == "" {
		handle = t.Author.Username
	}
	fmt.Fprintf(&b, "@%s (%s followers", handle, humanCount(t.Author.FollowersCount))
	if t.Author.Verified {
		b.WriteString(", verified")
	}
	b.WriteString(") ")
	if t.ID == conv.RootID {
		b.WriteString(t.CreatedAt.UTC().Format(time.RFC3339))
	} else {
		b.WriteString(relative(t.CreatedAt.Sub(start)))
	}
	var eng []string
	for _, e := range []struct {
		n         int64
		one, many string
	}{{t.LikeCount, "like", "likes"}, {t.RetweetCount, "repost", "reposts"}, {t.ReplyCount, "reply", "replies"}, {t.QuoteCount, "quote", "quotes"}} {
		if e.n > 0 {
			eng = append(eng, humanCount(e.n)+" "+plural(int(min(e.n, 2)), e.one, e.many))
		}
	}
	if len(eng) > 0 {
		fmt.Fprintf(&b, " [%s]", strings.Join(eng, ", "))
	}
	b.WriteString(": ")
	b.WriteString(clip(oneLine(t.Text), limit))
	if q := t.Quoted; q != nil {
		fmt.Fprintf(&b, " [quoting @%s: %s]", q.Username, clip(oneLine(q.Text), maxQuotedRunes))
	}
	return b.String()
}

func indent(depth int) string { return strings.Repeat("  ", min(max(depth, 0), maxIndent)) }

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " / ")), " ")
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

func relative(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "+0m"
	case d < time.Hour:
		return fmt.Sprintf("+%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("+%dh", int(d/time.Hour))
	default:
		return fmt.Sprintf("+%dd", int(d/(24*time.Hour)))
	}
}

func humanCount(n int64) string {
	switch {
	case n >= 1_000_000:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + "M"
	case n >= 10_000:
		return strconv.FormatInt(n/1000, 10) + "k"
	case n >= 1_000:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64) + "k"
	default:
		return strconv.FormatInt(n, 10)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// CacheKey identifies one analysis: the SHA-256, in hex, of the prompt version, the model,
// the system instruction built from the campaign (its context and terms) and the
// conversation's content. Two calls with the same key would send the same question, so a
// caller that stores results by this key never sends an unchanged conversation twice.
//
// The content is each post's id, place in the tree, author and text; counters that move
// on every fetch (likes, retweets, followers) are left out on purpose, so that a thread
// whose only change is a few more likes is not sent again.
func CacheKey(c Campaign, conv Conversation, model string) string {
	h := sha256.New()
	field := func(s string) {
		// Length-prefixed, so that no two different inputs write the same bytes.
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	field(PromptVersion)
	field(model)
	field(SystemInstruction(c))
	field(conv.ID)
	field(conv.RootID)
	field(conv.HitID)
	for _, n := range conv.Tweets {
		contentFields(field, n.Tweet)
		field(n.Parent)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func contentFields(field func(string), t scraper.Tweet) {
	field(t.ID)
	field(t.Username)
	field(t.CreatedAt.UTC().Format(time.RFC3339))
	field(t.Lang)
	field(t.Text)
	if t.Quoted != nil {
		field("quoted")
		field(t.Quoted.Username)
		field(t.Quoted.Text)
	}
}
