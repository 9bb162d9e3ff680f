package xfake

import (
	"strconv"
	"strings"
	"time"
)

// renderer writes X's JSON for one response.
type renderer struct {
	c      *corpus
	schema Schema
	shape  TweetShape
	w      *jsonw
}

const webAppSource = `<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>`

// tweetResult writes the value of a tweet_results.result (or quoted/retweeted
// result) for r. Nested tweets (depth 1) carry a quotedRefResult stub instead of a
// second level of nesting, as X does.
func (r *renderer) tweetResult(t *rec, depth int) {
	w := r.w
	switch {
	case t.t.Deleted:
		tombstone(w)
	case t.t.Visibility:
		w.obj()
		w.kstr("__typename", "TweetWithVisibilityResults")
		w.kobj("limitedActionResults")
		w.karr("limited_actions")
		w.obj()
		w.kstr("action", "Reply")
		w.kobj("prompt")
		w.kstr("__typename", "CtaLimitedActionPrompt")
		w.kstr("cta_type", "SeeConversation")
		w.kobj("headline")
		w.kstr("text", "Who can reply?")
		w.kemptyArr("entities")
		w.end()
		w.kobj("subtext")
		w.kstr("text", "People @"+r.c.user(t).ScreenName+" mentioned can reply")
		w.kemptyArr("entities")
		w.end()
		w.end()
		w.end()
		w.endArr()
		w.end()
		w.kobj("tweet")
		r.tweetFields(t, depth)
		w.end()
		w.end()
	default:
		w.obj()
		w.kstr("__typename", "Tweet")
		r.tweetFields(t, depth)
		w.end()
	}
}

// tombstone writes a TweetTombstone, what X serves for a deleted or withheld post.
func tombstone(w *jsonw) {
	w.obj()
	w.kstr("__typename", "TweetTombstone")
	w.kobj("tombstone")
	w.kstr("__typename", "TextTombstone")
	w.kobj("text")
	w.kbool("rtl", false)
	w.kstr("text", "This Post was deleted by the Post author. Learn more")
	w.karr("entities")
	w.obj()
	w.kint("fromIndex", 41)
	w.kint("toIndex", 51)
	w.kobj("ref")
	w.kstr("type", "TimelineUrl")
	w.kstr("url", "https://help.twitter.com/rules-and-policies/notices-on-twitter")
	w.kstr("urlType", "ExternalUrl")
	w.end()
	w.end()
	w.endArr()
	w.end()
	w.end()
	w.end()
}

// topLevel reports whether t's own fields go beside rest_id with "legacy": null.
func (r *renderer) topLevel(t *rec) bool {
	switch r.shape {
	case TweetTopLevel:
		return true
	case TweetMixed:
		return t.id%2 == 1
	}
	return false
}

func (r *renderer) tweetFields(t *rec, depth int) {
	w := r.w
	w.kobj("core")
	w.kobj("user_results")
	w.key("result")
	r.user(t.author)
	w.end()
	w.end()
	w.kobj("edit_control")
	w.kstrs("edit_tweet_ids", t.t.ID)
	w.kstr("editable_until_msecs", strconv.FormatInt(t.t.CreatedAt.Add(time.Hour).UnixMilli(), 10))
	w.kstr("edits_remaining", "5")
	w.kbool("is_edit_eligible", true)
	w.end()
	w.kobj("grok_translated_post_with_availability")
	w.kbool("is_available", false)
	w.end()
	w.kbool("is_translatable", false)
	body := r.body(t)
	if r.topLevel(t) {
		w.key("legacy")
		w.null()
		r.legacyFields(t, &body, depth)
	} else {
		w.kobj("legacy")
		r.legacyFields(t, &body, depth)
		w.end()
	}
	if body.note != nil {
		r.noteTweet(t, body.note)
	}
	if q := r.quoted(t); q != nil {
		if depth == 0 {
			w.kobj("quoted_status_result")
			w.key("result")
			r.tweetResult(q, depth+1)
			w.end()
		} else {
			w.kobj("quotedRefResult")
			w.kobj("result")
			w.kstr("__typename", "Tweet")
			w.kstr("rest_id", q.t.ID)
			w.end()
			w.end()
		}
	}
	w.kstr("rest_id", t.t.ID)
	w.kstr("source", webAppSource)
	w.kemptyObj("unmention_data")
	w.kobj("views")
	if !t.t.NoViews {
		w.kstr("count", strconv.FormatInt(t.t.ViewCount, 10))
		w.kstr("state", "EnabledWithCount")
	} else {
		w.kstr("state", "Enabled")
	}
	w.end()
}

