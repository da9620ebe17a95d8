package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph/graphtest"
)

// streamDecode decodes body as a streamed page through a window of window bytes (0: the default)
// fed n bytes per read.
func streamDecode(body []byte, window, low, n int) (decodedPage[SignIn], error) {
	d := signInDecoder{windowSize: window, lowMark: low}
	return d.decodeStream(graphtest.Chunks(body, n), -1)
}

// lastRows makes a page's last nextLink-less, so that a test server can serve it alone.
func withoutNextLink(t testing.TB, page []byte) []byte {
	t.Helper()
	i := bytes.LastIndex(page, []byte(`],"@odata.nextLink"`))
	if i < 0 {
		t.Fatal("page has no next link")
	}
	return append(page[:i:i], "]}"...)
}

// checkStreamLikeWhole decodes body whole and streamed, in a window of the given size, and fails
// unless the streamed result is the whole one's (rows, next link, malformed rows, the error's
// text) or errNeedWhole, after which the client decodes the page whole. It reports whether the
// streamed decoding needed the fallback.
func checkStreamLikeWhole(t *testing.T, body []byte, window, low, n int) (fellBack bool) {
	t.Helper()
	want, wantErr := decodeSignInPage(body)
	got, err := streamDecode(body, window, low, n)
	if errors.Is(err, errNeedWhole) {
		return true
	}
	name := fmt.Sprintf("window %d, low %d, %d bytes per read", window, low, n)
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("%s: err = %v, want %v", name, err, wantErr)
	}
	if err != nil {
		return false
	}
	if got.next != want.next || got.malformed != want.malformed || fmt.Sprint(got.firstErr) != fmt.Sprint(want.firstErr) {
		t.Fatalf("%s: next %q malformed %d (%v); want next %q malformed %d (%v)", name, got.next, got.malformed, got.firstErr, want.next, want.malformed, want.firstErr)
	}
	if !reflect.DeepEqual(got.rows, want.rows) {
		if len(got.rows) != len(want.rows) {
			t.Fatalf("%s: %d rows, want %d", name, len(got.rows), len(want.rows))
		}
		for i := range got.rows {
			for _, d := range diffSignIn(got.rows[i], want.rows[i]) {
				t.Errorf("%s: row %d (%q) %s", name, i, want.rows[i].ID, d)
			}
		}
		t.FailNow()
	}
	return false
}

// The windows the tests cut pages into: smaller than a row (every row grows the window), a few
// rows, and the default.
var streamWindows = []struct{ window, low int }{{64, 16}, {700, 200}, {4096, 1024}, {20000, 5000}, {0, 0}}

func TestStreamDecodesLikeWhole(t *testing.T) {
	real300, err := graphtest.RealisticSignInPage(300)
	if err != nil {
		t.Fatal(err)
	}
	simple, err := graphtest.SignInPage(40)
	if err != nil {
		t.Fatal(err)
	}
	row := string(graphtest.SignInRow())
	bodies := map[string][]byte{
		"realistic 300 rows":         real300,
		"simple 40 rows":             simple,
		"trailing whitespace":        []byte(`{"value":[` + row + `]}` + strings.Repeat(" \n", 40000)),
		"trailing garbage far away":  []byte(`{"value":[` + row + `]}` + strings.Repeat(" ", 70000) + "x"),
		"huge member after value":    []byte(`{"value":[` + row + `,` + row + `],"@odata.extra":"` + strings.Repeat("x", 100000) + `","@odata.nextLink":"https://graph.example/next"}`),
		"huge member before value":   []byte(`{"@odata.extra":"` + strings.Repeat("x", 600000) + `","value":[` + row + `]}`),
		"row larger than the window": []byte(`{"value":[{"id":"big","status":{"failureReason":"` + strings.Repeat("y", 700000) + `"}},` + row + `]}`),
		"syntax error in a late row": []byte(`{"value":[` + strings.Repeat(row+",", 60) + `{"id":"bad",}]}`),
		"cut in a late row":          []byte(`{"value":[` + strings.Repeat(row+",", 60) + row[:len(row)/2]),
		"number at a window's end":   []byte(`{"value":[` + strings.Repeat(`{"id":"n","status":{"errorCode":500121}},`, 3000) + `{"id":"last"}]}`),
	}
	for _, name := range []string{"page1.json", "page3.json", "page_malformed_row.json", "page_truncated.json"} {
		bodies[name] = fixture(t, name, "https://graph.example")
	}
	for _, c := range equivalenceCases {
		bodies["equivalence "+c.name] = []byte(c.body)
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			for _, w := range streamWindows {
				for _, n := range []int{1, 7, 4096, len(body) + 1} {
					if n == 1 && len(body) > 1<<20 {
						continue // a byte a read over megabytes adds time, not cases
					}
					checkStreamLikeWhole(t, body, w.window, w.low, n)
				}
			}
		})
	}
}

