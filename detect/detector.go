package detect

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Detector keeps per-user windows and episodes for one tenant. It is safe for concurrent use
// (ingestion feeds it while a scrape or the detections endpoint reads it).
//
// The caller drives time; nothing here reads a clock. Two times matter:
//   - now, the current time (Observe, Advance): rows far from it are absurd, and the prompt
//     window ends at it;
//   - final (Advance): no row created before it will be fed any more. For the collector that is
//     its reconcile cursor ("every row created before it is final"), or the start of the oldest
//     gap its backlog pass has still to read, if earlier (the cursor steps over gaps before they
//     are read: collector.detectionFinal). Episodes are concluded
//     and rows forgotten relative to final only, so a row read late, even hours late by the
//     reconcile pass after an outage, still lands in its window, and nothing is concluded while
//     a row that could change it may still come.
type Detector struct {
	mu     sync.Mutex
	s      Settings
	bursts [nKinds]burstKind

	now      int64 // the latest now given, Unix ns
	final    int64 // the latest final given to Advance, Unix ns; 0 before the first
	users    *userTable
	exts     []ext    // by user.x - 1
	freeExts []uint32 // indexes of unused exts
	nDetails int      // users with a detail
	episodes map[string]*episode
	open     map[*episode]struct{} // episodes not concluded yet
	promptQ  dueQueue[promptDue]   // users by their earliest prompt (Unix s), against now
	detailQ  dueQueue[due]         // users by their earliest forgettable row (Unix ns), against final
	// promptUsers[n] is the number of users holding n prompts (n >= 1), in the window or not:
	// Snapshot's distribution starts from it (promptDistribution).
	promptUsers []int
	nPrompted   int // users holding prompts: the sum of promptUsers
	// queueSlack is how many stale entries a queue may hold beyond as many as the live ones
	// before it is rebuilt; tests lower it to rebuild often.
	queueSlack int
	kinds      [nKinds]KindCounters
	self       selfCounters
	nRows      int

	pruned bool // nothing to prune until now or final moves: a flood at the cap prunes once
	intern map[string]string

	// gen moves whenever what Export or Snapshot return may have changed (Generation); advGen
	// is gen as of the last Advance, which then had nothing left to do.
	gen, advGen uint64
	// changed holds the users whose record (ExportUser) may have changed since the last
	// TakeChanged; nil until the first call, so that nothing is tracked for a caller that
	// never asks (changes.go).
	changed map[uint64]struct{}
	// changedEps holds the episodes created or changed since the last TakeChangedEpisodes,
	// goneEps the ids under which an episode is no longer held (forgotten, or given another
	// id); both nil until the first call (episodechanges.go). epGen moves whenever an episode
	// changes or enters or leaves the listing, which Snapshot keeps as of an epGen.
	changedEps map[*episode]struct{}
	goneEps    map[string]struct{}
	epGen      uint64
	listing    listing
}

// detail exists while a user has rows in a detection window or episodes that late rows may
// still reach (the users' records: users.go).
type detail struct {
	userID, upn string
	events      []event    // failures, fraud reports, blocks: sorted by (at, row)
	succ        []ref      // completed MFA (only the time and id matter), sorted
	eps         []*episode // this user's episodes that a row inside the horizon may still reach
	due         int64      // the user's live detailQ entry, math.MaxInt64 for none
}

// event is a row kept for the detection windows. ep holds, per kind, the episode the row
// belongs to (nil: none yet).
type event struct {
	at                                                         int64
	fl                                                         flags
	outcome                                                    string
	row, corr, reason, method, appID, appName, country, prefix string
	ep                                                         [nKinds]*episode
}

func cmpEventRef(e event, r ref) int {
	if c := cmp.Compare(e.at, r.at); c != 0 {
		return c
	}
	return cmp.Compare(e.row, r.id)
}

// burstKind describes a kind detected by counting rows in a sliding window.
type burstKind struct {
	member flags // rows that belong to an episode of this kind
	rules  []burstRule
}

// burstRule fires when a window holds at least need rows with the counts flag (and, when
// sessions > 0, at least that many distinct correlation ids), none of them already in an
// episode of the kind.
type burstRule struct {
	counts   flags
	window   int64
	need     int
	sessions int
}

type selfCounters struct {
	capHits, rowCapHits, unattributable, absurd, late, duplicates uint64
}

// maxIntern bounds the table that shares repeated strings (reasons, methods, apps, countries).
const maxIntern = 4096

