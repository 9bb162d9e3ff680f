package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"nexus/pipeline"
	"nexus/pipeline/analyze/providers"
	"nexus/scraper"
	"nexus/store"
)

func (a *App) runCmd() *cobra.Command {
	var org string
	var wait bool
	cmd := &cobra.Command{
		Use:   "run CAMPAIGN",
		Short: "Start one listening run of a campaign (by name or id)",
		Long: "Queue a listening run. Without --wait a running `nexus serve` picks it up; with --wait this\n" +
			"process works the run itself (a server on the same data can help: jobs are leased) and shows\n" +
			"its progress until it ends. Exit code 1 when the run fails or is cancelled.",
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withOrg(cmd, org, false, func(st *store.Store, o store.Organization) error {
				ctx := cmd.Context()
				c, err := findCampaign(cmd, st, o, args[0])
				if err != nil {
					return err
				}
				runner, pool, err := a.newRunner(st)
				if err != nil {
					return err
				}
				run, err := runner.Start(ctx, c, "cli")
				switch {
				case errors.Is(err, store.ErrRunActive) && wait:
					// A run already in progress (left by a process that died, or worked by a
					// server) is joined: this process works it too, from its jobs.
					if run, err = activeRun(ctx, st, o.ID, c.ID); err != nil {
						return err
					}
					fmt.Fprintf(a.stderr, "run %d of %q is in progress; working it here\n", run.ID, c.Name)
				case errors.Is(err, store.ErrRunActive):
					return fmt.Errorf("campaign %q already has a run in progress (--wait works it here)", c.Name)
				case err != nil:
					return err
				default:
					fmt.Fprintf(a.stderr, "run %d of %q queued: %s\n", run.ID, c.Name, run.Query)
				}
				if !wait {
					fmt.Fprintln(a.stdout, run.ID)
					return nil
				}
				pool.Start(context.WithoutCancel(ctx))
				watch, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
				go runner.Watch(watch, 250*time.Millisecond)
				defer func() {
					stopWatch()
					stopCtx, cancel := context.WithTimeout(context.Background(), a.cfg.Server.ShutdownTimeout)
					defer cancel()
					pool.Stop(stopCtx)
				}()
				return a.followRun(ctx, st, o.ID, run.ID)
			})
		},
	}
	cmd.Flags().StringVar(&org, "org", "", "organization (default: the only one)")
	cmd.Flags().BoolVar(&wait, "wait", false, "work the run in this process and show progress until it ends")
	return cmd
}

// activeRun is the campaign's queued or running run.
func activeRun(ctx context.Context, st *store.Store, orgID, campaignID int64) (store.Run, error) {
	runs, err := st.Runs(ctx, orgID, campaignID, 1)
	if err != nil {
		return store.Run{}, err
	}
	if len(runs) == 0 || !runs[0].Active() {
		return store.Run{}, fmt.Errorf("campaign %d: the run in progress ended meanwhile", campaignID)
	}
	return runs[0], nil
}

// newRunner builds the pipeline of a run the way `nexus serve` does.
func (a *App) newRunner(st *store.Store) (*pipeline.Runner, *pipeline.Pool, error) {
	cfg := a.cfg
	analyzer, err := providers.New(providers.Config{Provider: cfg.LLM.Provider, Model: cfg.LLM.Model,
		APIKey: cfg.LLM.APIKey, BaseURL: cfg.LLM.BaseURL}, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("llm: %w", err)
	}
	var pool *pipeline.Pool
	runner := pipeline.NewRunner(pipeline.RunnerOptions{
		Store: st, Analyzer: analyzer, Log: a.log,
		AccountWait: cfg.Runs.AccountWait, MaxReplies: cfg.Runs.MaxReplies,
		Senders: pipeline.NewSenders(st, cfg.Delivery.AllowPrivateTargets),
		NewClient: func(accounts scraper.AccountStore) (*scraper.Client, error) {
			return scraper.New(scraper.Options{APIBase: cfg.X.APIBase, WebBase: cfg.X.WebBase,
				TransactionID: cfg.X.TransactionID, Operations: cfg.X.Operations, Accounts: accounts, Log: a.log, WaitForAccount: 2 * time.Minute})
		},
		Wake: func() { pool.Wake() },
	})
	pool = pipeline.NewPool(st, pipeline.PoolOptions{Size: cfg.Workers.Concurrency, Handlers: runner.Handlers()}, a.log)
	return runner, pool, nil
}

// followRun prints the run's progress until it ends: a redrawn bar on a terminal,
// a line per change otherwise. Ctrl-C stops following and cancels nothing: the run
// stays queued for the next process that works it.
func (a *App) followRun(ctx context.Context, st *store.Store, orgID, runID int64) error {
	progress, tty := a.progressLine(), a.isTerminal()
	last := ""
	for {
		r, err := st.Run(ctx, orgID, runID)
		if err != nil {
			return err
		}
		p := r.Progress
		line := fmt.Sprintf("%-10s %3d%% %s tweets %d new %d, conversations %d, analysed %d, opportunities %d",
			r.Stage, p.Percent, bar(p.Percent), p.TweetsFound, p.TweetsNew, p.Conversations, p.Analyzed, p.Opportunities)
		if line != last {
			progress(line)
			if !tty {
				fmt.Fprintln(a.stderr, line)
			}
			last = line
		}
		if !r.Active() {
			progress("")
			if tty {
				fmt.Fprintln(a.stderr, line)
			}
			switch r.Status {
			case store.RunSucceeded:
				fmt.Fprintf(a.stderr, "run %d succeeded\n", r.ID)
				return nil
			default:
				return fmt.Errorf("run %d %s: %s", r.ID, r.Status, r.Error)
			}
		}
		select {
		case <-ctx.Done():
			progress("")
			return fmt.Errorf("stopped following run %d; it stays queued (see nexus campaigns show)", runID)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func bar(percent int) string {
	n := percent / 5
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", 20-n) + "]"
}
