package scraper

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// researchFeatures is GQL_FEATURES exactly as research/x-graphql.md §2.3 gives it.
const researchFeatures = `{"articles_preview_enabled":false,"c9s_tweet_anatomy_moderator_badge_enabled":true,"communities_web_enable_tweet_community_results_fetch":true,"creator_subscriptions_quote_tweet_preview_enabled":false,"creator_subscriptions_tweet_preview_api_enabled":true,"freedom_of_speech_not_reach_fetch_enabled":true,"graphql_is_translatable_rweb_tweet_is_translatable_enabled":true,"longform_notetweets_consumption_enabled":true,"longform_notetweets_inline_media_enabled":true,"longform_notetweets_rich_text_read_enabled":true,"responsive_web_edit_tweet_api_enabled":true,"responsive_web_enhance_cards_enabled":false,"responsive_web_graphql_exclude_directive_enabled":true,"responsive_web_graphql_skip_user_profile_image_extensions_enabled":false,"responsive_web_grok_community_note_auto_translation_is_enabled":false,"responsive_web_graphql_timeline_navigation_enabled":true,"responsive_web_grok_imagine_annotation_enabled":false,"responsive_web_media_download_video_enabled":false,"responsive_web_profile_redirect_enabled":true,"responsive_web_twitter_article_tweet_consumption_enabled":true,"rweb_tipjar_consumption_enabled":true,"rweb_video_timestamps_enabled":true,"standardized_nudges_misinfo":true,"tweet_awards_web_tipping_enabled":false,"tweet_with_visibility_results_prefer_gql_limited_actions_policy_enabled":true,"tweet_with_visibility_results_prefer_gql_media_interstitial_enabled":false,"tweetypie_unmention_optimization_enabled":true,"verified_phone_label_enabled":false,"view_counts_everywhere_api_enabled":true,"responsive_web_grok_analyze_button_fetch_trends_enabled":false,"premium_content_api_read_enabled":false,"profile_label_improvements_pcf_label_in_post_enabled":false,"responsive_web_grok_share_attachment_enabled":false,"responsive_web_grok_analyze_post_followups_enabled":false,"responsive_web_grok_image_annotation_enabled":false,"responsive_web_grok_analysis_button_from_backend":false,"responsive_web_jetfuel_frame":false,"rweb_video_screen_enabled":true,"responsive_web_grok_show_grok_translated_post":true}`

