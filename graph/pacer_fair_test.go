package graph

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// gatedClock is a clock whose Sleep returns only when the test advances time past the wake-up,
// so the order in which waiters are served depends on nothing but the pacer.
type gatedClock struct {
	mu       sync.Mutex
	now      time.Time
	sleepers []gatedSleeper
}

type gatedSleeper struct {
	wake time.Time
	ch   chan struct{}
}

func (g *gatedClock) Now() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.now
}

func (g *gatedClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	g.mu.Lock()
	sl := gatedSleeper{wake: g.now.Add(d), ch: make(chan struct{})}
	g.sleepers = append(g.sleepers, sl)
	g.mu.Unlock()
	select {
	case <-sl.ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Advance moves time on and wakes the sleepers whose time has come.
func (g *gatedClock) Advance(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.now = g.now.Add(d)
	kept := g.sleepers[:0]
	for _, sl := range g.sleepers {
		if g.now.Before(sl.wake) {
			kept = append(kept, sl)
		} else {
			close(sl.ch)
		}
	}
	g.sleepers = kept
}

func (g *gatedClock) Sleepers() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.sleepers)
}

// waitFor polls cond until it holds: the goroutines under test reach their next step without a
// deadline to miss.
func waitFor(cond func() bool) {
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}

// A tenant that keeps the shared app-wide pacer busy must not starve another tenant: waiters are
// served in arrival order.
func TestPacerServesWaitersInArrivalOrder(t *testing.T) {
	clk := &gatedClock{now: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}
	p := NewPacer(1, 10*time.Second)
	p.clock = clk
	ctx := context.Background()
	var mu sync.Mutex
	var order []string
	record := func(who string) {
		mu.Lock()
		order = append(order, who)
		mu.Unlock()
	}
	waiters := func() int {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.waiters)
	}
	if err := p.Wait(ctx); err != nil { // the busy tenant's first request takes the only slot
		t.Fatal(err)
	}
	record("busy")
	done := make(chan struct{}, 2)
	go func() { // the busy tenant keeps asking
		defer func() { done <- struct{}{} }()
		for range 4 {
			if err := p.Wait(ctx); err != nil {
				t.Error(err)
				return
			}
			record("busy")
		}
	}()
	// The busy tenant's next request is first in line, sleeping until the slot frees; only then
	// does the quiet tenant ask once.
	waitFor(func() bool { return clk.Sleepers() == 1 })
	go func() {
		defer func() { done <- struct{}{} }()
		if err := p.Wait(ctx); err != nil {
			t.Error(err)
			return
		}
		record("quiet")
	}()
	waitFor(func() bool { return waiters() == 2 })
	// Free one slot at a time until both tenants are through.
	for finished := 0; finished < 2; {
		select {
		case <-done:
			finished++
			continue
		default:
		}
		if clk.Sleepers() == 1 {
			clk.Advance(10 * time.Second)
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"busy", "busy", "quiet", "busy", "busy", "busy"}; !slices.Equal(order, want) {
		t.Errorf("served %v, want %v: the quiet tenant is served right after the request queued before it", order, want)
	}
}

func TestPacerWaitCancelledWhileQueued(t *testing.T) {
	p := NewPacer(1, time.Hour)
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Wait(ctx) }()
	cancel()
	if err := <-done; err == nil {
		t.Fatal("Wait returned nil after cancellation")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.waiters) != 0 {
		t.Errorf("cancelled waiter left in the queue: %d", len(p.waiters))
	}
}
