package web

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v5"
)

// The web UI: server-rendered html/template pages, one stylesheet and one script,
// all embedded, so the binary serves its whole front end offline and under a CSP
// without 'unsafe-inline'. Pages read through the store like the API does; actions are
// plain forms (a POST that redirects), which the script upgrades to in-place updates
// where that reads better. The few actions that are API calls by nature (the live
// query preview, integrations) use the JSON API with the session's CSRF header.

//go:embed templates static
var uiFiles embed.FS

// ui is the web UI of one server: its templates, asset versions and the dashboard's
// facts. uiRoutes builds it, so the UI's state lives as long as its server and no
// longer.
type ui struct {
	*Server
	pages  map[string]*pageTemplate
	assets map[string]string // static file → content hash, for cache-busting URLs
	facts  *dashFacts
}

// uiRoutes registers the pages of the web UI, each in the access table with what it
// demands, like the API's routes.
func (s *Server) uiRoutes(e *echo.Echo) {
	u, err := newUI(s)
	if err != nil {
		// The templates are embedded: a parse error is a programming error that every
		// test of this package reports.
		panic(err)
	}
	s.errorPage = func(c *echo.Context, status int, msg string) error {
		return u.render(c, status, "error", view{Title: http.StatusText(status), Data: map[string]any{
			"Status": status, "Message": msg, "RequestID": c.Response().Header().Get(echo.HeaderXRequestID)}})
	}
	add := func(method, path string, h echo.HandlerFunc, a access) {
		s.access[method+" "+path] = a
		// page is outermost so that the gate's refusals, too, read as pages in a browser.
		e.Add(method, path, u.page(u.gate(a)(h)))
	}

	static, _ := fs.Sub(uiFiles, "static")
	e.GET("/static/*", u.static(static))
	s.access["GET /static/*"] = public

	add(http.MethodGet, "/setup", u.setupPage, public)
	add(http.MethodPost, "/setup", u.setupSubmit, public)
	add(http.MethodGet, "/login", u.loginPage, public)
	add(http.MethodPost, "/login", u.loginSubmit, public)
	add(http.MethodPost, "/logout", u.logoutSubmit, member)

	add(http.MethodGet, "/", u.dashboardPage, member)

	add(http.MethodGet, "/campaigns", u.campaignsPage, member)
	add(http.MethodGet, "/campaigns/new", u.campaignNewPage, admin)
	add(http.MethodPost, "/campaigns", u.campaignCreate, admin)
	add(http.MethodPost, "/campaigns/preview", u.campaignPreview, member)
	add(http.MethodGet, "/campaigns/:id", u.campaignPage, member)
	add(http.MethodGet, "/campaigns/:id/edit", u.campaignEditPage, admin)
	add(http.MethodPost, "/campaigns/:id", u.campaignUpdate, admin)
	add(http.MethodPost, "/campaigns/:id/delete", u.campaignDelete, admin)
	add(http.MethodPost, "/campaigns/:id/runs", u.runStart, member)

	add(http.MethodGet, "/runs/:id", u.runPage, member)
	add(http.MethodPost, "/runs/:id/cancel", u.runCancel, member)

	add(http.MethodGet, "/conversations/:id", u.conversationPage, member)

	add(http.MethodGet, "/opportunities", u.opportunitiesPage, member)
	add(http.MethodPost, "/opportunities/:id/status", u.opportunityStatus, member)
	add(http.MethodPost, "/opportunities/:id/feedback", u.opportunityFeedback, member)

	add(http.MethodGet, "/accounts", u.accountsPage, member)
	add(http.MethodPost, "/accounts", u.accountAdd, admin)
	add(http.MethodPost, "/accounts/:id/reactivate", u.accountReactivate, admin)
	add(http.MethodPost, "/accounts/:id/delete", u.accountDelete, admin)
	add(http.MethodPost, "/accounts/reset-locks", u.accountsResetLocks, admin)

	add(http.MethodGet, "/integrations", u.integrationsPage, member)

	add(http.MethodGet, "/users", u.usersPage, member)
	add(http.MethodPost, "/users", u.userAdd, admin)
	add(http.MethodPost, "/users/:id/role", u.userRole, admin)
	add(http.MethodPost, "/users/:id/delete", u.userDelete, admin)

	add(http.MethodGet, "/tokens", u.tokensPage, member)
	add(http.MethodPost, "/tokens", u.tokenCreate, member)
	add(http.MethodPost, "/tokens/:id/revoke", u.tokenRevoke, member)
}

// static serves the embedded assets. A URL that carries the file's current hash
// (?v=..., as the templates write them) is cached for a year; any other for a minute.
func (u *ui) static(files fs.FS) echo.HandlerFunc {
	serve := echo.StaticDirectoryHandler(files, false)
	return func(c *echo.Context) error {
		h := c.Response().Header()
		if v := c.QueryParam("v"); v != "" && v == u.assets[c.Param("*")] {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=60")
		}
		return serve(c)
	}
}
