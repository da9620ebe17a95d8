// Command entra-mfa-exporter exposes Microsoft Entra ID sign-in and MFA activity, read from
// Microsoft Graph, as Prometheus metrics.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/collector"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// defaultListenAddress is the exporter's port; 9905 was free in the Prometheus default port
// allocation list when the project started.
const defaultListenAddress = ":9905"

func init() {
	// Builds without -ldflags (go run, go test) would expose empty build_info labels.
	if version.Version == "" {
		version.Version = "dev"
	}
	if version.Branch == "" {
		version.Branch = "unknown"
	}
	if version.Revision == "" {
		version.Revision = "unknown"
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses args and runs the chosen command until ctx is done; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := kingpin.New("entra-mfa-exporter", "Prometheus exporter for Microsoft Entra ID sign-in and MFA activity, read from Microsoft Graph.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	app.Version(version.Print("entra-mfa-exporter"))
	app.HelpFlag.Short('h')

	configFile := app.Flag("config.file", "Path of the configuration file.").Default("entra-mfa-exporter.yml").String()
	promslogConfig := &promslog.Config{Writer: stderr}
	flag.AddFlags(app, promslogConfig)

	serve := app.Command("serve", "Run the exporter (the default command).").Default()
	demo := serve.Flag("demo", "Run against an embedded simulated tenant instead of Microsoft Graph (no Azure account needed). The data is simulated.").Bool()
	demoRate := serve.Flag("demo.flows-per-second", "Sign-in flows per second the simulated tenant generates in --demo.").Default("2").Float64()
	metricsPath := serve.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
	storagePath := serve.Flag("storage.path", "Directory for the per-tenant state (cursors, remembered row ids, counter values) that makes counting exactly-once across restarts. Empty disables persistence. --demo uses a temporary directory.").Default("data").String()
	shard := serve.Flag("tenants.shard", "Serve only the tenants of shard K of N (K/N, 1-based), chosen by a hash of the tenant name, to split tenants across replicas.").Default("1/1").String()
	webConfig := kingpinflag.AddFlags(serve, defaultListenAddress)

	checkConfig := app.Command("check-config", "Validate the configuration file and exit (0 when valid).")
	report := addReportCommand(app)

	cmd, err := app.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "entra-mfa-exporter: %v\n", err)
		return 2
	}
	logger := promslog.New(promslogConfig)

	switch cmd {
	case checkConfig.FullCommand():
		cfg, err := config.Load(*configFile)
		if err != nil {
			fmt.Fprintf(stderr, "%v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: valid, %d tenant(s)\n", *configFile, len(cfg.Tenants))
		return 0
	case report.FullCommand():
		return report.run(ctx, *configFile, stdout, stderr, logger)
	case serve.FullCommand():
		sh, err := parseShard(*shard)
		if err != nil {
			fmt.Fprintf(stderr, "entra-mfa-exporter: --tenants.shard: %v\n", err)
			return 2
		}
		if err := runServer(ctx, serverOptions{
			configFile: *configFile, demo: *demo, demoRate: *demoRate, storagePath: *storagePath, shard: sh,
			metricsPath: *metricsPath, web: webConfig, logger: logger,
		}); err != nil {
			logger.Error("exporter stopped", "err", err)
			return 1
		}
		return 0
	}
	return 2
}

type serverOptions struct {
	configFile  string
	storagePath string
	shard       shard
	demo        bool
	demoRate    float64
	metricsPath string
	web         *web.FlagConfig
	logger      *slog.Logger
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
		}
		manager.Apply(mine)
	}

	// reload loads the configuration file again; a bad file is rejected and the running
	// configuration kept (SafeConfig records the failure in its metrics).
	reload := func() error {
		if err := safe.Reload(o.configFile); err != nil {
			return err
		}
		apply(safe.Get())
		return nil
	}
	var demoSim *simtenant.Tenant
	if o.demo {
		cfg, sim, cleanup, err := startDemo(ctx, logger, o.demoRate)
		if err != nil {
			return fmt.Errorf("starting the simulated tenant: %w", err)
		}
		defer cleanup()
		demoSim = sim
		safe.Set(cfg)
		apply(cfg)
		reload = func() error { return errors.New("demo mode has no configuration file to reload") }
	} else {
		if err := safe.Reload(o.configFile); err != nil {
			return fmt.Errorf("loading configuration: %w", err)
		}
		apply(safe.Get())
		logger.Info("configuration loaded", "file", o.configFile, "tenants", len(safe.Get().Tenants))
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := reload(); err != nil {
					logger.Error("configuration reload failed, keeping the running configuration", "err", err)
				} else {
					logger.Info("configuration reloaded", "file", o.configFile)
				}
			}
		}
	}()

	mux := newMux(o.metricsPath, reg, manager.Ready, reload, logger)
	if demoSim != nil {
		mux.Handle("/-/demo/burst", burstHandler(demoSim))
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
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
