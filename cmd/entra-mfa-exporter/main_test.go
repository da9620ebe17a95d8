package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestDemoServesEveryMetricFamilyAndPassesPromtool(t *testing.T) {
	base, stderr := startExporter(t, "--demo")
	waitReady(t, base, stderr)
	body := scrape(t, base+"/metrics")

	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	for _, name := range []string{
		"entra_signins_total", "entra_signins_by_client_app_total", "entra_mfa_attempts_total",
		"entra_mfa_users_challenged", "entra_mfa_users_failed", "entra_graph_requests_total",
		"entra_ingest_last_success_timestamp_seconds", "entra_ingest_lag_seconds",
		"entra_ingest_rows_fetched_total", "entra_exporter_build_info",
		"entra_exporter_config_last_reload_successful",
	} {
		mf, ok := families[name]
		if !ok || len(mf.Metric) == 0 {
			t.Errorf("metric family %s missing from the demo scrape", name)
			continue
		}
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetValue() == "" {
					t.Errorf("%s has an empty %s label", name, l.GetName())
				}
			}
		}
	}
	// Every label family of the MFA attempts counter is populated with more than one value:
	// the demo must show methods, both outcomes, reasons, result codes and components.
	values := map[string]map[string]bool{}
	for _, m := range families["entra_mfa_attempts_total"].GetMetric() {
		for _, l := range m.Label {
			if values[l.GetName()] == nil {
				values[l.GetName()] = map[string]bool{}
			}
			values[l.GetName()][l.GetValue()] = true
		}
	}
	for _, label := range []string{"method", "outcome", "reason", "result_code"} {
		if len(values[label]) < 2 {
			t.Errorf("entra_mfa_attempts_total: label %s has %d distinct values, want at least 2: %v", label, len(values[label]), values[label])
		}
	}
	if !strings.Contains(stderr.String(), "SIMULATED") {
		t.Errorf("demo mode does not say clearly that the data is simulated; log:\n%s", stderr.String())
	}

	promtool := os.Getenv("PROMTOOL")
	if promtool == "" {
		if os.Getenv("ENTRA_REQUIRE_TOOLS") != "" {
			t.Fatal("PROMTOOL is not set (scripts/tools.sh installs it)")
		}
		t.Skip("PROMTOOL not set: run through scripts/test.sh to check the scrape with promtool")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("promtool check metrics reported problems (err=%v):\n%s", err, out)
	}
}

func TestHealthAndLandingPage(t *testing.T) {
	base, stderr := startExporter(t, "--demo")
	waitFor(t, "/-/healthy to answer 200", stderr, func() bool { return status(base+"/-/healthy") == http.StatusOK })
	page := string(scrape(t, base+"/"))
	if !strings.Contains(page, "/metrics") || !strings.Contains(page, "Entra MFA Exporter") {
		t.Errorf("landing page lacks the exporter name or the metrics link:\n%s", page)
	}
	resp, err := http.Get(base + "/-/reload")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: got %d, want 405", resp.StatusCode)
	}
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	secret := dir + "/secret"
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := dir + "/good.yml"
	bad := dir + "/bad.yml"
	writeFile(t, good, fmt.Sprintf(`tenants:
  - name: contoso
    tenant_id: 00000000-0000-0000-0000-000000000001
    credential:
      type: client_secret
      client_id: 00000000-0000-0000-0000-000000000002
      client_secret_file: %s
`, secret))
	writeFile(t, bad, `tenants:
  - name: contoso
    tenant_id: 00000000-0000-0000-0000-000000000001
    credential:
      type: client_secret
      client_id: 00000000-0000-0000-0000-000000000002
      client_secret_file: /nonexistent/secret
    sign_ins:
      poll_intervall: 1m
`)
	// A secret pasted where the name of its environment variable belongs: the error quotes the
	// value, and check-config output lands in terminals and CI logs.
	const pasted = "Xq7~hunter2-correct-horse-battery"
	leaky := dir + "/leaky.yml"
	writeFile(t, leaky, `tenants:
  - name: contoso
    tenant_id: 00000000-0000-0000-0000-000000000001
    credential:
      type: client_secret
      client_id: 00000000-0000-0000-0000-000000000002
      client_secret_env: "`+pasted+`"
`)
	for _, tc := range []struct {
		file     string
		wantCode int
		want     []string
		never    []string
	}{
		{good, 0, []string{"valid", "1 tenant"}, nil},
		{bad, 1, []string{"bad.yml:9", "poll_intervall"}, nil},
		{dir + "/missing.yml", 1, []string{"missing.yml"}, nil},
		{leaky, 1, []string{"leaky.yml:7: tenants[0].credential.client_secret_env", "<redacted>"}, []string{pasted, "hunter2"}},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"check-config", "--config.file=" + tc.file}, &stdout, &stderr)
		if code != tc.wantCode {
			t.Errorf("check-config %s: exit %d, want %d; stderr: %s", tc.file, code, tc.wantCode, stderr.String())
		}
		out := stdout.String() + stderr.String()
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("check-config %s: output lacks %q:\n%s", tc.file, w, out)
			}
		}
		for _, n := range tc.never {
			if strings.Contains(out, n) {
				t.Errorf("check-config %s: output shows %q:\n%s", tc.file, n, out)
			}
		}
	}
}
