package graph

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// selfSignedPEM makes a certificate and key as an app registration's certificate credential would
// use, so the test needs no key material checked in.
func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	// azidentity accepts only RSA keys for certificate credentials.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "entra-mfa-exporter test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
}

func TestNewCredentialErrors(t *testing.T) {
	// Keep the environment-driven credentials from picking up a developer's real settings.
	for _, v := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE",
		"AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME", "AZURE_PASSWORD"} {
		t.Setenv(v, "")    // restores the variable after the test
		_ = os.Unsetenv(v) // azidentity tells unset from empty
	}
	tests := []struct {
		name    string
		o       CredentialOptions
		wantErr []string // substrings; empty means success
	}{
		{"empty type", CredentialOptions{}, []string{"no credential type"}},
		{"unknown type", CredentialOptions{Type: "password"}, []string{`unknown credential type "password"`, "client_secret"}},
		{"secret missing fields", CredentialOptions{Type: "client_secret", ClientSecret: "hunter2-secret"}, []string{"client_secret credential", "tenant ID, client ID"}},
		{"secret ok", CredentialOptions{Type: "client_secret", TenantID: "t", ClientID: "c", ClientSecret: "s"}, nil},
		{"certificate missing", CredentialOptions{Type: "client_certificate", TenantID: "t", ClientID: "c"}, []string{"no certificate"}},
		{"certificate garbage", CredentialOptions{Type: "client_certificate", TenantID: "t", ClientID: "c", Certificate: []byte("not a cert")}, []string{"parsing certificate"}},
		{"certificate ok", CredentialOptions{Type: "client_certificate", TenantID: "t", ClientID: "c", Certificate: selfSignedPEM(t)}, nil},
		{"workload identity without token file", CredentialOptions{Type: "workload_identity", TenantID: "t", ClientID: "c"}, []string{"workload_identity credential"}},
		{"workload identity ok", CredentialOptions{Type: "workload_identity", TenantID: "t", ClientID: "c", FederatedTokenFile: "/var/run/secrets/token"}, nil},
		{"managed identity", CredentialOptions{Type: "managed_identity", ClientID: "c"}, nil},
		{"azure cli", CredentialOptions{Type: "azure_cli"}, nil},
		{"environment without variables", CredentialOptions{Type: "environment"}, []string{"environment credential"}},
		{"default", CredentialOptions{Type: "default", TenantID: "t"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred, err := NewCredential(tt.o)
			if len(tt.wantErr) == 0 {
				if err != nil || cred == nil {
					t.Fatalf("NewCredential = %v, %v", cred, err)
				}
				return
			}
			if err == nil {
				t.Fatal("NewCredential succeeded, want an error")
			}
			for _, sub := range tt.wantErr {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error %q lacks %q", err, sub)
				}
			}
			if tt.o.ClientSecret != "" && strings.Contains(err.Error(), tt.o.ClientSecret) {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestClientCertificateFlow(t *testing.T) {
	auth := &fakeAuthority{issued: "cert-token-1"}
	var authSrv *httptest.Server
	authSrv = httptest.NewTLSServer(auth.handler(func() string { return authSrv.URL }))
	defer authSrv.Close()
	cred, err := NewCredential(CredentialOptions{
		Type: "client_certificate", TenantID: "tenant-2", ClientID: "client-2", Certificate: selfSignedPEM(t),
		AuthorityHost: authSrv.URL + "/", DisableInstanceDiscovery: true, HTTPClient: authSrv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, seen := pagedGraph(t)
	env := newTestClient(t, srv, func(o *Options) { o.Credential = cred })
	if err := env.client.SignIns(context.Background(), testQuery, func([]SignIn) error { return nil }); err != nil {
		t.Fatalf("SignIns: %v", err)
	}
	auth.mu.Lock()
	form := auth.forms[0]
	auth.mu.Unlock()
	if form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || form.Get("client_assertion") == "" {
		t.Errorf("token request did not carry a certificate assertion: %v", form)
	}
	if got := seen.Requests()[0].Header.Get("Authorization"); got != "Bearer cert-token-1" {
		t.Errorf("Authorization = %q", got)
	}
}

// A rotated secret is used from the next token request on, not when the cached token expires.
func TestReloadingCredentialFollowsRotation(t *testing.T) {
	tn, err := simtenant.Start(simtenant.Options{ClientSecret: "first-secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer tn.Close()
	var (
		mu      sync.Mutex
		secret  = "first-secret"
		loadErr error
		reads   int
	)
	load := func() (CredentialOptions, error) {
		mu.Lock()
		defer mu.Unlock()
		reads++
		return CredentialOptions{Type: "client_secret", TenantID: tn.TenantID(), ClientID: tn.ClientID(), ClientSecret: secret,
			AuthorityHost: tn.AuthorityHost(), DisableInstanceDiscovery: true, HTTPClient: tn.HTTPClient()}, loadErr
	}
	changes := 0
	cred, err := NewReloadingCredential(load, func() { changes++ })
	if err != nil {
		t.Fatal(err)
	}
	scope := policy.TokenRequestOptions{Scopes: []string{tn.GraphEndpoint() + "/.default"}}
	ctx := context.Background()
	first, err := cred.GetToken(ctx, scope)
	if err != nil {
		t.Fatal(err)
	}
	again, err := cred.GetToken(ctx, scope)
	if err != nil || again.Token != first.Token || tn.Stats().TokensIssued != 1 {
		t.Fatalf("unchanged secret: want the cached token and one token request; got %v, %d issued", err, tn.Stats().TokensIssued)
	}
	if reads != 3 {
		t.Errorf("load called %d times, want once at construction and once per GetToken (3)", reads)
	}

	tn.SetClientSecrets("second-secret")
	mu.Lock()
	secret = "second-secret"
	mu.Unlock()
	rotated, err := cred.GetToken(ctx, scope)
	if err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if rotated.Token == first.Token || tn.Stats().TokensIssued != 2 || changes != 1 {
		t.Errorf("after rotation: same token %v, %d issued (want 2), %d changes (want 1)", rotated.Token == first.Token, tn.Stats().TokensIssued, changes)
	}

	mu.Lock()
	loadErr = errors.New("read secret file: open /run/secrets/s: no such file or directory")
	mu.Unlock()
	if _, err := cred.GetToken(ctx, scope); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("unreadable secret: %v", err)
	}
	mu.Lock()
	loadErr, secret = nil, "a-wrong-secret"
	mu.Unlock()
	if _, err := cred.GetToken(ctx, scope); err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Errorf("a wrong secret must fail at the next token request, not an hour later: %v", err)
	}
}

func TestReloadingCredentialRejectsBadMaterialAtOnce(t *testing.T) {
	_, err := NewReloadingCredential(func() (CredentialOptions, error) {
		return CredentialOptions{Type: "client_certificate", TenantID: "t", ClientID: "c", Certificate: []byte("not a certificate")}, nil
	}, nil)
	if err == nil || !strings.Contains(err.Error(), "parsing certificate") {
		t.Errorf("NewReloadingCredential = %v, want the parse error", err)
	}
}
