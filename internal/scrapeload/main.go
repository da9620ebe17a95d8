// Command scrapeload measures /metrics under many concurrent scrapers: it runs the real exporter
// binary against a simulated tenant in a process of its own (internal/simtenantd) generating
// traffic in real time, with a large tenant's label population restored from a state file (see
// population.go), and scrapes with N concurrent scrapers for a while, all at the same instant
// every interval (or each sending the next request as soon as the last one finished), with
// Prometheus's Accept and Accept-Encoding headers. Each scraper is a client of its own with one
// keep-alive connection, as N Prometheus servers are; each warms it up with two scrapes (at the
// same instants as the measured ones) before measuring, so that the measured bursts do not open
// connections. It prints latency quantiles, scrapes per second, the exposition's size and
// series, the exporter's CPU and peak RSS, and its own CPU (it shares the machine's cores with
// the exporter). -trace prints each burst's latencies, to attribute the tail.
//
// Then (-floor) it measures the machine's floor under the same load: the same scrapers, for the
// same time, against a minimal net/http server in a process of its own (this program again, with
// -serve) that serves the exporter's own compressed response as static bytes, while the exporter
// and the simulated tenant keep running. What the exporter adds is the difference. The same
// server then answers two more loads with a response of a few bytes (a one-line exposition), to
// show what the machine itself costs a request: the same fifty scrapers on the same schedule
// ("empty"), and one scraper alone, ten times an interval ("lone": a request arriving at an idle
// machine, the wake-up latency of its cores).
// scripts/bench.sh runs it.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/internal/simproc"
)

