package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/net/html"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/collector"
)

// caughtUp is an exporter run through run() on a simulated tenant whose every generated row has
// been counted: sign-ins of the last 41 minutes (startSim) and, with old, of three hours ago.
type caughtUp struct {
	base, config string
	sim          *testSim
	logs         *syncBuffer
}

func startCaughtUpExporter(t *testing.T, old bool) caughtUp {
	t.Helper()
	sim := startSim(t) // rows created from now-41m to now-6m, visible at once
	if old {
		now := time.Now()
		// Flows ending 2h50m to 3h ago: rows back to 3h11m ago, inside the look-back, outside
		// the last hour.
		sim.Backfill(now.Add(-3*time.Hour), now.Add(-170*time.Minute), 0.5)
	}
	cfg := filepath.Join(t.TempDir(), "config.yml")
	writeFile(t, cfg, "tenants:\n"+sim.tenant("contoso",
		"    sign_ins: {poll_interval: 10s, lookback: 4h, event_types: [interactive, non_interactive]}\n    registration: {enabled: false}\n"))
	base, logs := startExporter(t, "--config.file="+cfg)
	waitReady(t, base, logs)
	var truth int
	for _, n := range sim.Truth().Rows {
		truth += n
	}
	waitFor(t, fmt.Sprintf("all %d generated rows to be counted", truth), logs, func() bool {
		f := figuresFromMetrics(families(t, base), "contoso", "1d")
		return f.SignIns == int64(truth)
	})
	return caughtUp{base: base, config: cfg, sim: sim, logs: logs}
}

// `report mfa` over the simulated period gives exactly the exporter's counters (the exporter
// counted every row of that period and nothing else), and its distinct users equal the gauges.
func TestReportMFAEqualsExporterCounters(t *testing.T) {
	e := startCaughtUpExporter(t, false)
	want := figuresFromMetrics(families(t, e.base), "contoso", "1d")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--config.file=" + e.config, "report", "mfa", "--since=2h", "--format=json"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	doc, got := parseReportJSON(t, out.String())
	equalFigures(t, "report mfa against /metrics", got, want)
	if want.SignIns < 500 || len(want.Denials) < 5 || want.Failed <= 0 {
		t.Errorf("the simulated period is too thin to prove much: %s", want)
	}
	if doc.Rows.Duplicates != 0 || doc.Rows.OutsidePeriod != 0 || doc.Rows.Counted != want.SignIns {
		t.Errorf("rows = %+v", doc.Rows)
	}
	// The 1h gauge and a one-hour report agree too (no row lies near the hour's edge).
	gauge1h := figuresFromMetrics(families(t, e.base), "contoso", "1h")
	out.Reset()
	if code := run(context.Background(), []string{"--config.file=" + e.config, "report", "mfa", "--since=1h", "--format=json"}, &out, &errOut); code != 0 {
		t.Fatalf("--since=1h: exit %d: %s", code, errOut.String())
	}
	if _, hour := parseReportJSON(t, out.String()); hour.Challenged != gauge1h.Challenged || hour.Failed != gauge1h.Failed {
		t.Errorf("1h users %d/%d, gauges %d/%d", hour.Challenged, hour.Failed, gauge1h.Challenged, gauge1h.Failed)
	}
}

// chromiumPath finds Chromium: the path scripts/tools.sh exports, then PATH. Missing, it fails
// the test under ENTRA_REQUIRE_TOOLS=1 (CI) and skips it otherwise.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("ENTRA_REQUIRE_TOOLS") == "1" {
		t.Fatal("chromium not found (scripts/tools.sh installs Debian's chromium package)")
	}
	t.Skip("chromium not found (run scripts/tools.sh, or apt-get install chromium); skipping")
	return ""
}

// headless runs Chromium once on url with a fresh profile, no sandbox (the tests run as root in
// CI) and no network traffic of its own, and returns its standard output.
func headless(t *testing.T, bin, url string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + t.TempDir()}, args...)
	cmd := exec.CommandContext(ctx, bin, append(all, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, stderr.String())
	}
	return stdout.Bytes()
}

// page is the landing page's DOM as Chromium rendered it.
type page struct{ root *html.Node }

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// find returns the element nodes below n (n included) for which match holds, in document order.
func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(x *html.Node) {
		if x.Type == html.ElementNode && match(x) {
			out = append(out, x)
		}
		for c := x.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for _, t := range find(n, func(*html.Node) bool { return true }) {
		for c := t.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.TextNode {
				b.WriteString(c.Data)
			}
		}
	}
	return strings.TrimSpace(b.String())
}

