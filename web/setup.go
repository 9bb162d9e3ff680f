package web

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"nexus/store"
)

type setupRequest struct {
	Organization string `json:"organization"`
	Email        string `json:"email"`
	Password     string `json:"password"`
}

// setup creates the first organization and admin. It works while no user exists and
// answers 409 forever after.
func (s *Server) setupFirst(c *echo.Context) error {
	var req setupRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	org, err := checkName("organization", req.Organization, 100)
	if err != nil {
		return err
	}
	email, err := checkEmail("email", req.Email)
	if err != nil {
		return err
	}
	hash, err := store.HashPassword(req.Password)
	if err != nil {
		return invalid("password", "%s", err)
	}
	o, m, err := s.store.Setup(c.Request().Context(), org, email, hash)
	if err != nil {
		return err
	}
	s.setup.done.Store(true)
	s.audit(c, o.ID, m.ID, m.Email, "setup", "organization "+o.Name)
	return c.JSON(http.StatusCreated, map[string]any{"organization": o, "user": m})
}
