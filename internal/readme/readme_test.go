package readme

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/detect"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/metricdef"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
)

var update = flag.Bool("update", false, "rewrite the README's generated sections")

const readmePath = "../../README.md"

// metricsTable renders every exporter metric from the one metric table (metricdef).
func metricsTable(t *testing.T) string {
	var b strings.Builder
	b.WriteString("| metric | type | labels | meaning |\n| --- | --- | --- | --- |\n")
	for _, d := range metricdef.All() {
		labels := make([]string, len(d.Labels))
		for i, l := range d.Labels {
			labels[i] = "`" + l + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", d.Name, d.Kind, strings.Join(labels, ", "), strings.ReplaceAll(d.Help, "|", `\|`))
	}
	return b.String()
}

// The families the exporter registers outside the collector (build info, reload gauges) must be
// what the table says.
func TestProcessMetricsMatchTheTable(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(versioncollector.NewCollector("entra_exporter"))
	config.NewSafeConfig(reg)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		s, ok := metricdef.Lookup(mf.GetName())
		if !ok {
			t.Errorf("%s is not in the metric table", mf.GetName())
			continue
		}
		var labels []string
		for _, l := range mf.GetMetric()[0].GetLabel() {
			labels = append(labels, l.GetName())
		}
		if string(s.Kind) != strings.ToLower(mf.GetType().String()) || s.Help != mf.GetHelp() || !slices.Equal(s.Labels, labels) {
			t.Errorf("%s: exposed as %s %q %v, the table says %s %q %v", mf.GetName(), mf.GetType(), mf.GetHelp(), labels, s.Kind, s.Help, s.Labels)
		}
	}
}

func configExample(t *testing.T) string {
	const path = "../../config/testdata/good/example.yml"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return "```yaml\n" + string(data) + "```\n"
}

func TestReadmeGeneratedSections(t *testing.T) {
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	sections := map[string]string{
		"metrics":              metricsTable(t),
		"classification":       mfa.MarkdownTables(),
		"registration-methods": mfa.RegistrationMarkdown(),
		"config-example":       configExample(t),
		"detection-rules":      detect.RulesMarkdown(detect.DefaultSettings()),
	}
	for name, want := range sections {
		re := regexp.MustCompile(`(?s)(<!-- ` + name + `:start -->\n)(.*?)(<!-- ` + name + `:end -->)`)
		m := re.FindStringSubmatch(readme)
		if m == nil {
			t.Fatalf("README has no %s markers", name)
		}
		if m[2] == want {
			continue
		}
		if *update {
			readme = re.ReplaceAllLiteralString(readme, m[1]+want+m[3])
			continue
		}
		t.Errorf("README section %q is stale: run go test ./internal/readme -update", name)
	}
	if *update {
		if err := os.WriteFile(readmePath, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
