package simtenant

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Routes of the registration endpoints, keys of Stats.Requests and values of Fault.Route.
const (
	RouteRegistrationDetails = "/v1.0/reports/authenticationMethods/userRegistrationDetails"
	RouteUsers               = "/v1.0/users"
	RouteRequirements        = "/beta/users/{id}/authentication/requirements"
)

// usersMaxTop is /users' largest page; the default page is 100, as in Graph.
const (
	usersMaxTop      = 999
	usersDefaultPage = 100
)

// registrationFields are the v1.0 userRegistrationDetails properties, the only ones $select and
// $filter may name. The beta-only defaultMfaMethod is absent on purpose: v1.0 refuses it.
var registrationFields = []string{
	"id", "userPrincipalName", "userDisplayName", "userType", "isAdmin", "isMfaRegistered", "isMfaCapable",
	"isPasswordlessCapable", "isSsprRegistered", "isSsprEnabled", "isSsprCapable",
	"isSystemPreferredAuthenticationMethodEnabled", "systemPreferredAuthenticationMethods",
	"userPreferredMethodForSecondaryAuthentication", "methodsRegistered", "lastUpdatedDateTime",
}

// userFields are the user properties this simulation knows; userDefaultFields are those Graph
// returns without $select. accountEnabled and userType are not among them, so a client that
// forgets $select gets no way to tell disabled accounts or guests apart, as in production.
var (
	userFields        = []string{"id", "displayName", "userPrincipalName", "mail", "accountEnabled", "userType"}
	userDefaultFields = []string{"id", "displayName", "userPrincipalName", "mail"}
)

// registrationData is the directory the registration endpoints serve: users, their report rows
// and their per-user MFA state. Rows are kept as decoded JSON objects so $select and $filter work
// on whatever a fixture holds.
type registrationData struct {
	users        []map[string]any // sorted by id
	details      []map[string]any // sorted by id
	requirements map[string]string
}

// RegistrationFixture is the JSON form LoadRegistrationFixture reads: Graph-shaped user objects
// (each may carry "perUserMfaState", served by the requirements endpoint and stripped from
// /users) and Graph-shaped userRegistrationDetails rows. A report row whose id is not a user
// stands for a user deleted since the report was built; a user without a row, for one created
// since.
type RegistrationFixture struct {
	Users   []map[string]any `json:"users"`
	Details []map[string]any `json:"userRegistrationDetails"`
}

// LoadRegistrationFixture replaces the generated directory with the fixture's, so a test can
// assert exact values.
func (t *Tenant) LoadRegistrationFixture(r io.Reader) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var f RegistrationFixture
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("simtenant: decoding registration fixture: %w", err)
	}
	d := &registrationData{requirements: map[string]string{}}
	for i, u := range f.Users {
		id, _ := u["id"].(string)
		if id == "" {
			return fmt.Errorf("simtenant: registration fixture user %d: missing or non-string \"id\"", i)
		}
		u = cloneRow(u)
		if s, ok := u["perUserMfaState"].(string); ok {
			d.requirements[id] = s
			delete(u, "perUserMfaState")
		}
		d.users = append(d.users, u)
	}
	for i, row := range f.Details {
		if id, _ := row["id"].(string); id == "" {
			return fmt.Errorf("simtenant: registration fixture row %d: missing or non-string \"id\"", i)
		}
		for k := range row {
			if !slices.Contains(registrationFields, k) {
				return fmt.Errorf("simtenant: registration fixture row %d: %q is not a v1.0 userRegistrationDetails property", i, k)
			}
		}
		d.details = append(d.details, cloneRow(row))
	}
	sortByID(d.users)
	sortByID(d.details)
	t.mu.Lock()
	t.reg = d
	t.mu.Unlock()
	return nil
}