// tenant returns the section of a tenant.
func (p page) tenant(t *testing.T, name string) *html.Node {
	t.Helper()
	s := find(p.root, func(n *html.Node) bool { return n.Data == "section" && attr(n, "data-tenant") == name })
	if len(s) != 1 {
		t.Fatalf("%d sections for tenant %s", len(s), name)
	}
	return s[0]
}

// figure reads one cell of the answers table.
func figure(t *testing.T, sec *html.Node, id, window string) string {
	t.Helper()
	for _, tr := range find(sec, func(n *html.Node) bool { return n.Data == "tr" && attr(n, "data-figure") == id }) {
		for _, td := range find(tr, func(n *html.Node) bool { return n.Data == "td" && attr(n, "data-window") == window }) {
			return textOf(td)
		}
	}
	t.Fatalf("no figure %s for window %s", id, window)
	return ""
}

// ranking reads one ranking table: key -> count, in the order shown.
func ranking(t *testing.T, sec *html.Node, id, window string) (map[string]int64, []string) {
	t.Helper()
	tables := find(sec, func(n *html.Node) bool {
		return n.Data == "table" && attr(n, "data-list") == id && attr(n, "data-window") == window
	})
	if len(tables) != 1 {
		t.Fatalf("%d tables %s/%s", len(tables), id, window)
	}
	out := map[string]int64{}
	var order []string
	for _, tr := range find(tables[0], func(n *html.Node) bool { return n.Data == "tr" && attr(n, "data-key") != "" }) {
		tds := find(tr, func(n *html.Node) bool { return n.Data == "td" })
		key := attr(tr, "data-key")
		out[key] = atoi(t, textOf(tds[1]))
		order = append(order, key)
	}
	return out, order
}

// figuresFromPage reads a window's six answers off the page; its rankings of problems and error
// codes hold the top ten only.
func figuresFromPage(t *testing.T, sec *html.Node, window string) figures {
	t.Helper()
	f := newFigures()
	f.SignIns = atoi(t, figure(t, sec, "sign_ins", window))
	f.Satisfied = atoi(t, figure(t, sec, "satisfied", window))
	f.NotRequired = atoi(t, figure(t, sec, "not_required", window))
	f.Challenged = atoi(t, figure(t, sec, "users_challenged", window))
	f.Failed = atoi(t, figure(t, sec, "users_failed", window))
	f.Completions, _ = ranking(t, sec, "completions_by_method", window)
	f.Denials, _ = ranking(t, sec, "denials_by_reason", window)
	f.Problems, _ = ranking(t, sec, "problems", window)
	f.ErrorCodes, _ = ranking(t, sec, "error_codes", window)
	return f
}

func cutToPage(f figures) figures {
	f.Completions, f.Denials = topOf(f.Completions, landingTop), topOf(f.Denials, landingTop)
	f.Problems, f.ErrorCodes = topOf(f.Problems, landingTop), topOf(f.ErrorCodes, landingTop)
	return f
}

