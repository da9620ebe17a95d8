package collector

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"reflect"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
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

	mu      sync.Mutex
	tenants map[string]*tenantRunner
	ctx     context.Context
}

type tenantRunner struct {
	cfg     config.Tenant
	source  *signInSource
	reg     *registrationSource
	users   *userTracker
	counts  *tenantCounts
	pacer   *graph.Pacer
	cancel  context.CancelFunc
	done    chan struct{}
	client  *graph.Client
	initErr error
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
		appPacer:   graph.NewPacer(appRequestsPerWindow, graphBudgetWindow+budgetMargin),
	}
	if wide, err := m.store.checkDir(); err != nil {
		m.logger.Error("storage directory unusable", "path", opts.StoragePath, "err", err)
	} else if wide != 0 {
		m.logger.Warn("storage directory is readable or writable by other users; chmod 700 it", "path", opts.StoragePath, "mode_bits_for_others", fmt.Sprintf("%#o", wide))
	}
	m.regGauges = NewRegistrationMetrics(reg)
	reg.MustRegister(&usersCollector{m: m}, &countersCollector{m: m})
	return m
}

// Apply makes the running set of tenants match cfg: tenants no longer configured stop and their
// series are deleted; new tenants start; changed tenants restart with their ingestion state kept.
func (m *Manager) Apply(cfg *config.Config) {
	m.mu.Lock()
	defer m.mu.Unlock()
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
			if !reflect.DeepEqual(r.users.windows, durations(t.SignIns.UserWindows)) {
				r.users = newUserTracker(durations(t.SignIns.UserWindows), r.users.export())
				r.source.setUsers(r.users)
			}
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
			src.guardClock = m.guardClock
			r = &tenantRunner{
				cfg:    t,
				users:  users,
				counts: src.counts,
				pacer:  graph.NewPacer(graphRequestsPerWindow, m.budgetWindow()),
				source: src,
				reg:    newRegistrationSource(t.Name, m.metrics, m.regGauges, m.logger, m.now),
			}
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

// Graph's identity-and-access-reports budget: 5 requests per 10 seconds per app and tenant, and
// 122 per 10 seconds per app across all tenants.
const (
	graphRequestsPerWindow = 5
	appRequestsPerWindow   = 122
	graphBudgetWindow      = 10 * time.Second
)

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

// budgetMargin widens the pacer's window a little: the pacer counts when a request starts, Graph
// when it arrives, and a slow TLS handshake on one request and a fast one on another would
// otherwise put six arrivals inside Graph's ten seconds.
const budgetMargin = 500 * time.Millisecond

func (m *Manager) budgetWindow() time.Duration {
	if m.budgetPer > 0 {
		return m.budgetPer
	}
	return graphBudgetWindow + budgetMargin
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

// start runs the tenant's sources, each on its own interval; they share the tenant's request
// budget through the client's pacer.
func (r *tenantRunner) start(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	r.cancel, r.done = cancel, make(chan struct{})
	var wg sync.WaitGroup
	if r.cfg.Registration.IsEnabled() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			every(ctx, time.Duration(r.cfg.Registration.Interval), func() {
				_ = r.reg.poll(ctx, r.client) // errors are counted and logged by the source
			})
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		interval := time.Duration(r.cfg.SignIns.PollInterval)
		for {
			// The reconcile read may use three quarters of the interval, then yields to the next
			// fresh read: a backlog drains at the budget without starving the freshest rows.
			_ = r.source.poll(ctx, r.client, time.Now().Add(interval*3/4)) // errors are counted and logged by the source
			t := time.NewTimer(interval)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}()
	go func() {
		wg.Wait()
		close(r.done)
	}()
}

// every runs f now and then every interval until ctx is done.
func every(ctx context.Context, interval time.Duration, f func()) {
	for {
		f()
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (r *tenantRunner) stop() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
		r.cancel = nil
	}
}

// newClient builds the credential and Graph client of a tenant from its configuration.
func (m *Manager) newClient(t config.Tenant, pacer *graph.Pacer) (*graph.Client, error) {
	return NewGraphClient(t, ClientOptions{
		Pacer: pacer, AppPacer: m.appPacer, Observer: observer{m: m.metrics, tenant: t.Name},
		Logger: m.logger, adjust: m.graphOptions,
	})
}

// ClientOptions are the parts of a Graph client that do not come from the tenant's configuration.
type ClientOptions struct {
	Pacer    *graph.Pacer // the tenant's budget; nil: a new 5-per-10-seconds pacer
	AppPacer *graph.Pacer // the app registration's budget across tenants; nil: none
	Observer graph.Observer
	Logger   *slog.Logger
	adjust   func(*graph.Options) // test hook
}

// NewGraphClient builds the credential (azidentity) and the Graph client of a tenant from its
// configuration: the exporter and the report command share it, so both authenticate alike.
func NewGraphClient(t config.Tenant, o ClientOptions) (*graph.Client, error) {
	httpClient, err := httpClientFor(t)
	if err != nil {
		return nil, err
	}
	co := graph.CredentialOptions{
		Type:                     t.Credential.Type,
		TenantID:                 t.TenantID,
		ClientID:                 t.Credential.ClientID,
		FederatedTokenFile:       t.Credential.FederatedTokenFile,
		SendCertificateChain:     t.Credential.SendCertificateChain,
		AuthorityHost:            t.AuthorityHost,
		DisableInstanceDiscovery: t.IsCustomCloud(),
		HTTPClient:               httpClient,
	}
	switch t.Credential.Type {
	case config.CredentialClientSecret:
		if co.ClientSecret, err = t.Credential.Secret(); err != nil {
			return nil, err
		}
	case config.CredentialClientCertificate:
		if co.Certificate, err = os.ReadFile(t.Credential.CertificateFile); err != nil {
			return nil, fmt.Errorf("reading credential.certificate_file: %w", err)
		}
		if co.CertificatePassword, err = t.Credential.CertificatePassword(); err != nil {
			return nil, err
		}
	}
	cred, err := graph.NewCredential(co)
	if err != nil {
		return nil, err
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := graph.Options{
		GraphEndpoint: t.GraphEndpoint,
		Credential:    cred,
		HTTPClient:    httpClient,
		Pacer:         o.Pacer,
		AppPacer:      o.AppPacer,
		Observer:      o.Observer,
		Logger:        logger.With("tenant", t.Name),
	}
	if o.adjust != nil {
		o.adjust(&opts)
	}
	return graph.New(opts)
}

// httpClientFor returns the HTTP client for a tenant's authority and Graph: the default one, or one
// that also trusts the tenant's ca_file (private clouds, the simulated tenant).
func httpClientFor(t config.Tenant) (*http.Client, error) {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
		ForceAttemptHTTP2:     true,
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate found", t.CAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}, nil
}

func durations(ds []config.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = time.Duration(d)
	}
	return out
}

// observer feeds the Graph client's request events into the tenant's self-metrics.
type observer struct {
	m      *Metrics
	tenant string
}

func (o observer) Request(endpoint string, code int, d time.Duration) {
	o.m.GraphRequests.WithLabelValues(o.tenant, endpoint, fmt.Sprint(code)).Inc()
	o.m.GraphDuration.WithLabelValues(o.tenant, endpoint).Observe(d.Seconds())
}

func (o observer) Throttled(endpoint string, _ time.Duration) {
	o.m.GraphThrottled.WithLabelValues(o.tenant, endpoint).Inc()
}

func (o observer) Retry(endpoint, reason string) {
	o.m.GraphRetries.WithLabelValues(o.tenant, endpoint, reason).Inc()
}

func (o observer) MalformedRows(endpoint string, n int) {
	o.m.MalformedRows.WithLabelValues(o.tenant, endpoint).Add(float64(n))
}

var (
	usersChallengedDesc = prometheus.NewDesc("entra_mfa_users_challenged",
		"Distinct users asked for a second factor (prompted, denied, or satisfied by performing a method) with a sign-in inside the trailing window.",
		[]string{"tenant", "window"}, nil)
	usersFailedDesc = prometheus.NewDesc("entra_mfa_users_failed",
		"Distinct users with at least one denied MFA attempt inside the trailing window.",
		[]string{"tenant", "window"}, nil)
	usersTrackedDesc = prometheus.NewDesc("entra_mfa_users_tracked",
		"Users remembered (as salted hashes) for the distinct-user gauges.",
		[]string{"tenant"}, nil)
)

// usersCollector computes the distinct-user gauges at scrape time from each tenant's tracker.
type usersCollector struct{ m *Manager }

func (c *usersCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- usersChallengedDesc
	ch <- usersFailedDesc
	ch <- usersTrackedDesc
}

func (c *usersCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	trackers := map[string]*userTracker{}
	for name, r := range c.m.tenants {
		trackers[name] = r.users
	}
	c.m.mu.Unlock()
	now := c.m.now()
	for name, u := range trackers {
		for _, w := range u.counts(now) {
			ch <- prometheus.MustNewConstMetric(usersChallengedDesc, prometheus.GaugeValue, float64(w.challenged), name, windowLabel(w.window))
			ch <- prometheus.MustNewConstMetric(usersFailedDesc, prometheus.GaugeValue, float64(w.failed), name, windowLabel(w.window))
		}
		ch <- prometheus.MustNewConstMetric(usersTrackedDesc, prometheus.GaugeValue, float64(u.size()), name)
	}
}
