// Command scrapeload measures /metrics under many concurrent scrapers: it runs the real exporter
// binary against a simulated tenant in a process of its own (internal/simtenantd) generating
// traffic in real time, with a large tenant's label population restored from a state file (see
// population.go), and scrapes with N concurrent clients for a while, each sending the next
// request as soon as the last one finished, as Prometheus's Accept header asks. It prints
// latency quantiles, scrapes per second, the exposition's size and series, and the exporter's
// CPU and peak RSS. scripts/bench.sh runs it.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
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
	)
	flag.Parse()
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

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *scrapers, MaxConnsPerHost: *scrapers}, Timeout: time.Minute}
	size, nseries, err := scrapeOnce(client, base)
	if err != nil {
		return err
	}
	// Two scrapes as the scrapers send them, before measuring: the first rendering in their
	// format (a cold start, once per process) and the switch to renewing renderings in the
	// background that steady concurrent scraping brings (scrapecache) are not what is measured.
	var wireBytes int64
	for range 2 {
		if wireBytes, err = scrape(context.Background(), client, base); err != nil {
			return err
		}
	}
	time.Sleep(time.Second)
	cpu0, err := procCPU(exp.Process.Pid)
	if err != nil {
		return err
	}
	logf("scraping with %d scrapers for %s (%d series, %d bytes)", *scrapers, *duration, nseries, size)
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var failures int
	var wg sync.WaitGroup
	started := time.Now()
	for range *scrapers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			tick := started
			for ctx.Err() == nil {
				if *interval > 0 {
					// Every scraper fires at the same instants: the worst case of concurrency.
					tick = tick.Add(*interval)
					select {
					case <-time.After(time.Until(tick)):
					case <-ctx.Done():
					}
					if ctx.Err() != nil {
						break
					}
				}
				t0 := time.Now()
				_, err := scrape(ctx, client, base)
				d := time.Since(t0)
				if ctx.Err() != nil {
					break // cut short by the end of the run: not a latency
				}
				if err != nil {
					bad++
					continue
				}
				mine = append(mine, d)
			}
			mu.Lock()
			lat = append(lat, mine...)
			failures += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(started)
	cpu1, err := procCPU(exp.Process.Pid)
	if err != nil {
		return err
	}
	hwm, _ := procHWM(exp.Process.Pid)
	if len(lat) == 0 {
		return fmt.Errorf("no successful scrape (%d failures)", failures)
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	res := map[string]any{
		"scrapers": *scrapers, "interval_s": interval.Seconds(), "scrapes": len(lat), "failures": failures,
		"scrapes_per_s": float64(len(lat)) / elapsed.Seconds(),
		"p50_ms":        q(0.5), "p90_ms": q(0.9), "p99_ms": q(0.99), "max_ms": q(1),
		"series": nseries, "bytes": size, "wire_bytes": wireBytes,
		"exporter_cpu_cores":    (cpu1 - cpu0).Seconds() / elapsed.Seconds(),
		"exporter_peak_rss_mib": float64(hwm) / (1 << 20),
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	return nil
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

// scrape fetches /metrics as Prometheus does and returns the bytes received.
func scrape(ctx context.Context, c *http.Client, base string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", promAccept)
	// As Prometheus asks; set explicitly so that the transport hands over the compressed body
	// instead of decompressing it here: the load generator shares the machine's two cores with
	// the exporter, and its own work must not be what is measured.
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, err
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return n, nil
}

// scrapeOnce returns the exposition's size and number of samples.
func scrapeOnce(c *http.Client, base string) (int, int, error) {
	req, err := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Accept", promAccept)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	n := 0
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			n++
		}
	}
	return len(body), n, nil
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
