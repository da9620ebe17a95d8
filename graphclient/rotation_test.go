package graphclient

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kubernetesSecret lays out a mounted secret as the kubelet does: the file is a symbolic link
// through ..data to a timestamped directory, and an update writes a new directory and swaps
// ..data in one rename.
type kubernetesSecret struct {
	dir     string
	version int
}

func (k *kubernetesSecret) write(t *testing.T, name string, data []byte) {
	t.Helper()
	k.version++
	ts := filepath.Join(k.dir, "..2025_03_10_09_00_0"+string(rune('0'+k.version)))
	if err := os.Mkdir(ts, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ts, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(k.dir, "..data_tmp")
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(k.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(k.dir, name)
	if _, err := os.Lstat(link); os.IsNotExist(err) {
		if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
			t.Fatal(err)
		}
	}
}

// A client secret file rotated mid-run is used from the next token request on: the authority
// accepts only the new secret after the rotation, and the token cached from the old secret
// would still be valid for an hour, so only a credential that re-read the file requests a new
// token with it.
func TestClientSecretFileRotation(t *testing.T) {
	ways := map[string]func(e *testEnv) func(t *testing.T, secret string) string{
		"rewritten in place": func(e *testEnv) func(*testing.T, string) string {
			return func(t *testing.T, secret string) string { return e.write(t, "client-secret", []byte(secret+"\n")) }
		},
		"kubernetes secret volume": func(e *testEnv) func(*testing.T, string) string {
			k := &kubernetesSecret{dir: filepath.Join(e.dir, "secret-volume")}
			if err := os.Mkdir(k.dir, 0o755); err != nil {
				panic(err)
			}
			return func(t *testing.T, secret string) string {
				k.write(t, "client-secret", []byte(secret))
				return filepath.Join(k.dir, "client-secret")
			}
		},
	}
	for name, way := range ways {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			rotate := way(e)
			e.sim.SetClientSecrets("secret-before-rotation")
			path := rotate(t, "secret-before-rotation")
			tenant := e.tenant(t, indent("type: client_secret", "client_id: "+e.sim.ClientID(), "client_secret_file: "+path))
			var logs logBuffer
			client, err := New(tenant, Options{Logger: logs.logger()})
			if err != nil {
				t.Fatal(err)
			}
			if err := read(client); err != nil {
				t.Fatalf("before rotation: %v", err)
			}
			if err := read(client); err != nil || e.sim.Stats().TokensIssued != 1 {
				t.Fatalf("an unchanged secret must reuse the cached token: %v, %d tokens", err, e.sim.Stats().TokensIssued)
			}

			e.sim.SetClientSecrets("secret-after-rotation")
			rotate(t, "secret-after-rotation")
			if err := read(client); err != nil {
				t.Fatalf("after rotation: %v", err)
			}
			s := e.sim.Stats()
			if s.TokensIssued != 2 || s.Count("/{tenant}/oauth2/v2.0/token", 401) != 0 {
				t.Errorf("after rotation: %d tokens issued (want 2), %d refused token requests (want 0)",
					s.TokensIssued, s.Count("/{tenant}/oauth2/v2.0/token", 401))
			}
			out := logs.String()
			if !strings.Contains(out, "credential file changed") || strings.Contains(out, "secret-after-rotation") || strings.Contains(out, "secret-before-rotation") {
				t.Errorf("log must say the credential changed, without the secret:\n%s", out)
			}
		})
	}
}

// A certificate file rotated mid-run signs the next token request.
func TestCertificateFileRotation(t *testing.T) {
	e := newTestEnv(t)
	oldCert, _, oldPEM := rsaCertificate(t, "before rotation")
	newCert, _, newPEM := rsaCertificate(t, "after rotation")
	e.sim.TrustCertificate(oldCert, false)
	e.sim.TrustCertificate(newCert, false)
	path := e.write(t, "exporter.pem", oldPEM)
	client, err := New(e.tenant(t, indent("type: client_certificate", "client_id: "+e.sim.ClientID(), "certificate_file: "+path)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := read(client); err != nil {
		t.Fatal(err)
	}
	if g := lastGrant(t, e.sim); g.Certificate != thumbprint(oldCert) {
		t.Fatalf("first token signed by %s, want the old certificate", g.Certificate)
	}
	e.write(t, "exporter.pem", newPEM)
	if err := read(client); err != nil {
		t.Fatal(err)
	}
	if g := lastGrant(t, e.sim); g.Certificate != thumbprint(newCert) || len(e.sim.Grants()) != 2 {
		t.Errorf("after rotation: %d grants, last signed by %s; want 2, the new certificate", len(e.sim.Grants()), g.Certificate)
	}
	// A file that turns into garbage fails the next request with the file's error.
	e.write(t, "exporter.pem", []byte("not a certificate"))
	if err := read(client); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("garbage certificate: %v", err)
	}
}
