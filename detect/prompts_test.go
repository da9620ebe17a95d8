package detect

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// Which rows are prompts and which rules read them.
func TestClassify(t *testing.T) {
	tests := []struct {
		outcome, method, reason string
		want                    flags
	}{
		{"denied", push, "user_declined", fPush | fDecline | fPrompt},
		{"denied", push, "no_response_to_notification", fPush | fPrompt},
		{"denied", push, "fraud_reported", fPush | fDecline | fFraud | fPrompt},
		{"denied", "phone_call", "fraud_reported", fPush | fDecline | fFraud | fPrompt}, // the rules read the reason only
		{"denied", "none", "user_declined", fPush | fDecline | fPrompt},                 // a 500121 row without steps
		{"denied", push, "user_blocked", fBlocked},                                      // blocked before any prompt
		{"denied", "oath_verification_code", "incorrect_code", fOATH | fPrompt},
		{"denied", "oath_verification_code", "verification_code_already_used", fOATH | fPrompt},
		{"denied", "oath_verification_code", "user_blocked", fOATH | fBlocked},
		{"denied", "text_message", "incorrect_code", fPrompt},
		{"denied", push, "unable_to_send_notification_to_device", 0},
		{"denied", "phone_call", "unable_to_reach_phone", 0},
		{"denied", push, "no_verification_methods_registered", 0},
		{"denied", push, "authentication_in_progress", 0},
		{"denied", "phone_call", "phone_call_went_to_voicemail", fPrompt},
		{"denied", "external", "other", fPrompt},
		{"satisfied", push, "successfully_completed", fSuccess | fPrompt},
		{"satisfied", "none", "completed_in_cloud", fSuccess | fPrompt},
		{"satisfied", "fido2_security_key", "strong_authentication", fPrompt},
		{"satisfied", "text_message", "expired_by_tenant_policy", fPrompt},
		{"satisfied", "previously_satisfied", "claim_in_token", 0},
		{"satisfied", "previously_satisfied", "successfully_completed", fSuccess}, // a success, but no new prompt
		{"satisfied", push, "claim_in_token", 0},
		{"satisfied", "external", "claim_by_external_provider", 0},
		{"satisfied", "none", "skipped_location", 0},
		{"satisfied", "none", "skipped_remembered_device", 0},
		{"interrupted", push, "none", 0},
		{"not_attempted", "none", "none", 0},
		{"not_required", "none", "none", 0},
		{"", "", "", 0},
	}
	for _, tc := range tests {
		ev := Event{Outcome: tc.outcome, Method: tc.method, Reason: tc.reason}
		if got := classify(&ev); got != tc.want {
			t.Errorf("classify(%s, %s, %s) = %07b, want %07b", tc.outcome, tc.method, tc.reason, got, tc.want)
		}
	}
}

func prompts(user, prefix string, n int, start, every time.Duration) []Event {
	return series(n, prefix, start, every, func(id string, off time.Duration) Event {
		return row(user, id, off, "satisfied", "text_message", "successfully_completed")
	})
}

func TestPromptDistribution(t *testing.T) {
	h := time.Hour
	user := func(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }
	// Six users, read page by page over 23 hours (prompts spread from 0 to 23h).
	var rows []Event
	add := func(u string, n int) {
		if n > 0 {
			rows = append(rows, prompts(u, u[len(u)-4:], n, 0, 23*h/time.Duration(n))...)
		}
	}
	add(user(1), 1)  // A
	add(user(2), 2)  // B
	add(user(3), 3)  // C
	add(user(4), 60) // D: more than the largest bound
	add(user(5), 11) // F
	// E: only reused claims, no prompt at all.
	rows = append(rows, row(user(6), "e1", 0, "satisfied", "previously_satisfied", "claim_in_token"))
	d := newDetector(t, nil)
	snap := run(d, pages(rows, 23*h+time.Minute)...)
	// Buckets 1 2 5 10 20 50. Counts 1, 2, 3, 60, 11.
	want := PromptDistribution{
		Window: 24 * h, Bounds: []int{1, 2, 5, 10, 20, 50},
		AtMost:   []int{1, 2, 3, 3, 4, 4}, // <=1: A; <=2: A B; <=5: A B C; <=20: + F
		MoreThan: []int{4, 3, 2, 2, 1, 1}, // >1: B C D F; >2: C D F; >5: D F; >20: D
		Users:    5,
	}
	checkPrompts(t, snap.Prompts, want)
	// D keeps 51 prompt times: enough to know "more than 50", no more.
	if got := len(heldBy(d, user(4))); got != 51 {
		t.Errorf("D keeps %d prompt times, want 51", got)
	}
	if snap.Self.TrackedUsers != 5 {
		t.Errorf("tracked users = %d, want 5 (E has no prompt)", snap.Self.TrackedUsers)
	}
}

