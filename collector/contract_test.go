package collector

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// contractSettings: settle 5m, reconcile delay 15m, reconcile interval 5m, poll 1m, look-back 1h.
func contractSettings() config.SignIns {
	return config.SignIns{
		PollInterval: config.Duration(time.Minute), SettleDelay: config.Duration(5 * time.Minute),
		ReconcileDelay: config.Duration(15 * time.Minute), ReconcileInterval: config.Duration(5 * time.Minute),
		Lookback: config.Duration(time.Hour), EventTypes: []string{"interactive"},
	}
}

// TestCursorsInTheFutureAreClamped: a state file committed while the exporter's clock was three
// hours ahead (or restored from such a machine) used to make every poll succeed without a Graph
// request until the clock caught up, and the rows of those hours were never read. Now the restarted
// exporter notices, counts it, logs it, reads again from just after the newest forgotten row, and
// counts every row exactly once.
//
// Timeline (Graph's clock is real; look-back 1h, settle 5m, reconcile delay 15m):
//
//	12:00  exporter clock right: start 11:00, gap [11:00, 11:40) read by the backlog pass: the 10
//	       rows "a" (11:30:00-11:30:09) counted
//	12:00  exporter clock at 15:00: cursors move to 14:55 (fresh) and 14:40 (reconcile); every id
//	       is forgotten, the newest forgotten row is a-9 (11:30:09)
//	12:01  restart with the clock right; 5 rows "b" (11:50:00-11:50:04) have appeared: the cursors
//	       (14:55) are more than a poll interval ahead of now-settle (11:56), so they restart at
//	       max(12:01-1h, 11:30:10) = 11:30:10; the fresh read jumps to 11:41 and reads
//	       [11:41, 11:56]: the "b" rows; the gap [11:30:10, 11:41) is read again later and holds
//	       no uncounted row
func TestCursorsInTheFutureAreClamped(t *testing.T) {
	graphClk := &testClock{now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	exporterClk := &testClock{now: graphClk.Now()}
	storage := t.TempDir()
	env := newTestEnvWith(t, simtenant.Options{RateLimit: -1, NoPadding: true}, contractSettings(), graphClk.Now, exporterClk.Now, storage, nil)
	load := func(prefix string, n int, at time.Time) {
		t.Helper()
		if err := env.sim.LoadFixture(bytes.NewReader(simpleRows(t, prefix, n, at))); err != nil {
			t.Fatal(err)
		}
	}
	load("a", 10, time.Date(2026, 6, 1, 11, 30, 0, 0, time.UTC))
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	if got := env.sum(t, "entra_signins_total"); got != 10 {
		t.Fatalf("first poll counted %v rows, want the 10 rows a", got)
	}
	exporterClk.Set(time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC))
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	env.manager.Stop()

	graphClk.Set(time.Date(2026, 6, 1, 12, 1, 0, 0, time.UTC))
	exporterClk.Set(graphClk.Now())
	load("b", 5, time.Date(2026, 6, 1, 11, 50, 0, 0, time.UTC))
	m, reg, logs := restartManager(t, env, storage, exporterClk.Now)
	requestsBefore := env.sim.Stats().Count(simtenant.RouteSignIns, 200)
	for range 3 {
		if err := m.pollOnce(context.Background(), "fixture"); err != nil {
			t.Fatal(err)
		}
		exporterClk.Set(exporterClk.Now().Add(time.Minute))
		graphClk.Set(exporterClk.Now())
	}
	if env.sim.Stats().Count(simtenant.RouteSignIns, 200) == requestsBefore {
		t.Error("no Graph request after the restart: the cursors in the future still stall ingestion")
	}
	if got := sumFamily(t, reg, "entra_signins_total"); got != 15 {
		t.Errorf("counted %v rows, want 15 (10 a + 5 b, each once)", got)
	}
	if got := testutil.ToFloat64(m.metrics.CursorsClamped.WithLabelValues("fixture", sourceSignIns)); got != 1 {
		t.Errorf("cursors_clamped_total = %v, want 1", got)
	}
	if !strings.Contains(logs.String(), "cursors lay in the future") {
		t.Errorf("the clamp was not logged:\n%s", logs.String())
	}
	if lag := testutil.ToFloat64(m.metrics.Lag.WithLabelValues("fixture", sourceSignIns)); lag < 0 {
		t.Errorf("lag_seconds = %v after the clamp, want >= 0", lag)
	}
}

