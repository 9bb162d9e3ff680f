package xfake

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The operations the fake serves, with X's names.
const (
	OpSearchTimeline   = "SearchTimeline"
	OpTweetDetail      = "TweetDetail"
	OpUserByScreenName = "UserByScreenName"
)

// Default operation ids: research/x-graphql.md §2.2 (twscrape v0.20.0, 2026-08-07).
const (
	DefaultSearchTimelineID   = "BGd0T_j7oVwlW5U79tO_0A"
	DefaultTweetDetailID      = "559hs_YZNV4IgA3Z6zIIuw"
	DefaultUserByScreenNameID = "Gb-d6r0vxPOADdG62OEBpQ"
)

// operation is how one GraphQL operation is reached.
type operation struct {
	queryID string
	methods []string
}

// Paging sets how TweetDetail cuts a conversation into pages.
type Paging struct {
	ThreadsPerPage int // conversationthread modules per page (default 10)
	ModuleItems    int // tweets a module shows before its ShowMore cursor (default 2)
	ModuleMore     int // tweets one ShowMore request adds to a module (default 10)
}

// Server is a fake X on loopback: it answers X's GraphQL web API paths with X's
// headers, status codes, error bodies, cursors and JSON shapes, from a corpus of
// synthetic and hand-added tweets. Every method is safe for concurrent use.
type Server struct {
	ts     *httptest.Server
	corpus *corpus

	mu          sync.Mutex
	clock       func() time.Time
	ops         map[string]*operation
	accounts    map[string]*account
	limits      map[string]Limit
	windows     map[rateKey]*window
	faults      []*faultRule
	fixtures    map[string]*fixture
	log         []*Request
	opSeq       map[string]int
	acctOpSeq   map[rateKey]int
	schema      Schema
	shape       TweetShape
	requireTxID bool
	features    map[string][]string
	promoted    bool
	paging      Paging
}

// Option configures a Server in New.
type Option func(*Server)

// WithClock makes the server read time from now: rate-limit windows, created_at of
// added tweets and Request.Time. Tests advance it instead of sleeping.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.clock = now } }

// WithCorpus fills the server with n synthetic tweets (and n/20 authors, at least
// 50) generated deterministically from seed: about 15% replies, 3% native retweets,
// 6% quotes, 3% long posts, 10% with media, 3% in visibility wrappers, 1% deleted,
// 12% in es/fr/de/ja. 100,000 tweets take about a third of a second.
func WithCorpus(seed int64, n int) Option {
	return func(s *Server) { generate(s.corpus, seed, n) }
}

// WithAccount registers a logged-in session, as AddAccount.
func WithAccount(authToken, ct0 string) Option {
	return func(s *Server) { s.addAccountLocked(authToken, ct0) }
}

// WithSchema sets the user schema (default Schema2026).
func WithSchema(sc Schema) Option { return func(s *Server) { s.schema = sc } }

// WithTweetShape sets where tweet fields go (default TweetLegacy).
func WithTweetShape(sh TweetShape) Option { return func(s *Server) { s.shape = sh } }

// WithRateLimit sets the per-account limit of op, as SetRateLimit.
func WithRateLimit(op string, l Limit) Option { return func(s *Server) { s.limits[op] = l } }

// WithPromoted turns promoted entries in search pages on or off (default on: one
// promoted-tweet entry on every page of three or more results).
func WithPromoted(on bool) Option { return func(s *Server) { s.promoted = on } }

// WithPaging sets TweetDetail paging; zero fields keep their defaults.
func WithPaging(p Paging) Option { return func(s *Server) { s.setPagingLocked(p) } }

// WithTransactionIDRequired makes requests without an x-client-transaction-id
// header answer X's empty 404, as X has done since April 2025.
func WithTransactionIDRequired() Option { return func(s *Server) { s.requireTxID = true } }

