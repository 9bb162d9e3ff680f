package scraper

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"nexus/scraper/xfake"
)

func TestMemAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 7, 9, 12, 0, 0, 0, time.UTC)
	m := NewMemAccounts(
		Account{Name: "a", Cookies: Cookies{"auth_token": "1", "ct0": "1"}},
		Account{Name: "b", Cookies: Cookies{"auth_token": "2", "ct0": "2"}},
		Account{Name: "c", Cookies: Cookies{"auth_token": "3", "ct0": "3"}},
	)
	acquire := func(op string, at time.Time) (string, error) {
		a, err := m.Acquire(ctx, op, at, at.Add(5*time.Minute))
		return a.Name, err
	}
	// Least recently used first, never used before used; leases exclude per operation.
	for i, want := range []string{"a", "b", "c"} {
		if got, err := acquire("S", now.Add(time.Duration(i)*time.Second)); got != want || err != nil {
			t.Fatalf("acquire %d = %s, %v; want %s", i, got, err, want)
		}
	}
	_, err := acquire("S", now.Add(time.Minute))
	var none *NoAccountError
	// Busy, not locked: expected free a second later (leases end with their operation).
	if !errors.As(err, &none) || none.Operation != "S" || !none.NextFree.Equal(now.Add(time.Minute+time.Second)) {
		t.Fatalf("all leased: err = %v", err)
	}
	if got, _ := acquire("T", now.Add(time.Minute)); got != "a" {
		t.Fatalf("another operation may share an account: got %s", got)
	}
	// Release: b rate-limited, a released cleanly, c banned.
	m.Release(ctx, 2, "S", Outcome{Requests: 3, Errors: 1, LockedUntil: now.Add(time.Hour), LastError: "rate limited", Success: true})
	m.Release(ctx, 1, "S", Outcome{Requests: 1, Success: true})
	m.Release(ctx, 3, "S", Outcome{Requests: 1, Errors: 1, Deactivate: true, LastError: "ban: suspended"})
	if got, _ := acquire("S", now.Add(2*time.Minute)); got != "a" {
		t.Fatalf("only a is free, got %s", got)
	}
	m.Release(ctx, 1, "S", Outcome{})
	if got, _ := acquire("S", now.Add(61*time.Minute)); got != "b" {
		t.Fatalf("after b's lock, b is the least recently used: got %s", got)
	}
	b, _ := m.State(2)
	if b.LastError != "rate limited" || b.Operations["S"].Requests != 3 || b.Operations["S"].Errors != 1 || !b.Active {
		t.Fatalf("b = %+v", b)
	}
	c, _ := m.State(3)
	if c.Active || c.LastError != "ban: suspended" {
		t.Fatalf("c = %+v", c)
	}
	// Bare 403s count up, a success starts them over; a cooldown parks every operation.
	m.Release(ctx, 2, "S", Outcome{Bare403: true, CooldownUntil: now.Add(2 * time.Hour), LastError: "cooldown"})
	if b, _ := m.State(2); b.Bare403s != 1 {
		t.Fatalf("bare 403s = %d", b.Bare403s)
	}
	if a, err := m.Acquire(ctx, "T2", now.Add(90*time.Minute), now.Add(95*time.Minute)); err != nil || a.Name != "a" {
		t.Fatalf("b cools down on every operation: got %s, %v", a.Name, err)
	}
	a, _ := m.Acquire(ctx, "S", now.Add(3*time.Hour), now.Add(4*time.Hour))
	if a.Name != "b" || a.Bare403s != 1 {
		t.Fatalf("got %s with %d bare 403s", a.Name, a.Bare403s)
	}
	m.Release(ctx, 2, "S", Outcome{Success: true})
	if b, _ := m.State(2); b.Bare403s != 0 || b.LastError != "" {
		t.Fatalf("a success clears: %+v", b)
	}
	// Reactivation, and the error with no active account.
	if err := m.Reactivate(3); err != nil {
		t.Fatal(err)
	}
	if c, _ := m.State(3); !c.Active || c.LastError != "" {
		t.Fatalf("reactivated c = %+v", c)
	}
	empty := NewMemAccounts()
	_, err = empty.Acquire(ctx, "S", now, now)
	if !errors.As(err, &none) || !none.NextFree.IsZero() || !strings.Contains(err.Error(), "no active X account") {
		t.Fatalf("empty pool: %v", err)
	}
	if err := m.Release(ctx, 99, "S", Outcome{}); err == nil {
		t.Fatal("release of an unknown account should fail")
	}
}

