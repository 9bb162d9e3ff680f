package query

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/robfig/cron/v3"

	"nexus/store"
)

// Limits and defaults of a campaign.
const (
	DefaultThreshold     = 70 // the API applies it when threshold is absent, not when it is 0
	DefaultLookbackHours = 24
	MaxLookbackHours     = 720
	MaxNameLen           = 200
	MaxListItems         = 50
	MaxItemLen           = 100
	MaxContextLen        = 4000
	MaxAdvancedLen       = 500
	// MinScheduleInterval keeps a schedule from spending the account pool's rate
	// limits on one campaign; it holds for @every and for cron expressions alike.
	MinScheduleInterval = 5 * time.Minute
)

// ValidationError names the first bad field of a campaign by its JSON name. The field
// "query" means the campaign as a whole: no search term, or a compiled query too long.
type ValidationError struct {
	Field   string
	Message string
}

// Error returns "field: message".
func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// Validate checks campaign c as Normalize would store it, so it may be called before or
// after Normalize, and returns a *ValidationError for the first bad field, or nil. It
// also compiles c with the longest run bounds (a since_id and an until date) so that a
// campaign it accepts compiles within MaxQueryLen on every run.
func Validate(c store.Campaign) error {
	Normalize(&c)
	for _, check := range []func(store.Campaign) *ValidationError{
		checkName, checkLists, checkConflicts, checkMatch, checkLang, checkNumbers,
		checkAdvanced, checkContext, checkSchedule, checkRoutes, checkQuietHours,
	} {
		if err := check(c); err != nil {
			return err
		}
	}
	worst := Options{SinceID: "99999999999999999999", Until: time.Date(2099, 12, 30, 12, 0, 0, 0, time.UTC)}
	if _, err := Compile(c, worst); err != nil {
		return err
	}
	return nil
}

func checkQuietHours(c store.Campaign) *ValidationError {
	q := c.QuietHours
	if q == nil {
		return nil
	}
	for _, v := range []struct{ field, value string }{{"quiet_hours.start", q.Start}, {"quiet_hours.end", q.End}} {
		if _, err := time.Parse("15:04", v.value); err != nil {
			return invalid(v.field, "must be HH:MM, got %q", v.value)
		}
	}
	if q.Start == q.End {
		return invalid("quiet_hours", "start and end are equal")
	}
	if q.TZ == "" {
		return invalid("quiet_hours.tz", "is required (an IANA zone such as Europe/Paris or UTC)")
	}
	if _, err := time.LoadLocation(q.TZ); err != nil {
		return invalid("quiet_hours.tz", "unknown time zone %q", q.TZ)
	}
	return nil
}

func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

func checkName(c store.Campaign) *ValidationError {
	switch {
	case c.Name == "":
		return invalid("name", "is required")
	case utf8.RuneCountInString(c.Name) > MaxNameLen:
		return invalid("name", "is longer than %d characters", MaxNameLen)
	case badText(c.Name, false) != "":
		return invalid("name", "%s", badText(c.Name, false))
	}
	return nil
}

func checkLists(c store.Campaign) *ValidationError {
	lists := []struct {
		field string
		items []string
		item  func(string) string
	}{
		{"keywords", c.Keywords, nil},
		{"phrases", c.Phrases, nil},
		{"hashtags", c.Hashtags, hashtagProblem},
		{"mentions", c.Mentions, handleProblem},
		{"from_users", c.FromUsers, handleProblem},
		{"exclude_words", c.ExcludeWords, nil},
		{"exclude_users", c.ExcludeUsers, handleProblem},
	}
	for _, l := range lists {
		if len(l.items) > MaxListItems {
			return invalid(l.field, "has %d items, at most %d are allowed", len(l.items), MaxListItems)
		}
		for _, s := range l.items {
			msg := badText(s, false)
			if msg == "" && utf8.RuneCountInString(s) > MaxItemLen {
				msg = fmt.Sprintf("is longer than %d characters", MaxItemLen)
			}
			if msg == "" && l.item != nil {
				msg = l.item(s)
			}
			if msg != "" {
				return invalid(l.field, "%q %s", clip(s), msg)
			}
		}
	}
	return nil
}

