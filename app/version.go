package app

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at build time:
//
//	go build -ldflags "-X nexus/app.version=1.2.0 -X nexus/app.commit=$(git rev-parse --short HEAD) -X nexus/app.date=$(date -u +%FT%TZ)"
var (
	version = "dev"
	commit  = ""
	date    = ""
)

// buildInfo fills what -ldflags did not set from the module's own build info (the VCS
// stamp of `go build` in a git checkout), so a plain build still says what it is.
func buildInfo() (v, c, d string) {
	v, c, d = version, commit, date
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if c == "" && len(s.Value) >= 12 {
					c = s.Value[:12]
				}
			case "vcs.time":
				if d == "" {
					d = s.Value
				}
			}
		}
	}
	if c == "" {
		c = "unknown"
	}
	if d == "" {
		d = "unknown"
	}
	return v, c, d
}

func (a *App) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v, c, d := buildInfo()
			fmt.Fprintf(a.stdout, "nexus %s (commit %s, built %s, %s %s/%s)\n", v, c, d, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// noArgs is cobra.NoArgs as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args)}
	}
	return nil
}
