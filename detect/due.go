package detect

// dueQueue orders users by the time something of theirs may be forgotten, so that Advance only
// visits those users instead of every tracked user (200,000 of them in a large tenant). Each
// user has at most one live entry per queue, the one that matches what the user holds now; an
// entry that no longer matches is stale and dropped when it comes up (and all at once when they
// outnumber the live ones: Detector.schedulePrompt).
type dueQueue[E dueEntry] []E

type dueEntry interface {
	when() int64
}

// due is an entry of the detail queue: a row's Unix ns and the user's key.
type due struct {
	at  int64
	key uint64
}

func (e due) when() int64 { return e.at }

// promptDue is an entry of the prompt queue: the user's earliest prompt (Unix s) and record
// number, 8 bytes, as every user prompted in the window has one.
type promptDue struct {
	sec, rec uint32
}

func (e promptDue) when() int64 { return int64(e.sec) }

func (q *dueQueue[E]) push(e E) {
	*q = append(*q, e)
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if h[parent].when() <= h[i].when() {
			break
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
}

// popBefore removes and returns the earliest entry when its time is below limit.
func (q *dueQueue[E]) popBefore(limit int64) (E, bool) {
	h := *q
	if len(h) == 0 || h[0].when() >= limit {
		var zero E
		return zero, false
	}
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	h.down(0)
	*q = h
	return top, true
}

func (q dueQueue[E]) down(i int) {
	for {
		l, r, small := 2*i+1, 2*i+2, i
		if l < len(q) && q[l].when() < q[small].when() {
			small = l
		}
		if r < len(q) && q[r].when() < q[small].when() {
			small = r
		}
		if small == i {
			return
		}
		q[i], q[small] = q[small], q[i]
		i = small
	}
}

// heapify orders entries appended in any order.
func (q dueQueue[E]) heapify() {
	for i := len(q)/2 - 1; i >= 0; i-- {
		q.down(i)
	}
}

// before calls f for every entry whose time is at most limit, in no particular order, without
// changing the queue: the entries at or below a limit are a subtree at the root.
func (q dueQueue[E]) before(limit int64, f func(E)) {
	if len(q) == 0 || q[0].when() > limit {
		return
	}
	stack := []int{0}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		f(q[i])
		for _, c := range [2]int{2*i + 1, 2*i + 2} {
			if c < len(q) && q[c].when() <= limit {
				stack = append(stack, c)
			}
		}
	}
}