// promAccept is the Accept header Prometheus 3 sends.
const promAccept = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "scrapeload:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		scrapers = flag.Int("scrapers", 50, "concurrent scrapers")
		duration = flag.Duration("duration", 30*time.Second, "how long to scrape")
		warmup   = flag.Duration("warmup", 15*time.Second, "ingestion time before scraping starts")
		rate     = flag.Float64("rate", 10, "sign-in flows per second the simulated tenant generates")
		exporter = flag.String("exporter", "", "exporter binary (default: built from ./cmd/entra-mfa-exporter)")
		quiet    = flag.Bool("quiet", false, "print only the result line")
		interval = flag.Duration("interval", time.Second, "each scraper scrapes this often, all of them at the same instant (0: back to back, as fast as the machine goes)")
		trace    = flag.Bool("trace", false, "print each burst's scrapes, median and maximum latency, slowest scraper and new connections (bursts: the interval's instants; one a second when -interval=0)")
		floor    = flag.Bool("floor", true, "also measure the same load against a static server of the exporter's response (the machine's floor)")
		serve    = flag.String("serve", "", "internal: serve this file's bytes as a gzip-encoded /metrics on -listen (the floor's server)")
		listen   = flag.String("listen", "", "internal: -serve's address")
		client   = flag.String("client", "go", "each scraper's HTTP client: go (net/http's, as Prometheus) or raw (a minimal HTTP/1.1 client on its own connection: half the load generator's CPU per scrape, less of its own work in what is measured)")
		readBuf  = flag.Int("read-buffer", 256<<10, "each scraper's connection read buffer, bytes (fewer read calls for a response of tens of KB; 0: net/http's 4 KiB)")
	)
	contentType := flag.String("content-type", "", "internal: -serve's Content-Type (the exporter's)")
	flag.Parse()
	if *serve != "" {
		return serveStatic(*serve, *contentType, *listen)
	}
	if *client != "go" && *client != "raw" {
		return fmt.Errorf("-client=%q: want go or raw", *client)
	}
	dir, err := os.MkdirTemp("", "scrapeload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logf := func(format string, args ...any) {
		if !*quiet {
			fmt.Fprintf(os.Stderr, format+"\n", args...)
		}
	}

	if *exporter == "" {
		*exporter = filepath.Join(dir, "entra-mfa-exporter")
		cmd := exec.Command("go", "build", "-o", *exporter, "github.com/entra-mfa-exporter/entra-mfa-exporter/cmd/entra-mfa-exporter")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building the exporter: %v\n%s", err, out)
		}
	}
	simBin, err := simproc.Build(dir)
	if err != nil {
		return err
	}
	sim, err := simproc.Start(simBin, dir, "--users=200000", "--rate="+fmt.Sprint(*rate), "--backfill=10m",
		"--retention=1h", "--lateness-scale=0.02")
	if err != nil {
		return err
	}
	defer sim.Close()

	// The state: the label population, in the JSON state format the exporter migrates at start.
	storage := filepath.Join(dir, "state")
	if err := os.Mkdir(storage, 0o700); err != nil {
		return err
	}
	pop := population()
	if err := writeState(filepath.Join(storage, "loadtest.state.json"), sim.TenantID, pop); err != nil {
		return err
	}
	cfgFile := filepath.Join(dir, "config.yml")
	cfg := fmt.Sprintf(`tenants:
  - name: loadtest
    tenant_id: %q
    cloud: custom
    authority_host: %q
    graph_endpoint: %q
    ca_file: %q
    credential:
      type: client_secret
      client_id: %q
      client_secret_file: %q
    sign_ins:
      poll_interval: 10s
      settle_delay: 5s
      reconcile_delay: 1m
      reconcile_interval: 10s
      lookback: 11m
      event_types: [interactive, non_interactive]
    registration:
      enabled: false
`, sim.TenantID, sim.AuthorityHost, sim.GraphEndpoint, sim.CAFile, sim.ClientID, sim.SecretFile)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	exp := exec.Command(*exporter, "--config.file="+cfgFile, "--storage.path="+storage, "--web.listen-address="+addr, "--log.level=warn")
	expLog, err := os.Create(filepath.Join(dir, "exporter.log"))
	if err != nil {
		return err
	}
	exp.Stdout, exp.Stderr = expLog, expLog
	if err := exp.Start(); err != nil {
		return err
	}
	defer func() {
		_ = exp.Process.Signal(os.Interrupt)
		_ = exp.Wait()
	}()
	base := "http://" + addr
	if err := waitReady(base, 2*time.Minute); err != nil {
		log, _ := os.ReadFile(expLog.Name())
		return fmt.Errorf("%w\n%s", err, log)
	}
	logf("exporter ready; %d restored series; ingesting for %s", len(pop), *warmup)
	time.Sleep(*warmup)

	// Each scraper a client of its own, with one keep-alive connection: N Prometheus servers.
	newScrapers := func(n int, base, path string) []scraper {
		out := make([]scraper, n)
		for i := range out {
			out[i] = newScraper(*client, base, path, *readBuf)
		}
		return out
	}
	clients := newScrapers(*scrapers, base, "/metrics")
	// The reads of the exposition and of the counters: a client apart from the scrapers'.
	reader := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: time.Minute}
	size, nseries, err := scrapeOnce(reader, base)
	if err != nil {
		return err
	}
	// Two scrapes by every scraper, at the same instants as the measured ones, before
	// measuring: each scraper's connection (a Prometheus server keeps its own alive), the first
	// rendering in their format (a cold start, once per process) and the switch to renewing
	// renderings in the background that steady concurrent scraping brings (scrapecache) are not
	// what is measured.
	warm := burst(context.Background(), clients, 2, *interval)
	wireBytes := warm.bytes
	if warm.failures > 0 {
		return fmt.Errorf("%d of %d warm-up scrapes failed", warm.failures, 2**scrapers)
	}
	if warm.newConns > *scrapers {
		logf("warm-up opened %d connections for %d scrapers", warm.newConns, *scrapers)
	}
	time.Sleep(time.Second)
	cpu0, err := procCPU(exp.Process.Pid)
	if err != nil {
		return err
	}
	self0, err := procCPU(os.Getpid())
	if err != nil {
		return err
	}
	served0, err := servedCounts(reader, base)
	if err != nil {
		return err
	}
	logf("scraping with %d scrapers for %s (%d series, %d bytes)", *scrapers, *duration, nseries, size)
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	started := time.Now()
	run := burst(ctx, clients, -1, *interval)
	elapsed := time.Since(started)
	cpu1, err := procCPU(exp.Process.Pid)
	if err != nil {
		return err
	}
	self1, err := procCPU(os.Getpid())
	if err != nil {
		return err
	}
	hwm, _ := procHWM(exp.Process.Pid)
	time.Sleep(1100 * time.Millisecond) // the rendering read next is younger than the last burst
	served1, err := servedCounts(reader, base)
	if err != nil {
		return err
	}
	if len(run.scrapes) == 0 {
		return fmt.Errorf("no successful scrape (%d failures)", run.failures)
	}
	if *trace {
		printBursts(run.scrapes, *interval)
	}
	l := run.latencies()
	q := l.q
	res := map[string]any{
		"scrapers": *scrapers, "interval_s": interval.Seconds(), "scrapes": len(l.lat), "failures": run.failures,
		"scrapes_per_s": float64(len(l.lat)) / elapsed.Seconds(),
		"p50_ms":        q(0.5), "p90_ms": q(0.9), "p99_ms": q(0.99), "max_ms": q(1),
		"series": nseries, "bytes": size, "wire_bytes": wireBytes,
		"new_connections":       run.newConns,
		"exporter_cpu_cores":    (cpu1 - cpu0).Seconds() / elapsed.Seconds(),
		"exporter_peak_rss_mib": float64(hwm) / (1 << 20),
		"loadgen_cpu_cores":     (self1 - self0).Seconds() / elapsed.Seconds(),
	}
	if *floor {
		f, err := measureFloor(context.Background(), dir, reader, newScrapers, *scrapers, base, *duration, *interval, logf)
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		for name, l := range map[string]latencies{"floor": f.same, "empty": f.empty, "lone": f.lone} {
			res[name+"_p50_ms"], res[name+"_p90_ms"], res[name+"_p99_ms"], res[name+"_max_ms"] = l.q(0.5), l.q(0.9), l.q(0.99), l.q(1)
			res[name+"_scrapes"], res[name+"_failures"] = len(l.lat), l.failures
		}
	}
	if len(served1) > 0 {
		// How the exporter's cache served the run's scrapes (and the two reads of the counter):
		// waited, a scrape waited for a rendering; alone, rendered for itself.
		res["served_waited"], res["served_alone"] = served1["waited"]-served0["waited"], served1["alone"]-served0["alone"]
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	return nil
}

