package simtenant

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// coveredRow is the coverage part of a served row.
type coveredRow struct {
	AppID          string `json:"appId"`
	AppDisplayName string `json:"appDisplayName"`
	Requirement    string `json:"authenticationRequirement"`
	Providers      []struct {
		Provider string `json:"requirementProvider"`
	} `json:"authenticationRequirementPolicies"`
	Policies *[]struct {
		ID     string   `json:"id"`
		Name   string   `json:"displayName"`
		Result string   `json:"result"`
		Grants []string `json:"enforcedGrantControls"`
	} `json:"appliedConditionalAccessPolicies"`
}

// coverageFromRows recomputes CoverageTruth from served JSON with the simulator's own wire tables,
// so it checks that the JSON says what the generator recorded.
func coverageFromRows(t *testing.T, raws []json.RawMessage) CoverageTruth {
	t.Helper()
	sources := map[string]string{}
	for label, wire := range providerWire {
		sources[wire] = label
	}
	got := CoverageTruth{Sources: map[string]int{}, Policies: map[PolicyKey]int{}, Apps: map[string]int{}}
	for _, raw := range raws {
		var r coveredRow
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		app := r.AppID
		if app == "" {
			app = SourceNone
		}
		got.Apps[app]++
		if len(r.Providers) == 0 {
			got.Sources[SourceNone]++
		}
		for _, p := range r.Providers {
			label, ok := sources[p.Provider]
			if !ok {
				label = SourceOther
			}
			got.Sources[label]++
		}
		if r.Policies == nil {
			t.Fatalf("row without appliedConditionalAccessPolicies: %.300s", raw)
		}
		for _, p := range *r.Policies {
			label, ok := resultLabel[p.Result]
			if !ok {
				label = SourceOther
			}
			got.Policies[PolicyKey{p.ID, label}]++
		}
	}
	return got
}

func compareCounts[K comparable](t *testing.T, what string, got, want map[K]int) {
	t.Helper()
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s %v: served %d, truth %d", what, k, got[k], n)
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s %v: served %d, not in the truth", what, k, n)
		}
	}
}

func TestCoverageTruthMatchesServedRows(t *testing.T) {
	for _, padded := range []bool{false, true} {
		tn, clock := backfilled(t, Options{Seed: 21, NoPadding: !padded})
		clock.Advance(time.Hour)
		rows := readAll(t, tn, signInsURL(tn, "$filter", bothTypes), token(t, tn), preferAll)
		want := tn.Truth().Coverage
		got := coverageFromRows(t, rows)
		compareCounts(t, "source", got.Sources, want.Sources)
		compareCounts(t, "policy", got.Policies, want.Policies)
		compareCounts(t, "app", got.Apps, want.Apps)
	}
}

