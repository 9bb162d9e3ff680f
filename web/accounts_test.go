package web

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

func TestAccountsAPI(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	admin := env.tokens["adminA"]
	const secret = "SECRETAUTHTOKEN123"
	formats := map[string]string{
		"header": "auth_token=" + secret + "; ct0=csrf1; guest_id=v1",
		"object": `{"auth_token":"` + secret + `","ct0":"csrf2"}`,
		"list":   `[{"name":"auth_token","value":"` + secret + `","domain":".x.com"},{"name":"ct0","value":"csrf3"}]`,
		"base64": base64.StdEncoding.EncodeToString([]byte("auth_token=" + secret + "; ct0=csrf4")),
	}
	for name, cookies := range formats {
		body := fmt.Sprintf(`{"name":%q,"cookies":%q,"proxy":"socks5://u:p@127.0.0.1:9050"}`, name, cookies)
		rec := env.do("POST", "/api/v1/accounts", admin, body)
		if rec.Code != 201 {
			t.Fatalf("%s: %d %s", name, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), secret) || strings.Contains(rec.Body.String(), "u:p@") ||
			!strings.Contains(rec.Body.String(), `"cookies":{"set":true}`) {
			t.Fatalf("%s: response %s", name, rec.Body)
		}
	}
	rec := env.do("GET", "/api/v1/accounts", env.tokens["memberA"], "")
	if rec.Code != 200 || strings.Contains(rec.Body.String(), secret) || strings.Count(rec.Body.String(), `"name"`) != 4 {
		t.Fatalf("list: %d %s", rec.Code, rec.Body)
	}
	if rec := env.do("GET", "/api/v1/accounts", env.tokens["adminB"], ""); strings.Contains(rec.Body.String(), "header") {
		t.Fatalf("B sees A's accounts: %s", rec.Body)
	}
	for _, tt := range []struct{ body, want string }{
		{`{"name":"x","cookies":"ct0=only"}`, "cookies"},
		{`{"name":"x","cookies":"auth_token=` + secret + `"}`, "cookies"},
		{`{"name":"","cookies":"auth_token=a; ct0=b"}`, "name"},
		{`{"name":"x","cookies":"auth_token=a; ct0=b","proxy":"ftp://h"}`, "proxy"},
		{`{"name":"header","cookies":"auth_token=a; ct0=b"}`, "exists"},
	} {
		rec := env.do("POST", "/api/v1/accounts", admin, tt.body)
		if rec.Code/100 != 4 || !strings.Contains(rec.Body.String(), tt.want) || strings.Contains(rec.Body.String(), secret) {
			t.Fatalf("%s: %d %s", tt.body, rec.Code, rec.Body)
		}
	}
	if strings.Contains(env.logs.String(), secret) {
		t.Fatal("a cookie reached the log")
	}
}
