package graphclient

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
)

// seenRequest is one request as the client sent it, before any redirection.
type seenRequest struct {
	method, url string
	scope       string // the token request's scope parameter
	bearer      bool
}

// cloudRecorder records every request the client makes and serves it from the simulated tenant,
// which stands in for the cloud's authority and Graph: the request goes to the simulator, and
// the simulator's address in the answer (token endpoint, discovery metadata, next links) is
// replaced by the host the client asked, so the client keeps talking to the cloud's hosts.
// The token request's scope names the cloud's Graph, which the simulator does not know; it is
// translated on the way (and recorded before).
type cloudRecorder struct {
	next       http.RoundTripper
	sim        *url.URL
	cloudGraph string // e.g. https://graph.microsoft.us
	mu         sync.Mutex
	seen       []seenRequest
}

func (r *cloudRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := seenRequest{method: req.Method, url: req.URL.String(), bearer: strings.HasPrefix(req.Header.Get("Authorization"), "Bearer ")}
	origin := req.URL.Scheme + "://" + req.URL.Host
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = r.sim.Scheme, r.sim.Host, r.sim.Host
	if req.Body != nil && req.Method == http.MethodPost {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		rec.scope = form.Get("scope")
		form.Set("scope", strings.ReplaceAll(rec.scope, r.cloudGraph, r.sim.String()))
		encoded := form.Encode()
		out.Body = io.NopCloser(strings.NewReader(encoded))
		out.ContentLength = int64(len(encoded))
		out.GetBody = nil
		out.Header.Set("Content-Length", strconv.Itoa(len(encoded)))
	}
	r.mu.Lock()
	r.seen = append(r.seen, rec)
	r.mu.Unlock()
	resp, err := r.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	body = bytes.ReplaceAll(body, []byte(r.sim.String()), []byte(origin))
	body = bytes.ReplaceAll(body, []byte(r.sim.Host), []byte(req.URL.Host))
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	resp.Request = req
	return resp, nil
}

func (r *cloudRecorder) requests() []seenRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

// For each Microsoft cloud, the token is requested from that cloud's login authority, for
// that cloud's Graph, and only that cloud's hosts are contacted. The expected hosts are the
// sovereign-cloud table of ../shared/reference/graph-api.md, written out here by hand.
func TestSovereignClouds(t *testing.T) {
	tests := []struct {
		cloud, loginHost, graphHost string
	}{
		{"public", "login.microsoftonline.com", "graph.microsoft.com"},
		{"usgov", "login.microsoftonline.us", "graph.microsoft.us"},
		{"usgov_dod", "login.microsoftonline.us", "dod-graph.microsoft.us"},
		{"china", "login.chinacloudapi.cn", "microsoftgraph.chinacloudapi.cn"},
	}
	for _, tt := range tests {
		t.Run(tt.cloud, func(t *testing.T) {
			e := newTestEnv(t)
			t.Setenv("EXPORTER_TEST_SECRET", e.sim.ClientSecret())
			text := "tenants:\n  - name: sim\n    tenant_id: " + e.sim.TenantID() + "\n    cloud: " + tt.cloud +
				"\n    ca_file: " + e.caFile + "\n    credential:\n" +
				indent("type: client_secret", "client_id: "+e.sim.ClientID(), "client_secret_env: EXPORTER_TEST_SECRET")
			cfg, err := config.Parse([]byte(text), filepath.Join(e.dir, "config.yml"))
			if err != nil {
				t.Fatal(err)
			}
			sim, _ := url.Parse(e.sim.GraphEndpoint())
			rec := &cloudRecorder{sim: sim, cloudGraph: "https://" + tt.graphHost}
			client, err := New(cfg.Tenants[0], Options{wrapTransport: func(next http.RoundTripper) http.RoundTripper {
				rec.next = next
				return rec
			}})
			if err != nil {
				t.Fatal(err)
			}
			if err := read(client); err != nil {
				t.Fatalf("read: %v", err)
			}
			for _, r := range rec.requests() {
				t.Logf("%s %s", r.method, r.url)
			}
			var tokenRequests, graphRequests int
			for _, r := range rec.requests() {
				u, err := url.Parse(r.url)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case u.Scheme != "https":
					t.Errorf("%s %s: not https", r.method, r.url)
				case u.Host == tt.loginHost && r.method == http.MethodPost:
					tokenRequests++
					if u.Path != "/"+e.sim.TenantID()+"/oauth2/v2.0/token" {
						t.Errorf("token request to %s", r.url)
					}
					var resources []string
					for _, s := range strings.Fields(r.scope) {
						if s != "openid" && s != "profile" && s != "offline_access" {
							resources = append(resources, s)
						}
					}
					if want := []string{"https://" + tt.graphHost + "/.default"}; !slices.Equal(resources, want) {
						t.Errorf("token scope %q, want the resource %v", r.scope, want)
					}
				case u.Host == tt.loginHost:
					// Instance discovery and the OpenID configuration, on the cloud's own authority.
				case u.Host == tt.graphHost:
					graphRequests++
					if !r.bearer {
						t.Errorf("Graph request without a bearer token: %s", r.url)
					}
				default:
					t.Errorf("%s %s: a host outside the %s cloud", r.method, r.url, tt.cloud)
				}
			}
			if tokenRequests != 1 || graphRequests != 1 {
				t.Errorf("%d token requests and %d Graph requests, want 1 and 1: %+v", tokenRequests, graphRequests, rec.requests())
			}
		})
	}
}
