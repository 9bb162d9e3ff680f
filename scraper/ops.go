package scraper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// BearerToken is the public bearer of X's web app, sent as `authorization: Bearer …`
// with every GraphQL request. The %3D is literal: X expects it undecoded.
const BearerToken = "AAAAAAAAAAAAAAAAAAAAANRILgAAAAAAnNwIzUejRCOuH5E6I8xnZz4puTs%3D1Zv7ttfk8LF81IUq16cHjhLTvJu4FA33AGWWjCpTnA"

// Names of the operations Nexus calls. The name is also the queue an account is locked
// on, since X counts its rate limits per operation.
const (
	OpSearchTimeline   = "SearchTimeline"
	OpTweetDetail      = "TweetDetail"
	OpUserByScreenName = "UserByScreenName"
	OpUserTweets       = "UserTweets"
)

// Operation is one GraphQL operation: X serves it at /graphql/<ID>/<Name>. X rotates the
// IDs about monthly and has moved operations between GET and POST, so both are data
// (config, then DiscoverOperations), not code.
type Operation struct {
	Name   string
	ID     string
	Method string // http.MethodGet or http.MethodPost
}

// Path returns the operation's path under the API base (`https://x.com/i/api`).
func (o Operation) Path() string { return "/graphql/" + o.ID + "/" + o.Name }

// DefaultOperations returns the built-in table: the IDs twscrape v0.20.0 shipped on
// 2026-08-07. All are GET, as there: SearchTimeline answered only POST for a while in
// March 2026, so the client falls back to POST on an empty 404 and the method can be
// set per operation in config.
func DefaultOperations() map[string]Operation {
	ids := [][2]string{
		{"SearchTimeline", "BGd0T_j7oVwlW5U79tO_0A"},
		{"TweetDetail", "559hs_YZNV4IgA3Z6zIIuw"},
		{"UserByScreenName", "Gb-d6r0vxPOADdG62OEBpQ"},
		{"UserByRestId", "xvmVfRLmnr1alc5f2dib0Q"},
		{"AboutAccountQuery", "TzOG2twZEfhr9KmClvVVqA"},
		{"UserTweets", "eoJ5zbv51Z_KVl81v9PmLQ"},
		{"UserTweetsAndReplies", "wc5DRl4VaW5lSqJ8YbftZQ"},
		{"UserMedia", "2DC9TKrcUzwGC_QskSVl5w"},
		{"Followers", "vJijlO_CM7dyGFNjDd7iqQ"},
		{"Following", "b8XpwALENnJdFSHchkK6rw"},
		{"BlueVerifiedFollowers", "cg6WLW39UujWMeX77xBnOA"},
		{"UserCreatorSubscriptions", "n5c96Ql2BupZFGeEOIp9cA"},
		{"Retweeters", "_wJOTLm5HMqNdcr1nGWlyA"},
		{"ListLatestTweetsTimeline", "jW040BLUjh8X6Tw2ODQufA"},
		{"ListMembers", "wGce-45xnc5bs3HVvevC2w"},
		{"GenericTimelineById", "BrGScxnisMdTXyeLScaEhQ"},
		{"Bookmarks", "aqjes8lRHRFG0HUglVTfNg"},
		{"CommunityQuery", "-ElI1vg3dYbttVMhBhGdLw"},
		{"CommunityTweetsTimeline", "dD1uF9vQx0OX-e1rKA4YLw"},
		{"membersSliceTimeline_Query", "woAp_YdzAdqnWDrqLTNpAw"},
		{"moderatorsSliceTimeline_Query", "0oYT9GRiWUhrz5xoqFE9uw"},
	}
	ops := make(map[string]Operation, len(ids))
	for _, p := range ids {
		ops[p[0]] = Operation{Name: p[0], ID: p[1], Method: http.MethodGet}
	}
	return ops
}

