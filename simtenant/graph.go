package simtenant

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

const maxTop = 1000

// badRequest is a 400 message worded like Graph's, which is why it does not
// follow Go's error-string style.
type badRequest string

func (b badRequest) Error() string { return string(b) }

func badRequestf(format string, a ...any) error { return badRequest(fmt.Sprintf(format, a...)) }

// handleSignIns serves GET /beta/auditLogs/signIns. Order of checks:
// authentication, injected faults, throttling, query validation, page.
func (t *Tenant) handleSignIns(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		t.unauthorized(w, "Access token is empty.")
		return
	}
	if valid, expired := t.tokenValid(token); !valid {
		if expired {
			t.unauthorized(w, "Lifetime validation failed, the token is expired.")
		} else {
			t.unauthorized(w, "Access token validation failure. Invalid audience or signature.")
		}
		return
	}

	t.mu.Lock()
	fault := takeFault(&t.faults, func(f *Fault) bool { return preFaults[f.Kind] })
	if fault != nil {
		t.stats.FaultsApplied++
	}
	t.mu.Unlock()
	if fault != nil && !t.applyPreFault(w, r, fault) {
		return
	}

	now := t.opts.Now()
	if retry, throttled := t.throttle(now); throttled {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		writeGraphErrorCode(w, http.StatusTooManyRequests, "TooManyRequests", "throttled",
			"Too many requests: the application was throttled for this tenant. Retry after "+strconv.Itoa(retry)+" seconds.")
		return
	}

	q, err := parseQuery(r.URL.RawQuery, t.opts.OrderBy)
	if err != nil {
		writeGraphError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	includeUnknown := preferIncludeUnknown(r.Header.Values("Prefer"))
	mode, seed := t.order(q)
	rows, more := t.page(q, mode, seed, now)

	t.mu.Lock()
	pf := takeFault(&t.faults, func(f *Fault) bool {
		if !pageFaults[f.Kind] {
			return false
		}
		// A malformed row needs a row to corrupt; wait for a page with one.
		return len(rows) > 0 || (f.Kind != FaultMalformedRow && f.Kind != FaultMalformedStatus)
	})
	if pf == nil && t.poisoned(rows) {
		// A range Graph keeps failing on: every page holding one of its rows is broken.
		pf = &Fault{Kind: FaultInvalidJSON}
	}
	if pf != nil {
		t.stats.FaultsApplied++
	}
	t.mu.Unlock()

	body, err := t.renderPage(q, mode, seed, rows, more, includeUnknown, pf)
	if err != nil {
		writeGraphError(w, http.StatusInternalServerError, "UnknownError", err.Error())
		return
	}
	if includeUnknown {
		w.Header().Set("Preference-Applied", "include-unknown-enum-members")
	}
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.Header().Set("request-id", requestID())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if pf != nil && pf.Kind == FaultTruncated {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body[:len(body)/2])
		_ = http.NewResponseController(w).Flush()
		// Aborting the handler closes the connection (or resets the HTTP/2
		// stream) before Content-Length bytes arrive: the client sees an
		// unexpected EOF after a valid prefix.
		panic(http.ErrAbortHandler)
	}
	if pf == nil || pf.Kind != FaultInvalidJSON {
		t.mu.Lock()
		t.stats.RowsServed += len(rows)
		t.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (t *Tenant) unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="`+t.AuthorityHost()+t.opts.TenantID+`/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
	writeGraphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
}

