package collector

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/detect"
)

// tenantState is everything that must survive a restart for counting to stay exactly-once: the
// two cursors, the time ranges skipped by the fresh cursor, the ids that a later read may return
// again, the counter values, the distinct-user tracker, and the parts other components commit
// with them. It is what load restores; commits write it to the tenant's journal (journal.go),
// all of it or only what changed, in one transaction, so the ids and the counts they produced
// are always committed together.
type tenantState struct {
	Tenant    string
	TenantID  string    // a name reused for another tenant must not inherit its cursors
	Fresh     time.Time // every row created before this was read at least once, except inside Gaps
	Reconcile time.Time // every row created before this, except inside Gaps, is final: counted, or missed for good
	Gaps      []interval
	Forgotten time.Time          // newest createdDateTime of a forgotten id: no read may start at or before it
	Seen      map[string]int64   // row id -> createdDateTime (Unix ns), for rows a later read may return (cursor.go forgettable)
	Counters  map[string]float64 // durable counter key (see counters.go) -> value
	Users     usersState
	// Parts are the restored parts of other components (statePart), by name.
	Parts     map[string]*restoredPart
	Committed time.Time
	// Migrated is the JSON state file this state was read from (the format before the journal),
	// renamed aside once the first commit has written the journal.
	Migrated string

	// The parts of the components committed with the sign-in state, decoded from Parts at load
	// (componentParts): the landing page's last 24 hours (summary.go), the admitted policy and
	// application ids (coverage.go), the attack detector's windows and episodes (detections.go).
	Summary    *summaryState
	Coverage   *coverageState
	Detections *detect.State
}

// interval is a half-open time range [From, To).
type interval struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// A statePart is a component of a tenant's state (a detector's per-user state, a set of admitted
// policies) committed in the same transaction as the cursors, ids and counters: a crash keeps
// all of them as of the same commit, or none. A part is a map of keys to values in the journal;
// a blob is the value of the key "" (stateTx.SetBlob).
type statePart interface {
	// stateName is the part's name in the journal. The collector's own parts use "cursors",
	// "seen", "counters", "users" and "users.salt"; never reuse a name for another meaning.
	stateName() string
	// writeState writes into tx what changed since its last call, or the whole part when full
	// is true (the first commit after a start, a compaction, the commit after a failed one).
	// Since a failed commit is always followed by a full one, a part may forget what it wrote
	// as soon as it wrote it.
	writeState(tx *stateTx, full bool)
}

// restoredPart is what the journal held for a part at load: its keys and values.
type restoredPart struct {
	KV map[string][]byte
}

// Blob returns the value of key "" (a part written with SetBlob), nil when none.
func (p *restoredPart) Blob() []byte {
	if p == nil {
		return nil
	}
	return p.KV[""]
}

// blobPart adapts a component that serialises itself whole into a statePart: marshal is called
// at every commit and returns the blob and whether it changed since the last call (an unchanged
// blob is written again only in full commits).
type blobPart struct {
	name    string
	marshal func(full bool) (blob []byte, changed bool)
}

func (b blobPart) stateName() string { return b.name }

func (b blobPart) writeState(tx *stateTx, full bool) {
	if blob, changed := b.marshal(full); changed || full {
		tx.SetBlob(b.name, blob)
	}
}

// The collector's own parts.
const (
	partCursors = "cursors" // key "": cursors and commit time (encodeCursors)
	partSeen    = "seen"    // key: row id; value: createdDateTime, Unix ns, int64 big-endian
)

var reservedParts = map[string]bool{partCursors: true, partSeen: true, partCounters: true, partUsers: true, partUsersSalt: true}

// stateStore keeps one journal per tenant in a directory. An empty directory disables
// persistence (counts then start from zero at every start, as in a plain exporter).
type stateStore struct {
	dir string
}

func (s stateStore) enabled() bool { return s.dir != "" }

