package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graphclient"
)

// Manager runs one ingestion loop per configured tenant and applies new configurations. The
// per-tenant ingestion state (high-water mark, remembered ids, distinct-user tracker, request
// budget) is kept across reloads so a reload never re-counts rows or resets the budget.
type Manager struct {
	metrics *Metrics
	logger  *slog.Logger
	now     func() time.Time

	// Test hooks, zero in production: graphOptions adjusts each client's options (shorter retry
	// delays, wrapped observer); budgetPer replaces the 10-second budget window; manual stops
	// Apply from starting poll loops, so a test drives polls itself with pollOnce.
	graphOptions func(*graph.Options)
	budgetPer    time.Duration
	manual       bool

	store      stateStore
	appPacer   *graph.Pacer // the app registration's budget across all tenants
	regGauges  *RegistrationMetrics
	guardClock bool
	upnKey     []byte // pseudonymises UPNs in detections (detections.go)

	mu      sync.Mutex
	tenants map[string]*tenantRunner
	ctx     context.Context

	changes changeCount // see Changes
}

// changeCount counts Manager.Changes. A change is made (a poll's counts committed, its health
// recorded), then counted in latest, then prepared (the function OnChange set renders /metrics
// with it), then published: Changes returns it. Whatever the change's source shows elsewhere
// (readiness) it shows after publishing, so a response of the cache never misses it.
type changeCount struct {
	latest, published atomic.Uint64
	prepare           atomic.Pointer[func(uint64)]
}

// add counts a change made by the calling goroutine, prepares and publishes it.
func (c *changeCount) add() {
	v := c.latest.Add(1)
	if f := c.prepare.Load(); f != nil {
		(*f)(v)
	}
	c.publish(v)
}

// addLocked counts and publishes a change made while holding the Manager's lock (Apply), which
// renderings of /metrics take: it is prepared afterwards, in the background, so requests that
// meet it wait for the new rendering instead.
func (c *changeCount) addLocked() {
	v := c.latest.Add(1)
	c.publish(v)
	if f := c.prepare.Load(); f != nil {
		go (*f)(v)
	}
}

// publish makes Changes at least v; changes ending together publish in any order.
func (c *changeCount) publish(v uint64) {
	for {
		p := c.published.Load()
		if p >= v || c.published.CompareAndSwap(p, v) {
			return
		}
	}
}

// Options configure a Manager.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time // nil: time.Now
	// StoragePath is the directory of the per-tenant state files; empty disables persistence.
	StoragePath string
}

// NewManager creates a Manager whose metrics are registered on reg. Loops start on Apply and stop
// when ctx is done.
func NewManager(ctx context.Context, reg prometheus.Registerer, opts Options) *Manager {
	guardClock := opts.Now == nil // only the real wall clock can step; injected clocks are tests
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{
		metrics: NewMetrics(reg), logger: opts.Logger, now: opts.Now,
		tenants: map[string]*tenantRunner{}, ctx: ctx,
		store:      stateStore{dir: opts.StoragePath},
		guardClock: guardClock,
		appPacer:   graphclient.NewAppPacer(),
	}
	if wide, err := m.store.checkDir(); err != nil {
		m.logger.Error("storage directory unusable", "path", opts.StoragePath, "err", err)
	} else if wide != 0 {
		m.logger.Warn("storage directory is readable or writable by other users; chmod 700 it", "path", opts.StoragePath, "mode_bits_for_others", fmt.Sprintf("%#o", wide))
	}
	var err error
	if m.upnKey, err = loadUPNKey(opts.StoragePath); err != nil {
		m.logger.Error("cannot read or create the UPN pseudonymisation key; using a random one: pseudonyms will change at every start", "err", err)
		m.upnKey, _ = randomKey()
	}
	m.regGauges = NewRegistrationMetrics(reg)
	reg.MustRegister(&usersCollector{m: m}, &countersCollector{m: m}, &coverageCollector{m: m}, &detectionsCollector{m: m})
	return m
}

