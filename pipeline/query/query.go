package query

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"nexus/scraper"
	"nexus/store"
)

// MaxQueryLen is the longest search string Compile produces, in characters. The research
// file states no figure; 500 is the limit commonly given for X's search box, and longer
// strings are refused or cut by X rather than searched.
const MaxQueryLen = 500

// Options are the bounds of one run.
type Options struct {
	// SinceID asks only for tweets newer than this id: the newest tweet of the last
	// successful run. It wins over Since in the query.
	SinceID string
	// Since is the start of the look-back window of a first run (see Lookback). When set
	// it is also enforced locally, with SinceID or without.
	Since time.Time
	// Until, when set, asks only for tweets older than it.
	Until time.Time
}

// Compiled is a campaign made ready for one run: the string sent to X and what must be
// checked locally on every tweet X returns.
type Compiled struct {
	Query  string `json:"query"`
	Filter Filter `json:"filter"`
}

// Filter holds the conditions X applies loosely or not at all; Keep applies them to each
// tweet after the search. Its fields are plain data so that a run can store it with its
// jobs and apply the same filter after a restart.
type Filter struct {
	// Since and Until are exact instants; X's since: and until: are whole days.
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// ExcludeUsers are lower-case handles whose tweets, and retweets of whose tweets,
	// are dropped.
	ExcludeUsers []string `json:"exclude_users,omitempty"`
	// MinLikes, MinRetweets and MinReplies are checked again because X's min_* operators
	// are approximate for large values and its index lags the counts.
	MinLikes    int `json:"min_likes,omitempty"`
	MinRetweets int `json:"min_retweets,omitempty"`
	MinReplies  int `json:"min_replies,omitempty"`
	// DropReplies and DropRetweets catch the replies and retweets that X's filters let
	// through now and then.
	DropReplies  bool `json:"drop_replies,omitempty"`
	DropRetweets bool `json:"drop_retweets,omitempty"`
	// AllWords, lower-case, must each appear in the tweet's text. It is set for match=all
	// when keywords are the campaign's only alternatives: X matches a word in the
	// author's name or handle or inside a link's URL as well, and a tweet whose text
	// lacks one of the words was found that way. The check is a plain case-insensitive
	// substring test: X's stemming (bears ~ bear) is not copied, so a word must appear
	// as written. Words that are #hashtags, @mentions or $cashtags are left out; X
	// matches those on the tweet's entities, exactly.
	AllWords []string `json:"all_words,omitempty"`
}

// Match modes of a campaign's keywords.
const (
	MatchAny = "any"
	MatchAll = "all"
)

// Lookback is the look-back window of a campaign's first run: lookback_hours, or
// DefaultLookbackHours when it is 0. A first run passes now.Add(-Lookback(c)) as
// Options.Since.
func Lookback(c store.Campaign) time.Duration {
	h := c.LookbackHours
	if h <= 0 {
		h = DefaultLookbackHours
	}
	return time.Duration(h) * time.Hour
}

