package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"
)

// secretFile is where the generated secret key lives inside data_dir.
const secretFile = "secret.key"

// secretKey returns the configured secret, or the one in <data_dir>/secret.key, creating
// that file with 32 random bytes on first start. Losing it makes every sealed column
// unreadable, so it is written atomically and never replaced.
func secretKey(cfg Config, log zerolog.Logger) ([]byte, error) {
	if cfg.SecretKey != "" {
		return []byte(cfg.SecretKey), nil
	}
	path := filepath.Join(cfg.DataDir, secretFile)
	key, err := readSecret(path, log)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("secret key: create %s: %w", cfg.DataDir, err)
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	encoded := []byte(hex.EncodeToString(raw) + "\n")

	// Write a temporary file, then link it into place: link fails if another process
	// created the key meanwhile, and a crash never leaves a half-written key behind.
	tmp, err := os.CreateTemp(cfg.DataDir, ".secret-*")
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("secret key: %w", err)
	}
	if _, err := tmp.Write(encoded); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("secret key: write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("secret key: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return readSecret(path, log)
		}
		return nil, fmt.Errorf("secret key: %w", err)
	}
	log.Info().Str("path", path).Msg("generated a new secret key; back it up with the database")
	return []byte(hex.EncodeToString(raw)), nil
}

func readSecret(path string, log zerolog.Logger) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		log.Warn().Str("path", path).Str("mode", fi.Mode().Perm().String()).
			Msg("secret key file is readable by others; chmod 600 it")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	key := strings.TrimSpace(string(b))
	if len(key) < 32 {
		return nil, fmt.Errorf("secret key: %s holds %d characters, want at least 32", path, len(key))
	}
	return []byte(key), nil
}
