package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// figures are the six answers in a form every output (and /metrics) can be read into, so that
// the test compares them without going through the code that printed them.
type figures struct {
	SignIns, Satisfied, NotRequired int64
	Completions                     map[string]int64 // method
	Denials                         map[string]int64 // reason
	Problems                        map[string]int64 // reason/method
	ErrorCodes                      map[string]int64 // code of failed sign-ins
	Challenged, Failed              int64
}

func newFigures() figures {
	return figures{Completions: map[string]int64{}, Denials: map[string]int64{}, Problems: map[string]int64{}, ErrorCodes: map[string]int64{}}
}

func (f figures) String() string {
	b, _ := json.MarshalIndent(f, "", " ")
	return string(b)
}

func metricLabels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// figuresFromMetrics computes the six answers from an exposition the way the dashboards do:
// protected = satisfied / (satisfied + not_required) sign-ins, completions and denials from
// entra_mfa_attempts_total, failed sign-ins by error code from entra_signins_total{result=
// "failure"}, users from the gauges of window (e.g. "1d"). Only the series of tenant count.
func figuresFromMetrics(fams map[string]*dto.MetricFamily, tenant, window string) figures {
	f := newFigures()
	for _, m := range fams["entra_signins_total"].GetMetric() {
		l, v := metricLabels(m), int64(m.GetCounter().GetValue())
		if l["tenant"] != tenant {
			continue
		}
		f.SignIns += v
		switch l["mfa_outcome"] {
		case "satisfied":
			f.Satisfied += v
		case "not_required":
			f.NotRequired += v
		}
		if l["result"] == "failure" {
			f.ErrorCodes[l["error_code"]] += v
		}
	}
	for _, m := range fams["entra_mfa_attempts_total"].GetMetric() {
		l, v := metricLabels(m), int64(m.GetCounter().GetValue())
		if l["tenant"] != tenant {
			continue
		}
		switch l["outcome"] {
		case "satisfied":
			f.Completions[l["method"]] += v
		case "denied":
			f.Denials[l["reason"]] += v
			f.Problems[l["reason"]+"/"+l["method"]] += v
		}
	}
	gauge := func(name string) int64 {
		for _, m := range fams[name].GetMetric() {
			if l := metricLabels(m); l["tenant"] == tenant && l["window"] == window {
				return int64(m.GetGauge().GetValue())
			}
		}
		return -1
	}
	f.Challenged, f.Failed = gauge("entra_mfa_users_challenged"), gauge("entra_mfa_users_failed")
	return f
}

func parseExposition(t *testing.T, r io.Reader) map[string]*dto.MetricFamily {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("parsing an exposition: %v", err)
	}
	return fams
}

// expectedFixtureFigures are the answers for collector/testdata/signins.json, read from the
// counters derived by hand in collector/testdata/expected.prom.
func expectedFixtureFigures(t *testing.T) figures {
	t.Helper()
	f, err := os.Open("../../collector/testdata/expected.prom")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return figuresFromMetrics(parseExposition(t, f), "fixture", "1d")
}

// reportSchema is the JSON document `report mfa --format=json` documents (README), written out
// here independently of the code: decoding with DisallowUnknownFields fails on any field the
// documentation does not name.
type reportSchema struct {
	Tenant     string   `json:"tenant"`
	From       string   `json:"from"`
	To         string   `json:"to"`
	Partial    bool     `json:"partial"`
	ReadBackTo *string  `json:"readBackTo"`
	EventTypes []string `json:"eventTypes"`
	Rows       struct {
		Pages, Read, Counted, Duplicates, OutsidePeriod, WithoutID int64
	} `json:"rows"`
	Protected struct {
		SignIns     int64    `json:"signIns"`
		Satisfied   int64    `json:"satisfied"`
		NotRequired int64    `json:"notRequired"`
		Share       *float64 `json:"share"`
	} `json:"protected"`
	Completions []struct {
		Method string `json:"method"`
		Count  int64  `json:"count"`
	} `json:"completions"`
	Denials []struct {
		Reason  string `json:"reason"`
		Count   int64  `json:"count"`
		Meaning string `json:"meaning"`
	} `json:"denials"`
	Users struct {
		Challenged int64 `json:"challenged"`
		Failed     int64 `json:"failed"`
	} `json:"users"`
	Problems []struct {
		Reason string `json:"reason"`
		Method string `json:"method"`
		Count  int64  `json:"count"`
	} `json:"problems"`
	ErrorCodes []struct {
		ErrorCode string `json:"errorCode"`
		Count     int64  `json:"count"`
		Meaning   string `json:"meaning"`
	} `json:"errorCodes"`
}

