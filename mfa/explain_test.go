package mfa

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// labelsByDimension gathers every label value from the catalogues' own
// accessors and LabelValues, independently of the registry Explain searches,
// so that a catalogue left out of the registry fails the walk.
func labelsByDimension() map[string][]string {
	dims := map[string][]string{}
	for dim, vals := range LabelValues() {
		dims[dim] = append(dims[dim], vals...)
	}
	add := func(dim string, es []Entry) {
		for _, e := range es {
			if !slices.Contains(dims[dim], e.Label) {
				dims[dim] = append(dims[dim], e.Label)
			}
		}
	}
	add("result_code", ResultCodes()) // including the codes no rule produces
	for _, e := range ErrorCodes() {
		if !slices.Contains(dims["error_code"], e.Label) {
			dims["error_code"] = append(dims["error_code"], e.Label)
		}
	}
	add("client_app", ClientApps())
	add("registration_method", RegistrationMethods())
	add("user_preferred_method", UserPreferredMethods())
	add("requirement_source", RequirementSources())
	add("policy_result", PolicyResults())
	add("grant_control", GrantControls())
	return dims
}

// stopWords carry no meaning of their own, so a text made of the label's
// words and these says nothing the label does not.
var stopWords = map[string]bool{"the": true, "a": true, "an": true, "of": true, "is": true, "was": true, "to": true,
	"in": true, "and": true, "or": true, "by": true, "for": true, "this": true, "it": true, "on": true, "with": true}

// newWords counts the distinct words of text that are neither the label's nor
// stop words.
func newWords(label, text string) int {
	own := map[string]bool{}
	for _, w := range tokens(strings.ReplaceAll(label, "_", " ")) {
		own[w] = true
	}
	seen := map[string]bool{}
	for _, w := range tokens(text) {
		if !own[w] && !stopWords[w] {
			seen[w] = true
		}
	}
	return len(seen)
}

func entryProblems(label string, e Entry) []string {
	var out []string
	texts := map[string]string{"description": e.Description, "cause": e.Cause, "action": e.Action}
	for name, text := range texts {
		switch {
		case strings.TrimSpace(text) == "":
			out = append(out, name+" is empty")
		case normalizeName(text) == normalizeName(strings.ReplaceAll(label, "_", " ")):
			out = append(out, name+" repeats the label")
		case newWords(label, text) == 0:
			out = append(out, fmt.Sprintf("%s %q only repeats the label", name, text))
		}
	}
	// Meaning and cause together must say something of substance.
	if newWords(label, e.Description+" "+e.Cause) < 5 {
		out = append(out, "description and cause say almost nothing beyond the label")
	}
	if e.Description == e.Cause || e.Cause == e.Action || e.Description == e.Action {
		out = append(out, "two of description, cause and action are the same text")
	}
	return out
}

func TestExplainCoversEveryLabelValue(t *testing.T) {
	dims := labelsByDimension()
	names := map[string]bool{}
	for _, c := range Catalogues() {
		names[c.Name] = true
		for _, e := range c.Entries {
			if !slices.Contains(dims[c.Name], e.Label) {
				dims[c.Name] = append(dims[c.Name], e.Label)
			}
		}
	}
	total := 0
	for dim, labels := range dims {
		if !names[dim] {
			t.Errorf("dimension %s has no catalogue in Catalogues()", dim)
			continue
		}
		for _, label := range labels {
			total++
			var found *Explanation
			for _, x := range ExplainAll(dim + ":" + label) {
				if x.Catalogue == dim && x.Label == label {
					found = &x
					break
				}
			}
			if found == nil {
				t.Errorf("%s %q has no explain entry", dim, label)
				continue
			}
			for _, p := range entryProblems(label, found.Entry) {
				t.Errorf("%s %q: %s", dim, label, p)
			}
			// Unqualified, the label still finds this entry among its matches.
			if !slices.ContainsFunc(ExplainAll(label), func(x Explanation) bool { return x.Catalogue == dim && x.Label == label }) {
				t.Errorf("ExplainAll(%q) misses %s", label, dim)
			}
		}
	}
	// Guard the walk itself: it must have seen the large catalogues whole.
	if total < 250 {
		t.Errorf("walked only %d label values", total)
	}
}

