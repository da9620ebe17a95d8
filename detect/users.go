package detect

import "iter"

// The users table. A large tenant has some 200,000 users prompted in a day, nearly all of them
// with a few prompts and nothing else, so what one such user costs is most of the detector's
// memory. A Go map of pointers cost 120 to 150 bytes a user (the map's slot, the user struct, the
// prompt slice and its array, the queue entry); here one costs 60 to 70 (64 in
// BenchmarkDay200kUsers/prompts, where the index is three quarters full):
//   - a user is a 40-byte record in chunks of records (never moved, so a *user stays valid until
//     the record is freed): its key and up to inlinePrompts prompts inline; the rarer user with
//     more prompts, or with rows in a detection window, has an ext (Detector.exts) besides;
//   - the index from key to record is an open-addressed table of 4-byte record numbers (a Go
//     map[uint64]uint32 costs 24 to 38 bytes an entry, its slots are 16 bytes and half empty
//     after each growth);
//   - the prompt queue refers to records by number (8 bytes an entry, Detector.promptQ).
//
// A Go map never shrinks: after a peak (a burst of new users, or a day's users aging out after an
// outage) it would hold its peak size for the life of the process. This table halves its index
// when it is an eighth full, and compact (called by Advance) moves the records into fresh chunks
// when a quarter or less of them are used.

// inlinePrompts prompts are kept in the record: three cover most users of a day (a few
// prompted sign-ins a day each); a fourth would cost every user 8 bytes.
const inlinePrompts = 3

// user is the record of one user.
type user struct {
	key  uint64
	in   [inlinePrompts]prompt // the prompts, sorted, while n <= inlinePrompts
	n    uint16                // prompts held: in[:n], or in the ext beyond inlinePrompts
	live bool                  // false: the record is free
	x    uint32                // 1 + the index of the user's ext in Detector.exts, 0 for none
}

// ext is what a minority of users hold besides their record.
type ext struct {
	more []prompt // the prompts, when more than inlinePrompts
	d    *detail
}

const chunkSize = 1024

type userTable struct {
	slots  []uint32 // linear probing by key: 1 + record number, 0 for an empty slot
	chunks []*[chunkSize]user
	free   []uint32 // numbers of free records
	n      int
}

const minSlots = 64

func (t *userTable) len() int { return t.n }

// capacity is the number of records allocated.
func (t *userTable) capacity() int { return len(t.chunks) * chunkSize }

func (t *userTable) at(i uint32) *user { return &t.chunks[i/chunkSize][i%chunkSize] }

// home is the key's first slot: the key is already a hash (FNV-1a), mixed once more so that
// its high bits, which pick the slot, depend on every byte.
func (t *userTable) home(key uint64) int {
	return int((key * 0x9E3779B97F4A7C15) >> 32 & uint64(len(t.slots)-1))
}

// find returns the slot of key, or of the empty slot where it would go.
func (t *userTable) find(key uint64) (slot int, ok bool) {
	if len(t.slots) == 0 {
		return -1, false
	}
	mask := len(t.slots) - 1
	for i := t.home(key); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return i, false
		}
		if t.at(s-1).key == key {
			return i, true
		}
	}
}

// get returns the user's record and number, or nil.
func (t *userTable) get(key uint64) (*user, uint32) {
	if s, ok := t.find(key); ok {
		i := t.slots[s] - 1
		return t.at(i), i
	}
	return nil, 0
}

// add makes a record for a key not in the table.
func (t *userTable) add(key uint64) (*user, uint32) {
	if (t.n+1)*5 > len(t.slots)*4 { // at most 80 % full: linear probing stays short
		t.resize(max(minSlots, 2*len(t.slots)))
	}
	if len(t.free) == 0 {
		base := uint32(t.capacity())
		t.chunks = append(t.chunks, new([chunkSize]user))
		for i := chunkSize - 1; i >= 0; i-- {
			t.free = append(t.free, base+uint32(i))
		}
	}
	i := t.free[len(t.free)-1]
	t.free = t.free[:len(t.free)-1]
	u := t.at(i)
	*u = user{key: key, live: true}
	s, _ := t.find(key)
	t.slots[s] = i + 1
	t.n++
	return u, i
}

// remove frees the key's record.
func (t *userTable) remove(key uint64) {
	s, ok := t.find(key)
	if !ok {
		return
	}
	i := t.slots[s] - 1
	*t.at(i) = user{}
	t.free = append(t.free, i)
	t.n--
	// Backward shift: move up the entries that probed past the emptied slot, so that no
	// tombstone is needed.
	mask := len(t.slots) - 1
	for j := (s + 1) & mask; t.slots[j] != 0; j = (j + 1) & mask {
		h := t.home(t.at(t.slots[j] - 1).key)
		// The entry at j stays when its home is cyclically in (s, j].
		if (s < j && s < h && h <= j) || (s > j && (s < h || h <= j)) {
			continue
		}
		t.slots[s] = t.slots[j]
		s = j
	}
	t.slots[s] = 0
	if len(t.slots) > minSlots && t.n*8 < len(t.slots) {
		t.resize(len(t.slots) / 2)
	}
}

func (t *userTable) resize(n int) {
	old := t.slots
	t.slots = make([]uint32, n)
	for _, s := range old {
		if s != 0 {
			j, _ := t.find(t.at(s - 1).key)
			t.slots[j] = s
		}
	}
}

// all yields the users held, in no particular order.
func (t *userTable) all() iter.Seq2[uint32, *user] {
	return func(yield func(uint32, *user) bool) {
		for c, ch := range t.chunks {
			for j := range ch {
				if ch[j].live && !yield(uint32(c*chunkSize+j), &ch[j]) {
					return
				}
			}
		}
	}
}

// sparse tells when the records are worth moving into fresh chunks: a quarter or less used.
func (t *userTable) sparse() bool {
	return len(t.chunks) > 4 && t.n*4 <= t.capacity()
}

// compacted returns a table with the same users in as few chunks as they need. Record numbers
// change: the caller rebuilds what refers to them.
func (t *userTable) compacted() *userTable {
	out := &userTable{}
	out.resize(max(minSlots, nextPow2(t.n*2)))
	for _, u := range t.all() {
		v, _ := out.add(u.key)
		*v = *u
	}
	return out
}

func nextPow2(n int) int {
	p := 1
	for p < n {
		p *= 2
	}
	return p
}
