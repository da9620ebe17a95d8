package detect

// dueQueue orders users by the time something of theirs may be forgotten, so that Advance only
// visits those users instead of every tracked user (200,000 of them in a large tenant). Each
// user has at most one live entry per queue, the one whose time the user records; an entry that
// no longer matches is stale and dropped when it comes up.
type dueQueue []due

type due struct {
	at  int64 // what the queue compares: a prompt's Unix second, or a row's Unix ns
	key uint64
}

func (q *dueQueue) push(at int64, key uint64) {
	*q = append(*q, due{at, key})
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if h[parent].at <= h[i].at {
			break
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
}

// popBefore removes and returns the earliest entry when its time is below limit.
func (q *dueQueue) popBefore(limit int64) (due, bool) {
	h := *q
	if len(h) == 0 || h[0].at >= limit {
		return due{}, false
	}
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, r, small := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].at < h[small].at {
			small = l
		}
		if r < len(h) && h[r].at < h[small].at {
			small = r
		}
		if small == i {
			break
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
	*q = h
	return top, true
}