func cloneRow(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func sortByID(rows []map[string]any) {
	slices.SortStableFunc(rows, func(a, b map[string]any) int { return strings.Compare(a["id"].(string), b["id"].(string)) })
}

// RegistrationTruth is what the generated directory holds, computed from the generator's intent
// (not by reading the JSON back), so tests of the exporter can compare totals with it.
type RegistrationTruth struct {
	Users, Disabled, Guests, Admins int
	MFARegistered                   int // among all users, disabled included
	NoMethod                        int // users with no method registered at all
}

// RegistrationTruth returns the truth of the generated directory; after LoadRegistrationFixture
// it still describes the generated one.
func (t *Tenant) RegistrationTruth() RegistrationTruth {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.regTruth
}

// registrationProfile is one way a user can be registered. Strings mix the documented enum with
// the MSOnline-era names live tenants still return, so the exporter's normalisation is exercised.
type registrationProfile struct {
	weight       float64
	methods      []string
	preferred    string   // userPreferredMethodForSecondaryAuthentication
	system       []string // systemPreferredAuthenticationMethods
	mfa          bool     // isMfaRegistered
	passwordless bool
}

var registrationProfiles = []registrationProfile{
	{30, []string{"microsoftAuthenticatorPush", "mobilePhone"}, "push", []string{"PhoneAppNotification"}, true, false},
	{12, []string{"microsoftAuthenticatorPush", "softwareOneTimePasscode", "email"}, "push", []string{"push"}, true, false},
	{8, []string{"mobilePhone"}, "sms", []string{"sms"}, true, false},
	{3, []string{"mobilePhone", "officePhone"}, "voiceMobile", []string{"voiceMobile"}, true, false},
	{3, []string{"alternateMobilePhone", "mobilePhone"}, "voiceAlternateMobile", []string{"voiceAlternateMobile"}, true, false},
	{4, []string{"softwareOneTimePasscode"}, "oath", []string{"PhoneAppOTP"}, true, false},
	{2, []string{"hardwareOneTimePasscode"}, "oath", []string{"oath"}, true, false},
	{6, []string{"microsoftAuthenticatorPush", "fido2"}, "push", []string{"Fido2"}, true, true},
	{5, []string{"passKeySynced", "microsoftAuthenticatorPush"}, "push", []string{"passKeySynced"}, true, true},
	{3, []string{"passKeyDeviceBound", "passKeyDeviceBoundAuthenticator"}, "none", []string{"Fido2"}, true, true},
	{4, []string{"windowsHelloForBusiness", "microsoftAuthenticatorPasswordless", "microsoftAuthenticatorPush"}, "push", []string{"PhoneAppNotification"}, true, true},
	{1, []string{"macOsSecureEnclaveKey", "mobilePhone"}, "sms", []string{"sms"}, true, true},
	{1, []string{"temporaryAccessPass"}, "none", nil, false, false},
	{4, []string{"email", "securityQuestion"}, "none", nil, false, false},
	// A method no catalogue knows yet: the exporter must count it as "other", not drop the user.
	{1, []string{"qrCodePin", "mobilePhone"}, "unknownFutureValue", []string{"QrCodePin"}, true, false},
	{13, nil, "none", nil, false, false},
}

// newRegistrationData builds the report for the generator's population. It uses its own random
// stream so that adding it did not change the sign-ins a seed produces. The report was built
// hours ago, as Microsoft's is; each row's lastUpdatedDateTime is within minutes of that.
func newRegistrationData(users []simUser, seed int64, now time.Time) (*registrationData, RegistrationTruth) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x7e6157))
	built := now.Add(-time.Hour - time.Duration(rng.Int64N(int64(3*time.Hour)))).UTC().Truncate(time.Second)
	total := 0.0
	for _, p := range registrationProfiles {
		total += p.weight
	}
	d := &registrationData{requirements: map[string]string{}}
	var truth RegistrationTruth
	for _, u := range users {
		x := rng.Float64() * total
		p := registrationProfiles[len(registrationProfiles)-1]
		for _, c := range registrationProfiles {
			if x < c.weight {
				p = c
				break
			}
			x -= c.weight
		}
		if u.admin && !p.mfa && rng.Float64() < 0.7 { // most admins are made to register
			p = registrationProfiles[0]
		}
		userType, graphUserType := "member", "Member"
		if u.guest {
			userType, graphUserType = "guest", "Guest"
		}
		ssprEnabled := !u.guest && rng.Float64() < 0.7
		ssprRegistered := slices.ContainsFunc(p.methods, func(m string) bool {
			return m == "mobilePhone" || m == "email" || m == "securityQuestion" || m == "microsoftAuthenticatorPush"
		})
		system := p.system
		if system == nil {
			system = []string{}
		}
		methods := p.methods
		if methods == nil {
			methods = []string{}
		}
		d.details = append(d.details, map[string]any{
			"id":                    u.id,
			"userPrincipalName":     u.upn,
			"userDisplayName":       u.name,
			"userType":              userType,
			"isAdmin":               u.admin,
			"isMfaRegistered":       p.mfa,
			"isMfaCapable":          p.mfa && rng.Float64() < 0.95,
			"isPasswordlessCapable": p.passwordless,
			"isSsprRegistered":      ssprRegistered,
			"isSsprEnabled":         ssprEnabled,
			"isSsprCapable":         ssprRegistered && ssprEnabled,
			"isSystemPreferredAuthenticationMethodEnabled":  rng.Float64() < 0.8,
			"systemPreferredAuthenticationMethods":          system,
			"userPreferredMethodForSecondaryAuthentication": p.preferred,
			"methodsRegistered":                             methods,
			"lastUpdatedDateTime":                           built.Add(-time.Duration(rng.IntN(600)) * time.Second).Format(time.RFC3339),
		})
		d.users = append(d.users, map[string]any{
			"id": u.id, "displayName": u.name, "userPrincipalName": u.upn, "mail": nil,
			"accountEnabled": !u.disabled, "userType": graphUserType,
		})
		state := "disabled"
		switch r := rng.Float64(); {
		case u.admin && r < 0.6, r < 0.05:
			state = "enforced"
		case r < 0.15:
			state = "enabled"
		}
		d.requirements[u.id] = state

		truth.Users++
		if u.disabled {
			truth.Disabled++
		}
		if u.guest {
			truth.Guests++
		}
		if u.admin {
			truth.Admins++
		}
		if p.mfa {
			truth.MFARegistered++
		}
		if len(p.methods) == 0 {
			truth.NoMethod++
		}
	}
	sortByID(d.users)
	sortByID(d.details)
	return d, truth
}

