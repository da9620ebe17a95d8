package collector

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// summaryPart commits the landing page's summary ring (summary.go) a bucket per key: key ""
// holds the header ({"bucket_seconds": 300}), key "b" and a bucket's start (Unix seconds,
// decimal) the bucket's tally, committed plus pending. A commit writes the buckets its rows
// counted in (usually the newest one or two) and deletes those the last promote forgot, instead
// of the whole 24 hours (288 buckets, up to 23 KB of JSON marshalled at every commit with rows:
// 13 % of the exporter's CPU at a million rows a day). A full commit (first after a start,
// compaction, the commit after a failed one) clears the part and writes every bucket. Load
// (decodeSummary) joins the keys; the earlier layout, the whole summaryState at key "", loads
// as is.
type summaryPart struct {
	ring    *summaryRing
	written bool // the journal holds the part in this layout, as of the last commit
}

const summaryBucketKey = 'b'

func (p *summaryPart) stateName() string { return partSummary }

func (p *summaryPart) writeState(tx *stateTx, full bool) {
	r := p.ring
	r.mu.Lock()
	defer r.mu.Unlock()
	dropped := r.dropped
	r.dropped = r.dropped[:0]
	if tx.discards() {
		p.written = false // persistence off: the next commit that keeps bytes writes the part whole
		return
	}
	var key []byte
	put := func(b int64) {
		key = strconv.AppendInt(append(key[:0], summaryBucketKey), b, 10)
		t := r.committed[b]
		if pend := r.pending[b]; len(pend) > 0 {
			merged := make(tally, len(t)+len(pend))
			merged.merge(t)
			merged.merge(pend)
			t = merged
		}
		tx.PutKey(partSummary, key, mustJSON(t))
	}
	if full || !p.written {
		tx.SetBlob(partSummary, mustJSON(summaryState{BucketSeconds: int64(summaryBucket.Seconds())}))
		for b := range r.committed {
			put(b)
		}
		for b := range r.pending {
			if r.committed[b] == nil {
				put(b)
			}
		}
		p.written = true
		return
	}
	for b := range r.pending {
		put(b)
	}
	for _, b := range dropped {
		if r.committed[b] == nil && r.pending[b] == nil {
			key = strconv.AppendInt(append(key[:0], summaryBucketKey), b, 10)
			tx.DeleteKey(partSummary, key)
		}
	}
}

// decodeSummary joins the summary's restored part into one summaryState; nil when absent.
func decodeSummary(p *restoredPart) (*summaryState, error) {
	head := p.Blob()
	if len(head) == 0 {
		return nil, nil
	}
	var st *summaryState
	if err := json.Unmarshal(head, &st); err != nil {
		return nil, err
	}
	if st == nil {
		return nil, nil
	}
	for k, v := range p.KV {
		if k == "" {
			continue
		}
		if k[0] != summaryBucketKey {
			return nil, fmt.Errorf("unknown key %q", k)
		}
		var t tally
		if err := json.Unmarshal(v, &t); err != nil {
			return nil, fmt.Errorf("bucket %s: %w", k[1:], err)
		}
		if st.Buckets == nil {
			st.Buckets = map[string]tally{}
		}
		st.Buckets[k[1:]] = t
	}
	return st, nil
}
