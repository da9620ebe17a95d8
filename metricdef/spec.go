// Package metricdef is the one table of the metric families the exporter exposes: name, type,
// help and labels. The collectors build their vectors and descriptors from it, per-tenant series
// are deleted through it, and the README's metrics table is generated from it, so the three cannot
// drift apart. It imports nothing of the project, so every package can use it.
package metricdef

import (
	"fmt"
	"slices"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
)

// Kind is a metric family's type.
type Kind string

// Kinds of metric families.
const (
	Counter   Kind = "counter"
	Gauge     Kind = "gauge"
	Histogram Kind = "histogram"
)

// Spec describes one metric family.
type Spec struct {
	Name    string
	Kind    Kind
	Help    string
	Labels  []string  // variable labels, in order; "tenant" first for per-tenant families
	Buckets []float64 // histograms only
}

func spec(kind Kind, name, help string, labels ...string) *Spec {
	return &Spec{Name: name, Kind: kind, Help: help, Labels: labels}
}

// PerTenant reports whether the family's series carry a tenant label (and are deleted when the
// tenant leaves the configuration).
func (s *Spec) PerTenant() bool { return len(s.Labels) > 0 && s.Labels[0] == "tenant" }

// Desc is the family's descriptor, for collectors that build const metrics.
func (s *Spec) Desc() *prometheus.Desc { return prometheus.NewDesc(s.Name, s.Help, s.Labels, nil) }

func (s *Spec) must(k Kind) {
	if s.Kind != k {
		panic(fmt.Sprintf("metricdef: %s is a %s, not a %s", s.Name, s.Kind, k))
	}
}

// CounterVec builds the family as a counter vector.
func (s *Spec) CounterVec() *prometheus.CounterVec {
	s.must(Counter)
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: s.Name, Help: s.Help}, s.Labels)
}

// GaugeVec builds the family as a gauge vector.
func (s *Spec) GaugeVec() *prometheus.GaugeVec {
	s.must(Gauge)
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: s.Name, Help: s.Help}, s.Labels)
}

// HistogramVec builds the family as a histogram vector.
func (s *Spec) HistogramVec() *prometheus.HistogramVec {
	s.must(Histogram)
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: s.Name, Help: s.Help, Buckets: s.Buckets}, s.Labels)
}

// Gauge builds a family without labels as a single gauge.
func (s *Spec) Gauge() prometheus.Gauge {
	s.must(Gauge)
	if len(s.Labels) > 0 {
		panic("metricdef: " + s.Name + " has labels")
	}
	return prometheus.NewGauge(prometheus.GaugeOpts{Name: s.Name, Help: s.Help})
}

// sections lists the table's parts; each feature keeps its families in its own slice (specs.go).
func sections() [][]*Spec {
	return [][]*Spec{graphSpecs, ingestSpecs, stateSpecs, countSpecs, userSpecs, registrationSpecs, configSpecs,
		detectionSpecs, coverageSpecs}
}

// All returns every family, sorted by name.
func All() []*Spec {
	var out []*Spec
	for _, s := range sections() {
		out = append(out, s...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the family called name.
func Lookup(name string) (*Spec, bool) {
	i := slices.IndexFunc(All(), func(s *Spec) bool { return s.Name == name })
	if i < 0 {
		return nil, false
	}
	return All()[i], true
}
