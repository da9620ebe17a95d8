package collector

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/metricdef"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
)

// Coverage: why MFA was or was not required. Every counted sign-in row is also counted by
// requirement source, by the Conditional Access policies it lists (one evaluation per policy) and
// by application. These counters are durable families like the others (counters.go): committed
// with the cursors, restored after a restart, exactly once.
//
// Policy and application ids come from Graph with no bound of their own. Each tenant admits at
// most coverage.max_policies and coverage.max_applications of them, first come first served; a
// later id is counted under "other" (and in entra_coverage_overflow_total). The admitted ids are
// part of the committed state, so the ids that keep their own series are the same after a
// restart, and a counter never moves from an id to "other" or back. An id that is not a GUID is
// counted under "other" too, so that nothing Graph sends can put an arbitrary string in a label.
//
// Names live in info metrics (entra_ca_policy_info, entra_application_info) joined on the id, so
// a renamed policy keeps its counters. A policy's name, state and grant controls are those of the
// newest source: the policy inventory as of its last read, or a sign-in row created after that
// read (the name a row carries is the name at the time of the sign-in). An application's name is
// the one on the newest row counted for it.

// The ids of the coverage families are part of the state file format (counters.go).
var (
	familyRequirementSources = newDurableFamily("rs", metricdef.SignInsByRequirementSource)
	familyPolicyEvaluations  = newDurableFamily("pe", metricdef.CAPolicyEvaluations)
	familyApplications       = newDurableFamily("ap", metricdef.SignInsByApplication)
	familyCoverageOverflow   = newDurableFamily("ov", metricdef.CoverageOverflow)
)

// The coverage families register themselves, so counters.go keeps its own list.
func init() {
	for _, f := range []*durableFamily{familyRequirementSources, familyPolicyEvaluations, familyApplications, familyCoverageOverflow} {
		if _, dup := familiesByID[f.id]; dup {
			panic("collector: durable family id " + f.id + " used twice")
		}
		durableFamilies = append(durableFamilies, f)
		familiesByID[f.id] = f
	}
}

// Values of the kind label of the coverage self-metrics, and of the reason label of the overflow.
const (
	kindPolicy      = "policy"
	kindApplication = "application"

	overflowCap       = "cap"
	overflowInvalidID = "invalid_id"
)

// Policy states on entra_ca_policy_info.
const (
	stateEnabled    = "enabled"
	stateDisabled   = "disabled"
	stateReportOnly = "report_only"
	stateDeleted    = "deleted" // in an earlier inventory, absent from the last one
	stateUnknown    = "unknown"
)

// inventoryStates maps the policy API's state values to the labels.
var inventoryStates = map[string]string{
	"enabled":                           stateEnabled,
	"disabled":                          stateDisabled,
	"enabledForReportingButNotEnforced": stateReportOnly,
}

// rowState is the state a sign-in row's result implies for its policy; "" when it implies none.
func rowState(result string) string {
	switch result {
	case mfa.PolicySuccess, mfa.PolicyFailure, mfa.PolicyNotApplied:
		return stateEnabled
	case mfa.PolicyNotEnabled:
		return stateDisabled
	case mfa.PolicyReportOnlySuccess, mfa.PolicyReportOnlyFailure, mfa.PolicyReportOnlyInterrupted, mfa.PolicyReportOnlyNotApplied:
		return stateReportOnly
	}
	return ""
}

// maxInfoName bounds a display name in a label; Entra's own limit for policy names is 256
// characters.
const maxInfoName = 256

// infoName makes a display name safe for a label value: valid UTF-8, trimmed, bounded.
func infoName(s string) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) <= maxInfoName {
		return s
	}
	cut := maxInfoName
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// normalizeGUID returns the lower-case form of a GUID, and false for anything else: ids become
// label values and state keys, so only the one shape Graph uses for them is accepted.
func normalizeGUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	var b [36]byte
	upper := false
	for i := range 36 {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return "", false
			}
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			c += 'a' - 'A'
			upper = true
		default:
			return "", false
		}
		b[i] = c
	}
	if !upper {
		return s, true // Graph writes lower case: no copy
	}
	return string(b[:]), true
}

// grantControlOrder ranks grant control labels in catalogue order, so a set always joins the same.
var grantControlOrder = func() map[string]int {
	m := map[string]int{}
	for i, e := range mfa.GrantControls() {
		m[e.Label] = i
	}
	return m
}()

// joinGrants renders a set of grant control labels as the grant_controls label: deduplicated,
// in catalogue order, comma-separated; "none" for an empty set.
func joinGrants(labels []string) string {
	if len(labels) == 1 { // the usual case, without allocating
		return labels[0]
	}
	var set []string
	for _, l := range labels {
		if l != mfa.LabelNone && !slices.Contains(set, l) {
			set = append(set, l)
		}
	}
	if len(set) == 0 {
		return mfa.LabelNone
	}
	slices.SortFunc(set, func(a, b string) int { return grantControlOrder[a] - grantControlOrder[b] })
	return strings.Join(set, ",")
}

