package collector

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// sourceOf returns the fixture tenant's sign-in source.
func sourceOf(env *testEnv) *signInSource {
	env.manager.mu.Lock()
	defer env.manager.mu.Unlock()
	return env.manager.tenants["fixture"].source
}

// committedCounters is every committed counter of a source, by state key.
func committedCounters(s *signInSource) map[string]float64 {
	out := map[string]float64{}
	s.counts.mu.Lock()
	defer s.counts.mu.Unlock()
	for _, c := range s.counts.cells {
		if c.committed != 0 {
			out[counterKey(c.id.f, c.id.v[:len(c.id.f.labels)]...)] = c.committed
		}
	}
	return out
}

// checkReplayEqualsMemory loads the journal as a restart would and compares it with the source's
// committed state in memory.
func checkReplayEqualsMemory(t *testing.T, storage string, s *signInSource) {
	t.Helper()
	st, err := stateStore{dir: storage}.load("fixture", s.tenantID, time.Now())
	if err != nil || st == nil {
		t.Fatalf("load: %v, %v", st, err)
	}
	if !st.Fresh.Equal(s.cur.Fresh) || !st.Reconcile.Equal(s.cur.Reconcile) || !st.Forgotten.Equal(s.cur.Forgotten) || len(st.Gaps) != len(s.cur.Gaps) {
		t.Errorf("cursors: restored %v %v %v %v, in memory %v %v %v %v", st.Fresh, st.Reconcile, st.Forgotten, st.Gaps, s.cur.Fresh, s.cur.Reconcile, s.cur.Forgotten, s.cur.Gaps)
	}
	if !maps.Equal(st.Seen, s.seen) {
		t.Errorf("seen ids: restored %d, in memory %d", len(st.Seen), len(s.seen))
	}
	if want := committedCounters(s); !maps.Equal(st.Counters, want) {
		t.Errorf("counters: restored %v, committed in memory %v", st.Counters, want)
	}
	mem := s.users.export()
	if !bytes.Equal(st.Users.Salt, mem.Salt) || !maps.Equal(st.Users.Users, mem.Users) {
		t.Errorf("users: restored %d, in memory %d (salt equal: %v)", len(st.Users.Users), len(mem.Users), bytes.Equal(st.Users.Salt, mem.Salt))
	}
}

// Through the fixture timeline (late rows, the reconcile pass forgetting ids, users pruned), every
// commit after the first appends only what changed, and the journal replays to exactly the state
// in memory after each poll.
func TestJournalReplaysToTheCommittedState(t *testing.T) {
	clk := &testClock{now: fixtureEpoch.Add(36 * time.Minute)}
	storage := t.TempDir()
	env := newTestEnv(t, simtenant.Options{PageSize: 25, RateLimit: -1}, fixtureSignIns(), clk.Now, storage)
	if err := env.sim.LoadFixture(bytes.NewReader(loadFixture(t))); err != nil {
		t.Fatal(err)
	}
	s := sourceOf(env)
	var fullSize float64
	for i, at := range []time.Duration{36 * time.Minute, 37 * time.Minute, 61 * time.Minute, 90 * time.Minute, 95 * time.Minute, 26 * time.Hour} {
		clk.Set(fixtureEpoch.Add(at))
		if at > 24*time.Hour { // the simulated tenant's tokens expire by its clock
			renewClient(t, env)
		}
		commitsBefore := testutil.ToFloat64(env.manager.metrics.StateCommits.WithLabelValues("fixture", "success"))
		writtenBefore := testutil.ToFloat64(env.manager.metrics.StateWritten.WithLabelValues("fixture"))
		if err := env.poll(t); err != nil {
			t.Fatal(err)
		}
		commits := testutil.ToFloat64(env.manager.metrics.StateCommits.WithLabelValues("fixture", "success")) - commitsBefore
		written := testutil.ToFloat64(env.manager.metrics.StateWritten.WithLabelValues("fixture")) - writtenBefore
		if i == 0 {
			fullSize = testutil.ToFloat64(env.manager.metrics.StateBytes.WithLabelValues("fixture"))
		} else if commits > 0 && written/commits >= fullSize {
			// Each fixture poll changes a fraction of the state: a commit that wrote the whole
			// state each time would write at least fullSize per commit.
			t.Errorf("poll at +%s: %v commits wrote %v bytes, not less than the full state (%v bytes) each", at, commits, written, fullSize)
		}
		checkReplayEqualsMemory(t, storage, s)
	}
	if len(s.seen) != 0 {
		t.Errorf("a day later: %d ids still remembered, want none", len(s.seen))
	}
}

