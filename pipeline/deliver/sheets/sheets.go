package sheets

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	sheetsapi "google.golang.org/api/sheets/v4"

	"nexus/pipeline/deliver"
)

// Ledger remembers which rows were appended. The store implements it with a table
// keyed by the string; delivertest.Ledger is the in-memory one. Keys are
// "<spreadsheet id>/<opportunity id>", so pointing the integration at another
// spreadsheet starts afresh.
type Ledger interface {
	Appended(ctx context.Context, key string) (bool, error)
	MarkAppended(ctx context.Context, key string) error
}

// Config is one spreadsheet destination.
type Config struct {
	ServiceAccountJSON []byte
	SpreadsheetID      string
	// Endpoint replaces https://sheets.googleapis.com/; tests point it at a fake.
	Endpoint string
	// Ledger is not a stored setting: the delivery registry passes the store's. With
	// none, only the column-A check prevents duplicates.
	Ledger Ledger
}

var _ deliver.Sender = (*Client)(nil)

// TestTab is the tab a test message writes to, away from campaign data.
const TestTab = "Nexus test"

// batchSize is the number of rows per values.append call.
const batchSize = 200

// maxCell stays under the 50,000-character limit of a Sheets cell.
const maxCell = 49_000

// Client appends to one spreadsheet. It is safe for concurrent use; sends are
// serialised, since two interleaved appends to one tab could each miss the other's ids.
type Client struct {
	cfg     Config
	hc      *http.Client
	guarded bool // hc is our SafeTransport client: check URLs up front too
	now     func() time.Time

	sendMu sync.Mutex
	svc    *sheetsapi.Service
	tabs   map[string]int64           // title → sheet id, for tabs known to exist
	ids    map[string]map[string]bool // title → ids in column A, once read
}

// New returns a client for cfg. With a nil hc it dials through
// deliver.SafeTransport: the token_uri inside a pasted key is user input too.
// Credentials are read on the first Send, whose error says what is wrong.
func New(cfg Config, hc *http.Client) *Client {
	guarded := hc == nil
	if guarded {
		hc = &http.Client{Timeout: 30 * time.Second, Transport: deliver.SafeTransport(false)}
	}
	return &Client{cfg: cfg, hc: hc, guarded: guarded, now: time.Now, tabs: map[string]int64{}, ids: map[string]map[string]bool{}}
}

// Send appends one row per opportunity to its campaign's tab, skipping rows already
// there. A test message appends one row to TestTab.
func (c *Client) Send(ctx context.Context, m deliver.Message) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if err := c.init(); err != nil {
		return err
	}
	if m.Test {
		return c.sendTest(ctx, m)
	}
	var order []string
	byTab := map[string][]deliver.Opportunity{}
	for _, o := range m.Opportunities {
		t := tabTitle(o.Campaign)
		if _, ok := byTab[t]; !ok {
			order = append(order, t)
		}
		byTab[t] = append(byTab[t], o)
	}
	for _, t := range order {
		if err := c.appendTab(ctx, t, byTab[t]); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) init() error {
	if c.svc != nil {
		return nil
	}
	if c.cfg.SpreadsheetID == "" {
		return deliver.Permanent(errors.New("sheets: config: spreadsheet_id is empty"))
	}
	if c.guarded {
		// The dialer refuses these anyway, but x/oauth2 flattens its transport
		// errors to text; checking first keeps the error class precise.
		var key struct {
			TokenURI string `json:"token_uri"`
		}
		if json.Unmarshal(c.cfg.ServiceAccountJSON, &key) == nil && key.TokenURI != "" {
			if err := deliver.CheckTarget(key.TokenURI, false); err != nil {
				return fmt.Errorf("sheets: token_uri: %w", err)
			}
		}
		if c.cfg.Endpoint != "" {
			if err := deliver.CheckTarget(c.cfg.Endpoint, false); err != nil {
				return fmt.Errorf("sheets: endpoint: %w", err)
			}
		}
	}
	// The token source outlives this call, so it gets a background context that only
	// carries our HTTP client (for the token endpoint, too).
	base := context.WithValue(context.Background(), oauth2.HTTPClient, c.hc)
	creds, err := google.CredentialsFromJSONWithType(base, c.cfg.ServiceAccountJSON, google.ServiceAccount, sheetsapi.SpreadsheetsScope)
	if err != nil {
		return deliver.Permanent(fmt.Errorf("sheets: service account key: %w", err))
	}
	authed := oauth2.NewClient(base, creds.TokenSource)
	authed.Timeout = c.hc.Timeout
	opts := []option.ClientOption{option.WithHTTPClient(authed)}
	if c.cfg.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(strings.TrimSuffix(c.cfg.Endpoint, "/")+"/"))
	}
	svc, err := sheetsapi.NewService(base, opts...)
	if err != nil {
		return deliver.Permanent(fmt.Errorf("sheets: new service: %w", err))
	}
	c.svc = svc
	return nil
}

