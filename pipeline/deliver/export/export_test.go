package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"nexus/pipeline/deliver"
	"nexus/pipeline/deliver/delivertest"
	"nexus/scraper"
)

func TestCSVInjection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"=HYPERLINK(\"http://evil\",\"x\")", "'=HYPERLINK(\"http://evil\",\"x\")"},
		{"+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"@SUM(1,1)", "'@SUM(1,1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"plain text", "plain text"},
		{"a=b", "a=b"},
		{"", ""},
		{"'already quoted", "'already quoted"},
		{"42", "42"},
	}
	var buf bytes.Buffer
	c := NewCSV(&buf, []string{"v", "n"})
	for _, tt := range tests {
		if err := c.Write([]string{tt.in, "1"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[0][0] != "v" {
		t.Fatalf("header %v", recs[0])
	}
	for i, tt := range tests {
		if got := recs[i+1][0]; got != tt.want {
			t.Errorf("cell %q → %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCSVRowWidth(t *testing.T) {
	t.Parallel()
	c := NewCSV(io.Discard, []string{"a", "b"})
	if err := c.Write([]string{"1"}); err == nil {
		t.Fatal("short row accepted")
	}
}

func TestEmptyExportHasHeader(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteOpportunitiesCSV(&buf, slices.Values([]deliver.Opportunity(nil))); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(buf.String()); got != strings.Join(OpportunityColumns(), ",") {
		t.Fatalf("got %q", got)
	}
}

func TestOpportunitiesCSV(t *testing.T) {
	t.Parallel()
	opps := delivertest.Opportunities("Acme", 3)
	var buf bytes.Buffer
	if err := WriteOpportunitiesCSV(&buf, slices.Values(opps)); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 {
		t.Fatalf("%d records", len(recs))
	}
	row := map[string]string{}
	for i, col := range recs[0] {
		row[col] = recs[1][i]
	}
	want := map[string]string{
		"id": "opp-0000", "campaign": "Acme", "relevance": "50", "sentiment": "positive",
		"hit_username": "user0", "hit_url": "https://x.com/user0/status/1910000000000000000",
		"insights": "mentions budget\ncompares tools", "created_at": "2026-05-01T09:00:00Z",
		"root_id": "1900000000000000000",
	}
	for k, v := range want {
		if row[k] != v {
			t.Errorf("%s = %q, want %q", k, row[k], v)
		}
	}
	if !strings.HasPrefix(row["hit_text"], "'=HYPERLINK") {
		t.Errorf("hit_text not neutralised: %q", row["hit_text"])
	}
}

func TestTweetsCSVAndJSONL(t *testing.T) {
	t.Parallel()
	views := int64(1234)
	reply := "1"
	tw := scraper.Tweet{
		ID: "2", URL: "https://x.com/a/status/2", Username: "a", Text: "@everyone =1+1", ViewCount: &views,
		InReplyToID: &reply, Hashtags: []string{"go", "sqlite"},
		Media: []scraper.Media{{Type: "photo", URL: "https://pbs.twimg.com/1.jpg"}},
	}
	var c bytes.Buffer
	if err := WriteTweetsCSV(&c, slices.Values([]scraper.Tweet{tw, {ID: "3"}})); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&c).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], TweetColumns()) || len(recs) != 3 {
		t.Fatalf("records %v", recs)
	}
	row := map[string]string{}
	for i, col := range recs[0] {
		row[col] = recs[1][i]
	}
	for k, v := range map[string]string{
		"text": "'@everyone =1+1", "view_count": "1234", "in_reply_to_id": "1", "quoted_id": "",
		"hashtags": "go sqlite", "media": "photo:https://pbs.twimg.com/1.jpg",
	} {
		if row[k] != v {
			t.Errorf("%s = %q, want %q", k, row[k], v)
		}
	}
	if recs[2][TweetColumnsIndex("view_count")] != "" {
		t.Errorf("null view_count should be empty")
	}

	var j bytes.Buffer
	if err := WriteTweetsJSONL(&j, slices.Values([]scraper.Tweet{tw, {ID: "3"}})); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(j.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &obj); err != nil {
		t.Fatal(err)
	}
	// The DESIGN.md contract: nulls stay null, and JSON is never neutralised.
	if obj["view_count"] != nil || obj["in_reply_to_id"] != nil || obj["id"] != "3" {
		t.Errorf("line %s", lines[1])
	}
	if !strings.Contains(lines[0], `"text":"@everyone =1+1"`) {
		t.Errorf("line %s", lines[0])
	}
}

func TweetColumnsIndex(col string) int { return slices.Index(TweetColumns(), col) }

func TestOpportunitiesJSONL(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteOpportunitiesJSONL(&buf, slices.Values(delivertest.Opportunities("c", 5))); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&buf)
	n := 0
	for {
		var o deliver.Opportunity
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if o.Hit.ID == "" || o.Campaign != "c" {
			t.Fatalf("decoded %+v", o)
		}
		n++
	}
	if n != 5 {
		t.Fatalf("%d objects", n)
	}
}

// countingWriter records how many bytes arrived and when.
type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// stream yields n generated opportunities, reusing one value so the source holds
// nothing, and records how many bytes the writer had already received half-way.
func stream(n int, w *countingWriter, halfway *int) iter.Seq[deliver.Opportunity] {
	base := delivertest.Opportunities("big", 1)[0]
	return func(yield func(deliver.Opportunity) bool) {
		for i := range n {
			if i == n/2 {
				*halfway = w.n
			}
			o := base
			o.ID = "opp-" + itoa(int64(i))
			if !yield(o) {
				return
			}
		}
	}
}

// TestLargeStreamIsNotBuffered: half-way through 4,000 rows most of the output has
// already reached the writer, so the export holds rows, not the file.
func TestLargeStreamIsNotBuffered(t *testing.T) {
	t.Parallel()
	const n = 4_000
	for name, write := range map[string]func(io.Writer, iter.Seq[deliver.Opportunity]) error{
		"csv": WriteOpportunitiesCSV, "jsonl": WriteOpportunitiesJSONL,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := &countingWriter{}
			var halfway int
			if err := write(w, stream(n, w, &halfway)); err != nil {
				t.Fatal(err)
			}
			if halfway < w.n/3 {
				t.Fatalf("only %d of %d bytes written half-way: output is buffered", halfway, w.n)
			}
		})
	}
}

