package detect

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// episodeJournal is what a caller of the incremental episode export keeps: an episode per id,
// applied from the ids TakeChangedEpisodes names.
type episodeJournal struct {
	eps   map[string]EpisodeState
	taken int // ids taken over the run
}

// write is one commit: every episode the first time (and after a restore, a new detector), the
// changed ones after that.
func (j *episodeJournal) write(t *testing.T, d *Detector) {
	t.Helper()
	ids := d.TakeChangedEpisodes()
	if j.eps == nil {
		if ids != nil {
			t.Fatalf("the first TakeChangedEpisodes returned %v, want nil", ids)
		}
		j.eps = map[string]EpisodeState{}
		for _, e := range d.ExportHead().Episodes {
			j.eps[e.ID] = e
		}
		return
	}
	j.taken += len(ids)
	for _, id := range ids {
		if e, ok := d.ExportEpisode(id); ok {
			j.eps[id] = e
		} else {
			delete(j.eps, id)
		}
	}
}

func (j *episodeJournal) check(t *testing.T, d *Detector, when string) {
	t.Helper()
	got := slices.Collect(maps.Values(j.eps))
	slices.SortFunc(got, func(a, b EpisodeState) int { return compareStrings(a.ID, b.ID) })
	want := d.ExportHead().Episodes
	if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
		t.Fatalf("%s: the episodes applied from the changes differ from ExportHead's %s", when, firstDiff(g, w))
	}
	if h := d.ExportHeadOnly(); h.Episodes != nil || jsonOf(t, h) != jsonOf(t, State{
		Version: stateVersion, Now: d.ExportHead().Now, Final: d.ExportHead().Final, Counters: d.ExportHead().Counters}) {
		t.Fatalf("%s: ExportHeadOnly %s is not ExportHead without its episodes", when, jsonOf(t, h))
	}
	if ids := d.EpisodeIDs(); !slices.Equal(ids, slices.Sorted(maps.Keys(j.eps))) {
		t.Fatalf("%s: EpisodeIDs %v, want %v", when, ids, slices.Sorted(maps.Keys(j.eps)))
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Over random traffic (bursts, fraud reports and blocks, successes, late rows that become an
// open episode's first row, duplicates), a clock that moves by uneven steps (episodes
// concluded, expired past retention or beyond MaxEpisodes, forgotten), restores, and commits
// after some pages only: the episodes TakeChangedEpisodes named, exported or deleted commit
// after commit, always equal exactly the episodes ExportHead lists; and Snapshot's kept listing
// always equals the one a restored detector makes from scratch. A change made anywhere without
// marking the episode fails here: the traffic reaches every mutation (the test checks that it
// did).
func TestEpisodeChangesTrackExport(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(seed, 1313))
			d := newDetector(t, func(s *Settings) {
				s.MaxUsers = 40
				s.MaxEventsPerUser = 30
				// Even seeds: episodes leave the listing beyond the 4 newest or 2 hours after
				// their last row, long after their users forgot them. Odd seeds: 35 minutes
				// after it, after they concluded (final 5 minutes after it, now 20 more) and
				// before their users forget them (horizon 20 minutes before final): an episode
				// leaves the listing while held, with no other change to it.
				s.MaxEpisodes, s.EpisodeRetention = 4, 2*time.Hour
				if seed%2 == 1 {
					s.MaxEpisodes, s.EpisodeRetention = 100, 35*time.Minute
				}
				s.PromptWindow = 2 * time.Hour
				s.MaxListLen = 4
				// Small bursts, so that bursts are many and late rows often land before one.
				s.FatigueMoreThan, s.DeclinesMoreThan = 3, 3
				s.OATHMinFailures, s.OATHMinSessions = 4, 2
			})
			var j episodeJournal
			users := make([]string, 12)
			for i := range users {
				users[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			}
			kinds := []func(user, id string, off time.Duration) Event{
				decline, noResponse, noResponse, decline, fraudReport, blocked, blocked, success,
				func(user, id string, off time.Duration) Event { return oathFail(user, id, "s-"+id[len(id)-1:], off) },
				func(user, id string, off time.Duration) Event {
					e := decline(user, id, off)
					e.Country, e.AppID = []string{"FR", "DE", "US", "GB", "NL", "SG"}[len(id)%6], "app-"+id[len(id)-1:]
					return e
				},
			}
			now := time.Duration(0)
			var fed []Event
			restores := 0
			var before map[string]EpisodeState // ExportHead's episodes at the last commit
			var seen struct{ created, grown, rekeyed, success, concluded, forgotten int }
			for c := range 250 {
				now += time.Duration(rnd.IntN(12)) * time.Minute
				for range rnd.IntN(25) {
					var ev Event
					if len(fed) > 0 && rnd.IntN(12) == 0 {
						ev = fed[rnd.IntN(len(fed))] // a duplicate
					} else {
						off := now - time.Duration(rnd.IntN(10))*time.Minute
						if rnd.IntN(6) == 0 { // late, possibly before an open episode's first row
							off = now - time.Duration(rnd.IntN(60))*time.Minute
						}
						u := users[rnd.IntN(len(users))]
						if rnd.IntN(2) == 0 {
							u = users[rnd.IntN(3)]
						}
						ev = kinds[rnd.IntN(len(kinds))](u, fmt.Sprintf("r%d-%d", c, len(fed)), off)
					}
					fed = append(fed, ev)
					d.Observe(t0.Add(now), ev)
				}
				d.Advance(t0.Add(now), t0.Add(now-lag))
				if rnd.IntN(3) == 0 {
					continue // several pages between two commits
				}
				j.write(t, d)
				j.check(t, d, fmt.Sprintf("commit %d", c))
				if ids := d.TakeChangedEpisodes(); len(ids) != 0 {
					t.Fatalf("commit %d: %v changed with nothing done since the last commit", c, ids)
				}
				// The listing Snapshot keeps equals the one made from scratch.
				r, err := Restore(d.Settings(), d.Export())
				if err != nil {
					t.Fatal(err)
				}
				if g, w := jsonOf(t, d.Snapshot()), jsonOf(t, r.Snapshot()); g != w {
					t.Fatalf("commit %d: kept snapshot differs from a fresh one %s", c, firstDiff(g, w))
				}
				after := map[string]EpisodeState{}
				for _, e := range d.ExportHead().Episodes {
					after[e.ID] = e
				}
				for id, e := range after {
					b, ok := before[id]
					switch {
					case !ok && slices.ContainsFunc(slices.Collect(maps.Values(before)), func(o EpisodeState) bool {
						// An episode of the same user and kind went, whose rows this one's
						// range covers: a late row became its first.
						_, kept := after[o.ID]
						return !kept && o.UserID == e.UserID && o.Kind == e.Kind && o.First > e.First && o.First <= e.Last
					}):
						seen.rekeyed++
					case !ok:
						seen.created++
					case b.Rows != e.Rows:
						seen.grown++
					}
					if ok && b.Outcome == OutcomeOpen && e.Outcome == OutcomeSuccess {
						seen.success++
					}
					if ok && !b.Final && e.Final {
						seen.concluded++
					}
				}
				for id := range before {
					if _, ok := after[id]; !ok {
						seen.forgotten++
					}
				}
				before = after
				if rnd.IntN(25) == 0 {
					// A restart: a new detector from the state, written whole again.
					if d, err = Restore(d.Settings(), d.Export()); err != nil {
						t.Fatal(err)
					}
					restores++
					j = episodeJournal{taken: j.taken}
					j.write(t, d)
					j.check(t, d, fmt.Sprintf("restore after commit %d", c))
				}
			}
			t.Logf("%+v, %d restores, %d ids taken", seen, restores, j.taken)
			if seen.created == 0 || seen.grown == 0 || seen.rekeyed == 0 || seen.success == 0 || seen.concluded == 0 || seen.forgotten == 0 || restores == 0 {
				t.Errorf("the traffic did not reach every kind of change: %+v, %d restores", seen, restores)
			}
		})
	}
}

