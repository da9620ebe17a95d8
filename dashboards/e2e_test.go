package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// Grafana's built-in variables, as the e2e substitutes them. Prometheus scrapes every second in the
// test, but the exporter's counters only move when it polls (every 10 s in --demo), so the
// rate interval covers three polls; $__range is short so that "offset $__range" has data after
// less than a minute.
var grafanaVars = []struct{ name, value string }{
	{"${__rate_interval}", "30s"}, {"$__rate_interval", "30s"},
	{"${__interval}", "5s"}, {"$__interval", "5s"},
	{"${__range}", "30s"}, {"$__range", "30s"},
	{"${tenant}", "demo"}, {"$tenant", "demo"},
}

func substitute(expr string) string {
	for _, v := range grafanaVars {
		expr = strings.ReplaceAll(expr, v.name, v.value)
	}
	return expr
}

// freePort asks the kernel for a free loopback port. Another process could take it before the
// subprocess binds it; the subprocess then fails to start and the test says so.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// start runs a subprocess whose output goes to a log file, printed if the test fails, and kills it
// when the test ends.
func start(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	logPath := filepath.Join(dir, filepath.Base(name)+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
		if t.Failed() {
			if out, err := os.ReadFile(logPath); err == nil {
				if len(out) > 4000 {
					out = out[len(out)-4000:]
				}
				t.Logf("--- tail of %s:\n%s", logPath, out)
			}
		}
	})
}

// waitFor polls check until it returns nil or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		time.Sleep(time.Second)
	}
}

func httpGetOK(u string) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return nil
}

// metricIs checks that the exposition at u has the series (written exactly as exposed) with the
// value want.
func metricIs(u, series string, want float64) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			got, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return fmt.Errorf("%s: %w", series, err)
			}
			if got != want {
				return fmt.Errorf("%s = %v, want %v", series, got, want)
			}
			return nil
		}
	}
	return fmt.Errorf("%s not exposed", series)
}

type promClient struct{ base string }

// api calls Prometheus' HTTP API and decodes the data field.
func (p promClient) api(path string, params url.Values, data any) error {
	resp, err := http.Get(p.base + path + "?" + params.Encode())
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	var envelope struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil {
		return fmt.Errorf("decode %s: %w: %s", path, err, body)
	}
	if envelope.Status != "success" {
		return fmt.Errorf("%s %v: %s", path, params, envelope.Error)
	}
	if err := json.Unmarshal(envelope.Data, data); err != nil {
		return fmt.Errorf("decode %s data: %w", path, err)
	}
	return nil
}

// seriesCount runs a query, instant or over the last minute, and counts the series returned.
func (p promClient) seriesCount(expr string, instant bool) (int, error) {
	var data struct {
		Result []json.RawMessage `json:"result"`
	}
	now := time.Now()
	if instant {
		err := p.api("/api/v1/query", url.Values{"query": {expr}, "time": {strconv.FormatInt(now.Unix(), 10)}}, &data)
		return len(data.Result), err
	}
	err := p.api("/api/v1/query_range", url.Values{
		"query": {expr},
		"start": {strconv.FormatInt(now.Add(-time.Minute).Unix(), 10)},
		"end":   {strconv.FormatInt(now.Unix(), 10)},
		"step":  {"5"},
	}, &data)
	return len(data.Result), err
}

// e2eQuery is one query the dashboards or rules make, as the e2e runs it.
type e2eQuery struct {
	where, expr string
	instant     bool
	labelValues string // for label_values() variables: the metric to match
}

func e2eQueries(t *testing.T) []e2eQuery {
	t.Helper()
	var out []e2eQuery
	for path, d := range loadDashboards(t) {
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			q := deref(deref(v.Query).String)
			metric, ok := strings.CutPrefix(q, "label_values(")
			metric, _, ok2 := strings.Cut(metric, ", tenant)")
			if !ok || !ok2 {
				t.Fatalf("%s: variable %s: unexpected query %q", path, v.Name, q)
			}
			out = append(out, e2eQuery{where: fmt.Sprintf("%s variable %s", path, v.Name), labelValues: metric})
		}
		for _, p := range panelsOf(d) {
			for i, q := range promTargets(t, p) {
				out = append(out, e2eQuery{
					where:   fmt.Sprintf("%s panel %q query %d", path, deref(p.Title), i),
					expr:    substitute(q.Expr),
					instant: deref(q.Instant),
				})
			}
		}
	}
	records, _ := loadRules(t)
	for _, r := range records {
		out = append(out, e2eQuery{where: "record " + r.Record, expr: r.Record, instant: true})
		if q, ok := primaryBranch(r); ok {
			out = append(out, q)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].where < out[j].where })
	return out
}

