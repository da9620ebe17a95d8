package collector

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// The journal is a tenant's durable state as an append-only log of transactions (one file per
// tenant, docs/architecture.md says why not bbolt). A commit appends only what changed since the
// previous one (ids read and forgotten, counters that moved, users whose times changed, the
// cursors) followed by a commit record, and fdatasyncs; a transaction is applied at load only if
// its commit record is there, so a crash at any point leaves the state of the last complete
// commit. When the log has grown to a few times the size of the full state it is compacted: the
// full state is written to a temporary file that replaces the log by rename, the same atomic step
// the former JSON file used.
//
// Layout:
//
//	file    = header-record, then records
//	record  = magic 0xE7 0x4A | kind (1 byte) | payload length (uint32 BE) | CRC-32C (uint32 BE) of
//	          kind, length and payload | payload
//	header  = kind 'H': uvarint format version | str tenant | str tenant_id
//	ops     = kind 'O': op*, where op is one of
//	            'p' str part   the part the following ops apply to
//	            'P' str key, str value   set key to value
//	            'D' str key    delete key
//	            'X'            delete every key of the part
//	commit  = kind 'C': uvarint sequence | varint Unix ns of the commit
//	str     = uvarint length | bytes
//
// A state is a set of named parts, each a map of keys to values (a blob is the value of the key
// ""): the collector's own parts (cursors, seen, counters, users) and the parts other components
// register (statePart), all written in the same transaction.

