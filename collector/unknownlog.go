package collector

import (
	"crypto/sha256"
	"log/slog"
	"sync"
)

// unknownLog logs each distinct message key once, remembering at most max of them so a flood of
// distinct strings cannot grow memory without bound. Keys are a hash of the value, not the value:
// a hostile 50 MB string must not stay in memory for the life of the process, and string
// arguments are cut to maxLoggedValue bytes for the same reason.
type unknownLog struct {
	mu     sync.Mutex
	logger *slog.Logger
	seen   map[unknownKey]struct{}
	max    int
}

type unknownKey struct {
	field string
	value [sha256.Size]byte
}

const maxLoggedValue = 200

func newUnknownLog(logger *slog.Logger, max int) *unknownLog {
	return &unknownLog{logger: logger, seen: map[unknownKey]struct{}{}, max: max}
}

func (u *unknownLog) once(field, value, msg string, args ...any) {
	k := unknownKey{field: truncate(field, maxLoggedValue), value: sha256.Sum256([]byte(value))}
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.seen[k]; ok || len(u.seen) >= u.max {
		return
	}
	u.seen[k] = struct{}{}
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = truncate(s, maxLoggedValue)
		}
	}
	u.logger.Warn(msg, args...)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
