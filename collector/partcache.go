package collector

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/detect"
)

// versionedPart is a component committed as one JSON blob that is marshalled and written only
// when it changed: at most the commits after a change pay for the encoding and the bytes, not
// every commit. The all-or-nothing commit is as strong as with a blob written every time: a
// part left out of an incremental commit keeps, in the journal, the value it was last written
// with, which is its current value (the version did not move); a full commit (first after a
// start, compaction, the commit after a failed one) writes the blob it last marshalled.
type versionedPart struct {
	name string
	// version is called at every commit, under the source's lock, and returns a number that
	// moves whenever value would return something else than at the last call.
	version func() uint64
	value   func() any

	marshalled bool // blob holds value() as of ver
	ver        uint64
	blob       []byte
}

func (p *versionedPart) stateName() string { return p.name }

func (p *versionedPart) writeState(tx *stateTx, full bool) {
	v := p.version()
	if p.marshalled && v == p.ver {
		if full {
			tx.SetBlob(p.name, p.blob)
		}
		return
	}
	if tx.discards() {
		// Persistence off: nothing to encode for. The next commit that keeps bytes encodes it.
		p.marshalled, p.blob = false, nil
		return
	}
	b, err := json.Marshal(p.value())
	if err != nil {
		// The components' states are plain data: this cannot happen, and writing nothing
		// would silently drop a component from the commit.
		panic(fmt.Sprintf("collector: encoding state part %s: %v", p.name, err))
	}
	p.blob, p.ver, p.marshalled = b, v, true
	tx.SetBlob(p.name, b)
}

// discards reports a transaction that keeps nothing (persistence disabled).
func (tx *stateTx) discards() bool { return tx.w == nil }

// detectionsPart commits the attack detector incrementally. Key "" holds the head (clock,
// counters: detect.ExportHeadOnly); "u" and the detector's 8-byte user key, a user's record
// (windows and prompts), written by the commits after the detector reported the user changed
// (TakeChanged) and deleted once it forgot the user; "e" and an episode's id, the episode,
// written by the commits after the detector reported it created or changed
// (TakeChangedEpisodes) and deleted once it forgot the episode or gave it another id. So a
// commit costs the users and episodes its rows or Advance changed, not every user prompted in
// the last day nor every episode listed. Load joins the keys again (decodeDetections); a blob
// of earlier versions (the whole state at key "") loads as is.
type detectionsPart struct {
	src *signInSource

	written bool             // the journal holds the part as of ver, for det
	det     *detect.Detector // the detector it was written for (a reload may replace it)
	ver     uint64
}

const (
	detUserKey    = 'u'
	detEpisodeKey = 'e'
)

func (p *detectionsPart) stateName() string { return partDetections }

func (p *detectionsPart) writeState(tx *stateTx, full bool) {
	s := p.src
	v := s.det.prepare(s.now(), detectionFinal(s.cur))
	if tx.discards() {
		// Persistence off: nothing tracked, nothing encoded (TakeChanged never called, so the
		// detector keeps no set of changed users or episodes either).
		p.written = false
		return
	}
	det := s.det.current()
	if p.written && v == p.ver && det == p.det && !full {
		return
	}
	whole := full || !p.written || det != p.det
	p.written, p.det, p.ver = true, det, v
	if det == nil {
		tx.SetBlob(partDetections, []byte("null"))
		return
	}
	var keys []uint64
	var head detect.State
	var episodes []detect.EpisodeState
	var epIDs []string
	if whole {
		// From here on, the changes are relative to what is written below.
		det.TakeChanged()
		det.TakeChangedEpisodes()
		tx.Clear(partDetections)
		keys = det.UserKeys()
		head = det.ExportHead()
		episodes, head.Episodes = head.Episodes, nil
	} else {
		keys = det.TakeChanged()
		epIDs = det.TakeChangedEpisodes()
		head = det.ExportHeadOnly()
	}
	tx.Put(partDetections, "", mustJSON(head))
	var k [9]byte
	k[0] = detUserKey
	for _, key := range keys {
		binary.BigEndian.PutUint64(k[1:], key)
		rec, ok := det.ExportUser(key)
		if !ok {
			if !whole {
				tx.DeleteKey(partDetections, k[:])
			}
			continue
		}
		tx.PutKey(partDetections, k[:], mustJSON(rec))
	}
	for _, e := range episodes {
		tx.Put(partDetections, string(detEpisodeKey)+e.ID, mustJSON(e))
	}
	for _, id := range epIDs {
		if e, ok := det.ExportEpisode(id); ok {
			tx.Put(partDetections, string(detEpisodeKey)+id, mustJSON(e))
		} else {
			tx.Delete(partDetections, string(detEpisodeKey)+id)
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Plain data: this cannot happen, and writing nothing would silently drop a part.
		panic(fmt.Sprintf("collector: encoding state part: %v", err))
	}
	return b
}

// decodeDetections joins the detector's restored part (detectionsPart) into one state; nil when
// the part is absent or says detection was off.
func decodeDetections(p *restoredPart) (*detect.State, error) {
	head := p.Blob()
	if len(head) == 0 {
		return nil, nil
	}
	var st *detect.State
	if err := json.Unmarshal(head, &st); err != nil {
		return nil, err
	}
	if st == nil {
		return nil, nil
	}
	var recs []detect.UserRecord
	var eps []detect.EpisodeState
	for k, v := range p.KV {
		switch {
		case k == "":
		case len(k) == 9 && k[0] == detUserKey:
			var r detect.UserRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return nil, fmt.Errorf("user %x: %w", k[1:], err)
			}
			recs = append(recs, r)
		case k[0] == detEpisodeKey:
			var e detect.EpisodeState
			if err := json.Unmarshal(v, &e); err != nil {
				return nil, fmt.Errorf("episode %q: %w", k[1:], err)
			}
			if e.ID != k[1:] {
				return nil, fmt.Errorf("episode %q stored under %q", e.ID, k[1:])
			}
			eps = append(eps, e)
		default:
			return nil, fmt.Errorf("unknown key %q", k)
		}
	}
	whole, err := detect.AssembleState(*st, recs, eps)
	if err != nil {
		return nil, err
	}
	return &whole, nil
}
