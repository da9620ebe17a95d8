package detect

import (
	"testing"
	"time"
)

// Defaults used by the expectations below: rule 1 more than 10 push failures within 5m, rule 2
// more than 9 declines within 10m, a burst goes on while rows come less than 5m apart, success
// within 5m of the last row, so a fatigue episode is concluded when the final time reaches 5m
// after its last row. Steps read with final = now - 20m unless finalAt says otherwise.
func TestFatigue(t *testing.T) {
	s := time.Second
	var zero [3]kindCounts
	openOne := [3]kindCounts{{started: 1, open: 1, usersOpen: 1}}
	successOne := [3]kindCounts{{started: 1, success: 1}}
	deniedOne := [3]kindCounts{{started: 1, denied: 1}}
	burst := noResponses(alice, "n", 11, 0, 20*s) // 11 rows at 0, 20s, ..., 200s
	// The burst's episode as long as it is open: 11 rows from 0 to 200s.
	open := epSummary{kind: KindFatigue, outcome: OutcomeOpen, first: 0, last: 200 * s, rows: 11, firstRow: "n-00", user: alice}
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
			name:   "ten unanswered pushes within five minutes are not more than ten",
			steps:  []step{{now: 10 * time.Minute, rows: noResponses(alice, "n", 10, 0, 20*s)}},
			counts: zero,
		},
		{
			name:   "eleven unanswered pushes within five minutes start one episode",
			steps:  []step{{now: 10 * time.Minute, rows: burst}},
			counts: openOne,
			eps:    []epSummary{open},
		},
		{
			// Last row at 200s; concluded when final reaches 200s + 5m.
			name:   "one second before the conclusion the episode is still open",
			steps:  []step{{now: 10 * time.Minute, rows: burst}, finalAt(500*s - s)},
			counts: openOne,
			eps:    []epSummary{open},
		},
		{
			name:   "concluded denied when final is five minutes past its last row",
			steps:  []step{{now: 10 * time.Minute, rows: burst}, finalAt(500 * s)},
			counts: deniedOne,
			eps:    []epSummary{with(open, func(e *epSummary) { e.outcome, e.final = OutcomeDenied, true })},
		},
		{
			// Rows every 30s from 0 to 300s: the window ending at 300s is (0s, 300s], ten rows.
			name:   "eleven rows whose first and last are exactly five minutes apart",
			steps:  []step{{now: 10 * time.Minute, rows: noResponses(alice, "n", 11, 0, 30*s)}},
			counts: zero,
		},
		{
			// Every 29.9s: the last row is at 299s, all eleven are in (-1s, 299s].
			name:   "eleven rows within 299 seconds",
			steps:  []step{{now: 10 * time.Minute, rows: noResponses(alice, "n", 11, 0, 29900*time.Millisecond)}},
			counts: openOne,
			eps:    []epSummary{with(open, func(e *epSummary) { e.last = 299 * s })},
		},
		{
			// Declines every 60s from 0 to 540s. Rule 1: a 5m window holds at most 5 of them.
			// Rule 2: (-60s, 540s] holds 10, more than 9.
			name:   "ten declines within ten minutes start an episode by the second rule",
			steps:  []step{{now: 10 * time.Minute, rows: declines(alice, "d", 10, 0, time.Minute)}},
			counts: openOne,
			eps:    []epSummary{{kind: KindFatigue, outcome: OutcomeOpen, last: 540 * s, rows: 10, firstRow: "d-00", user: alice}},
		},
		{
			name:   "nine declines within ten minutes are not more than nine",
			steps:  []step{{now: 10 * time.Minute, rows: declines(alice, "d", 9, 0, time.Minute)}},
			counts: zero,
		},
		{
			// Unanswered pushes do not count toward rule 2: ten of them every 60s is nothing.
			name:   "ten unanswered pushes within ten minutes are not declines",
			steps:  []step{{now: 10 * time.Minute, rows: noResponses(alice, "n", 10, 0, time.Minute)}},
			counts: zero,
		},
		{
			// Declines at 0, 60s, ..., 540s and unanswered pushes at 30s, 90s, ..., 270s: no 5m
			// window holds more than 10 (at most 5 + 5), rule 2 fires at 540s and its window
			// (-60s, 540s] holds all 15 push failures, which all belong to the episode.
			name: "the second rule's episode takes the unanswered pushes of its window",
			steps: []step{{now: 10 * time.Minute, rows: cat(
				declines(alice, "d", 10, 0, time.Minute),
				noResponses(alice, "n", 5, 30*s, time.Minute))}},
			counts: openOne,
			eps:    []epSummary{{kind: KindFatigue, outcome: OutcomeOpen, last: 540 * s, rows: 15, firstRow: "d-00", user: alice}},
		},
		{
			// Bursts of 11 at 0..200s and at 500..700s: 500s-200s is exactly the 5m gap.
			name:   "a burst split by a gap of five minutes is two episodes",
			steps:  []step{{now: 15 * time.Minute, rows: cat(burst, noResponses(alice, "m", 11, 500*s, 20*s))}},
			counts: [3]kindCounts{{started: 2, open: 2, usersOpen: 1}},
			eps: []epSummary{open,
				{kind: KindFatigue, outcome: OutcomeOpen, first: 500 * s, last: 700 * s, rows: 11, firstRow: "m-00", user: alice}},
		},
		{
			name:   "a burst split by a gap under five minutes is one episode",
			steps:  []step{{now: 15 * time.Minute, rows: cat(burst, noResponses(alice, "m", 11, 499*s, 20*s))}},
			counts: openOne,
			eps:    []epSummary{with(open, func(e *epSummary) { e.last, e.rows = 699*s, 22 })},
		},
		{
			// The gap also joins rows that would not meet a rule on their own.
			name:   "a slow tail within the gap joins the burst",
			steps:  []step{{now: 20 * time.Minute, rows: cat(burst, noResponses(alice, "m", 3, 480*s, 280*s))}},
			counts: openOne,
			eps:    []epSummary{with(open, func(e *epSummary) { e.last, e.rows = 1040*s, 14 })},
		},
		{
			// Two unanswered pushes at 100s and 350s, then 11 from 600s to 800s: the episode
			// starts with the rule's window (600s) and reaches back through 350s (250s before)
			// to 100s (250s before that).
			name: "a slow lead-in within the gap joins the burst",
			steps: []step{{now: 20 * time.Minute, rows: cat(
				[]Event{noResponse(alice, "lead-1", 100*s), noResponse(alice, "lead-2", 350*s)},
				noResponses(alice, "n", 11, 600*s, 20*s))}},
			counts: openOne,
			eps:    []epSummary{{kind: KindFatigue, outcome: OutcomeOpen, first: 100 * s, last: 800 * s, rows: 13, firstRow: "lead-1", user: alice}},
		},
		{
			name:   "forty rows in a row are one episode, not one per row",
			steps:  []step{{now: 15 * time.Minute, rows: noResponses(alice, "n", 40, 0, 20*s)}},
			counts: openOne,
			eps:    []epSummary{with(open, func(e *epSummary) { e.last, e.rows = 780*s, 40 })},
		},
		{
			name:   "a success within five minutes of the last row ends the episode in success",
			steps:  []step{{now: 10 * time.Minute, rows: cat(burst, []Event{success(alice, "s", 260*s)})}},
			counts: successOne,
			eps:    []epSummary{with(open, func(e *epSummary) { e.outcome, e.successRow = OutcomeSuccess, "s" })},
		},
		{
			// The success is final at once; the conclusion does not count it again as denied.
			name:   "an episode ended in success stays so when concluded",
			steps:  []step{{now: 10 * time.Minute, rows: cat(burst, []Event{success(alice, "s", 260*s)})}, finalAt(500 * s)},
			counts: successOne,
			eps:    []epSummary{with(open, func(e *epSummary) { e.outcome, e.successRow, e.final = OutcomeSuccess, "s", true })},
		},
		{
			name:   "a success 4m59s after the last row still counts",
			steps:  []step{{now: 10 * time.Minute, rows: cat(burst, []Event{success(alice, "s", 499*s)})}},
			counts: successOne,
			eps:    []epSummary{with(open, func(e *epSummary) { e.outcome, e.successRow = OutcomeSuccess, "s" })},
		},
		{
			name:   "a success exactly five minutes after the last row is too late",
			steps:  []step{{now: 10 * time.Minute, rows: cat(burst, []Event{success(alice, "s", 500*s)})}, finalAt(500 * s)},
			counts: deniedOne,
			eps:    []epSummary{with(open, func(e *epSummary) { e.outcome, e.final = OutcomeDenied, true })},
		},
		{
			name:   "a success before the first push failure does not count",
			steps:  []step{{now: 10 * time.Minute, rows: cat([]Event{success(alice, "s", -10*s)}, burst)}},
			counts: openOne,
			eps:    []epSummary{open},
		},
		{
			name:   "a success in the middle of the burst ends it in success",
			steps:  []step{{now: 10 * time.Minute, rows: cat(burst, []Event{success(alice, "s", 100*s)})}},
			counts: successOne,
			eps:    []epSummary{with(open, func(e *epSummary) { e.outcome, e.successRow = OutcomeSuccess, "s" })},
		},
		{
			name:   "a success read before the burst is found when the episode starts",
			steps:  []step{{now: 5 * time.Minute, rows: []Event{success(alice, "s", 260*s)}}, {now: 10 * time.Minute, rows: burst}},
			counts: successOne,
			eps:    []epSummary{with(open, func(e *epSummary) { e.outcome, e.successRow = OutcomeSuccess, "s" })},
		},
		{
			// Satisfied by a claim in the token is no new MFA: not Sentinel's "MFA successfully
			// completed".
			name: "a reused MFA claim is not a success",
			steps: []step{{now: 10 * time.Minute, rows: cat(burst, []Event{
				row(alice, "s", 260*s, "satisfied", "previously_satisfied", "claim_in_token")})}},
			counts: openOne,
			eps:    []epSummary{open},
		},
		{
			name:   "another user's success does not end the episode",
			steps:  []step{{now: 10 * time.Minute, rows: cat(burst, []Event{success(bob, "s", 260*s)})}},
			counts: openOne,
			eps:    []epSummary{open},
		},
		{
			// Row n-05 (100s) comes on the reconcile read at 21m (final 60s): the eleventh row
			// completes the episode, which starts at n-00 as if read in order.
			name: "a late row on the reconcile read completes an episode",
			steps: []step{
				{now: 10 * time.Minute, rows: cat(burst[:5], burst[6:])},
				{now: 21 * time.Minute, rows: burst[5:6]},
			},
			counts: openOne,
			eps:    []epSummary{open},
		},
		{
			// The caller promised no row before final; one that comes anyway (within the
			// horizon) joins the concluded episode's range and changes nothing.
			name: "a row behind the final time does not reopen a concluded episode",
			steps: []step{
				{now: 10 * time.Minute, rows: burst},
				finalAt(500 * s),
				{now: 500*s + lag, final: 500 * s, setFinal: true, rows: []Event{noResponse(alice, "late", 210*s)}},
			},
			counts: deniedOne,
			eps:    []epSummary{with(open, func(e *epSummary) { e.outcome, e.final = OutcomeDenied, true })},
		},
		{
			name:   "a page read twice counts its rows once",
			steps:  []step{{now: 10 * time.Minute, rows: burst}, {now: 11 * time.Minute, rows: burst}},
			counts: openOne,
			eps:    []epSummary{open},
		},
		{
			name:   "a duplicate cannot make ten rows eleven",
			steps:  []step{{now: 10 * time.Minute, rows: cat(burst[:10], burst[:1])}},
			counts: zero,
		},
		{
			name:   "a benign user with one decline",
			steps:  []step{{now: 10 * time.Minute, rows: declines(alice, "d", 1, 0, 0)}},
			counts: zero,
		},
		{
			// Alternating users: 6 rows for alice, 5 for bob, all within 200s.
			name: "eleven rows of two users are no episode",
			steps: []step{{now: 10 * time.Minute, rows: series(11, "n", 0, 20*s, func(id string, off time.Duration) Event {
				if off/(20*s)%2 == 0 {
					return noResponse(alice, id, off)
				}
				return noResponse(bob, id, off)
			})}},
			counts: zero,
		},
		{
			name:   "rows without a user id are no episode",
			steps:  []step{{now: 10 * time.Minute, rows: noResponses("", "n", 11, 0, 20*s)}},
			counts: zero,
		},
		{
			// A fraud report is a declined push too: ten unanswered and one reported make more
			// than ten; the report is also a fraud episode of its own.
			name:   "a fraud report counts toward push bombing",
			steps:  []step{{now: 10 * time.Minute, rows: cat(burst[:10], []Event{fraudReport(alice, "n-10", 200*s)})}},
			counts: [3]kindCounts{{started: 1, open: 1, usersOpen: 1}, {started: 1, open: 1, usersOpen: 1}},
			eps: []epSummary{
				{kind: KindFatigue, outcome: OutcomeOpen, last: 200 * s, rows: 11, firstRow: "n-00", user: alice},
				{kind: KindFraud, outcome: OutcomeOpen, first: 200 * s, last: 200 * s, rows: 1, firstRow: "n-10", user: alice},
			},
		},
		{
			name: "two users bombed at once are two episodes and two users",
			steps: []step{{now: 10 * time.Minute, rows: cat(burst, series(11, "b", 0, 20*s, func(id string, off time.Duration) Event {
				return noResponse(bob, id, off)
			}))}},
			counts: [3]kindCounts{{started: 2, open: 2, usersOpen: 2}},
			eps:    []epSummary{open, with(open, func(e *epSummary) { e.user, e.firstRow = bob, "b-00" })},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkCase(t, tc.steps, tc.counts, tc.eps, !tc.orderMatters)
		})
	}
}

