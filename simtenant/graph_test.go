package simtenant

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func loadCompact(t *testing.T, tn *Tenant) {
	t.Helper()
	f, err := os.Open("testdata/signins_compact.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := tn.LoadFixture(f); err != nil {
		t.Fatalf("LoadFixture: %v", err)
	}
}

func TestSignInsAuthentication(t *testing.T) {
	clock := newFakeClock(epoch)
	tn := start(t, Options{Now: clock.Now, RateLimit: -1})
	good := token(t, tn)
	cases := []struct {
		name    string
		token   string
		advance time.Duration
		status  int
	}{
		{"no token", "", 0, 401},
		{"token not issued here", "forged", 0, 401},
		{"issued token", good, 0, 200},
		{"expired token", good, time.Hour, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock.Advance(tc.advance)
			r := get(t, tn, signInsURL(tn), tc.token, nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status == 401 {
				if code := graphErrorCode(t, r.body); code != "InvalidAuthenticationToken" {
					t.Errorf("code %q", code)
				}
				if r.header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			}
		})
	}
}

// The compact fixture (testdata/signins_compact.json): a1 08:00:00, a2 08:00:20, n1 08:01:00
// (non-interactive), r1 08:02:00, f1 08:03:00, late1 08:04:00 (visible 12 minutes later); at
// epoch (09:00) every row is visible.
func TestQueryGrammar(t *testing.T) {
	clock := newFakeClock(epoch)
	tn := start(t, Options{Now: clock.Now, RateLimit: -1, NoPadding: true})
	loadCompact(t, tn)
	tok := token(t, tn)
	both := "signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')"
	cases := []struct {
		name   string
		query  []string
		status int
		ids    []string // for 200
		msg    string   // substring of the 400 message
	}{
		{name: "no options: interactive only, newest first", ids: []string{"late1", "f1", "r1", "a2", "a1"}},
		{name: "range ge/le, both bounds inclusive", query: []string{"$filter", "createdDateTime ge 2025-03-10T08:00:20Z and createdDateTime le 2025-03-10T08:03:00Z"}, ids: []string{"f1", "r1", "a2"}},
		{name: "eq on date", query: []string{"$filter", "createdDateTime eq 2025-03-10T08:02:00Z"}, ids: []string{"r1"}},
		{name: "fractional seconds and offsets", query: []string{"$filter", "createdDateTime ge 2025-03-10T09:00:10.5+01:00"}, ids: []string{"late1", "f1", "r1", "a2"}},
		{name: "both event types", query: []string{"$filter", "createdDateTime ge 2025-03-10T07:00:00Z and " + both, "$top", "1000"}, ids: []string{"late1", "f1", "r1", "n1", "a2", "a1"}},
		{name: "the client's query form", query: []string{"$filter", "createdDateTime ge 2025-03-10T08:01:00Z and createdDateTime le 2025-03-10T08:03:00Z and " + both, "$top", "1000"}, ids: []string{"f1", "r1", "n1"}},
		{name: "the List page's example: a parenthesised range", query: []string{"$filter", "(createdDateTime ge 2025-03-10T08:01:00Z and createdDateTime le 2025-03-10T08:03:00Z) and signInEventTypes/any(t: t eq 'nonInteractiveUser')"}, ids: []string{"n1"}},
		{name: "event types first, other variable", query: []string{"$filter", "signInEventTypes/any(x: x eq 'nonInteractiveUser') and createdDateTime ge 2025-03-10T07:00:00Z"}, ids: []string{"n1"}},
		{name: "non-OData parameters ignored", query: []string{"api-version", "beta"}, ids: []string{"late1", "f1", "r1", "a2", "a1"}},

		// Microsoft documents eq, le and ge for createdDateTime and nothing else.
		{name: "gt on date", query: []string{"$filter", "createdDateTime gt 2025-03-10T08:00:00Z"}, status: 400, msg: "Invalid filter clause"},
		{name: "lt on date", query: []string{"$filter", "createdDateTime ge 2025-03-10T08:00:00Z and createdDateTime lt 2025-03-10T08:03:00Z"}, status: 400, msg: "Invalid filter clause"},
		{name: "ne on date", query: []string{"$filter", "createdDateTime ne 2025-03-10T08:00:00Z"}, status: 400, msg: "Invalid filter clause"},
		// The List signIns page names $top, $skiptoken and $filter only.
		{name: "orderby refused", query: []string{"$orderby", "createdDateTime asc"}, status: 400, msg: "Query option 'OrderBy' is not allowed"},
		{name: "orderby desc refused too", query: []string{"$orderby", "createdDateTime desc"}, status: 400, msg: "Query option 'OrderBy' is not allowed"},
		{name: "select", query: []string{"$select", "id,status"}, status: 400, msg: "Query option 'Select' is not allowed"},
		{name: "count", query: []string{"$count", "true"}, status: 400, msg: "'count' is not allowed"},
		{name: "skip", query: []string{"$skip", "5"}, status: 400, msg: "'skip' is not allowed"},
		{name: "other property", query: []string{"$filter", "status/errorCode eq 0"}, status: 400, msg: "Invalid filter clause"},
		{name: "quoted date", query: []string{"$filter", "createdDateTime ge '2025-03-10T08:00:00Z'"}, status: 400, msg: "Invalid filter clause"},
		{name: "date without time", query: []string{"$filter", "createdDateTime ge 2025-03-10"}, status: 400, msg: "Invalid filter clause"},
		{name: "or between dates", query: []string{"$filter", "createdDateTime ge 2025-03-10T08:00:00Z or createdDateTime le 2025-03-10T09:00:00Z"}, status: 400, msg: "Invalid filter clause"},
		{name: "double space", query: []string{"$filter", "createdDateTime  ge 2025-03-10T08:00:00Z"}, status: 400, msg: "Invalid filter clause"},
		{name: "service principal events", query: []string{"$filter", "signInEventTypes/any(t: t eq 'servicePrincipal')"}, status: 400},
		{name: "mismatched lambda variable", query: []string{"$filter", "signInEventTypes/any(t: x eq 'interactiveUser')"}, status: 400},
		{name: "two event clauses", query: []string{"$filter", "signInEventTypes/any(t: t eq 'interactiveUser') and signInEventTypes/any(t: t eq 'nonInteractiveUser')"}, status: 400},
		{name: "empty filter", query: []string{"$filter", ""}, status: 400},
		{name: "unbalanced parenthesis", query: []string{"$filter", "(createdDateTime ge 2025-03-10T08:00:00Z and createdDateTime le 2025-03-10T09:00:00Z"}, status: 400, msg: "Invalid filter clause"},
		{name: "stray closing parenthesis", query: []string{"$filter", "createdDateTime ge 2025-03-10T08:00:00Z)"}, status: 400, msg: "Invalid filter clause"},
		{name: "filter twice", query: []string{"$filter", "createdDateTime ge 2025-03-10T08:00:00Z", "$filter", "createdDateTime le 2025-03-10T09:00:00Z"}, status: 400},
		{name: "top zero", query: []string{"$top", "0"}, status: 400, msg: "Invalid page size"},
		{name: "top too big", query: []string{"$top", "1001"}, status: 400},
		{name: "top not a number", query: []string{"$top", "ten"}, status: 400},
		{name: "garbage skiptoken", query: []string{"$skiptoken", "not-a-token"}, status: 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, tn, signInsURL(tn, tc.query...), tok, nil)
			want := tc.status
			if want == 0 {
				want = 200
			}
			if r.status != want {
				t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
			}
			if want != 200 {
				if code := graphErrorCode(t, r.body); code != "BadRequest" {
					t.Errorf("code %q", code)
				}
				if !strings.Contains(string(r.body), tc.msg) {
					t.Errorf("body %s lacks %q", r.body, tc.msg)
				}
				return
			}
			if got := ids(t, decodePage(t, r)); !slices.Equal(got, tc.ids) {
				t.Errorf("ids %v, want %v", got, tc.ids)
			}
		})
	}
}

