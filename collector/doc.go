package collector

import (
	"regexp"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// MetricDoc describes one metric family for the README's generated metrics table.
type MetricDoc struct {
	Name, Type, Help string
	Labels           []string
}

var descPattern = regexp.MustCompile(`fqName: "([^"]+)", help: "((?:[^"\\]|\\.)*)", unit: "[^"]*", constLabels: \{[^}]*\}, variableLabels: \{([^}]*)\}`)

// MetricDocs lists the metric families this package exposes, sorted by name. It reads the
// descriptors of real collectors, so the README table generated from it cannot drift from the code.
func MetricDocs() []MetricDoc {
	m := NewMetrics(prometheus.NewRegistry())
	typed := []struct {
		c   prometheus.Collector
		typ string
	}{
		{&countersCollector{}, "counter"},
		{m.GraphRequests, "counter"}, {m.GraphDuration, "histogram"}, {m.GraphThrottled, "counter"},
		{m.GraphRetries, "counter"}, {m.MalformedRows, "counter"}, {m.Polls, "counter"},
		{m.PollErrors, "counter"}, {m.LastSuccess, "gauge"}, {m.Lag, "gauge"}, {m.RowsFetched, "counter"},
		{m.RowsDeduplicated, "counter"}, {m.RowsOutside, "counter"}, {m.DedupIDs, "gauge"},
		{m.AccessProblem, "gauge"}, {m.SettleDelay, "gauge"}, {m.PollInterval, "gauge"},
		{m.LateRows, "counter"}, {m.Lateness, "histogram"}, {m.Backlog, "gauge"}, {m.StateCommits, "counter"},
		{m.StateBytes, "gauge"}, {m.StateLastCommit, "gauge"}, {m.StateRestore, "counter"}, {m.ClockSteps, "counter"},
		{m.CursorsClamped, "counter"}, {m.RangesSkipped, "counter"}, {m.SkippedSeconds, "counter"}, {&usersCollector{}, "gauge"},
	}
	var out []MetricDoc
	for _, tc := range typed {
		ch := make(chan *prometheus.Desc, 8)
		tc.c.Describe(ch)
		close(ch)
		for d := range ch {
			out = append(out, parseDesc(d, tc.typ))
		}
	}
	out = append(out, NewRegistrationMetrics(prometheus.NewRegistry()).docs()...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func parseDesc(d *prometheus.Desc, typ string) MetricDoc {
	sm := descPattern.FindStringSubmatch(d.String())
	if sm == nil {
		panic("collector: unexpected descriptor format: " + d.String())
	}
	doc := MetricDoc{Name: sm[1], Type: typ, Help: strings.ReplaceAll(sm[2], `\"`, `"`)}
	for _, l := range strings.Split(sm[3], ",") {
		if l = strings.TrimSpace(l); l != "" {
			doc.Labels = append(doc.Labels, l)
		}
	}
	return doc
}
