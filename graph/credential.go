package graph

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

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
