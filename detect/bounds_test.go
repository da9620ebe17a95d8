package detect

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func userN(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

// 10,000 distinct users with one decline each within one minute.
func flood(n int) []Event {
	out := make([]Event, n)
	for i := range out {
		out[i] = decline(userN(i), fmt.Sprintf("r%05d", i), time.Duration(i)*time.Minute/time.Duration(n))
	}
	return out
}

func TestUserCap(t *testing.T) {
	d := newDetector(t, func(s *Settings) { s.MaxUsers = 1000 })
	snap := run(d, step{now: 2 * time.Minute, rows: flood(10_000)})
	// The first 1000 users are tracked; the 9000 others' rows are dropped and counted.
	if snap.Self.TrackedUsers != 1000 || snap.Self.CapHits != 9000 || snap.Prompts.Users != 1000 {
		t.Errorf("self = %+v, prompted users %d; want 1000 tracked, 9000 cap hits, 1000 prompted", snap.Self, snap.Prompts.Users)
	}
	if snap.Self.TrackedRows > 1000 {
		t.Errorf("rows held = %d, want at most one per tracked user", snap.Self.TrackedRows)
	}
	// A day later the prompts are out of the window and the rows out of the horizon: every user
	// is forgotten and a new one fits again.
	later := run(d, step{now: 24*time.Hour + time.Minute},
		step{now: 24*time.Hour + 2*time.Minute, rows: []Event{decline(alice, "a", 24*time.Hour+time.Minute)}})
	if later.Self.TrackedUsers != 1 || later.Self.CapHits != 9000 || later.Self.TrackedRows != 1 {
		t.Errorf("self a day later = %+v, want 1 tracked user (alice), 1 row, cap hits still 9000", later.Self)
	}
}

func TestTenThousandUsersFitUnderTheDefaultCap(t *testing.T) {
	d := newDetector(t, nil)
	snap := run(d, step{now: 2 * time.Minute, rows: flood(10_000)})
	if snap.Self.TrackedUsers != 10_000 || snap.Self.CapHits != 0 {
		t.Errorf("self = %+v, want 10000 tracked and no cap hit", snap.Self)
	}
}

// At the cap, a user whose data expired makes room before a new user is refused.
func TestCapPrunesBeforeRefusing(t *testing.T) {
	d := newDetector(t, func(s *Settings) { s.MaxUsers = 1 })
	run(d, step{now: time.Minute, rows: []Event{decline(alice, "a", 0)}}, finalAt(40*time.Minute))
	// alice still has her prompt. 25h later, without an Advance in between, bob's row arrives:
	// alice's prompt is out of the window now, so bob takes her place.
	d.Observe(t0.Add(25*time.Hour), decline(bob, "b", 25*time.Hour-time.Minute))
	if s := d.Snapshot().Self; s.TrackedUsers != 1 || s.CapHits != 0 {
		t.Errorf("self = %+v, want bob tracked and no cap hit", s)
	}
}

func TestRowCapPerUser(t *testing.T) {
	d := newDetector(t, func(s *Settings) { s.MaxEventsPerUser = 20 })
	snap := run(d, step{now: 10 * time.Minute, rows: noResponses(alice, "n", 25, 0, 10*time.Second)})
	// Rows 21 to 25 each push the oldest out; the episode counted every row as it came.
	if snap.Self.RowCapHits != 5 || snap.Self.TrackedRows != 20 {
		t.Errorf("self = %+v, want 5 row cap hits and 20 rows held", snap.Self)
	}
	checkSnapshot(t, snap, [3]kindCounts{{started: 1, open: 1, usersOpen: 1}},
		[]epSummary{{kind: KindFatigue, outcome: OutcomeOpen, last: 240 * time.Second, rows: 25, firstRow: "n-00", user: alice}})
}

func TestAbsurdTimestamps(t *testing.T) {
	now := t0.Add(time.Hour)
	tests := []struct {
		name   string
		at     time.Time
		absurd bool
	}{
		{"an hour ahead of now", now.Add(time.Hour), false},
		{"an hour and a nanosecond ahead", now.Add(time.Hour + 1), true},
		{"thirty days before now", now.Add(-30 * 24 * time.Hour), false},
		{"thirty days and a second before now", now.Add(-30*24*time.Hour - time.Second), true},
		{"the zero time (createdDateTime missing)", time.Time{}, true},
		{"year 2300", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"year 1600", time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDetector(t, nil)
			ev := decline(alice, "x", 0)
			ev.Time = tc.at
			d.Observe(now, ev)
			s := d.Snapshot().Self
			want := uint64(0)
			if tc.absurd {
				want = 1
			}
			if s.AbsurdTimestamps != want || (tc.absurd && s.TrackedUsers != 0) {
				t.Errorf("self = %+v, want %d absurd", s, want)
			}
		})
	}
}

