package collector

import (
	"slices"
	"time"
)

// This file is the pure half of sign-in ingestion: which time windows to read, and what a
// completed read lets the cursors forget. It does no I/O and reads no clock, so every rule is
// table-tested in cursor_test.go. signins.go does the reading and counting.
//
// The contract it relies on (docs/architecture.md lists the sources):
//   - Graph filters createdDateTime with ge and le (both inclusive, whole seconds) and documents
//     nothing about the order of the rows within a query;
//   - a row may become visible long after its createdDateTime (late rows);
//   - a row may come back in several reads (windows overlap by one second, pages are re-read
//     after a fault, Graph returns a row twice): ids make every read idempotent.
// So a cursor moves past a time only when a read of the whole window up to that time has
// completed; progress inside a window is durable only as remembered ids.

// window is a time range [From, To] as the Graph filter `createdDateTime ge From and
// createdDateTime le To` reads it: whole seconds, both ends inclusive.
type window struct {
	From, To time.Time
}

// holds reports whether a row created at c belongs to the window. Rows up to one second after To
// are accepted: Graph does not document whether it compares sub-second row times with a
// whole-second bound, and the next window, which starts at To, would return them anyway.
func (w window) holds(c time.Time) bool {
	return !c.Before(w.From) && c.Before(w.To.Add(time.Second))
}

// after reports whether a row created at c lies beyond the window's upper bound: Graph ignored
// the bound (or its clock disagrees).
func (w window) after(c time.Time) bool { return !c.Before(w.To.Add(time.Second)) }

// cursors is the position of a tenant's sign-in ingestion.
type cursors struct {
	// Fresh: every row created before Fresh, outside Gaps, was read at least once.
	Fresh time.Time
	// Reconcile: every row created before Reconcile, outside Gaps, is final (read a second time
	// at least reconcile_delay after it settled), counted or missed for good.
	Reconcile time.Time
	// Gaps are ranges [From, To) skipped by the fresh cursor when it jumped; they are older than
	// the settle and reconcile delays, so one complete read finalises them. Sorted, disjoint.
	Gaps []interval
	// Forgotten is the newest createdDateTime of a row whose id was forgotten. No read may start
	// at or before it again, or that row would be counted twice.
	Forgotten time.Time
}

// timing is the part of the sign-in settings the planning uses.
type timing struct {
	settle, reconcileDelay, reconcileInterval, pollInterval, lookback time.Duration
}

// Span limits of one read. A read covers at most one span of time, so a backlog is read in slices
// small enough to finish inside a poll's time box; the span shrinks when a slice does not finish
// and grows back when slices finish early.
const (
	initialSpan = time.Hour
	minSpan     = time.Second
	maxSpan     = 24 * time.Hour
)

// freshPlan is the outcome of planning a fresh read.
type freshPlan struct {
	next    cursors
	read    window
	ok      bool      // read is to be done
	started bool      // the cursors were empty: started at now minus the look-back
	clamped bool      // the cursors lay in the future and were brought back
	stepped bool      // the clock guard held the window back
	gap     *interval // the range added to Gaps by a jump, if any
	heldTo  time.Time // with stepped: the end the window wanted
}

