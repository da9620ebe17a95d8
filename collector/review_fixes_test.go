package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

type fixedToken struct{}

func (fixedToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "t", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// A row Graph returns outside the requested window (a filter or clock fault) must not carry the
// reconcile cursor past rows that were not read yet. Graph here is a stub that adds a row dated a
// day ahead to the first page of the reconcile read, which is then cut short by its time box.
func TestOutOfWindowRowDoesNotMoveTheReconcileCursor(t *testing.T) {
	start := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		filter := r.URL.Query().Get("$filter")
		rows := []map[string]any{}
		next := ""
		// The reconcile read of the backlog: one old row, the stray future row, and more pages.
		if strings.Contains(filter, "ge 2026-05-04T09:") && r.URL.Query().Get("$skiptoken") == "" {
			rows = append(rows,
				map[string]any{"id": "old-1", "createdDateTime": "2026-05-04T09:30:00Z", "status": map[string]any{"errorCode": 0}},
				map[string]any{"id": "stray", "createdDateTime": "2026-05-05T12:00:00Z", "status": map[string]any{"errorCode": 0}})
			next = "https://" + r.Host + r.URL.Path + "?" + r.URL.RawQuery + "&$skiptoken=2"
		}
		body, _ := json.Marshal(map[string]any{"value": rows, "@odata.nextLink": next})
		if next == "" {
			body, _ = json.Marshal(map[string]any{"value": rows})
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	clk := &testClock{now: start}
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	settings := config.SignIns{
		PollInterval: config.Duration(time.Minute), SettleDelay: config.Duration(5 * time.Minute),
		ReconcileDelay: config.Duration(15 * time.Minute), ReconcileInterval: config.Duration(5 * time.Minute),
		Lookback: config.Duration(3 * time.Hour), EventTypes: []string{"interactive"},
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := newSignInSource("stub", settings, m, nil, stateStore{}, newUserTracker(nil, usersState{}), logger, clk.Now)
	client, err := graph.New(graph.Options{GraphEndpoint: srv.URL, Credential: fixedToken{}, HTTPClient: srv.Client(),
		Pacer: graph.NewPacer(1000, time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.poll(context.Background(), client, time.Now()); err != nil { // time box used up at once
		t.Fatal(err)
	}
	// Start 12:00, look-back 3 h, settle 5 m, reconcile delay 15 m: the fresh read jumps to 11:40 and
	// the range [09:00, 11:40) is a gap. Its first backlog slice [09:00, 10:00] was cut short after
	// its first page, so the gap must still start at 09:00, whatever rows that page held.
	wantGap := interval{From: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC), To: time.Date(2026, 5, 4, 11, 40, 0, 0, time.UTC)}
	if len(s.cur.Gaps) != 1 || s.cur.Gaps[0] != wantGap {
		t.Errorf("gaps = %v, want [%v]: a read cut short must not move any cursor", s.cur.Gaps, wantGap)
	}
	if _, ok := s.seen["old-1"]; !ok {
		t.Error("the row read inside the window is not remembered: reading the slice again would count it twice")
	}
	if got := testutil.ToFloat64(m.RowsOutside.WithLabelValues("stub", sourceSignIns, "after")); got != 1 {
		t.Errorf("rows_outside_window_total{side=after} = %v, want 1", got)
	}
}

// A commit that fails keeps the counts pending (not exposed), fails the poll with reason
// state_commit, and a later successful commit exposes exactly what was counted.
func TestFailedCommitKeepsCountsPending(t *testing.T) {
	clk := &testClock{now: fixtureEpoch.Add(36 * time.Minute)}
	dir := t.TempDir()
	storage := filepath.Join(dir, "state")
	if err := os.WriteFile(storage, []byte("a file where the directory should be"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := newTestEnv(t, simtenant.Options{PageSize: 50, RateLimit: -1}, fixtureSignIns(), clk.Now, storage)
	if err := env.sim.LoadFixture(bytes.NewReader(loadFixture(t))); err != nil {
		t.Fatal(err)
	}
	err := env.poll(t)
	if err == nil || !strings.Contains(err.Error(), "committing state failed") {
		t.Fatalf("poll with an unwritable storage path: %v", err)
	}
	if got := env.sum(t, "entra_signins_total"); got != 0 {
		t.Errorf("%v sign-ins exposed although nothing was committed", got)
	}
	if got := testutil.ToFloat64(env.manager.metrics.PollErrors.WithLabelValues("fixture", sourceSignIns, "state_commit")); got != 1 {
		t.Errorf("poll_errors_total{reason=state_commit} = %v, want 1", got)
	}
	if n := strings.Count(env.logs.String(), "state_commit"); n != 1 {
		t.Errorf("commit failure logged %d times, want once", n)
	}
	if err := os.Remove(storage); err != nil {
		t.Fatal(err)
	}
	clk.Set(fixtureEpoch.Add(37 * time.Minute))
	if err := env.poll(t); err != nil {
		t.Fatalf("poll after the storage was fixed: %v", err)
	}
	if got := env.sum(t, "entra_signins_total"); got != 186-17 {
		t.Errorf("after a good commit: %v sign-ins exposed, want %d (every row visible so far, once)", got, 186-17)
	}
}

func TestStateOfAnotherTenantIDIsMovedAside(t *testing.T) {
	dir := t.TempDir()
	s := stateStore{dir: dir}
	if err := os.WriteFile(s.legacyPath("x"), []byte(fmt.Sprintf(`{"version":%d,"tenant":"x","tenant_id":"old"}`, legacyVersion)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.load("x", "new", time.Unix(1000, 0)); err == nil || !strings.Contains(err.Error(), `tenant_id "old"`) {
		t.Errorf("want a tenant_id mismatch error, got %v", err)
	}
	if aside, _ := filepath.Glob(s.legacyPath("x") + ".corrupt-*"); len(aside) != 1 {
		t.Errorf("file not moved aside: %v", aside)
	}
}

// A forward step of the wall clock must not carry the fresh cursor past rows that do not exist
// yet: the cursor may advance only by the time that passed on the monotonic clock.
func TestClockStepDoesNotRunAheadOfRealTime(t *testing.T) {
	var offset time.Duration
	now := func() time.Time { return time.Now().Add(offset) }
	env := newTestEnvWith(t, simtenant.Options{RateLimit: -1}, config.SignIns{}, time.Now, now, "", nil)
	env.manager.mu.Lock()
	src := env.manager.tenants["fixture"].source
	env.manager.mu.Unlock()
	src.guardClock = true
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	offset = 2 * time.Hour // NTP steps the clock, or a suspended VM resumes
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	limit := time.Now().Add(-5*time.Minute + time.Minute + time.Second) // settle 5m, one poll interval of slack
	if src.cur.Fresh.After(limit) {
		t.Errorf("fresh cursor at %s after a 2 h clock step, beyond real time minus the settle delay (%s)", src.cur.Fresh, limit)
	}
	if got := testutil.ToFloat64(env.manager.metrics.ClockSteps.WithLabelValues("fixture")); got != 1 {
		t.Errorf("clock_steps_total = %v, want 1", got)
	}
}
