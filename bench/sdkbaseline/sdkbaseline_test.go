// Package sdkbaseline measures the Microsoft Graph SDK's typed decoding of a sign-in page next to
// the exporter's own decoder, on the same bytes and in the same run. It is a module of its own so
// that the SDK (minutes and gigabytes to build) never enters the exporter's build:
//
//	cd bench/sdkbaseline && go test -run '^$' -bench . -benchtime 20x
package sdkbaseline

import (
	"testing"

	goccy "github.com/goccy/go-json"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph/graphtest"
)

const rows = 1000

// sdkDecode decodes a page as an SDK client does: Kiota's JSON parse node into the generated
// SignInCollectionResponse model.
func sdkDecode(page []byte) ([]models.SignInable, error) {
	node, err := jsonserialization.NewJsonParseNode(page)
	if err != nil {
		return nil, err
	}
	v, err := node.GetObjectValue(models.CreateSignInCollectionResponseFromDiscriminatorValue)
	if err != nil {
		return nil, err
	}
	return v.(models.SignInCollectionResponseable).GetValue(), nil
}

// pages are the pages both decoders read, built by graphtest: page=realistic (rows that differ as a
// real tenant's do, the headline figure) and page=repeated (one row repeated with a few fields
// changed, the best case for a decoder that remembers the row before).
var pages = []struct {
	name  string
	build func(int) ([]byte, error)
}{
	{"realistic", graphtest.RealisticSignInPage},
	{"repeated", graphtest.SignInPage},
}

// Both decoders read the same rows, so the benchmark compares equal work.
func TestSameRows(t *testing.T) {
	for _, pg := range pages {
		t.Run(pg.name, func(t *testing.T) {
			page, err := pg.build(rows)
			if err != nil {
				t.Fatal(err)
			}
			sdkRows, err := sdkDecode(page)
			if err != nil {
				t.Fatal(err)
			}
			own, _, malformed, err := graph.DecodeSignInPage(page)
			if err != nil || malformed != 0 {
				t.Fatalf("DecodeSignInPage: %v, %d malformed", err, malformed)
			}
			if len(sdkRows) != rows || len(own) != rows {
				t.Fatalf("SDK %d rows, own %d, want %d", len(sdkRows), len(own), rows)
			}
			for i, r := range sdkRows {
				o := own[i]
				switch {
				case r.GetId() == nil || *r.GetId() != o.ID,
					r.GetCreatedDateTime() == nil || !r.GetCreatedDateTime().Equal(o.CreatedDateTime),
					r.GetCorrelationId() == nil || *r.GetCorrelationId() != o.CorrelationID,
					r.GetUserId() == nil || *r.GetUserId() != o.UserID,
					r.GetAppId() == nil || *r.GetAppId() != o.AppID,
					r.GetStatus() == nil || r.GetStatus().GetErrorCode() == nil || int(*r.GetStatus().GetErrorCode()) != o.Status.ErrorCode,
					r.GetLocation() == nil || r.GetLocation().GetCountryOrRegion() == nil || *r.GetLocation().GetCountryOrRegion() != o.Location.CountryOrRegion,
					len(r.GetAppliedConditionalAccessPolicies()) != len(o.AppliedConditionalAccessPolicies):
					t.Fatalf("row %d differs: SDK id %v, own %+v", i, r.GetId(), o)
				}
			}
		})
	}
}

func BenchmarkDecodePage(b *testing.B) {
	for _, pg := range pages {
		page, err := pg.build(rows)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("page="+pg.name, func(b *testing.B) { benchmarkPage(b, page) })
	}
}

func benchmarkPage(b *testing.B, page []byte) {
	b.Run("graph-sdk", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for b.Loop() {
			r, err := sdkDecode(page)
			if err != nil || len(r) != rows {
				b.Fatalf("%v, %d rows", err, len(r))
			}
		}
	})
	// goccy/go-json decoding the page whole into the exporter's own row type: the fastest
	// well-known decoder, for the record. It cannot skip one bad row (the page fails whole), bounds
	// no string, and allocates every string it keeps.
	b.Run("goccy-go-json", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for b.Loop() {
			var p struct {
				Value    []graph.SignIn `json:"value"`
				NextLink string         `json:"@odata.nextLink"`
			}
			if err := goccy.Unmarshal(page, &p); err != nil || len(p.Value) != rows {
				b.Fatalf("%v, %d rows", err, len(p.Value))
			}
		}
	})
	// The exporter's decoder as the client runs it: the body decoded as it arrives, through a
	// 512 KiB window, in reads of 16 KiB (graph/stream.go). The headline.
	b.Run("window", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for b.Loop() {
			r, _, _, err := graph.DecodeSignInPageFrom(graphtest.Chunks(page, 16<<10), int64(len(page)))
			if err != nil || len(r) != rows {
				b.Fatalf("%v, %d rows", err, len(r))
			}
		}
	})
	// The same decoder over a body read whole first.
	b.Run("streaming", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for b.Loop() {
			r, _, _, err := graph.DecodeSignInPage(page)
			if err != nil || len(r) != rows {
				b.Fatalf("%v, %d rows", err, len(r))
			}
		}
	})
}
