package detect

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

const carol = "00000000-0000-4000-8000-0000000ca201"

// scenario is three users over 48 minutes:
//   - alice: 15 unanswered pushes from 0 to 280s, a success at 300s (fatigue, success); a fraud
//     report at 20m and blocks at 25m and 40m (fraud, 3 rows);
//   - bob: 24 failed OATH codes from 120s to 580s, two per session, 12 sessions (the rule meets
//     20 failures across 10 sessions at row 19, 500s; the 4 later rows chain); then 9 declines
//     a minute apart from 30m (not more than 9);
//   - carol: 10 unanswered pushes within 162s from 5m (not more than 10) and one decline at 45m.
func scenario() []Event {
	s, m := time.Second, time.Minute
	return cat(
		noResponses(alice, "a", 15, 0, 20*s),
		[]Event{success(alice, "as", 300*s), fraudReport(alice, "af", 20*m), blocked(alice, "ab1", 25*m), blocked(alice, "ab2", 40*m)},
		oathRows(bob, "bo", 24, 120*s, 20*s, pairs),
		declines(bob, "bd", 9, 30*m, m),
		noResponses(carol, "cn", 10, 5*m, 18*s),
		[]Event{decline(carol, "cd", 45*m)},
	)
}

var scenarioEpisodes = []epSummary{
	{kind: KindFatigue, outcome: OutcomeSuccess, first: 0, last: 280 * time.Second, rows: 15, firstRow: "a-00", successRow: "as", user: alice},
	{kind: KindFraud, outcome: OutcomeOpen, first: 20 * time.Minute, last: 40 * time.Minute, rows: 3, firstRow: "af", user: alice},
	{kind: KindOATH, outcome: OutcomeOpen, first: 120 * time.Second, last: 580 * time.Second, rows: 24, firstRow: "bo-00", user: bob},
}

var scenarioCounts = [3]kindCounts{
	{started: 1, success: 1},
	{started: 1, open: 1, usersOpen: 1},
	{started: 1, open: 1, usersOpen: 1},
}

// Read in one page with final before every row, so that nothing is concluded: any order gives
// the same episodes, ids included, and the same counters.
func TestAnyOrderGivesTheSameResult(t *testing.T) {
	feed := func(rows []Event) Snapshot {
		d := newDetector(t, nil)
		d.Observe(t0.Add(49*time.Minute), rows...)
		d.Advance(t0.Add(49*time.Minute), t0.Add(-time.Minute))
		return d.Snapshot()
	}
	rows := scenario()
	want := feed(rows)
	checkSnapshot(t, want, scenarioCounts, scenarioEpisodes)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		shuffled := slices.Clone(rows)
		rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		if i == 0 {
			slices.Reverse(shuffled)
		}
		got := feed(shuffled)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("order %d gives\n%+v\nwant\n%+v", i, summarize(got.Episodes), summarize(want.Episodes))
		}
	}
}

// The scenario read as a collector reads it: one-minute pages, final 20 minutes behind, until
// everything is concluded at 2h.
func scenarioPages() []step { return pages(scenario(), 2*time.Hour) }

// Concluded: alice's fatigue ended in success; alice's fraud and bob's OATH ended denied.
var concludedCounts = [3]kindCounts{
	{started: 1, success: 1},
	{started: 1, denied: 1},
	{started: 1, denied: 1},
}

func concludedEpisodes() []epSummary {
	out := slices.Clone(scenarioEpisodes)
	for i := range out {
		out[i].final = true
		if out[i].outcome == OutcomeOpen {
			out[i].outcome = OutcomeDenied
		}
	}
	return out
}

func TestScenarioReadPageByPage(t *testing.T) {
	d := newDetector(t, nil)
	checkSnapshot(t, run(d, scenarioPages()...), concludedCounts, concludedEpisodes())
}

// roundTrip exports, encodes as JSON (as the collector's state file does), decodes and restores.
func roundTrip(t *testing.T, d *Detector) *Detector {
	t.Helper()
	data, err := json.Marshal(d.Export())
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	r, err := Restore(d.Settings(), st)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	return r
}

// A crash after any page: the commit holds the state after page p; the pages after it are read
// again, page p+1 included (its effects were lost with the process). The result is exactly the
// uninterrupted one, every counter included.
func TestRestoreAfterAnyPageNeitherLosesNorDoubles(t *testing.T) {
	steps := scenarioPages()
	want := run(newDetector(t, nil), steps...)
	for p := range steps {
		d := newDetector(t, nil)
		run(d, steps[:p+1]...)
		committed := roundTrip(t, d)
		if p+1 < len(steps) {
			run(d, steps[p+1]) // read, then lost in the crash
		}
		got := run(committed, steps[p+1:]...)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("crash after page %d: got\n%+v\n%+v\nwant\n%+v\n%+v", p, summarize(got.Episodes), got.Self, summarize(want.Episodes), want.Self)
		}
	}
}

