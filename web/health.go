package web

import (
	"context"
	"net/http"
	"sync"

	"github.com/labstack/echo/v5"
)

type healthResponse struct {
	Status  string                 `json:"status"`
	Version string                 `json:"version"`
	Checks  map[string]checkResult `json:"checks"`
}

type checkResult struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// health runs every check concurrently and answers 200 when all pass, 503 naming the
// failing ones otherwise. It needs no authentication: load balancers and systemd
// watchdogs call it.
func (s *Server) health(c *echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), healthTimeout)
	defer cancel()
	res := healthResponse{Status: "ok", Version: s.opts.Version, Checks: make(map[string]checkResult, len(s.opts.Checks))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ch := range s.opts.Checks {
		wg.Go(func() {
			r := checkResult{Status: "ok"}
			if err := ch.Fn(ctx); err != nil {
				r = checkResult{Status: "failing", Error: err.Error()}
			}
			mu.Lock()
			res.Checks[ch.Name] = r
			mu.Unlock()
		})
	}
	wg.Wait()
	code := http.StatusOK
	for _, r := range res.Checks {
		if r.Status != "ok" {
			res.Status = "degraded"
			code = http.StatusServiceUnavailable
		}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(code, res)
}