// latencies are a run's sorted scrape latencies.
type latencies struct {
	lat      []time.Duration
	failures int
}

func (l latencies) q(p float64) float64 { return ms(l.lat[int(p*float64(len(l.lat)-1))]) }

func (r burstResult) latencies() latencies {
	out := latencies{failures: r.failures}
	for _, s := range r.scrapes {
		out.lat = append(out.lat, s.d)
	}
	slices.Sort(out.lat)
	return out
}

// floors are the machine's floors under load, measured against a static server.
type floors struct {
	same  latencies // the exporter's own compressed response, the same scrapers and schedule
	empty latencies // a response of a few bytes, the same scrapers and schedule
	lone  latencies // a response of a few bytes, one scraper, ten times an interval
}

// measureFloor captures the exporter's compressed response once, serves it from a static server
// in a child process (no gathering, no cache, no ingestion: only net/http writing the same bytes
// with the same headers), and scrapes that with the same scrapers, warm-up and schedule; then
// the same server's tiny response, with the same scrapers and with one alone.
func measureFloor(ctx context.Context, dir string, reader *http.Client, newScrapers func(int, string, string) []scraper, scrapers int, base string, duration, interval time.Duration, logf func(string, ...any)) (floors, error) {
	body, header, err := fetchMetrics(reader, base, "gzip")
	if err != nil {
		return floors{}, err
	}
	if header.Get("Content-Encoding") != "gzip" {
		return floors{}, fmt.Errorf("the exporter's response is not gzip-encoded")
	}
	file := filepath.Join(dir, "metrics.gz")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		return floors{}, err
	}
	addr, err := freeAddr()
	if err != nil {
		return floors{}, err
	}
	self, err := os.Executable()
	if err != nil {
		return floors{}, err
	}
	srv := exec.Command(self, "-serve="+file, "-content-type="+header.Get("Content-Type"), "-listen="+addr)
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return floors{}, err
	}
	defer func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
	}()
	floorBase := "http://" + addr
	if err := waitReady(floorBase, 30*time.Second); err != nil {
		return floors{}, err
	}
	// measure warms clients up as the exporter's scrapers were, then scrapes for duration.
	measure := func(what string, clients []scraper, interval time.Duration) (latencies, error) {
		if warm := burst(ctx, clients, 2, interval); warm.failures > 0 {
			return latencies{}, fmt.Errorf("%s: %d warm-up scrapes of the static server failed", what, warm.failures)
		}
		time.Sleep(time.Second)
		logf("floor: %s for %s", what, duration)
		runCtx, cancel := context.WithTimeout(ctx, duration)
		defer cancel()
		run := burst(runCtx, clients, -1, interval)
		if len(run.scrapes) == 0 {
			return latencies{}, fmt.Errorf("%s: no successful scrape of the static server (%d failures)", what, run.failures)
		}
		return run.latencies(), nil
	}
	var f floors
	if f.same, err = measure(fmt.Sprintf("the same load against a static server of the exporter's %d-byte response", len(body)),
		newScrapers(scrapers, floorBase, "/metrics"), interval); err != nil {
		return floors{}, err
	}
	if f.empty, err = measure(fmt.Sprintf("the same load, a %d-byte response", len(tinyExposition)),
		newScrapers(scrapers, floorBase, tinyPath), interval); err != nil {
		return floors{}, err
	}
	if f.lone, err = measure(fmt.Sprintf("one scraper every %s, a %d-byte response", interval/10, len(tinyExposition)),
		newScrapers(1, floorBase, tinyPath), interval/10); err != nil {
		return floors{}, err
	}
	return f, nil
}

