package detect

import "slices"

// Incremental export of episodes, as TakeChanged does for users: a caller that commits after
// every page writes the head without its episodes (ExportHeadOnly) and only the episodes
// TakeChangedEpisodes names (ExportEpisode, or a delete when it is no longer held), so that a
// commit costs the episodes its rows or Advance changed, not every episode held:
//
//	ExportHead().Episodes == [ExportEpisode(id) for id in EpisodeIDs()]
//
// Every change to what EpisodeState holds goes through markEpisode (or forgetEpisode for an
// id that leaves the detector): the rows an episode gains (addRow), its registration, a new id
// when a late row becomes its first (rekey), a success, its conclusion, its expiry.

// markEpisode records that the episode's exported state (EpisodeState) or its public form
// (Episode) changed. The episode is recorded, not its id, which TakeChangedEpisodes reads:
// the id may change after (rekey). An episode being built has no id yet and is not held:
// register marks it once it is.
func (d *Detector) markEpisode(e *episode) {
	e.pub = nil
	d.epGen++
	if d.changedEps != nil && e.id != "" {
		d.changedEps[e] = struct{}{}
	}
}

// forgetEpisode records that no episode is held under id any more (forgotten, or given
// another id). The listing does not change: a forgotten episode had left it already (expire),
// and an episode given another id is marked under it.
func (d *Detector) forgetEpisode(id string) {
	if d.goneEps != nil {
		d.goneEps[id] = struct{}{}
	}
}

// addRow counts a row into an episode (episode.add) and marks it changed.
func (d *Detector) addRow(e *episode, ev *event) {
	e.add(ev, d.s.MaxListLen)
	d.markEpisode(e)
}

// TakeChangedEpisodes returns, sorted, the ids of the episodes created, changed or forgotten
// since the previous call: an id no longer held (ExportEpisode false) was forgotten, or its
// episode was given another id, which is listed too. The first call starts the tracking and
// returns nil: the caller then writes every episode (ExportHead).
func (d *Detector) TakeChangedEpisodes() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.changedEps == nil {
		d.changedEps, d.goneEps = map[*episode]struct{}{}, map[string]struct{}{}
		return nil
	}
	if len(d.changedEps) == 0 && len(d.goneEps) == 0 {
		return nil
	}
	ids := make([]string, 0, len(d.changedEps)+len(d.goneEps))
	for e := range d.changedEps {
		ids = append(ids, e.id) // its id now: an episode given another id is listed under it
	}
	for id := range d.goneEps {
		ids = append(ids, id)
	}
	clear(d.changedEps)
	clear(d.goneEps)
	slices.Sort(ids)
	return slices.Compact(ids)
}

// ExportEpisode returns the state of the episode held under id, false when none is.
func (d *Detector) ExportEpisode(id string) (EpisodeState, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.episodes[id]
	if e == nil {
		return EpisodeState{}, false
	}
	return e.state(), true
}

// EpisodeIDs returns the ids of every episode held, sorted.
func (d *Detector) EpisodeIDs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	ids := make([]string, 0, len(d.episodes))
	for id := range d.episodes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// ExportHeadOnly is ExportHead without its episodes: the version, clock and counters.
func (d *Detector) ExportHeadOnly() State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.exportCounters()
}
