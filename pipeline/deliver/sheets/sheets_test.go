package sheets

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"nexus/pipeline/deliver"
	"nexus/pipeline/deliver/delivertest"
	"nexus/pipeline/deliver/sheets/sheetsfake"
)

// loopback is a plain client for the fake on 127.0.0.1 (the SSRF guard is tested
// separately, with a nil client).
var loopback = &http.Client{Timeout: 5 * time.Second}

func newClient(fake *sheetsfake.Server, l Ledger) *Client {
	return New(Config{
		ServiceAccountJSON: fake.ServiceAccountJSON(),
		SpreadsheetID:      sheetsfake.SpreadsheetID,
		Endpoint:           fake.Endpoint(),
		Ledger:             l,
	}, loopback)
}

func msg(opps []deliver.Opportunity) deliver.Message {
	return deliver.Message{Opportunities: opps, IdempotencyKey: "k"}
}

func TestAppendCreatesTabWithHeaderOnce(t *testing.T) {
	t.Parallel()
	fake := sheetsfake.New(t)
	ledger := delivertest.NewLedger()
	c := newClient(fake, ledger)
	ctx := context.Background()
	opps := delivertest.Opportunities("Acme", 5)

	if err := c.Send(ctx, msg(opps[:3])); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, msg(opps[3:])); err != nil {
		t.Fatal(err)
	}
	rows := fake.Rows("Acme")
	if len(rows) != 6 {
		t.Fatalf("%d rows, want header + 5", len(rows))
	}
	if fmt.Sprint(rows[0][:4]) != "[id created_at campaign relevance]" {
		t.Errorf("header %v", rows[0])
	}
	for i, r := range rows[1:] {
		if r[0] != opps[i].ID {
			t.Errorf("row %d id %v, want %s", i+1, r[0], opps[i].ID)
		}
	}
	if got := fake.CountOp("batchUpdate"); got != 1 {
		t.Errorf("%d batchUpdates, want 1 (tab + header together)", got)
	}
	if got := fake.CountOp("values.append"); got != 2 {
		t.Errorf("%d appends, want 2", got)
	}
	if got := fake.CountOp("values.get"); got != 0 {
		t.Errorf("%d column reads, want 0: a tab we created is known empty", got)
	}
	if fake.TokenRequests() != 1 {
		t.Errorf("%d token requests, want 1 (cached)", fake.TokenRequests())
	}
	for _, call := range fake.Calls() {
		if call.Op == "values.append" && call.Query.Get("valueInputOption") != "RAW" {
			t.Errorf("append without RAW: %v", call.Query)
		}
	}
	if ledger.Len() != 5 {
		t.Errorf("ledger has %d keys", ledger.Len())
	}
	if ok, _ := ledger.Appended(ctx, sheetsfake.SpreadsheetID+"/opp-0000"); !ok {
		t.Error("ledger key is not <spreadsheet>/<opportunity>")
	}
}

func TestRowCells(t *testing.T) {
	t.Parallel()
	fake := sheetsfake.New(t)
	c := newClient(fake, nil)
	o := delivertest.Opportunities("Acme", 1)
	o[0].Reason = "+cmd|' /C calc'!A0"
	o[0].Root.Text = strings.Repeat("x", 60_000)
	if err := c.Send(context.Background(), msg(o)); err != nil {
		t.Fatal(err)
	}
	rows := fake.Rows("Acme")
	cell := map[string]any{}
	for i, h := range header {
		cell[h] = rows[1][i]
	}
	if s := cell["hit_text"].(string); !strings.HasPrefix(s, "'=HYPERLINK") {
		t.Errorf("hit_text not neutralised: %q", s)
	}
	if s := cell["opportunity_reason"].(string); !strings.HasPrefix(s, "'+cmd") {
		t.Errorf("reason not neutralised: %q", s)
	}
	if _, ok := cell["relevance"].(float64); !ok {
		t.Errorf("relevance %T, want a number", cell["relevance"])
	}
	if n := len([]rune(cell["root_text"].(string))); n > 50_000 {
		t.Errorf("root_text has %d characters, over the cell limit", n)
	}
	if cell["hit_url"] != "https://x.com/user0/status/1910000000000000000" || cell["hit_author"] != "User 0 (@user0)" {
		t.Errorf("hit cells %v %v", cell["hit_url"], cell["hit_author"])
	}
}

func TestBatches(t *testing.T) {
	t.Parallel()
	fake := sheetsfake.New(t)
	c := newClient(fake, delivertest.NewLedger())
	if err := c.Send(context.Background(), msg(delivertest.Opportunities("Big", 450))); err != nil {
		t.Fatal(err)
	}
	if got := fake.CountOp("values.append"); got != 3 {
		t.Errorf("%d appends for 450 rows, want 3 batches", got)
	}
	if n := len(fake.Rows("Big")); n != 451 {
		t.Errorf("%d rows", n)
	}
}

