package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"nexus/store"
	"nexus/web"
)

func (a *App) accountsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "accounts", Short: "Manage the X sessions Nexus searches with", Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() }}
	var org string
	cmd.PersistentFlags().StringVar(&org, "org", "", "organization (default: the only one)")

	withStore := func(cmd *cobra.Command, fn func(st *store.Store, o store.Organization) error) error {
		return a.withOrg(cmd, org, false, fn)
	}
	audit := func(st *store.Store, cmd *cobra.Command, o store.Organization, action, target string) {
		st.Audit(cmd.Context(), store.AuditEntry{OrgID: o.ID, Actor: "cli", Action: action, Target: target, IP: "local"})
	}

	var cookies, proxy string
	add := &cobra.Command{
		Use:   "add NAME --cookies STR|-",
		Short: "Add a logged-in X session from its cookies (header string, JSON, cookie-editor list or base64)",
		Long: "Add a logged-in X session. Paste the cookies of a browser logged in to x.com: a Cookie header\n" +
			"(auth_token=...; ct0=...), a JSON object, a JSON list exported by a cookie extension, or base64 of\n" +
			"any of them. With --cookies - they are read from stdin, which keeps them out of the shell history.",
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cookies == "" {
				return usageError{errors.New("--cookies is required (use - to read them from stdin)")}
			}
			if cookies == "-" {
				b, err := io.ReadAll(io.LimitReader(a.stdin, 1<<20))
				if err != nil {
					return fmt.Errorf("read cookies from stdin: %w", err)
				}
				cookies = string(b)
			}
			stored, ua, err := web.NormalizeAccount(args[0], cookies, proxy)
			var we *web.Error
			if errors.As(err, &we) {
				return usageError{errors.New(we.Message)}
			}
			if err != nil {
				return err
			}
			return withStore(cmd, func(st *store.Store, o store.Organization) error {
				acct, err := st.AddXAccount(cmd.Context(), o.ID, args[0], stored, proxy, ua)
				if errors.Is(err, store.ErrConflict) {
					return usageError{err}
				}
				if err != nil {
					return err
				}
				audit(st, cmd, o, "x_account.add", acct.Name)
				fmt.Fprintf(a.stderr, "added X account %s to %s\n", acct.Name, o.Name)
				return nil
			})
		},
	}
	add.Flags().StringVar(&cookies, "cookies", "", "the session's cookies, or - to read them from stdin")
	add.Flags().StringVar(&proxy, "proxy", "", "send this account's requests through http://, https:// or socks5:// proxy")

	var format string
	list := &cobra.Command{
		Use: "list", Short: "List X sessions with their state and locks (never their cookies)", Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, func(st *store.Store, o store.Organization) error {
				as, err := st.XAccounts(cmd.Context(), o.ID)
				if err != nil {
					return err
				}
				if format == "json" {
					return json.NewEncoder(a.stdout).Encode(as)
				}
				if format != "table" {
					return usageError{fmt.Errorf("--format must be table or json, got %q", format)}
				}
				return printAccounts(a.stdout, as)
			})
		},
	}
	list.Flags().StringVar(&format, "format", "table", "table or json")

	byName := func(fn func(st *store.Store, o store.Organization, acct store.XAccount) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, func(st *store.Store, o store.Organization) error {
				acct, err := st.XAccountByName(cmd.Context(), o.ID, args[0])
				if errors.Is(err, store.ErrNotFound) {
					return usageError{fmt.Errorf("no X account named %q in %s", args[0], o.Name)}
				}
				if err != nil {
					return err
				}
				return fn(st, o, acct)
			})
		}
	}
	var rm, reactivate *cobra.Command
	rm = &cobra.Command{Use: "rm NAME", Short: "Remove an X session", Args: exactArgs(1),
		RunE: byName(func(st *store.Store, o store.Organization, acct store.XAccount) error {
			if err := st.RemoveXAccount(rm.Context(), o.ID, acct.ID); err != nil {
				return err
			}
			audit(st, rm, o, "x_account.remove", acct.Name)
			fmt.Fprintf(a.stderr, "removed X account %s\n", acct.Name)
			return nil
		})}
	reactivate = &cobra.Command{Use: "reactivate NAME", Short: "Put a banned or failed session back in rotation", Args: exactArgs(1),
		RunE: byName(func(st *store.Store, o store.Organization, acct store.XAccount) error {
			if err := st.ReactivateXAccount(reactivate.Context(), o.ID, acct.ID); err != nil {
				return err
			}
			audit(st, reactivate, o, "x_account.reactivate", acct.Name)
			fmt.Fprintf(a.stderr, "reactivated X account %s\n", acct.Name)
			return nil
		})}
	resetLocks := &cobra.Command{Use: "reset-locks", Short: "Clear every rate-limit lock and cooldown", Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, func(st *store.Store, o store.Organization) error {
				if err := st.ResetXLocks(cmd.Context(), o.ID); err != nil {
					return err
				}
				audit(st, cmd, o, "x_account.reset_locks", "all")
				fmt.Fprintln(a.stderr, "locks cleared")
				return nil
			})
		}}
	cmd.AddCommand(add, list, rm, reactivate, resetLocks)
	return cmd
}

func printAccounts(w io.Writer, as []store.XAccount) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tREQUESTS\tLOCKED\tLAST USED\tLAST ERROR")
	now := time.Now()
	for _, acct := range as {
		state := "active"
		if !acct.Active {
			state = "inactive"
		} else if acct.CooldownUntil != nil && acct.CooldownUntil.After(now) {
			state = "cooldown until " + acct.CooldownUntil.Local().Format("15:04")
		}
		var total int64
		var locks []string
		for op, r := range acct.Ops {
			total += r.Requests
			if r.LockedUntil != nil && r.LockedUntil.After(now) {
				locks = append(locks, op+" until "+r.LockedUntil.Local().Format("15:04"))
			}
		}
		sort.Strings(locks)
		used := "never"
		if acct.LastUsedAt != nil {
			used = acct.LastUsedAt.Local().Format(time.DateTime)
		}
		lock := strings.Join(locks, ", ")
		if lock == "" {
			lock = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", acct.Name, state, total, lock, used, acct.LastError)
	}
	return tw.Flush()
}
