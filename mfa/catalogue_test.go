package mfa

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var (
	snakeCase = regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)
	seedCode  = regexp.MustCompile(`^[A-Z0-9]+(_[A-Z0-9]+)*$`)
)

func TestCatalogueLabelsAreSnakeCaseAndUnique(t *testing.T) {
	dims := map[string][]Entry{
		"requirement": Requirements(),
		"result":      Results(),
		"outcome":     Outcomes(),
		"component":   Components(),
		"method":      Methods(),
		"reason":      append(append(SatisfiedReasons(), DeniedReasons()...), ReasonFallbacks()...),
	}
	for dim, es := range dims {
		seen := map[string]bool{}
		for _, e := range es {
			if !snakeCase.MatchString(e.Label) {
				t.Errorf("%s label %q is not snake_case", dim, e.Label)
			}
			if seen[e.Label] {
				t.Errorf("%s label %q is duplicated", dim, e.Label)
			}
			seen[e.Label] = true
			if strings.TrimSpace(e.Description) == "" {
				t.Errorf("%s label %q has no description", dim, e.Label)
			}
		}
	}
	seen := map[string]bool{}
	for _, e := range ResultCodes() {
		if !seedCode.MatchString(e.Label) || seen[e.Label] || e.Description == "" {
			t.Errorf("result code %q: malformed, duplicated or undescribed", e.Label)
		}
		seen[e.Label] = true
	}
	seenCodes := map[int]bool{}
	for _, e := range ErrorCodes() {
		if e.Label != strconv.Itoa(e.Code) || seenCodes[e.Code] || e.Description == "" {
			t.Errorf("error code %d: label %q, duplicated or undescribed", e.Code, e.Label)
		}
		if _, ok := handlingText[e.Handling]; !ok {
			t.Errorf("error code %d: unknown handling %q", e.Code, e.Handling)
		}
		if (e.Code == 0) != (e.Result == ResultSuccess) {
			t.Errorf("error code %d: result %s", e.Code, e.Result)
		}
		seenCodes[e.Code] = true
	}
}

func TestCatalogueSizes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"satisfied reasons", len(SatisfiedReasons()), 12},
		{"denied reasons", len(DeniedReasons()), 23},
		{"result codes", len(ResultCodes()), 45},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, tc.got, tc.want)
		}
	}
	if n := len(ErrorCodes()); n >= 80 {
		t.Errorf("error-code catalogue has %d entries; keep it under 80", n)
	}
	// The codes the brief and graph-api.md name must all be catalogued.
	for _, code := range []int{0, 50074, 50076, 50079, 50072, 50078, 500121, 50158, 50086, 50087, 50088, 53003, 530032,
		530035, 53004, 50140, 50126, 50053, 50055, 50057, 50097, 50125, 50133, 70044, 50173} {
		if _, ok := errorCodeByCode[code]; !ok {
			t.Errorf("error code %d missing from the catalogue", code)
		}
	}
}

// TestWireStringsMatchTheirOwnLabel checks that each wire string, once
// normalised, lands on its own label, and that no normalised string is
// claimed by two labels (which would make the result depend on table order).
func TestWireStringsMatchTheirOwnLabel(t *testing.T) {
	owner := map[string]string{}
	for _, tbl := range []struct {
		name string
		es   []Entry
		m    *phraseMatcher
	}{{"satisfied", satisfiedReasons, satisfiedMatcher}, {"denied", deniedReasons, deniedMatcher}} {
		for _, e := range tbl.es {
			if len(e.Wire) == 0 {
				t.Errorf("%s reason %s has no wire string", tbl.name, e.Label)
			}
			for _, w := range e.Wire {
				n := normalizeReason(w)
				if prev, ok := owner[n]; ok && prev != e.Label {
					t.Errorf("normalised wire %q claimed by %s and %s", n, prev, e.Label)
				}
				owner[n] = e.Label
				if got, ok := tbl.m.match(n); !ok || got != e.Label {
					t.Errorf("%s wire %q matched %q, want %s", tbl.name, w, got, e.Label)
				}
				if isFirstFactorText(n) {
					t.Errorf("wire %q looks like a first-factor string", w)
				}
			}
		}
	}
	methodOwner := map[string]string{}
	for _, e := range methods {
		for _, w := range e.Wire {
			n := normalizeName(w)
			if prev, ok := methodOwner[n]; ok && prev != e.Label {
				t.Errorf("method wire %q claimed by %s and %s", w, prev, e.Label)
			}
			methodOwner[n] = e.Label
			if methodByName[n] != e.Label {
				t.Errorf("method wire %q resolves to %q, want %s", w, methodByName[n], e.Label)
			}
		}
	}
}

