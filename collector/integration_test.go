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

// fixtureEpoch is the time the createdDateTime values of testdata/signins.json count from: rows
// are 10 s apart, from fixtureEpoch to fixtureEpoch+31m.
var fixtureEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fixtureLateness is how long after createdDateTime the rows marked "_late" become visible:
// beyond the settle delay, inside the reconcile horizon.
const fixtureLateness = 40 * time.Minute

// loadFixture reads testdata/signins.json and turns its "_late" marks into visibility delays.
func loadFixture(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/signins.json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r["_late"] == true {
			delete(r, "_late")
			r["_visibleAfterSeconds"] = fixtureLateness.Seconds()
		}
	}
	out, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// testClock is the time of the simulated tenant (row visibility) and of the collector (windows).
// Request pacing keeps real time.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// fixtureFamilies are the metric families testdata/expected.prom holds.
var fixtureFamilies = []string{"entra_mfa_attempts_total", "entra_signins_total", "entra_signins_by_client_app_total", "entra_mfa_unclassified_strings_total",
	"entra_mfa_users_challenged", "entra_mfa_users_failed"}

// compareWithFixture checks the named families of reg against testdata/expected.prom, the counts
// derived by hand from the fixture's cases.
func compareWithFixture(t *testing.T, reg *prometheus.Registry, families ...string) {
	t.Helper()
	expected, err := os.Open("testdata/expected.prom")
	if err != nil {
		t.Fatal(err)
	}
	defer expected.Close()
	if err := testutil.GatherAndCompare(reg, expected, families...); err != nil {
		t.Error(err)
	}
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
func newTestEnv(t *testing.T, simOpts simtenant.Options, signIns config.SignIns, now func() time.Time, storage string) *testEnv {
	t.Helper()
	return newTestEnvWith(t, simOpts, signIns, now, now, storage, nil)
}

// newTestEnvClocks is newTestEnv with separate clocks for Graph and the exporter (clock skew) and
// a hook on the Graph client options.
func newTestEnvClocks(t *testing.T, simOpts simtenant.Options, signIns config.SignIns, graphNow, exporterNow func() time.Time, opts func(*graph.Options)) *testEnv {
	t.Helper()
	return newTestEnvWith(t, simOpts, signIns, graphNow, exporterNow, t.TempDir(), opts)
}

func newTestEnvWith(t testing.TB, simOpts simtenant.Options, signIns config.SignIns, graphNow, now func() time.Time, storage string, opts func(*graph.Options)) *testEnv {
	t.Helper()
	simOpts.Now = graphNow
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
	m := NewManager(ctx, reg, Options{Now: now, StoragePath: storage,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	m.manual = true
	m.budgetPer = 500 * time.Millisecond
	hook := &hookObserver{}
	m.graphOptions = func(o *graph.Options) {
		o.RetryBaseDelay = 5 * time.Millisecond
		hook.Observer = o.Observer
		o.Observer = hook
		if opts != nil {
			opts(o)
		}
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
func (e *testEnv) sum(t testing.TB, name string) float64 {
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
// Retry-After, and late rows found by the reconcile pass.
//
// Timeline (fixture rows span epoch .. epoch+31m; 17 of them become visible 40 minutes late):
//
//	epoch+36m  poll 1: fresh read [epoch-4m, epoch+31m] fails on its 4th page (invalid JSON);
//	           the 3 good pages (newest rows first, Graph's default order) stay counted
//	epoch+37m  poll 2: fresh read again, through two 429s: all rows visible so far counted once
//	epoch+61m  poll 3: the reconcile pass reads [epoch-4m, epoch+11m]: late rows of that range
//	epoch+90m  poll 4: the reconcile pass reads [epoch+11m, epoch+40m]: the other late rows
//	epoch+95m  poll 5: nothing new
//
// The reconcile horizon here is settle (5m) + reconcile delay (45m): rows up to 50 minutes late
// are counted.
func TestFixtureCountsExactlyOnceThroughFaults(t *testing.T) {
	clk := &testClock{now: fixtureEpoch.Add(36 * time.Minute)}
	env := newTestEnv(t,
		simtenant.Options{PageSize: 25, RateLimit: -1},
		fixtureSignIns(), clk.Now, t.TempDir())
	if err := env.sim.LoadFixture(bytes.NewReader(loadFixture(t))); err != nil {
		t.Fatal(err)
	}
	m := env.manager.metrics
	const lateRows = 17

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
	// Graph's default order is newest first: the 3 good pages hold the 75 newest visible rows
	// (createdDateTime epoch+30m50s down to epoch+17m10s, late rows not visible yet), all distinct:
	// fx-0040's two copies (epoch+6m40s and 6m41s) are on later pages.
	if got := env.sum(t, "entra_signins_total"); got != 75 {
		t.Errorf("after the malformed page: %v sign-ins counted, want 75 (the 75 distinct rows of the 3 good pages)", got)
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

	// Poll 2: two 429s with Retry-After; every row visible so far is counted, the first 75 rows
	// are recognised as already counted.
	clk.Set(fixtureEpoch.Add(37 * time.Minute))
	env.sim.InjectFault(simtenant.Fault{Kind: simtenant.FaultThrottle, Count: 2, RetryAfter: time.Second})
	if err := env.poll(t); err != nil {
		t.Fatalf("poll 2: %v", err)
	}
	if got := testutil.ToFloat64(m.GraphThrottled.WithLabelValues("fixture", sourceSignIns)); got != 2 {
		t.Errorf("throttled_total = %v, want 2", got)
	}
	if got := env.sum(t, "entra_signins_total"); got != 186-lateRows {
		t.Errorf("after poll 2: %v sign-ins counted, want %d (all but the late rows)", got, 186-lateRows)
	}

	for i, at := range []time.Duration{61 * time.Minute, 90 * time.Minute, 95 * time.Minute} {
		clk.Set(fixtureEpoch.Add(at))
		if err := env.poll(t); err != nil {
			t.Fatalf("poll %d: %v", i+3, err)
		}
	}

	compareWithFixture(t, env.reg, fixtureFamilies...)
	if got := testutil.ToFloat64(m.LateRows.WithLabelValues("fixture", sourceSignIns)); got != lateRows {
		t.Errorf("late_rows_total = %v, want %d", got, lateRows)
	}
	// Fetches: every row at most twice (fresh + reconcile), plus the 75 rows of poll 1's pages
	// that poll 2 read again after the failure.
	fresh := testutil.ToFloat64(m.RowsFetched.WithLabelValues("fixture", sourceSignIns, passFresh))
	recon := testutil.ToFloat64(m.RowsFetched.WithLabelValues("fixture", sourceSignIns, passReconcile))
	if fresh+recon > 2*187+75 {
		t.Errorf("rows fetched: fresh %v + reconcile %v > 2 per row (+75 re-read after the failed page)", fresh, recon)
	}
	dedup := testutil.ToFloat64(m.RowsDeduplicated.WithLabelValues("fixture", sourceSignIns))
	if fresh+recon-dedup != 186 {
		t.Errorf("rows fetched %v - deduplicated %v = %v, want 186", fresh+recon, dedup, fresh+recon-dedup)
	}
	if got := testutil.ToFloat64(m.DedupIDs.WithLabelValues("fixture", sourceSignIns)); got != 0 {
		t.Errorf("dedup_ids = %v after the reconcile cursor passed every row, want 0", got)
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
			env := newTestEnv(t, simtenant.Options{RateLimit: -1}, config.SignIns{}, time.Now, "")
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
