// Package heuristic analyses conversations offline, with no model and no key: campaign
// term hits weighted by where they are and how much attention the post got, a small
// sentiment lexicon, and intent cues. It is the default when no LLM key is configured,
// so that Nexus works offline; it does not try to imitate an LLM and writes no replies.
package heuristic

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	"nexus/pipeline/analyze"
	"nexus/scraper"
)

// Provider and Model are what every result of this package says.
const (
	Provider = "heuristic"
	Model    = "heuristic-v1"
)

// OpportunityThreshold is the relevance an opportunity needs, with an intent a team can
// answer (a recommendation asked for, a complaint, a comparison, buying intent, a
// question).
const OpportunityThreshold = 60

// Analyzer is the offline analyzer. The zero value is ready; it is safe for concurrent
// use and deterministic.
type Analyzer struct{}

// New returns the offline analyzer.
func New() *Analyzer { return &Analyzer{} }

// Model is the model name results carry, as CacheKey wants it.
func (*Analyzer) Model() string { return Model }

// Analyze judges one conversation. It fails only when ctx is done.
func (*Analyzer) Analyze(ctx context.Context, camp analyze.Campaign, conv analyze.Conversation) (analyze.Result, error) {
	if err := ctx.Err(); err != nil {
		return analyze.Result{}, fmt.Errorf("heuristic: %w", err)
	}
	start := time.Now()
	r := judge(compile(camp), conv)
	r.Latency = time.Since(start)
	return r, nil
}

// terms is a campaign's terms in matching form.
type terms struct {
	keywords []string // lower case; one with a space matches as a phrase
	phrases  []string
	hashtags []string // lower case, without '#'
	context  []string // salient words of the campaign's context, a weak signal
}

func compile(c analyze.Campaign) terms {
	var t terms
	for _, k := range c.Keywords {
		if k = norm(k); k != "" {
			t.keywords = append(t.keywords, k)
		}
	}
	for _, p := range c.Phrases {
		if p = norm(p); p != "" {
			t.phrases = append(t.phrases, p)
		}
	}
	for _, h := range c.Hashtags {
		if h = strings.TrimPrefix(norm(h), "#"); h != "" {
			t.hashtags = append(t.hashtags, h)
		}
	}
	seen := map[string]bool{}
	for _, w := range tokens(strings.ToLower(c.Context)) {
		w = strings.Trim(w, "#@$'’")
		if len([]rune(w)) >= 5 && !stopwords[w] && !seen[w] && len(t.context) < 20 {
			seen[w] = true
			t.context = append(t.context, w)
		}
	}
	return t
}

func (t terms) empty() bool {
	return len(t.keywords)+len(t.phrases)+len(t.hashtags)+len(t.context) == 0
}

// post is one node prepared for scoring.
type post struct {
	node    analyze.Node
	text    string          // lower case, single-spaced, padded with a space each side
	words   map[string]bool // its tokens
	weight  float64         // position × engagement × reach
	key     bool            // root, hit or an ancestor of the hit
	matched []string        // campaign terms it contains
	score   float64         // term score, before weight
	senti   float64         // sentiment, before weight
	hits    int             // sentiment words found
}

