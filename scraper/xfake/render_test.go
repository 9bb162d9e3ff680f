package xfake

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func loadFixture(t *testing.T, name string) any {
	t.Helper()
	// The scraper's copies of the captured responses, shared rather than duplicated.
	b, err := os.ReadFile("../testdata/x/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// tweetResultPaths collects the key paths of every full Tweet object under v (entry
// tweets, nested quoted and retweeted ones, the tweet inside a visibility wrapper),
// relative to the Tweet object; nested results are recorded down to their
// __typename and rest_id only, as they are visited on their own.
func tweetResultPaths(v any, into map[string]bool) {
	var collect func(m map[string]any, prefix string)
	collect = func(m map[string]any, prefix string) {
		for k, c := range m {
			p := prefix + "." + k
			into[p] = true
			if k == "quoted_status_result" || k == "retweeted_status_result" {
				into[p+".result"] = true
				if r, ok := get(c, "result").(map[string]any); ok && r["__typename"] == "Tweet" {
					into[p+".result.__typename"] = true
					into[p+".result.rest_id"] = true
				}
				continue
			}
			if cm, ok := c.(map[string]any); ok {
				collect(cm, p)
			} else {
				keyPaths(c, p, into)
			}
		}
	}
	walk(v, func(m map[string]any) {
		switch {
		case m["__typename"] == "Tweet" && m["rest_id"] != nil && m["core"] != nil:
			collect(m, "")
		case m["__typename"] == "TweetWithVisibilityResults":
			if tw, ok := m["tweet"].(map[string]any); ok {
				collect(tw, "")
			}
		}
	})
}

// userPaths collects the key paths of every User object under v.
func userPaths(v any, into map[string]bool) {
	walk(v, func(m map[string]any) {
		if m["__typename"] == "User" {
			for k, c := range m {
				into["."+k] = true
				keyPaths(c, "."+k, into)
			}
		}
	})
}

// entryPaths collects the key paths of timeline entries and module items, with the
// tweet objects left out.
func entryPaths(v any, into map[string]bool) {
	var strip func(v any) any
	strip = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, c := range x {
				if k == "tweet_results" || k == "advertiser_results" {
					out[k] = map[string]any{"result": map[string]any{}}
					continue
				}
				out[k] = strip(c)
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, c := range x {
				out[i] = strip(c)
			}
			return out
		}
		return v
	}
	keyPaths(strip(v), "", into)
}

func fakePages(t *testing.T, s *Server) (search, detail []any) {
	t.Helper()
	for _, q := range []string{"the", "a OR i", "filter:media", "filter:quote", "filter:replies", "#golang OR #rust OR @a", "filter:nativeretweets"} {
		vars := map[string]any{"rawQuery": q, "count": 20, "product": "Latest"}
		for range 3 {
			res := do(t, s, call{vars: vars})
			search = append(search, res.json)
			vars["cursor"] = readSearchPage(t, res).bottom
		}
	}
	conv := s.Conversation("", 80, 4, 1)
	for _, id := range []string{conv.RootID, conv.ReplyIDs[40]} {
		res := do(t, s, call{op: OpTweetDetail, vars: map[string]any{"focalTweetId": id}})
		detail = append(detail, res.json)
	}
	w := newDetailWalk(t, conv.RootID)
	w.fetch(s, "")
	for _, c := range w.cursors[:min(len(w.cursors), 6)] {
		res := do(t, s, call{op: OpTweetDetail, vars: map[string]any{"focalTweetId": conv.RootID, "cursor": c}})
		detail = append(detail, res.json)
	}
	return search, detail
}

// documented are paths the captured 2026 fixtures happen not to contain but X
// serves (research/x-graphql.md §3.2-§3.4 and the older fixtures).
var documented = []string{
	".legacy.entities.hashtags", ".legacy.entities.urls", ".legacy.entities.user_mentions",
	".legacy.in_reply_to_", ".legacy.retweeted_status_result", ".note_tweet.note_tweet_results.result.entity_set",
	".note_tweet.note_tweet_results.result.media", ".note_tweet.note_tweet_results.result.richtext",
	".quotedRefResult", ".legacy.entities.media[].video_info", ".legacy.extended_entities.media[].video_info",
	".legacy.entities.media[].additional_media_info", ".legacy.extended_entities.media[].additional_media_info",
	".core.user_results.result.affiliates_highlighted_label",
}

func isDocumented(p string) bool {
	for _, d := range documented {
		if strings.HasPrefix(p, d) {
			return true
		}
	}
	return false
}

func TestTweetShapeMatchesFixtures2026(t *testing.T) {
	t.Parallel()
	fixture := map[string]bool{}
	tweetResultPaths(loadFixture(t, "2026/raw_search.json"), fixture)
	tweetResultPaths(loadFixture(t, "2026/raw_tweet_details.json"), fixture)

	s := newTestServer(t, WithCorpus(11, 3000), WithRateLimit(OpSearchTimeline, Limit{}), WithRateLimit(OpTweetDetail, Limit{}))
	search, detail := fakePages(t, s)
	fake := map[string]bool{}
	for _, p := range append(search, detail...) {
		tweetResultPaths(p, fake)
	}
	for _, p := range sortedKeys(fake) {
		if !fixture[p] && !isDocumented(p) {
			t.Errorf("fake serves %s, which no 2026 fixture has", p)
		}
	}
	for _, p := range []string{
		".__typename", ".rest_id", ".core.user_results.result.__typename", ".core.user_results.result.rest_id",
		".core.user_results.result.core.screen_name", ".core.user_results.result.core.name", ".core.user_results.result.core.created_at",
		".core.user_results.result.relationship_counts.followers", ".core.user_results.result.relationship_counts.following",
		".core.user_results.result.avatar.image_url", ".core.user_results.result.is_blue_verified",
		".core.user_results.result.verification.verified", ".core.user_results.result.tweet_counts.tweets",
		".legacy.full_text", ".legacy.created_at", ".legacy.lang", ".legacy.conversation_id_str", ".legacy.id_str",
		".legacy.user_id_str", ".legacy.favorite_count", ".legacy.retweet_count", ".legacy.reply_count",
		".legacy.quote_count", ".legacy.bookmark_count", ".legacy.display_text_range", ".legacy.in_reply_to_status_id_str",
		".legacy.quoted_status_id_str", ".legacy.entities.user_mentions[].screen_name", ".legacy.entities.hashtags[].text",
		".legacy.entities.urls[].expanded_url", ".legacy.extended_entities.media[].media_url_https",
		".legacy.extended_entities.media[].type", ".legacy.retweeted_status_result.result.rest_id", ".legacy.is_quote_status",
		".note_tweet.note_tweet_results.result.text", ".quoted_status_result.result.rest_id", ".views.count", ".views.state",
	} {
		if !fake[p] {
			t.Errorf("fake never serves %s", p)
		}
	}
	if t.Failed() {
		t.Logf("fixture paths:\n%s", strings.Join(sortedKeys(fixture), "\n"))
	}
}

func TestEntryShapeMatchesFixtures2026(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithCorpus(12, 2000), WithRateLimit(OpSearchTimeline, Limit{}), WithRateLimit(OpTweetDetail, Limit{}))
	search, detail := fakePages(t, s)
	for _, tt := range []struct {
		name    string
		fixture string
		pages   []any
		extra   []string // shapes X serves that the fixture lacks (research §2.4, §2.5)
	}{
		{"search", "2026/raw_search.json", search, []string{"promotedMetadata", "TimelineReplaceEntry", "entry_id_to_replace", "].entry"}},
		{"detail", "2026/raw_tweet_details.json", detail, []string{"cursor", "itemContent.value", "displayTreatment", "TimelineAddToModule", "moduleItems", "moduleEntryId", "prepend"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fixture, fake := map[string]bool{}, map[string]bool{}
			entryPaths(loadFixture(t, tt.fixture), fixture)
			for _, p := range tt.pages {
				entryPaths(p, fake)
			}
		paths:
			for _, p := range sortedKeys(fake) {
				if fixture[p] {
					continue
				}
				for _, e := range tt.extra {
					if strings.Contains(p, e) {
						continue paths
					}
				}
				t.Errorf("fake serves %s, which the fixture lacks", p)
			}
		})
	}
}

