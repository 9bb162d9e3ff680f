package scraper

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"nexus/scraper/xfake"
)

// onA matches account a's SearchTimeline requests.
var onA = xfake.All(xfake.OnAccount(token("a")), xfake.OnOperation(OpSearchTimeline))

// TestClassificationRows runs one search per row of research §1.6 (and the gaps of
// §1.7 fixed) against the fake X: account a gets the fault, b is the spare. Each row
// checks who served the pages, what happened to a, and that the search still
// returned every tweet, or failed as it must.
func TestClassificationRows(t *testing.T) {
	t.Parallel()
	type want struct {
		servedBy  string        // the accounts that answered with data, in order ("ab": a then b)
		active    bool          // a is still active
		lockedFor time.Duration // a's lock on SearchTimeline from the start (0: none; -1: any future time)
		cooldown  time.Duration // a's account-wide rest
		bare403s  int
		lastError string // substring of a's last error ("" : none)
		sleeps    int    // backoffs taken
		err       string // the search fails with this ("" : succeeds)
	}
	tests := []struct {
		name   string
		fault  xfake.Fault
		times  int
		before func(h *harness)
		opts   func(o *Options)
		want   want
	}{
		{name: "32 could not authenticate", fault: xfake.FaultCouldNotAuthenticate(),
			want: want{servedBy: "b", lastError: "could not authenticate"}},
		{name: "64 suspended", fault: xfake.FaultSuspended(),
			want: want{servedBy: "b", lastError: "suspended"}},
		{name: "326 locked", fault: xfake.FaultLocked(),
			want: want{servedBy: "b", lastError: "account locked"}},
		{name: "88 with quota left is a soft ban", fault: xfake.FaultSoftBan(),
			want: want{servedBy: "b", lastError: "read-only"}},
		{name: "88 rate limited locks until the reset", fault: xfake.FaultRateLimited(),
			want: want{servedBy: "b", active: true, lockedFor: 15 * time.Minute, lastError: "rate limit"}},
		{name: "429 without headers locks 15 minutes", fault: xfake.FaultRateLimitedNoHeaders(),
			want: want{servedBy: "b", active: true, lockedFor: DefaultLock, lastError: "rate limited"}},
		{name: "bare 403 once is a cooldown", fault: xfake.FaultBare403(),
			want: want{servedBy: "b", active: true, cooldown: Bare403Cooldown, bare403s: 1, lastError: "cooldown"}},
		{name: "bare 401 is an auth failure", fault: xfake.FaultBare401(),
			want: want{servedBy: "b", lastError: "auth failed"}},
		{name: "Cloudflare once is retried", fault: xfake.FaultCloudflare(403), times: 1,
			want: want{servedBy: "a", active: true, sleeps: 1}},
		{name: "Cloudflare until the retries are spent", fault: xfake.FaultCloudflare(503), times: 4,
			want: want{servedBy: "b", active: true, lockedFor: -1, lastError: "Cloudflare", sleeps: 3}},
		{name: "LoadShed is retried", fault: xfake.FaultLoadShed(), times: 2,
			want: want{servedBy: "a", active: true, sleeps: 2}},
		{name: "131 is retried", fault: xfake.FaultDependency(), times: 1,
			want: want{servedBy: "a", active: true, sleeps: 1}},
		{name: "500 is retried", fault: xfake.FaultServerError(), times: 1,
			want: want{servedBy: "a", active: true, sleeps: 1}},
		{name: "connection reset is retried", fault: xfake.FaultReset(), times: 1,
			want: want{servedBy: "a", active: true, sleeps: 1}},
		{name: "timeout is retried", fault: xfake.FaultSlow(5 * time.Second), times: 1,
			opts: func(o *Options) { o.RequestTimeout = 200 * time.Millisecond },
			want: want{servedBy: "a", active: true, sleeps: 1}},
		{name: "malformed JSON is retried", fault: xfake.FaultInvalidJSON(), times: 1,
			want: want{servedBy: "a", active: true, sleeps: 1}},
		{name: "errors beside data are data", fault: xfake.FaultPartial(), times: 1,
			want: want{servedBy: "a", active: true}},
		{name: "336 names the missing features", fault: xfake.Fault{}, times: 1,
			before: func(h *harness) { h.srv.SetRequiredFeatures(OpSearchTimeline, "brand_new_flag", "other_flag") },
			want:   want{active: true, err: "brand_new_flag, other_flag"}},
		{name: "one empty 404 switches the method", fault: xfake.FaultEmpty404(), times: 1,
			want: want{servedBy: "a", active: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, setup{xopts: []xfake.Option{xfake.WithCorpus(5, 2000)}, opts: tt.opts})
			start := h.clock.Now()
			h.srv.InjectFault(onA, tt.fault, tt.times)
			if tt.before != nil {
				tt.before(h)
			}
			got, err := h.search(SearchOptions{Query: "the", Limit: 50})
			if tt.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want.err) {
					t.Fatalf("err = %v, want %q", err, tt.want.err)
				}
			} else if err != nil || len(got) != 50 {
				t.Fatalf("search: %d tweets, %v", len(got), err)
			} else if want := h.srv.MatchingIDs("the", "Latest")[:50]; strings.Join(tweetIDs(got), ",") != strings.Join(want, ",") {
				t.Fatalf("tweets differ from the fake's first 50 matches")
			}
			served := ""
			for _, r := range h.opRequests(OpSearchTimeline) {
				if r.Status == http.StatusOK && r.Fault == "" || r.Fault == "partial" {
					if n := strings.TrimPrefix(r.Account, "tok-"); !strings.HasSuffix(served, n) {
						served += n
					}
				}
			}
			if served != tt.want.servedBy {
				t.Errorf("served by %q, want %q", served, tt.want.servedBy)
			}
			a := h.state(t, "a")
			if a.Active != tt.want.active {
				t.Errorf("a active = %v, want %v (last error %q)", a.Active, tt.want.active, a.LastError)
			}
			lock := a.Operations[OpSearchTimeline].LockedUntil
			switch {
			case tt.want.lockedFor == 0 && !lock.IsZero():
				t.Errorf("a locked until %v", lock)
			case tt.want.lockedFor < 0 && !lock.After(start):
				t.Errorf("a not locked: %v", lock)
			case tt.want.lockedFor > 0 && (lock.Before(start.Add(tt.want.lockedFor)) || lock.After(start.Add(tt.want.lockedFor+time.Minute))):
				t.Errorf("a locked until %v, want about %v", lock, start.Add(tt.want.lockedFor))
			}
			if tt.want.cooldown > 0 && !a.CooldownUntil.Equal(start.Add(tt.want.cooldown)) || tt.want.cooldown == 0 && !a.CooldownUntil.IsZero() {
				t.Errorf("a cooldown until %v, want %v from the start", a.CooldownUntil, tt.want.cooldown)
			}
			if a.Bare403s != tt.want.bare403s {
				t.Errorf("a bare 403s = %d, want %d", a.Bare403s, tt.want.bare403s)
			}
			if tt.want.lastError == "" && a.LastError != "" || !strings.Contains(a.LastError, tt.want.lastError) {
				t.Errorf("a last error %q, want %q", a.LastError, tt.want.lastError)
			}
			for _, secret := range []string{"tok-", "ct0-", "v1%3A17"} {
				if strings.Contains(a.LastError, secret) || strings.Contains(h.logs.String(), secret) {
					t.Errorf("a cookie reached the last error or the log: %q", secret)
				}
			}
			if n := len(h.clock.Sleeps()); n != tt.want.sleeps {
				t.Errorf("%d backoffs, want %d", n, tt.want.sleeps)
			}
		})
	}
}

