package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads the file at path, decodes it strictly (unknown keys are errors), applies the
// defaults and validates the result. Relative file paths in the config are resolved against
// the directory of path, so a config and its secrets can move together.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	return Parse(data, path)
}

// Parse is Load without reading the file; filename is used in error messages and to resolve
// relative file paths.
func Parse(data []byte, filename string) (*Config, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		return nil, syntaxError(filename, data, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, &Error{File: filename, Line: extra.Line, Msg: "only one YAML document is allowed"}
	case !errors.Is(err, io.EOF):
		return nil, syntaxError(filename, data, err)
	}

	idx := newNodeIndex(&root)
	var cfg Config
	var errs errorList
	// Validation errors that a decode error already explains are dropped: those under a value
	// yaml could not decode, and those about keys absent from a mapping with an unknown key
	// (a misspelt key leaves its field empty, which validation would report again).
	var shadowed, misspeltIn []string
	validate := true
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, syntaxError(filename, data, err)
		}
		for _, msg := range te.Errors {
			e, impact := idx.decodeError(msg)
			errs = append(errs, e)
			shadowed = append(shadowed, impact.shadow)
			misspeltIn = append(misspeltIn, impact.misspeltIn)
			validate = validate && !impact.whole
		}
	}
	errs = append(errs, idx.explicitZeroDurations(len(cfg.Tenants))...)

	cfg.resolvePaths(filepath.Dir(filename))
	cfg.ApplyDefaults()
	if validate {
		for _, e := range cfg.validate() {
			_, inFile := idx.lines[e.Path]
			if !underAny(e.Path, shadowed) && (inFile || !underAny(e.Path, misspeltIn)) {
				e.Line = idx.line(e.Path)
				errs = append(errs, e)
			}
		}
	}
	if len(errs) == 0 {
		return &cfg, nil
	}
	// File order reads best: the operator walks down the file fixing each line.
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	joined := make([]error, len(errs))
	for i, e := range errs {
		e.File = filename
		joined[i] = e
	}
	return nil, errors.Join(joined...)
}

// resolvePaths makes relative file paths relative to dir, as Prometheus does for its own config.
func (c *Config) resolvePaths(dir string) {
	resolve := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	for i := range c.Tenants {
		t := &c.Tenants[i]
		resolve(&t.CAFile)
		resolve(&t.Credential.ClientSecretFile)
		resolve(&t.Credential.CertificateFile)
		resolve(&t.Credential.CertificatePasswordFile)
		resolve(&t.Credential.FederatedTokenFile)
	}
}

var syntaxLineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// maxBisectLines bounds the quadratic search for the line of a syntax error.
const maxBisectLines = 5000

// syntaxError locates a YAML syntax error. yaml.v3 reports the line where the enclosing
// construct started, counted from 0 for parser errors and omitted on the first line, so the
// line is found again as the first prefix of the file that fails with the same message.
func syntaxError(filename string, data []byte, err error) error {
	m := syntaxLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return &Error{File: filename, Msg: err.Error(), cause: err}
	}
	line, _ := strconv.Atoi(m[1])
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) <= maxBisectLines {
		for k := 1; k <= len(lines); k++ {
			var n yaml.Node
			perr := yaml.Unmarshal(bytes.Join(lines[:k], nil), &n)
			if perr == nil {
				continue
			}
			if pm := syntaxLineRE.FindStringSubmatch(perr.Error()); pm != nil && pm[2] == m[2] {
				line = k
				break
			}
		}
	}
	return &Error{File: filename, Line: line, Msg: m[2], cause: err}
}

func underAny(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if p == "" {
			continue
		}
		if path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
			return true
		}
	}
	return false
}

// nodeEntry is one key/value pair or sequence item of the document, with its key path.
type nodeEntry struct {
	path  string
	key   *yaml.Node // nil for sequence items
	value *yaml.Node
}

// nodeIndex maps key paths to lines. yaml.Decoder's strict mode only exists on the decoder,
// which does not expose positions, so the file is parsed a second time into a yaml.Node.
type nodeIndex struct {
	entries []nodeEntry
	lines   map[string]int
}

func newNodeIndex(root *yaml.Node) *nodeIndex {
	idx := &nodeIndex{lines: map[string]int{}}
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		// The root is an entry too, so that "cannot unmarshal !!seq into config.Config" finds it.
		idx.entries = append(idx.entries, nodeEntry{value: root.Content[0]})
		idx.walk(root.Content[0], "")
	}
	return idx
}

func (idx *nodeIndex) walk(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			idx.add(nodeEntry{path: p, key: k, value: v})
			idx.walk(v, p)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			idx.add(nodeEntry{path: p, value: item})
			idx.walk(item, p)
		}
	}
	// Aliases are not followed: they could loop, and errors belong at the alias's own line.
}

