package graph

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// CredentialOptions selects and configures an azidentity credential.
type CredentialOptions struct {
	Type                     string // client_secret | client_certificate | workload_identity | managed_identity | azure_cli | environment | default
	TenantID, ClientID       string
	ClientSecret             string
	Certificate              []byte // PEM or PKCS#12, parsed by azidentity.ParseCertificates
	CertificatePassword      []byte
	SendCertificateChain     bool
	FederatedTokenFile       string
	AuthorityHost            string       // "https://login.microsoftonline.com/" etc.; empty: azidentity's default
	DisableInstanceDiscovery bool         // required with a non-Microsoft (e.g. local test) authority
	HTTPClient               *http.Client // transport for token requests (custom CA); nil: default
}

// NewCredential builds the credential named by o.Type. Errors name the type and the missing
// setting but never echo a secret.
func NewCredential(o CredentialOptions) (azcore.TokenCredential, error) {
	co := azcore.ClientOptions{Telemetry: policy.TelemetryOptions{ApplicationID: userAgent}}
	if o.AuthorityHost != "" {
		co.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: o.AuthorityHost, Services: map[cloud.ServiceName]cloud.ServiceConfiguration{}}
	}
	if o.HTTPClient != nil {
		co.Transport = o.HTTPClient
	}
	cred, err := newCredential(o, co)
	if err != nil {
		return nil, fmt.Errorf("graph: %s credential: %w", o.Type, err)
	}
	return cred, nil
}

func newCredential(o CredentialOptions, co azcore.ClientOptions) (azcore.TokenCredential, error) {
	switch o.Type {
	case "client_secret":
		if err := require("tenant ID", o.TenantID, "client ID", o.ClientID, "client secret", o.ClientSecret); err != nil {
			return nil, err
		}
		return azidentity.NewClientSecretCredential(o.TenantID, o.ClientID, o.ClientSecret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions: co, DisableInstanceDiscovery: o.DisableInstanceDiscovery,
		})
	case "client_certificate":
		if err := require("tenant ID", o.TenantID, "client ID", o.ClientID); err != nil {
			return nil, err
		}
		if len(o.Certificate) == 0 {
			return nil, errors.New("no certificate")
		}
		certs, key, err := azidentity.ParseCertificates(o.Certificate, o.CertificatePassword)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate (PEM or PKCS#12): %w", err)
		}
		return azidentity.NewClientCertificateCredential(o.TenantID, o.ClientID, certs, key, &azidentity.ClientCertificateCredentialOptions{
			ClientOptions: co, DisableInstanceDiscovery: o.DisableInstanceDiscovery, SendCertificateChain: o.SendCertificateChain,
		})
	case "workload_identity":
		// Empty fields fall back to the AZURE_* variables the workload identity webhook injects.
		return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: co, ClientID: o.ClientID, TenantID: o.TenantID, TokenFilePath: o.FederatedTokenFile,
			DisableInstanceDiscovery: o.DisableInstanceDiscovery,
		})
	case "managed_identity":
		mo := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: co}
		if o.ClientID != "" {
			// A user-assigned identity; without an ID the system-assigned one is used.
			mo.ID = azidentity.ClientID(o.ClientID)
		}
		return azidentity.NewManagedIdentityCredential(mo)
	case "azure_cli":
		return azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: o.TenantID})
	case "environment":
		return azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{
			ClientOptions: co, DisableInstanceDiscovery: o.DisableInstanceDiscovery,
		})
	case "default":
		return azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			ClientOptions: co, DisableInstanceDiscovery: o.DisableInstanceDiscovery, TenantID: o.TenantID,
		})
	case "":
		return nil, errors.New("no credential type given")
	}
	return nil, fmt.Errorf("unknown credential type %q (want client_secret, client_certificate, workload_identity, managed_identity, azure_cli, environment or default)", o.Type)
}

// NewReloadingCredential returns a credential whose secret material can change while it runs:
// a client secret or certificate file that Kubernetes (or an operator) rotates in place. Before
// every token request it calls load, which returns the options as they are now (it re-reads the
// files); when the secret, certificate or password differs from what the current credential was
// built with, a new credential replaces it, so the next token is requested with the new secret
// rather than when the cached token expires, up to an hour later. The contents are compared,
// not modification times: Kubernetes swaps a symbolic link, and a file rewritten twice within a
// timestamp's resolution keeps its time. changed, if not nil, is called after each replacement
// (to log it; it gets no secret).
func NewReloadingCredential(load func() (CredentialOptions, error), changed func()) (azcore.TokenCredential, error) {
	r := &reloadingCredential{load: load, changed: changed}
	if _, err := r.current(); err != nil {
		return nil, err
	}
	return r, nil
}

type reloadingCredential struct {
	load    func() (CredentialOptions, error)
	changed func()

	mu    sync.Mutex
	cred  azcore.TokenCredential
	sum   [sha256.Size]byte // of the material cred was built with; the material itself is not kept
	built bool
}

func (r *reloadingCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	cred, err := r.current()
	if err != nil {
		return azcore.AccessToken{}, err
	}
	return cred.GetToken(ctx, opts)
}

// current re-reads the material and returns the credential built from it.
func (r *reloadingCredential) current() (azcore.TokenCredential, error) {
	o, err := r.load()
	if err != nil {
		return nil, fmt.Errorf("graph: reading the credential's secret: %w", err)
	}
	sum := materialSum(o)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.built && sum == r.sum {
		return r.cred, nil
	}
	cred, err := NewCredential(o)
	if err != nil {
		return nil, err
	}
	replaced := r.built
	r.cred, r.sum, r.built = cred, sum, true
	if replaced && r.changed != nil {
		r.changed()
	}
	return cred, nil
}

// materialSum hashes the parts of o that rotate, each prefixed by its length so that moving
// bytes from one to the next changes the sum.
func materialSum(o CredentialOptions) [sha256.Size]byte {
	h := sha256.New()
	for _, b := range [][]byte{[]byte(o.Type), []byte(o.ClientSecret), o.Certificate, o.CertificatePassword} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// require checks name/value pairs and names every missing setting at once.
func require(pairs ...string) error {
	var missing []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			missing = append(missing, pairs[i])
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	return nil
}
