package graph

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Bounds on what a page can make the exporter keep. Graph's own values are far inside them; they
// exist so that a hostile or broken response cannot make one string, one row or one page cost
// unbounded memory (a 50 MB string would otherwise be kept whole, and an id ends up in the state
// file).
const (
	// Identifiers (row, correlation, user, application, resource and policy ids) are GUIDs, 36
	// bytes; resourceId can also be a short name such as "radius". 128 leaves room for any other
	// id format Microsoft might adopt. A longer identifier makes the row malformed rather than cut:
	// a cut id could merge two users or two rows.
	maxIDBytes = 128
	// Short enumerated values (userType, clientAppUsed, statuses, methods, requirement providers,
	// policy results, grant controls, event types), IP addresses (at most 45 characters) and
	// country codes (2). An unknown value is counted as "other" by the classifier; 256 bytes
	// keep enough of it for the unknown-string log line.
	maxShortBytes = 256
	// Names: user principal names (Entra allows 113 characters), application and policy display
	// names (256 characters); 1 KiB holds either in any script at 4 bytes per character.
	maxNameBytes = 1024
	// Free text: failureReason, additionalDetails, step result details, requirement details.
	// Microsoft's longest messages are a few hundred characters.
	maxTextBytes = 2048
	// Next links carry an opaque $skiptoken; real ones are a few hundred bytes.
	maxNextLinkBytes = 16 << 10

	// Elements per row. Real rows carry one or two event types, a few authentication steps, one
	// or two requirement policies and one entry per Conditional Access policy of the tenant
	// (Entra allows 195). More elements than these make the row malformed.
	maxRowStrings    = 64 // per string list (event types, grant and session controls)
	maxRowSteps      = 256
	maxRowProviders  = 64
	maxRowCAPolicies = 1024

	// maxDecodedBytes bounds the structures decoded from one page (rows, steps, policies, string
	// headers), which JSON can make many times larger than itself: "{}," is three bytes of input
	// and a whole policy struct of output. A real 1,000-row page decodes to a few MiB.
	maxDecodedBytes = 64 << 20
)

// strField describes how one kept string is bounded and stored.
type strField struct {
	limit int
	// reject: longer than limit makes the row malformed; otherwise the value is cut at limit.
	reject bool
	// store: where the bytes go. Strings a caller is known to keep long after the page (row and
	// user ids: deduplication and user windows) get an allocation of their own, so that keeping
	// one keeps nothing else; values that repeat across rows are interned; the rest of a row's
	// unique strings share one allocation per row.
	store storeClass
	slot  int // for storeRow: index into the row's spans
}

type storeClass uint8

const (
	storeOwn storeClass = iota
	storeIntern
	storeRow
)

var (
	fKeptID        = strField{limit: maxIDBytes, reject: true, store: storeOwn}
	fInternedID    = strField{limit: maxIDBytes, reject: true, store: storeIntern}
	fCorrelationID = strField{limit: maxIDBytes, reject: true, store: storeRow, slot: 0}
	fUPN           = strField{limit: maxNameBytes, store: storeRow, slot: 1}
	fIPAddress     = strField{limit: maxShortBytes, store: storeRow, slot: 2}
	fShort         = strField{limit: maxShortBytes, store: storeIntern}
	fName          = strField{limit: maxNameBytes, store: storeIntern}
	fText          = strField{limit: maxTextBytes, store: storeIntern}
)

const rowSlots = 3

// Field numbers of each object the decoder reads; a key table maps wire keys onto them.
const (
	sID = iota
	sCreatedDateTime
	sCorrelationID
	sUserID
	sUserPrincipalName
	sUserType
	sAppID
	sAppDisplayName
	sIPAddress
	sLocation
	sClientAppUsed
	sIsInteractive
	sConditionalAccessStatus
	sTokenIssuerType
	sResourceID
	sSignInEventTypes
	sStatus
	sAuthenticationRequirement
	sAuthenticationRequirementPolicies
	sAuthenticationDetails
	sAppliedConditionalAccessPolicies
)