// failing runs every query and returns those that return no series (or an error).
// failureRules are shares of failures: 0 in a healthy demo through their fallback.
var failureRules = map[string]bool{
	"tenant_endpoint:entra_graph_requests_throttled:ratio_rate15m": true,
	"tenant_source:entra_ingest_polls_failed:ratio_rate5m":         true,
}

// zeroFallback matches the "* 0" of a rule's "A or B * 0" fallback (not "* 0.5").
var zeroFallback = regexp.MustCompile(`\* 0([^.0-9]|$)`)

// primaryBranch makes a recording rule's "A or B * 0" fallback non-vacuous in this test: the rule
// returns a series (the fallback's 0) even if A selected nothing, say after a metric was renamed.
// The query evaluates the rule with the fallback turned into NaN ("* 0 / 0") and keeps only
// non-NaN samples (NaN == NaN is false): it returns data only if A itself does. Rules whose
// primary branch needs history a fresh Prometheus does not have (offset 1h, a day of baseline)
// rely on their fallback here by design and are left out, as are the two whose primary branch
// counts failures a healthy demo never has; the promtool tests (rules/tests) feed all of those
// real series instead.
func primaryBranch(r rule) (e2eQuery, bool) {
	if !zeroFallback.MatchString(r.Expr) || strings.Contains(r.Expr, "offset") || failureRules[r.Record] {
		return e2eQuery{}, false
	}
	m := zeroFallback.ReplaceAllString(r.Expr, "* 0 / 0$1")
	return e2eQuery{where: "record " + r.Record + " (primary branch, fallback as NaN)", expr: "(" + m + ") == (" + m + ")", instant: true}, true
}

func (p promClient) failing(queries []e2eQuery) []string {
	var bad []string
	for _, q := range queries {
		if q.labelValues != "" {
			var values []string
			err := p.api("/api/v1/label/tenant/values", url.Values{"match[]": {q.labelValues}}, &values)
			if err != nil || !strings.Contains(strings.Join(values, ","), "demo") {
				bad = append(bad, fmt.Sprintf("%s: tenant values %v, err %v", q.where, values, err))
			}
			continue
		}
		n, err := p.seriesCount(q.expr, q.instant)
		if err != nil || n == 0 {
			bad = append(bad, fmt.Sprintf("%s: %d series, err %v: %s", q.where, n, err, q.expr))
		}
	}
	return bad
}

