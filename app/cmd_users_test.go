package app

import (
	"bytes"
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func runCLI(t *testing.T, dir, stdin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := nexusProcess(dir, []string{"NEXUS_DATA_DIR=" + filepath.Join(dir, "data")}, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// TestUsersAndTokensFromTheShell sets Nexus up without the API: a user from stdin, a
// token printed alone on stdout, and that token then opens the API.
func TestUsersAndTokensFromTheShell(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const pw = "a very long password"
	if code, _, stderr := runCLI(t, dir, pw+"\n", "users", "create", "ops@acme.test", "--org", "Acme", "--role", "admin"); code != 0 {
		t.Fatalf("users create: %d %s", code, stderr)
	}
	for _, tt := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"bad role", pw, []string{"users", "create", "x@acme.test", "--role", "owner"}, "--role"},
		{"short password", "short\n", []string{"users", "create", "x@acme.test"}, "password"},
		{"no password", "", []string{"users", "create", "x@acme.test"}, "no password"},
		{"duplicate", pw, []string{"users", "create", "OPS@acme.test", "--org", "Acme"}, "already"},
		{"token without user", "", []string{"tokens", "create"}, "--user"},
		{"token for unknown user", "", []string{"tokens", "create", "--user", "ghost@acme.test"}, "ghost@acme.test"},
		{"unknown org", "", []string{"users", "list", "--org", "Nope"}, "Nope"},
	} {
		if code, _, stderr := runCLI(t, dir, tt.stdin, tt.args...); code != 2 || !strings.Contains(stderr, tt.want) {
			t.Fatalf("%s: exit %d, stderr %q (want 2 and %q)", tt.name, code, stderr, tt.want)
		}
	}
	code, stdout, stderr := runCLI(t, dir, "", "tokens", "create", "--user", "ops@acme.test", "--name", "ci")
	if code != 0 {
		t.Fatalf("tokens create: %d %s", code, stderr)
	}
	token := strings.TrimSpace(stdout)
	if strings.Count(stdout, "\n") != 1 || !strings.HasPrefix(token, "nexus_") {
		t.Fatalf("stdout must hold the token alone: %q", stdout)
	}
	if _, out, _ := runCLI(t, dir, "", "tokens", "list"); strings.Contains(out, token) || !strings.Contains(out, "ci") {
		t.Fatalf("tokens list: %q", out)
	}
	if _, out, _ := runCLI(t, dir, "", "users", "list", "--format", "json"); !strings.Contains(out, `"ops@acme.test"`) || strings.Contains(out, "argon2") {
		t.Fatalf("users list: %q", out)
	}

	cfg := DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Server.Addr = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := newServer(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	base, done := startServer(t, ctx, srv)
	req, _ := http.NewRequest("GET", base+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the CLI's token on the API: %d", resp.StatusCode)
	}
	cancel()
	<-done
}
