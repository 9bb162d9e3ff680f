package scraper

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// The synthetic inputs below and the expected keys and ids were computed with a
// transcription of twscrape's xclid.py (v0.20.0), so the Go port is checked number for
// number against the Python it follows.
const refKey = "YAN6K+6Z6cL4ER6lm3Gg0U+eGFpP13auQWKX8ysDvCqJwktZ31ipCntYSPZkzzk7"

var refPaths = [4]string{
	"M 10,30 C165 77 202 24 37 48 187 29 109,19 44 C222 214 35 123 46 217 30 63 114,31 203 C25 113 23 68 148 214 73 60 157,92 52 C96 190 49 32 30 105 254 218 160,238 232 C185 153 127 92 124 41 153 253 175,229 147 C37 60 214 84 175 77 250 215 20,39 160 C174 179 254 233 35 47 138 242 33,31 158 C228 145 197 177 11 236 181 86 59,252 30 C111 147 66 126 203 200 254 41 85,229 205 C142 70 220 142 212 183 194 118 77,42 90 C77 118 119 6 248 93 134 144 2,74 214 C189 163 64 27 233 200 203 204 201,53 246 C205 31 97 34 106 225 83 56 174,26 52 C0 77 51 186 13 36 106 192 76,129 177 C186 242 62 59 249 238 245 247 159,43 73 C52 175 135 245 82 11 105 185 75,13 152",
	"M 10,30 C46 133 187 85 182 114 168 114 99,122 205 C116 102 252 182 14 14 143 241 132,99 176 C228 178 186 41 112 52 116 240 100,172 104 C247 0 245 176 43 61 198 102 244,91 222 C170 44 202 237 205 43 81 87 65,14 77 C238 74 242 179 79 67 10 7 52,71 222 C99 108 14 128 108 149 123 166 132,214 67 C31 181 234 215 66 77 9 225 93,2 76 C88 72 242 61 31 166 247 54 29,127 97 C141 21 50 231 14 32 226 166 102,141 231 C244 126 132 103 229 70 213 62 200,226 161 C37 123 219 37 108 155 62 79 187,73 129 C70 239 112 48 203 249 83 114 82,220 206 C173 215 100 182 163 47 187 9 173,234 225 C9 196 169 151 32 57 117 53 43,135 139 C20 92 138 66 216 132 207 76 253,167 45",
	"M 10,30 C142 29 93 217 37 137 8 45 133,42 113 C34 135 62 232 5 173 213 137 66,22 122 C56 82 134 25 92 103 159 156 105,148 228 C91 138 177 9 128 18 7 9 97,243 125 C228 54 221 253 201 157 110 117 175,101 71 C207 177 27 66 7 36 130 220 83,28 43 C195 144 124 150 23 235 94 80 137,228 1 C134 186 168 165 125 17 158 111 182,93 0 C171 195 42 243 142 102 127 2 46,135 45 C73 204 21 201 11 153 155 119 43,79 199 C166 253 76 145 74 22 219 71 8,117 43 C15 21 68 184 53 192 231 25 9,125 250 C135 1 233 35 47 33 242 129 38,135 120 C105 118 235 252 195 39 245 147 23,101 39 C75 169 130 155 68 6 246 31 248,137 50 C111 250 148 146 237 238 238 60 102,159 43",
	"M 10,30 C242 8 148 234 39 230 137 198 107,107 38 C46 72 134 184 67 143 57 186 118,254 248 C201 12 81 1 251 230 207 154 72,213 176 C192 161 61 169 0 166 173 203 61,100 6 C148 129 190 33 201 199 39 184 219,140 24 C143 52 26 146 76 127 136 223 161,97 191 C219 14 204 104 41 25 210 230 70,146 248 C25 65 87 241 212 175 144 152 130,133 207 C122 154 247 201 61 85 82 38 106,254 112 C231 170 230 218 71 98 124 46 89,175 46 C163 122 188 132 103 10 211 196 211,107 192 C138 173 31 255 142 184 64 110 47,138 127 C196 204 228 221 159 11 65 16 217,242 250 C0 37 200 239 229 127 55 114 79,77 55 C234 43 20 0 64 119 19 155 65,128 223 C57 50 36 153 98 198 133 114 0,5 154",
}

