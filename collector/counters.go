package collector

import (
	"maps"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/metricdef"
)

// A durable counter family is a counter whose values are part of the tenant's committed state:
// they are restored at start (so Prometheus sees no counter reset) and exposed only once
// committed (so a crash between counting and committing can never make a scraped counter go
// down after the restart: the uncommitted rows are simply counted again).
type durableFamily struct {
	id     string // short key prefix in the state file
	desc   *prometheus.Desc
	labels []string // without "tenant"
}

func newDurableFamily(id string, s *metricdef.Spec) *durableFamily {
	if !s.PerTenant() || s.Kind != metricdef.Counter {
		panic("collector: durable family " + s.Name + " must be a per-tenant counter")
	}
	return &durableFamily{id: id, desc: s.Desc(), labels: s.Labels[1:]}
}

// The ids are part of the state file format: never reuse one for another family.
var (
	familySignIns         = newDurableFamily("s", metricdef.SignIns)
	familySignInsByClient = newDurableFamily("c", metricdef.SignInsByClientApp)
	familyMFAAttempts     = newDurableFamily("a", metricdef.MFAAttempts)
	familyUnclassified    = newDurableFamily("u", metricdef.UnclassifiedStrings)
	durableFamilies       = []*durableFamily{familySignIns, familySignInsByClient, familyMFAAttempts, familyUnclassified}
	familiesByID          = func() map[string]*durableFamily {
		m := map[string]*durableFamily{}
		for _, f := range durableFamilies {
			m[f.id] = f
		}
		return m
	}()
)

// keySep cannot occur in label values taken from the bounded catalogues.
const keySep = "\x1f"

func counterKey(f *durableFamily, values ...string) string {
	return f.id + keySep + strings.Join(values, keySep)
}

// tenantCounts holds a tenant's durable counters: committed values (exposed) and pending
// increments (counted since the last commit, not exposed yet).
type tenantCounts struct {
	mu        sync.Mutex
	committed map[string]float64
	pending   map[string]float64
}

func newTenantCounts(restored map[string]float64) *tenantCounts {
	c := &tenantCounts{committed: map[string]float64{}, pending: map[string]float64{}}
	for k, v := range restored {
		if _, ok := familiesByID[strings.SplitN(k, keySep, 2)[0]]; ok {
			c.committed[k] = v
		}
	}
	return c
}

func (c *tenantCounts) inc(f *durableFamily, values ...string) {
	c.mu.Lock()
	c.pending[counterKey(f, values...)]++
	c.mu.Unlock()
}

// snapshot returns committed plus pending values: what the next commit writes.
func (c *tenantCounts) snapshot() map[string]float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := maps.Clone(c.committed)
	for k, v := range c.pending {
		out[k] += v
	}
	return out
}

// promote makes the values written by a successful commit visible. written is the snapshot that
// was committed; increments counted after the snapshot stay pending.
func (c *tenantCounts) promote(written map[string]float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range written {
		delta := v - c.committed[k]
		c.committed[k] = v
		if p := c.pending[k] - delta; p > 0 {
			c.pending[k] = p
		} else {
			delete(c.pending, k)
		}
	}
}

func (c *tenantCounts) collect(tenant string, ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.committed {
		parts := strings.Split(k, keySep)
		f := familiesByID[parts[0]]
		if f == nil || len(parts)-1 != len(f.labels) {
			continue
		}
		ch <- prometheus.MustNewConstMetric(f.desc, prometheus.CounterValue, v, append([]string{tenant}, parts[1:]...)...)
	}
}

// countersCollector exposes every tenant's committed durable counters.
type countersCollector struct{ m *Manager }

func (c *countersCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range durableFamilies {
		ch <- f.desc
	}
}

func (c *countersCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	counts := map[string]*tenantCounts{}
	for name, r := range c.m.tenants {
		counts[name] = r.counts
	}
	c.m.mu.Unlock()
	for name, tc := range counts {
		tc.collect(name, ch)
	}
}
