package collector

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/detect"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// eachJournalOp reads journal records from r to its end, calling op for each operation of a
// transaction and commit (when not nil) at each commit record, in the order written.
func eachJournalOp(t *testing.T, r io.Reader, op func(part string, op byte, key, value []byte), commit func()) {
	t.Helper()
	br := bufio.NewReader(r)
	for {
		kind, p, err := readRecord(br, nil)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		switch kind {
		case recOps:
			if err := applyOps(p, func(part string, o byte, key, value []byte) error {
				op(part, o, key, value)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		case recCommit:
			if commit != nil {
				commit()
			}
		}
	}
}

// journalFrom opens the journal at path positioned at byte from; the file closes with the test.
func journalFrom(t *testing.T, path string, from int64) io.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	return f
}

// partsWrittenAfter replays the journal's records from byte from on and returns, per committed
// transaction, the parts its ops touched and how many op bytes each took.
func partsWrittenAfter(t *testing.T, path string, from int64) []map[string]int {
	t.Helper()
	var commits []map[string]int
	cur := map[string]int{}
	eachJournalOp(t, journalFrom(t, path, from), func(part string, _ byte, key, value []byte) {
		cur[part] += 1 + len(key) + len(value)
	}, func() {
		commits = append(commits, cur)
		cur = map[string]int{}
	})
	return commits
}

// A commit after which no component changed writes none of the components' parts (only the
// cursors, which carry the commit time); the commit after a change writes the changed parts, and
// the journal then restores exactly the components' state in memory.
func TestUnchangedPartsAreNotWrittenAgain(t *testing.T) {
	clk := &testClock{now: fixtureEpoch.Add(36 * time.Minute)}
	storage := t.TempDir()
	env := newTestEnv(t, simtenant.Options{PageSize: 25, RateLimit: -1}, fixtureSignIns(), clk.Now, storage)
	if err := env.sim.LoadFixture(bytes.NewReader(loadFixture(t))); err != nil {
		t.Fatal(err)
	}
	s := sourceOf(env)
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	path := s.store.path("fixture")
	commitAndList := func() map[string]int {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		err = s.commit()
		s.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		cs := partsWrittenAfter(t, path, fi.Size())
		if len(cs) != 1 {
			t.Fatalf("%d commits appended, want 1 (a compaction rewrites the file: the test's journal is too small for one)", len(cs))
		}
		return cs[0]
	}
	// The first commit after the poll may still carry what the poll's last promote changed (a
	// summary bucket forgotten); the one after it has nothing new.
	commitAndList()
	idle := commitAndList()
	for _, p := range []string{partSummary, partCoverage, partDetections} {
		if n := idle[p]; n != 0 {
			t.Errorf("a commit after no change wrote %d bytes of part %q", n, p)
		}
	}
	if idle[partCursors] == 0 {
		t.Errorf("the idle commit wrote no cursors: %v", idle)
	}

	// New rows (the rest of the fixture, read late) and a later clock change the summary and
	// the detector; the coverage part changes only if a row says something newer about the
	// fixture's one application, which its late rows do not.
	clk.Set(fixtureEpoch.Add(95 * time.Minute))
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	written := map[string]int{}
	for _, c := range partsWrittenAfter(t, path, fi.Size()) {
		for p, n := range c {
			written[p] += n
		}
	}
	for _, p := range []string{partSummary, partDetections} {
		if written[p] == 0 {
			t.Errorf("part %q not written after new rows: %v", p, written)
		}
	}

	st, err := stateStore{dir: storage}.load("fixture", s.tenantID, clk.Now())
	if err != nil || st == nil {
		t.Fatalf("load: %v, %v", st, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if got, want := st.Summary, s.summary.export(); !reflect.DeepEqual(got, want) {
		t.Errorf("summary: restored %v, in memory %v", got, want)
	}
	if got, want := st.Coverage, s.coverage.export(); !reflect.DeepEqual(got, want) {
		t.Errorf("coverage: restored %v, in memory %v", got, want)
	}
	want := s.det.state()
	if st.Detections == nil || want == nil || len(want.Prompts) == 0 {
		t.Fatalf("detections: restored %v, in memory %v: the fixture should prompt users", st.Detections, want)
	}
	gotJSON, _ := json.Marshal(st.Detections)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("detections: restored\n%s\nin memory\n%s", gotJSON, wantJSON)
	}
}

// versionedPart on its own: it encodes and writes only when the version moved, writes its last
// blob again in a full commit, and encodes nothing for a transaction that keeps nothing.
func TestVersionedPart(t *testing.T) {
	version, calls := uint64(7), 0
	value := map[string]int{"a": 1}
	p := &versionedPart{name: "test", version: func() uint64 { return version },
		value: func() any { calls++; return value }}
	write := func(full bool) (blobs []string) {
		var buf bytes.Buffer
		tx := &stateTx{w: &buf}
		p.writeState(tx, full)
		if err := tx.commit(1, 0); err != nil {
			t.Fatal(err)
		}
		eachJournalOp(t, &buf, func(part string, op byte, key, v []byte) {
			if part == "test" && op == opPut && len(key) == 0 {
				blobs = append(blobs, string(v))
			}
		}, nil)
		return blobs
	}
	steps := []struct {
		name      string
		change    func()
		full      bool
		want      []string
		wantCalls int
	}{
		{"first commit", func() {}, false, []string{`{"a":1}`}, 1},
		{"no change", func() {}, false, nil, 1},
		{"no change, full commit", func() {}, true, []string{`{"a":1}`}, 1},
		{"change", func() { value["b"] = 2; version++ }, false, []string{`{"a":1,"b":2}`}, 2},
		{"no change again", func() {}, false, nil, 2},
		// A version that goes back (a component rebuilt) is a change too.
		{"other version", func() { value["c"] = 3; version = 0 }, false, []string{`{"a":1,"b":2,"c":3}`}, 3},
	}
	for _, st := range steps {
		st.change()
		if got := write(st.full); !slices.Equal(got, st.want) || calls != st.wantCalls {
			t.Errorf("%s: wrote %q with %d encodings so far, want %q with %d", st.name, got, calls, st.want, st.wantCalls)
		}
	}
	// Persistence off: nothing is encoded, and the next commit that keeps bytes writes the part.
	version++
	p.writeState(&stateTx{}, false)
	if calls != 3 {
		t.Errorf("a discarding transaction encoded the part")
	}
	if got := write(false); !slices.Equal(got, []string{`{"a":1,"b":2,"c":3}`}) {
		t.Errorf("after a discarding transaction: wrote %q", got)
	}
}

// The pseudonym is HMAC-SHA-256 of the case-folded UPN, first 16 bytes in hex, whatever was
// hashed before with the reused hash, and from any number of goroutines.
func TestPseudonymReusesItsHash(t *testing.T) {
	key := bytes.Repeat([]byte{0x5a}, 32)
	d := &tenantDetections{key: key}
	want := func(upn string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(strings.ToLower(upn)))
		return "hmac:" + hex.EncodeToString(m.Sum(nil)[:16])
	}
	upns := []string{"Alice@Contoso.com", "bob@contoso.com", "ÉLODIE@contoso.com", "alice@contoso.com", strings.Repeat("x", 300) + "@contoso.com"}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				u := upns[(g+i)%len(upns)]
				if got := d.pseudonym(u); got != want(u) {
					t.Errorf("pseudonym(%q) = %q, want %q", u, got, want(u))
					return
				}
			}
		}()
	}
	wg.Wait()
	if d.pseudonym("Alice@Contoso.com") != d.pseudonym("alice@contoso.com") {
		t.Error("pseudonyms differ by case")
	}
	if d.pseudonym("") != "" {
		t.Error("empty UPN pseudonymised")
	}
}

