package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"
)

// auditLog pages through the organization's security events, newest first:
// ?limit=N (1–500, default 100) and ?before=ID from the last entry of a page.
func (s *Server) auditLog(c *echo.Context) error {
	limit, before := 100, int64(0)
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return invalid("limit", "must be 1 to 500")
		}
		limit = n
	}
	if v := c.QueryParam("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return invalid("before", "must be an entry id")
		}
		before = n
	}
	es, err := s.store.AuditLog(c.Request().Context(), principal(c).OrgID, before, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"entries": es})
}
