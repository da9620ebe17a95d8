package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Whatever Parse accepts is a valid configuration: Validate finds nothing in it, and applying
// the defaults again changes nothing. Parse itself must never panic or hang, whatever the
// text. The seeds are every configuration under testdata, good and bad; `go test` runs them,
// `go test ./config -fuzz FuzzParse` explores from them.
func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*", "*.yml"))
	if err != nil {
		f.Fatal(err)
	}
	if len(seeds) == 0 {
		f.Fatal("no seed configurations under testdata")
	}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Relative paths in the seeds resolve as they do for the fixtures themselves.
	filename := filepath.Join("testdata", "good", "fuzz.yml")
	f.Fuzz(func(t *testing.T, data []byte) {
		t.Setenv(contosoSecretEV, testSecret)
		cfg, err := Parse(data, filename)
		if err != nil {
			if cfg != nil {
				t.Fatalf("Parse returned a configuration and an error: %v", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse accepted a configuration that Validate rejects: %v\n%s", err, data)
		}
		again := *cfg
		again.Tenants = append([]Tenant(nil), cfg.Tenants...)
		again.ApplyDefaults()
		if !reflect.DeepEqual(&again, cfg) {
			t.Fatalf("defaults were not fully applied:\n%+v\nafter ApplyDefaults:\n%+v", cfg, again)
		}
	})
}
