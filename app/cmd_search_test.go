package app

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"nexus/scraper/xfake"
)

// runCLIWithX runs the CLI against a fake X.
func runCLIWithX(t *testing.T, dir string, x *xfake.Server, stdin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := nexusProcess(dir, []string{"NEXUS_DATA_DIR=" + filepath.Join(dir, "data"),
		"NEXUS_X_API_BASE=" + x.URL(), "NEXUS_X_WEB_BASE=" + x.RootURL(), "NEXUS_X_TRANSACTION_ID=off"}, args...)
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

// TestSearchRotatesAccounts is the X client's acceptance test, through the CLI: with
// two sessions, `nexus search --limit 200 --format jsonl` returns every matching tweet
// exactly once, and when the first session's quota runs out (the page that brings
// x-rate-limit-remaining to 0 is kept) the search goes on with the second, never
// touching the first again before its reset.
func TestSearchRotatesAccounts(t *testing.T) {
	t.Parallel()
	x := xfake.New(xfake.WithRateLimit(xfake.OpSearchTimeline, xfake.Limit{Requests: 5, Window: 15 * time.Minute}), xfake.WithPromoted(true))
	defer x.Close()
	x.AddAccount("tok-one", "ct0-one")
	x.AddAccount("tok-two", "ct0-two")
	base := time.Now().Add(-2 * time.Hour)
	for i := range 300 {
		x.AddTweet(xfake.Tweet{Text: fmt.Sprintf("nexusprobe number %d", i), CreatedAt: base.Add(time.Duration(i) * time.Second), LikeCount: int64(i)})
	}
	dir := t.TempDir()
	for _, a := range []string{"one", "two"} {
		if code, _, stderr := runCLIWithX(t, dir, x, "", "accounts", "add", a, "--cookies", fmt.Sprintf("auth_token=tok-%s; ct0=ct0-%s", a, a)); code != 0 {
			t.Fatalf("accounts add: %s", stderr)
		}
	}
	code, stdout, stderr := runCLIWithX(t, dir, x, "", "search", "nexusprobe", "--limit", "200", "--format", "jsonl")
	if code != 0 {
		t.Fatalf("search: exit %d: %s", code, stderr)
	}
	want := x.MatchingIDs("nexusprobe", "Latest")[:200]
	var got []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var tw struct {
			ID, URL, Username, Text, CreatedAt string
			Hashtags                           []string
			InReplyToID                        *string `json:"in_reply_to_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &tw); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		if seen[tw.ID] {
			t.Fatalf("tweet %s printed twice", tw.ID)
		}
		seen[tw.ID] = true
		if tw.URL == "" || tw.Username == "" || !strings.HasPrefix(tw.Text, "nexusprobe") || tw.Hashtags == nil {
			t.Fatalf("incomplete tweet: %s", sc.Text())
		}
		got = append(got, tw.ID)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %d tweets, want the %d newest matches in order", len(got), len(want))
	}
	// The first account made its five requests, then was never used again.
	var firstAfterLock bool
	locked := false
	for _, r := range x.Requests() {
		if r.Operation != xfake.OpSearchTimeline {
			continue
		}
		if r.Account == "tok-one" && locked {
			firstAfterLock = true
		}
		if r.Account == "tok-one" && r.AccountOpSeq == 5 {
			locked = true
		}
		if r.Status == 429 {
			t.Fatalf("a request got a 429: the client should not have used a locked account")
		}
	}
	if !locked || firstAfterLock {
		t.Fatalf("first account: locked=%v, used after its lock=%v", locked, firstAfterLock)
	}
	if x.CountAccount("tok-two", xfake.OpSearchTimeline) == 0 {
		t.Fatal("the second account was never used")
	}

	// The other formats carry the same tweets.
	code, stdout, _ = runCLIWithX(t, dir, x, "", "accounts", "reset-locks")
	if code != 0 {
		t.Fatal("reset-locks failed")
	}
	x.SetRateLimit(xfake.OpSearchTimeline, xfake.Limit{})
	_, stdout, _ = runCLIWithX(t, dir, x, "", "search", "nexusprobe", "--limit", "30", "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil || len(rows) != 31 || rows[0][0] != "id" {
		t.Fatalf("csv: %d rows, %v", len(rows), err)
	}
	_, stdout, _ = runCLIWithX(t, dir, x, "", "search", "nexusprobe", "--limit", "30", "--format", "json")
	var arr []map[string]any
	if err := json.Unmarshal([]byte(stdout), &arr); err != nil || len(arr) != 30 {
		t.Fatalf("json: %d, %v", len(arr), err)
	}
}

func TestSearchWithoutAccounts(t *testing.T) {
	t.Parallel()
	x := xfake.New()
	defer x.Close()
	dir := t.TempDir()
	code, stdout, stderr := runCLIWithX(t, dir, x, "", "search", "anything", "--format", "json")
	if code != 1 || !strings.Contains(stderr, "accounts add") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if strings.TrimSpace(stdout) != "[]" {
		t.Fatalf("stdout must stay valid JSON: %q", stdout)
	}
	if code, _, stderr := runCLIWithX(t, dir, x, "", "search", "x", "--format", "yaml"); code != 2 || !strings.Contains(stderr, "--format") {
		t.Fatalf("bad format: %d %s", code, stderr)
	}
}
