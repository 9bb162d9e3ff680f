package scraper

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The x-client-transaction-id algorithm below was worked out by obfio (antibot.blog) and
// iSarabjitDhiman/XClientTransaction (MIT) and is used by twscrape (MIT); this is a Go
// rendering of twscrape's xclid.py as of v0.20.0. Without a valid id X answers GraphQL
// requests with an empty 404.

var (
	// ErrTxIDLoggedOut means X served the logged-out web build to the account's cookies,
	// so the session is dead or was never logged in. twscrape locks the account 15 min
	// on the queue and rotates.
	ErrTxIDLoggedOut = errors.New("web session is logged out")
	// ErrTxIDParse means X's page or bundle no longer has the shape the algorithm reads:
	// X changed its build. No account is at fault; use a fallback generator.
	ErrTxIDParse = errors.New("transaction id inputs not found")
)

// FetchFunc fetches one web page or script and returns its body. The transaction-id
// generator and DiscoverOperations take one so that the caller decides cookies, proxy
// and user agent, and tests can serve pages from httptest.
type FetchFunc func(ctx context.Context, rawURL string) ([]byte, error)

// maxFetchBody bounds a fetched page or script; X's largest bundles are a few MB.
const maxFetchBody = 32 << 20

// HTTPFetcher returns a FetchFunc that GETs with hc (http.DefaultClient when nil),
// adding header to each request: pass the account's Cookie and user-agent, because X
// serves the script the generator needs to logged-in sessions only.
func HTTPFetcher(hc *http.Client, header http.Header) FetchFunc {
	if hc == nil {
		hc = http.DefaultClient
	}
	return func(ctx context.Context, rawURL string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return nil, fmt.Errorf("scraper: get %s: %w", rawURL, err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("scraper: get: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return nil, fmt.Errorf("scraper: get %s: status %d", rawURL, resp.StatusCode)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxFetchBody+1))
		if err != nil {
			return nil, fmt.Errorf("scraper: get %s: %w", rawURL, err)
		}
		if len(b) > maxFetchBody {
			return nil, fmt.Errorf("scraper: get %s: body over %d bytes", rawURL, maxFetchBody)
		}
		return b, nil
	}
}

var jsLocationRe = regexp.MustCompile(`document\.location\s*=\s*"([^"]+)"`)

// fetchWebPage fetches a page of x.com, following the one JavaScript redirect X serves
// to sessions it wants to move between domains. (twscrape also posts X's migrate form
// when one follows; with cookies scoped to x.com that page does not appear, so it is
// not done here, and a page without the inputs fails later as ErrTxIDParse.)
func fetchWebPage(ctx context.Context, fetch FetchFunc, pageURL string) (string, error) {
	b, err := fetch(ctx, pageURL)
	if err != nil {
		return "", err
	}
	page := string(b)
	if m := jsLocationRe.FindStringSubmatch(page); m != nil && strings.Contains(page, ">document.location =") {
		next, err := url.Parse(pageURL)
		if err == nil {
			next, err = next.Parse(m[1])
		}
		if err != nil {
			return "", fmt.Errorf("scraper: %s redirects to a bad URL: %w", pageURL, err)
		}
		if b, err = fetch(ctx, next.String()); err != nil {
			return "", err
		}
		page = string(b)
	}
	return page, nil
}

// TxIDOptions configures a transaction-id generator.
type TxIDOptions struct {
	WebBase string           // https://x.com when empty
	Page    string           // page that carries the inputs; "/tesla" (as twscrape) when empty
	Fetch   FetchFunc        // required by NewTxIDGen; carries the account's cookies
	Now     func() time.Time // time.Now when nil; the id encodes the second it was made
	Rand    io.Reader        // crypto/rand.Reader when nil; one byte per id masks it
}

// TxIDGen makes x-client-transaction-id values. It is built once per account from X's
// web page (the account's page differs from the logged-out one) and is safe for
// concurrent use. When config says `x.transaction_id = "off"`, the caller builds none
// and sends no header.
//
// A fallback generator (NewFallbackTxIDGen, for when the inputs cannot be had: no
// network, X changed its build) makes ids of the same length and structure from a
// random key. X cannot tell them apart by shape, but it knows its key, so where it
// checks the header it answers them with an empty 404 (classified StaleOperation); the
// caller should then build a real generator again.
type TxIDGen struct {
	key      []byte // decoded twitter-site-verification
	animKey  string // derived from the loading animation; see animationKey
	fallback bool
	now      func() time.Time

	mu   sync.Mutex // guards rand, which need not be safe for concurrent use
	rand io.Reader
}

// NewTxIDGen fetches o.WebBase+o.Page and the signing script it leads to, and derives
// the key material. Errors wrap ErrTxIDLoggedOut, ErrTxIDParse, or the fetch error.
func NewTxIDGen(ctx context.Context, o TxIDOptions) (*TxIDGen, error) {
	if o.Fetch == nil {
		return nil, errors.New("scraper: transaction id: no fetch function")
	}
	base := strings.TrimRight(o.WebBase, "/")
	if base == "" {
		base = "https://x.com"
	}
	page := o.Page
	if page == "" {
		page = "/tesla"
	}
	pageURL := base + page
	html, err := fetchWebPage(ctx, o.Fetch, pageURL)
	if err != nil {
		return nil, fmt.Errorf("scraper: transaction id: %w", err)
	}
	scripts, err := txIDScripts(pageURL, html)
	if err != nil {
		return nil, fmt.Errorf("scraper: transaction id: %w", err)
	}
	key, err := siteVerificationKey(html)
	if err != nil {
		return nil, fmt.Errorf("scraper: transaction id: %w", err)
	}
	frames, err := animationFrames(html, key)
	if err != nil {
		return nil, fmt.Errorf("scraper: transaction id: %w", err)
	}
	idx, err := animationIndices(ctx, o.Fetch, scripts)
	if err != nil {
		return nil, fmt.Errorf("scraper: transaction id: %w", err)
	}
	animKey, err := animationKey(key, frames, idx)
	if err != nil {
		return nil, fmt.Errorf("scraper: transaction id: %w", err)
	}
	return newTxIDGen(key, animKey, false, o), nil
}

// NewFallbackTxIDGen returns a generator of well-formed ids from a random 48-byte key
// (the size of X's) and a random animation key; see TxIDGen for what that buys.
func NewFallbackTxIDGen(o TxIDOptions) *TxIDGen {
	r := o.Rand
	if r == nil {
		r = rand.Reader
	}
	secret := make([]byte, 48+8)
	if _, err := io.ReadFull(r, secret); err != nil {
		// Only an injected reader can fail; a fixed key is still well-formed.
		clear(secret)
	}
	return newTxIDGen(secret[:48], fmt.Sprintf("%x", secret[48:]), true, o)
}

func newTxIDGen(key []byte, animKey string, fallback bool, o TxIDOptions) *TxIDGen {
	g := &TxIDGen{key: key, animKey: animKey, fallback: fallback, now: o.Now, rand: o.Rand}
	if g.now == nil {
		g.now = time.Now
	}
	if g.rand == nil {
		g.rand = rand.Reader
	}
	return g
}

// Fallback reports whether g makes ids from a random key rather than X's.
func (g *TxIDGen) Fallback() bool { return g.fallback }

// txIDEpoch is the origin of the id's clock (2023-05-01 07:00 UTC), in milliseconds.
const txIDEpoch = 1682924400000

// ID returns the x-client-transaction-id of one request: method (any case) and the URL
// path without the query, e.g. "/i/api/graphql/<id>/SearchTimeline".
func (g *TxIDGen) ID(method, path string) (string, error) {
	if method == "" || !strings.HasPrefix(path, "/") {
		return "", fmt.Errorf("scraper: transaction id for %q %q: need a method and an absolute path", method, path)
	}
	// Python's floor division: the clock can sit before the epoch in tests.
	ms := g.now().UnixMilli() - txIDEpoch
	ts := ms / 1000
	if ms < 0 && ms%1000 != 0 {
		ts--
	}
	sum := sha256.Sum256([]byte(strings.ToUpper(method) + "!" + path + "!" + strconv.FormatInt(ts, 10) + "obfiowerehiring" + g.animKey))

	var mask [1]byte
	g.mu.Lock()
	_, err := io.ReadFull(g.rand, mask[:])
	g.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("scraper: transaction id: random byte: %w", err)
	}

	out := make([]byte, 0, 1+len(g.key)+4+16+1)
	out = append(out, mask[0])
	out = append(out, g.key...)
	out = append(out, byte(ts), byte(ts>>8), byte(ts>>16), byte(ts>>24))
	out = append(out, sum[:16]...)
	out = append(out, 3) // a constant of X's script
	for i := 1; i < len(out); i++ {
		out[i] ^= mask[0]
	}
	return base64.RawStdEncoding.EncodeToString(out), nil
}

var (
	// The current x-web (Vite) build links its bundles from the page; the logged-out
	// entry among them means the cookies did not log in.
	xWebAssetRe     = regexp.MustCompile(`https?://[\w.:-]+/x-web/[\w./-]+\.js`)
	loggedOutRe     = regexp.MustCompile(`(?:^|/)entry-client-logged-out(?:[-.][^/?#]+)?\.js(?:[?#].*)?$`)
	chunkHashRe     = regexp.MustCompile(`(\d+):"([0-9a-f]{7})"`)
	chunkNameRe     = regexp.MustCompile(`(\d+):"([^"]+)"`)
	sevenHexRe      = regexp.MustCompile(`^[0-9a-f]{7}$`)
	indicesRefRe    = regexp.MustCompile(`(?:\.{0,2}/)?[\w./-]*?\b(?:ondemand\.s|sign\.o)[\w.-]*\.js`)
	indicesRe       = regexp.MustCompile(`(?:\(\w\[(\d{1,2})\],\s*16\))+`)
	htmlMetaRe      = regexp.MustCompile(`(?is)<meta\b[^>]*>`)
	htmlAttrRe      = regexp.MustCompile(`(?is)([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')`)
	animSVGRe       = regexp.MustCompile(`(?is)<svg\b[^>]*\bid\s*=\s*["']loading-x-anim[^>]*>.*?</svg>`)
	animNonDigitsRe = regexp.MustCompile(`\D+`)
)

// txIDScripts lists the scripts that may hold or import the signing script. The legacy
// webpack build names its chunks in two maps instead of linking them.
func txIDScripts(pageURL, html string) ([]string, error) {
	scripts := pageScripts(pageURL, html)
	for _, u := range scripts {
		if loggedOutRe.MatchString(u) {
			return nil, fmt.Errorf("%w (X served the logged-out web app)", ErrTxIDLoggedOut)
		}
	}
	if xWebAssetRe.MatchString(html) {
		return scripts, nil
	}
	hashes := chunkHashRe.FindAllStringSubmatch(html, -1)
	names := map[string]string{}
	for _, m := range chunkNameRe.FindAllStringSubmatch(html, -1) {
		if !sevenHexRe.MatchString(m[2]) {
			names[m[1]] = m[2]
		}
	}
	for _, m := range hashes {
		name := names[m[1]]
		if name == "" {
			name = m[1]
		}
		scripts = append(scripts, "https://abs.twimg.com/responsive-web/client-web/"+name+"."+m[2]+"a.js")
	}
	if len(scripts) == 0 {
		return nil, fmt.Errorf("%w: no web scripts in the page", ErrTxIDParse)
	}
	return scripts, nil
}

// siteVerificationKey reads the key bytes X puts in
// <meta name="twitter-site-verification" content="base64">.
func siteVerificationKey(html string) ([]byte, error) {
	for _, tag := range htmlMetaRe.FindAllString(html, -1) {
		attrs := htmlTagAttrs(tag)
		if attrs["name"] != "twitter-site-verification" || attrs["content"] == "" {
			continue
		}
		key, err := base64.StdEncoding.DecodeString(attrs["content"])
		if err != nil || len(key) < 6 {
			return nil, fmt.Errorf("%w: bad twitter-site-verification key", ErrTxIDParse)
		}
		return key, nil
	}
	return nil, fmt.Errorf("%w: no twitter-site-verification key", ErrTxIDParse)
}

func htmlTagAttrs(tag string) map[string]string {
	attrs := map[string]string{}
	for _, m := range htmlAttrRe.FindAllStringSubmatch(tag, -1) {
		attrs[strings.ToLower(m[1])] = m[2] + m[3]
	}
	return attrs
}

// animationFrames reads the loading animation X draws while its app starts: the `d` of
// every path matching `svg[id^='loading-x-anim'] g:first-child path:nth-child(2)`, the
// one picked by key[5], cut after its 9-character "M x,y C" head into rows at each "C",
// each row the integers in it (signs and decimal points dropped, as X's script does).
func animationFrames(html string, key []byte) ([][]float64, error) {
	var paths []string
	for _, svg := range animSVGRe.FindAllString(html, -1) {
		paths = append(paths, secondPathsOfFirstGroups(svg)...)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w: no loading animation in the page", ErrTxIDParse)
	}
	d := paths[int(key[5])%len(paths)]
	if len(d) < 9 {
		return nil, fmt.Errorf("%w: animation path too short", ErrTxIDParse)
	}
	var rows [][]float64
	for _, part := range strings.Split(d[9:], "C") {
		var row []float64
		for _, f := range strings.Fields(animNonDigitsRe.ReplaceAllString(part, " ")) {
			n, err := strconv.ParseFloat(f, 64)
			if err != nil {
				return nil, fmt.Errorf("%w: bad animation number", ErrTxIDParse)
			}
			row = append(row, n)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// secondPathsOfFirstGroups applies the CSS selector `g:first-child path:nth-child(2)`
// inside one <svg> fragment. X's SVG is well-formed, so encoding/xml walks it, leniently.
func secondPathsOfFirstGroups(svg string) []string {
	dec := xml.NewDecoder(strings.NewReader(svg))
	dec.Strict = false
	dec.AutoClose = xml.HTMLAutoClose
	dec.Entity = xml.HTMLEntity
	type frame struct {
		children int  // element children seen so far
		inFirstG bool // self or an ancestor is a g that is its parent's first element
	}
	stack := []frame{{}}
	var out []string
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		switch t := tok.(type) {
		case xml.StartElement:
			parent := &stack[len(stack)-1]
			parent.children++
			name := strings.ToLower(t.Name.Local)
			if name == "path" && parent.children == 2 && parent.inFirstG {
				for _, a := range t.Attr {
					if a.Name.Local == "d" {
						out = append(out, strings.TrimSpace(a.Value))
					}
				}
			}
			inG := parent.inFirstG || (name == "g" && parent.children == 1 && len(stack) > 1)
			stack = append(stack, frame{inFirstG: inG})
		case xml.EndElement:
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
		}
	}
}

// animationIndices finds the signing script (ondemand.s.*.js in the legacy build,
// sign.o-*.js imported by some chunk of the x-web build) and reads from it the key
// positions X's script uses: every `(x[N], 16)`.
func animationIndices(ctx context.Context, fetch FetchFunc, scripts []string) ([]int, error) {
	var sigURL string
	for _, u := range scripts {
		if indicesRefRe.MatchString(u) {
			sigURL = u
			break
		}
	}
	if sigURL == "" {
		var err error
		if sigURL, err = findSigningScript(ctx, fetch, scripts); err != nil {
			return nil, err
		}
	}
	body, err := fetch(ctx, sigURL)
	if err != nil {
		return nil, fmt.Errorf("signing script: %w", err)
	}
	var idx []int
	for _, m := range indicesRe.FindAllStringSubmatch(string(body), -1) {
		n, _ := strconv.Atoi(m[1]) // \d{1,2} always parses
		idx = append(idx, n)
	}
	if len(idx) < 2 {
		return nil, fmt.Errorf("%w: no key indices in the signing script", ErrTxIDParse)
	}
	return idx, nil
}

// findSigningScript fetches the chunks, 16 at a time, until one imports the signing
// script, and returns that script's URL.
func findSigningScript(ctx context.Context, fetch FetchFunc, scripts []string) (string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		once           sync.Once
		found          string
		loaded, failed atomic.Int64
		wg             sync.WaitGroup
		sem            = make(chan struct{}, 16)
	)
loop:
	for _, u := range scripts {
		if !relevantScript(u) {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			body, err := fetch(ctx, u)
			if err != nil {
				failed.Add(1)
				return
			}
			loaded.Add(1)
			ref := indicesRefRe.FindString(string(body))
			if ref == "" {
				return
			}
			base, err := url.Parse(u)
			if err != nil {
				return
			}
			if ref, err := base.Parse(ref); err == nil {
				once.Do(func() {
					found = ref.String()
					cancel()
				})
			}
		}()
	}
	wg.Wait()
	if found != "" {
		return found, nil
	}
	return "", fmt.Errorf("%w: no signing script among %d scripts (%d loaded, %d failed)", ErrTxIDParse, len(scripts), loaded.Load(), failed.Load())
}

// animationKey derives the animation key: the state of the loading animation at a time
// the key bytes choose, rendered as hex. Python's float semantics are kept (round half
// to even, the order of operations) so that the key equals the one X's script computes.
func animationKey(key []byte, frames [][]float64, idx []int) (string, error) {
	for _, i := range idx {
		if i >= len(key) {
			return "", fmt.Errorf("%w: key index %d beyond the %d-byte key", ErrTxIDParse, i, len(key))
		}
	}
	frameTime := 1.0
	for _, i := range idx[1:] {
		frameTime *= float64(key[i] % 16)
	}
	frameTime = math.Floor(frameTime/10+0.5) * 10 // JavaScript's Math.round, to tens
	row := int(key[idx[0]] % 16)
	if row >= len(frames) || len(frames[row]) < 11 {
		return "", fmt.Errorf("%w: animation row %d missing or short", ErrTxIDParse, row)
	}
	return renderAnimation(frames[row], frameTime/4096), nil
}

// renderAnimation interpolates one animation row: a colour from row[0:3] to row[3:6], a
// rotation from 0 to row[6] mapped onto 60–360°, eased by the cubic bezier row[7:].
func renderAnimation(row []float64, t float64) string {
	fromColor := []float64{row[0], row[1], row[2], 1}
	toColor := []float64{row[3], row[4], row[5], 1}
	toRotation := animScale(row[6], 60, 360, true)
	var curve []float64
	for i, v := range row[7:] {
		lo := 0.0
		if i%2 == 1 {
			lo = -1
		}
		curve = append(curve, animScale(v, lo, 1, false))
	}
	eased := animCubic(curve, t)

	var b strings.Builder
	for i := 0; i < 3; i++ {
		c := animLerp(fromColor[i], toColor[i], eased)
		c = math.Max(0, math.Min(255, c))
		b.WriteString(strconv.FormatInt(int64(math.RoundToEven(c)), 16))
	}
	rotation := animLerp(0, toRotation, eased)
	degToRad := math.Pi
	degToRad /= 180 // at run time, as Python's math.radians rounds π/180 to a double first
	rad := float64(rotation * degToRad)
	for _, v := range []float64{math.Cos(rad), -math.Sin(rad), math.Sin(rad), math.Cos(rad)} {
		v = pyRound2(v)
		if v < 0 {
			v = -v
		}
		h := animFloatHex(v)
		switch {
		case strings.HasPrefix(h, "."):
			b.WriteString(strings.ToLower("0" + h))
		case h == "":
			b.WriteString("0")
		default:
			b.WriteString(h)
		}
	}
	b.WriteString("00")
	return strings.NewReplacer(".", "", "-", "").Replace(b.String())
}

// The float64() conversions below stop the compiler from fusing a*b+c into one FMA
// (it may on arm64), which would round differently from X's script.

func animLerp(from, to, f float64) float64 { return float64(from*(1-f)) + float64(to*f) }

// animScale maps a byte 0–255 onto [lo, hi], floored or rounded to two decimals.
func animScale(v, lo, hi float64, floor bool) float64 {
	r := float64(v*(hi-lo)/255) + lo
	if floor {
		return math.Floor(r)
	}
	return pyRound2(r)
}

// pyRound2 is Python's round(x, 2): the exact binary value rounded half to even, which
// strconv does too.
func pyRound2(x float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 2, 64), 64)
	return r
}

