package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// runReportMFA parses args the way main.go does and runs `report mfa` with ctx; tweak adjusts the
// command's test hooks.
func runReportMFA(t *testing.T, ctx context.Context, args []string, tweak func(*reportMFACommand)) (code int, stdout, stderr string) {
	t.Helper()
	app := kingpin.New("entra-mfa-exporter", "")
	var out, errOut bytes.Buffer
	app.UsageWriter(&errOut)
	app.ErrorWriter(&errOut)
	configFile := app.Flag("config.file", "").Default("entra-mfa-exporter.yml").String()
	rc := addReportMFACommand(addReportCommand(app).group)
	rc.budgetPer = 20 * time.Millisecond
	if tweak != nil {
		tweak(rc)
	}
	cmd, err := app.Parse(args)
	if err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	if cmd != rc.FullCommand() {
		t.Fatalf("parsed command %q", cmd)
	}
	if ctx == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
	}
	code = rc.run(ctx, *configFile, &out, &errOut, slog.New(slog.DiscardHandler))
	return code, out.String(), errOut.String()
}

// signInFixtureTenant starts a simulated tenant holding collector/testdata/signins.json (the
// hand-checked classification cases, one row served twice) plus rows after the fixture's period,
// which it serves to every query because it ignores filter upper bounds as Graph has been seen
// to; it returns the configuration file.
func signInFixtureTenant(t *testing.T, pageSize int) (*simtenant.Tenant, string) {
	t.Helper()
	sim, err := simtenant.Start(simtenant.Options{RateLimit: -1, PageSize: pageSize, IgnoreUpperBound: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	f, err := os.Open("../../collector/testdata/signins.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := sim.LoadFixture(f); err != nil {
		t.Fatal(err)
	}
	for i, at := range []time.Duration{31*time.Minute + time.Second, 40 * time.Minute, 2 * time.Hour} {
		sim.AddRows(simtenant.Row{
			ID: "after-" + string(rune('a'+i)), CreatedDateTime: fixtureStart.Add(at), UserID: "late-user",
			SignInEventTypes: []string{"interactiveUser"}, IsInteractive: true,
			Status: simtenant.Status{ErrorCode: 500121, FailureReason: "Authentication failed during strong authentication request."},
		})
	}
	dir := t.TempDir()
	if err := sim.WriteCACert(filepath.Join(dir, "ca.pem")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "secret"), sim.ClientSecret())
	cfg := filepath.Join(dir, "config.yml")
	writeFile(t, cfg, "tenants:\n"+tenantYAML("contoso", sim)+"    sign_ins:\n      event_types: [interactive, non_interactive]\n")
	return sim, cfg
}

// fixtureStart is the first createdDateTime of collector/testdata/signins.json; its rows run to
// 00:30:50.
var fixtureStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

var fixturePeriod = []string{"--from=2026-01-01T00:00:00Z", "--to=2026-01-01T00:31:00Z"}

// The report's figures for the fixture's period equal the counters derived by hand in
// collector/testdata/expected.prom, in every format, each read back with a strict parser. The
// row served twice is counted once, and the rows after the period (which the tenant returns
// because it ignores the filter's upper bound) are not counted.
func TestReportMFAFixtureExactInEveryFormat(t *testing.T) {
	sim, cfg := signInFixtureTenant(t, 25)
	want := expectedFixtureFigures(t)
	base := append([]string{"--config.file=" + cfg, "report", "mfa"}, fixturePeriod...)

	code, out, errOut := runReportMFA(t, nil, append(base, "--format=json"), nil)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	doc, got := parseReportJSON(t, out)
	equalFigures(t, "json", got, want)
	if doc.Tenant != "contoso" || doc.From != "2026-01-01T00:00:00Z" || doc.To != "2026-01-01T00:31:00Z" || doc.Partial {
		t.Errorf("header: %+v", doc)
	}
	// 187 fixture rows (fx-0040 twice) + 3 after the period; 25 rows a page.
	if r := doc.Rows; r.Read != 190 || r.Counted != 186 || r.Duplicates != 1 || r.OutsidePeriod != 3 || r.WithoutID != 0 || r.Pages != 8 {
		t.Errorf("rows = %+v, want 190 read, 186 counted, 1 duplicate, 3 outside, 8 pages", r)
	}
	if doc.Protected.Share == nil || *doc.Protected.Share != float64(want.Satisfied)/float64(want.Satisfied+want.NotRequired) {
		t.Errorf("share = %v, want satisfied/(satisfied+not required) = %d/%d", doc.Protected.Share, want.Satisfied, want.Satisfied+want.NotRequired)
	}
	if doc.ReadBackTo == nil || *doc.ReadBackTo != "2026-01-01T00:00:00Z" {
		t.Errorf("readBackTo = %v", doc.ReadBackTo)
	}
	for _, d := range doc.Denials {
		if d.Reason == "user_declined" && d.Meaning != "The user pressed Deny." {
			t.Errorf("user_declined explained as %q", d.Meaning)
		}
	}

	code, out, errOut = runReportMFA(t, nil, append(base, "--format=csv"), nil)
	if code != 0 {
		t.Fatalf("csv: exit %d: %s", code, errOut)
	}
	report, got := parseReportCSV(t, out)
	equalFigures(t, "csv", got, want)
	if report["tenant"] != "contoso" || report["partial"] != "false" || report["rows_duplicate"] != "1" || report["rows_outside_period"] != "3" {
		t.Errorf("csv report section = %v", report)
	}

	code, out, errOut = runReportMFA(t, nil, append(base, "--format=markdown"), nil)
	if code != 0 {
		t.Fatalf("markdown: exit %d: %s", code, errOut)
	}
	md := parseMarkdown(t, out)
	if len(md.headings) != 9 || md.headings[0] != "MFA sign-in report: contoso" || !strings.HasPrefix(md.headings[6], "6.") {
		t.Errorf("markdown headings = %q", md.headings)
	}
	got = figuresFromMarkdown(t, md)
	cut := want
	cut.Problems, cut.ErrorCodes = topOf(want.Problems, topRows), topOf(want.ErrorCodes, topRows)
	equalFigures(t, "markdown", got, cut)

	code, out, errOut = runReportMFA(t, nil, base, nil)
	if code != 0 {
		t.Fatalf("table: exit %d: %s", code, errOut)
	}
	for i, q := range mfaQuestions {
		if !strings.Contains(out, q) {
			t.Errorf("table lacks question %d (%q)", i+1, q)
		}
	}
	for _, w := range []string{"186 sign-in rows counted", "1 repeated, 3 outside the period", "120 distinct users.", "53 distinct users (44.2% of those challenged)"} {
		if !strings.Contains(out, w) {
			t.Errorf("table lacks %q:\n%s", w, out)
		}
	}

	// Only the documented query forms: the tenant answers HTTP 400 to $orderby or to a filter
	// other than ge/le on createdDateTime, so a report that got figures used neither.
	if n := sim.Stats().Count(simtenant.RouteSignIns, 400); n != 0 {
		t.Errorf("%d sign-in requests refused with HTTP 400", n)
	}
}

// Ctrl-C while reading prints what was read, marked partial, and exits 130; the progress line
// counts pages and rows and says how long the rest would take at the request budget.
func TestReportMFAInterruptedIsPartial(t *testing.T) {
	_, cfg := signInFixtureTenant(t, 25)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{"--config.file=" + cfg, "report", "mfa", "--format=json", "--progress=always"}, fixturePeriod...)
	code, out, errOut := runReportMFA(t, ctx, args, func(rc *reportMFACommand) {
		rc.budgetPer = 10 * time.Second
		rc.onPage = func(pages int) {
			if pages == 2 {
				cancel() // what the SIGINT handler of main does
			}
		}
	})
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d: %s", code, exitInterrupted, errOut)
	}
	doc, got := parseReportJSON(t, out)
	// Newest first, 25 a page: the 3 rows after the period, then the 47 fixture rows of 00:30:50
	// back to 00:23:10 (10 s apart).
	if !doc.Partial || doc.Rows.Pages != 2 || doc.Rows.Read != 50 || got.SignIns != 47 || doc.Rows.OutsidePeriod != 3 {
		t.Errorf("partial report: partial=%v rows=%+v counted %d; want 2 pages, 50 read, 47 counted", doc.Partial, doc.Rows, got.SignIns)
	}
	if doc.ReadBackTo == nil || *doc.ReadBackTo != "2026-01-01T00:23:10Z" {
		t.Errorf("readBackTo = %v, want 2026-01-01T00:23:10Z", doc.ReadBackTo)
	}
	if !strings.Contains(errOut, "PARTIAL") || !strings.Contains(errOut, "pages 2 · rows 50") {
		t.Errorf("stderr = %q", errOut)
	}
	// After page 2: 7m50s of 31 minutes read back (25%); 2 pages for that leave about 5.9 more,
	// at 5 per 10 s: about 12 s.
	if !strings.Contains(errOut, "(25%)") || !strings.Contains(errOut, "about 12s left at 5 requests per 10s") {
		t.Errorf("progress line lacks the estimate: %q", errOut)
	}

	// Not a terminal and not asked for: no progress line.
	code, _, errOut = runReportMFA(t, nil, append([]string{"--config.file=" + cfg, "report", "mfa"}, fixturePeriod...), nil)
	if code != 0 || strings.Contains(errOut, "pages") {
		t.Errorf("progress without a terminal (exit %d): %q", code, errOut)
	}
	// A terminal: progress.
	code, _, errOut = runReportMFA(t, nil, append([]string{"--config.file=" + cfg, "report", "mfa"}, fixturePeriod...),
		func(rc *reportMFACommand) { rc.isTerminal = func(io.Writer) bool { return true } })
	if code != 0 || !strings.Contains(errOut, "\rpages 8 · rows 190") {
		t.Errorf("progress on a terminal (exit %d): %q", code, errOut)
	}
}

