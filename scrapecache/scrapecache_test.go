package scrapecache

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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
	w.Header().Set("X-Accept-Encoding", req.Header.Get("Accept-Encoding"))
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
	bodies := getMany(t, h, n)
	<-inner.started // the first request started the rendering; the others queue behind it
	// Give the other requests time to arrive; whether they all did does not change what is
	// checked below (a late one finds the finished rendering, younger than maxAge).
	time.Sleep(50 * time.Millisecond)
	close(inner.hold)
	for _, b := range bodies() {
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

// ticks replaces a Handler's timers: renewal ticks run when fired, and must come every
// maxAge/100.
type ticks struct {
	t      *testing.T
	h      *Handler
	mu     sync.Mutex
	timers []func()
}

func newTicks(t *testing.T, h *Handler) *ticks {
	k := &ticks{t: t, h: h}
	h.schedule = func(d time.Duration, f func()) {
		if d != h.maxAge/100 {
			t.Errorf("renewal tick after %v, want maxAge/100 (%v)", d, h.maxAge/100)
		}
		k.mu.Lock()
		k.timers = append(k.timers, f)
		k.mu.Unlock()
	}
	return k
}

// fire runs the scheduled ticks and returns how many there were.
func (k *ticks) fire() int {
	k.mu.Lock()
	fs := k.timers
	k.timers = nil
	k.mu.Unlock()
	for _, f := range fs {
		f()
	}
	return len(fs)
}

// waitIdle waits until no rendering runs.
func (k *ticks) waitIdle() {
	for {
		k.h.mu.Lock()
		idle := true
		for _, e := range k.h.entries {
			idle = idle && e.pending == nil
		}
		k.h.mu.Unlock()
		if idle {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// While requests come less than maxAge apart, a rendering is renewed once it is 3/4 maxAge old
// without a request having to wait; once they stop coming, renewals stop.
func TestHotEntriesAreRenewed(t *testing.T) {
	inner := &renderer{}
	clk := &clock{now: time.Unix(1000, 0)}
	h := New(inner, time.Second)
	h.now = clk.Now
	tk := newTicks(t, h)
	fire, waitIdle := tk.fire, tk.waitIdle
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
	if n := fire(); n != 1 { // 0.5 s old: not yet either
		t.Fatalf("%d renewal ticks, want 1", n)
	}
	if c := inner.calls.Load(); c != 1 {
		t.Fatalf("renewed at 0.5 s old: %d renderings, want 1 (renewed at 3/4 maxAge)", c)
	}
	clk.Add(250 * time.Millisecond)
	if n := fire(); n != 1 { // 0.75 s old: renewed
		t.Fatalf("%d renewal ticks, want 1", n)
	}
	waitIdle()
	for i := range 5 { // renewals keep the rendering young while it stays hot
		clk.Add(750 * time.Millisecond)
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

// getMany sends n requests for textAccept at once; the function it returns waits for them and
// gives their bodies.
func getMany(t *testing.T, h *Handler, n int) func() []string {
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
	return func() []string {
		wg.Wait()
		close(bodies)
		var out []string
		for b := range bodies {
			out = append(out, b)
		}
		return out
	}
}

// versioned returns a handler with a one-second maxAge over inner, on a fake clock and ticks, whose
// renderings are valid while version stays.
func versioned(t *testing.T) (*renderer, *clock, *atomic.Uint64, *Handler, *ticks) {
	inner := &renderer{}
	clk := &clock{now: time.Unix(1000, 0)}
	version := new(atomic.Uint64)
	h := New(inner, time.Second).WithVersion(version.Load)
	h.now = clk.Now
	return inner, clk, version, h, newTicks(t, h)
}

// hotEntry makes textAccept's entry hot (two requests less than maxAge apart) and lets its
// first tick fire with nothing due.
func hotEntry(t *testing.T, h *Handler, clk *clock, tk *ticks) {
	t.Helper()
	get(t, h, textAccept)
	tk.waitIdle()
	clk.Add(100 * time.Millisecond)
	get(t, h, textAccept)
	if n := tk.fire(); n != 1 {
		t.Fatalf("%d ticks once hot, want 1", n)
	}
}

// A hot entry renders again at the first tick (maxAge/100) after the version moved, before any
// request asks: the first request after a poll ended finds the new rendering made.
func TestVersionMoveRendersHotEntryAtOnce(t *testing.T) {
	inner, clk, version, h, tk := versioned(t)
	hotEntry(t, h, clk, tk)
	clk.Add(10 * time.Millisecond)
	tk.fire()
	if c := inner.calls.Load(); c != 1 {
		t.Fatalf("%d renderings before the version moved, want 1", c)
	}
	version.Add(1)
	clk.Add(10 * time.Millisecond)
	if n := tk.fire(); n != 1 {
		t.Fatalf("%d ticks, want 1", n)
	}
	tk.waitIdle()
	if c := inner.calls.Load(); c != 2 {
		t.Fatalf("%d renderings after the version moved and a tick, want 2 (rendered without a request)", c)
	}
	if _, body, _ := get(t, h, textAccept); body != "rendering 2" {
		t.Errorf("after the version moved: %q, want the rendering the tick made", body)
	}
	if c := inner.calls.Load(); c != 2 {
		t.Errorf("%d renderings, want 2: the request waited for none", c)
	}
	// A rendering that started before the version moved and ended after is not served: the
	// entry renders again as soon as it ends.
	inner.hold, inner.started = make(chan struct{}), make(chan struct{}, 10)
	version.Add(1)
	clk.Add(10 * time.Millisecond)
	tk.fire() // starts rendering 3 at the current version
	<-inner.started
	version.Add(1) // moves while rendering 3 runs
	close(inner.hold)
	tk.waitIdle()
	if c := inner.calls.Load(); c != 4 {
		t.Errorf("%d renderings once rendering 3 ended behind the version, want 4 (rendered again at once)", c)
	}
	inner.hold, inner.started = nil, nil
	clk.Add(10 * time.Millisecond)
	tk.fire()
	tk.waitIdle()
	if _, body, _ := get(t, h, textAccept); body != "rendering 4" {
		t.Errorf("after the version moved amid a rendering: %q, want rendering 4", body)
	}
}

// A failed rendering is not retried at every tick (100 a second): renewal ticks wait until a
// renewal would be due (3/4 maxAge); requests still get their own attempt.
func TestFailedRenderingIsNotRetriedEveryTick(t *testing.T) {
	inner, clk, version, h, tk := versioned(t)
	hotEntry(t, h, clk, tk)
	inner.fail.Store(true)
	version.Add(1)
	clk.Add(10 * time.Millisecond)
	tk.fire() // renders, fails
	tk.waitIdle()
	if c := inner.calls.Load(); c != 2 {
		t.Fatalf("%d renderings, want 2", c)
	}
	for range 10 { // 0.5 s of ticks: no retry
		clk.Add(50 * time.Millisecond)
		tk.fire()
		tk.waitIdle()
	}
	if c := inner.calls.Load(); c != 2 {
		t.Fatalf("%d renderings 0.5 s after a failed one, want 2 (no retry before 3/4 maxAge)", c)
	}
	inner.fail.Store(false)
	clk.Add(250 * time.Millisecond)
	tk.fire() // 0.75 s after the failed one: retried
	tk.waitIdle()
	if _, body, _ := get(t, h, textAccept); body != "rendering 3" {
		t.Errorf("after the retry: %q, want rendering 3", body)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for _, c := range []struct {
		values []string
		want   bool
	}{
		{nil, false},
		{[]string{""}, false},
		{[]string{"gzip"}, true}, // Prometheus
		{[]string{"GZIP"}, true},
		{[]string{"gzip, deflate, br, zstd"}, true}, // a browser
		{[]string{"deflate", "gzip"}, true},         // two header lines
		{[]string{"identity"}, false},
		{[]string{"*"}, false}, // identity wins a tie, as in promhttp
		{[]string{"gzip, identity"}, false},
		{[]string{"gzip;q=1.0, identity; q=0.5, *;q=0"}, true},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip; q=0.0"}, false},
		{[]string{"*;q=0"}, false},
		{[]string{"identity;q=0.5, gzip;q=0.8"}, true},
		{[]string{"zstd"}, false},
		{[]string{"x-gzip"}, false},
	} {
		if got := acceptsGzip(c.values); got != c.want {
			t.Errorf("Accept-Encoding %q: acceptsGzip %v, want %v", c.values, got, c.want)
		}
	}
}

// bigRenderer answers an exposition of some size, so that compression shows.
type bigRenderer struct {
	calls atomic.Int64
	gzip  bool // compresses itself, setting Content-Encoding
}

func (r *bigRenderer) body() []byte {
	var b strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&b, "entra_signins_total{tenant=\"t\",outcome=\"o%d\"} %d\n", i%37, i*7)
	}
	return []byte(b.String())
}

func (r *bigRenderer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.calls.Add(1)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	w.Header().Add("Vary", "Accept")
	w.Header().Set("X-Accept-Encoding", req.Header.Get("Accept-Encoding"))
	if r.gzip {
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		_, _ = zw.Write(r.body())
		_ = zw.Close()
		return
	}
	_, _ = w.Write(r.body())
}

// Every request gets the one uncompressed rendering, compressed if it accepts gzip, with its
// Content-Length; HEAD gets the headers alone.
func TestServedEncodings(t *testing.T) {
	inner := &bigRenderer{}
	h := New(inner, time.Minute)
	want := inner.body()
	for _, c := range []struct {
		method, encoding string
		gzip             bool
	}{
		{http.MethodGet, "gzip", true},
		{http.MethodGet, "", false},
		{http.MethodGet, "identity", false},
		{http.MethodGet, "gzip;q=0", false},
		{http.MethodGet, "gzip, deflate, br", true},
		{http.MethodHead, "gzip", true},
		{http.MethodHead, "", false},
	} {
		name := c.method + " " + c.encoding
		req := httptest.NewRequest(c.method, "/metrics", nil)
		req.Header.Set("Accept", textAccept)
		if c.encoding != "" {
			req.Header.Set("Accept-Encoding", c.encoding)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		hdr, body := rec.Header(), rec.Body.Bytes()
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: HTTP %d", name, rec.Code)
		}
		if got := hdr.Get("X-Accept-Encoding"); got != "" {
			t.Errorf("%s: rendered with Accept-Encoding %q, want none (compressed here)", name, got)
		}
		if !varies(hdr, "Accept-Encoding") || !varies(hdr, "Accept") {
			t.Errorf("%s: Vary %q, want Accept and Accept-Encoding", name, hdr.Values("Vary"))
		}
		wantEncoding := ""
		if c.gzip {
			wantEncoding = "gzip"
		}
		if got := hdr.Get("Content-Encoding"); got != wantEncoding {
			t.Errorf("%s: Content-Encoding %q, want %q", name, got, wantEncoding)
		}
		if c.method == http.MethodHead {
			if len(body) != 0 {
				t.Errorf("%s: %d bytes of body, want none", name, len(body))
			}
			// Content-Length is the GET's.
			n, _ := strconv.Atoi(hdr.Get("Content-Length"))
			if !c.gzip && n != len(want) || c.gzip && (n == 0 || n >= len(want)) {
				t.Errorf("%s: Content-Length %d for %d uncompressed bytes", name, n, len(want))
			}
			continue
		}
		if got := hdr.Get("Content-Length"); got != strconv.Itoa(len(body)) {
			t.Errorf("%s: Content-Length %q for %d bytes", name, got, len(body))
		}
		if c.gzip {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if !bytes.Equal(body, want) {
			t.Errorf("%s: body (%d bytes, decompressed) is not the rendering (%d bytes)", name, len(body), len(want))
		}
	}
	if c := inner.calls.Load(); c != 1 {
		t.Errorf("%d renderings, want 1 shared by every encoding", c)
	}
}

// A wrapped handler that compresses itself is served as it answered, never compressed twice.
func TestEncodedRenderingServedAsIs(t *testing.T) {
	inner := &bigRenderer{gzip: true}
	h := New(inner, time.Minute)
	for _, enc := range []string{"gzip", ""} {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept-Encoding", enc)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Header().Get("Content-Encoding"); got != "gzip" {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want the wrapped handler's gzip", enc, got)
		}
		if got := rec.Header().Get("Content-Length"); got != strconv.Itoa(rec.Body.Len()) {
			t.Errorf("Accept-Encoding %q: Content-Length %q for %d bytes", enc, got, rec.Body.Len())
		}
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(body, inner.body()) {
			t.Errorf("Accept-Encoding %q: not the rendering compressed once (%v)", enc, err)
		}
	}
}

// Through net/http and promhttp, as the exporter serves: the gzip body decompresses to exactly
// what promhttp renders uncompressed, a response has a Content-Length (not chunked), HEAD has
// no body.
func TestPromhttpOverHTTP(t *testing.T) {
	reg := prometheus.NewRegistry()
	cv := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "entra_test_total", Help: "A test."}, []string{"n"})
	reg.MustRegister(cv)
	for i := range 3000 {
		cv.WithLabelValues(strconv.Itoa(i)).Add(float64(i))
	}
	prom := promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
	srv := httptest.NewServer(New(prom, time.Minute))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	do := func(method, encoding string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+"/metrics", nil)
		req.Header.Set("Accept", textAccept)
		if encoding != "" {
			req.Header.Set("Accept-Encoding", encoding)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	direct := httptest.NewRecorder()
	dreq := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	dreq.Header.Set("Accept", textAccept)
	prom.ServeHTTP(direct, dreq)

	plain, plainBody := do(http.MethodGet, "")
	if !bytes.Equal(plainBody, direct.Body.Bytes()) || plain.Header.Get("Content-Encoding") != "" {
		t.Errorf("uncompressed: %d bytes, Content-Encoding %q; want promhttp's %d bytes", len(plainBody), plain.Header.Get("Content-Encoding"), direct.Body.Len())
	}
	gz, gzBody := do(http.MethodGet, "gzip")
	if gz.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", gz.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gzBody))
	if err != nil {
		t.Fatal(err)
	}
	if un, err := io.ReadAll(zr); err != nil || !bytes.Equal(un, plainBody) {
		t.Errorf("gzip body decompresses to %d bytes (%v), want the %d of the uncompressed rendering", len(un), err, len(plainBody))
	}
	for _, r := range []struct {
		resp *http.Response
		body []byte
	}{{plain, plainBody}, {gz, gzBody}} {
		if r.resp.ContentLength != int64(len(r.body)) || len(r.resp.TransferEncoding) != 0 {
			t.Errorf("Content-Length %d, Transfer-Encoding %q for %d bytes", r.resp.ContentLength, r.resp.TransferEncoding, len(r.body))
		}
		if r.resp.Header.Get("Content-Type") != direct.Header().Get("Content-Type") {
			t.Errorf("Content-Type %q, want promhttp's %q", r.resp.Header.Get("Content-Type"), direct.Header().Get("Content-Type"))
		}
		if !varies(r.resp.Header, "Accept") || !varies(r.resp.Header, "Accept-Encoding") {
			t.Errorf("Vary %q", r.resp.Header.Values("Vary"))
		}
	}
	head, headBody := do(http.MethodHead, "gzip")
	if len(headBody) != 0 || head.ContentLength != int64(len(gzBody)) || head.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("HEAD: %d bytes of body, Content-Length %d, Content-Encoding %q; want none, %d, gzip", len(headBody), head.ContentLength, head.Header.Get("Content-Encoding"), len(gzBody))
	}
}

// Requests waiting for a rendering that the version overtook share the next rendering instead
// of each rendering for itself (fifty renderings at once on two cores), and none gets the
// overtaken one.
func TestWaitersShareTheRenderingAfterAVersionMove(t *testing.T) {
	for _, hot := range []bool{false, true} {
		t.Run(fmt.Sprintf("hot=%v", hot), func(t *testing.T) {
			inner, clk, version, h, tk := versioned(t)
			first := 0
			if hot {
				hotEntry(t, h, clk, tk)
				first = 1
				version.Add(1) // the requests below find the rendering stale
			}
			inner.hold, inner.started = make(chan struct{}), make(chan struct{}, 100)
			const n = 10
			bodies := getMany(t, h, n)
			<-inner.started
			time.Sleep(50 * time.Millisecond) // the other requests queue behind the rendering
			version.Add(1)                    // ... which the version overtakes
			close(inner.hold)
			want := fmt.Sprintf("rendering %d", first+2)
			for _, b := range bodies() {
				if b != want {
					t.Errorf("a request got %q, want the shared %q", b, want)
				}
			}
			if c := inner.calls.Load(); c != int64(first+2) {
				t.Errorf("%d renderings, want %d: the overtaken one and one shared after it", c, first+2)
			}
		})
	}
}

// Prepare renders a hot entry at the announced version while requests are still served the
// rendering before it (none waits), and returns once that rendering is in place; the rendering
// is served before and after the version reaches it, without another rendering. A cold entry
// (a lone scraper, fresh at its next request anyway) is left alone.
func TestPrepareRendersBeforeTheVersionMoves(t *testing.T) {
	inner, clk, version, h, tk := versioned(t)
	get(t, h, textAccept) // one request: cold
	tk.waitIdle()
	h.Prepare(1)
	if c := inner.calls.Load(); c != 1 {
		t.Fatalf("%d renderings after Prepare on a cold entry, want 1", c)
	}
	version.Store(1)
	clk.Add(100 * time.Millisecond)
	if _, body, _ := get(t, h, textAccept); body != "rendering 2" { // stale: rendered; now hot
		t.Fatalf("after the version moved: %q, want rendering 2", body)
	}
	tk.waitIdle()

	inner.hold, inner.started = make(chan struct{}), make(chan struct{}, 10)
	prepared := make(chan struct{})
	go func() { h.Prepare(2); close(prepared) }()
	<-inner.started // rendering 3, at version 2, runs
	clk.Add(10 * time.Millisecond)
	if _, body, _ := get(t, h, textAccept); body != "rendering 2" {
		t.Errorf("while Prepare renders: %q, want rendering 2 at once (version 1 is still current)", body)
	}
	select {
	case <-prepared:
		t.Fatal("Prepare returned before its rendering ended")
	default:
	}
	close(inner.hold)
	<-prepared
	inner.hold, inner.started = nil, nil
	if _, body, _ := get(t, h, textAccept); body != "rendering 3" {
		t.Errorf("after Prepare, before the version moved: %q, want rendering 3 (newer than the version)", body)
	}
	version.Store(2)
	if _, body, _ := get(t, h, textAccept); body != "rendering 3" {
		t.Errorf("after the version moved: %q, want rendering 3, made for it", body)
	}
	if c := inner.calls.Load(); c != 3 {
		t.Errorf("%d renderings, want 3", c)
	}
	h.Prepare(2) // already rendered at 2
	if c := inner.calls.Load(); c != 3 {
		t.Errorf("%d renderings after Prepare of a version rendered, want 3", c)
	}
}

// A rendering that started before Prepare announced a version does not satisfy it, and a
// version that moves past a rendering started at the announced one makes it stale again.
func TestPrepareWaitsForARenderingStartedAfterIt(t *testing.T) {
	inner, clk, version, h, tk := versioned(t)
	hotEntry(t, h, clk, tk)
	inner.hold, inner.started = make(chan struct{}), make(chan struct{}, 10)
	version.Store(1)
	clk.Add(10 * time.Millisecond)
	tk.fire() // rendering 2 starts at version 1
	<-inner.started
	prepared := make(chan struct{})
	go func() { h.Prepare(2); close(prepared) }()
	time.Sleep(20 * time.Millisecond) // Prepare announces 2 and waits for rendering 2
	inner.hold <- struct{}{}          // rendering 2 ends, overtaken: rendering 3 starts at 2
	<-inner.started
	close(inner.hold)
	<-prepared
	tk.waitIdle()
	if c := inner.calls.Load(); c != 3 {
		t.Fatalf("%d renderings, want 3: the one started before Prepare and one at its version", c)
	}
	version.Store(2)
	inner.hold, inner.started = nil, nil
	if _, body, _ := get(t, h, textAccept); body != "rendering 3" {
		t.Errorf("at version 2: %q, want rendering 3", body)
	}
	version.Store(3) // moved without Prepare (a configuration applied): stale
	if _, body, _ := get(t, h, textAccept); body != "rendering 4" {
		t.Errorf("at version 3: %q, want a new rendering", body)
	}
}

// Prepare gives up on a rendering that fails or does not end: it returns, and the version
// source publishes all the same (requests then wait for a rendering, or render for themselves).
func TestPrepareIsBounded(t *testing.T) {
	inner, clk, version, h, tk := versioned(t)
	hotEntry(t, h, clk, tk)
	inner.fail.Store(true)
	h.Prepare(1) // renders, fails, returns
	if c := inner.calls.Load(); c != 2 {
		t.Fatalf("%d renderings after a Prepare whose rendering failed, want 2 (not retried)", c)
	}
	inner.fail.Store(false)
	version.Store(1)
	clk.Add(10 * time.Millisecond)
	if _, body, _ := get(t, h, textAccept); body != "rendering 3" {
		t.Errorf("after the failed Prepare: %q, want rendering 3", body)
	}
	h.prepareWait = 50 * time.Millisecond
	inner.hold, inner.started = make(chan struct{}), make(chan struct{}, 10)
	prepared := make(chan struct{})
	go func() { h.Prepare(2); close(prepared) }()
	<-inner.started
	select {
	case <-prepared: // gave up on the held rendering
	case <-time.After(10 * time.Second):
		t.Fatal("Prepare still waits for a rendering that does not end")
	}
	close(inner.hold)
	tk.waitIdle()
}

// Each request served is observed once, with how: waiting for a rendering, sharing one made
// before it, or rendered alone (a failed shared rendering, a method the cache does not share,
// headers it does not keep).
func TestServedIsObserved(t *testing.T) {
	inner, clk, version, h, tk := versioned(t)
	var seen []Served
	var mu sync.Mutex
	h.WithObserver(func(s Served) { mu.Lock(); seen = append(seen, s); mu.Unlock() })
	get(t, h, textAccept) // waited
	tk.waitIdle()
	get(t, h, textAccept) // shared
	tk.waitIdle()
	inner.fail.Store(true)
	version.Add(1)
	clk.Add(100 * time.Millisecond)
	get(t, h, textAccept) // waits, the rendering fails: rendered alone (and fails again)
	tk.waitIdle()
	inner.fail.Store(false)
	req := httptest.NewRequest(http.MethodPost, "/metrics", nil)
	h.ServeHTTP(httptest.NewRecorder(), req)      // alone
	get(t, h, strings.Repeat("x", maxKeyBytes+1)) // alone: a header too long to key
	want := []Served{ServedWaited, ServedShared, ServedAlone, ServedAlone, ServedAlone}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("observed %v, want %v", seen, want)
	}
}
