package scrapecache

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// renderer is a wrapped handler whose n-th rendering says "rendering n"; it can be held until
// released, and told to fail.
type renderer struct {
	calls   atomic.Int64
	hold    chan struct{} // nil: answer at once
	started chan struct{}
	fail    atomic.Bool
}

func (r *renderer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	n := r.calls.Add(1)
	if r.started != nil {
		r.started <- struct{}{}
	}
	if r.hold != nil {
		<-r.hold
	}
	if r.fail.Load() {
		http.Error(w, "gather failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	w.Header().Set("X-Accept", req.Header.Get("Accept"))
	fmt.Fprintf(w, "rendering %d", n)
}

func get(t *testing.T, h http.Handler, accept string) (int, string, http.Header) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", accept)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body), rec.Header()
}

const textAccept = "text/plain;version=0.0.4"

// Requests that arrive while a rendering runs wait for it and share it: one rendering for all.
func TestConcurrentRequestsShareOneRendering(t *testing.T) {
	inner := &renderer{hold: make(chan struct{}), started: make(chan struct{}, 100)}
	clk := &clock{now: time.Unix(1000, 0)}
	h := New(inner, time.Second)
	h.now = clk.Now
	const n = 20
	bodies := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, body, _ := get(t, h, textAccept)
			bodies <- body
		}()
	}
	<-inner.started // the first request started the rendering; the others queue behind it
	// Give the other requests time to arrive; whether they all did does not change what is
	// checked below (a late one finds the finished rendering, younger than maxAge).
	time.Sleep(50 * time.Millisecond)
	close(inner.hold)
	wg.Wait()
	close(bodies)
	for b := range bodies {
		if b != "rendering 1" {
			t.Errorf("a request got %q, want the shared %q", b, "rendering 1")
		}
	}
	if c := inner.calls.Load(); c != 1 {
		t.Errorf("%d renderings for %d concurrent requests, want 1", c, n)
	}
}

// A rendering is served until it is maxAge old; past that a request waits for a new one.
func TestRenderingAges(t *testing.T) {
	inner := &renderer{}
	clk := &clock{now: time.Unix(1000, 0)}
	h := New(inner, time.Second)
	h.now = clk.Now
	h.schedule = func(time.Duration, func()) {} // renewals of hot entries: TestHotEntriesAreRenewed
	for _, step := range []struct {
		after time.Duration
		want  string
	}{
		{0, "rendering 1"},                      // none yet: rendered for this request
		{400 * time.Millisecond, "rendering 1"}, // 0.4 s old: shared
		{500 * time.Millisecond, "rendering 1"}, // 0.9 s old: shared
		{200 * time.Millisecond, "rendering 2"}, // 1.1 s old: too old, this request waits for a new one
		{10 * time.Millisecond, "rendering 2"},
	} {
		clk.Add(step.after)
		if _, body, _ := get(t, h, textAccept); body != step.want {
			t.Errorf("after %v more: %q, want %q", step.after, body, step.want)
		}
	}
	if c := inner.calls.Load(); c != 2 {
		t.Errorf("%d renderings, want 2", c)
	}
}

// Failed renderings are not shared: each request gets its own attempt, and its error.
func TestFailuresAreNotShared(t *testing.T) {
	inner := &renderer{}
	inner.fail.Store(true)
	h := New(inner, time.Second)
	for i := range 3 {
		if code, _, _ := get(t, h, textAccept); code != http.StatusInternalServerError {
			t.Errorf("request %d: HTTP %d, want the wrapped handler's 500", i, code)
		}
	}
	// The first waited for a shared rendering that failed, then rendered for itself; each
	// later one does the same: never a failure served from a cache.
	if c := inner.calls.Load(); c != 6 {
		t.Errorf("%d renderings for 3 requests, want 6 (a shared attempt and an own one each)", c)
	}
	inner.fail.Store(false)
	if code, body, _ := get(t, h, textAccept); code != http.StatusOK || body != "rendering 7" {
		t.Errorf("after recovery: %d %q", code, body)
	}
}

// Each negotiated format has its rendering: an OpenMetrics scraper never gets the text format.
func TestFormatsAreRenderedApart(t *testing.T) {
	inner := &renderer{}
	h := New(inner, time.Minute)
	_, _, hdrText := get(t, h, textAccept)
	om := "application/openmetrics-text;version=1.0.0"
	_, _, hdrOM := get(t, h, om)
	if hdrText.Get("X-Accept") != textAccept || hdrOM.Get("X-Accept") != om {
		t.Errorf("renderings made for Accept %q and %q, want %q and %q", hdrText.Get("X-Accept"), hdrOM.Get("X-Accept"), textAccept, om)
	}
	if c := inner.calls.Load(); c != 2 {
		t.Errorf("%d renderings for two formats, want 2", c)
	}
	_, _, again := get(t, h, om)
	if again.Get("X-Accept") != om || inner.calls.Load() != 2 {
		t.Errorf("second OpenMetrics request: rendering for %q, %d renderings", again.Get("X-Accept"), inner.calls.Load())
	}
}

