package graph

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is the deepest nesting a row may have, counted from the page object (depth 1), the
// same bound as encoding/json's. Real rows nest five levels. Deeper values are still skipped (the
// skipper keeps one bit per level, not a stack frame), but the row that holds them is malformed.
const maxDepth = 10000

// scanner is a JSON tokenizer over a byte slice. It validates everything it reads, skipped
// values included, against the JSON grammar as encoding/json does, so skipping needs no separate
// validation pass (bytes found equal to ones it validated earlier in the page count as validated:
// memo.go). Errors it returns are syntax errors: the page cannot be trusted past them.
type scanner struct {
	buf    []byte
	pos    int
	depth  int      // containers the caller has open (the page object is 1)
	deep   bool     // set when skip met a value nested deeper than maxDepth
	kinds  []uint64 // skip's container stack, one bit per level: 1 for an object
	kind0  [4]uint64
	keyBuf []byte // an escaped key, decoded

	// Remembered string tokens (memo.go); memo is nil when not in use.
	memo     *tokenMemo
	memoCtx  uint32 // the context of the member being read (memoContext)
	memoElem uint32 // the element being read of the innermost decoded array
	memoSeq  uint32 // strings met so far while skipping the member's value
	memoSkip bool   // whether the skip in progress uses memo
	skipNest int    // the deepest level skipValue opened since it was last reset
}

func newScanner(buf []byte) scanner { return scanner{buf: buf} }

type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("invalid JSON at byte %d: %s", e.off, e.msg) }

func (s *scanner) errorf(format string, args ...any) error {
	return &syntaxError{off: s.pos, msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) eof() error {
	return &syntaxError{off: len(s.buf), msg: "unexpected end of input"}
}

// ws skips whitespace; JSON allows only these four bytes. Graph sends compact JSON, so the common
// case is no whitespace at all, checked inline.
func (s *scanner) ws() {
	if s.pos < len(s.buf) && s.buf[s.pos] > ' ' {
		return
	}
	s.wsSlow()
}

func (s *scanner) wsSlow() {
	for s.pos < len(s.buf) {
		switch s.buf[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, or an error at the end of input.
func (s *scanner) peek() (byte, error) {
	if s.pos < len(s.buf) && s.buf[s.pos] > ' ' {
		return s.buf[s.pos], nil
	}
	s.wsSlow()
	if s.pos >= len(s.buf) {
		return 0, s.eof()
	}
	return s.buf[s.pos], nil
}

// expect consumes c after optional whitespace.
func (s *scanner) expect(c byte, what string) error {
	got, err := s.peek()
	if err != nil {
		return err
	}
	if got != c {
		return s.errorf("invalid character %q %s", got, what)
	}
	s.pos++
	return nil
}

// strStop marks the bytes that end the fast scan of a string: the closing quote, an escape, and
// control characters (invalid inside a string).
var strStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'] = true
	t['\\'] = true
	return t
}()

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// strFlags describe a string's raw content.
type strFlags uint8

const (
	strEscaped  strFlags = 1 << iota // holds escapes
	strNonASCII                      // holds bytes >= 0x80 (perhaps invalid UTF-8)
)

// str reads a string at s.pos (which holds '"') and returns its raw content between the quotes.
// Escapes are validated; invalid UTF-8 is not an error (as in encoding/json, it is replaced when
// the string is decoded).
func (s *scanner) str() (raw []byte, flags strFlags, err error) {
	b := s.buf
	start := s.pos + 1
	i := start
	var seen uint64 // every byte scanned, ORed: its top bit tells of non-ASCII bytes
	for {
		// Eight bytes at a time up to the first quote, backslash or control byte. The lowest bit of
		// hit marks that byte exactly: the tricks ("Bit Twiddling Hacks": a zero byte of w^c, a
		// byte of w below 0x20) can only flag false bytes above a true one.
		found := false
		for i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			q := w ^ ('"' * lsb)
			bs := w ^ ('\\' * lsb)
			hit := (((q - lsb) &^ q) | ((bs - lsb) &^ bs) | (w - 0x20*lsb)) &^ w & msb
			if hit != 0 {
				k := uint(bits.TrailingZeros64(hit)) &^ 7 // bit offset of the byte
				seen |= w & (1<<k - 1)
				i += int(k >> 3)
				found = true
				break
			}
			seen |= w
			i += 8
		}
		if !found {
			for i < len(b) && !strStop[b[i]] {
				seen |= uint64(b[i])
				i++
			}
			if i >= len(b) {
				return nil, 0, s.eof()
			}
		}
		switch c := b[i]; c {
		case '"':
			s.pos = i + 1
			if seen&msb != 0 {
				flags |= strNonASCII
			}
			return b[start:i], flags, nil
		case '\\':
			flags |= strEscaped
			if i+1 >= len(b) {
				return nil, 0, s.eof()
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return nil, 0, s.eof()
				}
				if hex4(b[i+2:i+6]) < 0 {
					s.pos = i
					return nil, 0, s.errorf("invalid \\u escape in string")
				}
				i += 6
			default:
				s.pos = i
				return nil, 0, s.errorf("invalid escape %q in string", b[i+1])
			}
		default:
			s.pos = i
			return nil, 0, s.errorf("control character %#02x in string", c)
		}
	}
}

// hex4 decodes four hex digits, or returns -1.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// literal consumes one of true, false, null.
func (s *scanner) literal(word string) error {
	if len(s.buf)-s.pos < len(word) {
		if string(s.buf[s.pos:]) == word[:len(s.buf)-s.pos] {
			return s.eof()
		}
		return s.errorf("invalid literal, want %s", word)
	}
	if string(s.buf[s.pos:s.pos+len(word)]) != word {
		return s.errorf("invalid literal, want %s", word)
	}
	s.pos += len(word)
	return nil
}

// num consumes a number and returns its text: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) num() ([]byte, error) {
	b := s.buf
	start, i := s.pos, s.pos
	digits := func() bool {
		j := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return nil, s.eof()
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		digits()
	default:
		s.pos = i
		return nil, s.errorf("invalid character %q in number", b[i])
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			s.pos = i
			if i >= len(b) {
				return nil, s.eof()
			}
			return nil, s.errorf("invalid character %q after decimal point", b[i])
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			s.pos = i
			if i >= len(b) {
				return nil, s.eof()
			}
			return nil, s.errorf("invalid character %q in exponent", b[i])
		}
	}
	s.pos = i
	return b[start:i], nil
}

