package detect

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// State is the detector's durable form, meant to be committed in the same atomic write as the
// collector's cursors and row ids: restoring it and feeding again the rows read after that
// commit gives the same episodes and counters as if there had been no restart, because every
// counter is part of it and episode ids come from the rows.
//
// It is plain structs with exported fields, so it nests in the collector's JSON state file, which
// an operator can read (the episodes, with their users, are the part worth reading). The one
// bulky part, the prompt times of every user prompted in the last 24 hours, is packed into bytes
// (Prompts, base64 in JSON): about 12 bytes per user and prompt instead of about 40 as JSON.
type State struct {
	Version  int            `json:"version"`
	Now      int64          `json:"now"`   // Unix ns, the latest now given
	Final    int64          `json:"final"` // Unix ns, the latest final given
	Counters Counters       `json:"counters"`
	Episodes []EpisodeState `json:"episodes,omitempty"`
	Users    []UserState    `json:"users,omitempty"`
	Prompts  []byte         `json:"prompts,omitempty"`
}

// stateVersion changes when State changes incompatibly; Restore refuses other versions.
const stateVersion = 1

// Counters are the counters of State.
type Counters struct {
	Kinds          map[string]KindCounters `json:"kinds,omitempty"`
	CapHits        uint64                  `json:"cap_hits,omitempty"`
	RowCapHits     uint64                  `json:"row_cap_hits,omitempty"`
	Unattributable uint64                  `json:"unattributable,omitempty"`
	Absurd         uint64                  `json:"absurd,omitempty"`
	Late           uint64                  `json:"late,omitempty"`
	Duplicates     uint64                  `json:"duplicates,omitempty"`
}

// KindCounters are the episode counters of one kind.
type KindCounters struct {
	Started      uint64 `json:"started,omitempty"`
	EndedSuccess uint64 `json:"ended_success,omitempty"`
	EndedDenied  uint64 `json:"ended_denied,omitempty"`
}

// EpisodeState is an episode in State. Times are Unix ns.
type EpisodeState struct {
	ID         string         `json:"id"`
	Kind       string         `json:"kind"`
	UserID     string         `json:"user_id"`
	UPN        string         `json:"upn,omitempty"`
	Outcome    string         `json:"outcome"`
	Final      bool           `json:"final,omitempty"`
	First      int64          `json:"first"`
	Last       int64          `json:"last"`
	SuccessAt  int64          `json:"success_at,omitempty"`
	SuccessRow string         `json:"success_row,omitempty"`
	Rows       int            `json:"rows"`
	Reasons    map[string]int `json:"reasons,omitempty"`
	Methods    []string       `json:"methods,omitempty"`
	Apps       []App          `json:"apps,omitempty"`
	Countries  []string       `json:"countries,omitempty"`
	IPPrefixes []string       `json:"ip_prefixes,omitempty"`
	SignIns    []RefState     `json:"sign_ins,omitempty"`
	Sessions   []RefState     `json:"sessions,omitempty"`
	Truncated  bool           `json:"truncated,omitempty"`
}

// RefState is a row or session id and the time that orders it.
type RefState struct {
	At int64  `json:"at"`
	ID string `json:"id"`
}

// UserState is a user with rows in a detection window, or episodes late rows may still reach.
type UserState struct {
	UserID    string       `json:"user_id"`
	UPN       string       `json:"upn,omitempty"`
	Rows      []EventState `json:"rows,omitempty"`
	Successes []RefState   `json:"successes,omitempty"` // completed MFA rows
	Episodes  []string     `json:"episodes,omitempty"`  // ids
}

// EventState is a row in a detection window. Its rule flags are derived again from Outcome,
// Method and Reason on restore, so a restored row follows the rules of the running version.
type EventState struct {
	At       int64  `json:"at"`
	ID       string `json:"id"`
	Session  string `json:"session,omitempty"`
	Outcome  string `json:"outcome"`
	Reason   string `json:"reason,omitempty"`
	Method   string `json:"method,omitempty"`
	AppID    string `json:"app_id,omitempty"`
	AppName  string `json:"app_name,omitempty"`
	Country  string `json:"country,omitempty"`
	IPPrefix string `json:"ip_prefix,omitempty"`
	Fatigue  string `json:"fatigue,omitempty"` // episode ids the row belongs to
	Fraud    string `json:"fraud,omitempty"`
	OATH     string `json:"oath,omitempty"`
}

