package mfa

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The requirementProvider enum as Microsoft's beta authenticationRequirementPolicy
// page lists it, copied by hand; each must be known, and its label is written
// out here rather than derived from the catalogue.
func TestRequirementSource(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  string
		known bool
	}{
		{"user", SourcePerUserMFA, true},
		{"request", "request", true},
		{"servicePrincipal", "service_principal", true},
		{"v1ConditionalAccess", "v1_conditional_access", true},
		{"multiConditionalAccess", "multi_conditional_access", true},
		{"tenantSessionRiskPolicy", "tenant_session_risk_policy", true},
		{"accountCompromisePolicies", "account_compromise_policies", true},
		{"v1ConditionalAccessDependency", "v1_conditional_access_dependency", true},
		{"v1ConditionalAccessPolicyIdRequested", "v1_conditional_access_policy_id_requested", true},
		{"mfaRegistrationRequiredByIdentityProtectionPolicy", "mfa_registration_required_by_identity_protection_policy", true},
		{"baselineProtection", "baseline_protection", true},
		{"mfaRegistrationRequiredByBaselineProtection", "mfa_registration_required_by_baseline_protection", true},
		{"mfaRegistrationRequiredByMultiConditionalAccess", "mfa_registration_required_by_multi_conditional_access", true},
		{"enforcedForCspAdmins", "enforced_for_csp_admins", true},
		{"securityDefaults", "security_defaults", true},
		{"mfaRegistrationRequiredBySecurityDefaults", "mfa_registration_required_by_security_defaults", true},
		{"proofUpCodeRequest", "proof_up_code_request", true},
		{"crossTenantOutboundRule", "cross_tenant_outbound_rule", true},
		{"gpsLocationCondition", "gps_location_condition", true},
		{"riskBasedPolicy", "risk_based_policy", true},
		{"unknownFutureValue", "unknown_future_value", true},
		{"scopeBasedAuthRequirementPolicy", "scope_based_auth_requirement_policy", true},
		{"authenticationStrengths", "authentication_strengths", true},
		// Case and spacing drift.
		{"User", SourcePerUserMFA, true},
		{"MultiConditionalAccess", "multi_conditional_access", true},
		{" securitydefaults ", "security_defaults", true},
		// Nothing named: the row's own "none".
		{"", LabelNone, true},
		{"  ", LabelNone, true},
		// Unknown values fall to other and say so.
		{"quantumEntanglementPolicy", LabelOther, false},
		{"Per-user MFA", LabelOther, false}, // the detail text, not a provider
		{"none", LabelOther, false},         // not a wire value: only an empty list means none
	} {
		got, known := RequirementSource(tc.in)
		if got != tc.want || known != tc.known {
			t.Errorf("RequirementSource(%q) = %q, %v; want %q, %v", tc.in, got, known, tc.want, tc.known)
		}
	}
}

// The appliedConditionalAccessPolicy result enum from Microsoft's beta page.
func TestPolicyResult(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  string
		known bool
	}{
		{"success", "success", true},
		{"failure", "failure", true},
		{"notApplied", "not_applied", true},
		{"notEnabled", "not_enabled", true},
		{"unknown", "unknown", true},
		{"unknownFutureValue", "unknown_future_value", true},
		{"reportOnlySuccess", "report_only_success", true},
		{"reportOnlyFailure", "report_only_failure", true},
		{"reportOnlyNotApplied", "report_only_not_applied", true},
		{"reportOnlyInterrupted", "report_only_interrupted", true},
		{"ReportOnlyFailure", "report_only_failure", true},
		{"", "unknown", true},
		{"reportOnlyBlocked", LabelOther, false},
		{"3", LabelOther, false},
	} {
		got, known := PolicyResult(tc.in)
		if got != tc.want || known != tc.known {
			t.Errorf("PolicyResult(%q) = %q, %v; want %q, %v", tc.in, got, known, tc.want, tc.known)
		}
	}
}

