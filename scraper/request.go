package scraper

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// gqlVar is one GraphQL variable. gqlVars marshal in their own order, the web app's,
// so that requests look like the browser's byte for byte.
type gqlVar struct {
	Name  string
	Value any
}

type gqlVars []gqlVar

func (vs gqlVars) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := encodeJSON(&b, v.Name); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		if err := encodeJSON(&b, v.Value); err != nil {
			return nil, fmt.Errorf("variable %s: %w", v.Name, err)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// with returns vs plus name=value, replacing an existing value, without changing vs.
func (vs gqlVars) with(name string, value any) gqlVars {
	out := make(gqlVars, 0, len(vs)+1)
	for _, v := range vs {
		if v.Name != name {
			out = append(out, v)
		}
	}
	return append(out, gqlVar{name, value})
}

// encodeJSON writes v compactly without HTML escaping (a query "a<b" stays "a<b", as
// the browser sends it).
func encodeJSON(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

func compactJSON(v any) (string, error) {
	var b bytes.Buffer
	err := encodeJSON(&b, v)
	return b.String(), err
}

// call is one GraphQL request, independent of the account and the method.
type call struct {
	op       string
	vars     gqlVars
	features Flags
	toggles  Flags // nil: no fieldToggles parameter
	referer  string
}

// encodeURIComponent escapes s as the browser's encodeURIComponent does.
func encodeURIComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 3 / 2)
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9',
			strings.IndexByte("-_.!~*'()", ch) >= 0:
			b.WriteByte(ch)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[ch>>4])
			b.WriteByte(hex[ch&15])
		}
	}
	return b.String()
}

// newRequest builds the HTTP request of cl for op with account a: GET with the
// parameters in the query, or POST with them in a JSON body, and the headers of X's
// web app (research §1.3).
func (c *Client) newRequest(ctx context.Context, a Account, op Operation, cl call) (*http.Request, error) {
	vars, err := compactJSON(cl.vars)
	if err != nil {
		return nil, err
	}
	features, err := compactJSON(cl.features)
	if err != nil {
		return nil, err
	}
	var toggles string
	if cl.toggles != nil {
		if toggles, err = compactJSON(cl.toggles); err != nil {
			return nil, err
		}
	}
	target := c.apiBase + op.Path()
	var body io.Reader
	if op.Method == http.MethodPost {
		var b bytes.Buffer
		b.WriteString(`{"variables":` + vars + `,"features":` + features)
		if cl.toggles != nil {
			b.WriteString(`,"fieldToggles":` + toggles)
		}
		b.WriteString(`,"queryId":`)
		if err := encodeJSON(&b, op.ID); err != nil {
			return nil, err
		}
		b.WriteByte('}')
		body = &b
	} else {
		target += "?variables=" + encodeURIComponent(vars) + "&features=" + encodeURIComponent(features)
		if cl.toggles != nil {
			target += "&fieldToggles=" + encodeURIComponent(toggles)
		}
	}
	req, err := http.NewRequestWithContext(ctx, op.Method, target, body)
	if err != nil {
		return nil, err
	}
	h := req.Header
	h.Set("Authorization", "Bearer "+BearerToken)
	h.Set("X-Csrf-Token", a.Cookies.CSRF())
	h.Set("Cookie", a.Cookies.Header())
	h.Set("X-Twitter-Auth-Type", "OAuth2Session")
	h.Set("X-Twitter-Active-User", "yes")
	h.Set("X-Twitter-Client-Language", "en")
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", userAgent(a))
	h.Set("Accept", "*/*")
	h.Set("Accept-Language", "en-US,en;q=0.9")
	h.Set("Referer", cmp.Or(cl.referer, c.webBase+"/"))
	if op.Method == http.MethodPost {
		h.Set("Origin", c.webBase)
	}
	if !c.txOff {
		id, err := c.txID(ctx, a, op.Method, c.apiPath+op.Path())
		if err != nil {
			return nil, err
		}
		h.Set("X-Client-Transaction-Id", id)
	}
	return req, nil
}

// exchange is what came back for one request: a response, or a transport error.
type exchange struct {
	status int
	header http.Header
	body   []byte
	err    error // transport error (no or no complete response)
}