func (r *renderer) quoted(t *rec) *rec {
	if t.t.QuotedID == "" {
		return nil
	}
	return r.c.lookup(t.t.QuotedID)
}

// tweetBody is the text of a tweet as legacy.full_text serves it.
type tweetBody struct {
	full       wireText  // legacy.full_text, escaped, cut at 280 runes
	note       *wireText // the whole text when it is longer than 280 runes
	start, end int       // display_text_range
	mediaTCo   string
	mediaAt    int // code point index of the media link in full_text
	retweeted  *rec
}

func (r *renderer) body(t *rec) tweetBody {
	var b tweetBody
	text := t.t.Text
	if t.t.RetweetedID != "" {
		if o := r.c.lookup(t.t.RetweetedID); o != nil {
			b.retweeted = o
			text = "RT @" + r.c.user(o).ScreenName + ": " + o.t.Text
		}
	}
	plain := buildWire(text, false)
	switch {
	case b.retweeted != nil && plain.runes > 140:
		b.full = buildWire(cutText(text, 139)+"…", true)
		b.full.ents = keepEntities(b.full.ents, b.full.runes-1)
	case plain.runes > maxTweetRunes:
		b.note = &plain
		b.full = buildWire(cutText(text, maxTweetRunes), true)
		b.full.ents = keepEntities(b.full.ents, b.full.runes)
	default:
		b.full = buildWire(text, true)
	}
	b.end = b.full.runes
	if t.t.InReplyToID != "" {
		// A reply's leading @mentions are outside display_text_range.
		for _, e := range b.full.ents {
			if e.kind != '@' || e.start != b.start {
				break
			}
			b.start = min(e.end+1, b.end)
		}
	}
	if len(t.t.Media) > 0 && b.retweeted == nil {
		b.mediaTCo = TCo("https://x.com/i/status/" + t.t.ID + "/media")
		b.mediaAt = b.full.runes + 1
		b.full.text += " " + b.mediaTCo
		b.full.runes += 1 + len(b.mediaTCo)
	}
	return b
}

// keepEntities drops entities cut by truncation at n code points.
func keepEntities(ents []entity, n int) []entity {
	out := ents[:0]
	for _, e := range ents {
		if e.end <= n {
			out = append(out, e)
		}
	}
	return out
}

