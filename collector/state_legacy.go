package collector

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/detect"
)

// legacyVersion is the version of the JSON state file that earlier releases wrote (one file per
// tenant, rewritten whole at every commit). A file of another version is treated like a corrupt
// one (moved aside, ingestion restarts from the look-back).
const legacyVersion = 1

// legacyState is that file's format.
type legacyState struct {
	Version   int                `json:"version"`
	Tenant    string             `json:"tenant"`
	TenantID  string             `json:"tenant_id"`
	Fresh     time.Time          `json:"fresh"`
	Reconcile time.Time          `json:"reconcile"`
	Gaps      []interval         `json:"gaps,omitempty"`
	Forgotten time.Time          `json:"forgotten,omitzero"`
	Seen      map[string]int64   `json:"seen"`
	Counters  map[string]float64 `json:"counters"`
	Users     struct {
		Salt  []byte              `json:"salt"`
		Users map[string][2]int64 `json:"users"` // key (decimal) -> [challenged, failed], Unix s
	} `json:"users"`
	Committed time.Time `json:"committed"`
	// Parts some development builds wrote into the JSON file before the journal existed.
	Summary    *summaryState  `json:"summary,omitempty"`
	Coverage   *coverageState `json:"coverage,omitempty"`
	Detections *detect.State  `json:"detections,omitempty"`
}

// maxLegacyBytes bounds what loadLegacy reads: such a file was about 100 KB per tenant at the
// default settings and 9.5 MB at 200,000 users; something far larger is not ours.
const maxLegacyBytes = 256 << 20

// loadLegacy reads the tenant's JSON state file, if there is one, with the checks the file
// always had (no symbolic link, regular file, sane size, version, tenant and tenant id), moving
// an unusable one aside.
func (s stateStore) loadLegacy(tenant, tenantID string, now time.Time) (*tenantState, error) {
	p := s.legacyPath(tenant)
	f, _, err := openStateFile(p, maxLegacyBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	var ls legacyState
	problem := err
	if problem == nil {
		var data []byte
		data, problem = io.ReadAll(io.LimitReader(f, maxLegacyBytes+1))
		f.Close()
		if problem == nil {
			problem = json.Unmarshal(data, &ls)
		}
	}
	if problem == nil && ls.Version != legacyVersion {
		problem = fmt.Errorf("format version %d, want %d", ls.Version, legacyVersion)
	}
	if problem == nil && ls.Tenant != tenant {
		problem = fmt.Errorf("file belongs to tenant %q", ls.Tenant)
	}
	if problem == nil && ls.TenantID != "" && ls.TenantID != tenantID {
		problem = fmt.Errorf("file belongs to tenant_id %q, the configuration now says %q", ls.TenantID, tenantID)
	}
	if problem != nil {
		return nil, moveAside(p, problem, now)
	}
	st := &tenantState{
		Tenant: ls.Tenant, TenantID: ls.TenantID, Fresh: ls.Fresh, Reconcile: ls.Reconcile, Gaps: ls.Gaps,
		Forgotten: ls.Forgotten, Seen: ls.Seen, Counters: ls.Counters, Committed: ls.Committed, Migrated: p,
		Summary: ls.Summary, Coverage: ls.Coverage, Detections: ls.Detections,
		Users: usersState{Salt: ls.Users.Salt, Users: make(map[uint64]userEntry, len(ls.Users.Users))},
	}
	if st.Seen == nil {
		st.Seen = map[string]int64{}
	}
	if st.Counters == nil {
		st.Counters = map[string]float64{}
	}
	for k, v := range ls.Users.Users {
		key, err := strconv.ParseUint(k, 10, 64)
		if err != nil {
			continue
		}
		var e userEntry
		if v[0] > 0 {
			e.challenged = unixSeconds(time.Unix(v[0], 0))
		}
		if v[1] > 0 {
			e.failed = unixSeconds(time.Unix(v[1], 0))
		}
		st.Users.Users[key] = e
	}
	return st, nil
}
