package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSecret(t *testing.T) {
	t.Setenv("ENTRA_TEST_SECRET", "from-env")
	t.Setenv("ENTRA_TEST_EMPTY_SECRET", "")
	lf := writeFile(t, "lf", "from-file\n")
	crlf := writeFile(t, "crlf", "from-file\r\n")
	inner := writeFile(t, "inner", "  spaced \nvalue\n")
	empty := writeFile(t, "empty", "\n")
	missing := filepath.Join(t.TempDir(), "missing")
	tests := []struct {
		name    string
		cred    Credential
		want    string
		wantErr string
	}{
		{name: "env", cred: Credential{ClientSecretEnv: "ENTRA_TEST_SECRET"}, want: "from-env"},
		{name: "file with newline", cred: Credential{ClientSecretFile: lf}, want: "from-file"},
		{name: "file with CRLF", cred: Credential{ClientSecretFile: crlf}, want: "from-file"},
		{name: "file keeps inner whitespace", cred: Credential{ClientSecretFile: inner}, want: "  spaced \nvalue"},
		{name: "env unset", cred: Credential{ClientSecretEnv: "ENTRA_TEST_NEVER_SET_SECRET"}, wantErr: "environment variable ENTRA_TEST_NEVER_SET_SECRET is not set"},
		{name: "env empty", cred: Credential{ClientSecretEnv: "ENTRA_TEST_EMPTY_SECRET"}, wantErr: "environment variable ENTRA_TEST_EMPTY_SECRET is empty"},
		{name: "file empty", cred: Credential{ClientSecretFile: empty}, wantErr: "secret file " + empty + " is empty"},
		{name: "file missing", cred: Credential{ClientSecretFile: missing}, wantErr: "read secret file: open " + missing + ": no such file or directory"},
		{name: "both", cred: Credential{ClientSecretEnv: "ENTRA_TEST_SECRET", ClientSecretFile: lf}, wantErr: "set only one of client_secret_env and client_secret_file"},
		{name: "neither", wantErr: "no client secret source: set client_secret_env or client_secret_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cred.Secret()
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Secret() = %q, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Secret() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSecretIsReadAtCallTime(t *testing.T) {
	p := writeFile(t, "s", "old\n")
	c := Credential{ClientSecretFile: p}
	if err := os.WriteFile(p, []byte("rotated\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Secret(); err != nil || got != "rotated" {
		t.Errorf("Secret() = %q, %v after rotation", got, err)
	}
	_, err := Credential{ClientSecretFile: filepath.Join(t.TempDir(), "gone")}.Secret()
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v does not wrap os.ErrNotExist", err)
	}
}

func TestCertificatePassword(t *testing.T) {
	t.Setenv("ENTRA_TEST_CERT_PASSWORD", "pw-env")
	pwFile := writeFile(t, "pw", "pw-file\n")
	tests := []struct {
		name    string
		cred    Credential
		want    []byte
		wantErr string
	}{
		{name: "none", want: nil},
		{name: "env", cred: Credential{CertificatePasswordEnv: "ENTRA_TEST_CERT_PASSWORD"}, want: []byte("pw-env")},
		{name: "file", cred: Credential{CertificatePasswordFile: pwFile}, want: []byte("pw-file")},
		{name: "env unset", cred: Credential{CertificatePasswordEnv: "ENTRA_TEST_NEVER_SET_PASSWORD"}, wantErr: "environment variable ENTRA_TEST_NEVER_SET_PASSWORD is not set"},
		{name: "both", cred: Credential{CertificatePasswordEnv: "ENTRA_TEST_CERT_PASSWORD", CertificatePasswordFile: pwFile}, wantErr: "set only one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cred.CertificatePassword()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("CertificatePassword() = %q, %v; want error %q", got, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "pw-") {
					t.Errorf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil || string(got) != string(tt.want) || (got == nil) != (tt.want == nil) {
				t.Fatalf("CertificatePassword() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
