package detect

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// t0 is the start of every scenario; offsets in the tests are relative to it.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

const (
	alice = "00000000-0000-4000-8000-00000000a11c"
	bob   = "00000000-0000-4000-8000-000000000b0b"
)

// row builds a classified row of user at offset off. id doubles as its correlation id unless
// the test sets one.
func row(user, id string, off time.Duration, outcome, method, reason string) Event {
	return Event{
		ID: id, Time: t0.Add(off), UserID: user, UPN: upnOf(user), CorrelationID: "corr-" + id,
		AppID: "app-1", AppName: "Office 365", Country: "FR", IPAddress: "203.0.113.77",
		Outcome: outcome, Method: method, Reason: reason,
	}
}

func upnOf(user string) string {
	switch user {
	case alice:
		return "alice@contoso.example"
	case bob:
		return "bob@contoso.example"
	}
	return ""
}

const push = "mobile_app_notification"

func decline(user, id string, off time.Duration) Event {
	return row(user, id, off, "denied", push, "user_declined")
}
func noResponse(user, id string, off time.Duration) Event {
	return row(user, id, off, "denied", push, "no_response_to_notification")
}
func fraudReport(user, id string, off time.Duration) Event {
	return row(user, id, off, "denied", push, "fraud_reported")
}
func blocked(user, id string, off time.Duration) Event {
	return row(user, id, off, "denied", push, "user_blocked")
}
func success(user, id string, off time.Duration) Event {
	return row(user, id, off, "satisfied", push, "successfully_completed")
}
func oathFail(user, id, session string, off time.Duration) Event {
	e := row(user, id, off, "denied", "oath_verification_code", "incorrect_code")
	e.CorrelationID = session
	return e
}

// series makes n rows named prefix-00, prefix-01... at start, start+every, ...
func series(n int, prefix string, start, every time.Duration, mk func(id string, off time.Duration) Event) []Event {
	out := make([]Event, n)
	for i := range out {
		out[i] = mk(fmt.Sprintf("%s-%02d", prefix, i), start+time.Duration(i)*every)
	}
	return out
}

func declines(user, prefix string, n int, start, every time.Duration) []Event {
	return series(n, prefix, start, every, func(id string, off time.Duration) Event { return decline(user, id, off) })
}

func noResponses(user, prefix string, n int, start, every time.Duration) []Event {
	return series(n, prefix, start, every, func(id string, off time.Duration) Event { return noResponse(user, id, off) })
}

func cat(parts ...[]Event) []Event { return slices.Concat(parts...) }

// lag is how far the final time (the collector's reconcile cursor) trails now in the tests: the
// collector's defaults, settle_delay 5m + reconcile_delay 15m.
const lag = 20 * time.Minute

// step feeds rows with now = t0+now, then advances to now and final = now - lag, or to the
// given final when setFinal is set (see finalAt).
type step struct {
	now      time.Duration
	rows     []Event
	final    time.Duration
	setFinal bool
}

// finalAt is a step that only moves the final time to t0+f (and now to f+lag).
func finalAt(f time.Duration) step { return step{now: f + lag, final: f, setFinal: true} }

func newDetector(t testing.TB, modify func(*Settings)) *Detector {
	t.Helper()
	s := DefaultSettings()
	if modify != nil {
		modify(&s)
	}
	d, err := New(s)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

func run(d *Detector, steps ...step) Snapshot {
	for _, s := range steps {
		now, final := t0.Add(s.now), t0.Add(s.now-lag)
		if s.setFinal {
			final = t0.Add(s.final)
		}
		d.Observe(now, s.rows...)
		d.Advance(now, final)
	}
	return d.Snapshot()
}

// epSummary is what the tables check of an episode.
type epSummary struct {
	kind, outcome string
	final         bool
	first, last   time.Duration
	rows          int
	firstRow      string // the first sign-in id listed
	successRow    string
	user          string
}

func summarize(eps []*Episode) []epSummary {
	var out []epSummary
	for _, e := range eps {
		s := epSummary{
			kind: e.Kind, outcome: e.Outcome, final: e.Final,
			first: e.FirstSeen.Sub(t0), last: e.LastSeen.Sub(t0), rows: e.Rows,
			successRow: e.SuccessSignInID, user: e.UserID,
		}
		if len(e.SignInIDs) > 0 {
			s.firstRow = e.SignInIDs[0]
		}
		out = append(out, s)
	}
	sortSummaries(out)
	return out
}

// sortSummaries orders summaries regardless of the listing order, which has its own test.
func sortSummaries(s []epSummary) {
	slices.SortFunc(s, func(a, b epSummary) int {
		if c := compareStrings(a.kind, b.kind); c != 0 {
			return c
		}
		if c := cmp.Compare(a.first, b.first); c != 0 {
			return c
		}
		return compareStrings(a.user, b.user)
	})
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// kindCounts is KindStats without the kind, in Kinds() order: fatigue, fraud, oath_guessing.
type kindCounts struct {
	started, success, denied uint64
	open, usersOpen          int
}

func counts(s Snapshot) [3]kindCounts {
	var out [3]kindCounts
	for i, k := range s.Kinds {
		out[i] = kindCounts{k.Started, k.EndedSuccess, k.EndedDenied, k.Open, k.UsersOpen}
	}
	return out
}

func checkSnapshot(t *testing.T, got Snapshot, wantCounts [3]kindCounts, wantEps []epSummary) {
	t.Helper()
	if c := counts(got); c != wantCounts {
		t.Errorf("counts (fatigue, fraud, oath) = %+v, want %+v", c, wantCounts)
	}
	gotEps := summarize(got.Episodes)
	wantEps = slices.Clone(wantEps)
	sortSummaries(wantEps)
	if !slices.Equal(gotEps, wantEps) {
		t.Errorf("episodes:\n got %+v\nwant %+v", gotEps, wantEps)
	}
}

// equalEpisode compares two episodes by their JSON form, which is what an operator gets.
func equalEpisode(a, b Episode) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// orders returns the rows as given, reversed, and shuffled three ways (fixed seeds).
func orders(rows []Event) [][]Event {
	out := [][]Event{rows, slices.Clone(rows)}
	slices.Reverse(out[1])
	for seed := range uint64(3) {
		r := slices.Clone(rows)
		rng := rand.New(rand.NewPCG(seed, 7))
		rng.Shuffle(len(r), func(a, b int) { r[a], r[b] = r[b], r[a] })
		out = append(out, r)
	}
	return out
}

// checkCase runs a table case; a case read in one page is also read in other orders, which
// must not change the result.
func checkCase(t *testing.T, steps []step, wantCounts [3]kindCounts, wantEps []epSummary, orderFree bool) {
	t.Helper()
	if len(steps) != 1 || !orderFree {
		checkSnapshot(t, run(newDetector(t, nil), steps...), wantCounts, wantEps)
		return
	}
	for i, rows := range orders(steps[0].rows) {
		t.Run(fmt.Sprintf("order%d", i), func(t *testing.T) {
			st := steps[0]
			st.rows = rows
			checkSnapshot(t, run(newDetector(t, nil), st), wantCounts, wantEps)
		})
	}
}
