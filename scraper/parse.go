package scraper

import (
	"errors"
	"fmt"
	"strings"
)

// Page is what one timeline response holds: its entry-level tweets, in order and without
// duplicates, the users of its user entries (Followers-style timelines), and its cursors.
type Page struct {
	Tweets  []Tweet `json:"tweets"`
	Users   []User  `json:"users"`
	Cursors Cursors `json:"cursors"`
	// Errors are the GraphQL errors X sent alongside data (a partial answer, e.g. one
	// tweet of a thread that failed to load). A body with errors and no data is an error.
	Errors GraphQLErrors `json:"errors,omitempty"`

	// entries counts the entries that are not cursors, dropped ones (promoted,
	// tombstones) included: a search page without any is X's end of results.
	entries int
}

// Cursors are the pagination cursors of a page.
type Cursors struct {
	Top    string `json:"top"`    // newer items
	Bottom string `json:"bottom"` // older items: the next page of a search, a profile or a thread
	// ShowMore are the cursors that expand a thread, in order of appearance:
	// ShowMoreThreads and ShowMoreThreadsPrompt entries ("Show more replies", "Show probable
	// spam") and module ShowMore items ("Show replies", answered by TimelineAddToModule).
	ShowMore []string `json:"show_more"`
}

// ParseTimeline parses a timeline response of any operation (SearchTimeline, TweetDetail,
// UserTweets, ...). It finds the instructions array wherever it sits under data, applies
// TimelineAddEntries, TimelinePinEntry, TimelineReplaceEntry and TimelineAddToModule, and
// ignores other instructions. Promoted entries, tombstones and unavailable tweets are
// dropped; quoted and retweeted tweets are nested in Tweet.Quoted and Tweet.Retweeted.
//
// A body that is not JSON (a Cloudflare page) is an error, and so is one with errors and no
// data, which returns the errors as a GraphQLErrors. A body with data and no instructions
// (a deleted tweet's empty thread) is an empty page.
func ParseTimeline(body []byte) (Page, error) {
	r := reader{b: body}
	switch c := r.ws(); c {
	case '{':
	case 0:
		return Page{}, errors.New("parse timeline: empty body")
	default:
		return Page{}, fmt.Errorf("parse timeline: body is not a JSON object: starts with %q", prefix(body[r.i:], 40))
	}
	var w wireResponse
	w.decode(&r)
	if r.err == nil && r.ws() != 0 {
		r.fail("data after the top-level object")
	}
	if r.err != nil {
		return Page{}, fmt.Errorf("parse timeline: %w", r.err)
	}
	if !w.hasData {
		if len(w.errors) > 0 {
			return Page{Errors: w.errors}, w.errors
		}
		return Page{}, errors.New("parse timeline: response has no data")
	}
	b := pageBuilder{
		page: Page{Tweets: []Tweet{}, Users: []User{}, Cursors: Cursors{ShowMore: []string{}}, Errors: w.errors},
		seen: make(map[string]bool),
	}
	for i := range w.instructions {
		in := &w.instructions[i]
		switch in.typ {
		case "TimelineAddEntries":
			for j := range in.entries {
				b.entry(&in.entries[j])
			}
		case "TimelinePinEntry", "TimelineReplaceEntry":
			if in.entry != nil {
				b.entry(in.entry)
			}
		case "TimelineAddToModule":
			for j := range in.moduleItems {
				b.item(&in.moduleItems[j], false)
			}
		}
	}
	b.fillAuthors()
	return b.page, nil
}

// pageBuilder accumulates a Page while the instructions are applied in order.
type pageBuilder struct {
	page    Page
	seen    map[string]bool // ids of page.Tweets, and "user:"+id of page.Users
	authors map[string]User // every author met, for tweets whose user object is missing
}

