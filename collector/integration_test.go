package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// fixtureEpoch is the time the createdDateTime values of testdata/signins.json count from; the
// test shifts every row so that the fixture ends about 10 minutes before now.
var fixtureEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// loadFixture reads testdata/signins.json, moves its rows to [now-41m, now-10m] and makes the
// rows marked "_late" visible only at lateAt. It returns the rows ready for LoadFixture.
func loadFixture(t *testing.T, now, lateAt time.Time) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/signins.json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatal(err)
	}
	shift := now.Add(-41 * time.Minute).Sub(fixtureEpoch)
	for _, r := range rows {
		created, err := time.Parse(time.RFC3339, r["createdDateTime"].(string))
		if err != nil {
			t.Fatal(err)
		}
		created = created.Add(shift)
		r["createdDateTime"] = created.Format(time.RFC3339)
		if r["_late"] == true {
			delete(r, "_late")
			r["_visibleAfterSeconds"] = lateAt.Sub(created).Seconds()
		}
	}
	out, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// logBuffer collects log output for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// hookObserver forwards to the collector's observer and runs onRequest after each response, so a
// test can inject a fault in the middle of a page sequence.
type hookObserver struct {
	graph.Observer
	onRequest func(n int64)
	n         atomic.Int64
}

func (h *hookObserver) Request(endpoint string, code int, d time.Duration) {
	h.Observer.Request(endpoint, code, d)
	if h.onRequest != nil {
		h.onRequest(h.n.Add(1))
	}
}

type testEnv struct {
	sim     *simtenant.Tenant
	manager *Manager
	reg     *prometheus.Registry
	logs    *logBuffer
	hook    *hookObserver
}