// The collector may also read a page again after a restore (a commit that landed just before the
// crash, then the same page fetched again): rows seen twice are duplicates, nothing more.
func TestRestoreThenRereadCountsDuplicatesOnly(t *testing.T) {
	steps := scenarioPages()
	want := run(newDetector(t, nil), steps...)
	for _, p := range []int{2, 5, 9, 12, 21, 31, 46} { // inside alice's burst, bob's guessing, the fraud episode...
		d := newDetector(t, nil)
		run(d, steps[:p+1]...)
		got := run(roundTrip(t, d), slices.Concat([]step{steps[p]}, steps[p+1:])...)
		dups := uint64(len(steps[p].rows))
		if got.Self.Duplicates != want.Self.Duplicates+dups {
			t.Errorf("page %d read again: duplicates = %d, want %d", p, got.Self.Duplicates, want.Self.Duplicates+dups)
		}
		got.Self.Duplicates = want.Self.Duplicates
		if !reflect.DeepEqual(got, want) {
			t.Errorf("page %d read again: got\n%+v\nwant\n%+v", p, summarize(got.Episodes), summarize(want.Episodes))
		}
	}
}

// In the middle of alice's burst (rows up to 140s read, the rule not met yet), then in the
// middle of the episode (open, before the success).
func TestRestoreMidEpisode(t *testing.T) {
	s := time.Second
	burst := noResponses(alice, "a", 15, 0, 20*s)
	first := step{now: 150 * s, rows: burst[:8]}                                             // 0..140s: 8 rows
	second := step{now: 250 * s, rows: burst[8:13]}                                          // 160..240s: episode open
	third := step{now: 310 * s, rows: cat(burst[13:], []Event{success(alice, "as", 300*s)})} // 260s, 280s, success
	want := run(newDetector(t, nil), first, second, third)
	checkSnapshot(t, want, [3]kindCounts{{started: 1, success: 1}}, []epSummary{scenarioEpisodes[0]})

	d := newDetector(t, nil)
	run(d, first)
	got := run(roundTrip(t, d), second, third)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("restored before the episode: got %+v, want %+v", summarize(got.Episodes), summarize(want.Episodes))
	}
	d = newDetector(t, nil)
	mid := run(d, first, second)
	checkSnapshot(t, mid, [3]kindCounts{{started: 1, open: 1, usersOpen: 1}},
		[]epSummary{{kind: KindFatigue, outcome: OutcomeOpen, last: 240 * s, rows: 13, firstRow: "a-00", user: alice}})
	got = run(roundTrip(t, d), third)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("restored in the episode: got %+v, want %+v", summarize(got.Episodes), summarize(want.Episodes))
	}
	if got.Episodes[0].ID != mid.Episodes[0].ID {
		t.Errorf("id changed across the restore: %s, then %s", mid.Episodes[0].ID, got.Episodes[0].ID)
	}
}

func TestExportIsStableAcrossRestore(t *testing.T) {
	d := newDetector(t, nil)
	run(d, scenarioPages()[:30]...)
	a, _ := json.Marshal(d.Export())
	b, _ := json.Marshal(roundTrip(t, d).Export())
	if string(a) != string(b) {
		t.Errorf("export after restore differs:\n%s\n%s", a, b)
	}
	var st State
	_ = json.Unmarshal(a, &st)
	if st.Version != 1 || len(st.Episodes) != 3 || len(st.Prompts) == 0 || len(st.Users) != 3 {
		t.Errorf("state = version %d, %d episodes, %d prompt bytes, %d users; want 1, 3 (fatigue, OATH, fraud at 20m), some, 3",
			st.Version, len(st.Episodes), len(st.Prompts), len(st.Users))
	}
}

// A restore with other settings applies them from then on: a lower largest bucket trims the
// kept prompt times.
func TestRestoreWithOtherSettings(t *testing.T) {
	d := newDetector(t, nil)
	run(d, step{now: 2 * time.Minute, rows: prompts(alice, "p", 30, 0, time.Second)})
	s := DefaultSettings()
	s.PromptBuckets = []int{1, 5}
	r, err := Restore(s, d.Export())
	if err != nil {
		t.Fatal(err)
	}
	if got := len(heldBy(r, alice)); got != 6 {
		t.Errorf("kept %d prompt times, want 6", got)
	}
	checkPrompts(t, r.Snapshot().Prompts, PromptDistribution{Window: 24 * time.Hour, Bounds: []int{1, 5},
		AtMost: []int{0, 0}, MoreThan: []int{1, 1}, Users: 1})
}