// appendTab appends the opportunities not yet in tab.
func (c *Client) appendTab(ctx context.Context, tab string, opps []deliver.Opportunity) error {
	var pending []deliver.Opportunity
	for _, o := range opps {
		done, err := c.appended(ctx, o.ID)
		if err != nil {
			return fmt.Errorf("sheets: ledger %s: %w", o.ID, err)
		}
		if !done {
			pending = append(pending, o)
		}
	}
	if len(pending) == 0 {
		return nil
	}
	if err := c.ensureTab(ctx, tab); err != nil {
		return err
	}
	present, err := c.presentIDs(ctx, tab)
	if err != nil {
		return err
	}
	var rows [][]any
	var ids []string
	for _, o := range pending {
		if present[o.ID] {
			// Appended before a crash or a lost response: catch the ledger up.
			if err := c.mark(ctx, o.ID); err != nil {
				return fmt.Errorf("sheets: ledger %s: %w", o.ID, err)
			}
			continue
		}
		present[o.ID] = true // also dedupes within this message
		rows = append(rows, row(o))
		ids = append(ids, o.ID)
	}
	for start := 0; start < len(rows); start += batchSize {
		end := min(start+batchSize, len(rows))
		if err := c.append(ctx, tab, rows[start:end]); err != nil {
			return err
		}
		for _, id := range ids[start:end] {
			if err := c.mark(ctx, id); err != nil {
				return fmt.Errorf("sheets: ledger %s: %w", id, err)
			}
		}
	}
	return nil
}

func (c *Client) sendTest(ctx context.Context, m deliver.Message) error {
	if err := c.ensureTab(ctx, TestTab); err != nil {
		return err
	}
	now := c.now().UTC().Format(time.RFC3339)
	r := make([]any, len(header))
	for i := range r {
		r[i] = ""
	}
	r[0], r[1] = "test-"+cmp.Or(m.IdempotencyKey, now), now
	r[2] = cmp.Or(m.Title, "Nexus test message: if you can read this, Nexus can write to this spreadsheet.")
	return c.append(ctx, TestTab, [][]any{r})
}

func (c *Client) appended(ctx context.Context, id string) (bool, error) {
	if c.cfg.Ledger == nil {
		return false, nil
	}
	return c.cfg.Ledger.Appended(ctx, c.key(id))
}

func (c *Client) mark(ctx context.Context, id string) error {
	if c.cfg.Ledger == nil {
		return nil
	}
	return c.cfg.Ledger.MarkAppended(ctx, c.key(id))
}

func (c *Client) key(id string) string { return c.cfg.SpreadsheetID + "/" + id }