const (
	journalVersion = 1
	recMagic0      = 0xE7
	recMagic1      = 0x4A
	recHeaderLen   = 11
	recHeader      = 'H'
	recOps         = 'O'
	recCommit      = 'C'

	opPart   = 'p'
	opPut    = 'P'
	opDelete = 'D'
	opClear  = 'X'

	// maxRecord bounds one record: the ops of a transaction are cut into records of about
	// recordTarget bytes, and only a single value larger than that (a component's blob) makes a
	// record longer.
	recordTarget = 64 << 10
	maxRecord    = 64 << 20
	// maxJournalBytes bounds what load reads: compaction keeps the log within a few times the
	// full state (a few MB at 200,000 users); something far larger is not ours.
	maxJournalBytes = 1 << 30
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errJournalFormat marks a journal that is not one or is damaged before its last commit.
var errJournalFormat = errors.New("not a valid state journal")

// stateTx collects the ops of one transaction and writes them as records of about recordTarget
// bytes to w. A discarding transaction (persistence disabled) writes nothing.
type stateTx struct {
	w       io.Writer
	buf     []byte
	part    string
	hasPart bool
	err     error
	n       int64 // bytes written to w
}

func (tx *stateTx) selectPart(part string) {
	if tx.hasPart && tx.part == part {
		return
	}
	tx.part, tx.hasPart = part, true
	tx.buf = append(tx.buf, opPart)
	tx.buf = appendStr(tx.buf, part)
}

// Put sets key of part to value.
func (tx *stateTx) Put(part, key string, value []byte) {
	if tx.w == nil {
		return
	}
	tx.selectPart(part)
	tx.buf = append(tx.buf, opPut)
	tx.buf = appendStr(tx.buf, key)
	tx.buf = binary.AppendUvarint(tx.buf, uint64(len(value)))
	tx.buf = append(tx.buf, value...)
	tx.maybeFlush()
}

// PutKey is Put with a binary key (no string conversion on the hot path).
func (tx *stateTx) PutKey(part string, key, value []byte) {
	if tx.w == nil {
		return
	}
	tx.selectPart(part)
	tx.buf = append(tx.buf, opPut)
	tx.buf = binary.AppendUvarint(tx.buf, uint64(len(key)))
	tx.buf = append(tx.buf, key...)
	tx.buf = binary.AppendUvarint(tx.buf, uint64(len(value)))
	tx.buf = append(tx.buf, value...)
	tx.maybeFlush()
}

// Delete removes key from part.
func (tx *stateTx) Delete(part, key string) {
	if tx.w == nil {
		return
	}
	tx.selectPart(part)
	tx.buf = append(tx.buf, opDelete)
	tx.buf = appendStr(tx.buf, key)
	tx.maybeFlush()
}

// DeleteKey is Delete with a binary key.
func (tx *stateTx) DeleteKey(part string, key []byte) {
	if tx.w == nil {
		return
	}
	tx.selectPart(part)
	tx.buf = append(tx.buf, opDelete)
	tx.buf = binary.AppendUvarint(tx.buf, uint64(len(key)))
	tx.buf = append(tx.buf, key...)
	tx.maybeFlush()
}

// Clear removes every key of part (before writing a part whole, or to drop it).
func (tx *stateTx) Clear(part string) {
	if tx.w == nil {
		return
	}
	tx.selectPart(part)
	tx.buf = append(tx.buf, opClear)
	tx.maybeFlush()
}

// SetBlob replaces part with a single value, under the key "".
func (tx *stateTx) SetBlob(part string, value []byte) {
	tx.Clear(part)
	tx.Put(part, "", value)
}

func (tx *stateTx) maybeFlush() {
	if len(tx.buf) >= recordTarget {
		tx.flush()
	}
}

// flush writes the buffered ops as one record. The next record starts by naming its part again,
// so that every record can be read on its own.
func (tx *stateTx) flush() {
	if len(tx.buf) == 0 || tx.err != nil {
		tx.buf = tx.buf[:0]
		return
	}
	tx.writeRecord(recOps, tx.buf)
	tx.buf = tx.buf[:0]
	tx.hasPart = false
}

func (tx *stateTx) writeRecord(kind byte, payload []byte) {
	if tx.err != nil {
		return
	}
	if len(payload) > maxRecord {
		tx.err = fmt.Errorf("state record of %d bytes is larger than the %d allowed", len(payload), maxRecord)
		return
	}
	var h [recHeaderLen]byte
	h[0], h[1], h[2] = recMagic0, recMagic1, kind
	binary.BigEndian.PutUint32(h[3:7], uint32(len(payload)))
	crc := crc32.Update(0, crcTable, h[2:7])
	crc = crc32.Update(crc, crcTable, payload)
	binary.BigEndian.PutUint32(h[7:11], crc)
	if _, err := tx.w.Write(h[:]); err != nil {
		tx.err = err
		return
	}
	if _, err := tx.w.Write(payload); err != nil {
		tx.err = err
		return
	}
	tx.n += int64(recHeaderLen + len(payload))
}

func (tx *stateTx) writeHeader(tenant, tenantID string) {
	var p []byte
	p = binary.AppendUvarint(p, journalVersion)
	p = appendStr(p, tenant)
	p = appendStr(p, tenantID)
	tx.writeRecord(recHeader, p)
}

// commit ends the transaction: what is buffered, then the commit record.
func (tx *stateTx) commit(seq uint64, unixNano int64) error {
	tx.flush()
	var p []byte
	p = binary.AppendUvarint(p, seq)
	p = binary.AppendVarint(p, unixNano)
	tx.writeRecord(recCommit, p)
	return tx.err
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// journalHeader is what the first record of a journal says.
type journalHeader struct {
	version          uint64
	tenant, tenantID string
}

// journalApply receives the ops of committed transactions, in order. key and value are valid
// only during the call.
type journalApply func(part string, op byte, key, value []byte) error

// replayJournal reads a journal: its header, then the ops of every committed transaction, in
// order, through apply. Records after the last commit record belong to a transaction a crash cut
// short and are ignored. A damaged record followed by a valid commit record is damage inside
// committed data, not a torn end, and fails the load. It returns the header, the last commit's
// sequence number and time, and whether any transaction was committed.
func replayJournal(f io.ReaderAt, size int64, apply journalApply) (journalHeader, uint64, int64, error) {
	var hdr journalHeader
	// Pass 1: find the end of the last commit record.
	end, lastSeq, lastTime, err := scanJournal(f, size, &hdr)
	if err != nil {
		return hdr, 0, 0, err
	}
	if end == 0 {
		return hdr, 0, 0, fmt.Errorf("%w: no committed transaction", errJournalFormat)
	}
	// Pass 2: apply every ops record before that end.
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, end), 64<<10)
	var payload []byte
	for {
		kind, p, err := readRecord(r, payload)
		if err == io.EOF {
			break
		}
		if err != nil {
			return hdr, 0, 0, err
		}
		payload = p
		if kind != recOps {
			continue
		}
		if err := applyOps(p, apply); err != nil {
			return hdr, 0, 0, err
		}
	}
	return hdr, lastSeq, lastTime, nil
}

