package simtenant

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"
)

// orderRows are 40 interactive rows r00..r39 two to a second-aligned createdDateTime (epoch +
// 10 s × (i/2)), so that ids sort like (createdDateTime, id), plus rows just outside the window
// the tests ask for and a non-interactive row inside it. visibleAt, when set, delays some rows.
func orderRows(visibleAt func(i int, created time.Time) time.Time) []Row {
	var rows []Row
	for i := range 40 {
		r := Row{ID: fmt.Sprintf("r%02d", i), CreatedDateTime: epoch.Add(time.Duration(i/2) * 10 * time.Second), IsInteractive: true}
		if visibleAt != nil {
			r.VisibleAt = visibleAt(i, r.CreatedDateTime)
		}
		rows = append(rows, r)
	}
	return append(rows,
		Row{ID: "before", CreatedDateTime: epoch.Add(-time.Second), IsInteractive: true},
		Row{ID: "after", CreatedDateTime: epoch.Add(191 * time.Second), IsInteractive: true},
		Row{ID: "noninteractive", CreatedDateTime: epoch.Add(50 * time.Second)},
	)
}

// windowURL asks for [epoch, epoch+190 s], which holds r00..r39 (r38 and r39 sit on the inclusive
// upper bound), with the documented filter form and a small page.
func windowURL(tn *Tenant, top string) string {
	return signInsURL(tn,
		"$filter", "createdDateTime ge "+epoch.Format(time.RFC3339)+" and createdDateTime le "+epoch.Add(190*time.Second).Format(time.RFC3339),
		"$top", top)
}

func rowIDs(t *testing.T, raws []json.RawMessage) []string {
	t.Helper()
	out := make([]string, 0, len(raws))
	for _, raw := range raws {
		var h rowHead
		if err := json.Unmarshal(raw, &h); err != nil {
			t.Fatal(err)
		}
		out = append(out, h.ID)
	}
	return out
}

// pageIDs follows next links from first and returns the ids of each page.
func pageIDs(t *testing.T, tn *Tenant, first, tok string, between func()) [][]string {
	t.Helper()
	var pages [][]string
	for next := first; next != ""; {
		p := decodePage(t, get(t, tn, next, tok, nil))
		pages = append(pages, rowIDs(t, p.Value))
		next = p.NextLink
		if between != nil {
			between()
		}
	}
	return pages
}

func window() []string {
	var ids []string
	for i := range 40 {
		ids = append(ids, fmt.Sprintf("r%02d", i))
	}
	return ids
}

func TestOrderModesServeTheWindowOnce(t *testing.T) {
	asc := window()
	desc := slices.Clone(asc)
	slices.Reverse(desc)
	for _, mode := range []Order{OrderNewestFirst, OrderAscending, OrderShuffled} {
		t.Run(mode.String(), func(t *testing.T) {
			clock := newFakeClock(epoch.Add(time.Hour))
			tn := start(t, Options{Now: clock.Now, RateLimit: -1, NoPadding: true, Order: mode, Seed: 5})
			tn.AddRows(orderRows(nil)...)
			pages := pageIDs(t, tn, windowURL(tn, "7"), token(t, tn), nil)
			if len(pages) != 6 { // 40 rows, 7 a page
				t.Errorf("%d pages, want 6", len(pages))
			}
			var got []string
			for i, p := range pages {
				if len(p) > 7 || (i < len(pages)-1 && len(p) != 7) {
					t.Errorf("page %d has %d rows with $top=7", i, len(p))
				}
				got = append(got, p...)
			}
			switch mode {
			case OrderNewestFirst:
				if !slices.Equal(got, desc) {
					t.Errorf("served %v, want newest first %v", got, desc)
				}
			case OrderAscending:
				if !slices.Equal(got, asc) {
					t.Errorf("served %v, want oldest first %v", got, asc)
				}
			case OrderShuffled:
				if !slices.Equal(slices.Sorted(slices.Values(got)), asc) {
					t.Fatalf("served %v, want a permutation of %v", got, asc)
				}
				if slices.Equal(got, asc) || slices.Equal(got, desc) {
					t.Errorf("shuffled query served a sorted window: %v", got)
				}
			}
		})
	}
}

// A shuffled query's pages follow one permutation: a next link asked for twice serves the same
// page. Another query, of the same window or another one, is permuted differently; one seed and
// one sequence of queries give the same permutations, so a failing run can be replayed.
func TestShuffledIsStablePerQueryAndDiffersBetweenQueries(t *testing.T) {
	clock := newFakeClock(epoch.Add(time.Hour))
	newTenant := func() (*Tenant, string) {
		tn := start(t, Options{Now: clock.Now, RateLimit: -1, NoPadding: true, Order: OrderShuffled, Seed: 9})
		tn.AddRows(orderRows(nil)...)
		return tn, token(t, tn)
	}
	tn, tok := newTenant()
	first := decodePage(t, get(t, tn, windowURL(tn, "7"), tok, nil))
	again := func(link string) []string { return rowIDs(t, decodePage(t, get(t, tn, link, tok, nil)).Value) }
	if a, b := again(first.NextLink), again(first.NextLink); !slices.Equal(a, b) || len(a) != 7 {
		t.Errorf("one next link served %v, then %v", a, b)
	}

	flat := func(pages [][]string) []string { return slices.Concat(pages...) }
	q1 := flat(pageIDs(t, tn, windowURL(tn, "7"), tok, nil))
	q2 := flat(pageIDs(t, tn, windowURL(tn, "7"), tok, nil))
	if slices.Equal(q1, q2) {
		t.Errorf("two queries of one window served the same permutation %v", q1)
	}
	// Another window: r10..r39 ([epoch+50 s, epoch+190 s]); compare the order of the rows the
	// two windows share.
	other := flat(pageIDs(t, tn, signInsURL(tn,
		"$filter", "createdDateTime ge "+epoch.Add(50*time.Second).Format(time.RFC3339)+" and createdDateTime le "+epoch.Add(190*time.Second).Format(time.RFC3339),
		"$top", "7"), tok, nil))
	if len(other) != 30 {
		t.Fatalf("window of r10..r39 served %d rows", len(other))
	}
	shared := slices.DeleteFunc(slices.Clone(q1), func(id string) bool { return id < "r10" })
	if slices.Equal(shared, other) {
		t.Errorf("another window kept the first query's permutation: %v", other)
	}

	// Only a query's first request draws a seed: replaying "first", then q1, gives q1 again.
	replay, rtok := newTenant()
	r0 := flat(pageIDs(t, replay, windowURL(replay, "7"), rtok, nil))
	r1 := flat(pageIDs(t, replay, windowURL(replay, "7"), rtok, nil))
	if !slices.Equal(r0[:7], rowIDs(t, first.Value)) || !slices.Equal(r1, q1) {
		t.Errorf("same seed and queries, different permutations: %v vs %v", r1, q1)
	}
}

