package simtenant

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

const (
	tokenLifetime         = 3599 * time.Second
	clientAssertionType   = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	grantClientCredential = "client_credentials"
)

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
	switch {
	case form.Get("client_assertion") != "":
		if form.Get("client_assertion_type") != clientAssertionType {
			t.writeAADError(w, http.StatusBadRequest, "invalid_request", 50027,
				"AADSTS50027: JWT token is invalid or malformed (client_assertion_type).")
			return
		}
		if desc, ok := t.checkAssertion(form.Get("client_assertion"), clientID); !ok {
			t.writeAADError(w, http.StatusUnauthorized, "invalid_client", 700027, "AADSTS700027: "+desc)
			return
		}
	case form.Get("client_secret") != "":
		if form.Get("client_secret") != t.opts.ClientSecret {
			t.writeAADError(w, http.StatusUnauthorized, "invalid_client", 7000215,
				"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+clientID+"'.")
			return
		}
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
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		t.writeAADError(w, http.StatusInternalServerError, "server_error", 90033, "AADSTS90033: A transient error has occurred.")
		return
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	t.mu.Lock()
	t.rememberTokenLocked(token, t.opts.Now())
	t.stats.TokensIssued++
	t.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     int(tokenLifetime / time.Second),
		"ext_expires_in": int(tokenLifetime / time.Second),
		"access_token":   token,
	})
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

// checkAssertion accepts a certificate credential's client assertion by its
// claims only. Verifying the signature would need the app's registered
// certificate, which a loopback simulator does not have.
func (t *Tenant) checkAssertion(assertion, clientID string) (string, bool) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return "Client assertion is not a JWT.", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "Client assertion payload is not base64url.", false
	}
	var claims struct {
		Aud json.RawMessage `json:"aud"`
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Exp int64           `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "Client assertion payload is not JSON.", false
	}
	if claims.Iss != clientID || (claims.Sub != "" && claims.Sub != clientID) {
		return "Client assertion contains an invalid signature or issuer.", false
	}
	var auds []string
	var one string
	if json.Unmarshal(claims.Aud, &one) == nil {
		auds = []string{one}
	} else if json.Unmarshal(claims.Aud, &auds) != nil {
		return "Client assertion audience claim is malformed.", false
	}
	for _, a := range auds {
		if a == t.tokenEndpoint() || a == t.base+"/"+t.opts.TenantID+"/v2.0" {
			if claims.Exp != 0 && t.opts.Now().Unix() > claims.Exp {
				return "Client assertion has expired.", false
			}
			return "", true
		}
	}
	return "Client assertion audience claim does not match Realm issuer.", false
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
