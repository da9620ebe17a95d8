package collector

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// simulatedRows reads an hour of the simulated tenant's generated traffic (200,000 users, every
// kind of flow its generator writes) through the real Graph client: the row mix ingestion sees.
func simulatedRows(b *testing.B, flowsPerSecond float64) (*testEnv, *signInSource, []graph.SignIn, window) {
	b.Helper()
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	clk := &testClock{now: start.Add(2 * time.Hour)}
	cfg := config.Config{Tenants: []config.Tenant{{SignIns: config.SignIns{EventTypes: []string{"interactive", "non_interactive"}}}}}
	cfg.ApplyDefaults()
	env := newTestEnvWith(b, simtenant.Options{Seed: 7, Users: 200_000, RateLimit: -1, LatenessScale: -1, NoPadding: true},
		cfg.Tenants[0].SignIns, clk.Now, clk.Now, "", nil)
	env.sim.Backfill(start, start.Add(time.Hour), flowsPerSecond)
	env.manager.mu.Lock()
	r := env.manager.tenants["fixture"]
	env.manager.mu.Unlock()
	w := window{From: start.Add(-time.Hour), To: start.Add(2 * time.Hour)}
	var rows []graph.SignIn
	err := r.client.SignIns(context.Background(), graph.SignInQuery{From: w.From, To: w.To, EventTypes: []string{"interactiveUser", "nonInteractiveUser"}},
		func(page []graph.SignIn) error {
			rows = append(rows, page...)
			return nil
		})
	if err != nil {
		b.Fatal(err)
	}
	if len(rows) < 1000 {
		b.Fatalf("only %d rows", len(rows))
	}
	return env, r.source, rows, w
}

// BenchmarkIngest measures classification and counting per row (signInSource.ingest: dedup
// bookkeeping, classification, the durable counters, the distinct-user tracker), on the simulated
// tenant's row mix, with a commit (persistence off: the bookkeeping only) every 1,000 rows as a
// read's pages would. Decoding is BenchmarkDecodePage's; the commit's disk work is
// BenchmarkCommit's. Target: <= 2 µs and <= 2 allocations per row.
func BenchmarkIngest(b *testing.B) {
	_, s, rows, w := simulatedRows(b, 3)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if i == len(rows) {
			// Every row again, as new rows: forget the ids (outside the timing).
			b.StopTimer()
			clear(s.seen)
			i = 0
			b.StartTimer()
		}
		s.ingest(&rows[i], w, passFresh)
		i++
		if i%1000 == 0 {
			if err := s.commit(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(rows)), "distinct_rows")
}

// BenchmarkCommit measures one incremental commit at the 1,000,000-rows-a-day, 200,000-user
// target: a state of 200,000 tracked users and about 25,000 remembered ids, and a commit that
// carries one page's changes (1,000 rows: their ids, the users they touched, the counters they
// moved, the ids forgotten). It reports the bytes written and the process CPU time (user and
// system) per commit; ns/op is the wall time, fdatasync's wait included.
func BenchmarkCommit(b *testing.B) {
	_, s, rows, w := simulatedRows(b, 3)
	s.store = stateStore{dir: b.TempDir()}
	s.journal = nil
	// The standing state: 200,000 users and 25,000 ids.
	t0 := w.From
	for i := range 200_000 {
		s.users.observe(fmt.Sprintf("user-%d", i), t0.Add(time.Duration(i)*time.Millisecond), true, i%10 == 0)
	}
	for i := range 25_000 {
		s.seen[fmt.Sprintf("00000000-0000-4000-8000-%012d", i)] = t0.UnixNano()
	}
	if err := s.commit(); err != nil { // the first commit writes everything
		b.Fatal(err)
	}
	full := s.journal.file.size
	var written int64
	var cpu time.Duration
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		for range 1000 {
			if n == len(rows) {
				clear(s.seen)
				n = 0
			}
			s.ingest(&rows[n], w, passFresh)
			n++
		}
		before := s.journal.file
		var size0 int64
		if before != nil {
			size0 = before.size
		}
		b.StartTimer()
		cpu0 := cpuTime()
		if err := s.commit(); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - cpu0
		if s.journal.file == before {
			written += s.journal.file.size - size0
		} else {
			written += s.journal.file.size
		}
	}
	b.ReportMetric(float64(written)/float64(b.N), "bytes/commit")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu_us/commit")
	b.ReportMetric(float64(full), "full_state_bytes")
}