// TestFlushesHTTP: an http.ResponseWriter gets flushed while the export runs.
func TestFlushesHTTP(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	flushedEarly := false
	seq := func(yield func(deliver.Opportunity) bool) {
		for i, o := range slices.All(delivertest.Opportunities("c", 2*flushEvery)) {
			if i == flushEvery+1 && rec.Flushed {
				flushedEarly = true
			}
			if !yield(o) {
				return
			}
		}
	}
	if err := WriteOpportunitiesCSV(rec, seq); err != nil {
		t.Fatal(err)
	}
	if !flushedEarly {
		t.Fatal("no flush during the stream")
	}
}

func BenchmarkWriteOpportunitiesCSV(b *testing.B) {
	base := delivertest.Opportunities("bench", 1)[0]
	rows := 0
	for b.Loop() {
		c := NewCSV(io.Discard, OpportunityColumns())
		for range 1000 {
			if err := c.Write(OpportunityRecord(base)); err != nil {
				b.Fatal(err)
			}
		}
		c.Flush()
		rows += 1000
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkWriteOpportunitiesJSONL(b *testing.B) {
	base := delivertest.Opportunities("bench", 1)[0]
	rows := 0
	for b.Loop() {
		j := NewJSONL(io.Discard)
		for range 1000 {
			if err := j.Write(base); err != nil {
				b.Fatal(err)
			}
		}
		j.Flush()
		rows += 1000
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