var signInKeys = newKeyTable(map[int]string{
	sID: "id", sCreatedDateTime: "createdDateTime", sCorrelationID: "correlationId", sUserID: "userId",
	sUserPrincipalName: "userPrincipalName", sUserType: "userType", sAppID: "appId", sAppDisplayName: "appDisplayName",
	sIPAddress: "ipAddress", sLocation: "location", sClientAppUsed: "clientAppUsed", sIsInteractive: "isInteractive",
	sConditionalAccessStatus: "conditionalAccessStatus", sTokenIssuerType: "tokenIssuerType", sResourceID: "resourceId",
	sSignInEventTypes: "signInEventTypes", sStatus: "status", sAuthenticationRequirement: "authenticationRequirement",
	sAuthenticationRequirementPolicies: "authenticationRequirementPolicies", sAuthenticationDetails: "authenticationDetails",
	sAppliedConditionalAccessPolicies: "appliedConditionalAccessPolicies",
})

var statusKeys = newKeyTable(map[int]string{0: "errorCode", 1: "failureReason", 2: "additionalDetails"})

var locationKeys = newKeyTable(map[int]string{0: "countryOrRegion"})

var stepKeys = newKeyTable(map[int]string{0: "authenticationMethod", 1: "authenticationMethodDetail",
	2: "authenticationStepRequirement", 3: "authenticationStepResultDetail", 4: "authenticationStepDateTime", 5: "succeeded"})

var providerKeys = newKeyTable(map[int]string{0: "requirementProvider", 1: "detail"})

var policyKeys = newKeyTable(map[int]string{0: "id", 1: "displayName", 2: "result", 3: "enforcedGrantControls", 4: "enforcedSessionControls"})

// The kinds of object whose keys are remembered (signInDecoder.memos).
const (
	memoRow = iota
	memoLocation
	memoStatus
	memoStep
	memoProvider
	memoPolicy
	memoKinds
)

var pageKeys = newKeyTable(map[int]string{0: "value", 1: "@odata.nextLink"})

// decodeSignInPage decodes one sign-in page with a decoder of its own.
func decodeSignInPage(body []byte) (decodedPage[SignIn], error) {
	var d signInDecoder
	return d.decodePage(body)
}

// DecodeSignInPage decodes one beta sign-ins page (the body of a GET /beta/auditLogs/signIns
// response) exactly as SignIns does: the rows it can use, the next link, and how many rows it
// skipped as malformed. An error means the page's top level is unusable. It serves benchmarks
// and tools that replay saved pages.
func DecodeSignInPage(body []byte) (rows []SignIn, nextLink string, malformed int, err error) {
	p, err := decodeSignInPage(body)
	return p.rows, p.next, p.malformed, err
}

// signInDecoder decodes sign-in pages. One serves every page of a read, so that strings that
// repeat across rows (methods, results, application and policy names) are allocated once per read.
type signInDecoder struct {
	s        scanner
	scratch  []byte // decoded bytes of the string being read
	rowErr   error  // first reason the current row is malformed
	intern   map[string]string
	interned int // bytes held by intern
	// recent caches the last interned string per small hash, so values that repeat row after
	// row are found without hashing them whole.
	recent [256]string

	// Memos (memo.go) of the page being decoded: each kind of object's keys, the strings met in
	// skipped values, the interned strings kept, and the rows' policies by index.
	memos      [memoKinds]keyMemo
	tokens     *tokenMemo
	values     *valueMemo
	policyMemo []policyMemoEntry

	// The current row's strings that share one allocation.
	rowBuf   []byte
	rowSpans [rowSlots]struct{ from, to int32 }
	rowSet   [rowSlots]bool

	// reuse: the caller keeps nothing of a page's rows once it has handled them (but their ID and
	// UserID, allocated apart): the next page is decoded into the same slabs (spare), so a read
	// does not make a page's worth of garbage per page.
	reuse bool
	spare pageSlabs

	// A streamed page (stream.go): what is left of the body, and the window's buffer between pages.
	src    *pageStream
	window []byte
	// The window's size and low-water mark (streamWindowBytes, streamLowWater when zero); tests
	// cut pages into small windows.
	windowSize, lowMark int

	// Per page: rows and the slabs their slices are cut from.
	rows     []SignIn
	strs     []string
	steps    []AuthenticationDetail
	provs    []AuthenticationRequirementPolicy
	policies []AppliedConditionalAccessPolicy
}

const (
	maxInternEntries = 4096
	maxInternBytes   = 1 << 20
)

// pageSlabs are the arrays a page's rows and their slices live in.
type pageSlabs struct {
	rows     []SignIn
	strs     []string
	steps    []AuthenticationDetail
	provs    []AuthenticationRequirementPolicy
	policies []AppliedConditionalAccessPolicy
}

