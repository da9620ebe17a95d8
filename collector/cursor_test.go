package collector

import (
	"reflect"
	"testing"
	"time"
)

// Times in these tables are minutes after t0 (hand-picked round values), so each expected cursor
// can be checked by reading the rule in cursor.go's comments, not the code.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(min float64) time.Time { return t0.Add(time.Duration(min * float64(time.Minute))) }

func gap(from, to float64) interval { return interval{From: at(from), To: at(to)} }

// The defaults: settle 5m, reconcile delay 15m, reconcile interval 5m, poll 1m, look-back 60m.
var defaultTiming = timing{settle: 5 * time.Minute, reconcileDelay: 15 * time.Minute,
	reconcileInterval: 5 * time.Minute, pollInterval: time.Minute, lookback: 60 * time.Minute}

func TestWindowHoldsInclusiveBoundsAtWholeSeconds(t *testing.T) {
	w := window{From: at(0), To: at(5)}
	for _, tc := range []struct {
		created      time.Time
		holds, after bool
	}{
		{at(0), true, false},                             // ge: the lower bound itself
		{at(0).Add(-time.Nanosecond), false, false},      // just before: belongs to the previous window
		{at(5), true, false},                             // le: the upper bound itself
		{at(5).Add(999 * time.Millisecond), true, false}, // a sub-second row inside the bound's second
		{at(5).Add(time.Second), false, true},            // next second: the next window's
		{at(60 * 24), false, true},                       // a day later: Graph ignored the bound
	} {
		if got := w.holds(tc.created); got != tc.holds {
			t.Errorf("holds(%s) = %v, want %v", tc.created, got, tc.holds)
		}
		if got := w.after(tc.created); got != tc.after {
			t.Errorf("after(%s) = %v, want %v", tc.created, got, tc.after)
		}
	}
}