// The mix the dashboards and alerts need: every policy listed on every row, enforced policies
// that succeed and fail, report-only policies that would block and would prompt, per-user MFA,
// risk, rows without a provider, a few dozen applications, and the rare unknown strings.
func TestCoverageMix(t *testing.T) {
	tn, _ := backfilled(t, Options{Seed: 22})
	truth := tn.Truth()
	cov := truth.Coverage
	rows := 0
	for _, n := range truth.Rows {
		rows += n
	}
	for _, p := range tn.Policies() {
		total := 0
		for k, n := range cov.Policies {
			if k.ID == p.ID {
				total += n
			}
		}
		if total != rows {
			t.Errorf("policy %s listed on %d of %d rows, want every row", p.Name, total, rows)
		}
	}
	for _, want := range []struct {
		policy, result string
	}{
		{"CA003 - Require MFA for all users", "success"},
		{"CA003 - Require MFA for all users", "failure"},
		{"CA001 - Require MFA for administrators", "success"},
		{"CA008 - Require MFA for medium and high sign-in risk", "success"},
		{"CA005 - Block access from unsupported countries", "failure"},
		{"CA004 - Require compliant device for Office 365", "report_only_failure"},
		{"CA004 - Require compliant device for Office 365", "report_only_success"},
		{"CA020 - Require MFA for all apps (pilot)", "report_only_interrupted"},
		{"CA013 - Require phishing-resistant MFA for admins", "report_only_interrupted"},
		{"CA022 - Block device code flow", "report_only_failure"},
		{"CA030 - Require MFA for legacy VPN (retired)", "not_enabled"},
		{"CA020 - Require MFA for all apps (pilot)", "other"},
	} {
		i := slices.IndexFunc(simPolicies, func(p simPolicy) bool { return p.name == want.policy })
		if i < 0 {
			t.Fatalf("no policy %q", want.policy)
		}
		if cov.Policies[PolicyKey{simPolicies[i].id, want.result}] == 0 {
			t.Errorf("%s never %s", want.policy, want.result)
		}
	}
	for _, s := range []string{SourcePerUser, SourceCA, SourceRisk, SourceSessionRisk, SourceRequest, SourceRegisterCA, SourceNone, SourceOther} {
		if cov.Sources[s] == 0 {
			t.Errorf("requirement source %s never generated", s)
		}
	}
	// Per-user MFA alone (no Conditional Access) and together with it both occur.
	if cov.Sources[SourcePerUser] >= cov.Sources[SourceCA] {
		t.Errorf("per-user MFA (%d rows) should be a minority next to Conditional Access (%d)", cov.Sources[SourcePerUser], cov.Sources[SourceCA])
	}
	if n := len(cov.Apps); n < 30 || n > len(simApps)+1 {
		t.Errorf("%d applications signed into, want a few dozen", n)
	}
	if cov.Apps[SourceNone] == 0 {
		t.Error("no row without appId (NPS extension, AD FS adapter)")
	}
}

func TestPolicyInventory(t *testing.T) {
	tn := start(t, Options{RateLimit: -1, PageSize: 4})
	tok := token(t, tn)
	query := "?$select=" + url.QueryEscape("id,displayName,state,grantControls")
	type policy struct {
		ID            string `json:"id"`
		Name          string `json:"displayName"`
		State         string `json:"state"`
		Created       any    `json:"createdDateTime"`
		GrantControls *struct {
			BuiltIn  []string        `json:"builtInControls"`
			Strength json.RawMessage `json:"authenticationStrength"`
		} `json:"grantControls"`
	}
	var got []policy
	pages := 0
	for next := tn.GraphEndpoint() + RoutePolicies + query; next != ""; pages++ {
		p := decodePage(t, get(t, tn, next, tok, nil))
		for _, raw := range p.Value {
			var pol policy
			if err := json.Unmarshal(raw, &pol); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(raw), "createdDateTime") {
				t.Errorf("$select ignored: %s", raw)
			}
			got = append(got, pol)
		}
		next = p.NextLink
	}
	if pages != 3 || len(got) != numPolicies {
		t.Fatalf("%d policies in %d pages, want %d in 3", len(got), pages, numPolicies)
	}
	states := map[string]int{}
	for _, p := range got {
		states[p.State]++
		i := slices.IndexFunc(simPolicies, func(s simPolicy) bool { return s.id == p.ID })
		if i < 0 || simPolicies[i].name != p.Name {
			t.Errorf("policy %s %q is not the tenant's", p.ID, p.Name)
			continue
		}
		if p.GrantControls == nil || (simPolicies[i].strength != (string(p.GrantControls.Strength) != "null")) {
			t.Errorf("policy %q: grant controls %+v", p.Name, p.GrantControls)
		}
	}
	if states[PolicyStateOn] != 6 || states[PolicyStateReportOnly] != 4 || states[PolicyStateOff] != 1 {
		t.Errorf("states %v, want 6 on, 4 report-only, 1 off", states)
	}

	if r := get(t, tn, tn.GraphEndpoint()+RoutePolicies+"?$filter="+url.QueryEscape("state eq 'enabled'"), tok, nil); r.status != http.StatusBadRequest {
		t.Errorf("$filter: status %d, want 400 (not simulated)", r.status)
	}
	if r := get(t, tn, tn.GraphEndpoint()+RoutePolicies, "", nil); r.status != http.StatusUnauthorized {
		t.Errorf("no token: status %d, want 401", r.status)
	}

	id := simPolicies[polPilotMFA].id
	if err := tn.RenamePolicy(id, "CA020 - Require MFA for all apps"); err != nil {
		t.Fatal(err)
	}
	if err := tn.RenamePolicy("not-a-policy", "x"); err == nil {
		t.Error("renaming an unknown policy succeeded")
	}
	p := decodePage(t, get(t, tn, tn.GraphEndpoint()+RoutePolicies+"?$top=100", tok, nil))
	if all := strings.Join(rawStrings(p.Value), ""); !strings.Contains(all, `"displayName":"CA020 - Require MFA for all apps"`) {
		t.Errorf("the inventory does not show the new name")
	}
	// Rows generated after the rename carry it too.
	tn.Backfill(epoch.Add(-time.Minute), epoch, 1)
	rows := readAll(t, tn, signInsURL(tn), tok, nil)
	if len(rows) == 0 || !strings.Contains(strings.Join(rawStrings(rows), ""), `"displayName":"CA020 - Require MFA for all apps"`) {
		t.Errorf("rows generated after the rename do not carry the new name")
	}
}

