package graph

import (
	"errors"
	"fmt"
	"io"
)

// Decoding a sign-in page as it arrives.
//
// A sign-in page is 5-15 MB (1,000 rows of 5-15 KB that $select cannot trim). Read whole, it is the
// largest thing the exporter holds, for the time it takes to decode it: at a million rows a day it
// was half of the live heap during a read. decodeStream reads the body through a window of
// streamWindowBytes instead and hands the rows to the same decoder as decodePage: the scanner and
// every per-row function are unchanged and still see one contiguous []byte. Bytes only move at row
// boundaries, where nothing but the memos (memo.go) holds an offset into the window:
//
//   - Before and after each row, a window with less than streamLowWater bytes left is refilled:
//     the bytes before the previous row's start are dropped (the memos compare a row mostly with
//     the one before), the rest moved to the front, the memos' offsets shifted with them (those
//     pointing into dropped bytes forgotten), and the window topped up from the body.
//   - A row that fails while the body has more to give may have met the end of the window rather
//     than a mistake: it is rolled back (its rows, slab entries and the policies it remembered) and
//     decoded again after a refill, which grows the window when the row alone fills it. Only a
//     failure at the end of the body is the row's own. A row that succeeded read its closing brace,
//     so it never saw a cut.
//   - Outside the rows (the page object's other members, which Graph sends as a few hundred bytes
//     of @odata links), a syntax error while the body has more to give is not decided here: the
//     page is fetched again and decoded whole (errNeedWhole), so every body decodes to exactly what
//     decodePage makes of it. A real page never needs that (TestStreamDecodesLikeWhole*).
//
// Rows are still delivered only after the whole page parsed (fetchPage hands out decodedPage).

const (
	// streamWindowBytes is the window's starting size: 30-100 rows. It grows only for a row larger
	// than what is left of it.
	streamWindowBytes = 512 << 10
	// streamLowWater is how much must be left in the window before a row starts and after it
	// ends: more than a realistic row, and more than a page's trailing links.
	streamLowWater = 64 << 10
)

var (
	errNeedWhole  = errors.New("the page's top level did not fit the decoding window")
	errPageTooBig = fmt.Errorf("page larger than %d MiB", maxPageBytes>>20)
)

// bodyReadError is the body's own failure (a connection cut mid-page): the request is retried, as
// when a whole body could not be read.
type bodyReadError struct{ err error }

func (e *bodyReadError) Error() string { return "reading body: " + e.err.Error() }
func (e *bodyReadError) Unwrap() error { return e.err }

// pageStream is the part of a body not yet in the window.
type pageStream struct {
	r     io.Reader
	eof   bool
	read  int // bytes read from the body so far
	base  int // page offset of the window's first byte (for error offsets)
	keep  int // window offset of the first byte a refill must keep: the previous row's start
	chunk []byte
}

// fill reads into buf's free capacity until it is full or the body ends.
func (p *pageStream) fill(buf []byte) ([]byte, error) {
	for !p.eof && len(buf) < cap(buf) {
		n, err := p.r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		p.read += n
		if p.read > maxPageBytes {
			return buf, errPageTooBig
		}
		switch {
		case err == io.EOF:
			p.eof = true
		case err != nil:
			return buf, &bodyReadError{err}
		}
	}
	return buf, nil
}

// rest reads what follows the page object to its end: whitespace only, as decodePage's end() asks.
func (p *pageStream) rest() error {
	if p.chunk == nil {
		p.chunk = make([]byte, 4096)
	}
	for !p.eof {
		buf, err := p.fill(p.chunk[:0])
		if err != nil {
			return err
		}
		for i, c := range buf {
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				return fmt.Errorf("decoding page: %w", &syntaxError{off: p.read - len(buf) + i, msg: fmt.Sprintf("invalid character %q after the page object", c)})
			}
		}
	}
	return nil
}

// decodeStream decodes a sign-in page from body as decodePage decodes it whole. size is the
// body's length if known (Content-Length), else -1. Errors that are the body's (bodyReadError,
// errPageTooBig) are returned as they are; errNeedWhole asks for the page to be decoded whole.
func (d *signInDecoder) decodeStream(body io.Reader, size int64) (decodedPage[SignIn], error) {
	src := &pageStream{r: body}
	if d.windowSize == 0 {
		d.windowSize, d.lowMark = streamWindowBytes, streamLowWater
	}
	if cap(d.window) < d.windowSize || cap(d.window) > 2*d.windowSize {
		d.window = make([]byte, 0, d.windowSize) // a window grown for a huge row is not kept
	}
	buf, err := src.fill(d.window[:0])
	if err != nil {
		return decodedPage[SignIn]{}, err
	}
	d.src = src
	// Slabs are sized for the page when its length is known; otherwise they start at the window's
	// share and grow (and, reused by the read's next pages, grow once).
	estimate := len(buf)
	if size > 0 && size <= maxPageBytes {
		estimate = int(size)
	}
	page, err := d.decode(buf, estimate)
	d.src = nil
	d.window = d.s.buf[:0]
	d.s.buf = nil
	switch {
	case err == nil && !src.eof:
		err = src.rest()
	case errors.Is(err, errNoValue) && !src.eof:
		// decodePage checks what follows the page object before saying it had no rows.
		if rerr := src.rest(); rerr != nil {
			err = rerr
		}
	case errors.Is(err, errNeedWhole):
		// Fetched again only if the body is one the whole decoder would take (a page over
		// maxPageBytes is refused without a second request) and arrived whole.
		for !src.eof {
			if _, ferr := src.fill(d.window[:0]); ferr != nil {
				return decodedPage[SignIn]{}, ferr
			}
		}
	}
	if err != nil {
		return decodedPage[SignIn]{}, err
	}
	return page, nil
}