// Compile builds the X search string of campaign c for a run bounded by o. It normalises
// a copy of c first (see Normalize), so it can be given a campaign as stored or as sent.
// A campaign that Validate accepts compiles for any o; for others Compile still never
// builds a malformed query, and reports a *ValidationError for a campaign that has no
// search term, an unknown lang, an unbalanced advanced query, or a query longer than
// MaxQueryLen.
func Compile(c store.Campaign, o Options) (Compiled, error) {
	Normalize(&c) // c is a copy and Normalize builds new slices: the caller's are untouched
	if o.SinceID != "" && !isDigits(o.SinceID) {
		return Compiled{}, fmt.Errorf("compile query: since_id %q is not a tweet id", o.SinceID)
	}
	if msg := unbalanced(c.AdvancedQuery); msg != "" {
		return Compiled{}, &ValidationError{Field: "advanced_query", Message: msg}
	}
	if err := checkLang(c); err != nil {
		return Compiled{}, err
	}

	content := contentTerms(c)
	from := make([]alt, len(c.FromUsers))
	for i, u := range c.FromUsers {
		from[i] = alt{s: "from:" + u}
	}
	if len(content) == 0 && len(from) == 0 && c.AdvancedQuery == "" {
		return Compiled{}, &ValidationError{Field: "query", Message: "no search term: give keywords, " +
			"phrases, hashtags, mentions, from_users or an advanced_query"}
	}

	var parts []string
	add := func(s string) {
		if s != "" {
			parts = append(parts, s)
		}
	}
	add(or(content))
	add(or(from))
	if c.AdvancedQuery != "" {
		add("(" + c.AdvancedQuery + ")")
	}
	for _, w := range c.ExcludeWords {
		add(exclude(w))
	}
	for _, u := range c.ExcludeUsers {
		add("-from:" + u)
	}
	if c.Lang != "" {
		add("lang:" + xLang(c.Lang))
	}
	add(minimum("min_faves", c.MinLikes))
	add(minimum("min_retweets", c.MinRetweets))
	add(minimum("min_replies", c.MinReplies))
	if !c.IncludeReplies {
		add("-filter:replies")
	}
	if c.IncludeRetweets {
		// X's search leaves native retweets out unless asked for them.
		add("include:nativeretweets")
	} else {
		add("-filter:nativeretweets")
	}
	switch {
	case o.SinceID != "":
		add("since_id:" + o.SinceID)
	case !o.Since.IsZero():
		// since: is a UTC date, inclusive: the day of the instant, which Filter.Since
		// then cuts to the exact time.
		add("since:" + o.Since.UTC().Format(time.DateOnly))
	}
	if !o.Until.IsZero() {
		// until: is a UTC date, exclusive: the next day unless the instant is midnight.
		u := o.Until.UTC()
		day := u.Truncate(24 * time.Hour)
		if day.Before(u) {
			day = day.AddDate(0, 0, 1)
		}
		add("until:" + day.Format(time.DateOnly))
	}

	q := strings.Join(parts, " ")
	if n := utf8.RuneCountInString(q); n > MaxQueryLen {
		return Compiled{}, &ValidationError{Field: "query", Message: fmt.Sprintf(
			"the compiled X query is %d characters, X accepts at most %d: remove some terms", n, MaxQueryLen)}
	}
	return Compiled{Query: q, Filter: filter(c, o)}, nil
}

// alt is one alternative of an OR group; and marks several terms that must all match,
// which need parentheses inside the group.
type alt struct {
	s   string
	and bool
}

// contentTerms lists the alternatives made of keywords, phrases, hashtags and mentions.
func contentTerms(c store.Campaign) []alt {
	var alts []alt
	if c.Match == MatchAll {
		if ws := keywordWords(c.Keywords); len(ws) > 0 {
			alts = append(alts, and(ws))
		}
	} else {
		for _, k := range c.Keywords {
			alts = append(alts, and(strings.Fields(k)))
		}
	}
	for _, p := range c.Phrases {
		alts = append(alts, alt{s: `"` + p + `"`})
	}
	for _, h := range c.Hashtags {
		alts = append(alts, alt{s: "#" + h})
	}
	for _, m := range c.Mentions {
		alts = append(alts, alt{s: "@" + m})
	}
	return alts
}

// keywordWords is every word of every keyword, once (case-insensitively), in order.
func keywordWords(keywords []string) []string {
	var ws []string
	seen := make(map[string]bool)
	for _, k := range keywords {
		for _, w := range strings.Fields(k) {
			if key := strings.ToLower(w); !seen[key] {
				seen[key] = true
				ws = append(ws, w)
			}
		}
	}
	return ws
}

func and(words []string) alt {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = word(w)
	}
	return alt{s: strings.Join(out, " "), and: len(out) > 1}
}

// or joins alternatives. A group of several is always parenthesised: a campaign always
// adds operators after it (at least the reply and retweet filters), and without the
// parentheses X would apply them to the last alternative only.
func or(alts []alt) string {
	switch len(alts) {
	case 0:
		return ""
	case 1:
		return alts[0].s
	}
	out := make([]string, len(alts))
	for i, a := range alts {
		out[i] = a.s
		if a.and {
			out[i] = "(" + a.s + ")"
		}
	}
	return "(" + strings.Join(out, " OR ") + ")"
}

