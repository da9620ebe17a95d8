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
		"$filter=" + url.QueryEscape("signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')"),
		"$select=id",
		"$skiptoken=eyJmIjoiIiwibyI6IiIsInQiOiIiLCJjIjowLCJpIjoieCJ9",
		"$top=1001&$count=true",
		"%zz",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parseQuery(raw)
		if err != nil {
			if _, ok := err.(badRequest); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if q.events == 0 || q.top < 0 || q.top > maxTop {
			t.Fatalf("accepted an unusable query %+v from %q", q, raw)
		}
		for _, b := range q.bounds {
			switch b.op {
			case "ge", "gt", "le", "lt":
			default:
				t.Fatalf("accepted operator %q", b.op)
			}
		}
	})
}
