package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// linkGraph serves sign-in pages of one row each whose next link is next(token of this page); the
// first page has the empty token. An empty next link ends the paging.
func linkGraph(t *testing.T, next func(token string) string) (*httptest.Server, *script) {
	t.Helper()
	s := &script{}
	var srv *httptest.Server
	s.replies = []reply{{handler: func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("$skiptoken")
		page := map[string]any{"value": []map[string]string{{"id": "row-" + tok}}}
		if n := next(tok); n != "" {
			page["@odata.nextLink"] = srv.URL + "/beta/auditLogs/signIns?$skiptoken=" + n
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(page)
	}}}
	srv = httptest.NewTLSServer(s)
	t.Cleanup(srv.Close)
	return srv, s
}

// A next link to a page already read in the same read fails the read with ErrPagingLoop instead of
// paging forever; pages before the loop are delivered once.
func TestPagingLoopFails(t *testing.T) {
	tests := []struct {
		name      string
		next      map[string]string
		wantPages []string
	}{
		{"page links to itself", map[string]string{"": "a", "a": "a"}, []string{"row-", "row-a"}},
		{"two pages link to each other", map[string]string{"": "a", "a": "b", "b": "a"}, []string{"row-", "row-a", "row-b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, s := linkGraph(t, func(tok string) string { return tt.next[tok] })
			env := newTestClient(t, srv, nil)
			var pages [][]SignIn
			err := env.client.SignIns(context.Background(), testQuery, collect(&pages))
			if !errors.Is(err, ErrPagingLoop) {
				t.Fatalf("err = %v, want ErrPagingLoop", err)
			}
			if got := ids(pages); !slices.Equal(got, tt.wantPages) {
				t.Errorf("delivered %v, want %v", got, tt.wantPages)
			}
			if n := len(s.Requests()); n != len(tt.wantPages) {
				t.Errorf("%d requests, want %d (no page fetched twice)", n, len(tt.wantPages))
			}
		})
	}
}

// Ever new next links stop at the page limit with ErrTooManyPages: at the explicit limit, at the
// sign-in default of 1,000 pages, and for other collections at their own limit.
func TestEndlessPagingStopsAtPageLimit(t *testing.T) {
	endless := func(tok string) string {
		n, _ := strconv.Atoi(tok)
		return strconv.Itoa(n + 1)
	}
	for _, tt := range []struct {
		name     string
		maxPages int
		want     int
	}{
		{"explicit limit", 5, 5},
		{"default for sign-ins", 0, 1000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, s := linkGraph(t, endless)
			env := newTestClient(t, srv, func(o *Options) { o.MaxPagesPerRead = tt.maxPages })
			pages := 0
			err := env.client.SignIns(context.Background(), testQuery, func([]SignIn) error { pages++; return nil })
			if !errors.Is(err, ErrTooManyPages) {
				t.Fatalf("err = %v, want ErrTooManyPages", err)
			}
			if pages != tt.want || len(s.Requests()) != tt.want {
				t.Errorf("%d pages delivered, %d requests; want %d", pages, len(s.Requests()), tt.want)
			}
		})
	}
	t.Run("other collections", func(t *testing.T) {
		srv, s := linkGraph(t, endless)
		env := newTestClient(t, srv, func(o *Options) { o.MaxPagesPerRead = 3 })
		err := env.client.Get(context.Background(), "users", "/beta/auditLogs/signIns", func([]json.RawMessage) error { return nil })
		if !errors.Is(err, ErrTooManyPages) || len(s.Requests()) != 3 {
			t.Fatalf("err = %v after %d requests, want ErrTooManyPages after 3", err, len(s.Requests()))
		}
	})
}