func (d *signInDecoder) decodePage(body []byte) (decodedPage[SignIn], error) {
	return d.decode(body, len(body))
}

// decode decodes a page whose bytes are body, or, when d.src is set, whose bytes start with body
// and continue in d.src (stream.go). size is the page's length, or an estimate, for sizing slabs.
func (d *signInDecoder) decode(body []byte, size int) (decodedPage[SignIn], error) {
	d.s = newScanner(body)
	for i := range d.memos {
		d.memos[i].reset(i)
	}
	if d.tokens == nil {
		d.tokens, d.values = new(tokenMemo), new(valueMemo)
	} else {
		clear(d.tokens[:])
		clear(d.values[:])
	}
	if d.policyMemo == nil {
		d.policyMemo = make([]policyMemoEntry, maxMemoPolicies)
	} else {
		clear(d.policyMemo)
	}
	d.s.memo = d.tokens
	if d.reuse && d.spare.rows != nil {
		sp := d.spare
		clear(sp.rows[:cap(sp.rows)]) // nothing of the last page stays reachable through them
		d.rows, d.strs, d.steps, d.provs, d.policies = sp.rows[:0], sp.strs[:0], sp.steps[:0], sp.provs[:0], sp.policies[:0]
	} else {
		// Graph pages hold at most $top (1,000) rows. The other estimates are what a realistic
		// page (graphtest.SignInPage) needs, so most pages fill their slabs without regrowing them.
		d.rows = make([]SignIn, 0, min(signInPageSize, size/512+1))
		d.strs = make([]string, 0, size/768+1)
		d.steps = make([]AuthenticationDetail, 0, min(2*signInPageSize, size/2048+1))
		d.provs = make([]AuthenticationRequirementPolicy, 0, min(signInPageSize, size/4096+1))
		d.policies = make([]AppliedConditionalAccessPolicy, 0, size/768+1)
	}
	var out decodedPage[SignIn]
	next, err := parsePage(&d.s, func(i int) error {
		var err error
		if d.src != nil {
			err = d.streamRow()
		} else {
			err = d.row()
		}
		if err != nil {
			return err
		}
		if d.rowErr != nil {
			out.malformed++
			if out.firstErr == nil {
				out.firstErr = fmt.Errorf("row %d: %w", i, d.rowErr)
			}
		}
		if d.decodedBytes() > maxDecodedBytes {
			return errPageTooLarge
		}
		return nil
	})
	if err != nil {
		var se *syntaxError
		if d.src != nil && errors.As(err, &se) {
			if !d.src.eof {
				err = errNeedWhole // outside the rows: maybe the window's end, maybe not
			} else {
				se.off += d.src.base // the page's offset, not the window's
			}
		}
		return decodedPage[SignIn]{}, fmt.Errorf("decoding page: %w", err)
	}
	out.rows, out.next = d.rows, next
	if d.reuse {
		d.spare = pageSlabs{rows: d.rows, strs: d.strs, steps: d.steps, provs: d.provs, policies: d.policies}
	}
	d.rows = nil
	return out, nil
}

func (d *signInDecoder) decodedBytes() int {
	return cap(d.rows)*int(unsafe.Sizeof(SignIn{})) + cap(d.strs)*int(unsafe.Sizeof("")) +
		cap(d.steps)*int(unsafe.Sizeof(AuthenticationDetail{})) + cap(d.provs)*int(unsafe.Sizeof(AuthenticationRequirementPolicy{})) +
		cap(d.policies)*int(unsafe.Sizeof(AppliedConditionalAccessPolicy{}))
}

// fail records why the current row is malformed (the first reason wins).
func (d *signInDecoder) fail(err error) {
	if d.rowErr == nil {
		d.rowErr = err
	}
}

// mismatch records a value of the wrong JSON type for field and skips it.
func (d *signInDecoder) mismatch(field, want string) error {
	got := "number"
	switch d.s.buf[d.s.pos] {
	case '"':
		got = "string"
	case '{':
		got = "object"
	case '[':
		got = "array"
	case 't', 'f':
		got = "bool"
	}
	d.fail(fmt.Errorf("%s: want %s, got %s", field, want, got))
	return d.s.skip()
}

