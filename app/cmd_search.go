package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"nexus/pipeline"
	"nexus/pipeline/deliver/export"
	"nexus/scraper"
	"nexus/store"
)

func (a *App) searchCmd() *cobra.Command {
	var org, product, format string
	var limit int
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "search QUERY",
		Short: "Search X with the organization's sessions and print the tweets",
		Long: "Search X the way its web app does, with the X sessions added by `nexus accounts add`.\n" +
			"QUERY uses X's search syntax (from:, lang:, since:, min_faves:, \"exact phrase\", OR, -word, ...).\n" +
			"json, jsonl and csv go to stdout and nothing else does; progress and errors go to stderr.\n" +
			"The output stays valid when the search is cut short (Ctrl-C, no account left).",
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			product = strings.ToLower(product)
			if product != "latest" && product != "top" {
				return usageError{fmt.Errorf("--product must be latest or top, got %q", product)}
			}
			if limit < 0 {
				return usageError{errors.New("--limit must be 0 (no limit) or more")}
			}
			out, err := newTweetWriter(a.stdout, format)
			if err != nil {
				return err
			}
			if strings.TrimSpace(args[0]) == "" {
				return usageError{errors.New("QUERY is empty")}
			}
			return a.withOrg(cmd, org, false, func(st *store.Store, o store.Organization) error {
				ctx := cmd.Context()
				client, err := scraper.New(scraper.Options{
					APIBase: a.cfg.X.APIBase, WebBase: a.cfg.X.WebBase, TransactionID: a.cfg.X.TransactionID, Operations: a.cfg.X.Operations,
					Accounts: pipeline.NewXAccounts(st, o.ID), Log: a.log, WaitForAccount: wait,
				})
				if err != nil {
					return err
				}
				progress := a.progressLine()
				n, pages := 0, 0
				searchErr := client.Search(ctx, scraper.SearchOptions{Query: args[0], Product: titleCase(product), Limit: limit},
					func(p scraper.Page) error {
						pages++
						for _, t := range p.Tweets {
							if err := out.Write(t); err != nil {
								return err
							}
							n++
						}
						progress(fmt.Sprintf("page %d, %d tweets", pages, n))
						return out.Flush()
					})
				progress("")
				if err := out.Close(); err != nil {
					return err
				}
				var none *scraper.NoAccountError
				switch {
				case errors.As(searchErr, &none):
					return noAccountError(st, ctx, o, none, n)
				case errors.Is(searchErr, context.Canceled):
					return fmt.Errorf("interrupted after %d tweets", n)
				case searchErr != nil:
					return fmt.Errorf("search stopped after %d tweets: %w", n, searchErr)
				}
				fmt.Fprintf(a.stderr, "%d tweets from %d pages\n", n, pages)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&org, "org", "", "organization whose X sessions to use (default: the only one)")
	cmd.Flags().IntVar(&limit, "limit", 100, "stop after this many tweets (0: until X has no more)")
	cmd.Flags().StringVar(&product, "product", "latest", "latest or top")
	cmd.Flags().StringVar(&format, "format", "table", "table, json, jsonl or csv")
	cmd.Flags().DurationVar(&wait, "wait", 0, "when every X session is rate-limited, wait up to this long for one (e.g. 15m)")
	return cmd
}

func titleCase(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// noAccountError explains, in one line, why no X session could be used.
func noAccountError(st *store.Store, ctx context.Context, o store.Organization, none *scraper.NoAccountError, got int) error {
	if none.NextFree.IsZero() {
		as, _ := st.XAccounts(ctx, o.ID)
		if len(as) == 0 {
			return fmt.Errorf("no X account in %s: add one with `nexus accounts add NAME --cookies -`", o.Name)
		}
		return fmt.Errorf("no usable X account in %s after %d tweets (all inactive; see `nexus accounts list`)", o.Name, got)
	}
	return fmt.Errorf("every X account is rate-limited until %s (after %d tweets); retry then, or pass --wait",
		none.NextFree.Local().Format(time.TimeOnly), got)
}

// progressLine returns a function that rewrites one status line on a terminal's stderr
// and does nothing elsewhere (logs and pipes get no carriage returns).
func (a *App) progressLine() func(string) {
	if !a.isTerminal() {
		return func(string) {}
	}
	return func(s string) { fmt.Fprintf(a.stderr, "\r\033[K%s", s) }
}

// isTerminal reports whether stderr is a terminal.
func (a *App) isTerminal() bool {
	f, ok := a.stderr.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// tweetWriter prints tweets in one of the CLI's formats.
type tweetWriter interface {
	Write(scraper.Tweet) error
	Flush() error // after each page, so a pipe sees results as they come
	Close() error // completes the document (a JSON array's closing bracket)
}

func newTweetWriter(w io.Writer, format string) (tweetWriter, error) {
	switch format {
	case "table":
		return &tableWriter{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}, nil
	case "json":
		return &jsonArrayWriter{w: w}, nil
	case "jsonl":
		return &jsonlWriter{enc: export.NewJSONL(w)}, nil
	case "csv":
		return &csvWriter{csv: export.NewCSV(w, export.TweetColumns())}, nil
	}
	return nil, usageError{fmt.Errorf("--format must be table, json, jsonl or csv, got %q", format)}
}

type tableWriter struct {
	tw     *tabwriter.Writer
	header bool
}

func (t *tableWriter) Write(tw scraper.Tweet) error {
	if !t.header {
		fmt.Fprintln(t.tw, "TIME\tAUTHOR\tLIKES\tREPLIES\tTEXT")
		t.header = true
	}
	text := strings.Join(strings.Fields(tw.Text), " ")
	if r := []rune(text); len(r) > 100 {
		text = string(r[:99]) + "…"
	}
	_, err := fmt.Fprintf(t.tw, "%s\t@%s\t%d\t%d\t%s\n", tw.CreatedAt.Local().Format("2006-01-02 15:04"), tw.Username, tw.LikeCount, tw.ReplyCount, text)
	return err
}
func (t *tableWriter) Flush() error { return t.tw.Flush() }
func (t *tableWriter) Close() error { return t.tw.Flush() }

type jsonArrayWriter struct {
	w     io.Writer
	count int
}

func (j *jsonArrayWriter) Write(t scraper.Tweet) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	sep := ",\n"
	if j.count == 0 {
		sep = "[\n"
	}
	j.count++
	_, err = fmt.Fprintf(j.w, "%s%s", sep, b)
	return err
}
func (j *jsonArrayWriter) Flush() error { return nil }
func (j *jsonArrayWriter) Close() error {
	if j.count == 0 {
		_, err := io.WriteString(j.w, "[]\n")
		return err
	}
	_, err := io.WriteString(j.w, "\n]\n")
	return err
}

type jsonlWriter struct{ enc *export.JSONL }

func (j *jsonlWriter) Write(t scraper.Tweet) error { return j.enc.Write(t) }
func (j *jsonlWriter) Flush() error                { return j.enc.Flush() }
func (j *jsonlWriter) Close() error                { return j.enc.Flush() }

type csvWriter struct{ csv *export.CSV }

func (c *csvWriter) Write(t scraper.Tweet) error { return c.csv.Write(export.TweetRecord(t)) }
func (c *csvWriter) Flush() error                { return c.csv.Flush() }
func (c *csvWriter) Close() error                { return c.csv.Flush() }
