package simtenant

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLoadFixturePadding(t *testing.T) {
	clock := newFakeClock(epoch)
	for _, noPadding := range []bool{false, true} {
		tn := start(t, Options{Now: clock.Now, RateLimit: -1, NoPadding: noPadding})
		loadCompact(t, tn)
		tok := token(t, tn)
		rows := readAll(t, tn, signInsURL(tn, "$filter", "signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')"), tok,
			map[string]string{"Prefer": "include-unknown-enum-members"})
		if len(rows) != 6 {
			t.Fatalf("NoPadding=%v: %d rows", noPadding, len(rows))
		}
		for _, raw := range rows {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			if _, ok := m["_visibleAfterSeconds"]; ok {
				t.Error("_visibleAfterSeconds served")
			}
			var id string
			_ = json.Unmarshal(m["id"], &id)
			if noPadding {
				if len(raw) > 1500 || m["appliedConditionalAccessPolicies"] != nil {
					t.Errorf("row %s padded despite NoPadding (%d bytes)", id, len(raw))
				}
				continue
			}
			if len(raw) < 5000 || len(raw) > 15000 {
				t.Errorf("padded row %s is %d bytes, want 5-15 KB", id, len(raw))
			}
			if string(m["mfaDetail"]) != "null" {
				t.Errorf("mfaDetail = %s, want null", m["mfaDetail"])
			}
			if id == "r1" && !strings.Contains(string(m["status"]), "user declined") {
				t.Errorf("padding changed the fixture's status: %s", m["status"])
			}
			if id == "a2" && !strings.Contains(string(m["authenticationDetails"]), "Mobile app notification") {
				t.Errorf("padding changed the fixture's authenticationDetails: %s", m["authenticationDetails"])
			}
		}
	}
}

func TestLoadFixtureErrors(t *testing.T) {
	cases := map[string]string{
		"not an array":       `{"id":"x"}`,
		"missing id":         `[{"createdDateTime":"2025-03-10T08:00:00Z"}]`,
		"missing date":       `[{"id":"x"}]`,
		"bad date":           `[{"id":"x","createdDateTime":"yesterday"}]`,
		"numeric date":       `[{"id":"x","createdDateTime":12}]`,
		"negative lateness":  `[{"id":"x","createdDateTime":"2025-03-10T08:00:00Z","_visibleAfterSeconds":-1}]`,
		"bad event types":    `[{"id":"x","createdDateTime":"2025-03-10T08:00:00Z","signInEventTypes":"interactiveUser"}]`,
		"truncated document": `[{"id":"x",`,
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			tn := start(t, Options{NoPadding: true})
			if err := tn.LoadFixture(strings.NewReader(doc)); err == nil {
				t.Fatal("LoadFixture accepted it")
			}
			if n := tn.Stats().RowsStored; n != 0 {
				t.Errorf("a rejected fixture stored %d rows", n)
			}
		})
	}
}

func TestFixtureDuplicateServedTwice(t *testing.T) {
	clock := newFakeClock(epoch)
	tn := start(t, Options{Now: clock.Now, RateLimit: -1, NoPadding: true, PageSize: 1, Order: OrderAscending})
	doc := `[{"id":"d","createdDateTime":"2025-03-10T08:00:00Z"},{"id":"e","createdDateTime":"2025-03-10T08:00:00Z"},{"id":"d","createdDateTime":"2025-03-10T08:00:01Z"}]`
	if err := tn.LoadFixture(strings.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, raw := range readAll(t, tn, signInsURL(tn), token(t, tn), nil) {
		var h rowHead
		_ = json.Unmarshal(raw, &h)
		got = append(got, h.ID)
	}
	if strings.Join(got, ",") != "d,e,d" {
		t.Errorf("served %v, want d,e,d", got)
	}
}

func TestAddRowsReplacesByID(t *testing.T) {
	clock := newFakeClock(epoch)
	tn := start(t, Options{Now: clock.Now, RateLimit: -1})
	row := Row{ID: "x1", CreatedDateTime: epoch.Add(-time.Minute), IsInteractive: true,
		Status: Status{ErrorCode: 0, FailureReason: "Other.", AdditionalDetails: "MFA requirement satisfied by claim in the token"}}
	tn.AddRows(row)
	// Graph may rewrite a fresh row once aggregated; a second AddRows with
	// the same id models that.
	row.Status.AdditionalDetails = "MFA successfully completed"
	tn.AddRows(row)
	tok := token(t, tn)
	rows := readAll(t, tn, signInsURL(tn), tok, nil)
	if len(rows) != 1 || !strings.Contains(string(rows[0]), "MFA successfully completed") {
		t.Fatalf("want the rewritten row once, got %d rows", len(rows))
	}
	if n := len(rows[0]); n < 5000 || n > 15000 {
		t.Errorf("AddRows row not padded: %d bytes", n)
	}
	var m map[string]any
	_ = json.Unmarshal(rows[0], &m)
	if types, _ := m["signInEventTypes"].([]any); len(types) != 1 || types[0] != "interactiveUser" {
		t.Errorf("signInEventTypes not derived from isInteractive: %v", m["signInEventTypes"])
	}
}

func TestTruncatedOverHTTP1(t *testing.T) {
	clock := newFakeClock(epoch)
	tn := start(t, Options{Now: clock.Now, RateLimit: -1})
	loadCompact(t, tn)
	tok := token(t, tn)
	tn.InjectFault(Fault{Kind: FaultTruncated})
	tr := tn.HTTPClient().Transport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = false
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	tr.TLSClientConfig = tr.TLSClientConfig.Clone()
	tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, signInsURL(tn), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 1 {
		t.Fatalf("got HTTP/%d", resp.ProtoMajor)
	}
	body, err := io.ReadAll(resp.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(body) == 0 {
		t.Errorf("want a prefix then io.ErrUnexpectedEOF, got %d bytes and %v", len(body), err)
	}
}