func TestDefaultFeaturesJSON(t *testing.T) {
	t.Parallel()
	f := DefaultFeatures()
	if len(f) != 39 {
		t.Fatalf("%d features, want 39", len(f))
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != researchFeatures {
		t.Fatalf("features JSON differs from the research file:\n%s", b)
	}
	// Inside a larger value, as the client will encode the query parameters.
	b, _ = json.Marshal(map[string]any{"features": FieldToggles(OpSearchTimeline)})
	if string(b) != `{"features":{"withArticleRichContentState":false}}` {
		t.Fatalf("nested = %s", b)
	}
	if FieldToggles(OpTweetDetail) != nil {
		t.Fatal("TweetDetail has no field toggles in twscrape")
	}
	if b, _ := json.Marshal(FieldToggles("UserMedia")); string(b) != `{"withArticlePlainText":false}` {
		t.Fatalf("UserMedia toggles = %s", b)
	}
}

func TestFlagsWith(t *testing.T) {
	t.Parallel()
	base := DefaultFeatures()
	got := base.With(Flag{"articles_preview_enabled", true}, Flag{"brand_new_flag", false})
	if on, _ := base.Lookup("articles_preview_enabled"); on {
		t.Fatal("With changed its receiver")
	}
	if got[0] != (Flag{"articles_preview_enabled", true}) || got[len(got)-1] != (Flag{"brand_new_flag", false}) || len(got) != 40 {
		t.Fatalf("With: replaced in place and appended expected; got first %v last %v len %d", got[0], got[len(got)-1], len(got))
	}

	thread := ThreadFeatures()
	if len(thread) != 39 {
		t.Fatalf("ThreadFeatures has %d flags, want the 39 defaults overridden", len(thread))
	}
	for name, want := range map[string]bool{"rweb_video_screen_enabled": false, "articles_preview_enabled": true, "responsive_web_grok_show_grok_translated_post": false} {
		if on, ok := thread.Lookup(name); !ok || on != want {
			t.Errorf("ThreadFeatures %s = %v, %v; want %v", name, on, ok, want)
		}
	}
	user := OperationFeatures(OpUserByScreenName)
	if on, ok := user.Lookup("hidden_profile_likes_enabled"); !ok || !on {
		t.Error("UserByScreenName lacks hidden_profile_likes_enabled")
	}
	if len(user) != 39+7 {
		t.Errorf("UserByScreenName has %d flags, want 46", len(user))
	}
	if b, _ := json.Marshal(OperationFeatures(OpSearchTimeline)); string(b) != researchFeatures {
		t.Error("SearchTimeline should send the defaults")
	}
}

func TestDefaultOperations(t *testing.T) {
	t.Parallel()
	ops := DefaultOperations()
	want := map[string]string{
		OpSearchTimeline:   "BGd0T_j7oVwlW5U79tO_0A",
		OpTweetDetail:      "559hs_YZNV4IgA3Z6zIIuw",
		OpUserByScreenName: "Gb-d6r0vxPOADdG62OEBpQ",
		OpUserTweets:       "eoJ5zbv51Z_KVl81v9PmLQ",
	}
	for name, id := range want {
		op := ops[name]
		if op.Name != name || op.ID != id || op.Method != http.MethodGet {
			t.Errorf("%s = %+v", name, op)
		}
	}
	if len(ops) != 21 {
		t.Errorf("%d operations, want the 21 of twscrape", len(ops))
	}
	if p := ops[OpSearchTimeline].Path(); p != "/graphql/BGd0T_j7oVwlW5U79tO_0A/SearchTimeline" {
		t.Errorf("Path = %q", p)
	}
}

func TestMergeOperations(t *testing.T) {
	t.Parallel()
	def := DefaultOperations()
	tests := []struct {
		name, key, spec string
		want            Operation
		wantErr         string
	}{
		{"id only", OpSearchTimeline, "hz_94eVAtrtQo_vO3my7Rw", Operation{OpSearchTimeline, "hz_94eVAtrtQo_vO3my7Rw", "GET"}, ""},
		{"id and post", OpSearchTimeline, " hz_94eVAtrtQo_vO3my7Rw:post ", Operation{OpSearchTimeline, "hz_94eVAtrtQo_vO3my7Rw", "POST"}, ""},
		{"id and get", OpTweetDetail, "rZA6K31W4E90vZKBmxXV3g:GET", Operation{OpTweetDetail, "rZA6K31W4E90vZKBmxXV3g", "GET"}, ""},
		{"twscrape form", OpTweetDetail, "rZA6K31W4E90vZKBmxXV3g/TweetDetail", Operation{OpTweetDetail, "rZA6K31W4E90vZKBmxXV3g", "GET"}, ""},
		{"twscrape form with method", OpTweetDetail, "rZA6K31W4E90vZKBmxXV3g/TweetDetail:POST", Operation{OpTweetDetail, "rZA6K31W4E90vZKBmxXV3g", "POST"}, ""},
		{"method only keeps id", OpSearchTimeline, ":POST", Operation{OpSearchTimeline, "BGd0T_j7oVwlW5U79tO_0A", "POST"}, ""},
		{"new operation", "Favoriters", "abcDEF123_-x", Operation{"Favoriters", "abcDEF123_-x", "GET"}, ""},
		{"bad method", OpSearchTimeline, "hz_94eVAtrtQo_vO3my7Rw:PUT", Operation{}, `scraper: operation "SearchTimeline": method "PUT" is not GET or POST`},
		{"bad id", OpSearchTimeline, "hz 94eV", Operation{}, `scraper: operation "SearchTimeline": ID must be`},
		{"empty", OpSearchTimeline, "", Operation{}, `scraper: operation "SearchTimeline": ID must be`},
		{"other name", OpSearchTimeline, "rZA6K31W4E90vZKBmxXV3g/TweetDetail", Operation{}, `scraper: operation "SearchTimeline": spec names operation "TweetDetail"`},
		{"bad name", "Search Timeline", "x", Operation{}, `scraper: operation "Search Timeline": name is not an identifier`},
		{"method only for unknown", "Favoriters", ":POST", Operation{}, `scraper: operation "Favoriters": no built-in ID to keep`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := MergeOperations(def, map[string]string{tt.key: tt.spec})
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got[tt.key] != tt.want {
				t.Fatalf("got %+v, want %+v", got[tt.key], tt.want)
			}
			if got[OpUserTweets] != def[OpUserTweets] {
				t.Fatal("an untouched operation changed")
			}
		})
	}

	_, err := MergeOperations(def, map[string]string{"A b": "x", OpTweetDetail: "x:PUT", OpUserTweets: "fine"})
	if err == nil || !strings.Contains(err.Error(), `"A b"`) || !strings.Contains(err.Error(), `"TweetDetail"`) {
		t.Fatalf("every bad entry should be named: %v", err)
	}
	if def[OpSearchTimeline].ID != "BGd0T_j7oVwlW5U79tO_0A" {
		t.Fatal("MergeOperations changed base")
	}
}

func TestUpdateOperationIDs(t *testing.T) {
	t.Parallel()
	ops, _ := MergeOperations(DefaultOperations(), map[string]string{OpSearchTimeline: ":POST"})
	got, changed := UpdateOperationIDs(ops, map[string]string{
		OpSearchTimeline: "NEWsearchID", OpTweetDetail: ops[OpTweetDetail].ID, "HomeTimeline": "home1", OpUserTweets: "bad id!",
	})
	if got[OpSearchTimeline] != (Operation{OpSearchTimeline, "NEWsearchID", "POST"}) {
		t.Fatalf("SearchTimeline = %+v", got[OpSearchTimeline])
	}
	if _, ok := got["HomeTimeline"]; ok {
		t.Fatal("an operation the table lacks was added")
	}
	if strings.Join(changed, ",") != OpSearchTimeline {
		t.Fatalf("changed = %v", changed)
	}
}

