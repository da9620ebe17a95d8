package simtenant

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

func TestTokenEndpoint(t *testing.T) {
	tn := start(t, Options{})
	assertion := func(aud, iss string) string {
		enc := base64.RawURLEncoding
		claims, _ := json.Marshal(map[string]any{"aud": aud, "iss": iss, "sub": iss, "exp": time.Now().Add(time.Hour).Unix()})
		return enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc.EncodeToString(claims) + ".c2ln"
	}
	tokenURL := tn.AuthorityHost() + tn.TenantID() + "/oauth2/v2.0/token"
	cases := []struct {
		name      string
		tenant    string
		edit      func(url.Values)
		status    int
		errorCode string
		aadsts    string
	}{
		{name: "good secret", status: 200},
		{name: "scope alone", edit: func(f url.Values) { f.Set("scope", tn.GraphEndpoint()+"/.default") }, status: 200},
		{name: "wrong secret", edit: func(f url.Values) { f.Set("client_secret", "nope") }, status: 401, errorCode: "invalid_client", aadsts: "AADSTS7000215: Invalid client secret provided"},
		{name: "unknown client", edit: func(f url.Values) { f.Set("client_id", "11111111-1111-1111-1111-111111111111") }, status: 400, errorCode: "unauthorized_client", aadsts: "AADSTS700016"},
		{name: "no credential", edit: func(f url.Values) { f.Del("client_secret") }, status: 401, errorCode: "invalid_client", aadsts: "AADSTS7000218"},
		{name: "wrong grant", edit: func(f url.Values) { f.Set("grant_type", "password") }, status: 400, errorCode: "unsupported_grant_type", aadsts: "AADSTS70003"},
		{name: "foreign scope", edit: func(f url.Values) { f.Set("scope", "https://graph.microsoft.com/.default") }, status: 400, errorCode: "invalid_scope"},
		{name: "unknown tenant", tenant: "contoso.example", status: 400, errorCode: "invalid_tenant", aadsts: "AADSTS90002"},
		{name: "client assertion", edit: func(f url.Values) {
			f.Del("client_secret")
			f.Set("client_assertion_type", clientAssertionType)
			f.Set("client_assertion", assertion(tokenURL, tn.ClientID()))
		}, status: 200},
		{name: "client assertion wrong audience", edit: func(f url.Values) {
			f.Del("client_secret")
			f.Set("client_assertion_type", clientAssertionType)
			f.Set("client_assertion", assertion("https://login.microsoftonline.com/x/oauth2/v2.0/token", tn.ClientID()))
		}, status: 401, errorCode: "invalid_client"},
		{name: "client assertion wrong issuer", edit: func(f url.Values) {
			f.Del("client_secret")
			f.Set("client_assertion_type", clientAssertionType)
			f.Set("client_assertion", assertion(tokenURL, "someone-else"))
		}, status: 401, errorCode: "invalid_client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := secretForm(tn)
			if tc.edit != nil {
				tc.edit(form)
			}
			tenant := tn.TenantID()
			if tc.tenant != "" {
				tenant = tc.tenant
			}
			status, body := postToken(t, tn, tenant, form)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, body)
			}
			if tc.status == 200 {
				if body["token_type"] != "Bearer" || body["expires_in"] != float64(3599) || body["ext_expires_in"] != float64(3599) {
					t.Errorf("token response shape: %v", body)
				}
				if tok, _ := body["access_token"].(string); len(tok) < 20 {
					t.Errorf("access_token too short: %q", tok)
				}
				return
			}
			if body["error"] != tc.errorCode {
				t.Errorf("error = %v, want %s", body["error"], tc.errorCode)
			}
			if desc, _ := body["error_description"].(string); !strings.HasPrefix(desc, tc.aadsts) {
				t.Errorf("error_description = %q, want prefix %q", desc, tc.aadsts)
			}
		})
	}
	s := tn.Stats()
	if s.TokenRequests != len(cases) || s.TokensIssued != 3 {
		t.Errorf("stats: %d token requests, %d issued; want %d and 3", s.TokenRequests, s.TokensIssued, len(cases))
	}
}

