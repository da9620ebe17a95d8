package collector

import (
	"bytes"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
)

// summaryOps is what one commit of a summaryPart wrote, in a readable form: "clear", "put KEY
// VALUE" and "delete KEY", in the order written.
func summaryOps(t *testing.T, p *summaryPart, full bool, kv map[string][]byte) []string {
	t.Helper()
	var buf bytes.Buffer
	tx := &stateTx{w: &buf}
	p.writeState(tx, full)
	if err := tx.commit(1, 0); err != nil {
		t.Fatal(err)
	}
	var ops []string
	eachJournalOp(t, &buf, func(part string, op byte, key, v []byte) {
		if part != partSummary {
			t.Errorf("summaryPart wrote into part %q", part)
		}
		switch op {
		case opClear:
			ops = append(ops, "clear")
			clear(kv)
		case opPut:
			ops = append(ops, "put "+string(key)+" "+string(v))
			kv[string(key)] = bytes.Clone(v)
		case opDelete:
			ops = append(ops, "delete "+string(key))
			delete(kv, string(key))
		}
	}, nil)
	return ops
}

// The summary is committed a bucket per key: a commit writes the buckets its rows counted in
// (committed and pending counts merged) and deletes the buckets the last promote forgot; a
// full commit, the first one, and the first after a discarding transaction write every bucket;
// what the keys hold always loads back as the ring's export. Expected tallies by hand from
// tally.add: a satisfied push row is n, s and m:<method>; a not-required row n and r.
func TestSummaryPartWritesChangedBuckets(t *testing.T) {
	r := restoreSummary(nil)
	p := &summaryPart{ring: r}
	kv := map[string][]byte{}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) // bucket 1772445600
	push := mfa.Classification{Outcome: mfa.OutcomeSatisfied, Method: "mobile_app_notification"}
	notRequired := mfa.Classification{Outcome: mfa.OutcomeNotRequired}
	const header = `put  {"bucket_seconds":300,"buckets":null}`

	steps := []struct {
		name  string
		do    func()
		full  bool
		want  []string
		order bool // the ops' order is fixed (else compared as a set)
	}{
		{"first commit writes the part whole",
			func() {
				r.observe(now.Add(-4*time.Minute), now, push)       // bucket 1772445300
				r.observe(now.Add(2*time.Minute), now, notRequired) // bucket 1772445600
			}, false,
			[]string{"clear", header, `put b1772445300 {"m:mobile_app_notification":1,"n":1,"s":1}`, `put b1772445600 {"n":1,"r":1}`}, false},
		{"no rows: nothing written", func() { r.promote(now, now) }, false, nil, true},
		{"a row in one bucket: that bucket, committed and pending merged",
			func() { r.observe(now.Add(3*time.Minute), now, push) }, false,
			[]string{`put b1772445600 {"m:mobile_app_notification":1,"n":2,"r":1,"s":1}`}, true},
		{"the oldest bucket forgotten by promote: deleted",
			func() { r.promote(now, now.Add(24*time.Hour)) }, false,
			[]string{"delete b1772445300"}, true},
		{"full commit: every bucket", func() {}, true,
			[]string{"clear", header, `put b1772445600 {"m:mobile_app_notification":1,"n":2,"r":1,"s":1}`}, true},
	}
	for _, st := range steps {
		st.do()
		got := summaryOps(t, p, st.full, kv)
		want := st.want
		if !st.order {
			got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: wrote\n%q\nwant\n%q", st.name, got, want)
		}
		restored, err := decodeSummary(&restoredPart{KV: kv})
		if err != nil {
			t.Fatalf("%s: decoding what was written: %v", st.name, err)
		}
		if exp := r.export(); !reflect.DeepEqual(restored, exp) {
			t.Errorf("%s: the keys load as %v, the ring exports %v", st.name, restored, exp)
		}
	}

	// Persistence off: nothing written, and the next commit that keeps bytes writes the part
	// whole (the forgotten buckets of meanwhile are not in it).
	r.observe(now.Add(24*time.Hour), now.Add(24*time.Hour), notRequired) // bucket 1772532000
	p.writeState(&stateTx{}, false)
	r.promote(now, now.Add(48*time.Hour)) // forgets every bucket but the newest
	got := summaryOps(t, p, false, kv)
	if want := []string{"clear", header, `put b1772532000 {"n":1,"r":1}`}; !slices.Equal(got, want) {
		t.Errorf("after a discarding transaction: wrote %q, want %q", got, want)
	}
}

// The summary part loads from both layouts: the whole state at key "" (before summaryPart) and
// a header with a key per bucket; damage is an error.
func TestDecodeSummary(t *testing.T) {
	want := &summaryState{BucketSeconds: 300, Buckets: map[string]tally{"1772445600": {"n": 2, "r": 1}}}
	for _, c := range []struct {
		name string
		kv   map[string][]byte
		want *summaryState
		bad  bool
	}{
		{"absent", nil, nil, false},
		{"earlier layout: one blob", map[string][]byte{"": []byte(`{"bucket_seconds":300,"buckets":{"1772445600":{"n":2,"r":1}}}`)}, want, false},
		{"a key per bucket", map[string][]byte{"": []byte(`{"bucket_seconds":300}`), "b1772445600": []byte(`{"n":2,"r":1}`)}, want, false},
		{"null", map[string][]byte{"": []byte(`null`)}, nil, false},
		{"unknown key", map[string][]byte{"": []byte(`{"bucket_seconds":300}`), "x1": []byte(`{}`)}, nil, true},
		{"damaged bucket", map[string][]byte{"": []byte(`{"bucket_seconds":300}`), "b1772445600": []byte(`{"n":`)}, nil, true},
		{"damaged header", map[string][]byte{"": []byte(`{"bucket_seconds":`)}, nil, true},
	} {
		got, err := decodeSummary(&restoredPart{KV: c.kv})
		if (err != nil) != c.bad {
			t.Errorf("%s: error %v, want one: %v", c.name, err, c.bad)
			continue
		}
		if !c.bad && !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}
