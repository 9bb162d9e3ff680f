package app

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *App) migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations and print the schema version",
		Long: "Apply pending database migrations, each in its own transaction, and print the schema version.\n" +
			"nexus serve does the same at start; this command lets a deploy step do it first.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.loadConfig(); err != nil {
				return err
			}
			st, err := openStore(cmd.Context(), a.cfg, a.log)
			if err != nil {
				return err
			}
			defer st.Close()
			v, err := st.SchemaVersion(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "database %s is at schema version %d\n", st.Path(), v)
			return nil
		},
	}
}
