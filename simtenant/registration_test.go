package simtenant

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func loadRegistrationFixture(t *testing.T, tn *Tenant) {
	t.Helper()
	f, err := os.Open("testdata/registration-tenant.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := tn.LoadRegistrationFixture(f); err != nil {
		t.Fatal(err)
	}
}

func regURL(tn *Tenant, route string, kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, kv[i]+"="+strings.ReplaceAll(url.QueryEscape(kv[i+1]), "+", "%20"))
	}
	u := tn.GraphEndpoint() + route
	if len(parts) > 0 {
		u += "?" + strings.Join(parts, "&")
	}
	return u
}

func decodeRows(t *testing.T, raws []json.RawMessage) []map[string]any {
	t.Helper()
	out := make([]map[string]any, len(raws))
	for i, r := range raws {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	return out
}

func TestGeneratedDirectoryMatchesItsTruth(t *testing.T) {
	clock := newFakeClock(epoch)
	tn := start(t, Options{Now: clock.Now, RateLimit: -1, Users: 300, Seed: 7})
	tok := token(t, tn)
	truth := tn.RegistrationTruth()
	if truth.Users != 300 || truth.Disabled == 0 || truth.Guests == 0 || truth.Admins == 0 || truth.NoMethod == 0 || truth.MFARegistered == 0 {
		t.Fatalf("population lacks a kind of user: %+v", truth)
	}

	users := decodeRows(t, readAll(t, tn, regURL(tn, RouteUsers, "$select", "id,accountEnabled,userType,userPrincipalName", "$top", "999"), tok, nil))
	var disabled, guests int
	for _, u := range users {
		if u["accountEnabled"] == false {
			disabled++
		}
		if u["userType"] == "Guest" {
			guests++
		}
	}
	if len(users) != truth.Users || disabled != truth.Disabled || guests != truth.Guests {
		t.Errorf("users %d disabled %d guests %d, truth %+v", len(users), disabled, guests, truth)
	}

	rows := decodeRows(t, readAll(t, tn, regURL(tn, RouteRegistrationDetails), tok, nil))
	if len(rows) != truth.Users {
		t.Fatalf("report rows = %d, want %d", len(rows), truth.Users)
	}
	var admins, registered, noMethod int
	seen := map[string]bool{}
	for _, r := range rows {
		if r["isAdmin"] == true {
			admins++
		}
		if r["isMfaRegistered"] == true {
			registered++
		}
		methods := r["methodsRegistered"].([]any)
		if len(methods) == 0 {
			noMethod++
		}
		for _, m := range append(methods, r["systemPreferredAuthenticationMethods"].([]any)...) {
			seen[m.(string)] = true
		}
		updated, err := time.Parse(time.RFC3339, r["lastUpdatedDateTime"].(string))
		if err != nil {
			t.Fatal(err)
		}
		// The report was built hours ago, as Microsoft's is.
		if age := epoch.Sub(updated); age < time.Hour || age > 4*time.Hour+10*time.Minute {
			t.Errorf("lastUpdatedDateTime %s is %v old", updated, age)
		}
	}
	if admins != truth.Admins || registered != truth.MFARegistered || noMethod != truth.NoMethod {
		t.Errorf("admins %d registered %d no method %d, truth %+v", admins, registered, noMethod, truth)
	}
	for _, open := range []string{"PhoneAppNotification", "Fido2", "passKeySynced", "microsoftAuthenticatorPush", "qrCodePin"} {
		if !seen[open] {
			t.Errorf("no row carries %q", open)
		}
	}

	// The same seed gives the same directory; adding it left the sign-in generator's stream alone.
	again := start(t, Options{Now: clock.Now, RateLimit: -1, Users: 300, Seed: 7})
	if again.RegistrationTruth() != truth {
		t.Errorf("same seed, different truth")
	}
	if tn.gen.users[17].id != again.gen.users[17].id {
		t.Errorf("user ids differ for one seed")
	}
}

func TestRegistrationQueryRules(t *testing.T) {
	tn := start(t, Options{RateLimit: -1, PageSize: 4})
	loadRegistrationFixture(t, tn)
	tok := token(t, tn)
	// readIDs follows a query's next links and returns the ids in the order served.
	readIDs := func(t *testing.T, first string) []string {
		t.Helper()
		var out []string
		for _, r := range decodeRows(t, readAll(t, tn, first, tok, nil)) {
			out = append(out, r["id"].(string))
		}
		return out
	}
	fixtureIDs := func(route string) []string {
		var f RegistrationFixture
		raw, err := os.ReadFile("testdata/registration-tenant.json")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatal(err)
		}
		rows := f.Details
		if route == RouteUsers {
			rows = f.Users
		}
		var out []string
		for _, r := range rows {
			out = append(out, r["id"].(string))
		}
		return out
	}

	t.Run("the report serves every property without options", func(t *testing.T) {
		p := decodePage(t, get(t, tn, regURL(tn, RouteRegistrationDetails), tok, nil))
		row := decodeRows(t, p.Value)[0]
		if len(row) != len(registrationFields) {
			t.Errorf("row has %d properties, want the %d v1.0 ones: %v", len(row), len(registrationFields), row)
		}
		if len(p.Value) != 4 || !strings.HasPrefix(p.NextLink, tn.GraphEndpoint()+RouteRegistrationDetails+"?") {
			t.Errorf("page of %d, next %q", len(p.Value), p.NextLink)
		}
	})
	for _, c := range []struct{ name, first, route string }{
		{"report", regURL(tn, RouteRegistrationDetails), RouteRegistrationDetails},
		{"users", regURL(tn, RouteUsers, "$select", "id,accountEnabled", "$top", "3"), RouteUsers},
	} {
		t.Run(c.name+": every row once, in no documented order", func(t *testing.T) {
			want := fixtureIDs(c.route)
			a, b := readIDs(t, c.first), readIDs(t, c.first)
			for _, got := range [][]string{a, b} {
				if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
					t.Fatalf("ids %v, want each of %v once", got, want)
				}
				if slices.IsSorted(got) {
					t.Errorf("rows served by id: %v", got)
				}
			}
			if slices.Equal(a, b) {
				t.Errorf("two queries served the same order %v: the order is not per query", a)
			}
			// One query's pages are stable: its second page, asked for twice, is the same.
			p := decodePage(t, get(t, tn, c.first, tok, nil))
			second := func() []string {
				var out []string
				for _, r := range decodeRows(t, decodePage(t, get(t, tn, p.NextLink, tok, nil)).Value) {
					out = append(out, r["id"].(string))
				}
				return out
			}
			if x, y := second(), second(); !slices.Equal(x, y) || len(x) == 0 {
				t.Errorf("one next link served %v, then %v", x, y)
			}
		})
	}
	t.Run("filter and orderby", func(t *testing.T) {
		rows := decodeRows(t, readAll(t, tn, regURL(tn, RouteRegistrationDetails,
			"$filter", "isMfaRegistered eq false", "$orderby", "userPrincipalName desc"), tok, nil))
		var upns []string
		for _, r := range rows {
			upns = append(upns, r["userPrincipalName"].(string))
		}
		want := []string{"mallory@contoso.example", "frank_fabrikam.example#EXT#@contoso.example", "erin_fabrikam.example#EXT#@contoso.example", "carol@contoso.example"}
		if !slices.Equal(upns, want) {
			t.Errorf("upns = %v, want %v", upns, want)
		}
		rows = decodeRows(t, readAll(t, tn, regURL(tn, RouteRegistrationDetails, "$filter", "methodsRegistered/any(m: m eq 'fido2')"), tok, nil))
		if len(rows) != 2 {
			t.Errorf("fido2 rows = %d, want 2", len(rows))
		}
	})
	t.Run("users without select hide accountEnabled", func(t *testing.T) {
		row := decodeRows(t, decodePage(t, get(t, tn, regURL(tn, RouteUsers), tok, nil)).Value)[0]
		if _, ok := row["accountEnabled"]; ok {
			t.Errorf("default user properties include accountEnabled: %v", row)
		}
		if _, ok := row["perUserMfaState"]; ok {
			t.Errorf("fixture-only field served: %v", row)
		}
	})
	for _, tc := range []struct{ name, route, key, value, msg string }{
		// List userRegistrationDetails documents $filter (and, in beta, $orderBy) only.
		{"report select", RouteRegistrationDetails, "$select", "id,isMfaRegistered", "'select' is not allowed"},
		{"report top", RouteRegistrationDetails, "$top", "10", "'top' is not allowed"},
		{"report count", RouteRegistrationDetails, "$count", "true", "'count' is not allowed"},
		{"report filter on an undocumented property", RouteRegistrationDetails, "$filter", "userType eq 'member'", "Invalid filter clause"},
		{"report filter on isAdmin", RouteRegistrationDetails, "$filter", "isAdmin eq true", "Invalid filter clause"},
		{"report orderby id", RouteRegistrationDetails, "$orderby", "id", "Invalid $orderby"},
		{"report orderby isAdmin", RouteRegistrationDetails, "$orderby", "isAdmin", "Invalid $orderby"},
		{"unsupported filter", RouteRegistrationDetails, "$filter", "startswith(userPrincipalName,'a')", "Invalid filter clause"},
		// List users documents $skip as unsupported; $expand is not simulated.
		{"users skip", RouteUsers, "$skip", "3", "'skip' is not allowed"},
		{"expand", RouteUsers, "$expand", "manager", "'expand' is not allowed"},
		{"users unknown property", RouteUsers, "$select", "id,defaultMfaMethod", "Could not find a property named 'defaultMfaMethod'"},
		{"users top above 999", RouteUsers, "$top", "1000", "between 1 and 999"},
		{"users top zero", RouteUsers, "$top", "0", "Invalid page size"},
		{"users orderby id", RouteUsers, "$orderby", "id", "Invalid $orderby"},
		{"foreign skiptoken", RouteUsers, "$skiptoken", encodeListToken(url.Values{"$top": {"2"}}, 2, 7), "Invalid $skiptoken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, tn, regURL(tn, tc.route, tc.key, tc.value), tok, nil)
			if r.status != http.StatusBadRequest || graphErrorCode(t, r.body) != "BadRequest" || !strings.Contains(string(r.body), tc.msg) {
				t.Errorf("status %d body %s", r.status, r.body)
			}
		})
	}
}

