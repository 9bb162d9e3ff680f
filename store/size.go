package store

import (
	"context"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// IsFull reports whether err is SQLite's "database or disk is full" (SQLITE_FULL): the
// disk, or the cap SetMaxPageCount put on the file, leaves no room for the write.
// Nothing is wrong with the work that failed; it can be done once space is back.
func IsFull(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL
}

// noPageCap is SQLite's own maximum of max_page_count.
const noPageCap = 0xfffffffe

// SetMaxPageCount caps the database file at n pages (n <= 0 lifts the cap) and returns
// the cap in force, which SQLite keeps at least at the file's current size. A write
// that needs the file to grow past it fails with SQLITE_FULL, as on a full disk: it is
// how tests fill the disk without filling one. The pragma holds for one connection,
// and the writer is the only connection that writes (and the only one it is set on).
func (s *Store) SetMaxPageCount(ctx context.Context, n int64) (int64, error) {
	if n <= 0 {
		n = noPageCap
	}
	var got int64
	if err := s.rw.QueryRowContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", n)).Scan(&got); err != nil {
		return 0, fmt.Errorf("store: max_page_count: %w", err)
	}
	return got, nil
}