func TestEntryIDsAndTypenames(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithCorpus(13, 2000), WithRateLimit(OpSearchTimeline, Limit{}), WithRateLimit(OpTweetDetail, Limit{}))
	search, detail := fakePages(t, s)
	typenames := map[string]bool{}
	var ids []string
	for _, p := range append(search, detail...) {
		walk(p, func(m map[string]any) {
			if tn, ok := m["__typename"].(string); ok {
				typenames[tn] = true
			}
			if id, ok := m["entryId"].(string); ok {
				ids = append(ids, id)
			}
		})
	}
	for _, tn := range []string{"TimelineTimelineItem", "TimelineTimelineModule", "TimelineTimelineCursor", "TimelineTweet",
		"Tweet", "User", "TweetWithVisibilityResults", "TweetTombstone", "TextTombstone"} {
		if !typenames[tn] {
			t.Errorf("no %s object served", tn)
		}
	}
	prefixes := []string{"tweet-", "promoted-tweet-", "cursor-top-9223372036854775807", "cursor-bottom-0", "cursor-bottom-",
		"conversationthread-", "cursor-showmorethreads-", "cursor-showmorethreadsprompt-"}
	for _, id := range ids {
		ok := false
		for _, p := range prefixes {
			ok = ok || strings.HasPrefix(id, p)
		}
		if !ok {
			t.Errorf("unexpected entryId %s", id)
		}
		if strings.HasPrefix(id, "conversationthread-") {
			parts := strings.Split(id, "-")
			if len(parts) != 2 && !(len(parts) == 4 && parts[2] == "tweet") && !(len(parts) == 5 && parts[2] == "cursor" && parts[3] == "showmore") {
				t.Errorf("malformed module id %s", id)
			}
		}
	}
}

