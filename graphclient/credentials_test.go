package graphclient

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

const (
	clusterIssuer  = "https://oidc.prod-aks.azure.com/8c7b6a59-4f3e-4d2c-b1a0-9f8e7d6c5b4a/"
	serviceAccount = "system:serviceaccount:monitoring:entra-mfa-exporter"
	// userAssignedID is the client ID of a user-assigned managed identity attached to the host.
	userAssignedID = "5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c"
	// p12Password is the password of testdata/fabrikam-exporter.p12 (also in the .password file).
	p12Password = "correct horse"
)

// identityEndpoint serves the simulated host's managed identity endpoint on plain HTTP
// loopback, as IMDS and App Service serve theirs on the host.
func identityEndpoint(t *testing.T, e *testEnv, ids simtenant.ManagedIdentities) (*simtenant.IdentityEndpoint, *httptest.Server) {
	t.Helper()
	ep := e.sim.NewIdentityEndpoint(ids)
	srv := httptest.NewServer(ep)
	t.Cleanup(srv.Close)
	return ep, srv
}

// imdsRedirect sends requests for the link-local IMDS address to the loopback endpoint: the
// one thing a test cannot give a process is 169.254.169.254 itself. Everything else passes.
type imdsRedirect struct {
	next http.RoundTripper
	to   *url.URL
}

func (r imdsRedirect) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Hostname() != "169.254.169.254" {
		return r.next.RoundTrip(req)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = r.to.Scheme, r.to.Host, r.to.Host
	return r.next.RoundTrip(out)
}

// setup is what a case of TestCredentialTypes prepares: the credential section of the
// configuration (indented) and, optionally, a wrapper of the client's transport.
type setup struct {
	credential string
	wrap       func(http.RoundTripper) http.RoundTripper
}

