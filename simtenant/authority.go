package simtenant

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" // x5t is a SHA-1 thumbprint by definition (RFC 7515): it names a certificate, it protects nothing
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	tokenLifetime         = 3599 * time.Second
	clientAssertionType   = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	grantClientCredential = "client_credentials"
	// FederatedAudience is the audience Entra expects in a federated (workload identity)
	// assertion unless the federated credential names another.
	FederatedAudience = "api://AzureADTokenExchange"
)

// authState is what the app registration accepts beyond Options: credentials a test registers
// or rotates while the tenant runs. Guarded by Tenant.mu.
type authState struct {
	secrets   []string // nil: Options.ClientSecret only
	certs     []trustedCertificate
	federated []FederatedIdentity
	grants    []Grant
}

type trustedCertificate struct {
	cert         *x509.Certificate
	requireChain bool
}

// FederatedIdentity is a federated identity credential of the app registration: Entra
// exchanges an assertion from Issuer about Subject (a Kubernetes service account token, for
// workload identity) for an access token.
type FederatedIdentity struct {
	Issuer, Subject string
	// Audience defaults to FederatedAudience.
	Audience string
	// Key verifies the assertion's RS256 signature; nil checks the claims only.
	Key *rsa.PublicKey
}

// Grant records one token the authority or an identity endpoint issued, for tests that check
// how a client authenticated. It holds no secret.
type Grant struct {
	// Method is client_secret, client_certificate, federated or managed_identity.
	Method string
	// Scope is the requested scope; for managed identity, the resource.
	Scope string
	// CertificateChain: the certificate assertion carried an x5c header.
	CertificateChain bool
	// Certificate is the SHA-256 thumbprint (hex) of the registered certificate that signed
	// the assertion; empty when none is registered.
	Certificate string
	// Subject is the federated assertion's subject, or the managed identity's client ID
	// (empty for a system-assigned identity).
	Subject string
}

// SetClientSecrets replaces the client secrets the app registration accepts, as adding a new
// secret in Entra and deleting the old one does; an app may hold two while it rotates. Tokens
// already issued stay valid until they expire, as in Entra.
func (t *Tenant) SetClientSecrets(secrets ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.auth.secrets = slices.Clone(secrets)
	if len(secrets) > 0 {
		t.opts.ClientSecret = secrets[0]
	}
}

// TrustCertificate registers a certificate credential of the app registration. Once one is
// registered, a certificate assertion must name a registered certificate by its thumbprint
// (x5t#S256, or x5t) and be signed by its key. With requireChain the app uses subject name and
// issuer authentication, which needs the certificate itself, first, in the x5c header.
func (t *Tenant) TrustCertificate(cert *x509.Certificate, requireChain bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.auth.certs = append(t.auth.certs, trustedCertificate{cert: cert, requireChain: requireChain})
}

// TrustFederatedIdentity registers a federated identity credential of the app registration.
func (t *Tenant) TrustFederatedIdentity(f FederatedIdentity) {
	if f.Audience == "" {
		f.Audience = FederatedAudience
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.auth.federated = append(t.auth.federated, f)
}

// Grants returns the tokens issued so far, oldest first.
func (t *Tenant) Grants() []Grant {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.auth.grants)
}

