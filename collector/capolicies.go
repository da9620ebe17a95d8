package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
)

// sourcePolicies is the source label of the policy inventory's health metrics.
const sourcePolicies = graph.EndpointCAPolicies

// maxInventoryPolicies bounds what one inventory read keeps: Entra allows 195 policies per
// tenant, so a list a hundred times longer is not a tenant's and is not read to the end.
const maxInventoryPolicies = 20000

var errInventoryTooLong = errors.New("policy inventory lists more policies than any tenant has")

// policySource reads a tenant's Conditional Access policy inventory (GET
// identity/conditionalAccess/policies) at the registration interval, so that entra_ca_policy_info
// shows each policy's current name and state, including policies no sign-in has hit. The
// inventory is optional: without Policy.Read.All it logs one line saying so and names come from
// the sign-in rows. Its requests go through the tenant's client, hence its pacer, like every
// other read.
type policySource struct {
	tenant   string
	metrics  *Metrics
	coverage *coverageTracker
	unknown  *unknownLog
	logger   *slog.Logger
	now      func() time.Time

	mu      sync.Mutex // one read at a time; guards lastErr
	lastErr string     // reason of the last failure, "" after a success
}

func newPolicySource(tenant string, m *Metrics, cov *coverageTracker, logger *slog.Logger, now func() time.Time) *policySource {
	return &policySource{tenant: tenant, metrics: m, coverage: cov, unknown: newUnknownLog(logger, 1000), logger: logger, now: now}
}

// poll reads the whole inventory and applies it; a failed or partial read changes nothing but
// the health metrics.
func (s *policySource) poll(ctx context.Context, client *graph.Client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.metrics
	m.Polls.WithLabelValues(s.tenant, sourcePolicies).Inc()
	readAt := s.now()
	var inv []inventoryPolicy
	err := client.CAPolicies(ctx, func(page []graph.CAPolicy) error {
		for i := range page {
			p, ok := s.normalize(&page[i])
			if !ok {
				continue
			}
			if len(inv) >= maxInventoryPolicies {
				return fmt.Errorf("%w (more than %d)", errInventoryTooLong, maxInventoryPolicies)
			}
			inv = append(inv, p)
		}
		return nil
	})
	if err != nil {
		s.failed(err)
		return err
	}
	if refused := s.coverage.applyInventory(inv, readAt); refused > 0 {
		s.unknown.once("coverage_cap", kindPolicy+"_inventory", "the policy inventory lists more policies than coverage.max_policies allows; the others have no series of their own",
			"tenant", s.tenant, "refused", refused)
	}
	if s.lastErr != "" {
		s.logger.Info("Conditional Access policy inventory read again", "tenant", s.tenant, "policies", len(inv), "previous_error", s.lastErr)
		s.lastErr = ""
	}
	m.LastSuccess.WithLabelValues(s.tenant, sourcePolicies).Set(float64(readAt.UnixNano()) / 1e9)
	return nil
}

// failed counts a failed read and logs it once per change of reason. It does not set
// entra_graph_access_problem: the inventory is optional, and a tenant that does not grant
// Policy.Read.All must not page anyone.
func (s *policySource) failed(err error) {
	reason := errorReason(err)
	s.metrics.PollErrors.WithLabelValues(s.tenant, sourcePolicies, reason).Inc()
	if errors.Is(err, context.Canceled) || reason == s.lastErr {
		return
	}
	s.lastErr = reason
	if errors.Is(err, graph.ErrPermission) || errors.Is(err, graph.ErrLicence) {
		s.logger.Warn("Conditional Access policy inventory not readable: policy names and states come from the sign-in rows, and policies no sign-in has hit are not shown. Grant the application permission Policy.Read.All (with admin consent) to read it",
			"tenant", s.tenant, "reason", reason, "err", err)
		return
	}
	s.logger.Error("Conditional Access policy inventory read failed; sign-in metrics are not affected", "tenant", s.tenant, "reason", reason, "err", err)
}

// normalize turns a policy of the API into the inventory's labels; a policy whose id is not a
// GUID is left out (and logged once).
func (s *policySource) normalize(p *graph.CAPolicy) (inventoryPolicy, bool) {
	id, ok := normalizeGUID(p.ID)
	if !ok {
		s.unknown.once("policy_id", p.ID, "inventory policy id that is not a GUID ignored", "tenant", s.tenant, "id", truncate(p.ID, 100))
		return inventoryPolicy{}, false
	}
	state, known := inventoryStates[p.State]
	if !known {
		state = stateUnknown
		s.unknown.once("policy_state", p.State, "unclassified policy state shown as unknown", "tenant", s.tenant, "value", truncate(p.State, 200))
	}
	controls := p.Controls()
	labels := make([]string, 0, len(controls))
	for _, g := range controls {
		l, known := mfa.GrantControl(g)
		if !known {
			s.unknown.once(mfa.FieldGrantControl, g, "unclassified grant control shown as other", "tenant", s.tenant, "value", truncate(g, 200))
		}
		labels = append(labels, l)
	}
	return inventoryPolicy{id: id, name: infoName(p.DisplayName), state: state, grants: joinGrants(labels)}, true
}

// startPolicies runs the tenant's inventory reads at the registration interval (an hour by
// default: policies change rarely, and every read spends the tenant's request budget).
func (r *tenantRunner) startPolicies(ctx context.Context, wg *sync.WaitGroup) {
	if r.polSrc == nil {
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		// A disabled registration block may keep any interval; the inventory never goes below the
		// registration minimum.
		every(ctx, max(time.Duration(r.cfg.Registration.Interval), time.Duration(config.MinRegistrationInterval)), func() {
			_ = r.polSrc.poll(ctx, r.client) // counted and logged by the source
		})
	}()
}

// pollPoliciesOnce runs one inventory read of a tenant now (tests).
func (m *Manager) pollPoliciesOnce(ctx context.Context, tenant string) error {
	m.mu.Lock()
	r, ok := m.tenants[tenant]
	m.mu.Unlock()
	if !ok {
		return fmt.Errorf("no tenant %q", tenant)
	}
	if r.initErr != nil {
		return r.initErr
	}
	return r.polSrc.poll(ctx, r.client)
}
