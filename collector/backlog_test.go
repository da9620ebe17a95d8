package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// simpleRows renders n minimal single-factor sign-in rows created at t, for LoadFixture.
func simpleRows(t *testing.T, prefix string, n int, created time.Time) []byte {
	t.Helper()
	var rows []map[string]any
	for i := range n {
		rows = append(rows, map[string]any{
			"id": fmt.Sprintf("%s-%d", prefix, i), "createdDateTime": created.Add(time.Duration(i) * time.Second).Format(time.RFC3339),
			"userId": fmt.Sprintf("user-%d", i), "isInteractive": true, "signInEventTypes": []string{"interactiveUser"},
			"status":                    map[string]any{"errorCode": 0, "failureReason": "Other."},
			"authenticationRequirement": "singleFactorAuthentication",
		})
	}
	data, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// newBacklogEnv starts a tenant whose first poll, at start, leaves three hours of backlog: a
// 3-hour look-back, settle 5 min, reconcile delay 15 min (the gap is [start-3h, start-20m]), and
// 20 rows every 15 minutes from 2h55m to 40 minutes before start (200 rows, all in the gap),
// read in pages of 20 with no request limit.
func newBacklogEnv(t *testing.T) (*testEnv, *testClock, time.Time) {
	t.Helper()
	start := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	clk := &testClock{now: start}
	env := newTestEnv(t, simtenant.Options{PageSize: 20, RateLimit: -1, NoPadding: true}, config.SignIns{
		SettleDelay: config.Duration(5 * time.Minute), ReconcileDelay: config.Duration(15 * time.Minute),
		ReconcileInterval: config.Duration(5 * time.Minute), Lookback: config.Duration(3 * time.Hour),
		EventTypes: []string{"interactive"},
	}, clk.Now, t.TempDir())
	for i := range 10 {
		at := start.Add(-3*time.Hour + 5*time.Minute + time.Duration(i)*15*time.Minute)
		if err := env.sim.LoadFixture(bytes.NewReader(simpleRows(t, fmt.Sprintf("old%d", i), 20, at))); err != nil {
			t.Fatal(err)
		}
	}
	return env, clk, start
}

// TestBacklogDoesNotStarveFreshRows starts with three hours of backlog and a reconcile read that
// may only read one page per poll (its time box is used up at once), and checks that every poll
// still counts the rows that settled since the previous one, while the backlog drains oldest
// first and entra_ingest_backlog_seconds goes down to zero.
func TestBacklogDoesNotStarveFreshRows(t *testing.T) {
	env, clk, start := newBacklogEnv(t)
	m := env.manager.metrics
	fetched := func(pass string) float64 {
		return testutil.ToFloat64(m.RowsFetched.WithLabelValues("fixture", sourceSignIns, pass))
	}
	backlog := func() float64 { return testutil.ToFloat64(m.Backlog.WithLabelValues("fixture", sourceSignIns)) }

	var lastBacklog float64 = -1
	for minute := 1; minute <= 15; minute++ {
		// Three rows that settle before this poll.
		now := start.Add(time.Duration(minute) * time.Minute)
		if err := env.sim.LoadFixture(bytes.NewReader(simpleRows(t, fmt.Sprintf("new%d", minute), 3, now.Add(-5*time.Minute-40*time.Second)))); err != nil {
			t.Fatal(err)
		}
		clk.Set(now)
		freshBefore, behindBefore := fetched(passFresh), fetched(passReconcile)+fetched(passBacklog)
		// A deadline already passed: the reconcile read stops after its first page.
		if err := env.manager.pollOnceUntil(context.Background(), "fixture", time.Now()); err != nil {
			t.Fatal(err)
		}
		if got := fetched(passFresh) - freshBefore; got != 3 {
			t.Errorf("minute %d: fresh read got %v rows, want the 3 that settled", minute, got)
		}
		if got := fetched(passReconcile) + fetched(passBacklog) - behindBefore; got > 20 {
			t.Errorf("minute %d: reconcile and backlog reads got %v rows, more than one page of 20", minute, got)
		}
		b := backlog()
		t.Logf("minute %d: backlog %v s, reconcile+backlog rows %v", minute, b, fetched(passReconcile)+fetched(passBacklog)-behindBefore)
		if lastBacklog >= 0 && b > lastBacklog+60 {
			t.Errorf("minute %d: backlog grew from %v s to %v s", minute, lastBacklog, b)
		}
		lastBacklog = b
	}
	if lastBacklog != 0 {
		t.Errorf("backlog not drained after 15 polls: %v s", lastBacklog)
	}
	// The 200 backlog rows and 45 fresh rows, each counted once.
	if got := env.sum(t, "entra_signins_total"); got != 245 {
		t.Errorf("counted %v rows, want 245", got)
	}
}

// TestBacklogSpanStaysUnderTheLengthTheTimeBoxCut: once the time box cut a slice, slices that
// finish quickly no longer double the span back to that length while the pass is behind (a cut
// slice is read again from its start, so swinging between the two lengths spends requests for
// nothing); once the pass has caught up, the ceiling is forgotten.
func TestBacklogSpanStaysUnderTheLengthTheTimeBoxCut(t *testing.T) {
	env, _, _ := newBacklogEnv(t)
	src := env.manager.tenants["fixture"].source
	// Poll 1, its time box already over: the first slice (the initial hour, 80 rows in 4 pages)
	// stops after its first page. The span halves, and the hour becomes the ceiling.
	if err := env.manager.pollOnceUntil(context.Background(), "fixture", time.Now()); err != nil {
		t.Fatal(err)
	}
	if src.backlogSpan != 30*time.Minute || src.ceiling[passBacklog] != time.Hour {
		t.Fatalf("after a cut hour: span %v, ceiling %v; want 30m0s, 1h0m0s", src.backlogSpan, src.ceiling[passBacklog])
	}
	// Poll 2, a minute's box: the 2h40m gap in 30-minute slices, each finished at once. Doubling
	// would reach the hour the box cut: the span stays at 30 minutes until the gap is read.
	if err := env.manager.pollOnceUntil(context.Background(), "fixture", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(env.manager.metrics.Backlog.WithLabelValues("fixture", sourceSignIns)); got != 0 {
		t.Fatalf("backlog after poll 2: %v s, want 0", got)
	}
	if src.backlogSpan != 30*time.Minute {
		t.Errorf("span after slices that finished at once under a 1h ceiling: %v, want 30m0s", src.backlogSpan)
	}
	if c, ok := src.ceiling[passBacklog]; ok {
		t.Errorf("the backlog pass caught up and still holds a ceiling of %v", c)
	}
	if got := env.sum(t, "entra_signins_total"); got != 200 {
		t.Errorf("counted %v rows, want 200", got)
	}
}
