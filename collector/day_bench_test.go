package collector

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// BenchmarkCompressedDay runs one simulated day of sign-ins through the real pipeline with the
// default settings (poll 1m, settle 5m, reconcile delay 15m, reconcile interval 5m) and the
// simulated tenant's lateness model (median about 40 s, p95 2 min, p99 5 min, a tail of MFA rows
// 10-15 min late). Time is compressed: the simulated tenant and the collector share a fake clock
// advanced one poll interval at a time, and the request budget is not enforced, so the day takes
// seconds. It reports:
//
//	rows/op, truth_rows/op     rows counted, and the simulated tenant's ground truth
//	fetches/row                rows received from Graph per row counted (target <= 2)
//	requests/1000rows          Graph requests per 1,000 rows counted
//	p50_delay_s, p99_delay_s   createdDateTime -> counted, in simulated seconds
//	late_rows/op               rows only the reconcile pass found
//	peak_heap_MB               peak Go heap of the process (simulator included)
//	live_above_sim_MB          peak live heap (after GC) above the simulator's loaded day: what the
//	                           exporter keeps (ids, counters, users, clients)
//	state_KB, dedup_ids_max    state file size at the end, most ids remembered at once
//	outside/row                rows Graph returned outside the asked window, per row counted
//
// It runs once per Graph behaviour: rows newest first (Graph's documented default, and the
// baseline), ascending, shuffled within each query, and newest first with the filter's upper
// bound ignored. scripts/bench.sh runs it; ENTRA_DAY_FLOWS_PER_SECOND sets the traffic
// (default 0.3).
func BenchmarkCompressedDay(b *testing.B) {
	rate := 0.3
	if s := os.Getenv("ENTRA_DAY_FLOWS_PER_SECOND"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 {
			b.Fatalf("ENTRA_DAY_FLOWS_PER_SECOND=%q: want a positive number", s)
		}
		rate = v
	}
	for _, mode := range []struct {
		name string
		opts simtenant.Options
	}{
		{"order=newest_first", simtenant.Options{Order: simtenant.OrderNewestFirst}},
		{"order=ascending", simtenant.Options{Order: simtenant.OrderAscending}},
		{"order=shuffled", simtenant.Options{Order: simtenant.OrderShuffled}},
		{"order=newest_first,upper_bound=ignored", simtenant.Options{Order: simtenant.OrderNewestFirst, IgnoreUpperBound: true}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			for range b.N {
				runDay(b, rate, mode.opts)
			}
		})
	}
}

func runDay(b *testing.B, rate float64, simOpts simtenant.Options) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	clk := &testClock{now: start}
	cfg := config.Config{Tenants: []config.Tenant{{SignIns: config.SignIns{EventTypes: []string{"interactive", "non_interactive"}}}}}
	cfg.ApplyDefaults()
	settings := cfg.Tenants[0].SignIns
	settings.Lookback = config.Duration(30 * time.Minute) // covers the first flows' earlier rows, dated before the day starts
	storage := b.TempDir()
	simOpts.Seed, simOpts.Users, simOpts.RateLimit, simOpts.NoPadding = 42, 2000, -1, true
	env := newTestEnvWith(b, simOpts, settings, clk.Now, clk.Now, storage, func(o *graph.Options) {})
	env.manager.budgetPer = time.Nanosecond
	// The budget hook applies to pacers made after it; rebuild the tenant with it.
	env.manager.mu.Lock()
	r := env.manager.tenants["fixture"]
	env.manager.mu.Unlock()
	r.pacer = graph.NewPacer(1<<20, time.Nanosecond)
	client, err := env.manager.newClient(r.cfg, r.pacer)
	if err != nil {
		b.Fatal(err)
	}
	r.client = client
	env.manager.appPacer = graph.NewPacer(1<<20, time.Nanosecond)

	day := 24 * time.Hour
	env.sim.Backfill(start, start.Add(day), rate)
	truth := env.sim.Truth()
	truthRows := 0
	for _, c := range truth.Rows {
		truthRows += c
	}

	var mu sync.Mutex
	var delays delayHistogram
	r.source.onCount = func(row *graph.SignIn, _ string) {
		mu.Lock()
		delays.add(clk.Now().Sub(row.CreatedDateTime))
		mu.Unlock()
	}
	var peakHeap, peakLive uint64
	maxIDs := 0
	var ms runtime.MemStats
	// The simulated tenant lives in this process: its day of rows is the baseline, so the
	// growth above it is what the exporter side (and per-request garbage) adds.
	runtime.GC()
	runtime.ReadMemStats(&ms)
	baseline := ms.HeapInuse
	b.ResetTimer()
	interval := time.Duration(settings.PollInterval)
	// Run past the end of the day by the reconcile horizon, so every row can be counted.
	end := start.Add(day + time.Duration(settings.SettleDelay) + time.Duration(settings.ReconcileDelay) + 2*time.Duration(settings.ReconcileInterval))
	tokenAt := start
	for now := start; !now.After(end); now = now.Add(interval) {
		clk.Set(now)
		// The simulated tenant expires tokens after an hour of its (fake) time, while the
		// credential caches them by real time: take a new credential every 50 simulated minutes.
		if now.Sub(tokenAt) >= 50*time.Minute {
			if r.client, err = env.manager.newClient(r.cfg, r.pacer); err != nil {
				b.Fatal(err)
			}
			tokenAt = now
		}
		if err := env.manager.pollOnce(context.Background(), "fixture"); err != nil {
			b.Fatalf("poll at %s: %v", now, err)
		}
		if n := len(r.source.seen); n > maxIDs {
			maxIDs = n
		}
		if now.Minute()%30 == 0 {
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapInuse)
			runtime.GC() // live memory: what the process keeps between polls
			runtime.ReadMemStats(&ms)
			peakLive = max(peakLive, ms.HeapInuse)
		}
	}
	b.StopTimer()

	m := env.manager.metrics
	counted := env.sum(b, "entra_signins_total")
	fetched := env.sum(b, "entra_ingest_rows_fetched_total")
	outside := env.sum(b, "entra_ingest_rows_outside_window_total")
	requests := env.sum(b, "entra_graph_requests_total")
	q := delays.quantile
	st, _ := os.Stat(stateStore{dir: storage}.path("fixture"))
	var stateKB float64
	if st != nil {
		stateKB = float64(st.Size()) / 1024
	}
	b.ReportMetric(counted, "rows/op")
	b.ReportMetric(float64(truthRows), "truth_rows/op")
	b.ReportMetric(fetched/counted, "fetches/row")
	b.ReportMetric(requests/counted*1000, "requests/1000rows")
	b.ReportMetric(q(0.5), "p50_delay_s")
	b.ReportMetric(q(0.99), "p99_delay_s")
	b.ReportMetric(testutil.ToFloat64(m.LateRows.WithLabelValues("fixture", sourceSignIns)), "late_rows/op")
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak_heap_MB")
	b.ReportMetric(float64(peakLive-min(peakLive, baseline))/(1<<20), "live_above_sim_MB")
	b.ReportMetric(stateKB, "state_KB")
	b.ReportMetric(float64(maxIDs), "dedup_ids_max")
	b.ReportMetric(outside/counted, "outside/row")
	if int(counted) != truthRows {
		b.Errorf("counted %v rows, ground truth %d", counted, truthRows)
	}
}
