package detect

import (
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"
)

// benchRow is one scheduled row: which user, when, and what.
type benchRow struct {
	user int32
	kind uint8 // 0 prompt+success, 1 decline, 2 unanswered push, 3 failed OATH code
	seq  uint16
	off  time.Duration
}

// benchDay schedules a day of MFA for n users: three completed pushes each at spread times; one
// user in ten also declines once; one in 200 is bombed (15 unanswered pushes in 280s, then
// approves); one in 1000 has its OATH code guessed (24 failures, 12 sessions, 460s).
func benchDay(n int) []benchRow {
	day := 24 * time.Hour
	var rows []benchRow
	spread := func(i, k int) time.Duration {
		return time.Duration((int64(i)*7919+int64(k)*28_800_017)%int64(day/time.Second)) * time.Second
	}
	for i := range n {
		u := int32(i)
		for k := range 3 {
			rows = append(rows, benchRow{u, 0, uint16(k), spread(i, k)})
		}
		if i%10 == 3 {
			rows = append(rows, benchRow{u, 1, 0, spread(i, 5)})
		}
		if i%200 == 7 {
			start := spread(i, 7) % (day - time.Hour)
			for k := range 15 {
				rows = append(rows, benchRow{u, 2, uint16(k), start + time.Duration(k)*20*time.Second})
			}
			rows = append(rows, benchRow{u, 0, 100, start + 300*time.Second})
		}
		if i%1000 == 11 {
			start := spread(i, 11) % (day - time.Hour)
			for k := range 24 {
				rows = append(rows, benchRow{u, 3, uint16(k), start + time.Duration(k)*20*time.Second})
			}
		}
	}
	slices.SortStableFunc(rows, func(a, b benchRow) int { return int(a.off - b.off) })
	return rows
}

// event renders a scheduled row as the collector would hand it over: fresh strings per row, as
// decoding a page gives.
func (r benchRow) event() Event {
	id := fmt.Sprintf("%08x-%02d-%04d", r.user, r.kind, r.seq)
	e := Event{
		ID: id, Time: t0.Add(r.off), UserID: fmt.Sprintf("00000000-0000-4000-8000-%012d", r.user),
		UPN: fmt.Sprintf("user%d@contoso.example", r.user), CorrelationID: "c-" + id,
		AppID: "00000002-0000-0ff1-ce00-000000000000", AppName: "Office 365 Exchange Online",
		Country: "FR", IPAddress: fmt.Sprintf("198.51.%d.%d", r.user%256, r.seq%256),
		Outcome: "satisfied", Method: push, Reason: "successfully_completed",
	}
	switch r.kind {
	case 1:
		e.Outcome, e.Reason = "denied", "user_declined"
	case 2:
		e.Outcome, e.Reason = "denied", "no_response_to_notification"
	case 3:
		e.Outcome, e.Method, e.Reason = "denied", "oath_verification_code", "incorrect_code"
		e.CorrelationID = fmt.Sprintf("s-%d-%d", r.user, r.seq/2)
	}
	return e
}

// BenchmarkDay200kUsers feeds a day of 200,000 active users in 10-minute pages (final 20 minutes
// behind, Advance after each page) and reports the cost per row, the heap the detector holds per
// tracked user at the end of the day, the state size per user, the cost of one Advance, one
// Snapshot and one export. "mixed" is benchDay; "prompts" is the same day with every row a prompt
// that no detection window keeps (MFA renewed under the tenant's policy), which is what most users
// of a tenant cost: the prompts-per-user distribution's share alone.
func BenchmarkDay200kUsers(b *testing.B) {
	for _, c := range []struct {
		name        string
		promptsOnly bool
	}{{"mixed", false}, {"prompts", true}} {
		b.Run(c.name, func(b *testing.B) { benchmarkDay(b, c.promptsOnly) })
	}
}