// The state restored from a journal gives the exact fixture counts after a restart, as the JSON
// file did (TestRestartRestoresCounters checks the counters; this checks the journal was used).
func TestJournalIsTheStateFile(t *testing.T) {
	clk := &testClock{now: fixtureEpoch.Add(36 * time.Minute)}
	storage := filepath.Join(t.TempDir(), "state") // created by the first commit
	env := newTestEnv(t, simtenant.Options{PageSize: 25, RateLimit: -1}, fixtureSignIns(), clk.Now, storage)
	if err := env.sim.LoadFixture(bytes.NewReader(loadFixture(t))); err != nil {
		t.Fatal(err)
	}
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(storage, "fixture.state"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v, want 0600", fi.Mode().Perm())
	}
	di, err := os.Stat(storage)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("storage directory mode %v: readable by others", di.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(storage, "fixture.state.json")); !os.IsNotExist(err) {
		t.Errorf("a JSON state file was written: %v", err)
	}
}

// writeTestJournal commits two transactions through a tenantJournal: the first full, the second
// appended. It returns the journal's path and its size after the first commit.
func writeTestJournal(t *testing.T, dir string, first, second func(tx *stateTx)) (string, int64) {
	t.Helper()
	j := &tenantJournal{store: stateStore{dir: dir}, tenant: "x", tenantID: "tid"}
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	r1, err := j.commit(func(tx *stateTx, full bool) {
		if !full {
			t.Error("first commit of a journal not full")
		}
		first(tx)
	}, t0)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := j.commit(func(tx *stateTx, full bool) {
		if full {
			t.Error("second commit full")
		}
		second(tx)
	}, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if r2.size != r1.size+r2.written {
		t.Errorf("sizes: %d after the first commit, %d after the second that wrote %d", r1.size, r2.size, r2.written)
	}
	j.file.close()
	return stateStore{dir: dir}.path("x"), r1.size
}

func seenValue(ns int64) []byte {
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], uint64(ns))
	return v[:]
}