// scalar consumes a string, number or literal at s.pos.
func (s *scanner) scalar() error {
	switch c := s.buf[s.pos]; {
	case c == '"':
		_, _, err := s.str()
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		_, err := s.num()
		return err
	default:
		return s.errorf("invalid character %q looking for beginning of value", c)
	}
}

// skip consumes one value of any kind, validating it. Containers are walked iteratively with one
// bit per level, so hostile nesting costs neither stack nor more than an eighth of its own size.
func (s *scanner) skip() error {
	s.memoSkip = false
	return s.skipValue()
}

func (s *scanner) skipValue() error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c == '"' {
		return s.skipStr()
	}
	if c != '{' && c != '[' {
		return s.scalar()
	}
	if s.kinds == nil {
		s.kinds = s.kind0[:]
	}
	d := 0 // levels opened by this call
next:
	for {
		// s.pos is at the start of a value.
		c, err := s.peek()
		if err != nil {
			return err
		}
		if c == '"' {
			if err := s.skipStr(); err != nil {
				return err
			}
		} else if c == '{' || c == '[' {
			d++
			s.skipNest = max(s.skipNest, d)
			s.setKind(d, c == '{')
			if s.depth+d > maxDepth {
				s.deep = true
			}
			s.pos++
			closing := byte(']')
			if c == '{' {
				closing = '}'
			}
			n, err := s.peek()
			if err != nil {
				return err
			}
			if n != closing {
				if c == '{' {
					if err := s.key(); err != nil {
						return err
					}
				}
				continue next
			}
			s.pos++
			d--
		} else if err := s.scalar(); err != nil {
			return err
		}
		// After a value: close containers until one continues with a comma.
		for d > 0 {
			n, err := s.peek()
			if err != nil {
				return err
			}
			obj := s.isObject(d)
			switch {
			case n == ',':
				s.pos++
				if obj {
					if err := s.key(); err != nil {
						return err
					}
				}
				continue next
			case n == '}' && obj, n == ']' && !obj:
				s.pos++
				d--
			default:
				if obj {
					return s.errorf("invalid character %q after object member", n)
				}
				return s.errorf("invalid character %q after array element", n)
			}
		}
		return nil
	}
}

// key consumes an object key and the colon after it (used when skipping).
func (s *scanner) key() error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c != '"' {
		return s.errorf("invalid character %q looking for beginning of object key", c)
	}
	if err := s.skipStr(); err != nil {
		return err
	}
	if s.pos < len(s.buf) && s.buf[s.pos] == ':' {
		s.pos++
		return nil
	}
	return s.expect(':', "after object key")
}

func (s *scanner) setKind(d int, obj bool) {
	w, bit := (d-1)>>6, uint64(1)<<((d-1)&63)
	for w >= len(s.kinds) {
		s.kinds = append(s.kinds, 0)
	}
	if obj {
		s.kinds[w] |= bit
	} else {
		s.kinds[w] &^= bit
	}
}

func (s *scanner) isObject(d int) bool {
	return s.kinds[(d-1)>>6]&(uint64(1)<<((d-1)&63)) != 0
}

// appendString appends the decoded value of a raw string (as returned by str) to dst with
// encoding/json's rules: escapes resolved, invalid UTF-8 bytes and unpaired surrogates replaced
// by U+FFFD.
func appendString(dst, raw []byte, flags strFlags) []byte {
	if flags&strEscaped == 0 {
		return appendUTF8(dst, raw)
	}
	for i := 0; i < len(raw); {
		j := i
		for j < len(raw) && raw[j] != '\\' {
			j++
		}
		dst = appendUTF8(dst, raw[i:j])
		if j == len(raw) {
			break
		}
		// raw[j] is a backslash; str has validated the escape.
		switch c := raw[j+1]; c {
		case 'u':
			r := hex4(raw[j+2:])
			j += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if j+6 <= len(raw) && raw[j] == '\\' && raw[j+1] == 'u' {
					r2 = hex4(raw[j+2:])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					j += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default:
			dst = append(dst, unescape[c])
			j += 2
		}
		i = j
	}
	return dst
}

var unescape = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// appendUTF8 appends b with each byte that is not part of valid UTF-8 replaced by U+FFFD.
func appendUTF8(dst, b []byte) []byte {
	if utf8.Valid(b) {
		return append(dst, b...)
	}
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			dst = append(dst, b[i])
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, b[i:i+n]...)
		}
		i += n
	}
	return dst
}
