package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
)

// reloader runs every configuration reload, from SIGHUP or from POST /-/reload, one at a time
// in one goroutine, as blackbox_exporter does. Reloads that ran side by side could apply an
// older configuration after a newer one (each loaded, then applied whatever was current by
// then); here each reload loads the file and applies exactly what it loaded before the next
// one starts, so the last reload's file is the one that runs.
type reloader struct {
	requests chan chan<- error
	done     chan struct{} // closed when run returns
	logger   *slog.Logger
}

var errReloaderStopped = errors.New("the exporter is shutting down")

func newReloader(logger *slog.Logger) *reloader {
	return &reloader{requests: make(chan chan<- error), done: make(chan struct{}), logger: logger}
}

// run serves reload requests and hup signals until ctx is done. load reads the configuration
// and applies it; it must not call reload.
func (r *reloader) run(ctx context.Context, hup <-chan os.Signal, load func() error) {
	defer close(r.done)
	for {
		var reply chan<- error
		trigger := "http"
		select {
		case <-ctx.Done():
			return
		case <-hup:
			trigger = "signal"
		case reply = <-r.requests:
		}
		// The error has the file's secret-looking values redacted (config.SafeConfig.Reload).
		err := load()
		if err != nil {
			r.logger.Error("configuration reload failed, keeping the running configuration", "trigger", trigger, "err", err)
		} else {
			r.logger.Info("configuration reloaded", "trigger", trigger)
		}
		if reply != nil {
			reply <- err // buffered: a caller that gave up does not block the loop
		}
	}
}

// reload asks run for a reload and waits for its result, or until ctx is done (the reload then
// still completes).
func (r *reloader) reload(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case r.requests <- reply:
	case <-r.done:
		return errReloaderStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
