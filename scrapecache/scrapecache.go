// Package scrapecache shares one rendering of a metrics endpoint between concurrent scrapers.
//
// Rendering /metrics gathers every series, sorts and encodes them, and compresses the result:
// tens of milliseconds of CPU at a large tenant's few thousand series. Fifty scrapers at once
// would each pay it and queue behind each other on two cores. Handler renders once per format
// (text, OpenMetrics; compressed or not) and serves the same bytes to the requests that arrive
// while it renders and until the rendering is MaxAge old. A request that finds no rendering that
// young waits for a new one, shared with the requests that arrive meanwhile: a lone scraper (one
// request every scrape interval) always gets a fresh rendering. While requests keep coming less
// than MaxAge apart (several scrapers), the entry is hot: every MaxAge/10 it is rendered again in
// the background once its rendering is half MaxAge old, so that no request waits. A version
// function (WithVersion) and Invalidate make renderings stale at once when the caller knows the
// series changed (a poll ended, a reload), so that a response never misses a change the caller
// could have observed before asking. Renderings are made by the wrapped handler (promhttp), so
// negotiation, compression and error handling are its own; only complete 200 responses are
// shared.
package scrapecache

import (
	"bytes"
	"net/http"
	"sync"
	"time"
)

// Handler serves next's renderings to concurrent requests.
type Handler struct {
	next     http.Handler
	maxAge   time.Duration
	now      func() time.Time
	schedule func(time.Duration, func()) // time.AfterFunc; tests replace it

	mu      sync.Mutex
	entries map[key]*entry
	gen     uint64 // bumped by Invalidate: renderings started before are not kept

	// version, when set, says whether what the wrapped handler renders may have changed: a
	// rendering started at another version is not served (the next request waits for a new
	// one), so a change the caller can observe otherwise (a poll that ended, /-/ready) is in
	// every response that follows it.
	version func() uint64
}

// WithVersion makes renderings valid only while version returns what it returned when they
// started. It returns h.
func (h *Handler) WithVersion(version func() uint64) *Handler {
	h.version = version
	return h
}

func (h *Handler) currentVersion() uint64 {
	if h.version == nil {
		return 0
	}
	return h.version()
}

// Invalidate drops every rendering: the next request waits for a new one. A change the caller
// made synchronously (a configuration reload) is then in every response that follows.
func (h *Handler) Invalidate() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.gen++
	for _, e := range h.entries {
		e.resp = nil
	}
}

// New returns a handler sharing next's renderings for up to maxAge.
func New(next http.Handler, maxAge time.Duration) *Handler {
	return &Handler{next: next, maxAge: maxAge, now: time.Now, entries: map[key]*entry{},
		schedule: func(d time.Duration, f func()) { time.AfterFunc(d, f) }}
}

// key is what makes two requests' responses the same bytes: the Accept and Accept-Encoding
// headers as sent (the wrapped handler negotiates format and compression from them; a scraper
// sends the same headers every time, so there are few keys).
type key struct {
	accept, encoding string
}

// maxKeys bounds the renderings kept: requests with yet other headers are rendered for themselves.
const maxKeys = 16

type entry struct {
	resp    *rendering
	pending chan struct{} // closed when the rendering in progress ends; nil when none runs
	req     *http.Request // the request renderings are made for (its negotiation headers)
	// lastRequest and hotUntil: requests less than maxAge apart make the entry hot for
	// keepWarm, and a hot entry is renewed without waiting for a request.
	lastRequest, hotUntil time.Time
	renewing              bool // a renewal is scheduled
}

// keepWarm is how long an entry stays hot after two requests came less than maxAge apart.
const keepWarm = 10 * time.Second

type rendering struct {
	at      time.Time
	version uint64
	header  http.Header
	body    []byte
}

func keyOf(r *http.Request) (key, bool) {
	k := key{accept: r.Header.Get("Accept"), encoding: r.Header.Get("Accept-Encoding")}
	return k, len(k.accept)+len(k.encoding) <= maxKeyBytes
}

