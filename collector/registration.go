package collector

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/metricdef"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
)

// sourceRegistration is the source label of the registration collector's health metrics.
const sourceRegistration = graph.EndpointRegistrationDetails

// Registration features, values of the feature label.
var registrationFeatures = []struct {
	label string
	has   func(*graph.RegistrationDetail) bool
}{
	{"mfa_registered", func(r *graph.RegistrationDetail) bool { return r.IsMfaRegistered }},
	{"mfa_capable", func(r *graph.RegistrationDetail) bool { return r.IsMfaCapable }},
	{"passwordless_capable", func(r *graph.RegistrationDetail) bool { return r.IsPasswordlessCapable }},
	{"sspr_registered", func(r *graph.RegistrationDetail) bool { return r.IsSsprRegistered }},
	{"sspr_enabled", func(r *graph.RegistrationDetail) bool { return r.IsSsprEnabled }},
	{"sspr_capable", func(r *graph.RegistrationDetail) bool { return r.IsSsprCapable }},
	{"system_preferred_enabled", func(r *graph.RegistrationDetail) bool { return r.IsSystemPreferredAuthenticationMethodEnabled }},
}

// userTypes and adminValues are always exported, zeros included, so ratios such as
// with_feature/users exist for every split even in a tenant without guests or admins.
var (
	userTypes   = []string{"member", "guest"}
	adminValues = []string{"true", "false"}
)

// RegistrationMetrics exposes the registration gauges. It is a prometheus.Collector over one
// snapshot per tenant, swapped whole at the end of a refresh, so a scrape never sees half of one
// refresh and half of the previous one, and label combinations that vanished are gone.
type RegistrationMetrics struct {
	users, disabled, withFeature, byMethod, bySystemPreferred, byUserPreferred, withoutMFA, lastUpdated *prometheus.Desc

	mu        sync.Mutex
	snapshots map[string]*registrationSnapshot
}

// NewRegistrationMetrics creates the registration gauges and registers them on reg.
func NewRegistrationMetrics(reg prometheus.Registerer) *RegistrationMetrics {
	m := &RegistrationMetrics{
		users:             metricdef.RegistrationUsers.Desc(),
		disabled:          metricdef.RegistrationUsersDisabled.Desc(),
		withFeature:       metricdef.RegistrationUsersWithFeature.Desc(),
		byMethod:          metricdef.RegistrationUsersByMethod.Desc(),
		bySystemPreferred: metricdef.RegistrationUsersBySystemPreferred.Desc(),
		byUserPreferred:   metricdef.RegistrationUsersByUserPreferred.Desc(),
		withoutMFA:        metricdef.RegistrationUsersWithoutMFA.Desc(),
		lastUpdated:       metricdef.RegistrationReportLastUpdated.Desc(),
		snapshots:         map[string]*registrationSnapshot{},
	}
	reg.MustRegister(m)
	return m
}

// Describe implements prometheus.Collector.
func (m *RegistrationMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range m.descs() {
		ch <- d
	}
}

func (m *RegistrationMetrics) descs() []*prometheus.Desc {
	return []*prometheus.Desc{m.users, m.disabled, m.withFeature, m.byMethod, m.bySystemPreferred, m.byUserPreferred, m.withoutMFA, m.lastUpdated}
}

// Collect implements prometheus.Collector.
func (m *RegistrationMetrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	snaps := make(map[string]*registrationSnapshot, len(m.snapshots))
	for k, v := range m.snapshots {
		snaps[k] = v
	}
	m.mu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for tenant, s := range snaps {
		for k, v := range s.users {
			gauge(m.users, v, tenant, k.userType, k.admin)
		}
		for ut, v := range s.disabled {
			gauge(m.disabled, v, tenant, ut)
		}
		for k, v := range s.withFeature {
			gauge(m.withFeature, v, tenant, k.label, k.userType, k.admin)
		}
		for k, v := range s.byMethod {
			gauge(m.byMethod, v, tenant, k.label, k.userType, k.admin)
		}
		for k, v := range s.bySystemPreferred {
			gauge(m.bySystemPreferred, v, tenant, k.label, k.userType, k.admin)
		}
		for k, v := range s.byUserPreferred {
			gauge(m.byUserPreferred, v, tenant, k.label, k.userType, k.admin)
		}
		for k, v := range s.withoutMFA {
			gauge(m.withoutMFA, v, tenant, k.userType, k.admin)
		}
		if !s.lastUpdated.IsZero() {
			gauge(m.lastUpdated, float64(s.lastUpdated.UnixNano())/1e9, tenant)
		}
	}
}