func (idx *nodeIndex) add(e nodeEntry) {
	idx.entries = append(idx.entries, e)
	if _, seen := idx.lines[e.path]; !seen { // a duplicate key keeps its first line
		if e.key != nil {
			idx.lines[e.path] = e.key.Line
		} else {
			idx.lines[e.path] = e.value.Line
		}
	}
}

// line returns the line of path, or of its nearest ancestor present in the file when the
// value came from a default.
func (idx *nodeIndex) line(path string) int {
	for path != "" {
		if l, ok := idx.lines[path]; ok {
			return l
		}
		path = parentPath(path)
	}
	return 0
}

func parentPath(p string) string {
	if i := strings.LastIndexAny(p, ".["); i >= 0 {
		return p[:i]
	}
	return ""
}

func (idx *nodeIndex) find(line int, match func(nodeEntry) bool) (nodeEntry, bool) {
	for _, e := range idx.entries {
		if e.value.Line == line || (e.key != nil && e.key.Line == line) {
			if match(e) {
				return e, true
			}
		}
	}
	return nodeEntry{}, false
}

var (
	typeErrLineRE   = regexp.MustCompile(`^line (\d+): (.*)$`)
	fieldNotFoundRE = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
	duplicateKeyRE  = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
	cannotDecodeRE  = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.+)$")
	quotedRE        = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
)

// decodeImpact says which validation errors a decode error makes redundant.
type decodeImpact struct {
	shadow     string // drop validation errors at or under this path
	misspeltIn string // drop errors about keys absent from this mapping
	// whole: skip validation. yaml drops a mapping with a duplicate key and a list item it
	// cannot decode, which would shift the indices of everything after it.
	whole bool
}

// decodeError turns one of yaml's "line N: ..." messages into an Error with the key path.
func (idx *nodeIndex) decodeError(msg string) (*Error, decodeImpact) {
	m := typeErrLineRE.FindStringSubmatch(msg)
	if m == nil {
		return &Error{Msg: msg}, decodeImpact{whole: true}
	}
	line, _ := strconv.Atoi(m[1])
	rest := m[2]
	e := &Error{Line: line, Msg: rest}

	if f := fieldNotFoundRE.FindStringSubmatch(rest); f != nil {
		if ent, ok := idx.find(line, func(n nodeEntry) bool { return n.key != nil && n.key.Line == line && n.key.Value == f[1] }); ok {
			e.Path = ent.path
		}
		e.Msg = unknownKeyMessage(f[1], f[2])
		// A misspelt top-level key usually is `tenants` itself: do not also say it is missing.
		_, hasTenants := idx.lines["tenants"]
		impact := decodeImpact{misspeltIn: parentPath(e.Path), whole: parentPath(e.Path) == "" && !hasTenants}
		if _, inline := inlineSecretKeys[f[1]]; inline {
			// The message already says where the secret must go; what follows from its
			// absence (no secret source, a password that does not open the file) is noise.
			impact.shadow = parentPath(e.Path)
		}
		return e, impact
	}
	if d := duplicateKeyRE.FindStringSubmatch(rest); d != nil {
		if ent, ok := idx.find(line, func(n nodeEntry) bool { return n.key != nil && n.key.Line == line && n.key.Value == d[1] }); ok {
			e.Path = ent.path
		}
		e.Msg = "duplicate key (first defined at line " + d[2] + ")"
		return e, decodeImpact{whole: true}
	}
	if c := cannotDecodeRE.FindStringSubmatch(rest); c != nil {
		tag, short, goType := c[1], strings.TrimSuffix(c[2], "..."), c[3]
		ent, ok := idx.find(line, func(n nodeEntry) bool {
			// Flow style puts several nodes of one tag on a line; the target type tells them apart.
			return n.value.Line == line && n.value.ShortTag() == tag && strings.HasPrefix(n.value.Value, short) &&
				typeAt(n.path).String() == goType
		})
		if !ok {
			return e, decodeImpact{whole: true}
		}
		e.Path = ent.path
		e.Msg = fmt.Sprintf("expected %s, got %s", describeGoType(goType), describeNode(ent.value))
		switch {
		case ent.path == "":
			return e, decodeImpact{whole: true}
		case ent.key == nil:
			// A dropped list item: its siblings moved up, so shadow the whole list.
			return e, decodeImpact{shadow: parentPath(ent.path)}
		}
		return e, decodeImpact{shadow: e.Path}
	}
	// Our own Duration errors quote the offending value; match it to find the key.
	if q := quotedRE.FindString(rest); q != "" {
		if v, err := strconv.Unquote(q); err == nil {
			if ent, ok := idx.find(line, func(n nodeEntry) bool {
				return n.value.Line == line && n.value.Kind == yaml.ScalarNode && n.value.Value == v
			}); ok {
				e.Path = ent.path
				if ent.key == nil {
					// A dropped list item: its siblings moved up, so shadow the whole list.
					return e, decodeImpact{shadow: parentPath(e.Path)}
				}
			}
		}
	}
	return e, decodeImpact{shadow: e.Path, whole: e.Path == ""}
}

