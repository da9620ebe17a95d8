package collector

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"

	"github.com/prometheus/common/model"
)

// userTracker counts distinct users over rolling windows without exposing who they are: it keeps,
// per user, the time of the latest challenge and of the latest failure, keyed by a salted hash of
// the user id (the salt is random per tenant state and never leaves the state file, so the keys
// cannot be matched against a list of user ids elsewhere). Memory is one 16-byte entry per user
// seen inside the longest window (times as Unix seconds: the state has always kept whole
// seconds); entries older than that are pruned. The tracker is part of the tenant's committed
// state, so the gauges survive a restart; a commit writes only the users that changed.
type userTracker struct {
	mu      sync.Mutex
	salt    []byte
	windows []time.Duration
	users   map[uint64]userEntry
	// dirty holds the users changed or pruned since the last commit wrote them.
	dirty map[uint64]struct{}
}

// userEntry holds a user's latest challenge and failure as Unix seconds; 0 is none.
type userEntry struct {
	challenged, failed uint32
}

// usersState is the tracker as restored from the state.
type usersState struct {
	Salt  []byte
	Users map[uint64]userEntry
}

func newUserTracker(windows []time.Duration, restored usersState) *userTracker {
	u := &userTracker{salt: restored.Salt, windows: windows, users: restored.Users, dirty: map[uint64]struct{}{}}
	if u.users == nil {
		u.users = map[uint64]userEntry{}
	}
	if len(u.salt) < 16 {
		u.salt = make([]byte, 16)
		_, _ = rand.Read(u.salt) // crypto/rand.Read never fails on supported platforms
		clear(u.users)           // keys made with another salt mean nothing
	}
	return u
}

// setWindows changes the windows (a reload); the users are kept.
func (u *userTracker) setWindows(windows []time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.windows = windows
}

func (u *userTracker) key(userID string) uint64 {
	// sha256(salt || id), as the tracker has always keyed users (restored keys stay valid),
	// hashed from a stack buffer: user ids are GUIDs.
	var buf [128]byte
	in := append(append(buf[:0], u.salt...), userID...)
	sum := sha256.Sum256(in)
	return binary.BigEndian.Uint64(sum[:8])
}

// unixSeconds is t as the tracker keeps it: whole seconds, 1 at the least (0 means none), and
// within uint32 (until 2106).
func unixSeconds(t time.Time) uint32 {
	s := t.Unix()
	return uint32(min(max(s, 1), 1<<32-1))
}

// observe records one sign-in event of a user at event time t.
func (u *userTracker) observe(userID string, t time.Time, challenged, failed bool) {
	if userID == "" || (!challenged && !failed) {
		return
	}
	k := u.key(userID)
	s := unixSeconds(t)
	u.mu.Lock()
	defer u.mu.Unlock()
	e, ok := u.users[k]
	old := e
	if challenged && s > e.challenged {
		e.challenged = s
	}
	if failed && s > e.failed {
		e.failed = s
	}
	if ok && e == old {
		return
	}
	u.users[k] = e
	u.dirty[k] = struct{}{}
}

// prune drops users whose latest event is older than the longest window.
func (u *userTracker) prune(now time.Time) {
	horizon := ceilSeconds(now.Add(-u.longest()))
	u.mu.Lock()
	defer u.mu.Unlock()
	for k, e := range u.users {
		if int64(e.challenged) < horizon && int64(e.failed) < horizon {
			delete(u.users, k)
			u.dirty[k] = struct{}{}
		}
	}
}

// ceilSeconds is the first whole second at or after t: a time kept in whole seconds is at or
// after t exactly when it is at or after this.
func ceilSeconds(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

func (u *userTracker) longest() time.Duration {
	u.mu.Lock()
	defer u.mu.Unlock()
	var m time.Duration
	for _, w := range u.windows {
		m = max(m, w)
	}
	return m
}

// Parts of the users in the state: the salt (key ""), and one entry per user (key: the 8-byte
// hash; value: challenged and failed as two uint32, big-endian).
const (
	partUsersSalt = "users.salt"
	partUsers     = "users"
)

// write puts into tx the users changed since the last write (every user when full).
func (u *userTracker) write(tx *stateTx, full bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	var k [8]byte
	var v [8]byte
	put := func(key uint64, e userEntry) {
		binary.BigEndian.PutUint64(k[:], key)
		binary.BigEndian.PutUint32(v[:4], e.challenged)
		binary.BigEndian.PutUint32(v[4:], e.failed)
		tx.PutKey(partUsers, k[:], v[:])
	}
	if full {
		tx.SetBlob(partUsersSalt, u.salt)
		tx.Clear(partUsers)
		for key, e := range u.users {
			put(key, e)
		}
	} else {
		for key := range u.dirty {
			if e, ok := u.users[key]; ok {
				put(key, e)
			} else {
				binary.BigEndian.PutUint64(k[:], key)
				tx.DeleteKey(partUsers, k[:])
			}
		}
	}
	clear(u.dirty)
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
	from := make([]int64, len(u.windows))
	for i, w := range u.windows {
		out[i].window = w
		from[i] = ceilSeconds(now.Add(-w))
	}
	for _, e := range u.users {
		c, f := int64(e.challenged), int64(e.failed)
		for i, fr := range from {
			if e.challenged != 0 && c >= fr {
				out[i].challenged++
			}
			if e.failed != 0 && f >= fr {
				out[i].failed++
			}
		}
	}
	return out
}

// export returns a copy of the tracker as a state would restore it (tests).
func (u *userTracker) export() usersState {
	u.mu.Lock()
	defer u.mu.Unlock()
	users := make(map[uint64]userEntry, len(u.users))
	for k, e := range u.users {
		users[k] = e
	}
	return usersState{Salt: u.salt, Users: users}
}

func (u *userTracker) size() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.users)
}

// windowLabel renders a window the way Prometheus durations are written ("1h", "1d").
func windowLabel(w time.Duration) string { return model.Duration(w).String() }