// row decodes one element of "value". A row that is not an object, has a field of the wrong type
// or out of bounds, no id, or nesting beyond maxDepth leaves d.rowErr set and is not kept; the
// returned error is for syntax errors only.
func (d *signInDecoder) row() error {
	s := &d.s
	d.rowErr = nil
	s.deep = false
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c != '{' {
		if c == 'n' {
			// encoding/json decodes null into a zero row, which has no id.
			d.fail(errNoID)
			return s.literal("null")
		}
		return d.mismatch("row", "object")
	}
	s.pos++
	s.depth++
	d.rows = append(d.rows, SignIn{})
	r := &d.rows[len(d.rows)-1]
	d.rowBuf = d.rowBuf[:0]
	d.rowSet = [rowSlots]bool{}
	err = fields(s, signInKeys, &d.memos[memoRow], func(f int) error {
		switch f {
		case sID:
			return d.str(&r.ID, "id", &fKeptID)
		case sCreatedDateTime:
			return d.time(&r.CreatedDateTime, "createdDateTime")
		case sCorrelationID:
			return d.str(nil, "correlationId", &fCorrelationID)
		case sUserID:
			return d.str(&r.UserID, "userId", &fKeptID)
		case sUserPrincipalName:
			return d.str(nil, "userPrincipalName", &fUPN)
		case sUserType:
			return d.str(&r.UserType, "userType", &fShort)
		case sAppID:
			return d.str(&r.AppID, "appId", &fInternedID)
		case sAppDisplayName:
			return d.str(&r.AppDisplayName, "appDisplayName", &fName)
		case sIPAddress:
			return d.str(nil, "ipAddress", &fIPAddress)
		case sLocation:
			return d.object("location", locationKeys, &d.memos[memoLocation], func(f int) error { return d.str(&r.Location.CountryOrRegion, "location.countryOrRegion", &fShort) })
		case sClientAppUsed:
			return d.str(&r.ClientAppUsed, "clientAppUsed", &fShort)
		case sIsInteractive:
			return d.bool(&r.IsInteractive, "isInteractive")
		case sConditionalAccessStatus:
			return d.str(&r.ConditionalAccessStatus, "conditionalAccessStatus", &fShort)
		case sTokenIssuerType:
			return d.str(&r.TokenIssuerType, "tokenIssuerType", &fShort)
		case sResourceID:
			return d.str(&r.ResourceID, "resourceId", &fInternedID)
		case sSignInEventTypes:
			return d.strings(&r.SignInEventTypes, "signInEventTypes")
		case sStatus:
			return d.object("status", statusKeys, &d.memos[memoStatus], func(f int) error {
				switch f {
				case 0:
					return d.int(&r.Status.ErrorCode, "status.errorCode")
				case 1:
					return d.str(&r.Status.FailureReason, "status.failureReason", &fText)
				}
				return d.str(&r.Status.AdditionalDetails, "status.additionalDetails", &fText)
			})
		case sAuthenticationRequirement:
			return d.str(&r.AuthenticationRequirement, "authenticationRequirement", &fShort)
		case sAuthenticationRequirementPolicies:
			return d.providers(&r.AuthenticationRequirementPolicies)
		case sAuthenticationDetails:
			return d.stepList(&r.AuthenticationDetails)
		case sAppliedConditionalAccessPolicies:
			return d.caPolicies(&r.AppliedConditionalAccessPolicies)
		}
		panic("unreachable: fields skips unknown keys")
	})
	if err != nil {
		return err
	}
	if s.deep {
		d.fail(errTooDeep)
	}
	if d.rowErr == nil && r.ID == "" {
		d.fail(errNoID)
	}
	if d.rowErr != nil {
		d.rows = d.rows[:len(d.rows)-1]
		return nil
	}
	d.finishRow(r)
	return nil
}

// finishRow gives the row its strings that share one allocation.
func (d *signInDecoder) finishRow(r *SignIn) {
	if len(d.rowBuf) == 0 {
		return
	}
	block := string(d.rowBuf)
	get := func(i int) string { return block[d.rowSpans[i].from:d.rowSpans[i].to] }
	if d.rowSet[fCorrelationID.slot] {
		r.CorrelationID = get(fCorrelationID.slot)
	}
	if d.rowSet[fUPN.slot] {
		r.UserPrincipalName = get(fUPN.slot)
	}
	if d.rowSet[fIPAddress.slot] {
		r.IPAddress = get(fIPAddress.slot)
	}
}

