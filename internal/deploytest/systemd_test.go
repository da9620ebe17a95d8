package deploytest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
)

const (
	unitName  = "entra-mfa-exporter.service"
	unitDir   = "../../deploy/systemd/"
	unitPath  = unitDir + unitName
	envPath   = unitDir + "entra-mfa-exporter.default"
	exampleYM = unitDir + "entra-mfa-exporter.yml"
)

// directive is one assignment of a unit file, continuation lines joined.
type directive struct {
	section, key, value string
	line                int
}

// parseUnit reads a unit file the way systemd does for what this test needs: sections, comments
// (# and ;), and lines continued with a trailing backslash.
func parseUnit(t *testing.T, path string) []directive {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []directive
	section := ""
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := strings.TrimSpace(lines[i])
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		for strings.HasSuffix(line, `\`) && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, `\`) + " " + strings.TrimSpace(lines[i])
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = line[1 : len(line)-1]
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s:%d: not a key=value line: %q", path, start, line)
		}
		out = append(out, directive{section, strings.TrimSpace(key), strings.TrimSpace(value), start})
	}
	return out
}

// values returns every value of a key in a section, in order (some keys may repeat).
func values(ds []directive, section, key string) []string {
	var out []string
	for _, d := range ds {
		if d.section == section && d.key == key {
			out = append(out, d.value)
		}
	}
	return out
}

// one returns the single value of a key, failing when it is missing or repeated.
func one(t *testing.T, ds []directive, section, key string) string {
	t.Helper()
	v := values(ds, section, key)
	if len(v) != 1 {
		t.Fatalf("%s: [%s] %s= appears %d times, want once", unitName, section, key, len(v))
	}
	return v[0]
}

// systemdAnalyze finds systemd-analyze: the path scripts/tools.sh exports, then PATH. Missing, it
// fails the test under ENTRA_REQUIRE_TOOLS=1 (CI) and skips it otherwise.
func systemdAnalyze(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SYSTEMD_ANALYZE"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("systemd-analyze"); err == nil {
		return p
	}
	if os.Getenv("ENTRA_REQUIRE_TOOLS") == "1" {
		t.Fatal("systemd-analyze not found (scripts/tools.sh installs Debian's systemd package)")
	}
	t.Skip("systemd-analyze not found (run scripts/tools.sh, or apt-get install systemd); skipping")
	return ""
}

func buildExporter(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "entra-mfa-exporter")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/entra-mfa-exporter")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the exporter: %v\n%s", err, out)
	}
	return bin
}

// argsFromEnvFile returns the flags of every ARGS= assignment in the environment file, the
// commented examples included: a reader copies those.
func argsFromEnvFile(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	re := regexp.MustCompile(`^#?\s*ARGS="([^"]*)"\s*$`)
	found := false
	for _, line := range strings.Split(string(data), "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			out = append(out, strings.Fields(m[1])...)
			if !strings.HasPrefix(line, "#") {
				found = true
			}
		}
	}
	if !found {
		t.Fatalf("%s: no ARGS= assignment", path)
	}
	return out
}

