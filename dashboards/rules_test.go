package dashboards

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/metricdef"
	"go.yaml.in/yaml/v3"
)

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadRules(t *testing.T) (records, alerts []rule) {
	t.Helper()
	for _, f := range RuleFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rf ruleFile
		if err := yaml.Unmarshal(data, &rf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					records = append(records, r)
				} else {
					alerts = append(alerts, r)
				}
			}
		}
	}
	return records, alerts
}

// tool finds an external binary: the environment variable scripts/test.sh exports, then the
// project's .tools/, then PATH. Missing, it fails the test under ENTRA_REQUIRE_TOOLS=1 (CI) and
// skips it otherwise.
func tool(t *testing.T, env, name string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := filepath.Abs(filepath.Join("..", ".tools", "debroot", "usr", "bin", name)); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if os.Getenv("ENTRA_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s not found (set %s or run ../scripts/tools.sh)", name, env)
	}
	t.Skipf("%s not found (set %s or run ../scripts/tools.sh); skipping", name, env)
	return ""
}

func TestPromtoolCheckRules(t *testing.T) {
	promtool := tool(t, "PROMTOOL", "promtool")
	out, err := exec.Command(promtool, append([]string{"check", "rules"}, RuleFiles...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	// The manifest's groups must be valid rules too: promtool reads them after unwrapping spec.
	manifest, err := os.ReadFile(filepath.Join("kubernetes", "prometheusrule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Spec yaml.Node `yaml:"spec"`
	}
	if err := yaml.Unmarshal(manifest, &m); err != nil {
		t.Fatal(err)
	}
	spec, err := yaml.Marshal(&m.Spec)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "from-manifest.rules.yml")
	if err := os.WriteFile(path, spec, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules on the PrometheusRule's spec: %v\n%s", err, out)
	}
}

func TestPromtoolTestRules(t *testing.T) {
	promtool := tool(t, "PROMTOOL", "promtool")
	tests, err := filepath.Glob("rules/tests/*.test.yml")
	if err != nil || len(tests) == 0 {
		t.Fatalf("no promtool tests: %v", err)
	}
	out, err := exec.Command(promtool, append([]string{"test", "rules"}, tests...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

// TestEveryAlertIsUnitTested requires, for every alert, a promtool case where it fires and one
// where it stays quiet.
func TestEveryAlertIsUnitTested(t *testing.T) {
	_, alerts := loadRules(t)
	fires, quiet := map[string]bool{}, map[string]bool{}
	tests, _ := filepath.Glob("rules/tests/*.test.yml")
	for _, f := range tests {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tf struct {
			Tests []struct {
				AlertRuleTest []struct {
					Alertname string           `yaml:"alertname"`
					ExpAlerts []map[string]any `yaml:"exp_alerts"`
				} `yaml:"alert_rule_test"`
			} `yaml:"tests"`
		}
		if err := yaml.Unmarshal(data, &tf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tc := range tf.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					fires[a.Alertname] = true
				} else {
					quiet[a.Alertname] = true
				}
			}
		}
	}
	for _, a := range alerts {
		if !fires[a.Alert] {
			t.Errorf("%s: no promtool case where it fires", a.Alert)
		}
		if !quiet[a.Alert] {
			t.Errorf("%s: no promtool case where it stays quiet", a.Alert)
		}
	}
}

// githubAnchor is the id GitHub gives a Markdown heading.
func githubAnchor(heading string) string {
	s := strings.ToLower(strings.TrimSpace(heading))
	s = regexp.MustCompile(`[^\p{L}\p{N}\s_-]`).ReplaceAllString(s, "")
	return strings.ReplaceAll(s, " ", "-")
}

func TestAlertsAreDocumented(t *testing.T) {
	_, alerts := loadRules(t)
	runbooks, err := os.ReadFile(filepath.Join("..", "docs", "runbooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#{1,6}\s+(.+)$`).FindAllStringSubmatch(string(runbooks), -1) {
		anchors[githubAnchor(m[1])] = true
	}
	severities := []string{"critical", "warning", "info"}
	for _, a := range alerts {
		if !slices.Contains(severities, a.Labels["severity"]) {
			t.Errorf("%s: severity %q, want one of %v", a.Alert, a.Labels["severity"], severities)
		}
		for _, k := range []string{"summary", "description", "runbook_url"} {
			if strings.TrimSpace(a.Annotations[k]) == "" {
				t.Errorf("%s: no %s annotation", a.Alert, k)
			}
		}
		want := runbooksURL + "#" + strings.ToLower(a.Alert)
		if a.Annotations["runbook_url"] != want {
			t.Errorf("%s: runbook_url %q, want %q", a.Alert, a.Annotations["runbook_url"], want)
		}
		if !anchors[strings.ToLower(a.Alert)] {
			t.Errorf("%s: docs/runbooks.md has no section %q", a.Alert, a.Alert)
		}
	}
	// And every runbook link of a dashboard panel points at a section that exists.
	files, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		for _, m := range regexp.MustCompile(regexp.QuoteMeta(runbooksURL)+`#([a-z0-9_-]+)`).FindAllStringSubmatch(string(f.JSON), -1) {
			if !anchors[m[1]] {
				t.Errorf("%s links to runbook section #%s, which docs/runbooks.md lacks", f.Name, m[1])
			}
		}
	}
}

// exporterMetrics lists every series name the exporter exposes, from the collectors' own
// descriptors: histogram families expand to their _bucket, _sum and _count series.
func exporterMetrics() map[string]bool {
	names := map[string]bool{}
	for _, d := range metricdef.All() {
		if d.Kind == metricdef.Histogram {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[d.Name+s] = true
			}
			continue
		}
		names[d.Name] = true
	}
	return names
}

// queriesOf lists every PromQL expression of the dashboards (panel queries and variable queries)
// and rule files, labelled by where it comes from.
func queriesOf(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for path, d := range loadDashboards(t) {
		for _, v := range d.Templating.List {
			if v.Type == "query" {
				out[fmt.Sprintf("%s variable %s", path, v.Name)] = deref(deref(v.Query).String)
			}
		}
		for _, p := range panelsOf(d) {
			for i, q := range promTargets(t, p) {
				out[fmt.Sprintf("%s panel %q query %d", path, deref(p.Title), i)] = q.Expr
			}
		}
	}
	records, alerts := loadRules(t)
	for _, r := range records {
		out["record "+r.Record] = r.Expr
	}
	for _, a := range alerts {
		out["alert "+a.Alert] = a.Expr
	}
	return out
}

// TestMetricNamesExist cross-checks every metric a dashboard or rule selects against what the
// exporter exposes and what the rules record, so a renamed metric fails here instead of
// silently emptying a panel.
func TestMetricNamesExist(t *testing.T) {
	exposed := exporterMetrics()
	records, _ := loadRules(t)
	recorded := map[string]bool{}
	for _, r := range records {
		recorded[r.Record] = true
	}
	// "up" is Prometheus' own scrape-health series; "tenant" is the label argument of a
	// label_values() variable query.
	allowed := map[string]bool{"up": true, "tenant": true}
	used := map[string]bool{}
	queries := queriesOf(t)
	keys := make([]string, 0, len(queries))
	for k := range queries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, where := range keys {
		names := MetricNames(queries[where])
		if len(names) == 0 {
			t.Errorf("%s: selects no metric: %q", where, queries[where])
		}
		for _, n := range names {
			used[n] = true
			switch {
			case strings.Contains(n, ":"):
				if !recorded[n] {
					t.Errorf("%s: %s is not a recording rule", where, n)
				}
			case !exposed[n] && !allowed[n]:
				t.Errorf("%s: the exporter has no metric %s", where, n)
			}
		}
	}
	// Every recording rule feeds a panel or an alert; an unused one is dead weight in Prometheus.
	for r := range recorded {
		if !used[r] {
			t.Errorf("recording rule %s is used by no dashboard and no alert", r)
		}
	}
	// The registration metrics the Registration coverage dashboard is built on.
	for _, n := range []string{
		"entra_registration_users", "entra_registration_users_disabled", "entra_registration_users_with_feature",
		"entra_registration_users_by_method", "entra_registration_users_by_system_preferred_method",
		"entra_registration_users_by_user_preferred_method", "entra_registration_users_without_mfa",
		"entra_registration_report_last_updated_timestamp_seconds",
	} {
		if !exposed[n] {
			t.Errorf("the exporter does not expose %s", n)
		}
	}
}
