package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"nexus/pipeline/deliver"
	"nexus/pipeline/deliver/delivertest"
	"nexus/pipeline/deliver/slack/slackfake"
)

// newTestClient returns a client on the fake with a fake clock; the fake runs on
// loopback, so the guard is off through a plain http.Client.
func newTestClient(t *testing.T, cfg Config) (*Client, *delivertest.Clock) {
	t.Helper()
	c := New(cfg, &http.Client{Timeout: 5 * time.Second})
	clk := delivertest.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	c.now, c.sleep = clk.Now, clk.Sleep
	return c, clk
}

func one(t *testing.T) deliver.Message {
	t.Helper()
	return deliver.Message{Opportunities: delivertest.Opportunities("Acme listening", 1), IdempotencyKey: "del-1"}
}

func TestWebhookPayload(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	c, _ := newTestClient(t, Config{WebhookURL: fake.WebhookURL()})
	if err := c.Send(context.Background(), one(t)); err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 || msgs[0].Mode != "webhook" {
		t.Fatalf("messages = %+v", msgs)
	}
	js := blocksJSON(msgs[0].Blocks)
	for _, want := range []string{
		`"type":"header"`, "Acme listening",
		"A Founder", "@founder", "&lt;asking&gt; #0 &amp; more", // tweet text cannot form Slack markup
		"User 0", "=HYPERLINK", ":heart: 10",
		"Why it's an opportunity", "mentions budget",
		"Suggested reply 1", "```We built Nexus",
		`"type":"actions"`, "Open in X", "Open conversation", "https://x.com/user0/status/1910000000000000000",
		"Relevance* 50/100", "Sentiment* positive",
	} {
		if !strings.Contains(js, want) {
			t.Errorf("blocks lack %q\n%s", want, js)
		}
	}
	if msgs[0].Blocks[0]["type"] != "header" {
		t.Errorf("first block = %v, want header", msgs[0].Blocks[0]["type"])
	}
	if !strings.Contains(msgs[0].Text, "@user0") {
		t.Errorf("fallback text %q", msgs[0].Text)
	}
}

func TestBotPostMessage(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	c, _ := newTestClient(t, Config{BotToken: slackfake.Token, Channel: slackfake.Channel, APIURL: fake.APIURL()})
	if err := c.Send(context.Background(), one(t)); err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 {
		t.Fatalf("got %d messages", len(msgs))
	}
	m := msgs[0]
	if m.Mode != "bot" || m.Channel != slackfake.Channel || len(m.Blocks) < 5 {
		t.Fatalf("message = %+v", m)
	}
	if m.Metadata["event_type"] != metadataEvent {
		t.Errorf("metadata = %v", m.Metadata)
	}
	payload, _ := m.Metadata["event_payload"].(map[string]any)
	if payload["idempotency_key"] != "del-1" {
		t.Errorf("metadata payload = %v", payload)
	}
}

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		bot       bool
		token     string
		channel   string
		fault     *slackfake.Fault
		permanent bool
		retry     bool
		after     time.Duration
	}{
		{name: "bot 429", bot: true, fault: &slackfake.Fault{Status: 429, RetryAfter: "30"}, retry: true, after: 30 * time.Second},
		{name: "webhook 429", fault: &slackfake.Fault{Status: 429, RetryAfter: "12"}, retry: true, after: 12 * time.Second},
		{name: "bot invalid_auth", bot: true, token: "xoxb-wrong", permanent: true},
		{name: "bot channel_not_found", bot: true, channel: "C404", permanent: true},
		{name: "bot not_in_channel", bot: true, fault: &slackfake.Fault{Error: "not_in_channel"}, permanent: true},
		{name: "bot internal_error", bot: true, fault: &slackfake.Fault{Error: "internal_error"}, retry: true},
		{name: "bot 503", bot: true, fault: &slackfake.Fault{Status: 503}, retry: true},
		{name: "webhook 500", fault: &slackfake.Fault{Status: 500}, retry: true},
		{name: "webhook 404 no_service", fault: &slackfake.Fault{Status: 404, Error: "no_service"}, permanent: true},
		{name: "webhook 403 invalid_token", fault: &slackfake.Fault{Status: 403, Error: "invalid_token"}, permanent: true},
		{name: "webhook 410 archived", fault: &slackfake.Fault{Status: 410, Error: "channel_is_archived"}, permanent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := slackfake.New(t)
			cfg := Config{WebhookURL: fake.WebhookURL()}
			if tt.bot {
				cfg = Config{BotToken: slackfake.Token, Channel: slackfake.Channel, APIURL: fake.APIURL()}
				if tt.token != "" {
					cfg.BotToken = tt.token
				}
				if tt.channel != "" {
					cfg.Channel = tt.channel
				}
			}
			if tt.fault != nil {
				fake.Fail(*tt.fault)
			}
			c, _ := newTestClient(t, cfg)
			err := c.Send(context.Background(), one(t))
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if !strings.HasPrefix(err.Error(), "slack: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if got := deliver.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v (%v)", got, tt.permanent, err)
			}
			after, ok := deliver.RetryAfter(err)
			if ok != tt.retry || after != tt.after {
				t.Errorf("RetryAfter = %s, %v; want %s, %v (%v)", after, ok, tt.after, tt.retry, err)
			}
		})
	}
}

