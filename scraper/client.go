package scraper

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Options configures a Client. Only Accounts is required.
type Options struct {
	APIBase string // GraphQL base; default "https://x.com/i/api"
	WebBase string // X's web app, for transaction ids and operation discovery; default "https://x.com"
	// TransactionID is "auto" (default: an x-client-transaction-id on every request) or
	// "off" (none).
	TransactionID string
	// Operations overrides the built-in operation table, name → spec in the format of
	// MergeOperations ("ID", "ID:POST", ":POST").
	Operations map[string]string
	Accounts   AccountStore
	// HTTPClient returns the client for a proxy ("" for none). nil: a default transport
	// per proxy (http://, https://, socks5://; see ParseProxy). Clients are cached per
	// proxy. An error sets the account aside with the error as its last error: keep
	// the proxy's password out of it.
	HTTPClient func(proxy string) (*http.Client, error)
	Log        zerolog.Logger
	Now        func() time.Time // default time.Now
	// Sleep waits for backoffs and for accounts. The default honours ctx and, while
	// waiting for an account, wakes when an operation of this client releases one.
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxRetries bounds the retries of a transient failure on one account (default 3,
	// negative for none); between them the client backs off exponentially with jitter.
	MaxRetries int
	// WaitForAccount is how long to wait for an account when none is free: 0 returns
	// the *NoAccountError at once.
	WaitForAccount time.Duration
	Lease          time.Duration // account lease, renewed while an operation runs; default 2m
	RequestTimeout time.Duration // one HTTP exchange; default 30s
	// OnResponse, when set, is told of every exchange with X: the operation, the HTTP
	// status (0 when none came back) and the action taken. It feeds /metrics.
	OnResponse func(operation string, status int, action string)
}

// Client searches X and walks conversations through X's GraphQL web API with the
// sessions of an AccountStore. It is safe for concurrent use: concurrent operations
// hold different accounts on the same operation.
type Client struct {
	apiBase    string // without a trailing slash
	apiPath    string // the path of apiBase, for transaction ids
	webBase    string
	txOff      bool
	accounts   AccountStore
	newHTTP    func(proxy string) (*http.Client, error)
	log        zerolog.Logger
	onResponse func(operation string, status int, action string)
	now        func() time.Time
	sleep      func(ctx context.Context, d time.Duration) error
	jitter     func(d time.Duration) time.Duration
	maxRetries int
	waitFor    time.Duration
	lease      time.Duration
	reqTimeout time.Duration

	mu         sync.Mutex
	ops        map[string]Operation
	discovered map[string]time.Time // when each operation was last re-discovered
	discoverMu sync.Mutex           // one discovery at a time

	hcMu sync.Mutex
	hcs  map[string]*http.Client

	txMu     sync.Mutex
	tx       map[int64]*txState
	txWarned bool

	// released is closed (and replaced) whenever this client hands an account back,
	// so that its operations waiting for one try again at once instead of at the next
	// poll.
	relMu    sync.Mutex
	released chan struct{}
	ownSleep bool // Sleep is the default one, which may be woken by released
}

// Defaults and bounds of the client's behaviour.
const (
	defaultAPIBase    = "https://x.com/i/api"
	defaultWebBase    = "https://x.com"
	defaultMaxRetries = 3
	// defaultLease is short so that the accounts of a process that died (kill -9, power
	// loss) free within two minutes; a running operation renews its lease as it goes.
	defaultLease          = 2 * time.Minute
	defaultRequestTimeout = 30 * time.Second
	// backoffBase is the first transient backoff; it doubles per retry (twscrape: 2 s, 4 s).
	backoffBase = 2 * time.Second
	// maxWaitPoll bounds one sleep while waiting for an account: a lease the store
	// reports can end early, when its operation finishes (in another process: in this
	// one, a release wakes the waiters).
	maxWaitPoll = 2 * time.Second
	// rediscoverEvery rate-limits the re-discovery of an operation's id: X's web build
	// is megabytes, and a 404 that discovery did not fix will not be fixed a minute later.
	rediscoverEvery = 15 * time.Minute
	// txRetryEvery is how long a fallback transaction-id generator is used before the
	// real one is tried again.
	txRetryEvery = 15 * time.Minute
	// maxTransientAccounts: after this many accounts spent their retries on one page, X
	// itself is failing; the request fails instead of cycling through the whole pool.
	maxTransientAccounts = 3
	// maxBody bounds a GraphQL response; X's largest pages are about 1 MB.
	maxBody = 32 << 20
)

// New returns a client. It checks the options but sends nothing.
func New(o Options) (*Client, error) {
	if o.Accounts == nil {
		return nil, errors.New("scraper: no account store")
	}
	c := &Client{
		apiBase:    strings.TrimRight(cmp.Or(o.APIBase, defaultAPIBase), "/"),
		webBase:    strings.TrimRight(cmp.Or(o.WebBase, defaultWebBase), "/"),
		accounts:   o.Accounts,
		newHTTP:    o.HTTPClient,
		log:        o.Log,
		onResponse: o.OnResponse,
		now:        o.Now,
		sleep:      o.Sleep,
		jitter:     func(d time.Duration) time.Duration { return rand.N(d) },
		maxRetries: o.MaxRetries,
		waitFor:    max(o.WaitForAccount, 0),
		lease:      o.Lease,
		reqTimeout: o.RequestTimeout,
		discovered: make(map[string]time.Time),
		hcs:        make(map[string]*http.Client),
		tx:         make(map[int64]*txState),
	}
	u, err := url.Parse(c.apiBase)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("scraper: api base %q is not an http(s) URL", o.APIBase)
	}
	c.apiPath = u.EscapedPath()
	if w, err := url.Parse(c.webBase); err != nil || (w.Scheme != "http" && w.Scheme != "https") || w.Host == "" {
		return nil, fmt.Errorf("scraper: web base %q is not an http(s) URL", o.WebBase)
	}
	switch o.TransactionID {
	case "", "auto":
	case "off":
		c.txOff = true
	default:
		return nil, fmt.Errorf("scraper: transaction id must be auto or off, got %q", o.TransactionID)
	}
	if c.ops, err = MergeOperations(DefaultOperations(), o.Operations); err != nil {
		return nil, err
	}
	if c.newHTTP == nil {
		c.newHTTP = defaultHTTPClient
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep, c.ownSleep = sleepContext, true
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = defaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.lease <= 0 {
		c.lease = defaultLease
	}
	if c.reqTimeout <= 0 {
		c.reqTimeout = defaultRequestTimeout
	}
	return c, nil
}

// Operations returns the operation table in use: the defaults, the config overrides,
// and what the client learnt since (ids re-discovered, methods X moved).
func (c *Client) Operations() map[string]Operation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.ops)
}

