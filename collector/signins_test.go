package collector

import (
	"slices"
	"testing"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
)

// The counting of one row, by table: no Graph, no clock, no state store. The cursor planning has
// its own tables in cursor_test.go; the whole pipeline is tested against the simulated tenant in
// integration_test.go and contract_test.go.

func TestAdmit(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	w := window{From: t0, To: t0.Add(10 * time.Second)}
	seen := map[string]int64{"seen": t0.Add(5 * time.Second).UnixNano()}
	cases := []struct {
		name    string
		id      string
		created time.Time
		want    admission
	}{
		{"inside", "a", t0.Add(5 * time.Second), admitCount},
		{"lower bound is inclusive (ge)", "a", t0, admitCount},
		{"upper bound is inclusive (le)", "a", w.To, admitCount},
		// Graph compares with a whole-second bound; a row at To+0.999 s may come back from
		// "le To", and the next window, which starts at To, returns it as well.
		{"sub-second past the upper bound", "a", w.To.Add(999 * time.Millisecond), admitCount},
		{"a second past the upper bound", "a", w.To.Add(time.Second), admitAfter},
		{"far after (upper bound ignored)", "a", w.To.Add(time.Hour), admitAfter},
		{"a nanosecond before the window", "a", t0.Add(-time.Nanosecond), admitBefore},
		{"far before (lower bound ignored)", "a", t0.Add(-24 * time.Hour), admitBefore},
		{"no id, inside", "", t0.Add(time.Second), admitMalformed},
		{"no id, outside: still malformed", "", t0.Add(-time.Hour), admitMalformed},
		{"id already counted", "seen", t0.Add(5 * time.Second), admitDuplicate},
		{"id already counted, row moved in time", "seen", t0.Add(7 * time.Second), admitDuplicate},
		// Outside wins over duplicate: the row is neither counted nor remembered here, and the
		// read whose window holds it finds the id remembered.
		{"id already counted, outside the window", "seen", t0.Add(-time.Minute), admitBefore},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := admit(c.id, c.created, w, seen); got != c.want {
				t.Errorf("admit(%q, %s) = %d, want %d", c.id, c.created.Format(time.RFC3339Nano), got, c.want)
			}
		})
	}
	if len(seen) != 1 {
		t.Errorf("admit changed the remembered ids: %v", seen)
	}
}

func TestLateRow(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	cur := cursors{Gaps: []interval{{From: t0, To: t0.Add(30 * time.Minute)}}}
	cases := []struct {
		pass    string
		created time.Time
		want    bool
	}{
		{passReconcile, t0.Add(time.Hour), true},
		{passReconcile, t0.Add(10 * time.Minute), false}, // in the gap: no fresh read saw its range
		{passReconcile, t0, false},                       // a gap starts at From (inclusive)
		{passReconcile, t0.Add(30 * time.Minute), true},  // and ends before To (exclusive)
		{passFresh, t0.Add(time.Hour), false},
		{passBacklog, t0.Add(time.Hour), false},
		{passBacklog, t0.Add(10 * time.Minute), false},
	}
	for _, c := range cases {
		if got := lateRow(c.pass, cur, c.created); got != c.want {
			t.Errorf("lateRow(%s, %s) = %v, want %v", c.pass, c.created.Format(time.RFC3339), got, c.want)
		}
	}
	if lateRow(passReconcile, cursors{}, t0) != true {
		t.Error("without gaps, every row the reconcile pass counts is late")
	}
}

// rowSeriesWant is one expected increment: the family's metric name and its label values without the
// tenant, in the order metricdef/specs.go declares them.
type rowSeriesWant struct {
	metric string
	values []string
}

// familyNames names the durable families a row counts in, written out by hand: a row counted in
// the wrong family shows under the wrong name.
var familyNames = map[*durableFamily]string{
	familySignIns:         "entra_signins_total",
	familySignInsByClient: "entra_signins_by_client_app_total",
	familyMFAAttempts:     "entra_mfa_attempts_total",
	familyUnclassified:    "entra_mfa_unclassified_strings_total",
}

func seriesOf(incs rowIncrements) []rowSeriesWant {
	var out []rowSeriesWant
	for _, id := range incs.series() {
		name, ok := familyNames[id.f]
		if !ok {
			name = "unknown family"
		}
		// Values past the family's labels must stay empty: they are part of the series' identity.
		for _, v := range id.v[len(id.f.labels):] {
			if v != "" {
				name += " (stray label value " + v + ")"
			}
		}
		out = append(out, rowSeriesWant{name, slices.Clone(id.v[:len(id.f.labels)])})
	}
	return out
}