func TestTokensAreDistinctAndUsable(t *testing.T) {
	tn := start(t, Options{})
	a, b := token(t, tn), token(t, tn)
	if a == b {
		t.Fatal("two token requests returned the same token")
	}
	for _, tok := range []string{a, b} {
		if r := get(t, tn, signInsURL(tn), tok, nil); r.status != 200 {
			t.Errorf("issued token refused: %d %s", r.status, r.body)
		}
	}
}

func TestOpenIDConfigurationPointsBack(t *testing.T) {
	tn := start(t, Options{})
	r := get(t, tn, tn.AuthorityHost()+tn.TenantID()+"/v2.0/.well-known/openid-configuration", "", nil)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var cfg map[string]any
	if err := json.Unmarshal(r.body, &cfg); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"issuer", "token_endpoint", "authorization_endpoint", "jwks_uri"} {
		v, _ := cfg[k].(string)
		if !strings.HasPrefix(v, tn.AuthorityHost()+tn.TenantID()+"/") {
			t.Errorf("%s = %q, want it under %s", k, v, tn.AuthorityHost()+tn.TenantID())
		}
	}
	if r := get(t, tn, tn.AuthorityHost()+"other-tenant/v2.0/.well-known/openid-configuration", "", nil); r.status != 400 {
		t.Errorf("unknown tenant: status %d, want 400", r.status)
	}
	for _, tenant := range []string{"common", tn.TenantID()} {
		r := get(t, tn, tn.AuthorityHost()+tenant+"/discovery/instance?api-version=1.1&authorization_endpoint=x", "", nil)
		var d struct {
			Endpoint string `json:"tenant_discovery_endpoint"`
			Metadata []struct {
				Aliases []string `json:"aliases"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(r.body, &d); err != nil || r.status != 200 {
			t.Fatalf("%s discovery: %d %v", tenant, r.status, err)
		}
		host := strings.TrimPrefix(tn.GraphEndpoint(), "https://")
		if !strings.HasPrefix(d.Endpoint, tn.AuthorityHost()) || len(d.Metadata) != 1 || d.Metadata[0].Aliases[0] != host {
			t.Errorf("%s discovery answer does not point back: %+v", tenant, d)
		}
	}
}

func azOptions(tn *Tenant) azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: tn.AuthorityHost()},
		Transport: tn.HTTPClient(),
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}
}

// TestAzidentityClientSecret runs the real azidentity/MSAL flow against the
// authority, then uses the token on the fake Graph.
func TestAzidentityClientSecret(t *testing.T) {
	tn := start(t, Options{})
	ctx := context.Background()
	scope := policy.TokenRequestOptions{Scopes: []string{tn.GraphEndpoint() + "/.default"}}

	cred, err := azidentity.NewClientSecretCredential(tn.TenantID(), tn.ClientID(), tn.ClientSecret(),
		&azidentity.ClientSecretCredentialOptions{ClientOptions: azOptions(tn), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(ctx, scope)
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if !tok.ExpiresOn.After(time.Now().Add(50 * time.Minute)) {
		t.Errorf("token expires too early: %v", tok.ExpiresOn)
	}
	if r := get(t, tn, signInsURL(tn), tok.Token, nil); r.status != 200 {
		t.Errorf("Graph refused azidentity token: %d %s", r.status, r.body)
	}
	if _, err := cred.GetToken(ctx, scope); err != nil {
		t.Fatalf("second GetToken: %v", err)
	}
	if n := tn.Stats().TokenRequests; n != 1 {
		t.Errorf("MSAL should cache the token: %d token requests", n)
	}

	bad, err := azidentity.NewClientSecretCredential(tn.TenantID(), tn.ClientID(), "wrong",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: azOptions(tn), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.GetToken(ctx, scope)
	var authErr *azidentity.AuthenticationFailedError
	if !errors.As(err, &authErr) || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Errorf("wrong secret: want AuthenticationFailedError with AADSTS7000215, got %v", err)
	}
}

func TestAzidentityClientCertificate(t *testing.T) {
	tn := start(t, Options{})
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "exporter"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := azidentity.NewClientCertificateCredential(tn.TenantID(), tn.ClientID(), []*x509.Certificate{cert}, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: azOptions(tn), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{tn.GraphEndpoint() + "/.default"}}); err != nil {
		t.Fatalf("certificate credential: %v", err)
	}
}

func TestTokenFault(t *testing.T) {
	tn := start(t, Options{})
	tn.InjectFault(Fault{Kind: FaultToken, Count: 2})
	for i := range 2 {
		status, body := postToken(t, tn, tn.TenantID(), secretForm(tn))
		if status != http.StatusInternalServerError || body["error"] != "server_error" {
			t.Fatalf("request %d: status %d body %v, want 500 server_error", i, status, body)
		}
	}
	token(t, tn) // third request is healthy again
	if s := tn.Stats(); s.FaultsApplied != 2 || s.Count(RouteToken, 500) != 2 || s.Count(RouteToken, 200) != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestWriteCACertTrusted(t *testing.T) {
	tn := start(t, Options{})
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := tn.WriteCACert(path); err != nil {
		t.Fatal(err)
	}
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("written CA does not parse")
	}
	// A client built only from the written file must reach both names.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	port := tn.GraphEndpoint()[strings.LastIndexByte(tn.GraphEndpoint(), ':'):]
	for _, base := range []string{tn.GraphEndpoint(), "https://localhost" + port} {
		resp, err := client.Get(base + "/" + tn.TenantID() + "/v2.0/.well-known/openid-configuration")
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		resp.Body.Close()
	}
	// And the default system roots must not trust it.
	if _, err := http.Get(tn.GraphEndpoint()); err == nil {
		t.Error("a client without the CA trusted the server")
	}
}

func rsaCertificate(t *testing.T, cn string) (*x509.Certificate, *rsa.PrivateKey) {
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
	return cert, key
}

// signJWT builds an RS256 JWT by hand, so the test does not share the client's JWT code.
func signJWT(t *testing.T, key *rsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	digest := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + enc.EncodeToString(sig)
}

func graphScope(tn *Tenant) policy.TokenRequestOptions {
	return policy.TokenRequestOptions{Scopes: []string{tn.GraphEndpoint() + "/.default"}}
}

func TestClientSecretRotation(t *testing.T) {
	tn := start(t, Options{ClientSecret: "first"})
	try := func(secret string) int {
		form := secretForm(tn)
		form.Set("client_secret", secret)
		status, _ := postToken(t, tn, tn.TenantID(), form)
		return status
	}
	if try("first") != 200 || try("second") != 401 {
		t.Fatal("before rotation: only the first secret must work")
	}
	tn.SetClientSecrets("first", "second") // both while rotating
	if try("first") != 200 || try("second") != 200 {
		t.Error("during rotation both secrets must work")
	}
	tn.SetClientSecrets("second")
	if try("first") != 401 || try("second") != 200 {
		t.Error("after rotation only the new secret must work")
	}
	if tn.ClientSecret() != "second" {
		t.Errorf("ClientSecret() = %q after rotation", tn.ClientSecret())
	}
	for _, g := range tn.Grants() {
		if g.Method != "client_secret" || g.Scope != tn.GraphEndpoint()+"/.default openid offline_access profile" {
			t.Errorf("grant %+v", g)
		}
	}
}

func TestRegisteredCertificates(t *testing.T) {
	tn := start(t, Options{})
	trusted, trustedKey := rsaCertificate(t, "registered")
	other, otherKey := rsaCertificate(t, "not registered")
	sni, sniKey := rsaCertificate(t, "subject name and issuer")
	tn.TrustCertificate(trusted, false)
	tn.TrustCertificate(sni, true)
	cred := func(cert *x509.Certificate, key *rsa.PrivateKey, chain bool) error {
		c, err := azidentity.NewClientCertificateCredential(tn.TenantID(), tn.ClientID(), []*x509.Certificate{cert}, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: azOptions(tn), DisableInstanceDiscovery: true, SendCertificateChain: chain})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetToken(context.Background(), graphScope(tn))
		return err
	}
	if err := cred(trusted, trustedKey, false); err != nil {
		t.Errorf("registered certificate: %v", err)
	}
	if err := cred(other, otherKey, false); err == nil || !strings.Contains(err.Error(), "AADSTS700027") || !strings.Contains(err.Error(), "key was not found") {
		t.Errorf("unregistered certificate: %v", err)
	}
	if err := cred(sni, sniKey, false); err == nil || !strings.Contains(err.Error(), "x5c") {
		t.Errorf("subject name and issuer without x5c: %v", err)
	}
	if err := cred(sni, sniKey, true); err != nil {
		t.Errorf("subject name and issuer with x5c: %v", err)
	}
	var methods []string
	for _, g := range tn.Grants() {
		methods = append(methods, fmt.Sprintf("%s/%v", g.Method, g.CertificateChain))
	}
	if want := []string{"client_certificate/false", "client_certificate/true"}; !slices.Equal(methods, want) {
		t.Errorf("grants %v, want %v", methods, want)
	}
	// An x5c naming another certificate does not satisfy subject name and issuer.
	enc := base64.RawURLEncoding
	sum := sha256.Sum256(sni.Raw)
	aud := tn.AuthorityHost() + tn.TenantID() + "/oauth2/v2.0/token"
	assertion := signJWT(t, sniKey,
		map[string]any{"alg": "RS256", "typ": "JWT", "x5t#S256": enc.EncodeToString(sum[:]), "x5c": []string{base64.StdEncoding.EncodeToString(trusted.Raw)}},
		map[string]any{"aud": aud, "iss": tn.ClientID(), "sub": tn.ClientID(), "exp": time.Now().Add(time.Hour).Unix()})
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {tn.ClientID()}, "scope": {tn.GraphEndpoint() + "/.default"},
		"client_assertion_type": {clientAssertionType}, "client_assertion": {assertion}}
	if status, body := postToken(t, tn, tn.TenantID(), form); status != 401 {
		t.Errorf("x5c of another certificate: %d %v", status, body)
	}
	// The registered certificate's thumbprint on an assertion signed by another key: forged.
	trustedSum := sha256.Sum256(trusted.Raw)
	form.Set("client_assertion", signJWT(t, otherKey,
		map[string]any{"alg": "RS256", "typ": "JWT", "x5t#S256": enc.EncodeToString(trustedSum[:])},
		map[string]any{"aud": aud, "iss": tn.ClientID(), "sub": tn.ClientID(), "exp": time.Now().Add(time.Hour).Unix()}))
	if status, body := postToken(t, tn, tn.TenantID(), form); status != 401 || !strings.Contains(fmt.Sprint(body["error_description"]), "signature validation") {
		t.Errorf("forged signature: %d %v", status, body)
	}
	form.Set("client_assertion", signJWT(t, sniKey,
		map[string]any{"alg": "RS256", "typ": "JWT", "x5t#S256": enc.EncodeToString(sum[:]), "x5c": []string{base64.StdEncoding.EncodeToString(sni.Raw)}},
		map[string]any{"aud": aud, "iss": tn.ClientID(), "sub": tn.ClientID(), "exp": time.Now().Add(time.Hour).Unix()}))
	if status, body := postToken(t, tn, tn.TenantID(), form); status != 200 {
		t.Errorf("hand-made RS256 assertion with the right x5c: %d %v", status, body)
	}
}

func TestFederatedIdentity(t *testing.T) {
	tn := start(t, Options{})
	issuerKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const issuer = "https://oidc.prod-aks.azure.com/0000/"
	const subject = "system:serviceaccount:monitoring:entra-mfa-exporter"
	tn.TrustFederatedIdentity(FederatedIdentity{Issuer: issuer, Subject: subject, Key: &issuerKey.PublicKey})
	serviceAccountToken := func(key *rsa.PrivateKey, sub, aud string) string {
		return signJWT(t, key, map[string]any{"alg": "RS256", "typ": "JWT"},
			map[string]any{"iss": issuer, "sub": sub, "aud": []string{aud}, "exp": time.Now().Add(time.Hour).Unix()})
	}
	tests := []struct {
		name, token, wantErr string
	}{
		{"matching", serviceAccountToken(issuerKey, subject, FederatedAudience), ""},
		{"other subject", serviceAccountToken(issuerKey, "system:serviceaccount:default:default", FederatedAudience), "AADSTS70021"},
		{"other audience", serviceAccountToken(issuerKey, subject, "https://kubernetes.default.svc"), "AADSTS70021"},
		{"other key", serviceAccountToken(otherKey, subject, FederatedAudience), "AADSTS700027"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred, err := azidentity.NewClientAssertionCredential(tn.TenantID(), tn.ClientID(),
				func(context.Context) (string, error) { return tt.token, nil },
				&azidentity.ClientAssertionCredentialOptions{ClientOptions: azOptions(tn), DisableInstanceDiscovery: true})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := cred.GetToken(context.Background(), graphScope(tn))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("GetToken = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r := get(t, tn, signInsURL(tn), tok.Token, nil); r.status != 200 {
				t.Errorf("Graph refused the federated token: %d", r.status)
			}
		})
	}
	if g := tn.Grants(); len(g) != 1 || g[0].Method != "federated" || g[0].Subject != subject {
		t.Errorf("grants %+v", g)
	}
}

func TestIdentityEndpoint(t *testing.T) {
	tn := start(t, Options{})
	const userAssigned = "3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a"
	ep := tn.NewIdentityEndpoint(ManagedIdentities{SystemAssigned: true, UserAssigned: []string{userAssigned}, Header: "app-service-secret"})
	srv := httptest.NewServer(ep)
	defer srv.Close()
	resource := url.QueryEscape(tn.GraphEndpoint())
	tests := []struct {
		name, path, query string
		header            map[string]string
		status            int
	}{
		{"imds system assigned", IMDSPath, "api-version=2018-02-01&resource=" + resource, map[string]string{"Metadata": "true"}, 200},
		{"imds user assigned", IMDSPath, "api-version=2018-02-01&client_id=" + userAssigned + "&resource=" + resource, map[string]string{"Metadata": "true"}, 200},
		{"imds without the metadata header", IMDSPath, "api-version=2018-02-01&resource=" + resource, nil, 400},
		{"imds unknown identity", IMDSPath, "api-version=2018-02-01&client_id=11111111-1111-1111-1111-111111111111&resource=" + resource, map[string]string{"Metadata": "true"}, 400},
		{"imds foreign resource", IMDSPath, "api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com", map[string]string{"Metadata": "true"}, 400},
		{"app service", "/msi/token", "api-version=2019-08-01&resource=" + resource, map[string]string{"X-IDENTITY-HEADER": "app-service-secret"}, 200},
		{"app service wrong header", "/msi/token", "api-version=2019-08-01&resource=" + resource, map[string]string{"X-IDENTITY-HEADER": "guess"}, 401},
		{"no api version", IMDSPath, "resource=" + resource, map[string]string{"Metadata": "true"}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+tt.path+"?"+tt.query, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]string
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, tt.status, body)
			}
			if tt.status != 200 {
				return
			}
			if exp, err := strconv.ParseInt(body["expires_on"], 10, 64); err != nil || exp <= time.Now().Unix() {
				t.Errorf("expires_on %q", body["expires_on"])
			}
			if r := get(t, tn, signInsURL(tn), body["access_token"], nil); r.status != 200 {
				t.Errorf("Graph refused the managed identity token: %d", r.status)
			}
		})
	}
	if ep.Requests() != len(tests) {
		t.Errorf("requests = %d, want %d", ep.Requests(), len(tests))
	}
}

func TestIssuedTokenWorksOnGraph(t *testing.T) {
	tn := start(t, Options{})
	tok, exp, err := tn.IssueToken()
	if err != nil {
		t.Fatal(err)
	}
	if !exp.After(time.Now().Add(50 * time.Minute)) {
		t.Errorf("expires %v", exp)
	}
	if r := get(t, tn, signInsURL(tn), tok, nil); r.status != 200 {
		t.Errorf("Graph refused the issued token: %d", r.status)
	}
	if r := get(t, tn, signInsURL(tn), tok+"x", nil); r.status != 401 {
		t.Errorf("Graph accepted an unknown token: %d", r.status)
	}
}