func TestLedgerSkipsWithoutCalls(t *testing.T) {
	t.Parallel()
	fake := sheetsfake.New(t)
	ledger := delivertest.NewLedger()
	opps := delivertest.Opportunities("Acme", 4)
	if err := newClient(fake, ledger).Send(context.Background(), msg(opps)); err != nil {
		t.Fatal(err)
	}
	before := len(fake.Calls())
	// A new client (a restarted process) with the same ledger sends nothing.
	if err := newClient(fake, ledger).Send(context.Background(), msg(opps)); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Calls()) - before; n != 0 {
		t.Errorf("%d API calls for an all-delivered message, want 0", n)
	}
	if n := len(fake.Rows("Acme")); n != 5 {
		t.Errorf("%d rows", n)
	}
}

// TestCrashBetweenAppendAndMark: the rows land but the ledger write fails (the
// process dies). After a restart the ledger says "not appended", the column check
// finds the ids, nothing is appended twice and the ledger catches up.
func TestCrashBetweenAppendAndMark(t *testing.T) {
	t.Parallel()
	fake := sheetsfake.New(t)
	ledger := delivertest.NewLedger()
	ledger.Fail = errors.New("disk I/O error")
	opps := delivertest.Opportunities("Acme", 3)
	if err := newClient(fake, ledger).Send(context.Background(), msg(opps)); err == nil {
		t.Fatal("want the ledger error")
	}
	if n := len(fake.Rows("Acme")); n != 4 {
		t.Fatalf("%d rows after the first attempt, want header + 3", n)
	}

	ledger.Fail = nil
	more := delivertest.Opportunities("Acme", 5) // the same 3 and 2 new ones
	if err := newClient(fake, ledger).Send(context.Background(), msg(more)); err != nil {
		t.Fatal(err)
	}
	rows := fake.Rows("Acme")
	seen := map[any]int{}
	for _, r := range rows[1:] {
		seen[r[0]]++
	}
	if len(rows) != 6 || len(seen) != 5 {
		t.Fatalf("rows %d, distinct ids %d: want 5 rows, no duplicate", len(rows)-1, len(seen))
	}
	if ledger.Len() != 5 {
		t.Errorf("ledger has %d keys, want 5 (caught up)", ledger.Len())
	}
	if fake.CountOp("values.get") != 1 {
		t.Errorf("column read %d times, want once", fake.CountOp("values.get"))
	}
}

// TestLostAppendResponse: the server applies the append but the response is a 503.
// The retry on the same client must re-read column A rather than trust its cache.
func TestLostAppendResponse(t *testing.T) {
	t.Parallel()
	fake := sheetsfake.New(t)
	c := newClient(fake, delivertest.NewLedger())
	ctx := context.Background()
	opps := delivertest.Opportunities("Acme", 4)
	if err := c.Send(ctx, msg(opps[:1])); err != nil {
		t.Fatal(err)
	}
	fake.Fail(sheetsfake.Fault{Status: 503, Code: "UNAVAILABLE", Apply: true})
	err := c.Send(ctx, msg(opps))
	if _, ok := deliver.RetryAfter(err); !ok {
		t.Fatalf("err = %v, want RetryError", err)
	}
	if err := c.Send(ctx, msg(opps)); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Rows("Acme")); n != 5 {
		t.Fatalf("%d rows, want header + 4 with no duplicate", n)
	}
}

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fault     sheetsfake.Fault
		permanent bool
		after     time.Duration
	}{
		{"429", sheetsfake.Fault{Status: 429, Code: "RESOURCE_EXHAUSTED", RetryAfter: "9"}, false, 9 * time.Second},
		{"503", sheetsfake.Fault{Status: 503, Code: "UNAVAILABLE"}, false, 0},
		{"500", sheetsfake.Fault{Status: 500, Code: "INTERNAL"}, false, 0},
		{"403 permission", sheetsfake.Fault{Status: 403, Code: "PERMISSION_DENIED"}, true, 0},
		{"403 quota", sheetsfake.Fault{Status: 403, Code: "PERMISSION_DENIED", Reason: "rateLimitExceeded"}, false, 0},
		{"400", sheetsfake.Fault{Status: 400, Code: "INVALID_ARGUMENT"}, true, 0},
		{"404", sheetsfake.Fault{Status: 404, Code: "NOT_FOUND"}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := sheetsfake.New(t)
			fake.Fail(tt.fault)
			err := newClient(fake, nil).Send(context.Background(), msg(delivertest.Opportunities("Acme", 1)))
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if !strings.HasPrefix(err.Error(), "sheets: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if got := deliver.IsPermanent(err); got != tt.permanent {
				t.Fatalf("IsPermanent = %v, want %v (%v)", got, tt.permanent, err)
			}
			if after, ok := deliver.RetryAfter(err); ok == tt.permanent || after != tt.after {
				t.Fatalf("RetryAfter = %s, %v (%v)", after, ok, err)
			}
		})
	}
}

