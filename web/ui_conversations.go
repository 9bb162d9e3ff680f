package web

import (
	"encoding/json"
	"fmt"

	"github.com/labstack/echo/v5"

	"nexus/pipeline/analyze"
	"nexus/store"
)

type conversationPageData struct {
	Conversation store.Conversation
	Campaign     store.Campaign
	Thread       []threadItem
	Hit          tweetView
	Result       analyze.Result
	Analysed     bool
	Analysis     store.Analysis // the latest successful one
	Failed       []store.Analysis
	Opportunity  *oppView
	Replies      []replyView
}

// threadItem is one post of the tree; Missing marks a post X no longer shows.
type threadItem struct {
	tweetView
	ID      string
	Missing bool
}

// replyView is a suggested reply with the link that opens it in X's composer.
type replyView struct {
	Text   string
	Intent string
}

// conversationPage shows a thread as an indented tree, in the order X threads it (each
// post, then its answers), next to the latest analysis and what to reply.
func (u *ui) conversationPage(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p := principal(c)
	ctx := c.Request().Context()
	conv, err := u.store.Conversation(ctx, p.OrgID, id)
	if err != nil {
		return err
	}
	camp, err := u.store.Campaign(ctx, p.OrgID, conv.CampaignID)
	if err != nil {
		return err
	}
	stored, err := u.store.ConversationTweets(ctx, conv)
	if err != nil {
		return err
	}
	byID := make(map[string]json.RawMessage, len(stored))
	for _, t := range stored {
		byID[t.ID] = t.Data
	}
	var nodes []struct {
		ID    string `json:"id"`
		Depth int    `json:"depth"`
	}
	if err := json.Unmarshal(conv.Thread, &nodes); err != nil {
		return fmt.Errorf("conversation %d thread: %w", conv.ID, err)
	}
	d := conversationPageData{Conversation: conv, Campaign: camp}
	for _, n := range nodes {
		it := threadItem{ID: n.ID}
		if raw, ok := byID[n.ID]; ok {
			it.tweetView = parseTweet(raw)
		} else {
			it.Missing = true
		}
		it.Depth, it.IsRoot, it.IsHit = n.Depth, n.ID == conv.ConversationID, n.ID == conv.HitID
		if it.IsHit {
			d.Hit = it.tweetView
		}
		d.Thread = append(d.Thread, it)
	}
	if d.Hit.ID == "" {
		d.Hit.ID = conv.HitID
	}
	analyses, err := u.store.Analyses(ctx, conv.ID)
	if err != nil {
		return err
	}
	for _, a := range analyses {
		switch {
		case a.Status == "ok" && !d.Analysed:
			d.Analysis, d.Analysed = a, true
			d.Result, _ = parseResult(a.Result)
		case a.Status != "ok":
			d.Failed = append(d.Failed, a)
		}
	}
	for _, r := range d.Result.SuggestedReplies {
		d.Replies = append(d.Replies, replyView{Text: r, Intent: xReplyURL(conv.HitID, r)})
	}
	if o, ok, err := u.store.OpportunityOfConversation(ctx, p.OrgID, conv.ID); err != nil {
		return err
	} else if ok {
		ov := newOppView(o)
		d.Opportunity = &ov
	}
	title := "Conversation"
	if d.Hit.Username != "" {
		title = "Conversation with @" + d.Hit.Username
	}
	return u.render(c, 200, "conversation", view{Title: title, Nav: "opportunities", Data: d})
}