func TestNoAccountError(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{xopts: []xfake.Option{xfake.WithCorpus(9, 300)}, accounts: []string{"a"}})
	until := h.clock.Now().Add(10 * time.Minute)
	h.accts.Release(context.Background(), h.ids["a"], OpSearchTimeline, Outcome{LockedUntil: until})
	_, err := h.search(SearchOptions{Query: "the"})
	var none *NoAccountError
	if !errors.As(err, &none) || !none.NextFree.Equal(until) || none.Operation != OpSearchTimeline {
		t.Fatalf("err = %v, want *NoAccountError until %v", err, until)
	}
	if len(h.clock.Sleeps()) != 0 || h.srv.Count("") != 0 {
		t.Fatal("without WaitForAccount the error comes at once")
	}
}

func TestWaitForAccount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		wait    time.Duration
		lock    time.Duration // a's lock; 0: a is banned instead
		wantErr bool
	}{
		{"waits until the lock ends", 15 * time.Minute, 10 * time.Minute, false},
		// The lock outlasts the wait: no use sleeping through the wait first.
		{"gives up at once when the lock outlasts WaitForAccount", 5 * time.Minute, 10 * time.Minute, true},
		{"no active account: no wait", time.Hour, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, setup{
				xopts: []xfake.Option{xfake.WithCorpus(9, 300)}, accounts: []string{"a"},
				opts: func(o *Options) { o.WaitForAccount = tt.wait },
			})
			start := h.clock.Now()
			o := Outcome{LockedUntil: start.Add(tt.lock)}
			if tt.lock == 0 {
				o = Outcome{Deactivate: true}
			}
			h.accts.Release(context.Background(), h.ids["a"], OpSearchTimeline, o)
			got, err := h.search(SearchOptions{Query: "the", Limit: 5})
			var none *NoAccountError
			if tt.wantErr != (err != nil) || err != nil && !errors.As(err, &none) {
				t.Fatalf("search: %d tweets, err %v", len(got), err)
			}
			waited := h.clock.Now().Sub(start)
			logged := strings.Count(h.logs.String(), "waiting for an X account until")
			switch {
			case tt.lock == 0 || tt.lock > tt.wait:
				if waited != 0 || logged != 0 || h.srv.Count("") != 0 {
					t.Fatalf("waited %v, logged %d, %d requests", waited, logged, h.srv.Count(""))
				}
			case !tt.wantErr:
				if waited != tt.lock || logged != 1 || len(got) != 5 {
					t.Fatalf("waited %v (want %v), logged %d times (want once), %d tweets", waited, tt.lock, logged, len(got))
				}
				if r := h.opRequests(OpSearchTimeline)[0]; r.Time.Before(start.Add(tt.lock)) {
					t.Fatalf("request at %v, before the lock ended", r.Time)
				}
			default:
				if waited != tt.wait || logged != 1 || h.srv.Count("") != 0 {
					t.Fatalf("waited %v (want %v), logged %d, %d requests", waited, tt.wait, logged, h.srv.Count(""))
				}
			}
		})
	}
}

// exclusiveStore wraps an AccountStore and fails the test when an account is leased
// twice on one operation before its release.
type exclusiveStore struct {
	AccountStore
	t        *testing.T
	mu       sync.Mutex
	held     map[string]bool
	acquired int
}

func (s *exclusiveStore) Acquire(ctx context.Context, op string, now, until time.Time) (Account, error) {
	a, err := s.AccountStore.Acquire(ctx, op, now, until)
	if err == nil {
		s.mu.Lock()
		k := fmt.Sprint(a.ID, op)
		if s.held[k] {
			s.t.Errorf("account %s leased twice on %s", a.Name, op)
		}
		s.held[k] = true
		s.acquired++
		s.mu.Unlock()
	}
	return a, err
}

func (s *exclusiveStore) Release(ctx context.Context, id int64, op string, o Outcome) error {
	s.mu.Lock()
	delete(s.held, fmt.Sprint(id, op))
	s.mu.Unlock()
	return s.AccountStore.Release(ctx, id, op, o)
}

// inFlight is a transport that fails the test when two requests of one operation with
// one auth_token overlap in time.
type inFlight struct {
	t    *testing.T
	base http.RoundTripper
	mu   sync.Mutex
	busy map[string]bool
	max  int
	now  int
}

func (f *inFlight) RoundTrip(r *http.Request) (*http.Response, error) {
	tok := ""
	if c, err := r.Cookie("auth_token"); err == nil {
		tok = c.Value
	}
	k := tok + " " + r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	f.mu.Lock()
	if f.busy[k] {
		f.t.Errorf("two requests in flight for %s", k)
	}
	f.busy[k] = true
	f.now++
	f.max = max(f.max, f.now)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.busy, k)
		f.now--
		f.mu.Unlock()
	}()
	return f.base.RoundTrip(r)
}