// $orderby is refused by default; a tenant told to ignore it serves its own order, one told to
// honour it serves the order asked for. A malformed clause is refused whatever the mode.
func TestOrderByModes(t *testing.T) {
	newest := []string{"late1", "f1", "r1", "a2", "a1"}
	oldest := []string{"a1", "a2", "r1", "f1", "late1"}
	cases := []struct {
		name    string
		mode    OrderByMode
		order   Order
		orderBy string
		status  int
		ids     []string
	}{
		{"reject", OrderByReject, OrderNewestFirst, "createdDateTime asc", 400, nil},
		{"ignore asc, newest first served", OrderByIgnore, OrderNewestFirst, "createdDateTime asc", 200, newest},
		{"ignore desc, ascending served", OrderByIgnore, OrderAscending, "createdDateTime desc", 200, oldest},
		{"ignore a bad clause", OrderByIgnore, OrderNewestFirst, "userId", 400, nil},
		{"honour asc", OrderByHonour, OrderNewestFirst, "createdDateTime asc", 200, oldest},
		{"honour bare property as asc", OrderByHonour, OrderNewestFirst, "createdDateTime", 200, oldest},
		{"honour desc over an ascending default", OrderByHonour, OrderAscending, "createdDateTime desc", 200, newest},
		{"honour a bad clause", OrderByHonour, OrderNewestFirst, "createdDateTime sideways", 400, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock(epoch)
			tn := start(t, Options{Now: clock.Now, RateLimit: -1, NoPadding: true, OrderBy: tc.mode, Order: tc.order, PageSize: 2})
			loadCompact(t, tn)
			tok := token(t, tn)
			first := signInsURL(tn, "$orderby", tc.orderBy)
			if tc.status != 200 {
				r := get(t, tn, first, tok, nil)
				if r.status != tc.status || graphErrorCode(t, r.body) != "BadRequest" {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				return
			}
			var got []string
			for _, raw := range readAll(t, tn, first, tok, nil) {
				var h rowHead
				_ = json.Unmarshal(raw, &h)
				got = append(got, h.ID)
			}
			if !slices.Equal(got, tc.ids) {
				t.Errorf("ids %v, want %v", got, tc.ids)
			}
		})
	}
}

