package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
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

// TestMain lets this test binary be the floor's static server: measureFloor starts its own
// executable with -serve, which in a test is the test binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && strings.HasPrefix(os.Args[1], "-serve=") {
		fs := flag.NewFlagSet("serve", flag.ExitOnError)
		file, contentType, listen := fs.String("serve", "", ""), fs.String("content-type", "", ""), fs.String("listen", "", "")
		_ = fs.Parse(os.Args[1:])
		if err := serveStatic(*file, *contentType, *listen); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// sizeRecorder records the sizes of the responses its scraper got.
type sizeRecorder struct {
	scraper
	mu    *sync.Mutex
	sizes map[int64]bool
}

func (r sizeRecorder) scrape(ctx context.Context) (int64, bool, error) {
	n, reused, err := r.scraper.scrape(ctx)
	if err == nil {
		r.mu.Lock()
		r.sizes[n] = true
		r.mu.Unlock()
	}
	return n, reused, err
}

// TestMeasureFloorScrapesEachLoad: the floor's three loads are the exporter's own compressed
// bytes to the same number of scrapers, the tiny response to as many, and the tiny response to
// one scraper ten times as often; all from a static server, never the exporter.
func TestMeasureFloorScrapesEachLoad(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = io.WriteString(zw, strings.Repeat("entra_signins_total{tenant=\"t\"} 1\n", 2000)+"# EOF\n")
	_ = zw.Close()
	body := buf.Bytes()
	const contentType = "application/openmetrics-text; version=1.0.0; charset=utf-8"
	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		if r.Header.Get("Accept-Encoding") == "gzip" {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(body)
			return
		}
		_, _ = io.WriteString(w, "# EOF\n")
	}))
	defer exporter.Close()

	var (
		mu    sync.Mutex
		loads []string
		sizes []map[int64]bool
	)
	newScrapers := func(n int, base, path string) []scraper {
		if base == exporter.URL {
			t.Errorf("a floor load scrapes the exporter (%s)", base)
		}
		mu.Lock()
		defer mu.Unlock()
		loads = append(loads, fmt.Sprintf("%d %s", n, path))
		seen := map[int64]bool{}
		sizes = append(sizes, seen)
		out := make([]scraper, n)
		for i := range out {
			out[i] = sizeRecorder{scraper: newScraper("go", base, path, 4096), mu: &mu, sizes: seen}
		}
		return out
	}
	f, err := measureFloor(context.Background(), t.TempDir(), exporter.Client(), newScrapers, 3, exporter.URL,
		600*time.Millisecond, 300*time.Millisecond, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"3 /metrics", "3 " + tinyPath, "1 " + tinyPath}; fmt.Sprint(loads) != fmt.Sprint(want) {
		t.Fatalf("loads %q, want %q", loads, want)
	}
	for i, want := range []int{len(body), len(tinyExposition), len(tinyExposition)} {
		if fmt.Sprint(sizes[i]) != fmt.Sprint(map[int64]bool{int64(want): true}) {
			t.Errorf("load %q got responses of %v bytes, want %d only", loads[i], sizes[i], want)
		}
	}
	// 600 ms: at most 2 scrapes per scraper every 300 ms; about 19 for the lone one every 30 ms.
	if f.same.failures+f.empty.failures+f.lone.failures != 0 || len(f.same.lat) == 0 || len(f.same.lat) > 6 || len(f.empty.lat) > 6 {
		t.Errorf("same load %d scrapes (%d failed), empty %d (%d failed); want 1-6 each, none failed",
			len(f.same.lat), f.same.failures, len(f.empty.lat), f.empty.failures)
	}
	if len(f.lone.lat) < 6 {
		t.Errorf("the lone scraper scraped %d times in 600 ms every 30 ms, want 6 at least", len(f.lone.lat))
	}

	// An exporter that does not compress has no response to stand in for.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "# EOF\n")
	}))
	defer plain.Close()
	if _, err := measureFloor(context.Background(), t.TempDir(), plain.Client(), newScrapers, 3, plain.URL, time.Second, time.Second, t.Logf); err == nil || !strings.Contains(err.Error(), "gzip") {
		t.Errorf("an uncompressed exporter response: error %v, want one saying it is not gzip-encoded", err)
	}
}
