package collector

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/prometheus/common/model"
)

// userTracker counts distinct users over rolling windows without exposing who they are: it keeps,
// per user, the time of the latest challenge and of the latest failure, keyed by a salted hash of
// the user id (the salt is per process, so the keys mean nothing outside it). Memory is one small
// entry per user seen inside the longest window; entries older than that are pruned.
type userTracker struct {
	mu      sync.Mutex
	seed    maphash.Seed
	windows []time.Duration
	users   map[uint64]userTimes
}

type userTimes struct {
	challenged time.Time // zero: never challenged inside the horizon
	failed     time.Time
}

func newUserTracker(windows []time.Duration) *userTracker {
	return &userTracker{seed: maphash.MakeSeed(), windows: windows, users: map[uint64]userTimes{}}
}

func (u *userTracker) key(userID string) uint64 { return maphash.String(u.seed, userID) }

// observe records one sign-in event of a user at event time t.
func (u *userTracker) observe(userID string, t time.Time, challenged, failed bool) {
	if userID == "" || (!challenged && !failed) {
		return
	}
	k := u.key(userID)
	u.mu.Lock()
	defer u.mu.Unlock()
	e := u.users[k]
	if challenged && t.After(e.challenged) {
		e.challenged = t
	}
	if failed && t.After(e.failed) {
		e.failed = t
	}
	u.users[k] = e
}

// prune drops users whose latest event is older than the longest window.
func (u *userTracker) prune(now time.Time) {
	horizon := now.Add(-u.longest())
	u.mu.Lock()
	defer u.mu.Unlock()
	for k, e := range u.users {
		if e.challenged.Before(horizon) && e.failed.Before(horizon) {
			delete(u.users, k)
		}
	}
}

func (u *userTracker) longest() time.Duration {
	var m time.Duration
	for _, w := range u.windows {
		m = max(m, w)
	}
	return m
}

// windowCount is the number of distinct users challenged and failed in one window.
type windowCount struct {
	window             time.Duration
	challenged, failed int
}

func (u *userTracker) counts(now time.Time) []windowCount {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]windowCount, len(u.windows))
	for i, w := range u.windows {
		out[i].window = w
	}
	for _, e := range u.users {
		for i, w := range u.windows {
			from := now.Add(-w)
			if !e.challenged.IsZero() && !e.challenged.Before(from) {
				out[i].challenged++
			}
			if !e.failed.IsZero() && !e.failed.Before(from) {
				out[i].failed++
			}
		}
	}
	return out
}

func (u *userTracker) size() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.users)
}

// windowLabel renders a window the way Prometheus durations are written ("1h", "1d").
func windowLabel(w time.Duration) string { return model.Duration(w).String() }