// animCubic is the CSS cubic-bezier(c0, c1, c2, c3) easing at t, found by bisection;
// c has at least 4 values (animationKey checks the row).
func animCubic(c []float64, t float64) float64 {
	if t <= 0 {
		g := 0.0
		if c[0] > 0 {
			g = c[1] / c[0]
		} else if c[1] == 0 && c[2] > 0 {
			g = c[3] / c[2]
		}
		return g * t
	}
	if t >= 1 {
		g := 0.0
		if c[2] < 1 {
			g = (c[3] - 1) / (c[2] - 1)
		} else if c[2] == 1 && c[0] < 1 {
			g = (c[1] - 1) / (c[0] - 1)
		}
		return 1 + float64(g*(t-1))
	}
	start, end, mid := 0.0, 1.0, 0.0
	for start < end {
		mid = (start + end) / 2
		x := animBezierAt(c[0], c[2], mid)
		if math.Abs(t-x) < 0.00001 {
			return animBezierAt(c[1], c[3], mid)
		}
		if x < t {
			start = mid
		} else {
			end = mid
		}
	}
	return animBezierAt(c[1], c[3], mid)
}

func animBezierAt(a, b, m float64) float64 {
	return float64(float64(float64(3.0*a*(1-m))*(1-m))*m) + float64(float64(float64(3.0*b*(1-m))*m)*m) + float64(m*m*m)
}

// animFloatHex writes x ≥ 0 in hexadecimal with a fractional part ("1", ".8", "1.4CCC…"),
// digit for digit as X's script does, upper case.
func animFloatHex(x float64) string {
	const digits = "0123456789ABCDEF"
	q := math.Trunc(x)
	fraction := x - q
	var intPart []byte
	for q > 0 {
		q = math.Trunc(x / 16)
		rem := int(x - float64(q*16))
		intPart = append([]byte{digits[rem]}, intPart...)
		x = q
	}
	if fraction == 0 {
		return string(intPart)
	}
	out := append(intPart, '.')
	for fraction > 0 {
		fraction *= 16
		d := math.Trunc(fraction)
		fraction -= d
		out = append(out, digits[int(d)])
	}
	return string(out)
}
