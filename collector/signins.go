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

	"github.com/prometheus/client_golang/prometheus"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
)

const sourceSignIns = "signIns"

// Pass labels: which read found a row.
const (
	passFresh     = "fresh"     // first read, once rows settled
	passReconcile = "reconcile" // second read, reconcile_delay later: counts late rows
	passBacklog   = "backlog"   // single read of a gap skipped by a jump (first start, downtime)
)

// Consecutive failures on a malformed page, with the read already narrowed to the smallest span,
// after which the range is skipped (counted and logged) rather than re-read forever.
const poisonAttempts = 3

// clockStepTolerance is how far the wall clock may run ahead of the monotonic clock between two
// reads before the clock guard holds the fresh read back.
const clockStepTolerance = time.Minute

// signInSource ingests one tenant's sign-in log, counting every settled row exactly once at a
// cost of about two reads of each row, whatever order Graph returns rows in.
//
// Three passes read the log (cursor.go plans them, as pure functions):
//   - the fresh pass reads [fresh, now-settle_delay] at every poll: each row once, as soon as
//     it has settled;
//   - the reconcile pass reads [reconcile, now-settle_delay-reconcile_delay] whenever at least
//     reconcile_interval is due: each row a second time, counting the rows that became visible
//     after the fresh read passed them (late rows);
//   - the backlog pass reads the gaps the fresh cursor jumped over (first start, downtime) once,
//     oldest first, in slices small enough to finish inside a poll's time box.
//
// A cursor moves only when a read of its whole window has completed: rows come in no documented
// order, so a partial read proves nothing about any time. Progress inside a window is kept as
// remembered ids, committed with the counts after every page, so a read cut short (time box,
// error, crash) is simply read again and counts nothing twice. Ids are forgotten once no read can
// return them any more. Cursors, gaps, ids and counters are committed together (state.go); a
// crash loses only uncommitted work, which was never exposed and is read again.
type signInSource struct {
	tenant   string
	tenantID string
	metrics  *Metrics
	counts   *tenantCounts
	users    *userTracker
	coverage *coverageTracker // nil: no per-policy and per-application counts (coverage.go)
	store    stateStore
	journal  *tenantJournal // created at the first commit (tenantID is set after construction)
	migrated string         // JSON state file the restored state came from
	unknown  *unknownLog
	logger   *slog.Logger
	now      func() time.Time
	det      *tenantDetections // per-user attack detection (detections.go); nil: none

	mu       sync.Mutex // one poll at a time; guards everything below
	settings config.SignIns
	cur      cursors
	seen     map[string]int64 // row id -> createdDateTime (Unix ns) of rows a later read may return
	// Ids remembered and forgotten since the last commit: what the next one writes.
	seenAdded, seenForgotten []string
	// parts are other components committed in the same transaction (state.go statePart).
	parts   []statePart
	health  pollHealth
	summary *summaryRing // the landing page's last 24 hours, committed with the counters (summary.go)

	// Read spans of the reconcile and backlog passes, adapted to the tenant's volume (nextSpan),
	// and each pass's ceiling: the shortest span the time box cut since the pass last caught up.
	reconcileSpan, backlogSpan time.Duration
	ceiling                    map[string]time.Duration
	// poison counts consecutive malformed-page failures of the same smallest window, per pass.
	poison map[string]poisonStreak
	// boundIgnored is set once Graph returned rows after a read's upper bound: slices then no
	// longer shrink, since every read costs everything up to now anyway.
	boundIgnored bool

	// guardClock (production, where now is the wall clock) limits how far the fresh cursor may
	// move between two reads to the time that really passed, measured on the monotonic clock.
	// A wall clock stepped forward (NTP, a VM resumed) would otherwise carry both cursors past
	// rows that do not exist yet, and they would never be read.
	guardClock bool
	lastRead   time.Time // monotonic reading at the last successful fresh read

	// ok (a poll has succeeded) is read by /-/ready without taking mu, which a poll holds for
	// its whole duration: a readiness probe must never wait for Graph.
	ok atomic.Bool

	// Per-row hot path: the buffers classification reuses, and the per-row counters' series
	// (looking a series up by its labels costs more than classifying the row).
	mfaBuf        mfaBuffers
	fetchedByPass map[string]prometheus.Counter
	deduplicated  prometheus.Counter

	// changes, when set, counts the polls that ended (Manager.Changes).
	changes *changeCount

	// onCount, when set (benchmarks), is called for every row counted.
	onCount func(r *graph.SignIn, pass string)
}

