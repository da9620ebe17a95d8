package config

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"go.yaml.in/yaml/v4"
)

// Redacted replaces a secret-looking value in text shown to an operator.
const Redacted = "<redacted>"

// Configuration errors quote values ("must be a GUID (got ...)", "environment variable ... is
// not set", the YAML decoder's "cannot unmarshal !!str `abcdefg...`"). When a secret has been
// pasted into the wrong field, or inline under client_secret, those messages would print it on
// a terminal, in CI output or in the exporter's log. The redactor knows the file's text, so it
// replaces the values themselves wherever a message quotes them, whatever its wording: an
// upgrade of the YAML library or a new validation message cannot reintroduce the leak.

// minRedactLen: shorter values are not looked for, because replacing every "id" or "yes" in a
// message would make it unreadable, and a value that short protects nothing anyway.
const minRedactLen = 4

// maxRedactRead bounds the re-read of a configuration file for redaction; a real one is a few
// kilobytes.
const maxRedactRead = 4 << 20

// secretKeyRE matches key names whose value is, or may be mistaken for, a secret. The *_env and
// *_file keys name where a secret lives; their values are hidden too, because the secret itself
// pasted there is the mistake this guards against, and the message still names key and line.
var secretKeyRE = regexp.MustCompile(`(?i)secret|passw|passphrase|pwd|token|api_?key|private_?key|^key$|assertion`)

// entraSecretRE is the shape of a Microsoft Entra application client secret (40 characters, a
// digit and "Q~" after the first three): hidden wherever it appears, under any key.
var entraSecretRE = regexp.MustCompile(`[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}`)

// Redactor hides the secret-looking values of one configuration file in text about that file.
type Redactor struct {
	values []string // longest first, so that a value containing another is replaced whole
}

// NewRedactor collects the secret-looking values of a configuration file's text: every value
// under a key that looks secret and every value shaped like an Entra client secret. It reads the
// file both as YAML and line by line, so a file the YAML parser rejects is covered as well.
func NewRedactor(data []byte) *Redactor {
	seen := map[string]bool{}
	add := func(v string) {
		v = strings.TrimSpace(v)
		if len(v) >= minRedactLen {
			seen[v] = true
		}
		// An alias or anchor marker is not part of what the decoder quotes back ("unknown anchor
		// 'x' referenced").
		if t := strings.TrimLeft(v, "*&!"); t != v && len(t) >= minRedactLen {
			seen[t] = true
		}
	}
	var root yaml.Node
	if yaml.Unmarshal(data, &root) == nil {
		collectNode(&root, false, add)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), maxRedactRead)
	for sc.Scan() {
		collectLine(sc.Text(), add)
	}
	r := &Redactor{}
	for v := range seen {
		r.values = append(r.values, v)
	}
	slices.SortFunc(r.values, func(a, b string) int {
		if d := len(b) - len(a); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	return r
}

// collectNode adds the scalars under secret-looking keys and any Entra-shaped scalar.
func collectNode(n *yaml.Node, underSecret bool, add func(string)) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			collectNode(c, underSecret, add)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			collectNode(k, false, add)
			collectNode(v, underSecret || secretKeyRE.MatchString(k.Value), add)
		}
	case yaml.ScalarNode:
		if underSecret || entraSecretRE.MatchString(n.Value) {
			add(n.Value)
		}
	}
}

// collectLine reads "key: value" from one line without a YAML parser, for files that do not
// parse: the parser's error may still quote the line or a part of it.
func collectLine(line string, add func(string)) {
	for _, m := range entraSecretRE.FindAllString(line, -1) {
		add(m)
	}
	s := strings.TrimSpace(line)
	s = strings.TrimSpace(strings.TrimPrefix(s, "- "))
	s = strings.TrimPrefix(s, "? ")
	key, value, ok := strings.Cut(s, ":")
	if !ok || !secretKeyRE.MatchString(strings.Trim(key, `"' `)) {
		return
	}
	if value != "" && value[0] != ' ' && value[0] != '\t' {
		return // "a:b" is a plain scalar, not a key
	}
	value = strings.TrimSpace(value)
	if i := strings.Index(value, " #"); i >= 0 {
		value = strings.TrimSpace(value[:i])
	}
	if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
		value = value[1 : len(value)-1]
	}
	add(value)
}

// String returns s with every secret-looking value of the file, and anything shaped like an
// Entra client secret, replaced by Redacted.
func (r *Redactor) String(s string) string {
	for _, v := range r.values {
		s = strings.ReplaceAll(s, v, Redacted)
		// Messages quote values with %q, which escapes quotes and backslashes.
		if q := strconv.Quote(v); q[1:len(q)-1] != v {
			s = strings.ReplaceAll(s, q[1:len(q)-1], Redacted)
		}
		// Decoders shorten long values ("cannot unmarshal !!str `abc8Q~x...`").
		for n := min(len(v)-1, 64); n >= 6; n-- {
			s = strings.ReplaceAll(s, v[:n]+"...", Redacted)
		}
	}
	return entraSecretRE.ReplaceAllString(s, Redacted)
}

// Error returns err with its message redacted. The result still wraps err for errors.Is and
// errors.As; print the result, not what it wraps.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := r.String(err.Error())
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, cause: err}
}

type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }

// RedactFileError returns err, an error from loading the configuration file at path, with the
// file's secret-looking values hidden. The file is read again only when it is a regular file of
// a sane size: a FIFO or a device named as the configuration must not hang or exhaust the
// exporter while it reports the error. Without the file, Entra-shaped secrets are still hidden.
func RedactFileError(path string, err error) error {
	if err == nil {
		return nil
	}
	return NewRedactor(readForRedaction(path)).Error(err)
}

func readForRedaction(path string) []byte {
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return nil
	}
	// Non-blocking, in case the path became a FIFO since the Stat: opening one blocks until a
	// writer appears.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(f, maxRedactRead))
	if err != nil {
		return nil
	}
	return data
}