// pages cuts rows into one-minute pages read at the end of each minute, up to `until`.
func pages(rows []Event, until time.Duration) []step {
	var steps []step
	for m := time.Minute; m <= until; m += time.Minute {
		var page []Event
		for _, r := range rows {
			if off := r.Time.Sub(t0); off >= m-time.Minute && off < m {
				page = append(page, r)
			}
		}
		steps = append(steps, step{now: m, rows: page})
	}
	return steps
}

func checkPrompts(t *testing.T, got, want PromptDistribution) {
	t.Helper()
	if got.Window != want.Window || got.Users != want.Users || !slices.Equal(got.Bounds, want.Bounds) ||
		!slices.Equal(got.AtMost, want.AtMost) || !slices.Equal(got.MoreThan, want.MoreThan) {
		t.Errorf("prompts = %+v, want %+v", got, want)
	}
}

// The window is the trailing 24 hours, (now-24h, now], to the second.
func TestPromptWindowEdges(t *testing.T) {
	h := time.Hour
	tests := []struct {
		name  string
		now   time.Duration // of the second step; the rows are read at 1m
		users int
	}{
		{"a prompt 23h59m59s old counts", 24*h - time.Second, 1},
		{"a prompt exactly 24h old does not", 24 * h, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDetector(t, nil)
			snap := run(d, step{now: time.Minute, rows: prompts(alice, "p", 1, 0, 0)}, step{now: tc.now, rows: nil})
			if snap.Prompts.Users != tc.users || snap.Self.TrackedUsers != tc.users {
				t.Errorf("prompted users = %d, tracked = %d, want %d", snap.Prompts.Users, snap.Self.TrackedUsers, tc.users)
			}
			// Without an Advance (nothing pruned), the distribution still ends at now.
			d = newDetector(t, nil)
			run(d, step{now: time.Minute, rows: prompts(alice, "p", 1, 0, 0)})
			d.Observe(t0.Add(tc.now))
			if got := d.Snapshot().Prompts.Users; got != tc.users {
				t.Errorf("before the Advance: prompted users = %d, want %d", got, tc.users)
			}
		})
	}
}

func TestPromptsCountedOnce(t *testing.T) {
	d := newDetector(t, nil)
	p := prompts(alice, "p", 3, 0, time.Minute)
	// Read, read again, then again after the detection windows forgot the rows (2h later).
	if s := run(d, step{now: 5 * time.Minute, rows: p}, step{now: 6 * time.Minute, rows: p}).Self; s.TrackedRows != 3 || s.Duplicates != 3 {
		t.Errorf("after reading twice: self = %+v, want the 3 completed MFAs held once and 3 duplicates", s)
	}
	snap := run(d, step{now: 2 * time.Hour, rows: p})
	if snap.Prompts.AtMost[2] != 1 || snap.Prompts.MoreThan[1] != 1 || snap.Prompts.MoreThan[2] != 0 {
		t.Errorf("prompts = %+v, want one user with 3 prompts", snap.Prompts)
	}
	// The third read is late for the detection windows (the rows are 2h old) but still counts
	// as duplicates for the prompts.
	if snap.Self.Duplicates != 6 {
		t.Errorf("duplicates = %d, want 6", snap.Self.Duplicates)
	}
}

// A prompt older than the 51 kept ones, read late, must neither count nor push one out.
func TestPromptListKeepsTheLatest(t *testing.T) {
	d := newDetector(t, nil)
	late := prompts(alice, "old", 1, 0, 0)
	recent := prompts(alice, "p", 55, time.Minute, time.Second)
	snap := run(d, step{now: 2 * time.Minute, rows: recent}, step{now: 3 * time.Minute, rows: late})
	if snap.Prompts.MoreThan[5] != 1 {
		t.Errorf("prompts = %+v, want one user with more than 50", snap.Prompts)
	}
	ps := heldBy(d, alice)
	if len(ps) != 51 || int64(ps[0].sec) != t0.Add(time.Minute+4*time.Second).Unix() {
		t.Errorf("kept %d prompts from %d, want 51 from p-04 (%d)", len(ps), ps[0].sec, t0.Add(time.Minute+4*time.Second).Unix())
	}
}
