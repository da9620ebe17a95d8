package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/alecthomas/kingpin/v2"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

var updateReports = flag.Bool("update-reports", false, "rewrite testdata/report-*.csv from the current output")

// runReport parses args the way main.go does once `report users` is registered, and runs it.
func runReport(t *testing.T, args []string, tweak func(*reportCommand)) (code int, stdout, stderr string) {
	t.Helper()
	app := kingpin.New("entra-mfa-exporter", "")
	var out, errOut bytes.Buffer
	app.UsageWriter(&errOut)
	app.ErrorWriter(&errOut)
	configFile := app.Flag("config.file", "").Default("entra-mfa-exporter.yml").String()
	rc := addReportCommand(app)
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code = rc.run(ctx, *configFile, &out, &errOut, slog.New(slog.DiscardHandler))
	return code, out.String(), errOut.String()
}

// fixtureTenant starts a simulated tenant holding testdata/registration-tenant.json and writes a
// configuration for it, as an operator would: custom cloud, CA file, secret in a file.
func fixtureTenant(t *testing.T, extraTenant bool) (*simtenant.Tenant, string) {
	t.Helper()
	sim, err := simtenant.Start(simtenant.Options{RateLimit: -1, PageSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	f, err := os.Open("testdata/registration-tenant.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := sim.LoadRegistrationFixture(f); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := sim.WriteCACert(filepath.Join(dir, "ca.pem")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "secret"), sim.ClientSecret())
	cfg := "tenants:\n" + tenantYAML("contoso", sim)
	if extraTenant {
		cfg += tenantYAML("fabrikam", sim)
	}
	path := filepath.Join(dir, "config.yml")
	writeFile(t, path, cfg)
	return sim, path
}

func tenantYAML(name string, sim *simtenant.Tenant) string {
	return "  - name: " + name + "\n    tenant_id: " + sim.TenantID() + "\n    cloud: custom\n" +
		"    authority_host: " + sim.AuthorityHost() + "\n    graph_endpoint: " + sim.GraphEndpoint() + "\n" +
		"    ca_file: ca.pem\n    credential:\n      type: client_secret\n      client_id: " + sim.ClientID() +
		"\n      client_secret_file: secret\n"
}

// The three reports of the fixture tenant, byte for byte. testdata/report-*.csv were checked by
// hand against the fixture: disabled accounts (Dan, Frank) only in "all", the user created after
// the report (Judy) as "Not in report" and not registered, the deleted user (Kim) nowhere,
// quoting for Bob's display name, UTF-8 for Adèle and Heidi.
func TestReportCSVExactForFixtureTenant(t *testing.T) {
	_, cfg := fixtureTenant(t, false)
	for _, kind := range []string{"registered", "not-registered", "all"} {
		t.Run(kind, func(t *testing.T) {
			code, out, errOut := runReport(t, []string{"--config.file=" + cfg, "report", "users", "--report=" + kind}, nil)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden := filepath.Join("testdata", "report-"+kind+".csv")
			if *updateReports {
				writeFile(t, golden, out)
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if out != string(want) {
				t.Errorf("CSV differs from %s:\n%s", golden, out)
			}
			checkRFC4180(t, out)
		})
	}
}

// checkRFC4180 reads the output back with a strict reader: CRLF records, one header, the same
// number of fields everywhere, valid UTF-8.
func checkRFC4180(t *testing.T, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Error("output is not UTF-8")
	}
	if strings.Count(out, "\r\n") != strings.Count(out, "\n") {
		t.Error("records do not all end with CRLF")
	}
	r := csv.NewReader(strings.NewReader(out))
	r.FieldsPerRecord = len(csvHeader)
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("output is not valid CSV: %v", err)
	}
	if strings.Join(recs[0], "|") != strings.Join(csvHeader, "|") {
		t.Errorf("header = %v", recs[0])
	}
}

func TestReportFormatsAndOptions(t *testing.T) {
	_, cfg := fixtureTenant(t, true)
	base := []string{"--config.file=" + cfg, "report", "users", "--tenant=contoso"}

	code, out, errOut := runReport(t, append(base, "--format=json", "--report=not-registered"), nil)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	var upns []string
	for _, r := range rows {
		upns = append(upns, r["userPrincipalName"].(string))
	}
	if strings.Join(upns, " ") != "carol@contoso.example erin_fabrikam.example#EXT#@contoso.example judy@contoso.example mallory@contoso.example" {
		t.Errorf("not-registered users = %v", upns)
	}
	if rows[0]["mfaStatus"] != "Not registered" || rows[0]["accountEnabled"] != true || rows[2]["inRegistrationReport"] != false {
		t.Errorf("rows = %v", rows)
	}

	code, out, _ = runReport(t, append(base, "--format=table", "--report=registered"), nil)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if code != 0 || len(lines) != 6 || !strings.HasPrefix(lines[0], "USER PRINCIPAL NAME") ||
		!strings.Contains(lines[1], "adele.vance@contoso.example") || !strings.Contains(lines[1], "microsoftAuthenticatorPush, fido2, passKeySynced") {
		t.Errorf("table (exit %d):\n%s", code, out)
	}

	code, out, _ = runReport(t, append(base, "--csv.bom", "--report=registered"), nil)
	if code != 0 || !strings.HasPrefix(out, "\uFEFFUserPrincipalName,") {
		t.Errorf("BOM missing: %q", out[:min(len(out), 20)])
	}

	code, _, errOut = runReport(t, []string{"--config.file=" + cfg, "report", "users"}, nil)
	if code != 1 || !strings.Contains(errOut, "choose one with --tenant (contoso, fabrikam)") {
		t.Errorf("several tenants without --tenant: exit %d: %s", code, errOut)
	}
	code, _, errOut = runReport(t, []string{"--config.file=" + cfg, "report", "users", "--tenant=nope"}, nil)
	if code != 1 || !strings.Contains(errOut, `no tenant named "nope"`) {
		t.Errorf("unknown tenant: exit %d: %s", code, errOut)
	}
}

func TestReportPerUserMFAState(t *testing.T) {
	sim, cfg := fixtureTenant(t, false)
	args := []string{"--config.file=" + cfg, "report", "users", "--report=registered", "--per-user-mfa-state", "--format=json"}
	code, out, errOut := runReport(t, args, nil)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r["userPrincipalName"].(string)] = r["mfaStatus"].(string)
	}
	want := map[string]string{
		"adele.vance@contoso.example": "Enforced", "bob@contoso.example": "Enabled", "grace@contoso.example": "Disabled",
		"heidi@contoso.example": "Disabled", "ivan@contoso.example": "Enabled",
	}
	if len(got) != len(want) {
		t.Errorf("rows = %v", got)
	}
	for upn, w := range want {
		if got[upn] != w {
			t.Errorf("%s: %q, want %q", upn, got[upn], w)
		}
	}
	if n := sim.Stats().Count(simtenant.RouteRequirements, 200); n != 5 {
		t.Errorf("requirements calls = %d, want one per reported user (5)", n)
	}
	// 5 calls fit in one budget window: no wait is announced; stderr is not a terminal, so no bar.
	if !strings.Contains(errOut, "per-user MFA state of 5 users") || !strings.Contains(errOut, "about 0s") || strings.Contains(errOut, "[") {
		t.Errorf("stderr = %q", errOut)
	}

	_, _, errOut = runReport(t, []string{"--config.file=" + cfg, "report", "users", "--report=all", "--per-user-mfa-state", "--progress=always"}, nil)
	if !strings.Contains(errOut, "of 11 users") || !strings.Contains(errOut, "about 40ms") || !strings.Contains(errOut, "] 11/11") {
		t.Errorf("stderr with a progress bar = %q", errOut)
	}

	sim.InjectFault(simtenant.Fault{Kind: simtenant.FaultPermission, Route: simtenant.RouteRequirements, Count: 100})
	code, out, errOut = runReport(t, args, nil)
	if code != 1 || out != "" || !strings.Contains(errOut, "Policy.Read.All") || strings.Count(errOut, "graph authenticationRequirements") != 1 {
		t.Errorf("missing Policy.Read.All: exit %d out %q err %q", code, out, errOut)
	}
}