func TestNextLinkBelongsToItsQuery(t *testing.T) {
	clock := newFakeClock(epoch)
	tn := start(t, Options{Now: clock.Now, RateLimit: -1, NoPadding: true, PageSize: 2})
	loadCompact(t, tn)
	tok := token(t, tn)
	p := decodePage(t, get(t, tn, signInsURL(tn, "$filter", "createdDateTime ge 2025-03-10T08:00:00Z"), tok, nil))
	if len(p.Value) != 2 || p.NextLink == "" {
		t.Fatalf("PageSize 2 should give 2 rows and a next link, got %d rows, link %q", len(p.Value), p.NextLink)
	}
	if !strings.Contains(p.Context, tn.GraphEndpoint()) {
		t.Errorf("@odata.context %q", p.Context)
	}
	if !strings.HasPrefix(p.NextLink, tn.GraphEndpoint()+"/beta/auditLogs/signIns?") {
		t.Errorf("next link is not absolute to this server: %s", p.NextLink)
	}
	tampered := strings.Replace(p.NextLink, "08%3A00%3A00", "08%3A00%3A01", 1)
	if tampered == p.NextLink {
		t.Fatalf("next link does not carry $filter: %s", p.NextLink)
	}
	if r := get(t, tn, tampered, tok, nil); r.status != 400 {
		t.Errorf("skiptoken reused with another query: status %d, want 400", r.status)
	}
	rest := readAll(t, tn, p.NextLink, tok, nil)
	if len(rest) != 3 {
		t.Errorf("rest of the sequence: %d rows, want 3", len(rest))
	}
}