func (b *pageBuilder) entry(e *wireEntry) {
	if e.cursor.value == "" && (e.content == nil || e.content.cursor.value == "") {
		b.page.entries++
	}
	if e.promoted {
		return
	}
	b.cursor(e.cursor)
	if e.content != nil {
		b.item(&wireItem{content: *e.content}, true)
	}
	for i := range e.items {
		b.item(&e.items[i], false)
	}
}

// item handles an entry's or a module item's content. Users count only as top-level
// entries: user items inside modules are "who to follow" suggestions, not the timeline's
// subject.
func (b *pageBuilder) item(it *wireItem, topLevel bool) {
	ic := &it.content
	if it.promoted || ic.promoted {
		return
	}
	b.cursor(ic.cursor)
	if ic.tweet != nil {
		if t, ok := b.tweet(ic.tweet, 0); ok && !b.seen[t.ID] {
			b.seen[t.ID] = true
			b.page.Tweets = append(b.page.Tweets, t)
		}
	}
	if ic.user != nil && topLevel {
		if u, ok := toUser(ic.user); ok && !b.seen["user:"+u.ID] {
			b.seen["user:"+u.ID] = true
			b.page.Users = append(b.page.Users, u)
		}
	}
}

func (b *pageBuilder) cursor(c wireCursor) {
	if c.value == "" {
		return
	}
	switch c.typ {
	case "Top":
		b.page.Cursors.Top = c.value
	case "Bottom":
		b.page.Cursors.Bottom = c.value
	case "ShowMoreThreads", "ShowMoreThreadsPrompt", "ShowMore":
		b.page.Cursors.ShowMore = append(b.page.Cursors.ShowMore, c.value)
	}
}

// tweet converts a tweet result, reporting false for what is not a readable tweet
// (tombstone, unavailable, a stub with only rest_id).
func (b *pageBuilder) tweet(w *wireTweet, depth int) (Tweet, bool) {
	for w.inner != nil && w.legacy == nil && !w.top.set {
		w = w.inner // TweetWithVisibilityResults
	}
	if w.gone || w.legacy == nil && !w.top.set {
		return Tweet{}, false
	}
	l := mergeLegacy(w.legacy, &w.top)
	id := w.restID
	if id == "" {
		id = l.idStr
	}
	if id == "" {
		return Tweet{}, false
	}
	t := Tweet{
		ID:             id,
		Lang:           l.lang,
		ReplyCount:     l.replyCount,
		RetweetCount:   l.retweetCount,
		LikeCount:      l.favoriteCount,
		QuoteCount:     l.quoteCount,
		BookmarkCount:  l.bookmarkCount,
		ConversationID: l.conversationID,
		InReplyToID:    optional(l.inReplyToID),
		UserID:         l.userIDStr,
	}
	if t.ConversationID == "" {
		t.ConversationID = id
	}
	t.CreatedAt = l.createdAt
	if w.user != nil {
		if u, ok := toUser(w.user); ok {
			b.setAuthor(&t, u)
		}
	}
	if w.hasViews {
		n := w.views
		t.ViewCount = &n
	}

	setContent(&t, w, l)
	if l.quoted != nil && depth < maxTweetDepth {
		if q, ok := b.tweet(l.quoted, depth+1); ok {
			t.Quoted = &q
		}
	}
	if l.retweeted != nil && depth < maxTweetDepth {
		if rt, ok := b.tweet(l.retweeted, depth+1); ok {
			t.Retweeted = &rt
		}
	}
	t.QuotedID = optional(firstOf(l.quotedID, resultID(l.quoted)))
	t.RetweetedID = optional(firstOf(l.retweetedID, resultID(l.retweeted)))

	if rt := t.Retweeted; rt != nil {
		// A retweet's own text is "RT @user: " plus the original cut to 140 characters with
		// "…"; rebuild it from the original (twscrape #42). Its views may be missing while
		// the original's are set, which is what X shows (twscrape #28).
		if strings.HasSuffix(t.Text, "…") && rt.Username != "" {
			t.Text = "RT @" + rt.Username + ": " + rt.Text
		}
		if t.ViewCount == nil && rt.ViewCount != nil {
			n := *rt.ViewCount
			t.ViewCount = &n
		}
	}
	return t, true
}

