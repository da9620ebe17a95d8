package collector

import (
	"errors"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
)

// errStateCommit marks a poll whose work could not be committed: everything stays pending (not
// exposed, nothing lost) until a commit succeeds.
var errStateCommit = errors.New("committing state failed")

// narrowable tells whether a read failed because of what its window holds (a malformed page,
// next links that loop or never end, a read that outlasts its time box) rather than because of
// Graph's availability or access: reading a narrower window may get past it.
func narrowable(err error) bool {
	var mp *graph.MalformedPageError
	return errors.As(err, &mp) || errors.Is(err, graph.ErrPagingLoop) || errors.Is(err, graph.ErrTooManyPages) ||
		errors.Is(err, graph.ErrReadTimeBox)
}

func errorReason(err error) string {
	var mp *graph.MalformedPageError
	var api *graph.APIError
	switch {
	case errors.Is(err, errStateCommit):
		return "state_commit"
	case errors.Is(err, graph.ErrLicence):
		return "licence"
	case errors.Is(err, graph.ErrPermission):
		return "permission"
	case errors.Is(err, graph.ErrAuthentication):
		return "authentication"
	case errors.As(err, &mp):
		return "malformed_page"
	case errors.Is(err, graph.ErrPagingLoop), errors.Is(err, graph.ErrTooManyPages), errors.Is(err, graph.ErrReadTimeBox):
		return "paging"
	case errors.Is(err, graph.ErrRedirect):
		return "redirect"
	case errors.As(err, &api) && api.StatusCode == 429:
		return "throttled"
	case errors.As(err, &api):
		return "graph_error"
	}
	return "other"
}
