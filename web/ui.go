package web

import "github.com/labstack/echo/v5"

// uiRoutes registers the pages of the web UI.
func (s *Server) uiRoutes(e *echo.Echo) {}
