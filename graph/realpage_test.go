package graph

import (
	"testing"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph/graphtest"
)

// The benchmark's headline page decodes to exactly what encoding/json gives, row by row and field
// by field, so the speed measured on it is for the same work. Its rows vary like a real tenant's,
// so they reach the decoder's memos (memo.go) with values that differ from the row before at
// every depth: policies whose result changed, steps of another flow, another device.
func TestDecodeRealisticPageMatchesEncodingJSON(t *testing.T) {
	rows := 1000
	if testing.Short() {
		rows = 200
	}
	body, err := graphtest.RealisticSignInPage(rows)
	if err != nil {
		t.Fatal(err)
	}
	want, err := referenceDecodeSignInPage(body)
	if err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	got, err := decodeSignInPage(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.rows) != rows || want.malformed != 0 {
		t.Fatalf("encoding/json read %d rows, %d malformed; the page has %d valid rows", len(want.rows), want.malformed, rows)
	}
	comparePages(t, got, want)
}
