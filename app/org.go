package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"nexus/store"
)

// resolveOrg picks the organization a command acts on: the one named by --org, else
// the only one, else a new "default" one on a fresh database (so that `nexus search`
// works at once). Several organizations and no --org is a usage error.
func resolveOrg(ctx context.Context, st *store.Store, name string, create bool) (store.Organization, error) {
	if name != "" {
		o, err := st.OrganizationByName(ctx, name)
		if errors.Is(err, store.ErrNotFound) && create {
			return st.CreateOrganization(ctx, name)
		}
		if errors.Is(err, store.ErrNotFound) {
			return o, usageError{fmt.Errorf("no organization named %q", name)}
		}
		return o, err
	}
	orgs, err := st.Organizations(ctx)
	if err != nil {
		return store.Organization{}, err
	}
	switch len(orgs) {
	case 0:
		return st.CreateOrganization(ctx, "default")
	case 1:
		return orgs[0], nil
	}
	names := make([]string, len(orgs))
	for i, o := range orgs {
		names[i] = o.Name
	}
	return store.Organization{}, usageError{fmt.Errorf("there are %d organizations (%s); choose one with --org", len(orgs), strings.Join(names, ", "))}
}

// withOrg loads the configuration, opens the database and resolves the organization
// (--org, creating it when create is set and it is new), runs fn, and closes the
// database: the preamble of every command that touches an organization's data.
func (a *App) withOrg(cmd *cobra.Command, org string, create bool, fn func(st *store.Store, o store.Organization) error) error {
	if err := a.loadConfig(); err != nil {
		return err
	}
	st, err := openStore(cmd.Context(), a.cfg, a.log)
	if err != nil {
		return err
	}
	defer st.Close()
	o, err := resolveOrg(cmd.Context(), st, org, create)
	if err != nil {
		return err
	}
	return fn(st, o)
}