// setContent sets the text, hashtags, mentions, links and media of t. Legacy full_text is
// HTML-escaped (&amp; &lt; &gt;) and cut at 280 characters for a long post, whose note holds
// the whole text, unescaped, and the entities of the whole text.
func setContent(t *Tweet, w *wireTweet, l *wireLegacy) {
	ents := l.entities
	if w.note != nil && w.note.text != "" {
		t.Text = w.note.text
		// Full slice expressions: append must not write into the legacy arrays.
		ents.hashtags = append(ents.hashtags[:len(ents.hashtags):len(ents.hashtags)], w.note.entities.hashtags...)
		ents.mentions = append(ents.mentions[:len(ents.mentions):len(ents.mentions)], w.note.entities.mentions...)
		ents.urls = append(ents.urls[:len(ents.urls):len(ents.urls)], w.note.entities.urls...)
	} else {
		t.Text = unescapeHTML(l.fullText)
	}
	t.Hashtags = dedupe(ents.hashtags)
	t.Mentions = dedupe(ents.mentions)
	t.Links = dedupe(ents.urls)
	t.Media = make([]Media, 0, len(l.media))
	for _, m := range l.media {
		if mm, ok := toMedia(m); ok {
			t.Media = append(t.Media, mm)
		}
	}
}

// setAuthor copies u into t and remembers it for tweets of the same author whose user object
// X left out.
func (b *pageBuilder) setAuthor(t *Tweet, u User) {
	t.Author = u
	t.UserID = u.ID
	t.Username = u.Username
	t.DisplayName = u.DisplayName
	t.URL = tweetURL(u.Username, t.ID)
	if b.authors == nil {
		b.authors = make(map[string]User)
	}
	if _, ok := b.authors[u.ID]; !ok {
		b.authors[u.ID] = u
	}
}

// fillAuthors sets the author of tweets that came without a user object from another tweet
// of the page by the same user_id_str; a tweet whose author stays unknown gets an /i/status/
// URL.
func (b *pageBuilder) fillAuthors() {
	var fill func(t *Tweet)
	fill = func(t *Tweet) {
		if t.Username == "" {
			if u, ok := b.authors[t.UserID]; ok && t.UserID != "" {
				b.setAuthor(t, u)
			} else {
				t.URL = tweetURL("", t.ID)
			}
		}
		if t.Quoted != nil {
			fill(t.Quoted)
		}
		if t.Retweeted != nil {
			fill(t.Retweeted)
		}
	}
	for i := range b.page.Tweets {
		fill(&b.page.Tweets[i])
	}
}

// tweetURL is the tweet's permalink; /i/status/ works when the author is unknown.
func tweetURL(username, id string) string {
	if username == "" {
		username = "i"
	}
	return "https://x.com/" + username + "/status/" + id
}

// mergeLegacy returns the tweet's legacy fields. When X sends them at the top level (the
// 2026 legacy:null shape), the top level wins and legacy fills its gaps, as in twscrape.
func mergeLegacy(legacy, top *wireLegacy) *wireLegacy {
	switch {
	case !top.set && legacy != nil:
		if top.quoted != nil && legacy.quoted == nil {
			l := *legacy
			l.quoted = top.quoted
			return &l
		}
		return legacy
	case legacy == nil:
		return top
	}
	m := *top
	fill := func(dst *string, src string) {
		if *dst == "" {
			*dst = src
		}
	}
	fill(&m.idStr, legacy.idStr)
	fill(&m.userIDStr, legacy.userIDStr)
	if m.createdAt.IsZero() {
		m.createdAt = legacy.createdAt
	}
	fill(&m.fullText, legacy.fullText)
	fill(&m.lang, legacy.lang)
	fill(&m.conversationID, legacy.conversationID)
	fill(&m.inReplyToID, legacy.inReplyToID)
	fill(&m.quotedID, legacy.quotedID)
	fill(&m.retweetedID, legacy.retweetedID)
	for _, p := range [][2]*int64{
		{&m.replyCount, &legacy.replyCount}, {&m.retweetCount, &legacy.retweetCount},
		{&m.favoriteCount, &legacy.favoriteCount}, {&m.quoteCount, &legacy.quoteCount},
		{&m.bookmarkCount, &legacy.bookmarkCount},
	} {
		if *p[0] == 0 {
			*p[0] = *p[1]
		}
	}
	if m.entities.hashtags == nil && m.entities.mentions == nil && m.entities.urls == nil {
		m.entities = legacy.entities
	}
	if m.media == nil {
		m.media = legacy.media
	}
	if m.quoted == nil {
		m.quoted = legacy.quoted
	}
	if m.retweeted == nil {
		m.retweeted = legacy.retweeted
	}
	return &m
}