// IssueToken returns an access token that Graph accepts, as if the caller had obtained it
// elsewhere: the Azure CLI hands out tokens from its own login, which a test stands in for.
func (t *Tenant) IssueToken() (token string, expiresOn time.Time, err error) {
	token, err = newAccessToken()
	if err != nil {
		return "", time.Time{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	expiresOn = t.opts.Now().Add(tokenLifetime)
	t.tokens[token] = expiresOn
	return token, expiresOn, nil
}

func newAccessToken() (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// issueLocked stores a new token and records how it was granted. Called with t.mu held.
func (t *Tenant) issueLocked(token string, g Grant) time.Time {
	now := t.opts.Now()
	t.rememberTokenLocked(token, now)
	t.stats.TokensIssued++
	// Keep the latest grants only: a tenant left running (the demo) must not grow without bound.
	if len(t.auth.grants) >= maxGrants {
		t.auth.grants = append(t.auth.grants[:0], t.auth.grants[len(t.auth.grants)-maxGrants/2:]...)
	}
	t.auth.grants = append(t.auth.grants, g)
	return now.Add(tokenLifetime)
}

// maxGrants bounds the grants remembered for tests that inspect how tokens were obtained.
const maxGrants = 1024

// aadError is the error body of the Entra token endpoint; MSAL reads
// "error" and "error_description".
type aadError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri,omitempty"`
}

func (t *Tenant) writeAADError(w http.ResponseWriter, status int, code string, aadsts int, description string) {
	now := t.opts.Now().UTC()
	id := requestID()
	writeJSON(w, status, aadError{
		Error:            code,
		ErrorDescription: description + " Trace ID: " + id + " Correlation ID: " + id + " Timestamp: " + now.Format("2006-01-02 15:04:05Z"),
		ErrorCodes:       []int{aadsts},
		Timestamp:        now.Format("2006-01-02 15:04:05Z"),
		TraceID:          id,
		CorrelationID:    id,
	})
}

func (t *Tenant) checkTenant(w http.ResponseWriter, r *http.Request) bool {
	tenant := r.PathValue("tenant")
	if strings.EqualFold(tenant, t.opts.TenantID) {
		return true
	}
	t.writeAADError(w, http.StatusBadRequest, "invalid_tenant", 90002,
		"AADSTS90002: Tenant '"+tenant+"' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
	return false
}

func (t *Tenant) tokenEndpoint() string {
	return t.base + "/" + t.opts.TenantID + "/oauth2/v2.0/token"
}

func (t *Tenant) handleOpenID(w http.ResponseWriter, r *http.Request) {
	if !t.checkTenant(w, r) {
		return
	}
	tenantBase := t.base + "/" + t.opts.TenantID
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        t.tokenEndpoint(),
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              tenantBase + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                tenantBase + "/v2.0",
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     t.base + "/oidc/userinfo",
		"authorization_endpoint":                tenantBase + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         tenantBase + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  tenantBase + "/oauth2/v2.0/logout",
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "nbf", "tid"},
		"kerberos_endpoint":                     tenantBase + "/kerberos",
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   strings.TrimPrefix(t.base, "https://"),
		"cloud_graph_host_name":                 strings.TrimPrefix(t.base, "https://"),
		"msgraph_host":                          strings.TrimPrefix(t.base, "https://"),
		"rbac_url":                              t.base,
	})
}

// handleDiscovery answers MSAL's instance discovery as Entra does for a
// known cloud: the authority is its own preferred network and only alias.
func (t *Tenant) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	host := strings.TrimPrefix(t.base, "https://")
	tenant := r.PathValue("tenant")
	if !strings.EqualFold(tenant, "common") && !t.checkTenant(w, r) {
		return
	}
	port := host[strings.LastIndexByte(host, ':'):]
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": t.base + "/" + t.opts.TenantID + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": host,
			"preferred_cache":   host,
			"aliases":           []string{host, "localhost" + port},
		}},
	})
}

