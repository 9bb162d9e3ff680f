package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
	"github.com/rs/zerolog"
)

// Check is one named health check; it returns nil when the part it checks is fine.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Options are what the server needs from the rest of the process.
type Options struct {
	Log       zerolog.Logger
	BodyLimit int64 // bytes
	Checks    []Check
	Version   string
}

// Server is the Echo application.
type Server struct {
	echo *echo.Echo
	log  zerolog.Logger
	opts Options
}

// New builds the server with its middleware and routes.
func New(opts Options) *Server {
	e := echo.New()
	s := &Server{echo: e, log: opts.Log, opts: opts}
	e.HTTPErrorHandler = s.handleError
	e.Pre(middleware.RequestID())
	e.Use(s.logRequests, s.recoverPanics)
	e.Use(middleware.BodyLimit(opts.BodyLimit))
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:         "0", // obsolete header; modern advice is to disable the auditor
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		ReferrerPolicy:        "same-origin",
		ContentSecurityPolicy: "default-src 'self'; img-src 'self' data: https:; frame-ancestors 'none'",
	}))
	s.routes(e)
	return s
}

// Handler is the http.Handler to serve.
func (s *Server) Handler() http.Handler { return s.echo }

// Echo exposes the router so that tests can mount extra routes on the real middleware.
func (s *Server) Echo() *echo.Echo { return s.echo }

// healthTimeout bounds each check, so that a stuck database answers 503, not a hang.
const healthTimeout = 2 * time.Second
