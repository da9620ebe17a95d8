package main

import (
	"io"
	"slices"
	"testing"
)

// --demo listens on 127.0.0.1 unless --web.listen-address is given; without --demo the
// default stays on every interface, as a Prometheus exporter's does.
func TestParseArgsListenAddress(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{":9905"}},
		{[]string{"--demo"}, []string{"127.0.0.1:9905"}},
		{[]string{"serve", "--demo"}, []string{"127.0.0.1:9905"}},
		{[]string{"--demo", "--web.listen-address=:9999"}, []string{":9999"}},
		// Asking explicitly for the default address is honoured too.
		{[]string{"--demo", "--web.listen-address=:9905"}, []string{":9905"}},
		{[]string{"--web.listen-address=0.0.0.0:1", "--web.listen-address=[::1]:2", "--demo"}, []string{"0.0.0.0:1", "[::1]:2"}},
		{[]string{"--web.listen-address=127.0.0.2:9905"}, []string{"127.0.0.2:9905"}},
	} {
		c, err := parseArgs(tc.args, io.Discard, io.Discard)
		if err != nil {
			t.Fatalf("parseArgs(%q): %v", tc.args, err)
		}
		if got := *c.server.web.WebListenAddresses; !slices.Equal(got, tc.want) {
			t.Errorf("parseArgs(%q): listen on %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestParseArgsServeOptions(t *testing.T) {
	c, err := parseArgs(nil, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.command != commandServe || c.server.enableLifecycle || c.server.shard != (shard{1, 1}) || c.configFile != "entra-mfa-exporter.yml" {
		t.Errorf("defaults: command %q, lifecycle %v, shard %v, config %q", c.command, c.server.enableLifecycle, c.server.shard, c.configFile)
	}
	c, err = parseArgs([]string{"--web.enable-lifecycle", "--tenants.shard=2/3", "--config.file=x.yml"}, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !c.server.enableLifecycle || c.server.shard != (shard{2, 3}) || c.configFile != "x.yml" {
		t.Errorf("lifecycle %v, shard %v, config %q", c.server.enableLifecycle, c.server.shard, c.configFile)
	}
	if _, err := parseArgs([]string{"--tenants.shard=4/3"}, io.Discard, io.Discard); err == nil {
		t.Error("--tenants.shard=4/3 accepted")
	}
	c, err = parseArgs([]string{"check-config", "--config.file=y.yml"}, io.Discard, io.Discard)
	if err != nil || c.command != commandCheckConfig || c.configFile != "y.yml" {
		t.Errorf("check-config: %+v, %v", c, err)
	}
}
