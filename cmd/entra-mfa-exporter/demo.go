package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// Demo timings: compressed so that counters, the distinct-user gauges and the dashboards move
// within seconds. The simulated tenant's lateness is scaled down by the same idea (a row that is
// 2 minutes late in a real tenant is about 2 seconds late here).
const (
	demoBackfill          = 15 * time.Minute
	demoPollInterval      = 10 * time.Second // the configuration's minimum
	demoSettleDelay       = 5 * time.Second
	demoReconcileDelay    = time.Minute // the configuration's minimum
	demoReconcileInterval = 10 * time.Second
	demoLatenessScale     = 0.02
	// The simulated tenant forgets rows the exporter can no longer ask for (look-back plus the
	// reconcile horizon, with a margin) and holds at most demoMaxRows, so a demo left running
	// for days keeps a bounded memory (a padded row costs about 12 KB).
	demoRetention = demoBackfill + 3*time.Minute
	demoMaxRows   = 20_000
	// demoPageSize caps the rows per page the simulated tenant serves. Tenant and exporter share
	// the demo's process, and a page is held several times over while it travels (the tenant's
	// encoded page, the TLS records, the exporter's read buffer, its decoded rows): 1,000 padded
	// rows made 40 MB of garbage per page. At the demo's rates a page of 250 still holds far
	// more than a poll reads.
	demoPageSize = 250
	// demoMemoryLimit and demoGCPercent are the Go runtime's soft memory limit and GOGC in
	// --demo, unless GOMEMLIMIT or GOGC say otherwise. The simulated tenant keeps 40-50 MB of
	// rows in the same process, and the garbage collector's default pacing lets the heap grow to
	// twice what is live: 135 MiB of RSS. With both the demo's day peaks at about 80 MiB
	// (BenchmarkDemoDay); the collections they add cost nothing noticeable at the demo's rates.
	demoMemoryLimit = 64 << 20
	demoGCPercent   = 50
	// Scripted attacks (simtenant/scenarios.go): a fatigue episode starts 20 s after the start
	// and shows on the Attacks row about three minutes later; then one scenario every 5 minutes.
	demoFirstScenario = 20 * time.Second
	demoScenarioEvery = 5 * time.Minute
)

// startDemo starts the simulated tenant in-process and returns a configuration that points the
// real pipeline (azidentity client-secret flow, Graph client, collector) at it. The CA certificate
// and the client secret go to a temporary directory, exactly as a real deployment would mount
// them, so the demo exercises the same code path as production.
func startDemo(ctx context.Context, logger *slog.Logger, flowsPerSecond float64) (*config.Config, *simtenant.Tenant, func(), error) {
	return startDemoClock(ctx, logger, flowsPerSecond, nil)
}

