package collector

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// pollHealth keeps a source's health metrics and logs its failures once per change of reason, so
// a tenant without a licence produces one error line, not one per poll. Each source has its own:
// a failure of one source sets only its own access_problem series.
type pollHealth struct {
	tenant, source string
	metrics        *Metrics
	logger         *slog.Logger
	failMsg        string // the error line, e.g. "sign-in poll failed"
	recoverMsg     string // the line after the first success that follows a failure
	lastErr        string // reason of the last failure, "" after a success

	status sourceStatus // what the landing page shows (summary.go)
}

// failed records a failed poll.
func (h *pollHealth) failed(err error) {
	reason := errorReason(err)
	m := h.metrics
	m.PollErrors.WithLabelValues(h.tenant, h.source, reason).Inc()
	for _, r := range accessReasons {
		v := 0.0
		if r == reason {
			v = 1
		}
		m.AccessProblem.WithLabelValues(h.tenant, h.source, r).Set(v)
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	h.status.fail(reason, err)
	if reason != h.lastErr {
		h.logger.Error(h.failMsg, "tenant", h.tenant, "reason", reason, "err", err)
	} else {
		h.logger.Debug(h.failMsg+" again", "tenant", h.tenant, "reason", reason, "err", err)
	}
	h.lastErr = reason
}

// succeeded records a successful poll at now, logging the recovery from an earlier failure.
func (h *pollHealth) succeeded(now time.Time) {
	if h.lastErr != "" {
		h.logger.Info(h.recoverMsg, "tenant", h.tenant, "previous_error", h.lastErr)
		h.lastErr = ""
	}
	for _, r := range accessReasons {
		h.metrics.AccessProblem.WithLabelValues(h.tenant, h.source, r).Set(0)
	}
	h.metrics.LastSuccess.WithLabelValues(h.tenant, h.source).Set(float64(now.UnixNano()) / 1e9)
	h.status.ok(now)
}
