package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/collector"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/detect"
)

// detectionsPath serves the attack episodes per user. It sits behind the same web configuration
// (TLS, basic auth) as /metrics: it names users, which the metrics never do.
const detectionsPath = "/api/v1/detections"

// detectionParams are the query parameters the endpoint filters on.
var detectionParams = []string{"tenant", "kind", "outcome", "user_id"}

var detectionOutcomes = []string{detect.OutcomeOpen, detect.OutcomeSuccess, detect.OutcomeDenied}

// detectionsHandler answers GET /api/v1/detections[?tenant=&kind=&outcome=&user_id=] with the
// episodes committed by every tenant's detector, as JSON (README, "Detections").
func detectionsHandler(m *collector.Manager, logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "This endpoint requires a GET request.", http.StatusMethodNotAllowed)
			return
		}
		q := r.URL.Query()
		for k := range q {
			if !slices.Contains(detectionParams, k) {
				http.Error(w, fmt.Sprintf("unknown parameter %q; known: %s", k, strings.Join(detectionParams, ", ")), http.StatusBadRequest)
				return
			}
		}
		f := collector.DetectionFilter{Tenant: q.Get("tenant"), Kind: q.Get("kind"), Outcome: q.Get("outcome"), UserID: q.Get("user_id")}
		if f.Kind != "" && !slices.Contains(detect.Kinds(), f.Kind) {
			http.Error(w, fmt.Sprintf("kind must be one of %s", strings.Join(detect.Kinds(), ", ")), http.StatusBadRequest)
			return
		}
		if f.Outcome != "" && !slices.Contains(detectionOutcomes, f.Outcome) {
			http.Error(w, fmt.Sprintf("outcome must be one of %s", strings.Join(detectionOutcomes, ", ")), http.StatusBadRequest)
			return
		}
		body, err := json.MarshalIndent(m.Detections(f), "", "  ")
		if err != nil {
			logger.Error("encoding detections", "err", err)
			http.Error(w, "encoding the detections failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		// Identities: no proxy or browser should keep a copy.
		w.Header().Set("Cache-Control", "no-store")
		w.Write(append(body, '\n'))
	}
}
