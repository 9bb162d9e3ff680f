package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/rs/zerolog"
)

func testConfig(t *testing.T) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Server.Addr = "127.0.0.1:0"
	cfg.Server.ShutdownTimeout = 10 * time.Second
	return cfg
}

// startServer runs a server in-process and returns its base URL and a channel that
// yields run's result.
func startServer(t *testing.T, ctx context.Context, srv *server) (string, <-chan error) {
	t.Helper()
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- srv.run(ctx, func(a net.Addr) { addrs <- a }) }()
	select {
	case a := <-addrs:
		return "http://" + a.String(), done
	case err := <-done:
		t.Fatalf("server stopped at start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	return "", nil
}

func getHealth(t *testing.T, base string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestHealthTurns503WhenDatabaseIsReadOnly(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := newServer(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	base, done := startServer(t, ctx, srv)
	if code, body := getHealth(t, base); code != 200 || body["status"] != "ok" {
		t.Fatalf("health %d %v", code, body)
	}
	db := filepath.Join(cfg.DataDir, "nexus.db")
	if err := os.Chmod(db, 0o400); err != nil {
		t.Fatal(err)
	}
	code, body := getHealth(t, base)
	if code != 503 || body["status"] != "degraded" {
		t.Fatalf("health with a read-only database: %d %v", code, body)
	}
	checks := body["checks"].(map[string]any)
	if c := checks["database"].(map[string]any); c["status"] != "failing" || !strings.Contains(c["error"].(string), "read-only") {
		t.Fatalf("database check does not say why: %v", c)
	}
	if c := checks["workers"].(map[string]any); c["status"] != "ok" {
		t.Fatalf("workers check: %v", c)
	}
	os.Chmod(db, 0o600)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// TestSIGTERMLetsSlowRequestFinish sends a real SIGTERM to this process while a
// request is in flight: the request must complete, new connections must be refused,
// and the server must stop cleanly.
func TestSIGTERMLetsSlowRequestFinish(t *testing.T) {
	cfg := testConfig(t)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	srv, err := newServer(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	inFlight := make(chan struct{})
	srv.web.Echo().GET("/slow", func(c *echo.Context) error {
		close(inFlight)
		time.Sleep(700 * time.Millisecond)
		return c.String(200, "finished")
	})
	base, done := startServer(t, ctx, srv)

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-inFlight
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil || r.body != "finished" {
		t.Fatalf("slow request during shutdown: %q, %v", r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := http.Get(base + "/health"); err == nil {
		t.Fatal("server still accepts connections after shutdown")
	}
}

// nexusProcess runs the CLI in a child process (see TestMain) with only the
// environment given, in dir.
func nexusProcess(dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"NEXUSTEST_MAIN=1", "HOME=" + dir}, env...)
	return cmd
}

// TestServeEndToEnd starts `nexus serve` in a fresh directory with no config file,
// waits for /health, stops it with SIGTERM, and starts it again: the second start
// must reuse the secret key and the database.
func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	start := func() (*exec.Cmd, string, *bytes.Buffer) {
		t.Helper()
		cmd := nexusProcess(dir, []string{"NEXUS_SERVER_ADDR=127.0.0.1:0"}, "serve")
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The log is JSON when stderr is not a terminal; its "listening" line names
		// the port the kernel chose.
		var logs bytes.Buffer
		addr := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				logs.Write(sc.Bytes())
				logs.WriteByte('\n')
				var line struct{ Message, Addr string }
				if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "nexus is listening" {
					addr <- line.Addr
				}
			}
			close(addr)
		}()
		select {
		case a, ok := <-addr:
			if !ok {
				cmd.Wait()
				t.Fatalf("serve exited before listening:\n%s", logs.String())
			}
			return cmd, a, &logs
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatal("serve did not listen within 20s")
		}
		return nil, "", nil
	}
	stopProc := func(cmd *exec.Cmd) {
		t.Helper()
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("serve did not exit cleanly on SIGTERM: %v", err)
		}
	}

	cmd, base, _ := start()
	if code, body := getHealth(t, base); code != 200 {
		t.Fatalf("first start: health %d %v", code, body)
	}
	keyPath := filepath.Join(dir, "data", "secret.key")
	key1, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatalf("no secret key generated: %v", err)
	}
	fi, _ := os.Stat(keyPath)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret key mode %v, want 0600", fi.Mode().Perm())
	}
	dbfi, err := os.Stat(filepath.Join(dir, "data", "nexus.db"))
	if err != nil || dbfi.Mode().Perm() != 0o600 {
		t.Fatalf("database file: %v, mode %v", err, dbfi.Mode().Perm())
	}
	stopProc(cmd)

	cmd, base, logs := start()
	if code, body := getHealth(t, base); code != 200 {
		t.Fatalf("second start: health %d %v", code, body)
	}
	stopProc(cmd)
	key2, _ := os.ReadFile(keyPath)
	if !bytes.Equal(key1, key2) {
		t.Fatal("second start changed the secret key")
	}
	if strings.Contains(logs.String(), "generated a new secret key") {
		t.Fatal("second start generated a new key")
	}
	if strings.Contains(logs.String(), strings.TrimSpace(string(key1))) {
		t.Fatal("the secret key appears in the log")
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name   string
		env    []string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"version", nil, []string{"version"}, 0, "nexus dev (commit", ""},
		{"unknown command", nil, []string{"bogus"}, 2, "", "unknown command"},
		{"unknown flag", nil, []string{"serve", "--nope"}, 2, "", "unknown flag"},
		{"keep without demo", nil, []string{"serve", "--keep"}, 2, "", "--keep only applies to the demo"},
		{"stray argument", nil, []string{"version", "extra"}, 2, "", "takes no arguments"},
		{"bad addr flag", nil, []string{"serve", "--addr", "nowhere"}, 2, "", "server.addr"},
		{"negative workers env", []string{"NEXUS_WORKERS_CONCURRENCY=-3"}, []string{"serve"}, 2, "", "workers.concurrency"},
		{"migrate", []string{"NEXUS_DATA_DIR=" + filepath.Join(dir, "m")}, []string{"migrate"}, 0, "schema version", ""},
		{"migrate again", []string{"NEXUS_DATA_DIR=" + filepath.Join(dir, "m")}, []string{"migrate"}, 0, "schema version", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := nexusProcess(dir, tt.env, tt.args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, &stdout, &stderr)
			}
			if !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Fatalf("stdout %q (want %q), stderr %q (want %q)", &stdout, tt.stdout, &stderr, tt.stderr)
			}
			if tt.code == 2 && strings.Count(strings.TrimSpace(stderr.String()), "\n") > 0 {
				t.Fatalf("usage error is not one line: %q", &stderr)
			}
		})
	}
}