// New starts a fake X on a loopback port. Close it when done (t.Cleanup(s.Close)).
func New(opts ...Option) *Server {
	s := &Server{
		corpus: newCorpus(),
		clock:  time.Now,
		ops: map[string]*operation{
			OpSearchTimeline:   {queryID: DefaultSearchTimelineID, methods: []string{http.MethodGet, http.MethodPost}},
			OpTweetDetail:      {queryID: DefaultTweetDetailID, methods: []string{http.MethodGet, http.MethodPost}},
			OpUserByScreenName: {queryID: DefaultUserByScreenNameID, methods: []string{http.MethodGet, http.MethodPost}},
		},
		accounts:  make(map[string]*account),
		limits:    defaultLimits(),
		windows:   make(map[rateKey]*window),
		fixtures:  make(map[string]*fixture),
		opSeq:     make(map[string]int),
		acctOpSeq: make(map[rateKey]int),
		features:  make(map[string][]string),
		promoted:  true,
	}
	s.setPagingLocked(Paging{})
	for _, o := range opts {
		o(s)
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// URL is the API base, the fake's x.com/i/api: a client calls
// URL()+"/graphql/{queryId}/{Operation}". The same routes are also served without
// the /i/api prefix.
func (s *Server) URL() string { return s.ts.URL + "/i/api" }

// RootURL is the server root, standing for https://x.com.
func (s *Server) RootURL() string { return s.ts.URL }

// Client returns an http.Client for the server.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Close shuts the server down, closing open connections.
func (s *Server) Close() {
	s.ts.CloseClientConnections()
	s.ts.Close()
}

func (s *Server) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock()
}

func (s *Server) setPagingLocked(p Paging) {
	if p.ThreadsPerPage <= 0 {
		p.ThreadsPerPage = 10
	}
	if p.ModuleItems <= 0 {
		p.ModuleItems = 2
	}
	if p.ModuleMore <= 0 {
		p.ModuleMore = 10
	}
	s.paging = p
}

// SetOperation sets the query id and, when given, the accepted methods of op. A
// request with another id or method answers X's empty 404, as a stale id does.
func (s *Server) SetOperation(op, queryID string, methods ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ops[op]
	if o == nil {
		o = &operation{methods: []string{http.MethodGet, http.MethodPost}}
		s.ops[op] = o
	}
	o.queryID = queryID
	if len(methods) > 0 {
		o.methods = methods
	}
}

// SetMethods sets the HTTP methods op accepts, e.g. only POST to mimic X moving
// SearchTimeline to POST in March 2026.
func (s *Server) SetMethods(op string, methods ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.ops[op]; o != nil {
		o.methods = methods
	}
}

// QueryID is the id op currently answers to.
func (s *Server) QueryID(op string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.ops[op]; o != nil {
		return o.queryID
	}
	return ""
}

// SetSchema switches the user schema of later responses.
func (s *Server) SetSchema(sc Schema) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.schema = sc
}

// SetTweetShape switches where later responses put tweet fields.
func (s *Server) SetTweetShape(sh TweetShape) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shape = sh
}

// SetPaging changes TweetDetail paging; zero fields take their defaults.
func (s *Server) SetPaging(p Paging) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setPagingLocked(p)
}

// SetRequiredFeatures makes op answer error 336 (status 400) when any of names is
// missing from the request's features.
func (s *Server) SetRequiredFeatures(op string, names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.features[op] = names
}

// params are the decoded GraphQL parameters of a request.
type params struct {
	Variables    map[string]any `json:"variables"`
	Features     map[string]any `json:"features"`
	FieldToggles map[string]any `json:"fieldToggles"`
	QueryID      string         `json:"queryId"`
}

// parseParams reads variables, features and fieldToggles from the query string
// (GET) or the JSON body (POST). In a body, each may be an object or a JSON string.
func parseParams(r *http.Request) (params, error) {
	var p params
	decode := func(raw string, into *map[string]any) error {
		if raw == "" {
			return nil
		}
		return json.Unmarshal([]byte(raw), into)
	}
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if err != nil {
			return p, err
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(body, &raw); err != nil {
			return p, err
		}
		field := func(name string, into *map[string]any) error {
			v, ok := raw[name]
			if !ok {
				return nil
			}
			var s string
			if json.Unmarshal(v, &s) == nil {
				return decode(s, into)
			}
			return json.Unmarshal(v, into)
		}
		if err := field("variables", &p.Variables); err != nil {
			return p, err
		}
		if err := field("features", &p.Features); err != nil {
			return p, err
		}
		if err := field("fieldToggles", &p.FieldToggles); err != nil {
			return p, err
		}
		if v, ok := raw["queryId"]; ok {
			_ = json.Unmarshal(v, &p.QueryID)
		}
	}
	q := r.URL.Query()
	if err := decode(q.Get("variables"), &p.Variables); err != nil {
		return p, err
	}
	if err := decode(q.Get("features"), &p.Features); err != nil {
		return p, err
	}
	if err := decode(q.Get("fieldToggles"), &p.FieldToggles); err != nil {
		return p, err
	}
	return p, nil
}

// reply is a response about to be written.
type reply struct {
	status      int
	body        []byte
	contentType string
	header      http.Header
	rate        *rateHeaders
	pooled      []byte // a bufPool buffer to give back once the answer is written
}

const jsonType = "application/json;charset=utf-8"

func jsonReply(status int, body []byte) reply {
	return reply{status: status, body: body, contentType: jsonType}
}

