package simtenant

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is the injected clock: tests move time explicitly instead of
// sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var epoch = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)

func start(t *testing.T, opts Options) *Tenant {
	t.Helper()
	tn, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := tn.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return tn
}

func postToken(t *testing.T, tn *Tenant, tenant string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := tn.HTTPClient().PostForm(tn.AuthorityHost()+tenant+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decoding token response: %v", err)
	}
	return resp.StatusCode, body
}

func secretForm(tn *Tenant) url.Values {
	return url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {tn.ClientID()},
		"client_secret": {tn.ClientSecret()},
		"scope":         {tn.GraphEndpoint() + "/.default openid offline_access profile"},
	}
}

func token(t *testing.T, tn *Tenant) string {
	t.Helper()
	status, body := postToken(t, tn, tn.TenantID(), secretForm(tn))
	if status != http.StatusOK {
		t.Fatalf("token: status %d body %v", status, body)
	}
	return body["access_token"].(string)
}

type response struct {
	status int
	header http.Header
	body   []byte
	err    error // error reading the body (truncation)
}

func get(t *testing.T, tn *Tenant, rawURL, tok string, hdr map[string]string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := tn.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

// signInsURL builds a sign-ins URL from OData options given as key, value pairs.
func signInsURL(tn *Tenant, kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, kv[i]+"="+url.QueryEscape(kv[i+1]))
	}
	u := tn.GraphEndpoint() + "/beta/auditLogs/signIns"
	if len(parts) > 0 {
		u += "?" + strings.Join(parts, "&")
	}
	return u
}

type page struct {
	Context  string            `json:"@odata.context"`
	Value    []json.RawMessage `json:"value"`
	NextLink string            `json:"@odata.nextLink"`
}

func decodePage(t *testing.T, r response) page {
	t.Helper()
	if r.status != http.StatusOK || r.err != nil {
		t.Fatalf("want a 200 page, got %d (%v): %s", r.status, r.err, r.body)
	}
	var p page
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decoding page: %v", err)
	}
	return p
}

// rowHead is the part of a served row the tests inspect.
type rowHead struct {
	ID              string    `json:"id"`
	CreatedDateTime time.Time `json:"createdDateTime"`
	TokenIssuerType string    `json:"tokenIssuerType"`
	IsInteractive   bool      `json:"isInteractive"`
}

func ids(t *testing.T, p page) []string {
	t.Helper()
	var out []string
	for _, raw := range p.Value {
		var h rowHead
		if err := json.Unmarshal(raw, &h); err != nil {
			t.Fatalf("decoding row: %v", err)
		}
		out = append(out, h.ID)
	}
	return out
}

// readAll follows next links from first and returns every row.
func readAll(t *testing.T, tn *Tenant, first, tok string, hdr map[string]string) []json.RawMessage {
	t.Helper()
	var rows []json.RawMessage
	for next := first; next != ""; {
		p := decodePage(t, get(t, tn, next, tok, hdr))
		rows = append(rows, p.Value...)
		next = p.NextLink
	}
	return rows
}

// graphErrorCode extracts error.code from a Graph error body.
func graphErrorCode(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Error struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			InnerError struct {
				RequestID string `json:"request-id"`
				Date      string `json:"date"`
			} `json:"innerError"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not Graph's error JSON: %v: %s", err, body)
	}
	if e.Error.InnerError.RequestID == "" || e.Error.InnerError.Date == "" {
		t.Errorf("error body lacks innerError request-id/date: %s", body)
	}
	return e.Error.Code
}