// set replaces a tenant's snapshot.
func (m *RegistrationMetrics) set(tenant string, s *registrationSnapshot) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.snapshots[tenant] = s
}

// deleteTenant removes every series of a tenant that left the configuration.
func (m *RegistrationMetrics) deleteTenant(tenant string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.snapshots, tenant)
}

// docs describes the registration gauges for the README's metrics table.
type splitKey struct{ userType, admin string }

type labelKey struct{ label, userType, admin string }

// registrationSnapshot is one refresh's worth of counts.
type registrationSnapshot struct {
	users             map[splitKey]float64
	disabled          map[string]float64
	withFeature       map[labelKey]float64
	byMethod          map[labelKey]float64
	bySystemPreferred map[labelKey]float64
	byUserPreferred   map[labelKey]float64
	withoutMFA        map[splitKey]float64
	lastUpdated       time.Time
}

func newRegistrationSnapshot() *registrationSnapshot {
	s := &registrationSnapshot{
		users: map[splitKey]float64{}, disabled: map[string]float64{}, withFeature: map[labelKey]float64{},
		byMethod: map[labelKey]float64{}, bySystemPreferred: map[labelKey]float64{}, byUserPreferred: map[labelKey]float64{},
		withoutMFA: map[splitKey]float64{},
	}
	for _, ut := range userTypes {
		s.disabled[ut] = 0
		for _, a := range adminValues {
			s.users[splitKey{ut, a}] = 0
			s.withoutMFA[splitKey{ut, a}] = 0
			for _, f := range registrationFeatures {
				s.withFeature[labelKey{f.label, ut, a}] = 0
			}
		}
	}
	return s
}

// userTypeLabel bounds a userType: the report writes member/guest, the user list Member/Guest.
func userTypeLabel(s string) string {
	switch strings.ToLower(s) {
	case "member":
		return "member"
	case "guest":
		return "guest"
	}
	return mfa.LabelOther
}

// directoryUser is what the join keeps per user: a few bytes, so a tenant of 100,000 users
// costs a few megabytes for the length of one refresh.
type directoryUser struct {
	enabled  bool
	counted  bool // a report row has been counted for this user in the current refresh
	userType string
}

// registrationSource refreshes one tenant's registration gauges.
type registrationSource struct {
	tenant  string
	metrics *Metrics
	reg     *RegistrationMetrics
	unknown *unknownLog
	logger  *slog.Logger
	now     func() time.Time

	mu      sync.Mutex // one refresh at a time; guards health
	health  pollHealth
	changes *changeCount // counts the polls that ended (Manager.Changes)
}

func newRegistrationSource(tenant string, m *Metrics, rm *RegistrationMetrics, logger *slog.Logger, now func() time.Time) *registrationSource {
	return &registrationSource{tenant: tenant, metrics: m, reg: rm, logger: logger, now: now, unknown: newUnknownLog(logger, 1000),
		health: pollHealth{tenant: tenant, source: sourceRegistration, metrics: m, logger: logger,
			failMsg: "registration refresh failed; sign-in metrics are not affected", recoverMsg: "registration refresh recovered"}}
}

