package web

import (
	"github.com/labstack/echo/v5"
)

// opsRoutes registers the operator's endpoints: metrics, the OpenAPI document, docs.
//
// /metrics shows the whole process (every organization's counts), so it needs an
// admin; an operator who scrapes without a token serves Metrics.Handler on a private
// address of their own instead (server.metrics_addr).
func (s *Server) opsRoutes(e *echo.Echo) {
	m := s.opts.Metrics
	if m == nil {
		m = NewMetrics(s.store)
	}
	e.Pre(m.observe)

	e.GET("/api/v1/openapi.json", serveOpenAPI)
	s.access["GET /api/v1/openapi.json"] = public
	e.GET("/docs", serveDocs)
	s.access["GET /docs"] = public
	e.GET("/metrics", echo.WrapHandler(m.Handler()), s.requireSetup, s.authenticate, requireAdmin)
	s.access["GET /metrics"] = admin
}
