package scraper

import (
	"strconv"
	"strings"
	"time"
)

// GraphQLError is one entry of the "errors" array X puts in a GraphQL response body,
// e.g. {"code":88,"message":"Rate limit exceeded"}.
type GraphQLError struct {
	// Code is X's numeric error code (32, 64, 88, 131, 326, 336, ...), read from "code" or
	// "extensions.code"; -1 when X gave none (LoadShed and friends), as twscrape reports it.
	Code    int    `json:"code"`
	Message string `json:"message"`
	// Kind is X's error class ("Permissions", "Validation", "Operational", ...), read from
	// "kind" or "extensions.kind"; empty when absent.
	Kind string `json:"kind,omitempty"`
}

// GraphQLErrors is the "errors" array of a response. ParseTimeline returns it as the error
// when a body carries errors and no data.
type GraphQLErrors []GraphQLError

// Error joins the entries the way twscrape logs them: "(88) Rate limit exceeded; (131) ...".
func (es GraphQLErrors) Error() string {
	var sb strings.Builder
	sb.WriteString("x graphql: ")
	for i, e := range es {
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteByte('(')
		sb.WriteString(strconv.Itoa(e.Code))
		sb.WriteString(") ")
		sb.WriteString(e.Message)
	}
	return sb.String()
}

// The structs below are the parts of X's GraphQL timeline responses that Nexus reads, and
// nothing else: a search page of 20 tweets is 190 KB of JSON (690 KB pretty-printed), most
// of it user profiles, cards and client hints we never read. Each struct has a decode method
// that reads its object from a reader, keeps the keys it knows and skips the rest, so one
// pass over the body fills them (see reader for why not encoding/json).

// wireResponse is the top level: {"data": {...}, "errors": [...]}.
type wireResponse struct {
	hasData      bool // data holds at least one non-null member
	found        bool // an "instructions" array was found under data
	instructions []wireInstruction
	errors       GraphQLErrors
}

func (w *wireResponse) decode(r *reader) {
	for ok := r.objectStart(); ok; ok = r.more('}') {
		switch string(r.key()) {
		case "data":
			w.decodeData(r)
		case "errors":
			for ok := r.arrayStart(); ok; ok = r.more(']') {
				w.errors = append(w.errors, decodeGraphQLError(r))
			}
		default:
			r.skip()
		}
	}
}

// decodeData reads data, which X wraps differently per operation
// (search_by_raw_query.search_timeline.timeline, threaded_conversation_with_injections_v2,
// user.result.timeline.timeline, ...), so the first "instructions" array found in a
// depth-first walk of its objects is the timeline, whatever the path.
func (w *wireResponse) decodeData(r *reader) {
	for ok := r.objectStart(); ok; ok = r.more('}') {
		r.key()
		switch r.ws() {
		case 'n':
			r.skip()
		case '{':
			w.hasData = true
			w.walk(r, 0)
		default:
			w.hasData = true
			r.skip()
		}
	}
}

// maxWalkDepth bounds the search for "instructions" (real paths are 2 to 5 objects deep) so a
// hostile body cannot make the walk recurse without end.
const maxWalkDepth = 32

func (w *wireResponse) walk(r *reader, depth int) {
	if depth > maxWalkDepth {
		r.skip()
		return
	}
	for ok := r.objectStart(); ok; ok = r.more('}') {
		k := r.key()
		switch c := r.ws(); {
		case c == '[' && !w.found && string(k) == "instructions":
			w.found = true
			for ok := r.arrayStart(); ok; ok = r.more(']') {
				var in wireInstruction
				in.decode(r)
				w.instructions = append(w.instructions, in)
			}
		case c == '{':
			w.walk(r, depth+1)
		default:
			r.skip()
		}
	}
}

func decodeGraphQLError(r *reader) GraphQLError {
	e := GraphQLError{Code: -1}
	for ok := r.objectStart(); ok; ok = r.more('}') {
		switch string(r.key()) {
		case "code":
			e.Code = int(r.int64())
		case "message":
			e.Message = r.str()
		case "kind":
			e.Kind = r.str()
		case "extensions":
			for ok := r.objectStart(); ok; ok = r.more('}') {
				switch string(r.key()) {
				case "code":
					if c := int(r.int64()); e.Code == -1 {
						e.Code = c
					}
				case "kind":
					if k := r.str(); e.Kind == "" {
						e.Kind = k
					}
				default:
					r.skip()
				}
			}
		default:
			r.skip()
		}
	}
	return e
}

