package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestMaxPageCountFillsTheDisk: with the file capped at its size, a write that needs
// a new page fails with SQLITE_FULL (IsFull), under WAL too; lifting the cap lets the
// same write through, and the database is sound.
func TestMaxPageCountFillsTheDisk(t *testing.T) {
	t.Parallel()
	s := openTest(t, filepath.Join(t.TempDir(), "nexus.db"))
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	pages, err := s.Count(ctx, `SELECT page_count FROM pragma_page_count()`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.SetMaxPageCount(ctx, 1) // below the size: SQLite keeps the size
	if err != nil || got != int64(pages) {
		t.Fatalf("cap %d (%v), want the size %d", got, err, pages)
	}
	big := StoredTweet{ConversationID: "c", Username: "u", Data: []byte(`"` + strings.Repeat("x", 64<<10) + `"`)}
	var werr error
	for i := 0; werr == nil && i < 10; i++ {
		big.ID = fmt.Sprint(i)
		_, werr = s.UpsertTweets(ctx, org.ID, 0, 0, []StoredTweet{big})
	}
	if !IsFull(werr) {
		t.Fatalf("write past the cap: %v, want SQLITE_FULL", werr)
	}
	// The health check sees it, though its own probe still writes in place.
	if err := s.Ping(ctx); err == nil || !strings.Contains(err.Error(), "size cap") {
		t.Fatalf("Ping of a full database: %v", err)
	}
	if IsFull(fmt.Errorf("wrapped: %w", ErrNotFound)) {
		t.Fatal("IsFull of another error")
	}
	if _, err := s.SetMaxPageCount(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpsertTweets(ctx, org.ID, 0, 0, []StoredTweet{big}); err != nil {
		t.Fatalf("write after the cap is lifted: %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping once space is back: %v", err)
	}
	if n, err := s.Count(ctx, `SELECT COUNT(*) FROM pragma_integrity_check WHERE integrity_check != 'ok'`); err != nil || n != 0 {
		t.Fatalf("integrity_check: %d problems (%v)", n, err)
	}
}
