package graph

import (
	"bytes"
	"sync"
	"weak"
)

// The body of a response other than a sign-in page (those are decoded as they arrive, stream.go)
// is read whole into a buffer (attempt), decoded, and the buffer handed back (putBuffer) for the
// next response. Decoding copies every string and raw row it keeps out of
// the body (decode_signin.go, decodeRawPage, encoding/json for single objects), so no row handed to
// a caller points into a buffer that a later page overwrites.
//
// One spare buffer is kept for the whole process, not one per client, and only weakly: it is
// reused by the next page if no garbage collection ran in between, and is otherwise garbage like
// any other. So it is never part of the live heap between pages (the runtime's heap goal, and a
// GOMEMLIMIT, see only what the collector holds while it counts a page and commits), while a
// read whose pages come faster than collections reads them all into one buffer instead of
// allocating and clearing 5-15 MB per page. Held strongly, a page-sized spare made the tenant-scale
// day's peak RSS 6.6 MiB worse under GOMEMLIMIT=48MiB (75.4 against 68.8 MiB at 300,000 rows) and
// its CPU 28 % higher: the collector had a page less room. A body larger than maxSpareBytes
// (hostile or broken) is not kept at all.
var spare struct {
	mu sync.Mutex
	p  weak.Pointer[bytes.Buffer]
}

// maxSpareBytes is the largest buffer kept for the next page: a real sign-in page is at most
// 1,000 rows of 15 KB, 14.3 MiB. maxPageBytes (64 MiB) bounds what one response may take.
const maxSpareBytes = 16 << 20

// takeSpare returns the spare buffer, if it is still there, and leaves none.
func takeSpare() *bytes.Buffer {
	spare.mu.Lock()
	defer spare.mu.Unlock()
	b := spare.p.Value()
	spare.p = weak.Pointer[bytes.Buffer]{}
	return b
}

// getBuffer returns an empty buffer for a body of contentLength bytes (-1 if unknown): the spare
// if it is large enough, or else a new one sized for the body.
func getBuffer(contentLength int64) *bytes.Buffer {
	b := takeSpare()
	if contentLength <= 0 || contentLength > maxPageBytes {
		// Unknown length (chunked, or decompressed by the transport): ReadFrom grows what it
		// gets; an oversized body is cut at maxPageBytes+1 and refused by the caller.
		if b == nil {
			b = new(bytes.Buffer)
		}
		return b
	}
	// ReadFrom wants MinRead bytes free before each read, the one that sees EOF included: without
	// them a body of exactly n bytes would grow the buffer to 2n.
	need := int(contentLength) + bytes.MinRead
	if b != nil && b.Cap() >= need {
		return b
	}
	// Sized here rather than by Grow, which would take twice the old capacity when that is more.
	// The eighth more lets the next, slightly larger pages reuse the buffer; it stays within the
	// spare's bound when the body does.
	size := need + need/8
	if need <= maxSpareBytes {
		size = min(size, maxSpareBytes)
	}
	return bytes.NewBuffer(make([]byte, 0, size))
}

// putBuffer hands a buffer back once nothing refers to its bytes any more. Of two buffers handed
// back by concurrent reads the larger is kept, so the next large page finds room.
func putBuffer(b *bytes.Buffer) {
	if b.Cap() > maxSpareBytes {
		return // garbage now rather than reused for a page that does not need it
	}
	b.Reset()
	spare.mu.Lock()
	defer spare.mu.Unlock()
	if old := spare.p.Value(); old != nil && old.Cap() >= b.Cap() {
		return
	}
	spare.p = weak.Make(b)
}
