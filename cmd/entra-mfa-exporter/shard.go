package main

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
)

// shard selects the tenants one replica serves when tenants are split across replicas (one app
// registration's 122 requests per 10 s serve about 24 busy tenants; see the README's capacity
// notes). The assignment is a hash of the tenant name, so it does not depend on the order of the
// configuration file and every replica can share one file.
type shard struct{ index, count int } // index is 1-based

func parseShard(s string) (shard, error) {
	k, n, ok := strings.Cut(s, "/")
	if !ok {
		return shard{}, fmt.Errorf("want K/N, got %q", s)
	}
	index, err1 := strconv.Atoi(k)
	count, err2 := strconv.Atoi(n)
	if err1 != nil || err2 != nil || count < 1 || index < 1 || index > count {
		return shard{}, fmt.Errorf("want K/N with 1 <= K <= N, got %q", s)
	}
	return shard{index: index, count: count}, nil
}

func (s shard) String() string { return fmt.Sprintf("%d/%d", s.index, s.count) }

func (s shard) owns(tenant string) bool {
	if s.count <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(tenant))
	return int(h.Sum32()%uint32(s.count))+1 == s.index
}

// filter returns a copy of cfg with only this shard's tenants.
func (s shard) filter(cfg *config.Config) *config.Config {
	out := *cfg
	out.Tenants = nil
	for _, t := range cfg.Tenants {
		if s.owns(t.Name) {
			out.Tenants = append(out.Tenants, t)
		}
	}
	return &out
}
