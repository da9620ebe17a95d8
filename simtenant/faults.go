package simtenant

import (
	"fmt"
	"time"
)

// Fault kinds accepted by InjectFault. Each applies to the next Count
// requests it matches: token-endpoint faults to token requests, the others
// to Graph requests that carry a valid token: sign-ins when Fault.Route is
// empty, else the registration route it names (RouteRegistrationDetails,
// RouteUsers, RouteRequirements, RoutePolicies), where only the faults answered before the
// page (HTTP errors, throttle, delay, license, permission) apply.
const (
	FaultHTTP500     = "http_500"     // 500 with a Graph error body
	FaultHTTP502     = "http_502"     // 502
	FaultHTTP503     = "http_503"     // 503 (Retry-After sent when RetryAfter > 0)
	FaultHTTP504     = "http_504"     // 504
	FaultThrottle    = "throttle"     // 429 with Retry-After = RetryAfter (at least 1 s)
	FaultDelay       = "delay"        // wait Delay, then answer normally
	FaultLicense     = "license"      // 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant
	FaultPermission  = "permission"   // 403 Authorization_RequestDenied
	FaultTruncated   = "truncated"    // 200 page cut half way, connection aborted
	FaultInvalidJSON = "invalid_json" // 200 page whose body is not JSON
	// FaultMalformedRow serves one row of the page with "createdDateTime": 12.
	FaultMalformedRow = "malformed_row"
	// FaultMalformedStatus serves one row of the page with "status": "x".
	FaultMalformedStatus = "malformed_status"
	// FaultToken makes the token endpoint answer 500.
	FaultToken = "token_error"
)

// Fault is one injected failure. Count <= 0 means 1.
type Fault struct {
	Kind       string
	Route      string // empty: sign-ins; otherwise a registration route
	Count      int
	RetryAfter time.Duration
	Delay      time.Duration
}

// preFaults answer before the request is throttled or parsed; pageFaults
// corrupt a page that would otherwise be served, so they wait for one.
var (
	preFaults = map[string]bool{
		FaultHTTP500: true, FaultHTTP502: true, FaultHTTP503: true, FaultHTTP504: true,
		FaultThrottle: true, FaultDelay: true, FaultLicense: true, FaultPermission: true,
	}
	pageFaults = map[string]bool{
		FaultTruncated: true, FaultInvalidJSON: true, FaultMalformedRow: true, FaultMalformedStatus: true,
	}
)

// InjectFault queues a fault. Faults of one endpoint apply in the order they
// were injected. An unknown kind panics: a test that misspells a kind would
// otherwise pass without exercising anything.
func (t *Tenant) InjectFault(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case f.Route != "":
		if f.Route != RouteRegistrationDetails && f.Route != RouteUsers && f.Route != RouteRequirements && f.Route != RoutePolicies {
			panic(fmt.Sprintf("simtenant: fault route %q is not a registration route", f.Route))
		}
		if !preFaults[f.Kind] {
			panic(fmt.Sprintf("simtenant: fault kind %q does not apply to %s", f.Kind, f.Route))
		}
		t.routeFaults[f.Route] = append(t.routeFaults[f.Route], &f)
	case f.Kind == FaultToken:
		t.tokenFaults = append(t.tokenFaults, &f)
	case preFaults[f.Kind] || pageFaults[f.Kind]:
		t.faults = append(t.faults, &f)
	default:
		panic(fmt.Sprintf("simtenant: unknown fault kind %q", f.Kind))
	}
}

// takeFault consumes one use of the queue's head fault if match accepts it.
// Only the head is considered, so faults apply strictly in order.
func takeFault(queue *[]*Fault, match func(*Fault) bool) *Fault {
	if len(*queue) == 0 || !match((*queue)[0]) {
		return nil
	}
	head := (*queue)[0]
	used := *head
	head.Count--
	if head.Count <= 0 {
		*queue = (*queue)[1:]
	}
	return &used
}

// ClearFaults drops every queued fault, so a test can end an outage it started with a large
// Count without guessing how many requests the client's own retries would consume.
func (t *Tenant) ClearFaults() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults, t.tokenFaults = nil, nil
	t.routeFaults = map[string][]*Fault{}
}

// SetPoisonRange makes every sign-in page that holds a row created in [from, to) come back as
// invalid JSON, for as long as the range is set: a range Graph keeps failing on, unlike the
// one-off faults of InjectFault. A zero range clears it.
func (t *Tenant) SetPoisonRange(from, to time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.poison = [2]time.Time{from, to}
}

// poisoned reports whether rows hold a row of the poison range. Callers hold t.mu.
func (t *Tenant) poisoned(rows []*storedRow) bool {
	from, to := t.poison[0], t.poison[1]
	if !to.After(from) {
		return false
	}
	for _, r := range rows {
		if !r.created.Before(from) && r.created.Before(to) {
			return true
		}
	}
	return false
}
