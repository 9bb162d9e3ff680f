package scraper

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// Action is what the client and the account pool do with a response.
type Action int

const (
	// ActionOK: use the response; the account stays in use.
	ActionOK Action = iota
	// ActionOKThenLock: use the response (X sent the page that spent the last of the
	// quota), then lock the account on this operation until Verdict.Until.
	ActionOKThenLock
	// ActionLock: rate limited. Lock the account on this operation until Verdict.Until
	// and repeat the request with another account.
	ActionLock
	// ActionCooldown: the account may be burnt, or not (a first bare 403). Rest it on
	// every operation until Verdict.Until and repeat with another account; only a
	// repeat makes it a ban.
	ActionCooldown
	// ActionBan: X says the account is suspended, locked or logged out. Mark it
	// inactive with Verdict.Reason until someone reactivates it, and repeat with another.
	ActionBan
	// ActionAuthFailed: X no longer accepts the session's cookies (HTTP 401, CSRF
	// mismatch). Mark the account inactive until its cookies are replaced or it is
	// reactivated, and repeat with another.
	ActionAuthFailed
	// ActionTransient: X or the network had a hiccup. Retry with the same account after
	// a bounded backoff; when the retries are spent, rest the account on this operation
	// until Verdict.Until and move on to another.
	ActionTransient
	// ActionFeaturesDrift: X wants feature flags the request lacks (error 336). Add
	// Verdict.StaleFeatures and retry; the account is not at fault.
	ActionFeaturesDrift
	// ActionStaleOperation: an empty 404, X's answer to an unknown operation ID or a bad
	// x-client-transaction-id. Rebuild the transaction-id generator, then rediscover the
	// operation IDs (and try the other method); the account is not at fault.
	ActionStaleOperation
	// ActionFailed: this request failed for a reason of its own (the tweet or user does
	// not exist, access to it is denied, the caller cancelled). Return the error; the
	// account is released untouched.
	ActionFailed
)

var actionNames = [...]string{"ok", "ok_then_lock", "lock", "cooldown", "ban", "auth_failed", "transient", "features_drift", "stale_operation", "failed"}