// fact is one thing the info metrics say, with the time it was true: the createdDateTime of the
// row it comes from, or the time of the inventory read. The newest wins, whatever order the
// sources are read in.
type fact struct {
	V  string    `json:"v,omitempty"`
	At time.Time `json:"at,omitzero"`
}

// offer records v as of at if it is newer than what is known. An empty v (a row without a name,
// a result that implies no state) tells nothing and changes nothing, so an older informative row
// still counts.
func (f *fact) offer(v string, at time.Time) {
	if v != "" && (f.V == "" || !at.Before(f.At)) {
		f.V, f.At = v, at
	}
}

// policyEntry is what the info metric shows about an admitted policy.
type policyEntry struct {
	Name   fact `json:"name,omitzero"`
	State  fact `json:"state,omitzero"`
	Grants fact `json:"grants,omitzero"`
}

type appEntry struct {
	Name fact `json:"name,omitzero"`
}

// coverageState is the admitted ids and what their info metrics say, committed with the counters.
type coverageState struct {
	Policies map[string]policyEntry `json:"policies,omitempty"`
	Apps     map[string]appEntry    `json:"apps,omitempty"`
}

// coverageTracker admits a tenant's policy and application ids and keeps their info. Its lock is
// its own: the sign-in poll, the inventory read and scrapes all use it.
type coverageTracker struct {
	mu                   sync.Mutex
	maxPolicies, maxApps int
	policies             map[string]policyEntry
	apps                 map[string]appEntry
	gen                  uint64 // moves whenever export's result may change (versionedPart)
}

// newCoverageTracker starts from the coverage part of a restored tenant state (nil: none).
func newCoverageTracker(c config.Coverage, restored *tenantState) *coverageTracker {
	t := &coverageTracker{maxPolicies: c.Policies(), maxApps: c.Applications(),
		policies: map[string]policyEntry{}, apps: map[string]appEntry{}}
	if restored != nil && restored.Coverage != nil {
		st := restored.Coverage
		// Restored ids stay admitted whatever the cap says now: their counters are durable, and
		// a lowered cap applies to ids not seen yet.
		for id, e := range st.Policies {
			if g, ok := normalizeGUID(id); ok {
				t.policies[g] = e
			}
		}
		for id, e := range st.Apps {
			if g, ok := normalizeGUID(id); ok {
				t.apps[g] = e
			}
		}
	}
	return t
}

func (t *coverageTracker) setLimits(c config.Coverage) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.maxPolicies, t.maxApps = c.Policies(), c.Applications()
}

// export copies the state for a commit; nil without a tracker.
func (t *coverageTracker) export() *coverageState {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return &coverageState{Policies: maps.Clone(t.policies), Apps: maps.Clone(t.apps)}
}

// version is the tracker's part version (versionedPart); 0 without a tracker.
func (t *coverageTracker) version() uint64 {
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.gen
}

