package collector

import (
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
)

// The counting of one row, as pure functions: what ingest does with a fetched row (admit), and
// which durable series a counted row adds one to (rowSeries). ingest applies them to the
// source's state; signins_test.go checks them by table, without Graph or a clock.

// admission is what ingest does with one fetched row.
type admission int

const (
	admitCount     admission = iota // new row of the window: counted and its id remembered
	admitMalformed                  // no id: it cannot be deduplicated, so it is never counted
	admitBefore                     // created before the window: the read that holds it counts it
	admitAfter                      // created after the window's upper bound (Graph ignored it)
	admitDuplicate                  // id already counted (overlapping windows, a re-read page)
)

// admit decides a row's fate from its id and time, the window that fetched it and the ids
// counted so far. The checks run in that order: a row outside the window is not counted even when
// its id is new, and an id seen before is not counted again even when the row moved in time.
func admit(id string, created time.Time, w window, seen map[string]int64) admission {
	switch {
	case id == "":
		return admitMalformed
	case !w.holds(created):
		if w.after(created) {
			return admitAfter
		}
		return admitBefore
	}
	if _, dup := seen[id]; dup {
		return admitDuplicate
	}
	return admitCount
}

// lateRow reports whether a counted row arrived late: the reconcile pass read it, so the fresh
// read of its time range did not see it. Rows of a gap (first start, downtime) were never read
// by a fresh pass and are not late, whichever pass counts them.
func lateRow(pass string, cur cursors, created time.Time) bool {
	return pass == passReconcile && !cur.inGap(created)
}

// rowIncrements lists the durable series one counted row adds one to: its sign-in series, its
// client-app series and, when the row is an MFA attempt, its attempt series. Fixed size, so
// counting a row allocates nothing.
type rowIncrements struct {
	ids [3]counterID
	n   int
}

func (r *rowIncrements) add(f *durableFamily, values ...string) {
	id := counterID{f: f}
	copy(id.v[:], values)
	r.ids[r.n] = id
	r.n++
}

// series returns the increments, in the order above.
func (r *rowIncrements) series() []counterID { return r.ids[:r.n] }

// rowSeries maps a classified row to the series it counts in. Label values are in each family's
// order (metricdef/specs.go), without the tenant, which the tenant's counter set carries.
func rowSeries(r *graph.SignIn, c mfa.Classification) rowIncrements {
	var out rowIncrements
	out.add(familySignIns, eventType(r), c.Requirement, c.Result, c.Outcome, c.ErrorCode)
	out.add(familySignInsByClient, mfa.ClientApp(r.ClientAppUsed), c.Requirement, c.Outcome)
	if mfa.IsAttempt(c) {
		out.add(familyMFAAttempts, c.Method, c.Outcome, c.Reason, c.ResultCode, c.Component)
	}
	return out
}