func TestResultCodeRulesAreWellFormed(t *testing.T) {
	known := map[string]map[string]bool{}
	for dim, vals := range LabelValues() {
		known[dim] = map[string]bool{}
		for _, v := range vals {
			known[dim][v] = true
		}
	}
	codes := map[string]bool{}
	for _, e := range resultCodes {
		codes[e.Label] = true
	}
	fallback := map[string]int{}
	for i, r := range ResultCodeMapping() {
		if r.Outcome != OutcomeSatisfied && r.Outcome != OutcomeDenied {
			t.Errorf("rule %d: outcome %q", i+1, r.Outcome)
		}
		if !codes[r.Code] && r.Code != LabelNone {
			t.Errorf("rule %d: code %q is not a code of Microsoft's table (or none)", i+1, r.Code)
		}
		for _, m := range r.Methods {
			if !known["method"][m] {
				t.Errorf("rule %d: unknown method %q", i+1, m)
			}
		}
		for _, x := range r.Reasons {
			if !known["reason"][x] {
				t.Errorf("rule %d: unknown reason %q", i+1, x)
			}
		}
		if r.ErrorCode != "" && !known["error_code"][r.ErrorCode] {
			t.Errorf("rule %d: unknown error code %q", i+1, r.ErrorCode)
		}
		if strings.TrimSpace(r.Rationale) == "" {
			t.Errorf("rule %d: no rationale", i+1)
		}
		if len(r.Methods) == 0 && len(r.Reasons) == 0 && r.ErrorCode == "" && !r.AfterFailedStep {
			fallback[r.Outcome] = i
		}
	}
	for _, o := range []string{OutcomeSatisfied, OutcomeDenied} {
		i, ok := fallback[o]
		if !ok {
			t.Errorf("no fallback rule for %s", o)
			continue
		}
		for j, r := range resultCodeRules {
			if j > i && r.Outcome == o {
				t.Errorf("rule %d for %s comes after the fallback rule %d and can never match", j+1, o, i+1)
			}
		}
	}
}

func TestResultCodesNoteWhatIsNeverProduced(t *testing.T) {
	produced := 0
	for _, e := range ResultCodes() {
		never := strings.Contains(e.Description, neverProduced)
		if never == ResultCodeProduced(e.Label) {
			t.Errorf("%s: produced=%v but description %q", e.Label, ResultCodeProduced(e.Label), e.Description)
		}
		if !never {
			produced++
		}
	}
	for _, code := range []string{"FAILED_INVALID_EXTENSION", "SUCCESS_FALLBACK_SECURITY_QUESTIONS_ANSWERED", "FAILED_SECURITY_QUESTIONS_TIMEOUT"} {
		if ResultCodeProduced(code) {
			t.Errorf("%s is an MFA Server-only code but a rule produces it", code)
		}
	}
	if produced == 0 || produced == len(resultCodes) {
		t.Errorf("%d of %d codes produced", produced, len(resultCodes))
	}
}

func TestAccessorsReturnCopies(t *testing.T) {
	m := Methods()
	m[0].Wire[0] = "changed"
	m[0].Label = "changed"
	if methods[0].Label == "changed" || methods[0].Wire[0] == "changed" {
		t.Error("Methods() exposes the classifier's table")
	}
	r := ResultCodeMapping()
	r[0].Reasons[0] = "changed"
	if resultCodeRules[0].Reasons[0] == "changed" {
		t.Error("ResultCodeMapping() exposes the classifier's rules")
	}
	e := ErrorCodes()
	e[0].Label = "changed"
	if errorCodes[0].Label == "changed" {
		t.Error("ErrorCodes() exposes the catalogue")
	}
}