// The components' versions move exactly when what they export changes.
func TestComponentVersions(t *testing.T) {
	t.Run("coverage", func(t *testing.T) {
		tr := newCoverageTracker(config.Coverage{}, nil)
		const app = "00000002-0000-0ff1-ce00-000000000000"
		at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		steps := []struct {
			name  string
			do    func()
			moves bool
		}{
			{"new application", func() { tr.app(app, "Exchange", at) }, true},
			{"same application, same row time", func() { tr.app(app, "Exchange", at) }, false},
			{"older row with another name", func() { tr.app(app, "Old name", at.Add(-time.Hour)) }, false},
			{"no application", func() { tr.app("", "", at) }, false},
			{"newer row with another name", func() { tr.app(app, "Exchange Online", at.Add(time.Minute)) }, true},
			{"not a GUID", func() { tr.app("not-a-guid", "x", at) }, false},
			{"inventory read", func() { tr.applyInventory(nil, at) }, true},
		}
		for _, st := range steps {
			before, exp := tr.version(), tr.export()
			st.do()
			if moved := tr.version() != before; moved != st.moves {
				t.Errorf("%s: version moved %v, want %v", st.name, moved, st.moves)
			}
			if !st.moves && !reflect.DeepEqual(exp, tr.export()) {
				t.Errorf("%s: export changed but the version did not", st.name)
			}
		}
	})
}

