package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/metricdef"
)

const setupDoc = "../../docs/setup.md"

// configKeys lists every key path a tenant entry accepts ("tenant_id", "credential.client_id",
// "sign_ins.lookback"...), from the YAML tags of config.Tenant: the strict loader accepts exactly
// these.
func configKeys() map[string]bool {
	keys := map[string]bool{}
	durationType := reflect.TypeFor[config.Duration]()
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for f := range t.Fields() {
			tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			path := prefix + tag
			keys[path] = true
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != durationType {
				walk(ft, path+".")
			}
		}
	}
	walk(reflect.TypeFor[config.Tenant](), "")
	return keys
}

// docParts splits a Markdown file into fenced blocks (with their info string) and the prose
// outside them.
type fence struct{ lang, body string }

func docParts(doc string) (fences []fence, prose string) {
	var b strings.Builder
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if lang, ok := strings.CutPrefix(l, "```"); ok {
			var body []string
			for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
				body = append(body, lines[i])
			}
			fences = append(fences, fence{strings.TrimSpace(lang), strings.Join(body, "\n")})
			continue
		}
		b.WriteString(l + "\n")
	}
	return fences, b.String()
}

var (
	inlineCodeRE = regexp.MustCompile("`([^`]+)`")
	flagRE       = regexp.MustCompile(`(?:^|\s)(--[a-z][a-z0-9.-]*[a-z0-9])`)
	dottedKeyRE  = regexp.MustCompile(`^[a-z_]+(\.[a-z_]+)+$`)
	metricRE     = regexp.MustCompile(`\bentra_[a-z0-9_]+`)
	logMsgRE     = regexp.MustCompile(`msg="([^"]+)"`)
)

// exporterFlags are the flags of every command, from the built binary's --help-long.
func exporterFlags(t *testing.T) map[string]bool {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "entra-mfa-exporter")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--help-long").CombinedOutput()
	if err != nil {
		t.Fatalf("--help-long: %v\n%s", err, out)
	}
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`--(?:\[no-\])?([a-z][a-z0-9.-]*[a-z0-9])`).FindAllSubmatch(out, -1) {
		flags["--"+string(m[1])] = true
	}
	if !flags["--config.file"] || !flags["--since"] || !flags["--web.listen-address"] {
		t.Fatalf("--help-long output not understood:\n%s", out)
	}
	return flags
}