// parseReportJSON decodes strictly: one document, no unknown field, every documented key present.
func parseReportJSON(t *testing.T, out string) (reportSchema, figures) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	var r reportSchema
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("JSON output does not match the documented schema: %v\n%s", err, out)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("JSON output has data after the document: %v", err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &keys); err != nil {
		t.Fatal(err)
	}
	want := []string{"completions", "denials", "errorCodes", "eventTypes", "from", "partial", "problems", "protected", "readBackTo", "rows", "tenant", "to", "users"}
	if got := slices.Sorted(maps.Keys(keys)); !slices.Equal(got, want) {
		t.Errorf("JSON keys %v, want %v", got, want)
	}
	f := newFigures()
	f.SignIns, f.Satisfied, f.NotRequired = r.Protected.SignIns, r.Protected.Satisfied, r.Protected.NotRequired
	for _, c := range r.Completions {
		f.Completions[c.Method] += c.Count
	}
	for _, c := range r.Denials {
		f.Denials[c.Reason] += c.Count
		if c.Meaning == "" {
			t.Errorf("denial reason %s has no meaning", c.Reason)
		}
	}
	for _, p := range r.Problems {
		f.Problems[p.Reason+"/"+p.Method] += p.Count
	}
	for _, c := range r.ErrorCodes {
		f.ErrorCodes[c.ErrorCode] += c.Count
		if c.Meaning == "" {
			t.Errorf("error code %s has no meaning", c.ErrorCode)
		}
	}
	f.Challenged, f.Failed = r.Users.Challenged, r.Users.Failed
	return r, f
}

// parseReportCSV reads with encoding/csv's strict settings (no lazy quotes, five fields in every
// record, CRLF line ends checked separately) and collects the figures.
func parseReportCSV(t *testing.T, out string) (map[string]string, figures) {
	t.Helper()
	if strings.Count(out, "\r\n") != strings.Count(out, "\n") {
		t.Error("CSV records do not all end with CRLF")
	}
	r := csv.NewReader(strings.NewReader(out))
	r.FieldsPerRecord = 5
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("CSV output is not strict RFC 4180: %v\n%s", err, out)
	}
	if strings.Join(recs[0], ",") != "section,key,detail,value,meaning" {
		t.Fatalf("CSV header %v", recs[0])
	}
	report := map[string]string{}
	f := newFigures()
	num := func(s string) int64 {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("CSV value %q is not a count", s)
		}
		return v
	}
	for _, rec := range recs[1:] {
		sec, key, detail, value := rec[0], rec[1], rec[2], rec[3]
		switch sec {
		case "report":
			report[key] = value
		case "protected":
			switch key {
			case "sign_ins":
				f.SignIns = num(value)
			case "satisfied":
				f.Satisfied = num(value)
			case "not_required":
				f.NotRequired = num(value)
			case "share":
				report["share"] = value
			}
		case "completions":
			f.Completions[key] += num(value)
		case "denials":
			f.Denials[key] += num(value)
		case "problems":
			f.Problems[key+"/"+detail] += num(value)
		case "error_codes":
			f.ErrorCodes[key] += num(value)
		case "users":
			if key == "challenged" {
				f.Challenged = num(value)
			} else {
				f.Failed = num(value)
			}
		default:
			t.Errorf("unknown CSV section %q", sec)
		}
	}
	return report, f
}

// mdDoc is a Markdown report parsed by goldmark (CommonMark with GitHub tables): its headings in
// order and its tables, each as header plus rows of cell text.
type mdDoc struct {
	headings []string
	tables   [][][]string // table -> row (header first) -> cells
	text     string       // paragraphs, for the sentences of questions 4 and 5
}

