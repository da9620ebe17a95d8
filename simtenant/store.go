package simtenant

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"sort"
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
	created   time.Time
	visibleAt time.Time
	events    uint8
	full      []byte // with every enum member
	masked    []byte // evolvable enum members replaced; nil when identical to full
}

func (s *storedRow) less(created time.Time, id string) bool {
	if !s.created.Equal(created) {
		return s.created.Before(created)
	}
	return s.id < id
}

// store keeps rows sorted by (createdDateTime, id), the order pages and
// cursors use.
type store struct {
	rows []*storedRow
	byID map[string][]*storedRow
}

func (st *store) len() int { return len(st.rows) }

// search returns the index of the first row whose key is >= (created, id).
func (st *store) search(created time.Time, id string) int {
	return sort.Search(len(st.rows), func(i int) bool { return !st.rows[i].less(created, id) })
}

// put inserts a row. With replace, rows already stored under the same id
// are removed first, which is how a test simulates Graph rewriting a row
// after aggregation; without it both copies are served, as Graph
// occasionally returns one sign-in twice.
func (st *store) put(r *storedRow, replace bool) {
	if st.byID == nil {
		st.byID = map[string][]*storedRow{}
	}
	if replace {
		for _, old := range st.byID[r.id] {
			for i := st.search(old.created, old.id); i < len(st.rows) && st.rows[i].id == old.id; i++ {
				if st.rows[i] == old {
					st.rows = append(st.rows[:i], st.rows[i+1:]...)
					break
				}
			}
		}
		delete(st.byID, r.id)
	}
	st.byID[r.id] = append(st.byID[r.id], r)
	i := st.search(r.created, r.id)
	st.rows = append(st.rows, nil)
	copy(st.rows[i+1:], st.rows[i:])
	st.rows[i] = r
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
