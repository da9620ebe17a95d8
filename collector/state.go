package collector

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/detect"
)

// stateVersion is bumped when the file format changes incompatibly; a file of another version is
// treated like a corrupt one (moved aside, ingestion restarts from the look-back).
const stateVersion = 1

// tenantState is everything that must survive a restart for counting to stay exactly-once: the
// two cursors, the time ranges skipped by the fresh cursor, the ids that a later read may return
// again, and the counter values. It is written as one file, atomically, so the ids and the counts
// they produced are always committed together.
type tenantState struct {
	Version   int                `json:"version"`
	Tenant    string             `json:"tenant"`
	TenantID  string             `json:"tenant_id"` // a name reused for another tenant must not inherit its cursors
	Fresh     time.Time          `json:"fresh"`     // every row created before this was read at least once, except inside Gaps
	Reconcile time.Time          `json:"reconcile"` // every row created before this, except inside Gaps, is final: counted, or missed for good
	Gaps      []interval         `json:"gaps,omitempty"`
	Forgotten time.Time          `json:"forgotten,omitzero"` // newest createdDateTime of a forgotten id: no read may start at or before it
	Seen      map[string]int64   `json:"seen"`               // row id -> createdDateTime (Unix ns), for rows a later read may return (cursor.go forgettable)
	Counters  map[string]float64 `json:"counters"`           // durable counter key (see counters.go) -> value
	Users     usersState         `json:"users"`
	Summary   *summaryState      `json:"summary,omitempty"`  // the landing page's last 24 hours (summary.go)
	Coverage  *coverageState     `json:"coverage,omitempty"` // admitted policy and application ids (coverage.go)
	Committed time.Time          `json:"committed"`
	// Detections is the per-user attack detector's state (detections.go): windows, episodes and
	// their counters, committed with the rows that made them.
	Detections *detect.State `json:"detections,omitempty"`
}

// interval is a half-open time range [From, To).
type interval struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// stateStore keeps one JSON file per tenant in a directory. An empty directory disables
// persistence (counts then start from zero at every start, as in a plain exporter).
type stateStore struct {
	dir string
}

func (s stateStore) enabled() bool { return s.dir != "" }

func (s stateStore) path(tenant string) string {
	// Tenant names are validated to [a-zA-Z0-9_.-]{1,64} by the config package, so they are safe
	// file names.
	return filepath.Join(s.dir, tenant+".state.json")
}

// errCorruptState marks a state file that exists but cannot be used.
var errCorruptState = errors.New("corrupt state file")

// load returns the tenant's state, nil when there is none. A file that cannot be decoded, or
// belongs to another tenant or format version, is renamed aside (so that nobody loses it) and
// reported with errCorruptState; the caller then starts from the look-back.
func (s stateStore) load(tenant, tenantID string, now time.Time) (*tenantState, error) {
	if !s.enabled() {
		return nil, nil
	}
	p := s.path(tenant)
	data, err := readStateFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	var st tenantState
	// A file that exists but cannot be read (permissions after a UID change, I/O error) is
	// treated like a corrupt one: moved aside, so that the first commit of the fresh start does
	// not silently replace it.
	problem := err
	if problem == nil {
		problem = json.Unmarshal(data, &st)
	}
	if problem == nil && st.Version != stateVersion {
		problem = fmt.Errorf("format version %d, want %d", st.Version, stateVersion)
	}
	if problem == nil && st.Tenant != tenant {
		problem = fmt.Errorf("file belongs to tenant %q", st.Tenant)
	}
	if problem == nil && st.TenantID != "" && st.TenantID != tenantID {
		problem = fmt.Errorf("file belongs to tenant_id %q, the configuration now says %q", st.TenantID, tenantID)
	}
	if problem != nil {
		aside := fmt.Sprintf("%s.corrupt-%d", p, now.Unix())
		if err := os.Rename(p, aside); err != nil {
			return nil, fmt.Errorf("%w %s (%v), and moving it aside failed: %w", errCorruptState, p, problem, err)
		}
		return nil, fmt.Errorf("%w %s: %v; moved to %s", errCorruptState, p, problem, aside)
	}
	if st.Seen == nil {
		st.Seen = map[string]int64{}
	}
	if st.Counters == nil {
		st.Counters = map[string]float64{}
	}
	return &st, nil
}

// maxStateBytes bounds what load reads: a state file is about 100 KB per tenant at the default
// settings; something a thousand times larger is not ours.
const maxStateBytes = 256 << 20

// readStateFile reads a state file without following a symbolic link (whoever can write the
// storage directory must not be able to point the exporter at another file) and only if it is a
// regular file of a sane size (a FIFO would block, a device would never end).
func readStateFile(p string) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("%s is a symbolic link; the state file must be a regular file", p)
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", p, fi.Mode().Type())
	}
	if fi.Size() > maxStateBytes {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d a state file can be", p, fi.Size(), maxStateBytes)
	}
	return io.ReadAll(io.LimitReader(f, maxStateBytes+1))
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

// save writes the state atomically: a temporary file in the same directory, fsync, rename over
// the old file, fsync the directory. A crash at any point leaves either the old or the new file.
func (s stateStore) save(st *tenantState) (int, error) {
	if !s.enabled() {
		return 0, nil
	}
	data, err := json.Marshal(st)
	if err != nil {
		return 0, fmt.Errorf("encoding state: %w", err)
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return 0, fmt.Errorf("creating storage directory: %w", err)
	}
	p := s.path(st.Tenant)
	tmp, err := os.CreateTemp(s.dir, "."+st.Tenant+".state-*.tmp")
	if err != nil {
		return 0, fmt.Errorf("creating temporary state file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("writing state file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("syncing state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("closing state file: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return 0, fmt.Errorf("replacing state file: %w", err)
	}
	dir, err := os.Open(s.dir)
	if err != nil {
		return 0, fmt.Errorf("opening storage directory: %w", err)
	}
	defer dir.Close()
	if err := dir.Sync(); err != nil {
		return 0, fmt.Errorf("syncing storage directory: %w", err)
	}
	return len(data), nil
}
