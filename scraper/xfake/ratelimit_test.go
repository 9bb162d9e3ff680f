package xfake

import (
	"strconv"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newTestServer(t, WithClock(clock.Now), WithRateLimit(OpSearchTimeline, Limit{Requests: 3, Window: 15 * time.Minute}))
	s.AddTweet(Tweet{Text: "rate limited words"})
	wantReset := strconv.FormatInt(clock.Now().Add(15*time.Minute).Unix(), 10)
	for i, want := range []string{"2", "1", "0"} {
		res := do(t, s, call{vars: searchVars("words")})
		if res.status != 200 {
			t.Fatalf("request %d: %d", i+1, res.status)
		}
		if got := res.header.Get("x-rate-limit-remaining"); got != want {
			t.Errorf("request %d: remaining %s, want %s", i+1, got, want)
		}
		if res.header.Get("x-rate-limit-limit") != "3" || res.header.Get("x-rate-limit-reset") != wantReset {
			t.Errorf("request %d: limit %s reset %s, want reset %s", i+1, res.header.Get("x-rate-limit-limit"), res.header.Get("x-rate-limit-reset"), wantReset)
		}
		// The request that brings remaining to 0 still carries data.
		if len(arr(res.json, "data", "search_by_raw_query", "search_timeline", "timeline", "instructions", 0, "entries")) == 0 {
			t.Errorf("request %d: no entries", i+1)
		}
	}
	res := do(t, s, call{vars: searchVars("words")})
	if res.status != 429 || string(res.body) != `{"errors":[{"code":88,"message":"Rate limit exceeded."}]}` {
		t.Fatalf("4th: %d %s", res.status, res.body)
	}
	if res.header.Get("x-rate-limit-remaining") != "0" || res.header.Get("x-rate-limit-reset") != wantReset {
		t.Errorf("429 headers: %v", res.header)
	}
	// Other accounts and operations have their own quota.
	if res := do(t, s, call{token: tokB, vars: searchVars("words")}); res.status != 200 {
		t.Errorf("account B: %d", res.status)
	}
	if res := do(t, s, call{op: OpTweetDetail, vars: map[string]any{"focalTweetId": "1"}}); res.status != 200 || res.header.Get("x-rate-limit-limit") != "150" {
		t.Errorf("TweetDetail: %d %v", res.status, res.header)
	}
	if rem, reset := s.RateLimit(tokA, OpSearchTimeline); rem != 0 || strconv.FormatInt(reset.Unix(), 10) != wantReset {
		t.Errorf("RateLimit: %d %v", rem, reset)
	}

	clock.Advance(15*time.Minute - time.Second)
	if res := do(t, s, call{vars: searchVars("words")}); res.status != 429 {
		t.Errorf("before reset: %d", res.status)
	}
	clock.Advance(time.Second)
	res = do(t, s, call{vars: searchVars("words")})
	if res.status != 200 || res.header.Get("x-rate-limit-remaining") != "2" {
		t.Fatalf("after reset: %d remaining %s", res.status, res.header.Get("x-rate-limit-remaining"))
	}
	if got, want := res.header.Get("x-rate-limit-reset"), strconv.FormatInt(clock.Now().Add(15*time.Minute).Unix(), 10); got != want {
		t.Errorf("new window reset %s, want %s", got, want)
	}

	// The log shows the account was not served between its 429 and the reset.
	var limitedAt time.Time
	for _, r := range s.Requests() {
		if r.Account != tokA || r.Operation != OpSearchTimeline {
			continue
		}
		if r.Status == 429 && limitedAt.IsZero() {
			limitedAt = r.Time
		}
		if !limitedAt.IsZero() && r.Status == 200 && r.Time.Before(limitedAt.Add(15*time.Minute)) {
			t.Errorf("served at %v while limited", r.Time)
		}
	}
}

func TestSetRemaining(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newTestServer(t, WithClock(clock.Now))
	s.SetRemaining(tokA, OpSearchTimeline, 0)
	if res := do(t, s, call{vars: searchVars("x")}); res.status != 429 {
		t.Fatalf("exhausted account: %d", res.status)
	}
	s.SetRemaining(tokA, OpSearchTimeline, 1)
	if res := do(t, s, call{vars: searchVars("x")}); res.status != 200 || res.header.Get("x-rate-limit-remaining") != "0" {
		t.Fatalf("one left: %d %s", res.status, res.header.Get("x-rate-limit-remaining"))
	}
	s.SetRateLimit(OpSearchTimeline, Limit{})
	if res := do(t, s, call{vars: searchVars("x")}); res.status != 200 || res.header.Get("x-rate-limit-limit") != "" {
		t.Fatalf("unlimited: %d %v", res.status, res.header)
	}
}