// wireInstruction is one timeline instruction. Which fields are set depends on typ:
// TimelineAddEntries has entries, TimelinePinEntry and TimelineReplaceEntry have entry,
// TimelineAddToModule has moduleItems; other types read as "" and are ignored.
type wireInstruction struct {
	typ         string
	entries     []wireEntry
	entry       *wireEntry
	moduleItems []wireItem
}

func (w *wireInstruction) decode(r *reader) {
	for ok := r.objectStart(); ok; ok = r.more('}') {
		switch string(r.key()) {
		case "type":
			w.typ = r.oneOf("TimelineAddEntries", "TimelinePinEntry", "TimelineReplaceEntry", "TimelineAddToModule")
		case "entries":
			for ok := r.arrayStart(); ok; ok = r.more(']') {
				w.entries = append(w.entries, wireEntry{})
				w.entries[len(w.entries)-1].decode(r)
			}
		case "entry":
			w.entry = new(wireEntry)
			w.entry.decode(r)
		case "moduleItems":
			w.moduleItems = decodeItems(r)
		default:
			r.skip()
		}
	}
}

// wireEntry is a timeline entry: a single item (itemContent), a module (items), or a cursor
// whose cursorType and value sit directly on content.
type wireEntry struct {
	promoted bool // entryId "promoted-tweet-..."
	cursor   wireCursor
	content  *wireItemContent
	items    []wireItem
}

func (w *wireEntry) decode(r *reader) {
	for ok := r.objectStart(); ok; ok = r.more('}') {
		switch string(r.key()) {
		case "entryId":
			w.promoted = r.promotedID()
		case "content":
			for ok := r.objectStart(); ok; ok = r.more('}') {
				switch k := r.key(); string(k) {
				case "itemContent":
					w.content = new(wireItemContent)
					w.content.decode(r)
				case "items":
					w.items = decodeItems(r)
				default:
					if !w.cursor.decodeField(r, k) {
						r.skip()
					}
				}
			}
		default:
			r.skip()
		}
	}
}

// wireItem is one item of a module: {"entryId": ..., "item": {"itemContent": {...}}}.
type wireItem struct {
	promoted bool // entryId "...-promoted-tweet-..."
	content  wireItemContent
}

func decodeItems(r *reader) []wireItem {
	var items []wireItem
	for ok := r.arrayStart(); ok; ok = r.more(']') {
		items = append(items, wireItem{})
		it := &items[len(items)-1]
		for ok := r.objectStart(); ok; ok = r.more('}') {
			switch string(r.key()) {
			case "entryId":
				it.promoted = r.promotedID()
			case "item":
				for ok := r.objectStart(); ok; ok = r.more('}') {
					if string(r.key()) == "itemContent" {
						it.content.decode(r)
					} else {
						r.skip()
					}
				}
			default:
				r.skip()
			}
		}
	}
	return items
}

// wireItemContent is an entry's or module item's itemContent: a TimelineTweet
// (tweet_results), a TimelineUser (user_results) or a TimelineTimelineCursor.
type wireItemContent struct {
	tweet    *wireTweet
	user     *wireUser
	cursor   wireCursor
	promoted bool // promotedMetadata present: an ad
}

func (w *wireItemContent) decode(r *reader) {
	for ok := r.objectStart(); ok; ok = r.more('}') {
		switch k := r.key(); string(k) {
		case "tweet_results":
			w.tweet = decodeTweetResult(r, 0)
		case "user_results":
			w.user = decodeUserResults(r)
		case "promotedMetadata":
			w.promoted = r.ws() != 'n'
			r.skip()
		default:
			if !w.cursor.decodeField(r, k) {
				r.skip()
			}
		}
	}
}

// wireCursor is a cursor's type and value; types Nexus does not follow (Gap, ...) read as "".
type wireCursor struct {
	typ, value string
}

func (w *wireCursor) decodeField(r *reader, key []byte) bool {
	switch string(key) {
	case "cursorType":
		w.typ = r.oneOf("Top", "Bottom", "ShowMoreThreads", "ShowMoreThreadsPrompt", "ShowMore")
	case "value":
		w.value = r.str()
	default:
		return false
	}
	return true
}

