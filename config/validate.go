package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Limits of the sign_ins section.
const (
	MinPollInterval = Duration(10 * time.Second)
	// MaxLookback is the sign-in log retention of P1/P2 tenants: Graph has nothing older.
	MaxLookback   = Duration(30 * 24 * time.Hour)
	MinUserWindow = Duration(time.Minute)
	MaxUserWindow = Duration(7 * 24 * time.Hour)
	// MinReconcileDelay leaves Entra time to make late rows visible; a shorter delay re-reads
	// a range that is still filling.
	MinReconcileDelay = Duration(time.Minute)
	// MaxReconcileDelay bounds how long the collector remembers the ids of rows it counted,
	// which is what keeps the reconcile pass from counting them twice.
	MaxReconcileDelay = Duration(24 * time.Hour)
)

// MinRegistrationInterval keeps the registration collector from spending the tenant's shared
// request budget on a report that Microsoft refreshes only every few hours.
const MinRegistrationInterval = Duration(5 * time.Minute)

var (
	guidRE       = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	domainRE     = regexp.MustCompile(`^(?i)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	tenantNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,64}$`)
)

var credentialTypes = []string{
	CredentialClientSecret, CredentialClientCertificate, CredentialWorkloadIdentity,
	CredentialManagedIdentity, CredentialAzureCLI, CredentialEnvironment, CredentialDefault,
}

// credentialKeys lists, per credential type, the keys of the credential section that mean
// something for it. A key set for a type that ignores it is rejected: it almost always means
// the operator expected it to take effect (a secret file next to managed_identity, say).
var credentialKeys = map[string][]string{
	CredentialClientSecret:      {"client_id", "client_secret_env", "client_secret_file"},
	CredentialClientCertificate: {"client_id", "certificate_file", "certificate_password_env", "certificate_password_file", "send_certificate_chain"},
	CredentialWorkloadIdentity:  {"client_id", "federated_token_file"},
	CredentialManagedIdentity:   {"client_id"},
	CredentialAzureCLI:          nil,
	CredentialEnvironment:       nil,
	CredentialDefault:           nil,
}

// Validate checks the whole configuration and returns every mistake, joined. Call
// ApplyDefaults first on a Config built in code: empty fields that have defaults are errors here.
// It reads the referenced secret, certificate and CA files and environment variables to make
// sure they are usable, but never includes their contents in an error.
func (c *Config) Validate() error {
	errs := c.validate()
	if len(errs) == 0 {
		return nil
	}
	joined := make([]error, len(errs))
	for i, e := range errs {
		joined[i] = e
	}
	return errors.Join(joined...)
}

func (c *Config) validate() errorList {
	var errs errorList
	if len(c.Tenants) == 0 {
		errs.add("tenants", "at least one tenant is required")
	}
	names := map[string]int{}
	for i, t := range c.Tenants {
		p := fmt.Sprintf("tenants[%d]", i)
		t.validate(p, &errs)
		if t.Name != "" {
			if first, dup := names[t.Name]; dup {
				errs.add(p+".name", "duplicate tenant name %q (already used by tenants[%d]); set a distinct name", t.Name, first)
			} else {
				names[t.Name] = i
			}
		}
	}
	return errs
}

func (t Tenant) validate(p string, errs *errorList) {
	switch {
	case t.TenantID == "":
		errs.add(p+".tenant_id", "is required")
	case !guidRE.MatchString(t.TenantID) && !domainRE.MatchString(t.TenantID):
		errs.add(p+".tenant_id", "must be a GUID or a verified domain such as contoso.onmicrosoft.com (got %q)", t.TenantID)
	}
	switch {
	case t.Name == "" && t.TenantID == "":
		// Reported as a missing tenant_id, which the name defaults to.
	case t.Name == "":
		errs.add(p+".name", "is required")
	case !tenantNameRE.MatchString(t.Name):
		errs.add(p+".name", "must be 1 to 64 characters among letters, digits, '_', '.' and '-' (got %q)", t.Name)
	}
	t.validateCloud(p, errs)
	if t.CAFile != "" {
		if err := checkCAFile(t.CAFile); err != nil {
			errs.add(p+".ca_file", "%v", err)
		}
	}
	t.Credential.validate(p+".credential", errs)
	t.SignIns.validate(p+".sign_ins", errs)
	t.Registration.validate(p+".registration", errs)
	t.Coverage.validate(p+".coverage", errs)
	t.Detections.validate(p+".detections", errs)
}