func (t *Tenant) handleToken(w http.ResponseWriter, r *http.Request) {
	t.mu.Lock()
	t.stats.TokenRequests++
	t.mu.Unlock()
	if !t.checkTenant(w, r) {
		return
	}
	t.mu.Lock()
	fault := takeFault(&t.tokenFaults, func(*Fault) bool { return true })
	if fault != nil {
		t.stats.FaultsApplied++
	}
	t.mu.Unlock()
	if fault != nil {
		t.writeAADError(w, http.StatusInternalServerError, "server_error", 90033,
			"AADSTS90033: A transient error has occurred. Please try again.")
		return
	}
	if err := r.ParseForm(); err != nil {
		t.writeAADError(w, http.StatusBadRequest, "invalid_request", 900144,
			"AADSTS900144: The request body must contain the following parameter: 'grant_type'.")
		return
	}
	form := r.PostForm
	if gt := form.Get("grant_type"); gt != grantClientCredential {
		t.writeAADError(w, http.StatusBadRequest, "unsupported_grant_type", 70003,
			"AADSTS70003: The app requested an unsupported grant type '"+gt+"'.")
		return
	}
	clientID := form.Get("client_id")
	if clientID != t.opts.ClientID {
		t.writeAADError(w, http.StatusBadRequest, "unauthorized_client", 700016,
			"AADSTS700016: Application with identifier '"+clientID+"' was not found in the directory '"+t.opts.TenantID+"'.")
		return
	}
	grant := Grant{Scope: form.Get("scope")}
	switch {
	case form.Get("client_assertion") != "":
		if form.Get("client_assertion_type") != clientAssertionType {
			t.writeAADError(w, http.StatusBadRequest, "invalid_request", 50027,
				"AADSTS50027: JWT token is invalid or malformed (client_assertion_type).")
			return
		}
		if code, desc, ok := t.checkAssertion(form.Get("client_assertion"), clientID, &grant); !ok {
			t.writeAADError(w, http.StatusUnauthorized, "invalid_client", code, "AADSTS"+strconv.Itoa(code)+": "+desc)
			return
		}
	case form.Get("client_secret") != "":
		if !t.secretAccepted(form.Get("client_secret")) {
			t.writeAADError(w, http.StatusUnauthorized, "invalid_client", 7000215,
				"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+clientID+"'.")
			return
		}
		grant.Method = "client_secret"
	default:
		t.writeAADError(w, http.StatusUnauthorized, "invalid_client", 7000218,
			"AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}
	if !t.scopeOK(form.Get("scope")) {
		t.writeAADError(w, http.StatusBadRequest, "invalid_scope", 1002012,
			"AADSTS1002012: The provided value for scope "+form.Get("scope")+" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
		return
	}
	token, err := newAccessToken()
	if err != nil {
		t.writeAADError(w, http.StatusInternalServerError, "server_error", 90033, "AADSTS90033: A transient error has occurred.")
		return
	}
	t.mu.Lock()
	t.issueLocked(token, grant)
	t.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     int(tokenLifetime / time.Second),
		"ext_expires_in": int(tokenLifetime / time.Second),
		"access_token":   token,
	})
}

func (t *Tenant) secretAccepted(secret string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.auth.secrets == nil {
		return secret == t.opts.ClientSecret
	}
	return slices.Contains(t.auth.secrets, secret)
}

// scopeOK accepts the Graph resource's .default scope; MSAL adds the OIDC
// scopes (openid, profile, offline_access) to every request, so those are
// tolerated beside it.
func (t *Tenant) scopeOK(scope string) bool {
	host := strings.TrimPrefix(t.base, "https://")
	port := host[strings.LastIndexByte(host, ':'):]
	want := map[string]bool{
		t.base + "/.default":                     true,
		"https://localhost" + port + "/.default": true,
	}
	found := false
	for _, s := range strings.Fields(scope) {
		switch {
		case want[s]:
			found = true
		case s == "openid" || s == "profile" || s == "offline_access":
		default:
			return false
		}
	}
	return found
}

// jwtHeader is the part of a JWT header the authority reads.
type jwtHeader struct {
	Alg     string   `json:"alg"`
	X5t     string   `json:"x5t"`
	X5tS256 string   `json:"x5t#S256"`
	X5c     []string `json:"x5c"`
}

type jwtClaims struct {
	Aud json.RawMessage `json:"aud"`
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Exp int64           `json:"exp"`
}

func (c jwtClaims) audiences() ([]string, bool) {
	var one string
	if json.Unmarshal(c.Aud, &one) == nil {
		return []string{one}, true
	}
	var many []string
	if json.Unmarshal(c.Aud, &many) == nil {
		return many, true
	}
	return nil, false
}

// checkAssertion checks a client assertion and returns the AADSTS code and description of a
// refusal. An assertion the app issued itself (iss = client ID) is a certificate
// credential's; any other issuer must match a federated identity credential.
func (t *Tenant) checkAssertion(assertion, clientID string, grant *Grant) (int, string, bool) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return 700027, "Client assertion is not a JWT.", false
	}
	var hdr jwtHeader
	if !decodeSegment(parts[0], &hdr) {
		return 700027, "Client assertion header is malformed.", false
	}
	var claims jwtClaims
	if !decodeSegment(parts[1], &claims) {
		return 700027, "Client assertion payload is not base64url JSON.", false
	}
	auds, ok := claims.audiences()
	if !ok {
		return 700027, "Client assertion audience claim is malformed.", false
	}
	if claims.Exp != 0 && t.opts.Now().Unix() > claims.Exp {
		return 700024, "Client assertion is not within its valid time range.", false
	}
	if claims.Iss != clientID {
		return t.checkFederated(parts, hdr, claims, auds, grant)
	}
	if claims.Sub != "" && claims.Sub != clientID {
		return 700027, "Client assertion contains an invalid signature or issuer.", false
	}
	if !slices.ContainsFunc(auds, func(a string) bool {
		return a == t.tokenEndpoint() || a == t.base+"/"+t.opts.TenantID+"/v2.0"
	}) {
		return 700027, "Client assertion audience claim does not match Realm issuer.", false
	}
	grant.Method = "client_certificate"
	grant.CertificateChain = len(hdr.X5c) > 0
	t.mu.Lock()
	certs := slices.Clone(t.auth.certs)
	t.mu.Unlock()
	if len(certs) == 0 {
		// No certificate registered: the claims only, for tests that bring no key material.
		return 0, "", true
	}
	for _, c := range certs {
		if !thumbprintMatches(hdr, c.cert) {
			continue
		}
		if !signatureValid(hdr.Alg, parts, c.cert.PublicKey) {
			return 700027, "Client assertion failed signature validation.", false
		}
		if c.requireChain && !chainStartsWith(hdr.X5c, c.cert) {
			return 700027, "Client assertion failed signature validation. The application uses subject name and issuer authentication, which needs the certificate in the x5c header of the assertion.", false
		}
		sum := sha256.Sum256(c.cert.Raw)
		grant.Certificate = hex.EncodeToString(sum[:])
		return 0, "", true
	}
	return 700027, "Client assertion failed signature validation. [Reason - The key was not found.] Thumbprint of key used by client: '" + hdr.X5tS256 + hdr.X5t + "'.", false
}