// send performs one request. It returns an error only for what is not X's answer nor
// the network's: a request that cannot be built, a proxy that cannot be used (wrapping
// errProxy), a cancelled context.
func (c *Client) send(ctx context.Context, a Account, op Operation, cl call) (exchange, error) {
	hc, err := c.httpClient(a.Proxy)
	if err != nil {
		return exchange{}, err
	}
	rctx, cancel := context.WithTimeout(ctx, c.reqTimeout)
	defer cancel()
	req, err := c.newRequest(rctx, a, op, cl)
	if err != nil {
		if ctx.Err() != nil {
			return exchange{}, ctx.Err()
		}
		return exchange{}, fmt.Errorf("build %s request: %w", op.Name, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return exchange{}, ctx.Err()
		}
		return exchange{err: err}, nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	switch {
	case ctx.Err() != nil:
		return exchange{}, ctx.Err()
	case err != nil:
		return exchange{err: err}, nil
	case len(body) > maxBody:
		return exchange{err: fmt.Errorf("response over %d bytes", maxBody)}, nil
	}
	return exchange{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// txState is the transaction-id generator of one account: built from X's web page as
// the account sees it, or a fallback while that fails.
type txState struct {
	mu      sync.Mutex
	gen     *TxIDGen
	retryAt time.Time // when a fallback generator gives way to another try
}

func (c *Client) txStateOf(id int64) *txState {
	c.txMu.Lock()
	defer c.txMu.Unlock()
	st := c.tx[id]
	if st == nil {
		st = &txState{}
		c.tx[id] = st
	}
	return st
}

// txID returns an x-client-transaction-id for the request. The account's generator is
// built lazily; a fallback one is replaced by a new try every txRetryEvery.
func (c *Client) txID(ctx context.Context, a Account, method, path string) (string, error) {
	st := c.txStateOf(a.ID)
	st.mu.Lock()
	if st.gen == nil || st.gen.Fallback() && !c.now().Before(st.retryAt) {
		if err := c.buildTxLocked(ctx, a, st); err != nil {
			st.mu.Unlock()
			return "", err
		}
	}
	gen := st.gen
	st.mu.Unlock()
	return gen.ID(method, path)
}

// rebuildTx builds the account's generator again (after an empty 404) and reports
// whether it now makes real ids.
func (c *Client) rebuildTx(ctx context.Context, a Account) (bool, error) {
	if c.txOff {
		return false, nil
	}
	st := c.txStateOf(a.ID)
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := c.buildTxLocked(ctx, a, st); err != nil {
		return false, err
	}
	return !st.gen.Fallback(), nil
}

// buildTxLocked reads X's web page with the account's session and builds its
// generator, or a fallback one when that fails (logged as a warning once per client).
// It fails only when ctx ends.
func (c *Client) buildTxLocked(ctx context.Context, a Account, st *txState) error {
	hc, err := c.webClient(a)
	if err == nil {
		bctx, cancel := context.WithTimeout(ctx, 2*c.reqTimeout)
		var gen *TxIDGen
		gen, err = NewTxIDGen(bctx, TxIDOptions{WebBase: c.webBase, Fetch: HTTPFetcher(hc, nil), Now: c.now})
		cancel()
		if err == nil {
			st.gen = gen
			c.log.Debug().Str("account", a.Name).Msg("x-client-transaction-id generator built")
			return nil
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	st.gen = NewFallbackTxIDGen(TxIDOptions{Now: c.now})
	st.retryAt = c.now().Add(txRetryEvery)
	c.txMu.Lock()
	first := !c.txWarned
	c.txWarned = true
	c.txMu.Unlock()
	ev := c.log.Debug()
	if first {
		ev = c.log.Warn()
	}
	ev.Err(err).Str("account", a.Name).Dur("retry_in", txRetryEvery).
		Msg("cannot build x-client-transaction-id from X's web page; sending fallback ids")
	return nil
}

// webClient is an HTTP client for X's web pages as the account's browser: its
// proxy, cookies and user agent (X serves its full build to logged-in sessions only).
func (c *Client) webClient(a Account) (*http.Client, error) {
	hc, err := c.httpClient(a.Proxy)
	if err != nil {
		return nil, err
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	h := http.Header{}
	h.Set("Cookie", a.Cookies.Header())
	h.Set("User-Agent", userAgent(a))
	h.Set("Accept-Language", "en-US,en;q=0.9")
	cp := *hc
	cp.Transport = headerTransport{base: base, header: h}
	return &cp, nil
}

// headerTransport adds fixed headers to every request.
type headerTransport struct {
	base   http.RoundTripper
	header http.Header
}

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range t.header {
		r.Header[k] = v
	}
	return t.base.RoundTrip(r)
}
