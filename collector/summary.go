package collector

import (
	"cmp"
	"errors"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
)

// This file computes the six answers of Microsoft's "review MFA events in the sign-ins report"
// page (protected share, completions by method, denials by reason, users challenged, users who
// failed, common problems) for a period, in two places that must count exactly like the
// exporter's counters:
//   - Period, for `report mfa`, which reads a period from Graph itself;
//   - the summary ring of each tenant, filled by the ingestion (signins.go) and read by the
//     landing page through Manager.Summary, without any Graph call.
// Both classify a row with the ingestion's own functions (toMFA, mfa.Classify, challenged) and
// add it to the same tally, so a change of classification reaches all three at once.

// Count is one line of a ranking: a label value and how many rows carry it.
type Count struct {
	Label string
	N     int64
}

// Problem is one cell of the denials by reason × method table.
type Problem struct {
	Reason, Method string
	N              int64
}

// Answers are the six answers for one period of sign-in time (createdDateTime).
type Answers struct {
	From, To time.Time
	// SignIns is the number of sign-in rows counted. Satisfied and NotRequired are the rows whose
	// MFA outcome was satisfied or not required: the rows that got through, of which the
	// satisfied ones were protected by MFA (the dashboards' definition).
	SignIns, Satisfied, NotRequired int64
	Completions                     []Count   // satisfied MFA attempts by method
	Denials                         []Count   // denied MFA attempts by reason
	Problems                        []Problem // denied MFA attempts by reason and method
	ErrorCodes                      []Count   // failed sign-in rows by sign-in error code
	// UsersChallenged and UsersFailed are distinct users asked for a second factor, and with a
	// denied attempt, in the period; UsersKnown is false when they cannot be told (the landing
	// page's window is longer than the longest of the tenant's user_windows).
	UsersChallenged, UsersFailed int64
	UsersKnown                   bool
}

// ProtectedShare is Satisfied / (Satisfied + NotRequired); ok is false when no row got through.
func (a *Answers) ProtectedShare() (share float64, ok bool) {
	through := a.Satisfied + a.NotRequired
	if through == 0 {
		return 0, false
	}
	return float64(a.Satisfied) / float64(through), true
}

// Completed is the number of satisfied MFA attempts, Denied of denied ones.
func (a *Answers) Completed() int64 { return sumCounts(a.Completions) }

// Denied is the number of denied MFA attempts.
func (a *Answers) Denied() int64 { return sumCounts(a.Denials) }

func sumCounts(cs []Count) int64 {
	var n int64
	for _, c := range cs {
		n += c.N
	}
	return n
}

// tally holds the counts the answers are made of. Keys join a kind and label values with ':',
// which no catalogue label value contains (labels are snake_case words, codes and "other").
type tally map[string]int64

// Kinds of tally keys; short because the summary ring is part of the state file.
const (
	keySignIns     = "n" // every row
	keySatisfied   = "s" // rows with MFA outcome satisfied
	keyNotRequired = "r" // rows with MFA outcome not_required
	kindCompletion = "m" // m:<method>: satisfied attempts
	kindDenial     = "d" // d:<reason>:<method>: denied attempts
	kindErrorCode  = "e" // e:<error code>: rows whose result is failure
)

// add counts one classified row, as the durable counters of ingest do.
func (t tally) add(c mfa.Classification) {
	t[keySignIns]++
	switch c.Outcome {
	case mfa.OutcomeSatisfied:
		t[keySatisfied]++
	case mfa.OutcomeNotRequired:
		t[keyNotRequired]++
	}
	if mfa.IsAttempt(c) {
		if c.Outcome == mfa.OutcomeSatisfied {
			t[tallyKeys.get(kindCompletion, c.Method)]++
		} else {
			t[tallyKeys.get(kindDenial, c.Reason, c.Method)]++
		}
	}
	if c.Result == mfa.ResultFailure {
		t[tallyKeys.get(kindErrorCode, c.ErrorCode)]++
	}
}

// tallyKeyMemo keeps the joined tally keys, so that counting a row builds none: the labels are
// catalogue values and error codes, few and repeated. When full it starts over (a flood of
// distinct error codes costs time, never unbounded memory).
type tallyKeyMemo struct {
	mu sync.RWMutex
	m  map[tallyKeyParts]string
}

type tallyKeyParts struct {
	n          int // how many of the values follow kind
	kind, a, b string
}

var tallyKeys tallyKeyMemo