// admit runs the checks every Graph request goes through before its own: bearer token, the
// route's injected faults, then the tenant's rate limit (shared with sign-ins, as Graph's
// identity-reports budget is). It reports whether the handler should go on.
func (t *Tenant) admit(w http.ResponseWriter, r *http.Request, route string) (time.Time, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		t.unauthorized(w, "Access token is empty.")
		return time.Time{}, false
	}
	if valid, expired := t.tokenValid(token); !valid {
		if expired {
			t.unauthorized(w, "Lifetime validation failed, the token is expired.")
		} else {
			t.unauthorized(w, "Access token validation failure. Invalid audience or signature.")
		}
		return time.Time{}, false
	}
	t.mu.Lock()
	queue := t.routeFaults[route]
	fault := takeFault(&queue, func(f *Fault) bool { return preFaults[f.Kind] })
	t.routeFaults[route] = queue
	if fault != nil {
		t.stats.FaultsApplied++
	}
	t.mu.Unlock()
	if fault != nil && !t.applyPreFault(w, r, fault) {
		return time.Time{}, false
	}
	now := t.opts.Now()
	if retry, throttled := t.throttle(now); throttled {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		writeGraphErrorCode(w, http.StatusTooManyRequests, "TooManyRequests", "throttled",
			"Too many requests: the application was throttled for this tenant. Retry after "+strconv.Itoa(retry)+" seconds.")
		return time.Time{}, false
	}
	return now, true
}

// listQuery is a parsed request to one of the two directory collections.
type listQuery struct {
	raw     url.Values
	selects []string
	filters []func(map[string]any) bool
	order   string
	desc    bool
	top     int
	offset  int
	seed    uint64 // of the shuffled order, from the next link; 0 on a first request
}

// collection describes the OData rules of one collection: only what Microsoft documents for it
// is accepted, so that a client cannot come to depend on an option production might refuse or
// change.
type collection struct {
	route      string
	entity     string // for error messages: microsoft.graph.userRegistrationDetails
	options    []string
	fields     []string
	defaults   []string // returned without $select
	filterable []string
	maxTop     int
	pageSize   func(*Tenant) int
	orderBy    []string
	rows       func(*registrationData) []map[string]any
}

