package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph/graphtest"
)

func TestDecodeSignInPage(t *testing.T) {
	tests := []struct {
		name          string
		body          []byte
		wantIDs       []string
		wantNext      string
		wantMalformed int
		wantErr       error // nil: success; errNoValue or errAny
	}{
		{name: "page with next link", body: fixture(t, "page1.json", "https://graph.example"),
			wantIDs: []string{"row-0001", "row-0002"}, wantNext: "https://graph.example/beta/auditLogs/signIns?$skiptoken=page2"},
		{name: "last page", body: fixture(t, "page3.json", ""), wantIDs: []string{"row-0005"}},
		{name: "one malformed row", body: fixture(t, "page_malformed_row.json", ""), wantIDs: []string{"row-0006", "row-0008"}, wantMalformed: 1},
		{name: "empty page", body: []byte(`{"value":[]}`), wantIDs: nil},
		{name: "null row and row without id", body: []byte(`{"value":[null,{"id":"x"},{"userId":"u"}]}`), wantIDs: []string{"x"}, wantMalformed: 2},
		{name: "row that is not an object", body: []byte(`{"value":["abc",{"id":"y","createdDateTime":"yesterday"},{"id":"z"}]}`), wantIDs: []string{"z"}, wantMalformed: 2},
		{name: "truncated", body: fixture(t, "page_truncated.json", ""), wantErr: errAny},
		{name: "no value", body: []byte(`{"@odata.nextLink":"https://graph.example/next"}`), wantErr: errNoValue},
		{name: "null value", body: []byte(`{"value":null}`), wantErr: errNoValue},
		{name: "null page", body: []byte(`null`), wantErr: errNoValue},
		{name: "array top level", body: []byte(`[{"id":"a"}]`), wantErr: errAny},
		{name: "next link not a string", body: []byte(`{"value":[],"@odata.nextLink":5}`), wantErr: errAny},
		{name: "empty body", body: nil, wantErr: errAny},
		{name: "syntax error inside a row", body: []byte(`{"value":[{"id":"a"},{"id":"b",}]}`), wantErr: errAny},
		{name: "garbage after the page", body: []byte(`{"value":[{"id":"a"}]} {}`), wantErr: errAny},
		// Graph never repeats "value"; encoding/json would merge the two arrays row by row.
		{name: "value twice", body: []byte(`{"value":[{"id":"a"}],"value":[{"id":"b"}]}`), wantErr: errDuplicateRows},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := decodeSignInPage(tt.body)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantErr != nil && err == nil:
				t.Fatalf("decoded %+v, want an error", page)
			case tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			var got []string
			for _, s := range page.rows {
				got = append(got, s.ID)
			}
			if !slices.Equal(got, tt.wantIDs) || page.next != tt.wantNext || page.malformed != tt.wantMalformed {
				t.Errorf("got ids %v next %q malformed %d; want %v %q %d", got, page.next, page.malformed, tt.wantIDs, tt.wantNext, tt.wantMalformed)
			}
			if (page.malformed > 0) != (page.firstErr != nil) {
				t.Errorf("firstErr = %v with %d malformed rows", page.firstErr, page.malformed)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestDecodeRealisticRow(t *testing.T) {
	page, err := decodeSignInPage([]byte(`{"value":[` + string(graphtest.SignInRow()) + `]}`))
	if err != nil || len(page.rows) != 1 {
		t.Fatalf("decode: %v, %d rows", err, len(page.rows))
	}
	s := page.rows[0]
	// Every value below is copied from graphtest/signin_row.json by hand.
	want := SignIn{
		ID: "66ea54eb-6301-4ee5-be62-ff5a759b0100", CreatedDateTime: time.Date(2026, 11, 25, 0, 1, 2, 0, time.UTC),
		CorrelationID: "c7f2a1de-1111-4222-8333-444455556666", UserID: "2f1b5c3e-0000-4000-8000-00000000aa01",
		UserPrincipalName: "test.user@contoso.example", IPAddress: "192.0.2.10", Location: Location{CountryOrRegion: "FR"},
		AppID: "de8bc8b5-d9f9-48b1-a8ad-b748da725064", AppDisplayName: "Graph Explorer", ClientAppUsed: "Browser",
		IsInteractive: true, UserType: "member", ConditionalAccessStatus: "success", TokenIssuerType: "AzureAD",
		ResourceID: "00000003-0000-0000-c000-000000000000", SignInEventTypes: []string{"interactiveUser"},
		Status:                    Status{ErrorCode: 0, FailureReason: "Other.", AdditionalDetails: "MFA successfully completed"},
		AuthenticationRequirement: "multiFactorAuthentication",
		AuthenticationRequirementPolicies: []AuthenticationRequirementPolicy{
			{RequirementProvider: "multiConditionalAccess", Detail: "Conditional Access"},
		},
		AuthenticationDetails: []AuthenticationDetail{
			{AuthenticationMethod: "Password", AuthenticationMethodDetail: "Password in the cloud", AuthenticationStepResultDetail: "Correct password",
				AuthenticationStepDateTime: time.Date(2026, 11, 25, 0, 1, 0, 0, time.UTC), Succeeded: true},
			{AuthenticationMethod: "Mobile app notification", AuthenticationStepResultDetail: "MFA successfully completed",
				AuthenticationStepDateTime: time.Date(2026, 11, 25, 0, 1, 2, 0, time.UTC), Succeeded: true},
		},
		AppliedConditionalAccessPolicies: []AppliedConditionalAccessPolicy{
			{ID: "3f0e2b44-0000-4000-8000-0000000000c1", DisplayName: "Require MFA for all users", Result: "success",
				EnforcedGrantControls: []string{"Mfa"}, EnforcedSessionControls: []string{}},
		},
	}
	for _, d := range diffSignIn(s, want) {
		t.Error(d)
	}
}

// diffSignIn names each field of a and b that differs, nil and empty slices told apart.
func diffSignIn(a, b SignIn) []string {
	var out []string
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		fa, fb := va.Field(i).Interface(), vb.Field(i).Interface()
		if !reflect.DeepEqual(fa, fb) {
			out = append(out, fmt.Sprintf("%s: got %#v, want %#v", va.Type().Field(i).Name, fa, fb))
		}
	}
	return out
}

// comparePages reports how got differs from want: rows field by field, next link, malformed count.
func comparePages(t testing.TB, got, want decodedPage[SignIn]) {
	t.Helper()
	if got.next != want.next || got.malformed != want.malformed || (got.firstErr == nil) != (want.firstErr == nil) {
		t.Errorf("next %q malformed %d (%v); want next %q malformed %d (%v)", got.next, got.malformed, got.firstErr, want.next, want.malformed, want.firstErr)
	}
	if len(got.rows) != len(want.rows) {
		t.Fatalf("%d rows, want %d", len(got.rows), len(want.rows))
	}
	for i := range got.rows {
		for _, d := range diffSignIn(got.rows[i], want.rows[i]) {
			t.Errorf("row %d (%q) %s", i, want.rows[i].ID, d)
		}
	}
}

// equivalenceCases are pages on which the decoder must give exactly what encoding/json gives,
// including where encoding/json's behaviour is surprising (case-insensitive keys, duplicate keys,
// invalid UTF-8), so that replacing it changed no row.
var equivalenceCases = []struct{ name, body string }{
	{"case-insensitive keys", `{"VALUE":[{"ID":"a","UserId":"u","STATUS":{"ERRORCODE":5},"authenticationdetails":[{"SUCCEEDED":true,"AuthenticationMethod":"m"}],"LOCATION":{"countryorregion":"FR"}}],"@ODATA.NEXTLINK":"n"}`},
	{"kelvin sign folds onto k (escaped)", `{"value":[{"id":"a","to\u212aenIssuerType":"X"}]}`},
	{"kelvin sign folds onto k (raw)", "{\"value\":[{\"id\":\"a\",\"to\u212aenIssuerType\":\"X\"}]}"},
	{"long s folds onto s", `{"value":[{"id":"a","clientAppU\u017fed":"X"}]}`},
	{"escaped key", `{"value":[{"\u0069d":"a","user\u0049d":"u"}]}`},
	{"escapes in values", `{"value":[{"id":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00","userId":"\u0000"}]}`},
	{"unpaired surrogates", `{"value":[{"id":"x","userId":"\ud800x","appId":"\udc00","resourceId":"\ud800\ud800","userType":"\ud800\u0041","clientAppUsed":"\ud800\\"}]}`},
	{"invalid UTF-8", "{\"value\":[{\"id\":\"a\xff\",\"userId\":\"\xc3\",\"appId\":\"\xc0\xaf\",\"resourceId\":\"\xed\xa0\x80\",\"userType\":\"\xef\xbf\xbd\",\"x\":\"\xff\"}]}"},
	{"duplicate scalar keys", `{"value":[{"id":"a","id":"b","userId":"u","userId":null,"isInteractive":true,"isInteractive":null}]}`},
	{"duplicate object merges", `{"value":[{"id":"a","status":{"errorCode":1,"failureReason":"x"},"status":{"errorCode":2},"status":null}]}`},
	{"duplicate array, shorter second", `{"value":[{"id":"a","authenticationDetails":[{"authenticationMethod":"A","succeeded":true},{"authenticationMethod":"B"}],"authenticationDetails":[{"succeeded":false}]}]}`},
	{"duplicate array, longer second", `{"value":[{"id":"a","signInEventTypes":["x"],"signInEventTypes":[null,"y"],"appliedConditionalAccessPolicies":[{"id":"p","enforcedGrantControls":["Mfa","Block"]}],"appliedConditionalAccessPolicies":[{"result":"success","enforcedGrantControls":[null]},{}]}]}`},
	{"duplicate array then null", `{"value":[{"id":"a","signInEventTypes":["x"],"signInEventTypes":null,"authenticationRequirementPolicies":[{"requirementProvider":"user"}],"authenticationRequirementPolicies":[]}]}`},
	{"nulls everywhere", `{"value":[{"id":"a","createdDateTime":null,"correlationId":null,"userId":null,"userPrincipalName":null,"userType":null,"appId":null,"appDisplayName":null,"ipAddress":null,"location":null,"clientAppUsed":null,"isInteractive":null,"conditionalAccessStatus":null,"tokenIssuerType":null,"resourceId":null,"signInEventTypes":null,"status":null,"authenticationRequirement":null,"authenticationRequirementPolicies":null,"authenticationDetails":null,"appliedConditionalAccessPolicies":null}],"@odata.nextLink":null}`},
	{"null elements", `{"value":[{"id":"a","signInEventTypes":[null],"authenticationDetails":[null,{"authenticationStepDateTime":null,"succeeded":null}],"appliedConditionalAccessPolicies":[null,{"id":null,"enforcedGrantControls":null,"enforcedSessionControls":[]}],"authenticationRequirementPolicies":[null],"status":{"errorCode":null,"failureReason":null}}]}`},
	{"empty arrays and objects", `{"value":[{"id":"a","signInEventTypes":[],"authenticationDetails":[],"appliedConditionalAccessPolicies":[{}],"authenticationRequirementPolicies":[],"status":{},"location":{}}]}`},
	{"several providers, no policies", `{"value":[{"id":"a","authenticationRequirementPolicies":[{"requirementProvider":"user","detail":"Per-user MFA"},{"requirementProvider":"multiConditionalAccess","detail":"Conditional Access"}],"appliedConditionalAccessPolicies":[]}]}`},
	{"wrong types", `{"value":[{"id":5},{"id":"b","userId":true},{"id":"c","appDisplayName":{}},{"id":"d","ipAddress":[]},{"id":"e","status":{"errorCode":"1"}},{"id":"f","status":{"errorCode":1.5}},{"id":"g","status":{"errorCode":1e2}},{"id":"h","status":{"errorCode":9223372036854775808}},{"id":"i","isInteractive":"true"},{"id":"j","isInteractive":1},{"id":"k","createdDateTime":5},{"id":"l","createdDateTime":"2026-11-25 00:01:02Z"},{"id":"m","createdDateTime":"2026-11-25T24:00:00Z"},{"id":"o","signInEventTypes":{}},{"id":"p","signInEventTypes":"x"},{"id":"q","signInEventTypes":[1]},{"id":"r","status":[]},{"id":"s","status":"x"},{"id":"t","authenticationDetails":[1]},{"id":"u","authenticationDetails":[{"succeeded":"yes"}]},{"id":"v","appliedConditionalAccessPolicies":[{"enforcedGrantControls":[{}]}]},{"id":"w","location":{"countryOrRegion":1}},{"id":"x","createdDateTime":{}},{"id":"y","createdDateTime":[]},{"id":"z"}]}`},
	{"rows that are not objects", `{"value":["s",1,-2.5e3,true,false,null,[],[{"id":"a"}],{"id":"ok"}]}`},
	{"integers at the edges", `{"value":[{"id":"a","status":{"errorCode":-0}},{"id":"b","status":{"errorCode":-9223372036854775808}},{"id":"c","status":{"errorCode":9223372036854775807}},{"id":"d","status":{"errorCode":-9223372036854775809}},{"id":"e","status":{"errorCode":0.0}},{"id":"f","status":{"errorCode":-50074}}]}`},
	{"times", `{"value":[{"id":"a","createdDateTime":"2026-11-25T00:01:02.123456789+01:00"},{"id":"b","createdDateTime":"2026-11-25T00:01:02.5Z","authenticationDetails":[{"authenticationStepDateTime":"2026-11-25T00:01:02-00:00"}]}]}`},
	{"whitespace everywhere", " \t\r\n{ \"value\" : [ { \"id\" : \"a\" , \"signInEventTypes\" : [ \"x\" , \"y\" ] , \"status\" : { \"errorCode\" : 7 } } , null ] , \"@odata.nextLink\" : \"n\" } \n"},
	{"unknown nested values", `{"x":{"a":[1,2,{"b":[true,false,null,"s",-1.5e+10,0.5E-3]}]},"value":[{"id":"a","y":[[[[{}]]]],"z":{"":{"":""}},"deviceDetail":{"isCompliant":false}}],"w":[]}`},
	{"empty and odd keys", `{"value":[{"":"x","id":"a","Id ":"b","i":"c","idx":"d"}]}`},
	// The memos (memo.go) compare each string, skipped value and policy with the one at the same
	// place in the rows before: each case repeats a row, then varies it just past what a wrong
	// comparison would look at.
	{"memo: key, then a longer and a shorter key", pageOf(`{"id":"a","xy":1}`, `{"id":"b","xy":1}`, `{"id":"c","xyz":1}`, `{"id":"d","x":1}`)},
	{"memo: known key where an unknown one was", pageOf(`{"ab":"1","id":"a"}`, `{"ab":"1","id":"b"}`, `{"id":"c","ab":"1"}`)},
	{"memo: folded keys", pageOf(`{"ID":"a","USERTYPE":"m"}`, `{"ID":"b","USERTYPE":"m"}`, `{"Id":"c","userType":"n"}`, `{"iD":"d","UserType":"m"}`)},
	{"memo: escaped keys", pageOf(`{"i\u0064":"a","x\"":1}`, `{"i\u0064":"b","x\"":1}`, `{"\u0069d":"c","x\\":1}`, `{"i\u0064x":"d"}`)},
	{"memo: number, then a longer number", pageOf(`{"id":"a","n":12,"m":{"k":12}}`, `{"id":"b","n":12,"m":{"k":12}}`, `{"id":"c","n":123,"m":{"k":123}}`, `{"id":"d","n":12.5,"m":{"k":12e1}}`, `{"id":"e","n":12}`)},
	{"memo: literal, then the same at the end of the row", pageOf(`{"id":"a","t":true,"u":null}`, `{"id":"b","t":true,"u":null}`, `{"id":"c","u":null,"t":true}`)},
	{"memo: escaped quote and backslash before the closing quote", pageOf(`{"id":"a","userType":"a\"b","clientAppUsed":"a\\","x":["a\\","\"\\\""]}`,
		`{"id":"b","userType":"a\"b","clientAppUsed":"a\\","x":["a\\","\"\\\""]}`, `{"id":"c","userType":"a\"bc","clientAppUsed":"a\\\"","x":["a\\\"","\"\\\"\\"]}`,
		`{"id":"d","userType":"a\\","clientAppUsed":"a\"b","x":["\"\\\""]}`)},
	{"memo: a value that is a prefix of the one before", pageOf(`{"id":"a","userType":"member","x":"member"}`, `{"id":"b","userType":"member2","x":"member2"}`, `{"id":"c","userType":"membe","x":"membe"}`, `{"id":"d","userType":"member","x":"member"}`)},
	{"memo: strings across word boundaries", pageOf(`{"id":"a","userType":"123456789abcdef0","x":["1234567","12345678","123456789","123456789abcdef","123456789abcdef0","123456789abcdef01"]}`,
		`{"id":"b","userType":"123456789abcdef0","x":["1234567","12345678","123456789","123456789abcdef","123456789abcdef0","123456789abcdef01"]}`,
		`{"id":"c","userType":"123456789abcdef1","x":["1234568","12345679","12345678a","123456789abcdeg","123456789abcdef1","123456789abcdef02"]}`,
		`{"id":"d","userType":"223456789abcdef0","x":["2234567","22345678","223456789","223456789abcdef","223456789abcdef0","223456789abcdef01"]}`)},
	{"memo: nested arrays in skipped values", pageOf(`{"id":"a","x":[[1,[2]],{"k":[[]]}]}`, `{"id":"b","x":[[1,[2]],{"k":[[]]}]}`, `{"id":"c","x":[[1,[2]],{"k":[[],[3]]}]}`, `{"id":"d","x":[[1,[2]],{"k":[[]]},[]]}`)},
	{"memo: same policies, then changed", pageOf(`{"id":"a","appliedConditionalAccessPolicies":[{"id":"p","displayName":"P","result":"success","enforcedGrantControls":["Mfa"]},{"id":"q","result":"notApplied"}]}`,
		`{"id":"b","appliedConditionalAccessPolicies":[{"id":"p","displayName":"P","result":"success","enforcedGrantControls":["Mfa"]},{"id":"q","result":"notApplied"}]}`,
		`{"id":"c","appliedConditionalAccessPolicies":[{"id":"q","result":"notApplied"},{"id":"p","displayName":"P","result":"success","enforcedGrantControls":["Mfa"]}]}`,
		`{"id":"d","appliedConditionalAccessPolicies":[{"id":"p","displayName":"P","result":"failure","enforcedGrantControls":["Mfa","Block"]},{"id":"q","result":"notApplied"}]}`)},
	// The second array starts from the first one's elements (encoding/json): a remembered policy
	// decoded from scratch is not what its bytes give there. The space before the first array's
	// second element keeps it out of the memo (a remembered element starts with its brace), so
	// the second array's second element is the bytes remembered from row a.
	{"memo: remembered policy in a repeated key", pageOf(`{"id":"a","appliedConditionalAccessPolicies":[{"id":"o"},{"id":"p","result":"success"}]}`,
		`{"id":"b","appliedConditionalAccessPolicies":[{"id":"o"}, {"displayName":"D","enforcedGrantControls":["Mfa"]}],"appliedConditionalAccessPolicies":[{"id":"o"},{"id":"p","result":"success"}]}`)},
	{"memo: truncated in a remembered string", `{"value":[{"id":"a","x":{"k":"vvvvvvvvvvvv"}},{"id":"b","x":{"k":"vvvvvv`},
	{"memo: truncated after a remembered value", `{"value":[{"id":"a","x":{"k":"vvvvvvvvvvvv"},"y":1},{"id":"b","x":{"k":"vvvvvvvvvvvv"}`},
	{"memo: truncated after a remembered number", `{"value":[{"id":"a","x":12345},{"id":"b","x":12345`},
	{"memo: truncated in a remembered policy", `{"value":[{"id":"a","appliedConditionalAccessPolicies":[{"id":"p","result":"success"}]},{"id":"b","appliedConditionalAccessPolicies":[{"id":"p","result":"succ`},
	{"memo: invalid after a remembered prefix", pageOf(`{"id":"a","x":["ab",1]}`, `{"id":"b","x":["ab",1,]}`)},
	{"memo: control byte after a remembered prefix", pageOf(`{"id":"a","x":["ab"]}`, "{\"id\":\"b\",\"x\":[\"ab\x01\"]}")},
	{"memo: literal with a tail after a remembered one", pageOf(`{"id":"a","t":true}`, `{"id":"b","t":truex}`)},
	{"memo: number with a bad tail after a remembered one", pageOf(`{"id":"a","n":12}`, `{"id":"b","n":12e}`)},
	{"syntax: trailing comma in array", `{"value":[{"id":"a"},]}`},
	{"syntax: trailing comma in object", `{"value":[{"id":"a",}]}`},
	{"syntax: missing colon", `{"value":[{"id" "a"}]}`},
	{"syntax: single quotes", `{'value':[]}`},
	{"syntax: two pages", `{"value":[]}{"value":[]}`},
	{"syntax: unterminated string", `{"value":[{"id":"a}]}`},
	{"syntax: control character in string", "{\"value\":[{\"id\":\"a\tb\"}]}"},
	{"syntax: bad escape", `{"value":[{"id":"a\x"}]}`},
	{"syntax: bad unicode escape", `{"value":[{"id":"\u12G4"}]}`},
	{"syntax: leading zero", `{"value":[{"id":"a","n":01}]}`},
	{"syntax: bare minus", `{"value":[{"id":"a","n":-}]}`},
	{"syntax: fraction without digits", `{"value":[{"id":"a","n":1.}]}`},
	{"syntax: exponent without digits", `{"value":[{"id":"a","n":1e}]}`},
	{"syntax: leading dot", `{"value":[{"id":"a","n":.5}]}`},
	{"syntax: plus sign", `{"value":[{"id":"a","n":+1}]}`},
	{"syntax: short literal", `{"value":[{"id":"a","n":tru}]}`},
	{"syntax: literal with tail", `{"value":[{"id":"a","n":nullx}]}`},
	{"syntax: NaN", `{"value":[{"id":"a","n":NaN}]}`},
	{"syntax: byte order mark", "\xef\xbb\xbf{\"value\":[]}"},
	{"syntax: mismatched brackets in skipped value", `{"value":[{"id":"a","x":[{]}]}`},
	{"syntax: brackets swapped in skipped values", `{"value":[{"id":"a","x":[1},"y":{"a":1]}]}`},
	{"syntax: bad key in skipped object", `{"value":[{"id":"a","x":{1:2}}]}`},
	{"syntax: truncated in skipped value", `{"value":[{"id":"a","x":[1,{"b":`},
	{"syntax: truncated after key", `{"value":[{"id"`},
	{"syntax: empty", ``},
	{"syntax: whitespace only", " \n"},
	{"top level: string", `"value"`},
	{"top level: number", `5`},
	{"top level: null with tail", `null x`},
	{"value: object", `{"value":{}}`},
	{"value: string", `{"value":"x"}`},
	{"nesting within encoding/json's limit", `{"value":[{"id":"a","x":` + strings.Repeat("[", 9990) + strings.Repeat("]", 9990) + `}]}`},
}

// pageOf is a sign-ins page of the given rows.
func pageOf(rows ...string) string { return `{"value":[` + strings.Join(rows, ",") + `]}` }

// TestDecodeMatchesEncodingJSON decodes every fixture page and each equivalence case both ways and
// compares the results field by field.
func TestDecodeMatchesEncodingJSON(t *testing.T) {
	// 100 rows of the benchmark page cover all its variations (they repeat every 22 rows) at a
	// tenth of the cost of encoding/json under -race.
	bench, err := graphtest.SignInPage(100)
	if err != nil {
		t.Fatal(err)
	}
	distinct, err := distinctRowsPage(30)
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string][]byte{"benchmark page": bench, "rows that share no value": distinct,
		"realistic row": []byte(`{"value":[` + string(graphtest.SignInRow()) + `]}`)}
	for _, name := range []string{"page1.json", "page2.json", "page3.json", "page_malformed_row.json", "page_truncated.json"} {
		bodies[name] = fixture(t, name, "https://graph.example")
	}
	for _, c := range equivalenceCases {
		bodies[c.name] = []byte(c.body)
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			want, wantErr := referenceDecodeSignInPage(body)
			got, err := decodeSignInPage(body)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("err = %v; encoding/json: %v", err, wantErr)
			}
			if err != nil {
				return
			}
			comparePages(t, got, want)
		})
	}
}