// str decodes a string field into dst (or, for storeRow fields, into the row's shared block).
// null leaves the field as it is, as encoding/json does.
func (d *signInDecoder) str(dst *string, field string, f *strField) error {
	s := &d.s
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c != '"' {
		if c == 'n' {
			return s.literal("null")
		}
		return d.mismatch(field, "string")
	}
	var memo *valueMemoEntry
	if f.store == storeIntern {
		// memoElem tells the elements of a list of strings apart; memoCtx tells the rest.
		memo = &d.values[memoSlot(s.memoCtx, s.memoElem, valueMemoBits)]
		if s.memoHit(memo.from, memo.to) {
			s.pos += int(memo.to - memo.from)
			if d.rowErr == nil {
				*dst = memo.v
			}
			return nil
		}
	}
	from := s.pos
	raw, flags, err := s.str()
	if err != nil {
		return err
	}
	if d.rowErr != nil {
		return nil // the row is lost anyway: keep nothing
	}
	b := raw
	if flags&strEscaped != 0 || (flags&strNonASCII != 0 && !utf8.Valid(raw)) {
		d.scratch = appendString(d.scratch[:0], raw, flags)
		b = d.scratch
	}
	if len(b) > f.limit {
		if f.reject {
			d.fail(fmt.Errorf("%s longer than %d bytes", field, f.limit))
			return nil
		}
		b = cutUTF8(b, f.limit)
	}
	switch f.store {
	case storeOwn:
		*dst = string(b)
	case storeRow:
		from := len(d.rowBuf)
		d.rowBuf = append(d.rowBuf, b...)
		d.rowSpans[f.slot] = struct{ from, to int32 }{int32(from), int32(len(d.rowBuf))}
		d.rowSet[f.slot] = true
	default:
		*dst = d.internString(b)
		if memo != nil && s.pos <= maxMemoOffset {
			memo.from, memo.to, memo.v = int32(from), int32(s.pos), *dst
		}
	}
	return nil
}

// cutUTF8 shortens valid UTF-8 to at most n bytes without splitting a character.
func cutUTF8(b []byte, n int) []byte {
	for n > 0 && b[n]&0xC0 == 0x80 {
		n--
	}
	return b[:n]
}

func (d *signInDecoder) internString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	h := (len(b)*7 + int(b[0])*3 + int(b[len(b)-1]) + int(b[len(b)/2])*5) & 255
	if v := d.recent[h]; string(b) == v {
		return v
	}
	if v, ok := d.intern[string(b)]; ok {
		d.recent[h] = v
		return v
	}
	v := string(b)
	d.recent[h] = v
	if len(d.intern) < maxInternEntries && d.interned+len(v) <= maxInternBytes {
		if d.intern == nil {
			d.intern = make(map[string]string, 64)
		}
		d.intern[v] = v
		d.interned += len(v)
	}
	return v
}

// time decodes an RFC 3339 timestamp the way encoding/json does, by handing the raw literal to
// time.Time's UnmarshalJSON.
func (d *signInDecoder) time(dst *time.Time, field string) error {
	s := &d.s
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c == 'n' {
		return s.literal("null")
	}
	if c != '"' {
		return d.mismatch(field, "string")
	}
	start := s.pos
	raw, flags, err := s.str()
	if err != nil {
		return err
	}
	if d.rowErr != nil {
		return nil
	}
	lit := s.buf[start:s.pos]
	if flags&strEscaped != 0 {
		// "2026-11-25T00:00:00\u005a" is the same JSON string as "2026-11-25T00:00:00Z":
		// time.Time's UnmarshalJSON reads the literal without unescaping it (encoding/json of
		// Go 1.27 unescapes first), so unescape it here.
		lit = append(appendString([]byte{'"'}, raw, flags), '"')
	}
	if err := dst.UnmarshalJSON(lit); err != nil {
		d.fail(fmt.Errorf("%s: %w", field, err))
	}
	return nil
}

func (d *signInDecoder) bool(dst *bool, field string) error {
	s := &d.s
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch c {
	case 't':
		*dst = true
		return s.literal("true")
	case 'f':
		*dst = false
		return s.literal("false")
	case 'n':
		return s.literal("null")
	}
	return d.mismatch(field, "bool")
}