var (
	// List userRegistrationDetails (v1.0) says "This method supports the $filter OData query
	// parameter"; its beta page adds $orderBy, and the resource page documents $orderBy on
	// userPrincipalName and userDisplayName and $filter on the properties listed in filterable.
	// Nothing documents $select or $top there, and no page size: the simulation refuses the
	// options and serves Options.PageSize rows a page.
	registrationCollection = collection{
		route: RouteRegistrationDetails, entity: "microsoft.graph.userRegistrationDetails",
		options: []string{"$filter", "$orderby", "$skiptoken"},
		fields:  registrationFields, defaults: registrationFields,
		filterable: []string{
			"isMfaCapable", "isMfaRegistered", "isPasswordlessCapable", "isSsprCapable", "isSsprEnabled", "isSsprRegistered",
			"isSystemPreferredAuthenticationMethodEnabled", "methodsRegistered", "systemPreferredAuthenticationMethods",
			"userPreferredMethodForSecondaryAuthentication", "userDisplayName", "userPrincipalName",
		},
		maxTop:   maxTop,
		pageSize: func(t *Tenant) int { return t.opts.PageSize },
		orderBy:  []string{"userPrincipalName", "userDisplayName"},
		rows:     func(d *registrationData) []map[string]any { return d.details },
	}
	// List users (v1.0) supports "$count, $expand, $filter, $orderby, $search, $select, and $top
	// ... $skip isn't supported", with "default and maximum page sizes ... 100 and 999 user
	// objects". $count, $expand and $search are not simulated and answer 400.
	usersCollection = collection{
		route: RouteUsers, entity: "microsoft.graph.user",
		options: []string{"$select", "$filter", "$orderby", "$top", "$skiptoken"},
		fields:  userFields, defaults: userDefaultFields, filterable: userFields,
		maxTop:   usersMaxTop,
		pageSize: func(t *Tenant) int { return min(t.opts.PageSize, usersDefaultPage) },
		orderBy:  []string{"userPrincipalName", "displayName"},
		rows:     func(d *registrationData) []map[string]any { return d.users },
	}
)

var (
	reBoolClause   = regexp.MustCompile(`^(\w+) eq (true|false)$`)
	reStringClause = regexp.MustCompile(`^(\w+) eq '([^']*)'$`)
	reAnyString    = regexp.MustCompile(`^(\w+)/any\((\w+):\s*(\w+) eq '([^']*)'\)$`)
)

func (c collection) parse(raw string) (*listQuery, error) {
	values, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badRequestf("Invalid query string: %v", err)
	}
	q := &listQuery{raw: values, selects: c.defaults}
	for k, v := range values {
		if !strings.HasPrefix(k, "$") {
			continue
		}
		if len(v) > 1 {
			return nil, badRequestf("Query option '%s' was specified more than once, but it must be specified at most once.", k)
		}
		if !slices.Contains(c.options, k) {
			return nil, badRequestf("Query option '%s' is not allowed. To connect to this API, please change your query option.", strings.TrimPrefix(k, "$"))
		}
	}
	if s, ok := values["$select"]; ok {
		q.selects = []string{"id"} // Graph always returns an entity's id
		for _, f := range strings.Split(s[0], ",") {
			f = strings.TrimSpace(f)
			if !slices.Contains(c.fields, f) {
				return nil, badRequestf("Could not find a property named '%s' on type '%s'.", f, c.entity)
			}
			if !slices.Contains(q.selects, f) {
				q.selects = append(q.selects, f)
			}
		}
	}
	if f, ok := values["$filter"]; ok {
		if err := c.parseFilter(q, f[0]); err != nil {
			return nil, err
		}
	}
	if o, ok := values["$orderby"]; ok {
		field, dir, _ := strings.Cut(strings.TrimSpace(o[0]), " ")
		if !slices.Contains(c.orderBy, field) || (dir != "" && dir != "asc" && dir != "desc") {
			return nil, badRequestf("Invalid $orderby clause '%s': ordering is supported on %s only.", o[0], strings.Join(c.orderBy, ", "))
		}
		q.order, q.desc = field, dir == "desc"
	}
	if tp, ok := values["$top"]; ok {
		n, err := strconv.Atoi(tp[0])
		if err != nil || n < 1 || n > c.maxTop {
			return nil, badRequestf("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", tp[0], c.maxTop)
		}
		q.top = n
	}
	if s, ok := values["$skiptoken"]; ok {
		tok, err := decodeListToken(s[0], values)
		if err != nil {
			return nil, err
		}
		q.offset, q.seed = tok.Offset, tok.Seed
	}
	return q, nil
}

