package detect

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
)

// Incremental export. Export returns the whole state, whose bulk is the users (their windows and
// prompts); a caller that commits the state after every page of rows can instead write the head
// (ExportHead: clock, counters, episodes) and the records of the users that changed since its
// last write (TakeChanged, ExportUser), and join them again with AssembleState at load:
//
//	AssembleState(ExportHead(), [ExportUser(k) for k in UserKeys()]) == Export()
//
// TakeChanged names every user whose record may have changed: the user a row was fed for, and
// the users Advance concluded an episode of, pruned the prompts or rows of, or forgot. The
// episodes can be kept apart the same way (episodechanges.go: ExportHeadOnly,
// TakeChangedEpisodes, ExportEpisode).

// UserRecord is one user's share of State: its windows (nil when it has only prompts) and its
// prompts, packed as State.Prompts packs them, for this one user.
type UserRecord struct {
	User    *UserState `json:"user,omitempty"`
	Prompts []byte     `json:"prompts,omitempty"`
}

func (d *Detector) touch(key uint64) {
	if d.changed != nil {
		d.changed[key] = struct{}{}
	}
}

// TakeChanged returns, sorted, the keys of the users whose record may have changed since the
// previous call; a user no longer held (ExportUser false) was forgotten. The first call starts
// the tracking and returns nil: the caller then writes every user (UserKeys).
func (d *Detector) TakeChanged() []uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.changed == nil {
		d.changed = map[uint64]struct{}{}
		return nil
	}
	keys := make([]uint64, 0, len(d.changed))
	for k := range d.changed {
		keys = append(keys, k)
	}
	clear(d.changed)
	slices.Sort(keys)
	return keys
}

// UserKeys returns the keys of every user held, sorted.
func (d *Detector) UserKeys() []uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	keys := make([]uint64, 0, d.users.len())
	for _, u := range d.users.all() {
		keys = append(keys, u.key)
	}
	slices.Sort(keys)
	return keys
}

// ExportHead returns State without its Users and Prompts: the clock, counters and episodes
// (sorted by id, as Export lists them).
func (d *Detector) ExportHead() State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.exportHead()
}

// ExportUser returns the record of the user with the given key, false when none is held.
func (d *Detector) ExportUser(key uint64) (UserRecord, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, _ := d.users.get(key)
	if u == nil {
		return UserRecord{}, false
	}
	var rec UserRecord
	if dd := d.detailOf(u); dd != nil {
		us := dd.state()
		rec.User = &us
	}
	rec.Prompts = d.packPrompts([]uint64{key})
	return rec, true
}

// AssembleState joins a head, user records and episodes into the State Export would have
// returned. The head may itself hold users, prompts and episodes (a State exported whole); a
// caller may also keep the head's episodes apart, one by one, and give them back here.
func AssembleState(head State, recs []UserRecord, episodes []EpisodeState) (State, error) {
	if len(recs) == 0 && len(episodes) == 0 {
		return head, nil
	}
	st := head
	if len(episodes) > 0 {
		st.Episodes = append(slices.Clone(head.Episodes), episodes...)
		slices.SortFunc(st.Episodes, func(a, b EpisodeState) int { return cmp.Compare(a.ID, b.ID) })
	}
	if len(recs) == 0 {
		return st, nil
	}
	st.Users = slices.Clone(head.Users)
	pieces, err := splitPrompts(head.Prompts, nil)
	if err != nil {
		return State{}, err
	}
	for _, r := range recs {
		if r.User != nil {
			st.Users = append(st.Users, *r.User)
		}
		if pieces, err = splitPrompts(r.Prompts, pieces); err != nil {
			return State{}, err
		}
	}
	slices.SortFunc(st.Users, func(a, b UserState) int { return cmp.Compare(a.UserID, b.UserID) })
	slices.SortFunc(pieces, func(a, b []byte) int {
		return cmp.Compare(binary.BigEndian.Uint64(a), binary.BigEndian.Uint64(b))
	})
	st.Prompts = nil
	if len(pieces) > 0 {
		st.Prompts = binary.AppendUvarint([]byte{promptsFormat}, uint64(len(pieces)))
		for _, p := range pieces {
			st.Prompts = append(st.Prompts, p...)
		}
	}
	return st, nil
}

// splitPrompts appends to out the per-user pieces of packed prompts (packPrompts): each the
// user's 8-byte key, count, times and row hashes. Only the framing is checked here; Restore
// checks the values.
func splitPrompts(b []byte, out [][]byte) ([][]byte, error) {
	if len(b) == 0 {
		return out, nil
	}
	if b[0] != promptsFormat {
		return nil, fmt.Errorf("%w: prompts format %d", errCorrupt, b[0])
	}
	b = b[1:]
	users, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, fmt.Errorf("%w: truncated prompts", errCorrupt)
	}
	b = b[n:]
	for range users {
		start := b
		if len(b) < 8 {
			return nil, fmt.Errorf("%w: truncated prompts", errCorrupt)
		}
		b = b[8:]
		count, n := binary.Uvarint(b)
		if n <= 0 || count > uint64(len(b))/5 {
			return nil, fmt.Errorf("%w: prompt count", errCorrupt)
		}
		b = b[n:]
		for range count {
			_, n := binary.Uvarint(b)
			if n <= 0 {
				return nil, fmt.Errorf("%w: truncated prompts", errCorrupt)
			}
			b = b[n:]
		}
		if uint64(len(b)) < 4*count {
			return nil, fmt.Errorf("%w: truncated prompts", errCorrupt)
		}
		b = b[4*count:]
		out = append(out, start[:len(start)-len(b)])
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the prompts", errCorrupt, len(b))
	}
	return out, nil
}
