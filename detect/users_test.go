package detect

import (
	"math/rand/v2"
	"testing"
)

// TestUserTableAgainstAMap: random adds and removes, the table crowded (up to its 80 % limit,
// where probes run long and wrap around the end) and emptied (where it halves), agree with a Go
// map after every operation.
func TestUserTableAgainstAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	var tb userTable
	want := map[uint64]uint32{} // key -> record number
	keys := make([]uint64, 3000)
	for i := range keys {
		keys[i] = rng.Uint64()
	}
	check := func(op int) {
		t.Helper()
		if tb.len() != len(want) {
			t.Fatalf("op %d: len %d, want %d", op, tb.len(), len(want))
		}
		for _, k := range keys {
			u, rec := tb.get(k)
			w, ok := want[k]
			if ok != (u != nil) || (ok && (rec != w || u.key != k || tb.at(rec) != u)) {
				t.Fatalf("op %d: key %x: got %v/%d, want %v/%d", op, k, u != nil, rec, ok, w)
			}
		}
		n := 0
		for rec, u := range tb.all() {
			n++
			if want[u.key] != rec {
				t.Fatalf("op %d: all yields %x at %d", op, u.key, rec)
			}
		}
		if n != len(want) {
			t.Fatalf("op %d: all yields %d users, want %d", op, n, len(want))
		}
	}
	maxSlots := 0
	for op := range 20_000 {
		// Phases: grow to about 3000 keys, shrink to the first 20 at most, again.
		i := rng.IntN(len(keys))
		k := keys[i]
		_, ok := want[k]
		grow := (op/5000)%2 == 0
		switch {
		case ok && (!grow && i >= 20 || rng.IntN(3) == 0):
			tb.remove(k)
			delete(want, k)
		case !ok && (grow || i < 20):
			_, rec := tb.add(k)
			want[k] = rec
		}
		maxSlots = max(maxSlots, len(tb.slots))
		if len(want)*5 > len(tb.slots)*4 {
			t.Fatalf("op %d: %d keys in %d slots", op, len(want), len(tb.slots))
		}
		if op%97 == 0 || len(want) < 70 {
			check(op)
		}
	}
	check(-1)
	if len(tb.slots) >= maxSlots {
		t.Errorf("the index never shrank: %d slots, %d at most", len(tb.slots), maxSlots)
	}
	c := tb.compacted()
	for _, k := range keys {
		u, _ := c.get(k)
		if _, ok := want[k]; ok != (u != nil) {
			t.Fatalf("compacted: key %x held %v, want %v", k, u != nil, ok)
		}
	}
	if c.len() != len(want) || c.capacity() != chunkSize {
		t.Errorf("compacted: %d users in %d records", c.len(), c.capacity())
	}
}
