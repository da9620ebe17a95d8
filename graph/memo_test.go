package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph/graphtest"
)

// sameToken compares words inline for tokens of 8 bytes or more: every length around the word
// sizes, with a difference at every position (and none), at every alignment, and with the tokens
// ending at the end of the buffer, must agree with bytes.Equal.
func TestSameToken(t *testing.T) {
	for n := 1; n <= 40; n++ {
		for shift := range 3 {
			// b holds token a at shift, then token b, which ends the buffer.
			b := make([]byte, shift+2*n)
			for k := range n {
				b[shift+k] = byte('a' + k%26)
				b[shift+n+k] = byte('a' + k%26)
			}
			i, j := shift+n, shift
			if !sameToken(b, i, j, n) {
				t.Errorf("n=%d shift=%d: equal tokens reported different", n, shift)
			}
			for at := range n {
				b[i+at] ^= 0x20
				if got, want := sameToken(b, i, j, n), bytes.Equal(b[i:i+n], b[j:j+n]); got != want {
					t.Errorf("n=%d shift=%d: difference at byte %d: sameToken = %v", n, shift, at, got)
				}
				b[i+at] ^= 0x20
			}
		}
	}
}

// Memos hold offsets into the page being decoded, and the client decodes every page of a read
// into the same buffer: a decoder that kept its memos would compare the new page with itself at
// the old offsets and take the key "id" for the unknown key remembered there.
func TestMemosDoNotOutliveThePage(t *testing.T) {
	buf := make([]byte, 0, 64)
	d := signInDecoder{reuse: true}
	for i, body := range []string{`{"value":[{"ab":"z"}]}`, `{"value":[{"id":"z"}]}`, `{"value":[{"ab":"z"}]}`} {
		buf = append(buf[:0], body...)
		page, err := d.decodePage(buf)
		if err != nil {
			t.Fatal(err)
		}
		wantRows := 0
		if i == 1 {
			wantRows = 1
		}
		if len(page.rows) != wantRows || page.malformed != 1-wantRows {
			t.Errorf("page %d (%s): %d rows, %d malformed; want %d rows", i, body, len(page.rows), page.malformed, wantRows)
		}
	}
}

// A policy copied from the memo gets lists of its own: rows share no arrays, so that one row's
// lists can be changed (or kept) without touching another's.
func TestMemoPolicyHasItsOwnLists(t *testing.T) {
	row := `{"id":"%s","appliedConditionalAccessPolicies":[{"id":"p","enforcedGrantControls":["Mfa"],"enforcedSessionControls":["SignInFrequency"]}]}`
	page, err := decodeSignInPage([]byte(pageOf(fmt.Sprintf(row, "a"), fmt.Sprintf(row, "b"))))
	if err != nil || len(page.rows) != 2 {
		t.Fatalf("decode: %v, %d rows", err, len(page.rows))
	}
	a, b := page.rows[0].AppliedConditionalAccessPolicies[0], page.rows[1].AppliedConditionalAccessPolicies[0]
	b.EnforcedGrantControls[0], b.EnforcedSessionControls[0] = "changed", "changed"
	if a.EnforcedGrantControls[0] != "Mfa" || a.EnforcedSessionControls[0] != "SignInFrequency" {
		t.Errorf("changing row b's lists changed row a's: %q, %q", a.EnforcedGrantControls, a.EnforcedSessionControls)
	}
}

// distinctRowsPage is the benchmark page with every string value and number made different in
// each row, at its end (a suffix), so that no value is the bytes at the same place in the row
// before: every comparison of a value with a remembered one fails, after comparing all but its
// last bytes. Keys and timestamps (which must parse) stay as they are, as in any real page.
func distinctRowsPage(rows int) ([]byte, error) {
	body, err := graphtest.SignInPage(rows)
	if err != nil {
		return nil, err
	}
	var page struct {
		Value []map[string]any `json:"value"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&page); err != nil {
		return nil, err
	}
	var vary func(key string, v any, row int) any
	vary = func(key string, v any, row int) any {
		switch v := v.(type) {
		case string:
			if strings.HasSuffix(key, "DateTime") {
				return v
			}
			return fmt.Sprintf("%s-%d", v, row)
		case json.Number:
			if v == "0" {
				return json.Number(fmt.Sprint(row%10 + 1))
			}
			return json.Number(fmt.Sprintf("%s%d", v, row%10))
		case map[string]any:
			for k, e := range v {
				v[k] = vary(k, e, row)
			}
		case []any:
			for i, e := range v {
				v[i] = vary(key, e, row)
			}
		}
		return v
	}
	for i, r := range page.Value {
		for k, v := range r {
			if k != "status" { // errorCode must stay an integer in range
				r[k] = vary(k, v, i)
			}
		}
	}
	return json.Marshal(page)
}

// BenchmarkDecodeDistinctRows is the decoder's worst case for its memos: rows that share no value
// with the row before (see distinctRowsPage).
func BenchmarkDecodeDistinctRows(b *testing.B) {
	page, err := distinctRowsPage(1000)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := decodeSignInPage(page)
		if err != nil || len(p.rows) != 1000 {
			b.Fatalf("decode: %v, %d rows, %d malformed (%v)", err, len(p.rows), p.malformed, p.firstErr)
		}
	}
}
