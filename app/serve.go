package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"nexus/pipeline"
	"nexus/store"
	"nexus/web"
)

func (a *App) serveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the API, the web UI, the workers and the scheduler in one process",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.loadConfig(); err != nil {
				return err
			}
			srv, err := newServer(cmd.Context(), a.cfg, a.log)
			if err != nil {
				return err
			}
			return srv.run(cmd.Context(), nil)
		},
	}
	a.configFlag(cmd.Flags(), "addr", "server.addr", "listen address HOST:PORT")
	return cmd
}

// openStore opens <data_dir>/nexus.db with the secret key, the way every command does.
func openStore(ctx context.Context, cfg Config, log zerolog.Logger) (*store.Store, error) {
	secret, err := secretKey(cfg, log)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, filepath.Join(cfg.DataDir, "nexus.db"), store.Options{Secret: secret})
}

// server is everything `nexus serve` runs in one process.
type server struct {
	cfg   Config
	log   zerolog.Logger
	store *store.Store
	pool  *pipeline.Pool
	sched *pipeline.Scheduler
	web   *web.Server
	http  *http.Server
}

func newServer(ctx context.Context, cfg Config, log zerolog.Logger) (*server, error) {
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	sched, err := pipeline.NewScheduler(log)
	if err != nil {
		st.Close()
		return nil, err
	}
	s := &server{cfg: cfg, log: log, store: st, sched: sched,
		pool: pipeline.NewPool(st, pipeline.PoolOptions{Size: cfg.Workers.Concurrency, Handlers: map[string]pipeline.Handler{}}, log)}
	v, _, _ := buildInfo()
	s.web, err = web.New(web.Options{
		Log:            log,
		Store:          st,
		BodyLimit:      cfg.Server.BodyLimit,
		Version:        v,
		SessionTTL:     cfg.Auth.SessionTTL,
		TrustedProxies: cfg.Server.TrustedProxies,
		CORSOrigins:    cfg.Server.CORSOrigins,
		Checks: []web.Check{
			{Name: "database", Fn: st.Ping},
			{Name: "workers", Fn: s.pool.Health},
			{Name: "scheduler", Fn: sched.Health},
		},
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	s.http = &http.Server{
		Handler:           s.web.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	return s, nil
}

// run serves until ctx ends (SIGINT or SIGTERM), then shuts down in order: stop
// accepting and finish in-flight requests, stop the scheduler so no new run starts,
// let workers finish their jobs, close the database. ready, when set, is told the
// listening address (tests listen on port 0).
func (s *server) run(ctx context.Context, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", s.cfg.Server.Addr)
	if err != nil {
		s.store.Close()
		return fmt.Errorf("listen on %s (server.addr): %w", s.cfg.Server.Addr, err)
	}
	s.pool.Start(context.WithoutCancel(ctx))
	s.sched.Start()

	served := make(chan error, 1)
	go func() { served <- s.http.Serve(ln) }()
	s.log.Info().Str("addr", "http://"+ln.Addr().String()).Str("data_dir", s.cfg.DataDir).Msg("nexus is listening")
	if ready != nil {
		ready(ln.Addr())
	}

	var runErr error
	select {
	case <-ctx.Done():
		s.log.Info().Msg("shutting down; a second signal stops at once")
	case err := <-served:
		runErr = fmt.Errorf("http server: %w", err)
	}
	return errors.Join(runErr, s.shutdown())
}

func (s *server) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Server.ShutdownTimeout)
	defer cancel()
	var errs []error
	if err := s.http.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	if err := s.sched.Stop(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := s.pool.Stop(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := s.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close database: %w", err))
	}
	if len(errs) == 0 {
		s.log.Info().Msg("stopped cleanly")
	}
	return errors.Join(errs...)
}
