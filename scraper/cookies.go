package scraper

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Cookies is one logged-in X web session: every cookie the user pasted, by name. All of
// them are sent back to X (guest_id, twid, kdt... make the session look like the browser
// it came from), not only auth_token and ct0. A Cookies from ParseCookies always holds a
// non-empty auth_token and ct0.
//
// String and GoString print the names only, so a Cookies that reaches a log line by
// accident does not leak the session.
type Cookies map[string]string

// errNotCookies is returned when the text matches none of the formats. It names the
// formats instead of echoing the input, which may hold a session token.
var errNotCookies = errors.New("cookies: not a cookie header, JSON object, JSON list, Netscape cookies.txt or base64 of one")

// ParseCookies reads cookies in any format people paste: a Cookie header (`a=1; b=2`,
// with or without a leading `Cookie:`), a JSON object of name → value, a JSON list of
// {name, value, ...} objects as browser extensions export them (also wrapped as
// {"cookies": [...]}), a Netscape cookies.txt, or base64 (standard or URL alphabet,
// padded or not) of any of these. It requires non-empty auth_token and ct0. Error
// messages name what was wrong, never a cookie value.
func ParseCookies(s string) (Cookies, error) {
	c, err := parseCookieText(s, true)
	if err != nil {
		return nil, err
	}
	switch {
	case c["auth_token"] == "" && c["ct0"] == "":
		return nil, errors.New("cookies: missing auth_token and ct0")
	case c["auth_token"] == "":
		return nil, errors.New("cookies: missing auth_token")
	case c["ct0"] == "":
		return nil, errors.New("cookies: missing ct0")
	}
	return c, nil
}

// AuthToken returns the session token (the auth_token cookie).
func (c Cookies) AuthToken() string { return c["auth_token"] }

// CSRF returns the ct0 cookie, which X also wants echoed in the x-csrf-token header.
func (c Cookies) CSRF() string { return c["ct0"] }

// Header returns the value of a Cookie request header carrying every cookie, sorted by
// name so that the same session always yields the same header. Values with a space or a
// comma are quoted, as net/http does.
func (c Cookies) Header() string {
	var b strings.Builder
	for i, name := range c.names() {
		if i > 0 {
			b.WriteString("; ")
		}
		v := c[name]
		b.WriteString(name)
		b.WriteByte('=')
		if strings.ContainsAny(v, " ,") {
			b.WriteByte('"')
			b.WriteString(v)
			b.WriteByte('"')
		} else {
			b.WriteString(v)
		}
	}
	return b.String()
}

// UserID returns the numeric X user id of the session, read from the twid cookie
// (`u%3D123`, `u=123`, or either in quotes), or "" when there is none.
func (c Cookies) UserID() string {
	v := strings.Trim(c["twid"], `"`)
	if u, err := url.QueryUnescape(v); err == nil {
		v = u
	}
	v = strings.Trim(v, `"`)
	id, ok := strings.CutPrefix(v, "u=")
	if !ok || id == "" {
		return ""
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return ""
		}
	}
	return id
}

// String lists the cookie names only; see the type's comment.
func (c Cookies) String() string { return "cookies[" + strings.Join(c.names(), " ") + "]" }

// GoString keeps %#v from printing values too.
func (c Cookies) GoString() string { return c.String() }

func (c Cookies) names() []string { return slices.Sorted(maps.Keys(c)) }

// parseCookieText detects the format. JSON and cookies.txt have unmistakable shapes;
// base64 is tried before the header format because a base64 text never contains the
// `=` in the middle that every header has.
func parseCookieText(s string, allowBase64 bool) (Cookies, error) {
	s = strings.TrimSpace(strings.TrimPrefix(s, "\ufeff"))
	switch {
	case s == "":
		return nil, errors.New("cookies: empty")
	case s[0] == '{' || s[0] == '[':
		return parseCookieJSON([]byte(s))
	case isNetscapeCookies(s):
		return parseNetscapeCookies(s)
	}
	if allowBase64 {
		if text, ok := decodeCookieBase64(s); ok {
			// Base64 text has no `=` inside, so it is never also a header: when its
			// content is not cookies, the input as a whole is not either.
			return parseCookieText(text, false)
		}
	}
	return parseCookieHeader(s)
}