func parseMarkdown(t *testing.T, out string) mdDoc {
	t.Helper()
	src := []byte(out)
	md := goldmark.New(goldmark.WithExtensions(extension.Table))
	root := md.Parser().Parse(text.NewReader(src))
	var doc mdDoc
	var para strings.Builder
	err := ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			doc.headings = append(doc.headings, nodeText(n, src))
			return ast.WalkSkipChildren, nil
		case *ast.Paragraph:
			s := nodeText(n, src)
			if strings.Contains(s, "|") {
				t.Errorf("a table did not parse as a table: %q", s)
			}
			para.WriteString(s + "\n")
			return ast.WalkSkipChildren, nil
		case *east.Table:
			var rows [][]string
			width := -1
			for r := n.FirstChild(); r != nil; r = r.NextSibling() {
				var cells []string
				for c := r.FirstChild(); c != nil; c = c.NextSibling() {
					cells = append(cells, nodeText(c, src))
				}
				if width >= 0 && len(cells) != width {
					t.Errorf("table row %v has %d cells, the header %d", cells, len(cells), width)
				}
				width = len(cells)
				rows = append(rows, cells)
			}
			doc.tables = append(doc.tables, rows)
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	doc.text = para.String()
	return doc
}

// nodeText is the plain text of an inline subtree.
func nodeText(n ast.Node, src []byte) string {
	var b bytes.Buffer
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Segment.Value(src))
			if c.SoftLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.CodeSpan:
			for x := c.FirstChild(); x != nil; x = x.NextSibling() {
				if tx, ok := x.(*ast.Text); ok {
					b.Write(tx.Segment.Value(src))
				}
			}
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("%q is not a count", s)
	}
	return v
}

// figuresFromMarkdown reads the tables of the Markdown report: its rankings of problems and error
// codes are cut at the top ten, so those two come back partial.
func figuresFromMarkdown(t *testing.T, doc mdDoc) figures {
	t.Helper()
	if len(doc.tables) != 5 {
		t.Fatalf("Markdown report has %d tables, want 5", len(doc.tables))
	}
	f := newFigures()
	p := doc.tables[0][1]
	f.SignIns, f.Satisfied, f.NotRequired = atoi(t, p[0]), atoi(t, p[1]), atoi(t, p[2])
	for _, r := range doc.tables[1][1:] {
		f.Completions[r[0]] = atoi(t, r[1])
	}
	for _, r := range doc.tables[2][1:] {
		f.Denials[r[0]] = atoi(t, r[1])
	}
	for _, r := range doc.tables[3][1:] {
		f.Problems[r[0]+"/"+r[1]] = atoi(t, r[2])
	}
	for _, r := range doc.tables[4][1:] {
		f.ErrorCodes[r[0]] = atoi(t, r[1])
	}
	if _, err := fmt.Sscanf(afterHeading(doc.text, 0), "%d distinct users.", &f.Challenged); err != nil {
		t.Errorf("question 4's sentence: %v in %q", err, doc.text)
	}
	if _, err := fmt.Sscanf(afterHeading(doc.text, 1), "%d distinct users", &f.Failed); err != nil {
		t.Errorf("question 5's sentence: %v in %q", err, doc.text)
	}
	return f
}

// afterHeading returns the i-th paragraph that starts with a number of users.
func afterHeading(text string, i int) string {
	var found []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, "distinct users") {
			found = append(found, l)
		}
	}
	if i < len(found) {
		return found[i]
	}
	return ""
}

// equalFigures reports every difference between two sets of figures.
func equalFigures(t *testing.T, what string, got, want figures) {
	t.Helper()
	if got.SignIns != want.SignIns || got.Satisfied != want.Satisfied || got.NotRequired != want.NotRequired {
		t.Errorf("%s: sign-ins %d/%d/%d, want %d/%d/%d (all/satisfied/not required)", what,
			got.SignIns, got.Satisfied, got.NotRequired, want.SignIns, want.Satisfied, want.NotRequired)
	}
	for name, pair := range map[string][2]map[string]int64{
		"completions": {got.Completions, want.Completions}, "denials": {got.Denials, want.Denials},
		"problems": {got.Problems, want.Problems}, "error codes": {got.ErrorCodes, want.ErrorCodes},
	} {
		if !maps.Equal(pair[0], pair[1]) {
			t.Errorf("%s: %s\n got %v\nwant %v", what, name, pair[0], pair[1])
		}
	}
	if got.Challenged != want.Challenged || got.Failed != want.Failed {
		t.Errorf("%s: users challenged %d failed %d, want %d and %d", what, got.Challenged, got.Failed, want.Challenged, want.Failed)
	}
}

// topOf keeps the n largest entries of a ranking (ties by key, as the report sorts).
func topOf(m map[string]int64, n int) map[string]int64 {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return int(m[b] - m[a])
		}
		return strings.Compare(a, b)
	})
	out := map[string]int64{}
	for _, k := range keys[:min(n, len(keys))] {
		out[k] = m[k]
	}
	return out
}