// TestRateLimitBacksOffChannel: after a 429 the client's own pacing for the channel
// honours Retry-After, so the next send waits instead of hammering Slack.
func TestRateLimitBacksOffChannel(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	c, clk := newTestClient(t, Config{BotToken: slackfake.Token, Channel: slackfake.Channel, APIURL: fake.APIURL()})
	fake.Fail(slackfake.Fault{Status: 429, RetryAfter: "20"})
	if err := c.Send(context.Background(), one(t)); err == nil {
		t.Fatal("want rate limit")
	}
	if err := c.Send(context.Background(), one(t)); err != nil {
		t.Fatal(err)
	}
	if got := clk.Slept(); !slices.Equal(got, []time.Duration{20 * time.Second}) {
		t.Fatalf("slept %v, want [20s]", got)
	}
}

func TestPerChannelLimiter(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	c, clk := newTestClient(t, Config{BotToken: slackfake.Token, Channel: slackfake.Channel, APIURL: fake.APIURL()})
	ctx := context.Background()

	// Three instant messages in one delivery: the second and third wait 1s each.
	m := deliver.Message{Opportunities: delivertest.Opportunities("c", 3)}
	if err := c.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got := clk.Slept(); !slices.Equal(got, []time.Duration{time.Second, time.Second}) {
		t.Fatalf("slept %v, want [1s 1s]", got)
	}
	// Half a second later the channel is still busy: wait the other half.
	clk.Advance(500 * time.Millisecond)
	if err := c.Send(ctx, one(t)); err != nil {
		t.Fatal(err)
	}
	if got := clk.Slept(); len(got) != 3 || got[2] != 500*time.Millisecond {
		t.Fatalf("slept %v, want a third wait of 500ms", got)
	}
	// After a quiet period there is no wait at all.
	clk.Advance(time.Minute)
	if err := c.Send(ctx, one(t)); err != nil {
		t.Fatal(err)
	}
	if got := clk.Slept(); len(got) != 3 {
		t.Fatalf("slept %v, want no new wait", got)
	}
	if n := len(fake.Messages()); n != 5 {
		t.Fatalf("fake saw %d messages, want 5", n)
	}
}

