package collector

import (
	"math"
	"testing"
	"time"
)

// delayHistogram counts rows by their delay to counted, in whole seconds. The benchmarks keep
// it instead of a slice of every delay: in the tenant-scale day, a million float32s (and the
// copies append makes while the slice grows) were several MiB of the process's peak RSS, which
// the benchmark reports as the exporter's.
type delayHistogram struct {
	counts []uint32 // counts[s]: rows counted s to s+1 seconds after their creation
	n      uint64
}

// maxDelayTracked caps the histogram; a longer delay counts in the last bucket.
const maxDelayTracked = 48 * time.Hour

func (h *delayHistogram) add(d time.Duration) {
	s := max(0, min(int(d/time.Second), int(maxDelayTracked/time.Second)))
	if s >= len(h.counts) {
		h.counts = append(h.counts, make([]uint32, s+1-len(h.counts))...)
	}
	h.counts[s]++
	h.n++
}

// quantile returns the delay of the row at rank int(p*(n-1)) in ascending order, in seconds,
// as indexing a sorted slice of every delay would (to the second); 0 without rows.
func (h *delayHistogram) quantile(p float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Floor(p * float64(h.n-1)))
	var seen uint64
	for s, c := range h.counts {
		seen += uint64(c)
		if seen > rank {
			return float64(s)
		}
	}
	return float64(len(h.counts) - 1)
}

func TestDelayHistogramQuantiles(t *testing.T) {
	var h delayHistogram
	if got := h.quantile(0.5); got != 0 {
		t.Errorf("empty: %v, want 0", got)
	}
	// Sorted: 1, 3, 3, 5, 10 (sub-second parts dropped). Rank int(p*4): 0.5 -> 2, 0.99 -> 3.
	for _, d := range []time.Duration{5 * time.Second, 1500 * time.Millisecond, 3 * time.Second, 3 * time.Second, 10 * time.Second} {
		h.add(d)
	}
	for _, c := range []struct{ p, want float64 }{{0, 1}, {0.5, 3}, {0.99, 5}, {1, 10}} {
		if got := h.quantile(c.p); got != c.want {
			t.Errorf("quantile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	h.add(-time.Second)
	h.add(100 * time.Hour)
	if got, want := h.quantile(0), 0.0; got != want {
		t.Errorf("a negative delay: quantile(0) = %v, want %v", got, want)
	}
	if got, want := h.quantile(1), maxDelayTracked.Seconds(); got != want {
		t.Errorf("a delay past the cap: quantile(1) = %v, want %v", got, want)
	}
}