// path is the tenant's journal. Tenant names are validated to [a-zA-Z0-9_.-]{1,64} by the config
// package, so they are safe file names.
func (s stateStore) path(tenant string) string { return filepath.Join(s.dir, tenant+".state") }

// legacyPath is the tenant's JSON state file of earlier versions, migrated at first start.
func (s stateStore) legacyPath(tenant string) string {
	return filepath.Join(s.dir, tenant+".state.json")
}

// errCorruptState marks a state file that exists but cannot be used.
var errCorruptState = errors.New("corrupt state file")

// load returns the tenant's state, nil when there is none: from its journal, or else from a JSON
// state file of an earlier version (migrated: the first commit writes the journal). A file that
// cannot be read or decoded, or belongs to another tenant or format version, is renamed aside (so
// that nobody loses it) and reported with errCorruptState; the caller then starts from the
// look-back.
func (s stateStore) load(tenant, tenantID string, now time.Time) (*tenantState, error) {
	if !s.enabled() {
		return nil, nil
	}
	p := s.path(tenant)
	f, size, err := openStateFile(p, maxJournalBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return s.loadLegacy(tenant, tenantID, now)
	}
	// A file that exists but cannot be read (permissions after a UID change, I/O error) is
	// treated like a corrupt one: moved aside, so that the first commit of the fresh start does
	// not silently replace it.
	problem := err
	var st *tenantState
	if problem == nil {
		st, problem = replayState(f, size, tenant, tenantID)
		f.Close()
	}
	if problem == nil {
		problem = st.decodeComponentParts()
	}
	if problem != nil {
		return nil, moveAside(p, problem, now)
	}
	return st, nil
}

func moveAside(p string, problem error, now time.Time) error {
	aside := fmt.Sprintf("%s.corrupt-%d", p, now.Unix())
	if err := os.Rename(p, aside); err != nil {
		return fmt.Errorf("%w %s (%v), and moving it aside failed: %w", errCorruptState, p, problem, err)
	}
	return fmt.Errorf("%w %s: %v; moved to %s", errCorruptState, p, problem, aside)
}

// replayState rebuilds a tenant's state from its journal.
func replayState(f *os.File, size int64, tenant, tenantID string) (*tenantState, error) {
	st := &tenantState{Tenant: tenant, Seen: map[string]int64{}, Counters: map[string]float64{},
		Users: usersState{Users: map[uint64]userEntry{}}, Parts: map[string]*restoredPart{}}
	apply := func(part string, op byte, key, value []byte) error {
		switch part {
		case partCursors:
			if op == opPut {
				return decodeCursors(value, st)
			}
		case partSeen:
			switch op {
			case opPut:
				if len(value) != 8 {
					return fmt.Errorf("%w: seen value of %d bytes", errJournalFormat, len(value))
				}
				st.Seen[string(key)] = int64(binary.BigEndian.Uint64(value))
			case opDelete:
				delete(st.Seen, string(key))
			case opClear:
				clear(st.Seen)
			}
		case partCounters:
			switch op {
			case opPut:
				if len(value) != 8 {
					return fmt.Errorf("%w: counter value of %d bytes", errJournalFormat, len(value))
				}
				st.Counters[string(key)] = math.Float64frombits(binary.BigEndian.Uint64(value))
			case opDelete:
				delete(st.Counters, string(key))
			case opClear:
				clear(st.Counters)
			}
		case partUsersSalt:
			switch op {
			case opPut:
				st.Users.Salt = append([]byte(nil), value...)
			case opClear, opDelete:
				st.Users.Salt = nil
			}
		case partUsers:
			switch op {
			case opPut:
				if len(key) != 8 || len(value) != 8 {
					return fmt.Errorf("%w: user entry of %d+%d bytes", errJournalFormat, len(key), len(value))
				}
				st.Users.Users[binary.BigEndian.Uint64(key)] = userEntry{
					challenged: binary.BigEndian.Uint32(value[:4]), failed: binary.BigEndian.Uint32(value[4:])}
			case opDelete:
				if len(key) == 8 {
					delete(st.Users.Users, binary.BigEndian.Uint64(key))
				}
			case opClear:
				clear(st.Users.Users)
			}
		default:
			rp := st.Parts[part]
			if rp == nil {
				rp = &restoredPart{KV: map[string][]byte{}}
				st.Parts[part] = rp
			}
			switch op {
			case opPut:
				rp.KV[string(key)] = append([]byte(nil), value...)
			case opDelete:
				delete(rp.KV, string(key))
			case opClear:
				clear(rp.KV)
			}
		}
		return nil
	}
	hdr, _, committed, err := replayJournal(f, size, apply)
	if err != nil {
		return nil, err
	}
	switch {
	case hdr.version != journalVersion:
		return nil, fmt.Errorf("format version %d, want %d", hdr.version, journalVersion)
	case hdr.tenant != tenant:
		return nil, fmt.Errorf("file belongs to tenant %q", hdr.tenant)
	case hdr.tenantID != "" && hdr.tenantID != tenantID:
		return nil, fmt.Errorf("file belongs to tenant_id %q, the configuration now says %q", hdr.tenantID, tenantID)
	}
	st.TenantID = hdr.tenantID
	if committed != 0 && st.Committed.IsZero() {
		st.Committed = time.Unix(0, committed).UTC()
	}
	return st, nil
}