func (t *Tenant) checkFederated(parts []string, hdr jwtHeader, claims jwtClaims, auds []string, grant *Grant) (int, string, bool) {
	t.mu.Lock()
	feds := slices.Clone(t.auth.federated)
	t.mu.Unlock()
	for _, f := range feds {
		if f.Issuer != claims.Iss || f.Subject != claims.Sub || !slices.Contains(auds, f.Audience) {
			continue
		}
		if f.Key != nil && !signatureValid(hdr.Alg, parts, f.Key) {
			return 700027, "Client assertion failed signature validation.", false
		}
		grant.Method = "federated"
		grant.Subject = claims.Sub
		return 0, "", true
	}
	return 70021, "No matching federated identity record found for presented assertion. Assertion Issuer: '" + claims.Iss +
		"'. Assertion Subject: '" + claims.Sub + "'. Assertion Audience: '" + strings.Join(auds, ",") + "'.", false
}

func decodeSegment(seg string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	return err == nil && json.Unmarshal(b, v) == nil
}

// decodeThumbprint accepts base64url, which RFC 7515 specifies, and standard base64, which
// MSAL sends.
func decodeThumbprint(s string) []byte {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b
		}
	}
	return nil
}

func thumbprintMatches(hdr jwtHeader, cert *x509.Certificate) bool {
	if hdr.X5tS256 != "" {
		sum := sha256.Sum256(cert.Raw)
		return bytes.Equal(decodeThumbprint(hdr.X5tS256), sum[:])
	}
	if hdr.X5t != "" {
		sum := sha1.Sum(cert.Raw)
		return bytes.Equal(decodeThumbprint(hdr.X5t), sum[:])
	}
	return false
}

// chainStartsWith reports whether the x5c header holds cert first; x5c entries are standard
// base64 DER (RFC 7515 section 4.1.6).
func chainStartsWith(x5c []string, cert *x509.Certificate) bool {
	if len(x5c) == 0 {
		return false
	}
	der, err := base64.StdEncoding.DecodeString(x5c[0])
	return err == nil && bytes.Equal(der, cert.Raw)
}

// signatureValid verifies a JWT's RS256 or PS256 signature with an RSA key: MSAL signs
// certificate assertions with PS256 (RS256 for ADFS), and Kubernetes service account tokens
// are RS256.
func signatureValid(alg string, parts []string, key crypto.PublicKey) bool {
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch alg {
	case "RS256":
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
	case "PS256":
		return rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
	}
	return false
}

// ManagedIdentities are the managed identities of a simulated Azure host.
type ManagedIdentities struct {
	// SystemAssigned: the host has a system-assigned identity (requests without client_id).
	SystemAssigned bool
	// UserAssigned are the client IDs of the user-assigned identities attached to the host.
	UserAssigned []string
	// Header is the secret App Service puts in IDENTITY_HEADER, which App Service style
	// requests must send back. Empty: only IMDS-style requests are answered.
	Header string
}

// IMDSPath is the path of the instance metadata service's token endpoint.
const IMDSPath = "/metadata/identity/oauth2/token"