// poll reads the user list, then the registration report, and replaces the tenant's gauges. Both
// reads must succeed: counts from a half-read report would look like users losing their methods,
// so on error the previous snapshot stays and only the health metrics change.
func (s *registrationSource) poll(ctx context.Context, client *graph.Client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changes != nil {
		defer s.changes.add() // Manager.Changes
	}
	m := s.metrics
	m.Polls.WithLabelValues(s.tenant, sourceRegistration).Inc()
	now := s.now()

	users := map[string]directoryUser{}
	err := client.Users(ctx, func(page []graph.User) error {
		for _, u := range page {
			users[u.ID] = directoryUser{enabled: u.Enabled(), userType: u.UserType}
		}
		return nil
	})
	if err != nil {
		s.health.failed(fmt.Errorf("reading the user list: %w", err))
		return err
	}
	snap := newRegistrationSnapshot()
	for _, u := range users {
		if !u.enabled {
			snap.disabled[userTypeLabel(u.userType)]++
		}
	}
	// Neither read has a documented order, and paging through a list that changes underneath can
	// serve a row twice: the join is by id, and each user is counted at most once.
	var deleted, repeated int
	err = client.RegistrationDetails(ctx, func(page []graph.RegistrationDetail) error {
		for i := range page {
			r := &page[i]
			if r.LastUpdatedDateTime.After(snap.lastUpdated) {
				snap.lastUpdated = r.LastUpdatedDateTime
			}
			u, ok := users[r.ID]
			switch {
			case !ok:
				// The report lags by hours: a user deleted since it was built is still in it.
				deleted++
				continue
			case u.counted:
				repeated++
				continue
			case !u.enabled:
				continue
			}
			u.counted = true
			users[r.ID] = u
			userType := r.UserType
			if userType == "" {
				userType = u.userType
			}
			s.count(snap, r, userTypeLabel(userType))
		}
		return nil
	})
	if err != nil {
		s.health.failed(fmt.Errorf("reading the registration report: %w", err))
		return err
	}
	s.reg.set(s.tenant, snap)
	if deleted > 0 {
		s.logger.Debug("registration report rows without a user in the user list (deleted since the report was built) left out", "tenant", s.tenant, "rows", deleted)
	}
	if repeated > 0 {
		s.logger.Debug("registration report served rows of one user more than once; counted once", "tenant", s.tenant, "rows", repeated)
	}
	s.health.succeeded(now)
	return nil
}

func (s *registrationSource) count(snap *registrationSnapshot, r *graph.RegistrationDetail, userType string) {
	admin := fmt.Sprint(r.IsAdmin)
	split := splitKey{userType, admin}
	snap.users[split]++
	if !r.IsMfaRegistered {
		snap.withoutMFA[split]++
	}
	for _, f := range registrationFeatures {
		if f.has(r) {
			snap.withFeature[labelKey{f.label, userType, admin}]++
		}
	}
	for _, label := range s.methodLabels(r.MethodsRegistered, "registration_method") {
		snap.byMethod[labelKey{label, userType, admin}]++
	}
	system := s.methodLabels(r.SystemPreferredAuthenticationMethods, "system_preferred_method")
	if len(system) == 0 {
		system = []string{mfa.LabelNone}
	}
	for _, label := range system {
		snap.bySystemPreferred[labelKey{label, userType, admin}]++
	}
	pref, known := mfa.UserPreferredMethod(r.UserPreferredMethodForSecondaryAuthentication)
	if !known {
		s.reportUnknown("user_preferred_method", r.UserPreferredMethodForSecondaryAuthentication)
	}
	snap.byUserPreferred[labelKey{pref, userType, admin}]++
}

// methodLabels normalises a user's method strings, each label once: PhoneAppNotification and
// microsoftAuthenticatorPush in one row are one method, not two users.
func (s *registrationSource) methodLabels(raw []string, field string) []string {
	var out []string
	for _, v := range raw {
		label, known := mfa.RegistrationMethod(v)
		if !known {
			s.reportUnknown(field, v)
		}
		if !slices.Contains(out, label) {
			out = append(out, label)
		}
	}
	return out
}

// reportUnknown logs, once per value, a string no catalogue knows; the "other" series of the
// method gauges already show how many users it concerns. Only the string is logged, never the
// user it came from, and it is cut short because Graph could send anything.
func (s *registrationSource) reportUnknown(field, value string) {
	if len(value) > 200 {
		value = value[:200] + "..."
	}
	s.unknown.once(field, value, "unclassified registration string counted as other", "tenant", s.tenant, "field", field, "value", value)
}