func TestLateVisibility(t *testing.T) {
	clock := newFakeClock(time.Date(2025, 3, 10, 8, 10, 0, 0, time.UTC))
	tn := start(t, Options{Now: clock.Now, RateLimit: -1, NoPadding: true})
	loadCompact(t, tn)
	tok := token(t, tn)
	url := signInsURL(tn, "$filter", "createdDateTime ge 2025-03-10T08:04:00Z")
	if got := ids(t, decodePage(t, get(t, tn, url, tok, nil))); len(got) != 0 {
		t.Fatalf("late row visible 6 minutes after creation: %v", got)
	}
	clock.Advance(5*time.Minute + 59*time.Second)
	if got := ids(t, decodePage(t, get(t, tn, url, tok, nil))); len(got) != 0 {
		t.Fatalf("late row visible 1 s early: %v", got)
	}
	clock.Advance(time.Second)
	if got := ids(t, decodePage(t, get(t, tn, url, tok, nil))); !slices.Equal(got, []string{"late1"}) {
		t.Fatalf("late row not visible at createdDateTime+720s: %v", got)
	}
}

func TestUnknownEnumMembers(t *testing.T) {
	clock := newFakeClock(epoch)
	tn := start(t, Options{Now: clock.Now, RateLimit: -1, NoPadding: true})
	loadCompact(t, tn)
	tok := token(t, tn)
	issuers := func(hdr map[string]string) (map[string]string, http.Header) {
		r := get(t, tn, signInsURL(tn), tok, hdr)
		out := map[string]string{}
		for _, raw := range decodePage(t, r).Value {
			var h rowHead
			if err := json.Unmarshal(raw, &h); err != nil {
				t.Fatal(err)
			}
			out[h.ID] = h.TokenIssuerType
		}
		return out, r.header
	}
	plain, h := issuers(nil)
	if plain["r1"] != "unknownFutureValue" || plain["f1"] != "unknownFutureValue" || plain["a1"] != "AzureAD" {
		t.Errorf("without Prefer: %v", plain)
	}
	if h.Get("Preference-Applied") != "" {
		t.Error("Preference-Applied sent without Prefer")
	}
	full, h := issuers(map[string]string{"Prefer": "odata.maxpagesize=10, include-unknown-enum-members"})
	if full["r1"] != "NPSExtension" || full["f1"] != "ADFederationServicesMFAAdapter" || full["a1"] != "AzureAD" {
		t.Errorf("with Prefer: %v", full)
	}
	if h.Get("Preference-Applied") != "include-unknown-enum-members" {
		t.Errorf("Preference-Applied = %q", h.Get("Preference-Applied"))
	}
}

func TestThrottling(t *testing.T) {
	clock := newFakeClock(epoch)
	tn := start(t, Options{Now: clock.Now, NoPadding: true})
	tok := token(t, tn)
	url := signInsURL(tn)
	for i := range 5 {
		if r := get(t, tn, url, tok, nil); r.status != 200 {
			t.Fatalf("request %d: %d", i, r.status)
		}
		clock.Advance(time.Second)
	}
	// Token requests are not Graph requests and do not count.
	token(t, tn)
	steps := []struct {
		advance    time.Duration
		status     int
		retryAfter string
	}{
		{0, 429, "5"},               // oldest request at t=0, now t=5 s
		{4 * time.Second, 429, "1"}, // t=9 s
		{time.Second, 200, ""},      // t=10 s: the first request left the window
		{0, 429, "1"},               // the second (t=1 s) leaves at 11 s
		{time.Second, 200, ""},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		r := get(t, tn, url, tok, nil)
		if r.status != s.status {
			t.Fatalf("step %d: status %d, want %d", i, r.status, s.status)
		}
		if s.status == 429 {
			if got := r.header.Get("Retry-After"); got != s.retryAfter {
				t.Errorf("step %d: Retry-After %q, want %q", i, got, s.retryAfter)
			}
			if code := graphErrorCode(t, r.body); code != "TooManyRequests" {
				t.Errorf("step %d: code %q", i, code)
			}
		}
	}
	if got := tn.Stats().Throttled; got != 3 {
		t.Errorf("Stats.Throttled = %d, want 3", got)
	}

	unlimited := start(t, Options{Now: clock.Now, RateLimit: -1, NoPadding: true})
	utok := token(t, unlimited)
	for i := range 20 {
		if r := get(t, unlimited, signInsURL(unlimited), utok, nil); r.status != 200 {
			t.Fatalf("RateLimit -1, request %d: %d", i, r.status)
		}
	}
}