// applyPreFault answers the request according to f and reports whether the
// request should go on to be served normally (true only after a delay).
func (t *Tenant) applyPreFault(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	retryAfter := func() {
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(ceilSeconds(f.RetryAfter)))
		}
	}
	switch f.Kind {
	case FaultDelay:
		timer := time.NewTimer(f.Delay)
		defer timer.Stop()
		select {
		case <-timer.C:
			return true
		case <-r.Context().Done():
		case <-t.closed:
		}
		return false
	case FaultThrottle:
		secs := ceilSeconds(f.RetryAfter)
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeGraphErrorCode(w, http.StatusTooManyRequests, "TooManyRequests", "throttled",
			"Too many requests: the application was throttled for this tenant.")
	case FaultHTTP500:
		retryAfter()
		writeGraphError(w, http.StatusInternalServerError, "UnknownError", "An internal server error occurred.")
	case FaultHTTP502:
		retryAfter()
		writeGraphError(w, http.StatusBadGateway, "BadGateway", "Bad gateway.")
	case FaultHTTP503:
		retryAfter()
		writeGraphError(w, http.StatusServiceUnavailable, "serviceNotAvailable", "The service is temporarily unavailable. Please retry later.")
	case FaultHTTP504:
		retryAfter()
		writeGraphError(w, http.StatusGatewayTimeout, "GatewayTimeout", "The gateway did not receive a timely response from the backend.")
	case FaultLicense:
		writeGraphError(w, http.StatusForbidden, "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
			"Neither tenant is B2C or tenant doesn't have premium license")
	case FaultPermission:
		writeGraphError(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	}
	return false
}

func ceilSeconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }

// throttle applies the sliding window: at most RateLimit accepted requests
// in any RateWindow. Rejected requests do not use up the budget.
func (t *Tenant) throttle(now time.Time) (retryAfter int, throttled bool) {
	if t.opts.RateLimit < 0 {
		return 0, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	cutoff := now.Add(-t.opts.RateWindow)
	keep := t.window[:0]
	for _, at := range t.window {
		if at.After(cutoff) {
			keep = append(keep, at)
		}
	}
	t.window = keep
	if len(t.window) >= t.opts.RateLimit {
		t.stats.Throttled++
		wait := t.window[0].Add(t.opts.RateWindow).Sub(now)
		secs := ceilSeconds(wait)
		if secs < 1 {
			secs = 1
		}
		return secs, true
	}
	t.window = append(t.window, now)
	return 0, false
}

func writeGraphErrorCode(w http.ResponseWriter, status int, code, inner, message string) {
	// Graph's throttling body repeats the reason as an inner code; build it
	// by hand rather than widening graphError for one case.
	id := requestID()
	body, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code":    code,
		"message": message,
		"innerError": map[string]string{
			"code":              inner,
			"date":              time.Now().UTC().Format("2006-01-02T15:04:05"),
			"request-id":        id,
			"client-request-id": id,
		},
	}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func preferIncludeUnknown(values []string) bool {
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "include-unknown-enum-members") {
				return true
			}
		}
	}
	return false
}

// bound is one createdDateTime comparison of $filter.
type bound struct {
	op string // eq, ge or le
	at time.Time
}

type query struct {
	rawFilter, rawOrder, rawTop string
	bounds                      []bound
	events                      uint8
	orderDir                    string // "asc" or "desc" when $orderby was given and accepted
	top                         int
	tok                         *skipToken // the position a next link carries; nil on a first request
}

// createdOps are the operators Microsoft documents for createdDateTime on sign-ins ("Supports
// $orderby and $filter (eq, le, and ge operators only)", resources/signin.md). Users have seen
// undocumented ones (gt) silently ignored, so the simulation refuses them: a client using one
// fails here instead of reading the whole log in production.
var createdOps = map[string]bool{"eq": true, "ge": true, "le": true}

var (
	reDateClause = regexp.MustCompile(`^createdDateTime (\w+) (\S+)$`)
	reAnyClause  = regexp.MustCompile(`^signInEventTypes/any\((\w+):\s*(.+)\)$`)
	reEqClause   = regexp.MustCompile(`^(\w+) eq '([A-Za-z]+)'$`)
)

