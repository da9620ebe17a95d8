package main

import (
	"fmt"
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
