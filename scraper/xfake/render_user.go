package xfake

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"time"
)

// Schema is the shape of the User objects the fake renders.
type Schema int

// The user schemas X has served. X moved users to the 2026 schema around May 2026;
// the legacy one is what every client parsed before.
const (
	// Schema2026 renders users without legacy: core{screen_name,name,created_at},
	// relationship_counts, tweet_counts, avatar, banner, location, privacy,
	// verification, profile_bio, action_counts (the raw_search.json fixture of 2026).
	// TweetDetail cursors sit directly on the entry content.
	Schema2026 Schema = iota
	// SchemaLegacy renders users with legacy{screen_name, followers_count, ...} (the
	// 2025-03 fixture); TweetDetail's Bottom and ShowMoreThreads cursors are wrapped
	// in a TimelineTimelineItem's itemContent, as X sent them then.
	SchemaLegacy
	// SchemaMixed alternates per user (even position in the corpus: 2026, odd:
	// legacy) and per TweetDetail page for the cursor shape, so one response holds
	// both, which a robust parser must accept.
	SchemaMixed
)

// TweetShape is where the fake puts a Tweet's own fields.
type TweetShape int

// X has served tweet fields inside legacy{} for years; in 2026 it also served
// "legacy": null with the same fields at the top level of the Tweet.
const (
	TweetLegacy   TweetShape = iota // fields in legacy{} (every captured fixture)
	TweetTopLevel                   // "legacy": null, fields beside rest_id
	TweetMixed                      // alternating per tweet id
)

// rubyDate is X's created_at format: "Wed Jul 08 21:59:10 +0000 2026".
const rubyDate = "Mon Jan 02 15:04:05 -0700 2006"

func xtime(t time.Time) string { return t.UTC().Format(rubyDate) }

func graphID(kind, id string) string {
	return base64.StdEncoding.EncodeToString([]byte(kind + ":" + id))
}

// legacyUser reports whether user index i is rendered in the legacy schema.
func (r *renderer) legacyUser(i int32) bool {
	switch r.schema {
	case SchemaLegacy:
		return true
	case SchemaMixed:
		return i%2 == 1
	}
	return false
}

func avatarURL(u *User) string {
	return "https://pbs.twimg.com/profile_images/" + u.ID + "/" + base62(uint64(len(u.ScreenName))*7919+hashString(u.ID), 8) + "_normal.jpg"
}

func bannerURL(u *User) string {
	return "https://pbs.twimg.com/profile_banners/" + u.ID + "/" + strconv.FormatInt(u.CreatedAt.Unix(), 10)
}

// user writes the User object of corpus user i as the value of a "result" key.
// Authors repeat on every page, so each user's JSON is rendered once per schema and
// kept until the user changes.
func (r *renderer) user(i int32) {
	legacy := r.legacyUser(i)
	if b := r.c.userJSON(i, legacy); b != nil {
		r.w.raw(b)
		return
	}
	u := &r.c.users[i]
	w := r.w
	w.sep()
	start := len(w.b)
	w.need = false
	w.obj()
	w.kstr("__typename", "User")
	if legacy {
		r.userLegacy(u)
	} else {
		r.user2026(u)
	}
	w.end()
	r.c.setUserJSON(i, legacy, w.b[start:])
}

// userJSON returns the cached JSON of user i, or nil.
func (c *corpus) userJSON(i int32, legacy bool) []byte {
	c.userMu.Lock()
	defer c.userMu.Unlock()
	k := b2i(legacy)
	if int(i) < len(c.userCache[k]) {
		return c.userCache[k][i]
	}
	return nil
}

