package detect

import (
	"fmt"
	"testing"
	"time"
)

// Defaults: a user_blocked row joins a fraud episode when it comes less than 1h after the
// report or the episode's previous block; a fraud episode is concluded when the final time
// reaches max(1h, 5m) = 1h after its last row.
func TestFraud(t *testing.T) {
	m := time.Minute
	open1 := [3]kindCounts{1: {started: 1, open: 1, usersOpen: 1}}
	report := epSummary{kind: KindFraud, outcome: OutcomeOpen, rows: 1, firstRow: "f", user: alice}
	with := func(e epSummary, f func(*epSummary)) epSummary { f(&e); return e }
	tests := []struct {
		name   string
		steps  []step
		counts [3]kindCounts
		eps    []epSummary
		// orderMatters marks the one documented case where reading order changes the result.
		orderMatters bool
	}{
		{
			name:   "a fraud report is an episode",
			steps:  []step{{now: m, rows: []Event{fraudReport(alice, "f", 0)}}},
			counts: open1,
			eps:    []epSummary{report},
		},
		{
			// 69m is 59m after the block at 10m: the window runs from the episode's last row.
			name: "the user_blocked denials that follow belong to it",
			steps: []step{
				{now: m, rows: []Event{fraudReport(alice, "f", 0)}},
				{now: 11 * m, rows: []Event{blocked(alice, "b1", 10*m)}},
				{now: 70 * m, rows: []Event{blocked(alice, "b2", 69*m)}}},
			counts: open1,
			eps:    []epSummary{with(report, func(e *epSummary) { e.last, e.rows = 69*m, 3 })},
		},
		{
			name:   "a block 59m59s after the report joins it",
			steps:  []step{{now: m, rows: []Event{fraudReport(alice, "f", 0)}}, {now: 61 * m, rows: []Event{blocked(alice, "b", 59*m+59*time.Second)}}},
			counts: open1,
			eps:    []epSummary{with(report, func(e *epSummary) { e.last, e.rows = 59*m+59*time.Second, 2 })},
		},
		{
			name:   "a block exactly an hour after the report does not",
			steps:  []step{{now: m, rows: []Event{fraudReport(alice, "f", 0)}}, {now: 61 * m, rows: []Event{blocked(alice, "b", 60*m)}}},
			counts: open1,
			eps:    []epSummary{report},
		},
		{
			name:   "a block before the report does not belong to it",
			steps:  []step{{now: 20 * m, rows: []Event{blocked(alice, "b", 0), fraudReport(alice, "f", 10*m)}}},
			counts: open1,
			eps:    []epSummary{with(report, func(e *epSummary) { e.first, e.last = 10*m, 10*m })},
		},
		{
			name:   "a block with no report before it is an administrator's block, no episode",
			steps:  []step{{now: m, rows: []Event{blocked(alice, "b", 0)}}},
			counts: [3]kindCounts{},
		},
		{
			name:   "another user's block does not join the report",
			steps:  []step{{now: 20 * m, rows: []Event{fraudReport(alice, "f", 0), blocked(bob, "b", 10*m)}}},
			counts: open1,
			eps:    []epSummary{report},
		},
		{
			name:   "a report read after the block it precedes takes the block",
			steps:  []step{{now: 15 * m, rows: []Event{blocked(alice, "b", 10*m)}}, {now: 20 * m, rows: []Event{fraudReport(alice, "f", 5*m)}}},
			counts: open1,
			eps:    []epSummary{with(report, func(e *epSummary) { e.first, e.last, e.rows = 5*m, 10*m, 2 })},
		},
		{
			// Read in time order. A block read before a report that precedes it stays with the
			// earlier report it joined: an episode never gives rows away (see the package doc).
			name:         "each report is an episode and a block joins the latest report before it",
			orderMatters: true,
			steps: []step{{now: 20 * m, rows: []Event{
				fraudReport(alice, "f", 0), fraudReport(alice, "g", 10*m), blocked(alice, "b", 15*m)}}},
			counts: [3]kindCounts{1: {started: 2, open: 2, usersOpen: 1}},
			eps: []epSummary{report,
				{kind: KindFraud, outcome: OutcomeOpen, first: 10 * m, last: 15 * m, rows: 2, firstRow: "g", user: alice}},
		},
		{
			name:   "still open while final is 59m59s past its last row",
			steps:  []step{{now: m, rows: []Event{fraudReport(alice, "f", 0)}}, finalAt(60*m - time.Second)},
			counts: open1,
			eps:    []epSummary{report},
		},
		{
			name:   "concluded denied when final is an hour past its last row",
			steps:  []step{{now: m, rows: []Event{fraudReport(alice, "f", 0)}}, finalAt(60 * m)},
			counts: [3]kindCounts{1: {started: 1, denied: 1}},
			eps:    []epSummary{with(report, func(e *epSummary) { e.outcome, e.final = OutcomeDenied, true })},
		},
		{
			name:   "a success within five minutes of the report ends it in success",
			steps:  []step{{now: 10 * m, rows: []Event{fraudReport(alice, "f", 0), success(alice, "s", 4*m)}}},
			counts: [3]kindCounts{1: {started: 1, success: 1}},
			eps:    []epSummary{with(report, func(e *epSummary) { e.outcome, e.successRow = OutcomeSuccess, "s" })},
		},
		{
			name:   "a report fed twice is one episode",
			steps:  []step{{now: m, rows: []Event{fraudReport(alice, "f", 0)}}, {now: 2 * m, rows: []Event{fraudReport(alice, "f", 0)}}},
			counts: open1,
			eps:    []epSummary{report},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkCase(t, tc.steps, tc.counts, tc.eps, !tc.orderMatters)
		})
	}
}

