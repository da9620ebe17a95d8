package main

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
)

const cfg = `{"config":{"protocol_version":"v1.0.0","scanner_name":"govulncheck","scanner_version":"v1.9.0","db":"file:///db","go_version":"go1.26.8","scan_level":"symbol","scan_mode":"source"}}`

// Findings as govulncheck's protocol documents them: a module-level finding has a frame without
// package, a package-level one a frame without function, a symbol-level one a full trace from
// the vulnerable symbol to the scanned code.
const (
	modFinding = `{"finding":{"osv":"%s","fixed_version":"%s","trace":[{"module":"example.com/m","version":"v1.0.0"}]}}`
	pkgFinding = `{"finding":{"osv":"%s","fixed_version":"%s","trace":[{"module":"example.com/m","version":"v1.0.0","package":"example.com/m/p"}]}}`
	symFinding = `{"finding":{"osv":"%s","fixed_version":"%s","trace":[` +
		`{"module":"example.com/m","version":"v1.0.0","package":"example.com/m/p","function":"Parse","receiver":"*Decoder"},` +
		`{"module":"example.com/app","package":"example.com/app/cmd","function":"main","position":{"filename":"cmd/main.go","line":12,"column":3}}]}}`
)

// stream builds a JSON stream; each finding is (format, id, fixed).
func stream(header string, findings ...[3]string) string {
	var b strings.Builder
	b.WriteString(header + "\n")
	for _, fd := range findings {
		s := strings.Replace(fd[0], "%s", fd[1], 1)
		s = strings.Replace(s, "%s", fd[2], 1)
		b.WriteString(s + "\n")
	}
	return b.String()
}

func ids(vs []*vuln) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}

