package web

import (
	"fmt"
	"net/http"
	"runtime"
	"time"

	"github.com/labstack/echo/v5"
)

// logRequests writes one line per request. The query string is left out on purpose:
// it may carry a token or a search a user did not mean to have logged.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		start := time.Now()
		// Answer the error here, so the line logs the status the client got (a
		// store.ErrNotFound is a 404, not the 500 Echo would guess).
		if err := next(c); err != nil {
			s.handleError(c, err)
		}
		_, status := echo.ResolveResponseStatus(c.Response(), nil)
		ev := s.log.Info()
		if status >= 500 {
			ev = s.log.Warn()
		}
		ev.Str("request_id", c.Response().Header().Get(echo.HeaderXRequestID)).
			Str("method", c.Request().Method).
			Str("path", c.Request().URL.Path).
			Int("status", status).
			Dur("duration", time.Since(start)).
			Str("remote_ip", c.RealIP()).
			Msg("http")
		return nil
	}
}

// recoverPanics turns a panic in a handler into a logged 500 carrying the request id;
// the process lives on.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) (err error) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if r == http.ErrAbortHandler { // the client went away; net/http expects this panic
				panic(r)
			}
			buf := make([]byte, 8<<10)
			buf = buf[:runtime.Stack(buf, false)]
			err = fmt.Errorf("panic: %v\n%s", r, buf)
		}()
		return next(c)
	}
}
