package main

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerInstruction is one instruction of a Dockerfile with its continuation lines joined.
type dockerInstruction struct {
	cmd  string // upper case: FROM, RUN, USER...
	args string
	line int
}

func parseDockerfile(t *testing.T, path string) []dockerInstruction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []dockerInstruction
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start})
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The image cannot be built on the project's machines (no Docker engine), so this test checks the
// properties the Dockerfile promises: multi-stage, static binary, distroless or scratch final
// stage, non-root user, version data from build arguments.
func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t, "../../Dockerfile")
	var froms []dockerInstruction
	lastFrom := -1
	for i, in := range ins {
		if in.cmd == "FROM" {
			froms = append(froms, in)
			lastFrom = i
		}
	}
	if len(froms) < 2 {
		t.Fatalf("want a multi-stage build (2+ FROM), got %d", len(froms))
	}
	final := froms[len(froms)-1].args
	if !strings.Contains(final, "distroless/static") && !strings.HasPrefix(final, "scratch") {
		t.Errorf("final stage %q is neither distroless/static nor scratch", final)
	}
	var build, user string
	args := map[string]bool{}
	for i, in := range ins {
		switch in.cmd {
		case "RUN":
			if strings.Contains(in.args, "go build") {
				build = in.args
			}
		case "USER":
			if i > lastFrom {
				user = in.args
			}
		case "ARG":
			name, _, _ := strings.Cut(in.args, "=")
			args[name] = true
		}
	}
	if build == "" {
		t.Fatal("no RUN go build")
	}
	if !strings.Contains(build, "CGO_ENABLED=0") {
		t.Errorf("go build is not static (CGO_ENABLED=0 missing): %s", build)
	}
	for _, v := range []string{"Version", "Revision", "Branch"} {
		if !regexp.MustCompile(`-X github.com/prometheus/common/version\.` + v + `=\$\{?[A-Z_]+\}?`).MatchString(build) {
			t.Errorf("go build does not set version.%s from a build argument: %s", v, build)
		}
	}
	for _, a := range []string{"VERSION", "REVISION", "BRANCH"} {
		if !args[a] {
			t.Errorf("missing ARG %s", a)
		}
	}
	if user == "" || strings.HasPrefix(user, "root") || strings.HasPrefix(user, "0") {
		t.Errorf("final stage must run as a non-root user, got USER %q", user)
	}
}

// pinnedToolchain reads the Go release that scripts/toolchain.sh exports for tests and builds.
func pinnedToolchain(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../scripts/toolchain.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^export GOTOOLCHAIN=go(\d+\.\d+\.\d+)$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("scripts/toolchain.sh does not export GOTOOLCHAIN=goX.Y.Z (a patch release)")
	}
	return string(m[1])
}

// Release images must be built with the Go release the tests ran on and govulncheck checked: the
// same patch release as scripts/toolchain.sh, not a floating tag such as golang:1.27 that moves
// under the build (or one that lags behind the fixes).
func TestDockerfileGoRelease(t *testing.T) {
	want := pinnedToolchain(t)
	var goVersion string
	var buildFrom []string
	for _, in := range parseDockerfile(t, "../../Dockerfile") {
		switch in.cmd {
		case "ARG":
			if v, ok := strings.CutPrefix(in.args, "GO_VERSION="); ok {
				goVersion = v
			}
		case "FROM":
			if strings.HasPrefix(in.args, "golang:") {
				buildFrom = append(buildFrom, in.args)
			}
		}
	}
	if goVersion != want {
		t.Errorf("Dockerfile ARG GO_VERSION=%q, want %q (scripts/toolchain.sh)", goVersion, want)
	}
	if len(buildFrom) == 0 {
		t.Fatal("no build stage FROM golang:...")
	}
	// The official image's tags: <version>-<Debian codename> or <version>-alpine<release>.
	tag := regexp.MustCompile(`^golang:\$\{GO_VERSION\}-(bookworm|trixie|alpine[0-9.]*)(@sha256:[0-9a-f]{64})?\s+AS\s+\w+$`)
	for _, from := range buildFrom {
		if !tag.MatchString(from) {
			t.Errorf("FROM %s: want golang:${GO_VERSION}-<variant> AS <stage>, so that GO_VERSION decides the release", from)
		}
	}
}