// parseQuery validates the OData options the way Graph does for sign-ins: unknown options and
// $select are refused rather than ignored, so a client relying on them fails here as it would
// in production. The List signIns page names only $top, $skiptoken and $filter; what happens to
// $orderby is orderBy.
func parseQuery(raw string, orderBy OrderByMode) (*query, error) {
	values, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badRequestf("Invalid query string: %v", err)
	}
	q := &query{events: evInteractive}
	for k, v := range values {
		if !strings.HasPrefix(k, "$") {
			continue // Graph ignores non-OData parameters.
		}
		if len(v) > 1 {
			return nil, badRequestf("Query option '%s' was specified more than once, but it must be specified at most once.", k)
		}
		switch k {
		case "$filter", "$top", "$skiptoken":
		case "$orderby":
			if orderBy == OrderByReject {
				return nil, badRequest("Query option 'OrderBy' is not allowed. To connect to this API, please change your query option.")
			}
		case "$select":
			return nil, badRequest("Query option 'Select' is not allowed. To connect to this API, please change your query option.")
		default:
			return nil, badRequestf("Query option '%s' is not allowed. To connect to this API, please change your query option.", strings.TrimPrefix(k, "$"))
		}
	}
	if f, ok := values["$filter"]; ok {
		q.rawFilter = f[0]
		if err := q.parseFilter(f[0]); err != nil {
			return nil, err
		}
	}
	if o, ok := values["$orderby"]; ok {
		q.rawOrder = o[0]
		switch o[0] {
		case "createdDateTime", "createdDateTime asc":
			q.orderDir = "asc"
		case "createdDateTime desc":
			q.orderDir = "desc"
		default:
			return nil, badRequestf("Invalid $orderby clause '%s': only createdDateTime asc or desc is supported.", o[0])
		}
	}
	if tp, ok := values["$top"]; ok {
		q.rawTop = tp[0]
		n, err := strconv.Atoi(tp[0])
		if err != nil || n < 1 || n > maxTop {
			return nil, badRequestf("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", tp[0], maxTop)
		}
		q.top = n
	}
	if s, ok := values["$skiptoken"]; ok {
		tok, err := decodeSkipToken(s[0], q)
		if err != nil {
			return nil, err
		}
		q.tok = tok
	}
	return q, nil
}

func (q *query) parseFilter(f string) error {
	if strings.TrimSpace(f) == "" {
		return badRequest("Invalid filter clause: the filter is empty.")
	}
	sawEvents := false
	depth := 0
	for _, clause := range strings.Split(f, " and ") {
		// List signIns' own example groups the time range in parentheses:
		// "(createdDateTime ge … and createdDateTime le …) and signInEventTypes/any(…)".
		for strings.HasPrefix(clause, "(") && strings.Count(clause, "(") > strings.Count(clause, ")") {
			clause, depth = clause[1:], depth+1
		}
		for strings.HasSuffix(clause, ")") && strings.Count(clause, ")") > strings.Count(clause, "(") && depth > 0 {
			clause, depth = clause[:len(clause)-1], depth-1
		}
		if m := reDateClause.FindStringSubmatch(clause); m != nil {
			if !createdOps[m[1]] {
				return badRequestf("Invalid filter clause: operator '%s' is not supported on property 'createdDateTime'; the supported operators are eq, ge and le.", m[1])
			}
			at, err := time.Parse(time.RFC3339Nano, m[2])
			if err != nil {
				return badRequestf("Invalid filter clause: '%s' is not a valid DateTimeOffset.", m[2])
			}
			q.bounds = append(q.bounds, bound{op: m[1], at: at})
			continue
		}
		if m := reAnyClause.FindStringSubmatch(clause); m != nil {
			if sawEvents {
				return badRequest("Invalid filter clause: signInEventTypes may be filtered only once.")
			}
			sawEvents = true
			events, err := parseEventTypes(m[1], m[2])
			if err != nil {
				return err
			}
			q.events = events
			continue
		}
		return badRequestf("Invalid filter clause: '%s' is not supported.", clause)
	}
	if depth != 0 {
		return badRequest("Invalid filter clause: unbalanced parentheses.")
	}
	return nil
}

func parseEventTypes(variable, body string) (uint8, error) {
	var events uint8
	for _, alt := range strings.Split(body, " or ") {
		m := reEqClause.FindStringSubmatch(alt)
		if m == nil || m[1] != variable {
			return 0, badRequestf("Invalid filter clause: '%s' is not a supported signInEventTypes condition.", alt)
		}
		bit := eventBit(m[2])
		if bit == 0 {
			return 0, badRequestf("Invalid filter clause: signInEventTypes value '%s' cannot be combined with user sign-in event types.", m[2])
		}
		events |= bit
	}
	return events, nil
}

