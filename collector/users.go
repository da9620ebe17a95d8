package collector

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/common/model"
)

// userTracker counts distinct users over rolling windows without exposing who they are: it keeps,
// per user, the time of the latest challenge and of the latest failure, keyed by a salted hash of
// the user id (the salt is random per tenant state and never leaves the state file, so the keys
// cannot be matched against a list of user ids elsewhere). Memory is one small entry per user seen
// inside the longest window; entries older than that are pruned. The tracker is part of the
// tenant's committed state, so the gauges survive a restart.
type userTracker struct {
	mu      sync.Mutex
	salt    []byte
	windows []time.Duration
	users   map[uint64]userTimes
}

// usersState is the tracker's form in the state file: times as Unix seconds.
type usersState struct {
	Salt  []byte              `json:"salt"`
	Users map[string][2]int64 `json:"users"` // key (decimal) -> [challenged, failed]
}

type userTimes struct {
	challenged time.Time // zero: never challenged inside the horizon
	failed     time.Time
}

func newUserTracker(windows []time.Duration, restored usersState) *userTracker {
	u := &userTracker{salt: restored.Salt, windows: windows, users: map[uint64]userTimes{}}
	if len(u.salt) < 16 {
		u.salt = make([]byte, 16)
		_, _ = rand.Read(u.salt) // crypto/rand.Read never fails on supported platforms
		return u
	}
	for k, v := range restored.Users {
		key, err := strconv.ParseUint(k, 10, 64)
		if err != nil {
			continue
		}
		var e userTimes
		if v[0] != 0 {
			e.challenged = time.Unix(v[0], 0)
		}
		if v[1] != 0 {
			e.failed = time.Unix(v[1], 0)
		}
		u.users[key] = e
	}
	return u
}

func (u *userTracker) key(userID string) uint64 {
	h := sha256.New()
	h.Write(u.salt)
	h.Write([]byte(userID))
	return binary.BigEndian.Uint64(h.Sum(nil))
}

// export returns the tracker in its state-file form.
func (u *userTracker) export() usersState {
	u.mu.Lock()
	defer u.mu.Unlock()
	st := usersState{Salt: u.salt, Users: make(map[string][2]int64, len(u.users))}
	for k, e := range u.users {
		var v [2]int64
		if !e.challenged.IsZero() {
			v[0] = e.challenged.Unix()
		}
		if !e.failed.IsZero() {
			v[1] = e.failed.Unix()
		}
		st.Users[strconv.FormatUint(k, 10)] = v
	}
	return st
}

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