func (t Tenant) validateCloud(p string, errs *errorList) {
	if t.IsCustomCloud() {
		if t.AuthorityHost == "" {
			errs.add(p+".authority_host", "is required when cloud is custom")
		} else if err := checkHTTPSURL(t.AuthorityHost, true); err != nil {
			errs.add(p+".authority_host", "%v", err)
		}
		if t.GraphEndpoint == "" {
			errs.add(p+".graph_endpoint", "is required when cloud is custom")
		} else if err := checkHTTPSURL(t.GraphEndpoint, false); err != nil {
			errs.add(p+".graph_endpoint", "%v", err)
		}
		return
	}
	known, ok := lookupCloud(t.Cloud)
	if !ok {
		errs.add(p+".cloud", "must be one of %s (got %q)", strings.Join(cloudNames(), ", "), t.Cloud)
		return
	}
	// ApplyDefaults copies the table's values in, so only a different value is a mistake.
	if t.AuthorityHost != "" && t.AuthorityHost != known.AuthorityHost {
		errs.add(p+".authority_host", "must be empty unless cloud is custom (cloud %s uses %s)", t.Cloud, known.AuthorityHost)
	}
	if t.GraphEndpoint != "" && t.GraphEndpoint != known.GraphEndpoint {
		errs.add(p+".graph_endpoint", "must be empty unless cloud is custom (cloud %s uses %s)", t.Cloud, known.GraphEndpoint)
	}
}

// checkHTTPSURL accepts only https: the bearer token and client secret travel to these hosts.
// The Graph endpoint must have no path because the client appends /beta/... to it.
func checkHTTPSURL(raw string, pathAllowed bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a valid URL: %w", err)
	}
	switch {
	case u.Scheme != "https":
		return fmt.Errorf("must be an https:// URL (got %q)", raw)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("must include a host name (got %q)", raw)
	case u.User != nil:
		return fmt.Errorf("must not contain credentials")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("must not have a query or fragment (got %q)", raw)
	case !pathAllowed && u.Path != "" && u.Path != "/":
		return fmt.Errorf("must have no path, e.g. https://graph.example.com (got %q)", raw)
	}
	return nil
}

func (c Credential) validate(p string, errs *errorList) {
	allowed, known := credentialKeys[c.Type]
	switch {
	case c.Type == "":
		errs.add(p+".type", "is required; one of %s", strings.Join(credentialTypes, ", "))
		return
	case !known:
		errs.add(p+".type", "must be one of %s (got %q)", strings.Join(credentialTypes, ", "), c.Type)
		return
	}
	for _, k := range c.setKeys() {
		if !slices.Contains(allowed, k) {
			errs.add(p+"."+k, "does not apply to credential type %s", c.Type)
		}
	}
	if c.ClientID != "" && !guidRE.MatchString(c.ClientID) {
		// Only reported where client_id applies; otherwise the line above already rejected it.
		if slices.Contains(allowed, "client_id") {
			errs.add(p+".client_id", "must be the application (client) ID, a GUID (got %q)", c.ClientID)
		}
	}
	switch c.Type {
	case CredentialClientSecret:
		if c.ClientID == "" {
			errs.add(p+".client_id", "is required for credential type %s", c.Type)
		}
		switch {
		case c.ClientSecretEnv == "" && c.ClientSecretFile == "":
			errs.add(p, "credential type client_secret needs client_secret_env or client_secret_file")
		case c.ClientSecretEnv != "" && c.ClientSecretFile != "":
			errs.add(p, "set only one of client_secret_env and client_secret_file")
		default:
			if _, err := c.Secret(); err != nil {
				errs.add(p+"."+c.secretKey(), "%v", err)
			}
		}
	case CredentialClientCertificate:
		if c.ClientID == "" {
			errs.add(p+".client_id", "is required for credential type %s", c.Type)
		}
		c.validateCertificate(p, errs)
	case CredentialWorkloadIdentity:
		if c.FederatedTokenFile != "" {
			if err := statFile(c.FederatedTokenFile); err != nil {
				errs.add(p+".federated_token_file", "%v", err)
			}
		}
	}
}

func (c Credential) validateCertificate(p string, errs *errorList) {
	if c.CertificateFile == "" {
		errs.add(p+".certificate_file", "is required for credential type %s", c.Type)
		return
	}
	password, err := c.CertificatePassword()
	if err != nil {
		key := "certificate_password_env"
		switch {
		case c.CertificatePasswordEnv != "" && c.CertificatePasswordFile != "":
			key = ""
		case c.CertificatePasswordFile != "":
			key = "certificate_password_file"
		}
		if key == "" {
			errs.add(p, "%v", err)
		} else {
			errs.add(p+"."+key, "%v", err)
		}
		return
	}
	data, err := c.CertificateData()
	if err != nil {
		errs.add(p+".certificate_file", "%v", err)
		return
	}
	if _, _, err := azidentity.ParseCertificates(data, password); err != nil {
		errs.add(p+".certificate_file", "%s is not a PEM file with certificate and private key nor a PKCS#12 bundle that the given password opens: %v", c.CertificateFile, err)
	}
}

