package main

import (
	"bufio"
	"os"
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
