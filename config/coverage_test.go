package config

import (
	"strings"
	"testing"
)

// The defaults are the figures the README states; a set value is taken as is.
func TestCoverageLimits(t *testing.T) {
	for _, tc := range []struct {
		in                   Coverage
		policies, applicants int
	}{
		{Coverage{}, 300, 500},
		{Coverage{MaxPolicies: 1, MaxApplications: 10000}, 1, 10000},
		{Coverage{MaxApplications: 7}, 300, 7},
	} {
		if got := tc.in.Policies(); got != tc.policies {
			t.Errorf("%+v.Policies() = %d, want %d", tc.in, got, tc.policies)
		}
		if got := tc.in.Applications(); got != tc.applicants {
			t.Errorf("%+v.Applications() = %d, want %d", tc.in, got, tc.applicants)
		}
	}
}

// Validation of a configuration built in code names the key path (there is no line to give).
func TestCoverageValidateInCode(t *testing.T) {
	cfg := &Config{Tenants: []Tenant{{TenantID: "contoso.onmicrosoft.com", Credential: Credential{Type: CredentialAzureCLI},
		Coverage: Coverage{MaxPolicies: 10001, MaxApplications: -5}}}}
	cfg.ApplyDefaults()
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate accepted caps outside 1..10000")
	}
	for _, want := range []string{
		"tenants[0].coverage.max_policies: must be between 1 and 10000 (got 10001)",
		"tenants[0].coverage.max_applications: must be between 1 and 10000 (got -5)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	cfg.Tenants[0].Coverage = Coverage{MaxPolicies: 10000, MaxApplications: 1}
	if err := cfg.Validate(); err != nil {
		t.Errorf("the bounds themselves are valid: %v", err)
	}
}

// Integers are YAML 1.2 integers (decimal, or 0x/0o/0b), within int32; floats, strings and larger
// numbers are refused with the key and line.
func TestCoverageIntegerSpellings(t *testing.T) {
	for _, tc := range []struct {
		value string
		n     int
		want  string
	}{
		{"250", 250, ""},
		{"0x10", 16, ""},
		{"010", 10, ""}, // YAML 1.2: a leading zero is not octal
		{"2.5", 0, `expected an integer, got the number 2.5`},
		{`"300"`, 0, `expected an integer, got "300"`},
		{"99999999999", 0, `99999999999 is not an integer between -2147483648 and 2147483647`},
		{"20000", 0, `must be between 1 and 10000 (got 20000)`},
	} {
		doc := "tenants:\n  - tenant_id: contoso.onmicrosoft.com\n    credential: {type: azure_cli}\n    coverage:\n      max_policies: " + tc.value + "\n"
		cfg, err := Parse([]byte(doc), "c.yml")
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.value, err)
		case tc.want == "" && cfg.Tenants[0].Coverage.Policies() != tc.n:
			t.Errorf("%s: got %d, want %d", tc.value, cfg.Tenants[0].Coverage.Policies(), tc.n)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), "c.yml:5: tenants[0].coverage.max_policies: "+tc.want)):
			t.Errorf("%s: error %v, want %q at line 5", tc.value, err, tc.want)
		}
	}
}