// New returns an empty detector, or the settings' validation error.
func New(s Settings) (*Detector, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	s.PromptBuckets = slices.Clone(s.PromptBuckets)
	d := &Detector{
		s:        s,
		users:    &userTable{},
		episodes: map[string]*episode{},
		open:     map[*episode]struct{}{},
		intern:   map[string]string{},
		gen:      1, // != advGen: the first Advance runs (a restored state may meet new settings)
	}
	d.promptUsers = make([]int, s.promptKeep()+1)
	d.queueSlack = 1024
	d.bursts[kFatigue] = burstKind{member: fPush, rules: []burstRule{
		{counts: fPush, window: int64(s.FatigueWindow), need: s.FatigueMoreThan + 1},
		{counts: fDecline, window: int64(s.DeclineWindow), need: s.DeclinesMoreThan + 1},
	}}
	d.bursts[kOATH] = burstKind{member: fOATH, rules: []burstRule{
		{counts: fOATH, window: int64(s.OATHWindow), need: s.OATHMinFailures, sessions: s.OATHMinSessions},
	}}
	return d, nil
}

// Settings returns the settings the detector runs with.
func (d *Detector) Settings() Settings {
	s := d.s
	s.PromptBuckets = slices.Clone(s.PromptBuckets)
	return s
}

// Observe feeds classified rows, in any order; a row already seen (same id and time) is not
// counted again. Rows that no rule reads are ignored without cost. now is the current time.
func (d *Detector) Observe(now time.Time, evs ...Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.setNow(now)
	for i := range evs {
		d.observe(&evs[i], now)
	}
}

func (d *Detector) setNow(now time.Time) {
	if n := now.UnixNano(); n > d.now && now.Unix() >= 0 && now.Unix() <= math.MaxUint32 {
		d.now = n
		d.pruned = false
		d.gen++
	}
}

// Generation is a number that moves whenever the state may have changed: two Exports (or
// Snapshots) with the same Generation in between are equal, so a caller that committed the
// state at one Generation need not export it again until it moves. Each Detector (New,
// Restore) counts on its own: compare Generations of the same Detector only.
func (d *Detector) Generation() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.gen
}

func (d *Detector) observe(ev *Event, nowT time.Time) {
	fl := classify(ev)
	if fl == 0 {
		return
	}
	d.gen++ // every path from here on may count, keep or drop something
	t := ev.Time
	// Far future or far past: a clock or decoding error, or hostile data. Checked on time.Time
	// first, because UnixNano is undefined outside about 1678-2262; the 32-bit prompt seconds
	// need 1970-2106.
	if t.Before(nowT.Add(-d.s.MaxPast)) || t.After(nowT.Add(d.s.MaxFuture)) ||
		t.Unix() < 0 || t.Unix() > math.MaxUint32 || nowT.Unix() < 0 || nowT.Unix() > math.MaxUint32 {
		d.self.absurd++
		return
	}
	if ev.UserID == "" {
		d.self.unattributable++
		return
	}
	now, at := nowT.UnixNano(), t.UnixNano()
	usePrompt := fl&fPrompt != 0 && at > now-int64(d.s.PromptWindow)
	useDetail := fl&fDetail != 0 && at >= d.final-int64(d.s.horizon())
	if (fl&fPrompt != 0 && !usePrompt) || (fl&fDetail != 0 && !useDetail) {
		d.self.late++
	}
	if !usePrompt && !useDetail {
		return
	}
	uid := clip(ev.UserID)
	key := userKey(uid)
	d.touch(key)
	u, rec := d.users.get(key)
	if u == nil {
		if d.users.len() >= d.s.MaxUsers {
			if !d.pruned {
				d.advance()
			}
			if d.users.len() >= d.s.MaxUsers {
				d.self.capHits++
				return
			}
		}
		u, rec = d.users.add(key)
	}
	dup := false
	if usePrompt {
		again, first := d.addPrompt(u, uint32(t.Unix()), rowKey(ev.ID))
		if first {
			d.schedulePrompt(u, rec)
		}
		dup = again
	}
	if useDetail {
		dd, again := d.addDetail(u, ev, uid, fl, at)
		d.scheduleDetail(key, dd)
		dup = again || dup
	}
	if dup {
		d.self.duplicates++
	}
	d.dropIfEmpty(u)
}

// detailOf returns the user's detail, nil when none.
func (d *Detector) detailOf(u *user) *detail {
	if u.x == 0 {
		return nil
	}
	return d.exts[u.x-1].d
}

