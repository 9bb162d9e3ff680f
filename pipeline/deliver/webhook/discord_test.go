package webhook_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"nexus/pipeline/deliver"
	"nexus/pipeline/deliver/delivertest"
	"nexus/pipeline/deliver/webhook"
	"nexus/pipeline/deliver/webhook/webhookfake"
)

type discordMsg struct {
	Content string `json:"content"`
	Embeds  []struct {
		Title       string `json:"title"`
		URL         string `json:"url"`
		Description string `json:"description"`
		Timestamp   string `json:"timestamp"`
		Footer      struct {
			Text string `json:"text"`
		} `json:"footer"`
		Fields []struct {
			Name   string `json:"name"`
			Value  string `json:"value"`
			Inline bool   `json:"inline"`
		} `json:"fields"`
	} `json:"embeds"`
	AllowedMentions struct {
		Parse []string `json:"parse"`
	} `json:"allowed_mentions"`
}

func sendDiscord(t *testing.T, m deliver.Message) []discordMsg {
	t.Helper()
	rcv := webhookfake.New(t, "")
	c := webhook.New(webhook.Config{URL: rcv.URL, Format: webhook.FormatDiscord, AllowPrivate: true}, loopback)
	if err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	var out []discordMsg
	for _, d := range rcv.Deliveries() {
		var dm discordMsg
		if err := json.Unmarshal(d.Body, &dm); err != nil {
			t.Fatal(err)
		}
		if dm.AllowedMentions.Parse == nil || len(dm.AllowedMentions.Parse) != 0 {
			t.Errorf("allowed_mentions.parse must be an empty list: %s", d.Body)
		}
		checkDiscordLimits(t, dm)
		out = append(out, dm)
	}
	return out
}

func checkDiscordLimits(t *testing.T, m discordMsg) {
	t.Helper()
	if n := deliver.TextLen(m.Content); n > 2000 || n == 0 {
		t.Errorf("content length %d", n)
	}
	if len(m.Embeds) > 10 {
		t.Errorf("%d embeds", len(m.Embeds))
	}
	total := 0
	for _, e := range m.Embeds {
		if deliver.TextLen(e.Title) > 256 || deliver.TextLen(e.Description) > 4096 || len(e.Fields) > 25 {
			t.Errorf("embed over limits: title %d desc %d fields %d", deliver.TextLen(e.Title), deliver.TextLen(e.Description), len(e.Fields))
		}
		total += deliver.TextLen(e.Title) + deliver.TextLen(e.Description) + deliver.TextLen(e.Footer.Text)
		for _, f := range e.Fields {
			if deliver.TextLen(f.Name) > 256 || deliver.TextLen(f.Value) > 1024 {
				t.Errorf("field over limits: %d %d", deliver.TextLen(f.Name), deliver.TextLen(f.Value))
			}
			total += deliver.TextLen(f.Name) + deliver.TextLen(f.Value)
		}
	}
	if total > 6000 {
		t.Errorf("embeds total %d > 6000", total)
	}
}

func TestDiscordInstant(t *testing.T) {
	t.Parallel()
	o := delivertest.Opportunities("Acme", 1)
	o[0].Hit.Text = "@everyone look " + o[0].Hit.Text
	msgs := sendDiscord(t, deliver.Message{Opportunities: o, IdempotencyKey: "k"})
	if len(msgs) != 1 || len(msgs[0].Embeds) != 1 {
		t.Fatalf("messages %+v", msgs)
	}
	e := msgs[0].Embeds[0]
	if e.URL != "https://x.com/user0/status/1910000000000000000" || !strings.Contains(e.Title, "@user0") {
		t.Errorf("embed %+v", e)
	}
	if strings.Contains(e.Description, "@everyone") {
		t.Errorf("@everyone not defused: %q", e.Description)
	}
	if !strings.Contains(e.Description, "In reply to @founder") || !strings.Contains(e.Description, "**Why:**") {
		t.Errorf("description %q", e.Description)
	}
	var names []string
	for _, f := range e.Fields {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "Sentiment,Intent,Suggested reply 1,Suggested reply 2" {
		t.Errorf("fields %v", names)
	}
	if !strings.HasPrefix(e.Fields[2].Value, "```") {
		t.Errorf("reply not in a code block: %q", e.Fields[2].Value)
	}
	if e.Timestamp == "" || e.Footer.Text != "Acme · heuristic" {
		t.Errorf("timestamp %q footer %q", e.Timestamp, e.Footer.Text)
	}
}

func TestDiscordDigestLimits(t *testing.T) {
	t.Parallel()
	opps := delivertest.Opportunities("Busy", 120)
	for i := range opps {
		if i%7 == 0 {
			opps[i].Hit.Text = strings.Repeat("long 😀 text ", 2000)
			opps[i].Hit.DisplayName = strings.Repeat("N", 400)
			opps[i].Reason = strings.Repeat("why ", 2000)
			opps[i].SuggestedReplies = []string{strings.Repeat("r", 5000), "b", "c", "d"}
		}
	}
	msgs := sendDiscord(t, deliver.Message{Opportunities: opps, Digest: true, IdempotencyKey: "dg", Title: strings.Repeat("T", 3000)})
	n := 0
	for _, m := range msgs {
		n += len(m.Embeds)
	}
	if n != 120 || len(msgs) < 12 {
		t.Fatalf("%d embeds in %d messages, want 120 in ≥ 12", n, len(msgs))
	}
	// Instant messages with huge texts stay inside the limits too.
	sendDiscord(t, deliver.Message{Opportunities: opps[:8], IdempotencyKey: "i"})
}

func TestDiscordTestMessage(t *testing.T) {
	t.Parallel()
	msgs := sendDiscord(t, deliver.Message{Test: true})
	if len(msgs) != 1 || len(msgs[0].Embeds) != 0 || !strings.Contains(msgs[0].Content, "test") {
		t.Fatalf("messages %+v", msgs)
	}
}