// get is kind and the values joined with ':'.
func (c *tallyKeyMemo) get(kind string, values ...string) string {
	k := tallyKeyParts{n: len(values), kind: kind}
	switch len(values) {
	case 2:
		k.a, k.b = values[0], values[1]
	case 1:
		k.a = values[0]
	default:
		return kind + ":" + strings.Join(values, ":")
	}
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return v
	}
	v = kind + ":" + strings.Join(values, ":")
	k.kind, k.a, k.b = strings.Clone(k.kind), strings.Clone(k.a), strings.Clone(k.b)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= 4096 {
		c.m = make(map[tallyKeyParts]string, 64)
	}
	c.m[k] = v
	c.mu.Unlock()
	return v
}

func (t tally) merge(o tally) {
	for k, v := range o {
		t[k] += v
	}
}

// answers turns the tally into the rankings of Answers (users are left to the caller).
func (t tally) answers(from, to time.Time) Answers {
	a := Answers{From: from, To: to, SignIns: t[keySignIns], Satisfied: t[keySatisfied], NotRequired: t[keyNotRequired]}
	denials := map[string]int64{}
	for k, v := range t {
		kind, rest, _ := strings.Cut(k, ":")
		switch kind {
		case kindCompletion:
			a.Completions = append(a.Completions, Count{rest, v})
		case kindDenial:
			reason, method, _ := strings.Cut(rest, ":")
			a.Problems = append(a.Problems, Problem{reason, method, v})
			denials[reason] += v
		case kindErrorCode:
			a.ErrorCodes = append(a.ErrorCodes, Count{rest, v})
		}
	}
	for r, v := range denials {
		a.Denials = append(a.Denials, Count{r, v})
	}
	sortCounts(a.Completions)
	sortCounts(a.Denials)
	sortCounts(a.ErrorCodes)
	slices.SortFunc(a.Problems, func(x, y Problem) int {
		return cmp.Or(cmp.Compare(y.N, x.N), cmp.Compare(x.Reason, y.Reason), cmp.Compare(x.Method, y.Method))
	})
	return a
}

// sortCounts ranks by count, largest first, then by label, so equal counts keep a stable order.
func sortCounts(cs []Count) {
	slices.SortFunc(cs, func(x, y Count) int { return cmp.Or(cmp.Compare(y.N, x.N), cmp.Compare(x.Label, y.Label)) })
}

// graphEventTypes maps sign_ins.event_types to Graph's signInEventTypes values.
func graphEventTypes(types []string) []string {
	var out []string
	for _, t := range types {
		switch t {
		case config.EventTypeInteractive:
			out = append(out, "interactiveUser")
		case config.EventTypeNonInteractive:
			out = append(out, "nonInteractiveUser")
		}
	}
	return out
}

// Period counts the sign-in rows of one period as the exporter counts them: rows without an id
// are skipped, a row whose id was already counted is not counted again, and rows outside
// [From, To] (whole seconds, both ends inclusive, as the Graph filter reads them) are ignored.
// It is not safe for concurrent use.
type Period struct {
	w     window
	seen  map[string]struct{}
	t     tally
	seed  maphash.Seed
	users map[uint64]uint8 // hash of the user id -> userChallenged | userFailed

	// Rows received, and among them the ones not counted.
	Rows, Duplicates, Outside, WithoutID int64
	// Oldest is the oldest createdDateTime counted; with Graph's documented newest-first order
	// it tells how far back a read has come.
	Oldest time.Time
}

const (
	userChallenged = 1 << iota
	userFailed
)

// NewPeriod returns an empty Period for sign-ins created in [from, to], truncated to whole
// seconds as the Graph filter is.
func NewPeriod(from, to time.Time) (*Period, error) {
	w := window{From: from.UTC().Truncate(time.Second), To: to.UTC().Truncate(time.Second)}
	if w.To.Before(w.From) {
		return nil, errors.New("the period ends before it starts")
	}
	return &Period{w: w, seen: map[string]struct{}{}, t: tally{}, seed: maphash.MakeSeed(), users: map[uint64]uint8{}}, nil
}

// From and To are the period's bounds, as sent to Graph.
func (p *Period) From() time.Time { return p.w.From }

// To is the period's upper bound (inclusive).
func (p *Period) To() time.Time { return p.w.To }

// Query is the Graph query that reads the period for a tenant with these sign-in settings: the
// documented ge/le filter on createdDateTime and the configured event types, no $orderby.
func (p *Period) Query(s config.SignIns) graph.SignInQuery {
	return graph.SignInQuery{From: p.w.From, To: p.w.To, EventTypes: graphEventTypes(s.EventTypes)}
}