// A transaction is applied whole or not at all: the journal cut anywhere inside the second
// transaction (a crash while appending, or a torn write at power loss) loads as the first.
func TestJournalTornTailLoadsThePreviousCommit(t *testing.T) {
	dir := t.TempDir()
	first := func(tx *stateTx) {
		tx.Put(partCursors, "", encodeCursors(cursors{Fresh: time.Unix(1000, 0)}, time.Unix(1000, 0)))
		tx.Put(partSeen, "row-a", seenValue(900))
		tx.Put(partSeen, "row-b", seenValue(950))
		tx.SetBlob("detector", []byte("v1"))
	}
	second := func(tx *stateTx) {
		tx.Put(partCursors, "", encodeCursors(cursors{Fresh: time.Unix(2000, 0)}, time.Unix(2000, 0)))
		tx.Delete(partSeen, "row-a")
		tx.Put(partSeen, "row-c", seenValue(1900))
		tx.SetBlob("detector", []byte("v2"))
	}
	p, firstSize := writeTestJournal(t, dir, first, second)
	whole, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	wantFirst := map[string]int64{"row-a": 900, "row-b": 950}
	wantSecond := map[string]int64{"row-b": 950, "row-c": 1900}
	for cut := firstSize; cut <= int64(len(whole)); cut++ {
		if err := os.WriteFile(p, whole[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := stateStore{dir: dir}.load("x", "tid", time.Unix(5000, 0))
		if err != nil || st == nil {
			t.Fatalf("cut at %d of %d: %v", cut, len(whole), err)
		}
		want, fresh, blob := wantFirst, int64(1000), "v1"
		if cut == int64(len(whole)) {
			want, fresh, blob = wantSecond, 2000, "v2"
		}
		if !maps.Equal(st.Seen, want) || st.Fresh.Unix() != fresh || string(st.Parts["detector"].Blob()) != blob {
			t.Errorf("cut at %d of %d: seen %v, fresh %d, detector %q; want %v, %d, %q", cut, len(whole), st.Seen, st.Fresh.Unix(), st.Parts["detector"].Blob(), want, fresh, blob)
		}
	}
	// Garbage after the last commit (a torn record header) is ignored the same way.
	if err := os.WriteFile(p, append(bytes.Clone(whole), 0xE7, 0x4A, 'O', 0, 0), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err := (stateStore{dir: dir}).load("x", "tid", time.Unix(5000, 0)); err != nil || !maps.Equal(st.Seen, wantSecond) {
		t.Errorf("garbage tail: %v, %v", st, err)
	}
}

// Damage inside a committed transaction that is followed by later commits is not a torn end: the
// journal is moved aside as corrupt rather than silently loaded without those commits.
func TestJournalDamageBeforeTheLastCommitIsCorrupt(t *testing.T) {
	dir := t.TempDir()
	p, firstSize := writeTestJournal(t, dir, func(tx *stateTx) {
		tx.Put(partSeen, "row-a", seenValue(900))
	}, func(tx *stateTx) {
		tx.Put(partSeen, "row-b", seenValue(950))
	})
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[firstSize-20] ^= 0x01 // inside the first transaction
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := stateStore{dir: dir}.load("x", "tid", time.Unix(5000, 0))
	if st != nil || !errors.Is(err, errCorruptState) || !strings.Contains(err.Error(), "damaged record") {
		t.Fatalf("load of a journal damaged before its last commit: %v, %v", st, err)
	}
	if aside, _ := filepath.Glob(p + ".corrupt-*"); len(aside) != 1 {
		t.Errorf("journal not moved aside: %v", aside)
	}
}

// Files that are not journals, or belong to another tenant, are moved aside with a clear reason;
// a directory, a FIFO and a symbolic link are covered by hostile_test.go.
func TestJournalRejected(t *testing.T) {
	valid := func(tenant, tenantID string) []byte {
		dir := t.TempDir()
		j := &tenantJournal{store: stateStore{dir: dir}, tenant: tenant, tenantID: tenantID}
		if _, err := j.commit(func(tx *stateTx, _ bool) { tx.Put(partSeen, "r", seenValue(1)) }, time.Unix(1000, 0)); err != nil {
			t.Fatal(err)
		}
		j.file.close()
		data, err := os.ReadFile(stateStore{dir: dir}.path(tenant))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	noCommit := valid("x", "tid")
	noCommit = noCommit[:len(noCommit)-recHeaderLen-10] // header and ops, commit record cut
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"json", []byte(`{"version":1,"tenant":"x"}`), "bad record magic"},
		{"empty", nil, "not a valid state journal"},
		{"another tenant", valid("y", "tid"), `belongs to tenant "y"`},
		{"another tenant id", valid("x", "other"), `tenant_id "other"`},
		{"no commit", noCommit, "no committed transaction"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s := stateStore{dir: dir}
			if err := os.WriteFile(s.path("x"), c.data, 0o600); err != nil {
				t.Fatal(err)
			}
			st, err := s.load("x", "tid", time.Unix(5000, 0))
			if st != nil || !errors.Is(err, errCorruptState) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("load: %v, %v; want a corrupt-state error saying %q", st, err, c.want)
			}
			if _, err := os.Stat(s.path("x")); !os.IsNotExist(err) {
				t.Errorf("file still in place: %v", err)
			}
		})
	}
}