func TestReportMFAPeriodFlags(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		args     []string
		from, to string
		err      string
	}{
		{nil, "2026-02-28T12:00:00Z", "2026-03-01T12:00:00Z", ""},
		{[]string{"--since=1h"}, "2026-03-01T11:00:00Z", "2026-03-01T12:00:00Z", ""},
		{[]string{"--since=1h", "--to=2026-03-01T06:00:00+02:00"}, "2026-03-01T03:00:00Z", "2026-03-01T04:00:00Z", ""},
		{[]string{"--from=2026-02-01", "--to=2026-02-02"}, "2026-02-01T00:00:00Z", "2026-02-02T00:00:00Z", ""},
		{[]string{"--from=2026-02-01", "--to=2027-01-01"}, "2026-02-01T00:00:00Z", "2026-03-01T12:00:00Z", ""}, // to is capped at now
		{[]string{"--from=2026-02-02", "--to=2026-02-01"}, "", "", "at or after it ends"},
		{[]string{"--from=yesterday"}, "", "", `--from: "yesterday" is neither RFC 3339`},
		{[]string{"--since=0s"}, "", "", "--since must be positive"},
	}
	for _, tt := range tests {
		app := kingpin.New("x", "")
		rc := addReportMFACommand(addReportCommand(app).group)
		if _, err := app.Parse(append([]string{"report", "mfa"}, tt.args...)); err != nil {
			t.Fatal(err)
		}
		from, to, err := rc.period(now)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%v: error %v, want %q", tt.args, err, tt.err)
			}
		case err != nil:
			t.Errorf("%v: %v", tt.args, err)
		case utc(from) != tt.from || utc(to) != tt.to:
			t.Errorf("%v: [%s, %s], want [%s, %s]", tt.args, utc(from), utc(to), tt.from, tt.to)
		}
	}
}

