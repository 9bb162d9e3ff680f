package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"modernc.org/sqlite"
)

// ErrNotFound is returned, wrapped with the id that was asked for, when a row does not
// exist or belongs to another organization.
var ErrNotFound = errors.New("not found")

// Store is the SQLite database.
type Store struct {
	path   string
	rw     *sql.DB // exactly one connection: every write goes through it
	ro     *sql.DB // read pool
	sealer *Sealer
}

// Options configure Open.
type Options struct {
	// Secret seals secret columns; at least 32 bytes.
	Secret []byte
	// Readers is the size of the read pool; 0 means one per CPU, at least 2.
	Readers int
}

// pragmas are set on every connection through the DSN. busy_timeout comes first so
// that the following statements already wait for a lock instead of failing at once.
var pragmas = []string{
	"busy_timeout(10000)",
	"journal_mode(WAL)",
	"synchronous(NORMAL)",
	"foreign_keys(ON)",
	"temp_store(MEMORY)",
	// A 32 MB page cache per connection (the default is 2 MB) keeps the tweet and job
	// indexes in memory; without it a run spends its time re-reading B-tree pages.
	"cache_size(-32000)",
}

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	// A deferred transaction that later writes can fail with SQLITE_BUSY without
	// waiting; IMMEDIATE takes the write lock at BEGIN, where busy_timeout applies.
	q.Set("_txlock", "immediate")
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the database at path, verifies that the pragmas took,
// applies pending migrations and checks the secret against the database.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	sealer, err := NewSealer(opts.Secret)
	if err != nil {
		return nil, err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: create %s: %w", dir, err)
		}
	}
	// SQLite gives the -wal and -shm files the mode of the database file, so creating it
	// 0600 keeps the data (and the sealed secrets) private to the service user.
	if f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600); err == nil {
		f.Close()
	}
	rw := sql.OpenDB(cachingConnector{dsn: dsn(path, false), drv: &sqlite.Driver{}})
	rw.SetMaxOpenConns(1)
	rw.SetMaxIdleConns(1)
	rw.SetConnMaxLifetime(0)
	rw.SetConnMaxIdleTime(0)

	s := &Store{path: path, rw: rw, sealer: sealer}
	if err := s.verifyPragmas(ctx, rw, "writer"); err != nil {
		rw.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		rw.Close()
		return nil, err
	}

	readers := opts.Readers
	if readers <= 0 {
		readers = max(2, runtime.NumCPU())
	}
	ro := sql.OpenDB(cachingConnector{dsn: dsn(path, true), drv: &sqlite.Driver{}})
	ro.SetMaxOpenConns(readers)
	ro.SetMaxIdleConns(readers)
	s.ro = ro
	if err := s.verifyPragmas(ctx, ro, "reader"); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.checkSecret(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// verifyPragmas refuses to run on a connection where a pragma silently did not apply
// (a read-only directory can leave journal_mode at "delete", for example): the
// durability and concurrency promises of Nexus rest on them.
func (s *Store) verifyPragmas(ctx context.Context, db *sql.DB, role string) error {
	checks := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "1"}, // NORMAL
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: connect %s: %w", s.path, err)
	}
	defer conn.Close()
	for _, c := range checks {
		var got string
		if err := conn.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			return fmt.Errorf("store: %s: read pragma %s: %w", role, c.pragma, err)
		}
		if !strings.EqualFold(got, c.want) {
			return fmt.Errorf("store: %s: pragma %s is %q, want %q; refusing to start", role, c.pragma, got, c.want)
		}
	}
	return nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes both pools. WAL is checkpointed by SQLite when the last connection closes.
func (s *Store) Close() error {
	var errs []error
	if s.ro != nil {
		errs = append(errs, s.ro.Close())
	}
	errs = append(errs, s.rw.Close())
	return errors.Join(errs...)
}

// inTx runs fn in one write transaction: committed when fn returns nil, rolled back
// otherwise. It is the only place that begins a transaction, so that "enqueue in the
// same transaction as the data" is a matter of calling helpers that take tx.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.rw.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Count runs a single-value read-only query (SELECT COUNT(*) ...) on the read pool,
// for tests and diagnostics of other packages; the pool refuses writes.
func (s *Store) Count(ctx context.Context, query string, args ...any) (int, error) {
	var n int
	if err := s.ro.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count: %w", err)
	}
	return n, nil
}
