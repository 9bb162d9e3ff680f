package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
)

// Exit codes of every command.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// App is one invocation of the nexus command: its streams, environment and settings.
type App struct {
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	environ []string

	configPath string
	flags      map[string]string // config key -> value, for flags the user set
	flagNames  map[string]string // config key -> flag name, to name the source of an error

	cfg Config
	log zerolog.Logger
}

// usageError is a mistake in how the command was called: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// Main runs the CLI with args (without the program name) and returns the exit code.
func Main(args []string) int {
	a := &App{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ()}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal, restore the default handling so that a second one kills
	// the process when a graceful shutdown hangs.
	context.AfterFunc(ctx, stop)
	return a.run(ctx, args)
}

func (a *App) run(ctx context.Context, args []string) int {
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(a.stderr, "nexus:", err)
	var ue usageError
	var ce *ConfigError
	if errors.As(err, &ue) || errors.As(err, &ce) {
		return exitUsage
	}
	return exitFailure
}

func (a *App) rootCmd() *cobra.Command {
	a.flags = map[string]string{}
	a.flagNames = map[string]string{}
	root := &cobra.Command{
		Use:           "nexus",
		Short:         "Social listening for X: campaigns, threads, LLM analysis, delivery",
		SilenceUsage:  true,
		SilenceErrors: true,
		// Bare "nexus" prints help; an unknown subcommand is a usage error.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown command %q; see nexus --help", args[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%s: %w", cmd.CommandPath(), err)}
	})
	pf := root.PersistentFlags()
	pf.StringVar(&a.configPath, "config", "", "configuration file (default $NEXUS_CONFIG, else ./nexus.toml if present)")
	a.configFlag(pf, "data-dir", "data_dir", "directory for the database and the secret key")
	a.configFlag(pf, "log-level", "log.level", "trace, debug, info, warn or error")
	a.configFlag(pf, "log-format", "log.format", "auto, console or json")

	root.AddCommand(a.versionCmd(), a.serveCmd(), a.migrateCmd(), a.usersCmd(), a.tokensCmd(), a.accountsCmd(), a.searchCmd(), a.campaignsCmd(), a.runCmd(), a.demoCmd())
	return root
}

// configFlag declares a flag that overrides the configuration key. Flag values are kept
// as strings and parsed by LoadConfig, so errors name the flag just as they name a file
// or a variable.
func (a *App) configFlag(fs interface {
	Func(name, usage string, fn func(string) error)
}, name, key, usage string) {
	a.flagNames[key] = "--" + name
	fs.Func(name, usage+" (config "+key+")", func(v string) error {
		a.flags[key] = v
		return nil
	})
}

// loadConfig reads the configuration and sets up the log. Commands call it first.
func (a *App) loadConfig() error {
	cfg, err := LoadConfig(LoadOptions{Path: a.configPath, Environ: a.environ, Flags: a.flags, FlagFor: a.flagNames})
	if err != nil {
		return err
	}
	a.cfg = cfg
	a.log = newLogger(a.stderr, cfg.Log)
	return nil
}