// Every credential type acquires a token from the simulated authority (or identity endpoint,
// or Azure CLI) through the real azidentity code, configured from configuration text, and
// Graph accepts the token.
func TestCredentialTypes(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, e *testEnv) setup
		wantErr string // substring; empty: the read succeeds
		check   func(t *testing.T, e *testEnv)
	}{{
		name: "client secret from a variable",
		setup: func(t *testing.T, e *testEnv) setup {
			t.Setenv("EXPORTER_TEST_SECRET", e.sim.ClientSecret())
			return setup{credential: indent("type: client_secret", "client_id: "+e.sim.ClientID(), "client_secret_env: EXPORTER_TEST_SECRET")}
		},
		check: wantGrant(simtenant.Grant{Method: "client_secret"}),
	}, {
		name: "certificate PEM",
		setup: func(t *testing.T, e *testEnv) setup {
			cert, _, pemData := rsaCertificate(t, "exporter")
			e.sim.TrustCertificate(cert, false)
			return setup{credential: indent("type: client_certificate", "client_id: "+e.sim.ClientID(),
				"certificate_file: "+e.write(t, "exporter.pem", pemData))}
		},
		check: func(t *testing.T, e *testEnv) {
			if g := lastGrant(t, e.sim); g.Method != "client_certificate" || g.Certificate == "" || g.CertificateChain {
				t.Errorf("grant %+v", g)
			}
		},
	}, {
		name: "certificate PKCS#12 with a password file",
		setup: func(t *testing.T, e *testEnv) setup {
			trustP12(t, e)
			abs, _ := filepath.Abs(filepath.Join("testdata", "fabrikam-exporter.p12.password"))
			return setup{credential: indent("type: client_certificate", "client_id: "+e.sim.ClientID(),
				"certificate_file: "+p12Path(t), "certificate_password_file: "+abs)}
		},
		check: wantP12Grant,
	}, {
		name: "certificate PKCS#12 with a password variable",
		setup: func(t *testing.T, e *testEnv) setup {
			trustP12(t, e)
			t.Setenv("EXPORTER_TEST_P12_PASSWORD", p12Password)
			return setup{credential: indent("type: client_certificate", "client_id: "+e.sim.ClientID(),
				"certificate_file: "+p12Path(t), "certificate_password_env: EXPORTER_TEST_P12_PASSWORD")}
		},
		check: wantP12Grant,
	}, {
		name: "send_certificate_chain sends x5c",
		setup: func(t *testing.T, e *testEnv) setup {
			cert, _, pemData := rsaCertificate(t, "subject name and issuer")
			e.sim.TrustCertificate(cert, true)
			return setup{credential: indent("type: client_certificate", "client_id: "+e.sim.ClientID(),
				"certificate_file: "+e.write(t, "sni.pem", pemData), "send_certificate_chain: true")}
		},
		check: func(t *testing.T, e *testEnv) {
			if g := lastGrant(t, e.sim); g.Method != "client_certificate" || !g.CertificateChain {
				t.Errorf("grant %+v, want a certificate assertion with x5c", g)
			}
		},
	}, {
		name: "without send_certificate_chain subject name and issuer fails",
		setup: func(t *testing.T, e *testEnv) setup {
			cert, _, pemData := rsaCertificate(t, "subject name and issuer")
			e.sim.TrustCertificate(cert, true)
			return setup{credential: indent("type: client_certificate", "client_id: "+e.sim.ClientID(),
				"certificate_file: "+e.write(t, "sni.pem", pemData))}
		},
		wantErr: "AADSTS700027",
	}, {
		name: "workload identity from the configuration",
		setup: func(t *testing.T, e *testEnv) setup {
			token := trustCluster(t, e)
			return setup{credential: indent("type: workload_identity", "client_id: "+e.sim.ClientID(),
				"federated_token_file: "+e.write(t, "azure-identity-token", token))}
		},
		check: wantGrant(simtenant.Grant{Method: "federated", Subject: serviceAccount}),
	}, {
		name: "workload identity from the webhook's AZURE_ variables",
		setup: func(t *testing.T, e *testEnv) setup {
			token := trustCluster(t, e)
			t.Setenv("AZURE_CLIENT_ID", e.sim.ClientID())
			t.Setenv("AZURE_FEDERATED_TOKEN_FILE", e.write(t, "azure-identity-token", token))
			// The configuration's tenant wins over the variable.
			t.Setenv("AZURE_TENANT_ID", "00000000-0000-4000-8000-000000000000")
			return setup{credential: indent("type: workload_identity")}
		},
		check: wantGrant(simtenant.Grant{Method: "federated", Subject: serviceAccount}),
	}, {
		name: "managed identity, system-assigned, App Service endpoint",
		setup: func(t *testing.T, e *testEnv) setup {
			_, srv := identityEndpoint(t, e, simtenant.ManagedIdentities{SystemAssigned: true, Header: "app-service-header"})
			t.Setenv("IDENTITY_ENDPOINT", srv.URL+"/msi/token")
			t.Setenv("IDENTITY_HEADER", "app-service-header")
			return setup{credential: indent("type: managed_identity")}
		},
		check: wantGrant(simtenant.Grant{Method: "managed_identity"}),
	}, {
		name: "managed identity, user-assigned, IMDS",
		setup: func(t *testing.T, e *testEnv) setup {
			_, srv := identityEndpoint(t, e, simtenant.ManagedIdentities{UserAssigned: []string{userAssignedID}})
			to, _ := url.Parse(srv.URL)
			return setup{
				credential: indent("type: managed_identity", "client_id: "+userAssignedID),
				wrap:       func(next http.RoundTripper) http.RoundTripper { return imdsRedirect{next: next, to: to} },
			}
		},
		check: wantGrant(simtenant.Grant{Method: "managed_identity", Subject: userAssignedID}),
	}, {
		name: "managed identity not attached to the host",
		setup: func(t *testing.T, e *testEnv) setup {
			_, srv := identityEndpoint(t, e, simtenant.ManagedIdentities{SystemAssigned: true, Header: "h"})
			t.Setenv("IDENTITY_ENDPOINT", srv.URL+"/msi/token")
			t.Setenv("IDENTITY_HEADER", "h")
			return setup{credential: indent("type: managed_identity", "client_id: "+userAssignedID)}
		},
		wantErr: "no user-assigned identity",
	}, {
		name:  "azure cli",
		setup: fakeAzureCLI,
		check: func(t *testing.T, e *testEnv) {
			args, err := os.ReadFile(filepath.Join(e.dir, "az-args"))
			if err != nil {
				t.Fatal(err)
			}
			want := "account get-access-token -o json --resource " + e.sim.GraphEndpoint() + " --tenant " + e.sim.TenantID()
			if got := strings.TrimSpace(string(args)); got != want {
				t.Errorf("az called with %q, want %q", got, want)
			}
		},
	}, {
		name: "environment",
		setup: func(t *testing.T, e *testEnv) setup {
			t.Setenv("AZURE_TENANT_ID", e.sim.TenantID())
			t.Setenv("AZURE_CLIENT_ID", e.sim.ClientID())
			t.Setenv("AZURE_CLIENT_SECRET", e.sim.ClientSecret())
			return setup{credential: indent("type: environment")}
		},
		check: wantGrant(simtenant.Grant{Method: "client_secret"}),
	}, {
		name: "default chain finds the environment",
		setup: func(t *testing.T, e *testEnv) setup {
			t.Setenv("AZURE_TENANT_ID", e.sim.TenantID())
			t.Setenv("AZURE_CLIENT_ID", e.sim.ClientID())
			t.Setenv("AZURE_CLIENT_SECRET", e.sim.ClientSecret())
			return setup{credential: indent("type: default")}
		},
		check: wantGrant(simtenant.Grant{Method: "client_secret"}),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			s := tt.setup(t, e)
			client, err := New(e.tenant(t, s.credential), Options{wrapTransport: s.wrap})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			err = read(client)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("read = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if n := e.sim.Stats().Count("/beta/auditLogs/signIns", http.StatusOK); n != 1 {
				t.Errorf("Graph answered %d sign-in requests with 200, want 1", n)
			}
			tt.check(t, e)
		})
	}
}