// Rows become visible while a query pages (every third row 500 s after its createdDateTime, the
// clock moving 60 s a page). In every mode: no row is served twice, every row visible when the
// query started is served, some late rows join the query, the served order is the mode's, and a
// query started once everything is visible finds what the first one missed.
func TestLateRowsMidQuery(t *testing.T) {
	for _, mode := range []Order{OrderNewestFirst, OrderAscending, OrderShuffled} {
		t.Run(mode.String(), func(t *testing.T) {
			begin := epoch.Add(400 * time.Second)
			clock := newFakeClock(begin)
			tn := start(t, Options{Now: clock.Now, RateLimit: -1, NoPadding: true, Order: mode})
			late := map[string]bool{}
			rows := orderRows(func(i int, created time.Time) time.Time {
				if i%3 == 1 {
					late[fmt.Sprintf("r%02d", i)] = true
					return created.Add(500 * time.Second)
				}
				return created
			})
			slices.Reverse(rows) // added in reverse to show the store sorts
			tn.AddRows(rows...)
			tok := token(t, tn)

			seen := map[string]bool{}
			var got []string
			for _, p := range pageIDs(t, tn, windowURL(tn, "4"), tok, func() { clock.Advance(60 * time.Second) }) {
				for _, id := range p {
					if seen[id] {
						t.Fatalf("row %s served twice in one query", id)
					}
					seen[id] = true
					got = append(got, id)
				}
			}
			lateSeen, lateMissed := 0, 0
			for _, id := range window() {
				switch {
				case late[id] && seen[id]:
					lateSeen++
				case late[id]:
					lateMissed++
				case !seen[id]:
					t.Errorf("row %s, visible when the query started, was not served", id)
				}
			}
			if lateSeen == 0 {
				t.Error("no row that became visible mid-query was served by it")
			}
			t.Logf("%s: %d late rows joined the query, %d were missed", mode, lateSeen, lateMissed)
			switch mode {
			case OrderNewestFirst:
				if !slices.IsSortedFunc(got, func(a, b string) int { return -cmpString(a, b) }) {
					t.Errorf("not newest first: %v", got)
				}
			case OrderAscending:
				if !slices.IsSorted(got) {
					t.Errorf("not oldest first: %v", got)
				}
			}

			clock.Advance(time.Hour)
			tok = token(t, tn) // the first one has expired
			all := slices.Concat(pageIDs(t, tn, windowURL(tn, "7"), tok, nil)...)
			if !slices.Equal(slices.Sorted(slices.Values(all)), window()) {
				t.Errorf("a query once everything is visible served %v", all)
			}
		})
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Graph has been reported to ignore filter bounds; with IgnoreUpperBound the le clause is
// dropped and every visible row from the lower bound up to now comes back, while a row not yet
// visible still does not.
func TestIgnoreUpperBound(t *testing.T) {
	rows := []Row{
		{ID: "in1", CreatedDateTime: epoch, IsInteractive: true},
		{ID: "in2", CreatedDateTime: epoch.Add(5 * time.Minute), IsInteractive: true},
		{ID: "later", CreatedDateTime: epoch.Add(20 * time.Minute), IsInteractive: true},
		{ID: "latest", CreatedDateTime: epoch.Add(29 * time.Minute), IsInteractive: true},
		{ID: "invisible", CreatedDateTime: epoch.Add(25 * time.Minute), VisibleAt: epoch.Add(time.Hour), IsInteractive: true},
		{ID: "older", CreatedDateTime: epoch.Add(-time.Minute), IsInteractive: true},
	}
	query := []string{"$filter", "createdDateTime ge " + epoch.Format(time.RFC3339) + " and createdDateTime le " + epoch.Add(5*time.Minute).Format(time.RFC3339)}
	for _, tc := range []struct {
		ignore bool
		want   []string
	}{
		{false, []string{"in2", "in1"}},
		{true, []string{"latest", "later", "in2", "in1"}},
	} {
		t.Run(fmt.Sprint("ignore=", tc.ignore), func(t *testing.T) {
			clock := newFakeClock(epoch.Add(30 * time.Minute))
			tn := start(t, Options{Now: clock.Now, RateLimit: -1, NoPadding: true, IgnoreUpperBound: tc.ignore, PageSize: 1})
			tn.AddRows(rows...)
			got := rowIDs(t, readAll(t, tn, signInsURL(tn, query...), token(t, tn), nil))
			if !slices.Equal(got, tc.want) {
				t.Errorf("served %v, want %v", got, tc.want)
			}
		})
	}
}