// refPage is a tiny x.com page: the key, the loading animation (each path is the second
// of a first <g>, preceded by a decoy that the selector must skip) and the bundles.
func refPage(scripts ...string) string {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html><head><meta charset="utf-8"/>` +
		`<meta name="twitter-site-verification" content="` + refKey + `"/>`)
	for _, s := range scripts {
		b.WriteString(`<link rel="modulepreload" href="` + s + `"/>`)
	}
	b.WriteString(`</head><body><div>`)
	for i, d := range refPaths {
		fmt.Fprintf(&b, `<svg id="loading-x-anim-%d" width="0" height="0" style="position:absolute">`+
			`<g><path d="M 1,1 C 9 9 9 9" fill="none"/><path d="%s" stroke="#ffffff"/></g>`+
			`<g><path d="M0 0"/><path d="M 2,2 C 8 8 8 8"/></g></svg>`, i, d)
	}
	b.WriteString(`</div><script>window.__SCRIPTS__=["` + strings.Join(scripts, `","`) + `"]</script></body></html>`)
	return b.String()
}

func TestAnimationKeyMatchesReference(t *testing.T) {
	t.Parallel()
	key, err := siteVerificationKey(refPage())
	if err != nil {
		t.Fatal(err)
	}
	frames, err := animationFrames(refPage(), key)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		idx  []int
		want string
	}{
		{[]int{2, 5, 17, 30}, "c1a36e05eb851eb851eb80ee147ae147ae180ee147ae147ae1805eb851eb851eb800"},
		{[]int{4, 11, 20, 33}, "0d4b40f0a3d70a3d70a0547ae147ae147c0547ae147ae147c0f0a3d70a3d70a00"},
		{[]int{12, 22, 35, 44}, "257ad60fae147ae147ae02e147ae147ae1402e147ae147ae140fae147ae147ae00"},
		{[]int{9, 13, 27, 41}, "7466fc100100"}, // frame time 0: the animation's first frame
	}
	for _, tt := range tests {
		got, err := animationKey(key, frames, tt.idx)
		if err != nil || got != tt.want {
			t.Errorf("animationKey(%v) = %q, %v; want %q", tt.idx, got, err, tt.want)
		}
	}
	if _, err := animationKey(key, frames, []int{2, 99}); !errors.Is(err, ErrTxIDParse) {
		t.Errorf("index beyond key: err = %v, want ErrTxIDParse", err)
	}
}

// xServer serves a page at /tesla whose bundles lead, through one import, to the
// signing script, as X's x-web build does.
func xServer(t *testing.T, page func(base string) string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/tesla", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page(srv.URL))
	})
	mux.HandleFunc("/x-web/assets/vendor-a1.js", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `var a=1;export{a};`)
	})
	mux.HandleFunc("/x-web/assets/main-b2.js", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `const s=()=>import("./design.o-zz.js"),t=()=>import("./sign.o-C3d4.js");`)
	})
	mux.HandleFunc("/x-web/assets/sign.o-C3d4.js", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `function f(n,e){return[parseInt(e(n[2],16)),e(n[5], 16),e(n[17],16)*e(n[30],16)]}`)
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// fixedClock and its bytes make ids reproducible.
func refOptions(srv *httptest.Server, now time.Time, mask ...byte) TxIDOptions {
	return TxIDOptions{
		WebBase: srv.URL,
		Fetch:   HTTPFetcher(srv.Client(), http.Header{"Cookie": {"auth_token=a; ct0=b"}}),
		Now:     func() time.Time { return now },
		Rand:    bytes.NewReader(mask),
	}
}

func TestTxIDGenFromPage(t *testing.T) {
	t.Parallel()
	srv := xServer(t, func(base string) string {
		return refPage(base+"/x-web/assets/vendor-a1.js", "/x-web/assets/main-b2.js")
	})
	ctx := context.Background()
	g, err := NewTxIDGen(ctx, refOptions(srv, time.UnixMilli(1786000000250), 0xA7))
	if err != nil {
		t.Fatalf("NewTxIDGen: %v", err)
	}
	if g.Fallback() {
		t.Fatal("Fallback() = true for a generator built from the page")
	}
	got, err := g.ID("get", "/i/api/graphql/BGd0T_j7oVwlW5U79tO_0A/SearchTimeline")
	const want = "p8ek3YxJPk5lX7a5AjzWB3boOb/96HDRCebFMFSMpBuNLmXs/nj/Dq3c/+9Rw2ienLdog6ET/T1nqiFKg2TPEOHlCiuGpA"
	if err != nil || got != want {
		t.Fatalf("ID = %q, %v; want %q", got, err, want)
	}

	g2, err := NewTxIDGen(ctx, refOptions(srv, time.UnixMilli(1786000000999), 0x00))
	if err != nil {
		t.Fatal(err)
	}
	got, err = g2.ID("POST", "/i/api/graphql/559hs_YZNV4IgA3Z6zIIuw/TweetDetail")
	const want2 = "AGADeivumenC+BEepZtxoNFPnhhaT9d2rkFil/MrA7wqicJLWd9YqQp7WEj2ZM85OxDPJAZsYAx2Cr5RDk+ucVsueQYbAw"
	if err != nil || got != want2 {
		t.Fatalf("ID = %q, %v; want %q", got, err, want2)
	}
	if _, err := g2.ID("GET", "/x"); err == nil {
		t.Fatal("ID with the random source exhausted: want an error")
	}
	if _, err := g.ID("GET", "no-slash"); err == nil {
		t.Fatal("ID of a relative path: want an error")
	}
}

func TestTxIDGenJavaScriptRedirect(t *testing.T) {
	t.Parallel()
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("/tesla", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body><script>document.location = "/tesla2?mx=2";</script></body></html>`)
	})
	mux.HandleFunc("/tesla2", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, refPage(srv.URL+"/x-web/assets/sign.o-C3d4.js"))
	})
	mux.HandleFunc("/x-web/assets/sign.o-C3d4.js", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `e(n[2],16);e(n[5],16);e(n[17],16);e(n[30],16)`)
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	g, err := NewTxIDGen(context.Background(), refOptions(srv, time.UnixMilli(1786000000250), 0xA7))
	if err != nil {
		t.Fatalf("NewTxIDGen: %v", err)
	}
	if g.animKey != "c1a36e05eb851eb851eb80ee147ae147ae180ee147ae147ae1805eb851eb851eb800" {
		t.Fatalf("animKey = %q", g.animKey)
	}
}

func TestTxIDGenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		page func(base string) string
		want error // nil: any error that is neither sentinel
	}{
		{"logged-out build", func(base string) string {
			return refPage(base+"/x-web/assets/entry-client-logged-out-Xy12.js", base+"/x-web/assets/main-b2.js")
		}, ErrTxIDLoggedOut},
		{"no key", func(base string) string {
			return strings.Replace(refPage(base+"/x-web/assets/main-b2.js"), "twitter-site-verification", "other", 1)
		}, ErrTxIDParse},
		{"bad key", func(base string) string {
			return strings.Replace(refPage(base+"/x-web/assets/main-b2.js"), refKey, "!!!", 1)
		}, ErrTxIDParse},
		{"no animation", func(base string) string {
			return strings.ReplaceAll(refPage(base+"/x-web/assets/main-b2.js"), "loading-x-anim", "spinner")
		}, ErrTxIDParse},
		{"no signing script", func(base string) string {
			return refPage(base + "/x-web/assets/vendor-a1.js")
		}, ErrTxIDParse},
		{"no scripts", func(string) string { return refPage() }, ErrTxIDParse},
		{"signing script missing", func(base string) string {
			return refPage(base + "/x-web/assets/sign.o-gone.js")
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := xServer(t, tt.page)
			g, err := NewTxIDGen(context.Background(), refOptions(srv, time.Now(), 1))
			if err == nil {
				t.Fatalf("NewTxIDGen = %v, want an error", g)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == nil && (errors.Is(err, ErrTxIDParse) || errors.Is(err, ErrTxIDLoggedOut)) {
				t.Fatalf("err = %v, want a fetch error", err)
			}
		})
	}
	t.Run("page unreachable", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		t.Cleanup(srv.Close)
		_, err := NewTxIDGen(context.Background(), refOptions(srv, time.Now(), 1))
		if err == nil || !strings.Contains(err.Error(), "status 404") {
			t.Fatalf("err = %v, want status 404", err)
		}
	})
}