type poisonStreak struct {
	from  time.Time
	count int
}

func newSignInSource(tenant string, settings config.SignIns, m *Metrics, st *tenantState, store stateStore, users *userTracker, logger *slog.Logger, now func() time.Time) *signInSource {
	s := &signInSource{
		tenant: tenant, metrics: m, users: users, store: store, logger: logger, now: now,
		unknown: newUnknownLog(logger, 1000), settings: settings, seen: map[string]int64{},
		reconcileSpan: initialSpan, backlogSpan: initialSpan, poison: map[string]poisonStreak{},
		ceiling: map[string]time.Duration{},
	}
	if st != nil {
		s.cur = cursors{Fresh: st.Fresh, Reconcile: st.Reconcile, Gaps: st.Gaps, Forgotten: st.Forgotten}
		s.seen = st.Seen
		s.counts = newTenantCounts(tenant, st.Counters)
		s.migrated = st.Migrated
	} else {
		s.counts = newTenantCounts(tenant, nil)
	}
	s.summary = restoreSummary(st)
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

// exportSettings publishes the timing settings, so alert rules can compare the lag with them.
func (s *signInSource) exportSettings() {
	s.metrics.SettleDelay.WithLabelValues(s.tenant, sourceSignIns).Set(time.Duration(s.settings.SettleDelay).Seconds())
	s.metrics.PollInterval.WithLabelValues(s.tenant, sourceSignIns).Set(time.Duration(s.settings.PollInterval).Seconds())
}

func (s *signInSource) timing() timing {
	return timing{
		settle:            time.Duration(s.settings.SettleDelay),
		reconcileDelay:    time.Duration(s.settings.ReconcileDelay),
		reconcileInterval: time.Duration(s.settings.ReconcileInterval),
		pollInterval:      time.Duration(s.settings.PollInterval),
		lookback:          time.Duration(s.settings.Lookback),
	}
}

func (s *signInSource) ready() bool { return s.ok.Load() }

// poll runs the fresh read and then, within the time box that ends at deadline (zero: no
// limit), the reconcile and backlog reads, so a long backlog never delays the next fresh read.
func (s *signInSource) poll(ctx context.Context, client *graph.Client, deadline time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.metrics
	m.Polls.WithLabelValues(s.tenant, sourceSignIns).Inc()
	pruneAt := s.now()
	succeeded := false
	defer func() {
		s.exportBacklog()
		// Forget users outside every window whatever the poll's outcome, so a source failing
		// for days does not keep every user it ever saw.
		s.users.prune(pruneAt)
		// The poll's end is published (a cached /metrics rendered with it first), and only
		// then shown by /-/ready: a scrape after a ready answer never misses the poll.
		s.changed()
		if succeeded {
			s.ok.Store(true)
		}
	}()
	if err := s.readFresh(ctx, client); err != nil {
		if cerr := s.commit(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		s.health.failed(err)
		return err
	}
	err := s.readBehind(ctx, client, deadline)
	if cerr := s.commit(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		s.health.failed(err)
		return err
	}
	s.health.succeeded(s.now())
	succeeded = true
	return nil
}

func (s *signInSource) changed() {
	if s.changes != nil {
		s.changes.add()
	}
}

func (s *signInSource) eventTypes() []string { return graphEventTypes(s.settings.EventTypes) }

// readFresh reads [fresh, now-settle] whole; the fresh cursor moves only when the read completed.
func (s *signInSource) readFresh(ctx context.Context, client *graph.Client) error {
	now := s.now()
	t := s.timing()
	var guardTo time.Time
	if s.guardClock && !s.lastRead.IsZero() {
		elapsed := time.Since(s.lastRead) // monotonic: unaffected by steps of the wall clock
		limit := s.cur.Fresh.Add(elapsed + t.pollInterval).Truncate(time.Second)
		if now.Add(-t.settle).After(limit.Add(clockStepTolerance)) {
			guardTo = limit
		}
	}
	p := planFresh(s.cur, now, t, guardTo)
	if p.clamped {
		s.metrics.CursorsClamped.WithLabelValues(s.tenant, sourceSignIns).Inc()
		s.logger.Warn("sign-in cursors lay in the future (a clock that was ahead, a restored state file); reading again from the look-back, remembered ids prevent double counting",
			"tenant", s.tenant, "fresh_cursor", s.cur.Fresh, "reconcile_cursor", s.cur.Reconcile, "restart_from", p.next.Fresh, "now", now)
	}
	if p.stepped {
		s.metrics.ClockSteps.WithLabelValues(s.tenant).Inc()
		s.unknown.once("clock_step", "", "wall clock ahead of the time that passed since the last read; reading only up to the time that passed",
			"tenant", s.tenant, "wanted_to", p.heldTo, "reading_to", guardTo)
	}
	if p.gap != nil && (len(s.cur.Gaps) == 0 || !s.cur.Gaps[len(s.cur.Gaps)-1].To.Equal(p.gap.From)) {
		// An outage extends the last gap at every failed poll: one line per new gap.
		s.logger.Info("sign-in log behind: reading the freshest rows first, the gap by the backlog pass",
			"tenant", s.tenant, "gap_from", p.gap.From, "gap_to", p.gap.To)
	}
	s.cur = p.next
	defer func() {
		s.metrics.Lag.WithLabelValues(s.tenant, sourceSignIns).Set(s.now().Sub(s.cur.Fresh).Seconds())
	}()
	if !p.ok {
		return nil
	}
	if _, err := s.read(ctx, client, p.read, passFresh, time.Time{}); err != nil {
		return err
	}
	s.cur.Fresh = p.read.To
	s.lastRead = time.Now()
	return nil
}

// readBehind runs the reconcile pass, then the backlog pass, slice after slice until nothing is
// due or the time box ends. A slice cut short by the time box is read again (smaller) next poll.
func (s *signInSource) readBehind(ctx context.Context, client *graph.Client, deadline time.Time) error {
	t := s.timing()
	for {
		c, w, ok := planReconcile(s.cur, s.now(), t, s.reconcileSpan)
		s.cur = c
		if !ok {
			delete(s.ceiling, passReconcile) // caught up: the rows per second may differ next time
			break
		}
		complete, err := s.readSlice(ctx, client, w, passReconcile, &s.reconcileSpan, deadline)
		if err != nil || !complete {
			return err
		}
		s.cur = reconciled(s.cur, w)
		if err := s.settle(); err != nil {
			return err
		}
		if expired(deadline) {
			return nil
		}
	}
	for {
		w, ok := planGap(s.cur, s.now(), t, s.backlogSpan)
		if !ok {
			delete(s.ceiling, passBacklog)
			return nil
		}
		complete, err := s.readSlice(ctx, client, w, passBacklog, &s.backlogSpan, deadline)
		if err != nil || !complete {
			return err
		}
		s.cur = gapRead(s.cur, w)
		if err := s.settle(); err != nil {
			return err
		}
		if expired(deadline) {
			return nil
		}
	}
}

func expired(deadline time.Time) bool { return !deadline.IsZero() && !time.Now().Before(deadline) }

// settle forgets the ids no read can return any more and commits the moved cursor.
func (s *signInSource) settle() error {
	for id, created := range s.seen {
		c := time.Unix(0, created)
		if forgettable(s.cur, c) {
			delete(s.seen, id)
			s.seenForgotten = append(s.seenForgotten, id)
			if c.After(s.cur.Forgotten) {
				s.cur.Forgotten = c
			}
		}
	}
	return s.commit()
}

// readSlice reads one reconcile or backlog window, committing after every page, adapts the pass's
// span, and skips a window that keeps failing on a malformed page once it cannot be narrowed.
func (s *signInSource) readSlice(ctx context.Context, client *graph.Client, w window, pass string, span *time.Duration, deadline time.Time) (bool, error) {
	started := time.Now()
	complete, err := s.read(ctx, client, w, pass, deadline)
	poisoned := narrowable(err)
	quick := complete && (deadline.IsZero() || time.Since(started) < deadline.Sub(started)/3)
	if s.boundIgnored {
		*span = maxSpan
	} else {
		*span, s.ceiling[pass] = nextSpan(*span, s.ceiling[pass], complete, poisoned, quick)
	}
	s.logger.Debug("sign-in slice read", "tenant", s.tenant, "pass", pass, "from", w.From, "to", w.To,
		"complete", complete, "took", time.Since(started), "next_span", *span, "err", err)
	if !poisoned {
		delete(s.poison, pass)
		return complete, err
	}
	if w.To.Sub(w.From) > minSpan {
		return false, err // narrowed next time
	}
	streak := s.poison[pass]
	if !streak.from.Equal(w.From) {
		streak = poisonStreak{from: w.From}
	}
	streak.count++
	s.poison[pass] = streak
	if streak.count < poisonAttempts {
		return false, err
	}
	delete(s.poison, pass)
	s.metrics.RangesSkipped.WithLabelValues(s.tenant, sourceSignIns).Inc()
	s.metrics.SkippedSeconds.WithLabelValues(s.tenant, sourceSignIns).Add(w.To.Sub(w.From).Seconds() + 1)
	s.logger.Error("skipping a sign-in time range Graph keeps failing to return (malformed page or endless paging); rows in it that were not counted yet are lost",
		"tenant", s.tenant, "pass", pass, "from", w.From, "to", w.To, "attempts", streak.count, "err", err)
	return true, nil
}

// read reads window w for pass, counting every row inside it. The reconcile and backlog passes
// commit after every page and stop at the page during which deadline passed; the result says
// whether every page was read.
func (s *signInSource) read(ctx context.Context, client *graph.Client, w window, pass string, deadline time.Time) (bool, error) {
	err := client.SignIns(ctx, graph.SignInQuery{From: w.From, To: w.To, EventTypes: s.eventTypes(), ReuseRows: true}, func(page []graph.SignIn) error {
		for i := range page {
			s.ingest(&page[i], w, pass)
		}
		if pass == passFresh {
			return nil // committed once the whole window is read (or on failure)
		}
		if err := s.commit(); err != nil {
			return err // stop reading: nothing more can be made durable now
		}
		// The time box is real time: it shares out the request budget, which is real time too.
		if expired(deadline) {
			return graph.ErrStopPaging
		}
		return nil
	})
	if errors.Is(err, graph.ErrStopPaging) {
		return false, nil
	}
	return err == nil, err
}

// exportBacklog publishes how much time is still to be read beyond the normal slack of one
// reconcile interval: 0 in steady state, the unread time after downtime or a first start.
func (s *signInSource) exportBacklog() {
	s.metrics.Backlog.WithLabelValues(s.tenant, sourceSignIns).Set(backlog(s.cur, s.now(), s.timing()).Seconds())
	s.metrics.DedupIDs.WithLabelValues(s.tenant, sourceSignIns).Set(float64(len(s.seen)))
}

// commit writes the cursors, ids and counters together; on success the counts become visible.
// A failed commit keeps everything pending for the next one, is counted, and makes the poll fail
// (so it is logged once per change of reason and last_success stops advancing).
func (s *signInSource) commit() error {
	now := s.now()
	if s.journal == nil {
		s.journal = &tenantJournal{store: s.store, tenant: s.tenant, tenantID: s.tenantID, migrated: s.migrated}
	}
	var written []counterWrite
	res, err := s.journal.commit(func(tx *stateTx, full bool) { written = s.writeState(tx, full, now) }, now)
	if err != nil {
		s.metrics.StateCommits.WithLabelValues(s.tenant, "error").Inc()
		return fmt.Errorf("%w: %w", errStateCommit, err)
	}
	s.counts.promote(written)
	s.summary.promote(s.cur.Fresh, now)
	s.det.promote()
	s.metrics.StateCommits.WithLabelValues(s.tenant, "success").Inc()
	if s.store.enabled() {
		s.metrics.StateBytes.WithLabelValues(s.tenant).Set(float64(res.size))
		s.metrics.StateWritten.WithLabelValues(s.tenant).Add(float64(res.written))
		s.metrics.StateLastCommit.WithLabelValues(s.tenant).Set(float64(now.Unix()))
	}
	return nil
}

func (s *signInSource) ingest(r *graph.SignIn, w window, pass string) {
	m := s.metrics
	fetched := s.fetchedByPass[pass]
	if fetched == nil {
		if s.fetchedByPass == nil {
			s.fetchedByPass = map[string]prometheus.Counter{}
			s.deduplicated = m.RowsDeduplicated.WithLabelValues(s.tenant, sourceSignIns)
		}
		fetched = m.RowsFetched.WithLabelValues(s.tenant, sourceSignIns, pass)
		s.fetchedByPass[pass] = fetched
	}
	fetched.Inc()
	switch admit(r.ID, r.CreatedDateTime, w, s.seen) {
	case admitMalformed:
		m.MalformedRows.WithLabelValues(s.tenant, sourceSignIns).Inc()
		s.unknown.once("row_without_id", "", "sign-in row without id skipped", "tenant", s.tenant, "created", r.CreatedDateTime)
		return
	case admitBefore:
		// A row outside the window asked for (Graph ignored a bound, or its clock disagrees) is
		// neither counted nor remembered: the read whose window holds it counts it.
		m.RowsOutside.WithLabelValues(s.tenant, sourceSignIns, "before").Inc()
		return
	case admitAfter:
		if !s.boundIgnored {
			s.boundIgnored = true
			s.logger.Warn("Graph returned sign-ins after the upper bound of the time filter; they are not counted by this read, and each read now costs every row up to now",
				"tenant", s.tenant, "window_to", w.To, "row_created", r.CreatedDateTime)
		}
		m.RowsOutside.WithLabelValues(s.tenant, sourceSignIns, "after").Inc()
		return
	case admitDuplicate:
		s.deduplicated.Inc()
		return
	}
	s.seen[r.ID] = r.CreatedDateTime.UnixNano()
	s.seenAdded = append(s.seenAdded, r.ID)
	if lateRow(pass, s.cur, r.CreatedDateTime) {
		m.LateRows.WithLabelValues(s.tenant, sourceSignIns).Inc()
		m.Lateness.WithLabelValues(s.tenant, sourceSignIns).Observe(s.now().Sub(r.CreatedDateTime).Seconds())
	}

	in := toMFAInto(r, &s.mfaBuf)
	c := mfa.Classify(in)
	for _, u := range c.Unknown {
		s.counts.inc(familyUnclassified, u.Field)
		s.unknown.once(u.Field, u.Value, "unclassified string counted as other", "tenant", s.tenant, "field", u.Field, "value", truncate(u.Value, 200))
	}
	incs := rowSeries(r, c)
	for _, id := range incs.series() {
		s.counts.incID(id)
	}
	s.countCoverage(r, in, c)
	s.users.observe(r.UserID, r.CreatedDateTime, challenged(c), c.Outcome == "denied")
	s.summary.observe(r.CreatedDateTime, s.now(), c)
	s.det.observe(r, c, s.now())
	if s.onCount != nil {
		s.onCount(r, pass)
	}
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

// mfaBuffers are the arrays a converted row's slices use; ingest reuses one set, so that
// converting a row allocates nothing once they are large enough.
type mfaBuffers struct {
	steps     []mfa.Step
	providers []string
	policies  []mfa.AppliedPolicy
}

// toMFAInto converts a row for the classifier, its slices in buf's arrays (grown as needed;
// nil: new ones). The result is valid until the next call with the same buf.
func toMFAInto(r *graph.SignIn, buf *mfaBuffers) mfa.SignIn {
	if buf == nil {
		buf = &mfaBuffers{}
	}
	if cap(buf.steps) < len(r.AuthenticationDetails) {
		buf.steps = make([]mfa.Step, len(r.AuthenticationDetails))
	}
	if cap(buf.providers) < len(r.AuthenticationRequirementPolicies) {
		buf.providers = make([]string, len(r.AuthenticationRequirementPolicies))
	}
	if cap(buf.policies) < len(r.AppliedConditionalAccessPolicies) {
		buf.policies = make([]mfa.AppliedPolicy, len(r.AppliedConditionalAccessPolicies))
	}
	in := mfa.SignIn{
		ErrorCode:                 r.Status.ErrorCode,
		FailureReason:             r.Status.FailureReason,
		AdditionalDetails:         r.Status.AdditionalDetails,
		AuthenticationRequirement: r.AuthenticationRequirement,
		TokenIssuerType:           r.TokenIssuerType,
		ResourceID:                r.ResourceID,
		Steps:                     buf.steps[:len(r.AuthenticationDetails)],
		RequirementProviders:      buf.providers[:len(r.AuthenticationRequirementPolicies)],
		Policies:                  buf.policies[:len(r.AppliedConditionalAccessPolicies)],
	}
	for i, p := range r.AuthenticationRequirementPolicies {
		in.RequirementProviders[i] = p.RequirementProvider
	}
	for i, p := range r.AppliedConditionalAccessPolicies {
		in.Policies[i] = mfa.AppliedPolicy{ID: p.ID, Result: p.Result, GrantControls: p.EnforcedGrantControls}
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

// toMFA converts a row for the classifier (tests and the summary's period counts; ingest reuses
// its buffers through toMFAInto).
func toMFA(r *graph.SignIn) mfa.SignIn { return toMFAInto(r, nil) }