func TestPerUserRequirements(t *testing.T) {
	tn := start(t, Options{RateLimit: -1})
	loadRegistrationFixture(t, tn)
	tok := token(t, tn)
	state := func(id string) (int, string) {
		r := get(t, tn, tn.GraphEndpoint()+"/beta/users/"+url.PathEscape(id)+"/authentication/requirements", tok, nil)
		var body struct {
			State string `json:"perUserMfaState"`
		}
		_ = json.Unmarshal(r.body, &body)
		return r.status, body.State
	}
	for id, want := range map[string]string{
		"00000000-0000-4000-8000-00000000000a": "enforced",
		"00000000-0000-4000-8000-00000000000b": "enabled",
		"00000000-0000-4000-8000-00000000000e": "disabled", // no state in the fixture
		"bob@contoso.example":                  "enabled",  // addressed by UPN
	} {
		if status, got := state(id); status != 200 || got != want {
			t.Errorf("%s: %d %q, want %q", id, status, got, want)
		}
	}
	if status, _ := state("00000000-0000-4000-8000-0000000000ff"); status != http.StatusNotFound {
		t.Errorf("unknown user: %d", status)
	}
	if err := tn.SetPerUserMFAState("00000000-0000-4000-8000-00000000000c", "enforced"); err != nil {
		t.Fatal(err)
	}
	if _, got := state("00000000-0000-4000-8000-00000000000c"); got != "enforced" {
		t.Errorf("after SetPerUserMFAState: %q", got)
	}
	if err := tn.SetPerUserMFAState("nobody", "enforced"); err == nil {
		t.Error("SetPerUserMFAState accepted an unknown user")
	}
}