func TestFeaturesDriftIsTyped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{xopts: []xfake.Option{xfake.WithCorpus(5, 300)}})
	h.srv.SetRequiredFeatures(OpSearchTimeline, "brand_new_flag")
	_, err := h.search(SearchOptions{Query: "the"})
	var fe *FeaturesError
	if !errors.As(err, &fe) || fe.Operation != OpSearchTimeline || strings.Join(fe.Features, ",") != "brand_new_flag" {
		t.Fatalf("err = %v, want a *FeaturesError naming brand_new_flag", err)
	}
	if n := len(h.opRequests(OpSearchTimeline)); n != 1 {
		t.Fatalf("%d requests, want 1: the next account would get the same answer", n)
	}
}

// TestBare403TwiceIsABan: the first bare 403 rests the account; when it is back and
// gets another one before any success, it is banned.
func TestBare403TwiceIsABan(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{xopts: []xfake.Option{xfake.WithCorpus(6, 1000)}})
	h.srv.InjectFault(onA, xfake.FaultBare403(), 2)
	if _, err := h.search(SearchOptions{Query: "the", Limit: 30}); err != nil {
		t.Fatal(err)
	}
	if a := h.state(t, "a"); !a.Active || a.Bare403s != 1 {
		t.Fatalf("after one bare 403: %+v", a)
	}
	h.clock.Advance(Bare403Cooldown)
	if _, err := h.search(SearchOptions{Query: "the", Limit: 30}); err != nil {
		t.Fatal(err)
	}
	a := h.state(t, "a")
	if a.Active || !strings.Contains(a.LastError, "2 times in a row") {
		t.Fatalf("after a second bare 403: %+v", a)
	}
	if h.srv.CountAccount(token("a"), OpSearchTimeline) != 2 {
		t.Fatalf("a sent %d requests, want 2", h.srv.CountAccount(token("a"), OpSearchTimeline))
	}
}