func rawStrings(raws []json.RawMessage) []string {
	out := make([]string, len(raws))
	for i, r := range raws {
		out[i] = string(r)
	}
	return out
}

// Without Policy.Read.All the inventory answers 403 and sign-in rows come without their policies;
// granting it again restores both.
func TestPolicyReadAllEnforced(t *testing.T) {
	tn, clock := backfilled(t, Options{Seed: 23})
	clock.Advance(time.Hour)
	tok := token(t, tn)
	tn.SetPolicyReadAll(false)
	r := get(t, tn, tn.GraphEndpoint()+RoutePolicies, tok, nil)
	if r.status != http.StatusForbidden || graphErrorCode(t, r.body) != "Authorization_RequestDenied" {
		t.Errorf("inventory without Policy.Read.All: %d %s", r.status, r.body)
	}
	p := decodePage(t, get(t, tn, signInsURL(tn, "$top", "50"), tok, nil))
	for _, raw := range p.Value {
		if strings.Contains(string(raw), "appliedConditionalAccessPolicies") {
			t.Fatalf("row served with its policies despite the missing permission: %.200s", raw)
		}
		if !strings.Contains(string(raw), "authenticationRequirementPolicies") {
			t.Fatalf("row lost more than its policies: %.200s", raw)
		}
	}
	tn.SetPolicyReadAll(true)
	if r := get(t, tn, tn.GraphEndpoint()+RoutePolicies, tok, nil); r.status != http.StatusOK {
		t.Errorf("inventory with Policy.Read.All: %d", r.status)
	}
	p = decodePage(t, get(t, tn, signInsURL(tn, "$top", "50"), tok, nil))
	if !strings.Contains(string(p.Value[0]), "appliedConditionalAccessPolicies") {
		t.Error("policies still missing once the permission is granted")
	}
}

func TestFloodCoverage(t *testing.T) {
	clock := newFakeClock(epoch)
	tn := start(t, Options{Seed: 24, NoPadding: true, Now: clock.Now, RateLimit: -1})
	tn.FloodCoverage(2500, 700)
	for i := 0; ; i++ {
		if p, a := tn.FloodRemaining(); p == 0 && a == 0 {
			break
		}
		if i > 100 {
			t.Fatal("the flood never ends")
		}
		tn.Backfill(epoch.Add(-time.Duration(i+1)*time.Minute), epoch.Add(-time.Duration(i)*time.Minute), 10)
	}
	cov := tn.Truth().Coverage
	flooded := map[string]bool{}
	for k := range cov.Policies {
		if strings.HasPrefix(k.ID, "f100d00c-") {
			flooded[k.ID] = true
		}
	}
	apps := 0
	for id := range cov.Apps {
		if strings.HasPrefix(id, "f100d00a-") {
			apps++
		}
	}
	if len(flooded) != 2500 || apps != 700 {
		t.Errorf("flooded %d policies and %d applications, want 2500 and 700", len(flooded), apps)
	}
	clock.Advance(time.Hour)
	rows := readAll(t, tn, signInsURL(tn, "$filter", bothTypes), token(t, tn), preferAll)
	got := coverageFromRows(t, rows)
	compareCounts(t, "policy", got.Policies, cov.Policies)
	compareCounts(t, "app", got.Apps, cov.Apps)
}
