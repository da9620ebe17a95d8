// Package collector turns sign-in rows read from Microsoft Graph into Prometheus metrics: it polls
// each tenant, waits for rows to settle, re-reads a trailing window for late rows, counts every row
// once (deduplicating by id), and exposes the counts with bounded label sets.
package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/metricdef"
)

// Metrics holds the metric vectors of ingestion, the Graph client and the durable state, built
// from the metric table (metricdef), which defines every family the exporter exposes. One Metrics
// is shared by all tenants; each series carries a `tenant` label.
type Metrics struct {
	GraphRequests    *prometheus.CounterVec
	GraphDuration    *prometheus.HistogramVec
	GraphThrottled   *prometheus.CounterVec
	GraphRetries     *prometheus.CounterVec
	MalformedRows    *prometheus.CounterVec
	Polls            *prometheus.CounterVec
	PollErrors       *prometheus.CounterVec
	LastSuccess      *prometheus.GaugeVec
	Lag              *prometheus.GaugeVec
	RowsFetched      *prometheus.CounterVec
	RowsDeduplicated *prometheus.CounterVec
	RowsOutside      *prometheus.CounterVec
	DedupIDs         *prometheus.GaugeVec
	AccessProblem    *prometheus.GaugeVec
	SettleDelay      *prometheus.GaugeVec
	PollInterval     *prometheus.GaugeVec
	LateRows         *prometheus.CounterVec
	Lateness         *prometheus.HistogramVec
	Backlog          *prometheus.GaugeVec
	StateCommits     *prometheus.CounterVec
	StateBytes       *prometheus.GaugeVec
	StateWritten     *prometheus.CounterVec
	StateLastCommit  *prometheus.GaugeVec
	StateRestore     *prometheus.CounterVec
	ClockSteps       *prometheus.CounterVec
	CursorsClamped   *prometheus.CounterVec
	RangesSkipped    *prometheus.CounterVec
	SkippedSeconds   *prometheus.CounterVec
}

// NewMetrics creates the metrics from the metric table (metricdef) and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		GraphRequests:    metricdef.GraphRequests.CounterVec(),
		GraphDuration:    metricdef.GraphDuration.HistogramVec(),
		GraphThrottled:   metricdef.GraphThrottled.CounterVec(),
		GraphRetries:     metricdef.GraphRetries.CounterVec(),
		MalformedRows:    metricdef.MalformedRows.CounterVec(),
		Polls:            metricdef.Polls.CounterVec(),
		PollErrors:       metricdef.PollErrors.CounterVec(),
		LastSuccess:      metricdef.LastSuccess.GaugeVec(),
		Lag:              metricdef.Lag.GaugeVec(),
		RowsFetched:      metricdef.RowsFetched.CounterVec(),
		RowsDeduplicated: metricdef.RowsDeduplicated.CounterVec(),
		RowsOutside:      metricdef.RowsOutside.CounterVec(),
		DedupIDs:         metricdef.DedupIDs.GaugeVec(),
		AccessProblem:    metricdef.AccessProblem.GaugeVec(),
		SettleDelay:      metricdef.SettleDelay.GaugeVec(),
		PollInterval:     metricdef.PollInterval.GaugeVec(),
		LateRows:         metricdef.LateRows.CounterVec(),
		Lateness:         metricdef.Lateness.HistogramVec(),
		Backlog:          metricdef.Backlog.GaugeVec(),
		StateCommits:     metricdef.StateCommits.CounterVec(),
		StateBytes:       metricdef.StateBytes.GaugeVec(),
		StateWritten:     metricdef.StateWritten.CounterVec(),
		StateLastCommit:  metricdef.StateLastCommit.GaugeVec(),
		StateRestore:     metricdef.StateRestore.CounterVec(),
		ClockSteps:       metricdef.ClockSteps.CounterVec(),
		CursorsClamped:   metricdef.CursorsClamped.CounterVec(),
		RangesSkipped:    metricdef.RangesSkipped.CounterVec(),
		SkippedSeconds:   metricdef.SkippedSeconds.CounterVec(),
	}
	for _, v := range m.vectors() {
		reg.MustRegister(v)
	}
	return m
}

// vector is what every metric vector can do that Metrics needs.
type vector interface {
	prometheus.Collector
	DeletePartialMatch(prometheus.Labels) int
}

func (m *Metrics) vectors() []vector {
	return []vector{
		m.GraphRequests, m.GraphDuration, m.GraphThrottled, m.GraphRetries, m.MalformedRows, m.Polls, m.PollErrors, m.LastSuccess, m.Lag, m.RowsFetched, m.RowsDeduplicated, m.RowsOutside, m.DedupIDs, m.AccessProblem, m.SettleDelay, m.PollInterval, m.LateRows, m.Lateness, m.Backlog, m.StateCommits, m.StateBytes, m.StateWritten, m.StateLastCommit, m.StateRestore, m.ClockSteps, m.CursorsClamped, m.RangesSkipped, m.SkippedSeconds,
	}
}

// accessReasons are the values of AccessProblem's reason label; all are set on every poll so the
// gauge goes back to 0 when the problem is fixed.
var accessReasons = []string{"licence", "permission", "authentication"}

// deleteTenant removes every series of a tenant that left the configuration.
func (m *Metrics) deleteTenant(tenant string) {
	l := prometheus.Labels{"tenant": tenant}
	for _, v := range m.vectors() {
		v.DeletePartialMatch(l)
	}
}