func TestExplain(t *testing.T) {
	for _, tc := range []struct {
		term, catalogue, label string
	}{
		{"FAILED_PHONE_APP_DENIED", "result_code", "FAILED_PHONE_APP_DENIED"},
		{"failed phone app denied", "result_code", "FAILED_PHONE_APP_DENIED"},
		{"SUCCESS_FALLBACK_SECURITY_QUESTIONS_ANSWERED", "result_code", "SUCCESS_FALLBACK_SECURITY_QUESTIONS_ANSWERED"},
		{"none", "result_code", "none"},
		{"50074", "error_code", "50074"},
		{"AADSTS50074", "error_code", "50074"},
		{"aadsts500121", "error_code", "500121"},
		{"error_code:other", "error_code", "other"},
		{"user_declined", "reason", "user_declined"},
		{"MFA denied; user declined the authentication", "reason", "user_declined"},
		{"MFA Denied: User declined the authentication request on the device.", "reason", "user_declined"},
		{"MFA completed in Microsoft Entra ID", "reason", "completed_in_cloud"},
		{"MFA requirement skipped due to IP address", "reason", "skipped_location"},
		{"Mobile app notification", "method", "mobile_app_notification"},
		{"CloudOnlyPassword", "method", "none"},
		{"method:other", "method", "other"},
		{`reason="other"`, "reason", "other"},
		{"client_app = browser", "client_app", "browser"},
		{"Exchange ActiveSync", "client_app", "exchange_activesync"},
		{"multi_factor", "requirement", "multi_factor"},
		{"multiFactorAuthentication", "requirement", "multi_factor"},
		{"not_required", "outcome", "not_required"},
		{"NPSExtension", "component", "nps_extension"},
		{"user", "requirement_source", "per_user_mfa"},
		{"per_user_mfa", "requirement_source", "per_user_mfa"},
		{"multiConditionalAccess", "requirement_source", "multi_conditional_access"},
		{"reportOnlyInterrupted", "policy_result", "report_only_interrupted"},
		{"policy_result:success", "policy_result", "success"},
		{"RequireCompliantDevice", "grant_control", "compliant_device"},
		{"RequireAuthenticationStrength:Phishing-resistant MFA", "grant_control", "authentication_strength"},
		{"passKeySynced", "registration_method", "passkey_synced"},
		{"user_preferred_method:sms", "user_preferred_method", "sms"},
	} {
		all := ExplainAll(tc.term)
		if len(all) == 0 || all[0].Catalogue != tc.catalogue || all[0].Label != tc.label {
			t.Errorf("ExplainAll(%q) first = %+v, want %s %s", tc.term, all, tc.catalogue, tc.label)
			continue
		}
		e, ok := Explain(tc.term)
		if !ok || e.Label != tc.label || e.Action != all[0].Action {
			t.Errorf("Explain(%q) = %q, %v; want the first of ExplainAll", tc.term, e.Label, ok)
		}
	}
	// A quoted term is unquoted, and a term several catalogues know lists them all.
	succ := ExplainAll("  `success`  ")
	if len(succ) < 2 || succ[0].Catalogue != "result" || !slices.ContainsFunc(succ, func(x Explanation) bool { return x.Catalogue == "policy_result" }) {
		t.Errorf("ExplainAll(success) = %+v, want result first and policy_result among them", succ)
	}
	other := ExplainAll("other")
	if len(other) < 10 {
		t.Errorf("ExplainAll(other) found %d catalogues", len(other))
	}
	for _, x := range other {
		if x.Label != LabelOther {
			t.Errorf("ExplainAll(other) returned %s %s", x.Catalogue, x.Label)
		}
	}
	push := ExplainAll("PhoneAppNotification")
	if len(push) != 2 || push[0].Label != "mobile_app_notification" || push[1].Label != "microsoft_authenticator_push" {
		t.Errorf("ExplainAll(PhoneAppNotification) = %+v, want the sign-in method then the registration method", push)
	}
	for _, term := range []string{"", "   ", "blorp", "method:blorp", "nosuchcatalogue:other", "method:", "AADSTS", "MFA denied; gremlins", "methodSucceeded", "First factor requirement satisfied by claim in the token"} {
		if e, ok := Explain(term); ok {
			t.Errorf("Explain(%q) = %s, want no entry", term, e.Label)
		}
	}
}

func TestExplainReturnsCopies(t *testing.T) {
	e, ok := Explain("mobile_app_notification")
	if !ok || len(e.Wire) == 0 {
		t.Fatal("no entry")
	}
	e.Wire[0] = "changed"
	c := Catalogues()
	c[2].Entries[0].Wire[0] = "changed"
	if again, _ := Explain("mobile_app_notification"); again.Wire[0] == "changed" || methods[0].Wire[0] == "changed" {
		t.Error("Explain or Catalogues exposes the catalogue's tables")
	}
}

func TestClosestTerms(t *testing.T) {
	for _, tc := range []struct {
		term  string
		n     int
		first string
		want  []string // must all be among the results
	}{
		{"FAILED_PHONE_APP_DENY", 3, "FAILED_PHONE_APP_DENIED", nil},
		{"mobile_app_notificaton", 3, "mobile_app_notification", nil},
		{"sucess", 1, "success", nil},
		{"declined", 3, "user_declined", []string{"declined the authentication"}},
		// One edit from 50057, contained in the other four: all at distance 1, same length.
		{"AADSTS5007", 5, "50057", []string{"50072", "50074", "50076", "50078"}},
		{"grant_control:requirecompliantdevise", 1, "RequireCompliantDevice", nil},
		{"reportonlyfailur", 2, "reportOnlyFailure", nil},
	} {
		got := ClosestTerms(tc.term, tc.n)
		if len(got) == 0 || got[0] != tc.first || len(got) > tc.n {
			t.Errorf("ClosestTerms(%q, %d) = %q, want %q first and at most %d", tc.term, tc.n, got, tc.first, tc.n)
		}
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("ClosestTerms(%q, %d) = %q, want %q among them", tc.term, tc.n, got, w)
			}
		}
		seen := map[string]bool{}
		for _, g := range got {
			if seen[strings.ToLower(g)] {
				t.Errorf("ClosestTerms(%q) repeats %q", tc.term, g)
			}
			seen[strings.ToLower(g)] = true
		}
	}
	if got := ClosestTerms("anything", 0); got != nil {
		t.Errorf("n=0 gave %q", got)
	}
	if got := ClosestTerms("", 3); got != nil {
		t.Errorf("empty term gave %q", got)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"flaw", "lawn", 2},
		{"same", "same", 0}, {"éa", "ea", 1}, // runes, not bytes
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := editDistance(tc.b, tc.a); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d (symmetry)", tc.b, tc.a, got, tc.want)
		}
	}
}
