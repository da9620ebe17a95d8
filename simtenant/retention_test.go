package simtenant

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// minuteRows are n interactive rows, one a minute, the last at last.
func minuteRows(n int, last time.Time) []Row {
	rows := make([]Row, n)
	for i := range rows {
		rows[i] = Row{ID: fmt.Sprintf("m%02d", i), CreatedDateTime: last.Add(-time.Duration(n-1-i) * time.Minute), IsInteractive: true}
	}
	return rows
}

func TestRetentionForgetsOldRows(t *testing.T) {
	clock := newFakeClock(epoch)
	tn := start(t, Options{Now: clock.Now, RateLimit: -1, NoPadding: true, Retention: 10 * time.Minute})
	tn.AddRows(minuteRows(31, epoch)...) // epoch-30m .. epoch
	tok := token(t, tn)
	steps := []struct {
		advance         time.Duration
		stored, expired int
		oldest          string
	}{
		// Rows created at or after now-10m stay: minutes -10..0 are 11 rows.
		{0, 11, 20, "m20"},
		{5 * time.Minute, 6, 25, "m25"},
		{30 * time.Second, 5, 26, "m26"},
		{10 * time.Minute, 0, 31, ""},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		st := tn.Stats()
		if st.RowsStored != s.stored || st.RowsExpired != s.expired || st.RowsEvicted != 0 {
			t.Errorf("step %d: stored %d expired %d evicted %d, want %d %d 0", i, st.RowsStored, st.RowsExpired, st.RowsEvicted, s.stored, s.expired)
		}
		got := rowIDs(t, readAll(t, tn, signInsURL(tn, "$filter", "createdDateTime ge "+epoch.Add(-time.Hour).Format(time.RFC3339)), tok, nil))
		if len(got) != s.stored || (s.stored > 0 && got[len(got)-1] != s.oldest) {
			t.Errorf("step %d: served %v, want %d rows back to %s", i, got, s.stored, s.oldest)
		}
	}
}

