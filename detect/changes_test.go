package detect

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// journal is what a caller of the incremental export keeps: the head and a record per user key.
type journal struct {
	head  State
	users map[uint64]UserRecord
}

// write is one commit: everything the first time (TakeChanged returns nil then), the changed
// users after that.
func (j *journal) write(d *Detector) {
	keys := d.TakeChanged()
	if j.users == nil {
		j.users = map[uint64]UserRecord{}
		keys = d.UserKeys()
	}
	for _, k := range keys {
		if rec, ok := d.ExportUser(k); ok {
			j.users[k] = rec
		} else {
			delete(j.users, k)
		}
	}
	j.head = d.ExportHead()
}

func (j *journal) assemble(t *testing.T) State {
	t.Helper()
	recs := make([]UserRecord, 0, len(j.users))
	for _, r := range j.users {
		recs = append(recs, r)
	}
	st, err := AssembleState(j.head, recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// firstDiff shows where two long texts first differ.
func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(i-80, 0)
	return fmt.Sprintf("at byte %d: ...%s... vs ...%s...", i, a[from:min(i+80, len(a))], b[from:min(i+80, len(b))])
}

func stateJSON(t *testing.T, st State) string {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Over random traffic (prompts, fatigue and OATH bursts, fraud reports, successes, late and
// duplicate rows, users at the caps) and a clock that moves by uneven steps, the head and the
// records of the users TakeChanged named, applied commit after commit, always assemble into
// exactly what Export returns; and the assembled state restores.
func TestIncrementalExportAssemblesToExport(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(seed, 42))
			d := newDetector(t, func(s *Settings) {
				s.MaxUsers = 40
				s.MaxEventsPerUser = 20
				s.MaxEpisodes = 5
				s.EpisodeRetention = 3 * time.Hour
				s.PromptWindow = 2 * time.Hour
			})
			var j journal
			users := make([]string, 60)
			for i := range users {
				users[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			}
			kinds := []func(user, id string, off time.Duration) Event{
				decline, noResponse, fraudReport, blocked, success,
				func(user, id string, off time.Duration) Event { return oathFail(user, id, "s-"+id[len(id)-1:], off) },
				func(user, id string, off time.Duration) Event {
					return row(user, id, off, "satisfied", "oath_verification_code", "successfully_completed")
				},
				func(user, id string, off time.Duration) Event { return row(user, id, off, "denied", push, "other") },
			}
			now := time.Duration(0)
			var fed []Event
			for c := range 120 {
				now += time.Duration(rnd.IntN(20)) * time.Minute
				for range rnd.IntN(30) {
					var ev Event
					if len(fed) > 0 && rnd.IntN(10) == 0 {
						ev = fed[rnd.IntN(len(fed))] // a duplicate
					} else {
						// Mostly recent rows, some late ones (up to three hours back).
						off := now - time.Duration(rnd.IntN(30))*time.Minute
						if rnd.IntN(8) == 0 {
							off = now - time.Duration(rnd.IntN(180))*time.Minute
						}
						// A few users get most rows, so that bursts form episodes.
						u := users[rnd.IntN(len(users))]
						if rnd.IntN(2) == 0 {
							u = users[rnd.IntN(4)]
						}
						ev = kinds[rnd.IntN(len(kinds))](u, fmt.Sprintf("r%d-%d", c, len(fed)), off)
					}
					fed = append(fed, ev)
					d.Observe(t0.Add(now), ev)
				}
				d.Advance(t0.Add(now), t0.Add(now-lag))
				if rnd.IntN(4) == 0 {
					continue // several pages between two commits
				}
				j.write(d)
				if got, want := stateJSON(t, j.assemble(t)), stateJSON(t, d.Export()); got != want {
					t.Fatalf("commit %d: assembled state differs from the exported one %s", c, firstDiff(got, want))
				}
			}
			j.write(d)
			if len(j.users) == 0 || len(j.head.Episodes) == 0 {
				t.Fatalf("the traffic made %d users and %d episodes: too little to test", len(j.users), len(j.head.Episodes))
			}
			r, err := Restore(d.Settings(), j.assemble(t))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := stateJSON(t, r.Export()), stateJSON(t, d.Export()); got != want {
				t.Errorf("restored from the assembled state: differs from the detector's %s", firstDiff(got, want))
			}
		})
	}
}

// A State exported whole (an earlier version's blob) assembles to itself, alone or with user
// records; damaged prompt framing is refused.
func TestAssembleState(t *testing.T) {
	d := newDetector(t, nil)
	d.Observe(t0.Add(time.Hour), decline(alice, "a1", 50*time.Minute), noResponse(bob, "b1", 55*time.Minute))
	d.Advance(t0.Add(time.Hour), t0.Add(40*time.Minute))
	whole := d.Export()
	got, err := AssembleState(whole, nil, nil)
	if err != nil || stateJSON(t, got) != stateJSON(t, whole) {
		t.Errorf("whole state alone: %v\n%s", err, stateJSON(t, got))
	}
	// Bob's record joined to a head that holds only Alice.
	e := newDetector(t, nil)
	e.Observe(t0.Add(time.Hour), decline(alice, "a1", 50*time.Minute))
	e.Advance(t0.Add(time.Hour), t0.Add(40*time.Minute))
	bobRec, ok := d.ExportUser(userKey(bob))
	if !ok {
		t.Fatal("bob not held")
	}
	got, err = AssembleState(e.Export(), []UserRecord{bobRec}, nil)
	if err != nil || stateJSON(t, got) != stateJSON(t, whole) {
		t.Errorf("alice's state and bob's record: %v\n%s\nwant\n%s", err, stateJSON(t, got), stateJSON(t, whole))
	}
	// The head's episodes kept apart and given back, in another order.
	head := whole
	head.Episodes = nil
	eps := slices.Clone(whole.Episodes)
	slices.Reverse(eps)
	if len(eps) == 0 {
		d.Observe(t0.Add(time.Hour), fraudReport(alice, "f1", 58*time.Minute))
		whole = d.Export()
		head, eps = whole, slices.Clone(whole.Episodes)
		head.Episodes = nil
	}
	if got, err = AssembleState(head, nil, eps); err != nil || len(eps) == 0 || stateJSON(t, got) != stateJSON(t, whole) {
		t.Errorf("episodes apart (%d): %v\n%s\nwant\n%s", len(eps), err, stateJSON(t, got), stateJSON(t, whole))
	}
	for _, bad := range [][]byte{{2, 1}, {promptsFormat, 1, 0, 0}, append(slices.Clone(bobRec.Prompts), 0)} {
		if _, err := AssembleState(State{}, []UserRecord{{Prompts: bad}}, nil); err == nil {
			t.Errorf("prompts %x assembled", bad)
		}
	}
	if _, ok := d.ExportUser(userKey("nobody")); ok {
		t.Error("a user never seen is held")
	}
}