func emptyReply(status int) reply { return reply{status: status} }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	req := s.arrive(r)
	rep, f := s.handle(r, req)
	if rep.pooled != nil {
		defer releaseBuf(rep.pooled)
	}
	if f != nil {
		var ok bool
		if rep, ok = s.applyFault(w, r, req, rep, f); !ok {
			return
		}
	}
	s.write(w, req, rep)
}

// handle routes, authenticates, rate-limits and answers one request. When an
// injected fault matches, it returns it beside the normal answer (which the fault
// may wrap, cut or replace).
func (s *Server) handle(r *http.Request, req *Request) (reply, *Fault) {
	path := strings.TrimPrefix(r.URL.Path, "/i/api")
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) != 3 || parts[0] != "graphql" {
		return emptyReply(http.StatusNotFound), nil
	}
	queryID, opName := parts[1], parts[2]
	s.mu.Lock()
	req.QueryID, req.Operation = queryID, opName
	o := s.ops[opName]
	if o == nil || o.queryID != queryID || !slices.Contains(o.methods, r.Method) {
		s.mu.Unlock()
		return emptyReply(http.StatusNotFound), nil
	}
	s.opSeq[opName]++
	req.OpSeq = s.opSeq[opName]
	requireTx := s.requireTxID
	s.mu.Unlock()

	p, perr := parseParams(r)
	s.mu.Lock()
	req.Variables, req.Features, req.FieldToggles = p.Variables, p.Features, p.FieldToggles
	s.mu.Unlock()
	if requireTx && r.Header.Get("x-client-transaction-id") == "" {
		return emptyReply(http.StatusNotFound), nil
	}

	token, denied := s.authenticate(r)
	if denied != nil {
		return *denied, nil
	}
	now := s.now()
	s.mu.Lock()
	req.Account = token
	k := rateKey{token, opName}
	s.acctOpSeq[k]++
	req.AccountOpSeq = s.acctOpSeq[k]
	rate, limited := s.takeLocked(k, now)
	if a := s.accounts[token]; limited || a != nil && a.state == AccountReadOnly {
		s.mu.Unlock()
		rep := jsonReply(http.StatusTooManyRequests, ErrorBody(ErrRateLimit))
		rep.rate = &rate
		return rep, nil
	}
	fix := s.fixtures[opName]
	required := s.features[opName]
	view := viewConfig{schema: s.schema, shape: s.shape, promoted: s.promoted, paging: s.paging}
	s.mu.Unlock()
	f := s.matchFault(req)
	if f != nil && f.Exhaust {
		s.mu.Lock()
		if win := s.windows[k]; win != nil {
			win.used = max(win.used, s.limits[opName].Requests)
			rate.remaining = 0
		}
		s.mu.Unlock()
	}
	if f != nil && (f.replaces() || f.Reset) {
		// Nothing of the normal answer survives: do not render it (nor use up a
		// fixture body).
		return reply{rate: &rate}, f
	}
	rep := s.answer(opName, p, perr, required, fix, view)
	rep.rate = &rate
	return rep, f
}

// viewConfig is the rendering configuration, copied out of the lock per request.
type viewConfig struct {
	schema   Schema
	shape    TweetShape
	promoted bool
	paging   Paging
}

// answer renders the data response of an authenticated, allowed request.
func (s *Server) answer(op string, p params, perr error, required []string, fix *fixture, view viewConfig) reply {
	if perr != nil {
		return jsonReply(http.StatusBadRequest, ErrorBody(errBadRequest("invalid request parameters: "+perr.Error())))
	}
	var missing []string
	for _, name := range required {
		if _, ok := p.Features[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return jsonReply(http.StatusBadRequest, ErrorBody(ErrFeatures(missing...)))
	}
	if fix != nil {
		return jsonReply(http.StatusOK, fix.next())
	}
	switch op {
	case OpSearchTimeline:
		return s.search(p.Variables, view)
	case OpTweetDetail:
		return s.detail(p.Variables, view)
	case OpUserByScreenName:
		return s.userByScreenName(p.Variables, view)
	}
	// An operation added with SetOperation but with no fixture: X's empty timeline.
	return jsonReply(http.StatusOK, []byte(`{"data":{}}`))
}

func (s *Server) write(w http.ResponseWriter, req *Request, rep reply) {
	h := w.Header()
	for k, vs := range rep.header {
		h[k] = vs
	}
	if rep.contentType != "" {
		h.Set("Content-Type", rep.contentType)
	}
	if rep.rate != nil {
		rep.rate.set(h)
	}
	h.Set("Content-Length", strconv.Itoa(len(rep.body)))
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate, pre-check=0, post-check=0")
	h.Set("X-Response-Time", "12")
	// Recorded before the answer leaves: a client that has read it may look at the
	// log at once.
	s.mu.Lock()
	req.Status = rep.status
	s.mu.Unlock()
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