// TestConcurrentOperationsNeverShareAnAccount runs searches and thread walks on many
// goroutines over fewer accounts, waiting for one another's accounts. Run with -race.
func TestConcurrentOperationsNeverShareAnAccount(t *testing.T) {
	t.Parallel()
	const goroutines, accounts = 8, 3
	srv := xfake.New(xfake.WithCorpus(10, 3000), xfake.WithRateLimit(OpSearchTimeline, xfake.Limit{}),
		xfake.WithRateLimit(OpTweetDetail, xfake.Limit{}), xfake.WithPaging(xfake.Paging{ThreadsPerPage: 3}))
	t.Cleanup(srv.Close)
	conv := srv.Conversation("", 60, 4, 1)
	pool := NewMemAccounts()
	for i := range accounts {
		n := fmt.Sprint("acct", i)
		srv.AddAccount(token(n), csrf(n))
		pool.Add(Account{Name: n, Cookies: Cookies{"auth_token": token(n), "ct0": csrf(n)}})
	}
	store := &exclusiveStore{AccountStore: pool, t: t, held: map[string]bool{}}
	tr := &inFlight{t: t, base: srv.Client().Transport, busy: map[string]bool{}}
	var waits atomic.Int32 // sleeps waiting for an account (no fault makes a backoff)
	c, err := New(Options{
		APIBase: srv.URL(), TransactionID: "off", Accounts: store, WaitForAccount: time.Minute,
		HTTPClient: func(string) (*http.Client, error) { return &http.Client{Transport: tr}, nil },
		Sleep: func(ctx context.Context, d time.Duration) error {
			waits.Add(1)
			return sleepContext(ctx, 2*time.Millisecond)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	queries := []string{"the", "coffee", "api", "love"}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if g%4 == 3 {
				th, err := c.Thread(context.Background(), conv.RootID, ThreadOptions{})
				if err != nil || len(th.Tweets) != len(conv.Visible())+1 {
					t.Errorf("thread: %d tweets, %v", len(th.Tweets), err)
				}
				return
			}
			q := queries[g%len(queries)]
			n := 0
			err := c.Search(context.Background(), SearchOptions{Query: q, Limit: 100}, func(p Page) error {
				n += len(p.Tweets)
				return nil
			})
			if want := min(100, len(srv.MatchingIDs(q, "Latest"))); err != nil || n != want {
				t.Errorf("search %q: %d tweets (want %d), %v", q, n, want, err)
			}
		}()
	}
	wg.Wait()
	if tr.max < 2 {
		t.Errorf("at most %d requests were in flight at once: the test did not run concurrently", tr.max)
	}
	if waits.Load() == 0 {
		t.Errorf("no operation waited for an account: %d goroutines on %d accounts should", goroutines, accounts)
	}
	if store.acquired < goroutines {
		t.Errorf("%d leases for %d operations", store.acquired, goroutines)
	}
	if len(store.held) != 0 {
		t.Errorf("leases not released: %v", store.held)
	}
}

// TestLeaseRenewal: a search that outlives its lease hands the account back and takes
// a lease again before the old one ends, so the store never sees an expired lease
// still in use.
func TestLeaseRenewal(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{
		xopts: []xfake.Option{xfake.WithCorpus(11, 2000), xfake.WithRateLimit(OpSearchTimeline, xfake.Limit{})},
		opts:  func(o *Options) { o.Lease = time.Minute },
	})
	rec := &leaseLog{AccountStore: h.accts, now: h.clock.Now}
	h.c.accounts = rec
	err := h.c.Search(context.Background(), SearchOptions{Query: "the", Limit: 200}, func(Page) error {
		h.clock.Advance(25 * time.Second) // a slow consumer
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rec.leases < 3 {
		t.Fatalf("%d leases over %v; want the lease renewed", rec.leases, 10*25*time.Second)
	}
	if rec.late != 0 {
		t.Fatalf("%d leases released after they ended", rec.late)
	}
}

type leaseLog struct {
	AccountStore
	now    func() time.Time
	mu     sync.Mutex
	until  map[int64]time.Time
	leases int
	late   int
}

func (l *leaseLog) Acquire(ctx context.Context, op string, now, until time.Time) (Account, error) {
	a, err := l.AccountStore.Acquire(ctx, op, now, until)
	if err == nil {
		l.mu.Lock()
		if l.until == nil {
			l.until = map[int64]time.Time{}
		}
		l.until[a.ID] = until
		l.leases++
		l.mu.Unlock()
	}
	return a, err
}

func (l *leaseLog) Release(ctx context.Context, id int64, op string, o Outcome) error {
	l.mu.Lock()
	if l.now().After(l.until[id]) {
		l.late++
	}
	l.mu.Unlock()
	return l.AccountStore.Release(ctx, id, op, o)
}
