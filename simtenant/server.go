package simtenant

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Route names used as keys in Stats.Requests.
const (
	RouteOpenID    = "/{tenant}/v2.0/.well-known/openid-configuration"
	RouteToken     = "/{tenant}/oauth2/v2.0/token"
	RouteDiscovery = "/{tenant}/discovery/instance"
	RouteSignIns   = "/beta/auditLogs/signIns"
	RouteOther     = "other"
)

// RequestKey counts requests by route and HTTP status.
type RequestKey struct {
	Route  string
	Status int
}

// Stats is a snapshot of what the tenant has served.
type Stats struct {
	Requests      map[RequestKey]int
	Throttled     int // 429 answers from the rate limiter (not from injected 429 faults)
	TokenRequests int // every POST to the token endpoint
	TokensIssued  int
	RowsStored    int // sign-in rows held now
	RowsExpired   int // rows forgotten because they left Options.Retention
	RowsEvicted   int // rows dropped, oldest first, because Options.MaxRows was reached
	RowsServed    int // rows written in 200 pages (a row served twice counts twice)
	FaultsApplied int // Graph and token requests answered by an injected fault
}

// Count returns how many requests to route got status.
func (s Stats) Count(route string, status int) int { return s.Requests[RequestKey{route, status}] }

// Stats returns a copy of the counters, with retention applied at the current time.
func (t *Tenant) Stats() Stats {
	now := t.opts.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pruneLocked(now)
	s := t.stats
	s.Requests = make(map[RequestKey]int, len(t.stats.Requests))
	for k, v := range t.stats.Requests {
		s.Requests[k] = v
	}
	s.RowsStored, s.RowsExpired, s.RowsEvicted = t.store.len(), t.store.expired, t.store.evicted
	return s
}

func (t *Tenant) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+RouteOpenID, t.counted(RouteOpenID, t.handleOpenID))
	mux.Handle("POST "+RouteToken, t.counted(RouteToken, t.handleToken))
	mux.Handle("GET "+RouteDiscovery, t.counted(RouteDiscovery, t.handleDiscovery))
	mux.Handle("GET "+RouteSignIns, t.counted(RouteSignIns, t.handleSignIns))
	mux.Handle("GET "+RouteRegistrationDetails, t.counted(RouteRegistrationDetails, t.handleList(registrationCollection)))
	mux.Handle("GET "+RouteUsers, t.counted(RouteUsers, t.handleList(usersCollection)))
	mux.Handle("GET "+RouteRequirements, t.counted(RouteRequirements, http.HandlerFunc(t.handleRequirements)))
	mux.Handle("GET "+RoutePolicies, t.counted(RoutePolicies, t.handlePolicies))
	mux.Handle("/", t.counted(RouteOther, func(w http.ResponseWriter, r *http.Request) {
		writeGraphError(w, http.StatusNotFound, "Request_ResourceNotFound",
			"Resource not found for the segment '"+r.URL.Path+"'.")
	}))
	return mux
}

// recorder remembers the status so that requests can be counted even when a
// handler aborts the connection with a panic (the truncated-body fault).
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush on the real writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (t *Tenant) counted(route string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		defer func() {
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			t.mu.Lock()
			t.stats.Requests[RequestKey{route, status}]++
			t.mu.Unlock()
			// Only the route and status: query strings can carry filters
			// that are fine, but headers carry tokens.
			t.log.Debug("simtenant request", "route", route, "status", status)
		}()
		h(rec, r)
	})
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// graphError is Graph's error envelope.
type graphError struct {
	Error graphErrorBody `json:"error"`
}

type graphErrorBody struct {
	Code       string          `json:"code"`
	Message    string          `json:"message"`
	InnerError graphInnerError `json:"innerError"`
}

type graphInnerError struct {
	Date            string `json:"date"`
	RequestID       string `json:"request-id"`
	ClientRequestID string `json:"client-request-id"`
}

func writeGraphError(w http.ResponseWriter, status int, code, message string) {
	id := requestID()
	body, err := json.Marshal(graphError{Error: graphErrorBody{
		Code:    code,
		Message: message,
		InnerError: graphInnerError{
			Date:            time.Now().UTC().Format("2006-01-02T15:04:05"),
			RequestID:       id,
			ClientRequestID: id,
		},
	}})
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", id)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, fmt.Sprintf("encoding response: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
