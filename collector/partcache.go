package collector

import (
	"encoding/json"
	"fmt"
)

// versionedPart is a component committed as one JSON blob that is marshalled and written only
// when it changed: at most the commits after a change pay for the encoding and the bytes, not
// every commit. The all-or-nothing commit is as strong as with a blob written every time: a
// part left out of an incremental commit keeps, in the journal, the value it was last written
// with, which is its current value (the version did not move); a full commit (first after a
// start, compaction, the commit after a failed one) writes the blob it last marshalled.
type versionedPart struct {
	name string
	// version is called at every commit, under the source's lock; it may first move the
	// component along (the detector's clock), and returns a number that moves whenever value
	// would return something else than at the last call.
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
