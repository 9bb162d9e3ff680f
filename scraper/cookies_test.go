package scraper

import (
	"encoding/base64"
	"fmt"
	"maps"
	"strings"
	"testing"
)

// The secrets of the test session; errors must never contain them.
const (
	testAuth = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
	testCT0  = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6978"
)

func TestParseCookies(t *testing.T) {
	t.Parallel()
	header := "auth_token=" + testAuth + "; ct0=" + testCT0 + "; twid=u%3D1234567890; guest_id=v1%3A170000000000000000"
	jsonObj := `{"auth_token":"` + testAuth + `","ct0":"` + testCT0 + `","twid":"u%3D1234567890","guest_id":"v1%3A170000000000000000"}`
	// An EditThisCookie / Cookie-Editor export: extra fields, and the same names for
	// .twitter.com, which must not win over .x.com.
	jsonList := `[
	 {"domain":".twitter.com","expirationDate":1790000000.5,"hostOnly":false,"httpOnly":true,"name":"auth_token","path":"/","sameSite":"no_restriction","secure":true,"session":false,"storeId":"0","value":"stale","id":1},
	 {"domain":".x.com","expirationDate":1790000000.5,"hostOnly":false,"httpOnly":true,"name":"auth_token","path":"/","sameSite":"no_restriction","secure":true,"session":false,"storeId":"0","value":"` + testAuth + `","id":2},
	 {"domain":".x.com","name":"ct0","value":"` + testCT0 + `","path":"/","secure":true},
	 {"domain":".x.com","name":"twid","value":"u%3D1234567890"},
	 {"domain":".x.com","name":"guest_id","value":"v1%3A170000000000000000"}]`
	want := Cookies{"auth_token": testAuth, "ct0": testCT0, "twid": "u%3D1234567890", "guest_id": "v1%3A170000000000000000"}
	netscape := "# Netscape HTTP Cookie File\n# https://curl.se/docs/http-cookies.html\n\n" +
		"#HttpOnly_.x.com\tTRUE\t/\tTRUE\t1790000000\tauth_token\t" + testAuth + "\n" +
		".x.com\tTRUE\t/\tTRUE\t1790000000\tct0\t" + testCT0 + "\n" +
		".x.com\tTRUE\t/\tTRUE\t1790000000\ttwid\tu%3D1234567890\n" +
		".x.com\tTRUE\t/\tFALSE\t1790000000\tguest_id\tv1%3A170000000000000000\n"
	minimal := Cookies{"auth_token": testAuth, "ct0": testCT0}

	tests := []struct {
		name string
		in   string
		want Cookies
	}{
		{"header", header, want},
		{"header with Cookie: prefix and newlines", "\n  Cookie: " + header + ";\n", want},
		{"header lower-case prefix, no spaces", "cookie:auth_token=" + testAuth + ";ct0=" + testCT0, minimal},
		{"header one per line", "auth_token=" + testAuth + "\nct0=" + testCT0 + "\r\n", minimal},
		{"header value with =", "auth_token=" + testAuth + "; ct0=" + testCT0 + "; kdt=abc==", Cookies{"auth_token": testAuth, "ct0": testCT0, "kdt": "abc=="}},
		{"header quoted values", `auth_token="` + testAuth + `"; ct0=` + testCT0 + `; twid="u=1234567890"`, Cookies{"auth_token": testAuth, "ct0": testCT0, "twid": "u=1234567890"}},
		{"header duplicate keeps first", "auth_token=" + testAuth + "; ct0=" + testCT0 + "; auth_token=other", minimal},
		{"header with BOM", "\ufeffauth_token=" + testAuth + "; ct0=" + testCT0, minimal},
		{"json object", jsonObj, want},
		{"json object scalars", `{"auth_token":"` + testAuth + `","ct0":"` + testCT0 + `","n":5,"b":true,"x":null}`, Cookies{"auth_token": testAuth, "ct0": testCT0, "n": "5", "b": "true"}},
		{"json list", jsonList, want},
		{"json list wrapped", `{"url":"https://x.com","cookies":` + jsonList + `}`, want},
		{"json object wrapped", `{"cookies":` + jsonObj + `}`, want},
		{"json list .x.com first then .twitter.com", `[{"domain":".x.com","name":"auth_token","value":"` + testAuth + `"},{"domain":"twitter.com","name":"auth_token","value":"old"},{"name":"ct0","value":"` + testCT0 + `"}]`, minimal},
		{"netscape", netscape, want},
		{"netscape without header", ".x.com\tTRUE\t/\tTRUE\t0\tauth_token\t" + testAuth + "\n.x.com\tTRUE\t/\tTRUE\t0\tct0\t" + testCT0 + "\n", minimal},
		{"base64 std header", base64.StdEncoding.EncodeToString([]byte(header)), want},
		{"base64 raw std header", base64.RawStdEncoding.EncodeToString([]byte(header + "x")), Cookies{"auth_token": testAuth, "ct0": testCT0, "twid": "u%3D1234567890", "guest_id": "v1%3A170000000000000000x"}},
		{"base64 url json object", base64.URLEncoding.EncodeToString([]byte(jsonObj)), want},
		{"base64 raw url json list", base64.RawURLEncoding.EncodeToString([]byte(jsonList)), want},
		{"base64 wrapped over lines", wrap(base64.StdEncoding.EncodeToString([]byte(jsonObj)), 76), want},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseCookies(tt.in)
			if err != nil {
				t.Fatalf("ParseCookies: %v", err)
			}
			if !maps.Equal(got, tt.want) {
				t.Fatalf("got %v = %q, want %q", got, map[string]string(got), map[string]string(tt.want))
			}
			if got.AuthToken() != testAuth || got.CSRF() != testCT0 {
				t.Fatalf("AuthToken/CSRF = %q/%q", got.AuthToken(), got.CSRF())
			}
		})
	}
}

func TestParseCookiesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"empty", " \n\t", "cookies: empty"},
		{"garbage", "hello world " + testAuth, "cookies: not a cookie header, JSON object, JSON list, Netscape cookies.txt or base64 of one"},
		{"base64 of garbage", base64.StdEncoding.EncodeToString([]byte("just some text " + testAuth)), "cookies: not a cookie header"},
		{"missing ct0", "auth_token=" + testAuth, "cookies: missing ct0"},
		{"empty ct0", "auth_token=" + testAuth + "; ct0=", "cookies: missing ct0"},
		{"missing auth_token", `{"ct0":"` + testCT0 + `"}`, "cookies: missing auth_token"},
		{"missing both", "guest_id=" + testAuth, "cookies: missing auth_token and ct0"},
		{"header part without =", "auth_token=" + testAuth + "; " + testCT0, "cookies: part 2 of the header is not name=value"},
		{"header bad name", "auth_token=" + testAuth + "; c t0=" + testCT0, "cookies: cookie 2 has an empty or invalid name"},
		{"header bad value", "auth_token=" + testAuth + "; ct0=a\"" + testCT0, `cookies: value of "ct0" has characters`},
		{"json broken", `{"auth_token":"` + testAuth, "cookies: JSON object: unexpected end of JSON input"},
		{"json nested value", `{"auth_token":{"v":"` + testAuth + `"},"ct0":"` + testCT0 + `"}`, `cookies: JSON object: "auth_token": value is not a string`},
		{"json non-ascii value", `{"auth_token":"` + testAuth + `é","ct0":"` + testCT0 + `"}`, `cookies: value of "auth_token" has characters`},
		{"json list item without name", `[{"value":"` + testAuth + `"}]`, "cookies: JSON list item 1 is not a {name, value} object"},
		{"json list of strings", `["` + testAuth + `"]`, "cookies: JSON list item 1 is not a {name, value} object"},
		{"json list value object", `[{"name":"auth_token","value":["` + testAuth + `"]}]`, "cookies: JSON list item 1: value is not a string"},
		{"netscape short line", "# Netscape HTTP Cookie File\n.x.com\tTRUE\t/\t" + testAuth + "\n", "cookies: cookies.txt line 2 does not have 7 tab-separated fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseCookies(tt.in)
			if err == nil {
				t.Fatalf("ParseCookies = %v, want error %q", c, tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error %q, want prefix %q", err, tt.want)
			}
			if strings.Contains(err.Error(), testAuth) || strings.Contains(err.Error(), testCT0[:20]) {
				t.Fatalf("error leaks a cookie value: %q", err)
			}
		})
	}
}