func TestMaxRowsDropsOldestFirst(t *testing.T) {
	clock := newFakeClock(epoch)
	var logs bytes.Buffer
	tn := start(t, Options{Now: clock.Now, RateLimit: -1, NoPadding: true, MaxRows: 5, Order: OrderAscending,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	rows := minuteRows(8, epoch)
	// Added newest first, two batches: the cap keeps the newest by createdDateTime, not the
	// last added.
	slices.Reverse(rows)
	tn.AddRows(rows[:4]...)
	tn.AddRows(rows[4:]...)
	st := tn.Stats()
	if st.RowsStored != 5 || st.RowsEvicted != 3 || st.RowsExpired != 0 {
		t.Errorf("stored %d evicted %d expired %d, want 5 3 0", st.RowsStored, st.RowsEvicted, st.RowsExpired)
	}
	got := rowIDs(t, readAll(t, tn, signInsURL(tn), token(t, tn), nil))
	if want := []string{"m03", "m04", "m05", "m06", "m07"}; !slices.Equal(got, want) {
		t.Errorf("served %v, want %v", got, want)
	}
	tn.AddRows(Row{ID: "x", CreatedDateTime: epoch, IsInteractive: true})
	if n := strings.Count(logs.String(), "dropping the oldest"); n != 1 {
		t.Errorf("cap logged %d times, want once:\n%s", n, logs.String())
	}
}

func TestBurstIsCapped(t *testing.T) {
	clock := newFakeClock(epoch)
	tn := start(t, Options{Now: clock.Now, RateLimit: -1, LatenessScale: -1, NoPadding: true})
	if err := tn.Burst("user_declined", MaxBurst+1); err == nil || !strings.Contains(err.Error(), fmt.Sprint(MaxBurst)) {
		t.Errorf("Burst(MaxBurst+1) = %v, want an error naming the cap", err)
	}
	if err := tn.Burst(BurstFatigue, MaxBurst+1); err == nil {
		t.Error("fatigue burst above the cap accepted")
	}
	if tn.Truth().Flows != 0 || tn.Stats().RowsStored != 0 {
		t.Error("a refused burst generated rows")
	}
	if err := tn.Burst("user_declined", MaxBurst); err != nil {
		t.Fatalf("Burst(MaxBurst): %v", err)
	}
	if got := tn.Stats().RowsStored; got != 2*MaxBurst { // an interrupt and an outcome per attempt
		t.Errorf("stored %d rows, want %d", got, 2*MaxBurst)
	}
}

// A client fetching tokens in a loop cannot grow the token map: expired tokens go first, then
// the ones closest to expiry; the newest token keeps working.
func TestTokensBounded(t *testing.T) {
	clock := newFakeClock(epoch)
	tn := start(t, Options{Now: clock.Now, RateLimit: -1, NoPadding: true})
	tn.mu.Lock()
	for i := range maxTokens {
		tn.rememberTokenLocked(fmt.Sprint("old", i), clock.Now())
	}
	tn.mu.Unlock()
	clock.Advance(tokenLifetime) // every "old" token has expired
	fresh := token(t, tn)
	tn.mu.Lock()
	if n := len(tn.tokens); n != 1 {
		t.Errorf("%d tokens held after the old ones expired, want 1", n)
	}
	for i := range 2 * maxTokens {
		tn.rememberTokenLocked(fmt.Sprint("new", i), clock.Now().Add(time.Duration(i)))
	}
	n := len(tn.tokens)
	_, freshKept := tn.tokens[fresh]
	_, newestKept := tn.tokens[fmt.Sprint("new", 2*maxTokens-1)]
	tn.mu.Unlock()
	if n > maxTokens || freshKept || !newestKept {
		t.Errorf("%d tokens held (max %d), first token kept %v, newest kept %v", n, maxTokens, freshKept, newestKept)
	}
	last := token(t, tn)
	if r := get(t, tn, signInsURL(tn), last, nil); r.status != 200 {
		t.Errorf("newest token refused: %d", r.status)
	}
}

// The demo's defaults (cmd/entra-mfa-exporter): 2 flows per second; a retention of the
// look-back (16 min) plus the reconcile horizon, rounded up to 20 minutes.
const (
	demoRate      = 2.0
	demoRetention = 20 * time.Minute
)

// raceEnabled is set by race_test.go when the race detector is on.
var raceEnabled bool

// TestCompressedDayStaysBounded generates 24 simulated hours at the demo's rate, a minute at a
// time, with the demo's retention. A reader that collects every row near each three-hour
// checkpoint (the tenant's own API, three reads spaced 10 minutes apart, each reaching back 25
// minutes: a flow's earlier rows are dated up to 11 minutes before it ends, so each row is
// generated at most 11 minutes after its createdDateTime and the next read, at most 10 minutes
// later, still reaches it) knows which rows were created in the last 20 minutes: the tenant must
// hold exactly those. Under the race detector (the project's test command) it simulates 3 hours
// instead: the window reaches its steady state after 20 minutes, and a day costs minutes there. Truth stays exact: it still counts
// every row generated, which is every row ever stored. The live heap after a garbage collection
// stays far below what a day of rows, or a day of the generator's records, would take.
func TestCompressedDayStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a simulated day")
	}
	hours := 24
	if raceEnabled {
		hours = 3
	}
	begin := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	clock := newFakeClock(begin)
	// NoPadding keeps the test fast; padded rows make the held bytes larger, not the count.
	tn := start(t, Options{Seed: 13, Now: clock.Now, RateLimit: -1, NoPadding: true, LatenessScale: -1, Retention: demoRetention})
	both := "signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')"
	var tok string
	tokenAt := time.Time{}
	collected := map[string]time.Time{}
	collect := func(now time.Time) {
		if now.Sub(tokenAt) > 50*time.Minute {
			tok, tokenAt = token(t, tn), now
		}
		for _, raw := range readAll(t, tn, signInsURL(tn, "$filter",
			"createdDateTime ge "+now.Add(-25*time.Minute).Format(time.RFC3339)+" and "+both), tok, nil) {
			var h rowHead
			if err := json.Unmarshal(raw, &h); err != nil {
				t.Fatal(err)
			}
			collected[h.ID] = h.CreatedDateTime
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseline := ms.HeapAlloc
	var peak uint64
	checkpoints := 0
	for now := begin; now.Before(begin.Add(time.Duration(hours) * time.Hour)); {
		tn.Backfill(now, now.Add(time.Minute), demoRate)
		now = now.Add(time.Minute)
		clock.Advance(time.Minute)
		sinceCheckpoint := now.Sub(begin) % (3 * time.Hour)
		if sinceCheckpoint == 0 || sinceCheckpoint >= 3*time.Hour-20*time.Minute && sinceCheckpoint%(10*time.Minute) == 0 {
			collect(now)
		}
		if sinceCheckpoint != 0 {
			continue
		}
		checkpoints++
		want := 0
		for _, created := range collected {
			if !created.Before(now.Add(-demoRetention)) {
				want++
			}
		}
		clear(collected)
		if got := tn.Stats().RowsStored; got != want || want == 0 {
			t.Errorf("%s: %d rows held, want the %d created in the last %v", now.Format(time.TimeOnly), got, want, demoRetention)
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	}
	if checkpoints != hours/3 {
		t.Fatalf("%d checkpoints, want %d", checkpoints, hours/3)
	}
	st, truth := tn.Stats(), tn.Truth()
	generated := 0
	for _, n := range truth.Rows {
		generated += n
	}
	if generated != st.RowsStored+st.RowsExpired || st.RowsEvicted != 0 {
		t.Errorf("truth counts %d rows, the tenant stored %d + expired %d (+ evicted %d)", generated, st.RowsStored, st.RowsExpired, st.RowsEvicted)
	}
	// At 2 flows/s a day is about 286,000 rows: held as compact rows (about 3.5 KB each) or as
	// generator records (about 100 bytes each) they would take about 1 GB, resp. 28 MB. The
	// 20-minute window is about 4,100 rows, 14 MiB.
	if want := demoRate * 3600 * float64(hours); float64(truth.Flows) < 0.95*want || float64(truth.Flows) > 1.05*want {
		t.Errorf("%d flows in %d hours at %v/s, want about %.0f", truth.Flows, hours, demoRate, want)
	}
	growth := int64(peak) - int64(baseline)
	t.Logf("%d hours: generated %d rows (%d flows); live heap growth at the checkpoints at most %.1f MiB", hours, generated, truth.Flows, float64(growth)/(1<<20))
	if growth > 32<<20 {
		t.Errorf("live heap grew by %.1f MiB over %d simulated hours, want under 32 MiB", float64(growth)/(1<<20), hours)
	}
}