func (r *renderer) legacyFields(t *rec, b *tweetBody, depth int) {
	w := r.w
	tw := &t.t
	w.kint("bookmark_count", tw.BookmarkCount)
	w.kbool("bookmarked", false)
	w.kstr("conversation_id_str", tw.ConversationID)
	w.kstr("created_at", xtime(tw.CreatedAt))
	w.karr("display_text_range")
	w.int(int64(b.start))
	w.int(int64(b.end))
	w.endArr()
	w.kobj("entities")
	r.entityLists(b.full.ents, false)
	if len(tw.Media) > 0 && b.retweeted == nil {
		r.media(t, b, "media")
	}
	w.end()
	if len(tw.Media) > 0 && b.retweeted == nil {
		w.kobj("extended_entities")
		r.media(t, b, "media")
		w.end()
	}
	w.kint("favorite_count", tw.LikeCount)
	w.kbool("favorited", false)
	w.kstr("full_text", b.full.text)
	w.kstr("id_str", tw.ID)
	if tw.InReplyToID != "" {
		if p := r.c.lookup(tw.InReplyToID); p != nil {
			w.kstr("in_reply_to_screen_name", r.c.user(p).ScreenName)
			w.kstr("in_reply_to_status_id_str", tw.InReplyToID)
			w.kstr("in_reply_to_user_id_str", r.c.user(p).ID)
		} else {
			w.kstr("in_reply_to_status_id_str", tw.InReplyToID)
		}
	}
	w.kbool("is_quote_status", tw.QuotedID != "")
	w.kstr("lang", tw.Lang)
	if len(tw.Media) > 0 {
		w.kbool("possibly_sensitive", false)
		w.kbool("possibly_sensitive_editable", true)
	}
	w.kint("quote_count", tw.QuoteCount)
	if tw.QuotedID != "" {
		w.kstr("quoted_status_id_str", tw.QuotedID)
		qname := "i"
		if q := r.quoted(t); q != nil {
			qname = r.c.user(q).ScreenName
		}
		w.kobj("quoted_status_permalink")
		expanded := "https://twitter.com/" + qname + "/status/" + tw.QuotedID
		w.kstr("display", displayURL("x.com/"+qname+"/status/"+tw.QuotedID))
		w.kstr("expanded", expanded)
		w.kstr("url", TCo(expanded))
		w.end()
	}
	w.kint("reply_count", max(tw.ReplyCount, int64(len(r.c.children[t.id]))))
	w.kint("retweet_count", tw.RetweetCount)
	w.kbool("retweeted", false)
	if b.retweeted != nil && depth == 0 {
		w.kobj("retweeted_status_result")
		w.key("result")
		r.tweetResult(b.retweeted, depth+1)
		w.end()
	}
	w.kstr("user_id_str", r.c.user(t).ID)
}

// entityLists writes hashtags, symbols, urls and user_mentions. Legacy entities omit
// empty lists (as the 2026 fixtures do); a note tweet's entity_set has all four.
func (r *renderer) entityLists(ents []entity, all bool) {
	w := r.w
	list := func(name string, kind byte, item func(e entity)) {
		n := 0
		for _, e := range ents {
			if e.kind == kind {
				n++
			}
		}
		if n == 0 && !all {
			return
		}
		w.karr(name)
		for _, e := range ents {
			if e.kind == kind {
				w.obj()
				item(e)
				w.end()
			}
		}
		w.endArr()
	}
	list("hashtags", '#', func(e entity) {
		w.kindices(e.start, e.end)
		w.kstr("text", e.text)
	})
	if all {
		w.kemptyArr("symbols")
	}
	list("urls", 'u', func(e entity) {
		w.kstr("display_url", displayURL(e.text))
		w.kstr("expanded_url", e.text)
		w.kindices(e.start, e.end)
		w.kstr("url", e.tco)
	})
	list("user_mentions", '@', func(e entity) {
		id, name := r.mentioned(e.text)
		w.kstr("id_str", id)
		w.kindices(e.start, e.end)
		w.kstr("name", name)
		w.kstr("screen_name", e.text)
	})
}

// mentioned resolves a screen name to the user's id and name; unknown names get a
// stable made-up id, as X would know every real account.
func (r *renderer) mentioned(screenName string) (id, name string) {
	if i, ok := r.c.userByName[strings.ToLower(screenName)]; ok {
		u := &r.c.users[i]
		return u.ID, u.Name
	}
	return strconv.FormatUint(hashString(strings.ToLower(screenName))>>12, 10), screenName
}

func (r *renderer) noteTweet(t *rec, note *wireText) {
	w := r.w
	w.kobj("note_tweet")
	w.kbool("is_expandable", true)
	w.kobj("note_tweet_results")
	w.kobj("result")
	w.kobj("entity_set")
	r.entityLists(note.ents, true)
	w.end()
	w.kstr("id", graphID("NoteTweet", t.t.ID))
	w.kobj("media")
	w.kemptyArr("inline_media")
	w.end()
	w.kobj("richtext")
	w.kemptyArr("richtext_tags")
	w.end()
	w.kstr("text", note.text)
	w.end()
	w.end()
	w.end()
}