func TestRestoreRefusesCorruptState(t *testing.T) {
	d := newDetector(t, nil)
	run(d, scenarioPages()[:30]...)
	good := d.Export()
	clone := func() State {
		var st State
		b, _ := json.Marshal(good)
		_ = json.Unmarshal(b, &st)
		return st
	}
	tests := []struct {
		name   string
		modify func(*State)
	}{
		{"another version", func(st *State) { st.Version = 2 }},
		{"an unknown kind in the counters", func(st *State) { st.Counters.Kinds["smishing"] = KindCounters{Started: 1} }},
		{"an episode of an unknown kind", func(st *State) { st.Episodes[0].Kind = "smishing" }},
		{"an episode with an unknown outcome", func(st *State) { st.Episodes[0].Outcome = "maybe" }},
		{"an episode without rows", func(st *State) { st.Episodes[0].Rows = 0 }},
		{"an episode ending before it starts", func(st *State) { st.Episodes[0].Last = st.Episodes[0].First - 1 }},
		{"a final episode still open", func(st *State) { st.Episodes[0].Final, st.Episodes[0].Outcome = true, OutcomeOpen }},
		{"an episode twice", func(st *State) { st.Episodes = append(st.Episodes, st.Episodes[0]) }},
		{"a user referring to a missing episode", func(st *State) { st.Users[0].Episodes = append(st.Users[0].Episodes, "nope") }},
		{"a row referring to a missing episode", func(st *State) { st.Users[0].Rows[0].Fatigue = "nope" }},
		{"a user without id", func(st *State) { st.Users[0].UserID = "" }},
		{"a user twice", func(st *State) { st.Users = append(st.Users, st.Users[0]) }},
		{"prompts in another format", func(st *State) { st.Prompts[0] = 9 }},
		{"truncated prompts", func(st *State) { st.Prompts = st.Prompts[:len(st.Prompts)-1] }},
		{"bytes after the prompts", func(st *State) { st.Prompts = append(st.Prompts, 0) }},
		{"a huge prompt count", func(st *State) { st.Prompts = []byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := clone()
			tc.modify(&st)
			if _, err := Restore(DefaultSettings(), st); !errors.Is(err, errCorrupt) {
				t.Errorf("Restore = %v, want a corrupt-state error", err)
			}
		})
	}
	if _, err := Restore(DefaultSettings(), clone()); err != nil {
		t.Errorf("the unmodified state: %v", err)
	}
}

func FuzzUnpackPrompts(f *testing.F) {
	d := newDetector(f, nil)
	run(d, scenarioPages()[:30]...)
	f.Add(d.Export().Prompts)
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := unpackPrompts(b, 51)
		if err != nil {
			return
		}
		for _, list := range ps {
			if len(list) == 0 || len(list) > 51 || !slices.IsSortedFunc(list, cmpPrompt) {
				t.Fatalf("decoded list %v", list)
			}
		}
	})
}

// Every self counter is part of the state.
func TestSelfCountersSurviveRestore(t *testing.T) {
	d := newDetector(t, func(s *Settings) { s.MaxUsers = 2; s.MaxEventsPerUser = 20 })
	abs := decline(bob, "abs", 0)
	abs.Time = time.Time{}
	run(d, finalAt(20*time.Minute), step{now: 40 * time.Minute, rows: cat(
		noResponses(alice, "n", 22, 19*time.Minute, time.Second), // 2 row cap hits: n-00, n-01 go
		// n-00 again: older than every row held, so a third row cap hit, and a duplicate of the
		// prompt list.
		noResponses(alice, "n", 1, 19*time.Minute, 0),
		[]Event{decline(bob, "late", -time.Second)},  // late for the windows
		[]Event{abs, decline("", "anon", 0)},         // absurd, unattributable
		[]Event{decline(carol, "c", 19*time.Minute)}, // third user: cap hit
	)})
	want := d.Snapshot().Self
	if want.CapHits != 1 || want.RowCapHits != 3 || want.Unattributable != 1 || want.AbsurdTimestamps != 1 ||
		want.LateRows != 1 || want.Duplicates != 1 {
		t.Fatalf("setup: self = %+v, want one of each and 3 row cap hits", want)
	}
	if got := roundTrip(t, d).Snapshot().Self; got != want {
		t.Errorf("self after restore = %+v, want %+v", got, want)
	}
}

// A restored detector forgets its users like the original: the restored prompts and rows are
// scheduled for pruning too.
func TestRestoredStateIsForgottenInTime(t *testing.T) {
	d := newDetector(t, nil)
	run(d, scenarioPages()[:30]...)
	r := roundTrip(t, d)
	if s := r.Snapshot().Self; s.TrackedUsers != 3 || s.TrackedRows == 0 {
		t.Fatalf("restored self = %+v, want 3 users with rows", s)
	}
	r.Advance(t0.Add(25*time.Hour), t0.Add(25*time.Hour-lag))
	snap := r.Snapshot()
	if snap.Self.TrackedUsers != 0 || snap.Self.TrackedRows != 0 {
		t.Errorf("a day later: self = %+v, want nothing tracked", snap.Self)
	}
	for _, k := range snap.Kinds {
		if k.Open != 0 {
			t.Errorf("%s: %d episodes still open a day later", k.Kind, k.Open)
		}
	}
}