// goSources is the text of every non-test Go file of the module.
func goSources(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir("../..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".tools" || d.Name() == ".git" || d.Name() == "dashboards") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b.Write(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// docs/setup.md names only configuration keys, flags, metrics and log lines that exist, and names
// every permission, credential type and flag a first deployment needs.
func TestSetupGuideNamesWhatExists(t *testing.T) {
	data, err := os.ReadFile(setupDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	fences, prose := docParts(doc)
	keys := configKeys()
	flags := exporterFlags(t)

	checkKey := func(where, path string) {
		if !keys[path] {
			t.Errorf("%s: configuration key %q does not exist (tenant keys: %v)", where, path, slices.Sorted(func(yield func(string) bool) {
				for k := range keys {
					if !yield(k) {
						return
					}
				}
			}))
		}
	}
	checkFlag := func(where, flag string) {
		if !flags[flag] {
			t.Errorf("%s: flag %s is not in --help-long", where, flag)
		}
	}

	var yamlBlocks, commands int
	for _, f := range fences {
		switch f.lang {
		case "yaml":
			var root yaml.Node
			if err := yaml.Unmarshal([]byte(f.body), &root); err != nil {
				t.Errorf("YAML block does not parse: %v\n%s", err, f.body)
				continue
			}
			if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
				continue
			}
			top := root.Content[0]
			if yamlHasKey(top, "apiVersion") {
				continue // a Kubernetes object, not the exporter's configuration
			}
			yamlBlocks++
			walkYAMLKeys(top, "", func(path string) {
				if p, ok := strings.CutPrefix(path, "tenants[]."); ok {
					checkKey("YAML block", p)
				} else if path != "tenants" {
					checkKey("YAML block", path)
				}
			})
		case "sh":
			for _, l := range strings.Split(f.body, "\n") {
				l = strings.TrimSpace(l)
				if !strings.HasPrefix(l, "entra-mfa-exporter ") {
					continue // az, openssl, ...: their flags are theirs
				}
				commands++
				for _, m := range flagRE.FindAllStringSubmatch(l, -1) {
					checkFlag("command "+l, m[1])
				}
			}
		}
	}
	for _, m := range inlineCodeRE.FindAllStringSubmatch(prose, -1) {
		span := m[1]
		if strings.HasPrefix(span, "az ") || strings.HasPrefix(span, "openssl ") || strings.HasPrefix(span, "kubectl ") {
			continue
		}
		for _, f := range flagRE.FindAllStringSubmatch(span, -1) {
			checkFlag("`"+span+"`", f[1])
		}
		if dottedKeyRE.MatchString(span) {
			checkKey("`"+span+"`", span)
		}
	}
	for _, name := range metricRE.FindAllString(doc, -1) {
		if _, ok := metricdef.Lookup(name); !ok {
			t.Errorf("metric %s does not exist", name)
		}
	}
	src := goSources(t)
	msgs := logMsgRE.FindAllStringSubmatch(doc, -1)
	for _, m := range msgs {
		if !strings.Contains(src, `"`+m[1]+`"`) {
			t.Errorf("log message %q is not one the exporter writes", m[1])
		}
	}

	// What a first deployment needs is all there.
	for _, w := range []string{"AuditLog.Read.All", "Directory.Read.All", "User.Read.All", "Policy.Read.All",
		"admin consent", "P1 or P2", "check-config", "--config.file", "--storage.path", "--web.config.file", "--web.listen-address",
		"/api/v1/detections", "az ad app create", "az ad app permission admin-consent", "federated-credential"} {
		if !strings.Contains(doc, w) {
			t.Errorf("setup.md does not mention %s", w)
		}
	}
	for _, ct := range []string{config.CredentialClientSecret, config.CredentialClientCertificate, config.CredentialWorkloadIdentity,
		config.CredentialManagedIdentity, config.CredentialAzureCLI, config.CredentialEnvironment, config.CredentialDefault} {
		if !strings.Contains(doc, "`"+ct+"`") {
			t.Errorf("credential type %s is not described", ct)
		}
	}
	if yamlBlocks < 4 || commands < 3 || len(msgs) < 6 {
		t.Errorf("checked %d configuration blocks, %d exporter commands, %d log lines: the guide lost its examples", yamlBlocks, commands, len(msgs))
	}
	if !bytes.Contains(data, []byte("## 6. Troubleshooting")) || !bytes.Contains(data, []byte("## 7. Privacy")) {
		t.Error("troubleshooting or privacy section missing")
	}
}

func yamlHasKey(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

// walkYAMLKeys calls fn with the dotted path of every mapping key; sequence items add "[]".
func walkYAMLKeys(n *yaml.Node, prefix string, fn func(string)) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			path := prefix + n.Content[i].Value
			fn(path)
			walkYAMLKeys(n.Content[i+1], path+".", fn)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			walkYAMLKeys(c, strings.TrimSuffix(prefix, ".")+"[].", fn)
		}
	}
}

// githubAnchor is the fragment GitHub gives a heading: lower case, punctuation dropped, spaces as
// hyphens.
func githubAnchor(heading string) string {
	s := strings.ToLower(strings.TrimSpace(heading))
	s = regexp.MustCompile(`[^\p{L}\p{N}\s_-]`).ReplaceAllString(s, "")
	return strings.ReplaceAll(s, " ", "-")
}

// The links between the README, the setup guide and the runbooks point at files and headings that
// exist.
func TestOperatorDocLinksResolve(t *testing.T) {
	anchors := func(path string) map[string]bool {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, m := range regexp.MustCompile(`(?m)^#{1,6}\s+(.+)$`).FindAllStringSubmatch(string(data), -1) {
			out[githubAnchor(m[1])] = true
		}
		return out
	}
	linkRE := regexp.MustCompile(`\]\(([^)#\s]*\.md)?(?:#([^)\s]+))?\)`)
	n := 0
	for _, doc := range []string{"../../README.md", "../../docs/setup.md", "../../docs/runbooks.md"} {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range linkRE.FindAllStringSubmatch(string(data), -1) {
			target := doc
			if m[1] != "" {
				target = filepath.Join(filepath.Dir(doc), m[1])
			}
			if (m[1] == "" && m[2] == "") || strings.Contains(m[1], "://") {
				continue // external links are not checked here
			}
			n++
			if _, err := os.Stat(target); err != nil {
				t.Errorf("%s links to %s, which does not exist", doc, m[1])
				continue
			}
			if m[2] != "" && !anchors(target)[m[2]] {
				t.Errorf("%s links to %s#%s, which has no such heading", doc, m[1], m[2])
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d links checked", n)
	}
}