// Slow declines for an hour: 52 declines 70s apart. A 10m window holds at most 9 of them (8
// gaps of 70s = 560s < 600s, 9 gaps = 630s), a 5m window at most 5: never an episode.
func TestFatigueSlowDeclinesStayUnderTheThreshold(t *testing.T) {
	d := newDetector(t, nil)
	rows := declines(alice, "d", 52, 0, 70*time.Second)
	// Read minute by minute, as a collector would.
	var steps []step
	for m := 1; m <= 62; m++ {
		var page []Event
		for _, r := range rows {
			if off := r.Time.Sub(t0); off >= time.Duration(m-1)*time.Minute && off < time.Duration(m)*time.Minute {
				page = append(page, r)
			}
		}
		steps = append(steps, step{now: time.Duration(m) * time.Minute, rows: page})
	}
	snap := run(d, steps...)
	checkSnapshot(t, snap, [3]kindCounts{}, nil)
	if snap.Self.LateRows != 0 || snap.Self.Duplicates != 0 {
		t.Errorf("self = %+v, want no late rows and no duplicates", snap.Self)
	}
}

// The episode's details: every field of the listing for the burst with a success.
func TestFatigueEpisodeDetails(t *testing.T) {
	d := newDetector(t, func(s *Settings) { s.MaxListLen = 3 })
	rows := noResponses(alice, "n", 11, 0, 20*time.Second)
	rows[3].AppID, rows[3].AppName = "app-2", "Azure Portal"
	rows[4].Country = "NL"
	rows[5].IPAddress = "2001:db8:abcd:12::1"
	rows[6].Method = "phone_call"
	rows[7].Reason = "user_declined"
	rows[8].CorrelationID = rows[0].CorrelationID
	rows = append(rows, success(alice, "s", 230*time.Second))
	snap := run(d, step{now: 10 * time.Minute, rows: rows})
	if len(snap.Episodes) != 1 {
		t.Fatalf("episodes = %+v, want one", snap.Episodes)
	}
	e := *snap.Episodes[0]
	want := Episode{
		ID: e.ID, Kind: KindFatigue, Outcome: OutcomeSuccess, Final: false,
		FirstSeen: t0, LastSeen: t0.Add(200 * time.Second), Rows: 11,
		Reasons:    map[string]int{"no_response_to_notification": 10, "user_declined": 1},
		Methods:    []string{"mobile_app_notification", "phone_call"},
		Apps:       []App{{ID: "app-2", Name: "Azure Portal"}, {ID: "app-1", Name: "Office 365"}},
		Countries:  []string{"FR", "NL"},
		IPPrefixes: []string{"2001:db8:abcd::/48", "203.0.113.0/24"},
		UserID:     alice, UPN: "alice@contoso.example",
		// Three earliest rows; sessions: corr-n-00 (rows 0 and 8), corr-n-01, corr-n-02.
		SignInIDs:      []string{"n-00", "n-01", "n-02"},
		CorrelationIDs: []string{"corr-n-00", "corr-n-01", "corr-n-02"},
		Truncated:      true,
		SuccessAt:      t0.Add(230 * time.Second), SuccessSignInID: "s",
	}
	if len(e.ID) != 16 {
		t.Errorf("ID = %q, want 16 hex digits", e.ID)
	}
	if !equalEpisode(e, want) {
		t.Errorf("episode\n got %+v\nwant %+v", e, want)
	}
}

// A row every kind of rule ignores costs nothing and changes nothing.
func TestRowsNoRuleReadsAreIgnored(t *testing.T) {
	d := newDetector(t, nil)
	snap := run(d, step{now: time.Minute, rows: []Event{
		row(alice, "a", 0, "not_required", "none", "none"),
		row(alice, "b", 0, "interrupted", push, "none"),
		row(alice, "c", 0, "not_attempted", "none", "none"),
		row("", "d", 0, "not_required", "none", "none"),
		{ID: "e", UserID: alice, Outcome: "not_required"}, // zero time, but nothing reads it
	}})
	if snap.Self != (SelfMetrics{}) {
		t.Errorf("self = %+v, want all zero", snap.Self)
	}
}
