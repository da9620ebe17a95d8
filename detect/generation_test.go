package detect

import (
	"encoding/json"
	"testing"
	"time"
)

func exportJSON(t *testing.T, d *Detector) string {
	t.Helper()
	b, err := json.Marshal(d.Export())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Generation moves whenever the exported state may have changed, and stays when it did not: a
// caller that committed the state at one Generation skips the next export while it stays.
func TestGenerationMovesWithTheState(t *testing.T) {
	d, err := New(DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	now := t0.Add(time.Hour)
	final := t0.Add(30 * time.Minute)
	d.Advance(now, final)
	steps := []struct {
		name  string
		do    func()
		moves bool
	}{
		{"same Advance again", func() { d.Advance(now, final) }, false},
		{"a row no rule reads", func() {
			d.Observe(now, row(alice, "r0", 40*time.Minute, "not_required", "", ""))
		}, false},
		{"a prompt", func() { d.Observe(now, decline(alice, "r1", 45*time.Minute)) }, true},
		{"Advance after the prompt", func() { d.Advance(now, final) }, true},
		{"same Advance once more", func() { d.Advance(now, final) }, false},
		{"the same row again (a duplicate is counted)", func() { d.Observe(now, decline(alice, "r1", 45*time.Minute)) }, true},
		{"an unattributable row (counted)", func() { d.Observe(now, decline("", "r2", 45*time.Minute)) }, true},
		{"Advance after them", func() { d.Advance(now, final) }, true},
		{"an earlier now and final change nothing", func() { d.Advance(now.Add(-time.Minute), final.Add(-time.Minute)) }, false},
		{"a later now", func() { d.Advance(now.Add(time.Second), final) }, true},
		{"a later final", func() { d.Advance(now.Add(time.Second), final.Add(time.Second)) }, true},
		{"Snapshot and Export read only", func() { d.Snapshot(); d.Export() }, false},
	}
	for _, st := range steps {
		g, exp := d.Generation(), exportJSON(t, d)
		st.do()
		moved := d.Generation() != g
		if moved != st.moves {
			t.Errorf("%s: generation moved %v, want %v", st.name, moved, st.moves)
		}
		if !moved && exportJSON(t, d) != exp {
			t.Errorf("%s: the state changed but the generation did not", st.name)
		}
	}
}

// The first Advance after Restore runs even at the restored now and final: the settings may be
// new (a configuration reload), and what they no longer keep goes at once.
func TestFirstAdvanceAfterRestoreApplies(t *testing.T) {
	s := DefaultSettings()
	d, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	now, final := t0.Add(3*time.Hour), t0.Add(2*time.Hour)
	d.Observe(now, noResponse(bob, "p1", time.Hour)) // a prompt two hours before now
	d.Advance(now, final)
	if n := d.Snapshot().Self.TrackedUsers; n != 1 {
		t.Fatalf("tracked users %d, want 1", n)
	}
	shorter := s
	shorter.PromptWindow = time.Hour
	r, err := Restore(shorter, d.Export())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Export().Prompts) == 0 {
		t.Fatal("the restored state has no prompt")
	}
	g := r.Generation()
	r.Advance(now, final)
	if r.Generation() == g {
		t.Error("the first Advance after Restore did not move the generation")
	}
	if p := r.Export().Prompts; len(p) != 0 {
		t.Errorf("prompts still kept after the first Advance (%d bytes): the prompt is outside the new one-hour window", len(p))
	}
}
