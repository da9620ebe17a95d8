package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph/graphtest"
)

// pageBodies returns two sign-in pages whose bytes differ at every offset that holds a string of
// the first: the second has other ids and starts with whitespace, so each of its values sits at
// another offset. A row of the first page that still pointed into the buffer would read
// different bytes once the second is read into it.
func pageBodies(t *testing.T, next string) (a, b []byte) {
	t.Helper()
	a, err := graphtest.SignInPage(40)
	if err != nil {
		t.Fatal(err)
	}
	b, err = graphtest.SignInPage(25)
	if err != nil {
		t.Fatal(err)
	}
	b = append([]byte("\n      \t"), bytes.ReplaceAll(b, []byte("00000000-0000-4000-8000-"), []byte("bbbbbbbb-bbbb-4bbb-8bbb-"))...)
	// SignInPage ends with a next link to Graph; the second page is the last.
	const link = `,"@odata.nextLink":"https://graph.microsoft.com/beta/auditLogs/signIns?$skiptoken=next"`
	if !bytes.Contains(a, []byte(link)) {
		t.Fatal("graphtest.SignInPage no longer ends with the next link this test replaces")
	}
	b = bytes.Replace(b, []byte(link), nil, 1)
	if next != "" {
		a = bytes.Replace(a, []byte(link), []byte(`,"@odata.nextLink":"`+next+`"`), 1)
	}
	return a, b
}

// wantRows is the rows encoding/json decodes from body (the reference decoder), from a copy of
// body that nothing else touches.
func wantRows(t *testing.T, body []byte) []SignIn {
	t.Helper()
	p, err := referenceDecodeSignInPage(bytes.Clone(body))
	if err != nil || p.malformed != 0 {
		t.Fatalf("reference decoder: %v (%d malformed)", err, p.malformed)
	}
	return p.rows
}

func wantRawRows(t *testing.T, body []byte) []json.RawMessage {
	t.Helper()
	var p struct{ Value []json.RawMessage }
	if err := json.Unmarshal(bytes.Clone(body), &p); err != nil {
		t.Fatal(err)
	}
	return p.Value
}

// Decoded rows must not alias the body: the body's buffer is handed back and the next page is
// read into it. Decode page A from a buffer, read page B into the same buffer and decode it with
// the same decoder (its interned strings included), then overwrite the buffer: A's rows must
// still be what encoding/json decodes from A.
func TestRowsDoNotAliasTheBody(t *testing.T) {
	a, b := pageBodies(t, "")
	wantA, wantB := wantRows(t, a), wantRows(t, b)
	buf := make([]byte, max(len(a), len(b)))
	scribble := func() {
		for i := range buf {
			buf[i] = '#'
		}
	}

	t.Run("signIns", func(t *testing.T) {
		var d signInDecoder // ReuseRows off: the caller may keep whole rows
		pa, err := d.decodePage(buf[:copy(buf, a)])
		if err != nil {
			t.Fatal(err)
		}
		pb, err := d.decodePage(buf[:copy(buf, b)])
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(pb.rows, wantB) {
			t.Fatal("page B decoded from the reused buffer differs from encoding/json's rows")
		}
		scribble()
		if !reflect.DeepEqual(pa.rows, wantA) {
			t.Error("page A's rows changed when its buffer was reused: a string points into the body")
		}
		if !reflect.DeepEqual(pb.rows, wantB) {
			t.Error("page B's rows changed when its buffer was overwritten: a string points into the body")
		}
		if pa.rows[39].ID != "00000000-0000-4000-8000-000000000039" || pb.rows[24].ID != "bbbbbbbb-bbbb-4bbb-8bbb-000000000024" {
			t.Errorf("ids = %q, %q", pa.rows[39].ID, pb.rows[24].ID)
		}
	})

	t.Run("raw", func(t *testing.T) {
		rawA, rawB := wantRawRows(t, a), wantRawRows(t, b)
		pa, err := decodeRawPage(buf[:copy(buf, a)])
		if err != nil {
			t.Fatal(err)
		}
		pb, err := decodeRawPage(buf[:copy(buf, b)])
		if err != nil {
			t.Fatal(err)
		}
		scribble()
		if !reflect.DeepEqual(pa.rows, rawA) || !reflect.DeepEqual(pb.rows, rawB) {
			t.Error("raw rows changed when their buffer was reused: a row points into the body")
		}
	})
}

// peekSpare returns the spare buffer, if any, and leaves it in place.
func peekSpare() *bytes.Buffer {
	spare.mu.Lock()
	defer spare.mu.Unlock()
	return spare.p.Value()
}

