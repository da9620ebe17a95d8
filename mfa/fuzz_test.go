package mfa

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// labelValues is computed once: the catalogue sweep calls checkInvariants a
// few hundred thousand times.
var labelValues = sync.OnceValue(LabelValues)

// checkInvariants holds for every input: labels come from the catalogue, the
// outcome, reason and result code agree with each other, and every Unknown
// entry is a string that really fell to "other".
func checkInvariants(t *testing.T, in SignIn, c Classification) {
	t.Helper()
	values := labelValues()
	for dim, v := range labelsOf(c) {
		if !slices.Contains(values[dim], v) {
			t.Fatalf("%s label %q is not in the catalogue (input %+v)", dim, v, in)
		}
	}
	attempt := IsAttempt(c)
	// The one attempt without a code: a 50158 denial by an external provider,
	// which no code of Microsoft's table describes.
	externalDenial := c.Outcome == OutcomeDenied && c.ErrorCode == "50158" && c.Method == MethodExternal
	if (attempt && !externalDenial) == (c.ResultCode == LabelNone) {
		t.Fatalf("outcome %s (method %s, error code %s) with result code %s", c.Outcome, c.Method, c.ErrorCode, c.ResultCode)
	}
	if attempt == (c.Reason == LabelNone) {
		t.Fatalf("outcome %s with reason %s", c.Outcome, c.Reason)
	}
	reasons := map[string][]Entry{OutcomeSatisfied: satisfiedReasons, OutcomeDenied: deniedReasons}
	if attempt && c.Reason != LabelOther && !slices.ContainsFunc(reasons[c.Outcome], func(e Entry) bool { return e.Label == c.Reason }) {
		t.Fatalf("outcome %s with a reason from the other table: %s", c.Outcome, c.Reason)
	}
	if (in.ErrorCode == 0) != (c.Result == ResultSuccess) {
		t.Fatalf("errorCode %d gave result %s", in.ErrorCode, c.Result)
	}
	if c.Outcome == OutcomeInterrupted && c.Result != ResultInterrupted {
		t.Fatalf("outcome interrupted with result %s", c.Result)
	}

	fields := map[string]bool{}
	seen := map[Unknown]bool{}
	for _, u := range c.Unknown {
		if seen[u] {
			t.Fatalf("duplicate unknown %+v", u)
		}
		seen[u] = true
		fields[u.Field] = true
		switch u.Field {
		case FieldMethod:
			if _, ok := methodByName[normalizeName(u.Value)]; ok || strings.TrimSpace(u.Value) == "" {
				t.Fatalf("method %q reported unknown but is catalogued or empty", u.Value)
			}
		case FieldReason:
			n := normalizeReason(u.Value)
			m := map[string]*phraseMatcher{OutcomeSatisfied: satisfiedMatcher, OutcomeDenied: deniedMatcher}[c.Outcome]
			if c.Reason != LabelOther || m == nil || notAReason(n) {
				t.Fatalf("reason %q reported unknown with reason %s, outcome %s", u.Value, c.Reason, c.Outcome)
			}
			if _, ok := m.match(n); ok {
				t.Fatalf("reason %q reported unknown but matches the %s table", u.Value, c.Outcome)
			}
		case FieldErrorCode:
			if c.ErrorCode != LabelOther || u.Value != strconv.Itoa(in.ErrorCode) {
				t.Fatalf("error code %q reported unknown with label %s", u.Value, c.ErrorCode)
			}
		case FieldTokenIssuerType:
			if c.Component != ComponentCloud || u.Value != in.TokenIssuerType {
				t.Fatalf("issuer %q reported unknown with component %s", u.Value, c.Component)
			}
		default:
			t.Fatalf("unexpected unknown field %q", u.Field)
		}
	}
	if c.ErrorCode == LabelOther && !fields[FieldErrorCode] {
		t.Fatalf("error code %d fell to other unreported", in.ErrorCode)
	}
	if c.Method == LabelOther && !fields[FieldMethod] {
		t.Fatalf("method fell to other unreported")
	}
}

func FuzzClassify(f *testing.F) {
	for _, tc := range loadFixtures(f).Cases {
		var m1, d1, m2, d2 string
		var ok1, ok2 bool
		if len(tc.In.Steps) > 0 {
			s := tc.In.Steps[0]
			m1, d1, ok1 = s.Method, s.ResultDetail, s.Succeeded
		}
		if len(tc.In.Steps) > 1 {
			s := tc.In.Steps[len(tc.In.Steps)-1]
			m2, d2, ok2 = s.Method, s.ResultDetail, s.Succeeded
		}
		f.Add(tc.In.ErrorCode, tc.In.AdditionalDetails, tc.In.AuthenticationRequirement, m1, d1, ok1, m2, d2, ok2,
			tc.In.TokenIssuerType, tc.In.ResourceID)
	}
	f.Fuzz(func(t *testing.T, code int, additional, requirement, m1, d1 string, ok1 bool, m2, d2 string, ok2 bool, issuer, resource string) {
		in := SignIn{ErrorCode: code, AdditionalDetails: additional, AuthenticationRequirement: requirement,
			Steps:           []Step{{Method: m1, ResultDetail: d1, Succeeded: ok1}, {Method: m2, ResultDetail: d2, Succeeded: ok2}},
			TokenIssuerType: issuer, ResourceID: resource}
		c := Classify(in)
		checkInvariants(t, in, c)
		if again := Classify(in); diff(c, again) != "" {
			t.Fatalf("Classify is not deterministic:%s", diff(c, again))
		}
	})
}

func BenchmarkClassify(b *testing.B) {
	cases := loadFixtures(b).Cases
	ins := make([]SignIn, len(cases))
	for i, tc := range cases {
		ins[i] = tc.In
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Classify(ins[i%len(ins)])
		i++
	}
}
