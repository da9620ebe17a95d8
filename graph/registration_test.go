package graph

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRegistrationDetailsDecodesPagesAndSkipsBadRows(t *testing.T) {
	s := &script{}
	var srv *httptest.Server
	s.replies = []reply{{handler: func(w http.ResponseWriter, r *http.Request) {
		name := "registration/details_page1.json"
		if r.URL.Query().Get("$skiptoken") == "p2" {
			name = "registration/details_page2.json"
		}
		_, _ = w.Write(fixture(t, name, srv.URL))
	}}}
	srv = httptest.NewTLSServer(s)
	defer srv.Close()
	env := newTestClient(t, srv, nil)

	var got []RegistrationDetail
	var pages int
	err := env.client.RegistrationDetails(context.Background(), func(p []RegistrationDetail) error {
		pages++
		got = append(got, p...)
		return nil
	})
	if err != nil {
		t.Fatalf("RegistrationDetails: %v", err)
	}
	want := []RegistrationDetail{{
		ID: "2b0e7a4c-0001-4000-8000-000000000001", UserPrincipalName: "adele@contoso.example", UserDisplayName: "Adèle Vance",
		UserType: "member", IsAdmin: true, IsMfaRegistered: true, IsMfaCapable: true, IsPasswordlessCapable: true,
		IsSsprRegistered: true, IsSsprEnabled: true, IsSsprCapable: true, IsSystemPreferredAuthenticationMethodEnabled: true,
		SystemPreferredAuthenticationMethods:          []string{"Fido2"},
		UserPreferredMethodForSecondaryAuthentication: "push",
		MethodsRegistered:                             []string{"microsoftAuthenticatorPush", "fido2", "passKeySynced"},
		LastUpdatedDateTime:                           time.Date(2026, 3, 2, 7, 15, 31, 521112300, time.UTC),
	}, {
		ID: "2b0e7a4c-0001-4000-8000-000000000003", UserPrincipalName: "guest_fabrikam.example#EXT#@contoso.example", UserDisplayName: "Guest",
		UserType: "guest", SystemPreferredAuthenticationMethods: []string{}, MethodsRegistered: []string{},
		LastUpdatedDateTime: time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC),
	}}
	if pages != 2 || !reflect.DeepEqual(got, want) {
		t.Errorf("pages = %d, rows =\n%+v\nwant\n%+v", pages, got, want)
	}
	if env.obs.malformed != 2 {
		t.Errorf("malformed rows = %d, want 2 (a row that does not decode, a row without id)", env.obs.malformed)
	}
	reqs := s.Requests()
	if len(reqs) != 2 {
		t.Fatalf("requests = %d", len(reqs))
	}
	// The List page documents $filter only: no $select, no $top, no other option.
	if reqs[0].URL.Path != "/v1.0/reports/authenticationMethods/userRegistrationDetails" || reqs[0].URL.RawQuery != "" {
		t.Errorf("first request %s, want the report without query options", reqs[0].URL)
	}
	if q := reqs[1].URL.Query(); q.Get("$skiptoken") != "p2" || len(q) != 1 {
		t.Errorf("second request %s, want the next link as given", reqs[1].URL)
	}
	if strings.Contains(env.logs.String(), "bad-row@contoso.example") || strings.Contains(env.logs.String(), "no-id@") {
		t.Errorf("log names a user: %s", env.logs)
	}
}

func TestUsersSelectsJoinFieldsAndReadsAccountEnabled(t *testing.T) {
	s := &script{}
	srv := httptest.NewTLSServer(s)
	defer srv.Close()
	s.replies = []reply{{status: 200, body: fixture(t, "registration/users_page.json", srv.URL)}}
	env := newTestClient(t, srv, nil)
	var got []User
	if err := env.client.Users(context.Background(), func(p []User) error { got = append(got, p...); return nil }); err != nil {
		t.Fatalf("Users: %v", err)
	}
	if len(got) != 3 {
		t.Fatalf("users = %+v, want 3 (the row without id skipped)", got)
	}
	wantEnabled := []bool{true, false, true} // null counts as enabled
	for i, u := range got {
		if u.Enabled() != wantEnabled[i] {
			t.Errorf("%s Enabled() = %v, want %v", u.ID, u.Enabled(), wantEnabled[i])
		}
	}
	if got[2].UserType != "Guest" {
		t.Errorf("userType = %q", got[2].UserType)
	}
	q := s.Requests()[0].URL.Query()
	if s.Requests()[0].URL.Path != "/v1.0/users" || q.Get("$select") != "id,accountEnabled,userType,userPrincipalName" || q.Get("$top") != "999" {
		t.Errorf("request %s", s.Requests()[0].URL)
	}
}

