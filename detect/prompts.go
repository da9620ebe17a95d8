package detect

import (
	"cmp"
	"slices"
	"time"
)

// prompt is one prompt of a user: its time in Unix seconds and a hash of its row id (to drop a
// row fed twice). Eight bytes, because every user prompted in the last 24 hours has a list.
type prompt struct {
	sec uint32
	row uint32
}

func cmpPrompt(a, b prompt) int {
	return cmp.Or(cmp.Compare(a.sec, b.sec), cmp.Compare(a.row, b.row))
}

// promptsOf returns the user's prompts, sorted. The slice may be the record's own array: it is
// valid until the user's prompts change.
func (d *Detector) promptsOf(u *user) []prompt {
	if u.n <= inlinePrompts {
		return u.in[:u.n]
	}
	return d.exts[u.x-1].more
}

// storePrompts makes ps the user's prompts (ps may alias what promptsOf returned) and keeps
// the count of users by number of prompts held.
func (d *Detector) storePrompts(u *user, ps []prompt) {
	old, n := int(u.n), len(ps)
	if old != n {
		if old > 0 {
			d.promptUsers[old]--
			d.nPrompted--
		}
		if n > 0 {
			d.promptUsers[n]++
			d.nPrompted++
		}
	}
	if n <= inlinePrompts {
		copy(u.in[:], ps)
		clear(u.in[n:])
		if old > inlinePrompts {
			d.exts[u.x-1].more = nil
			d.dropExt(u)
		}
	} else {
		d.ext(u).more = ps
	}
	u.n = uint16(n)
}

// addPrompt records a prompt and reports whether it was already there. Only the latest
// promptKeep prompts are kept: to tell whether a user had more than N prompts in the window, the
// (N+1)th latest is all that matters. That keeps duplicate detection exact too: a prompt that
// fell off the list is older than every prompt on it, so the same row fed again falls off again.
// first tells whether the earliest prompt changed (the user's promptQ entry with it).
func (d *Detector) addPrompt(u *user, sec, row uint32) (dup, first bool) {
	p := prompt{sec, row}
	ps := d.promptsOf(u)
	i, found := slices.BinarySearchFunc(ps, p, cmpPrompt)
	if found {
		return true, false
	}
	if len(ps) >= d.s.promptKeep() {
		if i == 0 {
			return false, false
		}
		ps = slices.Delete(ps, 0, 1)
		i--
		first = true
	}
	// Inline, ps has the capacity of the record's array: Insert moves it to a new array when
	// it outgrows it.
	d.storePrompts(u, slices.Insert(ps, i, p))
	return false, first || i == 0
}

// prunePrompts drops the user's prompts at or before from (Unix seconds): the window is
// (now-W, now].
func (d *Detector) prunePrompts(u *user, from int64) {
	ps := d.promptsOf(u)
	cut := 0
	for cut < len(ps) && int64(ps[cut].sec) <= from {
		cut++
	}
	if cut == 0 {
		return
	}
	rest := ps[cut:]
	if len(rest) > inlinePrompts {
		// Copy rather than reslice, so that the dropped head does not stay allocated.
		rest = slices.Clone(rest)
	}
	d.storePrompts(u, rest)
}

// promptDistribution counts users by prompts in (now-PromptWindow, now], to the second, from
// the counts of users by prompts held (promptUsers), kept as prompts come and go. Those
// count prompts that left the window since the last Advance: the users holding such prompts are
// those whose earliest prompt is at or before the window's start, whose promptQ entries are
// the ones due; they are counted again from their prompts. Equal to counting every user's
// prompts in the window (TestPromptCountsEqualARecount), at the cost of the users due.
func (d *Detector) promptDistribution() PromptDistribution {
	bounds := d.s.PromptBuckets
	out := PromptDistribution{
		Window: d.s.PromptWindow, Bounds: slices.Clone(bounds),
		AtMost: make([]int, len(bounds)), MoreThan: make([]int, len(bounds)),
	}
	from := (d.now - int64(d.s.PromptWindow)) / int64(time.Second)
	counts := d.promptUsers
	var seen map[uint32]bool
	d.promptQ.before(from, func(q promptDue) {
		u, ok := d.promptDueUser(q)
		if !ok || seen[q.rec] {
			return // stale, or a second entry for the same prompt
		}
		if seen == nil {
			seen = map[uint32]bool{}
			counts = slices.Clone(counts)
		}
		seen[q.rec] = true
		ps := d.promptsOf(u)
		in := 0
		for _, p := range ps {
			if int64(p.sec) > from {
				in++
			}
		}
		counts[len(ps)]--
		counts[in]++
	})
	for n := 1; n < len(counts); n++ {
		c := counts[n]
		if c == 0 {
			continue
		}
		out.Users += c
		for i, b := range bounds {
			if n <= b {
				out.AtMost[i] += c
			} else {
				out.MoreThan[i] += c
			}
		}
	}
	return out
}
