package web

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"nexus/pipeline/analyze"
	"nexus/store"
)

// oppView is an opportunity as cards show it.
type oppView struct {
	store.Opportunity
	Hit    tweetView
	Root   tweetView
	Result analyze.Result
}

func newOppView(o store.Opportunity) oppView {
	v := oppView{Opportunity: o, Hit: parseTweet(o.Hit), Root: parseTweet(o.Root)}
	v.Result, _ = parseResult(o.Analysis)
	return v
}

// Replying is the first suggested reply, for the "reply on X" link.
func (o oppView) Replying() string {
	if len(o.Result.SuggestedReplies) > 0 {
		return o.Result.SuggestedReplies[0]
	}
	return ""
}

const opportunitiesPerPage = 25

type inboxData struct {
	Filter    store.OpportunityFilter
	Campaigns []store.Campaign
	Items     []oppView
	Total     int
	Page      int
	Pages     int
	PrevURL   string // the neighbouring pages, with the same filter
	NextURL   string
	ExportURL string
	Back      string
}

// inboxFilter reads the inbox's filter; anything unknown falls back to the default
// rather than failing, since these come from links people share.
func inboxFilter(c *echo.Context) (store.OpportunityFilter, int) {
	f := store.OpportunityFilter{Status: "new", Sort: "relevance"}
	switch s := c.QueryParam("status"); s {
	case "new", "done", "dismissed":
		f.Status = s
	case "all":
		f.Status = ""
	}
	if c.QueryParam("sort") == "newest" {
		f.Sort = "newest"
	}
	f.CampaignID, _ = strconv.ParseInt(c.QueryParam("campaign"), 10, 64)
	if n, err := strconv.Atoi(c.QueryParam("min")); err == nil && n > 0 && n <= 100 {
		f.MinRelevance = n
	}
	page := 1
	if n, err := strconv.Atoi(c.QueryParam("page")); err == nil && n > 1 && n < 100000 {
		page = n
	}
	f.Limit, f.Offset = opportunitiesPerPage, (page-1)*opportunitiesPerPage
	return f, page
}

func (u *ui) opportunitiesPage(c *echo.Context) error {
	p := principal(c)
	ctx := c.Request().Context()
	f, page := inboxFilter(c)
	d := inboxData{Filter: f, Page: page, Back: c.Request().URL.RequestURI()}
	var err error
	if d.Campaigns, err = u.store.Campaigns(ctx, p.OrgID); err != nil {
		return err
	}
	if d.Total, err = u.store.CountOpportunities(ctx, p.OrgID, f); err != nil {
		return err
	}
	d.Pages = max(1, (d.Total+opportunitiesPerPage-1)/opportunitiesPerPage)
	items, err := u.store.Opportunities(ctx, p.OrgID, f)
	if err != nil {
		return err
	}
	for _, o := range items {
		d.Items = append(d.Items, newOppView(o))
	}
	q, api := url.Values{}, url.Values{"format": {"csv"}, "sort": {f.Sort}}
	status := f.Status
	if status == "" {
		status = "all"
	} else {
		api.Set("status", f.Status)
	}
	q.Set("status", status)
	q.Set("sort", f.Sort)
	if f.CampaignID != 0 {
		q.Set("campaign", strconv.FormatInt(f.CampaignID, 10))
		api.Set("campaign_id", strconv.FormatInt(f.CampaignID, 10))
	}
	if f.MinRelevance > 0 {
		q.Set("min", strconv.Itoa(f.MinRelevance))
		api.Set("min_relevance", strconv.Itoa(f.MinRelevance))
	}
	d.ExportURL = "/api/v1/opportunities?" + api.Encode()
	if page > 1 {
		q.Set("page", strconv.Itoa(page-1))
		d.PrevURL = "/opportunities?" + q.Encode()
	}
	if page < d.Pages {
		q.Set("page", strconv.Itoa(page+1))
		d.NextURL = "/opportunities?" + q.Encode()
	}
	return u.render(c, 200, "opportunities", view{Title: "Opportunities", Nav: "opportunities", Data: d})
}

func (u *ui) opportunityStatus(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	status := c.FormValue("status")
	switch status {
	case "new", "done", "dismissed":
	default:
		return invalid("status", "must be new, done or dismissed")
	}
	if err := u.store.SetOpportunityStatus(c.Request().Context(), principal(c).OrgID, id, status); err != nil {
		return err
	}
	msg := map[string]string{"new": "Opportunity reopened.", "done": "Marked done.", "dismissed": "Dismissed."}[status]
	return u.done(c, back(c, "/opportunities"), msg)
}

// opportunityFeedback records thumbs up (relevant) or down; the analyzer learns
// from the campaign's judged examples.
func (u *ui) opportunityFeedback(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, ok := map[string]int{"up": 1, "down": -1, "none": 0}[c.FormValue("feedback")]
	if !ok {
		return invalid("feedback", "must be up, down or none")
	}
	note := strings.TrimSpace(c.FormValue("note"))
	if len(note) > 1000 {
		return invalid("note", "at most 1000 characters")
	}
	if err := u.store.SetOpportunityFeedback(c.Request().Context(), principal(c).OrgID, id, v, note); err != nil {
		return err
	}
	msg := map[int]string{1: "Thanks: marked relevant.", -1: "Thanks: marked not relevant.", 0: "Feedback cleared."}[v]
	return u.done(c, back(c, "/opportunities"), msg)
}