// The same through the client: two pages over HTTPS, the second read into the first one's
// buffer. Every row the callback kept must still be encoding/json's rows of its page after the
// read, and the buffer must indeed have been reused (the spare left is the first page's).
func TestPagesReadIntoOneBufferKeepTheirRows(t *testing.T) {
	// The spare is held weakly: a collection between the two pages would (rightly) drop it, and
	// the second page would not reuse it.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var a, b []byte
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := a
		if r.URL.Query().Get("$skiptoken") == "p2" {
			body = b
		}
		// Sized, as Graph's responses are: the client then sizes the buffer from Content-Length.
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	a, b = pageBodies(t, srv.URL+"/beta/auditLogs/signIns?$skiptoken=p2")
	wantA, wantB := wantRows(t, a), wantRows(t, b)
	env := newTestClient(t, srv, nil)

	t.Run("signIns", func(t *testing.T) {
		takeSpare()
		var pages [][]SignIn
		q := SignInQuery{From: env.clock.Now().Add(-1e9), To: env.clock.Now()}
		if err := env.client.SignIns(context.Background(), q, collect(&pages)); err != nil {
			t.Fatal(err)
		}
		if len(pages) != 2 || !reflect.DeepEqual(pages[0], wantA) || !reflect.DeepEqual(pages[1], wantB) {
			t.Fatalf("got %d pages; rows differ from encoding/json's after the buffer was reused", len(pages))
		}
		// Sign-in pages are decoded as they arrive (stream.go): no page buffer is taken or given back.
		if sp := peekSpare(); sp != nil {
			t.Errorf("sign-in pages went through a page buffer of %d bytes", sp.Cap())
		}
	})

	t.Run("raw", func(t *testing.T) {
		takeSpare()
		var pages [][]json.RawMessage
		err := env.client.Get(context.Background(), "signIns", "/beta/auditLogs/signIns", func(rows []json.RawMessage) error {
			pages = append(pages, rows)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(pages) != 2 || !reflect.DeepEqual(pages[0], wantRawRows(t, a)) || !reflect.DeepEqual(pages[1], wantRawRows(t, b)) {
			t.Fatalf("got %d pages; raw rows differ after the buffer was reused", len(pages))
		}
	})
}

// The spare buffer holds a real page (at most 1,000 rows of 15 KB: 15,000,000 bytes) for the next
// one, but never a larger body's buffer, so a hostile 64 MiB page is not kept for good.
func TestSpareBufferBounds(t *testing.T) {
	defer takeSpare()
	takeSpare()
	// Nothing here may be collected while the test looks at it: big and small are held by the
	// test itself, and a collection must not drop the spare behind its back.

	const realPage = 1000 * 15000
	big := getBuffer(realPage)
	if big.Cap() < realPage+bytes.MinRead || big.Cap() > maxSpareBytes {
		t.Fatalf("buffer for a %d-byte page has capacity %d, want [%d, %d]", realPage, big.Cap(), realPage+bytes.MinRead, maxSpareBytes)
	}
	big.WriteString(strings.Repeat("x", 1000))
	putBuffer(big)
	if peekSpare() != big {
		t.Fatal("the largest real page's buffer was not kept")
	}
	if got := getBuffer(5_000_000); got != big || got.Len() != 0 {
		t.Fatalf("a smaller page got a new buffer (or a dirty one: %d bytes)", got.Len())
	}
	if peekSpare() != nil {
		t.Fatal("taking the spare left it in place: two reads would share one buffer")
	}

	// A concurrent read, finding no spare, gets a buffer of its own; handed back after the
	// larger one, it does not replace it.
	small := getBuffer(1000)
	if small == big {
		t.Fatal("the spare was handed out twice")
	}
	putBuffer(big)
	putBuffer(small)
	if peekSpare() != big {
		t.Error("a smaller buffer replaced the larger spare")
	}

	// A body larger than the spare gets a buffer of its own size, not twice the spare's.
	takeSpare()
	putBuffer(bytes.NewBuffer(make([]byte, 0, 1<<20)))
	grown := getBuffer(3 << 20)
	if c := grown.Cap(); c < 3<<20+bytes.MinRead || c > 4<<20 {
		t.Errorf("buffer for a 3 MiB body has capacity %d", c)
	}

	// A hostile page's buffer (up to maxPageBytes) is garbage once decoded.
	takeSpare()
	hostile := getBuffer(60 << 20)
	if hostile.Cap() < 60<<20 {
		t.Fatalf("buffer for a 60 MiB body has capacity %d", hostile.Cap())
	}
	putBuffer(hostile)
	if peekSpare() != nil {
		t.Error("a 60 MiB page's buffer was kept for the next page")
	}
}

// The spare does not keep a page's memory: once nothing else holds the buffer, a collection
// frees it, so between pages the process's live heap holds no page.
func TestSpareBufferIsNotPinned(t *testing.T) {
	defer takeSpare()
	func() {
		b := getBuffer(10 << 20)
		putBuffer(b)
		if peekSpare() != b {
			t.Fatal("a real page's buffer was not kept for the next page")
		}
	}()
	runtime.GC()
	runtime.GC()
	if peekSpare() != nil {
		t.Error("the spare buffer outlived a collection: it is pinned")
	}
}
