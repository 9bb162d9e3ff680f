package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v5"

	"nexus/store"
)

// pageTemplate is one page: the layout, the shared partials and the page's own
// "content" (and optional "head") definitions.
type pageTemplate struct {
	t *template.Template
}

// view is what every page template gets; Data is the page's own.
type view struct {
	Title string
	Nav   string // the navigation entry to highlight
	User  store.Principal
	CSRF  string
	Flash string
	Data  any
}

// newUI parses every page template and hashes the static assets.
func newUI(s *Server) (*ui, error) {
	u := &ui{Server: s, pages: map[string]*pageTemplate{}, assets: map[string]string{}, facts: newDashFacts()}
	err := fs.WalkDir(uiFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := uiFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		u.assets[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: hash assets: %w", err)
	}
	pages, err := fs.Glob(uiFiles, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		t, err := template.New("layout.html").Funcs(u.funcs()).ParseFS(uiFiles, "templates/layout.html", "templates/partials/*.html", p)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", p, err)
		}
		u.pages[strings.TrimSuffix(path.Base(p), ".html")] = &pageTemplate{t: t}
	}
	return u, nil
}

// render writes a page. It renders into a buffer first, so that a template error is a
// clean 500 and never half a page.
func (u *ui) render(c *echo.Context, status int, page string, v view) error {
	pt, ok := u.pages[page]
	if !ok {
		return fmt.Errorf("web: no page template %q", page)
	}
	if p, ok := c.Get(principalKey).(store.Principal); ok {
		v.User, v.CSRF = p, p.CSRFToken
	}
	if v.Flash == "" {
		v.Flash = takeFlash(c)
	}
	var buf bytes.Buffer
	if err := pt.t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		return fmt.Errorf("web: render %s: %w", page, err)
	}
	// Pages carry the session's CSRF token and the organization's data: never cached.
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// page turns a handler's error into a readable page for a browser; other clients get
// the API's JSON error from the server's error handler.
func (u *ui) page(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		err := h(c)
		if err == nil || !wantsHTML(c) {
			return err
		}
		if r, _ := echo.UnwrapResponse(c.Response()); r != nil && r.Committed {
			return err
		}
		status, msg := u.uiError(c, err)
		if status == http.StatusUnauthorized {
			return c.Redirect(http.StatusSeeOther, loginURL(c))
		}
		return u.errorPage(c, status, msg)
	}
}

// uiError is handleError's mapping, for pages: the status and a message a person can
// act on. Unknown errors are logged here, once, since the error handler never sees them.
func (u *ui) uiError(c *echo.Context, err error) (int, string) {
	var ae *Error
	switch {
	case errors.As(err, &ae):
		return ae.Status, ae.Message
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "There is nothing here: it was deleted, or it belongs to another organization."
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrLastAdmin):
		return http.StatusConflict, capitalize(err.Error()) + "."
	case errors.Is(err, store.ErrAlreadySetUp):
		return http.StatusConflict, "Nexus is already set up; log in instead."
	case echo.StatusCode(err) != 0:
		code := echo.StatusCode(err)
		return code, http.StatusText(code)
	}
	u.log.Error().Err(err).
		Str("request_id", c.Response().Header().Get(echo.HeaderXRequestID)).
		Str("method", c.Request().Method).Str("path", c.Request().URL.Path).
		Msg("page failed")
	return http.StatusInternalServerError, "Something went wrong on our side. The server log has the details."
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