func TestCookiesHeader(t *testing.T) {
	t.Parallel()
	c := Cookies{"ct0": "b", "auth_token": "a", "lang": "en", "spaced": "x y,z"}
	const want = `auth_token=a; ct0=b; lang=en; spaced="x y,z"`
	if got := c.Header(); got != want {
		t.Fatalf("Header = %q, want %q", got, want)
	}
	back, err := ParseCookies(want)
	if err != nil || !maps.Equal(back, c) {
		t.Fatalf("round trip = %v, %v", back, err)
	}
}

func TestCookiesUserID(t *testing.T) {
	t.Parallel()
	tests := []struct{ twid, want string }{
		{"u%3D1234567890", "1234567890"},
		{`"u=1234567890"`, "1234567890"},
		{"u=42", "42"},
		{`"u%3D42"`, "42"},
		{"", ""},
		{"u%3D", ""},
		{"u%3D12a", ""},
		{"x=12", ""},
	}
	for _, tt := range tests {
		c := Cookies{"auth_token": "a", "ct0": "b"}
		if tt.twid != "" {
			c["twid"] = tt.twid
		}
		if got := c.UserID(); got != tt.want {
			t.Errorf("UserID(twid=%q) = %q, want %q", tt.twid, got, tt.want)
		}
	}
}

func TestCookiesStringHidesValues(t *testing.T) {
	t.Parallel()
	c := Cookies{"auth_token": testAuth, "ct0": testCT0}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %s %#v %+v", c, c, c, c)} {
		if strings.Contains(s, testAuth) || strings.Contains(s, testCT0) {
			t.Fatalf("formatted cookies leak values: %s", s)
		}
	}
	if got := c.String(); got != "cookies[auth_token ct0]" {
		t.Fatalf("String = %q", got)
	}
}

func FuzzParseCookies(f *testing.F) {
	for _, s := range []string{
		"auth_token=a; ct0=b",
		"Cookie: auth_token=a; ct0=b; twid=u%3D1",
		`auth_token="a"; ct0=b=c`,
		`{"auth_token":"a","ct0":"b"}`,
		`{"cookies":[{"name":"auth_token","value":"a"},{"name":"ct0","value":"b"}]}`,
		`[{"domain":".x.com","name":"auth_token","value":"a"},{"name":"ct0","value":1}]`,
		"# Netscape HTTP Cookie File\n.x.com\tTRUE\t/\tTRUE\t0\tauth_token\ta\n.x.com\tTRUE\t/\tTRUE\t0\tct0\tb\n",
		base64.StdEncoding.EncodeToString([]byte("auth_token=a; ct0=b")),
		base64.RawURLEncoding.EncodeToString([]byte(`{"auth_token":"a","ct0":"b"}`)),
		"", "=", ";;", "[", "{", "[null]", `{"cookies":null}`, "abcdefgh==",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCookies(s)
		if err != nil {
			return
		}
		if c.AuthToken() == "" || c.CSRF() == "" {
			t.Fatalf("ParseCookies(%q) succeeded without auth_token or ct0: %q", s, map[string]string(c))
		}
		_ = c.UserID()
		// Whatever was accepted must survive the trip through the header X receives.
		back, err := ParseCookies(c.Header())
		if err != nil {
			t.Fatalf("ParseCookies(Header()) of %q: %v", s, err)
		}
		if !maps.Equal(back, c) {
			t.Fatalf("round trip of %q: %q != %q", s, map[string]string(back), map[string]string(c))
		}
	})
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n])
		b.WriteString("\n")
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}