func TestRowSeries(t *testing.T) {
	push := mfa.Classification{Requirement: "multi_factor", Result: "success", Outcome: "satisfied",
		Method: "mobile_app_notification", Reason: "completed_in_cloud", ResultCode: "SUCCESS_WITH_PIN",
		ErrorCode: "0", Component: "cloud"}
	denied := mfa.Classification{Requirement: "multi_factor", Result: "failure", Outcome: "denied",
		Method: "mobile_app_notification", Reason: "user_declined", ResultCode: "FAILED_PHONE_APP_DENIED",
		ErrorCode: "500121", Component: "nps_extension"}
	interrupted := mfa.Classification{Requirement: "multi_factor", Result: "interrupted", Outcome: "interrupted",
		Method: "none", Reason: "none", ResultCode: "none", ErrorCode: "50074", Component: "cloud"}
	single := mfa.Classification{Requirement: "single_factor", Result: "success", Outcome: "not_required",
		Method: "none", Reason: "none", ResultCode: "none", ErrorCode: "0", Component: "cloud"}
	cases := []struct {
		name string
		row  graph.SignIn
		c    mfa.Classification
		want []rowSeriesWant
	}{
		{"interactive push satisfied in a browser",
			graph.SignIn{SignInEventTypes: []string{"interactiveUser"}, ClientAppUsed: "Browser"}, push,
			[]rowSeriesWant{
				{"entra_signins_total", []string{"interactive", "multi_factor", "success", "satisfied", "0"}},
				{"entra_signins_by_client_app_total", []string{"browser", "multi_factor", "satisfied"}},
				{"entra_mfa_attempts_total", []string{"mobile_app_notification", "satisfied", "completed_in_cloud", "SUCCESS_WITH_PIN", "cloud"}},
			}},
		// Result (failure) and outcome (denied) differ: each goes to its own label.
		{"denied through the NPS extension",
			graph.SignIn{SignInEventTypes: []string{"interactiveUser"}, ClientAppUsed: "Mobile Apps and Desktop clients"}, denied,
			[]rowSeriesWant{
				{"entra_signins_total", []string{"interactive", "multi_factor", "failure", "denied", "500121"}},
				{"entra_signins_by_client_app_total", []string{"mobile_desktop", "multi_factor", "denied"}},
				{"entra_mfa_attempts_total", []string{"mobile_app_notification", "denied", "user_declined", "FAILED_PHONE_APP_DENIED", "nps_extension"}},
			}},
		{"interrupt: a sign-in, not an MFA attempt",
			graph.SignIn{SignInEventTypes: []string{"interactiveUser"}, ClientAppUsed: "Exchange ActiveSync"}, interrupted,
			[]rowSeriesWant{
				{"entra_signins_total", []string{"interactive", "multi_factor", "interrupted", "interrupted", "50074"}},
				{"entra_signins_by_client_app_total", []string{"exchange_activesync", "multi_factor", "interrupted"}},
			}},
		{"non-interactive single factor",
			graph.SignIn{SignInEventTypes: []string{"nonInteractiveUser"}, ClientAppUsed: "Mobile Apps and Desktop clients"}, single,
			[]rowSeriesWant{
				{"entra_signins_total", []string{"non_interactive", "single_factor", "success", "not_required", "0"}},
				{"entra_signins_by_client_app_total", []string{"mobile_desktop", "single_factor", "not_required"}},
			}},
		// v1.0 rows carry no signInEventTypes: isInteractive decides.
		{"v1.0 row, isInteractive", graph.SignIn{IsInteractive: true, ClientAppUsed: "Browser"}, single,
			[]rowSeriesWant{
				{"entra_signins_total", []string{"interactive", "single_factor", "success", "not_required", "0"}},
				{"entra_signins_by_client_app_total", []string{"browser", "single_factor", "not_required"}},
			}},
		{"v1.0 row, not interactive", graph.SignIn{ClientAppUsed: "Browser"}, single,
			[]rowSeriesWant{
				{"entra_signins_total", []string{"non_interactive", "single_factor", "success", "not_required", "0"}},
				{"entra_signins_by_client_app_total", []string{"browser", "single_factor", "not_required"}},
			}},
		{"unknown client app", graph.SignIn{SignInEventTypes: []string{"interactiveUser"}, ClientAppUsed: "Carrier pigeon"}, single,
			[]rowSeriesWant{
				{"entra_signins_total", []string{"interactive", "single_factor", "success", "not_required", "0"}},
				{"entra_signins_by_client_app_total", []string{"other", "single_factor", "not_required"}},
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := seriesOf(rowSeries(&c.row, c.c))
			if !slices.EqualFunc(got, c.want, func(a, b rowSeriesWant) bool { return a.metric == b.metric && slices.Equal(a.values, b.values) }) {
				t.Errorf("rowSeries:\n got %v\nwant %v", got, c.want)
			}
		})
	}
}

// TestCountOneRow follows rows from Graph's shape to the series they count in, through the real
// classifier. Expected labels are derived by hand from Microsoft's MFA reporting tables
// (../shared/reference/mfa-vocabulary.md): a push the user declined is reason user_declined,
// result code FAILED_PHONE_APP_DENIED, sign-in error 500121.
func TestCountOneRow(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 5, 0, time.UTC)
	declined := graph.SignIn{
		ID: "1", CreatedDateTime: t0, SignInEventTypes: []string{"interactiveUser"}, ClientAppUsed: "Browser",
		Status:                    graph.Status{ErrorCode: 500121, FailureReason: "Authentication failed during strong authentication request.", AdditionalDetails: "MFA denied; user declined the authentication"},
		AuthenticationRequirement: "multiFactorAuthentication",
		AuthenticationDetails: []graph.AuthenticationDetail{
			{AuthenticationMethod: "Password", AuthenticationStepRequirement: "Primary authentication", AuthenticationStepResultDetail: "Correct password", Succeeded: true},
			{AuthenticationMethod: "Mobile app notification", AuthenticationStepRequirement: "Multi-factor authentication", AuthenticationStepResultDetail: "MFA denied; user declined the authentication", Succeeded: false},
		},
	}
	got := seriesOf(rowSeries(&declined, mfa.Classify(toMFA(&declined))))
	want := []rowSeriesWant{
		{"entra_signins_total", []string{"interactive", "multi_factor", "failure", "denied", "500121"}},
		{"entra_signins_by_client_app_total", []string{"browser", "multi_factor", "denied"}},
		{"entra_mfa_attempts_total", []string{"mobile_app_notification", "denied", "user_declined", "FAILED_PHONE_APP_DENIED", "cloud"}},
	}
	if !slices.EqualFunc(got, want, func(a, b rowSeriesWant) bool { return a.metric == b.metric && slices.Equal(a.values, b.values) }) {
		t.Errorf("declined push:\n got %v\nwant %v", got, want)
	}
}