// The detector's part loads from both layouts: the whole state at key "" (earlier versions) and
// a head with a key per user (detectionsPart); "null" is detection off; damage is an error.
func TestDecodeDetections(t *testing.T) {
	det, err := detect.New(detect.DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for i, u := range []string{"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"} {
		det.Observe(now, detect.Event{ID: fmt.Sprint("r", i), Time: now.Add(-time.Minute), UserID: u, UPN: "hmac:x",
			Outcome: "denied", Method: "mobile_app_notification", Reason: "user_declined"})
	}
	det.Observe(now, detect.Event{ID: "f", Time: now.Add(-time.Minute), UserID: "00000000-0000-4000-8000-000000000003",
		Outcome: "denied", Method: "mobile_app_notification", Reason: "fraud_reported"})
	det.Advance(now, now.Add(-20*time.Minute))
	whole := det.Export()
	wantJSON := string(mustJSON(whole))

	head := det.ExportHead()
	if len(head.Episodes) == 0 {
		t.Fatal("no episode: the test needs one kept apart")
	}
	perUser := &restoredPart{KV: map[string][]byte{}}
	for _, e := range head.Episodes {
		perUser.KV["e"+e.ID] = mustJSON(e)
	}
	head.Episodes = nil
	perUser.KV[""] = mustJSON(head)
	for _, k := range det.UserKeys() {
		rec, _ := det.ExportUser(k)
		key := []byte{'u', 0, 0, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint64(key[1:], k)
		perUser.KV[string(key)] = mustJSON(rec)
	}
	for name, p := range map[string]*restoredPart{
		"whole blob": {KV: map[string][]byte{"": mustJSON(whole)}},
		"per user":   perUser,
	} {
		got, err := decodeDetections(p)
		if err != nil || got == nil || string(mustJSON(got)) != wantJSON {
			t.Errorf("%s: %v\n%s\nwant\n%s", name, err, mustJSON(got), wantJSON)
		}
	}
	for name, p := range map[string]*restoredPart{"absent": nil, "off": {KV: map[string][]byte{"": []byte("null")}}} {
		if got, err := decodeDetections(p); got != nil || err != nil {
			t.Errorf("%s: %v, %v", name, got, err)
		}
	}
	bad := map[string]*restoredPart{
		"unknown key":       {KV: map[string][]byte{"": mustJSON(det.ExportHead()), "abc": []byte("{}")}},
		"short user key":    {KV: map[string][]byte{"": mustJSON(det.ExportHead()), "u1234567": []byte("{}")}},
		"bad record":        {KV: map[string][]byte{"": mustJSON(det.ExportHead()), "u12345678": []byte("{")}},
		"bad prompts":       {KV: map[string][]byte{"": mustJSON(det.ExportHead()), "u12345678": []byte(`{"prompts":"AgE="}`)}},
		"bad episode":       {KV: map[string][]byte{"": mustJSON(det.ExportHead()), "ex": []byte("[")}},
		"episode elsewhere": {KV: map[string][]byte{"": mustJSON(det.ExportHead()), "ex": []byte(`{"id":"y"}`)}},
		"bad head JSON":     {KV: map[string][]byte{"": []byte("{")}},
	}
	for name, p := range bad {
		if _, err := decodeDetections(p); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}
