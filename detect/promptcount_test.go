package detect

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// propRun drives a detector through random steps and checks, after every step, the incremental
// prompt distribution against a recount and the structures' invariants.
type propRun struct {
	t     *testing.T
	rng   *rand.Rand
	s     Settings
	d     *Detector
	users int
	now   time.Duration // since t0
	final time.Duration
	fed   []Event // rows fed so far, to feed some again
	n     int
	// what happened, so that the test can tell it covered what it is meant to
	restores, snapshots, dupFeeds, fullLists, twiceDue int
}

func (r *propRun) row() Event {
	r.n++
	u := fmt.Sprintf("00000000-0000-4000-8000-%012d", r.rng.IntN(r.users))
	// Mostly around now; some late (out of the window or the horizon), some in the future,
	// a few absurd; several in the same second.
	var off time.Duration
	switch r.rng.IntN(10) {
	case 0:
		off = r.now - time.Duration(r.rng.Int64N(int64(30*time.Hour)))
	case 1:
		off = r.now + time.Duration(r.rng.Int64N(int64(2*time.Hour)))
	case 2:
		off = r.now - time.Duration(r.rng.IntN(3))*time.Second
	default:
		off = r.now - time.Duration(r.rng.Int64N(int64(time.Hour)))
	}
	off = off.Truncate(time.Second) + time.Duration(r.rng.IntN(1000))*time.Millisecond
	id := fmt.Sprintf("r-%06d", r.n)
	switch r.rng.IntN(8) {
	case 0:
		return decline(u, id, off)
	case 1:
		return noResponse(u, id, off)
	case 2:
		return oathFail(u, id, fmt.Sprintf("s-%d", r.rng.IntN(4)), off)
	case 3:
		return row(u, id, off, "satisfied", push, "expired_by_tenant_policy") // a prompt only
	case 4:
		return row(u, id, off, "satisfied", push, "claim_in_token") // nothing the rules read
	default:
		return success(u, id, off)
	}
}

func (r *propRun) step() {
	switch k := r.rng.IntN(20); {
	case k < 8: // a page of rows, some of them fed before, in any order
		var page []Event
		for range 1 + r.rng.IntN(30) {
			if len(r.fed) > 0 && r.rng.IntN(6) == 0 {
				page = append(page, r.fed[r.rng.IntN(len(r.fed))])
				r.dupFeeds++
				continue
			}
			e := r.row()
			page = append(page, e)
			r.fed = append(r.fed, e)
		}
		r.d.Observe(t0.Add(r.now), page...)
	case k < 13: // time moves, rows too maybe, and no Advance: prompts leave the window unpruned
		r.now += r.jump()
		r.d.Observe(t0.Add(r.now), r.row())
	case k < 17:
		r.now += r.jump()
		r.final = max(r.final, r.now-time.Duration(r.rng.Int64N(int64(2*time.Hour))))
		r.d.Advance(t0.Add(r.now), t0.Add(r.final))
	case k < 18: // restart from the exported state, through JSON as the collector stores it
		b, err := json.Marshal(r.d.Export())
		if err != nil {
			r.t.Fatal(err)
		}
		var st State
		if err := json.Unmarshal(b, &st); err != nil {
			r.t.Fatal(err)
		}
		d, err := Restore(r.s, st)
		if err != nil {
			r.t.Fatalf("Restore: %v", err)
		}
		if a, b := stateJSON(r.t, d.Export()), stateJSON(r.t, st); a != b {
			r.t.Fatalf("Export after Restore differs: %s", firstDiff(a, b))
		}
		d.queueSlack = r.d.queueSlack
		r.d = d
		r.restores++
	default:
		r.snapshots++
	}
	r.check()
}

// jump is how far time moves: a second, minutes, or past the whole window.
func (r *propRun) jump() time.Duration {
	switch r.rng.IntN(6) {
	case 0:
		return time.Second
	case 1:
		return time.Duration(r.rng.Int64N(int64(30 * time.Hour)))
	default:
		return time.Duration(r.rng.Int64N(int64(20 * time.Minute)))
	}
}

