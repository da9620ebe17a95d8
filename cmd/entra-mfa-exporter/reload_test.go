package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func postReload(t *testing.T, base string) (int, string) {
	t.Helper()
	resp, err := http.Post(base+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestReloadKeepsRunningConfigOnError drives POST /-/reload and SIGHUP against a real
// configuration file: a broken file is rejected (500 with a generic body, reload metric 0, the
// details in the log with the secret redacted) and the running tenants keep working; a good
// file with a second tenant is applied.
func TestReloadKeepsRunningConfigOnError(t *testing.T) {
	sim := startSim(t)
	file := filepath.Join(t.TempDir(), "config.yml")
	writeFile(t, file, sim.config("first"))
	base, stderr := startExporter(t, "--config.file="+file, "--web.enable-lifecycle")
	waitReady(t, base, stderr)

	// Two mistakes: a poll interval below the minimum, and a client secret pasted where the
	// name of its environment variable belongs.
	const pasted = "Xq7~hunter2-correct-horse-battery"
	broken := strings.Replace(sim.config("first"), "client_secret_file: "+sim.secret, `client_secret_env: "`+pasted+`"`, 1) +
		"    sign_ins: {poll_interval: 1s}\n"
	writeFile(t, file, broken)
	code, body := postReload(t, base)
	if code != http.StatusInternalServerError {
		t.Errorf("reload of a bad file: status %d, want 500", code)
	}
	if body != reloadFailedBody+"\n" {
		t.Errorf("reload of a bad file answered %q, want the generic %q", body, reloadFailedBody)
	}
	if l := metricLine(t, base, "entra_exporter_config_last_reload_successful "); l != "entra_exporter_config_last_reload_successful 0" {
		t.Errorf("after a failed reload: %q", l)
	}
	logs := stderr.String()
	for _, want := range []string{"tenants[0].sign_ins.poll_interval", "tenants[0].credential.client_secret_env", "trigger=http"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the failed reload's log does not say %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "hunter2") {
		t.Errorf("the log shows the pasted secret:\n%s", logs)
	}
	if got := appliedTenants(t, base); !slices.Equal(got, []string{"first"}) {
		t.Errorf("after a failed reload the tenants are %v, want [first]", got)
	}

	// SIGHUP with a good file adding a tenant. The reload is asynchronous: wait for the second
	// tenant's first successful poll.
	writeFile(t, file, sim.config("first", "second"))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "tenant second to be polled after SIGHUP", stderr, func() bool {
		return metricLine(t, base, `entra_ingest_last_success_timestamp_seconds{source="signIns",tenant="second"}`) != ""
	})
	if l := metricLine(t, base, "entra_exporter_config_last_reload_successful "); l != "entra_exporter_config_last_reload_successful 1" {
		t.Errorf("after a good reload: %q", l)
	}
}

// Without --web.enable-lifecycle, POST /-/reload answers 403 as Prometheus does and reloads
// nothing; GET answers 405 either way. SIGHUP keeps working (TestReloadKeepsRunningConfigOnError
// and the shard test use it without depending on the flag).
func TestReloadNeedsLifecycleFlag(t *testing.T) {
	sim := startSim(t)
	file := filepath.Join(t.TempDir(), "config.yml")
	writeFile(t, file, sim.config("first"))
	base, stderr := startExporter(t, "--config.file="+file)
	waitFor(t, "the exporter to answer", stderr, func() bool { return status(base+"/-/healthy") == http.StatusOK })

	writeFile(t, file, sim.config("first", "second"))
	for _, method := range []string{http.MethodPost, http.MethodPut} {
		req, _ := http.NewRequest(method, base+"/-/reload", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || string(body) != "Lifecycle API is not enabled.\n" {
			t.Errorf("%s /-/reload without --web.enable-lifecycle: %d %q, want 403 %q", method, resp.StatusCode, body, "Lifecycle API is not enabled.")
		}
	}
	if s := status(base + "/-/reload"); s != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %d, want 405", s)
	}
	if got := appliedTenants(t, base); !slices.Equal(got, []string{"first"}) {
		t.Errorf("a refused reload changed the tenants to %v", got)
	}
	if strings.Contains(stderr.String(), "configuration reloaded") {
		t.Errorf("a refused reload ran:\n%s", stderr.String())
	}
}

// Concurrent reloads, each after rewriting the file with one of two configurations, must end
// with the file's last content applied. Reloads that ran side by side, each applying whatever
// configuration was current when it got to apply, could finish with an older one.
func TestConcurrentReloadsApplyTheLastFile(t *testing.T) {
	sim := startSim(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "config.yml")
	// The slow file takes far longer to load than the fast one (comments: a few hundred
	// milliseconds under -race against a few), and the last write is the fast one. Unserialised,
	// a reload still loading the slow file when the fast one is written finishes after the
	// fast one's reload and applies the slow file.
	slow := sim.config("beta", "gamma") + strings.Repeat("# padding padding padding padding padding padding padding\n", 1000)
	fast := sim.config("alpha")
	writeFile(t, file, fast)
	base, stderr := startExporter(t, "--config.file="+file, "--web.enable-lifecycle")
	waitFor(t, "the exporter to answer", stderr, func() bool { return status(base+"/-/healthy") == http.StatusOK })

	const pairs = 25 // 50 reloads, all in flight together
	codes := make(chan int, 2*pairs)
	var wg sync.WaitGroup
	reload := func() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(base+"/-/reload", "", nil)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	for range pairs {
		replaceFile(t, file, slow)
		reload()
		// Gives that reload time to open the slow file before it is replaced. Only the test's
		// power to catch unserialised reloads depends on this pause, never its verdict on
		// serialised ones: whatever each reload reads, the last one reads the last write.
		time.Sleep(20 * time.Millisecond)
		replaceFile(t, file, fast)
		reload()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a reload answered %d", c)
		}
	}
	// Every reload has returned, and the one that ran last read the file after its last write.
	if got := appliedTenants(t, base); !slices.Equal(got, []string{"alpha"}) {
		t.Errorf("after %d concurrent reloads the exporter runs %v; the file's last content has [alpha]", 2*pairs, got)
	}
}

