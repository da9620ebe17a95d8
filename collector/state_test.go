package collector

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// fixtureSignIns are the settings of the fixture timeline (see
// TestFixtureCountsExactlyOnceThroughFaults): reconcile horizon settle 5m + reconcile delay 45m.
func fixtureSignIns() config.SignIns {
	return config.SignIns{
		SettleDelay: config.Duration(5 * time.Minute), ReconcileDelay: config.Duration(45 * time.Minute),
		ReconcileInterval: config.Duration(5 * time.Minute), Lookback: config.Duration(40 * time.Minute),
		EventTypes:  []string{"interactive", "non_interactive"},
		UserWindows: []config.Duration{config.Duration(24 * time.Hour), config.Duration(7 * 24 * time.Hour)},
	}
}

// restartManager builds a second Manager on the same simulated tenant and storage, as a restarted
// process would.
func restartManager(t *testing.T, env *testEnv, storage string, now func() time.Time) (*Manager, *prometheus.Registry, *logBuffer) {
	t.Helper()
	reg := prometheus.NewRegistry()
	logs := &logBuffer{}
	m := NewManager(context.Background(), reg, Options{Now: now, StoragePath: storage,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	m.manual = true
	m.budgetPer = 500 * time.Millisecond
	env.manager.mu.Lock()
	cfg := &config.Config{Tenants: []config.Tenant{env.manager.tenants["fixture"].cfg}}
	env.manager.mu.Unlock()
	m.Apply(cfg)
	t.Cleanup(m.Stop)
	return m, reg, logs
}

// TestRestartRestoresCounters stops after part of the fixture, restarts on the same storage, and
// checks that the counters start where they were (no counter reset for Prometheus) and that the
// final counts are exact.
func TestRestartRestoresCounters(t *testing.T) {
	clk := &testClock{now: fixtureEpoch.Add(36 * time.Minute)}
	storage := t.TempDir()
	env := newTestEnv(t, simtenant.Options{PageSize: 25, RateLimit: -1}, fixtureSignIns(), clk.Now, storage)
	if err := env.sim.LoadFixture(bytes.NewReader(loadFixture(t))); err != nil {
		t.Fatal(err)
	}
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	before := env.sum(t, "entra_signins_total")
	if before == 0 {
		t.Fatal("nothing counted before the restart")
	}
	env.manager.Stop()

	m2, reg2, logs := restartManager(t, env, storage, clk.Now)
	env2 := &testEnv{sim: env.sim, manager: m2, reg: reg2}
	if got := env2.sum(t, "entra_signins_total"); got != before {
		t.Errorf("after restart, before any poll: entra_signins_total = %v, want the committed %v", got, before)
	}
	if got := testutil.ToFloat64(m2.metrics.StateRestore.WithLabelValues("fixture", "restored")); got != 1 {
		t.Errorf("restores_total{result=restored} = %v, want 1", got)
	}
	if !strings.Contains(logs.String(), "state restored") {
		t.Errorf("restore not logged:\n%s", logs.String())
	}
	for _, at := range []time.Duration{61 * time.Minute, 90 * time.Minute, 95 * time.Minute} {
		clk.Set(fixtureEpoch.Add(at))
		if err := m2.pollOnce(context.Background(), "fixture"); err != nil {
			t.Fatal(err)
		}
	}
	compareWithFixture(t, reg2, fixtureFamilies...)
}

// TestCorruptStateIsMovedAside checks that an unreadable state file is reported, kept aside for
// inspection, and that ingestion starts again from the look-back instead of crashing.
func TestCorruptStateIsMovedAside(t *testing.T) {
	clk := &testClock{now: fixtureEpoch.Add(36 * time.Minute)}
	storage := t.TempDir()
	path := filepath.Join(storage, "fixture.state.json")
	if err := os.WriteFile(path, []byte(`{"version":1,"tenant":"fixture","fresh":`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := newTestEnv(t, simtenant.Options{PageSize: 25, RateLimit: -1}, fixtureSignIns(), clk.Now, storage)
	if got := testutil.ToFloat64(env.manager.metrics.StateRestore.WithLabelValues("fixture", "corrupt")); got != 1 {
		t.Errorf("restores_total{result=corrupt} = %v, want 1", got)
	}
	logs := env.logs.String()
	if !strings.Contains(logs, "state file unusable") || !strings.Contains(logs, "fixture.state.json") {
		t.Errorf("corrupt state not reported clearly:\n%s", logs)
	}
	aside, _ := filepath.Glob(path + ".corrupt-*")
	if len(aside) != 1 {
		t.Fatalf("corrupt file not moved aside: %v", aside)
	}
	if err := env.sim.LoadFixture(bytes.NewReader(loadFixture(t))); err != nil {
		t.Fatal(err)
	}
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	if got := env.sum(t, "entra_signins_total"); got == 0 {
		t.Error("nothing counted after starting over from the look-back")
	}
	if _, err := os.Stat(filepath.Join(storage, "fixture.state")); err != nil {
		t.Errorf("no new state file written: %v", err)
	}
}

func TestStateFileOfAnotherVersionIsRejected(t *testing.T) {
	dir := t.TempDir()
	s := stateStore{dir: dir}
	if err := os.WriteFile(s.legacyPath("x"), []byte(`{"version":99,"tenant":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.load("x", "tid", time.Unix(1000, 0)); err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("want a version error, got %v", err)
	}
	if err := os.WriteFile(s.legacyPath("y"), []byte(`{"version":1,"tenant":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.load("y", "tid", time.Unix(1000, 0)); err == nil || !strings.Contains(err.Error(), `tenant "x"`) {
		t.Errorf("want a tenant mismatch error, got %v", err)
	}
}
