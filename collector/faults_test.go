package collector

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// TestFaultMatrix injects each Graph fault into the first poll of the fixture timeline (see
// TestFixtureCountsExactlyOnceThroughFaults) and checks that, once the fault is gone, the exact
// fixture counts come out: no row lost, none counted twice. Each fault must also show up in a
// self-metric.
func TestFaultMatrix(t *testing.T) {
	type check func(t *testing.T, m *Metrics)
	counter := func(name string, get func(m *Metrics) float64, min float64) check {
		return func(t *testing.T, m *Metrics) {
			t.Helper()
			if got := get(m); got < min {
				t.Errorf("%s = %v, want at least %v", name, got, min)
			}
		}
	}
	retries := func(reason string, min float64) check {
		return counter("retries_total{reason="+reason+"}", func(m *Metrics) float64 {
			return testutil.ToFloat64(m.GraphRetries.WithLabelValues("fixture", sourceSignIns, reason))
		}, min)
	}
	pollErrors := func(reason string, min float64) check {
		return counter("poll_errors_total{reason="+reason+"}", func(m *Metrics) float64 {
			return testutil.ToFloat64(m.PollErrors.WithLabelValues("fixture", sourceSignIns, reason))
		}, min)
	}
	for _, tc := range []struct {
		name string
		// inject runs before poll 1; afterRequest (if set) runs after every Graph response of
		// poll 1 with the response's sequence number, to hit a page in the middle.
		inject       func(sim *simtenant.Tenant)
		afterRequest func(sim *simtenant.Tenant, n int64)
		skew         time.Duration // exporter clock minus Graph clock
		opts         func(o *graph.Options)
		checks       []check
	}{
		{name: "429 storm", inject: func(s *simtenant.Tenant) {
			s.InjectFault(simtenant.Fault{Kind: simtenant.FaultThrottle, Count: 1000, RetryAfter: time.Second})
		}, opts: func(o *graph.Options) { o.MaxThrottleWaits = 2 }, checks: []check{
			pollErrors("throttled", 1),
			counter("throttled_total", func(m *Metrics) float64 {
				return testutil.ToFloat64(m.GraphThrottled.WithLabelValues("fixture", sourceSignIns))
			}, 3),
		}},
		{name: "5xx burst beyond the retries", inject: func(s *simtenant.Tenant) {
			s.InjectFault(simtenant.Fault{Kind: simtenant.FaultHTTP502, Count: 1000})
		}, checks: []check{retries("5xx", 5), pollErrors("graph_error", 1)}},
		{name: "timeouts", inject: func(s *simtenant.Tenant) {
			// The two delayed answers never come in time; the others must never time out, even on a
			// loaded machine under -race: hence a timeout of seconds, not milliseconds.
			s.InjectFault(simtenant.Fault{Kind: simtenant.FaultDelay, Count: 2, Delay: time.Minute})
		}, opts: func(o *graph.Options) { o.RequestTimeout = 3 * time.Second }, checks: []check{retries("timeout", 2)}},
		{name: "truncated body mid-sequence", afterRequest: func(s *simtenant.Tenant, n int64) {
			if n == 2 {
				s.InjectFault(simtenant.Fault{Kind: simtenant.FaultTruncated, Count: 3})
			}
		}, checks: []check{retries("truncated", 1)}},
		{name: "invalid JSON mid-sequence", afterRequest: func(s *simtenant.Tenant, n int64) {
			if n == 3 {
				s.InjectFault(simtenant.Fault{Kind: simtenant.FaultInvalidJSON, Count: 2})
			}
		}, checks: []check{pollErrors("malformed_page", 1)}},
		{name: "malformed rows", afterRequest: func(s *simtenant.Tenant, n int64) {
			if n == 1 {
				s.InjectFault(simtenant.Fault{Kind: simtenant.FaultMalformedRow, Count: 2})
				s.InjectFault(simtenant.Fault{Kind: simtenant.FaultMalformedStatus, Count: 1})
			}
		}, checks: []check{counter("malformed_rows_total", func(m *Metrics) float64 {
			return testutil.ToFloat64(m.MalformedRows.WithLabelValues("fixture", sourceSignIns))
		}, 3)}},
		{name: "next link fails mid-way", afterRequest: func(s *simtenant.Tenant, n int64) {
			if n == 4 {
				s.InjectFault(simtenant.Fault{Kind: simtenant.FaultHTTP500, Count: 1000})
			}
		}, checks: []check{pollErrors("graph_error", 1)}},
		{name: "token endpoint failing", inject: func(s *simtenant.Tenant) {
			s.InjectFault(simtenant.Fault{Kind: simtenant.FaultToken, Count: 1000})
		}, checks: []check{pollErrors("authentication", 1)}},
		{name: "exporter clock 3 minutes behind Graph", skew: -3 * time.Minute},
		{name: "exporter clock 3 minutes ahead of Graph", skew: 3 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &testClock{now: fixtureEpoch.Add(36 * time.Minute)}
			exporterNow := func() time.Time { return clk.Now().Add(tc.skew) }
			env := newTestEnvClocks(t,
				simtenant.Options{PageSize: 25, RateLimit: -1},
				fixtureSignIns(), clk.Now, exporterNow, tc.opts)
			if err := env.sim.LoadFixture(bytes.NewReader(loadFixture(t))); err != nil {
				t.Fatal(err)
			}
			if tc.inject != nil {
				tc.inject(env.sim)
			}
			if tc.afterRequest != nil {
				env.hook.onRequest = func(n int64) { tc.afterRequest(env.sim, n) }
			}
			firstErr := env.poll(t)
			env.hook.onRequest = nil
			env.sim.ClearFaults()
			if (tc.inject != nil || tc.afterRequest != nil) && len(tc.checks) > 0 && firstErr == nil {
				t.Logf("poll 1 survived the fault (retried within the poll)")
			}
			for i, at := range []time.Duration{37 * time.Minute, 61 * time.Minute, 90 * time.Minute, 95 * time.Minute} {
				clk.Set(fixtureEpoch.Add(at))
				if err := env.poll(t); err != nil {
					t.Fatalf("poll %d after the fault: %v", i+2, err)
				}
			}
			compareWithFixture(t, env.reg, "entra_mfa_attempts_total", "entra_signins_total", "entra_mfa_unclassified_strings_total")
			for _, c := range tc.checks {
				c(t, env.manager.metrics)
			}
			// One log line per fault, not a flood: at most one poll error line, and retry or
			// throttle warnings limited to one per endpoint and reason.
			logs := env.logs.String()
			if n := strings.Count(logs, "level=ERROR"); n > 1 {
				t.Errorf("%d error lines for one fault:\n%s", n, logs)
			}
			if n := strings.Count(logs, "msg=\"graph "); n > 2 {
				t.Errorf("%d graph warning lines for one fault:\n%s", n, logs)
			}
		})
	}
}