// fakeWeb serves a logged-in x.com page whose bundles declare operations in both of the
// shapes X has used, one of them behind a lazy import.
func fakeWeb(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/home", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!DOCTYPE html><html><head>
<link rel="modulepreload" href="%[1]s/x-web/assets/main-Ab12.js">
<script type="module" src="/x-web/assets/entry-client-Cd34.js" nonce="n"></script>
<script src="/x-web/i18n/en-Ef56.js"></script>
</head><body><script>window.__INITIAL_STATE__={"assets":["%[1]s/x-web/assets/vendor-Gh78.js"]}</script></body></html>`, srv.URL)
	})
	mux.HandleFunc("/x-web/assets/main-Ab12.js", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `var a={queryId:"BGd0T_j7oVwlW5U79tO_0A",operationName:"SearchTimeline",operationType:"query",metadata:{featureSwitches:["x"]}};`+
			`e.exports={queryId:'559hs_YZNV4IgA3Z6zIIuw', operationName:'TweetDetail',operationType:"query"};`+
			"const l=()=>import(\"./chunk-Ij90.js\");import{b}from\"./shared-Kl12.js\";")
	})
	mux.HandleFunc("/x-web/assets/entry-client-Cd34.js", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `console.log(1)`)
	})
	mux.HandleFunc("/x-web/assets/chunk-Ij90.js", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `const n={params:{id:"Gb-d6r0vxPOADdG62OEBpQ",metadata:{},name:"UserByScreenName",operationKind:"query",text:null}};`+
			`import("../assets/main-Ab12.js")`)
	})
	mux.HandleFunc("/x-web/assets/shared-Kl12.js", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "x={queryId:`eoJ5zbv51Z_KVl81v9PmLQ`,operationName:`UserTweets`}")
	})
	mux.HandleFunc("/x-web/i18n/en-Ef56.js", func(w http.ResponseWriter, r *http.Request) {
		t.Error("translations should not be fetched")
	})
	// vendor-Gh78.js and /xdevelopers are missing: failures are skipped.
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestDiscoverOperations(t *testing.T) {
	t.Parallel()
	srv := fakeWeb(t)
	got, err := DiscoverOperations(context.Background(), srv.Client(), srv.URL+"/")
	if err != nil {
		t.Fatalf("DiscoverOperations: %v", err)
	}
	want := map[string]string{
		OpSearchTimeline:   "BGd0T_j7oVwlW5U79tO_0A",
		OpTweetDetail:      "559hs_YZNV4IgA3Z6zIIuw",
		OpUserByScreenName: "Gb-d6r0vxPOADdG62OEBpQ",
		OpUserTweets:       "eoJ5zbv51Z_KVl81v9PmLQ",
	}
	if !maps.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestDiscoverOperationsFailures(t *testing.T) {
	t.Parallel()
	noOps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/home" {
			fmt.Fprint(w, `<script src="/x-web/a.js"></script>`)
			return
		}
		fmt.Fprint(w, `var nothing=1`)
	}))
	t.Cleanup(noOps.Close)
	noScripts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html>hello</html>`)
	}))
	t.Cleanup(noScripts.Close)
	down := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(down.Close)

	tests := []struct{ name, base, want string }{
		{"no operations", noOps.URL, "scraper: discover operations: no operation ids in 1 scripts (0 failed)"},
		{"no scripts", noScripts.URL, "scraper: discover operations: no scripts in the web pages"},
		{"pages fail", down.URL, "status 404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DiscoverOperations(context.Background(), nil, tt.base)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, %v; want error %q", got, err, tt.want)
			}
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := DiscoverOperations(ctx, nil, fakeWeb(t).URL); err == nil {
			t.Fatal("want an error from a cancelled context")
		}
	})
}

func TestDiscoverPriority(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/home", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<script src="%[1]s/responsive-web/client-web/main.0b1fe5aa.js"></script><script src="%[1]s/x-web/assets/main-Zz.js"></script>`, srv.URL)
	})
	mux.HandleFunc("/responsive-web/client-web/main.0b1fe5aa.js", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{queryId:"legacyID",operationName:"SearchTimeline"}`)
	})
	mux.HandleFunc("/x-web/assets/main-Zz.js", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{queryId:"viteID",operationName:"SearchTimeline"},{queryId:"onlyVite",operationName:"TweetDetail"}`)
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	got, err := DiscoverOperations(context.Background(), srv.Client(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got[OpSearchTimeline] != "legacyID" || got[OpTweetDetail] != "onlyVite" {
		t.Fatalf("got %v: the responsive-web build should win a conflict", got)
	}
}
