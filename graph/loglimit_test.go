package graph

import (
	"testing"
	"time"
)

func TestLogLimiter(t *testing.T) {
	clk := newFakeClock()
	l := newLogLimiter(time.Minute)
	if ok, n := l.allow("signIns/429", clk.Now()); !ok || n != 0 {
		t.Fatalf("first event: allow=%v held=%d", ok, n)
	}
	for range 5 {
		if ok, _ := l.allow("signIns/429", clk.Now()); ok {
			t.Fatal("event within the interval let through")
		}
	}
	if ok, _ := l.allow("signIns/5xx", clk.Now()); !ok {
		t.Error("another key is limited by the first")
	}
	clk.Advance(time.Minute)
	if ok, n := l.allow("signIns/429", clk.Now()); !ok || n != 5 {
		t.Errorf("after the interval: allow=%v held=%d, want true and 5", ok, n)
	}
}
