package collector

import (
	"testing"
	"time"
)

// The distinct-user windows expire: a user counts in a window only while their latest challenge
// (or failure) lies inside it, and is forgotten once outside the longest window.
//
// Users (times before t0 = 12:00): a challenged at 11:30 (inside 1h and 24h), b challenged and
// failed at 10:00 (outside 1h, inside 24h), c failed only at 11:50 (a failure is a challenge
// too, see challenged(), but the tracker takes what it is told: failed only), d challenged
// yesterday 13:00 (inside 24h), e challenged 2 days ago (outside both), f seen twice, latest 11:59.
func TestUserWindowsExpire(t *testing.T) {
	t0 := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	u := newUserTracker([]time.Duration{time.Hour, 24 * time.Hour}, usersState{})
	u.observe("a", t0.Add(-30*time.Minute), true, false)
	u.observe("b", t0.Add(-2*time.Hour), true, true)
	u.observe("c", t0.Add(-10*time.Minute), false, true)
	u.observe("d", t0.Add(-23*time.Hour), true, false)
	u.observe("e", t0.Add(-48*time.Hour), true, false)
	u.observe("f", t0.Add(-3*time.Hour), true, false)
	u.observe("f", t0.Add(-time.Minute), true, false)
	u.observe("", t0, true, true)                        // no user id: not tracked
	u.observe("g", t0, false, false)                     // neither challenged nor failed: not tracked
	u.observe("a", t0.Add(-50*time.Minute), true, false) // older than a's latest: changes nothing

	check := func(now time.Time, want1h, want24h windowCount, tracked int) {
		t.Helper()
		got := u.counts(now)
		if got[0].challenged != want1h.challenged || got[0].failed != want1h.failed ||
			got[1].challenged != want24h.challenged || got[1].failed != want24h.failed {
			t.Errorf("at %s: counts %+v, want 1h %+v and 24h %+v", now.Format(time.Kitchen), got, want1h, want24h)
		}
		if n := u.size(); n != tracked {
			t.Errorf("at %s: %d users tracked, want %d", now.Format(time.Kitchen), n, tracked)
		}
	}
	// At 12:00: 1h holds a, f (challenged) and c (failed); 24h adds b (both) and d.
	// e is tracked until pruned.
	check(t0, windowCount{challenged: 2, failed: 1}, windowCount{challenged: 4, failed: 2}, 6)
	u.prune(t0)
	check(t0, windowCount{challenged: 2, failed: 1}, windowCount{challenged: 4, failed: 2}, 5) // e pruned
	// At 12:45: a (11:30) has left the hour; f (11:59) and c (11:50) are still in it.
	check(t0.Add(45*time.Minute), windowCount{challenged: 1, failed: 1}, windowCount{challenged: 4, failed: 2}, 5)
	// At 11:00 the next day the 24h window starts at 11:00 today: d (yesterday 13:00) and b (10:00)
	// are out of it; a (11:30), c (11:50) and f (11:59) are still inside.
	next := t0.Add(23 * time.Hour)
	check(next, windowCount{}, windowCount{challenged: 2, failed: 1}, 5)
	u.prune(next)
	check(next, windowCount{}, windowCount{challenged: 2, failed: 1}, 3)
	// Two days later nothing is left.
	later := t0.Add(72 * time.Hour)
	u.prune(later)
	check(later, windowCount{}, windowCount{}, 0)
}

// The tracker survives a restart through its exported form, salt included: the same user read
// again after the restart is the same key.
func TestUserTrackerExportRestore(t *testing.T) {
	t0 := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	u := newUserTracker([]time.Duration{time.Hour}, usersState{})
	u.observe("a", t0.Add(-10*time.Minute), true, false)
	r := newUserTracker([]time.Duration{time.Hour}, u.export())
	r.observe("a", t0.Add(-5*time.Minute), true, true)
	if got := r.counts(t0); got[0].challenged != 1 || got[0].failed != 1 || r.size() != 1 {
		t.Errorf("after restore: %+v, %d tracked; want 1 challenged, 1 failed, 1 tracked", got, r.size())
	}
}