func (r *propRun) check() {
	t := r.t
	t.Helper()
	got := r.d.Snapshot()
	if want := bruteDistribution(r.d); !equalDistribution(got.Prompts, want) {
		t.Fatalf("after %d rows: prompts %+v, recount %+v", r.n, got.Prompts, want)
	}
	if got.Prompts.MoreThan[len(got.Prompts.MoreThan)-1] > 0 {
		r.fullLists++
	}
	d := r.d
	d.mu.Lock()
	defer d.mu.Unlock()
	// Users with two live entries due: Snapshot must count them once.
	from := (d.now - int64(d.s.PromptWindow)) / int64(time.Second)
	seen := map[uint32]bool{}
	d.promptQ.before(from, func(q promptDue) {
		if _, ok := d.promptDueUser(q); ok {
			if seen[q.rec] {
				r.twiceDue++
			}
			seen[q.rec] = true
		}
	})
	// The counts by prompts held, every user with prompts in the queue, the queue in
	// proportion to the users, the index holding exactly the live records.
	counts := make([]int, len(d.promptUsers))
	live, exts, details := 0, 0, 0
	for rec, u := range d.users.all() {
		live++
		if got, _ := d.users.get(u.key); got != u {
			t.Fatalf("user %x not found by its key", u.key)
		}
		if u.x != 0 {
			exts++
			if e := d.exts[u.x-1]; (e.more == nil && e.d == nil) || (u.n > inlinePrompts) != (e.more != nil) ||
				(e.more != nil && len(e.more) != int(u.n)) {
				t.Fatalf("user %x: %d prompts, ext %+v", u.key, u.n, e)
			}
			if d.exts[u.x-1].d != nil {
				details++
			}
		} else if u.n > inlinePrompts {
			t.Fatalf("user %x: %d prompts and no ext", u.key, u.n)
		}
		if u.n == 0 && u.x == 0 {
			t.Fatalf("user %x held with nothing", u.key)
		}
		if u.n == 0 {
			continue
		}
		counts[u.n]++
		found := false
		for _, q := range d.promptQ {
			found = found || q == promptDue{uint32(d.earliest(u)), rec}
		}
		if !found {
			t.Fatalf("user %x has no prompt queue entry for its earliest prompt", u.key)
		}
	}
	if live != d.users.len() || details != d.nDetails || exts != len(d.exts)-len(d.freeExts) {
		t.Fatalf("%d live records, len %d, %d details (counted %d), %d exts used of %d, %d free",
			live, d.users.len(), details, d.nDetails, exts, len(d.exts), len(d.freeExts))
	}
	for n := 1; n < len(counts); n++ {
		if counts[n] != d.promptUsers[n] {
			t.Fatalf("%d users hold %d prompts, counted %d", counts[n], n, d.promptUsers[n])
		}
	}
	if len(d.promptQ) > 2*d.nPrompted+d.queueSlack || len(d.detailQ) > 2*d.nDetails+d.queueSlack {
		t.Fatalf("queues of %d and %d for %d and %d users", len(d.promptQ), len(d.detailQ), d.nPrompted, d.nDetails)
	}
	for _, u := range d.users.all() {
		dd := d.detailOf(u)
		if dd == nil || dd.due == math.MaxInt64 {
			continue
		}
		found := false
		for _, q := range d.detailQ {
			found = found || q == due{dd.due, u.key}
		}
		if !found {
			t.Fatalf("user %x has no detail queue entry", u.key)
		}
	}
}

// TestPromptCountsEqualARecount: Snapshot's prompts-per-user distribution, kept as prompts come
// and go, equals counting every user's prompts in (now-PromptWindow, now] at Snapshot time, over
// random sequences of rows (duplicates, out of order, late, future, absurd), time moving with and
// without Advance, restores from the exported state, a small promptKeep (many lists at the cap)
// and a small MaxUsers (rows dropped, Advance run by Observe).
func TestPromptCountsEqualARecount(t *testing.T) {
	total := propRun{}
	for seed := range uint64(60) {
		s := DefaultSettings()
		switch seed % 3 {
		case 0:
			s.PromptBuckets = []int{1, 2, 4} // keeps 5: lists at the cap, inline and not
		case 1:
			s.PromptBuckets = []int{2} // keeps 3: never beyond the record's own array
			s.MaxUsers = 12
		}
		d, err := New(s)
		if err != nil {
			t.Fatal(err)
		}
		if seed%2 == 0 {
			d.queueSlack = 0 // rebuild the queues as soon as stale entries outnumber live ones
		}
		r := &propRun{t: t, rng: rand.New(rand.NewPCG(seed, 13)), s: s, d: d, users: 20 + int(seed%4)*10,
			now: time.Duration(seed) * time.Hour}
		r.final = r.now - lag
		steps := 400
		if testing.Short() {
			steps = 100
		}
		for range steps {
			r.step()
		}
		total.restores += r.restores
		total.snapshots += r.snapshots
		total.dupFeeds += r.dupFeeds
		total.fullLists += r.fullLists
		total.twiceDue += r.twiceDue
		self := r.d.Snapshot().Self
		if seed%3 == 1 && self.CapHits == 0 {
			t.Errorf("seed %d: MaxUsers %d never reached", seed, s.MaxUsers)
		}
		if self.LateRows == 0 || self.Duplicates == 0 {
			t.Errorf("seed %d: %d late rows, %d duplicates", seed, self.LateRows, self.Duplicates)
		}
	}
	t.Logf("%d restores, %d snapshots, %d rows fed again, %d snapshots with a full list, %d users due twice",
		total.restores, total.snapshots, total.dupFeeds, total.fullLists, total.twiceDue)
	if total.restores == 0 || total.dupFeeds == 0 || total.fullLists == 0 {
		t.Fatalf("not what the test is for")
	}
}