// ensureTab creates tab with its header row unless it exists. Tab and header are one
// batchUpdate, so a crash cannot leave a tab without its header.
func (c *Client) ensureTab(ctx context.Context, tab string) error {
	if _, ok := c.tabs[tab]; ok {
		return nil
	}
	if err := c.loadTabs(ctx); err != nil {
		return err
	}
	if _, ok := c.tabs[tab]; ok {
		return nil
	}
	id := c.freeSheetID(tab)
	cells := make([]*sheetsapi.CellData, len(header))
	for i, h := range header {
		v := h
		cells[i] = &sheetsapi.CellData{
			UserEnteredValue:  &sheetsapi.ExtendedValue{StringValue: &v},
			UserEnteredFormat: &sheetsapi.CellFormat{TextFormat: &sheetsapi.TextFormat{Bold: true}},
		}
	}
	req := &sheetsapi.BatchUpdateSpreadsheetRequest{Requests: []*sheetsapi.Request{
		{AddSheet: &sheetsapi.AddSheetRequest{Properties: &sheetsapi.SheetProperties{
			SheetId: id, Title: tab,
			GridProperties: &sheetsapi.GridProperties{FrozenRowCount: 1, ColumnCount: int64(len(header)), RowCount: 1000},
		}}},
		{UpdateCells: &sheetsapi.UpdateCellsRequest{
			Start:  &sheetsapi.GridCoordinate{SheetId: id},
			Rows:   []*sheetsapi.RowData{{Values: cells}},
			Fields: "userEnteredValue,userEnteredFormat.textFormat.bold",
		}},
	}}
	_, err := c.svc.Spreadsheets.BatchUpdate(c.cfg.SpreadsheetID, req).Context(ctx).Do()
	var ge *googleapi.Error
	if errors.As(err, &ge) && ge.Code == http.StatusBadRequest && strings.Contains(ge.Message, "already exists") {
		// Created meanwhile (by another client): use it.
		return c.loadTabs(ctx)
	}
	if err != nil {
		return c.classify("add tab "+tab, err)
	}
	c.tabs[tab] = id
	c.ids[tab] = map[string]bool{}
	return nil
}

func (c *Client) loadTabs(ctx context.Context) error {
	ss, err := c.svc.Spreadsheets.Get(c.cfg.SpreadsheetID).Fields("sheets.properties(sheetId,title)").Context(ctx).Do()
	if err != nil {
		return c.classify("get spreadsheet", err)
	}
	for _, s := range ss.Sheets {
		if s.Properties != nil {
			c.tabs[s.Properties.Title] = s.Properties.SheetId
		}
	}
	return nil
}

// freeSheetID picks a stable, unused sheet id for a new tab. Choosing it ourselves
// lets the header be written in the same batchUpdate as the tab.
func (c *Client) freeSheetID(tab string) int64 {
	h := fnv.New32a()
	h.Write([]byte(tab))
	id := int64(h.Sum32()&0x3fffffff) + 1
	used := map[int64]bool{}
	for _, v := range c.tabs {
		used[v] = true
	}
	for used[id] {
		id++
	}
	return id
}

// presentIDs returns the ids in tab's column A, reading them once per client.
func (c *Client) presentIDs(ctx context.Context, tab string) (map[string]bool, error) {
	if ids, ok := c.ids[tab]; ok {
		return ids, nil
	}
	vr, err := c.svc.Spreadsheets.Values.Get(c.cfg.SpreadsheetID, a1(tab, "A:A")).
		MajorDimension("COLUMNS").Context(ctx).Do()
	if err != nil {
		return nil, c.classify("read ids of "+tab, err)
	}
	ids := map[string]bool{}
	for _, col := range vr.Values {
		for _, v := range col {
			ids[fmt.Sprint(v)] = true
		}
	}
	c.ids[tab] = ids
	return ids, nil
}

// append adds rows after the last row of tab, as RAW values.
func (c *Client) append(ctx context.Context, tab string, rows [][]any) error {
	_, err := c.svc.Spreadsheets.Values.Append(c.cfg.SpreadsheetID, a1(tab, "A1"), &sheetsapi.ValueRange{Values: rows}).
		ValueInputOption("RAW").InsertDataOption("INSERT_ROWS").Context(ctx).Do()
	if err != nil {
		// The append may have landed even though we saw an error: forget what we
		// know of the column, so the retry reads it again.
		delete(c.ids, tab)
		op := fmt.Sprintf("append %d rows to %s", len(rows), tab)
		var ge *googleapi.Error
		if errors.As(err, &ge) && ge.Code == http.StatusBadRequest && strings.Contains(ge.Message, "Unable to parse range") {
			// The tab was deleted or renamed by hand: the retry creates it again.
			delete(c.tabs, tab)
			return deliver.Retry(0, fmt.Errorf("sheets: %s: %w", op, err))
		}
		return c.classify(op, err)
	}
	return nil
}