// openStateFile opens a state file for reading without following a symbolic link (whoever can
// write the storage directory must not be able to point the exporter at another file), and only
// if it is a regular file of a sane size (a FIFO would block, a device would never end).
func openStateFile(p string, limit int64) (*os.File, int64, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, 0, fmt.Errorf("%s is a symbolic link; the state file must be a regular file", p)
		}
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s is not a regular file (%s)", p, fi.Mode().Type())
	}
	if fi.Size() > limit {
		f.Close()
		return nil, 0, fmt.Errorf("%s is %d bytes, more than the %d a state file can be", p, fi.Size(), limit)
	}
	return f, fi.Size(), nil
}

// encodeCursors is the value of the cursors part: fresh, reconcile, forgotten and commit time as
// Unix ns (0: zero time), then the gaps.
func encodeCursors(c cursors, committed time.Time) []byte {
	b := make([]byte, 0, 64+len(c.Gaps)*20)
	for _, t := range []time.Time{c.Fresh, c.Reconcile, c.Forgotten, committed} {
		b = binary.AppendVarint(b, unixNanoOrZero(t))
	}
	b = binary.AppendUvarint(b, uint64(len(c.Gaps)))
	for _, g := range c.Gaps {
		b = binary.AppendVarint(b, unixNanoOrZero(g.From))
		b = binary.AppendVarint(b, unixNanoOrZero(g.To))
	}
	return b
}

func decodeCursors(b []byte, st *tenantState) error {
	next := func() (time.Time, bool) {
		v, n := binary.Varint(b)
		if n <= 0 {
			return time.Time{}, false
		}
		b = b[n:]
		if v == 0 {
			return time.Time{}, true
		}
		return time.Unix(0, v).UTC(), true
	}
	var ok [4]bool
	st.Fresh, ok[0] = next()
	st.Reconcile, ok[1] = next()
	st.Forgotten, ok[2] = next()
	st.Committed, ok[3] = next()
	if ok != [4]bool{true, true, true, true} {
		return fmt.Errorf("%w: malformed cursors", errJournalFormat)
	}
	n, m := binary.Uvarint(b)
	if m <= 0 || n > uint64(len(b)) {
		return fmt.Errorf("%w: malformed gaps", errJournalFormat)
	}
	b = b[m:]
	st.Gaps = make([]interval, 0, n)
	for range n {
		from, ok1 := next()
		to, ok2 := next()
		if !ok1 || !ok2 {
			return fmt.Errorf("%w: malformed gaps", errJournalFormat)
		}
		st.Gaps = append(st.Gaps, interval{From: from, To: to})
	}
	if len(st.Gaps) == 0 {
		st.Gaps = nil
	}
	return nil
}

func unixNanoOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// checkDir reports a storage directory that others can read: the state holds row ids, salted
// user hashes and counters, nothing secret, but nothing anyone else needs either.
func (s stateStore) checkDir() (wide os.FileMode, err error) {
	if !s.enabled() {
		return 0, nil
	}
	fi, err := os.Stat(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil // created 0700 at the first commit
	}
	if err != nil {
		return 0, err
	}
	if !fi.IsDir() {
		return 0, fmt.Errorf("storage path %s is not a directory", s.dir)
	}
	return fi.Mode().Perm() & 0o077, nil
}

// tenantJournal commits one tenant's state: the first commit after a start, every compaction and
// the commit after a failed one write the full state into a new file that replaces the journal
// atomically (temporary file, fsync, rename, directory fsync); the others append what changed.
type tenantJournal struct {
	store            stateStore
	tenant, tenantID string
	file             *journalFile // nil: the next commit writes the full state
	migrated         string       // JSON state file to rename aside after the first full write
	seq              uint64
	minCompact       int64 // 0: compactMin (tests set less)
}

// commitResult describes a successful commit.
type commitResult struct {
	size    int64 // journal size after it
	written int64 // bytes it wrote
	full    bool
}

// commit writes one transaction; write is given the transaction and whether it must write the
// full state. With persistence disabled write still runs (on a transaction that discards), so
// the parts' bookkeeping of what changed is reset.
func (j *tenantJournal) commit(write func(tx *stateTx, full bool), now time.Time) (commitResult, error) {
	if !j.store.enabled() {
		write(&stateTx{}, false)
		return commitResult{}, nil
	}
	if j.file != nil && !j.file.wantsCompaction() {
		n, err := j.file.appendCommit(func(tx *stateTx) { write(tx, false) }, now.UnixNano())
		if err != nil {
			j.file.close()
			j.file = nil
			return commitResult{}, err
		}
		j.seq = j.file.seq
		return commitResult{size: j.file.size, written: n}, nil
	}
	j.file.close()
	j.file = nil
	jf, err := j.store.writeFull(j.tenant, j.tenantID, write, j.seq+1, now.UnixNano())
	if err != nil {
		return commitResult{}, err
	}
	j.file, j.seq = jf, jf.seq
	jf.minCompact = j.minCompact
	if j.migrated != "" {
		// The journal now holds everything the JSON file did; keep the file under another name
		// for a downgrade, out of the way of the next start.
		if err := os.Rename(j.migrated, j.migrated+".migrated"); err == nil || errors.Is(err, fs.ErrNotExist) {
			j.migrated = ""
		}
	}
	return commitResult{size: jf.size, written: jf.size, full: true}, nil
}

