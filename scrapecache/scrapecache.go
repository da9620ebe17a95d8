// Package scrapecache shares one rendering of a metrics endpoint between concurrent scrapers.
//
// Rendering /metrics gathers every series, sorts and encodes them, and compresses the result:
// about ten milliseconds of CPU at a large tenant's few thousand series. Fifty scrapers at once
// would each pay it and queue behind each other on two cores. Handler renders once per format
// (text, OpenMetrics: the Accept header) and serves the same bytes to the requests that arrive
// while it renders and until the rendering is MaxAge old. A request that finds no rendering that
// young waits for a new one, shared with the requests that arrive meanwhile: a lone scraper (one
// request every scrape interval) always gets a fresh rendering.
//
// While requests keep coming less than MaxAge apart (several scrapers), the entry is hot: it is
// checked every MaxAge/100 in the background and rendered again as soon as the version moved or
// its rendering is three quarters of MaxAge old, so that no request waits for a rendering.
//
// A version function (WithVersion) and Invalidate make renderings stale at once when the caller
// knows the series changed (a poll ended, a reload): a rendering started before the version
// moved is never served, so a response never misses a change the caller could have observed
// before asking. The version source can render before it publishes (Prepare): hot entries are
// rendered with the change while requests are still served the rendering before it, and the
// version moves once the new rendering is in place, so that no request waits at a poll's end.
// Requests waiting for a rendering that the version overtook wait for the next one, shared
// (begun at once if the entry is hot), rather than each rendering for itself. A failed rendering
// is not retried by the background checks before the next renewal would be due.
//
// Renderings are made by the wrapped handler (promhttp), so format negotiation and error
// handling are its own; only complete 200 responses are shared. They are asked for uncompressed
// (no Accept-Encoding) and compressed here once per rendering, with gzip at BestSpeed: every
// request that accepts gzip (as Prometheus's "Accept-Encoding: gzip") gets the compressed bytes,
// any other the uncompressed ones, each with its Content-Length (and none for HEAD's body).
// BestSpeed makes the exposition about a fifth larger than promhttp's default level (77 KB
// instead of 64 at 6,229 series) and its compression half as costly (about 3 ms instead of 6
// per megabyte of exposition), shortening every rendering a request may have to wait for.
package scrapecache

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net/http"
	"strconv"
	"strings"
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
	// rendering started at an older version is not served (the next request waits for a new
	// one), so a change the caller can observe otherwise (a poll that ended, /-/ready) is in
	// every response that follows it.
	version func() uint64
	// prepared is the highest version Prepare was told of: renderings started after it hold
	// that version's changes although version() has not reached it yet.
	prepared uint64
	// prepareWait bounds how long Prepare waits for renderings (a stuck one must not hold the
	// version source's poll).
	prepareWait time.Duration
	observe     func(Served) // WithObserver; nil: none
}

// Served says how a request was served.
type Served string

// How requests are served (WithObserver).
const (
	// ServedShared: a rendering made before the request (for earlier requests or in the
	// background), at once.
	ServedShared Served = "shared"
	// ServedWaited: a shared rendering the request waited for.
	ServedWaited Served = "waited"
	// ServedAlone: rendered for the request alone (the shared rendering failed or was overtaken
	// again and again, a method other than GET and HEAD, headers the cache does not keep).
	ServedAlone Served = "alone"
)

// AllServed lists every Served value, for exposing each from the start.
var AllServed = []Served{ServedShared, ServedWaited, ServedAlone}

// WithObserver makes h call f once for each request it serves, with how it served it (not for
// requests whose client left while they waited). It returns h.
func (h *Handler) WithObserver(f func(Served)) *Handler {
	h.observe = f
	return h
}

func (h *Handler) served(s Served) {
	if h.observe != nil {
		h.observe(s)
	}
}

// WithVersion makes renderings valid only while version returns at most what it returned when
// they started (or what Prepare announced). version must not go down. It returns h.
func (h *Handler) WithVersion(version func() uint64) *Handler {
	h.version = version
	return h
}

// Prepare renders hot entries at version v, which the version source is about to publish (its
// changes are made; version() will return v once Prepare returns), and returns when each holds a
// rendering at v or later, its rendering failed, or after a bound (a second at most). Until the
// version moves, requests are served the renderings made before, so that none waits at a poll's
// end; once it moves, they are served the ones Prepare made. Cold entries (a lone scraper, fresh
// at its next request anyway) are not rendered. Prepare blocks: the caller must not hold
// anything the wrapped handler needs.
func (h *Handler) Prepare(v uint64) {
	timeout := time.NewTimer(h.prepareWait)
	defer timeout.Stop()
	h.mu.Lock()
	h.prepared = max(h.prepared, v)
	waited := map[*entry]int{}
	for {
		now := h.now()
		var waits []chan struct{}
		for _, e := range h.entries {
			if e.req == nil || !now.Before(e.hotUntil) || e.resp != nil && e.resp.version >= v {
				continue
			}
			if waited[e] > 0 && e.failed || waited[e] == maxWaits {
				continue // failed, or overtaken again and again: requests will render it
			}
			if e.pending == nil {
				h.startLocked(e, e.req)
			}
			waited[e]++
			waits = append(waits, e.pending)
		}
		h.mu.Unlock()
		for _, w := range waits {
			select {
			case <-w:
			case <-timeout.C:
				return
			}
		}
		if len(waits) == 0 {
			return
		}
		h.mu.Lock()
	}
}