// planFresh decides the fresh read at now: [Fresh, now-settle]. guardTo, when not zero, is the
// furthest the window may end (the wall clock stepped further forward than the monotonic clock
// moved). It starts empty cursors at the look-back, brings cursors that lie in the future back,
// and jumps over a backlog so the freshest rows are read at once (the skipped range becomes a gap
// for the gap pass).
func planFresh(c cursors, now time.Time, t timing, guardTo time.Time) freshPlan {
	p := freshPlan{next: c}
	n := &p.next
	n.Gaps = slices.Clone(c.Gaps)
	to := now.Add(-t.settle).Truncate(time.Second)
	if n.Fresh.IsZero() {
		start := now.Add(-t.lookback).Truncate(time.Second)
		n.Fresh, n.Reconcile = start, start
		p.started = true
	}
	// Cursors in the future (a clock that was ahead when they were committed, a state file from
	// another machine) would make every poll succeed without reading anything until the clock
	// caught up, and the rows of that time would never be read. One poll interval of tolerance
	// absorbs small steps back of the clock, which only delay one read.
	if n.Fresh.After(to.Add(t.pollInterval)) {
		clampFuture(n, now, t.lookback)
		p.clamped = true
	}
	if !guardTo.IsZero() && to.After(guardTo) {
		p.stepped, p.heldTo = true, to
		to = guardTo
	}
	// Far behind: read the freshest rows now; the gap pass reads the rest once.
	if jumpTo := to.Add(-t.reconcileDelay).Truncate(time.Second); jumpTo.Sub(n.Fresh) > t.pollInterval {
		g := interval{From: n.Fresh, To: jumpTo}
		n.Gaps = addGap(n.Gaps, g)
		p.gap = &g
		n.Fresh = jumpTo
		// Rows between the reconcile cursor and the old fresh cursor were read once and are now
		// older than the reconcile horizon: the main reconcile pass reads them once more, then
		// steps over the gap.
	}
	if to.After(n.Fresh) {
		p.read, p.ok = window{From: n.Fresh, To: to}, true
	}
	return p
}

// clampFuture restarts cursors that lie in the future from the look-back, or from just after the
// newest forgotten row if that is later. Every row created after that point was either counted
// and is still remembered, or not counted yet, so reading from there again (the jump in planFresh
// makes it a gap, read once) counts each row exactly once.
func clampFuture(n *cursors, now time.Time, lookback time.Duration) {
	start := now.Add(-lookback).Truncate(time.Second)
	if !n.Forgotten.IsZero() {
		start = latest(start, n.Forgotten.Truncate(time.Second).Add(time.Second))
	}
	n.Fresh, n.Reconcile, n.Gaps = start, start, nil
}

// addGap appends g, merging it with the last gap when they touch (an outage makes every failed
// poll jump again).
func addGap(gaps []interval, g interval) []interval {
	if n := len(gaps); n > 0 && !gaps[n-1].To.Before(g.From) {
		gaps[n-1].To = latest(gaps[n-1].To, g.To)
		return gaps
	}
	return append(gaps, g)
}

// planReconcile decides the main reconcile read at now: from the reconcile cursor to
// now-settle-reconcile_delay (never past the fresh cursor), when at least reconcile_interval is
// due, at most span long, and ending at the next gap (which the gap pass reads). It first steps
// the cursor over a gap it has reached.
func planReconcile(c cursors, now time.Time, t timing, span time.Duration) (cursors, window, bool) {
	c = stepOverGaps(c)
	target := earliest(now.Add(-t.settle-t.reconcileDelay).Truncate(time.Second), c.Fresh)
	if target.Sub(c.Reconcile) < t.reconcileInterval {
		return c, window{}, false
	}
	end := earliest(target, c.Reconcile.Add(wholeSpan(span)))
	for _, g := range c.Gaps {
		if g.From.After(c.Reconcile) {
			end = earliest(end, g.From)
			break
		}
	}
	return c, window{From: c.Reconcile, To: end}, true
}

// stepOverGaps moves the reconcile cursor to the end of a gap that starts at or before it.
func stepOverGaps(c cursors) cursors {
	for _, g := range c.Gaps {
		if !g.From.After(c.Reconcile) && g.To.After(c.Reconcile) {
			c.Reconcile = g.To
		}
	}
	return c
}

// reconciled moves the reconcile cursor to the end of a completed main reconcile read.
func reconciled(c cursors, w window) cursors {
	if w.To.After(c.Reconcile) {
		c.Reconcile = w.To
	}
	return stepOverGaps(c)
}

// planGap decides the next backlog read: the oldest gap first (its rows are the closest to leaving
// Graph's retention), at most span long, and only the part older than the settle and reconcile
// delays (a gap is read once, so its rows must have had time to arrive).
func planGap(c cursors, now time.Time, t timing, span time.Duration) (window, bool) {
	if len(c.Gaps) == 0 {
		return window{}, false
	}
	g := c.Gaps[0]
	horizon := now.Add(-t.settle - t.reconcileDelay).Truncate(time.Second)
	end := earliest(g.To, g.From.Add(wholeSpan(span)), horizon)
	if !end.After(g.From) {
		return window{}, false
	}
	return window{From: g.From, To: end}, true
}

