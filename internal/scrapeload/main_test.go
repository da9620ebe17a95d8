package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// scraperKinds are the load generator's two clients (-client).
var scraperKinds = []string{"go", "raw"}

// TestScrapersReadTheWholeResponse: both clients ask as Prometheus does, read the whole body
// (larger than any read buffer), report its size, and keep their connection alive.
func TestScrapersReadTheWholeResponse(t *testing.T) {
	body := make([]byte, 77_000)
	for i := range body {
		body[i] = byte(rand.IntN(256))
	}
	var (
		mu     sync.Mutex
		asked  []string
		static = staticMux(body, "application/openmetrics-text; version=1.0.0; charset=utf-8")
		srv    = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			asked = append(asked, r.URL.Path+" "+r.Header.Get("Accept")+" "+r.Header.Get("Accept-Encoding"))
			mu.Unlock()
			static.ServeHTTP(w, r)
		}))
	)
	defer srv.Close()
	for _, kind := range scraperKinds {
		t.Run(kind, func(t *testing.T) {
			mu.Lock()
			asked = nil
			mu.Unlock()
			for _, c := range []struct {
				path string
				size int
			}{{"/metrics", len(body)}, {tinyPath, len(tinyExposition)}} {
				s := newScraper(kind, srv.URL, c.path, 4096)
				for i, wantReused := range []bool{false, true, true} {
					n, reused, err := s.scrape(context.Background())
					if err != nil {
						t.Fatalf("%s scrape %d: %v", c.path, i, err)
					}
					if n != int64(c.size) || reused != wantReused {
						t.Errorf("%s scrape %d: %d bytes, reused %v; want %d bytes, reused %v", c.path, i, n, reused, c.size, wantReused)
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(asked) != 6 {
				t.Fatalf("the server saw %d requests, want 6", len(asked))
			}
			for i, a := range asked {
				path := "/metrics"
				if i >= 3 {
					path = tinyPath
				}
				if want := path + " " + promAccept + " gzip"; a != want {
					t.Errorf("request %d: %q, want %q", i, a, want)
				}
			}
		})
	}
}

// TestScrapersReportBadResponses: a status other than 200 is a failed scrape for both clients;
// the raw client also refuses a body without Content-Length (it cannot tell where it ends) and
// opens a new connection after a response that closes its own.
func TestScrapersReportBadResponses(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "busy\n")
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "part one\n")
		w.(http.Flusher).Flush() // no Content-Length: chunked
		_, _ = io.WriteString(w, "part two\n")
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Length", "3")
		_, _ = io.WriteString(w, "ok\n")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, kind := range scraperKinds {
		t.Run(kind, func(t *testing.T) {
			if _, _, err := newScraper(kind, srv.URL, "/status", 4096).scrape(context.Background()); err == nil || !strings.Contains(err.Error(), "503") {
				t.Errorf("HTTP 503: error %v, want one naming 503", err)
			}
			s := newScraper(kind, srv.URL, "/close", 4096)
			for i := range 2 {
				n, reused, err := s.scrape(context.Background())
				if err != nil || n != 3 || reused {
					t.Errorf("Connection: close, scrape %d: %d bytes, reused %v, %v; want 3 bytes on a new connection", i, n, reused, err)
				}
			}
		})
	}
	if _, _, err := newScraper("raw", srv.URL, "/chunked", 4096).scrape(context.Background()); err == nil || !strings.Contains(err.Error(), "Transfer-Encoding") {
		t.Errorf("raw client, chunked body: error %v, want one naming Transfer-Encoding", err)
	}
	if n, _, err := newScraper("go", srv.URL, "/chunked", 4096).scrape(context.Background()); err != nil || n != int64(len("part one\npart two\n")) {
		t.Errorf("go client, chunked body: %d bytes, %v; want %d", n, err, len("part one\npart two\n"))
	}
}

// TestTinyExpositionIsTheSmallestOpenMetrics: the floor's response of a few bytes is a valid
// exposition (gzip of "# EOF\n"), so that it costs a scraper what an answer does.
func TestTinyExpositionIsTheSmallestOpenMetrics(t *testing.T) {
	zr, err := gzip.NewReader(bytes.NewReader(tinyExposition))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil || string(text) != "# EOF\n" {
		t.Fatalf("tinyExposition decompresses to %q, %v; want \"# EOF\\n\"", text, err)
	}
	if len(tinyExposition) > 64 {
		t.Errorf("tinyExposition is %d bytes: not a response of a few bytes", len(tinyExposition))
	}
}

