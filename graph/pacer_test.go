package graph

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestPacerSlidingWindow(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// Each step tries to start a request at a time; want is the wait returned (0 = started).
	steps := []struct {
		at   int
		want time.Duration
	}{
		{0, 0}, {1000, 0}, {2000, 0}, {3000, 0}, {4000, 0}, // five starts in the window
		{5000, 5 * time.Second},  // sixth must wait for the first to leave the window
		{9999, time.Millisecond}, // still one millisecond short
		{10000, 0},               // the start at 0 has left
		{10000, time.Second},     // next slot frees when the start at 1000 leaves
		{11000, 0},               // and it has
		{11500, 500 * time.Millisecond},
		{25000, 0}, {25000, 0}, {25000, 0}, {25000, 0}, {25000, 0}, // window fully free again
		{25000, 10 * time.Second},
	}
	p := NewPacer(5, 10*time.Second)
	for i, s := range steps {
		if got := p.tryAcquire(at(s.at)); got != s.want {
			t.Fatalf("step %d at %dms: wait %v, want %v", i, s.at, got, s.want)
		}
	}
}

func TestPacerHold(t *testing.T) {
	clk := newFakeClock()
	p := NewPacer(5, 10*time.Second)
	p.clock = clk
	ctx := context.Background()
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	p.Hold(clk.Now().Add(30 * time.Second))
	p.Hold(clk.Now().Add(5 * time.Second)) // an earlier hold never shortens a later one
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if got := clk.Sleeps(); !slices.Equal(got, []time.Duration{30 * time.Second}) {
		t.Errorf("sleeps = %v, want [30s]", got)
	}
	// After the hold the window still counts. The start before the hold has left it, so four more
	// starts fit at the end of the hold; the fifth waits for the window.
	for range 4 {
		if err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := clk.Sleeps(); len(got) != 1 {
		t.Errorf("unexpected sleeps %v", got)
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if got := clk.Sleeps(); !slices.Equal(got, []time.Duration{30 * time.Second, 10 * time.Second}) {
		t.Errorf("sleeps = %v, want [30s 10s]", got)
	}
}

func TestPacerWaitPacesBurst(t *testing.T) {
	clk := newFakeClock()
	p := NewPacer(5, 10*time.Second)
	p.clock = clk
	start := clk.Now()
	var startedAt []time.Duration
	for range 12 {
		if err := p.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		startedAt = append(startedAt, clk.Now().Sub(start))
	}
	want := []time.Duration{0, 0, 0, 0, 0, 10 * time.Second, 10 * time.Second, 10 * time.Second, 10 * time.Second, 10 * time.Second, 20 * time.Second, 20 * time.Second}
	if !slices.Equal(startedAt, want) {
		t.Errorf("starts = %v, want %v", startedAt, want)
	}
}

func TestPacerWaitCancelled(t *testing.T) {
	p := NewPacer(1, time.Hour)
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// The real clock is used here: a cancelled context must end the wait at once, not after an hour.
	if err := p.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
