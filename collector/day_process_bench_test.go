package collector

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/internal/simproc"
)

// BenchmarkTenantDay is the tenant-scale run: one compressed day at ENTRA_DAY_ROWS (default
// 1,000,000) sign-in rows and 200,000 users, realistic 5-15 KB rows and lateness, the default
// settings, through the real pipeline and a state journal on disk, with the simulated tenant in
// a process of its own (internal/simtenantd) so that this process is the exporter alone. It
// reports, besides BenchmarkCompressedDay's figures:
//
//	rows/s                 rows counted per second of wall time
//	cpu_s/Mrows            CPU seconds of this process (user + system) per million rows counted
//	peak_rss_MiB           peak resident set of this process during the day (VmHWM, reset at start)
//	state_written_MB/day   bytes the commits and compactions wrote to the journal
//	commits/day, commit_ms cpu time... see BenchmarkCommit for the CPU of one commit
//
// It is a benchmark (scripts/bench.sh), not a test: it takes minutes.
func BenchmarkTenantDay(b *testing.B) {
	rows := 1_000_000
	if s := os.Getenv("ENTRA_DAY_ROWS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("ENTRA_DAY_ROWS=%q: want a positive integer", s)
		}
		rows = v
	}
	for range b.N {
		runTenantDay(b, rows, os.Getenv("ENTRA_DAY_NO_PADDING") != "")
	}
}

