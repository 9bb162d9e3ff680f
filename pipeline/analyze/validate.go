package analyze

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Limits Validate enforces.
const (
	MaxReplyLength = 280 // X's limit, counted as X counts (see XLength)
	MaxInsights    = 5
	maxIntentRunes = 40
	maxInsightRune = 280
)

// ValidationError lists what is wrong with a model's answer. Ask sends its text back to
// the model in the repair instruction, so each problem is phrased for the model.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string { return strings.Join(e.Problems, "; ") }

// Validate checks a model's answer and normalises it in place. It fixes what is harmless
// and rejects what is not:
//
//   - sentiment is trimmed and lower-cased, and must then be positive, neutral or negative;
//   - intent is lower-cased with spaces and hyphens turned into underscores, and must be
//     non-empty and at most 40 characters;
//   - insights: empty ones are dropped, at most 5 are kept, each clipped to 280 characters;
//   - relevance must be 0–100; an opportunity needs an opportunity_reason;
//   - suggested_replies: 2–3 when opportunity is true, none to 3 otherwise; leading
//     @mentions are stripped (X adds the reply's mentions itself, and a reply that opens
//     by tagging people reads as spam); each must then be non-empty, distinct, at most 280
//     characters as X counts them (XLength), carry at most one hashtag, and not claim a
//     personal identity or role ("as a customer", "I'm the founder of", "on behalf of"):
//     replies are drafted for the team's own account, and such claims are fake
//     testimonials or impersonation.
//
// Validate is for a model's answer. The heuristic provider writes no replies and is not
// held to the 2–3 rule.
func Validate(r *Result) error {
	var p []string
	if r.Relevance < 0 || r.Relevance > 100 {
		p = append(p, fmt.Sprintf("relevance %d is outside 0-100", r.Relevance))
	}
	r.Sentiment = strings.ToLower(strings.TrimSpace(r.Sentiment))
	switch r.Sentiment {
	case Positive, Neutral, Negative:
	default:
		p = append(p, fmt.Sprintf("sentiment %q is not one of positive, neutral, negative", r.Sentiment))
	}
	r.Intent = normalizeIntent(r.Intent)
	if r.Intent == "" {
		p = append(p, "intent is empty")
	} else if utf8.RuneCountInString(r.Intent) > maxIntentRunes {
		p = append(p, fmt.Sprintf("intent %q is longer than %d characters", r.Intent, maxIntentRunes))
	}

	insights := make([]string, 0, len(r.Insights))
	for _, s := range r.Insights {
		if s = strings.TrimSpace(s); s != "" && len(insights) < MaxInsights {
			insights = append(insights, clip(s, maxInsightRune))
		}
	}
	r.Insights = insights

	r.OpportunityReason = strings.TrimSpace(r.OpportunityReason)
	if r.Opportunity && r.OpportunityReason == "" {
		p = append(p, "opportunity is true but opportunity_reason is empty")
	}

	replies := make([]string, 0, len(r.SuggestedReplies))
	for _, s := range r.SuggestedReplies {
		replies = append(replies, strings.TrimSpace(leadingMentions.ReplaceAllString(strings.TrimSpace(s), "")))
	}
	r.SuggestedReplies = replies
	switch n := len(replies); {
	case r.Opportunity && (n < 2 || n > 3):
		p = append(p, fmt.Sprintf("opportunity is true, so suggested_replies needs 2 or 3 replies, not %d", n))
	case !r.Opportunity && n > 3:
		p = append(p, fmt.Sprintf("suggested_replies has %d replies, at most 3 are allowed", n))
	}
	for i, s := range replies {
		p = append(p, replyProblems(i+1, s)...)
		for j := range i {
			if strings.EqualFold(replies[j], s) && s != "" {
				p = append(p, fmt.Sprintf("replies %d and %d are the same", j+1, i+1))
			}
		}
	}
	if len(p) > 0 {
		return &ValidationError{Problems: p}
	}
	return nil
}

func replyProblems(i int, s string) []string {
	var p []string
	if s == "" {
		return []string{fmt.Sprintf("reply %d is empty (leading @mentions are removed)", i)}
	}
	if n := XLength(s); n > MaxReplyLength {
		p = append(p, fmt.Sprintf("reply %d is %d characters, over %d", i, n, MaxReplyLength))
	}
	if n := len(hashtag.FindAllString(s, -1)); n > 1 {
		p = append(p, fmt.Sprintf("reply %d has %d hashtags, at most 1 is allowed", i, n))
	}
	if m := impersonation.FindString(s); m != "" {
		p = append(p, fmt.Sprintf("reply %d claims to be someone (%q); write as the team's own account", i, strings.TrimSpace(m)))
	}
	return p
}

