package graph

import "encoding/binary"

// Memos: remembering the string tokens of the previous rows of a page.
//
// Graph writes every sign-in row with the same keys in the same order, and most of a row's
// strings (keys, enumerated values, application and policy names, the skipped parts of
// Conditional Access policies) are the same bytes as at the same place in the row before. Scanning
// a string costs a pass over its bytes and, for kept values, a lookup in the intern table;
// comparing it with the token remembered for its place costs one comparison, and a hit skips both.
//
// Why a hit is exactly as good as a scan: a memo holds a token's raw bytes, opening quote to
// closing quote, as the offsets where it was scanned in the page, and only tokens that scanned
// without error. What str returns depends only on the bytes from the opening quote up to the
// closing one, so bytes equal to a remembered token are an equally valid string of the same length,
// escapes or not, with the same decoded value and the same key lookup result. A miss scans as
// before. Offsets point into the page being decoded: memos are reset before each page, since the
// body buffer is reused between pages.
//
// A place is identified by a context: the kind of object (a row, a policy, a step...), the
// member's ordinal within it, and the index of the element of the innermost decoded array (so
// that policy i of a row is compared with policy i of the row before), plus, within a skipped
// value, the ordinal of the string in it.

// keyMemo remembers the keys of the last object of one kind, by ordinal.
type keyMemo struct {
	kind int
	keys [memoKeys]memoKey
}

// memoKeys covers a sign-in row's ~70 keys; later keys are scanned as usual.
const memoKeys = 96

type memoKey struct {
	from, to int32 // the raw token in the page, quotes included
	field    int16 // what keyTable.find returned for it
}

func (m *keyMemo) reset(kind int) { *m = keyMemo{kind: kind} }

// tokenMemo remembers the strings (keys and values) met while skipping a value, by context and
// ordinal within the value; a hash spreads the places over its slots, and a collision only costs a
// miss.
type tokenMemo [1 << tokenMemoBits]struct{ from, to int32 }

const (
	tokenMemoBits = 12 // a realistic sign-in page uses a few hundred slots
	// tokenMemoSeq is how many strings of one skipped value are remembered; the rest are scanned.
	tokenMemoSeq = 64
)

// valueMemo remembers kept strings that are interned (see strField), by context: the token and
// the string it decoded to.
type valueMemo [1 << valueMemoBits]valueMemoEntry

type valueMemoEntry struct {
	from, to int32
	v        string
}

const valueMemoBits = 10

// memoContext identifies member k of an object of kind, within element elem of the innermost
// decoded array.
func memoContext(kind, k int, elem uint32) uint32 {
	return uint32(kind*memoKeys+min(k, memoKeys)) | elem<<16
}

// memoSlot hashes a context and an ordinal onto a table of 1<<bits slots.
func memoSlot(ctx, seq uint32, bits uint) uint32 {
	return ((ctx ^ seq*0x85EBCA6B) * 0x9E3779B1) >> (32 - bits)
}

// sameToken tells whether the n bytes at i equal those at j (both within b). Tokens are mostly
// 4 to 40 bytes and most misses differ in the first eight, so whole words are compared inline
// before calling the runtime's comparison.
func sameToken(b []byte, i, j, n int) bool {
	if n >= 8 {
		if binary.LittleEndian.Uint64(b[i:]) != binary.LittleEndian.Uint64(b[j:]) {
			return false
		}
		if n <= 16 {
			return binary.LittleEndian.Uint64(b[i+n-8:]) == binary.LittleEndian.Uint64(b[j+n-8:])
		}
		return string(b[i+8:i+n]) == string(b[j+8:j+n])
	}
	return string(b[i:i+n]) == string(b[j:j+n])
}

// memoHit tells whether the bytes at s.pos are the remembered token from..to.
func (s *scanner) memoHit(from, to int32) bool {
	n := int(to - from)
	return n > 0 && s.pos+n <= len(s.buf) && sameToken(s.buf, s.pos, int(from), n)
}

// skipMemo skips the value of the member at ctx as skip does. It first compares the whole value
// with the one remembered at ctx (slot seq wholeValue), and failing that each of its strings with
// those remembered there.
//
// A whole value is compared together with the byte that followed it: where a number ends depends
// on that byte ("12" then "3"), where a string, literal or container ends does not. Only values
// nested at most maxMemoNest levels are remembered, so that a hit, which does not count levels,
// cannot hide a value nested beyond maxDepth (members with a context are at most a few levels
// deep).
func (s *scanner) skipMemo(ctx uint32) error {
	if s.memo == nil {
		return s.skip()
	}
	whole := &s.memo[memoSlot(ctx, wholeValue, tokenMemoBits)]
	if n := int(whole.to - whole.from); n > 0 && s.pos+n < len(s.buf) && sameToken(s.buf, s.pos, int(whole.from), n+1) {
		s.pos += n
		return nil
	}
	from := s.pos
	s.memoCtx, s.memoSeq, s.memoSkip, s.skipNest = ctx, 0, true, 0
	err := s.skipValue()
	s.memoSkip = false
	if err == nil && s.skipNest <= maxMemoNest && s.pos < len(s.buf) && s.pos <= maxMemoOffset {
		whole.from, whole.to = int32(from), int32(s.pos)
	}
	return err
}

const (
	wholeValue  = tokenMemoSeq // the ordinal of a skipped value's own slot
	maxMemoNest = 64
)

// skipStr consumes a string at s.pos (which holds '"') while skipping.
func (s *scanner) skipStr() error {
	if !s.memoSkip || s.memoSeq >= tokenMemoSeq {
		_, _, err := s.str()
		return err
	}
	slot := &s.memo[memoSlot(s.memoCtx, s.memoSeq, tokenMemoBits)]
	s.memoSeq++
	if s.memoHit(slot.from, slot.to) {
		s.pos += int(slot.to - slot.from)
		return nil
	}
	from := s.pos
	if _, _, err := s.str(); err != nil {
		return err
	}
	if s.pos <= maxMemoOffset {
		slot.from, slot.to = int32(from), int32(s.pos)
	}
	return nil
}

// maxMemoOffset: memos hold int32 offsets; tokens past 2 GiB are not remembered.
const maxMemoOffset = 1<<31 - 1

// policyMemoEntry remembers one Conditional Access policy of a row, by its index in the row's
// list: Graph lists a tenant's policies in the same order in every row, and a policy's entry
// changes only with its result, so most are the same bytes as in the row before. The bytes
// decode to the same policy only when decoded from scratch, so the decoder consults and fills
// the memo only then (see caPolicies).
type policyMemoEntry struct {
	from, to int32
	p        AppliedConditionalAccessPolicy
}

// maxMemoPolicies: Entra allows 195 Conditional Access policies per tenant.
const maxMemoPolicies = 256