// The reloader runs one load at a time whether asked over HTTP or by SIGHUP, gives each HTTP
// caller the result of a load of its own, and stops answering without hanging when the
// exporter shuts down.
func TestReloaderRunsOneLoadAtATime(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newReloader(slog.New(slog.DiscardHandler))
	hup := make(chan os.Signal, 1) // as signal.Notify's channel
	var running, calls atomic.Int32
	var overlapped atomic.Bool
	go r.run(ctx, hup, func() error {
		if running.Add(1) > 1 {
			overlapped.Store(true)
		}
		defer running.Add(-1)
		n := calls.Add(1)
		time.Sleep(time.Millisecond) // long enough for an unserialised caller to overlap
		return fmt.Errorf("load %d", n)
	})

	const callers = 50
	results := make(chan string, callers)
	var wg sync.WaitGroup
	for range callers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			err := r.reload(context.Background())
			if err == nil {
				t.Error("reload returned nil; load always fails")
				return
			}
			results <- err.Error()
		}()
		go func() {
			defer wg.Done()
			select {
			case hup <- syscall.SIGHUP:
			default: // a signal is pending already, as the runtime would drop this one
			}
		}()
	}
	wg.Wait()
	close(results)
	seen := map[string]bool{}
	for res := range results {
		if seen[res] {
			t.Errorf("two callers got the result of the same load (%s)", res)
		}
		seen[res] = true
	}
	if len(seen) != callers {
		t.Errorf("%d distinct results for %d callers", len(seen), callers)
	}
	if overlapped.Load() {
		t.Error("two loads ran at the same time")
	}

	cancel()
	select {
	case <-r.done:
	case <-time.After(waitTimeout):
		t.Fatal("the reloader did not stop")
	}
	done := make(chan error, 1)
	go func() { done <- r.reload(context.Background()) }()
	select {
	case err := <-done:
		if !errors.Is(err, errReloaderStopped) {
			t.Errorf("reload after shutdown: %v, want errReloaderStopped", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("reload after shutdown hung")
	}
}
