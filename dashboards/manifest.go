package dashboards

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// RuleFiles are the Prometheus rule files, in load order, relative to the module root.
var RuleFiles = []string{
	"rules/entra-mfa-recording.rules.yml",
	"rules/entra-mfa-alerts.rules.yml",
	"rules/entra-mfa-coverage.rules.yml",
	"rules/entra-mfa-detections.rules.yml",
}

// PrometheusRule renders the rule files as one Prometheus Operator PrometheusRule manifest. The
// groups are copied node by node (block scalars and comments included) so the manifest reads like
// the files it comes from.
func PrometheusRule(dir string) ([]byte, error) {
	groups := &yaml.Node{Kind: yaml.SequenceNode}
	for _, f := range RuleFiles {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return nil, fmt.Errorf("read rule file: %w", err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		g, err := mappingValue(doc.Content[0], "groups")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		groups.Content = append(groups.Content, g.Content...)
	}
	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }
	mapping := func(kv ...*yaml.Node) *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Content: kv} }
	manifest := mapping(
		str("apiVersion"), str("monitoring.coreos.com/v1"),
		str("kind"), str("PrometheusRule"),
		str("metadata"), mapping(
			str("name"), str("entra-mfa-exporter"),
			str("labels"), mapping(str("app.kubernetes.io/name"), str("entra-mfa-exporter")),
		),
		str("spec"), mapping(str("groups"), groups),
	)
	manifest.HeadComment = "Generated from dashboards/rules/*.rules.yml by `go test -run TestGenerated -update`\n" +
		"(in dashboards/): do not edit. The Prometheus Operator loads it into every Prometheus whose\n" +
		"ruleSelector matches its labels."
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(manifest); err != nil {
		return nil, fmt.Errorf("encode PrometheusRule: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode PrometheusRule: %w", err)
	}
	return buf.Bytes(), nil
}

func mappingValue(n *yaml.Node, key string) (*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("top level is not a mapping")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1], nil
		}
	}
	return nil, fmt.Errorf("no %q key", key)
}