// A read still running after its time box fails with ErrReadTimeBox, whether pages keep coming or
// one request hangs; the hanging request is not retried.
func TestReadTimeBox(t *testing.T) {
	t.Run("pages keep coming", func(t *testing.T) {
		srv, _ := linkGraph(t, func(tok string) string { return tok + "x" })
		env := newTestClient(t, srv, func(o *Options) { o.MaxPagesPerRead = -1; o.ReadTimeBox = 300 * time.Millisecond })
		err := env.client.SignIns(context.Background(), testQuery, func([]SignIn) error { return nil })
		if !errors.Is(err, ErrReadTimeBox) {
			t.Fatalf("err = %v, want ErrReadTimeBox", err)
		}
	})
	t.Run("a request hangs", func(t *testing.T) {
		s := &script{}
		srv := httptest.NewTLSServer(s)
		defer srv.Close()
		s.replies = []reply{
			{status: 200, body: fixture(t, "page1.json", srv.URL)},
			{handler: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }},
		}
		env := newTestClient(t, srv, func(o *Options) { o.RequestTimeout = time.Hour; o.ReadTimeBox = 300 * time.Millisecond })
		var pages [][]SignIn
		err := env.client.SignIns(context.Background(), testQuery, collect(&pages))
		if !errors.Is(err, ErrReadTimeBox) {
			t.Fatalf("err = %v, want ErrReadTimeBox", err)
		}
		if got := ids(pages); !slices.Equal(got, []string{"row-0001", "row-0002"}) {
			t.Errorf("delivered %v, want the first page", got)
		}
		if len(env.obs.retries) != 0 || len(s.Requests()) != 2 {
			t.Errorf("retries %v after %d requests; want none after 2", env.obs.retries, len(s.Requests()))
		}
	})
	t.Run("the caller's own cancellation is not the time box", func(t *testing.T) {
		srv, _ := linkGraph(t, func(tok string) string { return tok + "x" })
		env := newTestClient(t, srv, func(o *Options) { o.MaxPagesPerRead = -1; o.ReadTimeBox = time.Hour })
		ctx, cancel := context.WithCancel(context.Background())
		pages := 0
		err := env.client.SignIns(ctx, testQuery, func([]SignIn) error {
			if pages++; pages == 3 {
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrReadTimeBox) {
			t.Fatalf("err = %v, want the caller's cancellation", err)
		}
	})
}

// One row nested 20,000 levels deep used to make the whole page undecodable, so the read failed
// on it at every poll; now that row alone is skipped and counted.
func TestPoisonRowSkippedByTheRead(t *testing.T) {
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	body := []byte(`{"value":[{"id":"a"},{"id":"poison","x":` + deep + `},{"id":"b"}]}`)
	s := &script{replies: []reply{{status: 200, body: body}}}
	srv := httptest.NewTLSServer(s)
	defer srv.Close()
	env := newTestClient(t, srv, nil)
	var pages [][]SignIn
	if err := env.client.SignIns(context.Background(), testQuery, collect(&pages)); err != nil {
		t.Fatalf("SignIns: %v", err)
	}
	if got := ids(pages); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("rows = %v", got)
	}
	if env.obs.malformed != 1 || len(s.Requests()) != 1 {
		t.Errorf("malformed %d after %d requests; want 1 after 1", env.obs.malformed, len(s.Requests()))
	}
	if !strings.Contains(env.logs.String(), "nested deeper than 10000") {
		t.Errorf("log does not say why the row was skipped: %s", env.logs.String())
	}
}

// A page may be at most 64 MiB (real ones are 5-15 MB): one byte more is refused without retrying.
func TestPageSizeCap(t *testing.T) {
	const size = 64<<20 + 1
	// A valid page of exactly size bytes: one row and a long unknown field.
	head, tail := []byte(`{"value":[{"id":"a"}],"padding":"`), []byte(`"}`)
	s := &script{replies: []reply{{handler: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(head)
		pad := bytes.Repeat([]byte{'x'}, 1<<20)
		for left := size - len(head) - len(tail); left > 0; left -= len(pad) {
			_, _ = w.Write(pad[:min(left, len(pad))])
		}
		_, _ = w.Write(tail)
	}}}}
	// Plain HTTP on loopback (which the client allows) spares encrypting 64 MiB.
	srv := httptest.NewServer(s)
	defer srv.Close()
	env := newTestClient(t, srv, nil)
	err := env.client.SignIns(context.Background(), testQuery, func([]SignIn) error { t.Error("fn called"); return nil })
	if err == nil || !strings.Contains(err.Error(), "larger than 64 MiB") {
		t.Fatalf("err = %v, want the page refused for its size", err)
	}
	if len(s.Requests()) != 1 {
		t.Errorf("%d requests, want 1", len(s.Requests()))
	}
}
