package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"

	"nexus/pipeline/query"
	"nexus/store"
)

// campaignBody is a campaign as clients send it. Pointers tell "absent" from zero, so
// that PATCH changes only what it names and create can default the threshold.
type campaignBody struct {
	Name            *string        `json:"name"`
	Keywords        *[]string      `json:"keywords"`
	Match           *string        `json:"match"`
	Phrases         *[]string      `json:"phrases"`
	Hashtags        *[]string      `json:"hashtags"`
	Mentions        *[]string      `json:"mentions"`
	FromUsers       *[]string      `json:"from_users"`
	ExcludeWords    *[]string      `json:"exclude_words"`
	ExcludeUsers    *[]string      `json:"exclude_users"`
	Lang            *string        `json:"lang"`
	MinLikes        *int           `json:"min_likes"`
	MinRetweets     *int           `json:"min_retweets"`
	MinReplies      *int           `json:"min_replies"`
	IncludeReplies  *bool          `json:"include_replies"`
	IncludeRetweets *bool          `json:"include_retweets"`
	LookbackHours   *int           `json:"lookback_hours"`
	AdvancedQuery   *string        `json:"advanced_query"`
	Context         *string        `json:"context"`
	Threshold       *int           `json:"threshold"`
	Schedule        *string        `json:"schedule"`
	Routes          *[]store.Route `json:"routes"`
	// QuietHours: an object sets the window, null removes it.
	QuietHours *json.RawMessage `json:"quiet_hours"`
}

// apply sets on c every field the body carries.
func (b campaignBody) apply(c *store.Campaign) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	list := func(dst *[]string, src *[]string) {
		if src != nil {
			*dst = *src
		}
	}
	num := func(dst *int, src *int) {
		if src != nil {
			*dst = *src
		}
	}
	flag := func(dst *bool, src *bool) {
		if src != nil {
			*dst = *src
		}
	}
	set(&c.Name, b.Name)
	list(&c.Keywords, b.Keywords)
	set(&c.Match, b.Match)
	list(&c.Phrases, b.Phrases)
	list(&c.Hashtags, b.Hashtags)
	list(&c.Mentions, b.Mentions)
	list(&c.FromUsers, b.FromUsers)
	list(&c.ExcludeWords, b.ExcludeWords)
	list(&c.ExcludeUsers, b.ExcludeUsers)
	set(&c.Lang, b.Lang)
	num(&c.MinLikes, b.MinLikes)
	num(&c.MinRetweets, b.MinRetweets)
	num(&c.MinReplies, b.MinReplies)
	flag(&c.IncludeReplies, b.IncludeReplies)
	flag(&c.IncludeRetweets, b.IncludeRetweets)
	num(&c.LookbackHours, b.LookbackHours)
	set(&c.AdvancedQuery, b.AdvancedQuery)
	set(&c.Context, b.Context)
	num(&c.Threshold, b.Threshold)
	set(&c.Schedule, b.Schedule)
	if b.Routes != nil {
		c.Routes = *b.Routes
	}
	if b.QuietHours != nil {
		c.QuietHours = nil
		if string(*b.QuietHours) != "null" {
			var q store.QuietHours
			if json.Unmarshal(*b.QuietHours, &q) == nil {
				c.QuietHours = &q
			} else {
				c.QuietHours = &store.QuietHours{Start: "invalid"}
			}
		}
	}
}

// campaignResponse adds what is derived: the compiled X query and the last run.
type campaignResponse struct {
	store.Campaign
	Query   string     `json:"query"`
	LastRun *store.Run `json:"last_run"`
}

func (s *Server) campaignOut(c *echo.Context, camp store.Campaign) (campaignResponse, error) {
	runs, err := s.store.Runs(c.Request().Context(), camp.OrgID, camp.ID, 1)
	if err != nil {
		return campaignResponse{}, err
	}
	var last *store.Run
	if len(runs) > 0 {
		last = &runs[0]
	}
	return newCampaignResponse(camp, last), nil
}