func judge(t terms, conv analyze.Conversation) analyze.Result {
	keyIDs := ancestors(conv)
	posts := make([]post, len(conv.Tweets))
	counts := map[string]int{}
	var termScore float64
	for i, n := range conv.Tweets {
		p := &posts[i]
		p.node = n
		// A campaign term inside a link's path is not the author talking about it.
		p.text = " " + norm(stripURLs(n.Tweet.Text)) + " "
		toks := tokens(p.text)
		p.words = make(map[string]bool, len(toks))
		for _, w := range toks {
			p.words[w] = true
		}
		p.key = keyIDs[n.Tweet.ID]
		p.weight = weight(n, conv, p.key)
		p.matched, p.score = t.match(p, n.Tweet)
		for _, m := range p.matched {
			counts[m]++
		}
		termScore += p.weight * p.score
		p.senti, p.hits = sentiment(p.text, toks)
	}

	intent := detectIntent(posts)
	relevance := 100 * (1 - math.Exp(-termScore/1.6))
	if t.empty() {
		relevance = 40 // the search found it; with no terms there is nothing more to weigh
	}
	if termScore > 0 || t.empty() {
		switch intent {
		case "seeking_recommendation":
			relevance += 15
		case "complaint", "comparison", "purchase_intent":
			relevance += 10
		case "question":
			relevance += 5
		}
	}
	if intent == "spam" || intent == "job_post" {
		relevance = min(relevance*0.3, 15)
	}
	rel := int(math.Round(min(max(relevance, 0), 100)))

	r := analyze.Result{
		Relevance:        rel,
		Sentiment:        overallSentiment(posts),
		Intent:           intent,
		Insights:         insights(posts, counts, conv),
		SuggestedReplies: []string{},
		Provider:         Provider,
		Model:            Model,
	}
	why, can := opportunityIntents[intent]
	switch {
	case can && rel >= OpportunityThreshold && settled(conv):
		r.OpportunityReason = "The author says the question is settled."
	case can && rel >= OpportunityThreshold:
		r.Opportunity = true
		r.OpportunityReason = fmt.Sprintf("%s (%s); relevance %d.", capitalize(why), topTerms(counts, 3), rel)
	case intent == "spam":
		r.OpportunityReason = "Looks like spam or a promotion."
	case !can:
		r.OpportunityReason = fmt.Sprintf("Intent %q is not one a team can usefully answer; relevance %d.", intent, rel)
	default:
		r.OpportunityReason = fmt.Sprintf("Relevance %d is below %d.", rel, OpportunityThreshold)
	}
	return r
}

// weight is a post's weight: its position (root, hit and the hit's ancestors count most,
// deep replies least), its engagement and its author's reach, both on a log scale.
func weight(n analyze.Node, conv analyze.Conversation, key bool) float64 {
	pos := 0.6 / math.Sqrt(float64(max(n.Depth, 1)))
	switch {
	case n.Tweet.ID == conv.RootID || n.Tweet.ID == conv.HitID:
		pos = 1
	case key:
		pos = 0.8
	}
	t := n.Tweet
	engagement := float64(t.LikeCount + 2*t.RetweetCount + 2*t.ReplyCount + t.QuoteCount)
	w := pos * (1 + 0.25*math.Log10(1+engagement)) * (1 + 0.1*math.Log10(1+float64(t.Author.FollowersCount)))
	return max(min(w, 2.5), 0.2)
}

// match returns the campaign terms in a post and its term score: a keyword 1, a phrase
// 1.5, a hashtag 0.8, a context word 0.25 (at most 0.75 a post).
func (t terms) match(p *post, tw scraper.Tweet) ([]string, float64) {
	var matched []string
	score := 0.0
	for _, k := range t.keywords {
		if hasTerm(p, k) {
			matched = append(matched, k)
			score++
		}
	}
	for _, ph := range t.phrases {
		if strings.Contains(p.text, " "+ph+" ") {
			matched = append(matched, `"`+ph+`"`)
			score += 1.5
		}
	}
	for _, h := range t.hashtags {
		if p.words["#"+h] || slices.ContainsFunc(tw.Hashtags, func(x string) bool { return strings.EqualFold(x, h) }) {
			matched = append(matched, "#"+h)
			score += 0.8
		}
	}
	ctx := 0.0
	for _, w := range t.context {
		if p.words[w] && ctx < 0.75 {
			ctx += 0.25
		}
	}
	return matched, score + ctx
}

// hasTerm matches a keyword as a whole word (a plural "s" or "es" allowed), or as a
// phrase when it has several words.
func hasTerm(p *post, k string) bool {
	if strings.Contains(k, " ") {
		return strings.Contains(p.text, " "+k+" ")
	}
	return p.words[k] || p.words[k+"s"] || p.words[k+"es"] || p.words["#"+k] || p.words["@"+k]
}

// sentiment sums the polarity of a post's sentiment words, flipping a word that follows
// a negator within three words, and counts emoji.
func sentiment(text string, ws []string) (float64, int) {
	score, hits := 0.0, 0
	for i, w := range ws {
		pol := 0.0
		switch {
		case positiveWords[w]:
			pol = 1
		case negativeWords[w]:
			pol = -1
		default:
			continue
		}
		for j := max(0, i-3); j < i; j++ {
			if negators[ws[j]] {
				pol = -pol
				break
			}
		}
		score += pol
		hits++
	}
	for _, e := range positiveEmoji {
		if n := strings.Count(text, e); n > 0 {
			score += float64(n)
			hits += n
		}
	}
	for _, e := range negativeEmoji {
		if n := strings.Count(text, e); n > 0 {
			score -= float64(n)
			hits += n
		}
	}
	return score, hits
}

