package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// simConfig starts a simulated tenant and returns a configuration body for it with the given
// tenant names (all pointing at the same simulated tenant).
func simConfig(t *testing.T, names ...string) func(names ...string) string {
	t.Helper()
	sim, err := simtenant.Start(simtenant.Options{RateLimit: -1, LatenessScale: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	now := time.Now()
	sim.Backfill(now.Add(-30*time.Minute), now.Add(-6*time.Minute), 0.5)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := sim.WriteCACert(ca); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "secret")
	writeFile(t, secret, sim.ClientSecret())
	return func(names ...string) string {
		var b strings.Builder
		b.WriteString("tenants:\n")
		for _, n := range names {
			fmt.Fprintf(&b, `  - name: %s
    tenant_id: %s
    cloud: custom
    authority_host: %s
    graph_endpoint: %s
    ca_file: %s
    credential:
      type: client_secret
      client_id: %s
      client_secret_file: %s
`, n, sim.TenantID(), sim.AuthorityHost(), sim.GraphEndpoint(), ca, sim.ClientID(), secret)
		}
		return b.String()
	}
}

func metricLine(t *testing.T, base, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(string(scrape(t, base+"/metrics")), "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// TestReloadKeepsRunningConfigOnError drives POST /-/reload and SIGHUP against a real
// configuration file: a broken file is rejected (500, reload metric 0) and the running tenants
// keep working; a good file with a second tenant is applied.
func TestReloadKeepsRunningConfigOnError(t *testing.T) {
	cfgFor := simConfig(t)
	file := filepath.Join(t.TempDir(), "config.yml")
	writeFile(t, file, cfgFor("first"))
	base, stderr := startExporter(t, "--config.file="+file)
	waitReady(t, base, stderr)

	writeFile(t, file, cfgFor("first")+"    sign_ins: {poll_interval: 1s}\n")
	resp, err := http.Post(base+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("reload of a bad file: status %d, want 500", resp.StatusCode)
	}
	if l := metricLine(t, base, "entra_exporter_config_last_reload_successful "); l != "entra_exporter_config_last_reload_successful 0" {
		t.Errorf("after a failed reload: %q", l)
	}
	if !strings.Contains(stderr.String(), "poll_interval") {
		t.Errorf("the failed reload's log does not name the key:\n%s", stderr.String())
	}
	if l := metricLine(t, base, `entra_ingest_polls_total{source="signIns",tenant="first"}`); l == "" {
		t.Error("tenant first disappeared after a failed reload")
	}

	// SIGHUP with a good file adding a tenant.
	writeFile(t, file, cfgFor("first", "second"))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for metricLine(t, base, `entra_ingest_last_success_timestamp_seconds{source="signIns",tenant="second"}`) == "" {
		if time.Now().After(deadline) {
			t.Fatalf("tenant second not polled 30s after SIGHUP; log:\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if l := metricLine(t, base, "entra_exporter_config_last_reload_successful "); l != "entra_exporter_config_last_reload_successful 1" {
		t.Errorf("after a good reload: %q", l)
	}
}

// TestWebConfigBasicAuth checks that --web.config.file (exporter-toolkit) protects /metrics.
func TestWebConfigBasicAuth(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(t.TempDir(), "web.yml")
	writeFile(t, webConfig, fmt.Sprintf("basic_auth_users:\n  prometheus: %s\n", hash))
	base, _ := startExporter(t, "--demo", "--web.config.file="+webConfig)
	var resp *http.Response
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err = http.Get(base + "/metrics")
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /metrics without credentials: %d, want 401", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.SetBasicAuth("prometheus", "s3cret")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /metrics with credentials: %d, want 200", resp.StatusCode)
	}
}