// Hostile data at once: 10,000 users in a minute, absurd times and rows without users, with a
// cap of 500 users. Memory stays under the cap and everything unused is counted.
func TestHostileInput(t *testing.T) {
	d := newDetector(t, func(s *Settings) { s.MaxUsers = 500 })
	rows := flood(10_000)
	for i := range 300 {
		e := decline(userN(20_000+i), fmt.Sprintf("abs%d", i), 0)
		e.Time = t0.Add(time.Duration(i) * 24 * time.Hour * 365) // from now to 300 years ahead
		rows = append(rows, e)
	}
	rows = append(rows, noResponses("", "anon", 200, 0, time.Second)...)
	snap := run(d, step{now: 2 * time.Minute, rows: rows})
	// Absurd: every one but i=0 (at t0, two minutes before now).
	want := SelfMetrics{TrackedUsers: 500, TrackedRows: 500, CapHits: 10_000 + 1 - 500, Unattributable: 200, AbsurdTimestamps: 299}
	if snap.Self != want {
		t.Errorf("self = %+v\nwant %+v", snap.Self, want)
	}
}

// A row older than two windows before final is too late for the detection windows but still a
// prompt of the last 24 hours.
func TestLateRowStillCountsAsPrompt(t *testing.T) {
	d := newDetector(t, nil)
	// final = 20m; horizon 20m: rows before 0s are late.
	snap := run(d, finalAt(20*time.Minute),
		step{now: 40 * time.Minute, rows: []Event{decline(alice, "old", -time.Second), decline(bob, "ok", 0)}})
	if snap.Self.LateRows != 1 || snap.Self.TrackedRows != 1 || snap.Prompts.Users != 2 {
		t.Errorf("self = %+v, prompted %d; want 1 late row, 1 row held (bob's), 2 users prompted", snap.Self, snap.Prompts.Users)
	}
}

func TestUnattributableRowsAreOnlyMFARows(t *testing.T) {
	d := newDetector(t, nil)
	snap := run(d, step{now: time.Minute, rows: []Event{
		decline("", "a", 0),
		row("", "b", 0, "satisfied", push, "successfully_completed"),
		row("", "c", 0, "not_required", "none", "none"), // no rule reads it: not counted
		row("", "d", 0, "interrupted", push, "none"),
	}})
	if snap.Self.Unattributable != 2 || snap.Self.TrackedUsers != 0 {
		t.Errorf("self = %+v, want 2 unattributable", snap.Self)
	}
}

