package xfake

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The fake's search language, a documented subset of X's:
//
//	word            the word, case-insensitive, as a word or hashtag (not inside links)
//	"a phrase"      consecutive words
//	#tag  @name     the hashtag / the mention only
//	a b             both (AND is implicit)
//	a OR b          either; OR binds tighter than AND: "a b OR c" is a AND (b OR c)
//	( ... )         grouping
//	-x              not x (a word, phrase, operator or group)
//	from:name       by that author (screen name, case-insensitive)
//	to:name         a reply to that author
//	lang:xx         tweet language
//	since_id:N      id > N          max_id:N    id <= N
//	since:YYYY-MM-DD  until:YYYY-MM-DD  since_time:UNIX  until_time:UNIX  (until is exclusive)
//	min_faves:N  min_retweets:N  min_replies:N
//	conversation_id:N
//	filter:replies  filter:nativeretweets (= filter:retweets)  filter:quote
//	filter:media  filter:images  filter:videos  filter:links  filter:verified  filter:blue_verified
//	include:nativeretweets
//
// As on X, native retweets are left out unless the query says include:nativeretweets
// or filter:nativeretweets. Deleted tweets never match. Any other operator (name:value)
// is ignored, i.e. matches everything.

type qnode interface {
	eval(e *evalCtx) bool
}

// query is a parsed rawQuery.
type query struct {
	root     qnode // nil matches everything
	retweets bool  // native retweets may match
}

type evalCtx struct {
	c *corpus
	r *rec
}

type qAnd []qnode

func (n qAnd) eval(e *evalCtx) bool {
	for _, c := range n {
		if !c.eval(e) {
			return false
		}
	}
	return true
}

type qOr []qnode

func (n qOr) eval(e *evalCtx) bool {
	for _, c := range n {
		if c.eval(e) {
			return true
		}
	}
	return false
}

type qNot struct{ n qnode }

func (n qNot) eval(e *evalCtx) bool { return !n.n.eval(e) }

// qTerm is a word or phrase: a sequence of tokens. kind '#' or '@' on the first
// token restricts it to hashtags or mentions.
type qTerm struct {
	toks []token
	raw  string // for terms without word characters: a plain substring match
}

type token struct {
	kind byte // 0 word, '#' hashtag, '@' mention
	text string
}

func (n qTerm) eval(e *evalCtx) bool {
	s := e.r.lower
	if len(n.toks) == 0 {
		return n.raw != "" && strings.Contains(s, n.raw)
	}
	// Most tweets lack the words altogether: a substring search rules them out fast.
	for _, tok := range n.toks {
		if !strings.Contains(s, tok.text) {
			return false
		}
	}
	if len(n.toks) == 1 {
		want := n.toks[0]
		for i := 0; ; {
			tok, kind, next := nextToken(s, i)
			if next < 0 {
				return false
			}
			if tok == want.text && tokenKindMatches(want.kind, kind) {
				return true
			}
			i = next
		}
	}
	var toks []token
	for i := 0; ; {
		tok, kind, next := nextToken(s, i)
		if next < 0 {
			break
		}
		toks = append(toks, token{kind, tok})
		i = next
	}
outer:
	for i := 0; i+len(n.toks) <= len(toks); i++ {
		for j, want := range n.toks {
			got := toks[i+j]
			if got.text != want.text || !tokenKindMatches(want.kind, got.kind) {
				continue outer
			}
		}
		return true
	}
	return false
}

// tokenKindMatches: a plain word also finds the hashtag of the same text.
func tokenKindMatches(want, got byte) bool {
	return want == got || want == 0 && got == '#'
}

// asciiTok marks the ASCII bytes that are token characters.
var asciiTok = func() (t [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		r := rune(c)
		t[c] = 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '&' || r == '\''
	}
	return t
}()

