package pipeline

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"testing"
	"time"

	"nexus/store"
)

// BenchmarkRunEndToEnd is issue 5's end-to-end figure: one listening run over the
// 10,000-tweet campaign (1,000 conversations of 10 tweets) against the fake X, from
// Start to succeeded, with 4 workers, two X accounts and the heuristic analyzer.
// It reports the seconds per run (wall and CPU) and the process's peak RSS during the
// run (VmHWM, reset before the run; the fake X lives in the same process and is
// counted with it). Targets: 10 s and 150 MB. Run it once per process (-count 1, the
// command repeated): SQLite's page caches stay with the process after a run, so a
// second run in the same process starts from a higher RSS.
//
// The harness reads the run's progress as `nexus run --wait` does, every 250ms.
//
//	go test -run '^$' -bench RunEndToEnd -benchtime 1x -count 3 ./pipeline/
func BenchmarkRunEndToEnd(b *testing.B) {
	const nConv, perConv = 1000, 10
	var secs, cpu, peak, start float64
	for range b.N {
		b.StopTimer()
		env := newRunEnv(b, nConv, perConv)
		// What earlier iterations left is handed back first, so that the peak is this
		// run's.
		runtime.GC()
		debug.FreeOSMemory()
		resetPeakRSS(b)
		start += procStatusMB(b, "VmRSS")
		began, cpuBefore := time.Now(), cpuSeconds(b)
		b.StartTimer()
		run := env.runWatched(b)
		b.StopTimer()
		secs += time.Since(began).Seconds()
		cpu += cpuSeconds(b) - cpuBefore
		peak = max(peak, procStatusMB(b, "VmHWM"))
		if run.Status != store.RunSucceeded || run.Progress.Conversations != nConv || run.Progress.Analyzed != nConv {
			b.Fatalf("run: %s, %+v", run.Status, run.Progress)
		}
		b.StartTimer()
	}
	b.ReportMetric(secs/float64(b.N), "s/run")
	b.ReportMetric(cpu/float64(b.N), "cpu-s/run")
	b.ReportMetric(peak, "peak-RSS-MB")
	b.ReportMetric(start/float64(b.N), "start-RSS-MB")
}

// runWatched starts a run and waits for its end the way `nexus run --wait` follows
// one: its progress every 250ms. (runToEnd reads the progress every 10ms, which costs
// a sixth of the CPU of a run this size.) The end itself is noticed within 10ms.
func (e *runEnv) runWatched(b *testing.B) store.Run {
	b.Helper()
	ctx := b.Context()
	run, err := e.runner.Start(ctx, e.campaign, "bench")
	if err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for i := 0; ; i++ {
		if i%25 == 0 {
			if _, err := e.st.Run(ctx, e.org.ID, run.ID); err != nil {
				b.Fatal(err)
			}
		}
		if scalar(b, e.st, `SELECT COUNT(*) FROM runs WHERE id = ? AND status IN ('queued', 'running')`, run.ID) == 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("the run did not finish in 5 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
	r, err := e.st.Run(ctx, e.org.ID, run.ID)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// cpuSeconds is the user and system CPU time of the process so far: on a shared
// machine it varies less than the wall time. (It includes the fake X's share.)
func cpuSeconds(b *testing.B) float64 {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// resetPeakRSS resets the process's VmHWM to its current RSS (Linux 4.0+), so that
// the peak read afterwards is the peak of what follows.
func resetPeakRSS(b *testing.B) {
	b.Helper()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset the peak RSS (%v); it covers the whole process", err)
	}
}

// procStatusMB reads a kB field of /proc/self/status in MB.
func procStatusMB(b *testing.B, field string) float64 {
	b.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, rest, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok || string(name) != field {
			continue
		}
		kb, err := strconv.ParseFloat(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 64)
		if err != nil {
			b.Fatalf("%s: %v", field, err)
		}
		return kb / 1024
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}