// A journal the exporter cannot read (permissions after a UID change) is reported and moved
// aside, not a crash and not silently replaced.
func TestUnreadableJournalIsMovedAside(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	dir := t.TempDir()
	s := stateStore{dir: dir}
	if _, err := s.save(&tenantState{Tenant: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.path("x"), 0); err != nil {
		t.Fatal(err)
	}
	st, err := s.load("x", "", time.Unix(5000, 0))
	if st != nil || !errors.Is(err, errCorruptState) {
		t.Errorf("load of an unreadable journal: %v, %v", st, err)
	}
}

// Compaction: once the log outgrows compactFactor times the last full write, the next commit
// rewrites the state whole (the file shrinks) and the state reads back the same.
func TestJournalIsCompacted(t *testing.T) {
	dir := t.TempDir()
	j := &tenantJournal{store: stateStore{dir: dir}, tenant: "x", minCompact: 64 << 10}
	state := map[string]int64{}
	write := func(tx *stateTx, full bool) {
		if full {
			tx.Clear(partSeen)
			for id, c := range state {
				tx.Put(partSeen, id, seenValue(c))
			}
		}
	}
	now := time.Unix(10000, 0)
	fulls := 0
	var sizes []int64
	for i := range 3000 {
		// One id in, one out: the state stays at 100 ids, the log grows by both.
		in, out := fmt.Sprintf("row-%06d-%s", i, strings.Repeat("x", 30)), fmt.Sprintf("row-%06d-%s", i-100, strings.Repeat("x", 30))
		state[in] = int64(i)
		delete(state, out)
		res, err := j.commit(func(tx *stateTx, full bool) {
			write(tx, full)
			if !full {
				tx.Delete(partSeen, out)
				tx.Put(partSeen, in, seenValue(int64(i)))
			}
		}, now)
		if err != nil {
			t.Fatal(err)
		}
		if res.full {
			fulls++
		}
		sizes = append(sizes, res.size)
	}
	j.file.close()
	if fulls < 2 {
		t.Fatalf("%d full writes in 3,000 commits: never compacted (last size %d)", fulls, sizes[len(sizes)-1])
	}
	if last := sizes[len(sizes)-1]; last > 80<<10 {
		t.Errorf("journal of %d bytes for a state of 100 ids", last)
	}
	st, err := stateStore{dir: dir}.load("x", "", now)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(st.Seen, state) {
		t.Errorf("after compactions: %d ids restored, want %d", len(st.Seen), len(state))
	}
}

// An existing JSON state file (the format before the journal) is migrated at the first start:
// its counters are exposed at once, no row is counted twice, the first commit writes the journal
// and renames the JSON file aside, and the next start reads the journal.
func TestJSONStateIsMigrated(t *testing.T) {
	storage := t.TempDir()
	clk := &testClock{now: fixtureEpoch.Add(36 * time.Minute)}
	// Run the fixture's first polls with the journal, then turn the state into the JSON file an
	// earlier release would have written at that point.
	env := newTestEnv(t, simtenant.Options{PageSize: 25, RateLimit: -1}, fixtureSignIns(), clk.Now, storage)
	if err := env.sim.LoadFixture(bytes.NewReader(loadFixture(t))); err != nil {
		t.Fatal(err)
	}
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	before := env.sum(t, "entra_signins_total")
	env.manager.Stop()
	s := stateStore{dir: storage}
	st, err := s.load("fixture", env.sim.TenantID(), clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	writeLegacyJSON(t, s.legacyPath("fixture"), st)
	if err := os.Remove(s.path("fixture")); err != nil {
		t.Fatal(err)
	}

	m2, reg2, logs := restartManager(t, env, storage, clk.Now)
	env2 := &testEnv{sim: env.sim, manager: m2, reg: reg2, logs: logs}
	if got := env2.sum(t, "entra_signins_total"); got != before {
		t.Errorf("after migration, before any poll: entra_signins_total = %v, want the JSON file's %v", got, before)
	}
	if got := testutil.ToFloat64(m2.metrics.StateRestore.WithLabelValues("fixture", "restored")); got != 1 {
		t.Errorf("restores_total{result=restored} = %v, want 1", got)
	}
	for _, at := range []time.Duration{61 * time.Minute, 90 * time.Minute, 95 * time.Minute} {
		clk.Set(fixtureEpoch.Add(at))
		if err := m2.pollOnce(t.Context(), "fixture"); err != nil {
			t.Fatal(err)
		}
	}
	compareWithFixture(t, reg2, fixtureFamilies...)
	if _, err := os.Stat(s.legacyPath("fixture")); !os.IsNotExist(err) {
		t.Errorf("JSON state file still in place after the journal was written: %v", err)
	}
	if _, err := os.Stat(s.legacyPath("fixture") + ".migrated"); err != nil {
		t.Errorf("JSON state file not kept aside: %v", err)
	}
	if _, err := os.Stat(s.path("fixture")); err != nil {
		t.Errorf("no journal: %v", err)
	}
	after := env2.sum(t, "entra_signins_total")
	m2.Stop()
	m3, reg3, _ := restartManager(t, env, storage, clk.Now)
	if got := sumFamily(t, reg3, "entra_signins_total"); got != after {
		t.Errorf("restart after migration: %v sign-ins, want %v", got, after)
	}
	_ = m3
}

// writeLegacyJSON writes st in the JSON format of earlier releases (collector/state.go before
// the journal), as that code wrote it.
func writeLegacyJSON(t *testing.T, path string, st *tenantState) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `{"version":1,"tenant":%q,"tenant_id":%q,"fresh":%q,"reconcile":%q,`, st.Tenant, st.TenantID,
		st.Fresh.Format(time.RFC3339Nano), st.Reconcile.Format(time.RFC3339Nano))
	b.WriteString(`"gaps":[`)
	for i, g := range st.Gaps {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"from":%q,"to":%q}`, g.From.Format(time.RFC3339Nano), g.To.Format(time.RFC3339Nano))
	}
	b.WriteString(`],"seen":{`)
	i := 0
	for id, c := range st.Seen {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%d", id, c)
		i++
	}
	b.WriteString(`},"counters":{`)
	i = 0
	for k, v := range st.Counters {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"%s":%v`, strings.ReplaceAll(k, keySep, `\u001f`), v)
		i++
	}
	fmt.Fprintf(&b, `},"users":{"salt":"%s","users":{`, base64.StdEncoding.EncodeToString(st.Users.Salt))
	i = 0
	for k, e := range st.Users.Users {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"%d":[%d,%d]`, k, e.challenged, e.failed)
		i++
	}
	fmt.Fprintf(&b, `}},"committed":%q}`, st.Committed.Format(time.RFC3339Nano))
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A component's part (statePart) is committed in the same transaction as the counters: after a
// restart it is restored as of the same commit. Here a part records how many rows were counted;
// it must equal the restored sign-in counters' sum, and a part that changes nothing between
// commits is not written again.
func TestStatePartIsCommittedWithTheCounters(t *testing.T) {
	clk := &testClock{now: fixtureEpoch.Add(36 * time.Minute)}
	storage := t.TempDir()
	env := newTestEnv(t, simtenant.Options{PageSize: 25, RateLimit: -1}, fixtureSignIns(), clk.Now, storage)
	if err := env.sim.LoadFixture(bytes.NewReader(loadFixture(t))); err != nil {
		t.Fatal(err)
	}
	s := sourceOf(env)
	counted, lastWritten, writes := 0, -1, 0
	s.onCount = func(*graph.SignIn, string) { counted++ }
	s.addPart(blobPart{name: "test.counted", marshal: func(full bool) ([]byte, bool) {
		changed := counted != lastWritten
		if changed || full {
			writes++
		}
		lastWritten = counted
		return []byte(strconv.Itoa(counted)), changed
	}})
	for _, at := range []time.Duration{36 * time.Minute, 61 * time.Minute, 90 * time.Minute, 95 * time.Minute, 95*time.Minute + 30*time.Second} {
		clk.Set(fixtureEpoch.Add(at))
		if err := env.poll(t); err != nil {
			t.Fatal(err)
		}
	}
	commits := int(testutil.ToFloat64(env.manager.metrics.StateCommits.WithLabelValues("fixture", "success")))
	if writes >= commits {
		t.Errorf("part written %d times in %d commits: unchanged blobs are written again", writes, commits)
	}
	st, err := stateStore{dir: storage}.load("fixture", s.tenantID, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for k, v := range st.Counters {
		if strings.HasPrefix(k, familySignIns.id+keySep) {
			sum += v
		}
	}
	if got := string(st.Parts["test.counted"].Blob()); got != strconv.Itoa(int(sum)) || sum == 0 {
		t.Errorf("restored part says %q rows counted, restored counters %v", got, sum)
	}
}

// renewClient gives the fixture tenant a new Graph client (and so a new token): the simulated
// tenant expires tokens by its fake clock, the credential caches them by real time.
func renewClient(t *testing.T, env *testEnv) {
	t.Helper()
	env.manager.mu.Lock()
	r := env.manager.tenants["fixture"]
	env.manager.mu.Unlock()
	c, err := env.manager.newClient(r.cfg, r.pacer)
	if err != nil {
		t.Fatal(err)
	}
	r.client = c
}
