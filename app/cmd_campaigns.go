package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"nexus/pipeline/query"
	"nexus/store"
)

func (a *App) campaignsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "campaigns", Short: "Manage what Nexus listens for", Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() }}
	var org string
	cmd.PersistentFlags().StringVar(&org, "org", "", "organization (default: the only one)")
	withStore := func(cmd *cobra.Command, fn func(st *store.Store, o store.Organization) error) error {
		return a.withOrg(cmd, org, true, fn)
	}

	var c store.Campaign
	var file string
	create := &cobra.Command{
		Use:   "create --name NAME [--keywords a,b] [flags] | --file campaign.json",
		Short: "Create a campaign from flags or from a JSON file (the API's campaign object; - for stdin)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if file != "" {
				if err := a.readCampaignFile(file, &c); err != nil {
					return err
				}
			}
			if !cmd.Flags().Changed("threshold") && c.Threshold == 0 && file == "" {
				c.Threshold = query.DefaultThreshold
			}
			query.Normalize(&c)
			var ve *query.ValidationError
			if err := query.Validate(c); errors.As(err, &ve) {
				return usageError{fmt.Errorf("campaign %s", err)}
			} else if err != nil {
				return err
			}
			return withStore(cmd, func(st *store.Store, o store.Organization) error {
				c.OrgID = o.ID
				saved, err := st.CreateCampaign(cmd.Context(), c)
				if errors.Is(err, store.ErrConflict) {
					return usageError{err}
				}
				if err != nil {
					return err
				}
				compiled, _ := query.Compile(saved, query.Options{})
				fmt.Fprintf(a.stderr, "campaign %d %q created; X query: %s\n", saved.ID, saved.Name, compiled.Query)
				return json.NewEncoder(a.stdout).Encode(saved)
			})
		},
	}
	f := create.Flags()
	f.StringVar(&file, "file", "", "read the campaign from a JSON file (- for stdin); flags are ignored")
	f.StringVar(&c.Name, "name", "", "campaign name")
	f.StringSliceVar(&c.Keywords, "keywords", nil, "keywords, comma-separated")
	f.StringVar(&c.Match, "match", "any", "any or all keywords")
	f.StringSliceVar(&c.Phrases, "phrases", nil, "exact phrases")
	f.StringSliceVar(&c.Hashtags, "hashtags", nil, "hashtags")
	f.StringSliceVar(&c.Mentions, "mentions", nil, "@mentions")
	f.StringSliceVar(&c.FromUsers, "from", nil, "only posts from these users")
	f.StringSliceVar(&c.ExcludeWords, "exclude", nil, "words to exclude")
	f.StringSliceVar(&c.ExcludeUsers, "exclude-users", nil, "users to exclude")
	f.StringVar(&c.Lang, "lang", "", "language code (en, es, ...)")
	f.IntVar(&c.MinLikes, "min-likes", 0, "minimum likes")
	f.IntVar(&c.MinRetweets, "min-retweets", 0, "minimum retweets")
	f.IntVar(&c.MinReplies, "min-replies", 0, "minimum replies")
	f.BoolVar(&c.IncludeReplies, "include-replies", false, "include replies")
	f.BoolVar(&c.IncludeRetweets, "include-retweets", false, "include retweets")
	f.IntVar(&c.LookbackHours, "lookback", 24, "hours to look back on the first run")
	f.StringVar(&c.AdvancedQuery, "query", "", "advanced X query, ANDed in")
	f.StringVar(&c.Context, "context", "", "what the team offers and what counts as an opportunity")
	f.IntVar(&c.Threshold, "threshold", query.DefaultThreshold, "opportunity threshold, 0-100")
	f.StringVar(&c.Schedule, "schedule", "", "cron expression or @every 30m")

	var format string
	list := &cobra.Command{Use: "list", Short: "List campaigns", Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, func(st *store.Store, o store.Organization) error {
				cs, err := st.Campaigns(cmd.Context(), o.ID)
				if err != nil {
					return err
				}
				if format == "json" {
					return json.NewEncoder(a.stdout).Encode(cs)
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tSCHEDULE\tTHRESHOLD\tQUERY")
				for _, c := range cs {
					compiled, _ := query.Compile(c, query.Options{})
					fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", c.ID, c.Name, orDash(c.Schedule), c.Threshold, compiled.Query)
				}
				return tw.Flush()
			})
		}}
	list.Flags().StringVar(&format, "format", "table", "table or json")

	show := &cobra.Command{Use: "show NAME|ID", Short: "Show a campaign with its compiled query and recent runs", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, func(st *store.Store, o store.Organization) error {
				c, err := findCampaign(cmd, st, o, args[0])
				if err != nil {
					return err
				}
				compiled, _ := query.Compile(c, query.Options{})
				runs, err := st.Runs(cmd.Context(), o.ID, c.ID, 5)
				if err != nil {
					return err
				}
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"campaign": c, "query": compiled.Query, "runs": runs})
			})
		}}
	del := &cobra.Command{Use: "delete NAME|ID", Short: "Delete a campaign and everything it found", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, func(st *store.Store, o store.Organization) error {
				c, err := findCampaign(cmd, st, o, args[0])
				if err != nil {
					return err
				}
				if err := st.DeleteCampaign(cmd.Context(), o.ID, c.ID); err != nil {
					return err
				}
				fmt.Fprintf(a.stderr, "campaign %q deleted\n", c.Name)
				return nil
			})
		}}
	cmd.AddCommand(create, list, show, del)
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// findCampaign accepts a campaign's name or id.
func findCampaign(cmd *cobra.Command, st *store.Store, o store.Organization, ref string) (store.Campaign, error) {
	c, err := st.CampaignByName(cmd.Context(), o.ID, ref)
	if errors.Is(err, store.ErrNotFound) {
		var id int64
		if _, scanErr := fmt.Sscan(ref, &id); scanErr == nil {
			c, err = st.Campaign(cmd.Context(), o.ID, id)
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return c, usageError{fmt.Errorf("no campaign %q in %s", ref, o.Name)}
	}
	return c, err
}

// readCampaignFile reads a campaign in the API's JSON form; unknown fields are errors.
func (a *App) readCampaignFile(path string, c *store.Campaign) error {
	var r io.Reader = a.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return usageError{fmt.Errorf("--file: %w", err)}
		}
		defer f.Close()
		r = f
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	*c = store.Campaign{Threshold: query.DefaultThreshold}
	if err := dec.Decode(c); err != nil {
		return usageError{fmt.Errorf("--file %s: %s", path, strings.TrimPrefix(err.Error(), "json: "))}
	}
	return nil
}
