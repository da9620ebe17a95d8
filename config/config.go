// Package config holds the exporter's YAML configuration: its types, defaults, the table of
// Microsoft clouds, strict loading, validation and a holder that supports reloading.
//
// Every mistake in a file is reported with the file name, the line and the key path, and all
// mistakes are reported at once, so an operator fixes a config in one round instead of one
// error per restart.
package config

import (
	"strings"
	"time"
)

// Config is the whole configuration file.
type Config struct {
	Tenants []Tenant `yaml:"tenants"`
}

// Tenant is one Entra ID tenant to read sign-in logs from.
type Tenant struct {
	// Name is the value of the `tenant` label; it defaults to TenantID.
	Name string `yaml:"name"`
	// TenantID is a GUID or a verified domain such as contoso.onmicrosoft.com.
	TenantID string `yaml:"tenant_id"`
	// Cloud is public (default), usgov, usgov_dod, china or custom.
	Cloud string `yaml:"cloud"`
	// AuthorityHost is the login authority. Only set by hand for cloud custom; otherwise
	// ApplyDefaults fills it from the cloud table.
	AuthorityHost string `yaml:"authority_host"`
	// GraphEndpoint is the Microsoft Graph root (no path, no trailing slash). Only set by hand
	// for cloud custom; otherwise ApplyDefaults fills it from the cloud table.
	GraphEndpoint string `yaml:"graph_endpoint"`
	// CAFile is an optional PEM bundle trusted for the authority and Graph, for private test
	// environments whose certificates do not chain to a public root.
	CAFile       string       `yaml:"ca_file"`
	Credential   Credential   `yaml:"credential"`
	SignIns      SignIns      `yaml:"sign_ins"`
	Registration Registration `yaml:"registration"`
	Coverage     Coverage     `yaml:"coverage"`
	Detections   Detections   `yaml:"detections"`
}

// Credential says how the exporter authenticates to the tenant. Secrets are never written in
// the file itself: they come from an environment variable or a file, so the config can be
// committed and shown in a review without leaking anything.
type Credential struct {
	// Type is client_secret, client_certificate, workload_identity, managed_identity,
	// azure_cli, environment or default.
	Type                    string `yaml:"type"`
	ClientID                string `yaml:"client_id"`
	ClientSecretEnv         string `yaml:"client_secret_env"`
	ClientSecretFile        string `yaml:"client_secret_file"`
	CertificateFile         string `yaml:"certificate_file"`
	CertificatePasswordEnv  string `yaml:"certificate_password_env"`
	CertificatePasswordFile string `yaml:"certificate_password_file"`
	SendCertificateChain    bool   `yaml:"send_certificate_chain"`
	// FederatedTokenFile is for workload_identity; when empty, azidentity reads
	// AZURE_FEDERATED_TOKEN_FILE at use time.
	FederatedTokenFile string `yaml:"federated_token_file"`
}

// SignIns tunes how the sign-in log is polled. A zero value means "use the default".
type SignIns struct {
	PollInterval Duration `yaml:"poll_interval"`
	// SettleDelay keeps rows younger than this out of the counts, because Entra fills in the
	// authentication details of a fresh row minutes after it first appears.
	SettleDelay Duration `yaml:"settle_delay"`
	// ReconcileDelay is how long after rows settled a reconcile pass reads their time range
	// again: Entra sometimes makes a row visible well after its createdDateTime, and the
	// regular poll has already moved past it by then.
	ReconcileDelay Duration `yaml:"reconcile_delay"`
	// ReconcileInterval is how often the reconcile pass runs. It is bounded by poll_interval
	// (running it more often re-reads ranges no poll has closed yet) and by reconcile_delay
	// (running it less often than that leaves ranges no pass ever re-reads).
	ReconcileInterval Duration `yaml:"reconcile_interval"`
	// Lookback is how far back the first poll starts.
	Lookback    Duration   `yaml:"lookback"`
	EventTypes  []string   `yaml:"event_types"`
	UserWindows []Duration `yaml:"user_windows"`
}

// Registration tunes the MFA registration collector, which reads the
// userRegistrationDetails report and the user list. A zero value means "use the default".
type Registration struct {
	// Enabled is a pointer so that an explicit `enabled: false` can be told apart from an
	// absent key, whose default is true. Use IsEnabled to read it.
	Enabled *bool `yaml:"enabled"`
	// Interval between refreshes. Microsoft rebuilds the report only every few hours, so
	// polling it often spends the tenant's request budget for nothing.
	Interval Duration `yaml:"interval"`
}

// IsEnabled reports whether the registration collector runs; true unless set to false.
func (r Registration) IsEnabled() bool { return r.Enabled == nil || *r.Enabled }

// Credential types.
const (
	CredentialClientSecret      = "client_secret"
	CredentialClientCertificate = "client_certificate"
	CredentialWorkloadIdentity  = "workload_identity"
	CredentialManagedIdentity   = "managed_identity"
	CredentialAzureCLI          = "azure_cli"
	CredentialEnvironment       = "environment"
	CredentialDefault           = "default"
)