// streamRow decodes row i of a streamed page (see the top of this file).
func (d *signInDecoder) streamRow() error {
	s, src := &d.s, d.src
	if len(s.buf)-s.pos < d.lowMark && !src.eof {
		if err := d.refill(false); err != nil {
			return err
		}
	}
	start := s.pos
	saved := d.s
	rows, strs, steps, provs, policies := len(d.rows), len(d.strs), len(d.steps), len(d.provs), len(d.policies)
	for {
		err := d.row()
		if err == nil || src.eof {
			if err != nil {
				return err
			}
			break
		}
		// Roll the row back and decode it again with more of the body.
		clear(d.rows[rows:])
		d.rows, d.strs, d.steps, d.provs, d.policies = d.rows[:rows], d.strs[:strs], d.steps[:steps], d.provs[:provs], d.policies[:policies]
		for i := range d.policyMemo {
			// Policies remembered by the failed attempt point into slab entries it gave back.
			if int(d.policyMemo[i].from) >= start {
				d.policyMemo[i] = policyMemoEntry{}
			}
		}
		buf := d.s.buf
		d.s = saved
		d.s.buf = buf
		src.keep = min(src.keep, start)
		moved := src.keep
		if err := d.refill(true); err != nil {
			return err
		}
		start -= moved
		saved.pos = s.pos
	}
	src.keep = start
	if len(s.buf)-s.pos < d.lowMark && !src.eof {
		return d.refill(false)
	}
	return nil
}

// refill drops the window's bytes before src.keep, shifts every offset held into it, and reads
// more of the body. grow: the row being decoded needs more than the window holds.
func (d *signInDecoder) refill(grow bool) error {
	s, src := &d.s, d.src
	keep := src.keep
	if keep > 0 {
		n := copy(s.buf, s.buf[keep:])
		s.buf = s.buf[:n]
		s.pos -= keep
		src.base += keep
		src.keep = 0
		d.shiftMemos(int32(keep))
	}
	if grow && len(s.buf) == cap(s.buf) {
		bigger := make([]byte, len(s.buf), 2*cap(s.buf))
		copy(bigger, s.buf)
		s.buf = bigger
	}
	var err error
	s.buf, err = src.fill(s.buf)
	return err
}

// shiftMemos moves every memo's offsets delta bytes back, forgetting those that pointed before.
func (d *signInDecoder) shiftMemos(delta int32) {
	for k := range d.memos {
		for i := range d.memos[k].keys {
			if m := &d.memos[k].keys[i]; !shiftSpan(&m.from, &m.to, delta) {
				*m = memoKey{}
			}
		}
	}
	for i := range d.tokens {
		if m := &d.tokens[i]; !shiftSpan(&m.from, &m.to, delta) {
			m.from, m.to = 0, 0
		}
	}
	for i := range d.values {
		if m := &d.values[i]; !shiftSpan(&m.from, &m.to, delta) {
			*m = valueMemoEntry{}
		}
	}
	for i := range d.policyMemo {
		if m := &d.policyMemo[i]; !shiftSpan(&m.from, &m.to, delta) {
			*m = policyMemoEntry{}
		}
	}
}

// shiftSpan moves a remembered token's offsets delta bytes back. It reports false when the token
// lay in the dropped bytes (an empty memo, to == 0, stays as it is).
func shiftSpan(from, to *int32, delta int32) bool {
	if *to == 0 {
		return true
	}
	if *from < delta {
		return false
	}
	*from, *to = *from-delta, *to-delta
	return true
}

// DecodeSignInPageFrom decodes one beta sign-ins page as SignIns does, from r as it arrives,
// through the decoding window; size is the body's length if known, else -1. It gives what
// DecodeSignInPage gives for the same bytes, or, for a page whose top level does not fit the
// window, an error after which SignIns would fetch the page again and decode it whole. It serves
// benchmarks that measure the client's own path.
func DecodeSignInPageFrom(r io.Reader, size int64) (rows []SignIn, nextLink string, malformed int, err error) {
	var d signInDecoder
	p, err := d.decodeStream(r, size)
	return p.rows, p.next, p.malformed, err
}