// checkConflicts rejects a campaign that contradicts itself and would find nothing.
func checkConflicts(c store.Campaign) *ValidationError {
	for _, u := range c.ExcludeUsers {
		if containsFold(c.FromUsers, u) {
			return invalid("exclude_users", "%q is also in from_users", u)
		}
	}
	for _, w := range c.ExcludeWords {
		if containsFold(c.Keywords, w) || containsFold(c.Phrases, w) {
			return invalid("exclude_words", "%q is also a keyword or phrase", clip(w))
		}
	}
	return nil
}

func checkMatch(c store.Campaign) *ValidationError {
	if c.Match != MatchAny && c.Match != MatchAll {
		return invalid("match", "must be %q or %q", MatchAny, MatchAll)
	}
	return nil
}

func checkLang(c store.Campaign) *ValidationError {
	switch {
	case c.Lang == "":
	case slices.Contains(pseudoLangs, c.Lang):
		return invalid("lang", "%q is one of X's labels for text in no language; leave lang empty to "+
			"search every language", c.Lang)
	case languageName(c.Lang) == "":
		return invalid("lang", "%q is not a language X can search (an ISO 639-1 code such as en, es, ja)", clip(c.Lang))
	}
	return nil
}

func checkNumbers(c store.Campaign) *ValidationError {
	for _, n := range []struct {
		field string
		v     int
	}{{"min_likes", c.MinLikes}, {"min_retweets", c.MinRetweets}, {"min_replies", c.MinReplies}} {
		if n.v < 0 {
			return invalid(n.field, "must be 0 or more")
		}
	}
	if c.LookbackHours < 0 || c.LookbackHours > MaxLookbackHours {
		return invalid("lookback_hours", "must be between 0 (the default, %d) and %d", DefaultLookbackHours, MaxLookbackHours)
	}
	if c.Threshold < 0 || c.Threshold > 100 {
		return invalid("threshold", "must be between 0 and 100")
	}
	return nil
}

func checkAdvanced(c store.Campaign) *ValidationError {
	q := c.AdvancedQuery
	switch {
	case utf8.RuneCountInString(q) > MaxAdvancedLen:
		return invalid("advanced_query", "is longer than %d characters", MaxAdvancedLen)
	case badText(q, false) != "":
		return invalid("advanced_query", "%s", badText(q, false))
	case unbalanced(q) != "":
		return invalid("advanced_query", "%s", unbalanced(q))
	}
	return nil
}

func checkContext(c store.Campaign) *ValidationError {
	switch {
	case utf8.RuneCountInString(c.Context) > MaxContextLen:
		return invalid("context", "is longer than %d characters", MaxContextLen)
	case badText(c.Context, true) != "":
		return invalid("context", "%s", badText(c.Context, true))
	}
	return nil
}

// checkSchedule accepts what gocron.CronJob(schedule, false) accepts (robfig/cron's
// ParseStandard: five fields, an optional CRON_TZ= prefix, @every and the @hourly-style
// descriptors) and that fires at most every MinScheduleInterval.
func checkSchedule(c store.Campaign) *ValidationError {
	s := c.Schedule
	if s == "" {
		return nil
	}
	const forms = "a cron expression (minute hour day-of-month month day-of-week), @every <duration>, @hourly or @daily"
	if rest, ok := strings.CutPrefix(s, "@every "); ok {
		d, err := time.ParseDuration(rest)
		if err != nil {
			return invalid("schedule", "%q is not a duration such as 30m or 2h", rest)
		}
		if d < MinScheduleInterval {
			return invalid("schedule", "runs every %s; the shortest interval is %s", d, MinScheduleInterval)
		}
	}
	sched, err := cron.ParseStandard(s)
	if err != nil {
		return invalid("schedule", "must be %s: %v", forms, err)
	}
	if sched.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return invalid("schedule", "never fires")
	}
	if spec, ok := sched.(*cron.SpecSchedule); ok {
		if gap := shortestGap(spec); gap < MinScheduleInterval {
			return invalid("schedule", "fires %s apart; the shortest interval is %s", gap, MinScheduleInterval)
		}
	}
	return nil
}

