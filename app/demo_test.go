package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is the demo's stderr, written by the server goroutine and read here.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startDemo runs the demo in-process with a fast stream and returns its URL and
// password, its output, and a func that stops it and returns runDemo's error.
func startDemo(t *testing.T, keep bool) (url, password string, out *lockedBuffer, stop func() error) {
	t.Helper()
	t.Setenv("TMPDIR", t.TempDir())
	out = &lockedBuffer{}
	a := &App{stdin: strings.NewReader(""), stdout: io.Discard, stderr: out, environ: []string{}}
	a.rootCmd() // sets up the flag maps
	a.flags["server.addr"], a.flags["log.level"] = "127.0.0.1:0", "warn"
	ready := make(chan [2]string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- a.runDemo(ctx, demoOptions{on: true, keep: keep, every: 200 * time.Millisecond,
			ready: func(u, p string) { ready <- [2]string{u, p} }})
	}()
	select {
	case r := <-ready:
		url, password = r[0], r[1]
	case err := <-done:
		t.Fatalf("demo stopped at start: %v\n%s", err, out)
	case <-time.After(30 * time.Second):
		t.Fatalf("demo did not start:\n%s", out)
	}
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { stop() })
	return url, password, out, stop
}

// TestDemo starts the demo as `nexus demo` would and uses it like a newcomer: log in
// with the printed password, find opportunities from the first run, see new posts in
// the next run, and leave nothing behind at exit.
func TestDemo(t *testing.T) {
	url, password, out, stop := startDemo(t, false)
	if !strings.Contains(out.String(), demoEmail) || !strings.Contains(out.String(), "password "+password) {
		t.Fatalf("the demo does not print how to log in:\n%s", out)
	}
	dir := regexp.MustCompile(`data: (\S+)`).FindStringSubmatch(out.String())
	if dir == nil {
		t.Fatalf("the demo does not say where its data is:\n%s", out)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	var login struct {
		CSRF string `json:"csrf_token"`
	}
	call := func(method, path, body string, v any) int {
		t.Helper()
		req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("X-CSRF-Token", login.CSRF)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if v != nil {
			json.NewDecoder(resp.Body).Decode(v)
		}
		return resp.StatusCode
	}
	if code := call("POST", "/api/v1/auth/login", `{"email":"`+demoEmail+`","password":"`+password+`"}`, &login); code != 200 {
		t.Fatalf("login with the printed password: %d", code)
	}
	var opps struct {
		Opportunities []json.RawMessage `json:"opportunities"`
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(opps.Opportunities) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no opportunity a minute after start")
		}
		time.Sleep(200 * time.Millisecond)
		call("GET", "/api/v1/opportunities", "", &opps)
	}

	// The stream keeps adding posts: a second run finds new ones.
	var runs struct {
		Runs []struct {
			ID       int64  `json:"id"`
			Status   string `json:"status"`
			Progress struct {
				TweetsNew int `json:"tweets_new"`
			} `json:"progress"`
		} `json:"runs"`
	}
	for {
		call("GET", "/api/v1/campaigns/1/runs", "", &runs)
		if len(runs.Runs) > 0 && runs.Runs[0].Status == "succeeded" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("first run: %+v", runs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second)
	if code := call("POST", "/api/v1/campaigns/1/runs", "", nil); code != 202 {
		t.Fatalf("second run: %d", code)
	}
	for {
		call("GET", "/api/v1/campaigns/1/runs", "", &runs)
		if len(runs.Runs) == 2 && runs.Runs[0].Status == "succeeded" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("second run: %+v", runs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if runs.Runs[0].Progress.TweetsNew == 0 {
		t.Fatal("the second run found nothing new: the stream is not live")
	}

	resp, err := c.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "Top opportunities") || !strings.Contains(string(page), `class="rel `) {
		t.Fatal("the dashboard shows no opportunity")
	}
	if err := stop(); err != nil {
		t.Fatalf("demo exit: %v", err)
	}
	if _, err := os.Stat(dir[1]); !os.IsNotExist(err) {
		t.Fatalf("demo data %s left behind: %v", dir[1], err)
	}
}

func TestDemoKeep(t *testing.T) {
	_, _, out, stop := startDemo(t, true)
	dir := regexp.MustCompile(`data: (\S+)`).FindStringSubmatch(out.String())
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir[1] + "/nexus.db"); err != nil || fi.Size() == 0 {
		t.Fatalf("--keep removed the database: %v", err)
	}
	if !strings.Contains(out.String(), "demo data kept in "+dir[1]) {
		t.Fatalf("the demo does not say where it kept its data:\n%s", out)
	}
}