func isTokRune(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiTok[r]
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// nextToken finds the first token at or after i in s (lower-cased text), skipping
// links. It returns next < 0 when there is none.
func nextToken(s string, i int) (tok string, kind byte, next int) {
	for i < len(s) {
		if s[i] == 'h' && (strings.HasPrefix(s[i:], "https://") || strings.HasPrefix(s[i:], "http://")) &&
			(i == 0 || s[i-1] == ' ' || s[i-1] == '\n' || s[i-1] == '(') {
			for i < len(s) && s[i] != ' ' && s[i] != '\n' {
				i++
			}
			continue
		}
		if c := s[i]; c < utf8.RuneSelf {
			if !asciiTok[c] {
				i++
				continue
			}
		} else if r, sz := utf8.DecodeRuneInString(s[i:]); !isTokRune(r) {
			i += sz
			continue
		}
		start := i
		for i < len(s) {
			if c := s[i]; c < utf8.RuneSelf {
				if !asciiTok[c] {
					break
				}
				i++
				continue
			}
			r, sz := utf8.DecodeRuneInString(s[i:])
			if !isTokRune(r) {
				break
			}
			i += sz
		}
		if start > 0 && (s[start-1] == '#' || s[start-1] == '@') {
			kind = s[start-1]
		}
		return s[start:i], kind, i
	}
	return "", 0, -1
}

// newTerm tokenizes a query word or phrase the same way tweet text is.
func newTerm(text string) qTerm {
	lower := strings.ToLower(text)
	var t qTerm
	prefix := byte(0)
	if len(lower) > 1 && (lower[0] == '#' || lower[0] == '@') {
		prefix = lower[0]
	}
	for i := 0; ; {
		tok, kind, next := nextToken(lower, i)
		if next < 0 {
			break
		}
		if len(t.toks) == 0 && prefix != 0 {
			kind = prefix
		}
		t.toks = append(t.toks, token{kind, tok})
		i = next
	}
	if len(t.toks) == 0 {
		t.raw = lower
	}
	return t
}

// qOp is an operator such as from:name.
type qOp struct {
	name, value string
	n           int64 // numeric value when the operator takes one
	t           time.Time
}

func (o qOp) eval(e *evalCtx) bool {
	t := &e.r.t
	switch o.name {
	case "from":
		return strings.EqualFold(e.c.user(e.r).ScreenName, o.value)
	case "to":
		if p := e.c.lookup(t.InReplyToID); p != nil {
			return strings.EqualFold(e.c.user(p).ScreenName, o.value)
		}
		return false
	case "lang":
		return strings.EqualFold(t.Lang, o.value)
	case "since_id":
		return e.r.id > uint64(o.n)
	case "max_id":
		return e.r.id <= uint64(o.n)
	case "since", "since_time":
		return !t.CreatedAt.Before(o.t)
	case "until", "until_time":
		return t.CreatedAt.Before(o.t)
	case "min_faves":
		return t.LikeCount >= o.n
	case "min_retweets":
		return t.RetweetCount >= o.n
	case "min_replies":
		return max(t.ReplyCount, int64(len(e.c.children[e.r.id]))) >= o.n
	case "conversation_id":
		return t.ConversationID == o.value
	case "filter":
		return o.filter(e)
	}
	return true
}

func (o qOp) filter(e *evalCtx) bool {
	t := &e.r.t
	switch o.value {
	case "replies":
		return t.InReplyToID != ""
	case "nativeretweets", "retweets":
		return t.RetweetedID != ""
	case "quote":
		return t.QuotedID != ""
	case "media":
		return len(t.Media) > 0
	case "images":
		for _, m := range t.Media {
			if m.Type == "photo" {
				return true
			}
		}
		return false
	case "videos":
		for _, m := range t.Media {
			if m.Type != "photo" {
				return true
			}
		}
		return false
	case "links":
		return strings.Contains(e.r.lower, "http://") || strings.Contains(e.r.lower, "https://")
	case "verified":
		return e.c.user(e.r).Verified
	case "blue_verified":
		return e.c.user(e.r).BlueVerified
	}
	return true
}

type qTrue struct{}

func (qTrue) eval(*evalCtx) bool { return true }

// newOp builds an operator node; unknown operators and malformed values match all.
func newOp(name, value string) qnode {
	o := qOp{name: strings.ToLower(name), value: value}
	switch o.name {
	case "from", "to", "lang", "conversation_id":
		o.value = strings.TrimPrefix(value, "@")
	case "filter":
		o.value = strings.ToLower(value)
	case "since_id", "max_id", "min_faves", "min_retweets", "min_replies":
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return qTrue{}
		}
		o.n = n
	case "since", "until":
		d, err := time.Parse("2006-01-02", value)
		if err != nil {
			d, err = time.Parse("2006-01-02_15:04:05_MST", value)
		}
		if err != nil {
			return qTrue{}
		}
		o.t = d
	case "since_time", "until_time":
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return qTrue{}
		}
		o.t = time.Unix(n, 0)
	default:
		return qTrue{}
	}
	return o
}

