// Command simtenantd runs the simulated tenant (simtenant) standalone, in a process of its own, so
// that a benchmark can measure the exporter's process alone: the compressed-day benchmark
// (collector, ENTRA_DAY_SIM=process) and the scrape load generator (internal/scrapeload). It is a
// test helper, not part of the exporter, and is built by the benchmarks that use it.
//
// It writes what a client needs (endpoints, tenant and client ids, secret, CA file, control
// address) as JSON to --info, and serves a plain-HTTP control API on loopback:
//
//	POST /clock?t=RFC3339Nano           set the tenant's clock (with --fake-clock)
//	POST /backfill?from=&to=&rate=      generate flows with createdDateTime in [from, to)
//	GET  /truth                         {"flows": n, "rows": n}: what was generated so far
//
// It exits when its standard input closes (its parent died or is done) or on SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// Info is what --info receives (internal/simproc reads it).
type Info struct {
	GraphEndpoint string `json:"graph_endpoint"`
	AuthorityHost string `json:"authority_host"`
	TenantID      string `json:"tenant_id"`
	ClientID      string `json:"client_id"`
	SecretFile    string `json:"secret_file"`
	CAFile        string `json:"ca_file"`
	Control       string `json:"control"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "simtenantd:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		info      = flag.String("info", "", "file to write the connection details to (JSON)")
		seed      = flag.Int64("seed", 1, "generator seed")
		users     = flag.Int("users", 500, "simulated users")
		order     = flag.String("order", "newest_first", "row order: newest_first, ascending, shuffled")
		ignoreUB  = flag.Bool("ignore-upper-bound", false, "ignore the le bound of the time filter")
		rate      = flag.Float64("rate", 0, "flows per second generated in real time (0: none)")
		backfill  = flag.Duration("backfill", 0, "with --rate: flows generated at start for this much time before now")
		fakeClock = flag.String("fake-clock", "", "start a clock set by POST /clock at this RFC 3339 time, instead of the real clock")
		retention = flag.Duration("retention", 0, "forget rows older than this (0: keep)")
		maxRows   = flag.Int("max-rows", 0, "most rows held (0: the simulated tenant's default)")
		lateness  = flag.Float64("lateness-scale", 0, "ingestion delay scale (0: realistic, negative: none)")
		noPadding = flag.Bool("no-padding", false, "omit the bulky MFA-irrelevant fields of generated rows")
	)
	flag.Parse()
	if *info == "" {
		return fmt.Errorf("--info is required")
	}
	opts := simtenant.Options{Seed: *seed, Users: *users, RateLimit: -1, IgnoreUpperBound: *ignoreUB,
		Retention: *retention, MaxRows: *maxRows, LatenessScale: *lateness, NoPadding: *noPadding,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	switch *order {
	case "newest_first":
	case "ascending":
		opts.Order = simtenant.OrderAscending
	case "shuffled":
		opts.Order = simtenant.OrderShuffled
	default:
		return fmt.Errorf("--order %q: want newest_first, ascending or shuffled", *order)
	}
	var clock atomic.Int64
	if *fakeClock != "" {
		t, err := time.Parse(time.RFC3339Nano, *fakeClock)
		if err != nil {
			return fmt.Errorf("--fake-clock: %w", err)
		}
		clock.Store(t.UnixNano())
		opts.Now = func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	}
	sim, err := simtenant.Start(opts)
	if err != nil {
		return err
	}
	defer sim.Close()

	dir, err := os.MkdirTemp("", "simtenantd-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	inf := Info{GraphEndpoint: sim.GraphEndpoint(), AuthorityHost: sim.AuthorityHost(), TenantID: sim.TenantID(),
		ClientID: sim.ClientID(), SecretFile: filepath.Join(dir, "secret"), CAFile: filepath.Join(dir, "ca.pem")}
	if err := sim.WriteCACert(inf.CAFile); err != nil {
		return err
	}
	if err := os.WriteFile(inf.SecretFile, []byte(sim.ClientSecret()), 0o600); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	inf.Control = "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /clock", func(w http.ResponseWriter, r *http.Request) {
		t, err := time.Parse(time.RFC3339Nano, r.URL.Query().Get("t"))
		if err != nil || *fakeClock == "" {
			http.Error(w, "want t=RFC3339Nano, and --fake-clock", http.StatusBadRequest)
			return
		}
		clock.Store(t.UnixNano())
	})
	mux.HandleFunc("POST /backfill", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		from, err1 := time.Parse(time.RFC3339Nano, q.Get("from"))
		to, err2 := time.Parse(time.RFC3339Nano, q.Get("to"))
		rate, err3 := strconv.ParseFloat(q.Get("rate"), 64)
		if err1 != nil || err2 != nil || err3 != nil {
			http.Error(w, "want from, to (RFC3339Nano) and rate", http.StatusBadRequest)
			return
		}
		sim.Backfill(from, to, rate)
	})
	mux.HandleFunc("GET /truth", func(w http.ResponseWriter, _ *http.Request) {
		tr := sim.Truth()
		rows := 0
		for _, n := range tr.Rows {
			rows += n
		}
		_ = json.NewEncoder(w).Encode(map[string]int{"flows": tr.Flows, "rows": rows})
	})
	go func() { _ = http.Serve(ln, mux) }()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if *rate > 0 {
		now := time.Now()
		if *backfill > 0 {
			sim.Backfill(now.Add(-*backfill), now, *rate)
		}
		go sim.Run(ctx, *rate)
	}
	data, err := json.Marshal(inf)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*info+".tmp", data, 0o600); err != nil {
		return err
	}
	if err := os.Rename(*info+".tmp", *info); err != nil {
		return err
	}
	go func() { // the parent closes our standard input when it is done or dies
		_, _ = io.Copy(io.Discard, os.Stdin)
		stop()
	}()
	<-ctx.Done()
	return nil
}
