package simtenant

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"
)

// Event type bits of storedRow.events.
const (
	evInteractive uint8 = 1 << iota
	evNonInteractive
)

// Token issuer types Graph hides behind "unknownFutureValue" unless the
// client sends Prefer: include-unknown-enum-members.
var evolvableIssuerTypes = map[string]bool{"NPSExtension": true, "ADFederationServicesMFAAdapter": true}

// storedRow is a row marshalled once when added; serving only copies bytes.
type storedRow struct {
	id        string
	seq       uint64 // unique per stored row, so two copies of one sign-in still have distinct keys
	created   time.Time
	visibleAt time.Time
	events    uint8
	full      []byte // with every enum member
	masked    []byte // evolvable enum members replaced; nil when identical to full
}

// rowKey is a row's position in (createdDateTime, id, seq) order, the order of the store and of
// the newest-first and ascending cursors.
type rowKey struct {
	created time.Time
	id      string
	seq     uint64
}

func (s *storedRow) key() rowKey { return rowKey{s.created, s.id, s.seq} }

func (a rowKey) compare(b rowKey) int {
	if c := a.created.Compare(b.created); c != 0 {
		return c
	}
	if c := strings.Compare(a.id, b.id); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// store keeps rows sorted by (createdDateTime, id, seq). Old rows leave from the front (prune),
// so what it holds is bounded by Options.Retention and Options.MaxRows.
type store struct {
	rows    []*storedRow
	byID    map[string][]*storedRow
	nextSeq uint64
	expired int // rows forgotten because they left the retention period
	evicted int // rows dropped because MaxRows was reached
}

func (st *store) len() int { return len(st.rows) }

// search returns the index of the first row whose key is >= k.
func (st *store) search(k rowKey) int {
	return sort.Search(len(st.rows), func(i int) bool { return st.rows[i].key().compare(k) >= 0 })
}

// searchTime returns the index of the first row created at or after at.
func (st *store) searchTime(at time.Time) int {
	return sort.Search(len(st.rows), func(i int) bool { return !st.rows[i].created.Before(at) })
}

// put inserts a row. With replace, rows already stored under the same id are removed first,
// which is how a test simulates Graph rewriting a row after aggregation; the rewritten row keeps
// the replaced row's seq, so a query paging over it does not serve it a second time unless its
// createdDateTime moved. Without replace both copies are served, as Graph occasionally returns
// one sign-in twice.
func (st *store) put(r *storedRow, replace bool) {
	if st.byID == nil {
		st.byID = map[string][]*storedRow{}
	}
	r.seq = 0
	if replace {
		for _, old := range st.byID[r.id] {
			if r.seq == 0 {
				r.seq = old.seq
			}
			if i := st.search(old.key()); i < len(st.rows) && st.rows[i] == old {
				st.rows = slices.Delete(st.rows, i, i+1)
			}
		}
		delete(st.byID, r.id)
	}
	if r.seq == 0 {
		st.nextSeq++
		r.seq = st.nextSeq
	}
	st.byID[r.id] = append(st.byID[r.id], r)
	i := st.search(r.key())
	st.rows = slices.Insert(st.rows, i, r)
}

// prune forgets rows created before cutoff (a zero cutoff forgets none), then drops the oldest
// rows beyond maxRows. It reports how many rows the cap dropped.
func (st *store) prune(cutoff time.Time, maxRows int) (evicted int) {
	n := 0
	if !cutoff.IsZero() {
		n = st.searchTime(cutoff)
		st.expired += n
	}
	if over := len(st.rows) - n - maxRows; over > 0 {
		n += over
		evicted = over
		st.evicted += over
	}
	if n == 0 {
		return 0
	}
	for i, r := range st.rows[:n] {
		copies := st.byID[r.id]
		if j := slices.Index(copies, r); j >= 0 {
			copies = slices.Delete(copies, j, j+1)
		}
		if len(copies) == 0 {
			delete(st.byID, r.id)
		} else {
			st.byID[r.id] = copies
		}
		st.rows[i] = nil // let the row go even while the backing array lives on
	}
	st.rows = st.rows[n:]
	return evicted
}

// pruneLocked applies Options.Retention and Options.MaxRows at now; t.mu is held.
func (t *Tenant) pruneLocked(now time.Time) {
	var cutoff time.Time
	if t.opts.Retention > 0 {
		cutoff = now.Add(-t.opts.Retention)
	}
	if evicted := t.store.prune(cutoff, t.opts.MaxRows); evicted > 0 && !t.evictWarned {
		t.evictWarned = true
		t.log.Warn("simulated tenant holds Options.MaxRows sign-in rows; dropping the oldest (logged once)",
			"max_rows", t.opts.MaxRows, "dropped", evicted)
	}
}

// AddRows stores rows as given; a row whose id is already stored replaces
// the stored one (Graph rewriting a row once aggregated). Rows whose bulky
// fields are all empty are padded to realistic size unless
// Options.NoPadding. A zero VisibleAt makes the row visible once the clock
// reaches its createdDateTime.
func (t *Tenant) AddRows(rows ...Row) {
	stored := make([]*storedRow, 0, len(rows))
	for i := range rows {
		r := rows[i]
		if !t.opts.NoPadding && len(r.AppliedConditionalAccessPolicies) == 0 && r.DeviceDetail == (DeviceDetail{}) {
			decorate(&r, paddingRand(t.opts.Seed, r.ID))
		}
		s, err := storeRow(&r)
		if err != nil {
			// Row has only marshalable fields; failing here means a bug in
			// this package, and dropping the row silently would hide it.
			panic(fmt.Sprintf("simtenant: marshalling row %q: %v", r.ID, err))
		}
		stored = append(stored, s)
	}
	t.mu.Lock()
	for _, s := range stored {
		t.store.put(s, true)
	}
	t.pruneLocked(t.opts.Now())
	t.mu.Unlock()
}

func storeRow(r *Row) (*storedRow, error) {
	r.normalize()
	r.CreatedDateTime = r.CreatedDateTime.UTC()
	full, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("marshalling row: %w", err)
	}
	s := &storedRow{id: r.ID, created: r.CreatedDateTime, visibleAt: r.VisibleAt, full: full}
	if s.visibleAt.IsZero() {
		s.visibleAt = s.created
	}
	for _, e := range r.SignInEventTypes {
		s.events |= eventBit(e)
	}
	if evolvableIssuerTypes[r.TokenIssuerType] {
		m := *r
		m.TokenIssuerType = "unknownFutureValue"
		if s.masked, err = json.Marshal(&m); err != nil {
			return nil, fmt.Errorf("marshalling masked row: %w", err)
		}
	}
	return s, nil
}

