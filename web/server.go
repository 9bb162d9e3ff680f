package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
	"github.com/rs/zerolog"

	"nexus/pipeline"
	"nexus/store"
)

// Check is one named health check; it returns nil when the part it checks is fine.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Options are what the server needs from the rest of the process.
type Options struct {
	Log        zerolog.Logger
	Store      *store.Store
	BodyLimit  int64 // bytes
	Checks     []Check
	Version    string
	SessionTTL time.Duration
	// TrustedProxies are the IPs and CIDR ranges whose X-Forwarded-For is believed.
	TrustedProxies []string
	// CORSOrigins enables CORS for exactly these origins; empty leaves it off.
	CORSOrigins []string
	// Now is the clock of the login rate limits; nil means time.Now.
	Now func() time.Time
	// Runs starts listening runs; nil in processes that run no jobs.
	Runs RunStarter
	// OnCampaignChange is told of every created, changed or deleted campaign (a deleted
	// one comes with an empty schedule), so the scheduler can rebuild its job.
	OnCampaignChange func(store.Campaign)
	// Senders sends integration test messages; AllowPrivateTargets is
	// delivery.allow_private_targets, checked when an integration is saved.
	Senders             *pipeline.Senders
	AllowPrivateTargets bool
	// Metrics collects what /metrics shows; nil: the server makes its own, without the
	// X and LLM counters that other parts of the process feed.
	Metrics *Metrics
	// EventInterval is how often a run's event stream looks for changes (default 500ms).
	EventInterval time.Duration
}

// RunStarter starts a listening run of a campaign.
type RunStarter interface {
	Start(ctx context.Context, c store.Campaign, trigger string) (store.Run, error)
}

// Login attempts: after loginMaxPerIP failures from one address, or
// loginMaxPerAccount on one account from anywhere, further tries wait out the window.
// The per-account limit is higher so that a guesser hammering an account from one
// address locks out their address, not the account's owner.
const (
	loginMaxPerIP      = 10
	loginMaxPerAccount = 20
	loginWindow        = 15 * time.Minute
)

// Server is the Echo application.
type Server struct {
	echo   *echo.Echo
	log    zerolog.Logger
	opts   Options
	store  *store.Store
	setup  setupState
	access map[string]access // "METHOD /path" -> what the route demands
	// errorPage renders an error as the UI's page, for a browser that asked for a
	// page no route serves; set by uiRoutes.
	errorPage func(c *echo.Context, status int, msg string) error

	loginByIP      *failureLimiter
	loginByAccount *failureLimiter
}

// New builds the server with its middleware and routes.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.EventInterval <= 0 {
		opts.EventInterval = 500 * time.Millisecond
	}
	if opts.SessionTTL == 0 {
		opts.SessionTTL = 14 * 24 * time.Hour
	}
	e := echo.New()
	s := &Server{
		echo: e, log: opts.Log, opts: opts, store: opts.Store,
		loginByIP:      newFailureLimiter(loginMaxPerIP, loginWindow, opts.Now),
		loginByAccount: newFailureLimiter(loginMaxPerAccount, loginWindow, opts.Now),
	}
	ipx, err := ipExtractor(opts.TrustedProxies)
	if err != nil {
		return nil, err
	}
	e.IPExtractor = ipx
	e.HTTPErrorHandler = s.handleError
	e.Pre(middleware.RequestID())
	e.Use(s.logRequests, s.recoverPanics)
	if len(opts.CORSOrigins) > 0 {
		e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins:     opts.CORSOrigins,
			AllowCredentials: true,
			AllowHeaders:     []string{"Authorization", "Content-Type", csrfHeader},
			AllowMethods:     []string{"GET", "POST", "PUT", "PATCH", "DELETE"},
			MaxAge:           600,
		}))
	}
	e.Use(middleware.BodyLimit(opts.BodyLimit))
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:         "0", // obsolete header; modern advice is to disable the auditor
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		HSTSMaxAge:            31536000, // sent only over TLS
		ReferrerPolicy:        "same-origin",
		ContentSecurityPolicy: "default-src 'self'; img-src 'self' data: https:; frame-ancestors 'none'",
	}))
	s.routes(e)
	return s, nil
}

// ipExtractor believes X-Forwarded-For only from the configured proxies; with none it
// uses the peer address, which a client cannot forge.
func ipExtractor(trusted []string) (echo.IPExtractor, error) {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect(), nil
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, t := range trusted {
		_, n, err := net.ParseCIDR(t)
		if err != nil {
			ip := net.ParseIP(t)
			if ip == nil {
				return nil, fmt.Errorf("web: trusted proxy %q is not an IP or CIDR", t)
			}
			bits := 8 * len(ip.To16())
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			n = &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}
		}
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...), nil
}

// Handler is the http.Handler to serve.
func (s *Server) Handler() http.Handler { return s.echo }

// Echo exposes the router so that tests can mount extra routes on the real middleware.
func (s *Server) Echo() *echo.Echo { return s.echo }

// healthTimeout bounds each check, so that a stuck database answers 503, not a hang.
const healthTimeout = 2 * time.Second