// sumFamily adds up every series of a counter family in reg.
func sumFamily(t testing.TB, reg prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

// TestFixtureExactWhateverGraphDoes runs the fixture timeline (see
// TestFixtureCountsExactlyOnceThroughFaults, without the faults) against every Graph behaviour
// the documentation leaves open: rows newest first (the documented default), ascending, shuffled
// within each query, and the filter's upper bound ignored. The counts must equal the hand-derived
// expected.prom in every case, the 17 late rows must be found by the reconcile pass, and only an
// ignored bound may produce rows outside the window.
func TestFixtureExactWhateverGraphDoes(t *testing.T) {
	for _, mode := range []struct {
		name    string
		opts    simtenant.Options
		outside bool
	}{
		{"newest_first", simtenant.Options{Order: simtenant.OrderNewestFirst}, false},
		{"ascending", simtenant.Options{Order: simtenant.OrderAscending}, false},
		{"shuffled", simtenant.Options{Order: simtenant.OrderShuffled}, false},
		{"newest_first_upper_bound_ignored", simtenant.Options{Order: simtenant.OrderNewestFirst, IgnoreUpperBound: true}, true},
		{"shuffled_upper_bound_ignored", simtenant.Options{Order: simtenant.OrderShuffled, IgnoreUpperBound: true}, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			clk := &testClock{now: fixtureEpoch.Add(36 * time.Minute)}
			opts := mode.opts
			opts.PageSize, opts.RateLimit = 25, -1
			env := newTestEnv(t, opts, fixtureSignIns(), clk.Now, t.TempDir())
			if err := env.sim.LoadFixture(bytes.NewReader(loadFixture(t))); err != nil {
				t.Fatal(err)
			}
			for _, at := range []time.Duration{36 * time.Minute, 37 * time.Minute, 61 * time.Minute, 90 * time.Minute, 95 * time.Minute} {
				clk.Set(fixtureEpoch.Add(at))
				if err := env.poll(t); err != nil {
					t.Fatalf("poll at epoch+%v: %v", at, err)
				}
			}
			compareWithFixture(t, env.reg, fixtureFamilies...)
			m := env.manager.metrics
			if got := testutil.ToFloat64(m.LateRows.WithLabelValues("fixture", sourceSignIns)); got != 17 {
				t.Errorf("late_rows_total = %v, want 17", got)
			}
			after := testutil.ToFloat64(m.RowsOutside.WithLabelValues("fixture", sourceSignIns, "after"))
			before := testutil.ToFloat64(m.RowsOutside.WithLabelValues("fixture", sourceSignIns, "before"))
			if mode.outside && after == 0 {
				t.Error("Graph ignored the upper bound, yet rows_outside_window_total{side=after} = 0")
			}
			if !mode.outside && after+before != 0 {
				t.Errorf("rows outside the window: after %v, before %v; want none from a Graph that honours the filter", after, before)
			}
			if before != 0 {
				t.Errorf("rows_outside_window_total{side=before} = %v: the lower bound is honoured in every mode", before)
			}
			fetched := env.sum(t, "entra_ingest_rows_fetched_total")
			t.Logf("%s: %.2f fetches per row counted (%v fetched, %v outside the window)", mode.name, fetched/186, fetched, after)
		})
	}
}

// TestPoisonRangeIsNarrowedThenSkipped: Graph breaks every page that holds one particular row
// (p-50, created 11:10:50). The backlog read narrows its window by halving until it is one second
// long, then skips it after three more failures, so the rest of the log is counted and ingestion
// does not stall for ever. With inclusive bounds, the one-second windows [11:10:49, 11:10:50] and
// [11:10:50, 11:10:51] both hold p-50: two ranges are skipped; p-49 was counted by the window
// ending at 11:10:49 and p-51 by the one starting at 11:10:51, so only p-50 is lost.
func TestPoisonRangeIsNarrowedThenSkipped(t *testing.T) {
	start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	clk := &testClock{now: start}
	env := newTestEnv(t, simtenant.Options{RateLimit: -1, NoPadding: true}, contractSettings(), clk.Now, t.TempDir())
	if err := env.sim.LoadFixture(bytes.NewReader(simpleRows(t, "p", 100, time.Date(2026, 6, 1, 11, 10, 0, 0, time.UTC)))); err != nil {
		t.Fatal(err)
	}
	env.sim.SetPoisonRange(time.Date(2026, 6, 1, 11, 10, 50, 0, time.UTC), time.Date(2026, 6, 1, 11, 10, 51, 0, time.UTC))
	m := env.manager.metrics
	polls, failures := 0, 0
	for ; polls < 300; polls++ {
		if err := env.poll(t); err != nil {
			failures++
		}
		env.manager.mu.Lock()
		gaps := len(env.manager.tenants["fixture"].source.cur.Gaps)
		env.manager.mu.Unlock()
		if gaps == 0 {
			break
		}
	}
	if polls == 300 {
		t.Fatal("the backlog never drained: the poison range blocks it")
	}
	t.Logf("backlog drained after %d polls, %d of them failed", polls+1, failures)
	if got := env.sum(t, "entra_signins_total"); got != 99 {
		t.Errorf("counted %v rows, want 99 (all but p-50)", got)
	}
	if got := testutil.ToFloat64(m.RangesSkipped.WithLabelValues("fixture", sourceSignIns)); got != 2 {
		t.Errorf("ranges_skipped_total = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.PollErrors.WithLabelValues("fixture", sourceSignIns, "malformed_page")); got != float64(failures) || failures == 0 {
		t.Errorf("poll_errors_total{reason=malformed_page} = %v, failed polls %d", got, failures)
	}
	if n := strings.Count(env.logs.String(), "skipping a sign-in time range"); n != 2 {
		t.Errorf("%d skip log lines, want one per skipped range (2):\n%s", n, env.logs.String())
	}
	// Once skipped, the range is not read again: the next polls succeed.
	for range 3 {
		clk.Set(clk.Now().Add(time.Minute))
		if err := env.poll(t); err != nil {
			t.Errorf("poll after the skip: %v", err)
		}
	}
}
