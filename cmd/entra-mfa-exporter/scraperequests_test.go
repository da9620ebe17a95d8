package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/metricdef"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/scrapecache"
)

// /metrics counts its requests by how the shared cache served them, as the metric table says:
// the first request waits for a rendering, the next one within a second shares it, a POST is
// rendered for itself; and a mux made again on the same registry (a test, a second listener)
// keeps counting in the same family.
func TestScrapeRequestsAreCountedByHowTheyWereServed(t *testing.T) {
	sim := startSim(t)
	cfgFile := filepath.Join(t.TempDir(), "config.yml")
	writeFile(t, cfgFile, sim.config("contoso"))
	addr, logs := startServer(t, serverOptions{configFile: cfgFile}, "")
	base := "http://" + addr
	waitReady(t, base, logs)   // the first poll is over: its end does not fall between the two GETs
	scrape(t, base+"/metrics") // waited: the first rendering
	scrape(t, base+"/metrics") // shared: the same rendering (waited if a poll ended in between)
	resp, err := http.Post(base+"/metrics", "text/plain", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// A rendering at least maxAge younger than the three requests shows them all.
	time.Sleep(scrapeMaxAge + 200*time.Millisecond)
	fams := families(t, base)
	mf := fams[metricdef.ScrapeRequests.Name]
	if mf == nil {
		t.Fatalf("%s is not exposed", metricdef.ScrapeRequests.Name)
	}
	if mf.GetHelp() != metricdef.ScrapeRequests.Help || strings.ToLower(mf.GetType().String()) != string(metricdef.ScrapeRequests.Kind) {
		t.Errorf("exposed as %s %q, the table says %s %q", mf.GetType(), mf.GetHelp(), metricdef.ScrapeRequests.Kind, metricdef.ScrapeRequests.Help)
	}
	got := map[string]float64{}
	for _, m := range mf.GetMetric() {
		if len(m.GetLabel()) != 1 || m.GetLabel()[0].GetName() != "served" {
			t.Fatalf("series with labels %v, want served only", m.GetLabel())
		}
		got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
	}
	// Exactly: the POST alone, the first GET waited, the second shared. A poll may still end
	// between the two GETs (the version moves, the second waits for the new rendering), so the
	// GETs are checked as a pair; scrapecache's tests pin shared exactly.
	if got["alone"] != 1 || got["waited"] < 1 || got["waited"]+got["shared"] != 2 || len(got) != 3 {
		t.Errorf("served %v, want alone 1 and the two GETs as waited 1, shared 1 (or waited 2)", got)
	}

	reg := prometheus.NewRegistry()
	first, second := scrapeRequests(reg), scrapeRequests(reg)
	first(scrapecache.ServedShared)
	second(scrapecache.ServedShared)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 1 || len(mfs[0].GetMetric()) != 3 {
		t.Fatalf("two observers on one registry: %v, want one family of 3 series", mfs)
	}
	for _, m := range mfs[0].GetMetric() {
		if v := m.GetCounter().GetValue(); (m.GetLabel()[0].GetValue() == "shared") != (v == 2) {
			t.Errorf("served=%q: %v, want 2 for shared (both observers count in one family), else 0", m.GetLabel()[0].GetValue(), v)
		}
	}
}
