package graph

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const wantFilter = "createdDateTime ge 2026-11-25T00:00:00Z and createdDateTime le 2026-11-25T00:05:00Z and signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')"

// fakeAuthority is a minimal Entra login authority: OpenID discovery and a client-credentials token
// endpoint, enough for azidentity's real client-secret flow.
type fakeAuthority struct {
	mu     sync.Mutex
	issued string
	forms  []url.Values
	other  []string // unexpected paths
}

func (a *fakeAuthority) handler(base func() string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		w.Header().Set("Content-Type", "application/json")
		switch {
		case len(parts) == 4 && parts[1] == "v2.0" && parts[2] == ".well-known" && parts[3] == "openid-configuration":
			t := base() + "/" + parts[0]
			_ = json.NewEncoder(w).Encode(map[string]any{
				"token_endpoint":         t + "/oauth2/v2.0/token",
				"authorization_endpoint": t + "/oauth2/v2.0/authorize",
				"issuer":                 t + "/v2.0",
			})
		case len(parts) == 4 && parts[1] == "oauth2" && parts[3] == "token" && r.Method == http.MethodPost:
			if err := r.ParseForm(); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			a.mu.Lock()
			a.forms = append(a.forms, r.PostForm)
			a.mu.Unlock()
			certificate := r.PostForm.Get("client_assertion") != ""
			if !certificate && r.PostForm.Get("client_secret") != "s3cret-value" {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`))
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{
				"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": a.issued,
			})
		default:
			a.mu.Lock()
			a.other = append(a.other, r.URL.Path)
			a.mu.Unlock()
			http.NotFound(w, r)
		}
	}
}

// pagedGraph serves the three sign-in page fixtures by $skiptoken.
func pagedGraph(t *testing.T) (*httptest.Server, *script) {
	t.Helper()
	s := &script{}
	var srv *httptest.Server
	s.replies = []reply{{handler: func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/beta/auditLogs/signIns" {
			http.NotFound(w, r)
			return
		}
		name := map[string]string{"": "page1.json", "page2": "page2.json", "page3": "page3.json"}[r.URL.Query().Get("$skiptoken")]
		if name == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(fixture(t, name, srv.URL))
	}}}
	srv = httptest.NewTLSServer(s)
	t.Cleanup(srv.Close)
	return srv, s
}

func TestClientSecretFlowAndPaging(t *testing.T) {
	auth := &fakeAuthority{issued: "issued-token-9f8e7d"}
	var authSrv *httptest.Server
	authSrv = httptest.NewTLSServer(auth.handler(func() string { return authSrv.URL }))
	defer authSrv.Close()
	graphSrv, seen := pagedGraph(t)

	pool := x509.NewCertPool()
	pool.AddCert(authSrv.Certificate())
	pool.AddCert(graphSrv.Certificate())
	hc := authSrv.Client()
	hc.Transport.(*http.Transport).TLSClientConfig.RootCAs = pool

	cred, err := NewCredential(CredentialOptions{
		Type: "client_secret", TenantID: "tenant-1", ClientID: "client-1", ClientSecret: "s3cret-value",
		AuthorityHost: authSrv.URL + "/", DisableInstanceDiscovery: true, HTTPClient: hc,
	})
	if err != nil {
		t.Fatalf("NewCredential: %v", err)
	}
	env := newTestClient(t, graphSrv, func(o *Options) { o.Credential = cred; o.HTTPClient = hc })

	var pages [][]SignIn
	if err := env.client.SignIns(context.Background(), testQuery, collect(&pages)); err != nil {
		t.Fatalf("SignIns: %v", err)
	}
	if got, want := ids(pages), []string{"row-0001", "row-0002", "row-0003", "row-0004", "row-0005"}; !slices.Equal(got, want) {
		t.Errorf("rows = %v, want %v", got, want)
	}
	if len(pages) != 3 {
		t.Errorf("fn called %d times, want once per page (3)", len(pages))
	}
	// Decoded fields come through, including the enum members only sent with the Prefer header.
	if s := pages[1][0]; s.TokenIssuerType != "NPSExtension" || s.Status.ErrorCode != 0 || len(s.AuthenticationDetails) != 1 {
		t.Errorf("row-0003 decoded as %+v", s)
	}
	if s := pages[0][1]; s.Status.ErrorCode != 500121 || s.AuthenticationDetails[0].Succeeded {
		t.Errorf("row-0002 decoded as %+v", s)
	}

	auth.mu.Lock()
	forms, other := auth.forms, auth.other
	auth.mu.Unlock()
	if len(other) > 0 {
		t.Errorf("authority got unexpected requests %v", other)
	}
	if len(forms) == 0 {
		t.Fatal("token endpoint never called")
	}
	if f := forms[0]; f.Get("grant_type") != "client_credentials" || f.Get("client_id") != "client-1" ||
		!strings.Contains(f.Get("scope"), graphSrv.URL+"/.default") {
		t.Errorf("token request form = %v", f)
	}

	reqs := seen.Requests()
	if len(reqs) != 3 {
		t.Fatalf("graph got %d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if got := r.Header.Get("Authorization"); got != "Bearer issued-token-9f8e7d" {
			t.Errorf("request %d Authorization = %q", i, got)
		}
		if got := r.Header.Get("Prefer"); got != "include-unknown-enum-members" {
			t.Errorf("request %d Prefer = %q", i, got)
		}
		if r.Header.Get("Accept") != "application/json" || r.Header.Get("User-Agent") != "entra-mfa-exporter" {
			t.Errorf("request %d headers = %v", i, r.Header)
		}
	}
	q := reqs[0].URL.Query()
	if got := q.Get("$filter"); got != wantFilter {
		t.Errorf("$filter = %q\nwant      %q", got, wantFilter)
	}
	// No $orderby: List signIns does not document it (the simulated tenant refuses it, as the
	// older reporting API did), and counting relies on no order.
	if _, ok := q["$orderby"]; ok || q.Get("$top") != "1000" {
		t.Errorf("query = %v", q)
	}
	if strings.Contains(reqs[0].URL.RawQuery, "+") {
		t.Errorf("spaces must be sent as %%20: %s", reqs[0].URL.RawQuery)
	}
	for i, tok := range []string{"page2", "page3"} {
		if got := reqs[i+1].URL.Query().Get("$skiptoken"); got != tok || reqs[i+1].URL.Query().Has("$filter") {
			t.Errorf("request %d did not follow the next link as given: %s", i+1, reqs[i+1].URL)
		}
	}
}

func TestClientSecretRejected(t *testing.T) {
	auth := &fakeAuthority{issued: "never"}
	var authSrv *httptest.Server
	authSrv = httptest.NewTLSServer(auth.handler(func() string { return authSrv.URL }))
	defer authSrv.Close()
	graphSrv, seen := pagedGraph(t)
	cred, err := NewCredential(CredentialOptions{
		Type: "client_secret", TenantID: "tenant-1", ClientID: "client-1", ClientSecret: "wrong-secret-value",
		AuthorityHost: authSrv.URL + "/", DisableInstanceDiscovery: true, HTTPClient: authSrv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	env := newTestClient(t, graphSrv, func(o *Options) { o.Credential = cred })
	err = env.client.SignIns(context.Background(), testQuery, func([]SignIn) error { return nil })
	if !errors.Is(err, ErrAuthentication) {
		t.Fatalf("err = %v, want ErrAuthentication", err)
	}
	auth.mu.Lock()
	reached := len(auth.forms)
	auth.mu.Unlock()
	if reached == 0 {
		t.Errorf("token endpoint never reached; err = %v", err)
	}
	if strings.Contains(err.Error(), "wrong-secret-value") {
		t.Errorf("error leaks the secret: %v", err)
	}
	if n := len(seen.Requests()); n != 0 {
		t.Errorf("graph got %d requests without a token", n)
	}
}

func TestThrottleHonoursRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		want       time.Duration
	}{
		{"seconds", "3", 3 * time.Second},
		{"absent", "", 10 * time.Second},
		{"http date", "Wed, 25 Nov 2026 00:00:20 GMT", 20 * time.Second},
		{"capped", "86400", 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srv *httptest.Server
			s := &script{}
			srv = httptest.NewTLSServer(s)
			defer srv.Close()
			hdr := map[string]string{}
			if tt.retryAfter != "" {
				hdr["Retry-After"] = tt.retryAfter
			}
			s.replies = []reply{
				{status: 429, header: hdr, body: fixture(t, "errors/throttled_429.json", "")},
				{status: 200, body: fixture(t, "page3.json", srv.URL)},
			}
			env := newTestClient(t, srv, nil)
			var pages [][]SignIn
			if err := env.client.SignIns(context.Background(), testQuery, collect(&pages)); err != nil {
				t.Fatalf("SignIns: %v", err)
			}
			if got := ids(pages); !slices.Equal(got, []string{"row-0005"}) {
				t.Errorf("rows = %v", got)
			}
			if !slices.Equal(env.obs.throttled, []time.Duration{tt.want}) {
				t.Errorf("Throttled = %v, want [%v]", env.obs.throttled, tt.want)
			}
			if !slices.Equal(env.obs.retries, []string{"429"}) {
				t.Errorf("Retry = %v", env.obs.retries)
			}
			// The hold goes through the shared pacer: the second attempt waited exactly Retry-After.
			if got := env.clock.Sleeps(); !slices.Equal(got, []time.Duration{tt.want}) {
				t.Errorf("sleeps = %v, want [%v]", got, tt.want)
			}
			if !slices.Equal(env.obs.requests, []int{429, 200}) {
				t.Errorf("requests = %v", env.obs.requests)
			}
		})
	}
}

func TestThrottleWaitsExhausted(t *testing.T) {
	s := &script{}
	srv := httptest.NewTLSServer(s)
	defer srv.Close()
	s.replies = []reply{{status: 429, header: map[string]string{"Retry-After": "1"}, body: fixture(t, "errors/throttled_429.json", "")}}
	env := newTestClient(t, srv, func(o *Options) { o.MaxThrottleWaits = 2 })
	err := env.client.SignIns(context.Background(), testQuery, func([]SignIn) error { t.Error("fn called"); return nil })
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 {
		t.Fatalf("err = %v, want an APIError 429", err)
	}
	if n := len(s.Requests()); n != 3 {
		t.Errorf("requests = %d, want 3 (first try + 2 waits)", n)
	}
}

func TestThrottleHoldsOtherSourcesOfTheTenant(t *testing.T) {
	throttled := &script{replies: []reply{{status: 429, header: map[string]string{"Retry-After": "7"}}}}
	srvA := httptest.NewTLSServer(throttled)
	defer srvA.Close()
	a := newTestClient(t, srvA, func(o *Options) { o.MaxThrottleWaits = -1 })
	srvB, _ := pagedGraph(t)
	// B is another source of the same tenant: same pacer, same clock.
	b := newTestClient(t, srvB, func(o *Options) { o.Pacer = a.client.pacer })
	b.client.clock = a.clock

	err := a.client.Get(context.Background(), "userRegistrationDetails", "/v1.0/reports/x", func([]json.RawMessage) error { return nil })
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 {
		t.Fatalf("source A: err = %v, want APIError 429", err)
	}
	if err := b.client.SignIns(context.Background(), testQuery, func([]SignIn) error { return nil }); err != nil {
		t.Fatalf("source B: %v", err)
	}
	if got := a.clock.Sleeps(); !slices.Equal(got, []time.Duration{7 * time.Second}) {
		t.Errorf("sleeps = %v, want source B held 7s by source A's 429", got)
	}
}

func TestRetriesTransientFailures(t *testing.T) {
	unavailable := fixture(t, "errors/unavailable_503.json", "")
	resetConn := reply{handler: func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}}
	// cutBody promises more bytes than it sends, as a connection dropped mid-page does.
	cutBody := func(body []byte) reply {
		return reply{handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.WriteHeader(200)
			_, _ = w.Write(body[:len(body)/2])
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				_ = conn.Close()
			}
		}}
	}
	slow := reply{handler: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }}

	tests := []struct {
		name        string
		replies     func(base string) []reply
		maxRetries  int
		timeout     time.Duration // per attempt; 0: the default of two minutes
		wantErr     bool
		wantRetries []string
		wantCodes   []int
	}{
		{
			name: "5xx burst then success",
			replies: func(base string) []reply {
				return []reply{{status: 503, body: unavailable}, {status: 502}, {status: 500}, {status: 504}, {status: 200, body: fixture(t, "page3.json", base)}}
			},
			wantRetries: []string{"5xx", "5xx", "5xx", "5xx"},
			wantCodes:   []int{503, 502, 500, 504, 200},
		},
		{
			name:        "retries exhausted",
			replies:     func(string) []reply { return []reply{{status: 503, body: unavailable}} },
			maxRetries:  2,
			wantErr:     true,
			wantRetries: []string{"5xx", "5xx"},
			wantCodes:   []int{503, 503, 503},
		},
		{
			name: "connection reset",
			replies: func(base string) []reply {
				return []reply{resetConn, {status: 200, body: fixture(t, "page3.json", base)}}
			},
			wantRetries: []string{"transport"},
			wantCodes:   []int{0, 200},
		},
		{
			name: "body cut short",
			replies: func(base string) []reply {
				return []reply{cutBody(fixture(t, "page3.json", base)), {status: 200, body: fixture(t, "page3.json", base)}}
			},
			wantRetries: []string{"truncated"},
			wantCodes:   []int{0, 200},
		},
		{
			name: "attempt timeout",
			replies: func(base string) []reply {
				return []reply{slow, {status: 200, body: fixture(t, "page3.json", base)}}
			},
			// The first attempt hangs until it times out. The timeout is far above what the second
			// attempt needs even on a loaded machine under -race, so only the first one times out.
			timeout:     2 * time.Second,
			wantRetries: []string{"timeout"},
			wantCodes:   []int{0, 200},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{}
			srv := httptest.NewTLSServer(s)
			defer srv.Close()
			s.replies = tt.replies(srv.URL)
			env := newTestClient(t, srv, func(o *Options) {
				o.MaxRetries = tt.maxRetries
				o.RequestTimeout = tt.timeout
			})
			var pages [][]SignIn
			err := env.client.SignIns(context.Background(), testQuery, collect(&pages))
			if tt.wantErr {
				var apiErr *APIError
				if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || !strings.Contains(err.Error(), "giving up after 2 retries") {
					t.Fatalf("err = %v, want giving up with APIError 503", err)
				}
				if len(pages) != 0 {
					t.Errorf("pages delivered: %v", pages)
				}
			} else {
				if err != nil {
					t.Fatalf("SignIns: %v", err)
				}
				// The retried page is delivered exactly once.
				if got := ids(pages); !slices.Equal(got, []string{"row-0005"}) {
					t.Errorf("rows = %v", got)
				}
			}
			if !slices.Equal(env.obs.retries, tt.wantRetries) {
				t.Errorf("Retry = %v, want %v", env.obs.retries, tt.wantRetries)
			}
			if !slices.Equal(env.obs.requests, tt.wantCodes) {
				t.Errorf("Request codes = %v, want %v", env.obs.requests, tt.wantCodes)
			}
			// Backoff is full jitter under an exponential ceiling: never above it.
			for i, d := range env.clock.Sleeps() {
				if ceiling := time.Millisecond << i; d < 0 || d > ceiling {
					t.Errorf("backoff %d = %v, outside [0, %v]", i, d, ceiling)
				}
			}
		})
	}
}

func TestErrorsAreFinalAndExplained(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		fixture    string
		endpoint   string
		is         error
		isNot      []error
		wantSubstr []string
	}{
		{"401 token rejected", 401, "errors/unauthorized_401.json", "signIns", ErrAuthentication, []error{ErrLicence, ErrPermission},
			[]string{"HTTP 401", "rejected the access token", "req-401"}},
		{"403 licence (reports)", 403, "errors/licence_403.json", "userRegistrationDetails", ErrLicence, []error{ErrPermission},
			[]string{"P1/P2", "Authentication_RequestFromNonPremiumTenantOrB2CTenant"}},
		{"403 licence (sign-ins)", 403, "errors/licence_signins_403.json", "signIns", ErrLicence, []error{ErrPermission},
			[]string{"P1/P2"}},
		{"403 permission", 403, "errors/permission_403.json", "signIns", ErrPermission, []error{ErrLicence},
			[]string{"AuditLog.Read.All and Directory.Read.All", "admin consent"}},
		{"403 permission missing", 403, "errors/permission_missing_403.json", "signIns", ErrPermission, []error{ErrLicence},
			[]string{"AuditLog.Read.All"}},
		{"400 bad query", 400, "errors/bad_request_400.json", "signIns", nil, []error{ErrLicence, ErrPermission, ErrAuthentication},
			[]string{"Invalid filter clause"}},
		{"404", 404, "errors/not_found_404.json", "signIns", nil, []error{ErrLicence, ErrPermission},
			[]string{"check the Graph endpoint URL"}},
		{"403 html body", 403, "page_truncated.json", "signIns", nil, []error{ErrLicence, ErrPermission},
			[]string{"access denied"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{}
			srv := httptest.NewTLSServer(s)
			defer srv.Close()
			s.replies = []reply{{status: tt.status, body: fixture(t, tt.fixture, "")}}
			env := newTestClient(t, srv, nil)
			var err error
			if tt.endpoint == "signIns" {
				err = env.client.SignIns(context.Background(), testQuery, func([]SignIn) error { return nil })
			} else {
				err = env.client.Get(context.Background(), tt.endpoint, "/v1.0/reports/authenticationMethods/userRegistrationDetails", func([]json.RawMessage) error { return nil })
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status {
				t.Fatalf("err = %v, want APIError %d", err, tt.status)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			for _, not := range tt.isNot {
				if errors.Is(err, not) {
					t.Errorf("errors.Is(%v, %v) = true", err, not)
				}
			}
			for _, sub := range tt.wantSubstr {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error %q lacks %q", err, sub)
				}
			}
			if n := len(s.Requests()); n != 1 {
				t.Errorf("%d requests, want 1 (no retry)", n)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error leaks the token")
			}
		})
	}
}

func TestForeignNextLinkRefused(t *testing.T) {
	foreign := &script{replies: []reply{{status: 200, body: []byte(`{"value":[]}`)}}}
	foreignSrv := httptest.NewTLSServer(foreign)
	defer foreignSrv.Close()
	fu, _ := url.Parse(foreignSrv.URL)
	_, port, _ := net.SplitHostPort(fu.Host)

	tests := []struct {
		name string
		next func(base string) string
	}{
		{"other host", func(string) string { return foreignSrv.URL + "/beta/auditLogs/signIns?$skiptoken=x" }},
		{"localhost alias", func(string) string { return "https://localhost:" + port + "/beta/auditLogs/signIns?$skiptoken=x" }},
		{"plain http", func(base string) string { return strings.Replace(base, "https://", "http://", 1) + "/beta/x" }},
		{"userinfo trick", func(base string) string {
			return "https://" + strings.TrimPrefix(base, "https://") + "@" + fu.Host + "/beta/x"
		}},
		{"relative", func(string) string { return "/beta/auditLogs/signIns?$skiptoken=x" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{}
			srv := httptest.NewTLSServer(s)
			defer srv.Close()
			page, _ := json.Marshal(map[string]any{"value": []map[string]string{{"id": "a"}}, "@odata.nextLink": tt.next(srv.URL)})
			s.replies = []reply{{status: 200, body: page}}
			env := newTestClient(t, srv, nil)
			var pages [][]SignIn
			err := env.client.SignIns(context.Background(), testQuery, collect(&pages))
			if err == nil || !strings.Contains(err.Error(), "not the configured Graph endpoint") {
				t.Fatalf("err = %v, want refusal", err)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Error("error leaks the token")
			}
			if got := ids(pages); !slices.Equal(got, []string{"a"}) {
				t.Errorf("first page rows = %v", got)
			}
			if n := len(s.Requests()); n != 1 {
				t.Errorf("graph got %d requests, want 1", n)
			}
		})
	}
	if n := len(foreign.Requests()); n != 0 {
		t.Errorf("foreign host got %d requests", n)
	}
}

func TestRedirectToForeignHostRefused(t *testing.T) {
	foreign := &script{replies: []reply{{status: 200, body: []byte(`{"value":[]}`)}}}
	foreignSrv := httptest.NewTLSServer(foreign)
	defer foreignSrv.Close()
	s := &script{replies: []reply{{status: 302, header: map[string]string{"Location": foreignSrv.URL + "/steal"}}}}
	srv := httptest.NewTLSServer(s)
	defer srv.Close()
	env := newTestClient(t, srv, nil)
	err := env.client.SignIns(context.Background(), testQuery, func([]SignIn) error { return nil })
	if !errors.Is(err, ErrRedirect) {
		t.Fatalf("err = %v, want redirect refused", err)
	}
	if n := len(foreign.Requests()); n != 0 {
		t.Errorf("foreign host got %d requests", n)
	}
	if len(env.obs.retries) != 0 {
		t.Errorf("a refused redirect was retried: %v", env.obs.retries)
	}
	if !slices.Equal(env.obs.requests, []int{302}) {
		t.Errorf("requests = %v, want the redirect counted once with its status", env.obs.requests)
	}
	if strings.Contains(err.Error(), testToken) || !strings.Contains(err.Error(), foreignSrv.URL+"/steal") {
		t.Errorf("error should name the refused target and no token: %v", err)
	}
}

// A redirect on the Graph host itself is refused too: net/http would otherwise follow ten hops per
// attempt, outside the pacer and the request metric, and every retry would follow ten more.
func TestSameHostRedirectLoopRefused(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			s := &script{}
			srv := httptest.NewTLSServer(s)
			defer srv.Close()
			s.replies = []reply{{status: status, header: map[string]string{"Location": srv.URL + "/beta/auditLogs/signIns?$skiptoken=again"}}}
			env := newTestClient(t, srv, nil)
			err := env.client.SignIns(context.Background(), testQuery, func([]SignIn) error { t.Error("fn called"); return nil })
			var apiErr *APIError
			if !errors.Is(err, ErrRedirect) || !errors.As(err, &apiErr) || apiErr.StatusCode != status {
				t.Fatalf("err = %v, want ErrRedirect with status %d", err, status)
			}
			if n := len(s.Requests()); n != 1 {
				t.Errorf("graph got %d requests, want 1", n)
			}
			if !slices.Equal(env.obs.requests, []int{status}) || len(env.obs.retries) != 0 {
				t.Errorf("requests = %v, retries = %v; want one request counted with its status, no retry", env.obs.requests, env.obs.retries)
			}
		})
	}
}

func TestMalformedRowSkipped(t *testing.T) {
	s := &script{}
	srv := httptest.NewTLSServer(s)
	defer srv.Close()
	s.replies = []reply{{status: 200, body: fixture(t, "page_malformed_row.json", srv.URL)}}
	env := newTestClient(t, srv, nil)
	var pages [][]SignIn
	if err := env.client.SignIns(context.Background(), testQuery, collect(&pages)); err != nil {
		t.Fatalf("SignIns: %v", err)
	}
	if got := ids(pages); !slices.Equal(got, []string{"row-0006", "row-0008"}) {
		t.Errorf("rows = %v", got)
	}
	if env.obs.malformed != 1 {
		t.Errorf("MalformedRows = %d, want 1", env.obs.malformed)
	}
	logs := env.logs.String()
	if n := strings.Count(logs, "\n"); n != 1 {
		t.Errorf("want one log line, got %d:\n%s", n, logs)
	}
	for _, want := range []string{"level=WARN", "skipped=1", "row 1", "/beta/auditLogs/signIns"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q: %s", want, logs)
		}
	}
	if strings.Contains(logs, "user-0007") || strings.Contains(logs, testToken) {
		t.Errorf("log leaks a user id or token: %s", logs)
	}
}

func TestTruncatedPageKeepsEarlierPages(t *testing.T) {
	s := &script{}
	var srv *httptest.Server
	s.replies = []reply{{handler: func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("$skiptoken") == "page2" {
			_, _ = w.Write(fixture(t, "page_truncated.json", srv.URL))
			return
		}
		_, _ = w.Write(fixture(t, "page1.json", srv.URL))
	}}}
	srv = httptest.NewTLSServer(s)
	defer srv.Close()
	env := newTestClient(t, srv, nil)
	var pages [][]SignIn
	err := env.client.SignIns(context.Background(), testQuery, collect(&pages))
	var mpe *MalformedPageError
	if !errors.As(err, &mpe) {
		t.Fatalf("err = %v, want MalformedPageError", err)
	}
	if mpe.Endpoint != "signIns" || !strings.HasSuffix(mpe.URL, "$skiptoken=page2") {
		t.Errorf("MalformedPageError = %+v", mpe)
	}
	if got := ids(pages); !slices.Equal(got, []string{"row-0001", "row-0002"}) {
		t.Errorf("delivered rows = %v, want page 1's", got)
	}
	if n := len(s.Requests()); n != 3 {
		t.Errorf("requests = %d, want 3 (page 1, page 2 twice)", n)
	}
	if !slices.Equal(env.obs.retries, []string{"truncated"}) {
		t.Errorf("Retry = %v", env.obs.retries)
	}
}

func TestFnErrorStopsPaging(t *testing.T) {
	srv, seen := pagedGraph(t)
	env := newTestClient(t, srv, nil)
	stop := errors.New("stop here")
	err := env.client.SignIns(context.Background(), testQuery, func([]SignIn) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v", err)
	}
	if n := len(seen.Requests()); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

func TestGetRawRows(t *testing.T) {
	s := &script{}
	var srv *httptest.Server
	s.replies = []reply{{handler: func(w http.ResponseWriter, r *http.Request) {
		name := "registration_page1.json"
		if r.URL.Query().Get("$skiptoken") == "r2" {
			name = "registration_page2.json"
		}
		_, _ = w.Write(fixture(t, name, srv.URL))
	}}}
	srv = httptest.NewTLSServer(s)
	defer srv.Close()
	env := newTestClient(t, srv, nil)
	var got []string
	err := env.client.Get(context.Background(), "userRegistrationDetails",
		"/v1.0/reports/authenticationMethods/userRegistrationDetails?$select=id,isMfaRegistered", func(rows []json.RawMessage) error {
			for _, r := range rows {
				var v struct{ ID string }
				if err := json.Unmarshal(r, &v); err != nil {
					return err
				}
				got = append(got, v.ID)
			}
			return nil
		})
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !slices.Equal(got, []string{"u1", "u2", "u3"}) {
		t.Errorf("rows = %v", got)
	}
	reqs := s.Requests()
	if len(reqs) != 2 || reqs[0].URL.Query().Get("$select") != "id,isMfaRegistered" || reqs[0].Header.Get("Prefer") != "" {
		t.Errorf("requests = %v", reqs)
	}
	if err := env.client.Get(context.Background(), "x", "no-slash", func([]json.RawMessage) error { return nil }); err == nil {
		t.Error("Get accepted a path without a leading slash")
	}
}

func TestSignInsPath(t *testing.T) {
	from := time.Date(2026, 11, 25, 1, 0, 0, 999_000_000, time.FixedZone("CET", 3600))
	to := from.Add(5 * time.Minute) // 00:05:00.999 UTC
	tests := []struct {
		name       string
		q          SignInQuery
		wantFilter string
		wantErr    string
	}{
		{"both types", testQuery, wantFilter, ""},
		{"truncated to seconds, UTC", SignInQuery{From: from, To: to, EventTypes: []string{"interactiveUser"}},
			"createdDateTime ge 2026-11-25T00:00:00Z and createdDateTime le 2026-11-25T00:05:00Z and signInEventTypes/any(t: t eq 'interactiveUser')", ""},
		{"no event types", SignInQuery{From: testQuery.From, To: testQuery.To},
			"createdDateTime ge 2026-11-25T00:00:00Z and createdDateTime le 2026-11-25T00:05:00Z", ""},
		{"injection", SignInQuery{From: testQuery.From, To: testQuery.To, EventTypes: []string{"x' or 1 eq 1"}}, "", "invalid sign-in event type"},
		{"reversed", SignInQuery{From: testQuery.To, To: testQuery.From}, "", "before it starts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := signInsPath(tt.q)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(p)
			if err != nil {
				t.Fatal(err)
			}
			if u.Path != "/beta/auditLogs/signIns" || u.Query().Get("$filter") != tt.wantFilter {
				t.Errorf("path %s, filter %q, want %q", u.Path, u.Query().Get("$filter"), tt.wantFilter)
			}
		})
	}
}

// Both bounds are inclusive, so a window whose ends fall in the same second still reads that
// second (rows created exactly at it): one request, for [at, at].
func TestOneSecondWindowIsRead(t *testing.T) {
	s := &script{replies: []reply{{status: 200, body: []byte(`{"value":[]}`)}}}
	srv := httptest.NewTLSServer(s)
	defer srv.Close()
	env := newTestClient(t, srv, nil)
	at := testQuery.From
	pages := 0
	if err := env.client.SignIns(context.Background(), SignInQuery{From: at, To: at.Add(500 * time.Millisecond)}, func([]SignIn) error {
		pages++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	reqs := s.Requests()
	if len(reqs) != 1 || pages != 1 {
		t.Fatalf("requests = %d, pages = %d; want 1 and 1", len(reqs), pages)
	}
	want := "createdDateTime ge 2026-11-25T00:00:00Z and createdDateTime le 2026-11-25T00:00:00Z"
	if got := reqs[0].URL.Query().Get("$filter"); got != want {
		t.Errorf("$filter = %q, want %q", got, want)
	}
}

func TestContextCancelStopsRetrying(t *testing.T) {
	s := &script{replies: []reply{{status: 503}}}
	srv := httptest.NewTLSServer(s)
	defer srv.Close()
	env := newTestClient(t, srv, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := env.client.SignIns(ctx, testQuery, func([]SignIn) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("requests = %d", n)
	}
}

func TestNewValidates(t *testing.T) {
	cred := staticCred{token: "t"}
	tests := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"public cloud", Options{GraphEndpoint: "https://graph.microsoft.com", Credential: cred}, true},
		{"trailing slash trimmed", Options{GraphEndpoint: "https://graph.microsoft.us/", Credential: cred}, true},
		{"loopback http", Options{GraphEndpoint: "http://127.0.0.1:8080", Credential: cred}, true},
		{"remote http", Options{GraphEndpoint: "http://graph.example", Credential: cred}, false},
		{"no credential", Options{GraphEndpoint: "https://graph.microsoft.com"}, false},
		{"no host", Options{GraphEndpoint: "graph.microsoft.com", Credential: cred}, false},
		{"query", Options{GraphEndpoint: "https://graph.microsoft.com?x=1", Credential: cred}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.o)
			if (err == nil) != tt.ok {
				t.Fatalf("New err = %v, want ok=%v", err, tt.ok)
			}
			if c != nil && strings.HasSuffix(c.scope, "//.default") {
				t.Errorf("scope = %q", c.scope)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"garbage", 0, false},
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{"-5", 0, true},
		{"301", 5 * time.Minute, true},
		{"99999999999999999", 5 * time.Minute, true},
		{"Wed, 25 Nov 2026 00:01:00 GMT", time.Minute, true},
		{"Tue, 24 Nov 2026 23:00:00 GMT", 0, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}
