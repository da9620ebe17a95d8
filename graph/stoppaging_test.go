package graph

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// ErrStopPaging returned for a page with more pages after it ends paging with that error; returned
// for the last page, the read counts as complete (nil), so the caller may advance its cursor.
func TestErrStopPaging(t *testing.T) {
	for _, tc := range []struct {
		name      string
		stopAt    int // page number whose callback asks to stop
		wantErr   bool
		wantPages int
	}{
		{"stop on the first of three pages", 1, true, 1},
		{"stop on the last page", 3, false, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, seen := pagedGraph(t)
			env := newTestClient(t, srv, nil)
			pages := 0
			err := env.client.SignIns(context.Background(), testQuery, func([]SignIn) error {
				pages++
				if pages == tc.stopAt {
					return fmt.Errorf("time box: %w", ErrStopPaging)
				}
				return nil
			})
			if got := errors.Is(err, ErrStopPaging); got != tc.wantErr || (!tc.wantErr && err != nil) {
				t.Errorf("err = %v, want ErrStopPaging: %v", err, tc.wantErr)
			}
			if pages != tc.wantPages || len(seen.Requests()) != tc.wantPages {
				t.Errorf("pages delivered %d, requests %d; want %d", pages, len(seen.Requests()), tc.wantPages)
			}
		})
	}
}