func (h *Handler) currentVersion() uint64 {
	if h.version == nil {
		return 0
	}
	return h.version()
}

// latestVersion is the version a rendering starting now holds (h.mu held).
func (h *Handler) latestVersion() uint64 {
	return max(h.prepared, h.currentVersion())
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
		schedule:    func(d time.Duration, f func()) { time.AfterFunc(d, f) },
		prepareWait: min(maxAge, time.Second)}
}

// key is what makes two requests' renderings the same bytes: the Accept header as sent (the
// wrapped handler negotiates the format from it; a scraper sends the same header every time, so
// there are few keys). Compression is decided here, per request, from the same rendering.
type key struct {
	accept string
}

// maxKeys bounds the renderings kept: requests with yet other headers are rendered for themselves.
const maxKeys = 16

type entry struct {
	resp    *rendering
	pending chan struct{} // closed when the rendering in progress ends; nil when none runs
	req     *http.Request // the request renderings are made for (its Accept header)
	// gzip: a request accepting gzip came, so renderings are compressed as they are made
	// (before a request needs them).
	gzip bool
	// started is when the last rendering started, failed whether it failed: a failed one is
	// not retried by renewal ticks before a renewal would be due anyway.
	started time.Time
	failed  bool
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
	header  http.Header // the wrapped handler's, Vary completed; not modified once shared
	body    []byte
	length  string // len(body), for Content-Length

	// compressible: the wrapped handler did not encode the body itself; gzip compresses it
	// (once, on first use).
	compressible bool
	gzipOnce     sync.Once
	gz           []byte // nil if compressing failed: the uncompressed body is served
	gzLength     string
}

func newRendering(at time.Time, version uint64, header http.Header, body []byte) *rendering {
	r := &rendering{at: at, version: version, header: header, body: body, length: strconv.Itoa(len(body))}
	if enc := header.Get("Content-Encoding"); enc == "" || strings.EqualFold(enc, "identity") {
		r.compressible = true
		header.Del("Content-Encoding")
		// Every response carries Vary: Accept-Encoding, whichever encoding it got (promhttp
		// sets it already).
		if !varies(header, "Accept-Encoding") {
			header.Add("Vary", "Accept-Encoding")
		}
	}
	header.Del("Content-Length")
	return r
}

// varies says whether header's Vary lists field.
func varies(header http.Header, field string) bool {
	for _, v := range header.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, field) {
				return true
			}
		}
	}
	return false
}

// gzipped returns the body compressed with gzip, compressing it the first time; nil if it
// cannot be.
func (r *rendering) gzipped() []byte {
	r.gzipOnce.Do(func() {
		var buf bytes.Buffer
		buf.Grow(len(r.body)/8 + 512)
		zw := gzipWriters.Get().(*gzip.Writer)
		zw.Reset(&buf)
		_, err := zw.Write(r.body)
		if err = errors.Join(err, zw.Close()); err == nil {
			r.gz, r.gzLength = buf.Bytes(), strconv.Itoa(buf.Len())
		}
		gzipWriters.Put(zw)
	})
	return r.gz
}

// gzipWriters: BestSpeed, half the default level's CPU for a fifth more bytes on an exposition
// (repetitive text that either level compresses more than tenfold).
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

// acceptsGzip says whether a request with these Accept-Encoding values takes a gzip body, as
// promhttp decides between identity and gzip (its negotiation: the highest q wins, identity on
// a tie; a q of 0 refuses): "gzip" (Prometheus) or "gzip, deflate, br" (a browser) take it; no
// header, "identity", "*", "gzip;q=0" or "gzip, identity" do not.
func acceptsGzip(values []string) bool {
	bestQ, best := -1.0, ""
	for _, offer := range []string{"identity", "gzip"} {
		for _, v := range values {
			for spec := range strings.SplitSeq(v, ",") {
				coding, params, _ := strings.Cut(spec, ";")
				coding = strings.TrimSpace(coding)
				if coding != "*" && !strings.EqualFold(coding, offer) {
					continue
				}
				q := 1.0
				for p := range strings.SplitSeq(params, ";") {
					name, value, ok := strings.Cut(p, "=")
					if ok && strings.EqualFold(strings.TrimSpace(name), "q") {
						if f, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
							q = f
						} else {
							q = 0
						}
					}
				}
				if q > bestQ {
					bestQ, best = q, offer
				}
			}
		}
	}
	return best == "gzip" && bestQ > 0
}