func TestFaults(t *testing.T) {
	type check func(t *testing.T, r response)
	status := func(code int, graphCode string) check {
		return func(t *testing.T, r response) {
			if r.status != code {
				t.Fatalf("status %d, want %d: %s", r.status, code, r.body)
			}
			if graphCode != "" {
				if got := graphErrorCode(t, r.body); got != graphCode {
					t.Errorf("code %q, want %q", got, graphCode)
				}
			}
		}
	}
	malformed := func(field, want string) check {
		return func(t *testing.T, r response) {
			p := decodePage(t, r)
			bad := 0
			for _, raw := range p.Value {
				var m map[string]json.RawMessage
				if err := json.Unmarshal(raw, &m); err != nil {
					t.Fatal(err)
				}
				if string(m[field]) == want {
					bad++
				}
			}
			if bad != 1 || len(p.Value) != 3 {
				t.Errorf("%d rows with %s=%s among %d, want 1 of 3", bad, field, want, len(p.Value))
			}
		}
	}
	cases := []struct {
		fault Fault
		check check
	}{
		{Fault{Kind: FaultHTTP500}, status(500, "UnknownError")},
		{Fault{Kind: FaultHTTP502}, status(502, "BadGateway")},
		{Fault{Kind: FaultHTTP503, RetryAfter: 7 * time.Second}, func(t *testing.T, r response) {
			status(503, "serviceNotAvailable")(t, r)
			if r.header.Get("Retry-After") != "7" {
				t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
			}
		}},
		{Fault{Kind: FaultHTTP504}, status(504, "GatewayTimeout")},
		{Fault{Kind: FaultThrottle, RetryAfter: 1500 * time.Millisecond}, func(t *testing.T, r response) {
			status(429, "TooManyRequests")(t, r)
			if r.header.Get("Retry-After") != "2" {
				t.Errorf("Retry-After %q, want 2", r.header.Get("Retry-After"))
			}
		}},
		{Fault{Kind: FaultLicense}, func(t *testing.T, r response) {
			status(403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant")(t, r)
			if !bytes.Contains(r.body, []byte("Neither tenant is B2C or tenant doesn't have premium license")) {
				t.Errorf("licence message missing: %s", r.body)
			}
		}},
		{Fault{Kind: FaultPermission}, func(t *testing.T, r response) {
			status(403, "Authorization_RequestDenied")(t, r)
			if !bytes.Contains(r.body, []byte("Insufficient privileges to complete the operation.")) {
				t.Errorf("permission message missing: %s", r.body)
			}
		}},
		{Fault{Kind: FaultTruncated}, func(t *testing.T, r response) {
			// Over HTTP/1.1 the client sees io.ErrUnexpectedEOF, over HTTP/2 a
			// stream reset; either way the body read fails after a prefix.
			if r.status != 200 || r.err == nil {
				t.Fatalf("want 200 then a failed body read, got %d, %v", r.status, r.err)
			}
			if !bytes.HasPrefix(r.body, []byte(`{"@odata.context":`)) || json.Valid(r.body) {
				t.Errorf("truncated body should be a valid prefix of a page: %.80s", r.body)
			}
		}},
		{Fault{Kind: FaultInvalidJSON}, func(t *testing.T, r response) {
			if r.status != 200 || r.err != nil || json.Valid(r.body) {
				t.Fatalf("want a complete 200 body that is not JSON, got %d %v valid=%v", r.status, r.err, json.Valid(r.body))
			}
		}},
		{Fault{Kind: FaultMalformedRow}, malformed("createdDateTime", "12")},
		{Fault{Kind: FaultMalformedStatus}, malformed("status", `"x"`)},
	}
	for _, tc := range cases {
		t.Run(tc.fault.Kind, func(t *testing.T) {
			clock := newFakeClock(epoch)
			tn := start(t, Options{Now: clock.Now, RateLimit: -1})
			loadCompact(t, tn)
			tok := token(t, tn)
			url := signInsURL(tn, "$top", "3")
			tc.fault.Count = 2
			tn.InjectFault(tc.fault)
			for i := range 2 {
				t.Logf("faulted request %d", i)
				tc.check(t, get(t, tn, url, tok, nil))
			}
			p := decodePage(t, get(t, tn, url, tok, nil)) // the fault is used up
			if len(p.Value) != 3 {
				t.Errorf("healthy page has %d rows", len(p.Value))
			}
			if got := tn.Stats().FaultsApplied; got != 2 {
				t.Errorf("FaultsApplied = %d, want 2", got)
			}
		})
	}
}

func TestDelayFault(t *testing.T) {
	tn := start(t, Options{RateLimit: -1, NoPadding: true})
	tok := token(t, tn)
	tn.InjectFault(Fault{Kind: FaultDelay, Delay: time.Hour})
	client := *tn.HTTPClient()
	client.Timeout = 50 * time.Millisecond
	req, _ := http.NewRequest(http.MethodGet, signInsURL(tn), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("a request held for an hour answered")
	}
	if r := get(t, tn, signInsURL(tn), tok, nil); r.status != 200 {
		t.Errorf("after the delay fault: %d", r.status)
	}

	// A short delay answers normally afterwards.
	tn.InjectFault(Fault{Kind: FaultDelay, Delay: time.Millisecond})
	if r := get(t, tn, signInsURL(tn), tok, nil); r.status != 200 {
		t.Errorf("short delay: %d", r.status)
	}
}

func TestFaultsApplyInOrderAndPageFaultsWait(t *testing.T) {
	clock := newFakeClock(epoch)
	tn := start(t, Options{Now: clock.Now, RateLimit: 1, RateWindow: 10 * time.Second, NoPadding: true})
	loadCompact(t, tn)
	tok := token(t, tn)
	tn.InjectFault(Fault{Kind: FaultHTTP503})
	tn.InjectFault(Fault{Kind: FaultInvalidJSON})
	url := signInsURL(tn)
	if r := get(t, tn, url, tok, nil); r.status != 503 {
		t.Fatalf("first: %d", r.status)
	}
	if r := get(t, tn, url, tok, nil); r.status != 200 || json.Valid(r.body) {
		t.Fatalf("second should be the invalid page: %d", r.status)
	}
	// A throttled request does not consume a page fault.
	tn.InjectFault(Fault{Kind: FaultMalformedRow})
	if r := get(t, tn, url, tok, nil); r.status != 429 {
		t.Fatalf("third should be throttled: %d", r.status)
	}
	clock.Advance(10 * time.Second)
	r := get(t, tn, url, tok, nil)
	if !bytes.Contains(r.body, []byte(`"createdDateTime":12`)) {
		t.Errorf("malformed-row fault lost while throttled: %.200s", r.body)
	}
}

func TestUnknownFaultKindPanics(t *testing.T) {
	tn := start(t, Options{})
	defer func() {
		if recover() == nil {
			t.Error("InjectFault accepted a misspelt kind")
		}
	}()
	tn.InjectFault(Fault{Kind: "http_5OO"})
}

func TestStatsCountRequests(t *testing.T) {
	clock := newFakeClock(epoch)
	tn := start(t, Options{Now: clock.Now, RateLimit: -1, NoPadding: true})
	loadCompact(t, tn)
	tok := token(t, tn)
	get(t, tn, signInsURL(tn), tok, nil)
	get(t, tn, signInsURL(tn), "", nil)
	get(t, tn, signInsURL(tn, "$select", "id"), tok, nil)
	get(t, tn, tn.GraphEndpoint()+"/v1.0/groups", tok, nil)
	s := tn.Stats()
	want := map[RequestKey]int{
		{RouteToken, 200}: 1, {RouteSignIns, 200}: 1, {RouteSignIns, 401}: 1, {RouteSignIns, 400}: 1, {RouteOther, 404}: 1,
	}
	for k, n := range want {
		if s.Requests[k] != n {
			t.Errorf("%v: %d, want %d", k, s.Requests[k], n)
		}
	}
	if s.RowsStored != 6 || s.RowsServed != 5 {
		t.Errorf("rows stored %d served %d, want 6 and 5", s.RowsStored, s.RowsServed)
	}
}