// skipToken is what a next link carries: the query it belongs to, the order chosen by its first
// request (with the shuffle's seed), and the position of the last row served. A position rather
// than an offset keeps one query from serving a row twice while late rows become visible.
type skipToken struct {
	Filter  string `json:"f"`
	Order   string `json:"o"`
	Top     string `json:"t"`
	Mode    Order  `json:"m"`
	Seed    uint64 `json:"s,omitempty"`
	Created int64  `json:"c"`
	ID      string `json:"i"`
	Seq     uint64 `json:"q"`
}

func (tok *skipToken) key() rowKey {
	return rowKey{created: time.Unix(0, tok.Created).UTC(), id: tok.ID, seq: tok.Seq}
}

func encodeSkipToken(q *query, mode Order, seed uint64, last *storedRow) string {
	b, _ := json.Marshal(skipToken{
		Filter: q.rawFilter, Order: q.rawOrder, Top: q.rawTop, Mode: mode, Seed: seed,
		Created: last.created.UnixNano(), ID: last.id, Seq: last.seq,
	})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeSkipToken(s string, q *query) (*skipToken, error) {
	invalid := badRequest("Invalid $skiptoken: it is malformed or does not belong to this query.")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, invalid
	}
	var tok skipToken
	if err := json.Unmarshal(b, &tok); err != nil || tok.ID == "" || tok.Seq == 0 {
		return nil, invalid
	}
	if tok.Filter != q.rawFilter || tok.Order != q.rawOrder || tok.Top != q.rawTop {
		return nil, invalid
	}
	switch tok.Mode {
	case OrderNewestFirst, OrderAscending, OrderShuffled:
	default:
		return nil, invalid
	}
	return &tok, nil
}

// order picks the order of a query: the one its next link carries, else an honoured $orderby,
// else Options.Order. A shuffled query's seed is drawn from the tenant's seeded stream, so runs
// with one Options.Seed and one sequence of queries are reproducible.
func (t *Tenant) order(q *query) (Order, uint64) {
	if q.tok != nil {
		return q.tok.Mode, q.tok.Seed
	}
	mode := t.opts.Order
	if t.opts.OrderBy == OrderByHonour && q.orderDir != "" {
		mode = OrderAscending
		if q.orderDir == "desc" {
			mode = OrderNewestFirst
		}
	}
	var seed uint64
	if mode == OrderShuffled {
		t.mu.Lock()
		seed = t.querySeeds.Uint64() | 1 // never 0, which the token omits
		t.mu.Unlock()
	}
	return mode, seed
}