// mediaID is the id of the k-th attachment of t.
func mediaID(t *rec, k int) string {
	return strconv.FormatUint(t.id-uint64(k+1)*4099, 10)
}

// videoURL is the best mp4 variant of attachment k of t: Media.VideoURL, or one
// derived from the media id.
func videoURL(t *rec, k int, m Media) string {
	if m.VideoURL != "" {
		return m.VideoURL
	}
	if m.Type == "animated_gif" {
		return "https://video.twimg.com/tweet_video/" + base62(hashString(mediaID(t, k)), 15) + ".mp4"
	}
	return "https://video.twimg.com/ext_tw_video/" + mediaID(t, k) + "/pu/vid/avc1/1280x720/" + base62(hashString(mediaID(t, k)), 16) + ".mp4"
}

func (r *renderer) media(t *rec, b *tweetBody, key string) {
	w := r.w
	screen := r.c.user(t).ScreenName
	w.karr(key)
	for k, m := range t.t.Media {
		mid := mediaID(t, k)
		kind, prefix := "photo", "3_"
		switch m.Type {
		case "video":
			kind, prefix = "video", "7_"
		case "animated_gif":
			kind, prefix = "photo", "16_"
		}
		w.obj()
		if m.Type == "video" {
			w.kobj("additional_media_info")
			w.kbool("monetizable", false)
			w.end()
		}
		w.kstr("display_url", "pic.x.com/"+strings.TrimPrefix(b.mediaTCo, "https://t.co/"))
		w.kstr("expanded_url", "https://x.com/"+screen+"/status/"+t.t.ID+"/"+kind+"/1")
		w.kobj("ext_media_availability")
		w.kstr("status", "Available")
		w.end()
		w.kstr("id_str", mid)
		w.kindices(b.mediaAt, b.mediaAt+len(b.mediaTCo))
		w.kstr("media_key", prefix+mid)
		w.kobj("media_results")
		w.kobj("result")
		w.kstr("media_key", prefix+mid)
		w.end()
		w.end()
		w.kstr("media_url_https", m.URL)
		w.kobj("original_info")
		w.kemptyArr("focus_rects")
		w.kint("height", 720)
		w.kint("width", 1280)
		w.end()
		w.kobj("sizes")
		for _, s := range [...]struct {
			name   string
			h, w   int64
			resize string
		}{{"large", 720, 1280, "fit"}, {"medium", 675, 1200, "fit"}, {"small", 383, 680, "fit"}, {"thumb", 150, 150, "crop"}} {
			w.kobj(s.name)
			w.kint("h", s.h)
			w.kstr("resize", s.resize)
			w.kint("w", s.w)
			w.end()
		}
		w.end()
		w.kstr("type", m.Type)
		w.kstr("url", b.mediaTCo)
		if m.Type == "video" || m.Type == "animated_gif" {
			w.kobj("video_info")
			w.karr("aspect_ratio")
			w.int(16)
			w.int(9)
			w.endArr()
			if m.Type == "video" {
				w.kint("duration_millis", 30000)
			}
			w.karr("variants")
			if m.Type == "video" {
				w.obj()
				w.kstr("content_type", "application/x-mpegURL")
				w.kstr("url", "https://video.twimg.com/ext_tw_video/"+mid+"/pu/pl/"+base62(hashString(mid), 12)+".m3u8")
				w.end()
				w.obj()
				w.kint("bitrate", 256000)
				w.kstr("content_type", "video/mp4")
				w.kstr("url", strings.Replace(videoURL(t, k, m), "1280x720", "480x270", 1))
				w.end()
			}
			w.obj()
			if m.Type == "video" {
				w.kint("bitrate", 2176000)
			} else {
				w.kint("bitrate", 0)
			}
			w.kstr("content_type", "video/mp4")
			w.kstr("url", videoURL(t, k, m))
			w.end()
			w.endArr()
			w.end()
		}
		w.end()
	}
	w.endArr()
}