// Add counts one row.
func (p *Period) Add(r *graph.SignIn) {
	p.Rows++
	switch {
	case r.ID == "":
		p.WithoutID++
		return
	case !p.w.holds(r.CreatedDateTime):
		p.Outside++
		return
	}
	if _, dup := p.seen[r.ID]; dup {
		p.Duplicates++
		return
	}
	p.seen[r.ID] = struct{}{}
	if p.Oldest.IsZero() || r.CreatedDateTime.Before(p.Oldest) {
		p.Oldest = r.CreatedDateTime
	}
	c := mfa.Classify(toMFA(r))
	p.t.add(c)
	if r.UserID == "" {
		return // as the user tracker: a row without a user names nobody to count
	}
	var flags uint8
	if challenged(c) {
		flags |= userChallenged
	}
	if c.Outcome == mfa.OutcomeDenied {
		flags |= userFailed
	}
	if flags != 0 {
		p.users[maphash.String(p.seed, r.UserID)] |= flags
	}
}

// Answers returns the six answers for the rows counted so far.
func (p *Period) Answers() Answers {
	a := p.t.answers(p.w.From, p.w.To)
	for _, f := range p.users {
		if f&userChallenged != 0 {
			a.UsersChallenged++
		}
		if f&userFailed != 0 {
			a.UsersFailed++
		}
	}
	a.UsersKnown = true
	return a
}

// The summary ring keeps, per tenant, the tally of the last 24 hours of sign-in time in 5-minute
// buckets keyed by createdDateTime: at most 289 buckets of at most a few dozen keys (label values
// are bounded), whatever the tenant's volume. It is committed with the counters (tenantState.
// Summary), so it survives a restart and, like them, counts every row exactly once: increments
// are pending until the commit that makes the counters visible.
const (
	summaryBucket  = 5 * time.Minute
	summaryHorizon = 24 * time.Hour
)

// summaryState is the ring's form in the state file: bucket start (Unix seconds, decimal) ->
// tally.
type summaryState struct {
	BucketSeconds int64            `json:"bucket_seconds"`
	Buckets       map[string]tally `json:"buckets"`
}

type summaryRing struct {
	mu        sync.Mutex
	committed map[int64]tally
	pending   map[int64]tally
	countedTo time.Time // the fresh cursor at the last successful commit
	dropped   []int64   // buckets forgotten since the last commit wrote the part (summaryPart)
}

func restoreSummary(st *tenantState) *summaryRing {
	r := &summaryRing{committed: map[int64]tally{}, pending: map[int64]tally{}}
	if st == nil || st.Summary == nil || st.Summary.BucketSeconds != int64(summaryBucket/time.Second) {
		return r // no ring yet, or one of another bucket size: start empty rather than misplace counts
	}
	for k, t := range st.Summary.Buckets {
		start, err := strconv.ParseInt(k, 10, 64)
		if err != nil || start%int64(summaryBucket/time.Second) != 0 || t == nil {
			continue
		}
		r.committed[start] = t
	}
	r.countedTo = st.Fresh
	return r
}

func bucketOf(t time.Time) int64 {
	s := int64(summaryBucket / time.Second)
	u := t.Unix()
	return u - ((u%s)+s)%s // floor, also before 1970
}

// observe counts a row created at created; now is the exporter's clock. Rows older than the
// horizon (a backlog read after downtime) are left out, as are rows dated in the future (which
// the exporter's windows, ending at now minus the settle delay, never hold): they would add
// buckets beyond the bound.
func (r *summaryRing) observe(created, now time.Time, c mfa.Classification) {
	if created.Before(now.Add(-summaryHorizon)) || created.After(now.Add(summaryBucket)) {
		return
	}
	b := bucketOf(created)
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.pending[b]
	if t == nil {
		t = tally{}
		r.pending[b] = t
	}
	t.add(c)
}

// export returns what the next commit writes: committed plus pending counts.
func (r *summaryRing) export() *summaryState {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := &summaryState{BucketSeconds: int64(summaryBucket / time.Second), Buckets: make(map[string]tally, len(r.committed)+len(r.pending))}
	for _, m := range []map[int64]tally{r.committed, r.pending} {
		for b, t := range m {
			k := strconv.FormatInt(b, 10)
			out := st.Buckets[k]
			if out == nil {
				out = tally{}
				st.Buckets[k] = out
			}
			out.merge(t)
		}
	}
	return st
}

// promote makes the pending counts visible after a successful commit (the source's lock is held
// from export to promote, so nothing was counted in between), records how far the fresh cursor
// had come, and forgets buckets beyond the horizon.
func (r *summaryRing) promote(countedTo, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for b, t := range r.pending {
		if r.committed[b] == nil {
			r.committed[b] = tally{}
		}
		r.committed[b].merge(t)
	}
	clear(r.pending)
	oldest := bucketOf(now.Add(-summaryHorizon))
	for b := range r.committed {
		if b < oldest {
			delete(r.committed, b)
			r.dropped = append(r.dropped, b)
		}
	}
	r.countedTo = countedTo
}

