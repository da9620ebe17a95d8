package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
)

func runExplain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"explain"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// `explain` answers for every label value of every catalogue, qualified by its catalogue (the
// form runbooks and the README use) and unqualified, with the entry's meaning, cause and action.
func TestExplainCoversEveryCatalogueLabel(t *testing.T) {
	cats := mfa.Catalogues()
	if len(cats) < 10 {
		t.Fatalf("only %d catalogues", len(cats))
	}
	// LabelValues lists the values the exporter's labels can take, from the catalogues' own
	// tables rather than from the registry explain searches: a catalogue left out of the
	// registry fails here.
	labels := mfa.LabelValues()
	seen := 0
	for _, c := range cats {
		for _, e := range c.Entries {
			seen++
			term := c.Name + ":" + e.Label
			code, out, errOut := runExplain(t, term)
			if code != 0 {
				t.Errorf("explain %s: exit %d: %s", term, code, errOut)
				continue
			}
			head := c.Name + " = " + e.Label + "  (" + c.Title + ")\n"
			if !strings.HasPrefix(out, head) || strings.Count(out, " = ") != 1 {
				t.Errorf("explain %s: output does not start with %q or explains more than one entry:\n%s", term, head, out)
			}
			for _, part := range []string{"Meaning:       " + e.Description, "Typical cause: " + e.Cause, "What to do:    " + e.Action} {
				if !strings.Contains(out, part+"\n") {
					t.Errorf("explain %s lacks %q", term, part)
				}
			}
			// Unqualified, the entry is among those printed.
			if code, out, _ := runExplain(t, e.Label); code != 0 || !strings.Contains(out, head) {
				t.Errorf("explain %s (unqualified): exit %d, entry of %s missing", e.Label, code, c.Name)
			}
		}
	}
	for dim, values := range labels {
		for _, v := range values {
			if code, out, _ := runExplain(t, dim+":"+v); code != 0 || !strings.Contains(out, dim+" = "+v+"  (") {
				t.Errorf("label %s=%q: exit %d:\n%s", dim, v, code, out)
			}
		}
	}
	if seen < 150 {
		t.Errorf("walked %d entries; the catalogues hold more", seen)
	}
}

func TestExplainAcceptsWhatOperatorsPaste(t *testing.T) {
	tests := []struct {
		args []string
		want string // the first entry printed
	}{
		{[]string{"AADSTS500121"}, "error_code = 500121"},
		{[]string{"MFA", "denied;", "user", "declined", "the", "authentication"}, "reason = user_declined"},
		{[]string{"failed_phone_app_denied"}, "result_code = FAILED_PHONE_APP_DENIED"},
		{[]string{`reason="other"`}, "reason = other"},
		{[]string{"Mobile app notification"}, "method = mobile_app_notification"},
	}
	for _, tt := range tests {
		code, out, errOut := runExplain(t, tt.args...)
		if code != 0 || !strings.HasPrefix(out, tt.want+"  (") {
			t.Errorf("explain %q: exit %d, got\n%s%s", tt.args, code, out, errOut)
		}
	}
}

// An unknown term prints the closest known terms and exits non-zero, with nothing on stdout.
func TestExplainUnknownTermSuggests(t *testing.T) {
	code, out, errOut := runExplain(t, "user_declind")
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if !strings.Contains(lines[0], `no catalogue entry for "user_declind"`) || lines[1] != "Closest known terms:" || !strings.Contains(errOut, "\n  user_declined\n") {
		t.Errorf("stderr:\n%s", errOut)
	}
	if len(lines) != 2+closestCount {
		t.Errorf("%d suggestions, want %d", len(lines)-2, closestCount)
	}
	if code, _, errOut := run2(t); code != 2 || !strings.Contains(errOut, "required argument 'term' not provided") {
		t.Errorf("explain without a term: exit %d: %s", code, errOut)
	}
}

func run2(t *testing.T) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"explain"}, &out, &errOut)
	return code, out.String(), errOut.String()
}

// Every `explain TERM` the runbooks and the setup guide quote answers (placeholders in capitals
// such as REASON are skipped), so a link from an alert to the explanation never ends at "no
// catalogue entry".
func TestDocumentedExplainTermsResolve(t *testing.T) {
	re := regexp.MustCompile("`(?:entra-mfa-exporter )?explain ([^`]+)`")
	placeholder := regexp.MustCompile(`^(?:[a-z_]+:)?[A-Z]+$`)
	n := 0
	for _, doc := range []string{"../../docs/runbooks.md", "../../docs/setup.md", "../../README.md"} {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(data), -1) {
			term := strings.Trim(m[1], `"`)
			if placeholder.MatchString(term) {
				continue
			}
			n++
			if len(mfa.ExplainAll(term)) == 0 {
				t.Errorf("%s: `explain %s` finds no catalogue entry", doc, term)
			}
		}
	}
	if n < 8 {
		t.Errorf("only %d explain commands found in the docs", n)
	}
}
