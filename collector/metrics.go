// Package collector turns sign-in rows read from Microsoft Graph into Prometheus metrics: it polls
// each tenant, waits for rows to settle, re-reads a trailing window for late rows, counts every row
// once (deduplicating by id), and exposes the counts with bounded label sets.
package collector

import (
	"github.com/prometheus/client_golang/prometheus"
)

const namespace = "entra"

// Metrics holds every metric the exporter exposes apart from build info and config-reload
// metrics. One Metrics is shared by all tenants; each series carries a `tenant` label.
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
	StateLastCommit  *prometheus.GaugeVec
	StateRestore     *prometheus.CounterVec
	ClockSteps       *prometheus.CounterVec
	CursorsClamped   *prometheus.CounterVec
	RangesSkipped    *prometheus.CounterVec
	SkippedSeconds   *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		GraphRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "graph", Name: "requests_total",
			Help: "HTTP requests sent to Microsoft Graph, by endpoint and status code (0 = no response: timeout or transport error).",
		}, []string{"tenant", "endpoint", "code"}),
		GraphDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "graph", Name: "request_duration_seconds",
			Help:    "Time to receive and read one Microsoft Graph response.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"tenant", "endpoint"}),
		GraphThrottled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "graph", Name: "throttled_total",
			Help: "HTTP 429 responses from Microsoft Graph.",
		}, []string{"tenant", "endpoint"}),
		GraphRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "graph", Name: "retries_total",
			Help: "Requests to Microsoft Graph retried, by reason (429, 5xx, timeout, transport, truncated).",
		}, []string{"tenant", "endpoint", "reason"}),
		MalformedRows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "graph", Name: "malformed_rows_total",
			Help: "Rows in Graph responses that could not be decoded and were skipped.",
		}, []string{"tenant", "endpoint"}),
		Polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "ingest", Name: "polls_total",
			Help: "Polls of a Graph source, successful or not.",
		}, []string{"tenant", "source"}),
		PollErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "ingest", Name: "poll_errors_total",
			Help: "Polls that failed, by reason (licence, permission, authentication, malformed_page, paging, redirect, throttled, graph_error, state_commit, other).",
		}, []string{"tenant", "source", "reason"}),
		LastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "ingest", Name: "last_success_timestamp_seconds",
			Help: "Unix time of the last poll that completed without error.",
		}, []string{"tenant", "source"}),
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "ingest", Name: "lag_seconds",
			Help: "Age of the newest sign-in time read by the fresh poll (now minus its cursor); at least the settle delay.",
		}, []string{"tenant", "source"}),
		RowsFetched: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "ingest", Name: "rows_fetched_total",
			Help: "Rows received from Graph, including rows re-read, deduplicated or outside the window, by pass (fresh: first read after the settle delay; reconcile: second read; backlog: single read of a range skipped after downtime or at first start).",
		}, []string{"tenant", "source", "pass"}),
		RowsDeduplicated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "ingest", Name: "rows_deduplicated_total",
			Help: "Rows received again (the reconcile read, pages fetched again after an error, rows Graph returned twice) and not counted a second time.",
		}, []string{"tenant", "source"}),
		RowsOutside: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "ingest", Name: "rows_outside_window_total",
			Help: "Rows Graph returned outside the time window they were asked for, by side (before, after); not counted by that read. A steady rate on side=\"after\" means Graph ignores the filter's upper bound and every read costs all rows up to now.",
		}, []string{"tenant", "source", "side"}),
		DedupIDs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "ingest", Name: "dedup_ids",
			Help: "Row ids remembered for deduplication (rows that the reconcile pass may still return).",
		}, []string{"tenant", "source"}),
		AccessProblem: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "graph", Name: "access_problem",
			Help: "1 while the last poll of a source failed for want of a licence, a permission or a working credential (reason label), else 0.",
		}, []string{"tenant", "source", "reason"}),
		SettleDelay: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "ingest", Name: "settle_delay_seconds",
			Help: "Configured settle delay: rows younger than this are not counted yet (alert rules compare the lag with it).",
		}, []string{"tenant", "source"}),
		PollInterval: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "ingest", Name: "poll_interval_seconds",
			Help: "Configured interval between two polls of a source.",
		}, []string{"tenant", "source"}),
		LateRows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "ingest", Name: "late_rows_total",
			Help: "Rows counted by the reconcile pass: they were not visible yet when the fresh poll read their time range.",
		}, []string{"tenant", "source"}),
		Lateness: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "ingest", Name: "late_row_age_seconds",
			Help:    "Age (now minus createdDateTime) of late rows when the reconcile pass counted them: an upper bound of how late they arrived.",
			Buckets: []float64{60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 21600, 86400},
		}, []string{"tenant", "source"}),
		Backlog: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "ingest", Name: "backlog_seconds",
			Help: "Sign-in time still to be read beyond the normal slack: the gaps left by downtime or a first start, plus how far the reconcile cursor is behind now minus the settle delay, reconcile delay and reconcile interval; 0 in steady state.",
		}, []string{"tenant", "source"}),
		StateCommits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "state", Name: "commits_total",
			Help: "Commits of the tenant's durable state (cursors, remembered ids, counters), by result (success, error).",
		}, []string{"tenant", "result"}),
		StateBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "state", Name: "size_bytes",
			Help: "Size of the tenant's state file at the last commit.",
		}, []string{"tenant"}),
		StateLastCommit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "state", Name: "last_commit_timestamp_seconds",
			Help: "Unix time of the last successful state commit.",
		}, []string{"tenant"}),
		StateRestore: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "state", Name: "restores_total",
			Help: "State loads at start or tenant (re)configuration, by result: restored, none (no file: start from the look-back), corrupt (moved aside, start from the look-back), error.",
		}, []string{"tenant", "result"}),
		ClockSteps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "ingest", Name: "clock_steps_total",
			Help: "Fresh reads held back because the wall clock had moved further than the monotonic clock since the last read (a forward clock step).",
		}, []string{"tenant"}),
		CursorsClamped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "ingest", Name: "cursors_clamped_total",
			Help: "Times the cursors were found in the future (a clock that was ahead, a restored state file) and ingestion restarted from the look-back.",
		}, []string{"tenant", "source"}),
		RangesSkipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "ingest", Name: "ranges_skipped_total",
			Help: "Time ranges skipped because Graph kept failing to return them (malformed page, next links that loop or never end), even narrowed to the smallest read.",
		}, []string{"tenant", "source"}),
		SkippedSeconds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "ingest", Name: "skipped_seconds_total",
			Help: "Seconds of sign-in time skipped with those ranges; rows in them that were not counted yet are lost.",
		}, []string{"tenant", "source"}),
	}
	reg.MustRegister(m.ClockSteps, m.CursorsClamped, m.RangesSkipped, m.SkippedSeconds, m.SettleDelay, m.PollInterval, m.LateRows, m.Lateness, m.Backlog, m.StateCommits,
		m.StateBytes, m.StateLastCommit, m.StateRestore, m.GraphRequests, m.GraphDuration,
		m.GraphThrottled, m.GraphRetries, m.MalformedRows, m.Polls, m.PollErrors, m.LastSuccess, m.Lag,
		m.RowsFetched, m.RowsDeduplicated, m.RowsOutside, m.DedupIDs, m.AccessProblem)
	return m
}

// accessReasons are the values of AccessProblem's reason label; all are set on every poll so the
// gauge goes back to 0 when the problem is fixed.
var accessReasons = []string{"licence", "permission", "authentication"}

// deleteTenant removes every series of a tenant that left the configuration.
func (m *Metrics) deleteTenant(tenant string) {
	l := prometheus.Labels{"tenant": tenant}
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{
		m.GraphRequests, m.GraphDuration, m.GraphThrottled,
		m.GraphRetries, m.MalformedRows, m.Polls, m.PollErrors, m.LastSuccess, m.Lag, m.RowsFetched,
		m.RowsDeduplicated, m.RowsOutside, m.DedupIDs, m.AccessProblem, m.SettleDelay, m.PollInterval,
		m.LateRows, m.Lateness, m.Backlog, m.StateCommits, m.StateBytes, m.StateLastCommit, m.StateRestore, m.ClockSteps,
		m.CursorsClamped, m.RangesSkipped, m.SkippedSeconds,
	} {
		v.DeletePartialMatch(l)
	}
}