func (c *corpus) setUserJSON(i int32, legacy bool, b []byte) {
	c.userMu.Lock()
	defer c.userMu.Unlock()
	k := b2i(legacy)
	if n := len(c.users); len(c.userCache[k]) < n {
		c.userCache[k] = append(c.userCache[k], make([][]byte, n-len(c.userCache[k]))...)
	}
	c.userCache[k][i] = bytes.Clone(b)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *renderer) user2026(u *User) {
	w := r.w
	w.kobj("action_counts")
	w.kint("favorites_count", u.Favorites)
	w.end()
	w.kemptyObj("affiliates_highlighted_label")
	w.kobj("avatar")
	w.kstr("image_url", avatarURL(u))
	w.end()
	w.kobj("banner")
	w.kstr("image_url", bannerURL(u))
	w.end()
	w.kobj("core")
	w.kstr("created_at", xtime(u.CreatedAt))
	w.kstr("name", u.Name)
	w.kstr("screen_name", u.ScreenName)
	w.end()
	w.kobj("dm_permissions")
	w.kbool("can_dm", false)
	w.end()
	w.kbool("follow_request_sent", false)
	w.kbool("has_graduated_access", true)
	w.kstr("id", graphID("User", u.ID))
	w.kbool("is_blue_verified", u.BlueVerified)
	w.kobj("location")
	w.kstr("location", u.Location)
	w.end()
	w.kobj("media_permissions")
	w.kbool("can_media_tag", true)
	w.end()
	w.kobj("notifications_settings")
	w.kbool("notifications_enabled", false)
	w.end()
	w.kemptyObj("pinned_items")
	w.kbool("possibly_sensitive", false)
	w.kobj("privacy")
	w.kbool("protected", u.Protected)
	w.end()
	w.kobj("profile_bio")
	w.kstr("description", u.Description)
	w.kobj("entities")
	w.kemptyObj("description")
	w.end()
	w.end()
	w.kstr("profile_image_shape", "Circle")
	w.kobj("profile_metadata")
	w.kstr("profile_interstitial_type", "")
	w.end()
	w.kobj("profile_translation")
	w.kstr("translator_type", "none")
	w.end()
	w.kobj("relationship_counts")
	w.kint("followers", u.Followers)
	w.kint("following", u.Following)
	w.end()
	w.kobj("relationship_perspectives")
	for _, k := range [...]string{"blocked_by", "blocking", "followed_by", "following", "live_following", "muting"} {
		w.kbool(k, false)
	}
	w.end()
	w.kstr("rest_id", u.ID)
	w.kbool("super_follow_eligible", false)
	w.kbool("super_followed_by", false)
	w.kbool("super_following", false)
	w.kemptyObj("tipjar_settings")
	w.kobj("tweet_counts")
	w.kint("media_tweets", u.MediaCount)
	w.kint("tweets", u.Statuses)
	w.end()
	w.kobj("verification")
	w.kbool("verified", u.Verified)
	if u.VerifiedType != "" {
		w.kstr("verified_type", u.VerifiedType)
	}
	w.end()
	w.kemptyObj("website")
}

func (r *renderer) userLegacy(u *User) {
	w := r.w
	w.kstr("id", graphID("User", u.ID))
	w.kstr("rest_id", u.ID)
	w.kemptyObj("affiliates_highlighted_label")
	w.kbool("has_graduated_access", true)
	w.kbool("is_blue_verified", u.BlueVerified)
	w.kstr("profile_image_shape", "Circle")
	w.kobj("legacy")
	w.kbool("following", false)
	w.kbool("can_dm", false)
	w.kbool("can_media_tag", true)
	w.kstr("created_at", xtime(u.CreatedAt))
	w.kbool("default_profile", true)
	w.kbool("default_profile_image", false)
	w.kstr("description", u.Description)
	w.kobj("entities")
	w.kobj("description")
	w.kemptyArr("urls")
	w.end()
	w.end()
	w.kint("fast_followers_count", 0)
	w.kint("favourites_count", u.Favorites)
	w.kint("followers_count", u.Followers)
	w.kint("friends_count", u.Following)
	w.kbool("has_custom_timelines", false)
	w.kbool("is_translator", false)
	w.kint("listed_count", u.Listed)
	w.kstr("location", u.Location)
	w.kint("media_count", u.MediaCount)
	w.kstr("name", u.Name)
	w.kint("normal_followers_count", u.Followers)
	w.kemptyArr("pinned_tweet_ids_str")
	w.kbool("possibly_sensitive", false)
	w.kstr("profile_banner_url", bannerURL(u))
	w.kstr("profile_image_url_https", avatarURL(u))
	w.kstr("profile_interstitial_type", "")
	if u.Protected {
		// The legacy schema leaves protected out for public accounts.
		w.kbool("protected", true)
	}
	w.kstr("screen_name", u.ScreenName)
	w.kint("statuses_count", u.Statuses)
	w.kstr("translator_type", "none")
	w.kbool("verified", u.Verified)
	if u.VerifiedType != "" {
		w.kstr("verified_type", u.VerifiedType)
	}
	w.kbool("want_retweets", false)
	w.kemptyArr("withheld_in_countries")
	w.end()
	w.kemptyObj("tipjar_settings")
}