// The changes named are exactly those made, per mutation: an episode created, grown, ended in
// success, concluded, given another id by a late first row, and forgotten; a row of another
// user or an Advance that concludes nothing names none.
func TestTakeChangedEpisodes(t *testing.T) {
	d := newDetector(t, func(s *Settings) { s.EpisodeRetention = time.Hour })
	if ids := d.TakeChangedEpisodes(); ids != nil {
		t.Fatalf("first call: %v, want nil", ids)
	}
	now := t0.Add(time.Hour)
	take := func(what string, want ...string) {
		t.Helper()
		if ids := d.TakeChangedEpisodes(); !slices.Equal(ids, want) {
			t.Errorf("%s: changed %v, want %v", what, ids, want)
		}
	}
	// More than FatigueMoreThan pushes within the window start an episode.
	burst := declines(alice, "a", DefaultSettings().FatigueMoreThan+1, 40*time.Minute, 10*time.Second)
	d.Observe(now, burst...)
	id := episodeID("fatigue", alice, "a-00")
	take("a burst", id)
	d.Observe(now, decline(bob, "b1", 50*time.Minute))
	take("a row of another user")
	d.Observe(now, decline(alice, "a-late", 42*time.Minute))
	take("a row joining the episode", id)
	d.Observe(now, decline(alice, "a-first", 39*time.Minute+50*time.Second))
	newID := episodeID("fatigue", alice, "a-first")
	take("a late row becoming the first (the old id forgotten)", slices.Sorted(slices.Values([]string{id, newID}))...)
	d.Observe(now, success(alice, "a-ok", 44*time.Minute))
	take("a success", newID)
	d.Advance(now, now.Add(-lag))
	take("an Advance concluding nothing")
	// final 50m: 5 minutes (gap and success window) after the last row, 42m.
	d.Advance(now.Add(10*time.Minute), now.Add(10*time.Minute-lag))
	take("the conclusion", newID)
	if e, ok := d.ExportEpisode(newID); !ok || !e.Final || e.Outcome != OutcomeSuccess {
		t.Errorf("concluded episode exported as %+v, %v", e, ok)
	}
	d.Advance(now.Add(6*time.Hour), now.Add(6*time.Hour-lag))
	take("forgotten past retention and the user's horizon", newID)
	if _, ok := d.ExportEpisode(newID); ok {
		t.Error("a forgotten episode is still exported")
	}
}