// tinyPath serves tinyExposition, gzip-compressed: what a request costs the machine, whatever
// the response.
const tinyPath = "/tiny/metrics"

// tinyExposition is the smallest valid OpenMetrics exposition, compressed: the floor's response
// of a few bytes.
var tinyExposition = func() []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte("# EOF\n"))
	_ = zw.Close()
	return buf.Bytes()
}()

// serveStatic serves file as a gzip-encoded exposition of contentType at /metrics,
// tinyExposition at tinyPath (and 200 at /-/ready), with the headers the exporter sends: the
// floor's server.
func serveStatic(file, contentType, addr string) error {
	body, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	return http.ListenAndServe(addr, staticMux(body, contentType))
}

// staticMux is serveStatic's handler.
func staticMux(body []byte, contentType string) http.Handler {
	static := func(body []byte) http.HandlerFunc {
		length := strconv.Itoa(len(body))
		return func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h["Content-Type"] = []string{contentType}
			h["Vary"] = []string{"Accept-Encoding"}
			h["Content-Encoding"] = []string{"gzip"}
			h["Content-Length"] = []string{length}
			_, _ = w.Write(body)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", static(body))
	mux.HandleFunc(tinyPath, static(tinyExposition))
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Ready") })
	return mux
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// scrapeResult is one successful scrape: the burst it belongs to (the tick's number), its
// latency, its scraper, and whether it opened a connection.
type scrapeResult struct {
	tick, scraper int
	d             time.Duration
	newConn       bool
}

type burstResult struct {
	scrapes  []scrapeResult
	failures int
	newConns int   // connections opened, failed scrapes' included
	bytes    int64 // the last response's size on the wire
}

// burst runs every client as a scraper, all of them at the same instants every interval (back
// to back when interval is 0), n times each or (n < 0) until ctx ends.
func burst(ctx context.Context, clients []scraper, n int, interval time.Duration) burstResult {
	var (
		mu  sync.Mutex
		out burstResult
		wg  sync.WaitGroup
	)
	started := time.Now()
	for i, client := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []scrapeResult
			bad, opened := 0, 0
			var size int64
			tick := started
			for k := 0; (n < 0 || k < n) && ctx.Err() == nil; k++ {
				if interval > 0 {
					// Every scraper fires at the same instants: the worst case of concurrency.
					tick = tick.Add(interval)
					select {
					case <-time.After(time.Until(tick)):
					case <-ctx.Done():
					}
					if ctx.Err() != nil {
						break
					}
				}
				t0 := time.Now()
				b, reused, err := client.scrape(ctx)
				d := time.Since(t0)
				if !reused {
					opened++
				}
				if ctx.Err() != nil {
					break // cut short by the end of the run: not a latency
				}
				if err != nil {
					bad++
					continue
				}
				size = b
				burstNo := k
				if interval <= 0 {
					burstNo = int(t0.Sub(started) / time.Second)
				}
				mine = append(mine, scrapeResult{tick: burstNo, scraper: i, d: d, newConn: !reused})
			}
			mu.Lock()
			out.scrapes = append(out.scrapes, mine...)
			out.failures += bad
			out.newConns += opened
			if size > 0 {
				out.bytes = size
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// printBursts prints, for each burst, its scrapes' median and maximum latency, the slowest
// scraper and the connections opened.
func printBursts(scrapes []scrapeResult, interval time.Duration) {
	byTick := map[int][]scrapeResult{}
	for _, s := range scrapes {
		byTick[s.tick] = append(byTick[s.tick], s)
	}
	ticks := slices.Sorted(maps.Keys(byTick))
	unit := interval
	if unit <= 0 {
		unit = time.Second
	}
	for _, k := range ticks {
		ss := byTick[k]
		slices.SortFunc(ss, func(a, b scrapeResult) int { return cmp.Compare(a.d, b.d) })
		opened := 0
		for _, s := range ss {
			if s.newConn {
				opened++
			}
		}
		slowest := ss[len(ss)-1]
		fmt.Fprintf(os.Stderr, "burst %3d at %6.1fs: %3d scrapes p50 %6.2f ms max %6.2f ms (scraper %d) new connections %d\n",
			k, (time.Duration(k+1) * unit).Seconds(), len(ss), ms(ss[len(ss)/2].d), ms(slowest.d), slowest.scraper, opened)
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitReady(base string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("exporter not ready after %s", timeout)
}

// A scraper fetches /metrics as Prometheus does, on a keep-alive connection of its own, and
// returns the bytes received and whether it reused its connection.
type scraper interface {
	scrape(ctx context.Context) (int64, bool, error)
}

// newScraper returns a scraper of base+path with the client kind ("go" or "raw") and a
// connection read buffer of readBuf bytes.
func newScraper(kind, base, path string, readBuf int) scraper {
	if kind == "raw" {
		return &rawScraper{addr: strings.TrimPrefix(base, "http://"), path: path, readBuf: readBuf}
	}
	return &goScraper{url: base + path, c: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1,
		ReadBufferSize: readBuf, DisableCompression: true}, Timeout: time.Minute}}
}

// goScraper scrapes with net/http's client, as Prometheus does.
type goScraper struct {
	url string // the exposition's
	c   *http.Client
}

func (g *goScraper) scrape(ctx context.Context) (int64, bool, error) {
	c := g.c
	reused := true
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url, nil)
	if err != nil {
		return 0, reused, err
	}
	req.Header.Set("Accept", promAccept)
	// As Prometheus asks; set explicitly so that the transport hands over the compressed body
	// instead of decompressing it here: the load generator shares the machine's two cores with
	// the exporter, and its own work must not be what is measured.
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := c.Do(req)
	if err != nil {
		return 0, reused, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, reused, err
	}
	if resp.StatusCode != http.StatusOK {
		return n, reused, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return n, reused, nil
}

// rawScraper is a minimal HTTP/1.1 client: one connection, a request written in one call, the
// response's status line and headers read from a buffer and its body (Content-Length, as both
// servers send) skipped. It halves the load generator's CPU per scrape (about 60 µs instead of
// 120 on the 2-core machine of BENCHMARKS.md: net/http's reader and writer goroutines, header
// maps, trace hooks), on the cores the measured server uses too.
type rawScraper struct {
	addr    string
	path    string // the exposition's
	readBuf int
	req     []byte
	conn    net.Conn
	r       *bufio.Reader
}

func (s *rawScraper) close() {
	if s.conn != nil {
		s.conn.Close()
		s.conn, s.r = nil, nil
	}
}

func (s *rawScraper) scrape(ctx context.Context) (int64, bool, error) {
	reused := s.conn != nil
	if s.conn == nil {
		c, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, "tcp", s.addr)
		if err != nil {
			return 0, false, err
		}
		s.conn, s.r = c, bufio.NewReaderSize(c, s.readBuf)
		s.req = []byte("GET " + s.path + " HTTP/1.1\r\nHost: " + s.addr + "\r\nUser-Agent: scrapeload\r\nAccept: " + promAccept +
			"\r\nAccept-Encoding: gzip\r\n\r\n")
	}
	conn := s.conn
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	n, err := s.roundTrip()
	if err != nil {
		s.close()
	}
	return n, reused, err
}

func (s *rawScraper) roundTrip() (int64, error) {
	if _, err := s.conn.Write(s.req); err != nil {
		return 0, err
	}
	line, err := s.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
		return 0, fmt.Errorf("status %q", bytes.TrimSpace(line))
	}
	length, closing := int64(-1), false
	for {
		line, err := s.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, fmt.Errorf("header line %q", bytes.TrimSpace(line))
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil {
				return 0, fmt.Errorf("Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, fmt.Errorf("Transfer-Encoding %q: the raw client reads Content-Length bodies only", value)
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	if length < 0 {
		return 0, fmt.Errorf("no Content-Length")
	}
	n, err := s.r.Discard(int(length))
	if err != nil {
		return int64(n), err
	}
	if closing {
		s.close()
	}
	return length, nil
}

// servedCounts reads the exporter's entra_exporter_scrape_requests_total by served value.
func servedCounts(c *http.Client, base string) (map[string]float64, error) {
	body, _, err := fetchMetrics(c, base, "identity")
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	const prefix = `entra_exporter_scrape_requests_total{served="`
	for line := range strings.Lines(string(body)) {
		rest, ok := strings.CutPrefix(line, prefix)
		if !ok {
			continue
		}
		served, value, ok := strings.Cut(rest, `"} `)
		if !ok || strings.Contains(served, `"`) { // another label: not the series counted here
			return nil, fmt.Errorf("unexpected line %q", line)
		}
		v, err := strconv.ParseFloat(strings.Fields(value)[0], 64)
		if err != nil {
			return nil, fmt.Errorf("line %q: %w", line, err)
		}
		out[served] = v
	}
	return out, nil // empty from an exporter that predates the counter
}

// scrapeOnce returns the exposition's size and number of samples.
func scrapeOnce(c *http.Client, base string) (int, int, error) {
	body, _, err := fetchMetrics(c, base, "identity")
	if err != nil {
		return 0, 0, err
	}
	n := 0
	for l := range strings.Lines(string(body)) {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			n++
		}
	}
	return len(body), n, nil
}

// fetchMetrics reads /metrics whole with Prometheus's Accept header and the given
// Accept-Encoding (the client must not decompress), and returns its body and headers.
func fetchMetrics(c *http.Client, base, encoding string) ([]byte, http.Header, error) {
	req, err := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", promAccept)
	req.Header.Set("Accept-Encoding", encoding)
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET %s/metrics: HTTP %d", base, resp.StatusCode)
	}
	return body, resp.Header, nil
}

// procCPU is a process's user + system CPU time (/proc/PID/stat, clock ticks of 1/100 s).
func procCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, err1 := strconv.ParseInt(fields[11], 10, 64)
	st, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

func procHWM(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM")
}

// writeState writes the population as a JSON state file (collector/state_legacy.go's format,
// which the exporter migrates to its journal at start).
func writeState(path, tenantID string, pop []series) error {
	counters := make(map[string]float64, len(pop))
	for _, s := range pop {
		counters[counterKey(s)] = s.value
	}
	st := map[string]any{"version": 1, "tenant": "loadtest", "tenant_id": tenantID,
		"fresh": time.Time{}, "reconcile": time.Time{}, "seen": map[string]int64{}, "counters": counters,
		"users": map[string]any{"salt": nil, "users": map[string][2]int64{}}, "committed": time.Now().UTC()}
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}