// shortenFor rewrites every alert's "for" to 2s: the production durations (5 to 30 minutes) do
// not fit a test. Expressions are untouched.
func shortenFor(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var rf map[string]any
	if err := yaml.Unmarshal(data, &rf); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range rf["groups"].([]any) {
		for _, r := range g.(map[string]any)["rules"].([]any) {
			rule := r.(map[string]any)
			if _, ok := rule["alert"]; ok {
				rule["for"] = "2s"
				n++
			}
		}
	}
	if n == 0 {
		t.Fatalf("%s: no alerts", src)
	}
	out, err := yaml.Marshal(rf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// alertmanagerCommand returns the command line that runs Alertmanager. Debian's build reads its
// default notification template from the absolute path /usr/share/prometheus/alertmanager, and
// refuses to start without it. When the binary comes from a package unpacked with dpkg -x (as
// scripts/tools.sh does, to install nothing system-wide) that path does not exist, so the test
// runs it in a private mount namespace where the unpacked usr/share is bind-mounted on
// /usr/share. Nothing outside that one process sees the mount.
func alertmanagerCommand(t *testing.T, bin string, args ...string) []string {
	t.Helper()
	const systemTemplate = "/usr/share/prometheus/alertmanager/default.tmpl"
	if _, err := os.Stat(systemTemplate); err == nil {
		return append([]string{bin}, args...)
	}
	share := filepath.Join(filepath.Dir(filepath.Dir(bin)), "share")
	if _, err := os.Stat(filepath.Join(share, "prometheus", "alertmanager", "default.tmpl")); err != nil {
		t.Fatalf("Alertmanager needs %s, which neither the system nor %s has", systemTemplate, share)
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Fatalf("Alertmanager needs %s; without it installed, unshare(1) is needed to bind-mount %s: %v", systemTemplate, share, err)
	}
	// sh's "exec" keeps one process, so killing it kills Alertmanager.
	return append([]string{unshare, "--mount", "--map-root-user", "sh", "-c", `mount --bind "$0" /usr/share && exec "$@"`, share, bin}, args...)
}

// TestEndToEnd runs the exporter in --demo, a real Prometheus scraping it with the rule files and a
// real Alertmanager; it runs every dashboard query and every recording rule through Prometheus'
// HTTP API, then makes the simulated tenant emit a burst of MFA denials and follows the
// failure-spike alert from Prometheus through Alertmanager to a webhook run by the test.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	prometheusBin := tool(t, "PROMETHEUS", "prometheus")
	alertmanagerBin := tool(t, "ALERTMANAGER", "prometheus-alertmanager")
	dir := t.TempDir()

	exporter := filepath.Join(dir, "entra-mfa-exporter")
	build := exec.Command("go", "build", "-o", exporter, "./cmd/entra-mfa-exporter")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the exporter: %v\n%s", err, out)
	}

	// The webhook receiver: every notification Alertmanager delivers goes to the channel.
	notifications := make(chan []byte, 64)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case notifications <- body:
		default:
		}
	}))
	t.Cleanup(hook.Close)

	exporterAddr := "127.0.0.1:" + freePort(t)
	start(t, dir, exporter, "--demo", "--web.listen-address="+exporterAddr, "--storage.path="+filepath.Join(dir, "state"))
	waitFor(t, "exporter ready", 60*time.Second, func() error { return httpGetOK("http://" + exporterAddr + "/-/ready") })
	// The demo starts with 15 minutes of backfilled sign-ins, which the backlog pass drains over
	// the first polls. Prometheus starts once they are counted: counted before its first scrape,
	// they are not a "rate" of the demo's normal traffic, which the alert thresholds below are
	// compared with (the burst must stand out against traffic, not against the backfill).
	waitFor(t, "the demo's backfill counted (backlog 0)", 4*time.Minute, func() error {
		return metricIs("http://"+exporterAddr+"/metrics", `entra_ingest_backlog_seconds{source="signIns",tenant="demo"}`, 0)
	})

	amAddr := "127.0.0.1:" + freePort(t)
	amConfig := fmt.Sprintf(`route:
  receiver: test
  group_by: [alertname, tenant]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: %s/hook
        send_resolved: false
`, hook.URL)
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(amConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	amCmd := alertmanagerCommand(t, alertmanagerBin, "--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "am-data"), "--web.listen-address="+amAddr, "--cluster.listen-address=")
	start(t, dir, amCmd[0], amCmd[1:]...)
	waitFor(t, "alertmanager ready", 30*time.Second, func() error { return httpGetOK("http://" + amAddr + "/-/ready") })

	recording, err := filepath.Abs(RuleFiles[0])
	if err != nil {
		t.Fatal(err)
	}
	ruleFiles := fmt.Sprintf("%q", recording)
	for _, f := range RuleFiles[1:] { // every file after the first holds alerts
		short := filepath.Join(dir, "short-for-"+filepath.Base(f))
		shortenFor(t, f, short)
		ruleFiles += fmt.Sprintf(", %q", short)
	}
	promAddr := "127.0.0.1:" + freePort(t)
	promConfig := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%s]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: entra-mfa-exporter
    static_configs:
      - targets: [%q]
`, ruleFiles, amAddr, exporterAddr)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(promConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, dir, prometheusBin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "prom-data"), "--web.listen-address="+promAddr)
	prom := promClient{base: "http://" + promAddr}
	waitFor(t, "prometheus ready", 30*time.Second, func() error { return httpGetOK(prom.base + "/-/ready") })

	// Every dashboard query and every recording rule returns data once Prometheus has a little
	// history ("offset $__range" needs 30 s of it).
	queries := e2eQueries(t)
	waitFor(t, "every dashboard query and recording rule returns a series", 120*time.Second, func() error {
		if bad := prom.failing(queries); len(bad) > 0 {
			return fmt.Errorf("%d of %d queries empty:\n%s", len(bad), len(queries), strings.Join(bad, "\n"))
		}
		return nil
	})
	t.Logf("%d dashboard and recording-rule queries return data", len(queries))

	// Normal demo traffic (about 15%% of attempts denied) stays under the threshold: no spike.
	if n, err := prom.seriesCount(`tenant:entra_mfa_attempts_denied:ratio_rate5m{tenant="demo"} < tenant:entra_mfa_attempts_denied:ratio_threshold`, true); err != nil || n != 1 {
		t.Fatalf("normal traffic: denied share not under its threshold (%d series, %v)", n, err)
	}
	if n, err := prom.seriesCount(`ALERTS{alertname="EntraMFAFailureRateSpike"}`, true); err != nil || n != 0 {
		t.Fatalf("normal traffic: EntraMFAFailureRateSpike pending or firing (%d series, %v)", n, err)
	}

	// The burst: 600 denied pushes, several times the demo's attempts of the last minutes.
	resp, err := http.Post("http://"+exporterAddr+"/-/demo/burst?kind=user_declined&n=600", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("burst: %s", resp.Status)
	}

	waitFor(t, "EntraMFAFailureRateSpike firing in Prometheus", 90*time.Second, func() error {
		var data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		}
		if err := prom.api("/api/v1/alerts", nil, &data); err != nil {
			return err
		}
		for _, a := range data.Alerts {
			if a.Labels["alertname"] == "EntraMFAFailureRateSpike" && a.Labels["tenant"] == "demo" && a.State == "firing" {
				return nil
			}
		}
		return fmt.Errorf("alerts: %+v", data.Alerts)
	})

	delivered := &deliveries{ch: notifications, seen: map[string]string{}}
	delivered.await(t, "EntraMFAFailureRateSpike", "warning", 60*time.Second)

	// Per-user detection: the push bombing of one user (12 push notifications declined or left
	// unanswered, 15 s apart, from now on) becomes a fatigue episode once more than 10 are read,
	// EntraMFAFatigueEpisode fires, and Alertmanager delivers it (the demo's own scripted attack of
	// its first minutes may have made it fire already: one notification per firing period is all
	// Alertmanager sends). The endpoint names the user.
	resp, err = http.Post("http://"+exporterAddr+"/-/demo/burst?kind=fatigue", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("fatigue burst: %s: %s", resp.Status, body)
	}
	user := strings.Fields(string(body))[5] // "simulated push bombing of user <id> from ..."
	delivered.await(t, "EntraMFAFatigueEpisode", "warning", 6*time.Minute)
	// The burst's 11th push failure is created 2m35s after it, and read a poll after it settled.
	waitFor(t, "the bombed user listed by /api/v1/detections", 5*time.Minute, func() error {
		var rep struct {
			Episodes []struct {
				Kind   string `json:"kind"`
				UserID string `json:"user_id"`
			} `json:"episodes"`
		}
		resp, err := http.Get("http://" + exporterAddr + "/api/v1/detections?kind=fatigue&user_id=" + url.QueryEscape(user))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
			return err
		}
		if len(rep.Episodes) != 1 || rep.Episodes[0].UserID != user {
			return fmt.Errorf("episodes of %s: %+v", user, rep.Episodes)
		}
		return nil
	})
}

// deliveries are the notifications Alertmanager sent the test's webhook; seen maps each alert
// delivered firing for tenant demo to its severity.
type deliveries struct {
	ch   <-chan []byte
	seen map[string]string
}

// await waits until Alertmanager has delivered alertname firing for tenant demo, and checks its
// severity.
func (d *deliveries) await(t *testing.T, alertname, severity string, within time.Duration) {
	t.Helper()
	timeout := time.After(within)
	for {
		if got, ok := d.seen[alertname]; ok {
			if got != severity {
				t.Errorf("delivered %s has severity %q, want %q", alertname, got, severity)
			}
			return
		}
		select {
		case body := <-d.ch:
			var msg struct {
				Alerts []struct {
					Status string            `json:"status"`
					Labels map[string]string `json:"labels"`
				} `json:"alerts"`
			}
			if err := json.Unmarshal(body, &msg); err != nil {
				t.Fatalf("webhook payload: %v: %s", err, body)
			}
			for _, a := range msg.Alerts {
				if a.Labels["tenant"] == "demo" && a.Status == "firing" {
					d.seen[a.Labels["alertname"]] = a.Labels["severity"]
				}
			}
			t.Logf("webhook: %s", bytes.TrimSpace(body))
		case <-timeout:
			t.Fatalf("Alertmanager did not deliver %s to the webhook within %s", alertname, within)
		}
	}
}
