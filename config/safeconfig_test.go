package config

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSafeConfigReload(t *testing.T) {
	setTestEnv(t)
	reg := prometheus.NewPedanticRegistry()
	s := NewSafeConfig(reg)
	clock := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }

	if s.Get() != nil {
		t.Fatal("Get before any load is not nil")
	}
	good := filepath.Join("testdata", "good", "minimal.yml")
	first, err := s.Reload(good)
	if err != nil {
		t.Fatalf("Reload(good): %v", err)
	}
	if first == nil || first.Tenants[0].Name != "contoso.onmicrosoft.com" {
		t.Fatalf("Reload(good) returned %+v", first)
	}
	if s.Get() != first {
		t.Fatal("Get after Reload does not return what Reload loaded")
	}
	expect := func(successful float64, ts time.Time) {
		t.Helper()
		want := "# HELP entra_exporter_config_last_reload_success_timestamp_seconds Timestamp of the last successful configuration reload.\n" +
			"# TYPE entra_exporter_config_last_reload_success_timestamp_seconds gauge\n" +
			"entra_exporter_config_last_reload_success_timestamp_seconds " + formatFloat(float64(ts.Unix())) + "\n" +
			"# HELP entra_exporter_config_last_reload_successful Whether the last configuration reload attempt was successful (1) or not (0).\n" +
			"# TYPE entra_exporter_config_last_reload_successful gauge\n" +
			"entra_exporter_config_last_reload_successful " + formatFloat(successful) + "\n"
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
			t.Error(err)
		}
	}
	expect(1, clock)

	firstLoad := clock
	clock = clock.Add(time.Hour)
	got, err := s.Reload(filepath.Join("testdata", "bad", "poll-interval-too-short.yml"))
	if got != nil {
		t.Error("a failed Reload returned a configuration")
	}
	if err == nil || !strings.Contains(err.Error(), "poll-interval-too-short.yml:6: tenants[0].sign_ins.poll_interval") {
		t.Fatalf("Reload(bad) = %v", err)
	}
	if s.Get() != first {
		t.Error("a failed reload replaced the config")
	}
	expect(0, firstLoad) // the timestamp stays at the last success

	if _, err := s.Reload(filepath.Join(t.TempDir(), "missing.yml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Reload(missing) = %v", err)
	}
	expect(0, firstLoad)

	clock = clock.Add(time.Hour)
	second, err := s.Reload(good)
	if err != nil {
		t.Fatal(err)
	}
	if second == first || s.Get() != second {
		t.Error("a successful reload kept the old pointer")
	}
	expect(1, clock)

	clock = clock.Add(time.Minute)
	built := &Config{Tenants: []Tenant{{TenantID: "demo.onmicrosoft.com", Credential: Credential{Type: CredentialAzureCLI}}}}
	s.Set(built)
	if s.Get() != built {
		t.Error("Set did not make the config current")
	}
	expect(1, clock)
}

func TestNewSafeConfigWithoutRegistry(t *testing.T) {
	s := NewSafeConfig(nil)
	s.Set(&Config{})
	if s.Get() == nil {
		t.Error("Set without a registry did not store the config")
	}
	if got := testutil.ToFloat64(s.successful); got != 1 {
		t.Errorf("successful = %v", got)
	}
}

// GatherAndCompare parses the expected text, so any valid float spelling compares equal.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// A failed reload's error goes to the log: a secret pasted into the wrong field must not.
func TestSafeConfigReloadErrorIsRedacted(t *testing.T) {
	setTestEnv(t)
	s := NewSafeConfig(nil)
	_, err := s.Reload(filepath.Join("testdata", "redact", "secret-in-env-key.yml"))
	if err == nil {
		t.Fatal("Reload accepted the fixture")
	}
	if strings.Contains(err.Error(), "hunter2-correct-horse") {
		t.Errorf("the reload error shows the secret: %v", err)
	}
	if !strings.Contains(err.Error(), "secret-in-env-key.yml:8: tenants[0].credential.client_secret_env") {
		t.Errorf("the reload error lost the file, line or key: %v", err)
	}
}