// TestLimiterKeyedByChannel: two channels do not wait on each other.
func TestLimiterKeyedByChannel(t *testing.T) {
	t.Parallel()
	c, clk := newTestClient(t, Config{BotToken: "x", Channel: "C1"})
	ctx := context.Background()
	for _, key := range []string{"C1", "C2", "C3", "C1"} {
		if err := c.wait(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	if got := clk.Slept(); !slices.Equal(got, []time.Duration{time.Second}) {
		t.Fatalf("slept %v, want only C1's second message to wait", got)
	}
}

func TestLimiterHonoursContext(t *testing.T) {
	t.Parallel()
	c := New(Config{BotToken: "x", Channel: "C1"}, http.DefaultClient)
	ctx, cancel := context.WithCancel(context.Background())
	if err := c.wait(ctx, "C1"); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := c.wait(ctx, "C1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestDigestSplitRespectsLimits(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	c, clk := newTestClient(t, Config{WebhookURL: fake.WebhookURL()})
	opps := delivertest.Opportunities("Busy campaign", 120)
	// Make some texts huge and full of characters that grow when escaped.
	for i := range opps {
		if i%10 == 0 {
			opps[i].Hit.Text = strings.Repeat("<&> 😀 ", 2000)
			opps[i].Hit.DisplayName = strings.Repeat("名", 300)
			opps[i].Reason = strings.Repeat("&", 5000)
			opps[i].SuggestedReplies = []string{strings.Repeat("```", 1000)}
		}
	}
	m := deliver.Message{Opportunities: opps, Digest: true, IdempotencyKey: "digest-1"}
	if err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	if len(msgs) < 3 {
		t.Fatalf("got %d messages, want the digest split", len(msgs))
	}
	if got := len(clk.Slept()); got != len(msgs)-1 {
		t.Errorf("slept %d times for %d messages", got, len(msgs))
	}
	var ids []string
	lastRel := 101
	for i, msg := range msgs {
		if len(msg.Blocks) > maxBlocks {
			t.Errorf("message %d has %d blocks", i, len(msg.Blocks))
		}
		checkTexts(t, fmt.Sprintf("message %d", i), msg.Blocks)
		for _, b := range msg.Blocks {
			acc, ok := b["accessory"].(map[string]any)
			if !ok {
				continue
			}
			ids = append(ids, strings.TrimPrefix(acc["action_id"].(string), "open_"))
			txt := b["text"].(map[string]any)["text"].(string)
			var rel int
			fmt.Sscanf(txt, "*%d*", &rel)
			if rel > lastRel {
				t.Errorf("relevance %d after %d: digest not sorted", rel, lastRel)
			}
			lastRel = rel
		}
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != 120 {
		t.Fatalf("digest carries %d distinct opportunities, want 120", len(ids))
	}
	if h := msgs[0].Blocks[0]["text"].(map[string]any)["text"].(string); !strings.Contains(h, "(1/") {
		t.Errorf("first header %q lacks the page number", h)
	}
}

// checkTexts walks decoded blocks and asserts every text object is within its limit,
// valid UTF-8, and never ends in half an HTML entity.
func checkTexts(t *testing.T, where string, blocks []map[string]any) {
	t.Helper()
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if s, ok := x["text"].(string); ok {
				limit := maxSectionText
				if strings.HasPrefix(path, "header") {
					limit = maxHeaderText
				}
				if textLen(s) > limit {
					t.Errorf("%s %s: text of %d units > %d", where, path, textLen(s), limit)
				}
				if !utf8.ValidString(s) {
					t.Errorf("%s %s: invalid UTF-8", where, path)
				}
				if i := strings.LastIndexByte(s, '&'); i >= 0 && !strings.Contains(s[i:], ";") {
					t.Errorf("%s %s: broken entity at end: %q", where, path, s[max(0, len(s)-12):])
				}
				if strings.Count(s, "```")%2 != 0 {
					t.Errorf("%s %s: unbalanced code fence", where, path)
				}
			}
			for k, v := range x {
				walk(path+"."+k, v)
			}
		case []any:
			for _, v := range x {
				walk(path, v)
			}
		}
	}
	for _, b := range blocks {
		walk(fmt.Sprint(b["type"]), b)
	}
}

func TestInstantLongTextTruncated(t *testing.T) {
	t.Parallel()
	o := delivertest.Opportunities("c", 1)[0]
	o.Hit.Text = strings.Repeat("a&b<c>\n", 3000)
	o.Root.Text = strings.Repeat("🚀", 5000)
	o.Insights = slices.Repeat([]string{strings.Repeat("i", 200)}, 40)
	o.SuggestedReplies = []string{strings.Repeat("&", 4000), "ok", "```"}
	p := instant(o, false)
	raw, _ := json.Marshal(p.blocks)
	var decoded []map[string]any
	json.Unmarshal(raw, &decoded)
	checkTexts(t, "instant", decoded)
	if len(decoded) > maxBlocks {
		t.Fatalf("%d blocks", len(decoded))
	}
}

func TestDigestMaxKeepsTopN(t *testing.T) {
	t.Parallel()
	opps := delivertest.Opportunities("c", 30)
	msgs := build(deliver.Message{Opportunities: opps, Digest: true}, 5)
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	raw := blocksJSON(msgs[0].blocks)
	if !strings.Contains(raw, "and 25 less relevant") {
		t.Errorf("no note about the 25 left out: %s", raw)
	}
	if n := strings.Count(raw, `"accessory"`); n != 5 {
		t.Errorf("%d items, want 5", n)
	}
}

// TestDigestResumesAfterFailure: a 500 on the third page fails the send; the retry
// with the same idempotency key posts only the pages not yet posted.
func TestDigestResumesAfterFailure(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	c, _ := newTestClient(t, Config{BotToken: slackfake.Token, Channel: slackfake.Channel, APIURL: fake.APIURL()})
	m := deliver.Message{Opportunities: delivertest.Opportunities("c", 100), Digest: true, IdempotencyKey: "d-9"}
	pages := len(build(m, 0))
	if pages < 4 {
		t.Fatalf("%d pages, want at least 4 for this test", pages)
	}
	fake.FailAfter(2, slackfake.Fault{Status: 500})
	ctx := context.Background()
	err := c.Send(ctx, m)
	if _, ok := deliver.RetryAfter(err); !ok {
		t.Fatalf("err = %v, want a RetryError", err)
	}
	if err := c.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	if len(msgs) != pages {
		t.Fatalf("fake has %d messages, want exactly %d pages", len(msgs), pages)
	}
	for i, msg := range msgs {
		payload := msg.Metadata["event_payload"].(map[string]any)
		if payload["part"] != float64(i+1) || payload["idempotency_key"] != "d-9" {
			t.Errorf("message %d metadata %v", i, payload)
		}
	}
	// A completed delivery is forgotten: sending it again (a new delivery) posts all.
	if c.resume("d-9") != 0 {
		t.Error("progress kept after success")
	}
}

func TestTestMessage(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	c, _ := newTestClient(t, Config{WebhookURL: fake.WebhookURL()})
	if err := c.Send(context.Background(), deliver.Message{Test: true}); err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "test") {
		t.Fatalf("messages %+v", msgs)
	}
	// Nothing to send is not an error and sends nothing.
	if err := c.Send(context.Background(), deliver.Message{}); err != nil || len(fake.Messages()) != 1 {
		t.Fatalf("empty message: err %v, %d messages", err, len(fake.Messages()))
	}
}

// TestDefaultClientRefusesLoopback: without an explicit http.Client, a webhook URL on
// this machine is refused at dial time (SSRF), as a permanent error.
func TestDefaultClientRefusesLoopback(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	c := New(Config{WebhookURL: fake.WebhookURL()}, nil)
	err := c.Send(context.Background(), one(t))
	if !errors.Is(err, deliver.ErrForbiddenTarget) || !deliver.IsPermanent(err) {
		t.Fatalf("err = %v, want permanent ErrForbiddenTarget", err)
	}
	if fake.Requests() != 0 {
		t.Fatal("the fake was reached")
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{{}, {BotToken: "x"}, {WebhookURL: "ftp://hooks.slack.com/x"}} {
		err := New(cfg, http.DefaultClient).Send(context.Background(), one(t))
		if !deliver.IsPermanent(err) {
			t.Errorf("config %+v: err = %v, want permanent", cfg, err)
		}
	}
}

// blocksJSON marshals without HTML escaping, so assertions read like Slack's text.
func blocksJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return b.String()
}