func TestGate(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		blocking []string
		levels   map[string]level
		out      []string // substrings of the printed report
	}{
		{
			name:     "called with a fix fails",
			in:       stream(cfg, [3]string{modFinding, "GO-1", "v1.0.1"}, [3]string{pkgFinding, "GO-1", "v1.0.1"}, [3]string{symFinding, "GO-1", "v1.0.1"}),
			blocking: []string{"GO-1"},
			levels:   map[string]level{"GO-1": called},
			out: []string{
				"FAIL GO-1: called; found in example.com/m@v1.0.0, fixed in v1.0.1",
				"cmd/main.go:12:3: cmd.main -> p.Decoder.Parse",
			},
		},
		{
			name:   "called without a fix only warns",
			in:     stream(cfg, [3]string{modFinding, "GO-2", ""}, [3]string{symFinding, "GO-2", ""}),
			levels: map[string]level{"GO-2": called},
			out:    []string{"WARN GO-2: called; found in example.com/m@v1.0.0, no fix available"},
		},
		{
			name:   "imported with a fix passes",
			in:     stream(cfg, [3]string{modFinding, "GO-3", "v1.0.1"}, [3]string{pkgFinding, "GO-3", "v1.0.1"}),
			levels: map[string]level{"GO-3": imported},
			out:    []string{"ok GO-3: imported, not called"},
		},
		{
			name:   "required with a fix passes",
			in:     stream(cfg, [3]string{modFinding, "GO-4", "v1.0.1"}),
			levels: map[string]level{"GO-4": required},
			out:    []string{"ok GO-4: required, not imported"},
		},
		{
			// Order is not guaranteed by the protocol: a later shallower finding must not hide
			// the call, and a later finding without a fix version must not erase the fix.
			name:     "order of findings does not matter",
			in:       stream(cfg, [3]string{symFinding, "GO-5", "v1.0.1"}, [3]string{modFinding, "GO-5", ""}),
			blocking: []string{"GO-5"},
			levels:   map[string]level{"GO-5": called},
		},
		{
			name: "several vulnerabilities are judged one by one",
			in: stream(cfg, [3]string{symFinding, "GO-7", "v2.0.0"}, [3]string{pkgFinding, "GO-6", "v1.0.1"},
				[3]string{symFinding, "GO-8", ""}, [3]string{symFinding, "GO-9", "v1.2.0"}),
			blocking: []string{"GO-7", "GO-9"},
			levels:   map[string]level{"GO-6": imported, "GO-7": called, "GO-8": called, "GO-9": called},
			out:      []string{"called with a fix (fail): 2; called without a fix (warn): 1; imported, not called: 1"},
		},
		{
			name: "no findings",
			in:   cfg + "\n",
			out:  []string{"govulncheck v1.9.0, go1.26.8, database file:///db", "no vulnerabilities found"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := read(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(r.blocking()); !slices.Equal(got, tc.blocking) {
				t.Errorf("blocking: got %v, want %v", got, tc.blocking)
			}
			if len(r.Vulns) != len(tc.levels) {
				t.Errorf("got %d vulnerabilities, want %d", len(r.Vulns), len(tc.levels))
			}
			for id, want := range tc.levels {
				if v := r.Vulns[id]; v == nil || v.Level != want {
					t.Errorf("%s: got %+v, want level %v", id, v, want)
				}
			}
			var out bytes.Buffer
			r.write(&out)
			for _, want := range tc.out {
				if !strings.Contains(out.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// A stream that is not a complete symbol-level scan must not pass as clean.
func TestGateRejectsIncompleteScans(t *testing.T) {
	tests := map[string]string{
		"empty input":             "",
		"no config":               stream(`{"progress":{"message":"Scanning your code..."}}`),
		"finding before config":   stream("", [3]string{symFinding, "GO-1", "v1.0.1"}) + cfg,
		"package-level scan":      strings.Replace(cfg, `"symbol"`, `"package"`, 1),
		"truncated stream":        stream(cfg, [3]string{symFinding, "GO-1", "v1.0.1"})[:len(cfg)+40],
		"finding without an OSV":  stream(cfg, [3]string{symFinding, "", "v1.0.1"}),
		"text output, not JSON":   "=== Symbol Results ===\n\nNo vulnerabilities found.\n",
		"config of another shape": `{"config":"symbol"}`,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if r, err := read(strings.NewReader(in)); err == nil {
				t.Errorf("accepted: %+v", r)
			}
		})
	}
}

// testdata/go1.26.8.jsonl is govulncheck v1.9.0's JSON output for this module on go1.26.8 (progress
// messages dropped, the OSV entries cut to id and summary, one symbol-level finding kept per
// vulnerability). govulncheck's text output for the same scan listed these 12 called
// vulnerabilities, 2 imported but not called and 1 in a required module only.
func TestGateOnRealScan(t *testing.T) {
	in, err := os.Open("testdata/go1.26.8.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := read(in)
	if err != nil {
		t.Fatal(err)
	}
	wantBlocking := []string{"GO-2026-6599", "GO-2026-6600", "GO-2026-6603", "GO-2026-6605", "GO-2026-6607", "GO-2026-6608",
		"GO-2026-6610", "GO-2026-6611", "GO-2026-6612", "GO-2026-6613", "GO-2026-6617", "GO-2026-6809"}
	if got := ids(r.blocking()); !slices.Equal(got, wantBlocking) {
		t.Errorf("blocking:\n got %v\nwant %v", got, wantBlocking)
	}
	for id, want := range map[string]level{"GO-2026-6604": imported, "GO-2026-6609": imported, "GO-2026-5932": required} {
		if v := r.Vulns[id]; v == nil || v.Level != want {
			t.Errorf("%s: got %+v, want level %v", id, v, want)
		}
	}
	if v := r.Vulns["GO-2026-6809"]; v == nil || v.Fixed != "v1.26.10" || v.Found != "stdlib@v1.26.8" {
		t.Errorf("GO-2026-6809: got %+v, want found in stdlib@v1.26.8, fixed in v1.26.10", v)
	}
	var out bytes.Buffer
	r.write(&out)
	for _, want := range []string{
		"govulncheck v1.9.0, go1.26.8",
		"FAIL GO-2026-6603: called; found in stdlib@v1.26.8, fixed in v1.26.9: HTTP/2 server memory exhaustion",
		"called with a fix (fail): 12; imported, not called: 2; required, not imported: 1",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