// startDemoClock is startDemo on a clock of the caller's (nil: the real one). With a clock the
// simulated tenant generates nothing by itself (the caller backfills as time moves) and does not
// throttle: the compressed-time demo day, BenchmarkDemoDay.
func startDemoClock(ctx context.Context, logger *slog.Logger, flowsPerSecond float64, clock func() time.Time) (*config.Config, *simtenant.Tenant, func(), error) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(demoMemoryLimit)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(demoGCPercent)
	}
	rateLimit := 0 // Graph's budget
	if clock != nil {
		rateLimit = -1 // the clock stands still during a poll: a budget per 10 s would never refill
	}
	sim, err := simtenant.Start(simtenant.Options{
		RateLimit:     rateLimit,
		Seed:          time.Now().UnixNano(),
		Now:           clock,
		LatenessScale: demoLatenessScale,
		Retention:     demoRetention,
		MaxRows:       demoMaxRows,
		PageSize:      demoPageSize,
		Logger:        logger.With("component", "simtenant"),
	})
	if err != nil {
		return nil, nil, nil, err
	}
	dir, err := os.MkdirTemp("", "entra-mfa-exporter-demo-")
	if err != nil {
		sim.Close()
		return nil, nil, nil, err
	}
	cleanup := func() {
		sim.Close()
		os.RemoveAll(dir)
	}
	caFile := filepath.Join(dir, "ca.pem")
	secretFile := filepath.Join(dir, "client-secret")
	if err := sim.WriteCACert(caFile); err != nil {
		cleanup()
		return nil, nil, nil, err
	}
	if err := os.WriteFile(secretFile, []byte(sim.ClientSecret()), 0o600); err != nil {
		cleanup()
		return nil, nil, nil, err
	}

	now := time.Now()
	if clock != nil {
		now = clock()
	}
	sim.Backfill(now.Add(-demoBackfill), now, flowsPerSecond)
	runCtx, cancelRun := context.WithCancel(ctx)
	if clock == nil {
		go sim.Run(runCtx, flowsPerSecond)
		go sim.RunScenarios(runCtx, demoFirstScenario, demoScenarioEvery)
	}
	stop := func() { cancelRun(); cleanup() }

	cfg := &config.Config{Tenants: []config.Tenant{{
		Name:          "demo",
		TenantID:      sim.TenantID(),
		Cloud:         "custom",
		AuthorityHost: sim.AuthorityHost(),
		GraphEndpoint: sim.GraphEndpoint(),
		CAFile:        caFile,
		Credential: config.Credential{
			Type:             "client_secret",
			ClientID:         sim.ClientID(),
			ClientSecretFile: secretFile,
		},
		SignIns: config.SignIns{
			PollInterval:      config.Duration(demoPollInterval),
			SettleDelay:       config.Duration(demoSettleDelay),
			ReconcileDelay:    config.Duration(demoReconcileDelay),
			ReconcileInterval: config.Duration(demoReconcileInterval),
			Lookback:          config.Duration(demoBackfill + time.Minute),
			EventTypes:        []string{"interactive", "non_interactive"},
			// 24h too, so that the landing page can answer its last-24-hours questions about users.
			UserWindows: []config.Duration{config.Duration(5 * time.Minute), config.Duration(time.Hour), config.Duration(24 * time.Hour)},
		},
	}}}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		stop()
		return nil, nil, nil, fmt.Errorf("demo configuration: %w", err)
	}
	logger.Warn("DEMO MODE: the data is SIMULATED by an embedded fake tenant, not read from Microsoft Entra ID",
		"authority", sim.AuthorityHost(), "graph", sim.GraphEndpoint(), "flows_per_second", flowsPerSecond)
	return cfg, sim, stop, nil
}

// maxBurst caps one burst request. A burst of 100,000 rows took 18 s and 3 GB; a thousand is
// already far above what the failure-spike alert needs (the end-to-end test sends 600), and a
// demo user who wants more can call again.
const maxBurst = simtenant.MaxBurst

// burstHandler lets a demo user (and the end-to-end tests of the alert rules) make the simulated
// tenant emit a burst of MFA denials now: POST /-/demo/burst?kind=user_declined&n=200. Kinds are
// the denied-reason labels and "mfa_fatigue"; kind=fatigue (no n) starts the push bombing of one
// user, which the detector reports as a fatigue episode. It exists only in --demo.
func burstHandler(sim *simtenant.Tenant) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "This endpoint requires a POST request.", http.StatusMethodNotAllowed)
			return
		}
		kind := r.URL.Query().Get("kind")
		if kind == simtenant.ScenarioFatigue {
			sc, err := sim.PlayScenario(kind, time.Now(), simtenant.ScenarioOptions{})
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			fmt.Fprintf(w, "simulated push bombing of user %s from %s to %s\n", sc.UserID, sc.Start.Format(time.RFC3339), sc.End.Format(time.RFC3339))
			return
		}
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n <= 0 || n > maxBurst {
			http.Error(w, fmt.Sprintf("n must be an integer between 1 and %d", maxBurst), http.StatusBadRequest)
			return
		}
		if err := sim.Burst(kind, n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "simulated %d %s rows\n", n, kind)
	}
}