// Apply makes the running set of tenants match cfg: tenants no longer configured stop and their
// series are deleted; new tenants start; changed tenants restart with their ingestion state kept.
func (m *Manager) Apply(cfg *config.Config) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.changes.addLocked()
	want := map[string]config.Tenant{}
	for _, t := range cfg.Tenants {
		want[t.Name] = t
	}
	for name, r := range m.tenants {
		if _, ok := want[name]; !ok {
			r.stop()
			delete(m.tenants, name)
			m.metrics.deleteTenant(name)
			m.regGauges.deleteTenant(name)
			m.logger.Info("tenant removed", "tenant", name)
		}
	}
	for _, t := range cfg.Tenants {
		r, ok := m.tenants[t.Name]
		if ok && reflect.DeepEqual(r.cfg, t) && r.initErr == nil {
			continue
		}
		if ok && r.cfg.TenantID != t.TenantID {
			// Another tenant under the same name: nothing of the old one's state applies.
			r.stop()
			delete(m.tenants, t.Name)
			m.metrics.deleteTenant(t.Name)
			m.regGauges.deleteTenant(t.Name)
			ok = false
		}
		if ok {
			r.stop()
			r.cfg = t
			r.source.setSettings(t.SignIns)
			r.users.setWindows(durations(t.SignIns.UserWindows)) // users kept, and their uncommitted changes
			r.cov.setLimits(t.Coverage)
			r.source.setDetections(t.Detections)
			m.logger.Info("tenant configuration changed, restarting its loop", "tenant", t.Name)
		} else {
			st := m.restore(t.Name, t.TenantID)
			var us usersState
			if st != nil {
				us = st.Users
			}
			users := newUserTracker(durations(t.SignIns.UserWindows), us)
			src := newSignInSource(t.Name, t.SignIns, m.metrics, st, m.store, users, m.logger, m.now)
			src.tenantID = t.TenantID
			src.det = newTenantDetections(t.Name, t.Detections, restoredDetections(st), m.upnKey, m.logger)
			src.guardClock = m.guardClock
			src.changes = &m.changes
			src.coverage = newCoverageTracker(t.Coverage, st)
			// Committed in the same transaction as the cursors, ids and counters (state.go).
			src.addPart(&summaryPart{ring: src.summary})
			src.addPart(&versionedPart{name: partCoverage, version: func() uint64 { return src.coverage.version() }, value: func() any { return src.coverage.export() }})
			src.addPart(&detectionsPart{src: src})
			r = &tenantRunner{
				cfg:    t,
				users:  users,
				counts: src.counts,
				pacer:  graph.NewPacer(graphclient.TenantRequests, m.budgetWindow()),
				source: src,
				reg:    newRegistrationSource(t.Name, m.metrics, m.regGauges, m.logger, m.now),
				cov:    src.coverage,
				polSrc: newPolicySource(t.Name, m.metrics, src.coverage, m.logger, m.now),
			}
			r.reg.changes = &m.changes
			m.tenants[t.Name] = r
			m.logger.Info("tenant added", "tenant", t.Name, "tenant_id", t.TenantID, "cloud", t.Cloud)
		}
		r.client, r.initErr = m.newClient(t, r.pacer)
		if r.initErr != nil {
			r.source.ok.Store(false) // not polling: not ready, whatever earlier polls did
			m.logger.Error("cannot set up Graph client for tenant", "tenant", t.Name, "err", r.initErr)
			r.source.health.failed(fmt.Errorf("%w: %w", graph.ErrAuthentication, r.initErr))
			continue
		}
		if !t.Registration.IsEnabled() {
			m.regGauges.deleteTenant(t.Name)
		}
		if !m.manual {
			r.start(m.ctx)
		}
	}
}

// restore loads a tenant's committed state, reporting (once, clearly) a file that could not be
// used; the tenant then starts from its look-back instead of crashing or silently counting from
// zero without saying so.
func (m *Manager) restore(tenant, tenantID string) *tenantState {
	st, err := m.store.load(tenant, tenantID, m.now())
	switch {
	case errors.Is(err, errCorruptState):
		m.metrics.StateRestore.WithLabelValues(tenant, "corrupt").Inc()
		m.logger.Error("state file unusable, starting from the configured look-back", "tenant", tenant, "err", err)
	case err != nil:
		m.metrics.StateRestore.WithLabelValues(tenant, "error").Inc()
		m.logger.Error("cannot read state file, starting from the configured look-back", "tenant", tenant, "err", err)
	case st == nil:
		m.metrics.StateRestore.WithLabelValues(tenant, "none").Inc()
	default:
		m.metrics.StateRestore.WithLabelValues(tenant, "restored").Inc()
		m.logger.Info("state restored", "tenant", tenant, "fresh_cursor", st.Fresh, "reconcile_cursor", st.Reconcile,
			"remembered_ids", len(st.Seen), "committed", st.Committed)
	}
	return st
}

func (m *Manager) budgetWindow() time.Duration {
	if m.budgetPer > 0 {
		return m.budgetPer
	}
	return graphclient.PacerWindow
}

// pollOnce runs one sign-in poll of a tenant now, without a time box (tests).
func (m *Manager) pollOnce(ctx context.Context, tenant string) error {
	return m.pollOnceUntil(ctx, tenant, time.Time{})
}

// pollOnceUntil runs one sign-in poll whose reconcile read stops at deadline (tests).
func (m *Manager) pollOnceUntil(ctx context.Context, tenant string, deadline time.Time) error {
	m.mu.Lock()
	r, ok := m.tenants[tenant]
	m.mu.Unlock()
	if !ok {
		return fmt.Errorf("no tenant %q", tenant)
	}
	if r.initErr != nil {
		return r.initErr
	}
	return r.source.poll(ctx, r.client, deadline)
}

// Ready reports whether every configured tenant has completed a successful poll; with no tenant
// (a shard nothing falls in) there is nothing to wait for.
func (m *Manager) Ready() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.tenants {
		if !r.source.ready() {
			return false
		}
	}
	return true
}

// Stop stops every loop and waits for them.
func (m *Manager) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.tenants {
		r.stop()
	}
}

// newClient builds the credential and Graph client of a tenant from its configuration.
func (m *Manager) newClient(t config.Tenant, pacer *graph.Pacer) (*graph.Client, error) {
	return graphclient.New(t, graphclient.Options{
		Pacer: pacer, AppPacer: m.appPacer, Observer: observer{m: m.metrics, tenant: t.Name},
		Logger: m.logger, Adjust: m.graphOptions,
	})
}

func durations(ds []config.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = time.Duration(d)
	}
	return out
}