func parseCookieHeader(s string) (Cookies, error) {
	if len(s) >= len("cookie:") && strings.EqualFold(s[:len("cookie:")], "cookie:") {
		s = s[len("cookie:"):]
	}
	if !strings.Contains(s, "=") {
		return nil, errNotCookies
	}
	c := Cookies{}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '\n' || r == '\r' })
	for i, part := range parts {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("cookies: part %d of the header is not name=value", i+1)
		}
		if err := c.add(i+1, strings.TrimSpace(name), value, false); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func parseCookieJSON(b []byte) (Cookies, error) {
	if b[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(b, &items); err != nil {
			return nil, fmt.Errorf("cookies: JSON list: %w", err)
		}
		return parseCookieList(items)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("cookies: JSON object: %w", err)
	}
	// Playwright's storage state and some extensions wrap the export as {"cookies": ...}.
	if inner, ok := obj["cookies"]; ok {
		inner = bytes.TrimSpace(inner)
		if len(inner) > 0 && (inner[0] == '[' || inner[0] == '{') {
			return parseCookieJSON(inner)
		}
	}
	c := Cookies{}
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		value, ok, err := cookieJSONScalar(obj[name])
		if err != nil {
			return nil, fmt.Errorf("cookies: JSON object: %s: %w", safeCookieName(name), err)
		}
		if !ok {
			continue
		}
		if err := c.add(0, name, value, false); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// cookieItem is one cookie as EditThisCookie, Cookie-Editor and Playwright export it;
// the other fields (path, expirationDate, httpOnly, ...) do not matter here.
type cookieItem struct {
	Name   *string         `json:"name"`
	Value  json.RawMessage `json:"value"`
	Domain string          `json:"domain"`
}

func parseCookieList(items []json.RawMessage) (Cookies, error) {
	c := Cookies{}
	rank := map[string]int{}
	for i, raw := range items {
		var it cookieItem
		if err := json.Unmarshal(raw, &it); err != nil || it.Name == nil {
			return nil, fmt.Errorf("cookies: JSON list item %d is not a {name, value} object", i+1)
		}
		value, ok, err := cookieJSONScalar(it.Value)
		if err != nil {
			return nil, fmt.Errorf("cookies: JSON list item %d: %w", i+1, err)
		}
		if !ok {
			value = ""
		}
		if err := c.addRanked(rank, i+1, *it.Name, value, it.Domain); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// isNetscapeCookies recognises the cookies.txt of curl and the "Get cookies.txt"
// extensions: a header comment, or tab-separated lines whose second field is a flag.
func isNetscapeCookies(s string) bool {
	if strings.HasPrefix(s, "# Netscape HTTP Cookie File") || strings.HasPrefix(s, "# HTTP Cookie File") {
		return true
	}
	for line := range strings.Lines(s) {
		f := strings.Split(strings.TrimRight(line, "\r\n"), "\t")
		if len(f) >= 6 && (f[1] == "TRUE" || f[1] == "FALSE") {
			return true
		}
	}
	return false
}

func parseNetscapeCookies(s string) (Cookies, error) {
	c := Cookies{}
	rank := map[string]int{}
	n := 0
	for line := range strings.Lines(s) {
		n++
		line = strings.TrimRight(line, "\r\n")
		// curl marks HttpOnly cookies by prefixing the domain; every other # is a comment.
		line = strings.TrimPrefix(line, "#HttpOnly_")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) == 6 {
			f = append(f, "")
		}
		if len(f) != 7 {
			return nil, fmt.Errorf("cookies: cookies.txt line %d does not have 7 tab-separated fields", n)
		}
		if err := c.addRanked(rank, n, f[5], f[6], f[0]); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// addRanked adds a cookie from an export that spans domains. Exports often hold the
// same name twice (for .x.com and .twitter.com); the x.com one is the live session.
func (c Cookies) addRanked(rank map[string]int, pos int, name, value, domain string) error {
	r := cookieDomainRank(domain)
	if old, ok := rank[name]; ok && old >= r {
		return nil
	}
	rank[name] = r
	return c.add(pos, name, value, true)
}

func cookieDomainRank(domain string) int {
	d := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(domain), "."))
	switch {
	case d == "x.com" || strings.HasSuffix(d, ".x.com"):
		return 2
	case d == "":
		return 1
	}
	return 0
}

// add validates one cookie and keeps the first of duplicate names, as servers read a
// Cookie header. pos (1-based, 0 when unknown) locates a bad cookie without quoting it.
func (c Cookies) add(pos int, name, value string, replace bool) error {
	if !validCookieName(name) {
		if pos > 0 {
			return fmt.Errorf("cookies: cookie %d has an empty or invalid name", pos)
		}
		return errors.New("cookies: a cookie has an empty or invalid name")
	}
	value = strings.TrimSpace(value)
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	if !validCookieValue(value) {
		return fmt.Errorf("cookies: value of %q has characters a Cookie header cannot carry", name)
	}
	if _, dup := c[name]; dup && !replace {
		return nil
	}
	c[name] = value
	return nil
}

// validCookieName accepts an RFC 7230 token, the grammar of a cookie name.
func validCookieName(name string) bool {
	if name == "" || len(name) > 256 {
		return false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0:
		default:
			return false
		}
	}
	return true
}

// validCookieValue allows printable ASCII except the characters that would end or
// corrupt the header; space and comma are allowed because Header quotes them.
func validCookieValue(v string) bool {
	for i := 0; i < len(v); i++ {
		b := v[i]
		if b < 0x20 || b > 0x7e || b == '"' || b == ';' || b == '\\' {
			return false
		}
	}
	return true
}

// cookieJSONScalar turns a JSON value into cookie text. Exports hold strings, but hand-made
// JSON has numbers and booleans too (twscrape coerces them to text as well); null means
// "no value".
func cookieJSONScalar(raw json.RawMessage) (string, bool, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false, errors.New("bad string")
		}
		return s, true, nil
	case '{', '[':
		return "", false, errors.New("value is not a string")
	}
	return string(raw), true, nil // number, true or false: json.Unmarshal already validated it
}

// safeCookieName quotes a JSON key in an error only when it is a plausible cookie name; an
// invalid "name" may be a token pasted in the wrong place.
func safeCookieName(name string) string {
	if validCookieName(name) && len(name) <= 64 {
		return fmt.Sprintf("%q", name)
	}
	return "a key"
}

// decodeCookieBase64 decodes text that consists only of base64 characters (line breaks
// allowed, as when a long export is wrapped) into printable text.
func decodeCookieBase64(s string) (string, bool) {
	s = strings.Join(strings.Fields(s), "")
	body := strings.TrimRight(s, "=")
	if len(body) < 8 || len(s)-len(body) > 2 {
		return "", false
	}
	urlAlphabet := false
	for i := 0; i < len(body); i++ {
		b := body[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '+', b == '/':
		case b == '-' || b == '_':
			urlAlphabet = true
		default:
			return "", false
		}
	}
	enc := base64.RawStdEncoding
	if urlAlphabet {
		enc = base64.RawURLEncoding
	}
	out, err := enc.DecodeString(body)
	if err != nil || !utf8.Valid(out) {
		return "", false
	}
	return string(out), true
}
