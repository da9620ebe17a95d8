package main

import (
	"net/http"
	"path/filepath"
	"slices"
	"testing"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// /-/ready over HTTP with two tenants, each on its own simulated tenant: 503 until every tenant
// has completed a successful poll, 503 while one of them keeps failing although the other
// succeeds, 200 once both succeed.
func TestReadyOverHTTP(t *testing.T) {
	good, bad := startSim(t), startSim(t)
	// Every sign-in read of the second tenant is refused (403 Authorization_RequestDenied) until
	// the test clears the fault; Count is far above the polls the test lasts.
	bad.InjectFault(simtenant.Fault{Kind: simtenant.FaultPermission, Count: 1_000_000})
	fast := "    sign_ins: {poll_interval: 10s}\n" // the minimum, so recovery shows within seconds
	file := filepath.Join(t.TempDir(), "config.yml")
	writeFile(t, file, "tenants:\n"+good.tenant("good", fast)+bad.tenant("bad", fast))
	base, stderr := startExporter(t, "--config.file="+file)

	// The first answer: no poll of "bad" can have succeeded.
	var first int
	waitFor(t, "the exporter to answer", stderr, func() bool { first = status(base + "/-/ready"); return first != 0 })
	if first != http.StatusServiceUnavailable {
		t.Errorf("/-/ready before any successful poll of every tenant: %d, want 503", first)
	}

	// Wait until "good" has polled successfully and "bad" has been refused at least once.
	waitFor(t, `tenant "good" to succeed and "bad" to be refused`, stderr, func() bool {
		fams := families(t, base)
		return len(labelValues(fams, "entra_ingest_last_success_timestamp_seconds", "tenant", map[string]string{"source": "signIns"})) > 0 &&
			slices.Contains(labelValues(fams, "entra_graph_requests_total", "code", map[string]string{"tenant": "bad"}), "403")
	})
	fams := families(t, base)
	if got := labelValues(fams, "entra_ingest_last_success_timestamp_seconds", "tenant", map[string]string{"source": "signIns"}); !slices.Equal(got, []string{"good"}) {
		t.Fatalf("tenants with a successful sign-in poll: %v, want [good]", got)
	}
	if s := status(base + "/-/ready"); s != http.StatusServiceUnavailable {
		t.Errorf("/-/ready while one of two tenants fails: %d, want 503", s)
	}

	bad.ClearFaults()
	waitReady(t, base, stderr)
}
