// Package graphclient builds a tenant's Microsoft Graph client from its configuration: the
// HTTP transport, the azidentity credential and the request budget. The exporter's collector
// and the report command both use it, so they connect and authenticate alike and share one set
// of budget constants. It is the one package that knows both config and graph, which do not
// import each other.
package graphclient

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
)

// Graph's budget for the identity and access reports (sign-ins, registration details):
// TenantRequests per GraphWindow for one app in one tenant, AppRequests per GraphWindow for one
// app across all its tenants.
const (
	TenantRequests = 5
	AppRequests    = 122
	GraphWindow    = 10 * time.Second
	// WindowMargin widens the pacers' window: a pacer counts a request when it starts, Graph
	// when it arrives, and a slow TLS handshake on one request and a fast one on the next would
	// otherwise put one request too many inside Graph's ten seconds.
	WindowMargin = 500 * time.Millisecond
	// PacerWindow is the window the pacers enforce.
	PacerWindow = GraphWindow + WindowMargin
)

// NewTenantPacer returns a pacer for one tenant's budget. Every client of the tenant in one
// process must share it.
func NewTenantPacer() *graph.Pacer { return graph.NewPacer(TenantRequests, PacerWindow) }

// NewAppPacer returns a pacer for the app registration's budget across tenants.
func NewAppPacer() *graph.Pacer { return graph.NewPacer(AppRequests, PacerWindow) }

// Options are the parts of a Graph client that do not come from the tenant's configuration.
type Options struct {
	Pacer    *graph.Pacer // the tenant's budget; nil: NewTenantPacer()
	AppPacer *graph.Pacer // the app registration's budget across tenants; nil: none
	Observer graph.Observer
	Logger   *slog.Logger // nil: discard
	// Adjust, if set, edits the Graph client's options last (tests shorten retry delays).
	Adjust func(*graph.Options)

	// wrapTransport, if set, wraps the HTTP transport (tests record or redirect requests).
	wrapTransport func(http.RoundTripper) http.RoundTripper
}

// New builds the credential and Graph client of tenant t.
func New(t config.Tenant, o Options) (*graph.Client, error) {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("tenant", t.Name)
	hc, err := HTTPClient(t)
	if err != nil {
		return nil, err
	}
	if o.wrapTransport != nil {
		hc.Transport = o.wrapTransport(hc.Transport)
	}
	cred, err := newCredential(t, hc, logger)
	if err != nil {
		return nil, err
	}
	pacer := o.Pacer
	if pacer == nil {
		pacer = NewTenantPacer()
	}
	opts := graph.Options{
		GraphEndpoint: t.GraphEndpoint,
		Credential:    cred,
		HTTPClient:    hc,
		Pacer:         pacer,
		AppPacer:      o.AppPacer,
		Observer:      o.Observer,
		Logger:        logger,
	}
	if o.Adjust != nil {
		o.Adjust(&opts)
	}
	return graph.New(opts)
}

// HTTPClient returns the HTTP client for the tenant's authority and Graph: token requests and
// Graph requests go through the same transport, which trusts the tenant's ca_file besides the
// system's roots.
func HTTPClient(t config.Tenant) (*http.Client, error) {
	roots, err := t.RootCAs()
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	return &http.Client{Transport: &http.Transport{
		Proxy:       http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		// RootCAs nil means the system's roots.
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: 15 * time.Second,
		// Graph starts answering within seconds even for a 15 MB page; a silent server is cut
		// here rather than by the request's overall timeout.
		ResponseHeaderTimeout: 2 * time.Minute,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		// One tenant's client holds at most a few requests at once (the budget is five per ten
		// seconds), to Graph and to the authority.
		MaxIdleConnsPerHost: 4,
		ForceAttemptHTTP2:   true,
	}}, nil
}

// newCredential builds the tenant's azidentity credential. Secrets and certificates that live in
// files (or variables) are read again before every token request, so a secret rotated in place,
// as Kubernetes rotates mounted secrets, is used from the next token request on, without a reload.
func newCredential(t config.Tenant, hc *http.Client, logger *slog.Logger) (azcore.TokenCredential, error) {
	c := t.Credential
	base := graph.CredentialOptions{
		Type:                     c.Type,
		TenantID:                 t.TenantID,
		ClientID:                 c.ClientID,
		FederatedTokenFile:       c.FederatedTokenFile,
		SendCertificateChain:     c.SendCertificateChain,
		AuthorityHost:            t.AuthorityHost,
		DisableInstanceDiscovery: t.IsCustomCloud(),
		HTTPClient:               hc,
	}
	var load func() (graph.CredentialOptions, error)
	switch c.Type {
	case config.CredentialClientSecret:
		load = func() (graph.CredentialOptions, error) {
			o := base
			secret, err := c.Secret()
			if err != nil {
				return o, fmt.Errorf("%s: %w", sourceKey("client_secret_env", c.ClientSecretEnv, "client_secret_file"), err)
			}
			o.ClientSecret = secret
			return o, nil
		}
	case config.CredentialClientCertificate:
		load = func() (graph.CredentialOptions, error) {
			o := base
			cert, err := c.CertificateData()
			if err != nil {
				return o, fmt.Errorf("credential.certificate_file: %w", err)
			}
			password, err := c.CertificatePassword()
			if err != nil {
				return o, fmt.Errorf("%s: %w", sourceKey("certificate_password_env", c.CertificatePasswordEnv, "certificate_password_file"), err)
			}
			o.Certificate, o.CertificatePassword = cert, password
			return o, nil
		}
	default:
		// The other types hold no secret of ours: azidentity reads the federated token file,
		// the identity endpoint or the Azure CLI itself, each time it needs a token.
		return graph.NewCredential(base)
	}
	return graph.NewReloadingCredential(load, func() {
		logger.Info("credential file changed; new tokens are requested with its new contents", "credential", c.Type)
	})
}

// sourceKey names the configuration key a secret came from, for errors at run time, when the
// file's line is no longer at hand.
func sourceKey(envKey, env, fileKey string) string {
	if env != "" {
		return "credential." + envKey
	}
	return "credential." + fileKey
}
