package graphtest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

// The realistic page is what the decoder's headline figure is measured on: it must stay the same
// bytes from run to run, and keep the properties that make it realistic (a decoder remembering
// the row before must find real rows' variation on it, not one row repeated).
func TestRealisticSignInPage(t *testing.T) {
	const rows = 1000
	a, err := RealisticSignInPage(rows)
	if err != nil {
		t.Fatal(err)
	}
	b, err := RealisticSignInPage(rows)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the page differ")
	}
	var page struct {
		Value []json.RawMessage `json:"value"`
		Next  string            `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(a, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Value) != rows || page.Next == "" {
		t.Fatalf("%d rows, next link %q; want %d rows and a next link", len(page.Value), page.Next, rows)
	}
	type row struct {
		ID, CorrelationID, UserID, AppID, IPAddress, SessionID string
		CreatedDateTime                                        time.Time
		Status                                                 struct{ ErrorCode int }
		DeviceDetail                                           struct{ DeviceID string }
		Location                                               struct{ City string }
		AppliedConditionalAccessPolicies                       []struct{ Result string }
	}
	distinct := map[string]map[string]bool{}
	count := func(field, v string) {
		if distinct[field] == nil {
			distinct[field] = map[string]bool{}
		}
		distinct[field][v] = true
	}
	var prev row
	inRuns, policyChanges := 0, 0
	for i, raw := range page.Value {
		if n := len(raw); n < 5<<10 || n > 15<<10 {
			t.Errorf("row %d is %d bytes, outside the real 5-15 KB", i, n)
		}
		var r row
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		for f, v := range map[string]string{"id": r.ID, "user": r.UserID, "app": r.AppID, "ip": r.IPAddress,
			"session": r.SessionID, "device": r.DeviceDetail.DeviceID, "city": r.Location.City, "correlation": r.CorrelationID} {
			count(f, v)
		}
		count("errorCode", strconv.Itoa(r.Status.ErrorCode))
		if i > 0 {
			if r.CreatedDateTime.After(prev.CreatedDateTime) {
				t.Fatalf("row %d (%s) is newer than the row before (%s): Graph serves newest first", i, r.CreatedDateTime, prev.CreatedDateTime)
			}
			if r.CorrelationID == prev.CorrelationID {
				inRuns++
				if r.UserID != prev.UserID || r.SessionID != prev.SessionID || r.IPAddress != prev.IPAddress {
					t.Errorf("row %d continues row %d's flow with another user, session or address", i, i-1)
				}
			}
			for p := range r.AppliedConditionalAccessPolicies {
				if p < len(prev.AppliedConditionalAccessPolicies) && r.AppliedConditionalAccessPolicies[p].Result != prev.AppliedConditionalAccessPolicies[p].Result {
					policyChanges++
					break
				}
			}
		}
		prev = r
	}
	// Lower bounds well below what the generator gives (1000 ids, 615 users, 16 apps, 14 cities,
	// 28 % of rows continuing a flow), so that a change keeping the page realistic passes and one
	// that makes rows alike does not.
	for field, least := range map[string]int{"id": rows, "user": 300, "app": 10, "ip": 150, "session": 300,
		"device": 150, "city": 8, "correlation": 400, "errorCode": 6} {
		if n := len(distinct[field]); n < least {
			t.Errorf("%d distinct %s values, want at least %d", n, field, least)
		}
	}
	if inRuns < rows/10 || inRuns > rows/2 {
		t.Errorf("%d rows continue the flow of the row before, want between 10 %% and 50 %%", inRuns)
	}
	if policyChanges < rows/5 {
		t.Errorf("only %d rows have a Conditional Access result that differs from the row before", policyChanges)
	}
}