// word writes one keyword word. A word X would read as an operator (OR, AND, a leading
// minus, a colon as in from:x) is quoted, which makes X take it literally. A leading #,
// @ or $ is kept bare on purpose: the user asked for that hashtag, mention or cashtag.
func word(w string) string {
	if needsQuotes(w) {
		return `"` + w + `"`
	}
	return w
}

func needsQuotes(w string) bool {
	return w == "OR" || w == "AND" || strings.HasPrefix(w, "-") || strings.ContainsRune(w, ':')
}

// exclude writes one excluded word or phrase: -word, or -"two words".
func exclude(w string) string {
	if strings.ContainsRune(w, ' ') || needsQuotes(w) {
		return `-"` + w + `"`
	}
	return "-" + w
}

func minimum(op string, n int) string {
	if n <= 0 {
		return ""
	}
	return op + ":" + strconv.Itoa(n)
}

func filter(c store.Campaign, o Options) Filter {
	f := Filter{
		Since:        o.Since,
		Until:        o.Until,
		MinLikes:     max(c.MinLikes, 0),
		MinRetweets:  max(c.MinRetweets, 0),
		MinReplies:   max(c.MinReplies, 0),
		DropReplies:  !c.IncludeReplies,
		DropRetweets: !c.IncludeRetweets,
	}
	for _, u := range c.ExcludeUsers {
		f.ExcludeUsers = append(f.ExcludeUsers, strings.ToLower(u))
	}
	if c.Match == MatchAll && len(c.Phrases)+len(c.Hashtags)+len(c.Mentions) == 0 {
		for _, w := range keywordWords(c.Keywords) {
			w = strings.TrimLeft(strings.ToLower(w), "-+")
			if w != "" && !strings.ContainsAny(w[:1], "#@$") {
				f.AllWords = append(f.AllWords, w)
			}
		}
	}
	return f
}

// Keep reports whether tweet t passes the filter. A retweet is judged by the tweet it
// shares (its counts, its author, its text), since that is the content X matched; a tweet
// without a creation time is kept, as nothing says it is out of the window.
func (f Filter) Keep(t scraper.Tweet) bool {
	return f.reject(t) == ""
}

// reject names the first rule t breaks, or returns "".
func (f Filter) reject(t scraper.Tweet) string {
	if !t.CreatedAt.IsZero() {
		if !f.Since.IsZero() && t.CreatedAt.Before(f.Since) {
			return "before since"
		}
		if !f.Until.IsZero() && !t.CreatedAt.Before(f.Until) {
			return "not before until"
		}
	}
	if f.DropRetweets && (t.RetweetedID != nil || t.Retweeted != nil) {
		return "retweet"
	}
	if f.DropReplies && t.InReplyToID != nil {
		return "reply"
	}
	src := t
	if t.Retweeted != nil {
		src = *t.Retweeted
	}
	for _, u := range f.ExcludeUsers {
		if strings.EqualFold(t.Username, u) || strings.EqualFold(src.Username, u) {
			return "excluded user"
		}
	}
	if src.LikeCount < int64(f.MinLikes) || src.RetweetCount < int64(f.MinRetweets) ||
		src.ReplyCount < int64(f.MinReplies) {
		return "below minimum counts"
	}
	if len(f.AllWords) > 0 {
		text := strings.ToLower(src.Text)
		for _, w := range f.AllWords {
			if !strings.Contains(text, w) {
				return "missing word " + w
			}
		}
	}
	return ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Normalize cleans campaign c in place so that what is stored is what is searched:
// texts trimmed; in list items, double quotes and parentheses turned into spaces (X's
// syntax cannot escape them) and white space collapsed, the # or @ typed before
// hashtags and handles and the - typed before excluded words stripped, emptied items dropped,
// repeats dropped case-insensitively (the first spelling stays), match, lang, schedule
// descriptors and routes in lower case, lang iw and in written as ISO he and id,
// operator names in the advanced query in lower case. Defaults: match any, lookback 24
// hours, route mode instant. Threshold is left alone: only the API knows whether it was
// absent (DefaultThreshold) or 0. Lists become empty, not nil, and are new slices.
func Normalize(c *store.Campaign) {
	c.Name = strings.TrimSpace(c.Name)
	c.Match = strings.ToLower(strings.TrimSpace(c.Match))
	if c.Match == "" {
		c.Match = MatchAny
	}
	c.Keywords = cleanList(c.Keywords, "")
	c.Phrases = cleanList(c.Phrases, "")
	c.Hashtags = cleanList(c.Hashtags, "#＃")
	c.Mentions = cleanList(c.Mentions, "@＠")
	c.FromUsers = cleanList(c.FromUsers, "@＠")
	c.ExcludeWords = cleanList(c.ExcludeWords, "-")
	c.ExcludeUsers = cleanList(c.ExcludeUsers, "@＠")
	c.Lang = strings.ToLower(strings.TrimSpace(c.Lang))
	if iso, ok := isoLang[c.Lang]; ok {
		c.Lang = iso
	}
	c.AdvancedQuery = normalizeAdvanced(c.AdvancedQuery)
	c.Context = strings.TrimSpace(c.Context)
	c.Schedule = strings.Join(strings.Fields(c.Schedule), " ")
	if strings.HasPrefix(c.Schedule, "@") {
		c.Schedule = strings.ToLower(c.Schedule)
	}
	if c.LookbackHours == 0 {
		c.LookbackHours = DefaultLookbackHours
	}
	routes := make([]store.Route, len(c.Routes))
	for i, r := range c.Routes {
		routes[i] = store.Route{
			Integration: strings.ToLower(strings.TrimSpace(r.Integration)),
			Mode:        strings.ToLower(strings.TrimSpace(r.Mode)),
		}
		if routes[i].Mode == "" {
			routes[i].Mode = "instant"
		}
	}
	c.Routes = routes
}

// cleanList cleans each item, trims the given leading marks, and drops empty items and
// case-insensitive repeats.
func cleanList(items []string, marks string) []string {
	out := make([]string, 0, len(items))
	seen := make(map[string]bool, len(items))
	for _, s := range items {
		s = strings.TrimLeft(cleanTerm(s), marks+" ")
		key := strings.ToLower(s)
		if s == "" || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, s)
	}
	return out
}