func TestFallbackTxIDGen(t *testing.T) {
	t.Parallel()
	seed := bytes.Repeat([]byte{0x5a, 0x11, 0xc3}, 40)
	now := time.UnixMilli(1786000000250)
	mk := func() *TxIDGen {
		return NewFallbackTxIDGen(TxIDOptions{Now: func() time.Time { return now }, Rand: bytes.NewReader(seed)})
	}
	a, b := mk(), mk()
	if !a.Fallback() {
		t.Fatal("Fallback() = false")
	}
	ida, err := a.ID("GET", "/i/api/graphql/x/SearchTimeline")
	if err != nil {
		t.Fatal(err)
	}
	idb, _ := b.ID("GET", "/i/api/graphql/x/SearchTimeline")
	if ida != idb {
		t.Fatalf("same clock and randomness gave %q and %q", ida, idb)
	}
	if len(ida) != 94 || strings.ContainsAny(ida, "=") {
		t.Fatalf("id %q: want 94 unpadded base64 characters like X's", ida)
	}
	raw, err := base64.RawStdEncoding.DecodeString(ida)
	if err != nil || len(raw) != 70 {
		t.Fatalf("decoded %d bytes, %v; want 70", len(raw), err)
	}
	if raw[len(raw)-1]^raw[0] != 3 {
		t.Fatalf("last byte unmasked = %d, want 3", raw[len(raw)-1]^raw[0])
	}
	// The clock is encoded little-endian after the 48-byte key.
	ts := uint32(raw[49]^raw[0]) | uint32(raw[50]^raw[0])<<8 | uint32(raw[51]^raw[0])<<16 | uint32(raw[52]^raw[0])<<24
	if ts != 103075600 {
		t.Fatalf("encoded time = %d, want 103075600", ts)
	}
	// With the real randomness, concurrent callers are safe and ids differ by mask.
	g := NewFallbackTxIDGen(TxIDOptions{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if id, err := g.ID("GET", "/i/api/graphql/x/TweetDetail"); err != nil || len(id) != 94 {
				t.Errorf("ID = %q, %v", id, err)
			}
		})
	}
	wg.Wait()
}

func TestSecondPathsOfFirstGroups(t *testing.T) {
	t.Parallel()
	svg := `<svg id="loading-x-anim-0"><g><path d="a"/><path d="b"/><path d="c"/>` +
		`<g><rect/><path d="nested"/></g></g><g><path d="x"/><path d="y"/></g></svg>`
	got := secondPathsOfFirstGroups(svg)
	if strings.Join(got, ",") != "b,nested" {
		t.Fatalf("got %q, want [b nested]", got)
	}
}

func TestTxIDScriptsLegacyBuild(t *testing.T) {
	t.Parallel()
	page := `<script src="https://abs.twimg.com/responsive-web/client-web/main.0b1fe5aa.js"></script>` +
		`<script>e.u=e=>({20:"vendor",81:"ondemand.s",140:"loader.AudioDock"}[e]||e)+"."+{20:"1f2e3d4",81:"a1b2c3d",140:"9e8d7c6",77:"0a0b0c0"}[e]+"a.js"</script>`
	got, err := txIDScripts("https://x.com/tesla", page)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"https://abs.twimg.com/responsive-web/client-web/main.0b1fe5aa.js",
		"https://abs.twimg.com/responsive-web/client-web/vendor.1f2e3d4a.js",
		"https://abs.twimg.com/responsive-web/client-web/ondemand.s.a1b2c3da.js",
		"https://abs.twimg.com/responsive-web/client-web/loader.AudioDock.9e8d7c6a.js",
		"https://abs.twimg.com/responsive-web/client-web/77.0a0b0c0a.js",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestFloatToHexAndRounding(t *testing.T) {
	t.Parallel()
	hex := map[float64]string{0.5: ".8", 1: "1", 0: "", 0.17: ".2B851EB851EB86", 0.99: ".FD70A3D70A3D7",
		0.01: ".028F5C28F5C28F6", 15.5: "F.8", 255: "FF", 300.25: "12C.4"}
	for x, want := range hex {
		if got := animFloatHex(x); got != want {
			t.Errorf("animFloatHex(%v) = %q, want %q", x, got, want)
		}
	}
	// Python's round(x, 2): exact binary value, ties to even.
	rounds := map[float64]float64{2.675: 2.67, 0.125: 0.12, 0.375: 0.38, -0.125: -0.12, 1.005: 1.0}
	for x, want := range rounds {
		if got := pyRound2(x); got != want {
			t.Errorf("pyRound2(%v) = %v, want %v", x, got, want)
		}
	}
}