func (c Credential) secretKey() string {
	if c.ClientSecretEnv != "" {
		return "client_secret_env"
	}
	return "client_secret_file"
}

// setKeys returns the YAML keys of the fields that hold a non-zero value, in declaration order.
func (c Credential) setKeys() []string {
	fields := []struct {
		key string
		set bool
	}{
		{"client_id", c.ClientID != ""},
		{"client_secret_env", c.ClientSecretEnv != ""},
		{"client_secret_file", c.ClientSecretFile != ""},
		{"certificate_file", c.CertificateFile != ""},
		{"certificate_password_env", c.CertificatePasswordEnv != ""},
		{"certificate_password_file", c.CertificatePasswordFile != ""},
		{"send_certificate_chain", c.SendCertificateChain},
		{"federated_token_file", c.FederatedTokenFile != ""},
	}
	var keys []string
	for _, f := range fields {
		if f.set {
			keys = append(keys, f.key)
		}
	}
	return keys
}

func (s SignIns) validate(p string, errs *errorList) {
	if s.PollInterval < MinPollInterval {
		errs.add(p+".poll_interval", "must be at least %s (got %q)", MinPollInterval, s.PollInterval)
	}
	if s.SettleDelay < 0 {
		errs.add(p+".settle_delay", "must not be negative (got %q)", s.SettleDelay)
	}
	delayOK := false
	switch {
	case s.ReconcileDelay < MinReconcileDelay:
		errs.add(p+".reconcile_delay", "must be at least %s (got %q)", MinReconcileDelay, s.ReconcileDelay)
	case s.ReconcileDelay > MaxReconcileDelay:
		errs.add(p+".reconcile_delay", "must be at most %s (got %q)", MaxReconcileDelay, s.ReconcileDelay)
	default:
		delayOK = true
	}
	switch {
	case s.ReconcileInterval < s.PollInterval:
		errs.add(p+".reconcile_interval", "must be at least poll_interval (%s) (got %q)", s.PollInterval, s.ReconcileInterval)
	case delayOK && s.ReconcileInterval > s.ReconcileDelay:
		errs.add(p+".reconcile_interval", "must be at most reconcile_delay (%s) (got %q)", s.ReconcileDelay, s.ReconcileInterval)
	}
	switch {
	case s.Lookback <= 0:
		errs.add(p+".lookback", "must be positive (got %q)", s.Lookback)
	case s.Lookback > MaxLookback:
		errs.add(p+".lookback", "must be at most %s, the sign-in log retention (got %q)", MaxLookback, s.Lookback)
	}
	if len(s.EventTypes) == 0 {
		errs.add(p+".event_types", "must list at least one of %s, %s", EventTypeInteractive, EventTypeNonInteractive)
	}
	seenTypes := map[string]int{}
	for i, et := range s.EventTypes {
		ip := fmt.Sprintf("%s.event_types[%d]", p, i)
		if et != EventTypeInteractive && et != EventTypeNonInteractive {
			errs.add(ip, "must be %s or %s (got %q)", EventTypeInteractive, EventTypeNonInteractive, et)
			continue
		}
		if first, dup := seenTypes[et]; dup {
			errs.add(ip, "duplicate event type %q (already at event_types[%d])", et, first)
			continue
		}
		seenTypes[et] = i
	}
	if len(s.UserWindows) == 0 {
		errs.add(p+".user_windows", "must list at least one window")
	}
	seenWindows := map[Duration]int{}
	for i, w := range s.UserWindows {
		ip := fmt.Sprintf("%s.user_windows[%d]", p, i)
		if w < MinUserWindow || w > MaxUserWindow {
			errs.add(ip, "must be between %s and %s (got %q)", MinUserWindow, MaxUserWindow, w)
			continue
		}
		if first, dup := seenWindows[w]; dup {
			errs.add(ip, "duplicate window %q (already at user_windows[%d])", w, first)
			continue
		}
		seenWindows[w] = i
	}
}

func (r Registration) validate(p string, errs *errorList) {
	// Only an enabled collector needs a usable interval; a disabled block may keep whatever
	// value it had so it can be switched back on by flipping one key.
	if r.IsEnabled() && r.Interval < MinRegistrationInterval {
		errs.add(p+".interval", "must be at least %s (got %q)", MinRegistrationInterval, r.Interval)
	}
}
