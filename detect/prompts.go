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

// addPrompt records a prompt and reports whether it was already there. Only the latest
// promptKeep prompts are kept: to tell whether a user had more than N prompts in the window, the
// (N+1)th latest is all that matters. That keeps duplicate detection exact too: a prompt that
// fell off the list is older than every prompt on it, so the same row fed again falls off again.
func (d *Detector) addPrompt(u *user, sec, row uint32) bool {
	p := prompt{sec, row}
	i, found := slices.BinarySearchFunc(u.prompts, p, cmpPrompt)
	if found {
		return true
	}
	keep := d.s.promptKeep()
	if len(u.prompts) >= keep {
		if i == 0 {
			return false
		}
		u.prompts = slices.Delete(u.prompts, 0, 1)
		i--
	}
	u.prompts = slices.Insert(u.prompts, i, p)
	return false
}

// prunePrompts drops prompts at or before from (Unix seconds): the window is (now-W, now].
func prunePrompts(ps []prompt, from int64) []prompt {
	cut := 0
	for cut < len(ps) && int64(ps[cut].sec) <= from {
		cut++
	}
	if cut == 0 {
		return ps
	}
	if cut == len(ps) {
		return nil
	}
	// Copy rather than reslice, so that the dropped head does not stay allocated.
	return slices.Clone(ps[cut:])
}

// promptDistribution counts users by prompts in (now-PromptWindow, now], to the second.
func (d *Detector) promptDistribution() PromptDistribution {
	bounds := d.s.PromptBuckets
	out := PromptDistribution{
		Window: d.s.PromptWindow, Bounds: slices.Clone(bounds),
		AtMost: make([]int, len(bounds)), MoreThan: make([]int, len(bounds)),
	}
	from := (d.now - int64(d.s.PromptWindow)) / int64(time.Second)
	for _, u := range d.users {
		n := 0
		for _, p := range u.prompts {
			if int64(p.sec) > from {
				n++
			}
		}
		if n == 0 {
			continue
		}
		out.Users++
		for i, b := range bounds {
			if n <= b {
				out.AtMost[i]++
			} else {
				out.MoreThan[i]++
			}
		}
	}
	return out
}
