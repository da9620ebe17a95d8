package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/collector"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
)

type serverOptions struct {
	configFile      string
	storagePath     string
	shard           shard
	demo            bool
	demoRate        float64
	metricsPath     string
	enableLifecycle bool
	detectionsAPI   bool // serve /api/v1/detections
	web             *web.FlagConfig
	timeouts        httpTimeouts // zero: defaultHTTPTimeouts
	logger          *slog.Logger
}

// httpTimeouts bound how long a connection may hold the server without progress. Without them
// anyone who can reach the port (no credentials needed: the timeouts act before basic auth) can
// hold thousands of idle connections indefinitely.
type httpTimeouts struct {
	readHeader, read, write, idle time.Duration
}

var defaultHTTPTimeouts = httpTimeouts{
	// A scraper sends its request headers in one packet; ten seconds is generous.
	readHeader: 10 * time.Second,
	// No endpoint takes a request body worth waiting for.
	read: 30 * time.Second,
	// From the end of the request headers to the end of the response: gathering and writing
	// /metrics to a slow scraper, or a reload stopping and starting tenant loops. Prometheus
	// abandons a scrape at its scrape_timeout, which is at most the scrape interval and rarely
	// above a minute, so two minutes never cuts a scrape someone is still waiting for.
	write: 2 * time.Minute,
	// Keep-alive between scrapes: longer than the usual 15 s to 1 min scrape interval, so that
	// Prometheus reuses its connection (and TLS session) instead of reconnecting each time.
	idle: 2 * time.Minute,
}

// newHTTPServer returns the exporter's HTTP server; exporter-toolkit's web.ListenAndServe adds
// TLS and basic auth to it (web.config.file) and keeps these timeouts. The server's own errors
// (failed TLS handshakes, accept errors) go to the structured log rather than raw stderr.
func newHTTPServer(h http.Handler, t httpTimeouts, logger *slog.Logger) *http.Server {
	if t == (httpTimeouts{}) {
		t = defaultHTTPTimeouts
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		WriteTimeout:      t.write,
		IdleTimeout:       t.idle,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
	}
}

func runServer(ctx context.Context, o serverOptions) error {
	logger := o.logger
	logger.Info("starting entra-mfa-exporter", "version", version.Info(), "build_context", version.BuildContext())

	reg := prometheus.NewRegistry()
	reg.MustRegister(versioncollector.NewCollector("entra_exporter"),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	safe := config.NewSafeConfig(reg)
	storage := o.storagePath
	if o.demo {
		dir, err := os.MkdirTemp("", "entra-mfa-exporter-demo-state-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		storage = dir
	}
	manager := collector.NewManager(ctx, reg, collector.Options{Logger: logger, StoragePath: storage})
	defer manager.Stop()
	// apply hands the manager the tenants of this replica's shard.
	apply := func(cfg *config.Config) {
		mine := o.shard.filter(cfg)
		if o.shard.count > 1 {
			logger.Info("tenant shard", "shard", o.shard.String(), "tenants", len(mine.Tenants), "of", len(cfg.Tenants))
			if len(mine.Tenants) == 0 {
				logger.Warn("no configured tenant falls in this replica's shard; it polls nothing", "shard", o.shard.String())
			}
		}
		manager.Apply(mine)
	}

	// load reads the configuration file and applies exactly what it read; a bad file is rejected
	// and the running configuration kept (SafeConfig records the failure in its metrics).
	load := func() error {
		cfg, err := safe.Reload(o.configFile)
		if err != nil {
			return err
		}
		apply(cfg)
		return nil
	}
	var burst http.Handler
	if o.demo {
		cfg, sim, cleanup, err := startDemo(ctx, logger, o.demoRate)
		if err != nil {
			return fmt.Errorf("starting the simulated tenant: %w", err)
		}
		defer cleanup()
		burst = burstHandler(sim)
		safe.Set(cfg)
		apply(cfg)
		load = func() error { return errors.New("demo mode has no configuration file to reload") }
	} else {
		if err := load(); err != nil {
			return fmt.Errorf("loading configuration: %w", err)
		}
		logger.Info("configuration loaded", "file", o.configFile, "tenants", len(safe.Get().Tenants))
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reloads := newReloader(logger)
	go reloads.run(ctx, hup, load)

	mux := newMux(muxOptions{
		metricsPath: o.metricsPath, registry: reg, ready: manager.Ready,
		reload: reloads.reload, enableLifecycle: o.enableLifecycle, logger: logger, changes: manager.Changes,
		onChange: manager.OnChange, summary: manager.Summary, demo: o.demo,
	})
	if burst != nil {
		mux.Handle("/-/demo/burst", burst)
	}
	if o.detectionsAPI {
		mux.Handle(detectionsPath, detectionsHandler(manager, logger))
	}
	srv := newHTTPServer(mux, o.timeouts, logger)
	errc := make(chan error, 1)
	go func() { errc <- web.ListenAndServe(srv, o.web, logger) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		logger.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	}
}