// Registration faults hit only the route they name, sign-in faults never reach it, and every
// route sits behind the same token check and the same rate limit as sign-ins.
func TestRegistrationFaultsTokenAndBudget(t *testing.T) {
	clock := newFakeClock(epoch)
	tn := start(t, Options{Now: clock.Now, RateLimit: 3, RateWindow: 10 * time.Second, NoPadding: true})
	loadRegistrationFixture(t, tn)
	tok := token(t, tn)
	reqURL := tn.GraphEndpoint() + "/beta/users/00000000-0000-4000-8000-00000000000a/authentication/requirements"

	for _, u := range []string{regURL(tn, RouteRegistrationDetails), regURL(tn, RouteUsers), reqURL} {
		if r := get(t, tn, u, "", nil); r.status != http.StatusUnauthorized {
			t.Errorf("%s without token: %d", u, r.status)
		}
	}

	tn.InjectFault(Fault{Kind: FaultLicense, Route: RouteRegistrationDetails})
	tn.InjectFault(Fault{Kind: FaultPermission, Route: RouteUsers})
	tn.InjectFault(Fault{Kind: FaultPermission, Route: RouteRequirements})
	tn.InjectFault(Fault{Kind: FaultHTTP500}) // sign-ins only
	checks := []struct {
		url    string
		status int
		code   string
	}{
		{regURL(tn, RouteUsers), 403, "Authorization_RequestDenied"},
		{regURL(tn, RouteRegistrationDetails), 403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant"},
		{reqURL, 403, "Authorization_RequestDenied"},
	}
	for _, c := range checks {
		r := get(t, tn, c.url, tok, nil)
		if r.status != c.status || graphErrorCode(t, r.body) != c.code {
			t.Errorf("%s: %d %s", c.url, r.status, r.body)
		}
	}
	if r := get(t, tn, signInsURL(tn), tok, nil); r.status != http.StatusInternalServerError {
		t.Errorf("sign-in fault consumed elsewhere: %d", r.status)
	}

	// Faults answer before the rate limit, so the budget is still whole: three requests pass,
	// the fourth, whatever its route, is throttled.
	for i, u := range []string{regURL(tn, RouteUsers), signInsURL(tn), reqURL} {
		if r := get(t, tn, u, tok, nil); r.status != 200 {
			t.Fatalf("request %d: %d %s", i, r.status, r.body)
		}
	}
	r := get(t, tn, regURL(tn, RouteRegistrationDetails), tok, nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("fourth request in the window: %d", r.status)
	}
	clock.Advance(10 * time.Second)
	if r := get(t, tn, regURL(tn, RouteRegistrationDetails), tok, nil); r.status != 200 {
		t.Errorf("after the window: %d", r.status)
	}

	for _, bad := range []Fault{{Kind: FaultTruncated, Route: RouteUsers}, {Kind: FaultLicense, Route: "/v1.0/groups"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("InjectFault accepted %+v", bad)
				}
			}()
			tn.InjectFault(bad)
		}()
	}
}

func TestLoadRegistrationFixtureRejectsBadInput(t *testing.T) {
	tn := start(t, Options{})
	for name, in := range map[string]string{
		"not json":          `{"users": [`,
		"user without id":   `{"users": [{"userPrincipalName": "x@contoso.example"}]}`,
		"row without id":    `{"userRegistrationDetails": [{"isAdmin": true}]}`,
		"beta-only field":   `{"userRegistrationDetails": [{"id": "a", "defaultMfaMethod": "push"}]}`,
		"unknown top level": `{"groups": []}`,
	} {
		if err := tn.LoadRegistrationFixture(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
