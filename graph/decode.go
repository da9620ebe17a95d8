package graph

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"unsafe"
)

// decodedPage is one page after decoding: the usable rows, the next link, and how many rows were
// skipped because they could not be decoded alone.
type decodedPage[T any] struct {
	rows      []T
	next      string
	malformed int
	firstErr  error // first row error, for the one log line per page
}

var (
	errNoValue       = errors.New(`no "value" array`)
	errNoID          = errors.New(`row has no "id"`)
	errTooDeep       = fmt.Errorf("value nested deeper than %d levels", maxDepth)
	errDuplicateRows = errors.New(`"value" appears twice`)
	errPageTooLarge  = fmt.Errorf("decoded rows would take more than %d MiB", maxDecodedBytes>>20)
)

// keyTable finds a field by its key as encoding/json does: the exact name, or failing that a
// case-insensitive match (bytes.EqualFold), so the decoder reads exactly the rows the reference
// decoder reads.
type keyTable struct {
	names []string
	// slots holds, per keyHash, the names that can equal a key with that hash, exactly or folded.
	slots [keySlots][]uint8
}

const keySlots = 256

// keyHash depends only on what folding keeps: the length and the first and last bytes with 0x20
// set (bytes that fold onto each other in ASCII are equal then). Most unknown keys land in an
// empty slot and cost no comparison at all.
func keyHash(key []byte) int {
	if len(key) == 0 {
		return 0
	}
	return (len(key)*31 + int(key[0]|0x20)*7 + int(key[len(key)-1]|0x20)) % keySlots
}

func newKeyTable(fields map[int]string) *keyTable {
	t := &keyTable{names: make([]string, len(fields))}
	for i, n := range fields {
		t.names[i] = n
		h := keyHash([]byte(n))
		t.slots[h] = append(t.slots[h], uint8(i))
	}
	return t
}

// find returns the field of key, or -1. flags are those of the key's raw form.
func (t *keyTable) find(key []byte, flags strFlags) int {
	if flags&strNonASCII != 0 || (flags&strEscaped != 0 && !isASCII(key)) {
		// Some non-ASCII runes fold onto ASCII letters (the Kelvin sign onto k), so lengths can
		// differ: compare with every name.
		for i, n := range t.names {
			if string(key) == n || bytes.EqualFold(key, unsafe.Slice(unsafe.StringData(n), len(n))) {
				return i
			}
		}
		return -1
	}
	slot := t.slots[keyHash(key)]
	for _, i := range slot {
		if string(key) == t.names[i] {
			return int(i)
		}
	}
	for _, i := range slot {
		if n := t.names[i]; len(n) == len(key) && asciiEqualFold(key, n) {
			return int(i)
		}
	}
	return -1
}

func isASCII(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&msb != 0 {
			return false
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= 0x80 {
			return false
		}
	}
	return true
}

