package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// cacheOf returns the statement cache of db's connection (the writer has one).
func cacheOf(t *testing.T, db *sql.DB) (n int, busy int) {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Raw(func(dc any) error {
		c := dc.(*cachingConn)
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, cs := range c.stmts {
			n++
			if cs.busy {
				busy++
			}
		}
		return nil
	})
	return n, busy
}

// TestStatementCache: a statement with arguments is compiled once per connection and
// reused; the same text run again while its rows are still open (a query inside a
// loop over its own results) takes the plain path and gives the right rows; closed
// rows free their statement; the cache stays within its bound.
func TestStatementCache(t *testing.T) {
	t.Parallel()
	s := openTest(t, filepath.Join(t.TempDir(), "nexus.db"))
	ctx := context.Background()
	base, _ := cacheOf(t, s.rw)
	for i := range 5 {
		if _, err := s.CreateOrganization(ctx, fmt.Sprint("org", i)); err != nil {
			t.Fatal(err)
		}
	}
	after, busy := cacheOf(t, s.rw)
	if after != base+1 || busy != 0 {
		t.Fatalf("five inserts of one text: %d statements cached (%d before), %d busy; want one more, none busy", after, base, busy)
	}

	const q = `SELECT id FROM organizations WHERE id > ? ORDER BY id`
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		outer, err := tx.QueryContext(ctx, q, 0)
		if err != nil {
			return err
		}
		defer outer.Close()
		seen := 0
		for outer.Next() {
			var id int64
			if err := outer.Scan(&id); err != nil {
				return err
			}
			// The same text while outer's rows are open.
			var inner []int64
			rows, err := tx.QueryContext(ctx, q, id)
			if err != nil {
				return err
			}
			for rows.Next() {
				var j int64
				rows.Scan(&j)
				inner = append(inner, j)
			}
			rows.Close()
			if len(inner) != 4-seen {
				return fmt.Errorf("after organization %d: %d later ones, want %d", id, len(inner), 4-seen)
			}
			seen++
		}
		if seen != 5 {
			return fmt.Errorf("outer loop saw %d organizations", seen)
		}
		return outer.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, busy := cacheOf(t, s.rw); busy != 0 {
		t.Fatalf("%d statements still busy after their rows closed", busy)
	}

	// Texts built for a number of arguments do not grow the cache past its bound.
	for i := range maxCachedStmts + 20 {
		if _, err := s.rw.ExecContext(ctx, fmt.Sprintf(`UPDATE organizations SET name = name WHERE id = ? AND %d = %d`, i, i), 1); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := cacheOf(t, s.rw); n > maxCachedStmts {
		t.Fatalf("%d statements cached, bound %d", n, maxCachedStmts)
	}
}
