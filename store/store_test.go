package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func openTest(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{Secret: testSecret})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenSetsPragmasOnBothPools(t *testing.T) {
	t.Parallel()
	s := openTest(t, filepath.Join(t.TempDir(), "nexus.db"))
	ctx := context.Background()
	if err := s.verifyPragmas(ctx, s.rw, "writer"); err != nil {
		t.Fatal(err)
	}
	if err := s.verifyPragmas(ctx, s.ro, "reader"); err != nil {
		t.Fatal(err)
	}
	// The read pool must not be able to write, so that no write escapes the writer.
	if _, err := s.ro.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('x', 'y')`); err == nil {
		t.Fatal("write through the read pool succeeded")
	}
}

func TestMigrationsTwiceAreANoOp(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nexus.db")
	ctx := context.Background()
	s := openTest(t, path)
	v1, err := s.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v1 != SchemaVersion() {
		t.Fatalf("schema version %d, want %d", v1, SchemaVersion())
	}
	var rows1 int
	s.rw.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&rows1)
	s.Close()

	s2 := openTest(t, path)
	if err := s2.migrate(ctx); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	var rows2 int
	s2.rw.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&rows2)
	if rows1 != rows2 || rows2 != SchemaVersion() {
		t.Fatalf("schema_migrations rows %d then %d, want %d", rows1, rows2, SchemaVersion())
	}
}

func TestNewerDatabaseIsRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nexus.db")
	ctx := context.Background()
	s := openTest(t, path)
	if _, err := s.rw.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, 'later')`, SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(ctx, path, Options{Secret: testSecret})
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("open newer database: got %v, want ErrNewerSchema", err)
	}
	if !strings.Contains(err.Error(), "upgrade nexus") {
		t.Fatalf("message does not say what to do: %v", err)
	}
}

func TestWrongSecretIsRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nexus.db")
	openTest(t, path).Close()
	_, err := Open(context.Background(), path, Options{Secret: []byte("another secret key of 32+ chars!!")})
	if !errors.Is(err, ErrWrongSecret) {
		t.Fatalf("got %v, want ErrWrongSecret", err)
	}
}

func TestSealer(t *testing.T) {
	t.Parallel()
	s, err := NewSealer(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("auth_token=abc; ct0=def")
	sealed := s.Seal(secret, "x_accounts.cookies")
	if bytes.Contains(sealed, secret) || bytes.Contains(sealed, []byte("abc")) {
		t.Fatal("sealed value contains the plaintext")
	}
	if again := s.Seal(secret, "x_accounts.cookies"); bytes.Equal(again, sealed) {
		t.Fatal("two seals of one value are equal: nonce reused")
	}
	got, err := s.Open(sealed, "x_accounts.cookies")
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("open: %q, %v", got, err)
	}
	if _, err := s.Open(sealed, "integrations.config"); err == nil {
		t.Fatal("opened under another aad")
	}
	other, _ := NewSealer([]byte("ffffffffffffffffffffffffffffffff"))
	if _, err := other.Open(sealed, "x_accounts.cookies"); !errors.Is(err, ErrWrongSecret) {
		t.Fatalf("other key: got %v", err)
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := s.Open(tampered, "x_accounts.cookies"); err == nil {
		t.Fatal("opened a tampered value")
	}
	if _, err := s.Open([]byte{1, 2}, "x"); err == nil {
		t.Fatal("opened a short value")
	}
	if _, err := NewSealer([]byte("short")); err == nil {
		t.Fatal("accepted a short secret")
	}
}

func TestPing(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nexus.db")
	s := openTest(t, path)
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	err := s.Ping(ctx)
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("ping of a read-only file: %v", err)
	}
	os.Chmod(path, 0o600)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping after restoring: %v", err)
	}
	s.rw.Close()
	if err := s.Ping(ctx); err == nil {
		t.Fatal("ping on a closed writer succeeded")
	}
}
