package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Ping proves the database is usable for what Nexus does all day: it writes a row
// through the writer and reads it back through the read pool.
//
// It also refuses a database file that lost its write permission. An open connection
// keeps writing through its file descriptor after a chmod (and root ignores mode bits
// altogether), but the next start would open the file read-only, so the operator must
// hear about it now.
func (s *Store) Ping(ctx context.Context) error {
	for _, p := range []string{s.path, s.path + "-wal"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) && p != s.path {
			continue
		}
		if err != nil {
			return fmt.Errorf("store: stat %s: %w", p, err)
		}
		if fi.Mode().Perm()&0o200 == 0 {
			return fmt.Errorf("store: %s is read-only", p)
		}
	}
	if err := s.checkSpace(ctx); err != nil {
		return err
	}
	// Concurrent checks may overwrite each other's probe, so read back "at least mine".
	now := time.Now().UnixNano()
	_, err := s.rw.ExecContext(ctx, `INSERT INTO health_probe (id, checked_at) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`, now)
	if err != nil {
		return fmt.Errorf("store: write probe: %w", err)
	}
	var got int64
	if err := s.ro.QueryRowContext(ctx, `SELECT checked_at FROM health_probe WHERE id = 1`).Scan(&got); err != nil {
		return fmt.Errorf("store: read probe: %w", err)
	}
	if got < now {
		return fmt.Errorf("store: read back probe %d, wrote %d", got, now)
	}
	return nil
}

// MinFreeSpace is the free disk space below which the health check fails: SQLite needs
// room to grow the file, the WAL and its checkpoints, and a disk that fills up fails
// every write that needs a new page, while the probe below, updating a row in place,
// would still succeed.
const MinFreeSpace = 64 << 20

// checkSpace fails when the disk of the database, or the size cap SetMaxPageCount put
// on it, leaves no room to grow.
func (s *Store) checkSpace(ctx context.Context) error {
	if free, ok := freeBytes(filepath.Dir(s.path)); ok && free < MinFreeSpace {
		return fmt.Errorf("store: only %d MiB free on the disk of %s; writes will fail when it fills", free>>20, s.path)
	}
	var pages, maxPages int64
	err := s.rw.QueryRowContext(ctx, `SELECT (SELECT page_count FROM pragma_page_count()), (SELECT max_page_count FROM pragma_max_page_count())`).
		Scan(&pages, &maxPages)
	if err != nil {
		return fmt.Errorf("store: page count: %w", err)
	}
	if pages >= maxPages {
		return fmt.Errorf("store: %s is at its size cap of %d pages; writes that need a page fail", s.path, maxPages)
	}
	return nil
}