// TestLandingPageInChromium loads the landing page in headless Chromium and checks its figures:
// the last 24 hours against /metrics (every simulated row lies inside them), the last hour
// against the hour's user gauges and a one-hour `report mfa` (the rows of three hours ago must
// be left out), and the health of the tenant. It saves a screenshot as a test artifact
// (go test -artifacts keeps it).
func TestLandingPageInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	e := startCaughtUpExporter(t, true)
	metrics := families(t, e.base)
	day := figuresFromMetrics(metrics, "contoso", "1d")
	hourGauges := figuresFromMetrics(metrics, "contoso", "1h")

	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--config.file=" + e.config, "report", "mfa", "--since=1h", "--format=json"}, &out, &errOut); code != 0 {
		t.Fatalf("report mfa --since=1h: exit %d: %s", code, errOut.String())
	}
	_, hour := parseReportJSON(t, out.String())

	dom := headless(t, chromium, e.base+"/", "--dump-dom")
	root, err := html.Parse(bytes.NewReader(dom))
	if err != nil {
		t.Fatal(err)
	}
	p := page{root}
	sec := p.tenant(t, "contoso")

	equalFigures(t, "page, last 24 hours, against /metrics", figuresFromPage(t, sec, "24h"), cutToPage(day))
	gotHour := figuresFromPage(t, sec, "1h")
	equalFigures(t, "page, last hour, against report mfa --since=1h", gotHour, cutToPage(hour))
	if gotHour.Challenged != hourGauges.Challenged || gotHour.Failed != hourGauges.Failed {
		t.Errorf("last hour: users %d/%d, gauges {window=\"1h\"} %d/%d", gotHour.Challenged, gotHour.Failed, hourGauges.Challenged, hourGauges.Failed)
	}
	if gotHour.SignIns >= day.SignIns || gotHour.SignIns == 0 {
		t.Errorf("last hour %d rows, last 24 hours %d: the rows of three hours ago should make the difference", gotHour.SignIns, day.SignIns)
	}
	wantShare := strconv.FormatFloat(100*float64(day.Satisfied)/float64(day.Satisfied+day.NotRequired), 'f', 1, 64) + "%"
	if got := figure(t, sec, "protected_share", "24h"); got != wantShare {
		t.Errorf("protected share %s, want %s", got, wantShare)
	}
	var completed, denied int64
	for _, v := range day.Completions {
		completed += v
	}
	for _, v := range day.Denials {
		denied += v
	}
	if got := atoi(t, figure(t, sec, "completions", "24h")); got != completed {
		t.Errorf("completions %d, want %d", got, completed)
	}
	if got := atoi(t, figure(t, sec, "denials", "24h")); got != denied {
		t.Errorf("denials %d, want %d", got, denied)
	}
	// Rankings are in decreasing order.
	for _, id := range []string{"completions_by_method", "denials_by_reason", "problems", "error_codes"} {
		counts, order := ranking(t, sec, id, "24h")
		for i := 1; i < len(order); i++ {
			if counts[order[i]] > counts[order[i-1]] {
				t.Errorf("%s not in decreasing order: %v", id, order)
			}
		}
	}

	health := find(sec, func(n *html.Node) bool { return n.Data == "tr" && attr(n, "data-source") != "" })
	if len(health) != 2 {
		t.Fatalf("%d health rows", len(health))
	}
	signIns, reg := textOf(health[0]), textOf(health[1])
	if !strings.Contains(signIns, "Sign-in log") || !strings.Contains(signIns, " UTC (") || !strings.HasSuffix(signIns, "ok") {
		t.Errorf("sign-in health row: %q", signIns)
	}
	if !strings.Contains(reg, "disabled") {
		t.Errorf("registration health row: %q", reg)
	}
	links := find(root, func(n *html.Node) bool { return n.Data == "a" })
	if len(links) < 3 || attr(links[0], "href") != "metrics" {
		t.Errorf("links: %d, first %q", len(links), attr(links[0], "href"))
	}

	shot := filepath.Join(t.ArtifactDir(), "landing.png")
	headless(t, chromium, e.base+"/", "--screenshot="+shot, "--window-size=1280,2600", "--hide-scrollbars")
	png, err := os.ReadFile(shot)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 10_000 {
		t.Errorf("screenshot %s: %d bytes, err %v", shot, len(png), err)
	}
	t.Logf("screenshot of the landing page: %s", shot)
}

// Whatever Graph or a configuration puts in a tenant's health, the page escapes it.
func TestLandingPageEscapes(t *testing.T) {
	evil := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	h := newLandingHandler(landingOptions{
		links: []landingLink{{Address: "/metrics", Text: "Metrics"}},
		summary: func(ws ...time.Duration) []collector.TenantSummary {
			ts := collector.TenantSummary{Tenant: "t1", Sources: []collector.SourceHealth{
				{Source: "signIns", Enabled: true, ErrorReason: "graph_error", Error: evil},
			}}
			for range ws {
				ts.Periods = append(ts.Periods, collector.Answers{Denials: []collector.Count{{Label: evil, N: 1}}})
			}
			return []collector.TenantSummary{ts}
		},
		logger: slog.New(slog.DiscardHandler),
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("status %d, content type %q: %s", rec.Code, rec.Header().Get("Content-Type"), body)
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "<img") {
		t.Errorf("unescaped markup in the page:\n%s", body)
	}
	if !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("the error text is not shown escaped:\n%s", body)
	}
	if !strings.Contains(body, `class="state-error"`) || !strings.Contains(body, "graph_error: ") {
		t.Errorf("the error is not marked as one")
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/nothing-here", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET /nothing-here: %d, want 404", rec.Code)
	}
}

// The landing page is behind the same web configuration as /metrics.
func TestLandingPageNeedsWebConfigAuth(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig, pool := tlsWebConfig(t, fmt.Sprintf("basic_auth_users:\n  prometheus: %s\n", hash))
	base, stderr := startExporter(t, "--demo", "--web.config.file="+webConfig)
	base = "https" + base[len("http"):]
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(auth bool) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
		if auth {
			req.SetBasicAuth("prometheus", "s3cret")
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitFor(t, "the exporter to answer over TLS", stderr, func() bool { c, _ := get(false); return c != 0 })
	if code, body := get(false); code != http.StatusUnauthorized || strings.Contains(body, "sign-in") {
		t.Errorf("GET / without credentials: %d", code)
	}
	code, body := get(true)
	if code != http.StatusOK || !strings.Contains(body, "DEMO MODE") || !strings.Contains(body, `data-tenant="demo"`) {
		t.Errorf("GET / with credentials: %d\n%s", code, body)
	}
}
