package scraper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// SearchOptions are the parameters of one search.
type SearchOptions struct {
	Query    string // X's search syntax, operators included (since:, until:, since_id:, lang:, ...)
	Product  string // Latest (default) or Top; Media also works
	Limit    int    // stop after this many tweets; 0: until X has no more
	PageSize int    // tweets asked per page (default 20; X mostly ignores it)
	// Cursor resumes a search where an earlier one stopped: the Bottom cursor of the
	// last page it stored. A listening run keeps it so a restart does not fetch again
	// what it already has.
	Cursor string
}

// Search stop reasons, for the log.
const (
	stopLimit          = "limit reached"
	stopRepeatedCursor = "repeated cursor"
	stopRepeatedPage   = "repeated page"
	stopEmptyPages     = "three pages without new tweets"
	stopNoCursor       = "no cursor"
	stopNoResults      = "no results"
)

// maxEmptyPages is how many pages in a row may bring no new tweet before a search
// stops: past the end of the results X keeps sending empty pages with fresh cursors,
// and a few pages of promoted tweets only must not end a search early (twscrape #247).
const maxEmptyPages = 3

// Search runs a SearchTimeline query and streams its results: page receives the new
// tweets of each page as soon as it arrives (never a tweet twice; only entry-level
// tweets, with quoted and retweeted ones nested), so that a caller can store as it
// goes and keep what it has when the search is cut short. Pages without new tweets
// are not passed on.
//
// It stops at the limit (the last page cut to fit), on a cursor seen before, on a
// page that repeats the previous one, after three pages in a row without new tweets,
// on a page without a cursor, or when the first page has no entry at all. An error from page stops the search and is returned
// as is. One account is leased for the whole search and replaced when X locks, bans or
// rests it; a *NoAccountError means none was left.
func (c *Client) Search(ctx context.Context, o SearchOptions, page func(Page) error) error {
	if page == nil {
		page = func(Page) error { return nil }
	}
	q := strings.TrimSpace(o.Query)
	if q == "" {
		return errors.New("search: empty query")
	}
	product, err := searchProduct(o.Product)
	if err != nil {
		return fmt.Errorf("search %q: %w", q, err)
	}
	size := o.PageSize
	if size <= 0 {
		size = 20
	}
	size = min(size, 100)
	cl := call{
		op:       OpSearchTimeline,
		vars:     gqlVars{{"rawQuery", q}, {"count", size}, {"querySource", "typed_query"}, {"product", product}},
		features: OperationFeatures(OpSearchTimeline),
		toggles:  FieldToggles(OpSearchTimeline),
		referer:  c.webBase + "/search?q=" + encodeURIComponent(q) + "&src=typed_query" + searchFilter[product],
	}

	l := c.newLease(OpSearchTimeline)
	defer l.release(ctx, Outcome{})
	var (
		seen        = make(map[string]bool)
		seenCursors = make(map[string]bool)
		prevIDs     []string
		cursor      = o.Cursor
		total       int
		empty       int
		stop        string
	)
	for n := 1; stop == ""; n++ {
		req := cl
		if cursor != "" {
			req.vars = cl.vars.with("cursor", cursor)
		}
		p, err := c.fetch(ctx, l, req)
		if err != nil {
			return fmt.Errorf("search %q: page %d: %w", q, n, err)
		}
		ids := make([]string, len(p.Tweets))
		for i, t := range p.Tweets {
			ids[i] = t.ID
		}
		if len(ids) > 0 && slices.Equal(ids, prevIDs) {
			stop = stopRepeatedPage
			break
		}
		if n == 1 && p.entries == 0 && o.Cursor == "" {
			// Nothing at all, not even an ad or a tombstone: X has no result. (An empty
			// page later on may be a hiccup; those get maxEmptyPages tries.) This keeps
			// an incremental search with nothing new at one request.
			stop = stopNoResults
			break
		}
		prevIDs = ids
		fresh := make([]Tweet, 0, len(p.Tweets))
		for _, t := range p.Tweets {
			if !seen[t.ID] {
				seen[t.ID] = true
				fresh = append(fresh, t)
			}
		}
		if o.Limit > 0 && total+len(fresh) > o.Limit {
			fresh = fresh[:o.Limit-total]
		}
		if len(fresh) > 0 {
			empty = 0
			total += len(fresh)
			if err := page(Page{Tweets: fresh, Users: p.Users, Cursors: p.Cursors, Errors: p.Errors}); err != nil {
				return err
			}
		} else {
			empty++
		}
		next := p.Cursors.Bottom
		switch {
		case o.Limit > 0 && total >= o.Limit:
			stop = stopLimit
		case empty >= maxEmptyPages:
			stop = stopEmptyPages
		case next == "":
			stop = stopNoCursor
		case seenCursors[next] || next == cursor:
			stop = stopRepeatedCursor
		}
		seenCursors[next] = true
		cursor = next
	}
	c.log.Debug().Str("query", q).Str("product", product).Int("tweets", total).Str("stop", stop).Msg("search done")
	return nil
}

// searchFilter is the f= parameter of the web app's search page, for the referer.
var searchFilter = map[string]string{"Latest": "&f=live", "Top": "", "Media": "&f=media"}

func searchProduct(p string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(p)) {
	case "", "latest", "live":
		return "Latest", nil
	case "top":
		return "Top", nil
	case "media":
		return "Media", nil
	}
	return "", fmt.Errorf("product %q: want Latest or Top", p)
}