// String returns the action's snake_case name, for logs and stats.
func (a Action) String() string {
	if a >= 0 && int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

// How long accounts rest when X does not say.
const (
	// DefaultLock is the lock of a rate limit without a usable x-rate-limit-reset (a
	// bare 429, error 88 without headers) and of an unexplained 4xx: X's rate windows
	// are 15 minutes.
	DefaultLock = 15 * time.Minute
	// Bare403Cooldown rests an account after its first bare 403. Such 403s are often
	// passing (PR #334 of twscrape), and a ban would need a human to undo it.
	Bare403Cooldown = 15 * time.Minute
	// TransientCooldown rests an account on the operation once the retries of a
	// transient failure are spent (twscrape PR #325: 60 s).
	TransientCooldown = time.Minute
	// MinLock applies when X's reset time is already past by our clock (skew).
	MinLock = time.Minute
	// MaxLock caps a lock from X's reset header, so a bogus reset cannot park an
	// account for good.
	MaxLock = 24 * time.Hour
)

// Verdict is the classification of one response.
type Verdict struct {
	Action Action
	// Until is when the account frees, for ActionOKThenLock, ActionLock, ActionCooldown,
	// and ActionTransient (once its retries are spent; zero for X's server and internal
	// errors, which rest no account); zero otherwise.
	Until time.Time
	// Reason is short text for the account's last_error and for logs: X's own error
	// messages or a fixed phrase, never a cookie, a token or a transport error's text.
	Reason string
	// Codes are the X error codes in the body, in order, without duplicates; an error
	// without a code counts as -1, as twscrape does.
	Codes []int
	// StaleFeatures are the feature flags X named in error 336.
	StaleFeatures []string
	// Remaining is x-rate-limit-remaining, or -1 when X sent none.
	Remaining int
	// Reset is x-rate-limit-reset, or zero when X sent none.
	Reset time.Time
}

// Classify turns the outcome of one GraphQL request into an action: the status, headers
// and body of the response, or the transport error (err != nil) when there is none.
// prior403 is how many bare 403s this account has had since its last success; the pool
// keeps that count. The checks run in twscrape's order (research §1.6), with its known
// gaps fixed (§1.7): the page that spends the quota is kept, error 64 is a ban, a 429
// waits for X's reset when X gives one, a 401 is an auth failure rather than a
// 15-minute lock, a first bare 403 is a cooldown rather than a ban, and X's internal
// errors are retried rather than passed on. It does no I/O.
func Classify(now time.Time, status int, h http.Header, body []byte, err error, prior403 int) Verdict {
	if err != nil {
		return classifyTransportError(now, err)
	}
	v := Verdict{Remaining: -1}
	remaining, reset := rateLimitHeader(h, "x-rate-limit-remaining"), rateLimitHeader(h, "x-rate-limit-reset")
	if remaining >= 0 {
		v.Remaining = int(remaining)
	}
	if reset > 0 {
		v.Reset = time.Unix(reset, 0)
	}

	// 0. An HTML error page is a block in front of X (Cloudflare) or an X outage page:
	// nothing the account did.
	if status >= 400 && strings.Contains(strings.ToLower(h.Get("Content-Type")), "text/html") {
		v.Action, v.Until = ActionTransient, now.Add(TransientCooldown)
		if isCloudflarePage(h, body) {
			v.Reason = fmt.Sprintf("blocked by Cloudflare (HTTP %d)", status)
		} else {
			v.Reason = fmt.Sprintf("HTML error page (HTTP %d)", status)
		}
		return v
	}

	gb, isJSON := decodeGraphQLBody(body)
	v.Codes = gb.codes()
	errText := gb.text()

	// 1. Features drift: the request is wrong, not the account.
	if e, ok := gb.find(func(e classifyError) bool { return e.code == 336 }); ok {
		v.Action = ActionFeaturesDrift
		v.StaleFeatures = staleFeatureNames(e.message)
		v.Reason = "features drift: X requires " + strings.Join(v.StaleFeatures, ", ")
		if len(v.StaleFeatures) == 0 {
			v.Reason = "features drift: " + errText
		}
		v.Reason = clipReason(v.Reason)
		return v
	}

	// 2. Quota spent. twscrape throws this page away and fetches it again with another
	// account; its data is good, so keep it.
	if remaining == 0 && reset > 0 {
		v.Until = resetLockUntil(now, reset)
		v.Reason = "rate limit reached; reset " + v.Until.UTC().Format(time.RFC3339)
		if status < 400 && gb.hasData {
			v.Action = ActionOKThenLock
		} else {
			v.Action = ActionLock
		}
		return v
	}

	// 3. 88 while the headers say quota is left: how X answers read-only (soft-
	// suspended) accounts.
	if gb.has(88) && remaining > 0 {
		v.Action = ActionBan
		v.Reason = clipReason("ban: rate limited with quota left (read-only account): " + errText)
		return v
	}
	// 4. 326: the account is locked until a human unlocks it on x.com.
	if gb.has(326) {
		v.Action = ActionBan
		v.Reason = clipReason("ban: account locked: " + errText)
		return v
	}
	// 5. 32: the session expired or the account is banned.
	if gb.has(32) {
		v.Action = ActionBan
		v.Reason = clipReason("ban: could not authenticate: " + errText)
		return v
	}
	// 5b. 64, and access denied for want of TwitterUserNotSuspended: suspended.
	// twscrape returns these and keeps using the account (its issues #117, #211).
	if gb.has(64) || gb.any(func(e classifyError) bool { return strings.Contains(e.message, "TwitterUserNotSuspended") }) {
		v.Action = ActionBan
		v.Reason = clipReason("ban: account suspended: " + errText)
		return v
	}

	// 6. A bare 403. A ban only when it repeats: transient 403s burnt good accounts.
	if status == http.StatusForbidden && len(gb.errors) == 0 {
		if prior403 > 0 {
			v.Action = ActionBan
			v.Reason = fmt.Sprintf("ban: HTTP 403 without an error, %d times in a row", prior403+1)
			return v
		}
		v.Action, v.Until = ActionCooldown, now.Add(Bare403Cooldown)
		v.Reason = "cooldown: HTTP 403 without an error; a second one bans"
		return v
	}

	// 7. A deleted tweet: the response is still a valid answer.
	if status == http.StatusOK && gb.any(func(e classifyError) bool {
		return strings.Contains(e.message, "_Missing: No status found with that ID")
	}) {
		v.Action = ActionOK
		v.Reason = clipReason("tweet not found: " + errText)
		return v
	}
	// 8. Errors beside data are normal (one unavailable tweet of a page, a flaky
	// dependency): keep the data.
	if len(gb.errors) > 0 && gb.hasData {
		v.Action = ActionOK
		v.Reason = clipReason("partial data: " + errText)
		return v
	}
	// 9. LoadShed: X is shedding load; the same account may retry after a backoff.
	if gb.any(func(e classifyError) bool { return strings.Contains(e.message, "LoadShed") }) {
		v.Action, v.Until = ActionTransient, now.Add(TransientCooldown)
		v.Reason = clipReason("X overloaded: " + errText)
		return v
	}
	// 10. Other errors without data. twscrape passes them through; decide instead.
	if len(gb.errors) > 0 {
		return classifyOtherErrors(now, v, status, reset, gb, errText)
	}

	// 11. No errors, yet a failure status.
	if status >= 400 {
		return classifyBareStatus(now, v, status, reset, body)
	}
	// 12. Success, provided it is the JSON the parser expects.
	if !isJSON {
		v.Action, v.Until = ActionTransient, now.Add(TransientCooldown)
		v.Reason = fmt.Sprintf("HTTP %d with a body that is not JSON", status)
		return v
	}
	v.Action = ActionOK
	return v
}

// classifyOtherErrors handles row 10: errors, no data, none of the codes above.
func classifyOtherErrors(now time.Time, v Verdict, status int, reset int64, gb classifyBody, errText string) Verdict {
	switch {
	case gb.any(isXInternalError):
		// No rest for the account: X's internal errors are often about one tweet, and
		// resting every account that asked for it stalled every other request.
		v.Action = ActionTransient
		v.Reason = clipReason("X internal error: " + errText)
	case gb.has(88):
		// Rate limited, but the headers do not say until when (or that quota is left).
		v.Action, v.Until = ActionLock, resetLockUntil(now, reset)
		v.Reason = clipReason("rate limited: " + errText)
	case status == http.StatusUnauthorized || gb.any(func(e classifyError) bool { return authFailedCodes[e.code] }):
		v.Action = ActionAuthFailed
		v.Reason = clipReason("auth failed: " + errText)
	default:
		v.Action = ActionFailed
		v.Reason = clipReason(fmt.Sprintf("HTTP %d: %s", status, errText))
	}
	return v
}

// authFailedCodes say the session's credentials are wrong rather than the account bad:
// 89 invalid or expired token, 215 bad authentication data, 353 ct0 cookie and
// x-csrf-token header disagree.
var authFailedCodes = map[int]bool{89: true, 215: true, 353: true}

// isXInternalError recognises X failing inside: 131 "Dependency: Internal error",
// 130 "Over capacity", and the "Dependency: Unspecified", "DeadlineExceeded" and
// "Timeout" messages of its GraphQL layer.
func isXInternalError(e classifyError) bool {
	if e.code == 131 || e.code == 130 {
		return true
	}
	for _, s := range []string{"Dependency:", "DeadlineExceeded", "Timeout", "Internal error", "Over capacity"} {
		if strings.Contains(e.message, s) {
			return true
		}
	}
	return false
}

// classifyBareStatus handles row 11: a failure status with no X error in the body.
func classifyBareStatus(now time.Time, v Verdict, status int, reset int64, body []byte) Verdict {
	switch {
	case status == http.StatusUnauthorized:
		v.Action = ActionAuthFailed
		v.Reason = "auth failed: HTTP 401"
	case status == http.StatusNotFound && isEmpty404Body(body):
		v.Action = ActionStaleOperation
		v.Reason = "HTTP 404 with an empty body: stale operation ID or bad x-client-transaction-id"
	case status == http.StatusTooManyRequests:
		v.Action, v.Until = ActionLock, resetLockUntil(now, reset)
		v.Reason = "rate limited: HTTP 429 until " + v.Until.UTC().Format(time.RFC3339)
	case status >= 500:
		v.Action = ActionTransient // as X's internal errors: not the account's doing
		v.Reason = fmt.Sprintf("X server error: HTTP %d", status)
	default:
		// twscrape's "Unhandled API response code": rest the account, try another.
		v.Action, v.Until = ActionLock, now.Add(DefaultLock)
		v.Reason = fmt.Sprintf("unexpected HTTP %d", status)
	}
	return v
}

// classifyTransportError: no response at all. The reason is a fixed phrase, since error
// texts can carry a proxy URL with its password.
func classifyTransportError(now time.Time, err error) Verdict {
	v := Verdict{Remaining: -1, Action: ActionTransient, Until: now.Add(TransientCooldown)}
	var (
		netErr  net.Error
		dnsErr  *net.DNSError
		opErr   *net.OpError
		recErr  tls.RecordHeaderError
		certErr *tls.CertificateVerificationError
		authErr x509.UnknownAuthorityError
		hostErr x509.HostnameError
	)
	switch {
	case errors.Is(err, context.Canceled):
		v = Verdict{Remaining: -1, Action: ActionFailed}
		v.Reason = "request cancelled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		v.Reason = "network: timeout"
	case errors.As(err, &dnsErr):
		v.Reason = "network: DNS lookup failed"
	case errors.As(err, &opErr) && opErr.Op == "proxyconnect":
		v.Reason = "network: proxy connection failed"
	case errors.Is(err, syscall.ECONNREFUSED):
		v.Reason = "network: connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		v.Reason = "network: connection closed"
	case errors.As(err, &recErr), errors.As(err, &certErr), errors.As(err, &authErr), errors.As(err, &hostErr):
		v.Reason = "network: TLS handshake failed"
	default:
		v.Reason = "network: request failed"
	}
	return v
}

// resetLockUntil turns X's reset epoch into a lock end, within [now+MinLock, now+MaxLock];
// with no reset it is now+DefaultLock.
func resetLockUntil(now time.Time, reset int64) time.Time {
	if reset <= 0 {
		return now.Add(DefaultLock)
	}
	t := time.Unix(reset, 0)
	if lo := now.Add(MinLock); t.Before(lo) {
		return lo
	}
	if hi := now.Add(MaxLock); t.After(hi) {
		return hi
	}
	return t
}

// rateLimitHeader reads an integer header, -1 when absent or malformed (twscrape's default).
func rateLimitHeader(h http.Header, name string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(h.Get(name)), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func isCloudflarePage(h http.Header, body []byte) bool {
	if h.Get("Cf-Ray") != "" || h.Get("Cf-Mitigated") != "" || strings.EqualFold(h.Get("Server"), "cloudflare") {
		return true
	}
	head := strings.ToLower(string(body[:min(len(body), 64<<10)]))
	return strings.Contains(head, "cloudflare") || strings.Contains(head, "cf-ray") || strings.Contains(head, "cf-error")
}

func isEmpty404Body(body []byte) bool {
	s := strings.TrimSpace(string(body))
	return s == "" || s == "{}"
}

var staleFeatureNameRe = regexp.MustCompile(`[A-Za-z0-9_]+`)

// staleFeatureNames reads the flag names of "The following features cannot be null: a, b".
func staleFeatureNames(msg string) []string {
	_, list, ok := strings.Cut(msg, ":")
	if !ok {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, name := range staleFeatureNameRe.FindAllString(list, -1) {
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

// clipReason keeps a reason short enough for a table cell, on a rune boundary.
func clipReason(s string) string {
	const maxReason = 300
	if len(s) <= maxReason {
		return s
	}
	cut := maxReason
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// classifyBody is what Classify needs of a body: the errors, and whether data holds
// anything. The parser decodes the rest; this stays private so the two never drift
// into sharing a half-used type.
type classifyBody struct {
	errors  []classifyError
	hasData bool
}

type classifyError struct {
	code    int
	message string
}

// decodeGraphQLBody reads the errors and the presence of data, and reports whether the
// body is a JSON object. It reads no more than it must: on a success page that is the
// first value of data, not the megabyte behind it, which the parser reads anyway (and
// where it reports malformed JSON).
func decodeGraphQLBody(body []byte) (classifyBody, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return classifyBody{}, false
	}
	// JSON escapes the quotes inside strings, so `"errors"` in the text is the key (or
	// a value "errors"): without it there are no errors to look for.
	wantErrors := bytes.Contains(body, []byte(`"errors"`))
	var cb classifyBody
	seenData, seenErrors := false, false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return cb, false
		}
		switch key, _ := tok.(string); {
		case key == "errors" && !seenErrors:
			var raw json.RawMessage
			if dec.Decode(&raw) != nil {
				return cb, false
			}
			cb.errors = decodeClassifyErrors(raw)
			seenErrors = true
		case key == "data" && !seenData && wantErrors && !seenErrors:
			// The errors come after the data: read all of it to reach them.
			var d dataPresenceJSON
			if dec.Decode(&d) != nil {
				return cb, false
			}
			cb.hasData, seenData = bool(d), true
		case key == "data" && !seenData:
			has, err := peekDataHasValue(dec)
			if err != nil {
				return cb, false
			}
			cb.hasData = has
			return cb, true
		default:
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return cb, false
			}
		}
		if seenData && seenErrors {
			return cb, true
		}
	}
	return cb, true
}

// peekDataHasValue reads data up to its first non-null value.
func peekDataHasValue(dec *json.Decoder) (bool, error) {
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return false, err // null, or a shape X does not send
	}
	for dec.More() {
		if _, err := dec.Token(); err != nil { // the key
			return false, err
		}
		v, err := dec.Token()
		if err != nil {
			return false, err
		}
		if v != nil {
			return true, nil
		}
	}
	return false, nil
}

func decodeClassifyErrors(raw json.RawMessage) []classifyError {
	var errs []struct {
		Code       any    `json:"code"`
		Message    string `json:"message"`
		Extensions struct {
			Code any `json:"code"`
		} `json:"extensions"`
	}
	if json.Unmarshal(raw, &errs) != nil {
		return nil
	}
	out := make([]classifyError, 0, len(errs))
	for _, e := range errs {
		code, ok := errorCodeOf(e.Code)
		if !ok {
			code, ok = errorCodeOf(e.Extensions.Code)
		}
		if !ok {
			code = -1
		}
		out = append(out, classifyError{code: code, message: e.Message})
	}
	return out
}

func errorCodeOf(v any) (int, bool) {
	switch c := v.(type) {
	case float64:
		return int(c), true
	case string:
		n, err := strconv.Atoi(c)
		return n, err == nil
	}
	return 0, false
}

// dataPresenceJSON is true when `data` is an object with at least one non-null value; it
// scans data without building it.
type dataPresenceJSON bool

func (d *dataPresenceJSON) UnmarshalJSON(b []byte) error {
	var m map[string]nonNullJSON
	if json.Unmarshal(b, &m) != nil {
		return nil // null, or a shape X does not send: no data
	}
	for _, v := range m {
		if v {
			*d = true
		}
	}
	return nil
}

type nonNullJSON bool

func (n *nonNullJSON) UnmarshalJSON(b []byte) error {
	*n = string(b) != "null"
	return nil
}

func (gb classifyBody) has(code int) bool {
	return gb.any(func(e classifyError) bool { return e.code == code })
}

func (gb classifyBody) any(match func(classifyError) bool) bool {
	_, ok := gb.find(match)
	return ok
}

func (gb classifyBody) find(match func(classifyError) bool) (classifyError, bool) {
	for _, e := range gb.errors {
		if match(e) {
			return e, true
		}
	}
	return classifyError{}, false
}

func (gb classifyBody) codes() []int {
	var out []int
	for _, e := range gb.errors {
		dup := false
		for _, c := range out {
			dup = dup || c == e.code
		}
		if !dup {
			out = append(out, e.code)
		}
	}
	return out
}

// text renders the errors as twscrape logs them, "(code) message; …", without repeats.
func (gb classifyBody) text() string {
	var parts []string
	seen := map[string]bool{}
	for _, e := range gb.errors {
		s := "(" + strconv.Itoa(e.code) + ") " + strings.TrimSpace(e.message)
		if !seen[s] {
			seen[s] = true
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}
