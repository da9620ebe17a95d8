package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// waitTimeout bounds every wait for something the exporter does in the background. It is far
// above what any step takes (a poll, a reload), so a loaded 2-core machine under -race does not
// make a test fail; a test that reaches it has found a real hang.
const waitTimeout = 90 * time.Second

// syncBuffer is a bytes.Buffer safe for the exporter's logger and the test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// startExporter runs the exporter in-process through run() with args until the test ends.
func startExporter(t *testing.T, args ...string) (base string, stderr *syncBuffer) {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &syncBuffer{}
	done := make(chan int, 1)
	args = append(args, "--web.listen-address="+addr, "--storage.path="+t.TempDir())
	go func() { done <- run(ctx, args, io.Discard, stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(waitTimeout):
			t.Error("exporter did not stop after cancellation")
		}
	})
	return "http://" + addr, stderr
}

// startServer runs runServer with o (listen address, storage and logger filled in) until the
// test ends: for options the command line does not offer, such as short HTTP timeouts.
func startServer(t *testing.T, o serverOptions, webConfigFile string) (addr string, logs *syncBuffer) {
	t.Helper()
	addr = freeAddr(t)
	logs = &syncBuffer{}
	o.web = &web.FlagConfig{WebListenAddresses: &[]string{addr}, WebSystemdSocket: new(bool), WebConfigFile: &webConfigFile}
	o.logger = slog.New(slog.NewTextHandler(logs, nil))
	o.storagePath = t.TempDir()
	if o.metricsPath == "" {
		o.metricsPath = "/metrics"
	}
	if o.shard == (shard{}) {
		o.shard = shard{1, 1}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServer(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(waitTimeout):
			t.Error("server did not stop after cancellation")
		}
	})
	waitFor(t, "the server to listen", logs, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return addr, logs
}

// waitFor polls cond until it holds, failing the test (with the exporter's log) after
// waitTimeout.
func waitFor(t *testing.T, what string, logs *syncBuffer, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s; log:\n%s", what, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// status returns the status code of GET url, or 0 when the server does not answer.
func status(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitReady polls /-/ready until it answers 200.
func waitReady(t *testing.T, base string, stderr *syncBuffer) {
	t.Helper()
	waitFor(t, "/-/ready to answer 200", stderr, func() bool { return status(base+"/-/ready") == http.StatusOK })
}

func scrape(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	return body
}

// families scrapes and parses /metrics.
func families(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(scrape(t, base+"/metrics")))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// labelValues returns the sorted distinct values of label among the series of metric whose
// other labels include match.
func labelValues(fams map[string]*dto.MetricFamily, metric, label string, match map[string]string) []string {
	seen := map[string]bool{}
	for _, m := range fams[metric].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range match {
			ok = ok && labels[k] == v
		}
		if v, has := labels[label]; ok && has {
			seen[v] = true
		}
	}
	out := []string{}
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// appliedTenants are the tenants the manager runs: it exports entra_mfa_users_tracked for each
// from the moment a configuration is applied, before any poll.
func appliedTenants(t *testing.T, base string) []string {
	t.Helper()
	return labelValues(families(t, base), "entra_mfa_users_tracked", "tenant", nil)
}

// polledTenants are the tenants that sent at least one request to Graph.
func polledTenants(t *testing.T, base string) []string {
	t.Helper()
	return labelValues(families(t, base), "entra_graph_requests_total", "tenant", nil)
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

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// testSim is a running simulated tenant with its CA certificate and client secret on disk, as a
// deployment would mount them.
type testSim struct {
	*simtenant.Tenant
	ca, secret string
}

// startSim starts a simulated tenant that does not throttle and makes rows visible at once,
// with half an hour of settled history.
func startSim(t *testing.T) *testSim {
	t.Helper()
	sim, err := simtenant.Start(simtenant.Options{RateLimit: -1, LatenessScale: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	now := time.Now()
	sim.Backfill(now.Add(-30*time.Minute), now.Add(-6*time.Minute), 0.5)
	dir := t.TempDir()
	s := &testSim{Tenant: sim, ca: filepath.Join(dir, "ca.pem"), secret: filepath.Join(dir, "secret")}
	if err := sim.WriteCACert(s.ca); err != nil {
		t.Fatal(err)
	}
	writeFile(t, s.secret, sim.ClientSecret())
	return s
}

// tenant returns the configuration of one tenant named name on the simulated tenant; extra is
// YAML indented to sit under the tenant (e.g. "    sign_ins: {poll_interval: 10s}\n").
func (s *testSim) tenant(name, extra string) string {
	return fmt.Sprintf(`  - name: %s
    tenant_id: %s
    cloud: custom
    authority_host: %s
    graph_endpoint: %s
    ca_file: %s
    credential:
      type: client_secret
      client_id: %s
      client_secret_file: %s
`, name, s.TenantID(), s.AuthorityHost(), s.GraphEndpoint(), s.ca, s.ClientID(), s.secret) + extra
}

// config returns a configuration file with one tenant per name, all on the simulated tenant.
func (s *testSim) config(names ...string) string {
	var b strings.Builder
	b.WriteString("tenants:\n")
	for _, n := range names {
		b.WriteString(s.tenant(n, ""))
	}
	return b.String()
}

// replaceFile writes content to path atomically (rename), so a concurrent reader sees the old
// or the new file, never half of one.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	writeFile(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