// Sign-in rows spell grant controls as in published rows ("Mfa",
// "RequireCompliantDevice"), the policy API as its builtInControls enum, and
// the Graph page's own example as the portal's wording.
func TestGrantControl(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  string
		known bool
	}{
		{"Mfa", "mfa", true},
		{"mfa", "mfa", true},
		{"Require multi-factor authentication", "mfa", true},
		{"Block", "block", true},
		{"block", "block", true},
		{"RequireCompliantDevice", "compliant_device", true},
		{"compliantDevice", "compliant_device", true},
		{"RequireDomainJoinedDevice", "domain_joined_device", true},
		{"domainJoinedDevice", "domain_joined_device", true},
		{"RequireApprovedApp", "approved_application", true},
		{"approvedApplication", "approved_application", true},
		{"RequireCompliantApp", "compliant_application", true},
		{"compliantApplication", "compliant_application", true},
		{"RequirePasswordChange", "password_change", true},
		{"passwordChange", "password_change", true},
		{"RequireAuthenticationStrength:Phishing-resistant MFA", "authentication_strength", true},
		{"RequireAuthenticationStrength", "authentication_strength", true},
		{"authenticationStrength", "authentication_strength", true},
		{"unknownFutureValue", "unknown_future_value", true},
		{"", LabelNone, true},
		{":orphan name", LabelNone, true},
		{"RequireDuoMfa", LabelOther, false}, // a custom control: tenant-chosen name
		{"Mfa:extra", "mfa", true},
	} {
		got, known := GrantControl(tc.in)
		if got != tc.want || known != tc.known {
			t.Errorf("GrantControl(%q) = %q, %v; want %q, %v", tc.in, got, known, tc.want, tc.known)
		}
	}
}

