package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/bad/*.err from the current output")

// Values the fixtures must never see in an error message.
const (
	testSecret      = "test-secret-value-from-env"
	fileSecret      = "contoso-client-secret-value"
	inlineSecret    = "hunter2-do-not-leak"
	contosoSecretEV = "ENTRA_CONTOSO_CLIENT_SECRET"
)

func setTestEnv(t *testing.T) {
	t.Helper()
	t.Setenv(contosoSecretEV, testSecret)
	t.Setenv("ENTRA_TEST_SECRET", testSecret)
	t.Setenv("ENTRA_TEST_EMPTY_SECRET", "")
	t.Setenv("ENTRA_TEST_UNSET_SECRET", "")
	os.Unsetenv("ENTRA_TEST_UNSET_SECRET") // t.Setenv above restores it after the test
}

func d(s string) Duration {
	v, err := ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return v
}

func defaultSignIns() SignIns {
	return SignIns{
		PollInterval: d("1m"), SettleDelay: d("5m"), ReconcileDelay: d("15m"), ReconcileInterval: d("5m"), Lookback: d("1h"),
		EventTypes: []string{"interactive"}, UserWindows: []Duration{d("1h"), d("24h")},
	}
}

func defaultRegistration() Registration {
	return Registration{Enabled: new(true), Interval: d("1h")}
}

func TestLoadGood(t *testing.T) {
	setTestEnv(t)
	secrets := filepath.Join("testdata", "good", "secrets")
	tests := map[string]*Config{
		"minimal.yml": {Tenants: []Tenant{{
			Name: "contoso.onmicrosoft.com", TenantID: "contoso.onmicrosoft.com", Cloud: "public",
			AuthorityHost: "https://login.microsoftonline.com/", GraphEndpoint: "https://graph.microsoft.com",
			Credential:   Credential{Type: "client_secret", ClientID: "0b8a3c52-5f0e-4d2c-9a3e-1f6b2c7d8e90", ClientSecretEnv: contosoSecretEV},
			SignIns:      defaultSignIns(),
			Registration: defaultRegistration(),
		}}},
		"custom-cloud-pem.yml": {Tenants: []Tenant{{
			Name: "sim", TenantID: "11111111-2222-4333-8444-555555555555", Cloud: "custom",
			AuthorityHost: "https://127.0.0.1:9443/", GraphEndpoint: "https://127.0.0.1:9444",
			CAFile: filepath.Join(secrets, "lab-ca.pem"),
			Credential: Credential{Type: "client_certificate", ClientID: "11111111-2222-4333-8444-666666666666",
				CertificateFile: filepath.Join(secrets, "fabrikam-exporter.pem")},
			SignIns: SignIns{PollInterval: d("10s"), SettleDelay: d("30s"), ReconcileDelay: d("1m"), ReconcileInterval: d("10s"),
				Lookback: d("30d"), EventTypes: []string{"non_interactive"}, UserWindows: []Duration{d("1m"), d("1w")}},
			Registration: Registration{Enabled: new(false), Interval: d("1h")},
		}, {
			Name: "contoso.onmicrosoft.com", TenantID: "contoso.onmicrosoft.com", Cloud: "usgov_dod",
			AuthorityHost: "https://login.microsoftonline.us/", GraphEndpoint: "https://dod-graph.microsoft.us",
			Credential:   Credential{Type: "azure_cli"},
			SignIns:      defaultSignIns(),
			Registration: defaultRegistration(),
		}}},
		"anchors.yml": {Tenants: []Tenant{{
			Name: "contoso", TenantID: "contoso.onmicrosoft.com", Cloud: "public",
			AuthorityHost: "https://login.microsoftonline.com/", GraphEndpoint: "https://graph.microsoft.com",
			Credential: Credential{Type: "client_secret", ClientID: "0b8a3c52-5f0e-4d2c-9a3e-1f6b2c7d8e90", ClientSecretEnv: contosoSecretEV},
			SignIns: SignIns{PollInterval: d("2m"), SettleDelay: d("5m"), ReconcileDelay: d("15m"), ReconcileInterval: d("4m"),
				Lookback: d("1h"), EventTypes: []string{"interactive", "non_interactive"}, UserWindows: []Duration{d("1h"), d("24h")}},
			Registration: Registration{Enabled: new(false), Interval: d("1h")},
		}, {
			Name: "contoso-eu", TenantID: "6f4e2a1c-93b7-4d58-a0e1-2c7b9d3f5a68", Cloud: "public",
			AuthorityHost: "https://login.microsoftonline.com/", GraphEndpoint: "https://graph.microsoft.com",
			Credential: Credential{Type: "client_secret", ClientID: "0b8a3c52-5f0e-4d2c-9a3e-1f6b2c7d8e90", ClientSecretEnv: contosoSecretEV},
			SignIns: SignIns{PollInterval: d("3m"), SettleDelay: d("5m"), ReconcileDelay: d("15m"), ReconcileInterval: d("4m"),
				Lookback: d("1h"), EventTypes: []string{"interactive", "non_interactive"}, UserWindows: []Duration{d("1h")}},
			Registration: defaultRegistration(),
		}}},
		"example.yml": {Tenants: []Tenant{{
			Name: "contoso", TenantID: "6f4e2a1c-93b7-4d58-a0e1-2c7b9d3f5a68", Cloud: "public",
			AuthorityHost: "https://login.microsoftonline.com/", GraphEndpoint: "https://graph.microsoft.com",
			Credential: Credential{Type: "client_secret", ClientID: "0b8a3c52-5f0e-4d2c-9a3e-1f6b2c7d8e90", ClientSecretEnv: contosoSecretEV},
			SignIns: SignIns{PollInterval: d("1m"), SettleDelay: d("5m"), ReconcileDelay: d("15m"), ReconcileInterval: d("5m"),
				Lookback: d("1h"), EventTypes: []string{"interactive", "non_interactive"}, UserWindows: []Duration{d("1h"), d("1d"), d("7d")}},
			Registration: defaultRegistration(),
			Coverage:     Coverage{MaxPolicies: 300, MaxApplications: 500},
			Detections:   exampleDetections(),
		}, {
			Name: "fabrikam-gov", TenantID: "fabrikam.onmicrosoft.us", Cloud: "usgov",
			AuthorityHost: "https://login.microsoftonline.us/", GraphEndpoint: "https://graph.microsoft.us",
			Credential: Credential{Type: "client_certificate", ClientID: "5d1e7c3a-2b4f-4a8e-9c6d-0e1f2a3b4c5d",
				CertificateFile:         filepath.Join(secrets, "fabrikam-exporter.p12"),
				CertificatePasswordFile: filepath.Join(secrets, "fabrikam-exporter.p12.password"),
				SendCertificateChain:    true},
			SignIns:      defaultSignIns(),
			Registration: defaultRegistration(),
		}, {
			Name: "tailspin", TenantID: "tailspintoys.onmicrosoft.com", Cloud: "public",
			AuthorityHost: "https://login.microsoftonline.com/", GraphEndpoint: "https://graph.microsoft.com",
			Credential: Credential{Type: "workload_identity", ClientID: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
				FederatedTokenFile: filepath.Join(secrets, "federated-token")},
			SignIns:      defaultSignIns(),
			Registration: defaultRegistration(),
		}, {
			Name: "woodgrove", TenantID: "3c9f2d1e-8b7a-4c6d-9e5f-0a1b2c3d4e5f", Cloud: "china",
			AuthorityHost: "https://login.chinacloudapi.cn/", GraphEndpoint: "https://microsoftgraph.chinacloudapi.cn",
			Credential:   Credential{Type: "managed_identity", ClientID: "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9"},
			SignIns:      defaultSignIns(),
			Registration: defaultRegistration(),
		}, {
			Name: "lab", TenantID: "00000000-0000-4000-8000-000000000001", Cloud: "custom",
			AuthorityHost: "https://login.lab.example.internal:8443/", GraphEndpoint: "https://graph.lab.example.internal:8444",
			CAFile: filepath.Join(secrets, "lab-ca.pem"),
			Credential: Credential{Type: "client_secret", ClientID: "00000000-0000-4000-8000-0000000000aa",
				ClientSecretFile: filepath.Join(secrets, "contoso-client-secret")},
			SignIns:      defaultSignIns(),
			Registration: defaultRegistration(),
		}}},
	}
	files, err := filepath.Glob(filepath.Join("testdata", "good", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(tests) {
		t.Errorf("testdata/good has %d files but the table checks %d: add the new fixture to the table", len(files), len(tests))
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			want, ok := tests[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			got, err := Load(file)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load(%s) =\n%+v\nwant\n%+v", file, got, want)
			}
			// A loaded config is already defaulted: defaulting again must change nothing.
			again := *got
			again.Tenants = append([]Tenant(nil), got.Tenants...)
			again.ApplyDefaults()
			if !reflect.DeepEqual(&again, want) {
				t.Errorf("ApplyDefaults is not idempotent:\n%+v", again)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate on a loaded config: %v", err)
			}
		})
	}
}

// Every testdata/bad/X.yml fails with exactly the text of testdata/bad/X.err.
func TestLoadBad(t *testing.T) {
	setTestEnv(t)
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			cfg, err := Load(file)
			if err == nil {
				t.Fatalf("Load succeeded: %+v", cfg)
			}
			if cfg != nil {
				t.Errorf("Load returned a config with an error")
			}
			got := err.Error()
			for _, secret := range []string{testSecret, fileSecret, inlineSecret} {
				if strings.Contains(got, secret) {
					t.Errorf("error leaks a secret value: %s", got)
				}
			}
			golden := strings.TrimSuffix(file, ".yml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("missing expected error: %v", err)
			}
			if got != strings.TrimSuffix(string(want), "\n") {
				t.Errorf("error mismatch\n got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestMultipleErrorsAreJoinedInFileOrder(t *testing.T) {
	setTestEnv(t)
	_, err := Load(filepath.Join("testdata", "bad", "multiple-errors.yml"))
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error is not a joined error: %T", err)
	}
	type loc struct {
		line int
		path string
	}
	var got []loc
	for _, e := range joined.Unwrap() {
		var ce *Error
		if !errors.As(e, &ce) {
			t.Fatalf("%v is not a *config.Error", e)
		}
		if ce.File != filepath.Join("testdata", "bad", "multiple-errors.yml") {
			t.Errorf("File = %q", ce.File)
		}
		got = append(got, loc{ce.Line, ce.Path})
	}
	want := []loc{
		{4, "tenants[0].tenant_id"},
		{10, "tenants[0].credential.clientsecret_file"},
		{12, "tenants[0].sign_ins.poll_interval"},
		{13, "tenants[0].sign_ins.event_types[1]"},
		{14, "tenants[1].name"},
		{18, "tenants[1].credential.client_secret_env"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors at %v, want %v", got, want)
	}
}

func TestParseUsesFilenameAndResolvesPaths(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := []byte("tenants:\n  - tenant_id: contoso.onmicrosoft.com\n    credential:\n      type: client_secret\n" +
		"      client_id: 0b8a3c52-5f0e-4d2c-9a3e-1f6b2c7d8e90\n      client_secret_file: secret\n")
	cfg, err := Parse(data, filepath.Join(dir, "exporter.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Tenants[0].Credential.ClientSecretFile, filepath.Join(dir, "secret"); got != want {
		t.Errorf("client_secret_file = %q, want %q", got, want)
	}
	_, err = Parse(append(data, "    sign_ins: {poll_interval: 1s}\n"...), "config.yml")
	want := `config.yml:6: tenants[0].credential.client_secret_file: read secret file: open secret: no such file or directory` + "\n" +
		`config.yml:7: tenants[0].sign_ins.poll_interval: must be at least 10s (got "1s")`
	if err == nil || err.Error() != want {
		t.Errorf("Parse error:\n%v\nwant:\n%s", err, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file = %v, want an error wrapping os.ErrNotExist", err)
	}
}

func TestValidateInCode(t *testing.T) {
	good := func() *Config {
		return &Config{Tenants: []Tenant{{
			TenantID: "contoso.onmicrosoft.com", Credential: Credential{Type: CredentialAzureCLI},
		}}}
	}
	tests := []struct {
		name     string
		modify   func(*Config)
		defaults bool
		want     string
	}{
		{name: "defaulted", defaults: true},
		{name: "settle delay zero is allowed in code", defaults: true, modify: func(c *Config) { c.Tenants[0].SignIns.SettleDelay = 0 }},
		{name: "not defaulted", want: strings.Join([]string{
			`tenants[0].name: is required`,
			`tenants[0].cloud: must be one of public, usgov, usgov_dod, china, custom (got "")`,
			`tenants[0].sign_ins.poll_interval: must be at least 10s (got "0s")`,
			`tenants[0].sign_ins.reconcile_delay: must be at least 1m (got "0s")`,
			`tenants[0].sign_ins.lookback: must be positive (got "0s")`,
			`tenants[0].sign_ins.event_types: must list at least one of interactive, non_interactive`,
			`tenants[0].sign_ins.user_windows: must list at least one window`,
			`tenants[0].registration.interval: must be at least 5m (got "0s")`,
		}, "\n")},
		{name: "registration disabled in code", defaults: true, modify: func(c *Config) {
			c.Tenants[0].Registration = Registration{Enabled: new(false)}
		}},
		{name: "registration enabled by default in code", defaults: true, modify: func(c *Config) {
			if !c.Tenants[0].Registration.IsEnabled() || c.Tenants[0].Registration.Interval != DefaultRegistrationInterval {
				t.Errorf("defaults: %+v", c.Tenants[0].Registration)
			}
			c.Tenants[0].Registration.Interval = Duration(4 * time.Minute)
		}, want: `tenants[0].registration.interval: must be at least 5m (got "4m")`},
		{name: "negative durations", defaults: true, modify: func(c *Config) {
			c.Tenants[0].SignIns.SettleDelay = Duration(-time.Minute)
			c.Tenants[0].SignIns.UserWindows = []Duration{Duration(-time.Hour)}
		}, want: strings.Join([]string{
			`tenants[0].sign_ins.settle_delay: must not be negative (got "-1m")`,
			`tenants[0].sign_ins.user_windows[0]: must be between 1m and 1w (got "-1h")`,
		}, "\n")},
		{name: "no tenants", modify: func(c *Config) { c.Tenants = nil }, want: `tenants: at least one tenant is required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			if tt.defaults {
				c.ApplyDefaults()
			}
			if tt.modify != nil {
				tt.modify(c)
			}
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("Validate:\n%v\nwant:\n%s", err, tt.want)
			}
		})
	}
}

func TestCloudsAndCustom(t *testing.T) {
	got := Clouds()
	want := []Cloud{
		{"public", "https://login.microsoftonline.com/", "https://graph.microsoft.com"},
		{"usgov", "https://login.microsoftonline.us/", "https://graph.microsoft.us"},
		{"usgov_dod", "https://login.microsoftonline.us/", "https://dod-graph.microsoft.us"},
		{"china", "https://login.chinacloudapi.cn/", "https://microsoftgraph.chinacloudapi.cn"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Clouds() = %v", got)
	}
	got[0].GraphEndpoint = "https://evil.example"
	if Clouds()[0].GraphEndpoint != "https://graph.microsoft.com" {
		t.Error("Clouds() exposes the package's table")
	}
	if !(Tenant{Cloud: "custom"}).IsCustomCloud() || (Tenant{Cloud: "public"}).IsCustomCloud() || (Tenant{}).IsCustomCloud() {
		t.Error("IsCustomCloud")
	}
}
