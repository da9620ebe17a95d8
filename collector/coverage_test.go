package collector

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// coverageFamilies are the families testdata/coverage-expected.prom holds.
var coverageFamilies = []string{
	"entra_signins_by_requirement_source_total", "entra_ca_policy_evaluations_total", "entra_signins_by_application_total",
	"entra_coverage_overflow_total", "entra_mfa_unclassified_strings_total", "entra_ca_policy_info", "entra_application_info",
	"entra_coverage_values", "entra_coverage_max_values",
}

func compareCoverage(t *testing.T, reg prometheus.Gatherer, when string) {
	t.Helper()
	expected, err := os.Open("testdata/coverage-expected.prom")
	if err != nil {
		t.Fatal(err)
	}
	defer expected.Close()
	if err := testutil.GatherAndCompare(reg, expected, coverageFamilies...); err != nil {
		t.Errorf("%s: %v", when, err)
	}
}

// TestCoverageFixtureExact reads testdata/coverage-signins.json through the simulated tenant over
// HTTPS, in every row order, and compares the coverage counters and info metrics with
// testdata/coverage-expected.prom, worked out by hand. The fixture holds:
//
//	cov-01  single factor, no provider; policies: CA001 under its old name, CA004 report-only
//	        failure; application HR Portal under its old name "Contoso HR"
//	cov-02  MFA satisfied, providers Conditional Access + per-user MFA; served twice (cov-09)
//	cov-03  MFA denied, per-user MFA only; application id in upper case
//	cov-04  50074 interrupt, an empty policy list
//	cov-05  single factor, no policy list at all (Graph without Policy.Read.All), no appId
//	cov-06  MFA satisfied, providers user twice, Conditional Access and an unknown provider; a
//	        policy id that is not a GUID, an unknown policy result, an application id that is not
//	        a GUID
//	cov-07  53003 Conditional Access block; CA008's id in upper case
//	cov-08  non-interactive, satisfied by claim; CA001 listed without grant controls
//
// CA001 was renamed between cov-01 and cov-02: its info must show the new name whatever order the
// rows are read in (newest first, Graph's default, reads the old name last). The counters and info
// must survive a restart unchanged.
func TestCoverageFixtureExact(t *testing.T) {
	data, err := os.ReadFile("testdata/coverage-signins.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, order := range []simtenant.Order{simtenant.OrderNewestFirst, simtenant.OrderAscending, simtenant.OrderShuffled} {
		t.Run(order.String(), func(t *testing.T) {
			clk := &testClock{now: fixtureEpoch.Add(36 * time.Minute)}
			storage := t.TempDir()
			env := newTestEnv(t, simtenant.Options{PageSize: 3, RateLimit: -1, NoPadding: true, Order: order}, fixtureSignIns(), clk.Now, storage)
			if err := env.sim.LoadFixture(bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			for _, at := range []time.Duration{36 * time.Minute, 61 * time.Minute, 95 * time.Minute} {
				clk.Set(fixtureEpoch.Add(at))
				if err := env.poll(t); err != nil {
					t.Fatalf("poll at +%v: %v", at, err)
				}
			}
			compareCoverage(t, env.reg, "after the reads")
			if got := env.sum(t, "entra_signins_total"); got != 8 {
				t.Errorf("%v sign-ins counted, want 8", got)
			}
			for _, want := range []string{`value=quantumEntanglementPolicy`, `value=reportOnlyQuantumInterference`, `kind=policy id=not-a-guid`, `kind=application id=legacy-app`} {
				if !strings.Contains(env.logs.String(), want) {
					t.Errorf("log lacks %q:\n%s", want, env.logs)
				}
			}

			env.manager.Stop()
			m2, reg2, _ := restartManager(t, env, storage, clk.Now)
			compareCoverage(t, reg2, "after a restart, before any poll")
			// Reading everything again counts nothing twice.
			clk.Set(fixtureEpoch.Add(100 * time.Minute))
			if err := m2.pollOnce(context.Background(), "fixture"); err != nil {
				t.Fatal(err)
			}
			compareCoverage(t, reg2, "after a poll of the restarted exporter")
		})
	}
}

// series returns the label sets of a family's series (as sorted name=value strings) with their
// values.
func series(t testing.TB, g prometheus.Gatherer, name string) map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var parts []string
			for _, l := range m.GetLabel() {
				parts = append(parts, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(parts)
			out[strings.Join(parts, ",")] = metricValue(m)
		}
	}
	return out
}