func (d *Detector) setDetail(u *user, dd *detail) {
	had := d.detailOf(u) != nil
	if !had && dd == nil {
		return
	}
	if had != (dd != nil) {
		if had {
			d.nDetails--
		} else {
			d.nDetails++
		}
	}
	d.ext(u).d = dd
	d.dropExt(u)
}

// ext returns the user's ext, making one if it has none; valid until another ext is made.
func (d *Detector) ext(u *user) *ext {
	if u.x == 0 {
		if n := len(d.freeExts); n > 0 {
			u.x = d.freeExts[n-1] + 1
			d.freeExts = d.freeExts[:n-1]
		} else {
			d.exts = append(d.exts, ext{})
			u.x = uint32(len(d.exts))
		}
	}
	return &d.exts[u.x-1]
}

// dropExt frees the user's ext when it holds nothing.
func (d *Detector) dropExt(u *user) {
	if u.x == 0 {
		return
	}
	if e := &d.exts[u.x-1]; e.more == nil && e.d == nil {
		d.freeExts = append(d.freeExts, u.x-1)
		u.x = 0
	}
}

// str clips a string and shares one copy of the repeated ones.
func (d *Detector) str(s string) string {
	s = clip(s)
	if v, ok := d.intern[s]; ok {
		return v
	}
	if len(d.intern) < maxIntern {
		d.intern[s] = s
	}
	return s
}

// addDetail places a row in the user's detection windows; it returns the user's detail and
// reports a duplicate.
func (d *Detector) addDetail(u *user, ev *Event, uid string, fl flags, at int64) (*detail, bool) {
	dd := d.detailOf(u)
	if dd == nil {
		dd = &detail{due: math.MaxInt64}
		d.setDetail(u, dd)
	}
	dd.userID = uid
	if ev.UPN != "" {
		dd.upn = clip(ev.UPN)
	}
	row := clip(ev.ID)
	if fl&fDetail == fSuccess {
		return dd, d.addSuccess(dd, ref{at, row})
	}
	i, found := slices.BinarySearchFunc(dd.events, ref{at, row}, cmpEventRef)
	if found {
		return dd, true
	}
	if len(dd.events) >= d.s.MaxEventsPerUser {
		d.self.rowCapHits++
		if i == 0 {
			return dd, false // the new row is the oldest: it is the one that goes
		}
		dd.events = slices.Delete(dd.events, 0, 1)
		d.nRows--
		i--
	}
	dd.events = slices.Insert(dd.events, i, event{
		at: at, fl: fl & fDetail, outcome: d.str(ev.Outcome),
		row: row, corr: clip(ev.CorrelationID), reason: d.str(ev.Reason), method: d.str(ev.Method),
		appID: d.str(ev.AppID), appName: d.str(ev.AppName), country: d.str(ev.Country),
		prefix: d.str(ipPrefix(ev.IPAddress)),
	})
	d.nRows++
	d.place(dd, i)
	return dd, false
}

// addSuccess keeps a completed MFA, which ends the open episodes it follows (and those that
// start later around it); it reports a duplicate.
func (d *Detector) addSuccess(dd *detail, r ref) bool {
	i, found := slices.BinarySearchFunc(dd.succ, r, cmpRef)
	if found {
		return true
	}
	if len(dd.succ) >= d.s.MaxEventsPerUser {
		d.self.rowCapHits++
		if i == 0 {
			return false
		}
		dd.succ = slices.Delete(dd.succ, 0, 1)
		d.nRows--
		i--
	}
	dd.succ = slices.Insert(dd.succ, i, r)
	d.nRows++
	for _, e := range dd.eps {
		d.checkSuccess(dd, e)
	}
	return false
}

// place runs the rules for the row at index i.
func (d *Detector) place(dd *detail, i int) {
	fl := dd.events[i].fl
	if fl&fFraud != 0 {
		d.startFraud(dd, i)
	}
	if fl&fBlocked != 0 {
		d.joinFraud(dd, i)
	}
	if fl&fPush != 0 {
		d.placeBurst(dd, i, kFatigue)
	}
	if fl&fOATH != 0 {
		d.placeBurst(dd, i, kOATH)
	}
}