// maxTweetDepth bounds how deep quoted and retweeted tweets nest (X sends two levels and a
// stub), so a hostile body cannot make the decoder recurse without end.
const maxTweetDepth = 8

// decodeTweetResult reads {"result": {...}} (tweet_results, quoted_status_result,
// retweeted_status_result) and returns the result, or nil when it is absent.
func decodeTweetResult(r *reader, depth int) *wireTweet {
	var t *wireTweet
	for ok := r.objectStart(); ok; ok = r.more('}') {
		if string(r.key()) == "result" && r.ws() == '{' && depth < maxTweetDepth {
			t = new(wireTweet)
			t.decode(r, depth)
		} else {
			r.skip()
		}
	}
	return t
}

// wireTweet is a tweet_results.result: a Tweet, a TweetWithVisibilityResults (the tweet is
// under inner), a TweetTombstone or TweetUnavailable (no legacy), or a stub with only
// rest_id. Since 2026 X may send legacy:null with the legacy fields at the top level, so
// those land in top and parse.go merges the two.
type wireTweet struct {
	gone     bool // TweetTombstone or TweetUnavailable
	restID   string
	inner    *wireTweet
	user     *wireUser
	legacy   *wireLegacy
	top      wireLegacy
	views    int64 // views.count
	hasViews bool
	note     *wireNote
}

func (w *wireTweet) decode(r *reader, depth int) {
	for ok := r.objectStart(); ok; ok = r.more('}') {
		switch k := r.key(); string(k) {
		case "__typename":
			w.gone = r.oneOf("TweetTombstone", "TweetUnavailable") != ""
		case "rest_id":
			w.restID = r.str()
		case "tweet":
			if r.ws() == '{' && depth < maxTweetDepth {
				w.inner = new(wireTweet)
				w.inner.decode(r, depth+1)
			} else {
				r.skip()
			}
		case "core", "author_results":
			// core.user_results.result, or author_results.result on some shapes.
			for ok := r.objectStart(); ok; ok = r.more('}') {
				switch string(r.key()) {
				case "user_results":
					if u := decodeUserResults(r); w.user == nil {
						w.user = u
					}
				case "result":
					if u := decodeUser(r); w.user == nil {
						w.user = u
					}
				default:
					r.skip()
				}
			}
		case "legacy":
			if r.ws() == '{' {
				w.legacy = new(wireLegacy)
				for ok := r.objectStart(); ok; ok = r.more('}') {
					if k := r.key(); !w.legacy.decodeField(r, k, depth) {
						r.skip()
					}
				}
			} else {
				r.skip()
			}
		case "views", "ext_views":
			for ok := r.objectStart(); ok; ok = r.more('}') {
				if string(r.key()) == "count" && !w.hasViews {
					w.views, w.hasViews = r.count()
				} else {
					r.skip()
				}
			}
		case "note_tweet":
			w.decodeNote(r)
		default:
			if !w.top.decodeField(r, k, depth) {
				r.skip()
			}
		}
	}
}

// wireNote is note_tweet.note_tweet_results.result: the full text of a long post and the
// entities of the whole text (legacy's cover only the truncated part).
type wireNote struct {
	text     string
	entities wireEntities
}

func (w *wireTweet) decodeNote(r *reader) {
	for ok := r.objectStart(); ok; ok = r.more('}') {
		if string(r.key()) != "note_tweet_results" {
			r.skip()
			continue
		}
		for ok := r.objectStart(); ok; ok = r.more('}') {
			if string(r.key()) != "result" {
				r.skip()
				continue
			}
			n := new(wireNote)
			for ok := r.objectStart(); ok; ok = r.more('}') {
				switch string(r.key()) {
				case "text":
					n.text = r.str()
				case "entity_set":
					n.entities.decode(r)
				default:
					r.skip()
				}
			}
			w.note = n
		}
	}
}

