package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
)

// sealVersion is the first byte of every sealed value, so that the scheme can change
// later without guessing what an old value is.
const sealVersion = 1

// ErrWrongSecret means the configured secret key is not the one the database was
// sealed with; every secret column would be unreadable.
var ErrWrongSecret = errors.New("secret key does not match this database")

// Sealer encrypts secret columns (X cookies, Slack tokens, webhook secrets, service
// account JSON) with AES-256-GCM under a key derived from the configured secret.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer derives the column key from secret with HKDF-SHA256. The secret is at least
// 32 bytes; deriving (rather than using it directly) lets it be any string an operator
// can type and keeps this key apart from any other key derived from the same secret.
func NewSealer(secret []byte) (*Sealer, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("store: secret key must be at least 32 bytes, got %d", len(secret))
	}
	key, err := hkdf.Key(sha256.New, secret, []byte("nexus"), "nexus/store/sealed-columns/v1", 32)
	if err != nil {
		return nil, fmt.Errorf("store: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("store: cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("store: gcm: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext. aad names where the value lives (for example
// "x_accounts.cookies"), so that a sealed value copied into another column does not open.
func (s *Sealer) Seal(plaintext []byte, aad string) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce) // never fails on supported platforms
	out := make([]byte, 0, 1+len(nonce)+len(plaintext)+s.aead.Overhead())
	out = append(out, sealVersion)
	out = append(out, nonce...)
	return s.aead.Seal(out, nonce, plaintext, []byte(aad))
}

// Open decrypts a value made by Seal with the same aad.
func (s *Sealer) Open(sealed []byte, aad string) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < 1+ns+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, errors.New("store: sealed value is malformed")
	}
	pt, err := s.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], []byte(aad))
	if err != nil {
		return nil, fmt.Errorf("store: open sealed value: %w", ErrWrongSecret)
	}
	return pt, nil
}

// checkSecret stores a sealed marker on first use and, on later starts, refuses a
// different secret key up front instead of failing on the first secret read hours later.
func (s *Store) checkSecret(ctx context.Context) error {
	const aad = "meta.secret_check"
	var stored string
	err := s.rw.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'secret_check'`).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		v := base64.StdEncoding.EncodeToString(s.sealer.Seal([]byte("nexus"), aad))
		_, err = s.rw.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('secret_check', ?)`, v)
		if err != nil {
			return fmt.Errorf("store: save secret check: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: read secret check: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(stored)
	if err != nil {
		return fmt.Errorf("store: secret check is corrupt: %w", err)
	}
	if _, err := s.sealer.Open(raw, aad); err != nil {
		return fmt.Errorf("store: %s was sealed with another secret key (secret_key or data_dir/secret.key changed): %w", s.path, ErrWrongSecret)
	}
	return nil
}
