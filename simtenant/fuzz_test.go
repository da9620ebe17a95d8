package simtenant

import (
	"net/url"
	"testing"
)

// FuzzParseQuery checks that no query string makes the parser panic and
// that whatever it accepts is a query the page code can run.
func FuzzParseQuery(f *testing.F) {
	for _, seed := range []string{
		"",
		"$filter=createdDateTime+ge+2025-03-10T08:00:00Z&$orderby=createdDateTime+asc&$top=10",
		"$filter=createdDateTime+gt+2025-03-10T08:00:00Z",
		"$filter=" + url.QueryEscape("createdDateTime ge 2026-01-01T10:00:00Z and createdDateTime le 2026-01-01T10:05:00Z and signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')") + "&$top=1000",
		"$filter=" + url.QueryEscape("signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')"),
		"$select=id",
		"$skiptoken=eyJmIjoiIiwibyI6IiIsInQiOiIiLCJjIjowLCJpIjoieCJ9",
		"$top=1001&$count=true",
		"%zz",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, mode := range []OrderByMode{OrderByReject, OrderByIgnore, OrderByHonour} {
			q, err := parseQuery(raw, mode)
			if err != nil {
				if _, ok := err.(badRequest); !ok {
					t.Fatalf("error of type %T: %v", err, err)
				}
				continue
			}
			if q.events == 0 || q.top < 0 || q.top > maxTop {
				t.Fatalf("accepted an unusable query %+v from %q", q, raw)
			}
			if mode == OrderByReject && q.rawOrder != "" {
				t.Fatalf("accepted $orderby %q although it is refused", q.rawOrder)
			}
			for _, b := range q.bounds {
				if !createdOps[b.op] {
					t.Fatalf("accepted operator %q on createdDateTime", b.op)
				}
			}
		}
	})
}
