package app

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// TestMetricsAddr: server.metrics_addr serves /metrics without a token on its own
// listener, from the same collectors as the API's (its request is counted there), while
// the API's /metrics still wants an admin; shutdown closes both listeners.
func TestMetricsAddr(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Server.MetricsAddr = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := newServer(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	base, done := startServer(t, ctx, srv)
	if code, body := getHealth(t, base); code != http.StatusOK {
		t.Fatalf("health: %d %v", code, body)
	}
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// (Before the first user is set up it is 503, afterwards 401.)
	if code, _ := get(base + "/metrics"); code == http.StatusOK {
		t.Fatal("the API's /metrics answered without a token")
	}
	metricsURL := "http://" + srv.metricsAddr.String() + "/metrics"
	code, body := get(metricsURL)
	if code != http.StatusOK {
		t.Fatalf("metrics_addr /metrics: %d", code)
	}
	for _, want := range []string{`nexus_http_request_duration_seconds_count{method="GET",route="/health",status="2xx"} 1`,
		`nexus_runs{status="running"} 0`, `nexus_jobs{state="queued"} 0`} {
		if !strings.Contains(body, want) {
			t.Fatalf("metrics lack %q:\n%s", want, body)
		}
	}
	if code, _ := get("http://" + srv.metricsAddr.String() + "/api/v1/me"); code != http.StatusNotFound {
		t.Fatalf("metrics_addr serves more than /metrics: %d", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := http.Get(metricsURL); err == nil {
		t.Fatal("metrics_addr still answers after shutdown")
	}
}
