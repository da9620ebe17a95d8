package graphclient

import (
	"crypto/tls"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
)

// The budget is Graph's, as ../shared/reference/graph-api.md documents it: 5 requests per 10
// seconds per app and tenant, 122 per 10 seconds per app across tenants. The pacers' window
// may be longer than Graph's, never shorter.
func TestBudgetIsGraphs(t *testing.T) {
	if TenantRequests != 5 || AppRequests != 122 || GraphWindow != 10*time.Second {
		t.Errorf("budget %d and %d per %s, want 5 and 122 per 10s", TenantRequests, AppRequests, GraphWindow)
	}
	if PacerWindow < GraphWindow || PacerWindow > GraphWindow+time.Second {
		t.Errorf("pacer window %s: want Graph's 10s plus a margin under a second", PacerWindow)
	}
}

// Token and Graph requests share one transport: TLS 1.2 at least, and the tenant's ca_file
// trusted in addition to the system's roots.
func TestHTTPClientTrust(t *testing.T) {
	e := newTestEnv(t)
	get := func(tenant config.Tenant) error {
		hc, err := HTTPClient(tenant)
		if err != nil {
			return err
		}
		tr := hc.Transport.(*http.Transport)
		defer tr.CloseIdleConnections()
		if tr.TLSClientConfig.MinVersion != tls.VersionTLS12 {
			t.Errorf("MinVersion %x", tr.TLSClientConfig.MinVersion)
		}
		resp, err := hc.Get(e.sim.AuthorityHost() + e.sim.TenantID() + "/v2.0/.well-known/openid-configuration")
		if err != nil {
			return err
		}
		return resp.Body.Close()
	}
	if err := get(config.Tenant{CAFile: e.caFile}); err != nil {
		t.Errorf("with the simulator's CA in ca_file: %v", err)
	}
	if err := get(config.Tenant{}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without ca_file the system's roots alone must not trust the simulator: %v", err)
	}
	missing := filepath.Join(e.dir, "missing.pem")
	if err := get(config.Tenant{CAFile: missing}); err == nil || !strings.HasPrefix(err.Error(), "ca_file: read CA file: open "+missing) {
		t.Errorf("missing ca_file: %v", err)
	}
}

// A configuration whose secret disappeared after loading fails to build, naming the source.
func TestNewReportsUnreadableSecret(t *testing.T) {
	e := newTestEnv(t)
	path := e.write(t, "secret", []byte("s"))
	tenant := e.tenant(t, indent("type: client_secret", "client_id: "+e.sim.ClientID(), "client_secret_file: "+path))
	tenant.Credential.ClientSecretFile = filepath.Join(e.dir, "gone")
	_, err := New(tenant, Options{})
	if err == nil || !strings.Contains(err.Error(), "credential.client_secret_file: read secret file: open "+tenant.Credential.ClientSecretFile) {
		t.Errorf("New = %v", err)
	}
}