func TestIPPrefix(t *testing.T) {
	tests := map[string]string{
		"203.0.113.77":           "203.0.113.0/24",
		" 198.51.100.1 ":         "198.51.100.0/24",
		"2001:db8:abcd:12::1":    "2001:db8:abcd::/48",
		"::ffff:198.51.100.7":    "198.51.100.0/24", // IPv4-mapped: an IPv4 address
		"fe80::1%eth0":           "fe80::/48",       // the zone goes too
		"2001:db8::/32":          "",
		"not an address":         "",
		"":                       "",
		"203.0.113.77:443":       "",
		"0000:0000::1:2:3:4:5:6": "",
	}
	for in, want := range tests {
		if got := ipPrefix(in); got != want {
			t.Errorf("ipPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

// No full address leaves the detector: not in the listing, not in the state.
func TestFullAddressesAreNeverKept(t *testing.T) {
	d := newDetector(t, nil)
	rows := noResponses(alice, "n", 11, 0, 20*time.Second)
	for i := range rows {
		rows[i].IPAddress = fmt.Sprintf("203.0.113.%d", 100+i)
	}
	rows[0].IPAddress = "2001:db8:abcd:12:3456:789a:bcde:f012"
	snap := run(d, step{now: 10 * time.Minute, rows: rows})
	listing, _ := json.Marshal(snap.Episodes)
	state, _ := json.Marshal(d.Export())
	for _, out := range []string{string(listing), string(state)} {
		for _, r := range rows {
			if strings.Contains(out, r.IPAddress) {
				t.Errorf("%s found in %s", r.IPAddress, out)
			}
		}
		if !strings.Contains(out, "203.0.113.0/24") || !strings.Contains(out, "2001:db8:abcd::/48") {
			t.Errorf("prefixes missing from %s", out)
		}
	}
}

func TestLongStringsAreClipped(t *testing.T) {
	d := newDetector(t, nil)
	rows := noResponses(alice, "n", 11, 0, 20*time.Second)
	for i := range rows {
		rows[i].UPN = "x" + strings.Repeat("é", 5000) // 10,001 bytes: the cut at 256 splits a character
	}
	rows[0].ID = strings.Repeat("x", 1<<20)
	rows[0].AppName = strings.Repeat("a", 300)
	snap := run(d, step{now: 10 * time.Minute, rows: rows})
	e := *snap.Episodes[0]
	// The UPN's 256th byte is the first half of an "é": it goes, 255 bytes stay.
	if len(e.UPN) != 255 || !utf8.ValidString(e.UPN) || len(e.SignInIDs[0]) != 256 || len(e.Apps[1].Name) != 256 {
		t.Errorf("lengths: upn %d, sign-in id %d, apps %+v; want 255 (valid UTF-8), 256, 256", len(e.UPN), len(e.SignInIDs[0]), e.Apps)
	}
}

// Users are forgotten once nothing of theirs can matter: the prompt out of the 24h window and the
// row two windows (20m) behind final.
func TestUsersAreForgotten(t *testing.T) {
	d := newDetector(t, nil)
	run(d, step{now: time.Minute, rows: []Event{decline(alice, "a", 0)}})
	tracked := func(now, final time.Duration) (int, int) {
		d.Advance(t0.Add(now), t0.Add(final))
		s := d.Snapshot().Self
		return s.TrackedUsers, s.TrackedRows
	}
	if u, r := tracked(time.Hour, 20*time.Minute); u != 1 || r != 1 {
		t.Errorf("final at 20m: %d users, %d rows; want 1, 1", u, r)
	}
	if u, r := tracked(time.Hour, 20*time.Minute+1); u != 1 || r != 0 {
		t.Errorf("final past 20m: %d users, %d rows; want 1 (the prompt), 0", u, r)
	}
	if u, _ := tracked(24*time.Hour-time.Second, time.Hour); u != 1 {
		t.Errorf("now 23h59m59s: %d users, want 1", u)
	}
	if u, _ := tracked(24*time.Hour, time.Hour); u != 0 {
		t.Errorf("now 24h: %d users, want 0", u)
	}
}

// Concluded episodes stay listed 7 days after their last row, at most MaxEpisodes of them; open
// ones always. The listing shows open episodes first, then the newest.
func TestRetentionAndListingOrder(t *testing.T) {
	d := newDetector(t, func(s *Settings) { s.MaxEpisodes = 2 })
	users := []string{userN(1), userN(2), userN(3)}
	// Three fraud reports, 10 minutes apart, concluded an hour after each (final).
	for i, u := range users {
		off := time.Duration(i) * 10 * time.Minute
		run(d, step{now: off + time.Minute, rows: []Event{fraudReport(u, fmt.Sprintf("f%d", i), off)}})
	}
	run(d, finalAt(2*time.Hour))
	// An open one, later.
	snap := run(d, step{now: 2*time.Hour + 21*time.Minute, rows: []Event{fraudReport(alice, "open", 2*time.Hour+20*time.Minute)}})
	var got []string
	for _, e := range snap.Episodes {
		got = append(got, e.SignInIDs[0]+"/"+e.Outcome)
	}
	// f0 is the oldest concluded: beyond MaxEpisodes = 2.
	want := []string{"open/open", "f2/denied", "f1/denied"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("listing = %v, want %v", got, want)
	}
	if c := counts(snap); c[kFraud] != (kindCounts{started: 4, denied: 3, open: 1, usersOpen: 1}) {
		t.Errorf("fraud counts = %+v: the counters keep what the listing drops", c[kFraud])
	}
	// Listed while the last row is at most 7 days old: f2 (20m) goes after 7d20m.
	snap = run(d, step{now: 7*24*time.Hour + 20*time.Minute})
	if n := len(snap.Episodes); n != 2 {
		t.Errorf("listing at 7d20m has %d episodes, want 2 (open, f2)", n)
	}
	snap = run(d, step{now: 7*24*time.Hour + 20*time.Minute + time.Second})
	got = got[:0]
	for _, e := range snap.Episodes {
		got = append(got, e.SignInIDs[0])
	}
	if strings.Join(got, " ") != "open" {
		t.Errorf("listing a week later = %v, want only the open one", got)
	}
	if n := snap.Self.Episodes; n != 1 {
		t.Errorf("episode records = %d, want 1 (the expired ones are forgotten)", n)
	}
}