// shufflePos is a row's place in a shuffled query: a bijective mix (splitmix64's finaliser) of
// the row's seq under the query's seed, so the permutation needs no state beyond the seed.
func shufflePos(seed, seq uint64) uint64 {
	z := seq*0x9e3779b97f4a7c15 + seed
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// page selects the rows of one page and whether another page follows. Visibility is evaluated
// at now, so a page sequence picks up late rows positioned after its cursor and never serves a
// stored row twice; rows visible when the query started are all served (unless retention drops
// them first).
func (t *Tenant) page(q *query, mode Order, seed uint64, now time.Time) (rows []*storedRow, more bool) {
	size := t.opts.PageSize
	if q.top > 0 && q.top < size {
		size = q.top
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pruneLocked(now)
	all := t.store.rows
	lo, hi := 0, len(all)
	for _, b := range q.bounds {
		switch b.op {
		case "ge":
			lo = max(lo, t.store.searchTime(b.at))
		case "le":
			if !t.opts.IgnoreUpperBound {
				hi = min(hi, t.store.searchTime(b.at.Add(time.Nanosecond)))
			}
		case "eq":
			lo = max(lo, t.store.searchTime(b.at))
			hi = min(hi, t.store.searchTime(b.at.Add(time.Nanosecond)))
		}
	}
	eligible := func(s *storedRow) bool { return s.events&q.events != 0 && !now.Before(s.visibleAt) }
	take := func(s *storedRow) bool {
		if !eligible(s) {
			return true
		}
		if len(rows) == size {
			more = true
			return false
		}
		rows = append(rows, s)
		return true
	}
	switch mode {
	case OrderNewestFirst:
		if q.tok != nil {
			hi = min(hi, t.store.search(q.tok.key())) // rows before the cursor's key
		}
		for i := hi - 1; i >= lo && take(all[i]); i-- {
		}
	case OrderAscending:
		if q.tok != nil {
			k := q.tok.key()
			lo = max(lo, sort.Search(len(all), func(i int) bool { return all[i].key().compare(k) > 0 }))
		}
		for i := lo; i < hi && take(all[i]); i++ {
		}
	case OrderShuffled:
		var after uint64
		var afterSeq uint64
		if q.tok != nil {
			after, afterSeq = shufflePos(seed, q.tok.Seq), q.tok.Seq
		}
		type cand struct {
			pos uint64
			row *storedRow
		}
		var cands []cand
		for _, s := range all[lo:max(lo, hi)] {
			if !eligible(s) {
				continue
			}
			p := shufflePos(seed, s.seq)
			if q.tok != nil && (p < after || (p == after && s.seq <= afterSeq)) {
				continue
			}
			cands = append(cands, cand{p, s})
		}
		slices.SortFunc(cands, func(a, b cand) int {
			if c := cmp.Compare(a.pos, b.pos); c != 0 {
				return c
			}
			return cmp.Compare(a.row.seq, b.row.seq)
		})
		for _, c := range cands {
			if !take(c.row) {
				break
			}
		}
	}
	return rows, more
}

func (t *Tenant) renderPage(q *query, mode Order, seed uint64, rows []*storedRow, more, includeUnknown bool, pf *Fault) ([]byte, error) {
	var buf bytes.Buffer
	size := 128
	for _, s := range rows {
		size += len(s.full) + 1
	}
	buf.Grow(size)
	buf.WriteString(`{"@odata.context":"` + t.base + `/beta/$metadata#auditLogs/signIns","value":[`)
	if pf != nil && pf.Kind == FaultInvalidJSON {
		if len(rows) > 0 {
			buf.Write(rowBytes(rows[0], includeUnknown))
			buf.WriteByte(',')
		}
		buf.WriteString(`{"id": tru, "createdDateTime": }]}`)
		return buf.Bytes(), nil
	}
	bad := -1
	if pf != nil && (pf.Kind == FaultMalformedRow || pf.Kind == FaultMalformedStatus) {
		bad = len(rows) / 2
	}
	for i, s := range rows {
		if i > 0 {
			buf.WriteByte(',')
		}
		b := rowBytes(s, includeUnknown)
		if t.gen.cov.policyDeny.Load() {
			b = withoutPolicies(b)
		}
		if i == bad {
			var err error
			if b, err = corruptRow(b, pf.Kind); err != nil {
				return nil, err
			}
		}
		buf.Write(b)
	}
	buf.WriteByte(']')
	if more && len(rows) > 0 {
		last := rows[len(rows)-1]
		link := t.base + RouteSignIns + "?"
		if q.rawFilter != "" {
			link += "$filter=" + url.QueryEscape(q.rawFilter) + "&"
		}
		if q.rawOrder != "" {
			link += "$orderby=" + url.QueryEscape(q.rawOrder) + "&"
		}
		if q.rawTop != "" {
			link += "$top=" + url.QueryEscape(q.rawTop) + "&"
		}
		link += "$skiptoken=" + encodeSkipToken(q, mode, seed, last)
		lb, err := json.Marshal(link)
		if err != nil {
			return nil, fmt.Errorf("encoding next link: %w", err)
		}
		buf.WriteString(`,"@odata.nextLink":`)
		buf.Write(lb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func rowBytes(s *storedRow, includeUnknown bool) []byte {
	if !includeUnknown && s.masked != nil {
		return s.masked
	}
	return s.full
}

func corruptRow(b []byte, kind string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decoding row to corrupt: %w", err)
	}
	if kind == FaultMalformedRow {
		m["createdDateTime"] = json.RawMessage(`12`)
	} else {
		m["status"] = json.RawMessage(`"x"`)
	}
	out, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding corrupted row: %w", err)
	}
	return out, nil
}