// helpFlags returns the long flags the binary's serve command accepts, as its --help lists them;
// a boolean listed as --[no-]name accepts --name and --no-name.
func helpFlags(t *testing.T, bin string) map[string]bool {
	t.Helper()
	out, err := exec.Command(bin, "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("%s serve --help: %v\n%s", bin, err, out)
	}
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\w, )?--(\[no-\])?([a-z][a-z0-9.-]*)`).FindAllStringSubmatch(string(out), -1) {
		flags[m[2]] = true
		if m[1] != "" {
			flags["no-"+m[2]] = true
		}
	}
	// The parse must have worked: the serve command's own flags are there.
	for _, f := range []string{"config.file", "storage.path", "web.listen-address"} {
		if !flags[f] {
			t.Fatalf("--%s not found in serve --help; the help format changed?\n%s", f, out)
		}
	}
	return flags
}

// The unit cannot be started here (no systemd as PID 1); this checks what it promises:
// systemd-analyze verify accepts it without a warning, its hardening passes systemd's own
// security review except for what an exporter needs (network access), every flag it passes
// exists, the state lands in the StateDirectory, and the example configuration reads the client
// secret from where LoadCredential puts it.
func TestSystemdUnit(t *testing.T) {
	analyze := systemdAnalyze(t)
	bin := buildExporter(t)
	unit := parseUnit(t, unitPath)

	execStart := strings.Fields(one(t, unit, "Service", "ExecStart"))
	if len(execStart) == 0 || !filepath.IsAbs(execStart[0]) {
		t.Fatalf("ExecStart must start with an absolute path, got %q", execStart)
	}

	t.Run("verify", func(t *testing.T) {
		// verify checks that ExecStart's program exists: point it at the binary just built.
		data, err := os.ReadFile(unitPath)
		if err != nil {
			t.Fatal(err)
		}
		copyPath := filepath.Join(t.TempDir(), unitName)
		rewritten := strings.Replace(string(data), "ExecStart="+execStart[0], "ExecStart="+bin, 1)
		if err := os.WriteFile(copyPath, []byte(rewritten), 0o644); err != nil {
			t.Fatal(err)
		}
		// systemd-analyze verify exits 0 on unknown keys and unparsable values (it only warns),
		// so any output is a failure.
		cmd := exec.Command(analyze, "verify", "--man=no", copyPath)
		out, err := cmd.CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", unitName, err, out)
		}
	})

	t.Run("security", func(t *testing.T) {
		// Items of systemd-analyze security that a network exporter cannot set, and why.
		allowed := map[string]string{
			"RootDirectoryOrRootImage":              "runs from the host's file system (read-only through ProtectSystem=strict)",
			"PrivateNetwork":                        "reads Microsoft Graph and serves scrapes",
			"RestrictAddressFamilies_AF_INET_INET6": "IP sockets for Graph and the scrape port",
			"RestrictAddressFamilies_AF_UNIX":       "a cgo build's resolver may use Unix sockets",
			"IPAddressDeny":                         "Graph's addresses are not fixed",
			"DeviceAllow":                           "ProtectClock= itself grants read access to the RTC",
		}
		out, err := exec.Command(analyze, "security", "--offline=true", "--json=short", unitPath).Output()
		if err != nil {
			t.Fatalf("systemd-analyze security: %v\n%s", err, out)
		}
		var items []struct {
			Set       bool   `json:"set"`
			Name      string `json:"name"`
			JSONField string `json:"json_field"`
			Desc      string `json:"description"`
		}
		if err := json.Unmarshal(out, &items); err != nil {
			t.Fatalf("systemd-analyze security output: %v\n%s", err, out)
		}
		if len(items) < 50 {
			t.Fatalf("systemd-analyze security listed only %d items", len(items))
		}
		for _, it := range items {
			if !it.Set {
				if _, ok := allowed[it.JSONField]; !ok {
					t.Errorf("hardening missing: %s (%s)", it.Name, it.Desc)
				}
			}
		}
	})

	t.Run("hardening", func(t *testing.T) {
		// The settings the deployment guide promises, by name (the security review above would
		// accept some of them being replaced by equivalents).
		for key, want := range map[string]string{
			"DynamicUser":             "yes",
			"StateDirectory":          "entra-mfa-exporter",
			"StateDirectoryMode":      "0700",
			"ProtectSystem":           "strict",
			"NoNewPrivileges":         "yes",
			"CapabilityBoundingSet":   "",
			"SystemCallArchitectures": "native",
		} {
			if got := one(t, unit, "Service", key); got != want {
				t.Errorf("%s=%q, want %q", key, got, want)
			}
		}
		if got := values(unit, "Service", "SystemCallFilter"); !slices.Contains(got, "@system-service") {
			t.Errorf("SystemCallFilter=%q, want @system-service among them", got)
		}
		if got := one(t, unit, "Service", "RestrictAddressFamilies"); got != "AF_INET AF_INET6 AF_UNIX" {
			t.Errorf("RestrictAddressFamilies=%q", got)
		}
	})

	t.Run("flags", func(t *testing.T) {
		known := helpFlags(t, bin)
		args := slices.Clone(execStart[1:])
		if !slices.Contains(args, "$ARGS") {
			t.Errorf("ExecStart does not pass $ARGS from %s", filepath.Base(envPath))
		}
		if got := one(t, unit, "Service", "EnvironmentFile"); got != "-/etc/default/entra-mfa-exporter" {
			t.Errorf("EnvironmentFile=%q, want -/etc/default/entra-mfa-exporter (optional)", got)
		}
		args = append(args, argsFromEnvFile(t, envPath)...)
		n := 0
		for _, a := range args {
			if a == "$ARGS" {
				continue
			}
			name, ok := strings.CutPrefix(a, "--")
			if !ok {
				t.Errorf("argument %q is not a long flag (the serve command takes no positional arguments)", a)
				continue
			}
			name, _, _ = strings.Cut(name, "=")
			if !known[name] {
				t.Errorf("--%s is not a flag of entra-mfa-exporter serve", name)
			}
			n++
		}
		if n < 3 {
			t.Errorf("checked only %d flags: %q", n, args)
		}
	})

	t.Run("storage", func(t *testing.T) {
		// The state must live in the StateDirectory: anywhere else is read-only under
		// ProtectSystem=strict, and counts would reset at every restart.
		want := "--storage.path=%S/" + one(t, unit, "Service", "StateDirectory")
		if !slices.Contains(execStart, want) {
			t.Errorf("ExecStart %q lacks %s", execStart, want)
		}
		for _, a := range execStart {
			if f, ok := strings.CutPrefix(a, "--config.file="); ok {
				for _, hidden := range []string{"/home/", "/root/", "/tmp/", "/var/tmp/", "/run/user/"} {
					if strings.HasPrefix(f, hidden) {
						t.Errorf("--config.file=%s is hidden from the service by ProtectHome= or PrivateTmp=", f)
					}
				}
			}
		}
	})

	t.Run("credentials", func(t *testing.T) {
		creds := values(unit, "Service", "LoadCredential")
		if len(creds) == 0 {
			t.Fatal("no LoadCredential=")
		}
		id, source, ok := strings.Cut(creds[0], ":")
		if !ok || !filepath.IsAbs(source) {
			t.Fatalf("LoadCredential=%s: want ID:/absolute/path", creds[0])
		}
		data, err := os.ReadFile(exampleYM)
		if err != nil {
			t.Fatal(err)
		}
		// %d, the service's credentials directory.
		credDir := "/run/credentials/" + unitName
		if !strings.Contains(string(data), "client_secret_file: "+credDir+"/"+id+"\n") {
			t.Fatalf("%s does not read the client secret from %s/%s (LoadCredential=%s)", exampleYM, credDir, id, creds[0])
		}
		// With the secret where systemd puts it, the example configuration must load as is.
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, id), []byte("example-secret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := config.Parse(bytes.ReplaceAll(data, []byte(credDir), []byte(dir)), exampleYM); err != nil {
			t.Errorf("%s: %v", exampleYM, err)
		}
	})
}

func TestParseUnit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.service")
	unit := "# comment\n[Unit]\nDescription=x\n\n[Service]\n; other comment\nExecStart=/bin/x \\\n    --a=1 \\\n    --b\nLoadCredential=s:/etc/s\nLoadCredential=t:/etc/t\nCapabilityBoundingSet=\n"
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	got := parseUnit(t, path)
	want := []directive{
		{"Unit", "Description", "x", 3},
		{"Service", "ExecStart", "/bin/x  --a=1  --b", 7},
		{"Service", "LoadCredential", "s:/etc/s", 10},
		{"Service", "LoadCredential", "t:/etc/t", 11},
		{"Service", "CapabilityBoundingSet", "", 12},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}