func (c *Client) operation(name string) (Operation, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	op, ok := c.ops[name]
	if !ok {
		return Operation{}, fmt.Errorf("scraper: operation %s is not in the table", name)
	}
	return op, nil
}

// setOperation records a change X forced on an operation (a new id, another method).
func (c *Client) setOperation(op Operation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ops[op.Name] = op
}

// backoff is the wait before transient retry n (1-based): backoffBase doubled per
// retry, half of it fixed and half random, so that accounts retrying together spread.
func (c *Client) backoff(n int) time.Duration {
	d := backoffBase << min(n-1, 6)
	return d/2 + c.jitter(d)
}

// releaseSignal returns the channel closed at the next release of an account.
func (c *Client) releaseSignal() <-chan struct{} {
	c.relMu.Lock()
	defer c.relMu.Unlock()
	if c.released == nil {
		c.released = make(chan struct{})
	}
	return c.released
}

// signalRelease wakes the operations waiting for an account.
func (c *Client) signalRelease() {
	c.relMu.Lock()
	defer c.relMu.Unlock()
	if c.released != nil {
		close(c.released)
		c.released = nil
	}
}

// waitForRelease sleeps d, or less when this client releases an account meanwhile
// (only with the default Sleep: an injected one is the test's clock).
func (c *Client) waitForRelease(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	if !c.ownSleep {
		return c.sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	case <-wake:
	}
	return nil
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// httpClient returns the cached HTTP client for a proxy.
func (c *Client) httpClient(proxy string) (*http.Client, error) {
	c.hcMu.Lock()
	defer c.hcMu.Unlock()
	if hc, ok := c.hcs[proxy]; ok {
		return hc, nil
	}
	hc, err := c.newHTTP(proxy)
	if err != nil {
		if !errors.Is(err, errProxy) {
			err = fmt.Errorf("%w: %w", errProxy, err)
		}
		return nil, err
	}
	c.hcs[proxy] = hc
	return hc, nil
}

// errProxy marks an account's proxy as unusable: a fault of the account's settings.
var errProxy = errors.New("proxy")

// defaultHTTPClient is a clone of the default transport, through the proxy when one is
// given. The proxy's text never reaches an error: it may hold a password.
func defaultHTTPClient(proxy string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if proxy != "" {
		u, err := ParseProxy(proxy)
		if err != nil {
			return nil, err
		}
		tr.Proxy = http.ProxyURL(u)
	}
	return &http.Client{Transport: tr}, nil
}

// ParseProxy reads a proxy the ways people write one: a URL with scheme http, https,
// socks5 or socks5h, or, as twscrape accepts, host:port, user:pass@host:port and
// host:port:user:pass (all taken as http). Errors never echo the text, which may hold
// a password.
func ParseProxy(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		if parts := strings.Split(s, ":"); len(parts) == 4 && !strings.Contains(s, "@") {
			s = parts[2] + ":" + parts[3] + "@" + parts[0] + ":" + parts[1]
		}
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not a URL", errProxy)
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, fmt.Errorf("%w: unsupported scheme %q (want http, https or socks5)", errProxy, u.Scheme)
	}
	if u.Hostname() == "" || u.Port() == "" && strings.HasPrefix(u.Scheme, "socks5") {
		return nil, fmt.Errorf("%w: %s proxy without a host and port", errProxy, u.Scheme)
	}
	return u, nil
}

// userAgent is the account's user agent, or one derived from its id.
func userAgent(a Account) string {
	if a.UserAgent != "" {
		return a.UserAgent
	}
	return BrowserUserAgent("account:" + strconv.FormatInt(a.ID, 10))
}