// wireLegacy is a tweet's legacy object (or, in the legacy:null shape, the same fields at the
// tweet's top level). set records that at least one legacy field was present.
type wireLegacy struct {
	set            bool
	idStr          string
	userIDStr      string
	createdAt      time.Time
	fullText       string
	lang           string
	conversationID string
	inReplyToID    string
	quotedID       string
	retweetedID    string
	replyCount     int64
	retweetCount   int64
	favoriteCount  int64
	quoteCount     int64
	bookmarkCount  int64
	entities       wireEntities
	media          []wireMedia
	quoted         *wireTweet
	retweeted      *wireTweet
}

func (w *wireLegacy) decodeField(r *reader, key []byte, depth int) bool {
	switch string(key) {
	case "id_str":
		w.idStr = r.str()
	case "user_id_str":
		w.userIDStr = r.str()
	case "created_at":
		w.createdAt = r.date()
	case "full_text":
		w.fullText = r.str()
	case "lang":
		w.lang = r.str()
	case "conversation_id_str":
		w.conversationID = r.str()
	case "in_reply_to_status_id_str":
		w.inReplyToID = r.str()
	case "quoted_status_id_str":
		w.quotedID = r.str()
	case "retweeted_status_id_str":
		w.retweetedID = r.str()
	case "reply_count":
		w.replyCount = r.int64()
	case "retweet_count":
		w.retweetCount = r.int64()
	case "favorite_count":
		w.favoriteCount = r.int64()
	case "quote_count":
		w.quoteCount = r.int64()
	case "bookmark_count":
		w.bookmarkCount = r.int64()
	case "entities":
		w.entities.decode(r)
	case "extended_entities":
		for ok := r.objectStart(); ok; ok = r.more('}') {
			if string(r.key()) == "media" {
				w.media = decodeMedia(r)
			} else {
				r.skip()
			}
		}
	case "quoted_status_result":
		// Not a legacy field: it sits at the top level of every 2026 quote, so it must
		// not mark the legacy:null shape.
		w.quoted = decodeTweetResult(r, depth+1)
		return true
	case "retweeted_status_result":
		w.retweeted = decodeTweetResult(r, depth+1)
	default:
		return false
	}
	w.set = true
	return true
}

// wireEntities is legacy.entities or a note's entity_set.
type wireEntities struct {
	hashtags []string // text
	mentions []string // screen_name
	urls     []string // expanded_url
}

func (w *wireEntities) decode(r *reader) {
	for ok := r.objectStart(); ok; ok = r.more('}') {
		switch string(r.key()) {
		case "hashtags":
			w.hashtags = decodeStrings(r, "text", w.hashtags)
		case "user_mentions":
			w.mentions = decodeStrings(r, "screen_name", w.mentions)
		case "urls":
			w.urls = decodeStrings(r, "expanded_url", w.urls)
		default:
			r.skip()
		}
	}
}

// decodeStrings reads an array of objects and appends each one's field named key.
func decodeStrings(r *reader, key string, dst []string) []string {
	for ok := r.arrayStart(); ok; ok = r.more(']') {
		for ok := r.objectStart(); ok; ok = r.more('}') {
			if string(r.key()) == key {
				if s := r.str(); s != "" {
					dst = append(dst, s)
				}
			} else {
				r.skip()
			}
		}
	}
	return dst
}

// wireMedia is one element of extended_entities.media; video is the highest-bitrate mp4
// variant of a video or GIF. Other types read as "" and are dropped.
type wireMedia struct {
	typ, url, video string
}

func decodeMedia(r *reader) []wireMedia {
	var media []wireMedia
	for ok := r.arrayStart(); ok; ok = r.more(']') {
		var m wireMedia
		for ok := r.objectStart(); ok; ok = r.more('}') {
			switch string(r.key()) {
			case "type":
				m.typ = r.oneOf("photo", "video", "animated_gif")
			case "media_url_https":
				m.url = r.str()
			case "video_info":
				for ok := r.objectStart(); ok; ok = r.more('}') {
					if string(r.key()) == "variants" {
						m.video = decodeBestVariant(r)
					} else {
						r.skip()
					}
				}
			default:
				r.skip()
			}
		}
		media = append(media, m)
	}
	return media
}