func keyOf(r *http.Request) (key, bool) {
	k := key{accept: r.Header.Get("Accept")}
	return k, len(k.accept) <= maxKeyBytes
}

// maxKeyBytes: requests with longer headers are rendered for themselves.
const maxKeyBytes = 1024

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.served(ServedAlone)
		h.next.ServeHTTP(w, r)
		return
	}
	k, ok := keyOf(r)
	gz := acceptsGzip(r.Header.Values("Accept-Encoding"))
	h.mu.Lock()
	e := h.entries[k]
	if e == nil {
		if len(h.entries) >= maxKeys || !ok {
			h.mu.Unlock()
			h.served(ServedAlone)
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
	e.gzip = e.gzip || gz
	if e.resp != nil && e.resp.version >= h.currentVersion() {
		if h.now().Sub(e.resp.at) < h.maxAge {
			resp := e.resp
			h.mu.Unlock()
			h.served(ServedShared)
			serve(w, r, resp, gz)
			return
		}
	}
	for waits := 1; ; waits++ {
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
		if resp != nil && resp.version >= h.currentVersion() && h.now().Sub(resp.at) < h.maxAge {
			h.mu.Unlock()
			h.served(ServedWaited)
			serve(w, r, resp, gz)
			return
		}
		if e.failed || waits == maxWaits || resp != nil && resp.version >= h.currentVersion() {
			// The rendering failed (failures are not shared), took longer than maxAge, or
			// renderings keep being overtaken: render for this request alone.
			h.mu.Unlock()
			h.served(ServedAlone)
			h.next.ServeHTTP(w, r)
			return
		}
		// The version moved (or Invalidate ran) while the rendering ran: wait for the next
		// one, shared with the other requests, instead of each rendering for itself.
	}
}

// maxWaits is how many shared renderings a request waits for when each was overtaken by a
// version move before rendering for itself.
const maxWaits = 3

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
		// Uncompressed (no Accept-Encoding): compressed here, once, for the requests that
		// accept gzip.
		req.Header.Set("Accept", r.Header.Get("Accept"))
		e.req = req
	}
	req := e.req
	gen := h.gen
	wantGzip := e.gzip
	e.started = h.now()
	version := h.latestVersion()
	go func() {
		at := h.now()
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		h.next.ServeHTTP(rec, req)
		var resp *rendering
		if rec.status == http.StatusOK {
			resp = newRendering(at, version, rec.header, rec.body.Bytes())
			if wantGzip && resp.compressible {
				resp.gzipped() // before a request needs it
			}
		}
		h.mu.Lock()
		e.failed = resp == nil
		if resp != nil && gen == h.gen {
			e.resp = resp
		}
		e.pending = nil
		if h.now().Before(e.hotUntil) && !e.renewing {
			if resp != nil && gen == h.gen && version < h.latestVersion() {
				// Overtaken by a version move while rendering: again at once, not at the next
				// tick (requests may be waiting for it).
				h.startLocked(e, req)
			} else {
				e.renewing = true
				h.schedule(h.maxAge/renewTicks, func() { h.renew(e) })
			}
		}
		h.mu.Unlock()
		close(done)
	}()
}

// renewTicks is how many times per maxAge a hot entry checks whether it needs renewing: often,
// so that a rendering starts right after the version moved (a check costs a lock and a version
// read).
const renewTicks = 100

// renewAge is the age (in quarters of maxAge) at which a hot entry's rendering is renewed: late
// enough that renewals stay rare (each is a rendering's CPU, and may meet a burst of requests),
// early enough that one ends before the rendering is maxAge old.
const renewAge = 3

// renew runs every maxAge/renewTicks while an entry is hot: it renders the entry again as soon
// as the version moved, or once its rendering is renewAge/4 maxAge old, before a request has to
// wait for it. After a failed rendering it waits until a renewal would be due.
func (h *Handler) renew(e *entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e.renewing = false
	now := h.now()
	if !now.Before(e.hotUntil) || e.pending != nil {
		return // cooled down; or a rendering runs, and schedules the next tick when it ends
	}
	due := h.maxAge * renewAge / 4
	stale := e.resp == nil || e.resp.version < h.latestVersion() || now.Sub(e.resp.at) >= due
	if stale && (!e.failed || now.Sub(e.started) >= due) {
		h.startLocked(e, e.req)
		return
	}
	e.renewing = true
	h.schedule(h.maxAge/renewTicks, func() { h.renew(e) })
}

// serve writes resp, compressed if gz (the request accepts gzip) and it can be.
func serve(w http.ResponseWriter, r *http.Request, resp *rendering, gz bool) {
	header := w.Header()
	for k, v := range resp.header {
		header[k] = v
	}
	body, length := resp.body, resp.length
	if gz && resp.compressible {
		if z := resp.gzipped(); z != nil {
			body, length = z, resp.gzLength
			header["Content-Encoding"] = []string{"gzip"}
		}
	}
	header["Content-Length"] = []string{length}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
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