func metricValue(m *dto.Metric) float64 {
	if m.Counter != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

func labelValue(key, name string) string {
	for _, kv := range strings.Split(key, ",") {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// TestCoverageCapsHostileGraph floods the tenant with 10,000 distinct policies and 10,000 distinct
// applications, all valid GUIDs, and checks that each family's series stay bounded by the caps,
// that what did not fit is counted under "other" and in the overflow counter exactly (the total
// still adds up to the simulated tenant's truth), and that a restarted exporter exposes the same
// series and keeps counting new ids under "other".
func TestCoverageCapsHostileGraph(t *testing.T) {
	clk := &testClock{now: fixtureEpoch}
	storage := t.TempDir()
	env := newTestEnv(t, simtenant.Options{Seed: 7, Users: 50, RateLimit: -1, NoPadding: true, LatenessScale: -1},
		fixtureSignIns(), clk.Now, storage)
	env.sim.FloodCoverage(10000, 10000)
	flood := func(end time.Time) {
		for i := 0; ; i++ {
			if p, a := env.sim.FloodRemaining(); p == 0 && a == 0 {
				return
			}
			if i > 60 {
				t.Fatal("the flood never ends")
			}
			env.sim.Backfill(end.Add(-time.Duration(i+1)*20*time.Second), end.Add(-time.Duration(i)*20*time.Second), 10)
		}
	}
	flood(fixtureEpoch.Add(-10 * time.Minute))
	clk.Set(fixtureEpoch)
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	truth := env.sim.Truth()
	rows := 0
	for _, n := range truth.Rows {
		rows += n
	}
	if got := env.sum(t, "entra_signins_total"); got != float64(rows) {
		t.Fatalf("%v rows counted, truth %d: the cap test needs every row read", got, rows)
	}

	checkBounded := func(reg prometheus.Gatherer, when string) (evals, apps map[string]float64) {
		evals = series(t, reg, "entra_ca_policy_evaluations_total")
		byPolicy, byApp := map[string]float64{}, map[string]float64{}
		for k, v := range evals {
			byPolicy[labelValue(k, "policy_id")] += v
		}
		apps = series(t, reg, "entra_signins_by_application_total")
		for k, v := range apps {
			byApp[labelValue(k, "app_id")] += v
		}
		// 300 policies with series of their own plus "other"; 500 applications plus "other" and
		// "none" (the NPS extension and AD FS rows have no appId).
		if len(byPolicy) != 301 || byPolicy[mfa.LabelOther] == 0 {
			t.Errorf("%s: %d policy ids, want 300 and other", when, len(byPolicy))
		}
		if len(byApp) != 502 || byApp[mfa.LabelOther] == 0 || byApp[mfa.LabelNone] == 0 {
			t.Errorf("%s: %d application ids, want 500, other and none", when, len(byApp))
		}
		if n := len(series(t, reg, "entra_ca_policy_info")); n != 300 {
			t.Errorf("%s: %d policy info series, want 300", when, n)
		}
		if n := len(series(t, reg, "entra_application_info")); n != 500 {
			t.Errorf("%s: %d application info series, want 500", when, n)
		}
		// Every evaluation and row is counted once, under its id or under other, and the overflow
		// counter holds exactly those under other.
		var wantEvals, wantOther float64
		for k, n := range truth.Coverage.Policies {
			wantEvals += float64(n)
			if _, own := byPolicy[k.ID]; !own {
				wantOther += float64(n)
			}
		}
		var gotEvals float64
		for _, v := range byPolicy {
			gotEvals += v
		}
		overflow := series(t, reg, "entra_coverage_overflow_total")
		if gotEvals != wantEvals || byPolicy[mfa.LabelOther] != wantOther || overflow["kind=policy,reason=cap,tenant=fixture"] != wantOther {
			t.Errorf("%s: evaluations %v (truth %v), under other %v, overflow %v, want %v", when, gotEvals, wantEvals,
				byPolicy[mfa.LabelOther], overflow["kind=policy,reason=cap,tenant=fixture"], wantOther)
		}
		var appOther float64
		for id, n := range truth.Coverage.Apps {
			if _, own := byApp[id]; !own {
				appOther += float64(n)
			}
		}
		if byApp[mfa.LabelOther] != appOther || overflow["kind=application,reason=cap,tenant=fixture"] != appOther {
			t.Errorf("%s: rows under application other %v, overflow %v, want %v", when, byApp[mfa.LabelOther],
				overflow["kind=application,reason=cap,tenant=fixture"], appOther)
		}
		values := series(t, reg, "entra_coverage_values")
		if values["kind=policy,tenant=fixture"] != 300 || values["kind=application,tenant=fixture"] != 500 {
			t.Errorf("%s: entra_coverage_values %v", when, values)
		}
		return evals, apps
	}
	evals, apps := checkBounded(env.reg, "first run")
	// NoPadding: rows list only the flooded policies, whose first ids to be read fill the cap.
	if strings.Count(env.logs.String(), "later ones are counted as other") != 2 {
		t.Errorf("the caps were not logged once per kind:\n%s", env.logs)
	}

	env.manager.Stop()
	m2, reg2, _ := restartManager(t, env, storage, clk.Now)
	evals2, apps2 := checkBounded(reg2, "after a restart")
	if !mapsEqual(evals, evals2) || !mapsEqual(apps, apps2) {
		t.Error("the series differ after a restart")
	}
	// New ids after the restart: only other grows, no series appears.
	env.sim.FloodCoverage(1000, 1000)
	flood(fixtureEpoch.Add(30 * time.Minute)) // rows from +18m: after what the first run read
	clk.Set(fixtureEpoch.Add(40 * time.Minute))
	if err := m2.pollOnce(context.Background(), "fixture"); err != nil {
		t.Fatal(err)
	}
	evals3 := series(t, reg2, "entra_ca_policy_evaluations_total")
	for k := range evals3 {
		if _, ok := evals[k]; !ok && labelValue(k, "policy_id") != mfa.LabelOther {
			t.Errorf("a new policy series appeared after the restart: %s", k)
		}
	}
	for k := range series(t, reg2, "entra_signins_by_application_total") {
		if _, ok := apps[k]; !ok && labelValue(k, "app_id") != mfa.LabelOther && labelValue(k, "app_id") != mfa.LabelNone {
			t.Errorf("a new application series appeared after the restart: %s", k)
		}
	}
	truth = env.sim.Truth()
	checkBounded(reg2, "after new ids")
}

func mapsEqual(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestCoverageMatchesGeneratedTruth runs a padded simulated hour (every policy of the tenant on
// every row, per-user MFA, risk, unknown strings, three dozen applications) through the pipeline
// and compares the sums by requirement source, by policy and result, and by application with the
// generator's own record.
func TestCoverageMatchesGeneratedTruth(t *testing.T) {
	clk := &testClock{now: fixtureEpoch}
	env := newTestEnv(t, simtenant.Options{Seed: 9, Users: 200, RateLimit: -1, LatenessScale: -1, Order: simtenant.OrderShuffled},
		fixtureSignIns(), clk.Now, t.TempDir())
	// Flows end in [-24m, -6m); their first rows reach 11 minutes further back, inside the
	// 40-minute look-back.
	env.sim.Backfill(fixtureEpoch.Add(-24*time.Minute), fixtureEpoch.Add(-6*time.Minute), 1.5)
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	truth := env.sim.Truth()
	got := map[string]float64{}
	for k, v := range series(t, env.reg, "entra_signins_by_requirement_source_total") {
		got[labelValue(k, "requirement_source")] += v
	}
	compareTruthCounts(t, "requirement source", got, truth.Coverage.Sources)
	got = map[string]float64{}
	want := map[string]int{}
	for k, v := range series(t, env.reg, "entra_ca_policy_evaluations_total") {
		got[labelValue(k, "policy_id")+"/"+labelValue(k, "policy_result")] += v
	}
	for k, n := range truth.Coverage.Policies {
		want[k.ID+"/"+k.Result] += n
	}
	compareTruthCounts(t, "policy/result", got, want)
	got = map[string]float64{}
	for k, v := range series(t, env.reg, "entra_signins_by_application_total") {
		got[labelValue(k, "app_id")] += v
	}
	compareTruthCounts(t, "application", got, truth.Coverage.Apps)
	if len(truth.Coverage.Apps) < 30 {
		t.Errorf("only %d applications in the simulated hour", len(truth.Coverage.Apps))
	}
	// Application names are the generator's.
	names := simtenant.Applications()
	for k := range series(t, env.reg, "entra_application_info") {
		if id := labelValue(k, "app_id"); names[id] != labelValue(k, "app_name") {
			t.Errorf("application %s named %q, the tenant calls it %q", id, labelValue(k, "app_name"), names[id])
		}
	}
}

func compareTruthCounts(t *testing.T, what string, got map[string]float64, want map[string]int) {
	t.Helper()
	for k, n := range want {
		if got[k] != float64(n) {
			t.Errorf("%s %s: counted %v, truth %d", what, k, got[k], n)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok && v != 0 {
			t.Errorf("%s %s: counted %v, not in the truth", what, k, v)
		}
	}
}

// TestPolicyInventory reads the simulated tenant's policy inventory: every policy gets its info
// (name, state, grant controls) before any sign-in mentions it; a rename shows at the next read;
// a sign-in row created after the read wins over it, an older one does not.
func TestPolicyInventory(t *testing.T) {
	clk := &testClock{now: fixtureEpoch}
	env := newTestEnv(t, simtenant.Options{Seed: 5, RateLimit: -1, LatenessScale: -1}, fixtureSignIns(), clk.Now, t.TempDir())
	ctx := context.Background()
	if err := env.manager.pollPoliciesOnce(ctx, "fixture"); err != nil {
		t.Fatal(err)
	}
	info := func() map[string]string { // policy id -> "name|state|grants"
		out := map[string]string{}
		for k := range series(t, env.reg, "entra_ca_policy_info") {
			out[labelValue(k, "policy_id")] = labelValue(k, "policy_name") + "|" + labelValue(k, "state") + "|" + labelValue(k, "grant_controls")
		}
		return out
	}
	// Expected from the simulated tenant's policy table, mapped by hand: enabledForReporting...
	// is report_only; builtInControls compliantDevice is compliant_device; an authentication
	// strength is authentication_strength.
	want := map[string]string{}
	for _, p := range env.sim.Policies() {
		state := map[string]string{"enabled": "enabled", "disabled": "disabled", "enabledForReportingButNotEnforced": "report_only"}[p.State]
		grants := map[string]string{"mfa": "mfa", "block": "block", "compliantDevice": "compliant_device", "authenticationStrength": "authentication_strength"}[strings.Join(p.GrantControls, ",")]
		want[p.ID] = p.Name + "|" + state + "|" + grants
	}
	if got := info(); !mapsEqualStr(got, want) {
		t.Errorf("policy info after the inventory read:\n%v\nwant\n%v", got, want)
	}
	if got := testutil.ToFloat64(env.manager.metrics.LastSuccess.WithLabelValues("fixture", sourcePolicies)); got != float64(fixtureEpoch.Unix()) {
		t.Errorf("last_success{source=conditionalAccessPolicies} = %v", got)
	}

	pilot := env.sim.Policies()[8]
	if !strings.HasPrefix(pilot.Name, "CA020") {
		t.Fatalf("policy 8 is %q", pilot.Name)
	}
	// Rows created before the next read carry the old name; the rename happens, the inventory is
	// read at +10m, and rows created after it carry the new name.
	env.sim.Backfill(fixtureEpoch.Add(-20*time.Minute), fixtureEpoch.Add(-10*time.Minute), 1)
	if err := env.sim.RenamePolicy(pilot.ID, "CA020 - Require MFA for all apps"); err != nil {
		t.Fatal(err)
	}
	clk.Set(fixtureEpoch.Add(10 * time.Minute))
	if err := env.manager.pollPoliciesOnce(ctx, "fixture"); err != nil {
		t.Fatal(err)
	}
	if err := env.poll(t); err != nil { // reads the rows of -20m..-10m, older than the read
		t.Fatal(err)
	}
	if got := info()[pilot.ID]; !strings.HasPrefix(got, "CA020 - Require MFA for all apps|report_only|mfa") {
		t.Errorf("after the rename and older rows: %q", got)
	}
	if err := env.sim.RenamePolicy(pilot.ID, "CA020 - MFA everywhere"); err != nil {
		t.Fatal(err)
	}
	env.sim.Backfill(fixtureEpoch.Add(11*time.Minute), fixtureEpoch.Add(20*time.Minute), 1)
	clk.Set(fixtureEpoch.Add(30 * time.Minute))
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	if got := info()[pilot.ID]; got != "CA020 - MFA everywhere|report_only|mfa" {
		t.Errorf("a row created after the inventory read names the policy %q", got)
	}
}

func mapsEqualStr(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestPolicyInventoryWithoutPermission: without Policy.Read.All the inventory read fails with one
// clear log line (not one per read), does not raise entra_graph_access_problem (the inventory is
// optional), and sign-ins are still counted, with names from the rows. Granting the permission
// brings the inventory back.
func TestPolicyInventoryWithoutPermission(t *testing.T) {
	clk := &testClock{now: fixtureEpoch}
	env := newTestEnv(t, simtenant.Options{Seed: 6, RateLimit: -1, LatenessScale: -1}, fixtureSignIns(), clk.Now, t.TempDir())
	env.sim.SetPolicyReadAll(false)
	env.sim.Backfill(fixtureEpoch.Add(-20*time.Minute), fixtureEpoch.Add(-10*time.Minute), 1)
	ctx := context.Background()
	for range 3 {
		if err := env.manager.pollPoliciesOnce(ctx, "fixture"); err == nil {
			t.Fatal("inventory read succeeded without Policy.Read.All")
		}
	}
	if err := env.poll(t); err != nil {
		t.Fatalf("sign-ins without Policy.Read.All: %v", err)
	}
	logs := env.logs.String()
	if n := strings.Count(logs, "Conditional Access policy inventory not readable"); n != 1 {
		t.Errorf("%d log lines for three refused reads, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs, "Policy.Read.All") {
		t.Errorf("the log line does not name the permission:\n%s", logs)
	}
	m := env.manager.metrics
	if got := testutil.ToFloat64(m.PollErrors.WithLabelValues("fixture", sourcePolicies, "permission")); got != 3 {
		t.Errorf("poll_errors{source=conditionalAccessPolicies,reason=permission} = %v, want 3", got)
	}
	for _, r := range accessReasons {
		if got := testutil.ToFloat64(m.AccessProblem.WithLabelValues("fixture", sourcePolicies, r)); got != 0 {
			t.Errorf("access_problem{source=conditionalAccessPolicies,reason=%s} = %v: an optional read must not raise it", r, got)
		}
	}
	if got := env.sum(t, "entra_signins_total"); got == 0 {
		t.Error("no sign-in counted")
	}
	// Graph omits the policies from the rows: no evaluation, no policy info; requirement sources
	// and applications are still counted.
	if n := len(series(t, env.reg, "entra_ca_policy_evaluations_total")); n != 0 {
		t.Errorf("%d evaluation series without Policy.Read.All", n)
	}
	if env.sum(t, "entra_signins_by_requirement_source_total") != env.sum(t, "entra_signins_total") &&
		env.sum(t, "entra_signins_by_application_total") != env.sum(t, "entra_signins_total") {
		t.Error("requirement sources or applications not counted for every row")
	}

	env.sim.SetPolicyReadAll(true)
	if err := env.manager.pollPoliciesOnce(ctx, "fixture"); err != nil {
		t.Fatal(err)
	}
	if n := len(series(t, env.reg, "entra_ca_policy_info")); n != len(env.sim.Policies()) {
		t.Errorf("%d policy info series once the permission is granted, want %d", n, len(env.sim.Policies()))
	}
	if !strings.Contains(env.logs.String(), "Conditional Access policy inventory read again") {
		t.Error("the recovery is not logged")
	}
}

// The inventory shares the tenant's request budget: its requests go through the tenant's client
// (they show in the tenant's request metrics) and, with the simulated tenant limiting 5 requests
// per 250 ms while the exporter's budget is 5 per 500 ms, a sign-in poll and inventory reads side
// by side are never throttled.
func TestPolicyInventorySharesTheBudget(t *testing.T) {
	env := newTestEnvWith(t, simtenant.Options{Seed: 8, RateLimit: 5, RateWindow: 250 * time.Millisecond, PageSize: 50, LatenessScale: -1},
		fixtureSignIns(), time.Now, time.Now, t.TempDir(), nil)
	env.sim.Backfill(time.Now().Add(-30*time.Minute), time.Now().Add(-6*time.Minute), 0.5)
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { done <- env.manager.pollOnce(ctx, "fixture") }()
	for range 4 {
		if err := env.manager.pollPoliciesOnce(ctx, "fixture"); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := env.sim.Stats(); st.Throttled != 0 {
		t.Errorf("the simulated tenant throttled %d requests: the inventory bypassed the tenant's pacer", st.Throttled)
	}
	m := env.manager.metrics
	if got := testutil.ToFloat64(m.GraphRequests.WithLabelValues("fixture", sourcePolicies, "200")); got != 4 {
		t.Errorf("requests_total{endpoint=conditionalAccessPolicies,code=200} = %v, want 4 (the tenant's client)", got)
	}
	if got := testutil.ToFloat64(m.GraphRequests.WithLabelValues("fixture", sourceSignIns, "200")); got < 10 {
		t.Errorf("only %v sign-in pages: the two reads did not overlap", got)
	}
}

// The tracker's rules, as pure functions of their inputs.
func TestCoverageTrackerRules(t *testing.T) {
	at := func(m int) time.Time { return fixtureEpoch.Add(time.Duration(m) * time.Minute) }
	eval := func(result string, grants ...string) mfa.PolicyEvaluation {
		if len(grants) == 0 {
			grants = []string{mfa.LabelNone}
		}
		return mfa.PolicyEvaluation{Result: result, GrantControls: grants}
	}
	const p1, p2, p3 = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222", "33333333-3333-4333-8333-333333333333"
	tr := newCoverageTracker(config.Coverage{MaxPolicies: 2, MaxApplications: 1}, nil)

	// The newest row names the policy, whatever the order rows come in.
	tr.policy(p1, "new", eval(mfa.PolicyReportOnlyFailure, mfa.GrantBlock), at(10))
	tr.policy(p1, "old", eval(mfa.PolicyNotEnabled, mfa.GrantMFA), at(5))
	if e := tr.policies[p1]; e.Name.V != "new" || e.State.V != stateReportOnly || e.Grants.V != "block" {
		t.Errorf("older row overrode the newer: %+v", e)
	}
	// A newer row without name, controls or a state-giving result keeps what is known, and an
	// older informative row still fills what the newest did not say.
	tr.policy(p1, "", eval(mfa.PolicyUnknown), at(11))
	if e := tr.policies[p1]; e.Name.V != "new" || e.State.V != stateReportOnly || e.Grants.V != "block" {
		t.Errorf("an uninformative row erased the info: %+v", e)
	}
	tr.policy(p2, "", eval(mfa.PolicyUnknown), at(9))
	tr.policy(p2, "two", eval(mfa.PolicySuccess, mfa.GrantMFA), at(1))
	if e := tr.policies[p2]; e.Name.V != "two" || e.State.V != stateEnabled || e.Grants.V != "mfa" {
		t.Errorf("the older informative row did not fill in: %+v", e)
	}
	// Cap: the third distinct id is other, the known ones keep their own labels.
	if id, of := tr.policy(p3, "three", eval(mfa.PolicySuccess), at(1)); id != mfa.LabelOther || of != overflowCap {
		t.Errorf("third policy past a cap of 2: %q %q", id, of)
	}
	if id, _ := tr.policy(strings.ToUpper(p1), "x", eval(mfa.PolicySuccess), at(1)); id != p1 {
		t.Errorf("upper-case id: %q", id)
	}
	for _, bad := range []string{"", "other", "not-a-guid", p1 + " ", "11111111-1111-4111-8111-11111111111g", "11111111x1111-4111-8111-111111111111"} {
		if id, of := tr.policy(bad, "x", eval(mfa.PolicySuccess), at(1)); id != mfa.LabelOther || of != overflowInvalidID {
			t.Errorf("id %q: %q %q, want other invalid_id", bad, id, of)
		}
	}
	// The inventory read at +20m wins over older rows and loses to newer ones; a policy it no
	// longer lists is deleted; a listed policy with no room is refused.
	refused := tr.applyInventory([]inventoryPolicy{{id: p1, name: "inv", state: stateEnabled, grants: "mfa"}, {id: p3, name: "three", state: stateDisabled, grants: "none"}}, at(20))
	if refused != 1 {
		t.Errorf("refused %d, want 1 (p3, no room)", refused)
	}
	if e := tr.policies[p1]; e.Name.V != "inv" || e.State.V != stateEnabled || e.Grants.V != "mfa" {
		t.Errorf("inventory not applied: %+v", e)
	}
	if e := tr.policies[p2]; e.State.V != stateDeleted || e.Name.V != "two" {
		t.Errorf("policy gone from the inventory: %+v", e)
	}
	tr.policy(p1, "older row", eval(mfa.PolicyNotEnabled), at(15))
	tr.policy(p2, "two", eval(mfa.PolicySuccess), at(19))
	if tr.policies[p1].Name.V != "inv" || tr.policies[p2].State.V != stateDeleted {
		t.Errorf("rows older than the inventory changed it: %+v %+v", tr.policies[p1], tr.policies[p2])
	}
	tr.policy(p1, "renamed since", eval(mfa.PolicyReportOnlySuccess), at(25))
	if e := tr.policies[p1]; e.Name.V != "renamed since" || e.State.V != stateReportOnly {
		t.Errorf("a row newer than the inventory did not win: %+v", e)
	}

	// Applications: empty is none, invalid is other, the cap applies, names follow the newest row.
	if id, of := tr.app("", "x", at(1)); id != mfa.LabelNone || of != "" {
		t.Errorf("empty app id: %q %q", id, of)
	}
	tr.app("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Teams", at(2))
	tr.app("1FEC8E78-BCE4-4AAF-AB1B-5451CC387264", "Teams (old)", at(1))
	if id, of := tr.app("27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook", at(3)); id != mfa.LabelOther || of != overflowCap {
		t.Errorf("second app past a cap of 1: %q %q", id, of)
	}
	if e := tr.apps["1fec8e78-bce4-4aaf-ab1b-5451cc387264"]; e.Name.V != "Teams" {
		t.Errorf("app name %q, want the newest row's", e.Name)
	}

	// A restored state keeps every id, even past a lowered cap.
	st := &tenantState{Coverage: tr.export()}
	tr2 := newCoverageTracker(config.Coverage{MaxPolicies: 1, MaxApplications: 1}, st)
	if len(tr2.policies) != 2 || len(tr2.apps) != 1 {
		t.Errorf("restored %d policies and %d apps", len(tr2.policies), len(tr2.apps))
	}
	if id, _ := tr2.policy(p2, "two", eval(mfa.PolicySuccess), at(30)); id != p2 {
		t.Errorf("restored id past the lowered cap: %q", id)
	}
}

func TestCoverageLabelHelpers(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"  CA001 - MFA  ", "CA001 - MFA"},
		{"bad \xff\xfe byte", "bad \uFFFD byte"},
		{strings.Repeat("é", 200), strings.Repeat("é", 128)}, // 2 bytes each: cut at 256 bytes, on a rune boundary
		{strings.Repeat("a", 300), strings.Repeat("a", 256)},
	} {
		if got := infoName(tc.in); got != tc.want {
			t.Errorf("infoName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, "none"},
		{[]string{"none"}, "none"},
		// Catalogue order, whatever the row's order; each once.
		{[]string{mfa.GrantPasswordChange, mfa.GrantMFA, mfa.GrantMFA}, "mfa,password_change"},
		{[]string{mfa.LabelOther, mfa.GrantBlock}, "block,other"},
		{[]string{mfa.GrantAuthenticationStrength, mfa.GrantCompliantDevice, mfa.GrantDomainJoinedDevice}, "compliant_device,domain_joined_device,authentication_strength"},
	} {
		if got := joinGrants(tc.in); got != tc.want {
			t.Errorf("joinGrants(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if !slices.Equal([]string{"mfa", "block"}, []string{mfa.GrantMFA, mfa.GrantBlock}) {
		t.Fatal("grant control labels changed")
	}
}

// A policy or application nothing has named yet shows its id as its name, so that the info
// metric never has an empty label and a join always yields a name.
func TestCoverageInfoNamesFallBackToTheID(t *testing.T) {
	const p, a = "11111111-1111-4111-8111-111111111111", "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
	tr := newCoverageTracker(config.Coverage{}, nil)
	tr.policy(p, "   ", mfa.PolicyEvaluation{Result: mfa.PolicySuccess, GrantControls: []string{mfa.LabelNone}}, fixtureEpoch)
	tr.app(a, "", fixtureEpoch)
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.CollectorFunc(func(ch chan<- prometheus.Metric) { tr.collect("t", ch) }))
	info := series(t, reg, "entra_ca_policy_info")
	want := "grant_controls=none,policy_id=" + p + ",policy_name=" + p + ",state=enabled,tenant=t"
	if _, ok := info[want]; !ok || len(info) != 1 {
		t.Errorf("policy info %v, want %s", info, want)
	}
	apps := series(t, reg, "entra_application_info")
	if _, ok := apps["app_id="+a+",app_name="+a+",tenant=t"]; !ok || len(apps) != 1 {
		t.Errorf("application info %v", apps)
	}
}

// BenchmarkCountCoverage measures the coverage counting of one row listing 25 policies (a tenant
// with a typical Conditional Access set), on top of the existing classification.
func BenchmarkCountCoverage(b *testing.B) {
	s := &signInSource{tenant: "bench", counts: newTenantCounts("bench", nil), unknown: newUnknownLog(slog.New(slog.DiscardHandler), 10),
		coverage: newCoverageTracker(config.Coverage{}, nil)}
	r := &graph.SignIn{ID: "row", CreatedDateTime: fixtureEpoch, AppID: "1fec8e78-bce4-4aaf-ab1b-5451cc387264", AppDisplayName: "Microsoft Teams",
		AuthenticationRequirement:         "multiFactorAuthentication",
		AuthenticationRequirementPolicies: []graph.AuthenticationRequirementPolicy{{RequirementProvider: "multiConditionalAccess"}, {RequirementProvider: "user"}},
	}
	results := []string{"notApplied", "success", "reportOnlyNotApplied", "notEnabled", "reportOnlySuccess"}
	for i := range 25 {
		r.AppliedConditionalAccessPolicies = append(r.AppliedConditionalAccessPolicies, graph.AppliedConditionalAccessPolicy{
			ID: fmt.Sprintf("%08x-1111-4111-8111-111111111111", i), DisplayName: fmt.Sprintf("CA%03d - a policy", i),
			Result: results[i%len(results)], EnforcedGrantControls: []string{"Mfa"},
		})
	}
	in := toMFA(r)
	c := mfa.Classify(in)
	b.ReportAllocs()
	for b.Loop() {
		s.countCoverage(r, in, c)
	}
}