// TestClassifierStaysInsideCatalogue drives Classify over the cross product
// of one error code per handling (plus the special-cased codes and an unknown
// one), every requirement, one wire string per method, every reason wire
// string and both step results, then over every catalogued code, and checks
// each result against the catalogue and the invariants.
func TestClassifierStaysInsideCatalogue(t *testing.T) {
	codes := []int{424242, 0, 50074, 50140, 50097, 500121, 50158, 50088, 50086, 53003}
	handled := map[string]bool{}
	for _, c := range codes {
		if e, ok := errorCodeByCode[c]; ok {
			handled[e.Handling] = true
		}
	}
	for h := range handlingText {
		if !handled[h] {
			t.Fatalf("sweep lacks an error code with handling %s", h)
		}
	}
	var methodWires []string
	for _, e := range methods {
		if len(e.Wire) > 0 {
			methodWires = append(methodWires, e.Wire[0])
		}
	}
	methodWires = append(methodWires, "Brand new method", "")
	details := []string{"", "MFA denied; something new", "First factor requirement satisfied by claim in the token"}
	for _, e := range append(slices.Clone(satisfiedReasons), deniedReasons...) {
		details = append(details, e.Wire[0])
	}
	seen := map[string]map[string]bool{}
	try := func(in SignIn) {
		c := Classify(in)
		checkInvariants(t, in, c)
		for dim, v := range labelsOf(c) {
			if seen[dim] == nil {
				seen[dim] = map[string]bool{}
			}
			seen[dim][v] = true
		}
	}
	for _, code := range codes {
		for _, req := range []string{"multiFactorAuthentication", "singleFactorAuthentication", ""} {
			for _, m := range methodWires {
				for _, d := range details {
					for _, ok := range []bool{true, false} {
						try(SignIn{ErrorCode: code, AuthenticationRequirement: req, AdditionalDetails: d,
							Steps: []Step{{Method: "Password", ResultDetail: "Correct password", Succeeded: true},
								{Method: m, ResultDetail: d, Succeeded: ok}}})
					}
				}
			}
		}
		if t.Failed() {
			return
		}
	}
	issuers := []string{"AzureAD", "NPSExtension", "ADFederationServicesMFAAdapter"}
	for i, e := range errorCodes {
		for _, ok := range []bool{true, false} {
			try(SignIn{ErrorCode: e.Code, AuthenticationRequirement: "multiFactorAuthentication", TokenIssuerType: issuers[i%len(issuers)],
				Steps: []Step{{Method: "Text message", ResultDetail: "MFA denied; user entered incorrect code", Succeeded: !ok},
					{Method: "OATH verification code", ResultDetail: "MFA successfully completed", Succeeded: ok}}})
		}
	}
	// The sweep must reach every label, or it proves little.
	for dim, vals := range LabelValues() {
		for _, v := range vals {
			if !seen[dim][v] {
				t.Errorf("sweep never produced %s %s", dim, v)
			}
		}
	}
}

func labelsOf(c Classification) map[string]string {
	return map[string]string{
		"requirement": c.Requirement, "result": c.Result, "outcome": c.Outcome, "method": c.Method,
		"reason": c.Reason, "result_code": c.ResultCode, "error_code": c.ErrorCode, "component": c.Component,
	}
}

func TestMarkdownTablesMentionEveryLabel(t *testing.T) {
	md := MarkdownTables()
	var want []string
	for dim, vals := range LabelValues() {
		for _, v := range vals {
			want = append(want, dim+":"+v)
		}
	}
	for _, e := range resultCodes {
		want = append(want, "result_code:"+e.Label)
	}
	for dim, es := range map[string][]Entry{"requirement_source": requirementSources, "policy_result": policyResults,
		"grant_control": grantControls, "client_app": clientApps} {
		for _, e := range es {
			want = append(want, dim+":"+e.Label)
			for _, w := range e.Wire {
				if w != "" && !strings.Contains(md, "`"+w+"`") {
					t.Errorf("MarkdownTables does not show the %s wire string %q", dim, w)
				}
			}
		}
	}
	for _, w := range want {
		label := w[strings.Index(w, ":")+1:]
		if !strings.Contains(md, "`"+label+"`") {
			t.Errorf("MarkdownTables does not mention %s", w)
		}
	}
	for _, r := range resultCodeRules {
		if !strings.Contains(md, r.Rationale) {
			t.Errorf("MarkdownTables lacks the rationale %q", r.Rationale)
		}
	}
	for _, section := range []string{"### Outcome rules", "### Result-code mapping", "### Error codes",
		"### Requirement sources", "### Conditional Access policy results", "### Conditional Access grant controls"} {
		if !strings.Contains(md, section) {
			t.Errorf("MarkdownTables lacks section %q", section)
		}
	}
	// Every table row must have as many cells as its header, or a stray pipe
	// in a description broke the table.
	var header int
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			header = 0
			continue
		}
		n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|")
		if header == 0 {
			header = n
		} else if n != header {
			t.Errorf("table row has %d separators, header has %d: %s", n, header, line)
		}
	}
}
