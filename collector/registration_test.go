package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

var registrationFamilies = []string{
	"entra_registration_users", "entra_registration_users_disabled", "entra_registration_users_with_feature",
	"entra_registration_users_by_method", "entra_registration_users_by_system_preferred_method",
	"entra_registration_users_by_user_preferred_method", "entra_registration_users_without_mfa",
	"entra_registration_report_last_updated_timestamp_seconds",
}

// regEnv is a simulated tenant, a Manager in manual mode holding one tenant "fixture" configured
// as an operator would (custom cloud, CA file, client secret file), and a registration source
// that uses that tenant's real Graph client, so it shares the sign-in source's request budget.
type regEnv struct {
	sim     *simtenant.Tenant
	manager *Manager
	reg     *prometheus.Registry
	rm      *RegistrationMetrics
	source  *registrationSource
	client  *graph.Client
	logs    *logBuffer
}

var regNow = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func newRegEnv(t *testing.T, simOpts simtenant.Options) *regEnv {
	t.Helper()
	env := newTestEnvWith(t, simOpts, config.SignIns{}, time.Now, time.Now, "", func(o *graph.Options) {
		o.RetryBaseDelay = time.Millisecond
	})
	env.manager.mu.Lock()
	r := env.manager.tenants["fixture"]
	env.manager.mu.Unlock()
	if r == nil || r.client == nil {
		t.Fatalf("tenant not set up: %+v", r)
	}
	logger := slog.New(slog.NewTextHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	rm := env.manager.regGauges // registered by the Manager
	src := newRegistrationSource("fixture", env.manager.metrics, rm, logger, func() time.Time { return regNow })
	return &regEnv{sim: env.sim, manager: env.manager, reg: env.reg, rm: rm, source: src, client: r.client, logs: env.logs}
}

func (e *regEnv) poll(t *testing.T) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return e.source.poll(ctx, e.client)
}

func loadRegistrationTenant(t *testing.T, sim *simtenant.Tenant, edit func(*simtenant.RegistrationFixture)) {
	t.Helper()
	data, err := os.ReadFile("testdata/registration-tenant.json")
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		var f simtenant.RegistrationFixture
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		edit(&f)
		if data, err = json.Marshal(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := sim.LoadRegistrationFixture(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
}

func (e *regEnv) health(t *testing.T, reason string) float64 {
	t.Helper()
	return testutil.ToFloat64(e.manager.metrics.AccessProblem.WithLabelValues("fixture", sourceRegistration, reason))
}

// The fixture tenant (testdata/registration-tenant.json) holds one user per case: an admin with
// passwordless methods, a member whose name needs CSV quoting, a member with no method, a
// disabled member, an enabled and a disabled guest, an admin registered but not MFA-capable, a
// member with a method no catalogue knows, a member with accountEnabled null, a new user not yet
// in the report, a deleted user still in it and a user whose userType is null in the user list.
// testdata/registration.prom was worked out by hand from it.
func TestRegistrationGaugesExactForFixtureTenant(t *testing.T) {
	env := newRegEnv(t, simtenant.Options{PageSize: 3, RateLimit: 5, RateWindow: time.Second})
	loadRegistrationTenant(t, env.sim, nil)
	if err := env.poll(t); err != nil {
		t.Fatalf("poll: %v", err)
	}
	want, err := os.Open("testdata/registration.prom")
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	if err := testutil.GatherAndCompare(env.reg, want, registrationFamilies...); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(env.manager.metrics.LastSuccess.WithLabelValues("fixture", sourceRegistration)); got != float64(regNow.Unix()) {
		t.Errorf("last success = %v, want %v", got, regNow.Unix())
	}
	if got := testutil.ToFloat64(env.manager.metrics.Polls.WithLabelValues("fixture", sourceRegistration)); got != 1 {
		t.Errorf("polls = %v", got)
	}
	for _, r := range accessReasons {
		if v := env.health(t, r); v != 0 {
			t.Errorf("access_problem{reason=%s} = %v", r, v)
		}
	}
	// Users: 11 users / 3 per page = 4 pages; the report: 11 rows / 3 = 4 pages.
	if n := env.sim.Stats().Count(simtenant.RouteUsers, 200) + env.sim.Stats().Count(simtenant.RouteRegistrationDetails, 200); n != 8 {
		t.Errorf("pages read = %d, want 8", n)
	}
	if !strings.Contains(env.logs.String(), "value=qrCodePin") || strings.Count(env.logs.String(), "unclassified registration string") != 2 {
		t.Errorf("unknown strings (qrCodePin, unknownFutureValue) not logged once each:\n%s", env.logs)
	}
	assertNoUserIdentifiers(t, env)
}

// Graph documents no order for either read, and paging through a list that changes underneath
// can serve a row twice: a user listed twice and a report row served twice (the simulated tenant
// serves every copy, in a shuffled order) still count once, so the gauges are the hand-derived
// ones of the fixture.
func TestRegistrationRowsServedTwiceCountOnce(t *testing.T) {
	env := newRegEnv(t, simtenant.Options{PageSize: 4, RateLimit: -1})
	loadRegistrationTenant(t, env.sim, func(f *simtenant.RegistrationFixture) {
		copyOf := func(rows []map[string]any, upn string) map[string]any {
			for _, r := range rows {
				if r["userPrincipalName"] == upn {
					return maps.Clone(r)
				}
			}
			t.Fatalf("fixture has no %s", upn)
			return nil
		}
		f.Details = append(f.Details, copyOf(f.Details, "bob@contoso.example"), copyOf(f.Details, "dan@contoso.example"))
		f.Users = append(f.Users, copyOf(f.Users, "dan@contoso.example"), copyOf(f.Users, "grace@contoso.example"))
	})
	if err := env.poll(t); err != nil {
		t.Fatalf("poll: %v", err)
	}
	want, err := os.Open("testdata/registration.prom")
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	if err := testutil.GatherAndCompare(env.reg, want, registrationFamilies...); err != nil {
		t.Error(err)
	}
}

// assertNoUserIdentifiers checks that no label and no log line names a user.
func assertNoUserIdentifiers(t *testing.T, env *regEnv) {
	t.Helper()
	mfs, err := env.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				text.WriteString(l.GetValue() + "\n")
			}
		}
	}
	text.WriteString(env.logs.String())
	for _, who := range []string{"@contoso.example", "00000000-0000-4000-8000-0000000000", "Adèle", "Bob"} {
		if strings.Contains(text.String(), who) {
			t.Errorf("a label or log line contains %q", who)
		}
	}
}

