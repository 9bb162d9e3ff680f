package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v5"

	"nexus/store"
)

// ownerFilter is the user whose tokens the caller may see and revoke: their own for a
// member, every user's (0) for an admin.
func ownerFilter(p store.Principal) int64 {
	if p.IsAdmin() {
		return 0
	}
	return p.UserID
}

func (s *Server) listTokens(c *echo.Context) error {
	p := principal(c)
	ts, err := s.store.Tokens(c.Request().Context(), p.OrgID, ownerFilter(p))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"tokens": ts})
}

type createTokenRequest struct {
	Name          string `json:"name"`
	ExpiresInDays int    `json:"expires_in_days"` // 0: never
	UserID        int64  `json:"user_id"`         // admins may issue for another member
}

type createTokenResponse struct {
	store.Token
	Secret string `json:"token"`
}

// createToken issues an API token. The secret is in this response only.
func (s *Server) createToken(c *echo.Context) error {
	var req createTokenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	name, err := checkName("name", req.Name, 100)
	if err != nil {
		return err
	}
	if req.ExpiresInDays < 0 || req.ExpiresInDays > 3650 {
		return invalid("expires_in_days", "must be 0 (never) to 3650")
	}
	p := principal(c)
	owner := p.UserID
	if req.UserID != 0 && req.UserID != p.UserID {
		if !p.IsAdmin() {
			return apiError(http.StatusForbidden, "forbidden", "only admins issue tokens for other users")
		}
		owner = req.UserID
	}
	var expires *time.Time
	if req.ExpiresInDays > 0 {
		t := time.Now().Add(time.Duration(req.ExpiresInDays) * 24 * time.Hour)
		expires = &t
	}
	t, secret, err := s.store.CreateToken(c.Request().Context(), p.OrgID, owner, name, expires)
	if err != nil {
		return err
	}
	s.audit(c, p.OrgID, p.UserID, p.Email, "token.create", t.Prefix+" "+t.Name)
	return c.JSON(http.StatusCreated, createTokenResponse{t, secret})
}

func (s *Server) revokeToken(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p := principal(c)
	if err := s.store.RevokeToken(c.Request().Context(), p.OrgID, ownerFilter(p), id); err != nil {
		return err
	}
	s.audit(c, p.OrgID, p.UserID, p.Email, "token.revoke", "token "+c.Param("id"))
	return c.NoContent(http.StatusNoContent)
}