// While requests come less than maxAge apart, a rendering is renewed every maxAge/2 without a
// request having to wait; once they stop coming, renewals stop.
func TestHotEntriesAreRenewed(t *testing.T) {
	inner := &renderer{}
	clk := &clock{now: time.Unix(1000, 0)}
	h := New(inner, time.Second)
	h.now = clk.Now
	var mu sync.Mutex
	var timers []func()
	h.schedule = func(d time.Duration, f func()) {
		if d != 100*time.Millisecond {
			t.Errorf("renewal tick after %v, want maxAge/renewTicks", d)
		}
		mu.Lock()
		timers = append(timers, f)
		mu.Unlock()
	}
	fire := func() int {
		mu.Lock()
		fs := timers
		timers = nil
		mu.Unlock()
		for _, f := range fs {
			f()
		}
		return len(fs)
	}
	waitIdle := func() {
		for {
			h.mu.Lock()
			idle := true
			for _, e := range h.entries {
				idle = idle && e.pending == nil
			}
			h.mu.Unlock()
			if idle {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	get(t, h, textAccept) // a lone request: rendered for it, not hot
	waitIdle()
	if n := fire(); n != 0 {
		t.Fatalf("%d renewals after a lone request, want none", n)
	}
	clk.Add(100 * time.Millisecond)
	get(t, h, textAccept) // a second one within maxAge: hot, renewal ticks start
	clk.Add(100 * time.Millisecond)
	if n := fire(); n != 1 { // 0.2 s old: not yet
		t.Fatalf("%d renewal ticks scheduled when the entry became hot, want 1", n)
	}
	if c := inner.calls.Load(); c != 1 {
		t.Fatalf("renewed at 0.2 s old: %d renderings", c)
	}
	clk.Add(300 * time.Millisecond)
	if n := fire(); n != 1 { // 0.5 s old: renewed
		t.Fatalf("%d renewal ticks, want 1", n)
	}
	waitIdle()
	for i := range 5 { // renewals keep the rendering young while it stays hot
		clk.Add(500 * time.Millisecond)
		if n := fire(); n != 1 {
			t.Fatalf("renewal %d: %d timers fired, want 1", i, n)
		}
		waitIdle()
	}
	if c := inner.calls.Load(); c != 7 {
		t.Errorf("%d renderings, want 7 (1 + 1 + 5 renewals)", c)
	}
	if _, body, _ := get(t, h, textAccept); body != "rendering 7" {
		t.Errorf("served %q, want the latest renewal", body)
	}
	clk.Add(keepWarm + time.Second) // no request for longer than keepWarm: renewals stop
	fire()
	waitIdle()
	if n := fire(); n != 0 {
		t.Errorf("%d renewals after the requests stopped, want none", n)
	}
}

// A rendering made before the version moved is not served: the request waits for a new one.
func TestVersionChangeIsNeverServedStale(t *testing.T) {
	inner := &renderer{}
	var version atomic.Uint64
	h := New(inner, time.Minute).WithVersion(version.Load)
	get(t, h, textAccept)
	if _, body, _ := get(t, h, textAccept); body != "rendering 1" {
		t.Errorf("same version: %q, want the shared rendering 1", body)
	}
	version.Add(1)
	if _, body, _ := get(t, h, textAccept); body != "rendering 2" {
		t.Errorf("after the version moved: %q, want a new rendering", body)
	}
}

// After Invalidate no earlier rendering is served, not even one in progress at the time.
func TestInvalidate(t *testing.T) {
	inner := &renderer{}
	h := New(inner, time.Minute)
	get(t, h, textAccept)
	h.Invalidate()
	if _, body, _ := get(t, h, textAccept); body != "rendering 2" {
		t.Errorf("after Invalidate: %q, want a new rendering", body)
	}
	// A rendering that started before Invalidate is not kept.
	inner.hold, inner.started = make(chan struct{}), make(chan struct{}, 10)
	h.Invalidate()
	done := make(chan string)
	go func() { _, body, _ := get(t, h, textAccept); done <- body }()
	<-inner.started
	h.Invalidate()
	close(inner.hold)
	<-done // the waiting request gets an own rendering (rendering 4) after the shared one was dropped
	if _, body, _ := get(t, h, textAccept); body == "rendering 3" {
		t.Errorf("served the rendering started before Invalidate")
	}
}