// decodeBestVariant returns the url of the video/mp4 variant with the highest bitrate
// (GIFs have one mp4 variant with bitrate 0), or of the first variant when none is mp4
// (an HLS playlist only).
func decodeBestVariant(r *reader) string {
	var best, first []byte // raw, still escaped: only the winner becomes a string
	var bestEsc, firstEsc bool
	bestRate := int64(-1)
	for ok := r.arrayStart(); ok; ok = r.more(']') {
		var rate int64
		var mp4, esc bool
		var url []byte
		for ok := r.objectStart(); ok; ok = r.more('}') {
			switch string(r.key()) {
			case "bitrate":
				rate = r.int64()
			case "content_type":
				mp4 = r.oneOf("video/mp4") != ""
			case "url":
				url, esc = r.rawStr()
			default:
				r.skip()
			}
		}
		if first == nil {
			first, firstEsc = url, esc
		}
		if mp4 && len(url) > 0 && rate > bestRate {
			best, bestEsc, bestRate = url, esc, rate
		}
	}
	if best == nil {
		best, bestEsc = first, firstEsc
	}
	return rawString(best, bestEsc)
}

// decodeUserResults reads {"result": {...}} (user_results) and returns the user, or nil.
func decodeUserResults(r *reader) *wireUser {
	var u *wireUser
	for ok := r.objectStart(); ok; ok = r.more('}') {
		if string(r.key()) == "result" {
			u = decodeUser(r)
		} else {
			r.skip()
		}
	}
	return u
}

func decodeUser(r *reader) *wireUser {
	if r.ws() != '{' {
		r.skip()
		return nil
	}
	u := new(wireUser)
	u.decode(r)
	return u
}

// wireUser is a user_results.result in either schema: 2026 (core, relationship_counts,
// verification) or the older one (everything under legacy). A UserUnavailable has neither.
type wireUser struct {
	gone         bool // UserUnavailable
	restID       string
	blue         bool
	screenName   string    // core.screen_name
	name         string    // core.name
	createdAt    time.Time // core.created_at
	followers    int64     // relationship_counts.followers
	following    int64     // relationship_counts.following
	hasFollowers bool
	hasFollowing bool
	verified     bool   // verification.verified
	verifiedType string // verification.verified_type
	legacy       wireUserLegacy
}

// wireUserLegacy is the pre-2026 user.legacy.
type wireUserLegacy struct {
	idStr, screenName, name, verifiedType string
	createdAt                             time.Time
	followers, following                  int64
	hasFollowers, hasFollowing            bool
	verified                              bool
}

func (w *wireUser) decode(r *reader) {
	for ok := r.objectStart(); ok; ok = r.more('}') {
		switch string(r.key()) {
		case "__typename":
			w.gone = r.oneOf("UserUnavailable") != ""
		case "rest_id":
			w.restID = r.str()
		case "is_blue_verified":
			w.blue = r.boolean()
		case "core":
			for ok := r.objectStart(); ok; ok = r.more('}') {
				switch string(r.key()) {
				case "screen_name":
					w.screenName = r.str()
				case "name":
					w.name = r.str()
				case "created_at":
					w.createdAt = r.date()
				default:
					r.skip()
				}
			}
		case "relationship_counts":
			for ok := r.objectStart(); ok; ok = r.more('}') {
				switch string(r.key()) {
				case "followers":
					w.followers, w.hasFollowers = r.int64(), true
				case "following":
					w.following, w.hasFollowing = r.int64(), true
				default:
					r.skip()
				}
			}
		case "verification":
			for ok := r.objectStart(); ok; ok = r.more('}') {
				switch string(r.key()) {
				case "verified":
					w.verified = r.boolean()
				case "verified_type":
					w.verifiedType = r.str()
				default:
					r.skip()
				}
			}
		case "legacy":
			w.decodeLegacy(r)
		default:
			r.skip()
		}
	}
}

func (w *wireUser) decodeLegacy(r *reader) {
	l := &w.legacy
	for ok := r.objectStart(); ok; ok = r.more('}') {
		switch string(r.key()) {
		case "id_str":
			l.idStr = r.str()
		case "screen_name":
			l.screenName = r.str()
		case "name":
			l.name = r.str()
		case "created_at":
			l.createdAt = r.date()
		case "followers_count":
			l.followers, l.hasFollowers = r.int64(), true
		case "friends_count":
			l.following, l.hasFollowing = r.int64(), true
		case "verified":
			l.verified = r.boolean()
		case "verified_type":
			l.verifiedType = r.str()
		default:
			r.skip()
		}
	}
}