// shortestGap is the shortest time between two firings of a cron schedule: between
// two minutes of its minute field, or from the last minute of an hour to the first of
// the next when two of its hours follow each other. The second case counts 23 and 0 as
// following each other even when the next day does not fire, which can only refuse
// contrived schedules, never accept a too frequent one.
func shortestGap(s *cron.SpecSchedule) time.Duration {
	var minutes []int
	for m := range 60 {
		if s.Minute&(1<<m) != 0 {
			minutes = append(minutes, m)
		}
	}
	if len(minutes) == 0 {
		return 24 * time.Hour
	}
	gap := 60
	for i := 1; i < len(minutes); i++ {
		gap = min(gap, minutes[i]-minutes[i-1])
	}
	for h := range 24 {
		if s.Hour&(1<<h) != 0 && s.Hour&(1<<((h+1)%24)) != 0 {
			gap = min(gap, 60-minutes[len(minutes)-1]+minutes[0])
			break
		}
	}
	return time.Duration(gap) * time.Minute
}

func checkRoutes(c store.Campaign) *ValidationError {
	seen := make(map[string]bool)
	for _, r := range c.Routes {
		switch {
		case !slices.Contains([]string{"slack", "sheets", "webhook"}, r.Integration):
			return invalid("routes", "integration %q must be slack, sheets or webhook", clip(r.Integration))
		case r.Mode != "instant" && r.Mode != "digest":
			return invalid("routes", "mode %q of %s must be instant or digest", clip(r.Mode), r.Integration)
		case seen[r.Integration]:
			return invalid("routes", "%s appears twice; give each integration one route", r.Integration)
		}
		seen[r.Integration] = true
	}
	return nil
}

// hashtagProblem: X makes a hashtag of letters (with their combining marks, which
// Indic and Thai tags need), digits and underscores, not of digits alone.
func hashtagProblem(h string) string {
	digits := true
	for _, r := range h {
		switch {
		case unicode.IsDigit(r):
		case r == '_' || unicode.IsLetter(r) || unicode.IsMark(r):
			digits = false
		default:
			return fmt.Sprintf("is not a hashtag: %q is not a letter, digit or underscore", r)
		}
	}
	if digits {
		return "is not a hashtag: it has only digits"
	}
	return ""
}

// handleProblem: X handles are 1 to 15 ASCII letters, digits and underscores.
func handleProblem(u string) string {
	if len(u) > 15 {
		return "is not an X username: at most 15 characters"
	}
	for i := 0; i < len(u); i++ {
		b := u[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_') {
			return "is not an X username: only letters, digits and _"
		}
	}
	return ""
}

// badText finds text that is not valid UTF-8 or holds control characters; newlines and
// tabs are allowed where lines make sense.
func badText(s string, lines bool) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		if lines && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return "contains a control character"
		}
		// Format characters (right-to-left override, zero-width space, BOM) make a
		// name display as something else in the UI and the audit log.
		if unicode.Is(unicode.Cf, r) {
			return "contains an invisible formatting character"
		}
	}
	return ""
}

// unbalanced checks the quotes and parentheses of an advanced query, and refuses empty
// groups and phrases, which X's parser may reject. A parenthesis inside a quoted phrase
// is refused as well: it means nothing to X's tokenizer, and it is not certain that X's
// parser skips it when it pairs groups.
func unbalanced(q string) string {
	depth, quoted := 0, false
	empty := false // nothing but spaces since the last '(' or opening quote
	for _, r := range q {
		switch {
		case r == '"' && quoted && empty:
			return "has an empty quoted phrase"
		case r == '"':
			quoted, empty = !quoted, !quoted
		case (r == '(' || r == ')') && quoted:
			return "has a parenthesis inside a quoted phrase"
		case r == '(':
			depth, empty = depth+1, true
		case r == ')' && empty:
			return "has an empty group ()"
		case r == ')':
			if depth--; depth < 0 {
				return "has a ')' without its '('"
			}
		case !unicode.IsSpace(r):
			empty = false
		}
	}
	switch {
	case quoted:
		return "has an unclosed double quote"
	case depth > 0:
		return "has a '(' without its ')'"
	}
	return ""
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// clip shortens what an error message quotes back.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:40]) + "…"
}

