package webhook

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"nexus/pipeline/deliver"
)

// Discord's message limits (discord.com/developers/docs/resources/message).
const (
	discordContent      = 2000
	discordEmbeds       = 10
	discordEmbedTotal   = 6000 // all embed text of one message together
	discordTitle        = 256
	discordDescription  = 4096
	discordFieldName    = 256
	discordFieldValue   = 1024
	discordFooter       = 200 // Discord allows 2048; a footer is a campaign name
	discordReplies      = 3
	discordReplyInstant = 900
	discordDescInstant  = 2000
	discordDescDigest   = 380 // ten compact embeds stay under discordEmbedTotal
	discordColorDefault = 0x1D9BF0
)

// discordBodies renders m as Discord webhook messages: one embed per opportunity,
// packed into as few messages as the embed count and total-size limits allow.
func discordBodies(m deliver.Message) ([]request, error) {
	opps := slices.Clone(m.Opportunities)
	desc := discordDescInstant
	if m.Digest {
		slices.SortStableFunc(opps, func(a, b deliver.Opportunity) int { return cmp.Compare(b.Relevance, a.Relevance) })
		desc = discordDescDigest
	}
	embeds := make([]discordEmbed, 0, len(opps))
	for _, o := range opps {
		embeds = append(embeds, embed(o, desc))
	}
	var pages [][]discordEmbed
	var cur []discordEmbed
	size := 0
	for _, e := range embeds {
		n := e.size()
		if len(cur) == discordEmbeds || (len(cur) > 0 && size+n > discordEmbedTotal) {
			pages = append(pages, cur)
			cur, size = nil, 0
		}
		cur = append(cur, e)
		size += n
	}
	if len(cur) > 0 || len(pages) == 0 {
		pages = append(pages, cur)
	}

	title := m.Title
	switch {
	case title != "":
	case m.Test && len(opps) == 0:
		title = "Nexus test message: if you can read this, Nexus can post here."
	case m.Digest:
		title = fmt.Sprintf("Digest: %d opportunities", len(opps))
	case len(opps) == 1:
		title = "New opportunity in " + cmp.Or(opps[0].Campaign, "Nexus")
	default:
		title = fmt.Sprintf("%d new opportunities", len(opps))
	}
	if m.Test && !strings.HasPrefix(title, "Nexus test") {
		title = "[Test] " + title
	}
	out := make([]request, 0, len(pages))
	for i, p := range pages {
		content := title
		if len(pages) > 1 {
			content = fmt.Sprintf("%s (%d/%d)", title, i+1, len(pages))
		}
		b, err := json.Marshal(discordPayload{
			Content:         deliver.Truncate(escapeDiscord(content), discordContent),
			Embeds:          p,
			AllowedMentions: discordMentions{Parse: []string{}},
		})
		if err != nil {
			return nil, err
		}
		out = append(out, request{id: subID(m.IdempotencyKey, strconv.Itoa(i+1), len(pages)), body: b})
	}
	return out, nil
}

func embed(o deliver.Opportunity, maxDesc int) discordEmbed {
	var d strings.Builder
	if o.Root.ID != "" && o.Root.ID != o.Hit.ID && maxDesc > discordDescDigest {
		fmt.Fprintf(&d, "**In reply to @%s:** %s\n\n", o.Root.Username, deliver.Truncate(escapeDiscord(o.Root.Text), 800))
	}
	d.WriteString(escapeDiscord(o.Hit.Text))
	if o.Reason != "" {
		d.WriteString("\n\n**Why:** ")
		d.WriteString(escapeDiscord(o.Reason))
	}
	e := discordEmbed{
		Title:       deliver.Truncate(fmt.Sprintf("%d · %s (@%s)", o.Relevance, o.Hit.DisplayName, o.Hit.Username), discordTitle),
		URL:         deliver.TweetURL(o.Hit),
		Description: deliver.Truncate(d.String(), min(maxDesc, discordDescription)),
		Color:       discordColorDefault,
		Footer:      &discordFooterObj{Text: deliver.Truncate(strings.Join(nonEmpty(o.Campaign, o.Provider), " · "), discordFooter)},
	}
	if !o.CreatedAt.IsZero() {
		e.Timestamp = o.CreatedAt.UTC().Format(time.RFC3339)
	}
	if o.Sentiment != "" {
		e.Fields = append(e.Fields, discordField{Name: "Sentiment", Value: deliver.Truncate(o.Sentiment, 100), Inline: true})
	}
	if o.Intent != "" {
		e.Fields = append(e.Fields, discordField{Name: "Intent", Value: deliver.Truncate(o.Intent, 100), Inline: true})
	}
	replyMax, replies := discordReplyInstant, discordReplies
	if maxDesc <= discordDescDigest {
		replyMax, replies = 150, 1 // a digest shows the first reply only
	}
	for i, r := range o.SuggestedReplies[:min(replies, len(o.SuggestedReplies))] {
		// A code block keeps the reply verbatim and easy to copy.
		body := deliver.Truncate(strings.ReplaceAll(r, "```", "`\u200b``"), replyMax-8)
		e.Fields = append(e.Fields, discordField{Name: fmt.Sprintf("Suggested reply %d", i+1), Value: "```\n" + body + "\n```"})
	}
	// The limits above keep an embed under the per-message total; this is the guard.
	if over := e.size() - discordEmbedTotal; over > 0 {
		e.Description = deliver.Truncate(e.Description, max(0, deliver.TextLen(e.Description)-over))
	}
	return e
}

// escapeDiscord keeps stranger-written text from pinging anyone even where
// allowed_mentions is ignored: @everyone and @here get a zero-width joiner.
func escapeDiscord(s string) string {
	return strings.NewReplacer("@everyone", "@\u200beveryone", "@here", "@\u200bhere").Replace(s)
}

func nonEmpty(s ...string) []string {
	return slices.DeleteFunc(s, func(x string) bool { return x == "" })
}

// size is what Discord counts toward the 6000-character limit of a message's embeds.
func (e discordEmbed) size() int {
	n := deliver.TextLen(e.Title) + deliver.TextLen(e.Description)
	if e.Footer != nil {
		n += deliver.TextLen(e.Footer.Text)
	}
	for _, f := range e.Fields {
		n += deliver.TextLen(f.Name) + deliver.TextLen(f.Value)
	}
	return n
}

type discordPayload struct {
	Content         string          `json:"content"`
	Embeds          []discordEmbed  `json:"embeds,omitempty"`
	AllowedMentions discordMentions `json:"allowed_mentions"`
}

type discordMentions struct {
	Parse []string `json:"parse"`
}

type discordEmbed struct {
	Title       string            `json:"title,omitempty"`
	URL         string            `json:"url,omitempty"`
	Description string            `json:"description,omitempty"`
	Color       int               `json:"color,omitempty"`
	Timestamp   string            `json:"timestamp,omitempty"`
	Footer      *discordFooterObj `json:"footer,omitempty"`
	Fields      []discordField    `json:"fields,omitempty"`
}

type discordFooterObj struct {
	Text string `json:"text"`
}

type discordField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline,omitempty"`
}
