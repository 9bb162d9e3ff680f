package scraper

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"nexus/scraper/xfake"
)

// testClock is the injected clock of the client and of the fake X: Sleep advances it,
// so backoffs and waits for accounts take no real time.
type testClock struct {
	mu    sync.Mutex
	t     time.Time
	slept []time.Duration
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 7, 9, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *testClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.slept = append(c.slept, d)
	return nil
}

func (c *testClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.slept)
}

// syncBuffer collects log lines from concurrent goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func token(name string) string { return "tok-" + name }
func csrf(name string) string  { return "ct0-" + name }

// harness is a client wired to a fake X and an in-memory pool, on one fake clock.
type harness struct {
	srv   *xfake.Server
	clock *testClock
	accts *MemAccounts
	c     *Client
	logs  *syncBuffer
	ids   map[string]int64 // account name → id
}

type setup struct {
	xopts    []xfake.Option
	accounts []string // default a, b
	opts     func(*Options)
}

func newHarness(t testing.TB, s setup) *harness {
	t.Helper()
	h := &harness{clock: newTestClock(), accts: NewMemAccounts(), logs: &syncBuffer{}, ids: map[string]int64{}}
	h.srv = xfake.New(append([]xfake.Option{xfake.WithClock(h.clock.Now)}, s.xopts...)...)
	t.Cleanup(h.srv.Close)
	names := s.accounts
	if names == nil {
		names = []string{"a", "b"}
	}
	for _, n := range names {
		h.srv.AddAccount(token(n), csrf(n))
		a := h.accts.Add(Account{Name: n, Cookies: Cookies{"auth_token": token(n), "ct0": csrf(n), "guest_id": "v1%3A17"}})
		h.ids[n] = a.ID
	}
	o := Options{
		APIBase: h.srv.URL(), WebBase: deadWeb(t).URL, TransactionID: "off", Accounts: h.accts,
		HTTPClient: func(string) (*http.Client, error) { return h.srv.Client(), nil },
		Log:        zerolog.New(h.logs).Level(zerolog.DebugLevel),
		Now:        h.clock.Now, Sleep: h.clock.Sleep,
	}
	if s.opts != nil {
		s.opts(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.c = c
	return h
}

// deadWeb is an x.com that serves nothing: transaction ids fall back, discovery fails.
func deadWeb(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	return srv
}

func (h *harness) state(t testing.TB, name string) AccountState {
	t.Helper()
	s, ok := h.accts.State(h.ids[name])
	if !ok {
		t.Fatalf("no account %s", name)
	}
	return s
}

// search runs a search and returns every tweet the callback received.
func (h *harness) search(o SearchOptions) ([]Tweet, error) {
	var got []Tweet
	err := h.c.Search(context.Background(), o, func(p Page) error {
		got = append(got, p.Tweets...)
		return nil
	})
	return got, err
}

// opRequests are the fake's log entries for op that reached an account.
func (h *harness) opRequests(op string) []xfake.Request {
	var out []xfake.Request
	for _, r := range h.srv.Requests() {
		if r.Operation == op {
			out = append(out, r)
		}
	}
	return out
}

func tweetIDs(ts []Tweet) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

// checkTweet compares a parsed tweet with what the fake stored.
func checkTweet(t testing.TB, srv *xfake.Server, got Tweet) {
	t.Helper()
	want, ok := srv.Tweet(got.ID)
	if !ok {
		t.Errorf("tweet %s is not the fake's", got.ID)
		return
	}
	u, _ := srv.User(want.AuthorID)
	fail := func(field string, g, w any) { t.Errorf("tweet %s: %s = %v, want %v", got.ID, field, g, w) }
	if got.UserID != want.AuthorID || got.Username != u.ScreenName || got.DisplayName != u.Name {
		fail("author", got.UserID+"/"+got.Username+"/"+got.DisplayName, want.AuthorID+"/"+u.ScreenName+"/"+u.Name)
	}
	if got.URL != "https://x.com/"+u.ScreenName+"/status/"+got.ID {
		fail("url", got.URL, u.ScreenName)
	}
	if !got.CreatedAt.Equal(want.CreatedAt.Truncate(time.Second)) {
		fail("created_at", got.CreatedAt, want.CreatedAt)
	}
	// X shows links through t.co in the text, and a media link at its end.
	text := want.Text
	for _, l := range want.Links() {
		text = strings.Replace(text, l, xfake.TCo(l), 1)
	}
	if want.RetweetedID == "" && got.Text != text && !strings.HasPrefix(got.Text, text+" https://t.co/") {
		fail("text", got.Text, text)
	}
	if got.Lang != want.Lang || got.LikeCount != want.LikeCount || got.RetweetCount != want.RetweetCount ||
		got.QuoteCount != want.QuoteCount || got.BookmarkCount != want.BookmarkCount {
		fail("lang and counts", []any{got.Lang, got.LikeCount, got.RetweetCount, got.QuoteCount, got.BookmarkCount},
			[]any{want.Lang, want.LikeCount, want.RetweetCount, want.QuoteCount, want.BookmarkCount})
	}
	if got.ReplyCount < want.ReplyCount {
		fail("reply_count", got.ReplyCount, want.ReplyCount)
	}
	switch {
	case want.NoViews && got.ViewCount != nil:
		fail("view_count", *got.ViewCount, "none")
	case !want.NoViews && (got.ViewCount == nil || *got.ViewCount != want.ViewCount):
		fail("view_count", got.ViewCount, want.ViewCount)
	}
	if conv := cmpOr(want.ConversationID, want.ID); got.ConversationID != conv {
		fail("conversation_id", got.ConversationID, conv)
	}
	for _, f := range []struct {
		name string
		got  *string
		want string
	}{{"in_reply_to_id", got.InReplyToID, want.InReplyToID}, {"quoted_id", got.QuotedID, want.QuotedID}, {"retweeted_id", got.RetweetedID, want.RetweetedID}} {
		if g := deref(f.got); (f.want == "" && f.got != nil) || (f.want != "" && g != f.want) {
			fail(f.name, g, f.want)
		}
	}
	if len(got.Media) != len(want.Media) {
		fail("media", len(got.Media), len(want.Media))
	}
	if want.RetweetedID == "" && !slices.Equal(got.Hashtags, dedupe(want.Hashtags())) {
		fail("hashtags", got.Hashtags, want.Hashtags())
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
