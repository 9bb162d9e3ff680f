package web

import "github.com/labstack/echo/v5"

// opsRoutes registers the operator's endpoints: metrics, the OpenAPI document, docs.
func (s *Server) opsRoutes(e *echo.Echo) {}
