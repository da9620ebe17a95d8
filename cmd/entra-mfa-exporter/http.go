package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/collector"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/metricdef"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/scrapecache"
)

// muxOptions are what the HTTP endpoints serve.
type muxOptions struct {
	metricsPath string
	registry    *prometheus.Registry
	ready       func() bool
	// reload runs a configuration reload and returns its error, already logged in detail.
	reload          func(context.Context) error
	enableLifecycle bool
	logger          *slog.Logger
	// changes counts what makes a cached /metrics rendering stale (collector.Manager.Changes).
	changes func() uint64
	// onChange, when set, registers a function called before changes moves
	// (collector.Manager.OnChange): the cached rendering is made before the change is published.
	onChange func(func(uint64))
	// summary feeds the landing page (landing.go); demo marks it as simulated.
	summary func(...time.Duration) []collector.TenantSummary
	demo    bool
}

// Answers of /-/reload. A failed reload answers a generic body: its error can quote a value
// from the file, and a secret pasted into the wrong field must not reach an HTTP client. The
// details are in the log.
const (
	lifecycleDisabledBody = "Lifecycle API is not enabled." // Prometheus's wording
	reloadFailedBody      = "failed to reload the configuration; the running configuration is kept (see the exporter's log for why)"
)

// scrapeMaxAge is the oldest rendering of /metrics served to a scraper: far below any scrape
// interval, long enough that fifty scrapers at once share a handful of renderings a second.
const scrapeMaxAge = time.Second

// newMux serves the landing page, metrics, health, readiness and reload endpoints.
func newMux(o muxOptions) *http.ServeMux {
	metricsPath, reg, logger := o.metricsPath, o.registry, o.logger
	mux := http.NewServeMux()
	// Concurrent scrapers share one rendering, at most scrapeMaxAge old (scrapecache).
	metrics := scrapecache.New(promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
		EnableOpenMetrics: true,
		Registry:          reg, // exposes promhttp_metric_handler_errors_total
	}), scrapeMaxAge)
	if o.changes != nil {
		metrics.WithVersion(o.changes)
	}
	metrics.WithObserver(scrapeRequests(reg))
	if o.onChange != nil {
		o.onChange(metrics.Prepare)
	}
	mux.Handle(metricsPath, metrics)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Healthy")
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !o.ready() {
			http.Error(w, "Not ready: waiting for the first successful poll of every tenant", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready")
	})
	// As Prometheus: 405 for other methods whatever the flag, 403 for POST and PUT without it.
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "This endpoint requires a POST request.", http.StatusMethodNotAllowed)
			return
		}
		if !o.enableLifecycle {
			http.Error(w, lifecycleDisabledBody, http.StatusForbidden)
			return
		}
		if err := o.reload(r.Context()); err != nil {
			http.Error(w, reloadFailedBody, http.StatusInternalServerError)
			return
		}
		metrics.Invalidate() // the reload is applied when POST returns: so are its metrics
		fmt.Fprintln(w, "Reloaded")
	})
	if metricsPath != "/" {
		mux.Handle("/", newLandingHandler(landingOptions{
			links: []landingLink{
				{Address: metricsPath, Text: "Metrics"},
				{Address: "/-/healthy", Text: "Health"},
				{Address: "/-/ready", Text: "Readiness", Description: "ready after the first successful poll of every tenant"},
			},
			demo: o.demo, summary: o.summary, logger: logger,
		}))
	}
	return mux
}

// scrapeRequests counts /metrics requests by how the cache served them, on reg (the counter
// already there when a mux was made on reg before).
func scrapeRequests(reg prometheus.Registerer) func(scrapecache.Served) {
	vec := metricdef.ScrapeRequests.CounterVec()
	if err := reg.Register(vec); err != nil {
		are, ok := err.(prometheus.AlreadyRegisteredError)
		if !ok {
			panic(err) // the table's own family: cannot clash but with itself
		}
		vec = are.ExistingCollector.(*prometheus.CounterVec)
	}
	for _, s := range scrapecache.AllServed {
		vec.WithLabelValues(string(s)) // every outcome exposed from the start, at 0
	}
	return func(s scrapecache.Served) { vec.WithLabelValues(string(s)).Inc() }
}