func TestPerUserMFAState(t *testing.T) {
	tests := []struct {
		name, fixture, user string
		status              int
		want                string
		wantErr             []string
		requests            int
	}{
		{"enforced", "registration/requirements_enforced.json", "2b0e7a4c-0001-4000-8000-000000000001", 200, "enforced", nil, 1},
		{"no state means disabled", "registration/requirements_empty.json", "adele@contoso.example", 200, "disabled", nil, 1},
		{"missing Policy.Read.All", "registration/permission_policy_403.json", "2b0e7a4c-0001-4000-8000-000000000001", 403, "",
			[]string{"graph authenticationRequirements: HTTP 403", "Policy.Read.All", "admin consent"}, 1},
		{"path injection refused", "registration/requirements_enforced.json", "../../me?x=1", 200, "", []string{"invalid user id"}, 0},
		{"not JSON", "page_truncated.json", "2b0e7a4c-0001-4000-8000-000000000001", 200, "", []string{"malformed page"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{}
			srv := httptest.NewTLSServer(s)
			defer srv.Close()
			s.replies = []reply{{status: tt.status, body: fixture(t, tt.fixture, srv.URL)}}
			env := newTestClient(t, srv, nil)
			got, err := env.client.PerUserMFAState(context.Background(), tt.user)
			if got != tt.want {
				t.Errorf("state = %q, want %q", got, tt.want)
			}
			if (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("err = %v", err)
			}
			for _, sub := range tt.wantErr {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error %q lacks %q", err, sub)
				}
			}
			reqs := s.Requests()
			if len(reqs) != tt.requests {
				t.Fatalf("requests = %d, want %d", len(reqs), tt.requests)
			}
			if tt.requests > 0 && reqs[0].URL.Path != "/beta/users/"+tt.user+"/authentication/requirements" {
				t.Errorf("path = %s", reqs[0].URL.Path)
			}
		})
	}
}

// A 403 names the permission of the endpoint that failed, and a Free/B2C tenant is a licence
// problem on the report, never a permission problem.
func TestRegistrationErrorsNameWhatIsMissing(t *testing.T) {
	tests := []struct {
		name, fixture string
		call          func(*Client) error
		is, isNot     error
		want          []string
	}{
		{"report without AuditLog.Read.All", "errors/permission_403.json",
			func(c *Client) error {
				return c.RegistrationDetails(context.Background(), func([]RegistrationDetail) error { return nil })
			},
			ErrPermission, ErrLicence, []string{"graph userRegistrationDetails: HTTP 403", "grant the application permission(s) AuditLog.Read.All and"}},
		{"users without User.Read.All", "errors/permission_403.json",
			func(c *Client) error { return c.Users(context.Background(), func([]User) error { return nil }) },
			ErrPermission, ErrLicence, []string{"graph users: HTTP 403", "permission(s) User.Read.All and"}},
		{"requirements without Policy.Read.All", "registration/permission_policy_403.json",
			func(c *Client) error { _, err := c.PerUserMFAState(context.Background(), "u1"); return err },
			ErrPermission, ErrLicence, []string{"permission(s) Policy.Read.All and"}},
		{"Free or B2C tenant", "errors/licence_403.json",
			func(c *Client) error {
				return c.RegistrationDetails(context.Background(), func([]RegistrationDetail) error { return nil })
			},
			ErrLicence, ErrPermission, []string{"Authentication_RequestFromNonPremiumTenantOrB2CTenant", "Free", "B2C", "P1/P2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{}
			srv := httptest.NewTLSServer(s)
			defer srv.Close()
			s.replies = []reply{{status: 403, body: fixture(t, tt.fixture, srv.URL)}}
			env := newTestClient(t, srv, nil)
			err := tt.call(env.client)
			if !errors.Is(err, tt.is) || errors.Is(err, tt.isNot) {
				t.Fatalf("err = %v: want Is(%v) and not Is(%v)", err, tt.is, tt.isNot)
			}
			for _, sub := range tt.want {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error %q lacks %q", err, sub)
				}
			}
			if n := len(s.Requests()); n != 1 {
				t.Errorf("requests = %d: a 403 must not be retried", n)
			}
		})
	}
}

func TestRequiredPermission(t *testing.T) {
	for endpoint, want := range map[string]string{
		"signIns": "AuditLog.Read.All and Directory.Read.All", EndpointRegistrationDetails: "AuditLog.Read.All",
		EndpointUsers: "User.Read.All", EndpointRequirements: "Policy.Read.All",
	} {
		if got := RequiredPermission(endpoint); got != want {
			t.Errorf("RequiredPermission(%s) = %q, want %q", endpoint, got, want)
		}
	}
}
