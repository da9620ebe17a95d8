package graph

import (
	"reflect"
	"testing"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph/graphtest"
)

// A read with ReuseRows decodes each page into the previous page's arrays: the rows it delivers
// must be exactly those a fresh decoder delivers, whatever the page before held (more rows, more
// policies and steps, or fewer).
func TestReusedSlabsDecodeTheSameRows(t *testing.T) {
	big, err := graphtest.SignInPage(60)
	if err != nil {
		t.Fatal(err)
	}
	small, err := graphtest.SignInPage(7)
	if err != nil {
		t.Fatal(err)
	}
	reusing := signInDecoder{reuse: true}
	for i, body := range [][]byte{small, big, small, big, big} {
		want, err := decodeSignInPage(body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := reusing.decodePage(body)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.rows) != len(want.rows) || !reflect.DeepEqual(got.rows, want.rows) || got.next != want.next {
			t.Fatalf("page %d: reused decoder gave %d rows, fresh %d (or different fields)", i, len(got.rows), len(want.rows))
		}
	}
}