func TestReportNamesMissingLicenceAndPermissions(t *testing.T) {
	tests := []struct {
		route, kind string
		want        []string
	}{
		{simtenant.RouteRegistrationDetails, simtenant.FaultLicense, []string{"reading the registration report", "Free", "B2C", "P1/P2"}},
		{simtenant.RouteRegistrationDetails, simtenant.FaultPermission, []string{"reading the registration report", "AuditLog.Read.All"}},
		{simtenant.RouteUsers, simtenant.FaultPermission, []string{"reading the user list", "User.Read.All"}},
	}
	for _, tt := range tests {
		t.Run(tt.route+" "+tt.kind, func(t *testing.T) {
			sim, cfg := fixtureTenant(t, false)
			sim.InjectFault(simtenant.Fault{Kind: tt.kind, Route: tt.route, Count: 100})
			code, out, errOut := runReport(t, []string{"--config.file=" + cfg, "report", "users"}, nil)
			if code != 1 || out != "" {
				t.Errorf("exit %d, stdout %q", code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("error lacks %q: %s", w, errOut)
				}
			}
		})
	}
}

// `report users --demo` prints each of the three reports from the embedded tenant. Each run
// starts a new simulated tenant with its own seed, so each report is checked on its own terms.
func TestReportDemo(t *testing.T) {
	for _, kind := range []string{"registered", "not-registered", "all"} {
		code, out, errOut := runReport(t, []string{"report", "users", "--demo", "--report=" + kind}, nil)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", kind, code, errOut)
		}
		checkRFC4180(t, out)
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		rows := recs[1:]
		var enabled, registered int
		for _, r := range rows {
			if r[8] == "True" {
				enabled++
			}
			if r[9] == "True" {
				registered++
			}
		}
		switch kind {
		case "registered":
			if len(rows) == 0 || enabled != len(rows) || registered != len(rows) {
				t.Errorf("registered: %d rows, %d enabled, %d registered", len(rows), enabled, registered)
			}
		case "not-registered":
			if len(rows) == 0 || enabled != len(rows) || registered != 0 {
				t.Errorf("not-registered: %d rows, %d enabled, %d registered", len(rows), enabled, registered)
			}
		case "all":
			if len(rows) != 500 || enabled == len(rows) || registered == 0 || registered == len(rows) {
				t.Errorf("all: %d rows, %d enabled, %d registered", len(rows), enabled, registered)
			}
		}
	}
}

func TestEstimateDuration(t *testing.T) {
	for n, want := range map[int]time.Duration{0: 0, 1: 0, 5: 0, 6: 10 * time.Second, 10: 10 * time.Second, 11: 20 * time.Second, 500: 990 * time.Second} {
		if got := estimateDuration(n, 10*time.Second); got != want {
			t.Errorf("estimateDuration(%d) = %v, want %v", n, got, want)
		}
	}
}
