package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
)

const sourceSignIns = "signIns"

// Pass labels: which read found a row.
const (
	passFresh     = "fresh"
	passReconcile = "reconcile"
)

// signInSource ingests one tenant's sign-in log, counting every settled row exactly once at a
// cost of at most two reads of each row.
//
// Two cursors walk the log:
//   - the fresh cursor reads [fresh, now-settle_delay) at every poll: each row once, as soon as
//     it has settled;
//   - the reconcile cursor reads [reconcile, now-settle_delay-reconcile_delay) whenever it is at
//     least reconcile_interval behind that target: each row a second time, counting the rows that
//     became visible after the fresh read passed them (late rows).
//
// Every counted id is remembered until the reconcile cursor has passed it, so a row read twice is
// counted once. When the fresh cursor is far behind (first start, downtime), it jumps forward so
// the freshest window is served at once, and the skipped range becomes a gap that the reconcile
// cursor reads (a single read: those rows are older than settle+reconcile delay, so they are
// complete). Cursors, ids, gaps and counters are committed together (state.go); a crash loses
// only uncommitted work, which was never exposed and is read again.
type signInSource struct {
	tenant   string
	tenantID string
	metrics  *Metrics
	counts   *tenantCounts
	users    *userTracker
	store    stateStore
	unknown  *unknownLog
	logger   *slog.Logger
	now      func() time.Time

	mu        sync.Mutex // one poll at a time; guards everything below
	settings  config.SignIns
	fresh     time.Time
	reconcile time.Time
	gaps      []interval
	seen      map[string]int64
	health    pollHealth

	// guardClock (production, where now is the wall clock) limits how far the fresh cursor may
	// move between two reads to the time that really passed, measured on the monotonic clock.
	// A wall clock stepped forward (NTP, a VM resumed) would otherwise carry both cursors past
	// rows that do not exist yet, and they would never be read.
	guardClock bool
	lastRead   time.Time // monotonic reading at the last successful fresh read

	// ok (a poll has succeeded) is read by /-/ready without taking mu, which a poll holds for
	// its whole duration: a readiness probe must never wait for Graph.
	ok atomic.Bool

	// onCount, when set (benchmarks), is called for every row counted.
	onCount func(r *graph.SignIn, pass string)
}

func newSignInSource(tenant string, settings config.SignIns, m *Metrics, st *tenantState, store stateStore, users *userTracker, logger *slog.Logger, now func() time.Time) *signInSource {
	s := &signInSource{
		tenant: tenant, metrics: m, users: users, store: store, logger: logger, now: now,
		unknown: newUnknownLog(logger, 1000), settings: settings, seen: map[string]int64{},
	}
	if st != nil {
		s.fresh, s.reconcile, s.gaps, s.seen = st.Fresh, st.Reconcile, st.Gaps, st.Seen
		s.counts = newTenantCounts(st.Counters)
	} else {
		s.counts = newTenantCounts(nil)
	}
	s.health = pollHealth{tenant: tenant, source: sourceSignIns, metrics: m, logger: logger, failMsg: "sign-in poll failed", recoverMsg: "sign-in polling recovered"}
	s.exportSettings()
	return s
}

func (s *signInSource) setSettings(settings config.SignIns) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settings = settings
	s.exportSettings()
}

func (s *signInSource) setUsers(u *userTracker) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = u
}

// exportSettings publishes the timing settings, so alert rules can compare the lag with them.
func (s *signInSource) exportSettings() {
	s.metrics.SettleDelay.WithLabelValues(s.tenant, sourceSignIns).Set(time.Duration(s.settings.SettleDelay).Seconds())
	s.metrics.PollInterval.WithLabelValues(s.tenant, sourceSignIns).Set(time.Duration(s.settings.PollInterval).Seconds())
}

func (s *signInSource) ready() bool { return s.ok.Load() }