func TestPlanFresh(t *testing.T) {
	for _, tc := range []struct {
		name    string
		c       cursors
		now     time.Time
		guardTo time.Time
		want    freshPlan
	}{{
		// First start at 120: look-back 60m starts at 60; the fresh window would be [60, 115],
		// more than reconcile delay + poll interval behind, so it jumps to 115-15 = 100 and
		// [60, 100) becomes a gap.
		name: "first start jumps over the look-back",
		now:  at(120),
		want: freshPlan{next: cursors{Fresh: at(100), Reconcile: at(60), Gaps: []interval{gap(60, 100)}},
			read: window{at(100), at(115)}, ok: true, started: true, gap: &interval{at(60), at(100)}},
	}, {
		name: "steady state reads from the cursor to now minus settle",
		c:    cursors{Fresh: at(114), Reconcile: at(95)},
		now:  at(120),
		want: freshPlan{next: cursors{Fresh: at(114), Reconcile: at(95)}, read: window{at(114), at(115)}, ok: true},
	}, {
		// jumpTo = 115-15 = 100 is 1m past the cursor (99): not more than one poll interval.
		name: "one poll interval behind does not jump",
		c:    cursors{Fresh: at(99), Reconcile: at(95)},
		now:  at(120),
		want: freshPlan{next: cursors{Fresh: at(99), Reconcile: at(95)}, read: window{at(99), at(115)}, ok: true},
	}, {
		name: "nothing settled since the last read",
		c:    cursors{Fresh: at(115), Reconcile: at(95)},
		now:  at(120).Add(999 * time.Millisecond), // now-settle truncated to the second is 115
		want: freshPlan{next: cursors{Fresh: at(115), Reconcile: at(95)}},
	}, {
		// An outage: the last gap ends where the cursor is, so the new gap extends it.
		name: "a second jump extends the gap that touches it",
		c:    cursors{Fresh: at(100), Reconcile: at(60), Gaps: []interval{gap(60, 100)}},
		now:  at(150),
		want: freshPlan{next: cursors{Fresh: at(130), Reconcile: at(60), Gaps: []interval{gap(60, 130)}},
			read: window{at(130), at(145)}, ok: true, gap: &interval{at(100), at(130)}},
	}, {
		name: "a jump after reading keeps the older gap and adds a new one",
		c:    cursors{Fresh: at(110), Reconcile: at(95), Gaps: []interval{gap(60, 100)}},
		now:  at(150),
		want: freshPlan{next: cursors{Fresh: at(130), Reconcile: at(95), Gaps: []interval{gap(60, 100), gap(110, 130)}},
			read: window{at(130), at(145)}, ok: true, gap: &interval{at(110), at(130)}},
	}, {
		// Cursors at 300 while now-settle is 115: more than one poll interval in the future.
		// Restart from the look-back (60), then jump as at a first start.
		name: "cursors in the future restart from the look-back",
		c:    cursors{Fresh: at(300), Reconcile: at(280), Gaps: []interval{gap(200, 250)}},
		now:  at(120),
		want: freshPlan{next: cursors{Fresh: at(100), Reconcile: at(60), Gaps: []interval{gap(60, 100)}},
			read: window{at(100), at(115)}, ok: true, clamped: true, gap: &interval{at(60), at(100)}},
	}, {
		// The newest forgotten row was created at 80.5: a read starting at or before it could
		// count that row again, so the restart is at 81 (the next whole second after it).
		name: "cursors in the future never restart at or before a forgotten row",
		c:    cursors{Fresh: at(300), Reconcile: at(280), Forgotten: at(80.5).Add(500 * time.Millisecond)},
		now:  at(120),
		want: freshPlan{next: cursors{Fresh: at(100), Reconcile: at(80.5).Add(time.Second), Forgotten: at(80.5).Add(500 * time.Millisecond),
			Gaps: []interval{{at(80.5).Add(time.Second), at(100)}}},
			read: window{at(100), at(115)}, ok: true, clamped: true, gap: &interval{at(80.5).Add(time.Second), at(100)}},
	}, {
		// 30 s ahead is inside the one-poll-interval tolerance: no clamp, just no read.
		name: "a cursor slightly ahead waits",
		c:    cursors{Fresh: at(115.5), Reconcile: at(95)},
		now:  at(120),
		want: freshPlan{next: cursors{Fresh: at(115.5), Reconcile: at(95)}},
	}, {
		name:    "the clock guard holds the window back",
		c:       cursors{Fresh: at(114), Reconcile: at(95)},
		now:     at(240),
		guardTo: at(116),
		want: freshPlan{next: cursors{Fresh: at(114), Reconcile: at(95)}, read: window{at(114), at(116)}, ok: true,
			stepped: true, heldTo: at(235)},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := planFresh(tc.c, tc.now, defaultTiming, tc.guardTo)
			if len(got.next.Gaps) == 0 {
				got.next.Gaps = nil
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("planFresh:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestPlanFreshDoesNotAliasGaps(t *testing.T) {
	c := cursors{Fresh: at(100), Reconcile: at(60), Gaps: []interval{gap(60, 100)}}
	_ = planFresh(c, at(150), defaultTiming, time.Time{})
	if c.Gaps[0] != gap(60, 100) {
		t.Errorf("planFresh changed the caller's gaps: %v", c.Gaps)
	}
}

func TestPlanReconcile(t *testing.T) {
	for _, tc := range []struct {
		name     string
		c        cursors
		now      time.Time
		span     time.Duration
		wantC    cursors
		wantW    window
		wantRead bool
	}{{
		// Target = now - settle - delay = 100; the cursor is 5m behind: due.
		name: "due after one reconcile interval",
		c:    cursors{Fresh: at(115), Reconcile: at(95)},
		now:  at(120), span: time.Hour,
		wantC: cursors{Fresh: at(115), Reconcile: at(95)}, wantW: window{at(95), at(100)}, wantRead: true,
	}, {
		name: "not due before one reconcile interval",
		c:    cursors{Fresh: at(115), Reconcile: at(96)},
		now:  at(120), span: time.Hour,
		wantC: cursors{Fresh: at(115), Reconcile: at(96)},
	}, {
		// The fresh cursor (90) is behind the target (100): never reconcile rows not read once.
		name: "never past the fresh cursor",
		c:    cursors{Fresh: at(90), Reconcile: at(80)},
		now:  at(120), span: time.Hour,
		wantC: cursors{Fresh: at(90), Reconcile: at(80)}, wantW: window{at(80), at(90)}, wantRead: true,
	}, {
		name: "at most one span",
		c:    cursors{Fresh: at(115), Reconcile: at(40)},
		now:  at(120), span: 10 * time.Minute,
		wantC: cursors{Fresh: at(115), Reconcile: at(40)}, wantW: window{at(40), at(50)}, wantRead: true,
	}, {
		name: "stops where the next gap starts",
		c:    cursors{Fresh: at(115), Reconcile: at(40), Gaps: []interval{gap(60, 90)}},
		now:  at(120), span: time.Hour,
		wantC: cursors{Fresh: at(115), Reconcile: at(40), Gaps: []interval{gap(60, 90)}}, wantW: window{at(40), at(60)}, wantRead: true,
	}, {
		name: "steps over a gap it reached",
		c:    cursors{Fresh: at(115), Reconcile: at(60), Gaps: []interval{gap(60, 90)}},
		now:  at(120), span: time.Hour,
		wantC: cursors{Fresh: at(115), Reconcile: at(90), Gaps: []interval{gap(60, 90)}}, wantW: window{at(90), at(100)}, wantRead: true,
	}, {
		name: "a span of a second and a half reads one second",
		c:    cursors{Fresh: at(115), Reconcile: at(40)},
		now:  at(120), span: 1500 * time.Millisecond,
		wantC: cursors{Fresh: at(115), Reconcile: at(40)}, wantW: window{at(40), at(40).Add(time.Second)}, wantRead: true,
	}, {
		name: "a zero span still reads one second",
		c:    cursors{Fresh: at(115), Reconcile: at(40)},
		now:  at(120), span: 0,
		wantC: cursors{Fresh: at(115), Reconcile: at(40)}, wantW: window{at(40), at(40).Add(time.Second)}, wantRead: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c, w, ok := planReconcile(tc.c, tc.now, defaultTiming, tc.span)
			if !reflect.DeepEqual(c, tc.wantC) || w != tc.wantW || ok != tc.wantRead {
				t.Errorf("planReconcile = %+v, %+v, %v; want %+v, %+v, %v", c, w, ok, tc.wantC, tc.wantW, tc.wantRead)
			}
		})
	}
}

func TestReconciledStepsOverTheGapItEndsAt(t *testing.T) {
	c := reconciled(cursors{Fresh: at(115), Reconcile: at(40), Gaps: []interval{gap(60, 90)}}, window{at(40), at(60)})
	if !c.Reconcile.Equal(at(90)) {
		t.Errorf("reconcile cursor at %s, want %s (the end of the gap it reached)", c.Reconcile, at(90))
	}
}

func TestPlanGap(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    cursors
		now  time.Time
		span time.Duration
		want window
		ok   bool
	}{
		{"no gap", cursors{}, at(120), time.Hour, window{}, false},
		{"oldest first, whole when it fits", cursors{Gaps: []interval{gap(10, 30), gap(60, 90)}}, at(200), time.Hour, window{at(10), at(30)}, true},
		{"at most one span", cursors{Gaps: []interval{gap(10, 90)}}, at(200), 20 * time.Minute, window{at(10), at(30)}, true},
		// now-settle-delay = 100: the part of a gap younger than that waits for its late rows.
		{"only the settled part", cursors{Gaps: []interval{gap(90, 115)}}, at(120), time.Hour, window{at(90), at(100)}, true},
		{"nothing settled yet", cursors{Gaps: []interval{gap(100, 115)}}, at(120), time.Hour, window{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, ok := planGap(tc.c, tc.now, defaultTiming, tc.span)
			if w != tc.want || ok != tc.ok {
				t.Errorf("planGap = %+v, %v; want %+v, %v", w, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestGapRead(t *testing.T) {
	c := cursors{Gaps: []interval{gap(10, 90), gap(100, 110)}}
	c2 := gapRead(c, window{at(10), at(30)})
	if want := []interval{gap(30, 90), gap(100, 110)}; !reflect.DeepEqual(c2.Gaps, want) {
		t.Errorf("after a partial slice: gaps %v, want %v", c2.Gaps, want)
	}
	if c.Gaps[0] != gap(10, 90) {
		t.Errorf("gapRead changed the caller's gaps: %v", c.Gaps)
	}
	c3 := gapRead(c2, window{at(30), at(90)})
	if want := []interval{gap(100, 110)}; !reflect.DeepEqual(c3.Gaps, want) {
		t.Errorf("after the last slice: gaps %v, want %v", c3.Gaps, want)
	}
	// A window that is not the oldest gap's (a stale plan) changes nothing.
	if c4 := gapRead(c3, window{at(10), at(30)}); !reflect.DeepEqual(c4.Gaps, c3.Gaps) {
		t.Errorf("a stale window moved the gaps: %v", c4.Gaps)
	}
}

func TestForgettable(t *testing.T) {
	c := cursors{Reconcile: at(100), Gaps: []interval{gap(50, 60)}}
	sec := time.Second
	for _, tc := range []struct {
		created time.Time
		want    bool
	}{
		{at(100), false},           // at the cursor: the next reconcile read starts here
		{at(100).Add(-sec), false}, // one second of slack for whole-second filters
		{at(100).Add(-2 * sec), true},
		{at(50).Add(-sec), false}, // one second before a gap: its read may return it
		{at(55), false},           // inside a gap not read yet
		{at(60), false},           // a gap read ends at its end, inclusive
		{at(60).Add(sec), true},
		{at(50).Add(-2 * sec), true},
		{at(200), false}, // ahead of every cursor
	} {
		if got := forgettable(c, tc.created); got != tc.want {
			t.Errorf("forgettable(%s) = %v, want %v", tc.created.Sub(t0), got, tc.want)
		}
	}
}

func TestBacklog(t *testing.T) {
	now := at(120) // target = 120 - 5 - 15 - 5 = 95
	for _, tc := range []struct {
		name string
		c    cursors
		want time.Duration
	}{
		{"steady state", cursors{Fresh: at(115), Reconcile: at(95)}, 0},
		{"reconcile cursor ahead of its slack", cursors{Fresh: at(115), Reconcile: at(99)}, 0},
		{"reconcile cursor behind", cursors{Fresh: at(115), Reconcile: at(85)}, 10 * time.Minute},
		// Gap 30m; cursor at 40: 55m behind, of which 30m are the gap (not counted twice).
		{"gap and cursor behind", cursors{Fresh: at(115), Reconcile: at(40), Gaps: []interval{gap(50, 80)}}, 55 * time.Minute},
		{"gap behind the cursor", cursors{Fresh: at(115), Reconcile: at(95), Gaps: []interval{gap(10, 40)}}, 30 * time.Minute},
	} {
		if got := backlog(tc.c, now, defaultTiming); got != tc.want {
			t.Errorf("%s: backlog = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNextSpan(t *testing.T) {
	for _, tc := range []struct {
		span, ceiling           time.Duration
		complete, failed, quick bool
		want, wantCeiling       time.Duration
	}{
		{time.Hour, 0, false, false, false, 30 * time.Minute, time.Hour}, // cut by the time box: the ceiling is the cut span
		{time.Hour, 0, false, true, false, 30 * time.Minute, 0},          // malformed page: narrow it down, no ceiling (not about time)
		{time.Hour, 0, true, false, true, 2 * time.Hour, 0},              // finished early
		{time.Hour, 0, true, false, false, time.Hour, 0},                 // finished, used most of the box
		{minSpan, 0, false, false, false, minSpan, minSpan},
		// Windows are whole seconds: 1m15s halves to 37s, not 37.5s.
		{75 * time.Second, 0, false, false, false, 37 * time.Second, 75 * time.Second},
		{1500 * time.Millisecond, 0, true, false, true, 2 * time.Second, 0},
		{maxSpan, 0, true, false, true, maxSpan, 0},
		// Under a ceiling: a quick read grows the span only while it stays below the span the box
		// cut; a cut lowers the ceiling; a plain or failed read keeps it.
		{15 * time.Minute, 30 * time.Minute, true, false, true, 15 * time.Minute, 30 * time.Minute},
		{15 * time.Minute, 31 * time.Minute, true, false, true, 30 * time.Minute, 31 * time.Minute},
		{15 * time.Minute, 30 * time.Minute, false, false, false, 7*time.Minute + 30*time.Second, 15 * time.Minute},
		{15 * time.Minute, 30 * time.Minute, true, false, false, 15 * time.Minute, 30 * time.Minute},
		{15 * time.Minute, 30 * time.Minute, false, true, false, 7*time.Minute + 30*time.Second, 30 * time.Minute},
	} {
		got, gotCeiling := nextSpan(tc.span, tc.ceiling, tc.complete, tc.failed, tc.quick)
		if got != tc.want || gotCeiling != tc.wantCeiling {
			t.Errorf("nextSpan(%v, ceiling %v, complete=%v, failed=%v, quick=%v) = %v, ceiling %v; want %v, ceiling %v",
				tc.span, tc.ceiling, tc.complete, tc.failed, tc.quick, got, gotCeiling, tc.want, tc.wantCeiling)
		}
	}
}