// Language is one language a campaign can be restricted to.
type Language struct {
	Code string `json:"code"` // ISO 639-1, as stored in a campaign's lang
	Name string `json:"name"`
}

// languages are the languages X's search can filter on: the union of the menus of X's
// advanced search and of TweetDeck and of the lang: list of X's API documentation, each
// with a two-letter ISO 639-1 code. Left out: chr (Cherokee) and iu (Inuktitut), which
// TweetDeck offered but lang: ignores, ckb, which has no two-letter code, and the
// pseudo-languages of pseudoLangs.
var languages = []Language{
	{"am", "Amharic"}, {"ar", "Arabic"}, {"bg", "Bulgarian"}, {"bn", "Bengali"},
	{"bo", "Tibetan"}, {"bs", "Bosnian"}, {"ca", "Catalan"}, {"cs", "Czech"},
	{"cy", "Welsh"}, {"da", "Danish"}, {"de", "German"}, {"dv", "Maldivian"},
	{"el", "Greek"}, {"en", "English"}, {"es", "Spanish"}, {"et", "Estonian"},
	{"eu", "Basque"}, {"fa", "Persian"}, {"fi", "Finnish"}, {"fr", "French"},
	{"gu", "Gujarati"}, {"he", "Hebrew"}, {"hi", "Hindi"}, {"hr", "Croatian"},
	{"ht", "Haitian Creole"}, {"hu", "Hungarian"}, {"hy", "Armenian"}, {"id", "Indonesian"},
	{"is", "Icelandic"}, {"it", "Italian"}, {"ja", "Japanese"}, {"ka", "Georgian"},
	{"km", "Khmer"}, {"kn", "Kannada"}, {"ko", "Korean"}, {"lo", "Lao"},
	{"lt", "Lithuanian"}, {"lv", "Latvian"}, {"ml", "Malayalam"}, {"mr", "Marathi"},
	{"my", "Burmese"}, {"ne", "Nepali"}, {"nl", "Dutch"}, {"no", "Norwegian"},
	{"or", "Odia"}, {"pa", "Punjabi"}, {"pl", "Polish"}, {"ps", "Pashto"},
	{"pt", "Portuguese"}, {"ro", "Romanian"}, {"ru", "Russian"}, {"sd", "Sindhi"},
	{"si", "Sinhala"}, {"sk", "Slovak"}, {"sl", "Slovenian"}, {"sr", "Serbian"},
	{"sv", "Swedish"}, {"ta", "Tamil"}, {"te", "Telugu"}, {"th", "Thai"},
	{"tl", "Tagalog"}, {"tr", "Turkish"}, {"ug", "Uyghur"}, {"uk", "Ukrainian"},
	{"ur", "Urdu"}, {"vi", "Vietnamese"}, {"zh", "Chinese"},
}

// isoLang maps the codes X itself uses for Hebrew and Indonesian (the withdrawn ISO codes
// iw and in, which its tweets carry and its lang: operator matches) to today's ISO codes;
// Normalize stores the ISO code and xLang maps it back for the query.
var isoLang = map[string]string{"iw": "he", "in": "id"}

// pseudoLangs are X's labels for posts without a language: undetermined, only
// mentions, cashtags, hashtags, media, very short, no text. They are refused: a
// listening campaign restricted to them finds no conversation worth joining, and
// lang empty is how a campaign searches every language.
var pseudoLangs = []string{"und", "qam", "qct", "qht", "qme", "qst", "zxx"}

// Languages lists the languages a campaign's lang accepts, for forms and help texts.
func Languages() []Language {
	return slices.Clone(languages)
}

func languageName(code string) string {
	for _, l := range languages {
		if l.Code == code {
			return l.Name
		}
	}
	return ""
}

// xLang is the code X's lang: operator takes for a stored code.
func xLang(code string) string {
	for x, iso := range isoLang {
		if iso == code {
			return x
		}
	}
	return code
}