func TestCredentialErrors(t *testing.T) {
	t.Parallel()
	fake := sheetsfake.New(t)
	// A key the token endpoint does not know: same file, another private key.
	otherKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	der, _ := x509.MarshalPKCS8PrivateKey(otherKey)
	var sa map[string]string
	json.Unmarshal(fake.ServiceAccountJSON(), &sa)
	sa["private_key"] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	badKey, _ := json.Marshal(sa)
	tests := []struct {
		name string
		cfg  Config
	}{
		{"not JSON", Config{ServiceAccountJSON: []byte("nope"), SpreadsheetID: sheetsfake.SpreadsheetID}},
		{"wrong credential type", Config{ServiceAccountJSON: []byte(`{"type":"authorized_user","client_id":"x","client_secret":"y","refresh_token":"z"}`), SpreadsheetID: sheetsfake.SpreadsheetID}},
		{"no spreadsheet", Config{ServiceAccountJSON: fake.ServiceAccountJSON()}},
		{"key refused by token endpoint", Config{ServiceAccountJSON: []byte(badKey), SpreadsheetID: sheetsfake.SpreadsheetID}},
		{"wrong spreadsheet", Config{ServiceAccountJSON: fake.ServiceAccountJSON(), SpreadsheetID: "missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cfg.Endpoint = fake.Endpoint()
			err := New(tt.cfg, loopback).Send(context.Background(), msg(delivertest.Opportunities("Acme", 1)))
			if !deliver.IsPermanent(err) {
				t.Fatalf("err = %v, want permanent", err)
			}
		})
	}
}

func TestTabTitles(t *testing.T) {
	t.Parallel()
	fake := sheetsfake.New(t)
	c := newClient(fake, nil)
	a := delivertest.Opportunities("It's a/b: [test]", 1)
	b := delivertest.Opportunities("", 1)
	b[0].ID = "other"
	if err := c.Send(context.Background(), msg(append(a, b...))); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(fake.Tabs()); got != "[Sheet1 It's a-b- -test- Opportunities]" {
		t.Fatalf("tabs %s", got)
	}
	if n := len(fake.Rows("It's a-b- -test-")); n != 2 {
		t.Fatalf("%d rows", n)
	}
}

// TestExistingTabIsRead: a tab made by an earlier process is found by
// spreadsheets.get, and its ids are read before appending.
func TestExistingTabIsRead(t *testing.T) {
	t.Parallel()
	fake := sheetsfake.New(t)
	opps := delivertest.Opportunities("Acme", 2)
	if err := newClient(fake, nil).Send(context.Background(), msg(opps[:1])); err != nil {
		t.Fatal(err)
	}
	c := newClient(fake, nil) // no ledger at all: only column A protects
	if err := c.Send(context.Background(), msg(opps)); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Rows("Acme")); n != 3 {
		t.Fatalf("%d rows, want header + 2", n)
	}
	if fake.CountOp("batchUpdate") != 1 || fake.CountOp("values.get") != 1 {
		t.Errorf("batchUpdate %d values.get %d", fake.CountOp("batchUpdate"), fake.CountOp("values.get"))
	}
}

func TestTestMessage(t *testing.T) {
	t.Parallel()
	fake := sheetsfake.New(t)
	ledger := delivertest.NewLedger()
	if err := newClient(fake, ledger).Send(context.Background(), deliver.Message{Test: true, IdempotencyKey: "t1"}); err != nil {
		t.Fatal(err)
	}
	rows := fake.Rows(TestTab)
	if len(rows) != 2 || rows[1][0] != "test-t1" || ledger.Len() != 0 {
		t.Fatalf("rows %v ledger %d", rows, ledger.Len())
	}
}

func TestDefaultClientRefusesLoopback(t *testing.T) {
	t.Parallel()
	fake := sheetsfake.New(t)
	c := New(Config{ServiceAccountJSON: fake.ServiceAccountJSON(), SpreadsheetID: sheetsfake.SpreadsheetID, Endpoint: fake.Endpoint()}, nil)
	err := c.Send(context.Background(), msg(delivertest.Opportunities("Acme", 1)))
	if !errors.Is(err, deliver.ErrForbiddenTarget) || !deliver.IsPermanent(err) {
		t.Fatalf("err = %v, want permanent ErrForbiddenTarget", err)
	}
	if fake.TokenRequests() != 0 || len(fake.Calls()) != 0 {
		t.Fatal("the fake was reached")
	}
}