// TestLatencyQuantiles: nearest rank below, on the sorted latencies (1..100 ms in any order:
// the median is the 50th, the 99th percentile the 99th, the maximum the 100th).
func TestLatencyQuantiles(t *testing.T) {
	var r burstResult
	for _, i := range rand.Perm(100) {
		r.scrapes = append(r.scrapes, scrapeResult{d: time.Duration(i+1) * time.Millisecond})
	}
	r.failures = 2
	l := r.latencies()
	for _, c := range []struct{ p, want float64 }{{0, 1}, {0.5, 50}, {0.9, 90}, {0.99, 99}, {1, 100}} {
		if got := l.q(c.p); got != c.want {
			t.Errorf("q(%v) = %v ms, want %v", c.p, got, c.want)
		}
	}
	if l.failures != 2 || len(l.lat) != 100 {
		t.Errorf("%d latencies, %d failures; want 100 and 2", len(l.lat), l.failures)
	}
}

// fakeScraper fails every failEvery-th scrape and opens a connection on its first.
type fakeScraper struct {
	calls, failEvery int
	size             int64
}

func (f *fakeScraper) scrape(context.Context) (int64, bool, error) {
	f.calls++
	if f.failEvery > 0 && f.calls%f.failEvery == 0 {
		return 0, true, errors.New("refused")
	}
	return f.size, f.calls > 1, nil
}

// TestBurstCountsEveryScrape: each client scrapes n times; failures are counted apart from
// latencies; connections opened are counted; scrapes are numbered by their instant.
func TestBurstCountsEveryScrape(t *testing.T) {
	clients := []scraper{&fakeScraper{size: 10}, &fakeScraper{failEvery: 2, size: 10}, &fakeScraper{failEvery: 3, size: 10}}
	r := burst(context.Background(), clients, 4, 5*time.Millisecond)
	// 4 scrapes each: the second client fails its 2nd and 4th, the third its 3rd.
	if len(r.scrapes) != 12-3 || r.failures != 3 {
		t.Fatalf("%d scrapes, %d failures; want 9 and 3", len(r.scrapes), r.failures)
	}
	if r.newConns != 3 || r.bytes != 10 {
		t.Errorf("%d new connections, last size %d; want 3 and 10", r.newConns, r.bytes)
	}
	ticks := map[int]int{}
	for _, s := range r.scrapes {
		ticks[s.tick]++
	}
	if want := map[int]int{0: 3, 1: 2, 2: 2, 3: 2}; fmt.Sprint(ticks) != fmt.Sprint(want) {
		t.Errorf("scrapes by instant %v, want %v", ticks, want)
	}
	for _, c := range clients {
		if f := c.(*fakeScraper); f.calls != 4 {
			t.Errorf("a client scraped %d times, want 4", f.calls)
		}
	}
}

// TestServedCounts reads the exporter's counter by served value, and refuses a line it cannot
// read rather than reporting a count it did not see.
func TestServedCounts(t *testing.T) {
	exposition := "# TYPE entra_exporter_scrape_requests_total counter\n" +
		"entra_exporter_scrape_requests_total{served=\"alone\"} 2\n" +
		"entra_exporter_scrape_requests_total{served=\"shared\"} 4350\n" +
		"entra_exporter_scrape_requests_total{served=\"waited\"} 7 1764000000000\n" +
		"entra_exporter_scrape_requests_totally{served=\"x\"} 1\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, exposition)
	}))
	defer srv.Close()
	got, err := servedCounts(srv.Client(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]float64{"alone": 2, "shared": 4350, "waited": 7}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("servedCounts = %v, want %v", got, want)
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "entra_exporter_scrape_requests_total{served=\"shared\",x=\"y\"} 1\n")
	}))
	defer bad.Close()
	if _, err := servedCounts(bad.Client(), bad.URL); err == nil {
		t.Error("servedCounts read a line with another label; want an error")
	}
}