// placeBurst puts a fatigue or OATH row into the episode whose rows it is within one gap of,
// or starts an episode when the rows not yet in one now meet a rule.
func (d *Detector) placeBurst(dd *detail, i, k int) {
	ev := &dd.events[i]
	gap := int64(d.s.gap(k))
	var into *episode
	for _, e := range dd.eps {
		if e.k == k && ev.at > e.first-gap && ev.at < e.last+gap && (into == nil || e.first < into.first) {
			into = e // a row between two episodes joins the earlier: episodes are never merged
		}
	}
	if into != nil {
		ev.ep[k] = into
		if !into.final {
			d.addRow(into, ev)
			d.chainBurst(dd, into)
			d.rekey(into)
			d.checkSuccess(dd, into)
		}
		// A concluded episode keeps its row (so that it cannot start another episode) but no
		// longer changes: it has been counted and reported.
		return
	}

	bk := &d.bursts[k]
	end, window, fired := int64(math.MaxInt64), int64(0), false
	for _, r := range bk.rules {
		if ev.fl&r.counts == 0 {
			continue
		}
		if t, ok := trigger(dd.events, i, k, r); ok && t < end {
			end, window, fired = t, r.window, true
		}
	}
	if !fired {
		return
	}
	e := &episode{k: k, userID: dd.userID, upn: dd.upn, outcome: OutcomeOpen}
	for j := range dd.events {
		m := &dd.events[j]
		if m.fl&bk.member != 0 && m.ep[k] == nil && m.at > end-window && m.at <= end {
			m.ep[k] = e
			d.addRow(e, m)
		}
	}
	d.chainBurst(dd, e)
	d.register(dd, e)
	d.checkSuccess(dd, e)
}

// trigger looks at every window that contains the row at index i and returns the end time of the
// earliest one that meets rule r, counting only rows in no episode of kind k yet. Only windows
// containing the new row can have changed, so this is all that needs checking.
func trigger(evs []event, i, k int, r burstRule) (int64, bool) {
	var cand []int
	pos := -1
	for j := range evs {
		if evs[j].fl&r.counts != 0 && evs[j].ep[k] == nil {
			if j == i {
				pos = len(cand)
			}
			cand = append(cand, j)
		}
	}
	if pos < 0 || len(cand) < r.need {
		return 0, false
	}
	t := evs[i].at
	var sessions map[string]int
	if r.sessions > 0 {
		sessions = map[string]int{}
	}
	addS := func(j int, delta int) {
		if sessions == nil || evs[j].corr == "" {
			return
		}
		c := evs[j].corr
		sessions[c] += delta
		if sessions[c] == 0 {
			delete(sessions, c)
		}
	}
	// The window ending at cand[pos] is (t-window, t].
	l := pos
	for l > 0 && evs[cand[l-1]].at > t-r.window {
		l--
	}
	for j := l; j <= pos; j++ {
		addS(cand[j], 1)
	}
	for k2 := pos; k2 < len(cand); k2++ {
		end := evs[cand[k2]].at
		if end >= t+r.window {
			break // this window and the later ones no longer contain the new row
		}
		if k2 > pos {
			addS(cand[k2], 1)
			for evs[cand[l]].at <= end-r.window {
				addS(cand[l], -1)
				l++
			}
		}
		if k2-l+1 >= r.need && len(sessions) >= r.sessions {
			return end, true
		}
	}
	return 0, false
}

// chainBurst adds to e every row of its kind that is not in an episode and is within one gap of
// e's rows, transitively: a burst goes on as long as its rows keep coming.
func (d *Detector) chainBurst(dd *detail, e *episode) {
	evs := dd.events
	member, gap := d.bursts[e.k].member, int64(d.s.gap(e.k))
	try := func(j int) {
		m := &evs[j]
		if m.fl&member != 0 && m.ep[e.k] == nil && m.at > e.first-gap && m.at < e.last+gap {
			m.ep[e.k] = e
			d.addRow(e, m)
		}
	}
	// Ascending extends the end, descending the start; together they reach the closure.
	for j := range evs {
		try(j)
	}
	for j := len(evs) - 1; j >= 0; j-- {
		try(j)
	}
}

// startFraud makes a fraud report an episode of its own, with the user_blocked rows that follow.
func (d *Detector) startFraud(dd *detail, i int) {
	ev := &dd.events[i]
	e := &episode{k: kFraud, userID: dd.userID, upn: dd.upn, outcome: OutcomeOpen}
	ev.ep[kFraud] = e
	d.addRow(e, ev)
	d.chainFraud(dd, e)
	d.register(dd, e)
	d.checkSuccess(dd, e)
}