var (
	opNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	opIDRe   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// ParseOperation reads one config entry, name → spec, where spec is
//
//	ID           e.g. "BGd0T_j7oVwlW5U79tO_0A"        (method GET)
//	ID:METHOD    e.g. "BGd0T_j7oVwlW5U79tO_0A:POST"   (GET or POST, any case)
//	ID/Name      as twscrape writes it; Name must equal the entry's name
//	:METHOD      keep the ID of base and change only the method
//
// base is the operation being overridden (zero when the name is new).
func ParseOperation(name, spec string, base Operation) (Operation, error) {
	if !opNameRe.MatchString(name) {
		return Operation{}, fmt.Errorf("scraper: operation %q: name is not an identifier", name)
	}
	op := Operation{Name: name, Method: http.MethodGet}
	spec = strings.TrimSpace(spec)
	id, method, hasMethod := strings.Cut(spec, ":")
	if hasMethod {
		switch strings.ToUpper(strings.TrimSpace(method)) {
		case http.MethodGet:
			op.Method = http.MethodGet
		case http.MethodPost:
			op.Method = http.MethodPost
		default:
			return Operation{}, fmt.Errorf("scraper: operation %q: method %q is not GET or POST", name, method)
		}
	}
	id = strings.TrimSpace(id)
	if i, opName, ok := strings.Cut(id, "/"); ok {
		if opName != name {
			return Operation{}, fmt.Errorf("scraper: operation %q: spec names operation %q", name, opName)
		}
		id = i
	}
	op.ID = id
	if op.ID == "" && hasMethod {
		if base.ID == "" {
			return Operation{}, fmt.Errorf("scraper: operation %q: no built-in ID to keep; give ID:%s", name, op.Method)
		}
		op.ID = base.ID
	}
	if !opIDRe.MatchString(op.ID) {
		return Operation{}, fmt.Errorf("scraper: operation %q: ID must be 1-64 letters, digits, _ or -", name)
	}
	return op, nil
}

// MergeOperations returns base with the config overrides applied (see ParseOperation for
// the format). A name base lacks adds an operation. Every bad entry is reported, each
// error naming its entry, so one config fix settles them all.
func MergeOperations(base map[string]Operation, overrides map[string]string) (map[string]Operation, error) {
	out := make(map[string]Operation, len(base)+len(overrides))
	for name, op := range base {
		out[name] = op
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		op, err := ParseOperation(name, overrides[name], base[name])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[name] = op
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// UpdateOperationIDs returns ops with the IDs found by DiscoverOperations, keeping each
// operation's method, and the names whose ID changed. Discovered operations that ops
// does not hold are ignored: the table is what Nexus calls.
func UpdateOperationIDs(ops map[string]Operation, found map[string]string) (map[string]Operation, []string) {
	out := make(map[string]Operation, len(ops))
	var changed []string
	for _, name := range slices.Sorted(maps.Keys(ops)) {
		op := ops[name]
		if id, ok := found[name]; ok && id != op.ID && opIDRe.MatchString(id) {
			op.ID = id
			changed = append(changed, name)
		}
		out[name] = op
	}
	return out, changed
}

// Flag is one named boolean of the `features` or `fieldToggles` parameter.
type Flag struct {
	Name string
	On   bool
}

// Flags is an ordered set of flags. It marshals to a JSON object in its own order, so
// requests are byte-for-byte those of the web app and easy to diff against it.
type Flags []Flag

// With returns a copy of f in which each of more replaces the flag of the same name in
// place, or is appended when f lacks it: the `{**defaults, **extra}` of twscrape. Use
// it too for the names a 336 error (Verdict.StaleFeatures) says are missing.
func (f Flags) With(more ...Flag) Flags {
	out := make(Flags, len(f), len(f)+len(more))
	copy(out, f)
	for _, m := range more {
		i := out.index(m.Name)
		if i < 0 {
			out = append(out, m)
			continue
		}
		out[i].On = m.On
	}
	return out
}

// Lookup reports the value of the named flag and whether f holds it.
func (f Flags) Lookup(name string) (on, ok bool) {
	if i := f.index(name); i >= 0 {
		return f[i].On, true
	}
	return false, false
}

func (f Flags) index(name string) int {
	for i := range f {
		if f[i].Name == name {
			return i
		}
	}
	return -1
}

// MarshalJSON writes f as a compact JSON object in order.
func (f Flags) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 64*len(f)+2)
	b = append(b, '{')
	for i, fl := range f {
		if i > 0 {
			b = append(b, ',')
		}
		name, err := json.Marshal(fl.Name)
		if err != nil {
			return nil, fmt.Errorf("scraper: flag %q: %w", fl.Name, err)
		}
		b = append(b, name...)
		b = append(b, ':')
		b = strconv.AppendBool(b, fl.On)
	}
	return append(b, '}'), nil
}

// DefaultFeatures returns the 39 feature flags the web app sends with every operation
// (twscrape GQL_FEATURES, 2026-08). A key X requires but misses earns error 336; extra
// keys are tolerated.
func DefaultFeatures() Flags {
	return Flags{
		{"articles_preview_enabled", false},
		{"c9s_tweet_anatomy_moderator_badge_enabled", true},
		{"communities_web_enable_tweet_community_results_fetch", true},
		{"creator_subscriptions_quote_tweet_preview_enabled", false},
		{"creator_subscriptions_tweet_preview_api_enabled", true},
		{"freedom_of_speech_not_reach_fetch_enabled", true},
		{"graphql_is_translatable_rweb_tweet_is_translatable_enabled", true},
		{"longform_notetweets_consumption_enabled", true},
		{"longform_notetweets_inline_media_enabled", true},
		{"longform_notetweets_rich_text_read_enabled", true},
		{"responsive_web_edit_tweet_api_enabled", true},
		{"responsive_web_enhance_cards_enabled", false},
		{"responsive_web_graphql_exclude_directive_enabled", true},
		{"responsive_web_graphql_skip_user_profile_image_extensions_enabled", false},
		{"responsive_web_grok_community_note_auto_translation_is_enabled", false},
		{"responsive_web_graphql_timeline_navigation_enabled", true},
		{"responsive_web_grok_imagine_annotation_enabled", false},
		{"responsive_web_media_download_video_enabled", false},
		{"responsive_web_profile_redirect_enabled", true},
		{"responsive_web_twitter_article_tweet_consumption_enabled", true},
		{"rweb_tipjar_consumption_enabled", true},
		{"rweb_video_timestamps_enabled", true},
		{"standardized_nudges_misinfo", true},
		{"tweet_awards_web_tipping_enabled", false},
		{"tweet_with_visibility_results_prefer_gql_limited_actions_policy_enabled", true},
		{"tweet_with_visibility_results_prefer_gql_media_interstitial_enabled", false},
		{"tweetypie_unmention_optimization_enabled", true},
		{"verified_phone_label_enabled", false},
		{"view_counts_everywhere_api_enabled", true},
		{"responsive_web_grok_analyze_button_fetch_trends_enabled", false},
		{"premium_content_api_read_enabled", false},
		{"profile_label_improvements_pcf_label_in_post_enabled", false},
		{"responsive_web_grok_share_attachment_enabled", false},
		{"responsive_web_grok_analyze_post_followups_enabled", false},
		{"responsive_web_grok_image_annotation_enabled", false},
		{"responsive_web_grok_analysis_button_from_backend", false},
		{"responsive_web_jetfuel_frame", false},
		{"rweb_video_screen_enabled", true},
		{"responsive_web_grok_show_grok_translated_post", true},
	}
}

// OperationFeatures returns the features to send with the named operation: the
// defaults plus the extra flags the web app sends for it (research §2.6).
func OperationFeatures(name string) Flags {
	f := DefaultFeatures()
	switch name {
	case OpUserByScreenName:
		return f.With(
			Flag{"highlights_tweets_tab_ui_enabled", true},
			Flag{"hidden_profile_likes_enabled", true},
			Flag{"creator_subscriptions_tweet_preview_api_enabled", true},
			Flag{"hidden_profile_subscriptions_enabled", true},
			Flag{"subscriptions_verification_info_verified_since_enabled", true},
			Flag{"subscriptions_verification_info_is_identity_verified_enabled", false},
			Flag{"responsive_web_twitter_article_notes_tab_enabled", false},
			Flag{"subscriptions_feature_can_gift_premium", false},
			Flag{"profile_label_improvements_pcf_label_in_post_enabled", false},
		)
	case "AboutAccountQuery":
		return f.With(Flag{"responsive_web_graphql_timeline_navigation_enabled", true})
	case "Followers":
		return f.With(Flag{"responsive_web_twitter_article_notes_tab_enabled", false})
	case "BlueVerifiedFollowers":
		return f.With(Flag{"responsive_web_twitter_article_notes_tab_enabled", true})
	case "Bookmarks":
		return f.With(Flag{"graphql_timeline_v2_bookmark_timeline", true})
	}
	return f
}

// ThreadFeatures returns the features twscrape sends with TweetDetail when it walks a
// whole conversation (tweet_thread): the defaults with 31 flags as the web app sets them
// on a conversation page.
func ThreadFeatures() Flags {
	return DefaultFeatures().With(
		Flag{"rweb_video_screen_enabled", false},
		Flag{"profile_label_improvements_pcf_label_in_post_enabled", true},
		Flag{"rweb_tipjar_consumption_enabled", true},
		Flag{"verified_phone_label_enabled", false},
		Flag{"creator_subscriptions_tweet_preview_api_enabled", true},
		Flag{"responsive_web_graphql_timeline_navigation_enabled", true},
		Flag{"responsive_web_graphql_skip_user_profile_image_extensions_enabled", false},
		Flag{"premium_content_api_read_enabled", false},
		Flag{"communities_web_enable_tweet_community_results_fetch", true},
		Flag{"c9s_tweet_anatomy_moderator_badge_enabled", true},
		Flag{"responsive_web_grok_analyze_button_fetch_trends_enabled", false},
		Flag{"responsive_web_grok_analyze_post_followups_enabled", true},
		Flag{"responsive_web_jetfuel_frame", false},
		Flag{"responsive_web_grok_share_attachment_enabled", true},
		Flag{"articles_preview_enabled", true},
		Flag{"responsive_web_edit_tweet_api_enabled", true},
		Flag{"graphql_is_translatable_rweb_tweet_is_translatable_enabled", true},
		Flag{"view_counts_everywhere_api_enabled", true},
		Flag{"longform_notetweets_consumption_enabled", true},
		Flag{"responsive_web_twitter_article_tweet_consumption_enabled", true},
		Flag{"tweet_awards_web_tipping_enabled", false},
		Flag{"responsive_web_grok_show_grok_translated_post", false},
		Flag{"responsive_web_grok_analysis_button_from_backend", true},
		Flag{"creator_subscriptions_quote_tweet_preview_enabled", false},
		Flag{"freedom_of_speech_not_reach_fetch_enabled", true},
		Flag{"standardized_nudges_misinfo", true},
		Flag{"tweet_with_visibility_results_prefer_gql_limited_actions_policy_enabled", true},
		Flag{"longform_notetweets_rich_text_read_enabled", true},
		Flag{"longform_notetweets_inline_media_enabled", true},
		Flag{"responsive_web_grok_image_annotation_enabled", true},
		Flag{"responsive_web_enhance_cards_enabled", false},
	)
}

// FieldToggles returns the fieldToggles parameter of the named operation, or nil when
// the web app sends none (then the parameter is left out).
func FieldToggles(name string) Flags {
	switch name {
	case OpSearchTimeline, "ListLatestTweetsTimeline":
		return Flags{{"withArticleRichContentState", false}}
	case "UserMedia":
		return Flags{{"withArticlePlainText", false}}
	}
	return nil
}

// Discovery bounds: X's logged-in web build links a few hundred chunks; a page that
// leads to more is not X's.
const (
	discoverMaxScripts  = 600
	discoverConcurrency = 8
)

var (
	// The two shapes in which X's bundles declare operations: the webpack build's
	// `queryId:"…",operationName:"…"` and the Relay-style `params:{id:"…",…name:"…",
	// operationKind:`. The gaps are bounded so that a match never spans two operations.
	opQueryIDRe = regexp.MustCompile("queryId:\\s*[\"'`]([\\w-]{1,64})[\"'`][^{}\n]{0,200}?operationName:\\s*[\"'`](\\w+)[\"'`]")
	opParamsRe  = regexp.MustCompile("params:\\{id:\\s*[\"'`]([\\w-]{1,64})[\"'`][^\n]{0,300}?name:\\s*[\"'`](\\w+)[\"'`][^\n]{0,300}?operationKind:")
	// jsImportRe finds the chunks a bundle loads lazily (`import("./x.js")`, `from"./x.js"`).
	jsImportRe = regexp.MustCompile("(?:from|import)\\s*\\(?\\s*[\"'`]((?:\\.{1,2}/)[^\"'`\\s]+?\\.js)[\"'`]")
)

// DiscoverOperations finds the current operation IDs in X's web bundle, the way
// twscrape's update-gql-ops script does: it loads webBase/home and webBase/xdevelopers,
// collects their scripts (x-web and responsive-web bundles, <script src>, <link href>),
// follows the chunks they import, and reads every `queryId:"…",operationName:"…"`. It
// returns name → ID. hc should carry an account's cookies when it can: X serves its
// full build to logged-in sessions only. A page or script that fails is skipped;
// finding no operation at all is an error.
func DiscoverOperations(ctx context.Context, hc *http.Client, webBase string) (map[string]string, error) {
	fetch := HTTPFetcher(hc, nil)
	base := strings.TrimRight(webBase, "/")
	var scripts []string
	var pageErrs []error
	for _, p := range []string{"/home", "/xdevelopers"} {
		pageURL := base + p
		html, err := fetchWebPage(ctx, fetch, pageURL)
		if err != nil {
			pageErrs = append(pageErrs, err)
			continue
		}
		scripts = append(scripts, pageScripts(pageURL, html)...)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("scraper: discover operations: %w", err)
	}
	if len(scripts) == 0 {
		if len(pageErrs) > 0 {
			return nil, fmt.Errorf("scraper: discover operations: %w", errors.Join(pageErrs...))
		}
		return nil, errors.New("scraper: discover operations: no scripts in the web pages")
	}

	found := map[string]string{}
	prio := map[string]int{}
	add := func(name, id, scriptURL string) {
		p := scriptPriority(scriptURL)
		// twscrape's rule: the legacy responsive-web build wins a conflict, as the
		// x-web build has carried stale IDs while X migrated.
		if old, ok := found[name]; ok && old != id && p < prio[name] {
			return
		}
		found[name], prio[name] = id, p
	}
	fetched, failed := walkScripts(ctx, fetch, scripts, func(scriptURL, body string) []string {
		for _, re := range []*regexp.Regexp{opQueryIDRe, opParamsRe} {
			for _, m := range re.FindAllStringSubmatch(body, -1) {
				add(m[2], m[1], scriptURL)
			}
		}
		return scriptImports(scriptURL, body)
	})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("scraper: discover operations: %w", err)
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("scraper: discover operations: no operation ids in %d scripts (%d failed)", fetched, failed)
	}
	return found, nil
}