// lexeme is one element of a query string.
type lexeme struct {
	kind   byte // 'w' word/operator, 'p' phrase, '(' , ')', 'O' OR, '!' NOT before a group
	text   string
	negate bool
}

func lexQuery(q string) []lexeme {
	var out []lexeme
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			out = append(out, lexeme{kind: c})
			i++
		case c == '-' && i+1 < len(q) && q[i+1] == '(':
			out = append(out, lexeme{kind: '!'})
			i++
		default:
			neg := false
			if c == '-' && i+1 < len(q) && q[i+1] != ' ' {
				neg = true
				i++
			}
			if q[i] == '"' {
				end := strings.IndexByte(q[i+1:], '"')
				if end < 0 {
					end = len(q) - i - 1
				}
				out = append(out, lexeme{kind: 'p', text: q[i+1 : i+1+end], negate: neg})
				i += end + 2
				continue
			}
			start := i
			for i < len(q) && q[i] != ' ' && q[i] != '\t' && q[i] != '\n' && q[i] != '(' && q[i] != ')' {
				i++
			}
			word := q[start:i]
			if word == "OR" && !neg {
				out = append(out, lexeme{kind: 'O'})
				continue
			}
			out = append(out, lexeme{kind: 'w', text: word, negate: neg})
		}
	}
	return out
}

type queryParser struct {
	lx       []lexeme
	pos      int
	retweets bool
}

// parseQuery parses rawQuery; it never fails, the way X answers any query.
func parseQuery(raw string) query {
	p := &queryParser{lx: lexQuery(raw)}
	var all qAnd
	for p.pos < len(p.lx) {
		if p.lx[p.pos].kind == ')' { // stray close: skip
			p.pos++
			continue
		}
		if n := p.parseOr(); n != nil {
			all = append(all, n)
		}
	}
	q := query{retweets: p.retweets}
	if len(all) > 0 {
		q.root = all
	}
	return q
}

func (p *queryParser) parseSeq() qnode {
	var all qAnd
	for p.pos < len(p.lx) && p.lx[p.pos].kind != ')' {
		if n := p.parseOr(); n != nil {
			all = append(all, n)
		}
	}
	if p.pos < len(p.lx) {
		p.pos++ // ')'
	}
	return all
}

func (p *queryParser) parseOr() qnode {
	first := p.parseUnary()
	alts := qOr{first}
	for p.pos+1 < len(p.lx) && p.lx[p.pos].kind == 'O' {
		p.pos++
		alts = append(alts, p.parseUnary())
	}
	if len(alts) == 1 {
		return first
	}
	return alts
}

func (p *queryParser) parseUnary() qnode {
	if p.pos >= len(p.lx) {
		return qTrue{}
	}
	l := p.lx[p.pos]
	p.pos++
	switch l.kind {
	case '!':
		return qNot{p.parseUnary()}
	case '(':
		return p.parseSeq()
	case 'O', ')':
		return qTrue{}
	case 'p':
		return negate(newTerm(l.text), l.negate)
	}
	if name, value, ok := strings.Cut(l.text, ":"); ok && name != "" && value != "" && !strings.HasPrefix(value, "//") {
		lname, lvalue := strings.ToLower(name), strings.ToLower(value)
		if !l.negate && (lname == "include" && lvalue == "nativeretweets" ||
			lname == "filter" && (lvalue == "nativeretweets" || lvalue == "retweets")) {
			p.retweets = true
		}
		return negate(newOp(name, value), l.negate)
	}
	return negate(newTerm(l.text), l.negate)
}

func negate(n qnode, neg bool) qnode {
	if neg {
		return qNot{n}
	}
	return n
}

// matches reports whether stored tweet r is a result of q.
func (q *query) matches(c *corpus, r *rec) bool {
	if r.t.Deleted || (r.t.RetweetedID != "" && !q.retweets) {
		return false
	}
	if q.root == nil {
		return true
	}
	return q.root.eval(&evalCtx{c: c, r: r})
}
