package collector

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
)

// NewManualManager returns a Manager that starts no poll loop: the caller runs the polls
// (PollOnce). It serves compressed-time runs of a whole configuration, such as the --demo day of
// cmd/entra-mfa-exporter's benchmarks, where a fake clock moves faster than any loop's timer.
// The request budgets (Graph's, in real time) are not enforced.
func NewManualManager(ctx context.Context, reg prometheus.Registerer, opts Options) *Manager {
	m := NewManager(ctx, reg, opts)
	m.manual = true
	m.budgetPer = time.Nanosecond
	m.appPacer = graph.NewPacer(1000, time.Nanosecond)
	return m
}

// PollOnce runs one sign-in poll of a tenant now, without a time box.
func (m *Manager) PollOnce(ctx context.Context, tenant string) error { return m.pollOnce(ctx, tenant) }

// RenewClients gives every tenant a new Graph client and so a new credential: under a fake clock
// a token expires by that clock while the credential caches it by real time.
func (m *Manager) RenewClients() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.tenants {
		c, err := m.newClient(r.cfg, r.pacer)
		if err != nil {
			return err
		}
		if r.client != nil {
			r.client.CloseIdleConnections() // its connections would stay open for 90 s of real time
		}
		r.client = c
	}
	return nil
}

// Changes counts the events after which the exporter's series may have changed other than by a
// counter or gauge moving in place: polls that ended (their counts committed, readiness and
// health updated) and configurations applied. A cached rendering of /metrics made before the
// count moved is not served (scrapecache.Handler.WithVersion).
func (m *Manager) Changes() uint64 { return m.changes.published.Load() }

// OnChange makes f called with each change's number before Changes reaches it: at a poll's end,
// from the poll's goroutine, after its counts and health are in the metrics and before its
// readiness shows, so that a cache of /metrics can render the poll before it is published
// (scrapecache.Handler.Prepare) and no scrape waits for that rendering. f may block briefly (the
// poll waits) and may gather the Manager's metrics, but must not call its other methods. After a
// configuration is applied f runs in the background, after Changes moved.
func (m *Manager) OnChange(f func(uint64)) { m.changes.prepare.Store(&f) }
