package collector

import (
	"context"
	"sync"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
)

// A tenantRunner is one tenant's running ingestion: its sources, its request budget, its client
// and the goroutines that poll on the configured intervals.
type tenantRunner struct {
	cfg     config.Tenant
	source  *signInSource
	reg     *registrationSource
	users   *userTracker
	cov     *coverageTracker // coverage.go
	polSrc  *policySource    // capolicies.go
	counts  *tenantCounts
	pacer   *graph.Pacer
	cancel  context.CancelFunc
	done    chan struct{}
	client  *graph.Client
	initErr error
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
	r.startPolicies(ctx, &wg)
	wg.Add(1)
	go func() {
		defer wg.Done()
		interval := time.Duration(r.cfg.SignIns.PollInterval)
		every(ctx, interval, func() {
			// The reconcile and backlog reads may use three quarters of the interval, then yield
			// to the next fresh read: a backlog drains at the budget without starving the freshest
			// rows.
			_ = r.source.poll(ctx, r.client, time.Now().Add(interval*3/4)) // errors are counted and logged by the source
		})
	}()
	go func() {
		wg.Wait()
		close(r.done)
	}()
}

// every runs f now and then at a fixed rate, one start every interval, until ctx is done. A run
// that takes longer than the interval is followed by the next at once (missed starts are not
// made up). A fixed rate rather than a pause after each run: a sign-in poll that spends its time
// box draining a backlog would otherwise leave the request budget idle for a whole interval
// after it.
func every(ctx context.Context, interval time.Duration, f func()) {
	for ctx.Err() == nil {
		next := time.Now().Add(interval)
		f()
		t := time.NewTimer(time.Until(next))
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
