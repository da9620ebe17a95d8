package deploytest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// requireCheckout skips the test outside a git checkout (a source archive), except in CI
// (ENTRA_REQUIRE_TOOLS=1), which always runs in a clone.
func requireCheckout(t *testing.T) {
	t.Helper()
	cmd := exec.Command("git", "rev-parse", "--show-toplevel")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("ENTRA_REQUIRE_TOOLS") == "1" {
			t.Fatalf("git rev-parse: %v\n%s", err, out)
		}
		t.Skipf("not a git checkout (git rev-parse: %v); skipping", err)
	}
}

// git runs git in the repository root.
func git(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// A 23 MB binary was once committed next to main.go. Nothing tracked may be a compiled program,
// and every place `go build` and `go test -c` write to by default must be ignored.
func TestNoBuildOutputsTracked(t *testing.T) {
	requireCheckout(t)
	magics := map[string][]byte{
		"ELF":     {0x7f, 'E', 'L', 'F'},
		"Mach-O":  {0xcf, 0xfa, 0xed, 0xfe},
		"PE":      {'M', 'Z'},
		"archive": []byte("!<arch>\n"),
	}
	const maxSize = 1 << 20
	files := strings.Split(strings.TrimRight(string(git(t, "ls-files", "-z")), "\x00"), "\x00")
	if len(files) < 20 {
		t.Fatalf("git ls-files listed only %d files", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("../..", f))
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not committed yet
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > maxSize {
			t.Errorf("%s is tracked and %d bytes (over %d): a build output or a data file that belongs elsewhere?", f, len(data), maxSize)
		}
		for kind, magic := range magics {
			if bytes.HasPrefix(data, magic) {
				t.Errorf("%s is tracked and is a compiled %s file", f, kind)
			}
		}
	}
	for _, p := range []string{
		"entra-mfa-exporter",                        // go build ./cmd/entra-mfa-exporter in the root
		"cmd/entra-mfa-exporter/entra-mfa-exporter", // go build in the command's directory
		"scripts/vulngate/vulngate",
		"collector/collector.test", // go test -c
		"dist/entra-mfa-exporter-linux-amd64.tar.gz",
		".tools/bin/staticcheck",
		"cover.out",
		"data/contoso.state.json", // the default --storage.path of a local run
	} {
		cmd := exec.Command("git", "check-ignore", "--no-index", "-q", p)
		cmd.Dir = "../.."
		if err := cmd.Run(); err != nil {
			t.Errorf("%s is not ignored by .gitignore (git check-ignore: %v)", p, err)
		}
	}
	// Sources must stay visible.
	for _, p := range []string{"cmd/entra-mfa-exporter/main.go", "go.sum", "deploy/systemd/entra-mfa-exporter.service"} {
		cmd := exec.Command("git", "check-ignore", "--no-index", "-q", p)
		cmd.Dir = "../.."
		if err := cmd.Run(); err == nil {
			t.Errorf("%s is ignored by .gitignore", p)
		}
	}
}

func TestProjectFiles(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"LICENSE", "Apache License\n                           Version 2.0, January 2004"},
		{"LICENSE", "END OF TERMS AND CONDITIONS"},
		{"CHANGELOG.md", "\n## [Unreleased]\n"},
		{"SECURITY.md", "Report vulnerabilities **privately**"},
	} {
		data, err := os.ReadFile(filepath.Join("../..", c.file))
		if err != nil {
			t.Error(err)
			continue
		}
		if !strings.Contains(string(data), c.want) {
			t.Errorf("%s lacks %q", c.file, c.want)
		}
	}
}
