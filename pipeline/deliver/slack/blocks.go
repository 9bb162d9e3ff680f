package slack

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"nexus/pipeline/deliver"
	"nexus/scraper"
)

// Block Kit limits (docs.slack.dev/reference/block-kit). Lengths are counted in
// UTF-16 code units, which is never less than what Slack counts.
const (
	maxBlocks      = 50
	maxSectionText = 3000
	maxHeaderText  = 150
	maxButtonText  = 75
	maxContextText = 3000
	maxFallback    = 3000
	maxTweetText   = 1800 // keeps a tweet section well under maxSectionText
	maxDigestTweet = 400
	maxReply       = 1000
)

// payload is one Slack message: the notification text and its blocks.
type payload struct {
	text   string
	blocks []slack.Block
}

// build turns a delivery into the Slack messages that carry it: one per opportunity
// in instant mode, or the pages of a digest.
func build(m deliver.Message, digestMax int) []payload {
	if len(m.Opportunities) == 0 {
		if m.Test {
			return []payload{testPayload(m)}
		}
		return nil
	}
	if m.Digest {
		return digest(m, digestMax)
	}
	out := make([]payload, 0, len(m.Opportunities))
	for _, o := range m.Opportunities {
		out = append(out, instant(o, m.Test))
	}
	return out
}

func testPayload(m deliver.Message) payload {
	title := cmp.Or(m.Title, "Nexus test message")
	return payload{
		text: title,
		blocks: []slack.Block{
			header(title),
			section("If you can read this, Nexus can deliver opportunities to this channel."),
		},
	}
}

// instant is the full message for one opportunity.
func instant(o deliver.Opportunity, test bool) payload {
	title := "Opportunity · " + cmp.Or(o.Campaign, "Nexus")
	if test {
		title = "[Test] " + title
	}
	blocks := []slack.Block{header(title), contextBlock(meta(o))}
	if o.Root.ID != "" && o.Root.ID != o.Hit.ID {
		blocks = append(blocks, section(tweetText("Conversation started by", o.Root, maxTweetText)))
	}
	blocks = append(blocks, section(tweetText("Hit", o.Hit, maxTweetText)))
	if o.Reason != "" {
		blocks = append(blocks, section("*Why it's an opportunity*\n"+esc(o.Reason, maxSectionText-40)))
	}
	if len(o.Insights) > 0 {
		var b strings.Builder
		b.WriteString("*Insights*")
		for _, in := range o.Insights {
			b.WriteString("\n• ")
			b.WriteString(escape(in))
		}
		blocks = append(blocks, section(b.String()))
	}
	for i, r := range o.SuggestedReplies {
		// A code block keeps the reply verbatim and gives it Slack's copy affordance.
		blocks = append(blocks, section(fmt.Sprintf("*Suggested reply %d*\n```%s```", i+1, code(r, maxReply))))
	}
	var buttons []slack.BlockElement
	if u := deliver.TweetURL(o.Hit); u != "" {
		buttons = append(buttons, button("open_hit", "Open in X", u))
	}
	if o.Root.ID != "" && o.Root.ID != o.Hit.ID {
		if u := deliver.TweetURL(o.Root); u != "" {
			buttons = append(buttons, button("open_root", "Open conversation", u))
		}
	}
	if len(buttons) > 0 {
		blocks = append(blocks, slack.NewActionBlock("", buttons...))
	}
	if len(blocks) > maxBlocks { // cannot happen with the blocks above, but never send a rejected message
		blocks = blocks[:maxBlocks]
	}
	text := fmt.Sprintf("%s: @%s: %s", title, o.Hit.Username, clip(o.Hit.Text, 200))
	return payload{text: fit(text, maxFallback), blocks: blocks}
}

// digestItems is how many opportunities fit one digest message: each takes two
// blocks, and a page has a header, a summary and possibly a trailing note.
const digestItems = (maxBlocks - 3) / 2

// digest sorts the opportunities by relevance, keeps the top digestMax (all when 0),
// and pages them into messages that respect the block limit.
func digest(m deliver.Message, digestMax int) []payload {
	opps := slices.Clone(m.Opportunities)
	slices.SortStableFunc(opps, func(a, b deliver.Opportunity) int {
		return cmp.Or(cmp.Compare(b.Relevance, a.Relevance), b.CreatedAt.Compare(a.CreatedAt))
	})
	omitted := 0
	if digestMax > 0 && len(opps) > digestMax {
		omitted = len(opps) - digestMax
		opps = opps[:digestMax]
	}
	title := m.Title
	if title == "" {
		title = "Digest · " + campaignOf(opps)
	}
	if m.Test {
		title = "[Test] " + title
	}
	pages := (len(opps) + digestItems - 1) / digestItems
	out := make([]payload, 0, pages)
	for p := range pages {
		chunk := opps[p*digestItems : min((p+1)*digestItems, len(opps))]
		pageTitle := title
		if pages > 1 {
			pageTitle = fmt.Sprintf("%s (%d/%d)", title, p+1, pages)
		}
		blocks := []slack.Block{
			header(pageTitle),
			contextBlock(fmt.Sprintf("%d opportunities, most relevant first", len(opps)+omitted)),
		}
		for _, o := range chunk {
			blocks = append(blocks, digestItem(o)...)
		}
		if p == pages-1 && omitted > 0 {
			blocks = append(blocks, contextBlock(fmt.Sprintf("…and %d less relevant ones not shown", omitted)))
		}
		text := fmt.Sprintf("%s: %d opportunities", pageTitle, len(chunk))
		out = append(out, payload{text: fit(text, maxFallback), blocks: blocks})
	}
	return out
}