// oathRows makes n failed OATH steps every `every` from start; session(i) names row i's session.
func oathRows(user, prefix string, n int, start, every time.Duration, session func(i int) string) []Event {
	out := make([]Event, n)
	for i := range out {
		out[i] = oathFail(user, fmt.Sprintf("%s-%02d", prefix, i), session(i), start+time.Duration(i)*every)
	}
	return out
}

func pairs(i int) string { return fmt.Sprintf("session-%d", i/2) } // rows 0,1 -> 0; 2,3 -> 1; ...

// Defaults: at least 20 failed OATH steps across at least 10 sessions within 9m; an OATH
// episode takes rows less than 9m apart and is concluded when final reaches 9m after its last.
func TestOATHGuessing(t *testing.T) {
	s, m := time.Second, time.Minute
	openOne := [3]kindCounts{2: {started: 1, open: 1, usersOpen: 1}}
	// 20 failures every 20s (0 to 380s), two per session: 10 sessions.
	guess := oathRows(alice, "o", 20, 0, 20*s, pairs)
	open := epSummary{kind: KindOATH, outcome: OutcomeOpen, last: 380 * s, rows: 20, firstRow: "o-00", user: alice}
	with := func(e epSummary, f func(*epSummary)) epSummary { f(&e); return e }
	tests := []struct {
		name   string
		steps  []step
		counts [3]kindCounts
		eps    []epSummary
		// orderMatters marks the one documented case where reading order changes the result.
		orderMatters bool
	}{
		{
			name:   "twenty failures across ten sessions within nine minutes",
			steps:  []step{{now: 10 * m, rows: guess}},
			counts: openOne,
			eps:    []epSummary{open},
		},
		{
			name:   "twenty failures across nine sessions",
			steps:  []step{{now: 10 * m, rows: oathRows(alice, "o", 20, 0, 20*s, func(i int) string { return fmt.Sprint(i % 9) })}},
			counts: [3]kindCounts{},
		},
		{
			name:   "nineteen failures across ten sessions",
			steps:  []step{{now: 10 * m, rows: oathRows(alice, "o", 19, 0, 20*s, func(i int) string { return fmt.Sprint(i % 10) })}},
			counts: [3]kindCounts{},
		},
		{
			// Row i at i*540s/19: the last is exactly 9m after the first, so the window ending
			// there, (0, 540s], holds 19 rows.
			name: "twenty failures whose first and last are exactly nine minutes apart",
			steps: []step{{now: 10 * m, rows: series(20, "o", 0, 0, func(id string, _ time.Duration) Event {
				var i int
				fmt.Sscanf(id, "o-%d", &i)
				return oathFail(alice, id, fmt.Sprint(i%10), time.Duration(i)*540*s/19)
			})}},
			counts: [3]kindCounts{},
		},
		{
			name:   "twenty failures within 8m59s",
			steps:  []step{{now: 10 * m, rows: oathRows(alice, "o", 20, 0, 539*s/19, func(i int) string { return fmt.Sprint(i % 10) })}},
			counts: openOne,
			eps:    []epSummary{with(open, func(e *epSummary) { e.last = 19 * (539 * s / 19) })},
		},
		{
			name: "wrong codes sent by text message are not OATH guessing",
			steps: []step{{now: 10 * m, rows: series(20, "t", 0, 20*s, func(id string, off time.Duration) Event {
				return row(alice, id, off, "denied", "text_message", "incorrect_code")
			})}},
			counts: [3]kindCounts{},
		},
		{
			// Rows 0-8 in nine sessions, rows 9-19 with no correlation id: nine sessions.
			name: "rows without a correlation id are no session",
			steps: []step{{now: 10 * m, rows: oathRows(alice, "o", 20, 0, 20*s, func(i int) string {
				if i < 9 {
					return fmt.Sprint(i)
				}
				return ""
			})}},
			counts: [3]kindCounts{},
		},
		{
			// Elastic counts every failed OATH step, whatever the reason.
			name: "failures for any reason count when the method is the OATH code",
			steps: []step{{now: 10 * m, rows: series(20, "o", 0, 20*s, func(id string, off time.Duration) Event {
				reasons := []string{"incorrect_code", "verification_code_already_used", "incorrect_code_too_many_times", "invalid_mobile_app_verification_code"}
				var i int
				fmt.Sscanf(id, "o-%d", &i)
				e := row(alice, id, off, "denied", "oath_verification_code", reasons[i%4])
				e.CorrelationID = pairs(i)
				return e
			})}},
			counts: openOne,
			eps:    []epSummary{open},
		},
		{
			name: "a guessed code ends the episode in success",
			steps: []step{{now: 10 * m, rows: cat(guess, []Event{
				row(alice, "s", 400*s, "satisfied", "oath_verification_code", "successfully_completed")})}},
			counts: [3]kindCounts{2: {started: 1, success: 1}},
			eps:    []epSummary{with(open, func(e *epSummary) { e.outcome, e.successRow = OutcomeSuccess, "s" })},
		},
		{
			// Second round at 380s + 9m = 920s: exactly the gap, so a new episode.
			name:   "two rounds nine minutes apart are two episodes",
			steps:  []step{{now: 20 * m, rows: cat(guess, oathRows(alice, "p", 20, 920*s, 20*s, pairs))}},
			counts: [3]kindCounts{2: {started: 2, open: 2, usersOpen: 1}},
			eps: []epSummary{open,
				{kind: KindOATH, outcome: OutcomeOpen, first: 920 * s, last: 1300 * s, rows: 20, firstRow: "p-00", user: alice}},
		},
		{
			name:   "more failures within nine minutes of the last join the episode",
			steps:  []step{{now: 20 * m, rows: cat(guess, oathRows(alice, "p", 3, 919*s, 500*s, pairs))}},
			counts: openOne,
			eps:    []epSummary{with(open, func(e *epSummary) { e.last, e.rows = 1919*s, 23 })},
		},
		{
			name:   "concluded denied when final is nine minutes past its last row",
			steps:  []step{{now: 10 * m, rows: guess}, finalAt(380*s + 9*m - s), finalAt(380*s + 9*m)},
			counts: [3]kindCounts{2: {started: 1, denied: 1}},
			eps:    []epSummary{with(open, func(e *epSummary) { e.outcome, e.final = OutcomeDenied, true })},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkCase(t, tc.steps, tc.counts, tc.eps, !tc.orderMatters)
		})
	}
}