func normalizeIntent(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer(" ", "_", "-", "_").Replace(s)
	for strings.Contains(s, "__") {
		s = strings.ReplaceAll(s, "__", "_")
	}
	return strings.Trim(s, "_")
}

var (
	leadingMentions = regexp.MustCompile(`^(?:@\w+[\s,:]*)+`)
	hashtag         = regexp.MustCompile(`(?:^|[^\p{L}\p{N}_&])#[\p{L}\p{N}_]+`)
	urlPattern      = regexp.MustCompile(`https?://\S+`)

	roles = `(?:customer|user|client|fan|ceo|cto|cfo|coo|founder|co-?founder|owner|employee|engineer|developer|` +
		`doctor|nurse|lawyer|teacher|expert|representative|spokesperson|manager|investor|journalist)`
	impersonation = regexp.MustCompile(`(?i)(?:` +
		`\bas (?:a|an|the|your|their) (?:[\w-]+ ){0,3}` + roles + `\b` +
		`|\bi(?:'m|’m| am) (?:a|an|the|their|your) (?:[\w-]+ ){0,3}` + roles + `\b` +
		`|\bon behalf of\b|\bspeaking for\b` +
		`|\bcomo (?:cliente|usuario|usuária|usuário|fundador|ceo|médico|experto)\b` +
		`|\ben tant que (?:client|cliente|utilisateur|utilisatrice|fondateur|ceo|médecin|expert)\b` +
		`|\bals (?:kunde|kundin|nutzer|nutzerin|gründer|ceo|arzt|experte)\b` +
		`)`)
)

// XLength counts s as X counts a post's length (twitter-text v3, simplified): a link
// counts 23, a character in the Latin, Greek, Cyrillic, Hebrew, Arabic and similar blocks
// (and common punctuation) counts 1, anything else (CJK, emoji) counts 2.
func XLength(s string) int {
	n := 0
	s = urlPattern.ReplaceAllStringFunc(s, func(string) string { n += 23; return "" })
	for _, r := range s {
		switch {
		case r <= 4351, r >= 8192 && r <= 8205, r >= 8208 && r <= 8223, r >= 8242 && r <= 8247:
			n++
		default:
			n += 2
		}
	}
	return n
}

// Parse reads a model's answer into a Result and validates it. It tolerates what models
// wrap around JSON (a ```json fence, a sentence before or after) by taking the first
// complete JSON object in the text (ExtractJSON). Every problem it finds is in the
// returned *ValidationError.
func Parse(text string) (Result, error) {
	obj, ok := ExtractJSON(text)
	if !ok {
		return Result{}, &ValidationError{Problems: []string{"the answer contains no complete JSON object"}}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(obj), &fields); err != nil {
		return Result{}, &ValidationError{Problems: []string{"the answer is not valid JSON: " + err.Error()}}
	}
	var r Result
	var p []string
	decode := func(key string, into any) {
		raw, ok := fields[key]
		if !ok {
			p = append(p, "missing key "+key)
			return
		}
		if err := json.Unmarshal(raw, into); err != nil {
			p = append(p, fmt.Sprintf("%s has the wrong type (%s)", key, bytes.TrimSpace(clipBytes(raw, 60))))
		}
	}
	var relevance float64
	decode("relevance", &relevance)
	if relevance != math.Trunc(relevance) {
		relevance = math.Round(relevance)
	}
	r.Relevance = int(relevance)
	decode("sentiment", &r.Sentiment)
	decode("intent", &r.Intent)
	decode("insights", &r.Insights)
	decode("opportunity", &r.Opportunity)
	decode("opportunity_reason", &r.OpportunityReason)
	decode("suggested_replies", &r.SuggestedReplies)
	if len(p) > 0 {
		return Result{}, &ValidationError{Problems: p}
	}
	if err := Validate(&r); err != nil {
		return Result{}, err
	}
	return r, nil
}

func clipBytes(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	return append(b[:n:n], "…"...)
}

// ExtractJSON returns the first complete, valid JSON object in text: it looks past
// Markdown fences and prose, matches braces outside strings, and skips a balanced
// {...} that does not parse (a placeholder in a sentence) to try the next one.
func ExtractJSON(text string) (string, bool) {
	for start := strings.IndexByte(text, '{'); start >= 0; {
		if end := matchBrace(text, start); end > 0 {
			if cand := text[start : end+1]; json.Valid([]byte(cand)) {
				return cand, true
			}
		}
		next := strings.IndexByte(text[start+1:], '{')
		if next < 0 {
			break
		}
		start += 1 + next
	}
	return "", false
}

// matchBrace returns the index of the '}' that closes the '{' at start, or -1.
func matchBrace(s string, start int) int {
	depth, inString, escaped := 0, false, false
	for i := start; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}