// quoteLike are the characters that would end a phrase or open or close a group.
// Curly and full-width quotes are included because phones type them and X may read them
// as quotes.
const quoteLike = "\"“”„‟＂()"

// cleanTerm prepares one keyword, phrase, hashtag, handle or excluded word. X's query
// syntax has no escape, so a double quote or parenthesis inside a term cannot be kept:
// each is replaced by a space, that is split rather than stripped, because X's tokenizer
// splits words there too (`5"screen` searches like `5 screen`, not `5screen`). Quotes the
// user put around a phrase go the same way. Runs of white space become one space.
func cleanTerm(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(quoteLike, r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// operators are the X search operators whose names normalizeAdvanced lower-cases.
var operators = map[string]bool{
	"from": true, "to": true, "lang": true, "since": true, "until": true, "since_id": true,
	"max_id": true, "since_time": true, "until_time": true, "within_time": true,
	"min_faves": true, "min_retweets": true, "min_replies": true, "filter": true,
	"include": true, "exclude": true, "url": true, "list": true, "near": true,
	"within": true, "geocode": true, "place": true, "source": true, "conversation_id": true,
	"quoted_tweet_id": true, "quoted_user_id": true, "card_name": true, "card_domain": true,
	"card_url": true,
}

// normalizeAdvanced collapses white space and writes the names of known operators
// (FROM:x, Lang:en) in lower case, outside quoted phrases only.
func normalizeAdvanced(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	var b strings.Builder
	quoted, atStart := false, true
	for i := 0; i < len(q); {
		if atStart && !quoted {
			j := i
			if q[j] == '-' {
				j++
			}
			k := j
			for k < len(q) && (q[k] == '_' || q[k] >= 'a' && q[k] <= 'z' || q[k] >= 'A' && q[k] <= 'Z') {
				k++
			}
			if k > j && k < len(q) && q[k] == ':' && operators[strings.ToLower(q[j:k])] {
				b.WriteString(q[i:j])
				b.WriteString(strings.ToLower(q[j:k]))
				i, atStart = k, false
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(q[i:])
		if r == '"' {
			quoted = !quoted
		}
		b.WriteString(q[i : i+size])
		atStart = !quoted && (r == ' ' || r == '(')
		i += size
	}
	return b.String()
}
