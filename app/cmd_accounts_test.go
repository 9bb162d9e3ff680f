package app

import (
	"strings"
	"testing"
)

func TestAccountsFromTheShell(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const secret = "SHELLSECRET987"
	if code, _, stderr := runCLI(t, dir, `{"auth_token":"`+secret+`","ct0":"c"}`, "accounts", "add", "main", "--cookies", "-"); code != 0 {
		t.Fatalf("add from stdin: %d %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, dir, "", "accounts", "add", "spare", "--cookies", "auth_token=x"+secret+"; ct0=d", "--proxy", "http://127.0.0.1:3128"); code != 0 {
		t.Fatalf("add from flag: %d %s", code, stderr)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"accounts", "add", "bad", "--cookies", "auth_token=" + secret}, "ct0"},
		{[]string{"accounts", "add", "main", "--cookies", "auth_token=a; ct0=b"}, "exists"},
		{[]string{"accounts", "add", "noflag"}, "--cookies"},
		{[]string{"accounts", "rm", "ghost"}, "ghost"},
		{[]string{"accounts", "list", "--format", "xml"}, "--format"},
	} {
		code, stdout, stderr := runCLI(t, dir, "", tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) || strings.Contains(stderr+stdout, secret) {
			t.Fatalf("%v: exit %d, stderr %q", tt.args, code, stderr)
		}
	}
	code, stdout, _ := runCLI(t, dir, "", "accounts", "list")
	if code != 0 || !strings.Contains(stdout, "main") || !strings.Contains(stdout, "spare") || strings.Contains(stdout, secret) {
		t.Fatalf("list: %d %q", code, stdout)
	}
	code, stdout, _ = runCLI(t, dir, "", "accounts", "list", "--format", "json")
	if code != 0 || !strings.Contains(stdout, `"proxy_set":true`) || strings.Contains(stdout, secret) || strings.Contains(stdout, "3128") {
		t.Fatalf("list json: %d %q", code, stdout)
	}
	for _, args := range [][]string{{"accounts", "reactivate", "main"}, {"accounts", "reset-locks"}, {"accounts", "rm", "spare"}} {
		if code, _, stderr := runCLI(t, dir, "", args...); code != 0 {
			t.Fatalf("%v: %d %s", args, code, stderr)
		}
	}
	if _, stdout, _ := runCLI(t, dir, "", "accounts", "list"); strings.Contains(stdout, "spare") {
		t.Fatal("rm did not remove")
	}
}