func TestSecretKeyFile(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	k1, err := secretKey(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	k2, err := secretKey(cfg, zerolog.Nop())
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second read: %v, equal %v", err, bytes.Equal(k1, k2))
	}
	if len(k1) != 64 {
		t.Fatalf("key is %d hex characters, want 64 (32 bytes)", len(k1))
	}
	cfg.SecretKey = strings.Repeat("k", 40)
	if k, _ := secretKey(cfg, zerolog.Nop()); string(k) != cfg.SecretKey {
		t.Fatal("a configured key must win over the file")
	}
	bad := testConfig(t)
	os.WriteFile(filepath.Join(bad.DataDir, secretFile), []byte("short\n"), 0o600)
	if _, err := secretKey(bad, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Fatalf("short key file: %v", err)
	}
}

// TestSecretKeyConcurrentFirstStart: two processes starting at once on a fresh
// data_dir must end up with one key, not two that overwrite each other.
func TestSecretKeyConcurrentFirstStart(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	keys := make(chan string, 8)
	for range 8 {
		go func() {
			k, err := secretKey(cfg, zerolog.Nop())
			if err != nil {
				keys <- "error: " + err.Error()
				return
			}
			keys <- string(k)
		}()
	}
	first := <-keys
	for range 7 {
		if k := <-keys; k != first {
			t.Fatalf("different keys: %q and %q", first, k)
		}
	}
	entries, _ := os.ReadDir(cfg.DataDir)
	if len(entries) != 1 {
		t.Fatalf("data dir holds %d entries, want only the key: %v", len(entries), entries)
	}
}