// joinFraud puts a user_blocked row into the latest fraud episode it follows. A block with no
// report before it is an administrator's block, not an episode.
func (d *Detector) joinFraud(dd *detail, i int) {
	ev := &dd.events[i]
	gap := int64(d.s.FraudBlockWindow)
	var into *episode
	for _, e := range dd.eps {
		if e.k == kFraud && ev.at >= e.first && ev.at < e.last+gap &&
			(into == nil || e.first > into.first || (e.first == into.first && e.id > into.id)) {
			into = e
		}
	}
	if into == nil {
		return
	}
	ev.ep[kFraud] = into
	if !into.final {
		d.addRow(into, ev)
		d.chainFraud(dd, into)
		d.rekey(into)
		d.checkSuccess(dd, into)
	}
}

// chainFraud adds the user_blocked rows not yet in an episode that follow e within the window.
func (d *Detector) chainFraud(dd *detail, e *episode) {
	gap := int64(d.s.FraudBlockWindow)
	for j := range dd.events {
		m := &dd.events[j]
		if m.fl&fBlocked != 0 && m.ep[kFraud] == nil && m.at >= e.first && m.at < e.last+gap {
			m.ep[kFraud] = e
			d.addRow(e, m)
		}
	}
}

// register gives a new episode its id and counts it as started.
func (d *Detector) register(dd *detail, e *episode) {
	e.id = d.idFor(e)
	d.episodes[e.id] = e
	d.open[e] = struct{}{}
	dd.eps = append(dd.eps, e)
	e.inUser = true
	d.kinds[e.k].Started++
	d.markEpisode(e)
}

// idFor derives the episode's id from its kind, user and first row (signIns keeps the earliest
// rows, so [0] is the first).
func (d *Detector) idFor(e *episode) string {
	first := e.signIns[0].id
	id := episodeID(Kinds()[e.k], e.userID, first)
	for n := 2; d.episodes[id] != nil && d.episodes[id] != e; n++ {
		// Only a hash collision or a row id reused by Graph gets here; stay deterministic.
		id = episodeID(Kinds()[e.k], e.userID, first+"#"+itoa(n))
	}
	return id
}