func TestLegacyUserShapeMatchesFixture2025(t *testing.T) {
	t.Parallel()
	fixture := map[string]bool{}
	userPaths(loadFixture(t, "2025-03/raw_tweet_details.json"), fixture)
	s := newTestServer(t, WithCorpus(14, 500), WithSchema(SchemaLegacy))
	search, detail := fakePages(t, s)
	fake := map[string]bool{}
	for _, p := range append(search, detail...) {
		userPaths(p, fake)
	}
	for _, p := range sortedKeys(fake) {
		if !fixture[p] && !strings.HasPrefix(p, ".affiliates_highlighted_label") {
			t.Errorf("fake legacy user has %s, which the 2025-03 fixture lacks", p)
		}
	}
	for _, p := range []string{".legacy.screen_name", ".legacy.name", ".legacy.followers_count", ".legacy.friends_count",
		".legacy.created_at", ".legacy.profile_image_url_https", ".legacy.verified", ".rest_id", ".is_blue_verified"} {
		if !fake[p] {
			t.Errorf("fake legacy user lacks %s", p)
		}
	}
	if fake[".core.screen_name"] {
		t.Error("legacy schema serves 2026 user fields")
	}
}

func TestEverySchemaAndShapeIsValidJSON(t *testing.T) {
	t.Parallel()
	for _, sc := range []Schema{Schema2026, SchemaLegacy, SchemaMixed} {
		for _, sh := range []TweetShape{TweetLegacy, TweetTopLevel, TweetMixed} {
			s := newTestServer(t, WithCorpus(int64(sc)*3+int64(sh), 800), WithSchema(sc), WithTweetShape(sh),
				WithRateLimit(OpSearchTimeline, Limit{}), WithRateLimit(OpTweetDetail, Limit{}))
			search, detail := fakePages(t, s)
			topLevel, legacyNull := false, false
			users := map[string]bool{}
			for _, p := range append(search, detail...) {
				if p == nil {
					t.Fatalf("schema %d shape %d: invalid JSON", sc, sh)
				}
				walk(p, func(m map[string]any) {
					if m["__typename"] == "User" {
						users["legacy"] = users["legacy"] || m["legacy"] != nil
						users["2026"] = users["2026"] || m["relationship_counts"] != nil
					}
					if m["__typename"] == "Tweet" && m["core"] != nil {
						if v, ok := m["legacy"]; ok && v == nil {
							legacyNull = true
							if m["full_text"] == nil {
								t.Errorf("legacy null without top-level full_text")
							}
						} else {
							topLevel = true
						}
					}
				})
			}
			if users["legacy"] != (sc != Schema2026) || users["2026"] != (sc != SchemaLegacy) {
				t.Errorf("schema %d served users %v", sc, users)
			}
			if want := sh != TweetLegacy; legacyNull != want {
				t.Errorf("shape %d: legacy null served %v", sh, legacyNull)
			}
			if want := sh != TweetTopLevel; topLevel != want {
				t.Errorf("shape %d: legacy object served %v", sh, topLevel)
			}
		}
	}
}