// int decodes an integer as encoding/json does into an int: a number with a fraction or an
// exponent, or out of int64's range, is a type error.
func (d *signInDecoder) int(dst *int, field string) error {
	s := &d.s
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c == 'n' {
		return s.literal("null")
	}
	if c != '-' && (c < '0' || c > '9') {
		return d.mismatch(field, "number")
	}
	num, err := s.num()
	if err != nil {
		return err
	}
	neg := num[0] == '-'
	digits := num
	if neg {
		digits = num[1:]
	}
	var u uint64
	for _, c := range digits {
		if c < '0' || c > '9' || u > (1<<63)/10 {
			d.fail(fmt.Errorf("%s: %s is not an integer in range", field, num))
			return nil
		}
		u = u*10 + uint64(c-'0')
	}
	if (!neg && u > 1<<63-1) || (neg && u > 1<<63) {
		d.fail(fmt.Errorf("%s: %s is not an integer in range", field, num))
		return nil
	}
	if neg {
		*dst = int(-int64(u)) // -1<<63 wraps to itself, which is right
	} else {
		*dst = int(u)
	}
	return nil
}

// object decodes an object field (a nested struct). null leaves it as it is.
func (d *signInDecoder) object(field string, keys *keyTable, memo *keyMemo, member func(f int) error) error {
	s := &d.s
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c != '{' {
		if c == 'n' {
			return s.literal("null")
		}
		return d.mismatch(field, "object")
	}
	s.pos++
	s.depth++
	return fields(s, keys, memo, member)
}

// array decodes an array field: null sets it to nil (returned as isNull), [] to an empty slice;
// elem is called for each element, at most limit times before the row is malformed.
func (d *signInDecoder) array(field string, limit int, elem func(i int) error) (isNull bool, n int, err error) {
	s := &d.s
	c, err := s.peek()
	if err != nil {
		return false, 0, err
	}
	if c != '[' {
		if c == 'n' {
			return true, 0, s.literal("null")
		}
		return false, 0, d.mismatch(field, "array")
	}
	s.pos++
	s.depth++
	outer := s.memoElem
	err = elements(s, func(i int) error {
		n = i + 1
		if i >= limit {
			d.fail(fmt.Errorf("%s: more than %d elements", field, limit))
			return s.skip()
		}
		s.memoElem = uint32(i)
		return elem(i)
	})
	s.memoElem = outer
	return false, n, err
}

// The slice fields follow encoding/json's rules for a key that appears twice in a row: the second
// array is decoded into the elements of the first (element i starts as the earlier element i),
// and the result has the second array's length.

func (d *signInDecoder) strings(dst *[]string, field string) error {
	old := *dst
	start := len(d.strs)
	isNull, n, err := d.array(field, maxRowStrings, func(i int) error {
		v := ""
		if i < len(old) {
			v = old[i]
		}
		if err := d.str(&v, field, &fShort); err != nil {
			return err
		}
		d.strs = append(d.strs, v)
		return nil
	})
	if err != nil || d.rowErr != nil {
		return err
	}
	*dst = decoded(isNull, n, d.strs, start)
	return nil
}

func (d *signInDecoder) stepList(dst *[]AuthenticationDetail) error {
	old := *dst
	start := len(d.steps)
	isNull, n, err := d.array("authenticationDetails", maxRowSteps, func(i int) error {
		var e AuthenticationDetail
		if i < len(old) {
			e = old[i]
		}
		err := d.object("authenticationDetails", stepKeys, &d.memos[memoStep], func(f int) error {
			switch f {
			case 0:
				return d.str(&e.AuthenticationMethod, "authenticationDetails.authenticationMethod", &fShort)
			case 1:
				return d.str(&e.AuthenticationMethodDetail, "authenticationDetails.authenticationMethodDetail", &fText)
			case 2:
				return d.str(&e.AuthenticationStepRequirement, "authenticationDetails.authenticationStepRequirement", &fShort)
			case 3:
				return d.str(&e.AuthenticationStepResultDetail, "authenticationDetails.authenticationStepResultDetail", &fText)
			case 4:
				return d.time(&e.AuthenticationStepDateTime, "authenticationDetails.authenticationStepDateTime")
			}
			return d.bool(&e.Succeeded, "authenticationDetails.succeeded")
		})
		d.steps = append(d.steps, e)
		return err
	})
	if err != nil || d.rowErr != nil {
		return err
	}
	*dst = decoded(isNull, n, d.steps, start)
	return nil
}