// scanJournal validates the records and returns the offset just after the last commit record.
func scanJournal(f io.ReaderAt, size int64, hdr *journalHeader) (end int64, seq uint64, unixNano int64, err error) {
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, size), 64<<10)
	var off int64
	var payload []byte
	first := true
	for {
		kind, p, rerr := readRecord(r, payload)
		if rerr == io.EOF {
			return end, seq, unixNano, nil
		}
		if rerr != nil {
			if first {
				return 0, 0, 0, fmt.Errorf("%w: %v", errJournalFormat, rerr)
			}
			// A record that cannot be read: the end a crash tore off, unless a committed
			// transaction follows it.
			if commitAfter(f, off+1, size) {
				return 0, 0, 0, fmt.Errorf("%w: damaged record at byte %d before later commits: %v", errJournalFormat, off, rerr)
			}
			return end, seq, unixNano, nil
		}
		payload = p
		if first {
			if kind != recHeader {
				return 0, 0, 0, fmt.Errorf("%w: first record is not a header", errJournalFormat)
			}
			if *hdr, err = parseHeader(p); err != nil {
				return 0, 0, 0, err
			}
			first = false
		} else if kind == recHeader {
			return 0, 0, 0, fmt.Errorf("%w: second header at byte %d", errJournalFormat, off)
		}
		off += int64(recHeaderLen + len(p))
		if kind == recCommit {
			s, n := binary.Uvarint(p)
			t, m := binary.Varint(p[max(n, 0):])
			if n <= 0 || m <= 0 {
				return 0, 0, 0, fmt.Errorf("%w: malformed commit record at byte %d", errJournalFormat, off)
			}
			end, seq, unixNano = off, s, t
		}
	}
}

// readRecord reads one record, reusing buf for its payload.
func readRecord(r *bufio.Reader, buf []byte) (byte, []byte, error) {
	var h [recHeaderLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if err == io.EOF {
			return 0, nil, io.EOF
		}
		return 0, nil, fmt.Errorf("record header: %w", err)
	}
	if h[0] != recMagic0 || h[1] != recMagic1 {
		return 0, nil, errors.New("bad record magic")
	}
	n := binary.BigEndian.Uint32(h[3:7])
	if n > maxRecord {
		return 0, nil, fmt.Errorf("record length %d over the limit", n)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return 0, nil, fmt.Errorf("record payload: %w", io.ErrUnexpectedEOF)
	}
	crc := crc32.Update(0, crcTable, h[2:7])
	if crc32.Update(crc, crcTable, buf) != binary.BigEndian.Uint32(h[7:11]) {
		return 0, nil, errors.New("record checksum mismatch")
	}
	switch h[2] {
	case recHeader, recOps, recCommit:
	default:
		return 0, nil, fmt.Errorf("unknown record kind %q", h[2])
	}
	return h[2], buf, nil
}

// commitAfter reports whether a valid commit record starts anywhere in [from, size).
func commitAfter(f io.ReaderAt, from, size int64) bool {
	const chunk = 64 << 10
	buf := make([]byte, chunk+recHeaderLen+32)
	for off := from; off < size; off += chunk {
		n, _ := f.ReadAt(buf, off)
		for i := 0; i+1 < n; i++ {
			if buf[i] != recMagic0 || buf[i+1] != recMagic1 {
				continue
			}
			var h [recHeaderLen + 32]byte
			m, _ := f.ReadAt(h[:], off+int64(i))
			if m < recHeaderLen || h[2] != recCommit {
				continue
			}
			l := int(binary.BigEndian.Uint32(h[3:7]))
			if l > 32 || m < recHeaderLen+l {
				continue
			}
			crc := crc32.Update(0, crcTable, h[2:7])
			if crc32.Update(crc, crcTable, h[recHeaderLen:recHeaderLen+l]) == binary.BigEndian.Uint32(h[7:11]) {
				return true
			}
		}
	}
	return false
}

