package detect

import (
	"slices"
	"time"
)

// bruteDistribution counts users by their prompts in (now-PromptWindow, now] by walking every
// user, as Snapshot did before it kept the counts as it went: the reference the counts must
// equal.
func bruteDistribution(d *Detector) PromptDistribution {
	d.mu.Lock()
	defer d.mu.Unlock()
	bounds := d.s.PromptBuckets
	out := PromptDistribution{
		Window: d.s.PromptWindow, Bounds: slices.Clone(bounds),
		AtMost: make([]int, len(bounds)), MoreThan: make([]int, len(bounds)),
	}
	from := (d.now - int64(d.s.PromptWindow)) / int64(time.Second)
	for _, u := range d.users.all() {
		n := 0
		for _, p := range d.promptsOf(u) {
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

func equalDistribution(a, b PromptDistribution) bool {
	return a.Window == b.Window && a.Users == b.Users && slices.Equal(a.Bounds, b.Bounds) &&
		slices.Equal(a.AtMost, b.AtMost) && slices.Equal(a.MoreThan, b.MoreThan)
}

// heldPrompts returns the prompts held and those of them in the window.
func heldPrompts(d *Detector) (held, in int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	from := (d.now - int64(d.s.PromptWindow)) / int64(time.Second)
	for _, u := range d.users.all() {
		for _, p := range d.promptsOf(u) {
			held++
			if int64(p.sec) > from {
				in++
			}
		}
	}
	return held, in
}

// heldBy returns the prompts held for a user.
func heldBy(d *Detector, userID string) []prompt {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, _ := d.users.get(userKey(userID))
	if u == nil {
		return nil
	}
	return slices.Clone(d.promptsOf(u))
}
