package collector

import (
	"bytes"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// With the default event types (interactive only), the exporter asks Graph for interactive rows
// only, and a non-interactive row Graph returned anyway is not counted under event_type
// "interactive". The fixture holds 186 rows; rows with index i % 7 == 3 (27 of them: i = 3, 10,
// ..., 185) are non-interactive, so 159 interactive rows are counted, none non-interactive.
func TestDefaultEventTypesLeaveNonInteractiveOut(t *testing.T) {
	clk := &testClock{now: fixtureEpoch.Add(95 * time.Minute)}
	settings := fixtureSignIns()
	settings.EventTypes = nil
	cfg := config.Config{Tenants: []config.Tenant{{SignIns: settings}}}
	cfg.ApplyDefaults()
	settings = cfg.Tenants[0].SignIns
	if len(settings.EventTypes) != 1 || settings.EventTypes[0] != "interactive" {
		t.Fatalf("default event types %v, want [interactive]", settings.EventTypes)
	}
	settings.Lookback = config.Duration(2 * time.Hour)
	env := newTestEnv(t, simtenant.Options{PageSize: 50, RateLimit: -1}, settings, clk.Now, t.TempDir())
	if err := env.sim.LoadFixture(bytes.NewReader(loadFixture(t))); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := env.poll(t); err != nil {
			t.Fatal(err)
		}
		clk.Set(clk.Now().Add(30 * time.Minute))
	}
	m := env.manager.metrics
	var interactive, nonInteractive float64
	mfs, err := env.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "entra_signins_total" {
			continue
		}
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "event_type" && l.GetValue() == "interactive" {
					interactive += s.GetCounter().GetValue()
				} else if l.GetName() == "event_type" {
					nonInteractive += s.GetCounter().GetValue()
				}
			}
		}
	}
	if interactive != 159 || nonInteractive != 0 {
		t.Errorf("counted %v interactive and %v non-interactive rows, want 159 and 0", interactive, nonInteractive)
	}
	if got := testutil.ToFloat64(m.RowsFetched.WithLabelValues("fixture", sourceSignIns, passBacklog)) +
		testutil.ToFloat64(m.RowsFetched.WithLabelValues("fixture", sourceSignIns, passFresh)) +
		testutil.ToFloat64(m.RowsFetched.WithLabelValues("fixture", sourceSignIns, passReconcile)); got == 0 {
		t.Error("nothing fetched")
	}
}

// A reload that changes an existing tenant's settings in the middle of the fixture keeps its
// ingestion state: the counts at the end are exactly the fixture's, nothing counted twice.
// Timeline as TestFixtureExactWhateverGraphDoes; after the second poll the configuration
// changes the poll interval, the reconcile interval and the user windows.
func TestReloadMidFixtureCountsExactlyOnce(t *testing.T) {
	clk := &testClock{now: fixtureEpoch.Add(36 * time.Minute)}
	env := newTestEnv(t, simtenant.Options{PageSize: 25, RateLimit: -1}, fixtureSignIns(), clk.Now, t.TempDir())
	if err := env.sim.LoadFixture(bytes.NewReader(loadFixture(t))); err != nil {
		t.Fatal(err)
	}
	for i, at := range []time.Duration{36 * time.Minute, 37 * time.Minute, 61 * time.Minute, 90 * time.Minute, 95 * time.Minute} {
		clk.Set(fixtureEpoch.Add(at))
		if i == 2 {
			env.manager.mu.Lock()
			tc := env.manager.tenants["fixture"].cfg
			env.manager.mu.Unlock()
			tc.SignIns.PollInterval = config.Duration(2 * time.Minute)
			tc.SignIns.ReconcileInterval = config.Duration(4 * time.Minute)
			cfg := &config.Config{Tenants: []config.Tenant{tc}}
			env.manager.Apply(cfg)
			env.manager.mu.Lock()
			got := env.manager.tenants["fixture"].source.settings.ReconcileInterval
			env.manager.mu.Unlock()
			if got != tc.SignIns.ReconcileInterval {
				t.Fatalf("reload not applied: reconcile interval %v", got)
			}
		}
		if err := env.poll(t); err != nil {
			t.Fatalf("poll at epoch+%v: %v", at, err)
		}
	}
	compareWithFixture(t, env.reg, fixtureFamilies...)
	if got := testutil.ToFloat64(env.manager.metrics.LateRows.WithLabelValues("fixture", sourceSignIns)); got != 17 {
		t.Errorf("late_rows_total = %v, want 17", got)
	}
}