// gapRead shrinks the oldest gap after a completed read of w (from planGap).
func gapRead(c cursors, w window) cursors {
	if len(c.Gaps) == 0 || !c.Gaps[0].From.Equal(w.From) {
		return c
	}
	c.Gaps = slices.Clone(c.Gaps)
	if !w.To.Before(c.Gaps[0].To) {
		c.Gaps = c.Gaps[1:]
	} else {
		// The next read starts at w.To again (inclusive bounds): ids of rows created at w.To are
		// kept (see forgettable), so the overlap counts nothing twice.
		c.Gaps[0].From = w.To
	}
	return c
}

// forgettable reports whether the id of a row created at created can be forgotten: no read can
// return it any more. The main reconcile read starts at the reconcile cursor and a gap read at the
// gap's start; one second of slack on each side covers whole-second filters.
func forgettable(c cursors, created time.Time) bool {
	if !created.Before(c.Reconcile.Add(-time.Second)) {
		return false
	}
	for _, g := range c.Gaps {
		if !created.Before(g.From.Add(-time.Second)) && created.Before(g.To.Add(time.Second)) {
			return false
		}
	}
	return true
}

// inGap reports whether t lies in one of the gaps (rows there were never read before the gap pass).
func (c cursors) inGap(t time.Time) bool {
	for _, g := range c.Gaps {
		if !t.Before(g.From) && t.Before(g.To) {
			return true
		}
	}
	return false
}

// backlog is the time still to be read beyond the normal slack: the gaps, plus how far the
// reconcile cursor is behind now-settle-reconcile_delay-reconcile_interval.
func backlog(c cursors, now time.Time, t timing) time.Duration {
	var d time.Duration
	for _, g := range c.Gaps {
		d += g.To.Sub(g.From)
	}
	target := now.Add(-t.settle - t.reconcileDelay - t.reconcileInterval)
	behind := target.Sub(c.Reconcile)
	for _, g := range c.Gaps { // gap time is already counted above
		lo, hi := latest(g.From, c.Reconcile), earliest(g.To, target)
		if hi.After(lo) {
			behind -= hi.Sub(lo)
		}
	}
	return d + max(0, behind)
}

// wholeSpan rounds a span down to whole seconds, at least one: window bounds are whole seconds,
// as the Graph filter reads them, or a window's own check of its rows would disagree with the
// filter that fetched them.
func wholeSpan(span time.Duration) time.Duration {
	return max(span.Truncate(time.Second), minSpan)
}

// nextSpan adapts a pass's span after a read: halved when the read did not finish in its time
// box or failed on a malformed page (which also isolates a poison range), doubled when it
// finished using less than a third of the time it had. ceiling (0: none) is the shortest span
// the time box cut since the pass last caught up: a quick read does not grow the span back to
// it. (A read is quick when the budget had gathered, not only when its pages were few: without
// the ceiling, the span would swing between a length that finishes and one the box cuts, and
// every cut slice's pages would be read again.) It returns the new span and ceiling.
func nextSpan(span, ceiling time.Duration, complete, failed, quick bool) (time.Duration, time.Duration) {
	switch {
	case failed:
		return wholeSpan(span / 2), ceiling
	case !complete:
		return wholeSpan(span / 2), wholeSpan(span)
	case quick:
		grown := min(wholeSpan(span)*2, maxSpan)
		if ceiling > 0 && grown >= ceiling {
			return wholeSpan(span), ceiling
		}
		return grown, ceiling
	}
	return wholeSpan(span), ceiling
}

func earliest(t time.Time, more ...time.Time) time.Time {
	for _, u := range more {
		if u.Before(t) {
			t = u
		}
	}
	return t
}

func latest(t time.Time, more ...time.Time) time.Time {
	for _, u := range more {
		if u.After(t) {
			t = u
		}
	}
	return t
}