// walkScripts fetches scripts breadth-first, a few at a time, handing each body to
// visit, which returns more script URLs to fetch. visit is called from one goroutine
// at a time. It returns how many scripts it fetched and how many failed.
func walkScripts(ctx context.Context, fetch FetchFunc, start []string, visit func(scriptURL, body string) []string) (fetched, failed int) {
	seen := map[string]bool{}
	var queue []string
	push := func(urls []string) {
		for _, u := range urls {
			if !seen[u] && len(seen) < discoverMaxScripts && relevantScript(u) {
				seen[u] = true
				queue = append(queue, u)
			}
		}
	}
	push(start)
	var mu sync.Mutex
	for len(queue) > 0 && ctx.Err() == nil {
		batch := queue
		queue = nil
		sem := make(chan struct{}, discoverConcurrency)
		var wg sync.WaitGroup
		for _, u := range batch {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				body, err := fetch(ctx, u)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed++
					return
				}
				fetched++
				push(visit(u, string(body)))
			}()
		}
		wg.Wait()
	}
	return fetched, failed
}

// relevantScript skips the bundles that never hold operations or signing code:
// translations, icons and the syntax highlighter are most of a build's files.
func relevantScript(u string) bool {
	return !strings.Contains(u, "/i18n/") && !strings.Contains(u, "/icons/") && !strings.Contains(u, "react-syntax-highlighter")
}

