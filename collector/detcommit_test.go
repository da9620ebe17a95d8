package collector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/detect"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// detEpisodeOps replays the committed transactions of the journal from byte from on and
// applies their ops on the detections part's episode keys to eps ("e" and an id -> value). It
// returns how many episode puts came outside a whole write (one that clears the part first)
// and the puts that wrote a key the value it already held.
func detEpisodeOps(t *testing.T, path string, from int64, eps map[string][]byte) (puts int, same []string) {
	t.Helper()
	type op struct {
		op         byte
		key, value []byte
	}
	var pending []op
	eachJournalOp(t, journalFrom(t, path, from), func(part string, o byte, key, value []byte) {
		if part == partDetections {
			pending = append(pending, op{o, bytes.Clone(key), bytes.Clone(value)})
		}
	}, func() {
		whole := false
		for _, o := range pending {
			switch {
			case o.op == opClear:
				clear(eps)
				whole = true
			case len(o.key) == 0 || o.key[0] != detEpisodeKey:
			case o.op == opPut:
				if prev, ok := eps[string(o.key)]; ok && bytes.Equal(prev, o.value) {
					same = append(same, string(o.key[1:]))
				}
				eps[string(o.key)] = o.value
				if !whole {
					puts++
				}
			case o.op == opDelete:
				delete(eps, string(o.key))
			}
		}
		pending = nil
	})
	return puts, same
}

// Commit after commit, while rows come in (episodes start, grow, end in success, conclude),
// the detections part of the journal writes an episode
// only when it changed: never the value the journal already holds for it, fewer episodes than
// a write of all of them would, and after each step the episodes the journal holds, and the
// state it loads, are exactly the detector's.
func TestDetectionEpisodesWrittenOnlyWhenChanged(t *testing.T) {
	clk := &testClock{now: fixtureEpoch.Add(5 * time.Minute)}
	storage := t.TempDir()
	env := newTestEnv(t, simtenant.Options{PageSize: 25, RateLimit: -1}, fixtureSignIns(), clk.Now, storage)
	if err := env.sim.LoadFixture(bytes.NewReader(repeatedFixture(t, 3, 12*time.Minute))); err != nil {
		t.Fatal(err)
	}
	s := sourceOf(env)
	path := s.store.path("fixture")
	eps := map[string][]byte{}
	var from int64
	puts, heldAtCommits, maxHeld := 0, 0, 0
	// The rows span 54 minutes, some read late; within the hour the first access token lasts
	// (the client's token cache keeps real time).
	for step := range 12 {
		clk.Set(fixtureEpoch.Add(time.Duration(5+5*step) * time.Minute))
		if err := env.poll(t); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() < from { // compacted: the file starts again with a whole write
			from = 0
		}
		n, same := detEpisodeOps(t, path, from, eps)
		from = fi.Size()
		if len(same) > 0 {
			t.Errorf("step %d: episodes %v written again unchanged", step, same)
		}
		puts += n
		s.mu.Lock()
		det := s.det.current()
		want := det.ExportHead().Episodes
		mem := s.det.state()
		s.mu.Unlock()
		heldAtCommits += len(want) // a bound: a poll commits at least once
		maxHeld = max(maxHeld, len(want))
		var got []detect.EpisodeState
		for _, k := range slices.Sorted(maps.Keys(eps)) {
			var e detect.EpisodeState
			if err := json.Unmarshal(eps[k], &e); err != nil {
				t.Fatal(err)
			}
			got = append(got, e)
		}
		if g, w := string(mustJSON(got)), string(mustJSON(want)); g != w {
			t.Fatalf("step %d: the journal holds episodes\n%s\nthe detector\n%s", step, g, w)
		}
		st, err := stateStore{dir: storage}.load("fixture", s.tenantID, clk.Now())
		if err != nil || st == nil || st.Detections == nil {
			t.Fatalf("step %d: load: %v, %v", step, st, err)
		}
		if g, w := string(mustJSON(st.Detections)), string(mustJSON(mem)); g != w {
			t.Fatalf("step %d: loaded detections differ from the detector's\n%s\nin memory\n%s", step, g, w)
		}
	}
	t.Logf("%d episode writes outside whole writes; up to %d episodes held", puts, maxHeld)
	if maxHeld < 2 || puts == 0 {
		t.Fatalf("the fixture made %d episodes and %d episode writes: too little to test", maxHeld, puts)
	}
	if puts >= heldAtCommits {
		t.Errorf("%d episode writes, as many as writing every held episode at each poll (%d)", puts, heldAtCommits)
	}
}

