package collector

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// A state file that is a symbolic link is not followed: the file it points to is neither read nor
// replaced, and the link is moved aside like any unusable state file.
func TestStateFileSymlinkIsNotFollowed(t *testing.T) {
	dir := t.TempDir()
	s := stateStore{dir: dir}
	target := filepath.Join(t.TempDir(), "elsewhere.json")
	const original = `{"version":1,"tenant":"x","fresh":"2026-01-01T00:00:00Z"}`
	if err := os.WriteFile(target, []byte(original), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, s.path("x")); err != nil {
		t.Fatal(err)
	}
	st, err := s.load("x", "", time.Unix(1000, 0))
	if st != nil || err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("load through a symlink = %v, %v; want a symbolic-link error", st, err)
	}
	if _, err := os.Lstat(s.path("x")); !os.IsNotExist(err) {
		t.Errorf("the link is still in place: %v", err)
	}
	if _, err := s.save(&tenantState{Tenant: "x"}); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(target); string(data) != original {
		t.Errorf("the link's target was changed: %s", data)
	}
}

// A FIFO in place of the state file must not block the start (reading it would wait for a writer
// for ever).
func TestStateFileFIFODoesNotBlock(t *testing.T) {
	dir := t.TempDir()
	s := stateStore{dir: dir}
	if err := syscall.Mkfifo(s.path("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.load("x", "", time.Unix(1000, 0))
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("load of a FIFO: %v, want a not-a-regular-file error", err)
		}
	case <-time.After(time.Minute): // generous: the bug is blocking for ever
		t.Fatal("load blocked on a FIFO")
	}
}

func TestWideStorageDirectoryIsReported(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	var logs bytes.Buffer
	NewManager(context.Background(), prometheus.NewRegistry(), Options{StoragePath: dir, Now: time.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if !strings.Contains(logs.String(), "chmod 700") || !strings.Contains(logs.String(), "mode_bits_for_others=055") {
		t.Errorf("a 0755 storage directory was not reported:\n%s", logs.String())
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	NewManager(context.Background(), prometheus.NewRegistry(), Options{StoragePath: dir, Now: time.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if strings.Contains(logs.String(), "chmod 700") {
		t.Errorf("a 0700 storage directory was reported:\n%s", logs.String())
	}
}

// Unknown strings are remembered for logging once; a hostile 50 MB string must not stay in memory
// after the row that carried it is gone.
func TestUnknownLogDoesNotRetainHugeValues(t *testing.T) {
	u := newUnknownLog(slog.New(slog.NewTextHandler(io.Discard, nil)), 1000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range 4 {
		huge := strings.Repeat(string(rune('a'+i)), 50<<20)
		u.once("field", huge, "unclassified string counted as other", "value", huge)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 20<<20 {
		t.Errorf("heap grew by %d MiB after logging four 50 MB strings once each", grown>>20)
	}
	if len(u.seen) != 4 {
		t.Errorf("%d distinct values remembered, want 4", len(u.seen))
	}
	u.once("field", strings.Repeat("a", 50<<20), "again")
	if len(u.seen) != 4 {
		t.Errorf("the same value was remembered twice")
	}
}