func asciiEqualFold(a []byte, b string) bool {
	for i := range len(a) {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// parsePage walks a page's top level: {"value": [rows...], "@odata.nextLink": "...", ...}.
// row is called with the scanner at each element of "value" and must consume it; it returns only
// errors that make the page unusable.
func parsePage(s *scanner, row func(i int) error) (next string, err error) {
	c, err := s.peek()
	if err != nil {
		return "", err
	}
	if c != '{' {
		if c == 'n' {
			if err := s.literal("null"); err != nil {
				return "", err
			}
			return "", s.end(errNoValue)
		}
		return "", s.errorf("page is not a JSON object")
	}
	s.pos++
	s.depth++
	haveValue := false
	var scratch []byte
	err = members(s, func(key []byte, flags strFlags) error {
		switch pageKeys.find(key, flags) {
		case 0: // value
			if haveValue {
				return errDuplicateRows
			}
			c, err := s.peek()
			if err != nil {
				return err
			}
			switch c {
			case 'n':
				return s.literal("null") // as if absent
			case '[':
				haveValue = true
				s.pos++
				s.depth++
				return elements(s, row)
			}
			return fmt.Errorf(`"value" is not an array`)
		case 1: // @odata.nextLink
			c, err := s.peek()
			if err != nil {
				return err
			}
			switch c {
			case 'n':
				return s.literal("null")
			case '"':
				raw, flags, err := s.str()
				if err != nil {
					return err
				}
				if len(raw) > maxNextLinkBytes {
					return fmt.Errorf("next link longer than %d KiB", maxNextLinkBytes>>10)
				}
				scratch = appendString(scratch[:0], raw, flags)
				next = string(scratch)
				return nil
			}
			return errors.New("next link is not a string")
		}
		return s.skip()
	})
	if err != nil {
		return "", err
	}
	if !haveValue {
		return "", s.end(errNoValue)
	}
	return next, s.end(nil)
}

// end checks that nothing but whitespace follows the page, then returns err.
func (s *scanner) end(err error) error {
	s.ws()
	if s.pos < len(s.buf) {
		return s.errorf("invalid character %q after the page object", s.buf[s.pos])
	}
	return err
}

// members reads an object's members after its opening brace, calling member with each key
// (decoded, with the flags of its raw form) and the scanner at the value, which member must
// consume.
func members(s *scanner, member func(key []byte, flags strFlags) error) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c == '}' {
		s.pos++
		s.depth--
		return nil
	}
	for {
		if c != '"' {
			return s.errorf("invalid character %q looking for beginning of object key", c)
		}
		raw, flags, err := s.str()
		if err != nil {
			return err
		}
		// Invalid UTF-8 needs no replacing here: no known key contains U+FFFD.
		key := raw
		if flags&strEscaped != 0 {
			s.keyBuf = appendString(s.keyBuf[:0], raw, flags)
			key = s.keyBuf
		}
		if s.pos < len(s.buf) && s.buf[s.pos] == ':' {
			s.pos++
		} else if err := s.expect(':', "after object key"); err != nil {
			return err
		}
		if err := member(key, flags); err != nil {
			return err
		}
		if c, err = s.peek(); err != nil {
			return err
		}
		switch c {
		case ',':
			s.pos++
			if c, err = s.peek(); err != nil {
				return err
			}
		case '}':
			s.pos++
			s.depth--
			return nil
		default:
			return s.errorf("invalid character %q after object member", c)
		}
	}
}

// fields reads an object's members after its opening brace like members, but resolves each key
// through keys (remembered in memo) and skips members whose key is not in keys, so member is called
// only with the fields the caller reads.
func fields(s *scanner, keys *keyTable, memo *keyMemo, member func(f int) error) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c == '}' {
		s.pos++
		s.depth--
		return nil
	}
	b := s.buf
	for k := 0; ; k++ {
		if c != '"' {
			return s.errorf("invalid character %q looking for beginning of object key", c)
		}
		f := -1
		if m := &memo.keys[min(k, memoKeys-1)]; k < memoKeys && s.memoHit(m.from, m.to) {
			s.pos += int(m.to - m.from)
			f = int(m.field)
		} else {
			from := s.pos
			raw, flags, err := s.str()
			if err != nil {
				return err
			}
			key := raw
			if flags&strEscaped != 0 {
				s.keyBuf = appendString(s.keyBuf[:0], raw, flags)
				key = s.keyBuf
			}
			f = keys.find(key, flags)
			if k < memoKeys && s.pos <= maxMemoOffset {
				*m = memoKey{from: int32(from), to: int32(s.pos), field: int16(f)}
			}
		}
		if s.pos < len(b) && b[s.pos] == ':' {
			s.pos++
		} else if err := s.expect(':', "after object key"); err != nil {
			return err
		}
		s.memoCtx = memoContext(memo.kind, k, s.memoElem)
		if f >= 0 {
			err = member(f)
		} else {
			err = s.skipMemo(s.memoCtx)
		}
		if err != nil {
			return err
		}
		if c, err = s.peek(); err != nil {
			return err
		}
		switch c {
		case ',':
			s.pos++
			if c, err = s.peek(); err != nil {
				return err
			}
		case '}':
			s.pos++
			s.depth--
			return nil
		default:
			return s.errorf("invalid character %q after object member", c)
		}
	}
}

// elements reads an array's elements after its opening bracket, calling elem with the index and
// the scanner at each element, which elem must consume.
func elements(s *scanner, elem func(i int) error) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c == ']' {
		s.pos++
		s.depth--
		return nil
	}
	for i := 0; ; i++ {
		if err := elem(i); err != nil {
			return err
		}
		if c, err = s.peek(); err != nil {
			return err
		}
		switch c {
		case ',':
			s.pos++
		case ']':
			s.pos++
			s.depth--
			return nil
		default:
			return s.errorf("invalid character %q after array element", c)
		}
	}
}

// decodeRawPage splits a page of any collection into raw rows for callers that decode their own
// row type. The rows are copied out of body, which the caller reuses.
func decodeRawPage(body []byte) (decodedPage[json.RawMessage], error) {
	s := newScanner(body)
	type span struct{ from, to int }
	var spans []span
	next, err := parsePage(&s, func(int) error {
		s.ws()
		from := s.pos
		if err := s.skip(); err != nil {
			return err
		}
		spans = append(spans, span{from, s.pos})
		return nil
	})
	if err != nil {
		return decodedPage[json.RawMessage]{}, fmt.Errorf("decoding page: %w", err)
	}
	// One copy for the whole page: rows are decoded right away and dropped together.
	out := decodedPage[json.RawMessage]{rows: make([]json.RawMessage, len(spans)), next: next}
	if len(spans) > 0 {
		all := bytes.Clone(body[spans[0].from:spans[len(spans)-1].to])
		base := spans[0].from
		for i, sp := range spans {
			out.rows[i] = all[sp.from-base : sp.to-base : sp.to-base]
		}
	}
	return out, nil
}