// policy returns the label of a policy id listed on a row created at created, admitting it if
// there is room, and updates its info when the row is at least as new as what the info says.
// overflow is the reason the evaluation counts under "other", "" when it does not.
func (t *coverageTracker) policy(rawID, name string, eval mfa.PolicyEvaluation, created time.Time) (label, overflow string) {
	id, ok := normalizeGUID(rawID)
	if !ok {
		return mfa.LabelOther, overflowInvalidID
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e, known := t.policies[id]
	if !known && len(t.policies) >= t.maxPolicies {
		return mfa.LabelOther, overflowCap
	}
	before := e
	e.Name.offer(infoName(name), created)
	e.State.offer(rowState(eval.Result), created)
	// Rows do not always repeat a policy's controls (an evaluation that did not apply may list
	// none): an empty list tells nothing.
	if g := joinGrants(eval.GrantControls); g != mfa.LabelNone {
		e.Grants.offer(g, created)
	}
	if !known || e != before {
		t.policies[id] = e
		t.gen++
	}
	return id, ""
}

// app is policy for the row's application. An empty appId is "none": no application, no info.
func (t *coverageTracker) app(rawID, name string, created time.Time) (label, overflow string) {
	if strings.TrimSpace(rawID) == "" {
		return mfa.LabelNone, ""
	}
	id, ok := normalizeGUID(rawID)
	if !ok {
		return mfa.LabelOther, overflowInvalidID
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e, known := t.apps[id]
	if !known && len(t.apps) >= t.maxApps {
		return mfa.LabelOther, overflowCap
	}
	before := e
	e.Name.offer(infoName(name), created)
	if !known || e != before {
		t.apps[id] = e
		t.gen++
	}
	return id, ""
}

// inventoryPolicy is one policy of the inventory, normalised.
type inventoryPolicy struct {
	id, name, state, grants string
}

// applyInventory records a complete inventory read at readAt: each listed policy (admitted if
// there is room) takes its name, state and controls from it, unless a sign-in row created after
// the read says otherwise; admitted policies the inventory no longer lists are marked deleted.
// It returns how many listed policies found no room.
func (t *coverageTracker) applyInventory(inv []inventoryPolicy, readAt time.Time) (refused int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gen++ // a whole inventory read is rare: not worth finding out whether it changed anything
	listed := make(map[string]bool, len(inv))
	for _, p := range inv {
		listed[p.id] = true
		e, known := t.policies[p.id]
		if !known && len(t.policies) >= t.maxPolicies {
			refused++
			continue
		}
		// The inventory is authoritative as of its read, "none" grant controls included.
		e.Name.offer(p.name, readAt)
		e.State.offer(p.state, readAt)
		e.Grants.offer(p.grants, readAt)
		t.policies[p.id] = e
	}
	for id, e := range t.policies {
		if !listed[id] {
			e.State.offer(stateDeleted, readAt)
			t.policies[id] = e
		}
	}
	return refused
}

var (
	policyInfoDesc     = metricdef.CAPolicyInfo.Desc()
	appInfoDesc        = metricdef.ApplicationInfo.Desc()
	coverageValuesDesc = metricdef.CoverageValues.Desc()
	coverageMaxDesc    = metricdef.CoverageMaxValues.Desc()
)

func (t *coverageTracker) collect(tenant string, ch chan<- prometheus.Metric) {
	t.mu.Lock()
	defer t.mu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for id, e := range t.policies {
		state, grants := e.State.V, e.Grants.V
		if state == "" {
			state = stateUnknown
		}
		if grants == "" {
			grants = mfa.LabelNone
		}
		gauge(policyInfoDesc, 1, tenant, id, cmp.Or(e.Name.V, id), state, grants)
	}
	for id, e := range t.apps {
		gauge(appInfoDesc, 1, tenant, id, cmp.Or(e.Name.V, id))
	}
	gauge(coverageValuesDesc, float64(len(t.policies)), tenant, kindPolicy)
	gauge(coverageValuesDesc, float64(len(t.apps)), tenant, kindApplication)
	gauge(coverageMaxDesc, float64(t.maxPolicies), tenant, kindPolicy)
	gauge(coverageMaxDesc, float64(t.maxApps), tenant, kindApplication)
}

// coverageCollector exposes every tenant's coverage info and self-metrics.
type coverageCollector struct{ m *Manager }

func (c *coverageCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{policyInfoDesc, appInfoDesc, coverageValuesDesc, coverageMaxDesc} {
		ch <- d
	}
}

func (c *coverageCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	trackers := map[string]*coverageTracker{}
	for name, r := range c.m.tenants {
		if r.cov != nil {
			trackers[name] = r.cov
		}
	}
	c.m.mu.Unlock()
	for name, t := range trackers {
		t.collect(name, ch)
	}
}

// countCoverage counts a row (already counted in the sign-in families, classified as c) by
// requirement source, policy evaluation and application, with the same pending counts, so the
// same commit makes them durable.
func (s *signInSource) countCoverage(r *graph.SignIn, in mfa.SignIn, c mfa.Classification) {
	cov := mfa.ClassifyCoverage(in)
	for _, u := range cov.Unknown {
		// Grant controls label no counter (only entra_ca_policy_info), and custom controls and
		// terms of use carry tenant-chosen names that every row repeats: they are logged, not
		// counted as unclassified.
		if u.Field != mfa.FieldGrantControl {
			s.counts.inc(familyUnclassified, u.Field)
		}
		s.unknown.once(u.Field, u.Value, "unclassified string counted as other", "tenant", s.tenant, "field", u.Field, "value", truncate(u.Value, 200))
	}
	for _, src := range cov.Sources {
		s.counts.inc(familyRequirementSources, src, c.Requirement, c.Outcome)
	}
	if s.coverage == nil {
		return
	}
	for i, p := range cov.Policies {
		id, overflow := s.coverage.policy(p.ID, r.AppliedConditionalAccessPolicies[i].DisplayName, p, r.CreatedDateTime)
		if overflow != "" {
			s.overflow(kindPolicy, overflow, p.ID)
		}
		s.counts.inc(familyPolicyEvaluations, id, p.Result)
	}
	app, overflow := s.coverage.app(r.AppID, r.AppDisplayName, r.CreatedDateTime)
	if overflow != "" {
		s.overflow(kindApplication, overflow, r.AppID)
	}
	s.counts.inc(familyApplications, app, c.Requirement, c.Outcome)
}

func (s *signInSource) overflow(kind, reason, id string) {
	s.counts.inc(familyCoverageOverflow, kind, reason)
	if reason == overflowInvalidID {
		s.unknown.once(kind+"_id", id, "id that is not a GUID counted as other", "tenant", s.tenant, "kind", kind, "id", truncate(id, 100))
		return
	}
	key := map[string]string{kindPolicy: "coverage.max_policies", kindApplication: "coverage.max_applications"}[kind]
	s.unknown.once("coverage_cap", kind, fmt.Sprintf("more distinct %s ids than %s: later ones are counted as other", kind, key),
		"tenant", s.tenant, "kind", kind)
}