// toUser reads a user of either schema, field by field: the 2026 location first, the
// legacy one when it is missing. Verified is true for any checkmark X shows (paid blue,
// business, government, or the old legacy badge). A UserUnavailable reports false.
func toUser(w *wireUser) (User, bool) {
	if w.gone {
		return User{}, false
	}
	l := &w.legacy
	u := User{
		ID:             firstOf(w.restID, l.idStr),
		Username:       firstOf(w.screenName, l.screenName),
		DisplayName:    firstOf(w.name, l.name),
		FollowersCount: l.followers,
		FollowingCount: l.following,
		Verified:       w.blue || w.verified || l.verified || w.verifiedType != "" || l.verifiedType != "",
	}
	if w.hasFollowers {
		u.FollowersCount = w.followers
	}
	if w.hasFollowing {
		u.FollowingCount = w.following
	}
	u.CreatedAt = w.createdAt
	if u.CreatedAt.IsZero() {
		u.CreatedAt = l.createdAt
	}
	return u, u.ID != "" && u.Username != ""
}

func toMedia(m wireMedia) (Media, bool) {
	switch m.typ {
	case "photo":
		return Media{Type: m.typ, URL: m.url}, m.url != ""
	case "video", "animated_gif":
		return Media{Type: m.typ, URL: firstOf(m.video, m.url)}, m.video != "" || m.url != ""
	}
	return Media{}, false
}

// resultID is the rest_id of a nested result, unwrapping visibility wrappers; stubs such as
// quotedRefResult carry only that.
func resultID(w *wireTweet) string {
	for i := 0; w != nil && i < maxTweetDepth; i++ {
		if w.restID != "" {
			return w.restID
		}
		if w.legacy != nil && w.legacy.idStr != "" {
			return w.legacy.idStr
		}
		w = w.inner
	}
	return ""
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// dedupe returns ss without repeats, in first-seen order, and never nil so that the JSON
// shows [] rather than null.
func dedupe(ss []string) []string {
	out := make([]string, 0, len(ss))
	for i, s := range ss {
		dup := false
		for _, p := range ss[:i] {
			if p == s {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, s)
		}
	}
	return out
}

// unescapeHTML undoes the escaping of legacy full_text. X escapes exactly &, < and > there
// (and shows them unescaped); other entities are left alone because a user who types "&amp;"
// gets "&amp;amp;".
func unescapeHTML(s string) string {
	if strings.IndexByte(s, '&') < 0 {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for {
		i := strings.IndexByte(s, '&')
		if i < 0 {
			sb.WriteString(s)
			return sb.String()
		}
		sb.WriteString(s[:i])
		s = s[i:]
		switch {
		case strings.HasPrefix(s, "&amp;"):
			sb.WriteByte('&')
			s = s[5:]
		case strings.HasPrefix(s, "&lt;"):
			sb.WriteByte('<')
			s = s[4:]
		case strings.HasPrefix(s, "&gt;"):
			sb.WriteByte('>')
			s = s[4:]
		default:
			sb.WriteByte('&')
			s = s[1:]
		}
	}
}

func prefix(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}
