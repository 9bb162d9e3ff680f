package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v5"

	"nexus/store"
)

func (s *Server) listUsers(c *echo.Context) error {
	ms, err := s.store.Members(c.Request().Context(), principal(c).OrgID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"users": ms})
}

type createUserRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Role     string `json:"role"`
}

// createUser adds a user to the caller's organization. An e-mail that already has an
// account elsewhere joins with its own password; password is then not needed.
func (s *Server) createUser(c *echo.Context) error {
	var req createUserRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	email, err := checkEmail("email", req.Email)
	if err != nil {
		return err
	}
	if req.Role == "" {
		req.Role = store.RoleMember
	}
	if err := checkRole("role", req.Role); err != nil {
		return err
	}
	var hash string
	if req.Password != "" {
		if hash, err = store.HashPassword(req.Password); err != nil {
			return invalid("password", "%s", err)
		}
	}
	p := principal(c)
	m, err := s.store.AddMember(c.Request().Context(), p.OrgID, email, hash, req.Role)
	if errors.Is(err, store.ErrNotFound) {
		return invalid("password", "required for a new user")
	}
	if err != nil {
		return err
	}
	s.audit(c, p.OrgID, p.UserID, p.Email, "user.add", m.Email+" as "+m.Role)
	return c.JSON(http.StatusCreated, m)
}

type updateUserRequest struct {
	Role *string `json:"role"`
}

func (s *Server) updateUser(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var req updateUserRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p := principal(c)
	m, err := s.store.Member(c.Request().Context(), p.OrgID, id)
	if err != nil {
		return err
	}
	if req.Role != nil {
		if err := checkRole("role", *req.Role); err != nil {
			return err
		}
		if m, err = s.store.SetRole(c.Request().Context(), p.OrgID, id, *req.Role); err != nil {
			return err
		}
		s.audit(c, p.OrgID, p.UserID, p.Email, "user.role", m.Email+" to "+m.Role)
	}
	return c.JSON(http.StatusOK, m)
}

func (s *Server) deleteUser(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p := principal(c)
	m, err := s.store.RemoveMember(c.Request().Context(), p.OrgID, id)
	if err != nil {
		return err
	}
	s.audit(c, p.OrgID, p.UserID, p.Email, "user.remove", m.Email)
	return c.NoContent(http.StatusNoContent)
}
