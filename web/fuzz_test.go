package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"nexus/store"
)

// newFuzzServer is a set-up server on a fresh database and an admin token; it takes a
// testing.TB so that a fuzz target builds it once for all its inputs.
func newFuzzServer(tb testing.TB) (*Server, string) {
	tb.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(tb.TempDir(), "nexus.db"),
		store.Options{Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	hash, err := store.HashPassword(testPassword)
	if err != nil {
		tb.Fatal(err)
	}
	org, admin, err := st.Setup(ctx, "F", "admin@f.test", hash)
	if err != nil {
		tb.Fatal(err)
	}
	_, token, err := st.CreateToken(ctx, org.ID, admin.ID, "fuzz", nil)
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := New(Options{Log: zerolog.Nop(), Store: st, BodyLimit: 64 << 10})
	if err != nil {
		tb.Fatal(err)
	}
	return srv, token
}

// FuzzDecodeJSON sends arbitrary bodies to the campaign and login routes through the
// real router: whatever the bytes, the answer is a 2xx or a 4xx with an error body,
// never a 5xx (a panic in a handler would be one) and never a crash.
//
//	go test ./web -run '^$' -fuzz FuzzDecodeJSON -fuzztime 30s
func FuzzDecodeJSON(f *testing.F) {
	seeds := []string{
		`{"name":"Go routers","keywords":["golang","router"],"match":"all","phrases":["http router"],"hashtags":["golang"],` +
			`"mentions":["golang"],"from_users":["rob_pike"],"exclude_words":["job"],"exclude_users":["spam"],"lang":"en",` +
			`"min_likes":1,"min_retweets":0,"min_replies":0,"include_replies":true,"include_retweets":false,"lookback_hours":48,` +
			`"advanced_query":"(echo OR chi) -filter:links","context":"We sell a Go router","threshold":70,` +
			`"schedule":"@every 30m","routes":[{"integration":"slack","mode":"digest"}]}`,
		`{"name":"x","keywords":["a"]}`,
		`{"name":"x","keywords":["a"],"threshold":1e400}`,
		`{"name":"x","keywords":["a"],"min_likes":-9223372036854775809}`,
		`{"name":"x","keywords":"a"}`,
		`{"name":["x"]}`,
		`{"name":"` + hostileSQL + `","keywords":["` + hostileSQL + `"]}`,
		`{"name":"<script>alert(1)</script>","context":"<img src=x onerror=alert(1)>"}`,
		`{"name":"\u0000\u202e\ud800","keywords":["\udfff"]}`,
		"{\"name\":\"\xff\xfe\",\"keywords\":[\"\xc0\xaf\"]}",
		`{"name":"x","schedule":"* * * * *"}`,
		`{"name":"x","schedule":"@every 1ns"}`,
		`{"name":"x","advanced_query":"((((((\"","keywords":["a"]}`,
		`{"name":"x","routes":[{"integration":"slack","mode":"instant"},{"integration":"slack"}]}`,
		`{"name":"x","routes":[null,1,"a",{}]}`,
		`{"email":"admin@f.test","password":"correct horse battery staple"}`,
		`{"email":"admin@f.test","password":"wrong","organization":"F"}`,
		`{"email":"","password":""}`,
		`{"email":null,"password":null}`,
		`{"email":"' OR 1=1 --","password":"' OR 1=1 --"}`,
		`{}`, `[]`, `null`, `""`, `0`, ``, ` `, `{`, `{"`, `{"name"`, `{"name":`, `{}{}`, `{"a":1}`,
		"\xef\xbb\xbf{}",
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		`{"name":{"name":{"name":{"name":{}}}}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	srv, token := newFuzzServer(f)
	targets := []struct{ path, token string }{
		{"/api/v1/campaigns", token},
		{"/api/v1/campaigns/preview", token},
		{"/api/v1/auth/login", ""},
	}
	n := 0
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, target := range targets {
			n++
			req := httptest.NewRequest("POST", target.path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if target.token != "" {
				req.Header.Set("Authorization", "Bearer "+target.token)
			}
			// Each input from its own address: the per-address login limit would
			// otherwise answer 429 before the body is read at all.
			req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1", n>>16&255, n>>8&255, n&255)
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("POST %s %q: %d %s", target.path, body, rec.Code, rec.Body)
			}
			if rec.Code >= 400 {
				var e struct{ Error *Error }
				if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error == nil || e.Error.Code == "" || e.Error.Message == "" {
					t.Fatalf("POST %s %q: %d without an error body: %s", target.path, body, rec.Code, rec.Body)
				}
			}
		}
	})
}