// A refresh replaces the whole set: label combinations of the previous refresh that no longer
// occur (the guest, the unknown method) disappear instead of keeping their old values.
func TestRegistrationRefreshReplacesStaleSeries(t *testing.T) {
	env := newRegEnv(t, simtenant.Options{RateLimit: -1})
	loadRegistrationTenant(t, env.sim, nil)
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	if v := seriesValue(t, env.reg, "entra_registration_users_by_method", map[string]string{"method": "other"}); v != 1 {
		t.Fatalf("by_method{other} = %v before", v)
	}
	// Heidi (qrCodePin) and every guest leave; Bob loses his phone.
	loadRegistrationTenant(t, env.sim, func(f *simtenant.RegistrationFixture) {
		keep := f.Details[:0]
		for _, r := range f.Details {
			switch {
			case r["userType"] == "guest", r["userPrincipalName"] == "heidi@contoso.example":
				continue
			case r["userPrincipalName"] == "bob@contoso.example":
				r["methodsRegistered"] = []string{"microsoftAuthenticatorPush"}
			}
			keep = append(keep, r)
		}
		f.Details = keep
	})
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	if v := seriesValue(t, env.reg, "entra_registration_users_by_method", map[string]string{"method": "other"}); v != -1 {
		t.Errorf("by_method{other} still exported: %v", v)
	}
	if v := seriesValue(t, env.reg, "entra_registration_users_by_method", map[string]string{"method": "email"}); v != -1 {
		t.Errorf("by_method{email} (the guest's) still exported: %v", v)
	}
	if v := seriesValue(t, env.reg, "entra_registration_users_by_method", map[string]string{"method": "mobile_phone"}); v != 1 {
		t.Errorf("by_method{mobile_phone} = %v, want 1 (Ivan only)", v)
	}
	// The zero grid stays: a ratio over guests must read 0, not vanish.
	if v := seriesValue(t, env.reg, "entra_registration_users", map[string]string{"user_type": "guest", "admin": "false"}); v != 0 {
		t.Errorf("users{guest,false} = %v, want 0", v)
	}
	env.rm.deleteTenant("fixture")
	if v := seriesValue(t, env.reg, "entra_registration_users", map[string]string{"user_type": "member", "admin": "true"}); v != -1 {
		t.Errorf("series survive deleteTenant: %v", v)
	}
}

// seriesValue returns the value of the single series of family name whose labels include
// match, -1 when there is none.
func seriesValue(t *testing.T, g prometheus.Gatherer, name string, match map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := -1.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelsMatch(m, match) {
				if found != -1 {
					t.Fatalf("%s%v matches several series", name, match)
				}
				found = m.GetGauge().GetValue()
			}
		}
	}
	return found
}

