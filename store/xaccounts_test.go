package store

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestXAccountPool(t *testing.T) {
	t.Parallel()
	s := openTest(t, filepath.Join(t.TempDir(), "nexus.db"))
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	other, _ := s.CreateOrganization(ctx, "B")
	cookies := []byte(`{"auth_token":"secret-auth-token-value","ct0":"csrf"}`)
	a1, err := s.AddXAccount(ctx, org.ID, "one", cookies, "socks5://user:pw@127.0.0.1:1080", "UA1")
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := s.AddXAccount(ctx, org.ID, "two", cookies, "", "UA2")
	if _, err := s.AddXAccount(ctx, org.ID, "one", cookies, "", "UA"); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate name: %v", err)
	}
	s.AddXAccount(ctx, other.ID, "theirs", cookies, "", "UA")

	// Sealed at rest: neither the cookie nor the proxy password is in the file.
	var raw, rawProxy []byte
	s.rw.QueryRowContext(ctx, `SELECT cookies, proxy FROM x_accounts WHERE id = ?`, a1.ID).Scan(&raw, &rawProxy)
	if bytes.Contains(raw, []byte("secret-auth-token-value")) || bytes.Contains(rawProxy, []byte("pw@")) {
		t.Fatal("cookies or proxy stored in clear")
	}

	now := time.Now()
	lease := now.Add(time.Minute)
	got1, err := s.AcquireXAccount(ctx, org.ID, "SearchTimeline", now, lease)
	if err != nil || got1.ID != a1.ID || !bytes.Equal(got1.Cookies, cookies) || got1.Proxy != "socks5://user:pw@127.0.0.1:1080" {
		t.Fatalf("first acquire: %+v %v", got1, err)
	}
	got2, err := s.AcquireXAccount(ctx, org.ID, "SearchTimeline", now, lease)
	if err != nil || got2.ID != a2.ID {
		t.Fatalf("second acquire must take the other account: %+v %v", got2, err)
	}
	// Both leased for search; TweetDetail is a separate queue.
	var nf *NoXAccountError
	// Both are only leased: expected to free within a second, not at the lease's end.
	if _, err := s.AcquireXAccount(ctx, org.ID, "SearchTimeline", now, lease); !errors.As(err, &nf) || !nf.NextFree.Equal(now.Add(time.Second).UTC().Truncate(time.Microsecond)) {
		t.Fatalf("third acquire: %v (next free %v, want %v)", err, nf, now.Add(time.Second))
	}
	if _, err := s.AcquireXAccount(ctx, org.ID, "TweetDetail", now, lease); err != nil {
		t.Fatalf("other operation: %v", err)
	}

	// A rate limit locks the operation until reset; releasing the other frees it.
	reset := now.Add(10 * time.Minute)
	s.ReleaseXAccount(ctx, a1.ID, "SearchTimeline", XOutcome{Requests: 3, LockedUntil: reset, LastError: "rate limited"})
	s.ReleaseXAccount(ctx, a2.ID, "SearchTimeline", XOutcome{Requests: 1, Success: true})
	for range 3 {
		g, err := s.AcquireXAccount(ctx, org.ID, "SearchTimeline", now.Add(time.Second), now.Add(2*time.Second))
		if err != nil || g.ID != a2.ID {
			t.Fatalf("locked account chosen: %+v %v", g, err)
		}
		s.ReleaseXAccount(ctx, a2.ID, "SearchTimeline", XOutcome{Requests: 1, Success: true})
	}
	// After the reset the LRU account comes back first.
	g, err := s.AcquireXAccount(ctx, org.ID, "SearchTimeline", reset.Add(time.Second), reset.Add(time.Minute))
	if err != nil || g.ID != a1.ID {
		t.Fatalf("after reset: %+v %v", g, err)
	}
	s.ReleaseXAccount(ctx, a1.ID, "SearchTimeline", XOutcome{Deactivate: true, LastError: "banned (64)"})

	list, _ := s.XAccounts(ctx, org.ID)
	if len(list) != 2 || list[0].Name != "one" || list[0].Active || list[0].LastError != "banned (64)" || !list[0].ProxySet {
		t.Fatalf("listing: %+v", list)
	}
	if list[0].Ops["SearchTimeline"].Requests != 3 || list[1].Ops["SearchTimeline"].Requests != 4 {
		t.Fatalf("counters: %+v / %+v", list[0].Ops, list[1].Ops)
	}
	if len(list[0].Cookies) != 0 || list[0].Proxy != "" {
		t.Fatal("listing carries secrets")
	}
	if err := s.ReactivateXAccount(ctx, other.ID, a1.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("reactivate from another org: %v", err)
	}
	if err := s.ReactivateXAccount(ctx, org.ID, a1.ID); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.XAccount(ctx, org.ID, a1.ID); !a.Active || a.LastError != "" {
		t.Fatalf("after reactivate: %+v", a)
	}

	// Bare 403: counted, then cleared by a success; a cooldown parks every operation.
	s.AcquireXAccount(ctx, org.ID, "UserTweets", now, lease)
	s.ReleaseXAccount(ctx, a1.ID, "UserTweets", XOutcome{Bare403: true, CooldownUntil: reset})
	if a, _ := s.XAccount(ctx, org.ID, a1.ID); a.Bare403s != 1 || a.CooldownUntil == nil {
		t.Fatalf("after bare 403: %+v", a)
	}
	s.ResetXLocks(ctx, org.ID)
	if a, _ := s.XAccount(ctx, org.ID, a1.ID); a.CooldownUntil != nil {
		t.Fatalf("reset-locks kept the cooldown: %+v", a)
	}
	if err := s.RemoveXAccount(ctx, other.ID, a2.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove from another org: %v", err)
	}
	if err := s.RemoveXAccount(ctx, org.ID, a2.ID); err != nil {
		t.Fatal(err)
	}
}

func TestXAccountLeaseNeverShared(t *testing.T) {
	t.Parallel()
	s := openTest(t, filepath.Join(t.TempDir(), "nexus.db"))
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	for _, n := range []string{"a", "b", "c"} {
		s.AddXAccount(ctx, org.ID, n, []byte("{}"), "", "UA")
	}
	var mu sync.Mutex
	inUse := map[int64]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				a, err := s.AcquireXAccount(ctx, org.ID, "SearchTimeline", time.Now(), time.Now().Add(time.Minute))
				var nf *NoXAccountError
				if errors.As(err, &nf) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if inUse[a.ID] {
					t.Errorf("account %d leased twice", a.ID)
				}
				inUse[a.ID] = true
				mu.Unlock()
				time.Sleep(time.Millisecond)
				mu.Lock()
				inUse[a.ID] = false
				mu.Unlock()
				s.ReleaseXAccount(ctx, a.ID, "SearchTimeline", XOutcome{Requests: 1, Success: true})
			}
		})
	}
	wg.Wait()
}
