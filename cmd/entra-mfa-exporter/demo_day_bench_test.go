package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/collector"
)

// BenchmarkDemoDay is the proof that --demo at its default rate stays bounded: 24 hours of the
// demo in compressed time, in one process as --demo runs (the simulated tenant with the demo's
// retention and row cap, the demo's configuration, a state directory, the same registry and
// collectors as the server, and /metrics rendered every minute). The fake clock moves one poll
// interval at a time; the simulated tenant gets the flows the demo's real-time generator would
// have made in that interval. It reports the peak RSS of the process (VmHWM) and fails above
// 100 MiB; also the most rows the simulated tenant held, the most ids the exporter remembered,
// and the rows counted against the tenant's ground truth. ENTRA_DEMO_HOURS shortens the day.
func BenchmarkDemoDay(b *testing.B) {
	hours := 24
	if s := os.Getenv("ENTRA_DEMO_HOURS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("ENTRA_DEMO_HOURS=%q: want a positive integer", s)
		}
		hours = v
	}
	c, err := parseArgs([]string{"--demo"}, io.Discard, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	rate := c.server.demoRate // the default rate of --demo
	for range b.N {
		runDemoDay(b, rate, time.Duration(hours)*time.Hour)
	}
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func runDemoDay(b *testing.B, rate float64, length time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	clk := &fakeClock{now: start}
	logger := slog.New(slog.DiscardHandler)
	cfg, sim, stop, err := startDemoClock(ctx, logger, rate, clk.Now)
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := collector.NewManualManager(ctx, reg, collector.Options{Logger: logger, Now: clk.Now, StoragePath: b.TempDir()})
	m.Apply(cfg)
	defer m.Stop()
	tenant := cfg.Tenants[0].Name
	interval := time.Duration(cfg.Tenants[0].SignIns.PollInterval)

	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset the peak RSS: %v", err)
	}
	maxRows, maxIDs := 0, 0.0
	b.ResetTimer()
	tokenAt := start
	var lastPeak int64
	for now := start.Add(interval); !now.After(start.Add(length)); now = now.Add(interval) {
		sim.Backfill(clk.Now(), now, rate) // what Run would have generated meanwhile
		clk.set(now)
		if now.Sub(tokenAt) >= 50*time.Minute { // tokens expire by the fake clock
			if err := m.RenewClients(); err != nil {
				b.Fatal(err)
			}
			tokenAt = now
		}
		if err := m.PollOnce(ctx, tenant); err != nil {
			b.Fatalf("poll at %s: %v", now, err)
		}
		if os.Getenv("ENTRA_DEMO_TRACE") != "" {
			if p := vmHWM(b); p > lastPeak+2<<20 {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				fmt.Fprintf(os.Stderr, "%s peak RSS %d MiB heap_inuse=%d heap_sys=%d released=%d next_gc=%d gcs=%d\n", now.Sub(start), p>>20, ms.HeapInuse>>20, ms.HeapSys>>20, ms.HeapReleased>>20, ms.NextGC>>20, ms.NumGC)
				lastPeak = p
			}
		}
		if now.Second() == 0 {
			mfs, err := reg.Gather() // a Prometheus scraping every minute
			if err != nil {
				b.Fatal(err)
			}
			for _, mf := range mfs {
				if mf.GetName() == "entra_ingest_dedup_ids" {
					maxIDs = max(maxIDs, mf.GetMetric()[0].GetGauge().GetValue())
				}
			}
			maxRows = max(maxRows, sim.Stats().RowsStored)
		}
	}
	b.StopTimer()
	peak := vmHWM(b)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(peak)/(1<<20), "peak_rss_MiB")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap_inuse_end_MiB")
	b.ReportMetric(float64(maxRows), "sim_rows_max")
	b.ReportMetric(maxIDs, "dedup_ids_max")
	b.ReportMetric(float64(sim.Truth().Flows), "flows")
	b.ReportMetric(length.Hours(), "hours")
	if peak >= 100<<20 && os.Getenv("ENTRA_DEMO_NOFAIL") == "" {
		b.Errorf("peak RSS %d MiB over %s of --demo, want under 100 MiB", peak>>20, length)
	}
}

func vmHWM(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM")
	return 0
}