func labelsMatch(m *dto.Metric, match map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := match[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(match)
}

// A Free/B2C tenant and each missing permission are named in one error line, set the source's
// access_problem, keep the last good gauges, and leave the sign-in source alone: its poll still
// succeeds with the same client and budget.
func TestRegistrationAccessProblemsLeaveSignInsAlone(t *testing.T) {
	env := newRegEnv(t, simtenant.Options{RateLimit: -1, NoPadding: true})
	loadRegistrationTenant(t, env.sim, nil)
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	before := seriesValue(t, env.reg, "entra_registration_users", map[string]string{"user_type": "member", "admin": "false"})

	tests := []struct {
		name, route, kind, reason string
		want                      []string
	}{
		{"free or B2C tenant", simtenant.RouteRegistrationDetails, simtenant.FaultLicense, "licence",
			[]string{"Authentication_RequestFromNonPremiumTenantOrB2CTenant", "Free", "B2C", "P1/P2"}},
		{"no AuditLog.Read.All", simtenant.RouteRegistrationDetails, simtenant.FaultPermission, "permission",
			[]string{"reading the registration report", "AuditLog.Read.All"}},
		{"no User.Read.All", simtenant.RouteUsers, simtenant.FaultPermission, "permission",
			[]string{"reading the user list", "User.Read.All"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.logs.mu.Lock()
			env.logs.b.Reset()
			env.logs.mu.Unlock()
			env.sim.InjectFault(simtenant.Fault{Kind: tt.kind, Route: tt.route, Count: 1 << 20})
			for range 2 {
				if err := env.poll(t); err == nil {
					t.Fatal("poll succeeded through the fault")
				}
			}
			logs := env.logs.String()
			if n := strings.Count(logs, "registration refresh failed;"); n != 1 {
				t.Errorf("error logged %d times over two polls, want once:\n%s", n, logs)
			}
			for _, w := range tt.want {
				if !strings.Contains(logs, w) {
					t.Errorf("log lacks %q:\n%s", w, logs)
				}
			}
			if v := env.health(t, tt.reason); v != 1 {
				t.Errorf("access_problem{reason=%s} = %v", tt.reason, v)
			}
			if got := seriesValue(t, env.reg, "entra_registration_users", map[string]string{"user_type": "member", "admin": "false"}); got != before {
				t.Errorf("gauges changed on a failed refresh: %v -> %v", before, got)
			}
			if err := env.manager.pollOnce(context.Background(), "fixture"); err != nil {
				t.Errorf("sign-in poll failed while registration is denied: %v", err)
			}
			for _, r := range accessReasons {
				if v := testutil.ToFloat64(env.manager.metrics.AccessProblem.WithLabelValues("fixture", sourceSignIns, r)); v != 0 {
					t.Errorf("sign-in access_problem{reason=%s} = %v", r, v)
				}
			}
			env.sim.ClearFaults()
			if err := env.poll(t); err != nil {
				t.Fatalf("poll after the fault cleared: %v", err)
			}
			if v := env.health(t, tt.reason); v != 0 {
				t.Errorf("access_problem{reason=%s} = %v after recovery", tt.reason, v)
			}
			if !strings.Contains(env.logs.String(), "registration refresh recovered") {
				t.Error("recovery not logged")
			}
		})
	}
	if v := testutil.ToFloat64(env.manager.metrics.PollErrors.WithLabelValues("fixture", sourceRegistration, "permission")); v != 4 {
		t.Errorf("poll_errors{permission} = %v, want 4", v)
	}
}

// Against the generated directory the totals match what the simulated tenant meant to produce.
func TestRegistrationGaugesMatchGeneratedTruth(t *testing.T) {
	env := newRegEnv(t, simtenant.Options{RateLimit: -1, Users: 400, Seed: 11})
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	truth := env.sim.RegistrationTruth()
	sum := func(name string) float64 {
		mfs, err := env.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		total := 0.0
		for _, mf := range mfs {
			if mf.GetName() == name {
				for _, m := range mf.GetMetric() {
					total += m.GetGauge().GetValue()
				}
			}
		}
		return total
	}
	if got, want := sum("entra_registration_users"), float64(truth.Users-truth.Disabled); got != want {
		t.Errorf("enabled users = %v, want %v", got, want)
	}
	if got := sum("entra_registration_users_disabled"); got != float64(truth.Disabled) {
		t.Errorf("disabled = %v, want %d", got, truth.Disabled)
	}
	// Every enabled user has exactly one user-preferred and at least one system-preferred label.
	if sum("entra_registration_users_by_user_preferred_method") != sum("entra_registration_users") {
		t.Error("user-preferred counts do not add up to the users")
	}
	if v := seriesValue(t, env.reg, "entra_registration_report_last_updated_timestamp_seconds", nil); v <= 0 {
		t.Errorf("report freshness = %v", v)
	}
}
