package graph

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// clock is injectable so pacing, backoff and Retry-After holds can be tested without sleeping.
type clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, whichever is first.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Pacer keeps request starts under a sliding-window budget ("at most limit starts in any per").
// Graph's identity reports allow 5 requests per 10 seconds per app and tenant, shared by sign-ins
// and the registration reports, so one Pacer serves every source of a tenant. A sliding window
// rather than a token bucket matches how Graph counts, so a burst never overshoots it.
type Pacer struct {
	limit int
	per   time.Duration
	clock clock

	mu        sync.Mutex
	starts    []time.Time // ring buffer of the last `limit` starts, oldest at head once full
	head      int
	holdUntil time.Time
	waiters   []chan struct{} // FIFO of Wait calls; only the first may take a slot
}

// NewPacer returns a pacer allowing at most limit request starts in any window of length per.
// A limit below 1 is treated as 1.
func NewPacer(limit int, per time.Duration) *Pacer {
	if limit < 1 {
		limit = 1
	}
	if per < 0 {
		per = 0
	}
	return &Pacer{limit: limit, per: per, clock: realClock{}, starts: make([]time.Time, 0, limit)}
}

// Wait blocks until a request may start, and records that start. Callers are served in the order
// they called Wait, so when several tenants (or sources) share a pacer none can starve the others:
// each tenant has at most one request waiting, so first-come-first-served is round-robin.
func (p *Pacer) Wait(ctx context.Context) error {
	turn := p.enqueue()
	defer p.dequeue(turn)
	select {
	case <-turn:
	case <-ctx.Done():
		return fmt.Errorf("pacer: %w", ctx.Err())
	}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("pacer: %w", err)
		}
		d := p.tryAcquire(p.clock.Now())
		if d <= 0 {
			return nil
		}
		if err := p.clock.Sleep(ctx, d); err != nil {
			return fmt.Errorf("pacer: %w", err)
		}
	}
}

// enqueue adds a waiter; its channel is closed when it is first in line.
func (p *Pacer) enqueue() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	turn := make(chan struct{})
	p.waiters = append(p.waiters, turn)
	if len(p.waiters) == 1 {
		close(turn)
	}
	return turn
}

// dequeue removes a waiter (served or gone) and hands the turn to the next one if it was first.
func (p *Pacer) dequeue(turn chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, w := range p.waiters {
		if w != turn {
			continue
		}
		p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
		if i == 0 && len(p.waiters) > 0 {
			close(p.waiters[0])
		}
		return
	}
}

// Hold stops every request of the tenant until the given time. A 429 means the tenant's budget is
// spent for everyone, so letting other sources continue would only earn them 429s too.
func (p *Pacer) Hold(until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if until.After(p.holdUntil) {
		p.holdUntil = until
	}
}

// tryAcquire records a start at now and returns 0, or returns how long to wait before trying again.
func (p *Pacer) tryAcquire(now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Before(p.holdUntil) {
		return p.holdUntil.Sub(now)
	}
	if len(p.starts) < p.limit {
		p.starts = append(p.starts, now)
		return 0
	}
	oldest := p.starts[p.head]
	if free := oldest.Add(p.per); now.Before(free) {
		return free.Sub(now)
	}
	p.starts[p.head] = now
	p.head = (p.head + 1) % p.limit
	return 0
}
