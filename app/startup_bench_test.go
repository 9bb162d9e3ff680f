package app

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds the real static binary, as a user would ship it.
func buildBinary(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "nexus")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startAndWait starts `nexus serve` and returns once /health answers 200.
func startAndWait(b *testing.B, bin, dir, addr string) *exec.Cmd {
	b.Helper()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--log-level", "warn")
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + dir}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get("http://" + addr + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		time.Sleep(500 * time.Microsecond)
	}
	cmd.Process.Kill()
	b.Fatal("no 200 from /health within 10s")
	return nil
}

func rssMB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return -1
}

// BenchmarkStartup measures the time from exec to the first 200 on /health with an
// existing data directory (the ordinary restart), and reports the binary size and the
// resident memory after a second of idling.
//
//	go test -run '^$' -bench Startup -count 5 ./app/
func BenchmarkStartup(b *testing.B) {
	bin := buildBinary(b)
	fi, _ := os.Stat(bin)
	dir := b.TempDir()
	// First start creates the key and the database; it is not what we time.
	first := startAndWait(b, bin, dir, freeAddr(b))
	first.Process.Signal(syscall.SIGTERM)
	first.Wait()

	var rss float64
	for b.Loop() {
		b.StopTimer()
		addr := freeAddr(b)
		b.StartTimer()
		cmd := startAndWait(b, bin, dir, addr)
		b.StopTimer()
		if rss == 0 {
			time.Sleep(time.Second)
			rss = rssMB(cmd.Process.Pid)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			b.Fatalf("exit: %v", err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(fi.Size())/(1<<20), "binary-MB")
	b.ReportMetric(rss, "idle-RSS-MB")
}
