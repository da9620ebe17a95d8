package graphclient

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// azureVariables are the variables azidentity reads; tests start without any of them, so a
// developer's own Azure login cannot make a test pass or fail.
var azureVariables = []string{
	"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
	"AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "AZURE_FEDERATED_TOKEN_FILE",
	"AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_AUTHORITY_HOST", "AZURE_ADDITIONALLY_ALLOWED_TENANTS",
	"AZURE_TOKEN_CREDENTIALS", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT",
	"IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET",
}

// testEnv is a simulated tenant, a directory for the files a configuration names, and the
// configuration text's tenant header.
type testEnv struct {
	sim    *simtenant.Tenant
	dir    string
	caFile string
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	for _, v := range azureVariables {
		t.Setenv(v, "")    // restored after the test
		_ = os.Unsetenv(v) // azidentity tells unset from empty
	}
	sim, err := simtenant.Start(simtenant.Options{RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := sim.WriteCACert(ca); err != nil {
		t.Fatal(err)
	}
	return &testEnv{sim: sim, dir: dir, caFile: ca}
}

// tenant loads a configuration whose credential section is credentialYAML (indented by six
// spaces) through config.Parse, as the exporter would, and returns its only tenant.
func (e *testEnv) tenant(t *testing.T, credentialYAML string) config.Tenant {
	t.Helper()
	text := "tenants:\n  - name: sim\n    tenant_id: " + e.sim.TenantID() +
		"\n    cloud: custom\n    authority_host: " + e.sim.AuthorityHost() +
		"\n    graph_endpoint: " + e.sim.GraphEndpoint() +
		"\n    ca_file: " + e.caFile + "\n    credential:\n" + credentialYAML
	cfg, err := config.Parse([]byte(text), filepath.Join(e.dir, "config.yml"))
	if err != nil {
		t.Fatalf("configuration:\n%s\n%v", text, err)
	}
	return cfg.Tenants[0]
}

func (e *testEnv) write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// read makes one Graph request with the client: a sign-in page of the last hour.
func read(client *graph.Client) error {
	now := time.Now()
	return client.SignIns(context.Background(), graph.SignInQuery{From: now.Add(-time.Hour), To: now},
		func([]graph.SignIn) error { return nil })
}

func lastGrant(t *testing.T, sim *simtenant.Tenant) simtenant.Grant {
	t.Helper()
	g := sim.Grants()
	if len(g) == 0 {
		t.Fatal("the tenant issued no token")
	}
	return g[len(g)-1]
}

// rsaCertificate makes a self-signed certificate and key as an app registration's certificate
// credential uses (azidentity accepts only RSA keys), and its PEM with the key.
func rsaCertificate(t *testing.T, cn string) (*x509.Certificate, *rsa.PrivateKey, []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pemData := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	return cert, key, pemData
}

func thumbprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// serviceAccountToken makes what Kubernetes projects into a pod for workload identity: an RS256
// JWT from the cluster's issuer about the pod's service account, for Entra's audience.
func serviceAccountToken(t *testing.T, key *rsa.PrivateKey, issuer, subject string) []byte {
	t.Helper()
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]any{"alg": "RS256", "typ": "JWT", "kid": "cluster-key"})
	c, _ := json.Marshal(map[string]any{"iss": issuer, "sub": subject, "aud": []string{simtenant.FederatedAudience},
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	digest := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return []byte(signing + "." + enc.EncodeToString(sig))
}

// logBuffer collects log output for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func indent(lines ...string) string {
	return "      " + strings.Join(lines, "\n      ") + "\n"
}