// digestItem is the compact form of one opportunity: a section with an "Open in X"
// button and a context line.
func digestItem(o deliver.Opportunity) []slack.Block {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d* · *%s* (@%s)\n%s", o.Relevance, esc(o.Hit.DisplayName, 100), esc(o.Hit.Username, 50),
		quoted(o.Hit.Text, maxDigestTweet))
	if o.Reason != "" {
		b.WriteString("\nWhy: ")
		b.WriteString(esc(o.Reason, 300))
	}
	if len(o.SuggestedReplies) > 0 {
		fmt.Fprintf(&b, "\n```%s```", code(o.SuggestedReplies[0], 300))
	}
	var acc *slack.Accessory
	if u := deliver.TweetURL(o.Hit); u != "" {
		acc = slack.NewAccessory(button("open_"+o.ID, "Open in X", u))
	}
	sec := slack.NewSectionBlock(mrkdwn(fit(b.String(), maxSectionText)), nil, acc)
	return []slack.Block{sec, contextBlock(meta(o))}
}

func campaignOf(opps []deliver.Opportunity) string {
	if len(opps) == 0 {
		return "Nexus"
	}
	c := opps[0].Campaign
	for _, o := range opps[1:] {
		if o.Campaign != c {
			return "Nexus"
		}
	}
	return cmp.Or(c, "Nexus")
}

// meta is the one-line summary of scores shown under a header or an item.
func meta(o deliver.Opportunity) string {
	parts := []string{fmt.Sprintf("*Relevance* %d/100", o.Relevance)}
	if o.Sentiment != "" {
		parts = append(parts, "*Sentiment* "+escape(o.Sentiment))
	}
	if o.Intent != "" {
		parts = append(parts, "*Intent* "+escape(o.Intent))
	}
	if o.Provider != "" {
		parts = append(parts, "via "+escape(o.Provider))
	}
	return strings.Join(parts, " · ")
}

// tweetText renders a tweet: author, quoted text, engagement and a link.
func tweetText(label string, t scraper.Tweet, maxText int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s*: *%s* (@%s)\n", label, esc(t.DisplayName, 100), esc(t.Username, 50))
	b.WriteString(quoted(t.Text, maxText))
	b.WriteString("\n:heart: ")
	b.WriteString(strconv.FormatInt(t.LikeCount, 10))
	b.WriteString("  :speech_balloon: ")
	b.WriteString(strconv.FormatInt(t.ReplyCount, 10))
	b.WriteString("  :repeat: ")
	b.WriteString(strconv.FormatInt(t.RetweetCount, 10))
	if u := deliver.TweetURL(t); u != "" {
		fmt.Fprintf(&b, " · <%s|Open in X>", u)
	}
	return b.String()
}

func header(s string) slack.Block {
	return slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, fit(s, maxHeaderText), true, false))
}

func section(s string) slack.Block {
	return slack.NewSectionBlock(mrkdwn(fit(s, maxSectionText)), nil, nil)
}

func contextBlock(s string) slack.Block {
	return slack.NewContextBlock("", mrkdwn(fit(s, maxContextText)))
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func button(actionID, label, url string) *slack.ButtonBlockElement {
	txt := slack.NewTextBlockObject(slack.PlainTextType, fit(label, maxButtonText), false, false)
	return slack.NewButtonBlockElement(fit(actionID, 255), "", txt).WithURL(url)
}

// escape applies Slack's three mandatory escapes, so tweet text cannot form links,
// mentions (<!channel>) or broken markup.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// esc escapes s and cuts the result to n units.
func esc(s string, n int) string { return fit(escape(s), n) }

// code escapes s for a ``` block and cuts it to n units; the caller adds the fences,
// so a cut can never lose the closing one.
func code(s string, n int) string { return fit(codeSafe(s), n) }

// codeSafe escapes s for use inside a ``` block, which a literal ``` would close.
func codeSafe(s string) string {
	return strings.ReplaceAll(escape(s), "```", "`\u200b`\u200b`")
}

// quoted escapes s, quotes it and cuts the result to n units.
func quoted(s string, n int) string { return fit(quote(escape(s)), n) }

// quote turns every line of s into a Slack block quote line.
func quote(s string) string {
	return "> " + strings.ReplaceAll(s, "\n", "\n> ")
}

// clip cuts raw text to at most n UTF-16 units at a rune boundary, marking the cut.
func clip(s string, n int) string { return deliver.Truncate(s, n) }

// fit is clip for text that was already escaped: it also avoids leaving half an
// entity such as "&am" at the cut.
func fit(s string, n int) string {
	if textLen(s) <= n {
		return s
	}
	cut := strings.TrimSuffix(deliver.Truncate(s, n), "…")
	if i := strings.LastIndexByte(cut, '&'); i >= 0 && i >= len(cut)-5 && !strings.Contains(cut[i:], ";") {
		cut = cut[:i]
	}
	return cut + "…"
}

func textLen(s string) int { return deliver.TextLen(s) }
