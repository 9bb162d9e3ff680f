package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"nexus/pipeline/query"
	"nexus/store"
)

// campaignForm is the create and edit form: the campaign as typed, where it goes, and
// the first field that is wrong.
type campaignForm struct {
	Campaign     store.Campaign
	New          bool
	Action       string
	Field        string // the field the error is about
	Error        string
	Languages    []query.Language
	Schedules    []string
	Integrations []routeChoice
}

// routeChoice is one integration's row of the routes fieldset.
type routeChoice struct {
	Kind       string
	Label      string
	Configured bool
	Mode       string // "", instant or digest
}

// List fields are typed one item a line; all but phrases may also be comma-separated.
func splitList(v string, commas bool) []string {
	sep := func(r rune) bool { return r == '\n' || r == '\r' || (commas && r == ',') }
	out := []string{}
	for _, s := range strings.FieldsFunc(v, sep) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// formInt reads a whole number; a field left empty is 0 and anything else that is not
// a number is reported against the field.
func formInt(c *echo.Context, field string, dst *int, bad *string) {
	v := strings.TrimSpace(c.FormValue(field))
	if v == "" {
		*dst = 0
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil && *bad == "" {
		*bad = field
	}
	*dst = n
}

// readCampaignForm applies the posted form to camp; badField names a number that
// did not parse.
func readCampaignForm(c *echo.Context, camp *store.Campaign) (badField string) {
	camp.Name = strings.TrimSpace(c.FormValue("name"))
	camp.Keywords = splitList(c.FormValue("keywords"), true)
	camp.Match = c.FormValue("match")
	camp.Phrases = splitList(c.FormValue("phrases"), false)
	camp.Hashtags = splitList(c.FormValue("hashtags"), true)
	camp.Mentions = splitList(c.FormValue("mentions"), true)
	camp.FromUsers = splitList(c.FormValue("from_users"), true)
	camp.ExcludeWords = splitList(c.FormValue("exclude_words"), true)
	camp.ExcludeUsers = splitList(c.FormValue("exclude_users"), true)
	camp.Lang = c.FormValue("lang")
	formInt(c, "min_likes", &camp.MinLikes, &badField)
	formInt(c, "min_retweets", &camp.MinRetweets, &badField)
	formInt(c, "min_replies", &camp.MinReplies, &badField)
	formInt(c, "lookback_hours", &camp.LookbackHours, &badField)
	formInt(c, "threshold", &camp.Threshold, &badField)
	camp.IncludeReplies = c.FormValue("include_replies") == "on"
	camp.IncludeRetweets = c.FormValue("include_retweets") == "on"
	camp.AdvancedQuery = strings.TrimSpace(c.FormValue("advanced_query"))
	camp.Context = strings.TrimSpace(c.FormValue("context"))
	camp.Schedule = strings.TrimSpace(c.FormValue("schedule"))
	camp.Routes = nil
	for _, kind := range []string{"slack", "sheets", "webhook"} {
		if mode := c.FormValue("route_" + kind); mode != "" {
			camp.Routes = append(camp.Routes, store.Route{Integration: kind, Mode: mode})
		}
	}
	return badField
}

func (u *ui) campaignForm(c *echo.Context, camp store.Campaign, isNew bool) (campaignForm, error) {
	f := campaignForm{Campaign: camp, New: isNew, Languages: query.Languages(),
		Schedules: []string{"@every 15m", "@every 30m", "@hourly", "@every 6h", "@daily", "0 9 * * 1-5"}}
	f.Action = "/campaigns"
	if !isNew {
		f.Action = fmt.Sprintf("/campaigns/%d", camp.ID)
	}
	ins, err := u.store.Integrations(c.Request().Context(), principal(c).OrgID)
	if err != nil {
		return f, err
	}
	configured := map[string]bool{}
	for _, in := range ins {
		configured[in.Kind] = true
	}
	for _, k := range []struct{ kind, label string }{{"slack", "Slack"}, {"sheets", "Google Sheets"}, {"webhook", "Webhook"}} {
		rc := routeChoice{Kind: k.kind, Label: k.label, Configured: configured[k.kind]}
		for _, r := range camp.Routes {
			if r.Integration == k.kind {
				rc.Mode = r.Mode
			}
		}
		f.Integrations = append(f.Integrations, rc)
	}
	return f, nil
}

func (u *ui) campaignNewPage(c *echo.Context) error {
	f, err := u.campaignForm(c, store.Campaign{Match: query.MatchAny, Threshold: query.DefaultThreshold,
		LookbackHours: query.DefaultLookbackHours}, true)
	if err != nil {
		return err
	}
	return u.render(c, 200, "campaign_form", view{Title: "New campaign", Nav: "campaigns", Data: f})
}

func (u *ui) campaignEditPage(c *echo.Context) error {
	camp, err := u.uiCampaign(c)
	if err != nil {
		return err
	}
	f, err := u.campaignForm(c, camp, false)
	if err != nil {
		return err
	}
	return u.render(c, 200, "campaign_form", view{Title: "Edit " + camp.Name, Nav: "campaigns", Data: f})
}

// saveCampaign validates the posted form and stores it, or shows the form again with
// what was typed and the first problem.
func (u *ui) saveCampaign(c *echo.Context, camp store.Campaign, isNew bool) error {
	ctx := c.Request().Context()
	field, msg := "", ""
	if bad := readCampaignForm(c, &camp); bad != "" {
		field, msg = bad, "must be a whole number"
	} else {
		query.Normalize(&camp)
		var ve *query.ValidationError
		if err := query.Validate(camp); errors.As(err, &ve) {
			field, msg = ve.Field, ve.Message
		} else if err != nil {
			return err
		}
	}
	var err error
	if field == "" {
		if isNew {
			camp, err = u.store.CreateCampaign(ctx, camp)
		} else {
			camp, err = u.store.UpdateCampaign(ctx, camp)
		}
		if errors.Is(err, store.ErrConflict) {
			field, msg, err = "name", "is taken by another campaign", nil
		}
		if err != nil {
			return err
		}
	}
	if field != "" {
		f, ferr := u.campaignForm(c, camp, isNew)
		if ferr != nil {
			return ferr
		}
		f.Field, f.Error = field, msg
		title := "New campaign"
		if !isNew {
			title = "Edit " + camp.Name
		}
		return u.render(c, http.StatusBadRequest, "campaign_form", view{Title: title, Nav: "campaigns", Data: f})
	}
	u.campaignChanged(camp)
	verb := "updated"
	if isNew {
		verb = "created"
	}
	return u.done(c, fmt.Sprintf("/campaigns/%d", camp.ID), "Campaign "+camp.Name+" "+verb+".")
}

func (u *ui) campaignCreate(c *echo.Context) error {
	return u.saveCampaign(c, store.Campaign{OrgID: principal(c).OrgID}, true)
}

func (u *ui) campaignUpdate(c *echo.Context) error {
	camp, err := u.uiCampaign(c)
	if err != nil {
		return err
	}
	return u.saveCampaign(c, camp, false)
}

// campaignPreview compiles the form as it is being typed, like POST
// /api/v1/campaigns/preview, but answers 200 either way: a half-typed campaign is the
// normal state of a form, not a failed request (and a 400 would be a console error on
// every keystroke).
func (u *ui) campaignPreview(c *echo.Context) error {
	var b campaignBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	camp := store.Campaign{Threshold: query.DefaultThreshold, Name: "preview"}
	b.apply(&camp)
	query.Normalize(&camp)
	type problem struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	}
	var ve *query.ValidationError
	if err := query.Validate(camp); errors.As(err, &ve) {
		return c.JSON(http.StatusOK, map[string]any{"error": problem{ve.Field, ve.Message}})
	} else if err != nil {
		return err
	}
	next, err := query.Compile(camp, query.Options{})
	if err != nil {
		return c.JSON(http.StatusOK, map[string]any{"error": problem{"query", err.Error()}})
	}
	first, err := query.Compile(camp, query.Options{Since: u.opts.Now().Add(-query.Lookback(camp))})
	if err != nil {
		return c.JSON(http.StatusOK, map[string]any{"error": problem{"query", err.Error()}})
	}
	return c.JSON(http.StatusOK, map[string]any{"query": next.Query, "first_run_query": first.Query})
}
