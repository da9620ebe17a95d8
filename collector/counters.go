package collector

import (
	"encoding/binary"
	"math"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

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

// maxDurableLabels is the most labels (besides tenant) a durable family may have: a counter's
// identity is a fixed array of them, so counting a row builds no string and allocates nothing.
const maxDurableLabels = 6

func newDurableFamily(id string, s *metricdef.Spec) *durableFamily {
	if !s.PerTenant() || s.Kind != metricdef.Counter {
		panic("collector: durable family " + s.Name + " must be a per-tenant counter")
	}
	if len(s.Labels)-1 > maxDurableLabels {
		panic("collector: durable family " + s.Name + " has more labels than maxDurableLabels")
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

// counterKey is a counter's key in the state: family id and label values, keySep between them.
func counterKey(f *durableFamily, values ...string) string {
	return f.id + keySep + strings.Join(values, keySep)
}

// counterID identifies one series of a durable family without building its key.
type counterID struct {
	f *durableFamily
	v [maxDurableLabels]string
}

// counterCell is one series: its committed value (exposed), increments not committed yet, and
// the constant metric scrapes send (rebuilt only when the committed value moves).
type counterCell struct {
	id        counterID
	key       string // state key, built when the series first needs writing
	committed float64
	pending   float64
	dirty     bool // in tenantCounts.dirty
	metric    *durableMetric
}

// durableMetric exposes a series' committed value: a commit stores the new value, a scrape reads
// it; neither allocates nor waits for the other.
type durableMetric struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	bits   atomic.Uint64
}

func (m *durableMetric) Desc() *prometheus.Desc { return m.desc }

func (m *durableMetric) Write(out *dto.Metric) error {
	v := math.Float64frombits(m.bits.Load())
	out.Label = m.labels
	out.Counter = &dto.Counter{Value: &v}
	return nil
}

// tenantCounts holds a tenant's durable counters: committed values (exposed) and pending
// increments (counted since the last commit, not exposed yet). Scrapes read an immutable list of
// the committed series, replaced after each commit, and never wait for counting or committing.
type tenantCounts struct {
	tenant string
	mu     sync.Mutex
	cells  map[counterID]*counterCell
	dirty  []*counterCell // cells with pending increments
	// exposed is what a scrape sends: one constant metric per committed series.
	exposed atomic.Pointer[[]prometheus.Metric]
}

func newTenantCounts(tenant string, restored map[string]float64) *tenantCounts {
	c := &tenantCounts{tenant: tenant, cells: map[counterID]*counterCell{}}
	for k, v := range restored {
		id, ok := parseCounterKey(k)
		if !ok {
			continue
		}
		cell := &counterCell{id: id, key: k, committed: v}
		cell.metric = c.newMetric(cell)
		c.cells[id] = cell
	}
	c.publish()
	return c
}

func parseCounterKey(k string) (counterID, bool) {
	parts := strings.Split(k, keySep)
	f := familiesByID[parts[0]]
	if f == nil || len(parts)-1 != len(f.labels) {
		return counterID{}, false
	}
	id := counterID{f: f}
	copy(id.v[:], parts[1:])
	return id, true
}

// inc counts one row in the series of f with the given label values (in the family's order).
func (c *tenantCounts) inc(f *durableFamily, values ...string) {
	id := counterID{f: f}
	copy(id.v[:], values)
	c.incID(id)
}

// incID counts one row in the series id.
func (c *tenantCounts) incID(id counterID) {
	c.mu.Lock()
	cell := c.cells[id]
	if cell == nil {
		cell = &counterCell{id: id}
		c.cells[id] = cell
	}
	cell.pending++
	if !cell.dirty {
		cell.dirty = true
		c.dirty = append(c.dirty, cell)
	}
	c.mu.Unlock()
}

// counterWrite is one series as a commit writes it.
type counterWrite struct {
	cell  *counterCell
	value float64 // committed + pending at the time of writing
	taken float64 // the pending part of it
}

// partCounters is the counters' part of the state: key counterKey, value the float64 bits.
const partCounters = "counters"

// write puts into tx the series whose value changed (every series when full) and returns what
// was written, for promote once the commit is durable.
func (c *tenantCounts) write(tx *stateTx, full bool) []counterWrite {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []counterWrite
	add := func(cell *counterCell) {
		if cell.key == "" {
			cell.key = counterKey(cell.id.f, cell.id.v[:len(cell.id.f.labels)]...)
		}
		w := counterWrite{cell: cell, value: cell.committed + cell.pending, taken: cell.pending}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], math.Float64bits(w.value))
		tx.Put(partCounters, cell.key, v[:])
		out = append(out, w)
	}
	if full {
		for _, cell := range c.cells {
			if cell.committed+cell.pending != 0 {
				add(cell)
			}
		}
		return out
	}
	for _, cell := range c.dirty {
		add(cell)
	}
	return out
}

// promote makes the values written by a successful commit visible. Increments counted after the
// write stay pending.
func (c *tenantCounts) promote(written []counterWrite) {
	if len(written) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	added := false
	for _, w := range written {
		cell := w.cell
		cell.pending -= w.taken
		cell.committed = w.value
		if cell.metric == nil {
			cell.metric = c.newMetric(cell)
			added = true
		} else {
			cell.metric.bits.Store(math.Float64bits(w.value))
		}
	}
	kept := c.dirty[:0]
	for _, cell := range c.dirty {
		if cell.pending > 0 {
			kept = append(kept, cell)
		} else {
			cell.pending, cell.dirty = 0, false
		}
	}
	clear(c.dirty[len(kept):])
	c.dirty = kept
	if added {
		c.publish()
	}
}

func (c *tenantCounts) newMetric(cell *counterCell) *durableMetric {
	f := cell.id.f
	labels := make([]string, 0, len(f.labels)+1)
	labels = append(labels, c.tenant)
	labels = append(labels, cell.id.v[:len(f.labels)]...)
	m := &durableMetric{desc: f.desc, labels: prometheus.MakeLabelPairs(f.desc, labels)}
	m.bits.Store(math.Float64bits(cell.committed))
	return m
}

// publish replaces the list scrapes read when a series appears; called with mu held.
func (c *tenantCounts) publish() {
	list := make([]prometheus.Metric, 0, len(c.cells))
	for _, cell := range c.cells {
		if cell.metric != nil {
			list = append(list, cell.metric)
		}
	}
	c.exposed.Store(&list)
}

func (c *tenantCounts) collect(ch chan<- prometheus.Metric) {
	if list := c.exposed.Load(); list != nil {
		for _, m := range *list {
			ch <- m
		}
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
	counts := make([]*tenantCounts, 0, len(c.m.tenants))
	for _, r := range c.m.tenants {
		counts = append(counts, r.counts)
	}
	c.m.mu.Unlock()
	for _, tc := range counts {
		tc.collect(ch)
	}
}
