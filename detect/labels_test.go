package detect

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
)

// Every mfa label this package copies must exist in mfa's catalogue, in the right dimension: a
// label renamed there would otherwise make a rule silently match nothing. The constants are
// found by parsing labels.go, so a new one is checked without anyone adding it to a list here.
func TestCopiedLabelsExistInMFACatalogue(t *testing.T) {
	labels := func(es []mfa.Entry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Label)
		}
		return out
	}
	dims := map[string][]string{
		"mfaOutcome":   labels(mfa.Outcomes()),
		"mfaMethod":    labels(mfa.Methods()),
		"mfaSatisfied": labels(mfa.SatisfiedReasons()),
		"mfaDenied":    labels(mfa.DeniedReasons()),
	}
	f, err := parser.ParseFile(token.NewFileSet(), "labels.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "mfa") {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Errorf("%s is not a string literal", name.Name)
					continue
				}
				value, _ := strconv.Unquote(lit.Value)
				var dim string
				for prefix := range dims {
					if strings.HasPrefix(name.Name, prefix) {
						dim = prefix
					}
				}
				if dim == "" {
					t.Errorf("%s: no mfa dimension for this prefix (want mfaOutcome, mfaMethod, mfaSatisfied or mfaDenied)", name.Name)
					continue
				}
				if !slices.Contains(dims[dim], value) {
					t.Errorf("%s = %q is not a label of mfa's %s catalogue %v", name.Name, value, dim, dims[dim])
				}
				checked++
			}
		}
	}
	// 2 outcomes, 2 methods, 9 satisfied, 14 denied reasons.
	if checked != 27 {
		t.Errorf("checked %d constants, want 27: did labels.go change without this test?", checked)
	}
}

// Every denied reason of mfa's catalogue is placed on purpose: a prompt (the user was asked and
// did not pass) or not (the prompt never reached the user, or repeats one already counted). A
// reason added to the catalogue fails here until someone decides.
func TestEveryDeniedReasonIsPlaced(t *testing.T) {
	prompt := []string{
		"incorrect_code_too_many_times", "invalid_authentication", "invalid_mobile_app_verification_code",
		"phone_call_went_to_voicemail", "user_declined", "no_response_to_notification", "incorrect_code",
		"incorrect_pin", "user_hung_up", "verification_code_never_entered", "verification_code_already_used",
		"fraud_reported",
	}
	for _, e := range mfa.DeniedReasons() {
		ev := Event{Outcome: mfaOutcomeDenied, Method: "text_message", Reason: e.Label}
		isPrompt := classify(&ev)&fPrompt != 0
		switch {
		case !slices.Contains(prompt, e.Label) && !notPromptDenied[e.Label]:
			t.Errorf("denied reason %q is new: decide whether it is a prompt", e.Label)
		case isPrompt != slices.Contains(prompt, e.Label):
			t.Errorf("denied reason %q: prompt = %v, want %v", e.Label, isPrompt, !isPrompt)
		}
	}
}