// repeatedFixture is the fixture's rows n times, copy c shifted by c*every with its own row and
// session ids: the same users attacked again, so that episodes start while others grow, end
// and conclude.
func repeatedFixture(t *testing.T, n int, every time.Duration) []byte {
	t.Helper()
	var rows []map[string]any
	if err := json.Unmarshal(loadFixture(t), &rows); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for c := range n {
		for _, r := range rows {
			cp := maps.Clone(r)
			at, err := time.Parse(time.RFC3339, r["createdDateTime"].(string))
			if err != nil {
				t.Fatal(err)
			}
			cp["createdDateTime"] = at.Add(time.Duration(c) * every).Format(time.RFC3339)
			if c > 0 {
				cp["id"] = fmt.Sprintf("%s-%d", r["id"], c)
				if id, ok := r["correlationId"].(string); ok && id != "" {
					cp["correlationId"] = fmt.Sprintf("%s-%d", id, c)
				}
			}
			out = append(out, cp)
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// detectionsPart over random traffic (fatigue bursts, fraud reports and blocks, successes,
// late and duplicate rows), a final time that moves by uneven steps, full commits and restarts
// (a detector restored from what the journal holds, written whole again): after every commit
// the part's ops, replayed as load replays them, decode to exactly the detector's state, and
// no incremental commit writes an episode the value the journal already holds for it.
func TestDetectionsPartLoadsBackAfterEveryCommit(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(seed, 13))
			clk := fixtureEpoch.Add(time.Hour)
			logger := slog.New(slog.DiscardHandler)
			key := make([]byte, 32)
			s := &signInSource{tenant: "t", now: func() time.Time { return clk }}
			s.det = newTenantDetections("t", config.Detections{}, nil, key, logger)
			p := &detectionsPart{src: s}
			var file bytes.Buffer
			kv := &restoredPart{KV: map[string][]byte{}}
			users := make([]string, 8)
			for i := range users {
				users[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			}
			reasons := []string{"user_declined", "no_response_to_notification", "user_declined", "fraud_reported", "user_blocked", "successfully_completed"}
			var fed []detect.Event
			puts, restarts, maxEps := 0, 0, 0
			for c := range 150 {
				clk = clk.Add(time.Duration(rnd.IntN(8)) * time.Minute)
				var evs []detect.Event
				for range rnd.IntN(30) {
					if len(fed) > 0 && rnd.IntN(12) == 0 {
						evs = append(evs, fed[rnd.IntN(len(fed))])
						continue
					}
					at := clk.Add(-time.Duration(rnd.IntN(300)) * time.Second)
					if rnd.IntN(6) == 0 {
						at = clk.Add(-time.Duration(rnd.IntN(40)) * time.Minute)
					}
					u := users[rnd.IntN(2)]
					if rnd.IntN(3) == 0 {
						u = users[rnd.IntN(len(users))]
					}
					reason := reasons[rnd.IntN(len(reasons))]
					outcome := "denied"
					if reason == "successfully_completed" {
						outcome = "satisfied"
					}
					id := fmt.Sprintf("r%d-%d", c, len(fed))
					evs = append(evs, detect.Event{ID: id, Time: at, UserID: u, UPN: "hmac:" + u[len(u)-4:],
						CorrelationID: "c-" + id, AppID: "app", AppName: "App", Country: []string{"FR", "DE", "US"}[rnd.IntN(3)],
						IPAddress: "203.0.113.7", Outcome: outcome, Method: "mobile_app_notification", Reason: reason})
				}
				fed = append(fed, evs...)
				s.det.current().Observe(clk, evs...)
				s.cur.Reconcile = clk.Add(-20 * time.Minute)
				if rnd.IntN(4) == 0 {
					continue // several pages between two commits
				}
				full := rnd.IntN(15) == 0
				from := file.Len()
				tx := &stateTx{w: &file}
				p.writeState(tx, full)
				if err := tx.commit(uint64(c), clk.UnixNano()); err != nil {
					t.Fatal(err)
				}
				whole := false
				eachJournalOp(t, bytes.NewReader(file.Bytes()[from:]), func(part string, op byte, k, v []byte) {
					if part != partDetections {
						return
					}
					switch op {
					case opClear:
						clear(kv.KV)
						whole = true
					case opPut:
						if !whole && len(k) > 0 && k[0] == detEpisodeKey {
							puts++
							if prev, ok := kv.KV[string(k)]; ok && bytes.Equal(prev, v) {
								t.Errorf("commit %d: episode %s written again unchanged", c, k[1:])
							}
						}
						kv.KV[string(k)] = bytes.Clone(v)
					case opDelete:
						delete(kv.KV, string(k))
					}
				}, nil)
				got, err := decodeDetections(kv)
				if err != nil {
					t.Fatalf("commit %d: %v", c, err)
				}
				want := s.det.state()
				if g, w := string(mustJSON(got)), string(mustJSON(want)); g != w {
					t.Fatalf("commit %d (full %v): the journal decodes to\n%s\nthe detector holds\n%s", c, full, g, w)
				}
				maxEps = max(maxEps, len(want.Episodes))
				if rnd.IntN(20) == 0 {
					// A restart: the detector restored from the journal, its part written whole.
					s.det = newTenantDetections("t", config.Detections{}, got, key, logger)
					p = &detectionsPart{src: s}
					restarts++
				}
			}
			t.Logf("%d episode puts in incremental commits, up to %d episodes held, %d restarts", puts, maxEps, restarts)
			if puts == 0 || maxEps < 3 || restarts == 0 {
				t.Fatalf("too little happened to test: %d puts, %d episodes, %d restarts", puts, maxEps, restarts)
			}
		})
	}
}