// fieldBounds are the documented bounds (decode.go) written out independently: the fuzz oracle
// applies them to encoding/json's rows.
var fieldBounds = []struct {
	name   string
	get    func(*SignIn) []*string
	limit  int
	reject bool
}{
	{"ids", func(s *SignIn) []*string {
		out := []*string{&s.ID, &s.UserID, &s.CorrelationID, &s.AppID, &s.ResourceID}
		for i := range s.AppliedConditionalAccessPolicies {
			out = append(out, &s.AppliedConditionalAccessPolicies[i].ID)
		}
		return out
	}, 128, true},
	{"short values", func(s *SignIn) []*string {
		out := []*string{&s.UserType, &s.IPAddress, &s.Location.CountryOrRegion, &s.ClientAppUsed, &s.ConditionalAccessStatus,
			&s.TokenIssuerType, &s.AuthenticationRequirement}
		for i := range s.SignInEventTypes {
			out = append(out, &s.SignInEventTypes[i])
		}
		for i := range s.AuthenticationDetails {
			out = append(out, &s.AuthenticationDetails[i].AuthenticationMethod, &s.AuthenticationDetails[i].AuthenticationStepRequirement)
		}
		for i := range s.AuthenticationRequirementPolicies {
			out = append(out, &s.AuthenticationRequirementPolicies[i].RequirementProvider)
		}
		for i := range s.AppliedConditionalAccessPolicies {
			p := &s.AppliedConditionalAccessPolicies[i]
			out = append(out, &p.Result)
			for j := range p.EnforcedGrantControls {
				out = append(out, &p.EnforcedGrantControls[j])
			}
			for j := range p.EnforcedSessionControls {
				out = append(out, &p.EnforcedSessionControls[j])
			}
		}
		return out
	}, 256, false},
	{"names", func(s *SignIn) []*string {
		out := []*string{&s.UserPrincipalName, &s.AppDisplayName}
		for i := range s.AppliedConditionalAccessPolicies {
			out = append(out, &s.AppliedConditionalAccessPolicies[i].DisplayName)
		}
		return out
	}, 1024, false},
	{"text", func(s *SignIn) []*string {
		out := []*string{&s.Status.FailureReason, &s.Status.AdditionalDetails}
		for i := range s.AuthenticationDetails {
			out = append(out, &s.AuthenticationDetails[i].AuthenticationMethodDetail, &s.AuthenticationDetails[i].AuthenticationStepResultDetail)
		}
		for i := range s.AuthenticationRequirementPolicies {
			out = append(out, &s.AuthenticationRequirementPolicies[i].Detail)
		}
		return out
	}, 2048, false},
}