// IdentityEndpoint serves the managed identity token protocols of an Azure host for the
// tenant: IMDS (GET IMDSPath with "Metadata: true") and App Service (GET on IDENTITY_ENDPOINT
// with X-IDENTITY-HEADER). Its tokens are valid on the tenant's Graph. Serve it over plain
// HTTP on loopback, as the real endpoints are plain HTTP on the host.
type IdentityEndpoint struct {
	t   *Tenant
	ids ManagedIdentities

	mu       sync.Mutex
	requests int
}

// NewIdentityEndpoint returns an identity endpoint for a host with the given identities.
func (t *Tenant) NewIdentityEndpoint(ids ManagedIdentities) *IdentityEndpoint {
	return &IdentityEndpoint{t: t, ids: ids}
}

// Requests returns how many requests the endpoint received.
func (e *IdentityEndpoint) Requests() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requests
}

func (e *IdentityEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.requests++
	e.mu.Unlock()
	fail := func(status int, code, desc string) {
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	q := r.URL.Query()
	switch {
	case r.Method != http.MethodGet:
		fail(http.StatusMethodNotAllowed, "invalid_request", "Only GET is supported.")
		return
	case r.URL.Path == IMDSPath:
		if r.Header.Get("Metadata") != "true" {
			fail(http.StatusBadRequest, "invalid_request", "Required metadata header not specified")
			return
		}
	case e.ids.Header == "" || r.Header.Get("X-IDENTITY-HEADER") != e.ids.Header:
		fail(http.StatusUnauthorized, "unauthorized", "The identity header is missing or wrong.")
		return
	}
	if q.Get("api-version") == "" {
		fail(http.StatusBadRequest, "invalid_request", "Required query variable 'api-version' is missing")
		return
	}
	resource := q.Get("resource")
	if !e.t.scopeOK(strings.TrimSuffix(resource, "/") + "/.default") {
		fail(http.StatusBadRequest, "invalid_resource", "AADSTS500011: The resource principal named "+resource+" was not found in the tenant.")
		return
	}
	clientID := q.Get("client_id")
	switch {
	case q.Get("mi_res_id") != "" || q.Get("msi_res_id") != "" || q.Get("object_id") != "" || q.Get("principal_id") != "":
		fail(http.StatusBadRequest, "invalid_request", "Only a client ID selects a user-assigned identity here.")
		return
	case clientID == "" && !e.ids.SystemAssigned:
		fail(http.StatusBadRequest, "invalid_request", "Identity not found: the host has no system-assigned identity.")
		return
	case clientID != "" && !slices.Contains(e.ids.UserAssigned, clientID):
		fail(http.StatusBadRequest, "invalid_request", "Identity not found: no user-assigned identity with client ID "+clientID+".")
		return
	}
	token, err := newAccessToken()
	if err != nil {
		fail(http.StatusInternalServerError, "server_error", "token generation failed")
		return
	}
	e.t.mu.Lock()
	exp := e.t.issueLocked(token, Grant{Method: "managed_identity", Scope: resource, Subject: clientID})
	e.t.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{
		"access_token": token,
		"client_id":    clientID,
		"expires_in":   strconv.Itoa(int(tokenLifetime / time.Second)),
		"expires_on":   strconv.FormatInt(exp.Unix(), 10),
		"resource":     resource,
		"token_type":   "Bearer",
	})
}

// tokenValid reports whether a bearer token was issued here and is unexpired.
func (t *Tenant) tokenValid(token string) (ok, expired bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	exp, ok := t.tokens[token]
	if !ok {
		return false, false
	}
	if !t.opts.Now().Before(exp) {
		return false, true
	}
	return true, false
}

// rememberTokenLocked records a new access token, first forgetting expired ones and, past
// maxTokens, the ones closest to expiry, so that a client fetching tokens in a loop cannot grow
// the map without bound. t.mu is held.
func (t *Tenant) rememberTokenLocked(token string, now time.Time) {
	if len(t.tokens) >= maxTokens {
		for tok, exp := range t.tokens {
			if !now.Before(exp) {
				delete(t.tokens, tok)
			}
		}
	}
	for len(t.tokens) >= maxTokens {
		var oldest string
		var oldestExp time.Time
		for tok, exp := range t.tokens {
			if oldest == "" || exp.Before(oldestExp) {
				oldest, oldestExp = tok, exp
			}
		}
		delete(t.tokens, oldest)
	}
	t.tokens[token] = now.Add(tokenLifetime)
}