func scriptPriority(u string) int {
	switch {
	case strings.Contains(u, "/responsive-web/client-web"):
		return 2
	case strings.Contains(u, "/x-web/"):
		return 1
	}
	return 0
}

var (
	// bundleURLRe finds X's bundle URLs wherever the page mentions them: in tags, in
	// modulepreload links and in the JSON the page embeds.
	bundleURLRe = regexp.MustCompile(`https?://[\w.:-]+/(?:x-web|responsive-web)/[\w./-]+\.js`)
	scriptTagRe = regexp.MustCompile(`(?i)<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']`)
)

// pageScripts lists the script URLs of a web page in order of appearance, resolved
// against the page's URL.
func pageScripts(pageURL, html string) []string {
	base, err := url.Parse(pageURL)
	if err != nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	add := func(ref string) {
		u, err := base.Parse(ref)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.HasSuffix(u.Path, ".js") {
			return
		}
		s := u.String()
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, m := range scriptTagRe.FindAllStringSubmatch(html, -1) {
		add(m[1])
	}
	for _, m := range bundleURLRe.FindAllString(html, -1) {
		add(m)
	}
	return out
}

// scriptImports lists the chunks a script imports, resolved against its own URL.
func scriptImports(scriptURL, body string) []string {
	base, err := url.Parse(scriptURL)
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range jsImportRe.FindAllStringSubmatch(body, -1) {
		if u, err := base.Parse(m[1]); err == nil {
			out = append(out, u.String())
		}
	}
	return out
}
