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
	"nexus/pipeline/analyze/providers"
	"nexus/scraper"
	"nexus/store"
	"nexus/web"
)

func (a *App) serveCmd() *cobra.Command {
	var demo *demoOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the API, the web UI, the workers and the scheduler in one process",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if demo.on {
				return a.runDemo(cmd.Context(), *demo)
			}
			if demo.keep {
				return usageError{errors.New("--keep only applies to the demo: use it with --demo")}
			}
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
	demo = demoFlags(cmd.Flags(), true)
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
	cfg    Config
	log    zerolog.Logger
	store  *store.Store
	pool   *pipeline.Pool
	sched  *pipeline.Scheduler
	runner *pipeline.Runner
	web    *web.Server
	http   *http.Server
	// metrics serves /metrics alone on server.metrics_addr; nil when that is unset.
	metrics     *http.Server
	metricsAddr net.Addr // where metrics listens once run has started (tests listen on port 0)
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
	analyzer, err := providers.New(providers.Config{Provider: cfg.LLM.Provider, Model: cfg.LLM.Model,
		APIKey: cfg.LLM.APIKey, BaseURL: cfg.LLM.BaseURL}, nil)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("llm: %w", err)
	}
	// The daily token budget lives in memory; carry today's spending over a restart.
	day := time.Now().UTC().Truncate(24 * time.Hour)
	if used, err := st.TokensSince(ctx, day); err == nil {
		analyzer.Budget().SetUsedToday(used)
	}
	s := &server{cfg: cfg, log: log, store: st, sched: sched}
	senders := pipeline.NewSenders(st, cfg.Delivery.AllowPrivateTargets)
	metrics := web.NewMetrics(st)
	s.runner = pipeline.NewRunner(pipeline.RunnerOptions{
		Store: st, Analyzer: analyzer, Log: log,
		AccountWait: cfg.Runs.AccountWait, MaxReplies: cfg.Runs.MaxReplies,
		Senders:  senders,
		OnTokens: metrics.LLMTokens,
		NewClient: func(accounts scraper.AccountStore) (*scraper.Client, error) {
			return scraper.New(scraper.Options{APIBase: cfg.X.APIBase, WebBase: cfg.X.WebBase,
				TransactionID: cfg.X.TransactionID, Operations: cfg.X.Operations, Accounts: accounts, Log: log,
				OnResponse: metrics.XRequest,
				// Workers outnumber accounts: a job waits in the client for a busy account
				// to free; only longer locks send it back to the queue (RetryAt).
				WaitForAccount: 2 * time.Minute})
		},
		Wake: func() { s.pool.Wake() },
	})
	s.pool = pipeline.NewPool(st, pipeline.PoolOptions{Size: cfg.Workers.Concurrency, Handlers: s.runner.Handlers()}, log)
	campaigns, err := st.Campaigns(ctx, 0)
	if err != nil {
		st.Close()
		return nil, err
	}
	for _, c := range campaigns {
		if err := sched.SetCampaign(c, s.runner.Start); err != nil {
			log.Error().Err(err).Int64("campaign_id", c.ID).Msg("campaign schedule not set")
		}
	}
	log.Info().Str("llm", analyzer.Name()).Str("model", analyzer.Model()).Int("scheduled_campaigns", sched.ScheduledCampaigns()).Msg("pipeline ready")
	v, _, _ := buildInfo()
	s.web, err = web.New(web.Options{
		Log:                 log,
		Store:               st,
		BodyLimit:           cfg.Server.BodyLimit,
		Version:             v,
		SessionTTL:          cfg.Auth.SessionTTL,
		TrustedProxies:      cfg.Server.TrustedProxies,
		CORSOrigins:         cfg.Server.CORSOrigins,
		Runs:                s.runner,
		Senders:             senders,
		Metrics:             metrics,
		AllowPrivateTargets: cfg.Delivery.AllowPrivateTargets,
		OnCampaignChange: func(c store.Campaign) {
			if err := sched.SetCampaign(c, s.runner.Start); err != nil {
				log.Error().Err(err).Int64("campaign_id", c.ID).Msg("campaign schedule not set")
			}
		},
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
	if cfg.Server.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metrics.Handler())
		s.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
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
	var metricsLn net.Listener
	if s.metrics != nil {
		if metricsLn, err = net.Listen("tcp", s.cfg.Server.MetricsAddr); err != nil {
			ln.Close()
			s.store.Close()
			return fmt.Errorf("listen on %s (server.metrics_addr): %w", s.cfg.Server.MetricsAddr, err)
		}
		if ip := metricsLn.Addr().(*net.TCPAddr).IP; ip.IsUnspecified() {
			s.log.Warn().Str("metrics_addr", s.cfg.Server.MetricsAddr).
				Msg("/metrics is served without authentication on every interface; prefer a loopback or private address")
		}
	}
	s.pool.Start(context.WithoutCancel(ctx))
	s.sched.Start()
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWatch()
	go s.runner.Watch(watchCtx, 500*time.Millisecond)

	served := make(chan error, 2)
	go func() { served <- s.http.Serve(ln) }()
	s.log.Info().Str("addr", "http://"+ln.Addr().String()).Str("data_dir", s.cfg.DataDir).Msg("nexus is listening")
	if metricsLn != nil {
		go func() {
			if err := s.metrics.Serve(metricsLn); err != nil {
				served <- fmt.Errorf("metrics: %w", err)
			}
		}()
		s.metricsAddr = metricsLn.Addr()
		s.log.Info().Str("addr", "http://"+metricsLn.Addr().String()+"/metrics").Msg("metrics are listening")
	}
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
	if s.metrics != nil {
		if err := s.metrics.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("metrics shutdown: %w", err))
		}
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
