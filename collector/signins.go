package collector

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
)

const sourceSignIns = "signIns"

// signInSource ingests one tenant's sign-in log. Its state survives configuration reloads, so a
// reload never re-counts rows.
//
// Counting rule: a poll at time now asks Graph for rows with createdDateTime in
// [hwm-reread, now-settle). Rows younger than the settle delay are not asked for at all: their
// authentication details may still change. The trailing re-read window catches rows that became
// visible after an earlier poll had passed their createdDateTime. Every row id counted is
// remembered while it can still be returned by a later poll (createdDateTime >= hwm-reread), so a
// row is counted once however often it is re-read. Rows that become visible later than
// reread_window after the high-water mark passed them are missed; rows_outside_window_total and
// the lag gauge make that visible.
type signInSource struct {
	tenant  string
	metrics *Metrics
	users   *userTracker
	unknown *unknownLog
	logger  *slog.Logger
	now     func() time.Time

	mu       sync.Mutex // one poll at a time; guards everything below
	settings config.SignIns
	hwm      time.Time            // every row created before hwm-reread has been counted or missed for good
	seen     map[string]time.Time // id -> createdDateTime of rows counted that a later poll may return again
	ok       bool                 // at least one successful poll
	lastErr  string               // reason of the last failed poll, for logging transitions only
}

func newSignInSource(tenant string, settings config.SignIns, m *Metrics, users *userTracker, logger *slog.Logger, now func() time.Time) *signInSource {
	s := &signInSource{
		tenant: tenant, metrics: m, users: users, logger: logger, now: now,
		unknown: newUnknownLog(logger, 1000), settings: settings, seen: map[string]time.Time{},
	}
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

func (s *signInSource) ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ok
}

// window returns the interval the next poll asks for.
func (s *signInSource) window(now time.Time) (from, to time.Time) {
	to = now.Add(-time.Duration(s.settings.SettleDelay)).Truncate(time.Second)
	if s.hwm.IsZero() {
		from = now.Add(-time.Duration(s.settings.Lookback)).Truncate(time.Second)
	} else {
		from = s.hwm.Add(-time.Duration(s.settings.RereadWindow))
	}
	return from, to
}

// poll runs one poll. Rows handed over by Graph are counted as each page arrives, so an error on a
// later page loses nothing: the next poll re-reads the same window and deduplicates.
func (s *signInSource) poll(ctx context.Context, client *graph.Client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.metrics
	m.Polls.WithLabelValues(s.tenant, sourceSignIns).Inc()
	now := s.now()
	from, to := s.window(now)
	if !to.After(from) {
		return nil
	}
	var eventTypes []string
	for _, t := range s.settings.EventTypes {
		switch t {
		case "interactive":
			eventTypes = append(eventTypes, "interactiveUser")
		case "non_interactive":
			eventTypes = append(eventTypes, "nonInteractiveUser")
		}
	}
	err := client.SignIns(ctx, graph.SignInQuery{From: from, To: to, EventTypes: eventTypes}, func(page []graph.SignIn) error {
		for i := range page {
			s.ingest(&page[i], from, to)
		}
		return nil
	})
	if err != nil {
		s.recordError(err)
		return err
	}
	s.hwm = to
	horizon := to.Add(-time.Duration(s.settings.RereadWindow))
	for id, created := range s.seen {
		if created.Before(horizon) {
			delete(s.seen, id)
		}
	}
	s.users.prune(now)
	s.ok = true
	if s.lastErr != "" {
		s.logger.Info("sign-in polling recovered", "tenant", s.tenant, "previous_error", s.lastErr)
		s.lastErr = ""
	}
	for _, r := range accessReasons {
		m.AccessProblem.WithLabelValues(s.tenant, sourceSignIns, r).Set(0)
	}
	m.LastSuccess.WithLabelValues(s.tenant, sourceSignIns).Set(float64(now.UnixNano()) / 1e9)
	m.Lag.WithLabelValues(s.tenant, sourceSignIns).Set(now.Sub(s.hwm).Seconds())
	m.DedupIDs.WithLabelValues(s.tenant, sourceSignIns).Set(float64(len(s.seen)))
	return nil
}

func (s *signInSource) ingest(r *graph.SignIn, from, to time.Time) {
	m := s.metrics
	m.RowsFetched.WithLabelValues(s.tenant, sourceSignIns).Inc()
	if r.ID == "" {
		m.MalformedRows.WithLabelValues(s.tenant, sourceSignIns).Inc()
		s.unknown.once("row_without_id", "", "sign-in row without id skipped", "tenant", s.tenant, "created", r.CreatedDateTime)
		return
	}
	if r.CreatedDateTime.Before(from) || !r.CreatedDateTime.Before(to) {
		m.RowsTooOld.WithLabelValues(s.tenant, sourceSignIns).Inc()
		return
	}
	if _, dup := s.seen[r.ID]; dup {
		m.RowsDeduplicated.WithLabelValues(s.tenant, sourceSignIns).Inc()
		return
	}
	s.seen[r.ID] = r.CreatedDateTime

	c := mfa.Classify(toMFA(r))
	for _, u := range c.Unknown {
		m.Unclassified.WithLabelValues(s.tenant, u.Field).Inc()
		s.unknown.once(u.Field, u.Value, "unclassified string counted as other", "tenant", s.tenant, "field", u.Field, "value", u.Value)
	}
	m.SignIns.WithLabelValues(s.tenant, eventType(r), c.Requirement, c.Result, c.Outcome, c.ErrorCode).Inc()
	m.SignInsByClient.WithLabelValues(s.tenant, mfa.ClientApp(r.ClientAppUsed), c.Requirement, c.Outcome).Inc()
	if mfa.IsAttempt(c) {
		m.MFAAttempts.WithLabelValues(s.tenant, c.Method, c.Outcome, c.Reason, c.ResultCode, c.Component).Inc()
	}
	s.users.observe(r.UserID, r.CreatedDateTime, challenged(c), c.Outcome == "denied")
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

// recordError counts a failed poll and logs it once per change of reason, so a tenant without a
// licence produces one error line, not one per poll.
func (s *signInSource) recordError(err error) {
	reason := errorReason(err)
	m := s.metrics
	m.PollErrors.WithLabelValues(s.tenant, sourceSignIns, reason).Inc()
	for _, r := range accessReasons {
		v := 0.0
		if r == reason {
			v = 1
		}
		m.AccessProblem.WithLabelValues(s.tenant, sourceSignIns, r).Set(v)
	}
	if s.hwm.IsZero() {
		m.Lag.WithLabelValues(s.tenant, sourceSignIns).Set(0)
	} else {
		m.Lag.WithLabelValues(s.tenant, sourceSignIns).Set(s.now().Sub(s.hwm).Seconds())
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	if reason != s.lastErr {
		s.logger.Error("sign-in poll failed", "tenant", s.tenant, "reason", reason, "err", err)
	} else {
		s.logger.Debug("sign-in poll failed again", "tenant", s.tenant, "reason", reason, "err", err)
	}
	s.lastErr = reason
}

func errorReason(err error) string {
	var mp *graph.MalformedPageError
	var api *graph.APIError
	switch {
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

// unknownLog logs each distinct unclassified string once, remembering at most max of them so a
// flood of distinct strings cannot grow memory without bound.
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
