package graph

import (
	"sync"
	"time"
)

// logLimiter lets one warning per key through per interval, so a 429 storm or a flapping
// endpoint shows up as one log line (with the number of similar events since the last line)
// instead of one line per request; every event is still counted in the Observer's metrics.
type logLimiter struct {
	every time.Duration

	mu         sync.Mutex
	last       map[string]time.Time
	suppressed map[string]int
}

func newLogLimiter(every time.Duration) *logLimiter {
	return &logLimiter{every: every, last: map[string]time.Time{}, suppressed: map[string]int{}}
}

// allow reports whether an event of key may be logged now, and how many were held back since the
// last one that was.
func (l *logLimiter) allow(key string, now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if last, ok := l.last[key]; ok && now.Sub(last) < l.every {
		l.suppressed[key]++
		return false, 0
	}
	n := l.suppressed[key]
	l.last[key] = now
	l.suppressed[key] = 0
	return true, n
}
