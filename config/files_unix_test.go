//go:build unix

package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// withoutHanging runs f and fails the test if f never returns: reading a named pipe with no
// writer blocks forever, which is the bug these tests guard against. The limit is generous
// (a liveness check, not a timing assertion).
func withoutHanging(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("still blocked after a minute: a file read waits on a pipe")
	}
}

// Every file the configuration names must be a regular file of bounded size; a pipe, device or
// directory is an error naming the key and its line, and is never read.
func TestSpecialFilesAreRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	huge := filepath.Join(dir, "huge")
	if err := os.WriteFile(huge, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// Sparse: the size is what counts, and it costs no disk.
	if err := os.Truncate(huge, maxFileBytes+1); err != nil {
		t.Fatal(err)
	}
	const clientID = "0b8a3c52-5f0e-4d2c-9a3e-1f6b2c7d8e90"
	secret := filepath.Join("testdata", "good", "secrets", "contoso-client-secret")
	cert := filepath.Join("testdata", "good", "secrets", "fabrikam-exporter.pem")
	configs := []struct {
		key, body string
		line      int // of the key, counting the two lines every text starts with
	}{
		{"ca_file", "    ca_file: %s\n    credential: {type: azure_cli}\n", 3},
		{"credential.client_secret_file", "    credential:\n      type: client_secret\n      client_id: " + clientID +
			"\n      client_secret_file: %s\n", 6},
		{"credential.certificate_file", "    credential:\n      type: client_certificate\n      client_id: " + clientID +
			"\n      certificate_file: %s\n", 6},
		{"credential.certificate_password_file", "    credential:\n      type: client_certificate\n      client_id: " + clientID +
			"\n      certificate_file: " + cert + "\n      certificate_password_file: %s\n", 7},
		{"credential.federated_token_file", "    credential:\n      type: workload_identity\n      federated_token_file: %s\n", 5},
	}
	files := []struct{ name, path, want string }{
		{"pipe", fifo, fifo + " is a named pipe, not a regular file"},
		{"device", "/dev/zero", "/dev/zero is a character device, not a regular file"},
		{"directory", dir, dir + " is a directory, not a regular file"},
		{"too large", huge, huge + " is larger than 4 MiB"},
	}
	for _, c := range configs {
		for _, f := range files {
			t.Run(c.key+"/"+f.name, func(t *testing.T) {
				text := "tenants:\n  - tenant_id: contoso.onmicrosoft.com\n" + fmt.Sprintf(c.body, f.path)
				var err error
				withoutHanging(t, func() { _, err = Parse([]byte(text), "config.yml") })
				if err == nil {
					t.Fatal("Parse accepted it")
				}
				prefix := fmt.Sprintf("config.yml:%d: tenants[0].%s: ", c.line, c.key)
				if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), f.want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("error:\n%v\nwant one line starting %q and containing %q", err, prefix, f.want)
				}
			})
		}
	}

	// A symbolic link to a regular file is fine: Kubernetes mounts secrets that way.
	link := filepath.Join(dir, "link")
	abs, err := filepath.Abs(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(abs, link); err != nil {
		t.Fatal(err)
	}
	if got, err := (Credential{ClientSecretFile: link}).Secret(); err != nil || got == "" {
		t.Errorf("secret through a symbolic link: %q, %v", got, err)
	}
}

func TestConfigFileItselfMustBeRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "config.yml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	for _, path := range []string{fifo, "/dev/zero"} {
		var err error
		withoutHanging(t, func() { _, err = Load(path) })
		if err == nil || !strings.HasPrefix(err.Error(), "read config file: "+path+" is a ") {
			t.Errorf("Load(%s) = %v", path, err)
		}
	}
	_, err := Load(filepath.Join(t.TempDir(), "missing.yml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v does not wrap os.ErrNotExist", err)
	}
}
