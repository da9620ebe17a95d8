package graph

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func TestCAPoliciesSelectsPagesAndListsControls(t *testing.T) {
	s := &script{}
	var srv *httptest.Server
	s.replies = []reply{{handler: func(w http.ResponseWriter, r *http.Request) {
		name := "capolicies/page1.json"
		if r.URL.Query().Get("$skiptoken") == "p2" {
			name = "capolicies/page2.json"
		}
		_, _ = w.Write(fixture(t, name, srv.URL))
	}}}
	srv = httptest.NewTLSServer(s)
	defer srv.Close()
	env := newTestClient(t, srv, nil)

	type got struct {
		ID, Name, State string
		Controls        []string
	}
	var all []got
	pages := 0
	err := env.client.CAPolicies(context.Background(), func(p []CAPolicy) error {
		pages++
		for i := range p {
			all = append(all, got{p[i].ID, p[i].DisplayName, p[i].State, p[i].Controls()})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("CAPolicies: %v", err)
	}
	// Written from the fixture: null authenticationStrength adds nothing, an object adds
	// "authenticationStrength"; null grantControls means no control; custom controls and terms
	// of use are passed on by name.
	want := []got{
		{"5f3a9b2e-1c4d-4e6f-8a7b-0c1d2e3f4a5b", "CA001 - Require MFA for administrators", "enabled", []string{"mfa"}},
		{"8e2d4c6a-0b1f-4a3e-9d5c-7f6e5d4c3b2a", "CA013 - Require phishing-resistant MFA for admins", "enabledForReportingButNotEnforced", []string{"authenticationStrength"}},
		{"c4b3a291-8f7e-4d6c-b5a4-93827160f5e4", "CA009 - Sign-in frequency 12 hours on unmanaged devices", "disabled", nil},
		{"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "CA014 - Terms of use for guests", "enabled", []string{"block", "passwordChange", "Contoso Duo", "3d0a5c1e-7b2f-4e8d-a9c6-1f4b7e2d5a8c"}},
	}
	if pages != 2 || !reflect.DeepEqual(all, want) {
		t.Errorf("pages = %d, policies =\n%+v\nwant\n%+v", pages, all, want)
	}
	if env.obs.malformed != 2 {
		t.Errorf("malformed rows = %d, want 2 (no id, not an object)", env.obs.malformed)
	}
	reqs := s.Requests()
	if len(reqs) != 2 {
		t.Fatalf("requests = %d, want 2", len(reqs))
	}
	if q := reqs[0].URL.Query(); reqs[0].URL.Path != "/v1.0/identity/conditionalAccess/policies" || q.Get("$select") != "id,displayName,state,grantControls" || len(q) != 1 {
		t.Errorf("first request %s, want $select of the four properties only", reqs[0].URL)
	}
}

func TestCAPoliciesWithoutPolicyReadAll(t *testing.T) {
	s := &script{}
	srv := httptest.NewTLSServer(s)
	defer srv.Close()
	s.replies = []reply{{status: 403, body: fixture(t, "registration/permission_policy_403.json", srv.URL)}}
	env := newTestClient(t, srv, nil)
	err := env.client.CAPolicies(context.Background(), func([]CAPolicy) error { return nil })
	if !errors.Is(err, ErrPermission) {
		t.Fatalf("err = %v, want ErrPermission", err)
	}
	for _, want := range []string{"graph conditionalAccessPolicies: HTTP 403", "Policy.Read.All", "admin consent"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("%d requests, want 1: a 403 is not retried", n)
	}
}
