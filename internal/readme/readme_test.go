package readme

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/collector"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
)

var update = flag.Bool("update", false, "rewrite the README's generated sections")

const readmePath = "../../README.md"

// metricsTable renders every exporter metric: the collector's families plus build info and the
// configuration-reload gauges, read from a registry wired like the exporter's.
func metricsTable(t *testing.T) string {
	docs := collector.MetricDocs()
	reg := prometheus.NewRegistry()
	reg.MustRegister(versioncollector.NewCollector("entra_exporter"))
	config.NewSafeConfig(reg)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		d := collector.MetricDoc{Name: mf.GetName(), Type: strings.ToLower(mf.GetType().String()), Help: mf.GetHelp()}
		for _, l := range mf.GetMetric()[0].GetLabel() {
			d.Labels = append(d.Labels, l.GetName())
		}
		docs = append(docs, d)
	}
	var b strings.Builder
	b.WriteString("| metric | type | labels | meaning |\n| --- | --- | --- | --- |\n")
	for _, d := range docs {
		labels := make([]string, len(d.Labels))
		for i, l := range d.Labels {
			labels[i] = "`" + l + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", d.Name, d.Type, strings.Join(labels, ", "), strings.ReplaceAll(d.Help, "|", `\|`))
	}
	return b.String()
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