// TestUserTableShrinksAfterAPeak: after a peak of users, the records move into as few chunks as
// they need, the index halves, the queue is rebuilt, and nothing held changes (Export).
func TestUserTableShrinksAfterAPeak(t *testing.T) {
	d := newDetector(t, nil)
	var rows []Event
	for i := range 10_000 {
		u := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		rows = append(rows, row(u, fmt.Sprintf("p-%d", i), time.Duration(i)*time.Second, "satisfied", push, "expired_by_tenant_policy"))
		if i%50 == 0 { // a few stay: prompted again later, with rows in a detection window
			rows = append(rows, success(u, fmt.Sprintf("q-%d", i), 20*time.Hour+time.Duration(i)*time.Second),
				decline(u, fmt.Sprintf("r-%d", i), 20*time.Hour+time.Duration(i)*time.Second))
			rows = append(rows, prompts(u, fmt.Sprintf("m-%d", i), 4, 20*time.Hour, time.Minute)...)
		}
	}
	now := 23 * time.Hour
	d.Observe(t0.Add(now), rows...)
	d.Advance(t0.Add(now), t0.Add(now-lag))
	peakRecords, peakSlots := d.users.capacity(), len(d.users.slots)
	if d.users.len() < 10_000 {
		t.Fatalf("%d users at the peak", d.users.len())
	}
	// The first 8 hours' prompts leave the window: 200 users stay.
	later := 24*time.Hour + 3*time.Hour
	d.Observe(t0.Add(later)) // time moves without Advance first: Snapshot counts right anyway
	if got, want := d.Snapshot().Prompts, bruteDistribution(d); !equalDistribution(got, want) {
		t.Fatalf("prompts %+v, recount %+v", got, want)
	}
	d.Advance(t0.Add(later), t0.Add(later-lag))
	if d.users.len() != 200 {
		t.Fatalf("%d users after the peak, want 200", d.users.len())
	}
	if d.users.capacity() >= peakRecords || d.users.capacity() > 2*chunkSize || len(d.users.slots) >= peakSlots {
		t.Errorf("after the peak: %d records (peak %d), %d slots (peak %d)", d.users.capacity(), peakRecords, len(d.users.slots), peakSlots)
	}
	if len(d.promptQ) > 2*d.nPrompted+1024 {
		t.Errorf("prompt queue of %d for %d users", len(d.promptQ), d.nPrompted)
	}
	// Each of them holds 6 prompts (more than inline), no detail any more.
	if len(d.exts) != 200 || len(d.freeExts) != 0 || d.nDetails != 0 {
		t.Errorf("%d exts, %d free, %d details; want 200, 0, 0", len(d.exts), len(d.freeExts), d.nDetails)
	}
	// The same state through a restore (which builds everything afresh) gives the same export
	// and snapshot.
	r, err := Restore(d.Settings(), d.Export())
	if err != nil {
		t.Fatal(err)
	}
	if a, b := stateJSON(t, r.Export()), stateJSON(t, d.Export()); a != b {
		t.Errorf("export differs from a restored copy: %s", firstDiff(a, b))
	}
	if a, b := marshalIndent(t, r.Snapshot()), marshalIndent(t, d.Snapshot()); string(a) != string(b) {
		t.Errorf("snapshot differs from a restored copy: %s", firstDiff(string(a), string(b)))
	}
	// Still works: new users go in, the index finds them all.
	d.Observe(t0.Add(later), prompts(alice, "late", 4, later-time.Minute, time.Second)...)
	if got := len(heldBy(d, alice)); got != 4 {
		t.Errorf("alice holds %d prompts, want 4", got)
	}
}