// newTestEnv starts a simulated tenant and a Manager in manual mode with one tenant, "fixture",
// configured exactly as a user would: custom cloud, CA file, client secret in a file. The real
// azidentity client-secret flow runs against the simulated authority.
func newTestEnv(t *testing.T, simOpts simtenant.Options, signIns config.SignIns) *testEnv {
	t.Helper()
	sim, err := simtenant.Start(simOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := sim.WriteCACert(caFile); err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte(sim.ClientSecret()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Tenants: []config.Tenant{{
		Name: "fixture", TenantID: sim.TenantID(), Cloud: "custom",
		AuthorityHost: sim.AuthorityHost(), GraphEndpoint: sim.GraphEndpoint(), CAFile: caFile,
		Credential: config.Credential{Type: "client_secret", ClientID: sim.ClientID(), ClientSecretFile: secretFile},
		SignIns:    signIns,
	}}}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	reg := prometheus.NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := NewManager(ctx, reg, Options{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	m.manual = true
	m.budgetPer = 500 * time.Millisecond
	hook := &hookObserver{}
	m.graphOptions = func(o *graph.Options) {
		o.RetryBaseDelay = 5 * time.Millisecond
		hook.Observer = o.Observer
		o.Observer = hook
	}
	m.Apply(cfg)
	t.Cleanup(m.Stop)
	return &testEnv{sim: sim, manager: m, reg: reg, logs: logs, hook: hook}
}

func (e *testEnv) poll(t *testing.T) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return e.manager.pollOnce(ctx, "fixture")
}

// sum adds up every series of a counter family.
func (e *testEnv) sum(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

// TestFixtureCountsExactlyOnceThroughFaults runs the real pipeline against the simulated tenant
// loaded with testdata/signins.json (one row per hand-checked classification case of the mfa
// package: every satisfied and denied reason, every result code the mapping produces, every
// method and component, unknown strings; plus one row Graph returns twice) and checks the exact
// counters after a 5xx burst, a malformed page half-way through the first poll, throttling with
// Retry-After, and late rows.
func TestFixtureCountsExactlyOnceThroughFaults(t *testing.T) {
	now := time.Now()
	lateAt := now.Add(6 * time.Second)
	env := newTestEnv(t,
		simtenant.Options{PageSize: 25, RateLimit: 5, RateWindow: time.Second},
		config.SignIns{
			SettleDelay: config.Duration(5 * time.Minute), RereadWindow: config.Duration(45 * time.Minute),
			Lookback: config.Duration(time.Hour), EventTypes: []string{"interactive", "non_interactive"},
		})
	if err := env.sim.LoadFixture(bytes.NewReader(loadFixture(t, now, lateAt))); err != nil {
		t.Fatal(err)
	}
	m := env.manager.metrics

	// Poll 1: a burst of three 503s (retried), then the 4th page is invalid JSON twice (the
	// client retries a broken page once), so the poll fails after three good pages.
	env.sim.InjectFault(simtenant.Fault{Kind: simtenant.FaultHTTP503, Count: 3})
	env.hook.onRequest = func(n int64) {
		if n == 6 { // 3 x 503, then pages 1-3
			env.sim.InjectFault(simtenant.Fault{Kind: simtenant.FaultInvalidJSON, Count: 2})
		}
	}
	err := env.poll(t)
	var mp *graph.MalformedPageError
	if !errors.As(err, &mp) {
		t.Fatalf("poll 1: want a MalformedPageError, got %v", err)
	}
	env.hook.onRequest = nil
	// The 3 good pages hold 75 rows, among them fx-0040 twice (Graph returned it twice).
	if got := env.sum(t, "entra_signins_total"); got != 74 {
		t.Errorf("after the malformed page: %v sign-ins counted, want 74 (75 rows of the 3 good pages, one of them a duplicate)", got)
	}
	if got := testutil.ToFloat64(m.PollErrors.WithLabelValues("fixture", sourceSignIns, "malformed_page")); got != 1 {
		t.Errorf("poll_errors_total{reason=malformed_page} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.GraphRetries.WithLabelValues("fixture", sourceSignIns, "5xx")); got != 3 {
		t.Errorf("retries_total{reason=5xx} = %v, want 3", got)
	}
	if !strings.Contains(env.logs.String(), "malformed_page") {
		t.Errorf("the malformed page was not logged:\n%s", env.logs.String())
	}

	// Poll 2: two 429s with Retry-After; everything visible so far is counted, the first 75
	// rows are recognised as already counted.
	env.sim.InjectFault(simtenant.Fault{Kind: simtenant.FaultThrottle, Count: 2, RetryAfter: time.Second})
	if err := env.poll(t); err != nil {
		t.Fatalf("poll 2: %v", err)
	}
	if got := testutil.ToFloat64(m.GraphThrottled.WithLabelValues("fixture", sourceSignIns)); got < 2 {
		t.Errorf("throttled_total = %v, want at least 2", got)
	}
	const lateRows = 17
	if got := env.sum(t, "entra_signins_total"); got != 186-lateRows {
		t.Errorf("after poll 2: %v sign-ins counted, want %d (all but the late rows)", got, 186-lateRows)
	}

	// Poll 3, once the late rows are visible: they are counted, nothing else twice.
	time.Sleep(time.Until(lateAt.Add(100 * time.Millisecond)))
	if err := env.poll(t); err != nil {
		t.Fatalf("poll 3: %v", err)
	}
	// Poll 4: nothing new.
	if err := env.poll(t); err != nil {
		t.Fatalf("poll 4: %v", err)
	}

	expected, err := os.Open("testdata/expected.prom")
	if err != nil {
		t.Fatal(err)
	}
	defer expected.Close()
	if err := testutil.GatherAndCompare(env.reg, expected,
		"entra_mfa_attempts_total", "entra_signins_total", "entra_mfa_unclassified_strings_total",
		"entra_mfa_users_challenged", "entra_mfa_users_failed"); err != nil {
		t.Error(err)
	}
	// 187 rows served (one twice); the second copy and every re-read row are deduplicated.
	fetched := testutil.ToFloat64(m.RowsFetched.WithLabelValues("fixture", sourceSignIns))
	dedup := testutil.ToFloat64(m.RowsDeduplicated.WithLabelValues("fixture", sourceSignIns))
	if fetched-dedup != 186 {
		t.Errorf("rows fetched %v - deduplicated %v = %v, want 186", fetched, dedup, fetched-dedup)
	}
	if !env.manager.Ready() {
		t.Error("manager not ready after successful polls")
	}
	// The unknown strings are logged once each, however often they are re-read.
	if n := strings.Count(env.logs.String(), "unclassified string counted as other"); n == 0 || n > 11 {
		t.Errorf("unclassified strings logged %d times, want once per distinct string", n)
	}
}

// TestAccessProblemsAreReportedOnceAndClear checks that a missing licence, a missing permission
// and a rejected credential each produce one clear log line and the access_problem gauge, keep the
// exporter alive, and clear when the problem goes away.
func TestAccessProblemsAreReportedOnceAndClear(t *testing.T) {
	for _, tc := range []struct {
		fault, reason, logText string
	}{
		{simtenant.FaultLicense, "licence", "P1"},
		{simtenant.FaultPermission, "permission", "AuditLog.Read.All"},
		{simtenant.FaultToken, "authentication", "token"},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			env := newTestEnv(t, simtenant.Options{RateLimit: -1}, config.SignIns{})
			env.sim.InjectFault(simtenant.Fault{Kind: tc.fault, Count: 1000})
			for range 2 {
				if err := env.poll(t); err == nil {
					t.Fatal("poll succeeded despite the injected fault")
				}
			}
			m := env.manager.metrics
			if got := testutil.ToFloat64(m.AccessProblem.WithLabelValues("fixture", sourceSignIns, tc.reason)); got != 1 {
				t.Errorf("access_problem{reason=%s} = %v, want 1", tc.reason, got)
			}
			logs := env.logs.String()
			if n := strings.Count(logs, "sign-in poll failed"); n != 1 {
				t.Errorf("want exactly one error line for two failed polls, got %d:\n%s", n, logs)
			}
			if !strings.Contains(logs, tc.logText) {
				t.Errorf("log does not mention %q:\n%s", tc.logText, logs)
			}
			if strings.Contains(logs, env.sim.ClientSecret()) {
				t.Error("the client secret appears in the log")
			}
			if env.manager.Ready() {
				t.Error("ready although no poll succeeded")
			}
			env.sim.ClearFaults()
			if err := env.poll(t); err != nil {
				t.Fatalf("poll after the fault cleared: %v", err)
			}
			if got := testutil.ToFloat64(m.AccessProblem.WithLabelValues("fixture", sourceSignIns, tc.reason)); got != 0 {
				t.Errorf("access_problem{reason=%s} = %v after recovery, want 0", tc.reason, got)
			}
			if !strings.Contains(env.logs.String(), "recovered") {
				t.Error("recovery not logged")
			}
		})
	}
}