// answers sums the committed buckets that start at or after now-w: the period covered is [From,
// now], From being now-w rounded up to a bucket boundary (at most 5 minutes short of w).
func (r *summaryRing) answers(now time.Time, w time.Duration) Answers {
	from := bucketOf(now.Add(-w))
	if from < now.Add(-w).Unix() {
		from += int64(summaryBucket / time.Second)
	}
	sum := tally{}
	r.mu.Lock()
	for b, t := range r.committed {
		if b >= from {
			sum.merge(t)
		}
	}
	r.mu.Unlock()
	return sum.answers(time.Unix(from, 0).UTC(), now)
}

func (r *summaryRing) counted() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.countedTo
}

// usersWithin counts the distinct users challenged and failed with an event in [now-w, now];
// ok is false when w is longer than the longest window the tracker keeps users for.
func (u *userTracker) usersWithin(now time.Time, w time.Duration) (challenged, failed int64, ok bool) {
	if w > u.longest() {
		return 0, 0, false
	}
	from := ceilSeconds(now.Add(-w)) // the tracker keeps whole seconds (users.go)
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, e := range u.users {
		if e.challenged != 0 && int64(e.challenged) >= from {
			challenged++
		}
		if e.failed != 0 && int64(e.failed) >= from {
			failed++
		}
	}
	return challenged, failed, true
}

// sourceStatus is the part of a source's health the landing page shows. It has a lock of its own:
// a poll holds the source's lock for its whole duration, and a page must never wait for Graph.
type sourceStatus struct {
	mu          sync.Mutex
	lastSuccess time.Time
	errReason   string // "" after a success
	errMessage  string
}

// maxStatusMessage bounds the error text kept for the landing page.
const maxStatusMessage = 500

func (s *sourceStatus) ok(now time.Time) {
	s.mu.Lock()
	s.lastSuccess, s.errReason, s.errMessage = now, "", ""
	s.mu.Unlock()
}

func (s *sourceStatus) fail(reason string, err error) {
	s.mu.Lock()
	s.errReason, s.errMessage = reason, truncate(err.Error(), maxStatusMessage)
	s.mu.Unlock()
}

func (s *sourceStatus) health(source string) SourceHealth {
	s.mu.Lock()
	defer s.mu.Unlock()
	return SourceHealth{Source: source, Enabled: true, LastSuccess: s.lastSuccess, ErrorReason: s.errReason, Error: s.errMessage}
}

// SourceHealth is the health of one of a tenant's sources (the source label of the health
// metrics: signIns, userRegistrationDetails).
type SourceHealth struct {
	Source  string
	Enabled bool
	// LastSuccess is the end of the last poll that completed without error; zero before one has.
	LastSuccess time.Time
	// CountedTo (signIns): every settled row created before it has been read at least once; now
	// minus CountedTo is the ingestion lag.
	CountedTo time.Time
	// ErrorReason and Error describe the last poll when it failed (the poll-error reason label
	// and the error text, as logged); empty when it succeeded.
	ErrorReason, Error string
}

// TenantSummary is what the landing page shows of one tenant.
type TenantSummary struct {
	Tenant  string
	Periods []Answers // one per window asked for, ending now
	Sources []SourceHealth
}

// Summary returns, for every running tenant (sorted by name), the six answers over each of
// windows ending now, from committed counts only, and the health of its sources. It makes no
// Graph call and never waits for a poll.
func (m *Manager) Summary(windows ...time.Duration) []TenantSummary {
	type view struct {
		name  string
		src   *signInSource
		users *userTracker
		reg   *registrationSource
		regOn bool
	}
	m.mu.Lock()
	views := make([]view, 0, len(m.tenants))
	for name, r := range m.tenants {
		views = append(views, view{name, r.source, r.users, r.reg, r.cfg.Registration.IsEnabled()})
	}
	m.mu.Unlock()
	slices.SortFunc(views, func(a, b view) int { return strings.Compare(a.name, b.name) })
	now := m.now()
	out := make([]TenantSummary, 0, len(views))
	for _, v := range views {
		ts := TenantSummary{Tenant: v.name}
		for _, w := range windows {
			a := v.src.summary.answers(now, w)
			a.UsersChallenged, a.UsersFailed, a.UsersKnown = v.users.usersWithin(now, w)
			ts.Periods = append(ts.Periods, a)
		}
		sh := v.src.health.status.health(sourceSignIns)
		sh.CountedTo = v.src.summary.counted()
		reg := v.reg.health.status.health(sourceRegistration)
		reg.Enabled = v.regOn
		ts.Sources = []SourceHealth{sh, reg}
		out = append(out, ts)
	}
	return out
}