// Event types accepted in sign_ins.event_types.
const (
	EventTypeInteractive    = "interactive"
	EventTypeNonInteractive = "non_interactive"
)

// CloudCustom is the cloud name for an authority and Graph given explicitly in the file.
const CloudCustom = "custom"

// Cloud is one row of the table of Microsoft clouds.
type Cloud struct{ Name, AuthorityHost, GraphEndpoint string }

// The authority keeps its trailing slash because azcore's cloud.Configuration expects one;
// the Graph endpoint has none because request paths are appended to it.
var clouds = []Cloud{
	{Name: "public", AuthorityHost: "https://login.microsoftonline.com/", GraphEndpoint: "https://graph.microsoft.com"},
	{Name: "usgov", AuthorityHost: "https://login.microsoftonline.us/", GraphEndpoint: "https://graph.microsoft.us"},
	{Name: "usgov_dod", AuthorityHost: "https://login.microsoftonline.us/", GraphEndpoint: "https://dod-graph.microsoft.us"},
	{Name: "china", AuthorityHost: "https://login.chinacloudapi.cn/", GraphEndpoint: "https://microsoftgraph.chinacloudapi.cn"},
}

// Clouds returns the known Microsoft clouds (not custom). The slice is a copy.
func Clouds() []Cloud {
	return append([]Cloud(nil), clouds...)
}

func lookupCloud(name string) (Cloud, bool) {
	for _, c := range clouds {
		if c.Name == name {
			return c, true
		}
	}
	return Cloud{}, false
}

func cloudNames() []string {
	names := make([]string, 0, len(clouds)+1)
	for _, c := range clouds {
		names = append(names, c.Name)
	}
	return append(names, CloudCustom)
}

// IsCustomCloud reports whether the tenant uses an authority outside Microsoft's table; the
// credential must then disable instance discovery, which only knows Microsoft's authorities.
func (t Tenant) IsCustomCloud() bool { return t.Cloud == CloudCustom }

// Defaults.
const (
	DefaultPollInterval = Duration(time.Minute)
	DefaultSettleDelay  = Duration(5 * time.Minute)
	DefaultLookback     = Duration(time.Hour)

	DefaultReconcileDelay    = Duration(15 * time.Minute)
	DefaultReconcileInterval = Duration(5 * time.Minute)

	DefaultRegistrationInterval = Duration(time.Hour)
)

// DefaultEventTypes and DefaultUserWindows return fresh slices so callers cannot alter the
// defaults of every later config.
func DefaultEventTypes() []string { return []string{EventTypeInteractive} }

// DefaultUserWindows returns the default windows of the distinct-user gauges: 1h and 24h.
func DefaultUserWindows() []Duration {
	return []Duration{Duration(time.Hour), Duration(24 * time.Hour)}
}

// ApplyDefaults fills every empty field that has a default. It is idempotent and leaves
// values it cannot interpret (an unknown cloud) for Validate to report.
func (c *Config) ApplyDefaults() {
	for i := range c.Tenants {
		t := &c.Tenants[i]
		if t.Name == "" {
			t.Name = t.TenantID
		}
		if t.Cloud == "" {
			t.Cloud = clouds[0].Name
		}
		if known, ok := lookupCloud(t.Cloud); ok {
			if t.AuthorityHost == "" {
				t.AuthorityHost = known.AuthorityHost
			}
			if t.GraphEndpoint == "" {
				t.GraphEndpoint = known.GraphEndpoint
			}
		} else if t.IsCustomCloud() {
			// Normalised so that a hand-written URL compares and joins like the table's.
			if t.AuthorityHost != "" && !strings.HasSuffix(t.AuthorityHost, "/") {
				t.AuthorityHost += "/"
			}
			t.GraphEndpoint = strings.TrimSuffix(t.GraphEndpoint, "/")
		}
		s := &t.SignIns
		if s.PollInterval == 0 {
			s.PollInterval = DefaultPollInterval
		}
		if s.SettleDelay == 0 {
			s.SettleDelay = DefaultSettleDelay
		}
		if s.ReconcileDelay == 0 {
			s.ReconcileDelay = DefaultReconcileDelay
		}
		if s.ReconcileInterval == 0 {
			s.ReconcileInterval = DefaultReconcileInterval
		}
		if s.Lookback == 0 {
			s.Lookback = DefaultLookback
		}
		if len(s.EventTypes) == 0 {
			s.EventTypes = DefaultEventTypes()
		}
		if len(s.UserWindows) == 0 {
			s.UserWindows = DefaultUserWindows()
		}
		r := &t.Registration
		if r.Enabled == nil {
			r.Enabled = new(true)
		}
		if r.Interval == 0 {
			r.Interval = DefaultRegistrationInterval
		}
	}
}
