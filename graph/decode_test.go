package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
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
		{name: "array top level", body: []byte(`[{"id":"a"}]`), wantErr: errAny},
		{name: "next link not a string", body: []byte(`{"value":[],"@odata.nextLink":5}`), wantErr: errAny},
		{name: "empty body", body: nil, wantErr: errAny},
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
	row, err := os.ReadFile(filepath.Join("testdata", "signin_row.json"))
	if err != nil {
		t.Fatal(err)
	}
	page, err := decodeSignInPage([]byte(`{"value":[` + string(row) + `]}`))
	if err != nil || len(page.rows) != 1 {
		t.Fatalf("decode: %v, %d rows", err, len(page.rows))
	}
	s := page.rows[0]
	want := SignIn{
		ID: "66ea54eb-6301-4ee5-be62-ff5a759b0100", CreatedDateTime: time.Date(2026, 11, 25, 0, 1, 2, 0, time.UTC),
		CorrelationID: "c7f2a1de-1111-4222-8333-444455556666", UserID: "2f1b5c3e-0000-4000-8000-00000000aa01",
		AppID: "de8bc8b5-d9f9-48b1-a8ad-b748da725064", AppDisplayName: "Graph Explorer", ClientAppUsed: "Browser",
		IsInteractive: true, UserType: "member", ConditionalAccessStatus: "success", TokenIssuerType: "AzureAD",
		ResourceID: "00000003-0000-0000-c000-000000000000", SignInEventTypes: []string{"interactiveUser"},
		Status:                    Status{ErrorCode: 0, FailureReason: "Other.", AdditionalDetails: "MFA successfully completed"},
		AuthenticationRequirement: "multiFactorAuthentication",
		AuthenticationDetails: []AuthenticationDetail{
			{AuthenticationMethod: "Password", AuthenticationMethodDetail: "Password in the cloud", AuthenticationStepResultDetail: "Correct password",
				AuthenticationStepDateTime: time.Date(2026, 11, 25, 0, 1, 0, 0, time.UTC), Succeeded: true},
			{AuthenticationMethod: "Mobile app notification", AuthenticationStepResultDetail: "MFA successfully completed",
				AuthenticationStepDateTime: time.Date(2026, 11, 25, 0, 1, 2, 0, time.UTC), Succeeded: true},
		},
	}
	gotJSON, _ := json.Marshal(s)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("decoded\n%s\nwant\n%s", gotJSON, wantJSON)
	}
}

func FuzzDecodePage(f *testing.F) {
	for _, name := range []string{"page1.json", "page3.json", "page_malformed_row.json", "page_truncated.json", "signin_row.json"} {
		f.Add(fixture(f, name, "https://graph.example"))
	}
	f.Add([]byte(`{"value":[null,{"id":"x"},"s",1,{"id":"y","status":{"errorCode":1e99}}]}`))
	f.Add([]byte(`{"value":[{"id":"a","authenticationDetails":[{"succeeded":"yes"}]}],"@odata.nextLink":"x"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		page, err := decodeSignInPage(body)
		if err != nil {
			return
		}
		// Every row of the page is either delivered or counted as malformed, never lost silently.
		var raw rawPage
		if json.Unmarshal(body, &raw) == nil && len(raw.Value) != len(page.rows)+page.malformed {
			t.Fatalf("%d raw rows but %d delivered + %d malformed", len(raw.Value), len(page.rows), page.malformed)
		}
		for _, s := range page.rows {
			if s.ID == "" {
				t.Fatal("delivered a row without id")
			}
		}
		if _, err := decodeRawPage(body); err != nil {
			t.Fatalf("sign-in page decoded but raw page did not: %v", err)
		}
	})
}

// benchPage builds a 1,000-row page of realistic 5-15 KB rows: the testdata row padded with the big
// fields real rows carry (more applied Conditional Access policies, processing details, network
// locations), varied per row so the sizes spread over the real range.
func benchPage(b *testing.B) []byte {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "signin_row.json"))
	if err != nil {
		b.Fatal(err)
	}
	var base map[string]any
	if err := json.Unmarshal(raw, &base); err != nil {
		b.Fatal(err)
	}
	policy := base["appliedConditionalAccessPolicies"].([]any)[0].(map[string]any)
	var buf bytes.Buffer
	buf.WriteString(`{"@odata.context":"https://graph.microsoft.com/beta/$metadata#auditLogs/signIns","value":[`)
	for i := range 1000 {
		row := make(map[string]any, len(base))
		for k, v := range base {
			row[k] = v
		}
		row["id"] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		row["correlationId"] = fmt.Sprintf("corr-%d", i/3)
		var policies []any
		for p := range 2 + i%22 { // tenants commonly have dozens of policies, each listed on every row
			cp := make(map[string]any, len(policy))
			for k, v := range policy {
				cp[k] = v
			}
			cp["id"] = fmt.Sprintf("policy-%d", p)
			cp["displayName"] = fmt.Sprintf("CA%03d - Require compliant device or MFA for workload %d", p, p)
			if p%2 == 1 {
				cp["result"] = "notApplied"
			}
			policies = append(policies, cp)
		}
		row["appliedConditionalAccessPolicies"] = policies
		row["authenticationProcessingDetails"] = append(base["authenticationProcessingDetails"].([]any),
			map[string]any{"key": "Root Key Type", "value": "Unknown"},
			map[string]any{"key": "Oauth Scope Info", "value": strings.Repeat(`"Directory.Read.All",`, 10+i%30)})
		row["networkLocationDetails"] = []any{
			map[string]any{"networkType": "trustedNamedLocation", "networkNames": []string{"Head office", "Branch " + fmt.Sprint(i%7)}},
			map[string]any{"networkType": "namedNetwork", "networkNames": []string{"VPN egress"}},
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		rb, err := json.Marshal(row)
		if err != nil {
			b.Fatal(err)
		}
		buf.Write(rb)
	}
	buf.WriteString(`],"@odata.nextLink":"https://graph.microsoft.com/beta/auditLogs/signIns?$skiptoken=next"}`)
	return buf.Bytes()
}

func BenchmarkDecodePage(b *testing.B) {
	page := benchPage(b)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := decodeSignInPage(page)
		if err != nil || len(p.rows) != 1000 {
			b.Fatalf("decode: %v, %d rows", err, len(p.rows))
		}
	}
	b.ReportMetric(float64(len(page))/1000/1024, "KB/row")
}
