package simtenant

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
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

	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		writeGraphError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	includeUnknown := preferIncludeUnknown(r.Header.Values("Prefer"))
	rows, more := t.page(q, now)

	t.mu.Lock()
	pf := takeFault(&t.faults, func(f *Fault) bool {
		if !pageFaults[f.Kind] {
			return false
		}
		// A malformed row needs a row to corrupt; wait for a page with one.
		return len(rows) > 0 || (f.Kind != FaultMalformedRow && f.Kind != FaultMalformedStatus)
	})
	if pf != nil {
		t.stats.FaultsApplied++
	}
	t.mu.Unlock()

	body, err := t.renderPage(q, rows, more, includeUnknown, pf)
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
	op string
	at time.Time
}

// cursor is the last row a page returned; the next page starts after it.
type cursor struct {
	created time.Time
	id      string
}

type query struct {
	rawFilter, rawOrder, rawTop string
	bounds                      []bound
	events                      uint8
	desc                        bool
	top                         int
	after                       *cursor
}

var (
	reDateClause = regexp.MustCompile(`^createdDateTime (ge|gt|le|lt) (\S+)$`)
	reAnyClause  = regexp.MustCompile(`^signInEventTypes/any\((\w+):\s*(.+)\)$`)
	reEqClause   = regexp.MustCompile(`^(\w+) eq '([A-Za-z]+)'$`)
)

// parseQuery validates the OData options the way Graph does for sign-ins:
// unknown options and $select are refused rather than ignored, so a client
// relying on them fails here as it would in production.
func parseQuery(raw string) (*query, error) {
	values, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badRequestf("Invalid query string: %v", err)
	}
	q := &query{events: evInteractive, desc: true}
	for k, v := range values {
		if !strings.HasPrefix(k, "$") {
			continue // Graph ignores non-OData parameters.
		}
		if len(v) > 1 {
			return nil, badRequestf("Query option '%s' was specified more than once, but it must be specified at most once.", k)
		}
		switch k {
		case "$filter", "$orderby", "$top", "$skiptoken":
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
			q.desc = false
		case "createdDateTime desc":
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
		c, err := decodeSkipToken(s[0], q)
		if err != nil {
			return nil, err
		}
		q.after = c
	}
	return q, nil
}

func (q *query) parseFilter(f string) error {
	if strings.TrimSpace(f) == "" {
		return badRequest("Invalid filter clause: the filter is empty.")
	}
	sawEvents := false
	for _, clause := range strings.Split(f, " and ") {
		if m := reDateClause.FindStringSubmatch(clause); m != nil {
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

func (q *query) matches(created time.Time) bool {
	for _, b := range q.bounds {
		var ok bool
		switch b.op {
		case "ge":
			ok = !created.Before(b.at)
		case "gt":
			ok = created.After(b.at)
		case "le":
			ok = !created.After(b.at)
		case "lt":
			ok = created.Before(b.at)
		}
		if !ok {
			return false
		}
	}
	return true
}

// skipToken is what a next link carries: the query it belongs to and the
// last row served. Keying the cursor on (createdDateTime, id) rather than an
// offset keeps paging stable while late rows become visible.
type skipToken struct {
	Filter  string `json:"f"`
	Order   string `json:"o"`
	Top     string `json:"t"`
	Created int64  `json:"c"`
	ID      string `json:"i"`
}

func encodeSkipToken(q *query, c cursor) string {
	b, _ := json.Marshal(skipToken{Filter: q.rawFilter, Order: q.rawOrder, Top: q.rawTop, Created: c.created.UnixNano(), ID: c.id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeSkipToken(s string, q *query) (*cursor, error) {
	invalid := badRequest("Invalid $skiptoken: it is malformed or does not belong to this query.")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, invalid
	}
	var tok skipToken
	if err := json.Unmarshal(b, &tok); err != nil || tok.ID == "" {
		return nil, invalid
	}
	if tok.Filter != q.rawFilter || tok.Order != q.rawOrder || tok.Top != q.rawTop {
		return nil, invalid
	}
	return &cursor{created: time.Unix(0, tok.Created).UTC(), id: tok.ID}, nil
}

// page selects the rows of one page and whether another page follows.
// Visibility is evaluated at now, so a page sequence picks up late rows that
// sort after its cursor and never repeats or skips rows already visible.
func (t *Tenant) page(q *query, now time.Time) (rows []*storedRow, more bool) {
	size := t.opts.PageSize
	if q.top > 0 && q.top < size {
		size = q.top
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	all := t.store.rows
	lo, hi := 0, len(all)
	for _, b := range q.bounds {
		switch b.op {
		case "ge":
			lo = max(lo, t.store.search(b.at, ""))
		case "gt":
			lo = max(lo, t.store.search(b.at.Add(time.Nanosecond), ""))
		case "le":
			hi = min(hi, t.store.search(b.at.Add(time.Nanosecond), ""))
		case "lt":
			hi = min(hi, t.store.search(b.at, ""))
		}
	}
	if c := q.after; c != nil {
		i := t.store.search(c.created, c.id)
		if q.desc {
			hi = min(hi, i)
		} else {
			if i < len(all) && all[i].id == c.id && all[i].created.Equal(c.created) {
				i++
			}
			lo = max(lo, i)
		}
	}
	take := func(s *storedRow) bool {
		if s.events&q.events == 0 || now.Before(s.visibleAt) || !q.matches(s.created) {
			return true
		}
		if len(rows) == size {
			more = true
			return false
		}
		rows = append(rows, s)
		return true
	}
	if q.desc {
		for i := hi - 1; i >= lo && take(all[i]); i-- {
		}
	} else {
		for i := lo; i < hi && take(all[i]); i++ {
		}
	}
	return rows, more
}

func (t *Tenant) renderPage(q *query, rows []*storedRow, more, includeUnknown bool, pf *Fault) ([]byte, error) {
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
		link += "$skiptoken=" + encodeSkipToken(q, cursor{created: last.created, id: last.id})
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
