package graph

import (
	"context"
	"sync"
	"testing"
	"time"
)

// A tenant that keeps the shared app-wide pacer busy must not starve another tenant: waiters are
// served in arrival order.
func TestPacerServesWaitersInArrivalOrder(t *testing.T) {
	p := NewPacer(1, 20*time.Millisecond)
	ctx := context.Background()
	var mu sync.Mutex
	var order []string
	record := func(who string) {
		mu.Lock()
		order = append(order, who)
		mu.Unlock()
	}
	if err := p.Wait(ctx); err != nil { // the busy tenant's first request
		t.Fatal(err)
	}
	record("busy")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the busy tenant keeps asking
		defer wg.Done()
		for range 4 {
			if err := p.Wait(ctx); err != nil {
				t.Error(err)
				return
			}
			record("busy")
		}
	}()
	// Let the busy tenant queue its next request, then the quiet tenant asks once.
	for {
		p.mu.Lock()
		n := len(p.waiters)
		p.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	record("quiet")
	wg.Wait()
	for i, who := range order {
		if who == "quiet" {
			if i > 2 {
				t.Errorf("quiet tenant served at position %d of %v: starved", i, order)
			}
			return
		}
	}
	t.Fatalf("quiet tenant never served: %v", order)
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