// newCampaignResponse is camp as the API shows it, with its last run (nil: never run).
func newCampaignResponse(camp store.Campaign, last *store.Run) campaignResponse {
	out := campaignResponse{Campaign: camp, LastRun: last}
	if compiled, err := query.Compile(camp, query.Options{}); err == nil {
		out.Query = compiled.Query
	}
	return out
}

// checkCampaign normalises and validates, turning the first bad field into a 400 that
// names it.
func checkCampaign(c *store.Campaign) error {
	query.Normalize(c)
	var ve *query.ValidationError
	if err := query.Validate(*c); errors.As(err, &ve) {
		return invalid(ve.Field, "%s", ve.Message)
	} else if err != nil {
		return err
	}
	return nil
}

func (s *Server) createCampaign(c *echo.Context) error {
	var b campaignBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	p := principal(c)
	camp := store.Campaign{OrgID: p.OrgID, Threshold: query.DefaultThreshold}
	b.apply(&camp)
	if err := checkCampaign(&camp); err != nil {
		return err
	}
	camp, err := s.store.CreateCampaign(c.Request().Context(), camp)
	if err != nil {
		return err
	}
	s.campaignChanged(camp)
	out, err := s.campaignOut(c, camp)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) listCampaigns(c *echo.Context) error {
	ctx, orgID := c.Request().Context(), principal(c).OrgID
	cs, err := s.store.Campaigns(ctx, orgID)
	if err != nil {
		return err
	}
	// Every campaign's last run at once: three queries a campaign, one after another,
	// made this the slowest list under load.
	last, err := s.store.LastRuns(ctx, orgID)
	if err != nil {
		return err
	}
	out := make([]campaignResponse, 0, len(cs))
	for _, camp := range cs {
		var run *store.Run
		if r, ok := last[camp.ID]; ok {
			run = &r
		}
		out = append(out, newCampaignResponse(camp, run))
	}
	return c.JSON(http.StatusOK, map[string]any{"campaigns": out})
}

func (s *Server) campaignParam(c *echo.Context) (store.Campaign, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return store.Campaign{}, err
	}
	return s.store.Campaign(c.Request().Context(), principal(c).OrgID, id)
}

func (s *Server) getCampaign(c *echo.Context) error {
	camp, err := s.campaignParam(c)
	if err != nil {
		return err
	}
	out, err := s.campaignOut(c, camp)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) updateCampaign(c *echo.Context) error {
	camp, err := s.campaignParam(c)
	if err != nil {
		return err
	}
	var b campaignBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	b.apply(&camp)
	if err := checkCampaign(&camp); err != nil {
		return err
	}
	camp, err = s.store.UpdateCampaign(c.Request().Context(), camp)
	if err != nil {
		return err
	}
	s.campaignChanged(camp)
	out, err := s.campaignOut(c, camp)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) deleteCampaign(c *echo.Context) error {
	camp, err := s.campaignParam(c)
	if err != nil {
		return err
	}
	if err := s.store.DeleteCampaign(c.Request().Context(), camp.OrgID, camp.ID); err != nil {
		return err
	}
	camp.Schedule = ""
	s.campaignChanged(camp)
	return c.NoContent(http.StatusNoContent)
}

// previewCampaign compiles a campaign without saving it: the query the next run and
// the first run would send, and the local filter, or the first bad field.
func (s *Server) previewCampaign(c *echo.Context) error {
	var b campaignBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	camp := store.Campaign{Threshold: query.DefaultThreshold}
	if b.Name == nil {
		camp.Name = "preview"
	}
	b.apply(&camp)
	if err := checkCampaign(&camp); err != nil {
		return err
	}
	next, err := query.Compile(camp, query.Options{})
	if err != nil {
		return invalid("query", "%s", err)
	}
	first, err := query.Compile(camp, query.Options{Since: time.Now().Add(-query.Lookback(camp))})
	if err != nil {
		return invalid("query", "%s", err)
	}
	return c.JSON(http.StatusOK, map[string]any{"query": next.Query, "first_run_query": first.Query, "filter": next.Filter})
}

// campaignChanged tells the scheduler, when there is one, to rebuild this campaign's job.
func (s *Server) campaignChanged(c store.Campaign) {
	if s.opts.OnCampaignChange != nil {
		s.opts.OnCampaignChange(c)
	}
}