func (c collection) parseFilter(q *listQuery, f string) error {
	if strings.TrimSpace(f) == "" {
		return badRequest("Invalid filter clause: the filter is empty.")
	}
	for _, clause := range strings.Split(f, " and ") {
		clause = strings.TrimSpace(clause)
		if m := reBoolClause.FindStringSubmatch(clause); m != nil && slices.Contains(c.filterable, m[1]) {
			field, want := m[1], m[2] == "true"
			q.filters = append(q.filters, func(row map[string]any) bool { b, _ := row[field].(bool); return b == want })
			continue
		}
		if m := reStringClause.FindStringSubmatch(clause); m != nil && slices.Contains(c.filterable, m[1]) {
			field, want := m[1], m[2]
			q.filters = append(q.filters, func(row map[string]any) bool { s, _ := row[field].(string); return s == want })
			continue
		}
		if m := reAnyString.FindStringSubmatch(clause); m != nil && slices.Contains(c.filterable, m[1]) && m[2] == m[3] {
			field, want := m[1], m[4]
			q.filters = append(q.filters, func(row map[string]any) bool {
				list, _ := row[field].([]any)
				for _, v := range list {
					if s, _ := v.(string); s == want {
						return true
					}
				}
				if ss, ok := row[field].([]string); ok {
					return slices.Contains(ss, want)
				}
				return false
			})
			continue
		}
		return badRequestf("Invalid filter clause: '%s' is not supported.", clause)
	}
	return nil
}

// listToken is what a directory next link carries: the query it belongs to, the seed of its
// shuffled order and the offset. The directory changes only when a test loads another fixture,
// so an offset into one query's order is stable.
type listToken struct {
	Query  string `json:"q"`
	Offset int    `json:"o"`
	Seed   uint64 `json:"s,omitempty"`
}

func canonicalQuery(values url.Values) string {
	v := url.Values{}
	for k, vs := range values {
		if k != "$skiptoken" {
			v[k] = vs
		}
	}
	return v.Encode()
}

func encodeListToken(values url.Values, offset int, seed uint64) string {
	b, _ := json.Marshal(listToken{Query: canonicalQuery(values), Offset: offset, Seed: seed})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeListToken(s string, values url.Values) (listToken, error) {
	invalid := badRequest("Invalid $skiptoken: it is malformed or does not belong to this query.")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return listToken{}, invalid
	}
	var tok listToken
	if err := json.Unmarshal(b, &tok); err != nil || tok.Offset < 0 || tok.Query != canonicalQuery(values) {
		return listToken{}, invalid
	}
	return tok, nil
}

// idPos places a directory row in a query's shuffled order.
func idPos(seed uint64, id string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return shufflePos(seed, h.Sum64())
}

