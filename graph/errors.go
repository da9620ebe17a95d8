package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Sentinel errors for the failures an operator has to fix outside the exporter. Callers test them
// with errors.Is; *APIError maps onto them.
var (
	ErrLicence        = errors.New("tenant has no Microsoft Entra ID P1/P2 licence")
	ErrPermission     = errors.New("app registration lacks a Microsoft Graph permission")
	ErrAuthentication = errors.New("authentication with Microsoft Entra ID failed")
	// ErrRedirect: Graph (or something in front of it) answered with a redirect. Graph's list
	// endpoints never redirect, so the client follows none and does not retry.
	ErrRedirect = errors.New("graph answered with a redirect")
)

// APIError is a non-success answer from Graph that was not retried (or no longer retried).
type APIError struct {
	Endpoint   string
	StatusCode int
	Code       string
	Message    string
	RequestID  string
	Location   string // a redirect's target, as sent (shortened)
}

// graphErrorBody is Graph's error envelope: {"error":{"code","message","innerError":{"request-id"}}}.
type graphErrorBody struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			RequestID string `json:"request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// newAPIError builds an APIError from a response. The body may be anything (an HTML page from a
// proxy, nothing at all), so a body that is not Graph's envelope is kept as a short message rather
// than being an error of its own.
func newAPIError(endpoint string, status int, body []byte, h http.Header) *APIError {
	e := &APIError{Endpoint: endpoint, StatusCode: status}
	var env graphErrorBody
	if err := json.Unmarshal(body, &env); err == nil && (env.Error.Code != "" || env.Error.Message != "") {
		e.Code = env.Error.Code
		e.Message = env.Error.Message
		e.RequestID = env.Error.InnerError.RequestID
	} else {
		e.Message = shorten(strings.TrimSpace(string(body)), 200)
	}
	if e.RequestID == "" {
		e.RequestID = h.Get("request-id")
	}
	if e.isRedirect() {
		e.Location = shorten(h.Get("Location"), 200)
	}
	return e
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func (e *APIError) isRedirect() bool { return e.StatusCode >= 300 && e.StatusCode < 400 }

func (e *APIError) isLicence() bool {
	// Sign-ins answer "RequestFromNonPremiumTenant"; the registration reports answer
	// "Authentication_RequestFromNonPremiumTenantOrB2CTenant": the substring covers both.
	return e.StatusCode == http.StatusForbidden &&
		(strings.Contains(e.Code, "RequestFromNonPremiumTenant") || strings.Contains(e.Message, "RequestFromNonPremiumTenant"))
}

func (e *APIError) isPermission() bool {
	if e.StatusCode != http.StatusForbidden || e.isLicence() {
		return false
	}
	msg := strings.ToLower(e.Message)
	return e.Code == "Authorization_RequestDenied" ||
		e.Code == "Authentication_MSGraphPermissionMissing" ||
		strings.Contains(msg, "insufficient privileges") ||
		strings.Contains(msg, "does not have required")
}

// Is lets callers write errors.Is(err, ErrLicence) etc. without knowing Graph's error codes.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrLicence:
		return e.isLicence()
	case ErrPermission:
		return e.isPermission()
	case ErrAuthentication:
		return e.StatusCode == http.StatusUnauthorized
	case ErrRedirect:
		return e.isRedirect()
	}
	return false
}

// requiredPermissions names what an endpoint needs, so the error tells the operator exactly which
// permission to grant. Sign-ins need Directory.Read.All besides AuditLog.Read.All (a long-standing
// Graph issue).
func requiredPermissions(endpoint string) string {
	switch endpoint {
	case "signIns":
		return "AuditLog.Read.All and Directory.Read.All"
	case EndpointRegistrationDetails:
		return "AuditLog.Read.All"
	case EndpointUsers:
		return "User.Read.All"
	case EndpointRequirements, EndpointCAPolicies:
		return "Policy.Read.All"
	default:
		return "AuditLog.Read.All (plus Directory.Read.All for sign-ins)"
	}
}

// RequiredPermission returns the application permission(s) Graph wants for an endpoint label
// (signIns, userRegistrationDetails, users, authenticationRequirements), for help texts.
func RequiredPermission(endpoint string) string { return requiredPermissions(endpoint) }

// licenceHint words the licence problem per endpoint: the registration report also refuses B2C
// tenants, which no licence fixes, and saying so spares an admin a licence purchase.
func licenceHint(endpoint string) string {
	if endpoint == EndpointRegistrationDetails {
		return "the tenant is on Microsoft Entra ID Free or is an Azure AD B2C tenant: the userRegistrationDetails report needs Microsoft Entra ID P1/P2 licences and is not available in B2C tenants"
	}
	return "the tenant has no Microsoft Entra ID P1/P2 licence, which Graph requires for sign-in logs and authentication-method reports: assign P1 or P2 licences to the tenant"
}

func (e *APIError) hint() string {
	switch {
	case e.isLicence():
		return licenceHint(e.Endpoint)
	case e.isPermission():
		return "the app registration lacks permission: grant the application permission(s) " + requiredPermissions(e.Endpoint) + " and give admin consent"
	case e.StatusCode == http.StatusUnauthorized:
		return "Graph rejected the access token: check that the tenant ID, client ID, credential and cloud (authority and Graph endpoint) belong together"
	case e.StatusCode == http.StatusForbidden:
		return "access denied: check the app registration's Graph permissions and the tenant's licences"
	case e.StatusCode == http.StatusBadRequest:
		return "Graph rejected the query"
	case e.StatusCode == http.StatusNotFound:
		return "not found: check the Graph endpoint URL"
	case e.isRedirect():
		return "Graph list endpoints never redirect; not following it to " + strconv.Quote(e.Location) +
			": check the Graph endpoint URL and any proxy in between"
	case e.StatusCode == http.StatusTooManyRequests:
		return "still throttled after the allowed number of waits"
	case e.StatusCode >= 500:
		return "Graph service error"
	}
	return ""
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph %s: HTTP %d", e.Endpoint, e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if h := e.hint(); h != "" {
		b.WriteString(" (" + h + ")")
	}
	if e.RequestID != "" {
		b.WriteString(" [request-id " + e.RequestID + "]")
	}
	return b.String()
}

// MalformedPageError reports a page whose top level could not be decoded even after re-fetching it
// once (truncated, invalid JSON, no "value" array). Pages delivered before it remain valid.
type MalformedPageError struct {
	Endpoint string
	URL      string
	Err      error
}

func (e *MalformedPageError) Error() string {
	return fmt.Sprintf("graph %s: malformed page %s: %v", e.Endpoint, e.URL, e.Err)
}

func (e *MalformedPageError) Unwrap() error { return e.Err }