// Export returns the state. It is deterministic: the same detector state gives the same value.
func (d *Detector) Export() State {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.exportHead()
	keys := make([]uint64, 0, d.users.len())
	for _, u := range d.users.all() {
		keys = append(keys, u.key)
		if dd := d.detailOf(u); dd != nil {
			st.Users = append(st.Users, dd.state())
		}
	}
	slices.SortFunc(st.Users, func(a, b UserState) int { return cmp.Compare(a.UserID, b.UserID) })
	slices.Sort(keys)
	st.Prompts = d.packPrompts(keys)
	return st
}

// exportHead is State without its users and prompts: the clock, counters and episodes.
func (d *Detector) exportHead() State {
	st := d.exportCounters()
	st.Episodes = make([]EpisodeState, 0, len(d.episodes))
	for _, e := range d.episodes {
		st.Episodes = append(st.Episodes, e.state())
	}
	slices.SortFunc(st.Episodes, func(a, b EpisodeState) int { return cmp.Compare(a.ID, b.ID) })
	if len(st.Episodes) == 0 {
		st.Episodes = nil
	}
	return st
}

// exportCounters is State without its users, prompts and episodes.
func (d *Detector) exportCounters() State {
	st := State{Version: stateVersion, Now: d.now, Final: d.final, Counters: Counters{
		CapHits: d.self.capHits, RowCapHits: d.self.rowCapHits, Unattributable: d.self.unattributable,
		Absurd: d.self.absurd, Late: d.self.late, Duplicates: d.self.duplicates,
	}}
	for k, c := range d.kinds {
		if c != (KindCounters{}) {
			if st.Counters.Kinds == nil {
				st.Counters.Kinds = map[string]KindCounters{}
			}
			st.Counters.Kinds[Kinds()[k]] = c
		}
	}
	return st
}

func (e *episode) state() EpisodeState {
	refs := func(rs []ref) []RefState {
		var out []RefState
		for _, r := range rs {
			out = append(out, RefState{r.at, r.id})
		}
		return out
	}
	return EpisodeState{
		ID: e.id, Kind: Kinds()[e.k], UserID: e.userID, UPN: e.upn, Outcome: e.outcome, Final: e.final,
		First: e.first, Last: e.last, SuccessAt: e.successAt, SuccessRow: e.successRow,
		Rows: e.rows, Reasons: cloneMap(e.reasons), Methods: slices.Clone(e.methods), Apps: slices.Clone(e.apps),
		Countries: slices.Clone(e.countries), IPPrefixes: slices.Clone(e.prefixes),
		SignIns: refs(e.signIns), Sessions: refs(e.sessions), Truncated: e.truncated,
	}
}

