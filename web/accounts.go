package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v5"

	"nexus/scraper"
	"nexus/store"
)

type createAccountRequest struct {
	Name    string `json:"name"`
	Cookies string `json:"cookies"`
	Proxy   string `json:"proxy"`
}

// accountResponse is an X account as the API shows it: cookies are write-only.
type accountResponse struct {
	store.XAccount
	Cookies setFlag `json:"cookies"`
}

type setFlag struct {
	Set bool `json:"set"`
}

func accountOut(a store.XAccount) accountResponse {
	return accountResponse{XAccount: a, Cookies: setFlag{true}}
}

// NormalizeAccount checks what a person pasted and returns what the store keeps: the
// cookies as a JSON object (every cookie given), the proxy, and the session's fixed
// browser user agent. Errors name the field and never echo a cookie.
func NormalizeAccount(name, cookies, proxy string) (stored []byte, ua string, err error) {
	if _, err := checkName("name", name, 64); err != nil {
		return nil, "", err
	}
	c, err := scraper.ParseCookies(cookies)
	if err != nil {
		return nil, "", invalid("cookies", "%s", err)
	}
	if proxy != "" {
		u, err := url.Parse(proxy)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5" && u.Scheme != "socks5h") {
			return nil, "", invalid("proxy", "must be an http://, https:// or socks5:// URL with a host")
		}
	}
	stored, err = json.Marshal(map[string]string(c))
	if err != nil {
		return nil, "", fmt.Errorf("encode cookies: %w", err)
	}
	return stored, scraper.BrowserUserAgent(name + c.AuthToken()), nil
}

func (s *Server) createAccount(c *echo.Context) error {
	var req createAccountRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	stored, ua, err := NormalizeAccount(req.Name, req.Cookies, req.Proxy)
	if err != nil {
		return err
	}
	p := principal(c)
	a, err := s.store.AddXAccount(c.Request().Context(), p.OrgID, req.Name, stored, req.Proxy, ua)
	if err != nil {
		return err
	}
	s.audit(c, p.OrgID, p.UserID, p.Email, "x_account.add", a.Name)
	return c.JSON(http.StatusCreated, accountOut(a))
}

func (s *Server) listAccounts(c *echo.Context) error {
	as, err := s.store.XAccounts(c.Request().Context(), principal(c).OrgID)
	if err != nil {
		return err
	}
	out := make([]accountResponse, len(as))
	for i, a := range as {
		out[i] = accountOut(a)
	}
	return c.JSON(http.StatusOK, map[string]any{"accounts": out})
}

func (s *Server) deleteAccount(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p := principal(c)
	a, err := s.store.XAccount(c.Request().Context(), p.OrgID, id)
	if err != nil {
		return err
	}
	if err := s.store.RemoveXAccount(c.Request().Context(), p.OrgID, id); err != nil {
		return err
	}
	s.audit(c, p.OrgID, p.UserID, p.Email, "x_account.remove", a.Name)
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) reactivateAccount(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p := principal(c)
	ctx := c.Request().Context()
	if err := s.store.ReactivateXAccount(ctx, p.OrgID, id); err != nil {
		return err
	}
	a, err := s.store.XAccount(ctx, p.OrgID, id)
	if err != nil {
		return err
	}
	s.audit(c, p.OrgID, p.UserID, p.Email, "x_account.reactivate", a.Name)
	return c.JSON(http.StatusOK, accountOut(a))
}

func (s *Server) resetAccountLocks(c *echo.Context) error {
	p := principal(c)
	if err := s.store.ResetXLocks(c.Request().Context(), p.OrgID); err != nil {
		return err
	}
	s.audit(c, p.OrgID, p.UserID, p.Email, "x_account.reset_locks", "all")
	return c.NoContent(http.StatusNoContent)
}