// explicitZeroDurations rejects "0" for durations whose zero value means "use the default":
// otherwise `settle_delay: 0s` would silently become 5m.
func (idx *nodeIndex) explicitZeroDurations(tenants int) errorList {
	defaults := []struct {
		key string
		def Duration
	}{
		{"sign_ins.poll_interval", DefaultPollInterval},
		{"sign_ins.settle_delay", DefaultSettleDelay},
		{"sign_ins.reconcile_delay", DefaultReconcileDelay},
		{"sign_ins.reconcile_interval", DefaultReconcileInterval},
		{"sign_ins.lookback", DefaultLookback},
		{"registration.interval", DefaultRegistrationInterval},
	}
	var errs errorList
	for i := range tenants {
		for _, d := range defaults {
			p := fmt.Sprintf("tenants[%d].%s", i, d.key)
			for _, ent := range idx.entries {
				if ent.path != p || ent.value.Kind != yaml.ScalarNode {
					continue
				}
				if v, err := ParseDuration(ent.value.Value); err == nil && v == 0 {
					errs = append(errs, &Error{Line: ent.key.Line, Path: p,
						Msg: fmt.Sprintf("must not be 0; omit the key to use the default (%s)", d.def)})
				}
				break
			}
		}
	}
	return errs
}

// typeAt returns the Go type that yaml decodes the value at path into, or nil.
func typeAt(path string) reflect.Type {
	t := reflect.TypeFor[Config]()
	for path != "" {
		if strings.HasPrefix(path, "[") {
			end := strings.IndexByte(path, ']')
			if end < 0 || t.Kind() != reflect.Slice {
				return nil
			}
			t, path = t.Elem(), path[end+1:]
			continue
		}
		path = strings.TrimPrefix(path, ".")
		end := strings.IndexAny(path, ".[")
		if end < 0 {
			end = len(path)
		}
		key := path[:end]
		path = path[end:]
		if t.Kind() != reflect.Struct {
			return nil
		}
		var found reflect.Type
		for f := range t.Fields() {
			if strings.Split(f.Tag.Get("yaml"), ",")[0] == key {
				found = f.Type
			}
		}
		if found == nil {
			return nil
		}
		t = found
	}
	// yaml decodes through pointers (Registration.Enabled) and names the pointed-to type.
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

var configTypes = map[string]reflect.Type{
	"config.Config":       reflect.TypeFor[Config](),
	"config.Tenant":       reflect.TypeFor[Tenant](),
	"config.Credential":   reflect.TypeFor[Credential](),
	"config.SignIns":      reflect.TypeFor[SignIns](),
	"config.Registration": reflect.TypeFor[Registration](),
}

// removedKeys are keys that earlier versions accepted; an operator upgrading gets told what
// replaced them rather than a bare "unknown key".
var removedKeys = map[string]string{
	"reread_window": "was removed: late rows are now counted by a reconcile pass; use reconcile_delay (how long after rows settled they are read again) and reconcile_interval",
}

// inlineSecretKeys are keys people write by habit from other tools; secrets must not live in
// a file that is committed and shown in reviews, so each gets a message pointing to the
// supported alternatives instead of a bare "unknown key".
var inlineSecretKeys = map[string]string{
	"client_secret":        "inline secrets are not supported: put the secret in an environment variable named by client_secret_env or in a file named by client_secret_file",
	"certificate_password": "inline passwords are not supported: use certificate_password_env or certificate_password_file",
}

func unknownKeyMessage(key, goType string) string {
	if msg, ok := inlineSecretKeys[key]; ok {
		return msg
	}
	if msg, ok := removedKeys[key]; ok && goType == "config.SignIns" {
		return msg
	}
	t, ok := configTypes[goType]
	if !ok {
		return "unknown key"
	}
	var keys []string
	for f := range t.Fields() {
		keys = append(keys, strings.Split(f.Tag.Get("yaml"), ",")[0])
	}
	msg := "unknown key"
	best, bestDist := "", 3 // suggest only close misspellings
	for _, k := range keys {
		if d := editDistance(key, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", best)
	}
	return msg + "; valid keys here: " + strings.Join(keys, ", ")
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func describeGoType(t string) string {
	switch t {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "[]string":
		return "a list of strings"
	case "[]config.Duration":
		return "a list of durations"
	case "[]config.Tenant":
		return "a list of tenants"
	case "config.Duration":
		return "a duration"
	}
	if _, ok := configTypes[t]; ok {
		return "a mapping of keys"
	}
	return t
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		return "the number " + n.Value
	case "!!bool":
		return "the boolean " + n.Value
	}
	return strconv.Quote(n.Value)
}