// wantGrant checks the method and subject of the last token; the scope must be the simulated
// Graph's.
func wantGrant(want simtenant.Grant) func(*testing.T, *testEnv) {
	return func(t *testing.T, e *testEnv) {
		t.Helper()
		g := lastGrant(t, e.sim)
		if g.Method != want.Method || g.Subject != want.Subject || !strings.HasPrefix(g.Scope, e.sim.GraphEndpoint()) {
			t.Errorf("grant %+v, want method %s, subject %q, scope of %s", g, want.Method, want.Subject, e.sim.GraphEndpoint())
		}
	}
}

func p12Path(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("testdata", "fabrikam-exporter.p12"))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// trustP12 registers the certificate inside testdata's PKCS#12 file with the tenant.
func trustP12(t *testing.T, e *testEnv) {
	t.Helper()
	data, err := os.ReadFile(p12Path(t))
	if err != nil {
		t.Fatal(err)
	}
	certs, _, err := azidentity.ParseCertificates(data, []byte(p12Password))
	if err != nil || len(certs) == 0 {
		t.Fatalf("testdata PKCS#12: %v", err)
	}
	e.sim.TrustCertificate(certs[0], false)
	p12Thumbprint = thumbprint(certs[0])
}

var p12Thumbprint string

func wantP12Grant(t *testing.T, e *testEnv) {
	t.Helper()
	if g := lastGrant(t, e.sim); g.Method != "client_certificate" || g.Certificate != p12Thumbprint {
		t.Errorf("grant %+v, want one signed by the PKCS#12 certificate %s", g, p12Thumbprint)
	}
}

// trustCluster registers a cluster's service account as a federated identity of the app and
// returns the token Kubernetes would project for it.
func trustCluster(t *testing.T, e *testEnv) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e.sim.TrustFederatedIdentity(simtenant.FederatedIdentity{Issuer: clusterIssuer, Subject: serviceAccount, Key: &key.PublicKey})
	return serviceAccountToken(t, key, clusterIssuer, serviceAccount)
}

// fakeAzureCLI puts an `az` on PATH that records its arguments and prints what
// `az account get-access-token -o json` prints, with a token the tenant issued (standing in for
// the CLI's own login).
func fakeAzureCLI(t *testing.T, e *testEnv) setup {
	t.Helper()
	token, exp, err := e.sim.IssueToken()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(e.dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(`#!/bin/sh
printf '%%s\n' "$*" > %q
cat <<'EOF'
{"accessToken": %q, "expiresOn": %q, "expires_on": %d, "subscription": "00000000-0000-0000-0000-000000000000", "tenant": %q, "tokenType": "Bearer"}
EOF
`, filepath.Join(e.dir, "az-args"), token, exp.Local().Format("2006-01-02 15:04:05.000000"), exp.Unix(), e.sim.TenantID())
	if err := os.WriteFile(filepath.Join(bin, "az"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return setup{credential: indent("type: azure_cli")}
}
