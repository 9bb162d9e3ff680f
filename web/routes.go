package web

import "github.com/labstack/echo/v5"

// routes registers every route of the server, in one place.
func (s *Server) routes(e *echo.Echo) {
	e.GET("/health", s.health)
	e.GET("/api/v1/health", s.health)
	e.RouteNotFound("/*", func(c *echo.Context) error {
		return apiError(404, "not_found", "no such route: "+c.Request().Method+" "+c.Request().URL.Path)
	})
}
