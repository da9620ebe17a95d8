package mfa

import (
	"slices"
	"testing"
)

// The label sets ClassifyCoverage returns are shared between rows: appending to one must not
// change what the next row gets, and the same inputs give the same sets however often asked.
func TestCoverageLabelSetsAreShared(t *testing.T) {
	in := SignIn{RequirementProviders: []string{"user", "multiConditionalAccess"},
		Policies: []AppliedPolicy{{ID: "a", Result: "success", GrantControls: []string{"Mfa", "RequireCompliantDevice"}}}}
	first := ClassifyCoverage(in)
	_ = append(first.Sources, "tampered")
	_ = append(first.Policies[0].GrantControls, "tampered")
	_ = append(ClassifyCoverage(SignIn{}).Sources, "tampered")
	again := ClassifyCoverage(in)
	if want := []string{"per_user_mfa", "multi_conditional_access"}; !slices.Equal(again.Sources, want) {
		t.Errorf("sources %v, want %v", again.Sources, want)
	}
	if want := []string{"mfa", "compliant_device"}; !slices.Equal(again.Policies[0].GrantControls, want) {
		t.Errorf("grant controls %v, want %v", again.Policies[0].GrantControls, want)
	}
	if got := ClassifyCoverage(SignIn{}).Sources; !slices.Equal(got, []string{LabelNone}) {
		t.Errorf("no providers: %v", got)
	}
}

// Counting a row classifies its coverage: once the strings rows repeat are memoised, a row
// without policies allocates nothing, and one with policies only its evaluations.
func TestClassifyCoverageAllocations(t *testing.T) {
	noPolicies := SignIn{RequirementProviders: []string{"user", "multiConditionalAccess", ""}}
	withPolicies := SignIn{RequirementProviders: []string{"multiConditionalAccess"}, Policies: []AppliedPolicy{
		{ID: "a", Result: "success", GrantControls: []string{"Mfa"}},
		{ID: "b", Result: "notApplied"},
	}}
	for _, tc := range []struct {
		name string
		in   SignIn
		max  float64
	}{{"no policies", noPolicies, 0}, {"two policies", withPolicies, 1}} {
		ClassifyCoverage(tc.in) // memoise
		if n := testing.AllocsPerRun(100, func() { ClassifyCoverage(tc.in) }); n > tc.max {
			t.Errorf("%s: %v allocations per row, want at most %v", tc.name, n, tc.max)
		}
	}
}