func cloneMap(m map[string]int) map[string]int {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (dd *detail) state() UserState {
	us := UserState{UserID: dd.userID, UPN: dd.upn}
	id := func(e *episode) string {
		if e == nil {
			return ""
		}
		return e.id
	}
	for _, ev := range dd.events {
		us.Rows = append(us.Rows, EventState{
			At: ev.at, ID: ev.row, Session: ev.corr, Outcome: ev.outcome, Reason: ev.reason, Method: ev.method,
			AppID: ev.appID, AppName: ev.appName, Country: ev.country, IPPrefix: ev.prefix,
			Fatigue: id(ev.ep[kFatigue]), Fraud: id(ev.ep[kFraud]), OATH: id(ev.ep[kOATH]),
		})
	}
	for _, r := range dd.succ {
		us.Successes = append(us.Successes, RefState{r.at, r.id})
	}
	for _, e := range dd.eps {
		us.Episodes = append(us.Episodes, e.id)
	}
	return us
}

// The packed prompts: a format byte, the number of users, then per user (by key) the 8-byte key,
// the number of prompts, the first time and the gaps to the next ones (uvarint seconds), then a
// 4-byte row hash per prompt.
const promptsFormat = 1

func (d *Detector) packPrompts(keys []uint64) []byte {
	n := 0
	for _, k := range keys {
		if u, _ := d.users.get(k); u.n > 0 {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	b := []byte{promptsFormat}
	b = binary.AppendUvarint(b, uint64(n))
	for _, k := range keys {
		u, _ := d.users.get(k)
		ps := d.promptsOf(u)
		if len(ps) == 0 {
			continue
		}
		b = binary.BigEndian.AppendUint64(b, k)
		b = binary.AppendUvarint(b, uint64(len(ps)))
		prev := uint32(0)
		for _, p := range ps {
			b = binary.AppendUvarint(b, uint64(p.sec-prev))
			prev = p.sec
		}
		for _, p := range ps {
			b = binary.BigEndian.AppendUint32(b, p.row)
		}
	}
	return b
}

var errCorrupt = errors.New("corrupt detection state")

func unpackPrompts(b []byte, keep int) (map[uint64][]prompt, error) {
	out := map[uint64][]prompt{}
	if len(b) == 0 {
		return out, nil
	}
	if b[0] != promptsFormat {
		return nil, fmt.Errorf("%w: prompts format %d", errCorrupt, b[0])
	}
	b = b[1:]
	uvarint := func() (uint64, error) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, fmt.Errorf("%w: truncated prompts", errCorrupt)
		}
		b = b[n:]
		return v, nil
	}
	users, err := uvarint()
	if err != nil {
		return nil, err
	}
	for range users {
		if len(b) < 8 {
			return nil, fmt.Errorf("%w: truncated prompts", errCorrupt)
		}
		key := binary.BigEndian.Uint64(b)
		b = b[8:]
		n, err := uvarint()
		if err != nil {
			return nil, err
		}
		// Each prompt takes at least 5 bytes: a count beyond that is corrupt, and checking it
		// first keeps a hostile count from allocating.
		if n == 0 || n > uint64(len(b))/5 {
			return nil, fmt.Errorf("%w: prompt count %d", errCorrupt, n)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("%w: user %x twice in prompts", errCorrupt, key)
		}
		ps := make([]prompt, n)
		sec := uint64(0)
		for i := range ps {
			delta, err := uvarint()
			if err != nil {
				return nil, err
			}
			sec += delta
			if sec > 1<<32-1 {
				return nil, fmt.Errorf("%w: prompt time out of range", errCorrupt)
			}
			ps[i].sec = uint32(sec)
		}
		if uint64(len(b)) < 4*n {
			return nil, fmt.Errorf("%w: truncated prompts", errCorrupt)
		}
		for i := range ps {
			ps[i].row = binary.BigEndian.Uint32(b)
			b = b[4:]
		}
		slices.SortFunc(ps, cmpPrompt)
		ps = slices.CompactFunc(ps, func(a, b prompt) bool { return a == b })
		if len(ps) > keep { // the largest bucket bound was lowered since the export
			ps = slices.Clone(ps[len(ps)-keep:])
		}
		out[key] = ps
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the prompts", errCorrupt, len(b))
	}
	return out, nil
}

// Restore returns a detector with the given settings and an exported state. The settings may
// differ from those at export (a configuration reload): they apply from now on. A state that
// does not hold together is refused with an error wrapping the reason.
func Restore(s Settings, st State) (*Detector, error) {
	d, err := New(s)
	if err != nil {
		return nil, err
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", errCorrupt, st.Version, stateVersion)
	}
	d.now, d.final = st.Now, st.Final
	c := st.Counters
	d.self = selfCounters{capHits: c.CapHits, rowCapHits: c.RowCapHits, unattributable: c.Unattributable,
		absurd: c.Absurd, late: c.Late, duplicates: c.Duplicates}
	for kind, kc := range c.Kinds {
		k := kindIndex(kind)
		if k < 0 {
			return nil, fmt.Errorf("%w: unknown kind %q in counters", errCorrupt, kind)
		}
		d.kinds[k] = kc
	}
	for _, es := range st.Episodes {
		e, err := d.episodeFromState(es)
		if err != nil {
			return nil, err
		}
		if d.episodes[e.id] != nil {
			return nil, fmt.Errorf("%w: episode %s twice", errCorrupt, e.id)
		}
		d.episodes[e.id] = e
		if !e.final {
			d.open[e] = struct{}{}
		}
	}
	prompts, err := unpackPrompts(st.Prompts, s.promptKeep())
	if err != nil {
		return nil, err
	}
	for key, ps := range prompts {
		u, _ := d.users.add(key)
		d.storePrompts(u, ps)
	}
	for _, us := range st.Users {
		if us.UserID == "" {
			return nil, fmt.Errorf("%w: user without id", errCorrupt)
		}
		key := userKey(us.UserID)
		u, _ := d.users.get(key)
		if u == nil {
			u, _ = d.users.add(key)
		}
		if d.detailOf(u) != nil {
			return nil, fmt.Errorf("%w: user %s twice", errCorrupt, us.UserID)
		}
		dd := &detail{userID: us.UserID, upn: us.UPN, due: math.MaxInt64}
		for _, id := range us.Episodes {
			e := d.episodes[id]
			if e == nil || e.userID != us.UserID {
				return nil, fmt.Errorf("%w: user %s refers to episode %q it does not have", errCorrupt, us.UserID, id)
			}
			e.inUser = true
			dd.eps = append(dd.eps, e)
		}
		for _, es := range us.Rows {
			ev := event{
				at: es.At, outcome: d.str(es.Outcome), row: es.ID, corr: es.Session, reason: d.str(es.Reason),
				method: d.str(es.Method), appID: d.str(es.AppID), appName: d.str(es.AppName),
				country: d.str(es.Country), prefix: d.str(es.IPPrefix),
			}
			ev.fl = classify(&Event{Outcome: es.Outcome, Method: es.Method, Reason: es.Reason}) & fDetail
			for k, id := range []string{es.Fatigue, es.Fraud, es.OATH} {
				if id == "" {
					continue
				}
				if ev.ep[k] = d.episodes[id]; ev.ep[k] == nil || ev.ep[k].k != k {
					return nil, fmt.Errorf("%w: row %s refers to %s episode %q it does not have", errCorrupt, es.ID, Kinds()[k], id)
				}
			}
			dd.events = append(dd.events, ev)
		}
		slices.SortFunc(dd.events, func(a, b event) int { return cmpEventRef(a, ref{b.at, b.row}) })
		dd.events = slices.CompactFunc(dd.events, func(a, b event) bool { return a.at == b.at && a.row == b.row })
		for _, r := range us.Successes {
			dd.succ = append(dd.succ, ref{r.At, r.ID})
		}
		slices.SortFunc(dd.succ, cmpRef)
		dd.succ = slices.Compact(dd.succ)
		d.nRows += len(dd.events) + len(dd.succ)
		if len(dd.events) > 0 || len(dd.succ) > 0 || len(dd.eps) > 0 {
			d.setDetail(u, dd)
		}
		d.dropIfEmpty(u)
	}
	for _, u := range d.users.all() {
		if dd := d.detailOf(u); dd != nil {
			d.scheduleDetail(u.key, dd)
		}
	}
	d.rebuildPromptQ()
	// Listing (retention) is recomputed from the restored now.
	d.expire(d.now)
	return d, nil
}

func (d *Detector) episodeFromState(es EpisodeState) (*episode, error) {
	k := kindIndex(es.Kind)
	if k < 0 {
		return nil, fmt.Errorf("%w: episode %q of unknown kind %q", errCorrupt, es.ID, es.Kind)
	}
	switch es.Outcome {
	case OutcomeOpen, OutcomeSuccess, OutcomeDenied:
	default:
		return nil, fmt.Errorf("%w: episode %q with outcome %q", errCorrupt, es.ID, es.Outcome)
	}
	if es.ID == "" || es.Rows < 1 || len(es.SignIns) == 0 || es.Last < es.First ||
		(es.Final && es.Outcome == OutcomeOpen) {
		return nil, fmt.Errorf("%w: episode %q is inconsistent", errCorrupt, es.ID)
	}
	refs := func(rs []RefState) []ref {
		out := make([]ref, 0, len(rs))
		for _, r := range rs {
			out = append(out, ref{r.At, r.ID})
		}
		slices.SortFunc(out, cmpRef)
		return out
	}
	e := &episode{
		id: es.ID, userID: es.UserID, upn: es.UPN, k: k, outcome: es.Outcome, final: es.Final,
		first: es.First, last: es.Last, successAt: es.SuccessAt, successRow: es.SuccessRow,
		rows: es.Rows, reasons: cloneMap(es.Reasons), methods: slices.Clone(es.Methods), apps: slices.Clone(es.Apps),
		countries: slices.Clone(es.Countries), prefixes: slices.Clone(es.IPPrefixes),
		signIns: refs(es.SignIns), sessions: refs(es.Sessions), truncated: es.Truncated,
	}
	for _, l := range [][]string{e.methods, e.countries, e.prefixes} {
		slices.Sort(l)
	}
	return e, nil
}