func eventBit(e string) uint8 {
	switch e {
	case EventInteractive:
		return evInteractive
	case EventNonInteractive:
		return evNonInteractive
	}
	return 0
}

// paddingRand gives each padded row its own deterministic stream, so that
// padding fixtures does not disturb the generator's sequence.
func paddingRand(seed int64, id string) *rand.Rand {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// paddedKeys are the bulky fields a compact fixture row gets from a filler
// row. None of them bears on MFA classification, so padding cannot change
// what a fixture row means.
var paddedKeys = []string{
	"deviceDetail", "location", "appliedConditionalAccessPolicies", "appliedEventListeners",
	"networkLocationDetails", "authenticationProcessingDetails", "sessionLifetimePolicies", "mfaDetail",
	"userAgent", "privateLinkDetails", "managedServiceIdentity", "tokenProtectionStatusDetails",
	"authenticationAppDeviceDetails", "authenticationAppPolicyEvaluationDetails",
	"authenticationContextClassReferences", "conditionalAccessAudiences", "riskEventTypes", "riskEventTypes_v2",
	"uniqueTokenIdentifier", "sessionId", "originalRequestId", "processingTimeInMilliseconds",
	"autonomousSystemNumber", "homeTenantId", "resourceTenantId", "appOwnerTenantId", "resourceOwnerTenantId",
}

// LoadFixture adds rows from a JSON array of Graph-shaped sign-in objects.
// Each object needs "id" and an RFC 3339 "createdDateTime"; it may carry
// "_visibleAfterSeconds" (visibility delay after createdDateTime, stripped
// before serving). Other fields are served as written, so a fixture can hold
// shapes the Row type would not produce. An id may repeat (typically with a
// slightly different createdDateTime): every copy is served, as Graph
// occasionally returns one sign-in twice.
func (t *Tenant) LoadFixture(r io.Reader) error {
	var objs []map[string]json.RawMessage
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := dec.Decode(&objs); err != nil {
		return fmt.Errorf("simtenant: decoding fixture: %w", err)
	}
	stored := make([]*storedRow, 0, len(objs))
	for i, obj := range objs {
		s, err := t.fixtureRow(obj)
		if err != nil {
			return fmt.Errorf("simtenant: fixture row %d: %w", i, err)
		}
		stored = append(stored, s)
	}
	t.mu.Lock()
	for _, s := range stored {
		t.store.put(s, false)
	}
	t.pruneLocked(t.opts.Now())
	t.mu.Unlock()
	return nil
}

func (t *Tenant) fixtureRow(obj map[string]json.RawMessage) (*storedRow, error) {
	var id, created string
	if err := json.Unmarshal(obj["id"], &id); err != nil || id == "" {
		return nil, errors.New(`missing or non-string "id"`)
	}
	if err := json.Unmarshal(obj["createdDateTime"], &created); err != nil {
		return nil, fmt.Errorf(`row %q: missing or non-string "createdDateTime"`, id)
	}
	createdAt, err := time.Parse(time.RFC3339Nano, created)
	if err != nil {
		return nil, fmt.Errorf("row %q: createdDateTime: %w", id, err)
	}
	s := &storedRow{id: id, created: createdAt.UTC(), visibleAt: createdAt.UTC()}
	if raw, ok := obj["_visibleAfterSeconds"]; ok {
		var secs float64
		if err := json.Unmarshal(raw, &secs); err != nil || secs < 0 || math.IsInf(secs, 0) {
			return nil, fmt.Errorf("row %q: _visibleAfterSeconds must be a non-negative number", id)
		}
		s.visibleAt = s.created.Add(time.Duration(secs * float64(time.Second)))
		delete(obj, "_visibleAfterSeconds")
	}
	if raw, ok := obj["signInEventTypes"]; ok && !bytes.Equal(raw, []byte("null")) {
		var types []string
		if err := json.Unmarshal(raw, &types); err != nil {
			return nil, fmt.Errorf("row %q: signInEventTypes: %w", id, err)
		}
		for _, e := range types {
			s.events |= eventBit(e)
		}
	} else {
		interactive := true
		if raw, ok := obj["isInteractive"]; ok {
			if err := json.Unmarshal(raw, &interactive); err != nil {
				return nil, fmt.Errorf("row %q: isInteractive: %w", id, err)
			}
		}
		if interactive {
			s.events = evInteractive
		} else {
			s.events = evNonInteractive
		}
	}
	if !t.opts.NoPadding {
		var filler Row
		filler.CreatedDateTime = s.created
		decorate(&filler, paddingRand(t.opts.Seed, id))
		filler.normalize()
		fb, err := json.Marshal(&filler)
		if err != nil {
			return nil, fmt.Errorf("row %q: marshalling padding: %w", id, err)
		}
		var fm map[string]json.RawMessage
		if err := json.Unmarshal(fb, &fm); err != nil {
			return nil, fmt.Errorf("row %q: decoding padding: %w", id, err)
		}
		for _, k := range paddedKeys {
			if _, ok := obj[k]; !ok {
				obj[k] = fm[k]
			}
		}
	}
	if s.full, err = json.Marshal(obj); err != nil {
		return nil, fmt.Errorf("row %q: marshalling: %w", id, err)
	}
	var issuer string
	if raw, ok := obj["tokenIssuerType"]; ok && json.Unmarshal(raw, &issuer) == nil && evolvableIssuerTypes[issuer] {
		obj["tokenIssuerType"] = json.RawMessage(`"unknownFutureValue"`)
		if s.masked, err = json.Marshal(obj); err != nil {
			return nil, fmt.Errorf("row %q: marshalling masked copy: %w", id, err)
		}
	}
	return s, nil
}
