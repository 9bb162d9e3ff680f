package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"

	"nexus/pipeline/query"
	"nexus/store"
)

// campaignRow is a campaign as lists show it.
type campaignRow struct {
	store.Campaign
	Query   string
	Counts  store.CampaignCounts // all time
	Window  campaignWindow       // in the dashboard's window
	Hits    int                  // mentions in the dashboard's window
	LastRun *store.Run
}

// campaignRows adds to each campaign its compiled query and last run, and its
// all-time counts when counts is set (the dashboard shows its window's instead).
func (u *ui) campaignRows(c *echo.Context, campaigns []store.Campaign, counts bool) ([]campaignRow, error) {
	ctx := c.Request().Context()
	all := map[int64]store.CampaignCounts{}
	if counts {
		only := int64(0)
		if len(campaigns) == 1 {
			only = campaigns[0].ID
		}
		var err error
		if all, err = u.store.CampaignCounts(ctx, principal(c).OrgID, only); err != nil {
			return nil, err
		}
	}
	rows := make([]campaignRow, 0, len(campaigns))
	for _, camp := range campaigns {
		r := campaignRow{Campaign: camp, Counts: all[camp.ID]}
		if q, err := query.Compile(camp, query.Options{}); err == nil {
			r.Query = q.Query
		}
		runs, err := u.store.Runs(ctx, camp.OrgID, camp.ID, 1)
		if err != nil {
			return nil, err
		}
		if len(runs) > 0 {
			r.LastRun = &runs[0]
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func (u *ui) campaignsPage(c *echo.Context) error {
	campaigns, err := u.store.Campaigns(c.Request().Context(), principal(c).OrgID)
	if err != nil {
		return err
	}
	rows, err := u.campaignRows(c, campaigns, true)
	if err != nil {
		return err
	}
	return u.render(c, 200, "campaigns", view{Title: "Campaigns", Nav: "campaigns", Data: rows})
}

// uiCampaign loads the :id campaign of the caller's organization.
func (u *ui) uiCampaign(c *echo.Context) (store.Campaign, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return store.Campaign{}, err
	}
	return u.store.Campaign(c.Request().Context(), principal(c).OrgID, id)
}

const conversationsPerPage = 25

type campaignPageData struct {
	Row           campaignRow
	Runs          []store.Run
	Conversations []conversationRow
	Page          int
	More          bool
}

// conversationRow is a conversation as a list shows it: the hit and the verdict.
type conversationRow struct {
	store.ConversationSummary
	Tweet    tweetView
	Result   any
	Analysed bool
	Rel      int
}

func (u *ui) campaignPage(c *echo.Context) error {
	camp, err := u.uiCampaign(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	rows, err := u.campaignRows(c, []store.Campaign{camp}, true)
	if err != nil {
		return err
	}
	d := campaignPageData{Row: rows[0], Page: 1}
	if n, err := strconv.Atoi(c.QueryParam("page")); err == nil && n > 1 && n < 100000 {
		d.Page = n
	}
	if d.Runs, err = u.store.Runs(ctx, camp.OrgID, camp.ID, 8); err != nil {
		return err
	}
	convs, err := u.store.Conversations(ctx, camp.OrgID, camp.ID, conversationsPerPage+1, (d.Page-1)*conversationsPerPage)
	if err != nil {
		return err
	}
	if len(convs) > conversationsPerPage {
		convs, d.More = convs[:conversationsPerPage], true
	}
	for _, cv := range convs {
		r := conversationRow{ConversationSummary: cv, Tweet: parseTweet(cv.Hit)}
		res, ok := parseResult(cv.Analysis)
		r.Result, r.Analysed, r.Rel = res, ok, res.Relevance
		d.Conversations = append(d.Conversations, r)
	}
	return u.render(c, 200, "campaign", view{Title: camp.Name, Nav: "campaigns", Data: d})
}

func (u *ui) campaignDelete(c *echo.Context) error {
	camp, err := u.uiCampaign(c)
	if err != nil {
		return err
	}
	if err := u.store.DeleteCampaign(c.Request().Context(), camp.OrgID, camp.ID); err != nil {
		return err
	}
	camp.Schedule = ""
	u.campaignChanged(camp)
	p := principal(c)
	u.audit(c, p.OrgID, p.UserID, p.Email, "campaign.delete", camp.Name)
	return u.done(c, "/campaigns", "Campaign "+camp.Name+" deleted.")
}

// runStart queues a run and shows it; a campaign that is already running shows the
// run in progress instead.
func (u *ui) runStart(c *echo.Context) error {
	camp, err := u.uiCampaign(c)
	if err != nil {
		return err
	}
	if u.opts.Runs == nil {
		return apiError(http.StatusServiceUnavailable, "unavailable", "runs are not available in this process")
	}
	ctx := c.Request().Context()
	run, err := u.opts.Runs.Start(ctx, camp, "ui")
	if errors.Is(err, store.ErrRunActive) {
		runs, lerr := u.store.Runs(ctx, camp.OrgID, camp.ID, 1)
		if lerr != nil || len(runs) == 0 {
			return apiError(http.StatusConflict, "run_active", "campaign "+camp.Name+" already has a run in progress")
		}
		return u.done(c, fmt.Sprintf("/runs/%d", runs[0].ID), "This campaign is already running; here is its run.")
	}
	if err != nil {
		return err
	}
	p := principal(c)
	u.audit(c, p.OrgID, p.UserID, p.Email, "run.start", fmt.Sprintf("campaign %d run %d", camp.ID, run.ID))
	return u.done(c, fmt.Sprintf("/runs/%d", run.ID), "")
}