func benchmarkDay(b *testing.B, promptsOnly bool) {
	const users = 200_000
	sched := benchDay(users)
	page := 10 * time.Minute
	b.StopTimer() // only Observe and Advance are timed; building the rows is not
	for range b.N {
		d, err := New(DefaultSettings())
		if err != nil {
			b.Fatal(err)
		}
		var observe, advance time.Duration
		advances := 0
		next := 0
		for end := page; end <= 24*time.Hour; end += page {
			var rows []Event
			for next < len(sched) && sched[next].off < end {
				e := sched[next].event()
				if promptsOnly {
					e.Outcome, e.Method, e.Reason = "satisfied", push, "expired_by_tenant_policy"
				}
				rows = append(rows, e)
				next++
			}
			b.StartTimer()
			start := time.Now()
			d.Observe(t0.Add(end), rows...)
			mid := time.Now()
			d.Advance(t0.Add(end), t0.Add(end-20*time.Minute))
			observe += mid.Sub(start)
			advance += time.Since(mid)
			advances++
			b.StopTimer()
		}
		// The heap the detector holds: with it, then without it (and the same else).
		snap := d.Snapshot()
		held := heapAfterGC()
		const snaps = 20
		start := time.Now()
		for range snaps {
			d.Snapshot()
		}
		snapTime := time.Since(start) / snaps
		start = time.Now()
		st := d.Export()
		data, err := json.Marshal(st)
		exportTime := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		stateBytes := len(data)
		data = nil
		detailUsers := len(st.Users)
		d, st = nil, State{}
		held -= heapAfterGC()
		runtime.KeepAlive(sched)
		tracked := float64(snap.Self.TrackedUsers)
		if snap.Self.TrackedUsers < users*9/10 || snap.Self.CapHits != 0 {
			b.Fatalf("tracked %d users, cap hits %d", snap.Self.TrackedUsers, snap.Self.CapHits)
		}
		// 1000 bombed users, 200 guessed: every one an episode.
		if !promptsOnly && (snap.Kinds[kFatigue].Started != users/200 || snap.Kinds[kOATH].Started != users/1000) {
			b.Fatalf("episodes: %+v", snap.Kinds)
		}
		if promptsOnly && detailUsers != 0 {
			b.Fatalf("%d users with detection windows in a day of prompts only", detailUsers)
		}
		b.ReportMetric(float64(observe.Nanoseconds())/float64(len(sched)), "ns/event")
		b.ReportMetric(float64(advance.Nanoseconds())/float64(advances), "ns/advance")
		b.ReportMetric(float64(snapTime.Nanoseconds()), "ns/snapshot")
		b.ReportMetric(float64(held)/tracked, "bytes/user")
		b.ReportMetric(float64(stateBytes)/tracked, "state-bytes/user")
		b.ReportMetric(float64(exportTime.Milliseconds()), "export-ms")
		b.ReportMetric(tracked, "users")
		b.ReportMetric(float64(detailUsers), "detail-users")
	}
}

// heapAfterGC is the live heap, in bytes. Twice: what a sync.Pool held (json.Marshal's buffer)
// survives one collection.
func heapAfterGC() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// BenchmarkObserve is the steady-state cost of one row for a tenant of 200,000 users.
func BenchmarkObserve(b *testing.B) {
	const users = 200_000
	d, err := New(DefaultSettings())
	if err != nil {
		b.Fatal(err)
	}
	now := t0.Add(time.Hour)
	rows := make([]Event, users)
	for i := range rows {
		rows[i] = benchRow{int32(i), 0, 0, time.Duration(i) * time.Hour / users}.event()
	}
	d.Observe(now, rows...)
	d.Advance(now, now.Add(-20*time.Minute))
	// One new row per iteration, cycling over the users.
	fresh := make([]Event, 4096)
	for i := range fresh {
		fresh[i] = benchRow{int32(i * 48), 0, uint16(1 + i%50), 30*time.Minute + time.Duration(i)*time.Millisecond}.event()
	}
	i := 0
	for b.Loop() {
		d.Observe(now, fresh[i%len(fresh)])
		i++
	}
}
