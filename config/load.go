package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"
)

// Load reads the file at path, decodes it strictly (unknown keys are errors), applies the
// defaults and validates the result. Relative file paths in the config are resolved against
// the directory of path, so a config and its secrets can move together.
func Load(path string) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	return Parse(data, path)
}

// Parse is Load without reading the file; filename is used in error messages and to resolve
// relative file paths.
//
// The text is parsed once into yaml nodes, and the nodes are decoded here rather than by the
// yaml library: every key path and line in an error comes from node positions, never from the
// wording of a library message, so a yaml upgrade cannot silently break the error messages.
func Parse(data []byte, filename string) (*Config, error) {
	root, perr := parseDocument(data)
	if perr != nil {
		perr.File = filename
		return nil, perr
	}
	var cfg Config
	d := newDecoder(root)
	if root != nil {
		d.value(root, "", reflect.ValueOf(&cfg).Elem(), 0)
	}
	errs := d.errs

	cfg.resolvePaths(filepath.Dir(filename))
	cfg.ApplyDefaults()
	if !d.skipValidation {
		for _, e := range cfg.validate() {
			// Validation errors that a decode error already explains are dropped: those under a
			// value that could not be decoded, and those about keys absent from a mapping with an
			// unknown key (a misspelt key leaves its field empty, which validation would report
			// again).
			_, inFile := d.lines[e.Path]
			if !underAny(e.Path, d.shadowed) && (inFile || !underAny(e.Path, d.misspeltIn)) {
				e.Line = d.line(e.Path)
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

// parseDocument parses the text into nodes and returns the document's root node, nil for an
// empty file. Syntax errors take their line from the parser's structured position.
func parseDocument(data []byte) (*yaml.Node, *Error) {
	// Duplicate keys are found by the decoder below, which can name their key path.
	l, err := yaml.NewLoader(bytes.NewReader(data), yaml.WithUniqueKeys(false))
	if err != nil {
		return nil, &Error{Msg: err.Error(), cause: err}
	}
	var doc yaml.Node
	switch err := l.Load(&doc); {
	case errors.Is(err, io.EOF):
		return nil, nil
	case err != nil:
		return nil, syntaxError(err, len(data))
	}
	var extra yaml.Node
	switch err := l.Load(&extra); {
	case err == nil:
		return nil, &Error{Line: extra.Line, Msg: "only one YAML document is allowed"}
	case !errors.Is(err, io.EOF):
		return nil, syntaxError(err, len(data))
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// syntaxError reports a parser error at the position the parser gives; the message is the
// parser's own text, passed through unchanged.
func syntaxError(err error, size int) *Error {
	var le *yaml.LoadError
	if !errors.As(err, &le) {
		var les *yaml.LoadErrors
		if !errors.As(err, &les) || len(les.Errors) == 0 {
			return &Error{Msg: err.Error(), cause: err}
		}
		le = les.Errors[0]
	}
	e := &Error{Line: le.Mark.Line, Msg: le.Message, cause: err}
	if le.Mark.Index >= size && le.ContextMark.Line > 0 && le.ContextMark.Index < size && le.ContextMsg != "" {
		// At the end of the text the parser only knows that something was left open (a quote,
		// a bracket): where that started is the line to fix.
		e.Line = le.ContextMark.Line
		e.Msg += " " + le.ContextMsg + " that starts here"
	}
	return e
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

func parentPath(p string) string {
	if i := strings.LastIndexAny(p, ".["); i >= 0 {
		return p[:i]
	}
	return ""
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// decoder fills a Config from yaml nodes, collecting every mistake with its key path and line.
type decoder struct {
	errs  errorList
	lines map[string]int // key path -> line of its key (or of the list item), as written

	// Which validation errors the decode errors make redundant: those at or under a shadowed
	// path, and those about keys absent from a mapping that holds an unknown key.
	shadowed, misspeltIn []string
	// skipValidation: nothing meaningful is left to validate (the document is not a mapping,
	// or its only key is misspelt).
	skipValidation bool

	// Aliases let a small text stand for a huge tree ("billion laughs"); budget bounds the
	// nodes visited, and expanding marks the anchors being expanded so a merge key that refers
	// to its own mapping ends instead of recursing forever.
	budget     int
	overBudget bool
	expanding  map[*yaml.Node]bool
}

// maxVisitsPerNode bounds alias expansion relative to the document: sharing one credential
// block among a few dozen tenants stays far below it.
const maxVisitsPerNode = 100

func newDecoder(root *yaml.Node) *decoder {
	return &decoder{
		lines:     map[string]int{},
		budget:    maxVisitsPerNode*countNodes(root) + 1000,
		expanding: map[*yaml.Node]bool{},
	}
}

func countNodes(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	c := 1
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}

// line returns the line of path, or of its nearest ancestor present in the file when the
// value came from a default or from an alias.
func (d *decoder) line(path string) int {
	for path != "" {
		if l, ok := d.lines[path]; ok {
			return l
		}
		path = parentPath(path)
	}
	return 0
}

// record notes where path is written. Paths reached through an alias are not recorded: their
// errors belong at the alias, which is where this tenant's text is.
func (d *decoder) record(path string, line, aliasLine int) {
	if aliasLine != 0 {
		return
	}
	if _, seen := d.lines[path]; !seen {
		d.lines[path] = line
	}
}

func (d *decoder) fail(line int, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// spend takes one node visit from the budget and reports whether any was left.
func (d *decoder) spend(line int, path string) bool {
	if d.overBudget {
		return false
	}
	d.budget--
	if d.budget < 0 {
		d.overBudget = true
		d.skipValidation = true
		d.fail(line, path, "aliases expand to too many values")
		return false
	}
	return true
}

// deref follows aliases to the node they stand for. aliasLine becomes the line of the first
// alias followed, where errors about the value are reported.
func deref(n *yaml.Node, aliasLine int) (*yaml.Node, int) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		if aliasLine == 0 {
			aliasLine = n.Line
		}
		n = n.Alias
	}
	return n, aliasLine
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

var durationType = reflect.TypeFor[Duration]()

// value decodes n into v and reports whether n itself could be decoded; a mistake deeper down
// is reported by the call that meets it and does not make n undecodable.
func (d *decoder) value(n *yaml.Node, path string, v reflect.Value, aliasLine int) bool {
	if !d.spend(lineOr(n, aliasLine), path) {
		return false
	}
	n, aliasLine = deref(n, aliasLine)
	line := n.Line
	if aliasLine != 0 {
		line = aliasLine
	}
	if d.expanding[n] {
		d.fail(line, path, "alias refers to a value that contains it")
		return false
	}
	if isNull(n) {
		// An empty value, as yaml decodes it: the zero value, which means "use the default".
		v.SetZero()
		return true
	}
	t := v.Type()
	ok := true
	switch {
	case t == durationType:
		ok = n.Kind == yaml.ScalarNode
		if ok {
			dur, err := ParseDuration(n.Value)
			if err != nil {
				d.fail(line, path, "%v", err)
				return d.dropped(path)
			}
			v.Set(reflect.ValueOf(dur))
		}
	case t.Kind() == reflect.String:
		ok = n.Kind == yaml.ScalarNode
		if ok {
			v.SetString(n.Value)
		}
	case t.Kind() == reflect.Bool:
		var b bool
		if b, ok = parseBool(n); ok {
			v.SetBool(b)
		}
	case t.Kind() == reflect.Int:
		ok = n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int"
		if ok {
			// YAML 1.2 reads 010 as ten; only 0x, 0o and 0b change the base.
			base := 10
			if v := strings.TrimLeft(n.Value, "+-"); len(v) > 2 && v[0] == '0' && strings.ContainsRune("xXoObB", rune(v[1])) {
				base = 0
			}
			i, err := strconv.ParseInt(n.Value, base, 64)
			if err != nil || i < math.MinInt32 || i > math.MaxInt32 {
				d.fail(line, path, "%s is not an integer between %d and %d", n.Value, math.MinInt32, math.MaxInt32)
				return d.dropped(path)
			}
			v.SetInt(i)
		}
	case t.Kind() == reflect.Pointer:
		elem := reflect.New(t.Elem())
		if !d.value(n, path, elem.Elem(), aliasLine) {
			return false
		}
		v.Set(elem)
		return true
	case t.Kind() == reflect.Slice:
		ok = n.Kind == yaml.SequenceNode
		if ok {
			d.sequence(n, path, v, aliasLine)
		}
	case t.Kind() == reflect.Struct:
		ok = n.Kind == yaml.MappingNode
		if ok {
			d.expanding[n] = true
			d.mapping(n, path, v, aliasLine)
			delete(d.expanding, n)
		}
	default:
		panic("config: no decoding for " + t.String())
	}
	if !ok {
		d.fail(line, path, "expected %s, got %s", describeType(t), describeNode(n))
		return d.dropped(path)
	}
	return true
}

// dropped records that the value at path could not be decoded, so validation errors about it
// are not reported on top.
func (d *decoder) dropped(path string) bool {
	if path == "" {
		d.skipValidation = true
	}
	return false
}

func (d *decoder) sequence(n *yaml.Node, path string, v reflect.Value, aliasLine int) {
	items := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	listOK := true
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.record(p, item.Line, aliasLine)
		if !d.value(item, p, items.Index(i), aliasLine) {
			listOK = false
		}
	}
	v.Set(items)
	if !listOK {
		// A list with an undecodable item is not validated at all: its checks (duplicates,
		// counts, names unique across tenants) would judge a list with a hole in it.
		d.shadowed = append(d.shadowed, path)
	}
}

// entry is one key and value of a mapping, its own or merged in with "<<".
type entry struct {
	key, value *yaml.Node
	aliasLine  int
	merged     bool
}

func (d *decoder) mapping(n *yaml.Node, path string, v reflect.Value, aliasLine int) {
	var entries []entry
	d.entries(n, path, aliasLine, false, &entries)
	t := v.Type()
	fields := structFields(t)
	firstLine := map[string]int{}
	misspelt := false
	for _, e := range entries {
		kline := e.key.Line
		if e.aliasLine != 0 {
			kline = e.aliasLine
		}
		key, keyNode := e.key.Value, e.key
		if keyNode.Kind != yaml.ScalarNode {
			d.fail(kline, path, "keys must be plain names, got %s", describeNode(keyNode))
			misspelt = true
			continue
		}
		p := joinPath(path, key)
		if first, dup := firstLine[key]; dup {
			// A merged key yields to the mapping's own and to earlier merges, as YAML's
			// merge key says; only a key written twice is a mistake.
			if !e.merged {
				d.fail(kline, p, "duplicate key (first defined at line %d)", first)
				d.shadowed = append(d.shadowed, p)
			}
			continue
		}
		firstLine[key] = kline
		idx, known := fields[key]
		if !known {
			d.fail(kline, p, "%s", unknownKeyMessage(key, t))
			misspelt = true
			if _, inline := inlineSecretKeys[key]; inline {
				// The message already says where the secret must go; what follows from its
				// absence (no secret source, a password that does not open the file) is noise.
				d.shadowed = append(d.shadowed, path)
			}
			continue
		}
		d.record(p, kline, e.aliasLine)
		field := v.Field(idx)
		if !d.value(e.value, p, field, e.aliasLine) {
			d.shadowed = append(d.shadowed, p)
			continue
		}
		d.checkZeroDuration(t, key, p, kline, field, e.value)
	}
	if misspelt {
		d.misspeltIn = append(d.misspeltIn, path)
		// A misspelt top-level key usually is `tenants` itself: do not also say it is missing.
		if _, hasTenants := firstLine["tenants"]; path == "" && !hasTenants {
			d.skipValidation = true
		}
	}
}

// entries lists the keys and values of mapping n: its own first, then those of the mappings
// it merges with "<<" (a mapping or a list of mappings), in order, so that the first
// occurrence of a key is the one that counts.
func (d *decoder) entries(n *yaml.Node, path string, aliasLine int, merged bool, out *[]entry) {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		*out = append(*out, entry{key: k, value: v, aliasLine: aliasLine, merged: merged})
	}
	for _, m := range merges {
		src, srcAlias := deref(m, aliasLine)
		var sources []*yaml.Node
		switch src.Kind {
		case yaml.MappingNode:
			sources = []*yaml.Node{m}
		case yaml.SequenceNode:
			sources = src.Content
		}
		if len(sources) == 0 && !isNull(src) {
			d.fail(lineOr(src, srcAlias), path, "a merge key (<<) takes a mapping or a list of mappings, got %s", describeNode(src))
			continue
		}
		for _, s := range sources {
			if !d.spend(lineOr(s, srcAlias), path) {
				return
			}
			mn, mAlias := deref(s, srcAlias)
			switch {
			case mn.Kind != yaml.MappingNode:
				d.fail(lineOr(mn, mAlias), path, "a merge key (<<) takes a mapping or a list of mappings, got %s", describeNode(mn))
			case d.expanding[mn]:
				d.fail(lineOr(mn, mAlias), path, "alias refers to a value that contains it")
			default:
				d.expanding[mn] = true
				d.entries(mn, path, mAlias, true, out)
				delete(d.expanding, mn)
			}
		}
	}
}

func lineOr(n *yaml.Node, aliasLine int) int {
	if aliasLine != 0 {
		return aliasLine
	}
	return n.Line
}

// parseBool accepts YAML's true and false, and the yes/no/on/off words of YAML 1.1 that the
// yaml library has always accepted for boolean fields, so configs written for it keep loading.
func parseBool(n *yaml.Node) (bool, bool) {
	if n.Kind != yaml.ScalarNode {
		return false, false
	}
	switch n.ShortTag() {
	case "!!bool":
		switch n.Value {
		case "true", "True", "TRUE":
			return true, true
		case "false", "False", "FALSE":
			return false, true
		}
	case "!!str":
		switch n.Value {
		case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON":
			return true, true
		case "n", "N", "no", "No", "NO", "off", "Off", "OFF":
			return false, true
		}
	}
	return false, false
}

// zeroMeansDefault lists the durations whose zero value means "use the default": an explicit 0
// is rejected, otherwise `settle_delay: 0s` would silently become 5m.
var zeroMeansDefault = map[reflect.Type]map[string]Duration{
	reflect.TypeFor[SignIns](): {
		"poll_interval":      DefaultPollInterval,
		"settle_delay":       DefaultSettleDelay,
		"reconcile_delay":    DefaultReconcileDelay,
		"reconcile_interval": DefaultReconcileInterval,
		"lookback":           DefaultLookback,
	},
	reflect.TypeFor[Registration](): {"interval": DefaultRegistrationInterval},
}

func (d *decoder) checkZeroDuration(t reflect.Type, key, path string, line int, field reflect.Value, n *yaml.Node) {
	def, ok := zeroMeansDefault[t][key]
	if !ok || field.Type() != durationType || field.Int() != 0 {
		return
	}
	if n, _ = deref(n, 0); isNull(n) {
		return // an empty value is the same as an absent key
	}
	d.fail(line, path, "must not be 0; omit the key to use the default (%s)", def)
}

// structFields maps the yaml key of each field of t to the field's index.
func structFields(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := range t.NumField() {
		m[yamlKey(t.Field(i))] = i
	}
	return m
}

func yamlKey(f reflect.StructField) string {
	return strings.Split(f.Tag.Get("yaml"), ",")[0]
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

func unknownKeyMessage(key string, t reflect.Type) string {
	if msg, ok := inlineSecretKeys[key]; ok {
		return msg
	}
	if msg, ok := removedKeys[key]; ok && t == reflect.TypeFor[SignIns]() {
		return msg
	}
	var keys []string
	for f := range t.Fields() {
		keys = append(keys, yamlKey(f))
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

// describeType says in words what a field of type t takes.
func describeType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		return "a duration"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Int:
		return "an integer"
	case t.Kind() == reflect.Struct:
		return "a mapping of keys"
	case t.Kind() == reflect.Slice:
		switch e := t.Elem(); {
		case e == durationType:
			return "a list of durations"
		case e == reflect.TypeFor[Tenant]():
			return "a list of tenants"
		case e.Kind() == reflect.String:
			return "a list of strings"
		case e.Kind() == reflect.Int:
			return "a list of integers"
		}
	}
	return t.String()
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
