package detect

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The state fixture was written by the detector as it was before users were stored by value
// (commit 0673c78 of main): a state file already on disk must keep restoring to the same
// detector. Regenerate only when State changes on purpose (and bump stateVersion then):
//
//	go test ./detect -run TestStateFixture -write-fixture
var writeFixture = flag.Bool("write-fixture", false, "write detect/testdata/state-v1*.json from the current code")

const (
	fixtureState = "testdata/state-v1.json"
	fixtureSnap  = "testdata/state-v1.snapshot.json"
	fixtureLater = "testdata/state-v1.later.json"
)

// fixtureRows is a day and a half of a small tenant, fed in 10-minute pages partly out of order:
// completed and declined pushes, bombed and OATH-guessed users, fraud reports with blocks, rows
// fed twice, rows fed hours late, and one user prompted more often than the prompt list keeps.
func fixtureRows() [][]Event {
	rng := rand.New(rand.NewPCG(13, 2026))
	const users = 120
	uid := func(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }
	var all []Event
	n := 0
	id := func() string { n++; return fmt.Sprintf("row-%05d", n) }
	for i := range users {
		u := uid(i)
		for range 1 + rng.IntN(4) {
			all = append(all, success(u, id(), time.Duration(rng.Int64N(int64(36*time.Hour)))))
		}
		switch i % 12 {
		case 1:
			all = append(all, decline(u, id(), time.Duration(rng.Int64N(int64(36*time.Hour)))))
		case 2: // bombed, then approves
			start := time.Duration(rng.Int64N(int64(30 * time.Hour)))
			all = append(all, noResponses(u, id(), 14, start, 20*time.Second)...)
			all = append(all, success(u, id(), start+290*time.Second))
		case 3: // OATH guessing over sessions
			start := time.Duration(rng.Int64N(int64(30 * time.Hour)))
			for k := range 22 {
				all = append(all, oathFail(u, id(), fmt.Sprintf("s-%d-%d", i, k/2), start+time.Duration(k)*15*time.Second))
			}
		case 4: // fraud report, then blocked
			start := time.Duration(rng.Int64N(int64(30 * time.Hour)))
			all = append(all, fraudReport(u, id(), start), blocked(u, id(), start+time.Minute))
		}
	}
	// One user prompted 70 times in an hour, more than the 51 prompts a list keeps.
	all = append(all, noResponses(uid(7), "flood", 70, 33*time.Hour, 50*time.Second)...)
	slices.SortStableFunc(all, func(a, b Event) int { return a.Time.Compare(b.Time) })
	// Pages of 10 minutes; a few rows are read again, a few only hours later.
	var pages [][]Event
	var late []Event
	for end := 10 * time.Minute; end <= 36*time.Hour; end += 10 * time.Minute {
		var p []Event
		for len(all) > 0 && all[0].Time.Before(t0.Add(end)) {
			e := all[0]
			all = all[1:]
			switch rng.IntN(40) {
			case 0:
				late = append(late, e)
				continue
			case 1:
				p = append(p, e) // and again below
			}
			p = append(p, e)
		}
		if end%(3*time.Hour) == 0 {
			p = append(p, late...)
			late = nil
		}
		rng.Shuffle(len(p), func(a, b int) { p[a], p[b] = p[b], p[a] })
		pages = append(pages, p)
	}
	return pages
}

// fixtureDetector feeds fixtureRows page by page, Advance after each page but the last, so that
// the state holds prompts that left the window since (Snapshot must not count them).
func fixtureDetector(t *testing.T) *Detector {
	d := newDetector(t, nil)
	pages := fixtureRows()
	for i, p := range pages {
		now := t0.Add(time.Duration(i+1) * 10 * time.Minute)
		d.Observe(now, p...)
		if i < len(pages)-1 {
			d.Advance(now, now.Add(-lag))
		}
	}
	// The last page is observed with a later now, and not advanced.
	d.Observe(t0.Add(36*time.Hour+7*time.Minute), success(uid0, "row-last", 36*time.Hour+6*time.Minute))
	return d
}

const uid0 = "00000000-0000-4000-8000-000000000000"

// fixtureLaterRows continue the fixture after a restore.
func fixtureLaterRows() []Event {
	return cat(
		noResponses(bob, "later-bomb", 12, 36*time.Hour+10*time.Minute, 15*time.Second),
		[]Event{decline(uid0, "later-decline", 36*time.Hour+12*time.Minute)},
	)
}

func marshalIndent(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestStateFixture restores a state written by an earlier version of the detector: it must
// restore, export back to the same state, and give the same Snapshot, then and after more rows
// and an Advance.
func TestStateFixture(t *testing.T) {
	if *writeFixture {
		d := fixtureDetector(t)
		later := func(d *Detector) Snapshot {
			now := t0.Add(37 * time.Hour)
			d.Observe(now, fixtureLaterRows()...)
			d.Advance(now, now.Add(-lag))
			return d.Snapshot()
		}
		files := map[string][]byte{
			fixtureState: marshalIndent(t, d.Export()),
			fixtureSnap:  marshalIndent(t, d.Snapshot()),
			fixtureLater: marshalIndent(t, later(d)),
		}
		for name, b := range files {
			if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(name, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	raw, err := os.ReadFile(fixtureState)
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	d, err := Restore(DefaultSettings(), st)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got := marshalIndent(t, d.Export()); !bytes.Equal(got, raw) {
		t.Errorf("Export after Restore differs from the fixture:\n%s", firstDiff(string(got), string(raw)))
	}
	snap := d.Snapshot()
	check := func(name string, got Snapshot) {
		t.Helper()
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if g := marshalIndent(t, got); !bytes.Equal(g, want) {
			t.Errorf("Snapshot differs from %s:\n%s", name, firstDiff(string(g), string(want)))
		}
	}
	check(fixtureSnap, snap)
	// The fixture is only worth having if it holds what it is meant to: prompts out of the
	// window still held (no Advance since now moved), episodes of every kind, late rows and
	// duplicates counted, a list at the promptKeep cap.
	if brute := bruteDistribution(d); !equalDistribution(brute, snap.Prompts) {
		t.Errorf("prompts %+v, recount %+v", snap.Prompts, brute)
	}
	if held, in := heldPrompts(d); held <= in {
		t.Errorf("fixture holds %d prompts, %d in the window: none out of it", held, in)
	}
	for _, k := range snap.Kinds {
		if k.Started == 0 {
			t.Errorf("no %s episode in the fixture", k.Kind)
		}
	}
	if snap.Self.LateRows == 0 || snap.Self.Duplicates == 0 || snap.Prompts.MoreThan[len(snap.Prompts.MoreThan)-1] == 0 {
		t.Errorf("fixture lacks late rows, duplicates or a full prompt list: %+v %+v", snap.Self, snap.Prompts)
	}
	now := t0.Add(37 * time.Hour)
	d.Observe(now, fixtureLaterRows()...)
	d.Advance(now, now.Add(-lag))
	check(fixtureLater, d.Snapshot())
}
