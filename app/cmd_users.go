package app

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"nexus/store"
)

func (a *App) usersCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "Manage the people who log in", Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() }}
	var org, role string
	create := &cobra.Command{
		Use:   "create EMAIL",
		Short: "Create a user (or add an existing one to --org); the password is read from stdin",
		Long: "Create a user in an organization, creating the organization when it is new.\n" +
			"On a terminal the password is asked twice without echo; otherwise the first line of stdin is the password.",
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if role != store.RoleAdmin && role != store.RoleMember {
				return usageError{fmt.Errorf("--role must be admin or member, got %q", role)}
			}
			// The password first: a missing or weak one must not leave a new
			// organization behind.
			email := strings.TrimSpace(args[0])
			password, err := a.readPassword()
			if err != nil {
				return err
			}
			hash, err := store.HashPassword(password)
			if err != nil {
				return usageError{err}
			}
			return a.withOrg(cmd, org, true, func(st *store.Store, o store.Organization) error {
				ctx := cmd.Context()
				m, err := st.AddMember(ctx, o.ID, email, hash, role)
				if errors.Is(err, store.ErrConflict) {
					return usageError{err}
				}
				if err != nil {
					return err
				}
				st.Audit(ctx, store.AuditEntry{OrgID: o.ID, Actor: "cli", Action: "user.add", Target: m.Email + " as " + m.Role, IP: "local"})
				fmt.Fprintf(a.stderr, "user %s is %s of %s\n", m.Email, m.Role, o.Name)
				return nil
			})
		},
	}
	create.Flags().StringVar(&org, "org", "", "organization (created when new; default: the only one)")
	create.Flags().StringVar(&role, "role", store.RoleAdmin, "admin or member")

	var format string
	list := &cobra.Command{
		Use: "list", Short: "List the users of an organization", Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withOrg(cmd, org, false, func(st *store.Store, o store.Organization) error {
				ms, err := st.Members(cmd.Context(), o.ID)
				if err != nil {
					return err
				}
				if format == "json" {
					return json.NewEncoder(a.stdout).Encode(ms)
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tEMAIL\tROLE\tCREATED")
				for _, m := range ms {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", m.ID, m.Email, m.Role, m.CreatedAt.Format("2006-01-02"))
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&org, "org", "", "organization (default: the only one)")
	list.Flags().StringVar(&format, "format", "table", "table or json")
	cmd.AddCommand(create, list)
	return cmd
}

// readPassword asks twice on a terminal, or reads the first line of a pipe.
func (a *App) readPassword() (string, error) {
	if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(a.stderr, "Password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(a.stderr, "Again: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(p1) != string(p2) {
			return "", usageError{errors.New("the passwords differ")}
		}
		return string(p1), nil
	}
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usageError{errors.New("no password on stdin")}
	}
	return line, nil
}

// exactArgs is cobra.ExactArgs as a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s takes %d argument(s), got %d; see --help", cmd.CommandPath(), n, len(args))}
		}
		return nil
	}
}
