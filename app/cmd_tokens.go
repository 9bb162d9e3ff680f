package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"nexus/store"
)

func (a *App) tokensCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tokens", Short: "Manage API tokens", Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() }}
	var org, user, name, format string
	var days int
	create := &cobra.Command{
		Use:   "create --user EMAIL",
		Short: "Create an API token and print it, alone, on stdout (it is shown only once)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if user == "" {
				return usageError{errors.New("--user EMAIL is required")}
			}
			if days < 0 {
				return usageError{errors.New("--expires-in-days must be 0 (never) or more")}
			}
			if err := a.loadConfig(); err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := openStore(ctx, a.cfg, a.log)
			if err != nil {
				return err
			}
			defer st.Close()
			o, err := resolveUserOrg(cmd, st, org, user)
			if err != nil {
				return err
			}
			m, err := st.MemberByEmail(ctx, o.ID, user)
			if errors.Is(err, store.ErrNotFound) {
				return usageError{fmt.Errorf("%s is not a user of %s", user, o.Name)}
			}
			if err != nil {
				return err
			}
			var expires *time.Time
			if days > 0 {
				t := time.Now().Add(time.Duration(days) * 24 * time.Hour)
				expires = &t
			}
			t, secret, err := st.CreateToken(ctx, o.ID, m.ID, name, expires)
			if err != nil {
				return err
			}
			st.Audit(ctx, store.AuditEntry{OrgID: o.ID, UserID: m.ID, Actor: "cli", Action: "token.create", Target: t.Prefix + " " + t.Name, IP: "local"})
			fmt.Fprintln(a.stdout, secret)
			return nil
		},
	}
	create.Flags().StringVar(&user, "user", "", "e-mail of the user the token acts as")
	create.Flags().StringVar(&org, "org", "", "organization (default: the user's only one)")
	create.Flags().StringVar(&name, "name", "cli", "a name to recognise the token by")
	create.Flags().IntVar(&days, "expires-in-days", 0, "expiry in days; 0 never expires")

	list := &cobra.Command{
		Use: "list", Short: "List API tokens (prefixes, never the tokens)", Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withOrg(cmd, org, false, func(st *store.Store, o store.Organization) error {
				return a.printTokens(cmd, st, o, format)
			})
		},
	}
	list.Flags().StringVar(&org, "org", "", "organization (default: the only one)")
	list.Flags().StringVar(&format, "format", "table", "table or json")

	revoke := &cobra.Command{
		Use: "revoke ID", Short: "Revoke an API token", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return usageError{fmt.Errorf("token id %q is not a number", args[0])}
			}
			return a.withOrg(cmd, org, false, func(st *store.Store, o store.Organization) error {
				ctx := cmd.Context()
				if err := st.RevokeToken(ctx, o.ID, 0, id); err != nil {
					return err
				}
				st.Audit(ctx, store.AuditEntry{OrgID: o.ID, Actor: "cli", Action: "token.revoke", Target: "token " + args[0], IP: "local"})
				fmt.Fprintf(a.stderr, "token %d revoked\n", id)
				return nil
			})
		},
	}
	revoke.Flags().StringVar(&org, "org", "", "organization (default: the only one)")
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// resolveUserOrg is --org when given, else the user's only organization.
func resolveUserOrg(cmd *cobra.Command, st *store.Store, org, email string) (store.Organization, error) {
	ctx := cmd.Context()
	if org != "" {
		return resolveOrg(ctx, st, org, false)
	}
	ms, err := st.Memberships(ctx, email)
	if err != nil {
		return store.Organization{}, err
	}
	switch len(ms) {
	case 0:
		return store.Organization{}, usageError{fmt.Errorf("no user %s; create one with nexus users create", email)}
	case 1:
		return store.Organization{ID: ms[0].OrgID, Name: ms[0].Organization}, nil
	}
	return store.Organization{}, usageError{fmt.Errorf("%s belongs to %d organizations; choose one with --org", email, len(ms))}
}

// printTokens lists the organization's tokens: prefixes, never the tokens.
func (a *App) printTokens(cmd *cobra.Command, st *store.Store, o store.Organization, format string) error {
	ctx := cmd.Context()
	ts, err := st.Tokens(ctx, o.ID, 0)
	if err != nil {
		return err
	}
	if format == "json" {
		return json.NewEncoder(a.stdout).Encode(ts)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPREFIX\tNAME\tUSER\tLAST USED\tSTATE")
	for _, t := range ts {
		state, used := "active", "never"
		if t.RevokedAt != nil {
			state = "revoked"
		} else if t.ExpiresAt != nil && t.ExpiresAt.Before(time.Now()) {
			state = "expired"
		}
		if t.LastUsedAt != nil {
			used = t.LastUsedAt.Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%d\t%s…\t%s\t%s\t%s\t%s\n", t.ID, t.Prefix, t.Name, t.Email, used, state)
	}
	return tw.Flush()
}