// poll runs the fresh read and, when due, a reconcile read that stops at deadline (zero: no
// limit) so the next fresh read is not delayed by a long backlog.
func (s *signInSource) poll(ctx context.Context, client *graph.Client, deadline time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.metrics
	m.Polls.WithLabelValues(s.tenant, sourceSignIns).Inc()
	// Forget users outside every window whatever the poll's outcome, so a source failing for
	// days does not keep every user it ever saw.
	defer s.users.prune(s.now())
	if err := s.readFresh(ctx, client); err != nil {
		if cerr := s.commit(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		s.health.failed(err)
		return err
	}
	err := s.readReconcile(ctx, client, deadline)
	if cerr := s.commit(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		s.health.failed(err)
		return err
	}
	now := s.now()
	s.ok.Store(true)
	s.health.succeeded(now)
	return nil
}

func (s *signInSource) eventTypes() []string {
	var out []string
	for _, t := range s.settings.EventTypes {
		switch t {
		case "interactive":
			out = append(out, "interactiveUser")
		case "non_interactive":
			out = append(out, "nonInteractiveUser")
		}
	}
	return out
}

// readFresh reads [fresh, now-settle) whole.
func (s *signInSource) readFresh(ctx context.Context, client *graph.Client) error {
	now := s.now()
	settle := time.Duration(s.settings.SettleDelay)
	delay := time.Duration(s.settings.ReconcileDelay)
	to := now.Add(-settle).Truncate(time.Second)
	if s.fresh.IsZero() {
		start := now.Add(-time.Duration(s.settings.Lookback)).Truncate(time.Second)
		s.fresh, s.reconcile = start, start
	}
	if s.guardClock && !s.lastRead.IsZero() {
		elapsed := time.Since(s.lastRead) // monotonic: unaffected by steps of the wall clock
		if limit := s.fresh.Add(elapsed + time.Duration(s.settings.PollInterval)).Truncate(time.Second); to.After(limit.Add(time.Minute)) {
			s.metrics.ClockSteps.WithLabelValues(s.tenant).Inc()
			s.unknown.once("clock_step", "", "wall clock ahead of the time that passed since the last read; reading only up to the time that passed",
				"tenant", s.tenant, "wanted_to", to, "reading_to", limit)
			to = limit
		}
	}
	// Far behind: jump so the freshest rows are read now; the reconcile cursor reads the gap.
	if jumpTo := to.Add(-delay); jumpTo.Sub(s.fresh) > time.Duration(s.settings.PollInterval) {
		// During an outage every failed poll jumps again: extend the last gap rather than
		// piling up adjacent ones (and log lines).
		if n := len(s.gaps); n > 0 && s.gaps[n-1].To.Equal(s.fresh) {
			s.gaps[n-1].To = jumpTo
		} else {
			s.gaps = append(s.gaps, interval{From: s.fresh, To: jumpTo})
			s.logger.Info("sign-in log behind: reading the freshest rows first, the gap by the reconcile pass",
				"tenant", s.tenant, "gap_from", s.fresh, "gap_to", jumpTo)
		}
		s.fresh = jumpTo
	}
	defer func() {
		s.metrics.Lag.WithLabelValues(s.tenant, sourceSignIns).Set(s.now().Sub(s.fresh).Seconds())
	}()
	if !to.After(s.fresh) {
		return nil
	}
	from := s.fresh
	err := client.SignIns(ctx, graph.SignInQuery{From: from, To: to, EventTypes: s.eventTypes()}, func(page []graph.SignIn) error {
		for i := range page {
			s.ingest(&page[i], from, to, passFresh)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.fresh = to
	s.lastRead = time.Now()
	return nil
}

// readReconcile reads [reconcile, target) when the cursor is at least reconcile_interval behind,
// page by page, committing after each page and stopping after the page during which deadline
// passed.
func (s *signInSource) readReconcile(ctx context.Context, client *graph.Client, deadline time.Time) error {
	now := s.now()
	target := now.Add(-time.Duration(s.settings.SettleDelay) - time.Duration(s.settings.ReconcileDelay)).Truncate(time.Second)
	if target.After(s.fresh) {
		target = s.fresh // never pass rows the fresh read has not read yet (gaps lie before it)
	}
	defer s.exportBacklog()
	if target.Sub(s.reconcile) < time.Duration(s.settings.ReconcileInterval) {
		return nil
	}
	from := s.reconcile
	err := client.SignIns(ctx, graph.SignInQuery{From: from, To: target, EventTypes: s.eventTypes()}, func(page []graph.SignIn) error {
		for i := range page {
			s.ingest(&page[i], from, target, passReconcile)
		}
		// Rows come in createdDateTime order: everything before the newest row of the page is
		// final. Rows sharing that instant may continue on the next page, so the cursor stops at
		// it (and the ids at or after it stay remembered). Only rows inside the window count: a
		// row Graph returned outside it (clock or filter fault) must not carry the cursor past
		// rows not read yet.
		var newest time.Time
		for i := range page {
			if c := page[i].CreatedDateTime; !c.Before(from.Truncate(time.Second)) && c.Before(target) && c.After(newest) {
				newest = c
			}
		}
		if newest.After(s.reconcile) {
			s.advanceReconcile(newest)
		}
		if err := s.commit(); err != nil {
			return err // stop reading: nothing more can be made durable now
		}
		// The time box is real time: it shares out the request budget, which is real time too.
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return graph.ErrStopPaging
		}
		return nil
	})
	if errors.Is(err, graph.ErrStopPaging) {
		return nil
	}
	if err != nil {
		return err
	}
	s.advanceReconcile(target)
	return nil
}

// advanceReconcile moves the reconcile cursor and forgets what it can no longer return: ids of
// rows created before the cursor's second (the next read starts at the cursor truncated to the
// second, as the Graph filter has second precision) and gaps fully behind it.
func (s *signInSource) advanceReconcile(to time.Time) {
	if !to.After(s.reconcile) {
		return
	}
	s.reconcile = to
	horizon := to.Truncate(time.Second).Add(-time.Second).UnixNano()
	for id, created := range s.seen {
		if created < horizon {
			delete(s.seen, id)
		}
	}
	gaps := s.gaps[:0]
	for _, g := range s.gaps {
		if g.To.After(to) {
			gaps = append(gaps, g)
		}
	}
	s.gaps = gaps
}

func (s *signInSource) inGap(t time.Time) bool {
	for _, g := range s.gaps {
		if !t.Before(g.From) && t.Before(g.To) {
			return true
		}
	}
	return false
}

// exportBacklog publishes how far the reconcile cursor is behind beyond its normal slack of one
// reconcile interval: 0 in steady state, the age of the unread range after downtime.
func (s *signInSource) exportBacklog() {
	now := s.now()
	target := now.Add(-time.Duration(s.settings.SettleDelay) - time.Duration(s.settings.ReconcileDelay) - time.Duration(s.settings.ReconcileInterval))
	s.metrics.Backlog.WithLabelValues(s.tenant, sourceSignIns).Set(max(0, target.Sub(s.reconcile).Seconds()))
	s.metrics.DedupIDs.WithLabelValues(s.tenant, sourceSignIns).Set(float64(len(s.seen)))
}

// errStateCommit marks a poll whose work could not be committed: everything stays pending (not
// exposed, nothing lost) until a commit succeeds.
var errStateCommit = errors.New("committing state failed")

// commit writes the cursors, ids and counters together; on success the counts become visible.
// A failed commit keeps everything pending for the next one, is counted, and makes the poll fail
// (so it is logged once per change of reason and last_success stops advancing).
func (s *signInSource) commit() error {
	written := s.counts.snapshot()
	now := s.now()
	st := &tenantState{
		Version: stateVersion, Tenant: s.tenant, TenantID: s.tenantID, Fresh: s.fresh, Reconcile: s.reconcile,
		Gaps: s.gaps, Seen: s.seen, Counters: written, Users: s.users.export(), Committed: now,
	}
	n, err := s.store.save(st)
	if err != nil {
		s.metrics.StateCommits.WithLabelValues(s.tenant, "error").Inc()
		return fmt.Errorf("%w: %w", errStateCommit, err)
	}
	s.counts.promote(written)
	s.metrics.StateCommits.WithLabelValues(s.tenant, "success").Inc()
	if s.store.enabled() {
		s.metrics.StateBytes.WithLabelValues(s.tenant).Set(float64(n))
		s.metrics.StateLastCommit.WithLabelValues(s.tenant).Set(float64(now.Unix()))
	}
	return nil
}

func (s *signInSource) ingest(r *graph.SignIn, from, to time.Time, pass string) {
	m := s.metrics
	m.RowsFetched.WithLabelValues(s.tenant, sourceSignIns, pass).Inc()
	if r.ID == "" {
		m.MalformedRows.WithLabelValues(s.tenant, sourceSignIns).Inc()
		s.unknown.once("row_without_id", "", "sign-in row without id skipped", "tenant", s.tenant, "created", r.CreatedDateTime)
		return
	}
	if r.CreatedDateTime.Before(from.Truncate(time.Second)) || !r.CreatedDateTime.Before(to) {
		m.RowsTooOld.WithLabelValues(s.tenant, sourceSignIns).Inc()
		return
	}
	if _, dup := s.seen[r.ID]; dup {
		m.RowsDeduplicated.WithLabelValues(s.tenant, sourceSignIns).Inc()
		return
	}
	s.seen[r.ID] = r.CreatedDateTime.UnixNano()
	if pass == passReconcile && !s.inGap(r.CreatedDateTime) {
		m.LateRows.WithLabelValues(s.tenant, sourceSignIns).Inc()
		m.Lateness.WithLabelValues(s.tenant, sourceSignIns).Observe(s.now().Sub(r.CreatedDateTime).Seconds())
	}

	c := mfa.Classify(toMFA(r))
	for _, u := range c.Unknown {
		s.counts.inc(familyUnclassified, u.Field)
		s.unknown.once(u.Field, u.Value, "unclassified string counted as other", "tenant", s.tenant, "field", u.Field, "value", truncate(u.Value, 200))
	}
	s.counts.inc(familySignIns, eventType(r), c.Requirement, c.Result, c.Outcome, c.ErrorCode)
	s.counts.inc(familySignInsByClient, mfa.ClientApp(r.ClientAppUsed), c.Requirement, c.Outcome)
	if mfa.IsAttempt(c) {
		s.counts.inc(familyMFAAttempts, c.Method, c.Outcome, c.Reason, c.ResultCode, c.Component)
	}
	s.users.observe(r.UserID, r.CreatedDateTime, challenged(c), c.Outcome == "denied")
	if s.onCount != nil {
		s.onCount(r, pass)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// challenged tells whether a row shows the user being asked for a second factor: prompted
// (interrupt), denied, or satisfied by performing a method now. Rows satisfied by an earlier MFA
// (claim in the token, previously satisfied) or skipped (trusted location, remembered device...)
// did not challenge the user.
func challenged(c mfa.Classification) bool {
	switch c.Outcome {
	case "interrupted", "denied":
		return true
	case "satisfied":
		return c.Method != "previously_satisfied" && c.Reason != "claim_in_token" && !strings.HasPrefix(c.Reason, "skipped_")
	}
	return false
}

func eventType(r *graph.SignIn) string {
	if slices.Contains(r.SignInEventTypes, "nonInteractiveUser") {
		return "non_interactive"
	}
	if slices.Contains(r.SignInEventTypes, "interactiveUser") || r.IsInteractive {
		return "interactive"
	}
	return "non_interactive"
}

func toMFA(r *graph.SignIn) mfa.SignIn {
	in := mfa.SignIn{
		ErrorCode:                 r.Status.ErrorCode,
		FailureReason:             r.Status.FailureReason,
		AdditionalDetails:         r.Status.AdditionalDetails,
		AuthenticationRequirement: r.AuthenticationRequirement,
		TokenIssuerType:           r.TokenIssuerType,
		ResourceID:                r.ResourceID,
		Steps:                     make([]mfa.Step, len(r.AuthenticationDetails)),
	}
	for i, d := range r.AuthenticationDetails {
		in.Steps[i] = mfa.Step{
			Method:       d.AuthenticationMethod,
			MethodDetail: d.AuthenticationMethodDetail,
			ResultDetail: d.AuthenticationStepResultDetail,
			Requirement:  d.AuthenticationStepRequirement,
			Succeeded:    d.Succeeded,
		}
	}
	return in
}

func errorReason(err error) string {
	var mp *graph.MalformedPageError
	var api *graph.APIError
	switch {
	case errors.Is(err, errStateCommit):
		return "state_commit"
	case errors.Is(err, graph.ErrLicence):
		return "licence"
	case errors.Is(err, graph.ErrPermission):
		return "permission"
	case errors.Is(err, graph.ErrAuthentication):
		return "authentication"
	case errors.As(err, &mp):
		return "malformed_page"
	case errors.As(err, &api) && api.StatusCode == 429:
		return "throttled"
	case errors.As(err, &api):
		return "graph_error"
	}
	return "other"
}

// unknownLog logs each distinct message key once, remembering at most max of them so a flood of
// distinct strings cannot grow memory without bound.
type unknownLog struct {
	mu     sync.Mutex
	logger *slog.Logger
	seen   map[string]struct{}
	max    int
}

func newUnknownLog(logger *slog.Logger, max int) *unknownLog {
	return &unknownLog{logger: logger, seen: map[string]struct{}{}, max: max}
}

func (u *unknownLog) once(field, value, msg string, args ...any) {
	u.mu.Lock()
	defer u.mu.Unlock()
	k := field + "\x00" + value
	if _, ok := u.seen[k]; ok || len(u.seen) >= u.max {
		return
	}
	u.seen[k] = struct{}{}
	u.logger.Warn(msg, args...)
}