// quotaReasons are the 403 reasons that mean "slow down", not "forbidden".
var quotaReasons = map[string]bool{"rateLimitExceeded": true, "userRateLimitExceeded": true, "quotaExceeded": true}

func (c *Client) classify(op string, err error) error {
	wrapped := fmt.Errorf("sheets: %s: %w", op, err)
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		if ge.Code == http.StatusForbidden {
			for _, e := range ge.Errors {
				if quotaReasons[e.Reason] {
					return deliver.Retry(deliver.ParseRetryAfter(ge.Header.Get("Retry-After"), c.now()), wrapped)
				}
			}
		}
		return deliver.ClassifyStatus(ge.Code, ge.Header, c.now(), wrapped)
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.Response != nil && (re.Response.StatusCode == http.StatusTooManyRequests || re.Response.StatusCode >= 500) {
			return deliver.Retry(deliver.ParseRetryAfter(re.Response.Header.Get("Retry-After"), c.now()), wrapped)
		}
		return deliver.Permanent(wrapped) // invalid_grant: a deleted or disabled key
	}
	switch {
	case errors.Is(err, deliver.ErrForbiddenTarget),
		// x/oauth2 wraps token-fetch transport errors with %v, losing the chain.
		strings.Contains(err.Error(), deliver.ErrForbiddenTarget.Error()):
		return deliver.Permanent(wrapped)
	case errors.Is(err, context.Canceled):
		return wrapped
	}
	return deliver.Retry(0, wrapped) // network trouble
}

// a1 is an A1 range on tab, quoted so any title works.
func a1(tab, cells string) string {
	return "'" + strings.ReplaceAll(tab, "'", "''") + "'!" + cells
}

// tabTitle is the tab name for a campaign: characters Sheets and Excel refuse in
// tab names are replaced, and the name is cut to 100 characters.
func tabTitle(campaign string) string {
	t := strings.Map(func(r rune) rune {
		switch r {
		case '[', ']', '*', '?', '/', '\\', ':':
			return '-'
		}
		if r < 0x20 {
			return ' '
		}
		return r
	}, strings.TrimSpace(campaign))
	if t == "" {
		return "Opportunities"
	}
	return deliver.Truncate(t, 100)
}

// header is the first row of every tab; column A must stay the opportunity id.
var header = []string{
	"id", "created_at", "campaign", "relevance", "sentiment", "intent", "opportunity_reason",
	"hit_url", "hit_author", "hit_text", "likes", "replies", "retweets",
	"root_url", "root_author", "root_text", "insights", "suggested_replies", "provider", "conversation_id",
}

// row is o as a sheet row matching header. Numbers stay numbers; text is cut to the
// cell limit and neutralised.
func row(o deliver.Opportunity) []any {
	author := func(u, name string) string {
		if u == "" {
			return name
		}
		return strings.TrimSpace(name + " (@" + u + ")")
	}
	created := ""
	if !o.CreatedAt.IsZero() {
		created = o.CreatedAt.UTC().Format(time.RFC3339)
	}
	return []any{
		o.ID, created, text(o.Campaign), o.Relevance, text(o.Sentiment), text(o.Intent), text(o.Reason),
		deliver.TweetURL(o.Hit), text(author(o.Hit.Username, o.Hit.DisplayName)), text(o.Hit.Text),
		o.Hit.LikeCount, o.Hit.ReplyCount, o.Hit.RetweetCount,
		deliver.TweetURL(o.Root), text(author(o.Root.Username, o.Root.DisplayName)), text(o.Root.Text),
		text(strings.Join(o.Insights, "\n")), text(strings.Join(o.SuggestedReplies, "\n\n")),
		text(o.Provider), o.ConversationID,
	}
}

func text(s string) string { return deliver.NeutralizeCell(deliver.Truncate(s, maxCell)) }