func runTenantDay(b *testing.B, rowsPerDay int, noPadding bool) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	dir := b.TempDir()
	bin, err := simproc.Build(dir)
	if err != nil {
		b.Fatal(err)
	}
	args := []string{"--seed=42", "--users=200000", "--fake-clock=" + start.Format(time.RFC3339Nano),
		"--retention=6h", "--max-rows=2000000"}
	if noPadding {
		args = append(args, "--no-padding")
	}
	sim, err := simproc.Start(bin, dir, args...)
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()

	// Calibrate: the generator writes a varying number of rows per flow; the first hour at one
	// flow per second gives the rate for the rest of the day.
	if err := sim.Backfill(start, start.Add(time.Hour), 1); err != nil {
		b.Fatal(err)
	}
	flows, truthRows, err := sim.Truth()
	if err != nil || flows == 0 {
		b.Fatalf("calibration: %d flows, %v", flows, err)
	}
	rate := float64(rowsPerDay) / day.Seconds() / (float64(truthRows) / float64(flows))
	generated := start.Add(time.Hour)

	clk := &testClock{now: start}
	cfg := config.Config{Tenants: []config.Tenant{{
		Name: "fixture", TenantID: sim.TenantID, Cloud: "custom", AuthorityHost: sim.AuthorityHost,
		GraphEndpoint: sim.GraphEndpoint, CAFile: sim.CAFile,
		Credential: config.Credential{Type: "client_secret", ClientID: sim.ClientID, ClientSecretFile: sim.SecretFile},
		SignIns:    config.SignIns{EventTypes: []string{"interactive", "non_interactive"}},
	}}}
	cfg.ApplyDefaults()
	cfg.Tenants[0].SignIns.Lookback = config.Duration(30 * time.Minute)
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	settings := cfg.Tenants[0].SignIns
	reg := prometheus.NewRegistry()
	m := NewManager(context.Background(), reg, Options{Now: clk.Now, StoragePath: filepath.Join(dir, "state"),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	m.manual = true
	m.budgetPer = time.Nanosecond
	m.appPacer = graph.NewPacer(1000, time.Nanosecond)
	m.Apply(&cfg)
	defer m.Stop()
	m.mu.Lock()
	r := m.tenants["fixture"]
	m.mu.Unlock()
	if r.initErr != nil {
		b.Fatal(r.initErr)
	}
	r.pacer = graph.NewPacer(1000, time.Nanosecond)
	if r.client, err = m.newClient(r.cfg, r.pacer); err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	var delays delayHistogram
	r.source.onCount = func(row *graph.SignIn, _ string) {
		mu.Lock()
		delays.add(clk.Now().Sub(row.CreatedDateTime))
		mu.Unlock()
	}

	resetPeakRSS(b)
	cpu0 := cpuTime()
	wall0 := time.Now()
	b.ResetTimer()
	interval := time.Duration(settings.PollInterval)
	end := start.Add(day + time.Duration(settings.SettleDelay) + time.Duration(settings.ReconcileDelay) + 2*time.Duration(settings.ReconcileInterval))
	tokenAt := start
	var lastPeak int64
	for now := start; !now.After(end); now = now.Add(interval) {
		// Generate an hour ahead of the clock, so rows exist before they become visible.
		for generated.Before(start.Add(day)) && generated.Before(now.Add(2*time.Hour)) {
			next := generated.Add(time.Hour)
			if err := sim.Backfill(generated, next, rate); err != nil {
				b.Fatal(err)
			}
			generated = next
		}
		clk.Set(now)
		if err := sim.SetClock(now); err != nil {
			b.Fatal(err)
		}
		if now.Sub(tokenAt) >= 50*time.Minute { // the helper expires tokens by its fake clock
			if err := m.RenewClients(); err != nil {
				b.Fatal(err)
			}
			tokenAt = now
		}
		if err := m.pollOnce(context.Background(), "fixture"); err != nil {
			b.Fatalf("poll at %s: %v", now, err)
		}
		if os.Getenv("ENTRA_DAY_TRACE") != "" {
			if p := peakRSS(b); p > lastPeak+4<<20 {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				fmt.Fprintf(os.Stderr, "%s peak RSS %d MiB: heap_inuse=%dMiB heap_sys=%dMiB heap_released=%dMiB stack=%dMiB next_gc=%dMiB gcs=%d", now.Format("15:04"), p>>20, ms.HeapInuse>>20, ms.HeapSys>>20, ms.HeapReleased>>20, ms.StackSys>>20, ms.NextGC>>20, ms.NumGC)
				fmt.Fprintln(os.Stderr)
				lastPeak = p
			}
		}
		if os.Getenv("ENTRA_DAY_TRACE") != "" && now.Minute() == 0 {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if now.Hour() == 20 && now.Minute() == 0 {
				runtime.GC()
				if f, err := os.Create(os.Getenv("ENTRA_DAY_TRACE")); err == nil {
					_ = pprof.WriteHeapProfile(f)
					f.Close()
				}
			}
			b.Logf("%s heap_inuse=%dMiB heap_sys=%dMiB sys=%dMiB rss_peak=%dMiB next_gc=%dMiB", now.Format("15:04"), ms.HeapInuse>>20, ms.HeapSys>>20, ms.Sys>>20, peakRSS(b)>>20, ms.NextGC>>20)
		}
	}
	b.StopTimer()
	wall := time.Since(wall0)
	cpu := cpuTime() - cpu0
	peak := peakRSS(b)
	if os.Getenv("ENTRA_DAY_TRACE") != "" {
		status, _ := os.ReadFile("/proc/self/status")
		for _, l := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(l, "Rss") || strings.HasPrefix(l, "VmHWM") {
				fmt.Fprintln(os.Stderr, l)
			}
		}
	}

	env := &testEnv{reg: reg, manager: m}
	counted := env.sum(b, "entra_signins_total")
	fetched := env.sum(b, "entra_ingest_rows_fetched_total")
	commits := testutil.ToFloat64(m.metrics.StateCommits.WithLabelValues("fixture", "success"))
	written := testutil.ToFloat64(m.metrics.StateWritten.WithLabelValues("fixture"))
	_, truthRows, err = sim.Truth()
	if err != nil {
		b.Fatal(err)
	}
	q := delays.quantile
	b.ReportMetric(counted, "rows/op")
	b.ReportMetric(float64(truthRows), "truth_rows/op")
	b.ReportMetric(fetched/counted, "fetches/row")
	b.ReportMetric(counted/wall.Seconds(), "rows/s")
	b.ReportMetric(cpu.Seconds()/(counted/1e6), "cpu_s/Mrows")
	b.ReportMetric(float64(peak)/(1<<20), "peak_rss_MiB")
	b.ReportMetric(written/1e6, "state_written_MB/day")
	b.ReportMetric(commits, "commits/day")
	b.ReportMetric(float64(r.users.size()), "users_tracked")
	b.ReportMetric(q(0.5), "p50_delay_s")
	b.ReportMetric(q(0.99), "p99_delay_s")
	if int(counted) != truthRows {
		b.Errorf("counted %v rows, ground truth %d", counted, truthRows)
	}
}

// cpuTime is the CPU time (user + system) this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS starts a new peak-RSS measurement (Linux: writing 5 to clear_refs resets VmHWM).
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset the peak RSS (%v): it includes the set-up", err)
	}
}

// peakRSS reads VmHWM, the peak resident set since start or the last reset.
func peakRSS(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb); err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
