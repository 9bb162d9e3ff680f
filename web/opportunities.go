package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"

	"nexus/pipeline"
	"nexus/pipeline/deliver"
	"nexus/pipeline/deliver/export"
	"nexus/store"
)

// opportunityFilter reads ?status=&min_relevance=&sort=&limit=&offset=.
func opportunityFilter(c *echo.Context) (store.OpportunityFilter, error) {
	f := store.OpportunityFilter{Status: c.QueryParam("status"), Sort: c.QueryParam("sort")}
	switch f.Status {
	case "", "new", "done", "dismissed":
	default:
		return f, invalid("status", "must be new, done or dismissed")
	}
	switch f.Sort {
	case "", "relevance", "newest":
	default:
		return f, invalid("sort", "must be relevance or newest")
	}
	for name, dst := range map[string]*int{"min_relevance": &f.MinRelevance, "limit": &f.Limit, "offset": &f.Offset} {
		if v := c.QueryParam(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return f, invalid(name, "must be a non-negative integer")
			}
			*dst = n
		}
	}
	if f.Limit > 1000 {
		return f, invalid("limit", "at most 1000")
	}
	return f, nil
}

func (s *Server) listOpportunities(c *echo.Context) error {
	f, err := opportunityFilter(c)
	if err != nil {
		return err
	}
	if v := c.QueryParam("campaign_id"); v != "" {
		if f.CampaignID, err = strconv.ParseInt(v, 10, 64); err != nil {
			return invalid("campaign_id", "must be an id")
		}
	}
	return s.writeOpportunities(c, f)
}

// campaignOpportunities lists a campaign's opportunities as JSON, or streams them as
// CSV (?format=csv) or JSON lines (?format=jsonl), every one of them by default.
func (s *Server) campaignOpportunities(c *echo.Context) error {
	camp, err := s.campaignParam(c)
	if err != nil {
		return err
	}
	f, err := opportunityFilter(c)
	if err != nil {
		return err
	}
	f.CampaignID = camp.ID
	return s.writeOpportunities(c, f)
}

func (s *Server) writeOpportunities(c *echo.Context, f store.OpportunityFilter) error {
	ctx := c.Request().Context()
	orgID := principal(c).OrgID
	format := c.QueryParam("format")
	switch format {
	case "", "json":
		ops, err := s.store.Opportunities(ctx, orgID, f)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"opportunities": ops})
	case "csv", "jsonl":
	default:
		return invalid("format", "must be json, csv or jsonl")
	}
	// Exports stream page by page, so a large campaign never sits in memory whole.
	w := c.Response()
	name := "opportunities." + format
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	w.WriteHeader(http.StatusOK)
	limit := f.Limit
	f.Limit = 500
	var pageErr error
	seq := func(yield func(deliver.Opportunity) bool) {
		sent := 0
		for {
			page, err := s.store.Opportunities(ctx, orgID, f)
			if err != nil {
				pageErr = err
				return
			}
			for _, o := range page {
				d, err := pipeline.DeliverOpportunity(o)
				if err != nil {
					continue
				}
				if (limit > 0 && sent >= limit) || !yield(d) {
					return
				}
				sent++
			}
			if len(page) < f.Limit {
				return
			}
			f.Offset += f.Limit
		}
	}
	var err error
	if format == "csv" {
		err = export.WriteOpportunitiesCSV(w, seq)
	} else {
		err = export.WriteOpportunitiesJSONL(w, seq)
	}
	if pageErr != nil {
		s.log.Error().Err(pageErr).Msg("opportunity export cut short")
	}
	return err
}

type feedbackRequest struct {
	Feedback string `json:"feedback"` // relevant | not_relevant | none
	Note     string `json:"note"`
}

func (s *Server) opportunityFeedback(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var req feedbackRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v, ok := map[string]int{"relevant": 1, "not_relevant": -1, "none": 0}[req.Feedback]
	if !ok {
		return invalid("feedback", "must be relevant, not_relevant or none")
	}
	if err := checkNote("note", req.Note, 1000); err != nil {
		return err
	}
	p := principal(c)
	if err := s.store.SetOpportunityFeedback(c.Request().Context(), p.OrgID, id, v, req.Note); err != nil {
		return err
	}
	o, err := s.store.Opportunity(c.Request().Context(), p.OrgID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}

type opportunityPatch struct {
	Status *string `json:"status"`
}

func (s *Server) updateOpportunity(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var req opportunityPatch
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p := principal(c)
	ctx := c.Request().Context()
	if req.Status != nil {
		switch *req.Status {
		case "new", "done", "dismissed":
		default:
			return invalid("status", "must be new, done or dismissed")
		}
		if err := s.store.SetOpportunityStatus(ctx, p.OrgID, id, *req.Status); err != nil {
			return err
		}
	}
	o, err := s.store.Opportunity(ctx, p.OrgID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}

func (s *Server) campaignConversations(c *echo.Context) error {
	camp, err := s.campaignParam(c)
	if err != nil {
		return err
	}
	f, err := opportunityFilter(c) // shares limit/offset parsing
	if err != nil {
		return err
	}
	cs, err := s.store.Conversations(c.Request().Context(), camp.OrgID, camp.ID, f.Limit, f.Offset)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"conversations": cs})
}

// getConversation is a thread with its tweets in tree order and its analyses.
func (s *Server) getConversation(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	conv, err := s.store.Conversation(ctx, principal(c).OrgID, id)
	if err != nil {
		return err
	}
	stored, err := s.store.ConversationTweets(ctx, conv)
	if err != nil {
		return err
	}
	byID := make(map[string]json.RawMessage, len(stored))
	for _, t := range stored {
		byID[t.ID] = t.Data
	}
	var nodes []struct {
		ID       string `json:"id"`
		ParentID string `json:"parent_id"`
		Depth    int    `json:"depth"`
	}
	json.Unmarshal(conv.Thread, &nodes)
	type node struct {
		Tweet    json.RawMessage `json:"tweet"`
		ParentID string          `json:"parent_id"`
		Depth    int             `json:"depth"`
	}
	thread := make([]node, 0, len(nodes))
	for _, n := range nodes {
		if t, ok := byID[n.ID]; ok {
			thread = append(thread, node{t, n.ParentID, n.Depth})
		}
	}
	analyses, err := s.store.Analyses(ctx, conv.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"conversation": conv, "thread": thread, "analyses": analyses})
}