// writeFull writes the full state into a new journal that atomically replaces the tenant's
// journal, and returns it open for appending.
func (s stateStore) writeFull(tenant, tenantID string, write func(tx *stateTx, full bool), seq uint64, unixNano int64) (*journalFile, error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating storage directory: %w", err)
	}
	tmp, err := os.CreateTemp(s.dir, "."+tenant+".state-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("creating temporary state file: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := newJournalBuffer(tmp)
	tx := &stateTx{w: bw}
	tx.writeHeader(tenant, tenantID)
	write(tx, true)
	if err := tx.commit(seq, unixNano); err != nil {
		return nil, fmt.Errorf("writing state file: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("writing state file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("syncing state file: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path(tenant)); err != nil {
		return nil, fmt.Errorf("replacing state file: %w", err)
	}
	ok = true
	if err := syncDir(s.dir); err != nil {
		tmp.Close()
		return nil, err
	}
	return &journalFile{f: tmp, w: bw, size: tx.n, fullSize: tx.n, seq: seq}, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening storage directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing storage directory: %w", err)
	}
	return nil
}

// save writes st as the tenant's full state (tests, and tools that build a state).
func (s stateStore) save(st *tenantState) (int64, error) {
	jf, err := s.writeFull(st.Tenant, st.TenantID, func(tx *stateTx, _ bool) { writeTenantState(tx, st) }, 1, st.Committed.UnixNano())
	if err != nil {
		return 0, err
	}
	jf.close()
	return jf.size, nil
}

// writeTenantState writes a whole restored state (as save and tests build it).
func writeTenantState(tx *stateTx, st *tenantState) {
	tx.Put(partCursors, "", encodeCursors(cursors{Fresh: st.Fresh, Reconcile: st.Reconcile, Gaps: st.Gaps, Forgotten: st.Forgotten}, st.Committed))
	var v [8]byte
	for id, c := range st.Seen {
		binary.BigEndian.PutUint64(v[:], uint64(c))
		tx.Put(partSeen, id, v[:])
	}
	for k, c := range st.Counters {
		binary.BigEndian.PutUint64(v[:], math.Float64bits(c))
		tx.Put(partCounters, k, v[:])
	}
	u := newUserTracker(nil, st.Users)
	u.write(tx, true)
	for name, p := range st.Parts {
		tx.Clear(name)
		for k, val := range p.KV {
			tx.Put(name, k, val)
		}
	}
}

// writeState writes the sign-in source's state into tx: everything when full, else what changed
// since the last write. It returns the counter values written, to expose once the commit is
// durable.
func (s *signInSource) writeState(tx *stateTx, full bool, now time.Time) []counterWrite {
	tx.Put(partCursors, "", encodeCursors(s.cur, now))
	var v [8]byte
	if full {
		tx.Clear(partSeen)
		for id, c := range s.seen {
			binary.BigEndian.PutUint64(v[:], uint64(c))
			tx.Put(partSeen, id, v[:])
		}
	} else {
		// Forgotten first: an id forgotten and read again since the last commit is remembered.
		for _, id := range s.seenForgotten {
			tx.Delete(partSeen, id)
		}
		for _, id := range s.seenAdded {
			if c, ok := s.seen[id]; ok {
				binary.BigEndian.PutUint64(v[:], uint64(c))
				tx.Put(partSeen, id, v[:])
			}
		}
	}
	clear(s.seenAdded)
	clear(s.seenForgotten)
	s.seenAdded, s.seenForgotten = s.seenAdded[:0], s.seenForgotten[:0]
	written := s.counts.write(tx, full)
	s.users.write(tx, full)
	for _, p := range s.parts {
		p.writeState(tx, full)
	}
	return written
}

// addPart registers a component whose state is committed with the sign-in state (before the
// first poll). Its restored form is in the tenantState the Manager loaded (Parts[name]).
func (s *signInSource) addPart(p statePart) {
	if reservedParts[p.stateName()] {
		panic("collector: state part name " + p.stateName() + " is reserved")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.parts = append(s.parts, p)
}

// The components' parts: the coverage is one JSON blob, written whole by the commits after it
// changed (versionedPart); the summary has a key per 5-minute bucket and writes the buckets its
// rows counted in (summaryPart); the detector's, the large one (about 68 bytes per tracked
// user), has a key per user and per episode and writes those that changed (detectionsPart).
const (
	partSummary    = "summary"
	partCoverage   = "coverage"
	partDetections = "detections"
)

// decodeComponentParts decodes the components' restored parts into their typed fields.
func (st *tenantState) decodeComponentParts() error {
	var err error
	if st.Detections, err = decodeDetections(st.Parts[partDetections]); err != nil {
		return fmt.Errorf("state part %q: %w", partDetections, err)
	}
	if sum, err := decodeSummary(st.Parts[partSummary]); err != nil {
		return fmt.Errorf("state part %q: %w", partSummary, err)
	} else if sum != nil {
		st.Summary = sum
	}
	for name, dst := range map[string]any{partCoverage: &st.Coverage} {
		blob := st.Parts[name].Blob()
		if len(blob) == 0 {
			continue
		}
		if err := json.Unmarshal(blob, dst); err != nil {
			return fmt.Errorf("state part %q: %w", name, err)
		}
	}
	return nil
}