// dockerignored reports whether a path (slash-separated, relative to the build context) is
// excluded by .dockerignore patterns, with Docker's rules for the patterns this repository uses:
// a pattern matches the path or one of its parent directories; **/ matches any number of
// directories; a leading / is the context root.
func dockerignored(patterns []string, path string) bool {
	parts := strings.Split(path, "/")
	for _, p := range patterns {
		p = strings.TrimPrefix(p, "/")
		anyDepth := strings.HasPrefix(p, "**/")
		p = strings.TrimPrefix(p, "**/")
		for end := 1; end <= len(parts); end++ {
			starts := []int{0}
			if anyDepth {
				starts = starts[:0]
				for s := 0; s < end; s++ {
					starts = append(starts, s)
				}
			}
			for _, s := range starts {
				if ok, _ := filepath.Match(p, strings.Join(parts[s:end], "/")); ok {
					return true
				}
			}
		}
	}
	return false
}

// The image is built from the repository; .dockerignore must keep out history, tools, local state
// and build outputs (a 23 MB binary was once committed next to main.go) while keeping every file
// the build reads.
func TestDockerignore(t *testing.T) {
	data, err := os.ReadFile("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "!") {
			t.Fatalf(".dockerignore:%d: exceptions (!) are not understood by this test; extend dockerignored", n+1)
		}
		patterns = append(patterns, line)
	}
	for _, path := range []string{
		".git/config", ".tools/bin/staticcheck", "data/contoso.state.json", "dist/entra-mfa-exporter.tar.gz",
		"entra-mfa-exporter", "cmd/entra-mfa-exporter/entra-mfa-exporter", "collector/collector.test",
		"graph/cpu.prof", "cover.out",
	} {
		if !dockerignored(patterns, path) {
			t.Errorf(".dockerignore does not exclude %s", path)
		}
	}
	// Everything the build stage compiles: go.mod, go.sum and the exporter module's Go files.
	root := "../.."
	var needed []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			// Nested modules (dashboards/) are not part of the build; neither are tools.
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || fileExists(filepath.Join(p, "go.mod"))) {
				return filepath.SkipDir
			}
			return nil
		}
		if rel == "go.mod" || rel == "go.sum" || (strings.HasSuffix(rel, ".go") && !strings.HasSuffix(rel, "_test.go")) {
			needed = append(needed, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(needed) < 10 {
		t.Fatalf("found only %d source files to check: %v", len(needed), needed)
	}
	for _, path := range needed {
		if dockerignored(patterns, path) {
			t.Errorf(".dockerignore excludes %s, which the image build needs", path)
		}
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestDockerignoredMatcher(t *testing.T) {
	tests := []struct {
		patterns []string
		path     string
		want     bool
	}{
		{[]string{".git"}, ".git/objects/ab", true},
		{[]string{"data"}, "data/x.json", true},
		{[]string{"data"}, "config/data/x.json", false},
		{[]string{"/dist"}, "dist/a", true},
		{[]string{"*.test"}, "a.test", true},
		{[]string{"*.test"}, "collector/a.test", false},
		{[]string{"**/*.test"}, "collector/a.test", true},
		{[]string{"**/*.test"}, "a.test", true},
		{[]string{"cmd/entra-mfa-exporter/entra-mfa-exporter"}, "cmd/entra-mfa-exporter/main.go", false},
		{[]string{"entra-mfa-exporter"}, "cmd/entra-mfa-exporter/main.go", false},
		{[]string{"cmd"}, "cmd/entra-mfa-exporter/main.go", true},
	}
	for _, tc := range tests {
		if got := dockerignored(tc.patterns, tc.path); got != tc.want {
			t.Errorf("dockerignored(%q, %q) = %v, want %v", tc.patterns, tc.path, got, tc.want)
		}
	}
}