// rekey keeps an open episode's id derived from its first row when a late row comes before it,
// so that the id does not depend on the order rows were read in. A concluded episode never
// changes, its id included.
func (d *Detector) rekey(e *episode) {
	if id := d.idFor(e); id != e.id {
		// The episode itself was marked by the row just added to it (addRow): it is listed
		// under its new id; the old one is listed as gone.
		delete(d.episodes, e.id)
		d.forgetEpisode(e.id)
		e.id = id
		d.episodes[id] = e
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// checkSuccess ends an open episode in success when the user completed MFA between its first row
// and SuccessWindow after its last (Sentinel: "MFA spamming followed by successful login").
func (d *Detector) checkSuccess(dd *detail, e *episode) {
	if e.outcome != OutcomeOpen || e.final {
		return
	}
	hi := e.last + int64(d.s.SuccessWindow)
	i, _ := slices.BinarySearchFunc(dd.succ, ref{e.first, ""}, cmpRef)
	if i < len(dd.succ) && dd.succ[i].at < hi {
		e.outcome, e.successAt, e.successRow = OutcomeSuccess, dd.succ[i].at, dd.succ[i].id
		d.kinds[e.k].EndedSuccess++
		d.markEpisode(e)
	}
}

// Advance moves time: now is the current time, final the time before which no row will be fed
// any more (the collector's reconcile cursor, or its oldest unread gap). Neither goes back. It concludes the episodes no
// row at or after final can change, and forgets what no later row can need: rows two windows
// before final, prompts out of the prompt window, users left with nothing, concluded episodes
// past their retention. Call it after each page, before exporting the state. Its cost grows with
// what it forgets, not with the number of users tracked.
func (d *Detector) Advance(now, final time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.setNow(now)
	if f := final.UnixNano(); f > d.final && final.Unix() >= 0 && final.Unix() <= math.MaxUint32 {
		d.final = f
		d.pruned = false
		d.gen++
	}
	// advance is idempotent for the same now, final and rows: when none of them moved since the
	// last Advance there is nothing to conclude, prune or expire, and the state (and gen) stay.
	if d.gen != d.advGen {
		d.gen++ // conservatively: what advance concludes or forgets is a change
		d.advance()
		d.advGen = d.gen
	}
}

func (d *Detector) advance() {
	// Conclude: an episode no row created at or after final can join or end.
	for e := range d.open {
		if d.final >= e.last+int64(d.s.concludeAfter(e.k)) {
			e.final = true
			delete(d.open, e)
			if e.outcome == OutcomeOpen {
				e.outcome = OutcomeDenied
				d.kinds[e.k].EndedDenied++
			}
			d.markEpisode(e)
			// Once concluded it can be forgotten by its user: schedule that.
			key := userKey(e.userID)
			d.touch(key)
			if u, _ := d.users.get(key); u != nil && d.detailOf(u) != nil {
				d.scheduleDetail(key, d.detailOf(u))
			}
		}
	}
	// Prompts at or before this second are out of the window (now-W, now].
	from := (d.now - int64(d.s.PromptWindow)) / int64(time.Second)
	for {
		q, ok := d.promptQ.popBefore(from + 1)
		if !ok {
			break
		}
		u, ok := d.promptDueUser(q)
		if !ok {
			continue // stale: the user's earliest prompt changed since, or the user went
		}
		d.touch(u.key)
		d.prunePrompts(u, from)
		if u.n > 0 {
			d.schedulePrompt(u, q.rec)
		}
		d.dropIfEmpty(u)
	}
	// Rows two windows before final can no longer count nor chain for a row fed from now on.
	cut := d.final - int64(d.s.horizon())
	for {
		q, ok := d.detailQ.popBefore(cut)
		if !ok {
			break
		}
		u, _ := d.users.get(q.key)
		if u == nil {
			continue
		}
		dd := d.detailOf(u)
		if dd == nil || dd.due != q.at {
			continue
		}
		d.touch(q.key)
		dd.due = math.MaxInt64
		if d.pruneDetail(dd, cut) {
			d.setDetail(u, nil)
		} else {
			d.scheduleDetail(q.key, dd)
		}
		d.dropIfEmpty(u)
	}
	d.expire(d.now)
	if d.users.sparse() {
		d.compact()
	}
	d.pruned = true
}

// pruneDetail forgets the rows before cut and the concluded episodes no row at or after cut can
// reach; it reports whether nothing is left.
func (d *Detector) pruneDetail(dd *detail, cut int64) bool {
	n, _ := slices.BinarySearchFunc(dd.events, ref{cut, ""}, cmpEventRef)
	m, _ := slices.BinarySearchFunc(dd.succ, ref{cut, ""}, cmpRef)
	if n > 0 || m > 0 {
		// Copy rather than reslice, so that the dropped head does not stay allocated.
		dd.events = slices.Clone(dd.events[n:])
		dd.succ = slices.Clone(dd.succ[m:])
		d.nRows -= n + m
	}
	dd.eps = slices.DeleteFunc(dd.eps, func(e *episode) bool {
		gone := e.final && e.last+int64(d.s.gap(e.k)) <= cut
		if gone {
			e.inUser = false
		}
		return gone
	})
	return len(dd.events) == 0 && len(dd.succ) == 0 && len(dd.eps) == 0
}

// earliest returns the time of the user's earliest prompt, -1 for none.
func (d *Detector) earliest(u *user) int64 {
	if u.n == 0 {
		return -1
	}
	if u.n <= inlinePrompts {
		return int64(u.in[0].sec)
	}
	return int64(d.exts[u.x-1].more[0].sec)
}

// promptDueUser returns the user of a promptQ entry, false when the entry is stale: the user's
// earliest prompt is no longer the entry's (a row read out of order came before it, the oldest
// prompt was dropped at promptKeep, the user went, or another took the record).
func (d *Detector) promptDueUser(q promptDue) (*user, bool) {
	if int(q.rec) >= d.users.capacity() {
		return nil, false
	}
	u := d.users.at(q.rec)
	return u, u.live && d.earliest(u) == int64(q.sec)
}

// schedulePrompt gives the user a promptQ entry for its earliest prompt, which just changed: a
// user with prompts always has one. Entries left stale are dropped when they come up; when they
// outnumber the live ones (rows read out of order, users forgotten) the queue is rebuilt, so
// that it stays in proportion to the users.
func (d *Detector) schedulePrompt(u *user, rec uint32) {
	if u.n == 0 {
		return
	}
	d.promptQ.push(promptDue{uint32(d.earliest(u)), rec})
	if len(d.promptQ) > 2*d.nPrompted+d.queueSlack {
		d.rebuildPromptQ()
	}
}

// rebuildPromptQ makes the prompt queue again from the users: one entry per user with prompts.
func (d *Detector) rebuildPromptQ() {
	q := make(dueQueue[promptDue], 0, d.nPrompted+d.nPrompted/8+16)
	for rec, u := range d.users.all() {
		if u.n > 0 {
			q = append(q, promptDue{uint32(d.earliest(u)), rec})
		}
	}
	q.heapify()
	d.promptQ = q
}

// compact moves the users into as few records as they need, after a peak (users.go), with
// fresh maps for the minorities (a Go map keeps its peak size), and rebuilds the prompt queue,
// whose entries name records.
func (d *Detector) compact() {
	d.users = d.users.compacted()
	exts := make([]ext, 0, len(d.exts)-len(d.freeExts))
	for _, u := range d.users.all() {
		if u.x != 0 {
			exts = append(exts, d.exts[u.x-1])
			u.x = uint32(len(exts))
		}
	}
	d.exts, d.freeExts = exts, nil
	d.rebuildPromptQ()
	d.rebuildDetailQ()
}

// scheduleDetail keeps the user's detailQ entry on the earliest thing pruneDetail may forget:
// its earliest row, or a concluded episode (forgettable once its last row plus gap is behind
// the cut, hence the -1 against popBefore's strict comparison).
func (d *Detector) scheduleDetail(key uint64, dd *detail) {
	at := int64(math.MaxInt64)
	if len(dd.events) > 0 {
		at = dd.events[0].at
	}
	if len(dd.succ) > 0 {
		at = min(at, dd.succ[0].at)
	}
	for _, e := range dd.eps {
		if e.final {
			at = min(at, e.last+int64(d.s.gap(e.k))-1)
		}
	}
	if at != dd.due {
		dd.due = at
		if at != math.MaxInt64 {
			d.detailQ.push(due{at, key})
			if len(d.detailQ) > 2*d.nDetails+d.queueSlack {
				d.rebuildDetailQ()
			}
		}
	}
}

// rebuildDetailQ makes the detail queue again from the details, dropping the stale entries
// (as rebuildPromptQ).
func (d *Detector) rebuildDetailQ() {
	q := make(dueQueue[due], 0, d.nDetails+d.nDetails/8+16)
	for _, u := range d.users.all() {
		if dd := d.detailOf(u); dd != nil && dd.due != math.MaxInt64 {
			q = append(q, due{dd.due, u.key})
		}
	}
	q.heapify()
	d.detailQ = q
}

func (d *Detector) dropIfEmpty(u *user) {
	if u.n == 0 && u.x == 0 {
		d.users.remove(u.key)
	}
}

// expire takes concluded episodes out of the listing after EpisodeRetention, or beyond the
// MaxEpisodes most recent, and forgets those no user refers to any more. It runs at every
// Advance that has something to do, so it allocates only when more than MaxEpisodes are kept,
// and moves epGen (the listing Snapshot caches) only when an episode enters or leaves it.
func (d *Detector) expire(now int64) {
	from := now - int64(d.s.EpisodeRetention)
	kept := 0
	for _, e := range d.episodes {
		if e.final && e.last >= from {
			kept++
		}
	}
	// Beyond MaxEpisodes, an episode is kept only if it is at least as new as the
	// MaxEpisodes-th newest (newestFirst is a total order: ids break ties).
	var oldestKept *episode
	if kept > d.s.MaxEpisodes {
		list := make([]*episode, 0, kept)
		for _, e := range d.episodes {
			if e.final && e.last >= from {
				list = append(list, e)
			}
		}
		slices.SortFunc(list, newestFirst)
		oldestKept = list[d.s.MaxEpisodes-1]
	}
	for id, e := range d.episodes {
		expired := e.final && (e.last < from || (oldestKept != nil && newestFirst(oldestKept, e) < 0))
		if expired != e.expired {
			e.expired = expired
			d.epGen++
		}
		if e.expired && !e.inUser {
			delete(d.episodes, id)
			d.forgetEpisode(id)
		}
	}
}

func newestFirst(a, b *episode) int {
	return cmp.Or(cmp.Compare(b.last, a.last), strings.Compare(a.id, b.id))
}

// KindStats are the episode figures of one kind.
type KindStats struct {
	Kind         string
	Started      uint64 // episodes started, ever (a counter)
	EndedSuccess uint64 // episodes ended in success, ever
	EndedDenied  uint64 // episodes ended without success, ever
	Open         int    // episodes not ended yet
	UsersOpen    int    // users in an episode not ended yet
}

// PromptDistribution is how many users were prompted how often over the trailing PromptWindow.
type PromptDistribution struct {
	Window time.Duration
	Bounds []int
	// AtMost[i] is the number of users prompted at least once and at most Bounds[i] times (a
	// Prometheus histogram's cumulative le buckets); MoreThan[i] the number prompted more than
	// Bounds[i] times. Users, prompted at least once, is the +Inf bucket.
	AtMost   []int
	MoreThan []int
	Users    int
}

// SelfMetrics describe the detector's own memory and the rows it could not use. The counters
// are part of the exported state, so they survive a restart exactly like the episode counters.
type SelfMetrics struct {
	TrackedUsers     int    // users with prompts in the window or rows in a detection window
	TrackedRows      int    // rows held in detection windows
	Episodes         int    // episode records held (listed, or still reachable by late rows)
	CapHits          uint64 // rows of new users dropped because MaxUsers users were tracked
	RowCapHits       uint64 // rows dropped because one user had MaxEventsPerUser rows
	Unattributable   uint64 // MFA rows without a user id
	AbsurdTimestamps uint64 // MFA rows created too far in the future or the past of now
	LateRows         uint64 // MFA rows too old for a window they belonged to
	Duplicates       uint64 // rows fed again (same id and time)
}

// Snapshot is everything the detector exposes.
type Snapshot struct {
	Now     time.Time   // the latest now given
	Final   time.Time   // the latest final given
	Kinds   []KindStats // in Kinds() order
	Prompts PromptDistribution
	Self    SelfMetrics
	// Episodes are open and not-yet-final first, then by last row, newest first. They are
	// shared with the detector and other Snapshots, so that a Snapshot costs no copy of an
	// episode that did not change: never modify one.
	Episodes []*Episode
}

// Snapshot returns the figures and the listed episodes. The listing is kept between calls
// until an episode changes, enters or leaves it (epGen), and each episode's public form until
// that episode changes: a Snapshot after a page that touched no episode costs no episode, one
// after a page that did a pointer per listed episode and the public form of those that changed.
func (d *Detector) Snapshot() Snapshot {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := Snapshot{Now: time.Unix(0, d.now).UTC(), Final: time.Unix(0, d.final).UTC()}
	if !d.listing.valid || d.listing.gen != d.epGen {
		d.listEpisodes()
	}
	kinds := make([]KindStats, nKinds)
	for k := range kinds {
		kinds[k].Kind = Kinds()[k]
		kinds[k].Started = d.kinds[k].Started
		kinds[k].EndedSuccess = d.kinds[k].EndedSuccess
		kinds[k].EndedDenied = d.kinds[k].EndedDenied
		kinds[k].Open = d.listing.open[k]
		kinds[k].UsersOpen = d.listing.usersOpen[k]
	}
	out.Kinds = kinds
	out.Episodes = d.listing.episodes
	out.Prompts = d.promptDistribution()
	out.Self = SelfMetrics{
		TrackedUsers: d.users.len(), TrackedRows: d.nRows, Episodes: len(d.episodes),
		CapHits: d.self.capHits, RowCapHits: d.self.rowCapHits, Unattributable: d.self.unattributable,
		AbsurdTimestamps: d.self.absurd, LateRows: d.self.late, Duplicates: d.self.duplicates,
	}
	return out
}

// listing is what Snapshot keeps of the episodes as of epGen.
type listing struct {
	valid           bool
	gen             uint64
	episodes        []*Episode // Snapshot.Episodes; never modified once made
	open, usersOpen [nKinds]int
}

// listEpisodes makes the listing again, reusing the public form of each episode that did not
// change (markEpisode drops it when it does).
func (d *Detector) listEpisodes() {
	var open [nKinds]map[string]bool
	for k := range open {
		open[k] = map[string]bool{}
	}
	var l listing
	var listed []*episode
	for _, e := range d.episodes {
		if e.outcome == OutcomeOpen {
			l.open[e.k]++
			open[e.k][e.userID] = true
		}
		if !e.expired {
			listed = append(listed, e)
		}
	}
	for k := range open {
		l.usersOpen[k] = len(open[k])
	}
	slices.SortFunc(listed, func(a, b *episode) int {
		if a.final != b.final {
			if a.final {
				return 1
			}
			return -1
		}
		return newestFirst(a, b)
	})
	l.episodes = make([]*Episode, 0, len(listed))
	for _, e := range listed {
		if e.pub == nil {
			p := e.public()
			e.pub = &p
		}
		l.episodes = append(l.episodes, e.pub)
	}
	l.valid, l.gen = true, d.epGen
	d.listing = l
}
