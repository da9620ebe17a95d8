package collector

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// OnChange's function runs before each change is published, with the number Changes reaches
// when it returns: a sign-in poll that ended, a registration poll that ended. An applied
// configuration (made under the Manager's lock, which renderings take) is published first and
// prepared in the background.
func TestOnChangeRunsBeforePublication(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := NewManager(ctx, prometheus.NewRegistry(), Options{})
	before := m.Changes()
	m.Apply(&config.Config{}) // no function registered yet: counted all the same
	if m.Changes() != before+1 {
		t.Fatalf("Changes %d after Apply, want %d", m.Changes(), before+1)
	}
	type call struct{ v, changes uint64 }
	calls := make(chan call, 10)
	m.OnChange(func(v uint64) { calls <- call{v, m.Changes()} })
	src := &signInSource{changes: &m.changes}
	src.changed()
	(&signInSource{}).changed() // a source outside a Manager counts nothing
	m.changes.add()             // as registrationSource.poll does when it ends
	want := []call{{before + 2, before + 1}, {before + 3, before + 2}}
	for i, w := range want {
		if got := <-calls; got != w {
			t.Errorf("call %d: OnChange got %d while Changes was %d, want %d while %d (before publication)", i, got.v, got.changes, w.v, w.changes)
		}
	}
	if m.Changes() != before+3 {
		t.Errorf("Changes %d after two changes, want %d", m.Changes(), before+3)
	}
	m.Apply(&config.Config{})
	if m.Changes() != before+4 {
		t.Errorf("Changes %d when Apply returned, want %d (published at once)", m.Changes(), before+4)
	}
	// Published before prepared: a rendering made under Apply's lock would wait for it.
	if got := <-calls; got != (call{before + 4, before + 4}) {
		t.Errorf("after Apply, OnChange got %d while Changes was %d, want %d while %d (after publication)", got.v, got.changes, before+4, before+4)
	}
	if len(calls) != 0 {
		t.Errorf("%d more OnChange calls, want none", len(calls))
	}
}

// Changes ending together are published in any order: Changes never goes down.
func TestChangesPublishNeverGoesDown(t *testing.T) {
	var c changeCount
	c.latest.Store(5)
	c.publish(5)
	c.publish(4) // an earlier change whose preparation ended last
	if got := c.published.Load(); got != 5 {
		t.Errorf("published %d, want 5", got)
	}
}

// At a poll's end, what OnChange's function renders already holds the poll (its rows counted,
// its success recorded), while readiness and Changes do not show it yet: a cache that renders
// there and a scraper that waits for /-/ready before scraping never see the counts behind.
func TestPollIsRenderedBeforeItIsPublished(t *testing.T) {
	clk := &testClock{now: fixtureEpoch}
	env := newTestEnv(t, simtenant.Options{Seed: 3, Users: 20, RateLimit: -1, NoPadding: true, LatenessScale: -1},
		fixtureSignIns(), clk.Now, t.TempDir())
	env.sim.Backfill(fixtureEpoch.Add(-20*time.Minute), fixtureEpoch.Add(-10*time.Minute), 1)
	rows := 0
	for _, n := range env.sim.Truth().Rows {
		rows += n
	}
	if rows == 0 {
		t.Fatal("the simulated tenant generated no rows")
	}
	type seen struct {
		ready       bool
		changes, v  uint64
		rows        float64
		lastSuccess map[string]float64
	}
	var at []seen
	env.manager.OnChange(func(v uint64) {
		at = append(at, seen{env.manager.Ready(), env.manager.Changes(), v,
			env.sum(t, "entra_signins_total"), series(t, env.reg, "entra_ingest_last_success_timestamp_seconds")})
	})
	before := env.manager.Changes()
	if env.manager.Ready() {
		t.Fatal("ready before the first poll")
	}
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	if len(at) != 1 {
		t.Fatalf("OnChange ran %d times in a poll, want 1", len(at))
	}
	got := at[0]
	if got.ready || got.changes != before || got.v != before+1 {
		t.Errorf("during OnChange: ready %v, Changes %d, announced %d; want false, %d, %d (nothing published yet)",
			got.ready, got.changes, got.v, before, before+1)
	}
	if got.rows != float64(rows) {
		t.Errorf("during OnChange the registry counted %v rows, want the poll's %d", got.rows, rows)
	}
	if ts := got.lastSuccess["source=signIns,tenant=fixture"]; ts != float64(fixtureEpoch.Unix()) {
		t.Errorf("during OnChange the last sign-in success is %v (series %v), want the poll's time %d", ts, got.lastSuccess, fixtureEpoch.Unix())
	}
	if !env.manager.Ready() || env.manager.Changes() != before+1 {
		t.Errorf("after the poll: ready %v, Changes %d; want true, %d", env.manager.Ready(), env.manager.Changes(), before+1)
	}
}
