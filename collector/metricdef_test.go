package collector

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/metricdef"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// Every family the collector exposes must be exactly what the metric table says (name, type,
// help, labels): a metric defined anywhere else would be missing from the README and from
// per-tenant deletion. The fixture and a registration refresh make every family show series.
func TestExposedFamiliesComeFromTheTable(t *testing.T) {
	clk := &testClock{now: fixtureEpoch.Add(36 * time.Minute)}
	env := newTestEnv(t, simtenant.Options{PageSize: 25, RateLimit: -1}, fixtureSignIns(), clk.Now, t.TempDir())
	if err := env.sim.LoadFixture(bytes.NewReader(loadFixture(t))); err != nil {
		t.Fatal(err)
	}
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	reg := newRegEnv(t, simtenant.Options{RateLimit: -1})
	loadRegistrationTenant(t, reg.sim, nil)
	if err := reg.poll(t); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, g := range []prometheus.Gatherer{env.reg, reg.reg} {
		mfs, err := g.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			seen++
			s, ok := metricdef.Lookup(mf.GetName())
			if !ok {
				t.Errorf("%s is exposed but not in the metric table", mf.GetName())
				continue
			}
			var labels []string
			for _, l := range mf.GetMetric()[0].GetLabel() {
				labels = append(labels, l.GetName())
			}
			// The exposition sorts labels by name; the table keeps their declared order.
			want := slices.Sorted(slices.Values(s.Labels))
			if string(s.Kind) != strings.ToLower(mf.GetType().String()) || s.Help != mf.GetHelp() || !slices.Equal(want, labels) {
				t.Errorf("%s: exposed as %s %q %v, the table says %s %q %v", mf.GetName(), mf.GetType(), mf.GetHelp(), labels, s.Kind, s.Help, s.Labels)
			}
		}
	}
	if seen < 30 {
		t.Errorf("only %d families exposed: the fixture did not exercise the collectors", seen)
	}
}

// Removing a tenant deletes its series from every vector the table built.
func TestDeleteTenantCoversEveryVector(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	if got, want := len(m.vectors()), len(metricdef.All()); got == 0 || got > want {
		t.Fatalf("%d vectors for %d families", got, want)
	}
	for _, v := range m.vectors() {
		touch(t, v, "gone")
		touch(t, v, "stays")
	}
	m.deleteTenant("gone")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "tenant" && l.GetValue() == "gone" {
					t.Errorf("%s still has a series of the removed tenant", mf.GetName())
				}
			}
		}
	}
	if len(mfs) != len(m.vectors()) {
		t.Errorf("%d families left, want %d (the other tenant's)", len(mfs), len(m.vectors()))
	}
}

// touch creates one series of v for tenant, every other label "x".
func touch(t *testing.T, v vector, tenant string) {
	t.Helper()
	ch := make(chan *prometheus.Desc, 1)
	v.Describe(ch)
	d := (<-ch).String()
	s, ok := metricdef.Lookup(d[strings.Index(d, `fqName: "`)+9 : strings.Index(d, `", help`)])
	if !ok {
		t.Fatalf("no spec for %s", d)
	}
	labels := make([]string, len(s.Labels))
	for i := range labels {
		labels[i] = "x"
	}
	labels[0] = tenant
	switch vv := v.(type) {
	case *prometheus.CounterVec:
		vv.WithLabelValues(labels...).Inc()
	case *prometheus.GaugeVec:
		vv.WithLabelValues(labels...).Set(1)
	case *prometheus.HistogramVec:
		vv.WithLabelValues(labels...).Observe(1)
	}
}