func TestTransientBoundAcrossAccounts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{xopts: []xfake.Option{xfake.WithCorpus(6, 300)}, accounts: []string{"a", "b", "c", "d"}})
	h.srv.InjectFault(xfake.OnOperation(OpSearchTimeline), xfake.FaultOverCapacity(), 0)
	_, err := h.search(SearchOptions{Query: "the"})
	if err == nil || !strings.Contains(err.Error(), "X keeps failing with 3 accounts") {
		t.Fatalf("err = %v", err)
	}
	if n := len(h.opRequests(OpSearchTimeline)); n != 3*4 {
		t.Fatalf("%d requests, want 3 accounts × 4 tries", n)
	}
	if d := h.state(t, "d"); !d.Operations[OpSearchTimeline].LockedUntil.IsZero() {
		t.Fatal("the fourth account should not have been tried")
	}
}

func TestEmpty404MethodSwitch(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{xopts: []xfake.Option{xfake.WithCorpus(7, 1000)}})
	h.srv.SetMethods(OpSearchTimeline, http.MethodPost)
	got, err := h.search(SearchOptions{Query: "the", Limit: 60})
	if err != nil || len(got) != 60 {
		t.Fatalf("search: %d, %v", len(got), err)
	}
	var methods []string
	for _, r := range h.opRequests(OpSearchTimeline) {
		methods = append(methods, fmt.Sprintf("%s %d", r.Method, r.Status))
	}
	if strings.Join(methods, ",") != "GET 404,POST 200,POST 200,POST 200" {
		t.Fatalf("requests %v: want one GET 404, then POST only", methods)
	}
	if h.c.Operations()[OpSearchTimeline].Method != http.MethodPost {
		t.Fatal("the table should remember POST")
	}
	if a := h.state(t, "a"); a.LastError != "" || !a.Operations[OpSearchTimeline].LockedUntil.IsZero() {
		t.Fatalf("a 404 is not the account's fault: %+v", a)
	}
}

