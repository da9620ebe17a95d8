package graph

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// fakeClock advances its own time instead of sleeping, and records every sleep, so tests observe
// holds and backoffs exactly and run instantly.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, d)
	if d > 0 {
		f.now = f.now.Add(d)
	}
	return nil
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// recorder is an Observer that keeps every call.
type recorder struct {
	mu        sync.Mutex
	requests  []int
	throttled []time.Duration
	retries   []string
	malformed int
}

func (r *recorder) Request(_ string, code int, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, code)
}

func (r *recorder) Throttled(_ string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.throttled = append(r.throttled, d)
}

func (r *recorder) Retry(_ string, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries = append(r.retries, reason)
}

func (r *recorder) MalformedRows(_ string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.malformed += n
}

type staticCred struct{ token string }

func (s staticCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: s.token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

const testToken = "test-token-abc123"

type testEnv struct {
	client *Client
	clock  *fakeClock
	obs    *recorder
	logs   *bytes.Buffer
}

// newTestClient builds a client for srv with a fake clock shared by client and pacer, a recorder,
// and a warn-level text log captured in a buffer.
func newTestClient(t *testing.T, srv *httptest.Server, mod func(*Options)) testEnv {
	t.Helper()
	env := testEnv{clock: newFakeClock(), obs: &recorder{}, logs: &bytes.Buffer{}}
	pacer := NewPacer(5, 10*time.Second)
	pacer.clock = env.clock
	o := Options{
		GraphEndpoint:  srv.URL,
		Credential:     staticCred{token: testToken},
		HTTPClient:     srv.Client(),
		Pacer:          pacer,
		Observer:       env.obs,
		Logger:         slog.New(slog.NewTextHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		RetryBaseDelay: time.Millisecond,
	}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c.clock = env.clock
	env.client = c
	return env
}

// fixture reads testdata/name, replacing {{BASE}} with base so next links are absolute URLs of the
// test server, as Graph's are.
func fixture(t testing.TB, name, base string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.ReplaceAll(string(b), "{{BASE}}", base))
}

// reply is one scripted response.
type reply struct {
	status  int
	header  map[string]string
	body    []byte
	handler http.HandlerFunc // overrides everything else when set
}

// script serves replies in order (the last one repeats) and records the requests it saw.
type script struct {
	mu      sync.Mutex
	replies []reply
	seen    []*http.Request
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := min(len(s.seen), len(s.replies)-1)
	s.seen = append(s.seen, r.Clone(context.Background()))
	rep := s.replies[i]
	s.mu.Unlock()
	if rep.handler != nil {
		rep.handler(w, r)
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

func (s *script) Requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.seen...)
}

// collect gathers every row a SignIns call delivers, page by page.
func collect(pages *[][]SignIn) func([]SignIn) error {
	return func(p []SignIn) error {
		*pages = append(*pages, p)
		return nil
	}
}

func ids(pages [][]SignIn) []string {
	var out []string
	for _, p := range pages {
		for _, s := range p {
			out = append(out, s.ID)
		}
	}
	return out
}

var testQuery = SignInQuery{
	From:       time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC),
	To:         time.Date(2026, 11, 25, 0, 5, 0, 0, time.UTC),
	EventTypes: []string{"interactiveUser", "nonInteractiveUser"},
}
