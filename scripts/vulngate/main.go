// Command vulngate reads govulncheck's JSON stream (govulncheck -format json) on standard input,
// prints one line per vulnerability, and exits 1 when the scanned code calls a vulnerable symbol
// for which a fixed version exists. govulncheck's own exit status cannot express that policy: in
// text mode it fails on every called vulnerability, fixed or not, and in JSON mode it never fails.
// Vulnerabilities that are only imported or only required are listed but do not fail the run.
// A stream that is not a complete symbol-level scan is an error (exit 2), so that a scan that
// silently did less cannot pass.
//
// Usage (scripts/test.sh): govulncheck -db file:///... -format json ./... | go run ./scripts/vulngate
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

func main() {
	r, err := read(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulngate:", err)
		os.Exit(2)
	}
	r.write(os.Stdout)
	if len(r.blocking()) > 0 {
		os.Exit(1)
	}
}

// The subset of govulncheck's JSON protocol (v1) this gate reads; see
// golang.org/x/vuln/internal/govulncheck. Each message has exactly one field set.
type message struct {
	Config  *scanConfig `json:"config"`
	OSV     *osvEntry   `json:"osv"`
	Finding *finding    `json:"finding"`
}

type scanConfig struct {
	ProtocolVersion string `json:"protocol_version"`
	ScannerVersion  string `json:"scanner_version"`
	DB              string `json:"db"`
	GoVersion       string `json:"go_version"`
	ScanLevel       string `json:"scan_level"`
}

type osvEntry struct {
	ID      string `json:"id"`
	Summary string `json:"summary"`
}

type finding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version"`
	Trace        []frame `json:"trace"`
}

// frame is one step of a finding's trace, from the vulnerable symbol (first) to the entry point
// in the scanned code (last).
type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
	Position *struct {
		Filename string `json:"filename"`
		Line     int    `json:"line"`
		Column   int    `json:"column"`
	} `json:"position"`
}

func (f frame) symbol() string {
	name := f.Function
	if f.Receiver != "" {
		name = strings.TrimPrefix(f.Receiver, "*") + "." + name
	}
	if f.Package == "" {
		return name
	}
	return f.Package[strings.LastIndex(f.Package, "/")+1:] + "." + name
}

// level says how far the scanned code reaches a vulnerability: govulncheck reports a finding per
// level it establishes, so the deepest one wins.
type level int

const (
	required level = iota // the module is in the build list
	imported              // a vulnerable package is imported
	called                // a vulnerable symbol is reachable from the scanned code
)

func (l level) String() string {
	return [...]string{"required, not imported", "imported, not called", "called"}[l]
}

func levelOf(f *finding) level {
	if len(f.Trace) == 0 || f.Trace[0].Package == "" {
		return required
	}
	if f.Trace[0].Function == "" {
		return imported
	}
	return called
}

type vuln struct {
	ID, Summary string
	Level       level
	Found       string // module@version of the vulnerable code
	Fixed       string // empty when no fix exists
	Example     []frame
}

type report struct {
	Config scanConfig
	Vulns  map[string]*vuln
}

func read(in io.Reader) (*report, error) {
	r := &report{Vulns: map[string]*vuln{}}
	summaries := map[string]string{}
	seenConfig := false
	dec := json.NewDecoder(in)
	for n := 1; ; n++ {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", n, err)
		}
		switch {
		case m.Config != nil:
			r.Config = *m.Config
			seenConfig = true
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil:
			if !seenConfig {
				return nil, fmt.Errorf("message %d: finding before the config message", n)
			}
			f := m.Finding
			if f.OSV == "" {
				return nil, fmt.Errorf("message %d: finding without an OSV id", n)
			}
			v := r.Vulns[f.OSV]
			if v == nil {
				v = &vuln{ID: f.OSV, Level: -1}
				r.Vulns[f.OSV] = v
			}
			if l := levelOf(f); l > v.Level {
				v.Level = l
				v.Example = f.Trace
			}
			// The fix is a property of the vulnerability and the version in use; findings of
			// one OSV agree on it, but a later, deeper finding must not erase a known fix.
			if f.FixedVersion != "" {
				v.Fixed = f.FixedVersion
			}
			if len(f.Trace) > 0 && v.Found == "" {
				v.Found = f.Trace[0].Module + "@" + f.Trace[0].Version
			}
		}
	}
	if !seenConfig {
		return nil, errors.New("no config message: not a govulncheck -format json stream (did govulncheck fail?)")
	}
	if r.Config.ScanLevel != "symbol" {
		return nil, fmt.Errorf("scan level %q: reachability needs govulncheck's default symbol-level scan", r.Config.ScanLevel)
	}
	for id, v := range r.Vulns {
		v.Summary = summaries[id]
	}
	return r, nil
}

// blocking lists the vulnerabilities that fail the run: called, with a fix available.
func (r *report) blocking() []*vuln {
	var out []*vuln
	for _, v := range r.sorted() {
		if v.Level == called && v.Fixed != "" {
			out = append(out, v)
		}
	}
	return out
}

func (r *report) sorted() []*vuln {
	out := make([]*vuln, 0, len(r.Vulns))
	for _, v := range r.Vulns {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Level != out[j].Level {
			return out[i].Level > out[j].Level
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func (r *report) write(w io.Writer) {
	fmt.Fprintf(w, "govulncheck %s, %s, database %s\n", r.Config.ScannerVersion, r.Config.GoVersion, r.Config.DB)
	counts := map[string]int{}
	for _, v := range r.sorted() {
		fix := "no fix available"
		if v.Fixed != "" {
			fix = "fixed in " + v.Fixed
		}
		verdict := "ok"
		switch {
		case v.Level == called && v.Fixed != "":
			verdict = "FAIL"
			counts["called with a fix (fail)"]++
		case v.Level == called:
			verdict = "WARN"
			counts["called without a fix (warn)"]++
		default:
			counts[v.Level.String()]++
		}
		fmt.Fprintf(w, "%s %s: %s; found in %s, %s: %s\n", verdict, v.ID, v.Level, v.Found, fix, v.Summary)
		if v.Level == called {
			fmt.Fprintf(w, "    %s\n", trace(v.Example))
		}
	}
	if len(r.Vulns) == 0 {
		fmt.Fprintln(w, "no vulnerabilities found")
		return
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s: %d", k, counts[k]))
	}
	fmt.Fprintln(w, strings.Join(parts, "; "))
}

// trace prints a call path from the scanned code's entry point to the vulnerable symbol, with the
// position of the first call in the scanned code.
func trace(frames []frame) string {
	if len(frames) == 0 {
		return ""
	}
	parts := make([]string, 0, len(frames))
	for i := len(frames) - 1; i >= 0; i-- {
		parts = append(parts, frames[i].symbol())
	}
	s := strings.Join(parts, " -> ")
	if p := frames[len(frames)-1].Position; p != nil && p.Filename != "" {
		s = fmt.Sprintf("%s:%d:%d: %s", p.Filename, p.Line, p.Column, s)
	}
	return s
}