func (t *Tenant) handleList(c collection) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, ok := t.admit(w, r, c.route); !ok {
			return
		}
		q, err := c.parse(r.URL.RawQuery)
		if err != nil {
			writeGraphError(w, http.StatusBadRequest, "BadRequest", err.Error())
			return
		}
		t.mu.Lock()
		all := c.rows(t.reg)
		var matched []map[string]any
		for _, row := range all {
			keep := true
			for _, f := range q.filters {
				keep = keep && f(row)
			}
			if keep {
				matched = append(matched, row)
			}
		}
		seed := q.seed
		if q.order == "" && seed == 0 {
			seed = t.querySeeds.Uint64() | 1
		}
		t.mu.Unlock()
		// Neither List page documents an order. Without $orderby the rows come in a permutation
		// seeded per query (stable across its pages, different for the next query) and never by
		// id, so a client cannot come to rely on an order.
		matched = slices.Clone(matched)
		id := func(row map[string]any) string { s, _ := row["id"].(string); return s }
		if q.order != "" {
			slices.SortFunc(matched, func(a, b map[string]any) int {
				x, _ := a[q.order].(string)
				y, _ := b[q.order].(string)
				if q.desc {
					x, y = y, x
				}
				return cmp.Or(strings.Compare(x, y), strings.Compare(id(a), id(b)))
			})
		} else {
			type placed struct {
				pos uint64
				id  string
				row map[string]any
			}
			ps := make([]placed, len(matched))
			for i, row := range matched {
				ps[i] = placed{idPos(seed, id(row)), id(row), row}
			}
			slices.SortFunc(ps, func(a, b placed) int { return cmp.Or(cmp.Compare(a.pos, b.pos), strings.Compare(a.id, b.id)) })
			for i := range ps {
				matched[i] = ps[i].row
			}
		}
		// Without $top a collection serves its default page; with it, up to $top rows, both
		// capped by Options.PageSize so tests can force paging.
		size := c.pageSize(t)
		if q.top > 0 {
			size = min(q.top, t.opts.PageSize)
		}
		lo := min(q.offset, len(matched))
		hi := min(lo+size, len(matched))
		page := make([]map[string]any, 0, hi-lo)
		for _, row := range matched[lo:hi] {
			out := make(map[string]any, len(q.selects))
			for _, f := range q.selects {
				out[f] = row[f] // absent properties are null, as Graph serves them
			}
			page = append(page, out)
		}
		body := map[string]any{"@odata.context": t.base + "/v1.0/$metadata#" + strings.TrimPrefix(c.route, "/v1.0/"), "value": page}
		if hi < len(matched) {
			body["@odata.nextLink"] = t.base + c.route + "?" + nextQuery(q.raw, encodeListToken(q.raw, hi, seed))
		}
		w.Header().Set("request-id", requestID())
		writeJSON(w, http.StatusOK, body)
	}
}

// nextQuery rebuilds the query of a next link with Graph's %20 for spaces.
func nextQuery(values url.Values, token string) string {
	v := url.Values{}
	for k, vs := range values {
		if k != "$skiptoken" {
			v[k] = vs
		}
	}
	v.Set("$skiptoken", token)
	return strings.ReplaceAll(v.Encode(), "+", "%20")
}

func (t *Tenant) handleRequirements(w http.ResponseWriter, r *http.Request) {
	if _, ok := t.admit(w, r, RouteRequirements); !ok {
		return
	}
	if strings.Contains(r.URL.RawQuery, "$") {
		writeGraphError(w, http.StatusBadRequest, "BadRequest", "Query options are not supported on this resource.")
		return
	}
	id := r.PathValue("id")
	t.mu.Lock()
	state, ok := t.reg.requirements[id]
	if !ok { // a UPN addresses the user too
		for _, u := range t.reg.users {
			if upn, _ := u["userPrincipalName"].(string); strings.EqualFold(upn, id) {
				uid, _ := u["id"].(string)
				state, ok = t.reg.requirements[uid]
				if !ok {
					state, ok = "disabled", true
				}
				break
			}
		}
	}
	if !ok && slices.ContainsFunc(t.reg.users, func(u map[string]any) bool { return u["id"] == id }) {
		state, ok = "disabled", true
	}
	t.mu.Unlock()
	if !ok {
		writeGraphError(w, http.StatusNotFound, "Request_ResourceNotFound",
			"Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.")
		return
	}
	w.Header().Set("request-id", requestID())
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context":  t.base + "/beta/$metadata#users('" + id + "')/authentication/requirements",
		"perUserMfaState": state,
	})
}

// ErrNoRegistrationUser is returned by SetPerUserMFAState for an id the directory lacks.
var ErrNoRegistrationUser = errors.New("simtenant: no such user")

// SetPerUserMFAState changes one user's legacy per-user MFA state (disabled, enabled, enforced).
func (t *Tenant) SetPerUserMFAState(userID, state string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !slices.ContainsFunc(t.reg.users, func(u map[string]any) bool { return u["id"] == userID }) {
		return fmt.Errorf("%w: %q", ErrNoRegistrationUser, userID)
	}
	t.reg.requirements[userID] = state
	return nil
}