func overallSentiment(posts []post) string {
	total, mag := 0.0, 0.0
	for _, p := range posts {
		total += p.weight * p.senti
		mag += p.weight * float64(p.hits)
	}
	switch {
	case mag == 0:
		return analyze.Neutral
	case total/mag > 0.25:
		return analyze.Positive
	case total/mag < -0.25:
		return analyze.Negative
	}
	return analyze.Neutral
}

// detectIntent takes the first intent whose cue appears in the root, the hit or the
// hit's ancestors; a thread stuffed with hashtags is spam.
func detectIntent(posts []post) string {
	var key strings.Builder
	for _, p := range posts {
		if !p.key {
			continue
		}
		key.WriteString(p.text)
		tags := 0
		for w := range p.words {
			if strings.HasPrefix(w, "#") {
				tags++
			}
		}
		if tags >= 5 {
			return "spam"
		}
	}
	text := key.String()
	for _, ic := range intentCues {
		for _, c := range ic.cues {
			if strings.Contains(text, c) && !negatedCue(text, c) {
				return ic.intent
			}
		}
	}
	return "discussion"
}

// insights are short factual observations: topics the replies mention, the campaign
// terms found, the replies' sentiment, the reach and engagement of the thread.
func insights(posts []post, counts map[string]int, conv analyze.Conversation) []string {
	var out []string
	replies := 0
	topicCount := make([]int, len(topics))
	var pos, neg, neu int
	for _, p := range posts {
		if p.node.Tweet.ID == conv.RootID {
			continue
		}
		replies++
		for i, tp := range topics {
			for _, c := range tp.cues {
				if strings.Contains(p.text, c) {
					topicCount[i]++
					break
				}
			}
		}
		switch {
		case p.senti > 0:
			pos++
		case p.senti < 0:
			neg++
		default:
			neu++
		}
	}
	order := make([]int, len(topics))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(topicCount[b], topicCount[a]) })
	for _, i := range order[:2] {
		if n := topicCount[i]; n > 0 {
			out = append(out, fmt.Sprintf("%d %s %s", n, plural(n, "reply mentions", "replies mention"), topics[i].name))
		}
	}
	if len(counts) > 0 {
		out = append(out, "Campaign terms found: "+topTerms(counts, 4))
	}
	if replies >= 3 {
		out = append(out, fmt.Sprintf("Replies: %d positive, %d negative, %d neutral", pos, neg, neu))
	}
	if n, ok := conv.Node(conv.RootID); ok && n.Tweet.Author.FollowersCount >= 10_000 {
		out = append(out, fmt.Sprintf("Started by @%s with %s followers", n.Tweet.Username, human(n.Tweet.Author.FollowersCount)))
	}
	if n, ok := conv.Node(conv.HitID); ok && n.Tweet.LikeCount+n.Tweet.ReplyCount+n.Tweet.RetweetCount >= 20 {
		out = append(out, fmt.Sprintf("The matching post has %d likes, %d replies and %d reposts",
			n.Tweet.LikeCount, n.Tweet.ReplyCount, n.Tweet.RetweetCount))
	}
	if len(out) > analyze.MaxInsights {
		out = out[:analyze.MaxInsights]
	}
	if out == nil {
		out = []string{}
	}
	return out
}

func topTerms(counts map[string]int, n int) string {
	if len(counts) == 0 {
		return "no campaign terms"
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	parts := make([]string, 0, n)
	for _, k := range keys[:min(n, len(keys))] {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, counts[k]))
	}
	return strings.Join(parts, ", ")
}

func ancestors(conv analyze.Conversation) map[string]bool {
	parent := make(map[string]string, len(conv.Tweets))
	for _, n := range conv.Tweets {
		parent[n.Tweet.ID] = n.Parent
	}
	keep := map[string]bool{conv.RootID: true}
	for id := conv.HitID; id != "" && !keep[id]; id = parent[id] {
		keep[id] = true
	}
	keep[conv.HitID] = true
	return keep
}

// norm lower-cases s, straightens apostrophes and collapses whitespace.
func norm(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(strings.ToLower(s), "’", "'")), " ")
}

// tokens splits lower-case text into words, keeping a leading # or @ and inner
// apostrophes ("doesn't").
func tokens(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '#' || r == '@' || r == '\'' || r == '’' || r == '_' || r == '-')
	})
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func human(n int64) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1_000:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}