// withinElementBounds tells whether a row's lists are within the documented element limits.
func withinElementBounds(s *SignIn) bool {
	if len(s.SignInEventTypes) > 64 || len(s.AuthenticationDetails) > 256 || len(s.AuthenticationRequirementPolicies) > 64 ||
		len(s.AppliedConditionalAccessPolicies) > 1024 {
		return false
	}
	for _, p := range s.AppliedConditionalAccessPolicies {
		if len(p.EnforcedGrantControls) > 64 || len(p.EnforcedSessionControls) > 64 {
			return false
		}
	}
	return true
}

// bounded applies the documented bounds to a page decoded by encoding/json: rows with an
// identifier or a list over its bound become malformed, other strings are cut to their bound on a
// character boundary. Slices are copied, not cut in place.
func bounded(p decodedPage[SignIn]) decodedPage[SignIn] {
	out := decodedPage[SignIn]{next: p.next, malformed: p.malformed, firstErr: p.firstErr}
	for _, r := range p.rows {
		r.SignInEventTypes = slices.Clone(r.SignInEventTypes)
		r.AuthenticationDetails = slices.Clone(r.AuthenticationDetails)
		r.AuthenticationRequirementPolicies = slices.Clone(r.AuthenticationRequirementPolicies)
		r.AppliedConditionalAccessPolicies = slices.Clone(r.AppliedConditionalAccessPolicies)
		for i := range r.AppliedConditionalAccessPolicies {
			p := &r.AppliedConditionalAccessPolicies[i]
			p.EnforcedGrantControls = slices.Clone(p.EnforcedGrantControls)
			p.EnforcedSessionControls = slices.Clone(p.EnforcedSessionControls)
		}
		ok := withinElementBounds(&r)
		for _, b := range fieldBounds {
			for _, s := range b.get(&r) {
				if len(*s) <= b.limit {
					continue
				}
				if b.reject {
					ok = false
					continue
				}
				cut := (*s)[:b.limit]
				for !utf8.ValidString(cut) {
					cut = cut[:len(cut)-1]
				}
				*s = cut
			}
		}
		if !ok {
			out.malformed++
			if out.firstErr == nil {
				out.firstErr = errAny
			}
			continue
		}
		out.rows = append(out.rows, r)
	}
	return out
}