func (d *signInDecoder) providers(dst *[]AuthenticationRequirementPolicy) error {
	old := *dst
	start := len(d.provs)
	isNull, n, err := d.array("authenticationRequirementPolicies", maxRowProviders, func(i int) error {
		var e AuthenticationRequirementPolicy
		if i < len(old) {
			e = old[i]
		}
		err := d.object("authenticationRequirementPolicies", providerKeys, &d.memos[memoProvider], func(f int) error {
			if f == 0 {
				return d.str(&e.RequirementProvider, "authenticationRequirementPolicies.requirementProvider", &fShort)
			}
			return d.str(&e.Detail, "authenticationRequirementPolicies.detail", &fText)
		})
		d.provs = append(d.provs, e)
		return err
	})
	if err != nil || d.rowErr != nil {
		return err
	}
	*dst = decoded(isNull, n, d.provs, start)
	return nil
}

// copyStrings appends list to the page's string slab and returns the copy; empty lists (nil or
// not) are returned as they are.
func (d *signInDecoder) copyStrings(list []string) []string {
	if len(list) == 0 {
		return list
	}
	start := len(d.strs)
	d.strs = append(d.strs, list...)
	return d.strs[start:len(d.strs):len(d.strs)]
}

func (d *signInDecoder) caPolicies(dst *[]AppliedConditionalAccessPolicy) error {
	s := &d.s
	old := *dst
	start := len(d.policies)
	isNull, n, err := d.array("appliedConditionalAccessPolicies", maxRowCAPolicies, func(i int) error {
		var e AppliedConditionalAccessPolicy
		if i < len(old) {
			e = old[i]
		}
		// Policy i of a row is usually the same bytes as policy i of the row before (see
		// policyMemo). Not when the key came twice in the row: then the element starts from the
		// earlier one, which fields absent from the bytes keep.
		var memo *policyMemoEntry
		if i >= len(old) && i < len(d.policyMemo) {
			memo = &d.policyMemo[i]
			if s.memoHit(memo.from, memo.to) {
				s.pos += int(memo.to - memo.from)
				e = memo.p
				// The row gets lists of its own, in the page's slab like any decoded list, so
				// that rows share no arrays and the page's decoded size is counted as before.
				e.EnforcedGrantControls = d.copyStrings(e.EnforcedGrantControls)
				e.EnforcedSessionControls = d.copyStrings(e.EnforcedSessionControls)
				d.policies = append(d.policies, e)
				return nil
			}
		}
		from := s.pos
		err := d.object("appliedConditionalAccessPolicies", policyKeys, &d.memos[memoPolicy], func(f int) error {
			switch f {
			case 0:
				return d.str(&e.ID, "appliedConditionalAccessPolicies.id", &fInternedID)
			case 1:
				return d.str(&e.DisplayName, "appliedConditionalAccessPolicies.displayName", &fName)
			case 2:
				return d.str(&e.Result, "appliedConditionalAccessPolicies.result", &fShort)
			case 3:
				return d.strings(&e.EnforcedGrantControls, "appliedConditionalAccessPolicies.enforcedGrantControls")
			}
			return d.strings(&e.EnforcedSessionControls, "appliedConditionalAccessPolicies.enforcedSessionControls")
		})
		d.policies = append(d.policies, e)
		// Remembered only if the bytes decoded to this policy on their own: an object (where it
		// ends does not depend on what follows), and no error and nothing nested too deep so far in
		// the row (both are sticky: a row with either keeps nothing, and str stops storing).
		if memo != nil && err == nil && d.rowErr == nil && !s.deep && s.buf[from] == '{' && s.pos <= maxMemoOffset {
			*memo = policyMemoEntry{from: int32(from), to: int32(s.pos), p: e}
		}
		return err
	})
	if err != nil || d.rowErr != nil {
		return err
	}
	*dst = decoded(isNull, n, d.policies, start)
	return nil
}

// decoded is the slice an array decoded into arena from start holds: nil for a JSON null, the n
// elements appended (capacity capped, so that appending to one row's slice never overwrites the
// next row's), or an empty slice for [] (as encoding/json, which the decoder tests compare with).
func decoded[T any](isNull bool, n int, arena []T, start int) []T {
	switch {
	case isNull:
		return nil
	case n > 0:
		return arena[start:len(arena):len(arena)]
	}
	return []T{}
}