func TestClassifyCoverage(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   SignIn
		want Coverage
	}{
		{"no providers, no policies", SignIn{},
			Coverage{Sources: []string{"none"}}},
		{"empty provider strings only", SignIn{RequirementProviders: []string{"", " "}},
			Coverage{Sources: []string{"none"}}},
		{"two providers count under each, in catalogue order",
			SignIn{RequirementProviders: []string{"multiConditionalAccess", "user"}},
			Coverage{Sources: []string{"per_user_mfa", "multi_conditional_access"}}},
		{"a provider listed twice counts once",
			SignIn{RequirementProviders: []string{"user", "User", ""}},
			Coverage{Sources: []string{"per_user_mfa"}}},
		{"unknown providers fall to other, reported once",
			SignIn{RequirementProviders: []string{"quantumPolicy", "securityDefaults", "quantumPolicy", "telepathy"}},
			Coverage{Sources: []string{"security_defaults", "other"},
				Unknown: []Unknown{{FieldRequirementProvider, "quantumPolicy"}, {FieldRequirementProvider, "telepathy"}}}},
		{"policies: results and grant controls",
			SignIn{RequirementProviders: []string{"multiConditionalAccess"}, Policies: []AppliedPolicy{
				{ID: "a", Result: "reportOnlyFailure", GrantControls: []string{"Block"}},
				{ID: "b", Result: "success", GrantControls: []string{"RequireCompliantDevice", "Mfa"}},
				{ID: "c", Result: "notEnabled"},
				{ID: "d", Result: "reportOnlyBlocked", GrantControls: []string{"RequireDuoMfa", "Mfa", "mfa"}},
				{ID: "e", Result: "", GrantControls: []string{"RequireAuthenticationStrength:Phishing-resistant MFA"}},
			}},
			Coverage{Sources: []string{"multi_conditional_access"}, Policies: []PolicyEvaluation{
				{ID: "a", Result: "report_only_failure", GrantControls: []string{"block"}},
				{ID: "b", Result: "success", GrantControls: []string{"mfa", "compliant_device"}},
				{ID: "c", Result: "not_enabled", GrantControls: []string{"none"}},
				{ID: "d", Result: "other", GrantControls: []string{"mfa", "other"}},
				{ID: "e", Result: "unknown", GrantControls: []string{"authentication_strength"}},
			}, Unknown: []Unknown{{FieldPolicyResult, "reportOnlyBlocked"}, {FieldGrantControl, "RequireDuoMfa"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ClassifyCoverage(tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ClassifyCoverage:\n got %+v\nwant %+v", got, tc.want)
			}
			checkCoverage(t, tc.in, got)
		})
	}
}

// The coverage classification must not disturb the MFA classification: a
// row's Classify result is the same with or without coverage inputs.
func TestCoverageInputsDoNotChangeClassify(t *testing.T) {
	for _, tc := range loadFixtures(t).Cases {
		in := tc.In
		in.RequirementProviders = []string{"user", "brandNew"}
		in.Policies = []AppliedPolicy{{ID: "p", Result: "weird", GrantControls: []string{"Mfa"}}}
		if d := diff(Classify(in), tc.Want); d != "" {
			t.Errorf("%s: coverage inputs changed Classify:%s", tc.Name, d)
		}
	}
}

func TestCoverageCataloguesAreConsistent(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	for name, tc := range map[string]struct {
		entries []Entry
		norm    func(string) (string, bool)
	}{
		"requirement_source": {RequirementSources(), RequirementSource},
		"policy_result":      {PolicyResults(), PolicyResult},
		"grant_control":      {GrantControls(), GrantControl},
	} {
		labels := map[string]bool{}
		keys := map[string]string{}
		for _, e := range tc.entries {
			if !snake.MatchString(e.Label) || labels[e.Label] {
				t.Errorf("%s: label %q is not snake_case or is listed twice", name, e.Label)
			}
			labels[e.Label] = true
			for _, w := range e.Wire {
				if prev, dup := keys[methodKey(w)]; dup {
					t.Errorf("%s: %q claimed by %q and %q", name, w, prev, e.Label)
				}
				keys[methodKey(w)] = e.Label
				if got, known := tc.norm(w); got != e.Label || !known {
					t.Errorf("%s: wire %q normalises to %q (known %v), want its own label %q", name, w, got, known, e.Label)
				}
			}
		}
		want := []string{LabelNone, LabelOther, LabelUnknownFutureValue}
		if name == "policy_result" {
			want = want[1:] // a row without policies has no evaluation to label
		}
		for _, l := range want {
			if !labels[l] {
				t.Errorf("%s: no %q entry", name, l)
			}
		}
	}
}

// checkCoverage holds for every input: labels come from the catalogues, every
// reported string really fell to other, and no list is empty.
func checkCoverage(t *testing.T, in SignIn, cov Coverage) {
	t.Helper()
	has := func(es []Entry, l string) bool {
		return slices.ContainsFunc(es, func(e Entry) bool { return e.Label == l })
	}
	if len(cov.Sources) == 0 {
		t.Fatalf("no sources for %+v", in.RequirementProviders)
	}
	for _, s := range cov.Sources {
		if !has(requirementSources, s) {
			t.Fatalf("source %q is not in the catalogue", s)
		}
	}
	if slices.Contains(cov.Sources, LabelNone) && len(cov.Sources) != 1 {
		t.Fatalf("none next to other sources: %v", cov.Sources)
	}
	if len(cov.Policies) != len(in.Policies) {
		t.Fatalf("%d evaluations for %d policies", len(cov.Policies), len(in.Policies))
	}
	for i, p := range cov.Policies {
		if p.ID != in.Policies[i].ID || !has(policyResults, p.Result) || len(p.GrantControls) == 0 {
			t.Fatalf("evaluation %d: %+v", i, p)
		}
		for _, g := range p.GrantControls {
			if !has(grantControls, g) {
				t.Fatalf("grant control %q is not in the catalogue", g)
			}
		}
	}
	seen := map[Unknown]bool{}
	for _, u := range cov.Unknown {
		if seen[u] {
			t.Fatalf("duplicate unknown %+v", u)
		}
		seen[u] = true
		norm := map[string]func(string) (string, bool){
			FieldRequirementProvider: RequirementSource, FieldPolicyResult: PolicyResult, FieldGrantControl: GrantControl}[u.Field]
		if norm == nil {
			t.Fatalf("unexpected unknown field %q", u.Field)
		}
		if l, known := norm(u.Value); known || l != LabelOther {
			t.Fatalf("%s %q reported unknown but normalises to %q", u.Field, u.Value, l)
		}
	}
}

func FuzzClassifyCoverage(f *testing.F) {
	f.Add("user", "multiConditionalAccess", "reportOnlyFailure", "Block", "RequireAuthenticationStrength:x")
	f.Add("", "quantum", "", "", "RequireDuoMfa")
	f.Add("USER", "user", "notEnabled", "mfa", "Mfa")
	f.Fuzz(func(t *testing.T, p1, p2, result, g1, g2 string) {
		in := SignIn{RequirementProviders: []string{p1, p2},
			Policies: []AppliedPolicy{{ID: "x", Result: result, GrantControls: []string{g1, g2}}}}
		cov := ClassifyCoverage(in)
		checkCoverage(t, in, cov)
		// The order Graph lists values in must not change the labels.
		swapped := SignIn{RequirementProviders: []string{p2, p1},
			Policies: []AppliedPolicy{{ID: "x", Result: result, GrantControls: []string{g2, g1}}}}
		again := ClassifyCoverage(swapped)
		if !reflect.DeepEqual(cov.Sources, again.Sources) || !reflect.DeepEqual(cov.Policies, again.Policies) {
			t.Fatalf("order changed the labels: %+v vs %+v", cov, again)
		}
		if strings.TrimSpace(p1+p2) == "" && !reflect.DeepEqual(cov.Sources, []string{LabelNone}) {
			t.Fatalf("empty providers gave %v", cov.Sources)
		}
	})
}
