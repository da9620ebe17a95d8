package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string // substring
	}{
		{in: "0", want: 0},
		{in: "0s", want: 0},
		{in: "30s", want: 30 * time.Second},
		{in: "5m", want: 5 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "1d", want: 24 * time.Hour},
		{in: "1w", want: 7 * 24 * time.Hour},
		{in: "1y", want: 365 * 24 * time.Hour},
		{in: "1w2d3h4m5s6ms", want: 9*24*time.Hour + 3*time.Hour + 4*time.Minute + 5*time.Second + 6*time.Millisecond},
		{in: "90m", want: 90 * time.Minute},
		{in: "250ms", want: 250 * time.Millisecond},
		{in: "", wantErr: "empty duration"},
		{in: "-5m", wantErr: "negative durations are not allowed"},
		{in: "30", wantErr: "missing unit after 30"},
		{in: "1.5h", wantErr: `unknown or misplaced unit "."`},
		{in: "5 minutes", wantErr: `unknown or misplaced unit " minutes"`},
		{in: "30s1h", wantErr: `unknown or misplaced unit "h"`},
		{in: "1h1h", wantErr: `unknown or misplaced unit "h"`},
		{in: "h", wantErr: "use whole numbers"},
		{in: "1H", wantErr: `unknown or misplaced unit "H"`},
		{in: "99999999999y", wantErr: "too large"},
		{in: "106751d23h47m16s854ms", want: 106751*24*time.Hour + 23*time.Hour + 47*time.Minute + 16*time.Second + 854*time.Millisecond},
		{in: "106751d23h47m16s855ms", wantErr: "too large"},
		{in: "99999999999999999999s", wantErr: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseDuration(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || time.Duration(got) != tt.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v", tt.in, time.Duration(got), err, tt.want)
			}
		})
	}
}

func TestDurationString(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{90 * time.Minute, "1h30m"},
		{24 * time.Hour, "1d"},
		{7 * 24 * time.Hour, "1w"},
		{8 * 24 * time.Hour, "8d"},
		{30 * 24 * time.Hour, "30d"},
		{14 * 24 * time.Hour, "2w"},
		{366 * 24 * time.Hour, "1y1d"},
		{1500 * time.Millisecond, "1s500ms"},
		{-time.Minute, "-1m"},
		{time.Second + time.Microsecond, "1s+1µs"},
	}
	for _, tt := range tests {
		if got := Duration(tt.in).String(); got != tt.want {
			t.Errorf("Duration(%v).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A marshalled configuration (check-config prints one) loads back to the same values.
func TestDurationYAMLRoundTrip(t *testing.T) {
	in := Config{Tenants: []Tenant{{TenantID: "contoso.onmicrosoft.com", Credential: Credential{Type: CredentialAzureCLI},
		SignIns: SignIns{PollInterval: d("90s"), Lookback: d("30d"), UserWindows: []Duration{d("1h"), d("1w")}}}}}
	in.ApplyDefaults()
	out, err := yaml.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "poll_interval: 1m30s\n") || !strings.Contains(string(out), "lookback: 30d\n") {
		t.Errorf("marshalled:\n%s", out)
	}
	back, err := Parse(out, "marshalled.yml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !reflect.DeepEqual(back, &in) {
		t.Errorf("round trip:\n%+v\nwant\n%+v", back, in)
	}
	var txt Duration
	if err := txt.UnmarshalText([]byte("2h")); err != nil || txt != d("2h") {
		t.Errorf("UnmarshalText: %v, %v", txt, err)
	}
	if err := txt.UnmarshalText([]byte("2 hours")); err == nil {
		t.Error("UnmarshalText accepted garbage")
	}
}

// Whatever ParseDuration accepts, String writes back in a form that parses to the same value.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{"0", "1h30m", "1w2d", "1y", "250ms", "-1m", "1.5h", "30s1h", "99999999999y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseDuration(s)
		if err != nil {
			return
		}
		if v < 0 {
			t.Fatalf("ParseDuration(%q) = negative %d", s, v)
		}
		back, err := ParseDuration(v.String())
		if err != nil || back != v {
			t.Fatalf("ParseDuration(%q) = %d, String %q parses to %d, %v", s, v, v.String(), back, err)
		}
	})
}
