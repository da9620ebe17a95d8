package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
)

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want shard
		ok   bool
	}{
		{"1/1", shard{1, 1}, true},
		{"2/3", shard{2, 3}, true},
		{"0/3", shard{}, false},
		{"4/3", shard{}, false},
		{"1", shard{}, false},
		{"a/b", shard{}, false},
		{"1/0", shard{}, false},
	} {
		got, err := parseShard(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseShard(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// Every tenant is served by exactly one shard, and the split is roughly even.
func TestShardsPartitionTenants(t *testing.T) {
	cfg := &config.Config{}
	for i := range 300 {
		cfg.Tenants = append(cfg.Tenants, config.Tenant{Name: fmt.Sprintf("tenant-%03d", i)})
	}
	owner := map[string]int{}
	for k := 1; k <= 3; k++ {
		sub := shard{k, 3}.filter(cfg)
		if len(sub.Tenants) < 70 || len(sub.Tenants) > 130 {
			t.Errorf("shard %d/3 has %d of 300 tenants: uneven", k, len(sub.Tenants))
		}
		for _, tn := range sub.Tenants {
			owner[tn.Name]++
		}
	}
	for _, tn := range cfg.Tenants {
		if owner[tn.Name] != 1 {
			t.Errorf("tenant %s served by %d shards", tn.Name, owner[tn.Name])
		}
	}
}

// The shard of a tenant must not change between releases: replicas of two versions, during a
// rolling update, would otherwise both serve some tenants and neither serve others. The table
// was computed by an independent implementation of the documented hash (FNV-1a, 32 bits, over
// the name's UTF-8 bytes; offset basis 2166136261, prime 16777619; shard = hash mod N + 1), not
// by this code. "a" is FNV-1a's published test vector 0xe40c292c.
func TestShardAssignmentIsStable(t *testing.T) {
	for _, tc := range []struct {
		name       string
		hash       uint32 // for the reader checking the table by hand
		n2, n3, n5 int
	}{
		{"a", 0xe40c292c, 1, 2, 1},
		{"contoso", 0xf9e1dfa0, 1, 3, 3},
		{"fabrikam", 0xbd55b4a6, 1, 3, 1},
		{"northwind", 0xdfced8ea, 1, 1, 5},
		{"adatum", 0xa5d4d50f, 2, 3, 1},
		{"tailspin", 0xf422dbff, 2, 3, 3},
		{"woodgrove", 0x5e0a349f, 2, 1, 1},
		{"litware", 0x9046d84b, 2, 2, 1},
		{"Contoso", 0x2d052440, 1, 1, 1}, // names are case-sensitive
		{"contoso.onmicrosoft.com", 0x1754ca5e, 1, 2, 4},
		{"7d5c2f1e-3b4a-4c8d-9e0f-1a2b3c4d5e6f", 0x4fcb8591, 2, 3, 1},
	} {
		for _, c := range []struct{ count, want int }{{1, 1}, {2, tc.n2}, {3, tc.n3}, {5, tc.n5}} {
			for k := 1; k <= c.count; k++ {
				if got, want := (shard{k, c.count}).owns(tc.name), k == c.want; got != want {
					t.Errorf("shard %d/%d owns %q = %v, want %v (hash %#08x)", k, c.count, tc.name, got, want, tc.hash)
				}
			}
		}
	}
}

// --tenants.shard reaches run() and survives a reload: a tenant outside the shard is never
// applied nor polled, before or after the reload. Shards from TestShardAssignmentIsStable:
// contoso and fabrikam are in 1/2, adatum and tailspin in 2/2.
func TestShardFilterThroughRunAndReload(t *testing.T) {
	sim := startSim(t)
	file := filepath.Join(t.TempDir(), "config.yml")
	writeFile(t, file, sim.config("contoso", "adatum"))
	base, stderr := startExporter(t, "--config.file="+file, "--tenants.shard=1/2", "--web.enable-lifecycle")
	waitReady(t, base, stderr) // contoso has polled
	if got := appliedTenants(t, base); !slices.Equal(got, []string{"contoso"}) {
		t.Errorf("shard 1/2 runs %v, want [contoso]", got)
	}
	if got := polledTenants(t, base); !slices.Equal(got, []string{"contoso"}) {
		t.Errorf("shard 1/2 polled %v, want [contoso]", got)
	}

	writeFile(t, file, sim.config("contoso", "adatum", "fabrikam", "tailspin"))
	if code, body := postReload(t, base); code != http.StatusOK {
		t.Fatalf("reload: %d %s", code, body)
	}
	// The reload has been applied when POST returns.
	if got := appliedTenants(t, base); !slices.Equal(got, []string{"contoso", "fabrikam"}) {
		t.Errorf("after the reload shard 1/2 runs %v, want [contoso fabrikam]", got)
	}
	waitReady(t, base, stderr) // fabrikam has polled too
	if got := polledTenants(t, base); !slices.Equal(got, []string{"contoso", "fabrikam"}) {
		t.Errorf("after the reload shard 1/2 polled %v, want [contoso fabrikam]", got)
	}
}

// A shard that no configured tenant falls in has nothing to wait for: it is ready at once (a
// replica that is never ready would be restarted forever by Kubernetes), and it says so in the
// log.
func TestEmptyShardIsReady(t *testing.T) {
	sim := startSim(t)
	file := filepath.Join(t.TempDir(), "config.yml")
	writeFile(t, file, sim.config("adatum", "tailspin")) // both in shard 2/2
	base, stderr := startExporter(t, "--config.file="+file, "--tenants.shard=1/2")
	waitFor(t, "the exporter to answer", stderr, func() bool { return status(base+"/-/healthy") == http.StatusOK })
	if s := status(base + "/-/ready"); s != http.StatusOK {
		t.Errorf("/-/ready of an empty shard: %d, want 200", s)
	}
	if got := appliedTenants(t, base); len(got) != 0 {
		t.Errorf("an empty shard runs %v", got)
	}
	if !strings.Contains(stderr.String(), "no configured tenant falls in this replica's shard") {
		t.Errorf("an empty shard is not reported in the log:\n%s", stderr.String())
	}
}
