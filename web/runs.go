package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"

	"nexus/store"
)

// startRun queues a run of a campaign: 202 with the run; 409 when one is in progress.
func (s *Server) startRun(c *echo.Context) error {
	camp, err := s.campaignParam(c)
	if err != nil {
		return err
	}
	if s.opts.Runs == nil {
		return apiError(http.StatusServiceUnavailable, "unavailable", "runs are not available in this process")
	}
	run, err := s.opts.Runs.Start(c.Request().Context(), camp, "api")
	if errors.Is(err, store.ErrRunActive) {
		return apiError(http.StatusConflict, "run_active", "campaign "+camp.Name+" already has a run in progress")
	}
	if err != nil {
		return err
	}
	p := principal(c)
	s.audit(c, p.OrgID, p.UserID, p.Email, "run.start", fmt.Sprintf("campaign %d run %d", camp.ID, run.ID))
	return c.JSON(http.StatusAccepted, run)
}

func (s *Server) runParam(c *echo.Context) (store.Run, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return store.Run{}, err
	}
	return s.store.Run(c.Request().Context(), principal(c).OrgID, id)
}

func (s *Server) getRun(c *echo.Context) error {
	run, err := s.runParam(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, run)
}

func (s *Server) listRuns(c *echo.Context) error {
	camp, err := s.campaignParam(c)
	if err != nil {
		return err
	}
	runs, err := s.store.Runs(c.Request().Context(), camp.OrgID, camp.ID, 50)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"runs": runs})
}

func (s *Server) cancelRun(c *echo.Context) error {
	run, err := s.runParam(c)
	if err != nil {
		return err
	}
	run, err = s.store.CancelRun(c.Request().Context(), run.OrgID, run.ID)
	if err != nil {
		return err
	}
	p := principal(c)
	s.audit(c, p.OrgID, p.UserID, p.Email, "run.cancel", fmt.Sprintf("run %d", run.ID))
	return c.JSON(http.StatusOK, run)
}

// runEvents streams the run as server-sent events: the whole run object whenever it
// changes, then a final event when it ends. Reading it is cheap (a few counts), so it
// polls the rows, which also covers runs driven by another process.
func (s *Server) runEvents(c *echo.Context) error {
	run, err := s.runParam(c)
	if err != nil {
		return err
	}
	w := c.Response()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	ctx := c.Request().Context()
	rc := http.NewResponseController(w)
	var last []byte
	tick := time.NewTicker(s.opts.EventInterval)
	defer tick.Stop()
	keepAlive := time.Now()
	for {
		b, _ := json.Marshal(run)
		if string(b) != string(last) {
			event := "progress"
			if !run.Active() {
				event = "done"
			}
			if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
				return nil
			}
			last, keepAlive = b, time.Now()
		} else if time.Since(keepAlive) > 15*time.Second {
			fmt.Fprint(w, ": keep-alive\n\n")
			keepAlive = time.Now()
		}
		rc.Flush()
		if !run.Active() {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if run, err = s.store.Run(ctx, run.OrgID, run.ID); err != nil {
			return nil
		}
	}
}