// `report mfa --demo --since 1h` answers all six questions from the embedded tenant.
func TestReportMFADemo(t *testing.T) {
	code, out, errOut := runReportMFA(t, nil, []string{"report", "mfa", "--demo", "--since=1h", "--format=json"}, nil)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	doc, f := parseReportJSON(t, out)
	if f.SignIns == 0 || f.Satisfied == 0 || f.NotRequired == 0 || len(f.Completions) < 3 || len(f.Denials) < 3 ||
		f.Challenged == 0 || f.Failed == 0 || f.Failed > f.Challenged || len(f.Problems) < 3 || len(f.ErrorCodes) < 2 || doc.Tenant != "demo" {
		t.Errorf("demo report lacks an answer:\n%s", f)
	}
	code, out, errOut = runReportMFA(t, nil, []string{"report", "mfa", "--demo", "--since=1h"}, nil)
	if code != 0 {
		t.Fatalf("table: exit %d: %s", code, errOut)
	}
	for i, q := range mfaQuestions {
		if !strings.Contains(out, q) {
			t.Errorf("table lacks question %d", i+1)
		}
	}
}

// A configuration error quotes no secret: a client secret pasted inline is redacted.
func TestReportConfigErrorsAreRedacted(t *testing.T) {
	const secret = "abc8Q~0123456789abcdefghijABCDEFGHIJ0123"
	cfg := filepath.Join(t.TempDir(), "config.yml")
	writeFile(t, cfg, "tenants:\n  - name: contoso\n    tenant_id: "+secret+"\n    credential:\n      type: client_secret\n      client_id: 00000000-0000-0000-0000-000000000001\n      client_secret_env: X\n")
	code, _, errOut := runReportMFA(t, nil, []string{"--config.file=" + cfg, "report", "mfa"}, nil)
	if code != 1 || strings.Contains(errOut, secret) || !strings.Contains(errOut, "tenant_id") || !strings.Contains(errOut, "<redacted>") {
		t.Errorf("report mfa: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runReport(t, []string{"--config.file=" + cfg, "report", "users"}, nil)
	if code != 1 || strings.Contains(errOut, secret) || !strings.Contains(errOut, "<redacted>") {
		t.Errorf("report users: exit %d, stderr %q", code, errOut)
	}
}
