package store

import (
	"context"
	"errors"
	"fmt"
	"os"
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
