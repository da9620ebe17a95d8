package collector

import (
	"context"
	"testing"
	"time"
)

// every starts its function at a fixed rate: a run that takes three quarters of the interval
// (a sign-in poll that spends its time box on a backlog) is followed by the next one interval
// after its start, not an interval after its end, so the request budget is not left idle.
func TestEveryKeepsAFixedRate(t *testing.T) {
	const interval = 400 * time.Millisecond
	// Fixed rate: starts at 0, 400, 800, 1200 and 1600 ms, five before 1.8 s. A pause of an
	// interval after each run would start at 0, 700 and 1400 ms: three.
	ctx, cancel := context.WithTimeout(context.Background(), 1800*time.Millisecond)
	defer cancel()
	var starts []time.Time
	called := time.Now()
	every(ctx, interval, func() {
		starts = append(starts, time.Now())
		time.Sleep(interval * 3 / 4)
	})
	// The first run is at once: a loop that waited an interval first would still make 4 starts.
	if len(starts) == 0 {
		t.Fatal("no run in 1.8 s")
	}
	if d := starts[0].Sub(called); d > interval/2 {
		t.Fatalf("first run %v after the call, want at once", d)
	}
	if len(starts) < 4 || len(starts) > 5 {
		t.Fatalf("%d starts in 1.8 s at a 400 ms interval with 300 ms runs, want 5 (4 on a slow machine)", len(starts))
	}
	for i := 1; i < len(starts); i++ {
		// A timer never fires early; 20 ms absorbs the gap between the timer and the recording.
		if gap := starts[i].Sub(starts[i-1]); gap < interval-20*time.Millisecond {
			t.Errorf("start %d came %v after the previous one, want at least the interval %v", i, gap, interval)
		}
	}
}

// A run longer than the interval is followed by the next at once, and missed starts are not
// made up; a cancelled context ends the loop even when the next start is already due.
func TestEveryAfterALongRunAndCancel(t *testing.T) {
	const interval = 200 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var starts []time.Time
	every(ctx, interval, func() {
		starts = append(starts, time.Now())
		switch len(starts) {
		case 1:
			time.Sleep(3 * interval) // three starts missed
		case 2:
			cancel()
			time.Sleep(2 * interval) // the next start is due, and ctx is done
		}
	})
	if len(starts) != 2 {
		t.Fatalf("%d runs, want 2: the one after the long run, none after the cancel", len(starts))
	}
	if gap := starts[1].Sub(starts[0]); gap > 3*interval+interval/2 {
		t.Errorf("the run after a 600 ms run started %v after it began, want at once (~600 ms; a pause after it would make it 800 ms)", gap)
	}
}