// newOpsWeb serves an x.com whose bundle declares the given operation ids.
func newOpsWeb(t *testing.T, ids map[string]string) (*httptest.Server, *int) {
	t.Helper()
	loads := new(int)
	mux := http.NewServeMux()
	mux.HandleFunc("/home", func(w http.ResponseWriter, r *http.Request) {
		*loads++
		fmt.Fprint(w, `<html><script src="/x-web/assets/main-Ab12.js"></script></html>`)
	})
	mux.HandleFunc("/x-web/assets/main-Ab12.js", func(w http.ResponseWriter, r *http.Request) {
		for name, id := range ids {
			fmt.Fprintf(w, `e.exports={queryId:"%s",operationName:"%s",operationType:"query"};`, id, name)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, loads
}

func TestEmpty404Rediscovery(t *testing.T) {
	t.Parallel()
	const newID = "NewSearchId_0123456789"
	web, loads := newOpsWeb(t, map[string]string{OpSearchTimeline: newID, OpTweetDetail: xfake.DefaultTweetDetailID})
	h := newHarness(t, setup{xopts: []xfake.Option{xfake.WithCorpus(8, 1000)}, opts: func(o *Options) { o.WebBase = web.URL }})
	h.srv.SetOperation(OpSearchTimeline, newID)
	got, err := h.search(SearchOptions{Query: "the", Limit: 40})
	if err != nil || len(got) != 40 {
		t.Fatalf("search: %d, %v", len(got), err)
	}
	if id := h.c.Operations()[OpSearchTimeline].ID; id != newID {
		t.Fatalf("table id %s, want %s", id, newID)
	}
	var seen []string
	for _, r := range h.opRequests(OpSearchTimeline) {
		seen = append(seen, fmt.Sprintf("%s %s %d", r.QueryID[:3], r.Method, r.Status))
	}
	if strings.Join(seen, ",") != "BGd GET 404,BGd POST 404,New GET 200,New GET 200" {
		t.Fatalf("requests %v", seen)
	}
	if *loads != 1 {
		t.Fatalf("web app loaded %d times, want 1", *loads)
	}
}

func TestEmpty404Unfixable(t *testing.T) {
	t.Parallel()
	web, loads := newOpsWeb(t, map[string]string{OpSearchTimeline: xfake.DefaultSearchTimelineID})
	h := newHarness(t, setup{xopts: []xfake.Option{xfake.WithCorpus(8, 300)}, opts: func(o *Options) { o.WebBase = web.URL }})
	h.srv.SetOperation(OpSearchTimeline, "SomethingElse")
	for range 2 {
		_, err := h.search(SearchOptions{Query: "the"})
		var se *StaleOperationError
		if !errors.As(err, &se) || se.Operation != OpSearchTimeline || !strings.Contains(err.Error(), "SearchTimeline") {
			t.Fatalf("err = %v, want a *StaleOperationError", err)
		}
	}
	if *loads != 1 {
		t.Fatalf("web app loaded %d times: re-discovery must be rate-limited", *loads)
	}
	if n := len(h.opRequests(OpSearchTimeline)); n != 4 {
		t.Fatalf("%d requests, want GET and POST per search", n)
	}
}

func TestAccountWithoutSessionCookies(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{xopts: []xfake.Option{xfake.WithCorpus(9, 300)}, accounts: []string{}})
	broken := h.accts.Add(Account{Name: "broken", Cookies: Cookies{"auth_token": "t"}})
	h.srv.AddAccount(token("a"), csrf("a"))
	h.accts.Add(Account{Name: "a", Cookies: Cookies{"auth_token": token("a"), "ct0": csrf("a")}})
	if got, err := h.search(SearchOptions{Query: "the", Limit: 10}); err != nil || len(got) != 10 {
		t.Fatalf("search: %d, %v", len(got), err)
	}
	s, _ := h.accts.State(broken.ID)
	if s.Active || s.LastError != "missing auth_token or ct0 cookie" {
		t.Fatalf("broken account: %+v", s)
	}
	if h.srv.CountAccount("t", "") != 0 || len(h.opRequests(OpSearchTimeline)) != 1 {
		t.Fatal("nothing should be sent without the session cookies")
	}
}