// Snapshot keeps each episode's public form until it changes: an episode no row touched is the
// same value in the next Snapshot, one a row joined is a new one, and the earlier Snapshot
// still shows it as it was; with nothing changed in between, the listing itself is reused.
func TestSnapshotKeepsUnchangedEpisodes(t *testing.T) {
	d := newDetector(t, nil)
	now := t0.Add(time.Hour)
	d.Observe(now, fraudReport(alice, "fa", 40*time.Minute), fraudReport(bob, "fb", 41*time.Minute))
	d.Advance(now, now.Add(-lag))
	byUser := func(s Snapshot) map[string]*Episode {
		out := map[string]*Episode{}
		for _, e := range s.Episodes {
			out[e.UserID] = e
		}
		return out
	}
	s1 := d.Snapshot()
	before := byUser(s1)
	if len(before) != 2 {
		t.Fatalf("%d users with episodes, want 2", len(before))
	}
	d.Observe(now, blocked(alice, "ba", 45*time.Minute)) // joins alice's fraud episode
	d.Advance(now, now.Add(-lag))
	s2 := d.Snapshot()
	after := byUser(s2)
	if after[bob] != before[bob] {
		t.Error("bob's episode, which no row touched, was made again")
	}
	if after[alice] == before[alice] || after[alice].Rows != 2 {
		t.Errorf("alice's episode after a row joined it: same value %v, %d rows, want a new one of 2 rows",
			after[alice] == before[alice], after[alice].Rows)
	}
	if before[alice].Rows != 1 || len(before[alice].SignInIDs) != 1 {
		t.Errorf("the earlier Snapshot's episode changed: %+v", before[alice])
	}
	s3 := d.Snapshot()
	if len(s3.Episodes) != len(s2.Episodes) || &s3.Episodes[0] != &s2.Episodes[0] {
		t.Error("nothing changed, yet the listing was made again")
	}
}