func parseHeader(p []byte) (journalHeader, error) {
	var h journalHeader
	d := opDecoder{b: p}
	h.version = d.uvarint()
	h.tenant = string(d.str())
	h.tenantID = string(d.str())
	if d.err != nil {
		return h, fmt.Errorf("%w: malformed header", errJournalFormat)
	}
	return h, nil
}

func applyOps(p []byte, apply journalApply) error {
	d := opDecoder{b: p}
	part, hasPart := "", false
	for len(d.b) > 0 && d.err == nil {
		op := d.b[0]
		d.b = d.b[1:]
		switch op {
		case opPart:
			part, hasPart = string(d.str()), true
			continue
		case opPut, opDelete, opClear:
		default:
			return fmt.Errorf("%w: unknown op %q", errJournalFormat, op)
		}
		if !hasPart {
			return fmt.Errorf("%w: op before any part", errJournalFormat)
		}
		var key, value []byte
		if op != opClear {
			key = d.str()
		}
		if op == opPut {
			value = d.str()
		}
		if d.err != nil {
			break
		}
		if err := apply(part, op, key, value); err != nil {
			return err
		}
	}
	if d.err != nil {
		return fmt.Errorf("%w: %v", errJournalFormat, d.err)
	}
	return nil
}

type opDecoder struct {
	b   []byte
	err error
}

func (d *opDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("truncated number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *opDecoder) str() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errors.New("truncated string")
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}

// journalFile is a tenant's open journal: appended to by commits, replaced whole by compactions.
type journalFile struct {
	f        *os.File
	w        *bufio.Writer
	size     int64 // bytes in the file
	fullSize int64 // size of the last full write: compaction compares the log with it
	seq      uint64
	// minCompact is compactMin unless a test sets it lower.
	minCompact int64
}

// Compaction: the log is rewritten whole once it is compactFactor times the size of the last full
// write and at least compactMin bytes. Each row costs about 90 bytes in the log (its id written
// once and forgotten once), so at 1,000,000 rows a day and a 5 MB full state the log is compacted
// every few hours.
const (
	compactFactor = 4
	compactMin    = 4 << 20
)

func (j *journalFile) wantsCompaction() bool {
	m := j.minCompact
	if m == 0 {
		m = compactMin
	}
	return j.size > max(m, compactFactor*j.fullSize)
}

func (j *journalFile) close() {
	if j != nil && j.f != nil {
		j.f.Close()
	}
}

// errCommitWrite is a write of the journal that failed; the caller drops the open journal and the
// next commit writes the full state into a new file.
var errCommitWrite = errors.New("writing state journal")

// appendCommit appends one transaction and makes it durable.
func (j *journalFile) appendCommit(write func(tx *stateTx), unixNano int64) (int64, error) {
	tx := &stateTx{w: j.w}
	write(tx)
	if err := tx.commit(j.seq+1, unixNano); err != nil {
		return 0, fmt.Errorf("%w: %w", errCommitWrite, err)
	}
	if err := j.w.Flush(); err != nil {
		return 0, fmt.Errorf("%w: %w", errCommitWrite, err)
	}
	if err := fdatasync(j.f); err != nil {
		return 0, fmt.Errorf("syncing state journal: %w", err)
	}
	j.seq++
	j.size += tx.n
	return tx.n, nil
}

// newJournalBuffer is the write buffer of a journal.
func newJournalBuffer(f *os.File) *bufio.Writer { return bufio.NewWriterSize(f, 64<<10) }