// TestDecodeHostileRows covers the rows and pages on which the decoder deliberately differs from
// encoding/json: what encoding/json made a page error (a row nested too deep) is one malformed
// row, identifiers over their bound make the row malformed, other strings are cut, lists are
// bounded.
func TestDecodeHostileRows(t *testing.T) {
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	deepObj := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	// The page object, "value" and the row are levels 1 to 3: a member nested 9,999 levels
	// reaches level 10,002, past maxDepth; 100 levels are far inside it.
	deep9999 := strings.Repeat("[", 9999) + strings.Repeat("]", 9999)
	deep100 := strings.Repeat(`{"a":[`, 50) + strings.Repeat("]}", 50)
	big := strings.Repeat("x", 1<<20)
	accents := strings.Repeat("é", 2000) // 2 bytes each: a cut must not split one
	list := func(n int, elem string) string {
		return "[" + strings.TrimSuffix(strings.Repeat(elem+",", n), ",") + "]"
	}
	tests := []struct {
		name          string
		rows          []string // between the two good rows
		wantMalformed int
		check         func(t *testing.T, rows []SignIn)
	}{
		{name: "row nested 20,000 levels", rows: []string{deep}, wantMalformed: 1},
		{name: "field nested 20,000 levels", rows: []string{`{"id":"deep","x":` + deep + `}`}, wantMalformed: 1},
		{name: "objects nested 20,000 levels", rows: []string{`{"id":"deep","x":` + deepObj + `}`}, wantMalformed: 1},
		{name: "id of 129 bytes", rows: []string{`{"id":"` + strings.Repeat("a", 129) + `"}`}, wantMalformed: 1},
		{name: "id of 128 bytes", rows: []string{`{"id":"` + strings.Repeat("a", 128) + `"}`}, wantMalformed: 0,
			check: func(t *testing.T, rows []SignIn) {
				if rows[1].ID != strings.Repeat("a", 128) {
					t.Errorf("id = %q", rows[1].ID)
				}
			}},
		{name: "id of 1 MiB", rows: []string{`{"id":"` + big + `"}`}, wantMalformed: 1},
		{name: "user id of 1 MiB", rows: []string{`{"id":"r","userId":"` + big + `"}`}, wantMalformed: 1},
		{name: "correlation id of 1 MiB", rows: []string{`{"id":"r","correlationId":"` + big + `"}`}, wantMalformed: 1},
		{name: "app id of 1 MiB", rows: []string{`{"id":"r","appId":"` + big + `"}`}, wantMalformed: 1},
		{name: "resource id of 1 MiB", rows: []string{`{"id":"r","resourceId":"` + big + `"}`}, wantMalformed: 1},
		{name: "policy id of 1 MiB", rows: []string{`{"id":"r","appliedConditionalAccessPolicies":[{"id":"` + big + `"}]}`}, wantMalformed: 1},
		{name: "escaped id over the bound once decoded", rows: []string{`{"id":"` + strings.Repeat(`\u00e9`, 65) + `"}`}, wantMalformed: 1},
		{name: "long strings are cut", rows: []string{`{"id":"r","userType":"` + big + `","ipAddress":"` + big + `","userPrincipalName":"` + big +
			`","appDisplayName":"` + big + `","status":{"failureReason":"` + big + `","additionalDetails":"` + accents + `"},"location":{"countryOrRegion":"` + big +
			`"},"authenticationDetails":[{"authenticationMethod":"` + big + `","authenticationStepResultDetail":"` + big + `"}],` +
			`"appliedConditionalAccessPolicies":[{"id":"p","displayName":"` + big + `","result":"` + big + `","enforcedGrantControls":["` + big + `"]}],` +
			`"authenticationRequirementPolicies":[{"requirementProvider":"` + big + `","detail":"` + big + `"}],"signInEventTypes":["` + big + `"]}`},
			check: func(t *testing.T, rows []SignIn) {
				r := rows[1]
				x := func(n int) string { return strings.Repeat("x", n) }
				for _, c := range []struct {
					name, got, want string
				}{
					{"userType", r.UserType, x(256)}, {"ipAddress", r.IPAddress, x(256)}, {"userPrincipalName", r.UserPrincipalName, x(1024)},
					{"appDisplayName", r.AppDisplayName, x(1024)}, {"failureReason", r.Status.FailureReason, x(2048)},
					{"additionalDetails (2-byte characters)", r.Status.AdditionalDetails, strings.Repeat("é", 1024)},
					{"countryOrRegion", r.Location.CountryOrRegion, x(256)},
					{"authenticationMethod", r.AuthenticationDetails[0].AuthenticationMethod, x(256)},
					{"authenticationStepResultDetail", r.AuthenticationDetails[0].AuthenticationStepResultDetail, x(2048)},
					{"policy displayName", r.AppliedConditionalAccessPolicies[0].DisplayName, x(1024)},
					{"policy result", r.AppliedConditionalAccessPolicies[0].Result, x(256)},
					{"grant control", r.AppliedConditionalAccessPolicies[0].EnforcedGrantControls[0], x(256)},
					{"requirementProvider", r.AuthenticationRequirementPolicies[0].RequirementProvider, x(256)},
					{"requirement detail", r.AuthenticationRequirementPolicies[0].Detail, x(2048)},
					{"signInEventTypes", r.SignInEventTypes[0], x(256)},
				} {
					if c.got != c.want {
						t.Errorf("%s: %d bytes, want %d", c.name, len(c.got), len(c.want))
					}
				}
			}},
		{name: "a 3-byte character straddling the bound", rows: []string{`{"id":"r","userType":"` + strings.Repeat("x", 255) + `€"}`},
			check: func(t *testing.T, rows []SignIn) {
				if rows[1].UserType != strings.Repeat("x", 255) {
					t.Errorf("userType = %q", rows[1].UserType)
				}
			}},
		// The memos (memo.go) must not let a row the same bytes as a malformed one pass.
		{name: "twice a field nested 20,000 levels", rows: []string{`{"id":"deep","x":` + deep + `}`, `{"id":"deep","x":` + deep + `}`}, wantMalformed: 2},
		{name: "twice a field nested 9,999 levels", rows: []string{`{"id":"deep","x":` + deep9999 + `}`, `{"id":"deep","x":` + deep9999 + `}`}, wantMalformed: 2},
		{name: "twice a field nested 100 levels", rows: []string{`{"id":"a","x":` + deep100 + `}`, `{"id":"b","x":` + deep100 + `}`}},
		{name: "twice a policy with a field nested 20,000 levels", rows: []string{`{"id":"deep","appliedConditionalAccessPolicies":[{"id":"p","x":` + deep + `}]}`,
			`{"id":"deep","appliedConditionalAccessPolicies":[{"id":"p","x":` + deep + `}]}`}, wantMalformed: 2},
		{name: "twice a policy id of 129 bytes", rows: []string{`{"id":"r","appliedConditionalAccessPolicies":[{"id":"` + strings.Repeat("a", 129) + `"}]}`,
			`{"id":"r","appliedConditionalAccessPolicies":[{"id":"` + strings.Repeat("a", 129) + `"}]}`}, wantMalformed: 2},
		{name: "twice 65 grant controls", rows: []string{`{"id":"r","appliedConditionalAccessPolicies":[{"enforcedGrantControls":` + list(65, `"Mfa"`) + `}]}`,
			`{"id":"r","appliedConditionalAccessPolicies":[{"enforcedGrantControls":` + list(65, `"Mfa"`) + `}]}`}, wantMalformed: 2},
		{name: "twice an app id of 129 bytes", rows: []string{`{"id":"r","appId":"` + strings.Repeat("a", 129) + `"}`, `{"id":"r","appId":"` + strings.Repeat("a", 129) + `"}`}, wantMalformed: 2},
		{name: "twice a cut user type", rows: []string{`{"id":"r","userType":"` + strings.Repeat("x", 300) + `"}`, `{"id":"s","userType":"` + strings.Repeat("x", 300) + `"}`},
			check: func(t *testing.T, rows []SignIn) {
				for _, r := range rows[1:3] {
					if r.UserType != strings.Repeat("x", 256) {
						t.Errorf("row %s: userType of %d bytes, want 256", r.ID, len(r.UserType))
					}
				}
			}},
		{name: "65 event types", rows: []string{`{"id":"r","signInEventTypes":` + list(65, `"x"`) + `}`}, wantMalformed: 1},
		{name: "64 event types", rows: []string{`{"id":"r","signInEventTypes":` + list(64, `"x"`) + `}`}},
		{name: "257 authentication steps", rows: []string{`{"id":"r","authenticationDetails":` + list(257, `{}`) + `}`}, wantMalformed: 1},
		{name: "65 requirement policies", rows: []string{`{"id":"r","authenticationRequirementPolicies":` + list(65, `{}`) + `}`}, wantMalformed: 1},
		{name: "1,025 policies", rows: []string{`{"id":"r","appliedConditionalAccessPolicies":` + list(1025, `{}`) + `}`}, wantMalformed: 1},
		{name: "1,024 policies", rows: []string{`{"id":"r","appliedConditionalAccessPolicies":` + list(1024, `{"result":"success"}`) + `}`}},
		{name: "65 grant controls", rows: []string{`{"id":"r","appliedConditionalAccessPolicies":[{"enforcedGrantControls":` + list(65, `"Mfa"`) + `}]}`}, wantMalformed: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"value":[{"id":"first"},` + strings.Join(tt.rows, ",") + `,{"id":"last"}],"@odata.nextLink":"n"}`
			page, err := decodeSignInPage([]byte(body))
			if err != nil {
				t.Fatalf("page error %v; want the bad row skipped and the others kept", err)
			}
			if page.malformed != tt.wantMalformed || (page.firstErr != nil) != (tt.wantMalformed > 0) {
				t.Errorf("malformed = %d (%v), want %d", page.malformed, page.firstErr, tt.wantMalformed)
			}
			wantRows := len(tt.rows) - tt.wantMalformed + 2
			if len(page.rows) != wantRows || page.rows[0].ID != "first" || page.rows[len(page.rows)-1].ID != "last" || page.next != "n" {
				t.Fatalf("%d rows (first %q), next %q; want %d rows from first to last", len(page.rows), page.rows[0].ID, page.next, wantRows)
			}
			if tt.check != nil {
				tt.check(t, page.rows)
			}
		})
	}
}

// TestDecodePageBounds covers the bounds of a whole page: the decoded structures may not exceed
// maxDecodedBytes, and a next link may not exceed 16 KiB.
func TestDecodePageBounds(t *testing.T) {
	// 200,000 empty policies: 600 KB of JSON, 200,000 policy structs (over 20 MB) per 1,024-policy
	// row bound... spread over rows, so each row is within its own bound but the page is not.
	row := `{"id":"r","appliedConditionalAccessPolicies":[` + strings.TrimSuffix(strings.Repeat("{},", 1000), ",") + `]}`
	var b strings.Builder
	b.WriteString(`{"value":[`)
	for i := range 800 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(`]}`)
	if _, err := decodeSignInPage([]byte(b.String())); !errors.Is(err, errPageTooLarge) {
		t.Errorf("800 rows of 1,000 policies: err = %v, want errPageTooLarge", err)
	}
	link := strings.Repeat("a", 16<<10)
	if _, err := decodeSignInPage([]byte(`{"value":[],"@odata.nextLink":"` + link + `"}`)); err != nil {
		t.Errorf("next link of 16 KiB: %v", err)
	}
	if _, err := decodeSignInPage([]byte(`{"value":[],"@odata.nextLink":"` + link + `a"}`)); err == nil {
		t.Error("next link over 16 KiB accepted")
	}
}

// tripleKey reports whether some object of a valid JSON document has a key three times or more
// (keys compared as encoding/json folds them). encoding/json then decodes a third array into
// memory its second one truncated, which no streaming decoder reproduces; Graph sends no
// duplicate keys, so the fuzz comparison leaves such documents out.
func tripleKey(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		obj    bool
		expect bool // object: next token is a key
		keys   map[string]int
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return false
		}
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.expect {
			if k, ok := tok.(string); ok {
				f := strings.ToLower(strings.ToUpper(k))
				top.keys[f]++
				if top.keys[f] >= 3 {
					return true
				}
				top.expect = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, expect: true, keys: map[string]int{}})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].expect = true
		}
	}
}

func FuzzDecodePage(f *testing.F) {
	for _, name := range []string{"page1.json", "page3.json", "page_malformed_row.json", "page_truncated.json"} {
		f.Add(fixture(f, name, "https://graph.example"))
	}
	f.Add(graphtest.SignInRow())
	f.Add([]byte(`{"value":[` + string(graphtest.SignInRow()) + `]}`))
	// Rows that repeat, so that mutations reach the memos (memo.go) with something remembered.
	f.Add([]byte(`{"value":[` + string(graphtest.SignInRow()) + `,` + string(graphtest.SignInRow()) + `]}`))
	if three, err := graphtest.SignInPage(3); err == nil {
		f.Add(three)
	}
	f.Add([]byte(`{"value":[null,{"id":"x"},"s",1,{"id":"y","status":{"errorCode":1e99}}]}`))
	f.Add([]byte(`{"value":[{"id":"a","authenticationDetails":[{"succeeded":"yes"}]}],"@odata.nextLink":"x"}`))
	for _, c := range equivalenceCases {
		if len(c.body) < 4096 {
			f.Add([]byte(c.body))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		// Streamed (stream.go) through windows smaller than a row, read a few bytes at a time: the
		// same rows, links, malformed rows and errors as whole, or the fallback to whole decoding.
		checkStreamLikeWhole(t, body, 64, 16, 3)
		checkStreamLikeWhole(t, body, 700, 200, 64)
		page, err := decodeSignInPage(body)
		want, wantErr := referenceDecodeSignInPage(body)
		switch {
		case wantErr != nil && strings.Contains(wantErr.Error(), "exceeded max depth"):
			return // a row beyond encoding/json's nesting limit: one malformed row here, by design
		case wantErr != nil && err != nil:
			return
		case wantErr != nil:
			t.Fatalf("decoded %d rows where encoding/json failed: %v", len(page.rows), wantErr)
		case err != nil:
			if errors.Is(err, errDuplicateRows) || errors.Is(err, errPageTooLarge) || len(want.next) > 16<<10 {
				return // refused by design
			}
			t.Fatalf("err = %v where encoding/json decoded %d rows", err, len(want.rows))
		}
		// Every row of the page is either delivered or counted as malformed, never lost silently.
		if n := referenceRawRows(body); n != len(page.rows)+page.malformed {
			t.Fatalf("%d raw rows but %d delivered + %d malformed", n, len(page.rows), page.malformed)
		}
		for _, s := range page.rows {
			if s.ID == "" {
				t.Fatal("delivered a row without id")
			}
		}
		if tripleKey(body) {
			return
		}
		comparePages(t, page, bounded(want))
		if _, err := decodeRawPage(body); err != nil {
			t.Fatalf("sign-in page decoded but raw page did not: %v", err)
		}
	})
}

// BenchmarkDecodePage decodes 1,000-row pages: page=realistic (graphtest.RealisticSignInPage, rows
// that differ as a real tenant's do: the headline figure, scripts/bench.sh) and page=repeated
// (graphtest.SignInPage, one row repeated with a few fields changed: the best case for the
// decoder's memos, kept to show how much of the speed comes from rows being alike).
func BenchmarkDecodePage(b *testing.B) {
	for _, pg := range []struct {
		name  string
		build func(int) ([]byte, error)
	}{
		{"realistic", graphtest.RealisticSignInPage},
		{"repeated", graphtest.SignInPage},
	} {
		page, err := pg.build(1000)
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range []struct {
			name   string
			decode func([]byte) (decodedPage[SignIn], error)
		}{
			// As the client decodes a sign-in page: as it arrives, through the window of
			// stream.go, in reads of a TLS record's size or so.
			{"window", func(body []byte) (decodedPage[SignIn], error) {
				var d signInDecoder
				return d.decodeStream(graphtest.Chunks(body, 16<<10), int64(len(body)))
			}},
			// The same decoder over a body read whole (Get's pages, and the fallback).
			{"whole", decodeSignInPage},
			{"encoding-json", referenceDecodeSignInPage},
		} {
			b.Run("page="+pg.name+"/"+d.name, func(b *testing.B) {
				b.SetBytes(int64(len(page)))
				b.ReportAllocs()
				for b.Loop() {
					p, err := d.decode(page)
					if err != nil || len(p.rows) != 1000 {
						b.Fatalf("decode: %v, %d rows", err, len(p.rows))
					}
				}
				b.ReportMetric(float64(len(page))/1000/1024, "KB/row")
				b.ReportMetric(float64(testing.AllocsPerRun(3, func() { _, _ = d.decode(page) }))/1000, "allocs/row")
			})
		}
	}
}

// decodeRawPage splits any collection's page into its rows as they were sent, copied out of the
// body (which is reused), and leaves row decoding, and rejecting rows too deep for encoding/json,
// to the caller.
func TestDecodeRawPage(t *testing.T) {
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	body := []byte(" {\"value\": [ {\"id\":\"u1\"} ,\n\"s\", " + deep + ", null ], \"@odata.nextLink\":\"n\"}")
	page, err := decodeRawPage(body)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"id":"u1"}`, `"s"`, deep, `null`}
	if len(page.rows) != len(want) || page.next != "n" {
		t.Fatalf("%d rows, next %q; want %d, n", len(page.rows), page.next, len(want))
	}
	for i := range body {
		body[i] = 'x' // the caller reuses its buffer
	}
	for i, r := range page.rows {
		if string(r) != want[i] {
			t.Errorf("row %d = %.40q, want %.40q", i, r, want[i])
		}
	}
	if page.rows[0] = append(page.rows[0], '!'); string(page.rows[1]) != `"s"` {
		t.Error("appending to one row overwrote the next")
	}
	var v any
	if json.Unmarshal(page.rows[2], &v) == nil {
		t.Error("encoding/json accepted the deep row: the registration reads would not skip it")
	}
	for _, bad := range []string{`{"value":[{"id":"a"},`, `{"value":[{"id":"a"}]}]`, `{"value":{}}`, `{}`, `{"value":null}`} {
		if _, err := decodeRawPage([]byte(bad)); err == nil {
			t.Errorf("decodeRawPage(%s) succeeded", bad)
		}
	}
}

// A timestamp written with JSON escapes is the same string as without them: the row is valid.
// (Go 1.26's encoding/json rejected it, handing the raw literal to time.Time; Go 1.27 unescapes.)
func TestDecodeEscapedTimestamp(t *testing.T) {
	page, err := decodeSignInPage([]byte(`{"value":[{"id":"n","createdDateTime":"2026-11-25T00:00:0\u0030\u005a"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	if page.malformed != 0 || len(page.rows) != 1 || !page.rows[0].CreatedDateTime.Equal(want) {
		t.Fatalf("rows %+v, malformed %d; want one row created %s", page.rows, page.malformed, want)
	}
}