// maxKeyBytes: requests with longer headers are rendered for themselves.
const maxKeyBytes = 1024

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.next.ServeHTTP(w, r)
		return
	}
	k, ok := keyOf(r)
	h.mu.Lock()
	e := h.entries[k]
	if e == nil {
		if len(h.entries) >= maxKeys || !ok {
			h.mu.Unlock()
			h.next.ServeHTTP(w, r)
			return
		}
		e = &entry{}
		h.entries[k] = e
	}
	now := h.now()
	if !e.lastRequest.IsZero() && now.Sub(e.lastRequest) < h.maxAge {
		e.hotUntil = now.Add(keepWarm)
		if e.resp != nil && e.pending == nil && !e.renewing {
			// Just became hot: renewals from now on.
			e.renewing = true
			h.schedule(h.maxAge/renewTicks, func() { h.renew(e) })
		}
	}
	e.lastRequest = now
	if e.resp != nil && e.resp.version == h.currentVersion() {
		if h.now().Sub(e.resp.at) < h.maxAge {
			resp := e.resp
			h.mu.Unlock()
			serve(w, r, resp)
			return
		}
	}
	if e.pending == nil {
		h.startLocked(e, r)
	}
	wait := e.pending
	h.mu.Unlock()
	select {
	case <-wait:
	case <-r.Context().Done():
		return
	}
	h.mu.Lock()
	resp := e.resp
	h.mu.Unlock()
	if resp == nil || h.now().Sub(resp.at) >= h.maxAge || resp.version != h.currentVersion() {
		// The rendering failed (failures are not shared) or took longer than maxAge: render
		// for this request alone.
		h.next.ServeHTTP(w, r)
		return
	}
	serve(w, r, resp)
}

// startLocked starts a rendering for e in the background, for requests like r; h.mu is held.
func (h *Handler) startLocked(e *entry, r *http.Request) {
	done := make(chan struct{})
	e.pending = done
	if e.req == nil {
		req, err := http.NewRequest(http.MethodGet, r.URL.String(), nil)
		if err != nil {
			e.pending = nil
			close(done)
			return
		}
		req.Header.Set("Accept", r.Header.Get("Accept"))
		req.Header.Set("Accept-Encoding", r.Header.Get("Accept-Encoding"))
		e.req = req
	}
	req := e.req
	gen := h.gen
	go func() {
		at, version := h.now(), h.currentVersion()
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		h.next.ServeHTTP(rec, req)
		h.mu.Lock()
		if rec.status == http.StatusOK && gen == h.gen {
			e.resp = &rendering{at: at, version: version, header: rec.header, body: rec.body.Bytes()}
		}
		e.pending = nil
		if h.now().Before(e.hotUntil) && !e.renewing {
			e.renewing = true
			h.schedule(h.maxAge/renewTicks, func() { h.renew(e) })
		}
		h.mu.Unlock()
		close(done)
	}()
}

// renewTicks is how many times per maxAge a hot entry checks whether it needs renewing.
const renewTicks = 10

// renew runs every maxAge/renewTicks while an entry is hot: it renders the entry again once its
// rendering is half maxAge old or the version moved, before a request has to wait for it.
func (h *Handler) renew(e *entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e.renewing = false
	now := h.now()
	if !now.Before(e.hotUntil) || e.pending != nil {
		return // cooled down; or a rendering runs, and schedules the next tick when it ends
	}
	if e.resp == nil || e.resp.version != h.currentVersion() || now.Sub(e.resp.at) >= h.maxAge/2 {
		h.startLocked(e, e.req)
		return
	}
	e.renewing = true
	h.schedule(h.maxAge/renewTicks, func() { h.renew(e) })
}

func serve(w http.ResponseWriter, r *http.Request, resp *rendering) {
	for k, v := range resp.header {
		w.Header()[k] = v
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(resp.body)
	}
}

// recorder keeps a response in memory.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wrote = true
	return r.body.Write(p)
}