// A real page is decoded as it arrives, never fetched again whole, and through a window that stays
// at its starting size: the page is never held whole.
func TestStreamRealisticPageNeedsNoFallback(t *testing.T) {
	page, err := graphtest.RealisticSignInPage(1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) < 8*streamWindowBytes {
		t.Fatalf("page of %d bytes is too small to test the window", len(page))
	}
	for _, n := range []int{1500, 32 << 10} { // TLS records, and larger reads
		if checkStreamLikeWhole(t, page, 0, 0, n) {
			t.Fatalf("%d bytes a read: a realistic page fell back to whole decoding", n)
		}
		d := signInDecoder{}
		if _, err := d.decodeStream(graphtest.Chunks(page, n), int64(len(page))); err != nil {
			t.Fatal(err)
		}
		if cap(d.window) != streamWindowBytes {
			t.Errorf("window grew to %d bytes decoding a %d-byte page", cap(d.window), len(page))
		}
	}
}

// A page whose top level does not fit the window is fetched again and decoded whole, with the same
// rows as a page that fits; a body cut mid-page after rows were decoded is retried and delivers
// each row once.
func TestStreamedPageThroughTheClient(t *testing.T) {
	real, err := graphtest.RealisticSignInPage(200)
	if err != nil {
		t.Fatal(err)
	}
	real = withoutNextLink(t, real)
	want, err := decodeSignInPage(real)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := make([]string, len(want.rows))
	for i, r := range want.rows {
		wantIDs[i] = r.ID
	}
	huge := append(bytes.TrimSuffix(bytes.Clone(real), []byte("}")), `,"@odata.extra":"`+strings.Repeat("x", 1<<20)+`"}`...)
	cut := reply{handler: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(real)))
		w.WriteHeader(200)
		_, _ = w.Write(real[:len(real)*3/4])
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			_ = conn.Close()
		}
	}}
	tests := []struct {
		name         string
		replies      []reply
		wantRequests int
		wantRetries  []string
	}{
		{"fits the window", []reply{{status: 200, body: real}}, 1, nil},
		{"top level larger than the window", []reply{{status: 200, body: huge}}, 2, nil},
		{"cut three quarters in", []reply{cut, {status: 200, body: real}}, 2, []string{"truncated"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &script{replies: tc.replies}
			srv := httptest.NewTLSServer(s)
			defer srv.Close()
			env := newTestClient(t, srv, nil)
			var pages [][]SignIn
			if err := env.client.SignIns(context.Background(), testQuery, collect(&pages)); err != nil {
				t.Fatal(err)
			}
			if got := ids(pages); !slices.Equal(got, wantIDs) {
				t.Errorf("%d rows delivered, want the page's %d", len(got), len(wantIDs))
			}
			if n := len(s.Requests()); n != tc.wantRequests {
				t.Errorf("requests = %d, want %d", n, tc.wantRequests)
			}
			if !slices.Equal(env.obs.retries, tc.wantRetries) {
				t.Errorf("Retry = %v, want %v", env.obs.retries, tc.wantRetries)
			}
		})
	}
}

// shiftSpan keeps a memo only if its token starts at or after the first kept byte, and moves both
// ends by the bytes dropped; an empty memo stays empty. (A memo kept pointing before the window, or
// moved at one end only, would compare a row's bytes with the wrong ones.)
func TestShiftSpan(t *testing.T) {
	for _, c := range []struct {
		from, to, delta  int32
		keep             bool
		wantFrom, wantTo int32
	}{
		{0, 0, 100, true, 0, 0},        // empty
		{99, 120, 100, false, 99, 120}, // starts in the dropped bytes
		{0, 5, 1, false, 0, 5},
		{100, 120, 100, true, 0, 20}, // the first kept byte
		{150, 151, 100, true, 50, 51},
		{7, 9, 0, true, 7, 9}, // nothing dropped
	} {
		from, to := c.from, c.to
		keep := shiftSpan(&from, &to, c.delta)
		if keep != c.keep || (keep && (from != c.wantFrom || to != c.wantTo)) {
			t.Errorf("shiftSpan(%d, %d, %d) = %v, %d-%d; want %v, %d-%d", c.from, c.to, c.delta, keep, from, to, c.keep, c.wantFrom, c.wantTo)
		}
	}
}
