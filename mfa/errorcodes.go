package mfa

import (
	"slices"
	"strconv"
)

// ErrorCodeEntry is one sign-in error code the classifier knows. Codes outside
// the catalogue get the label "other" so that a burst of unusual failures
// cannot create unbounded label values.
type ErrorCodeEntry struct {
	Code        int
	Label       string // decimal form of Code
	Result      string // success | interrupted | failure
	Handling    string // how the MFA outcome is decided, one of the Handling* constants
	Description string
}

// Handling values: how a row's error code steers its MFA outcome.
const (
	// HandlingSuccess: satisfied when an MFA step or MFA text is present (or
	// the requirement was multi-factor), else not_required.
	HandlingSuccess = "success"
	// HandlingMFAInterrupt: outcome interrupted; the MFA prompt or MFA
	// registration follows in a later row.
	HandlingMFAInterrupt = "mfa_interrupt"
	// HandlingPostAuthInterrupt: the interrupt comes after authentication
	// (keep-me-signed-in), so the outcome is decided as for a success.
	HandlingPostAuthInterrupt = "post_auth_interrupt"
	// HandlingMFAFailure: outcome denied.
	HandlingMFAFailure = "mfa_failure"
	// HandlingFailure: not_attempted unless the steps show MFA was satisfied
	// or denied before the sign-in failed for another reason. Also used for
	// interrupts unrelated to MFA (device authentication, password reset).
	HandlingFailure = "failure"
)

func ec(code int, result, handling, desc string) ErrorCodeEntry {
	return ErrorCodeEntry{Code: code, Label: strconv.Itoa(code), Result: result, Handling: handling, Description: desc}
}

var errorCodes = []ErrorCodeEntry{
	ec(0, ResultSuccess, HandlingSuccess, "Success."),
	// Interrupts that announce MFA: the user is about to be prompted (or must
	// register), so the row is neither an attempt nor a failure.
	ec(50074, ResultInterrupted, HandlingMFAInterrupt, "Strong authentication is required: interrupt before the MFA prompt."),
	ec(50076, ResultInterrupted, HandlingMFAInterrupt, "MFA required by policy or location change: the client retries with MFA."),
	ec(50078, ResultInterrupted, HandlingMFAInterrupt, "The presented MFA expired under tenant policy: the user must refresh MFA."),
	ec(50079, ResultInterrupted, HandlingMFAInterrupt, "The user must register for MFA."),
	ec(50072, ResultInterrupted, HandlingMFAInterrupt, "The user must enrol their second factor (MFA registration)."),
	ec(50140, ResultInterrupted, HandlingPostAuthInterrupt, "Keep-me-signed-in interrupt after authentication."),
	ec(50097, ResultInterrupted, HandlingFailure, "Device authentication is required: the client retries with device credentials."),
	ec(50125, ResultInterrupted, HandlingFailure, "Sign-in interrupted by a password reset or password registration entry."),
	ec(50199, ResultInterrupted, HandlingFailure, "User confirmation required for security reasons (interrupt)."),
	// MFA failures.
	ec(500121, ResultFailure, HandlingMFAFailure, "Authentication failed during the strong authentication request (MFA denied, unanswered or wrong code)."),
	ec(50158, ResultFailure, HandlingMFAFailure, "External security challenge (external MFA provider or custom control) not satisfied."),
	ec(50088, ResultFailure, HandlingMFAFailure, "Limit on telecom MFA calls reached."),
	ec(50086, ResultFailure, HandlingMFAFailure, "Non-retryable error during strong authentication."),
	ec(50087, ResultFailure, HandlingMFAFailure, "Transient error during strong authentication."),
	// Failures before (or unrelated to) MFA.
	ec(50126, ResultFailure, HandlingFailure, "Invalid user name or password."),
	ec(50053, ResultFailure, HandlingFailure, "Account locked (smart lockout) or sign-in from a malicious IP blocked."),
	ec(50055, ResultFailure, HandlingFailure, "Password expired."),
	ec(50056, ResultFailure, HandlingFailure, "Invalid or empty password."),
	ec(50057, ResultFailure, HandlingFailure, "User account disabled."),
	ec(50034, ResultFailure, HandlingFailure, "User account not found in the directory."),
	ec(50144, ResultFailure, HandlingFailure, "On-premises Active Directory password expired."),
	ec(50133, ResultFailure, HandlingFailure, "Session invalid due to password expiration or recent password change."),
	ec(50132, ResultFailure, HandlingFailure, "Session invalid: password changed or single sign-on artifact invalid."),
	ec(50173, ResultFailure, HandlingFailure, "Fresh authentication token needed: the grant expired after a password change or revocation."),
	ec(50089, ResultFailure, HandlingFailure, "Flow token expired: the user took too long."),
	ec(50058, ResultFailure, HandlingFailure, "Silent sign-in failed: no usable session (user not signed in)."),
	ec(50011, ResultFailure, HandlingFailure, "Reply URL does not match the application's configuration."),
	ec(50020, ResultFailure, HandlingFailure, "User from an identity provider that is not allowed in this tenant."),
	ec(50105, ResultFailure, HandlingFailure, "User not assigned to a role for the application."),
	ec(50131, ResultFailure, HandlingFailure, "Conditional Access: device not in the required state."),
	ec(50196, ResultFailure, HandlingFailure, "Client loop detected."),
	ec(53000, ResultFailure, HandlingFailure, "Conditional Access: device not compliant."),
	ec(53001, ResultFailure, HandlingFailure, "Conditional Access: device not domain joined."),
	ec(53002, ResultFailure, HandlingFailure, "Conditional Access: application not approved."),
	ec(53003, ResultFailure, HandlingFailure, "Blocked by Conditional Access."),
	ec(53004, ResultFailure, HandlingFailure, "MFA registration blocked due to risk."),
	ec(53011, ResultFailure, HandlingFailure, "User blocked due to risk in the home tenant."),
	ec(530032, ResultFailure, HandlingFailure, "Blocked by tenant security policy."),
	ec(530034, ResultFailure, HandlingFailure, "Delegated authentication blocked by security policy."),
	ec(530035, ResultFailure, HandlingFailure, "Blocked by security defaults."),
	ec(530003, ResultFailure, HandlingFailure, "Conditional Access: the device must be managed."),
	ec(16000, ResultFailure, HandlingFailure, "Interaction required: several accounts or none signed in."),
	ec(65001, ResultFailure, HandlingFailure, "User or administrator has not consented to the application."),
	ec(70043, ResultFailure, HandlingFailure, "Refresh token expired under Conditional Access sign-in frequency."),
	ec(70044, ResultFailure, HandlingFailure, "Session expired or revoked."),
	ec(700082, ResultFailure, HandlingFailure, "Refresh token expired due to inactivity."),
	ec(70046, ResultFailure, HandlingFailure, "Reauthentication required."),
	ec(90072, ResultFailure, HandlingFailure, "Guest account from another tenant must be added to this tenant first."),
	ec(500011, ResultFailure, HandlingFailure, "Resource principal not found in the tenant."),
	ec(700016, ResultFailure, HandlingFailure, "Application not found in the tenant."),
	ec(7000215, ResultFailure, HandlingFailure, "Invalid client secret."),
	ec(7000218, ResultFailure, HandlingFailure, "Client assertion or secret missing."),
	ec(81010, ResultFailure, HandlingFailure, "Seamless SSO failed: Kerberos ticket expired or invalid."),
	ec(81012, ResultFailure, HandlingFailure, "Seamless SSO: signed-in user differs from the user trying to sign in."),
	ec(50155, ResultFailure, HandlingFailure, "Device authentication failed."),
}

var errorCodeByCode = func() map[int]ErrorCodeEntry {
	m := make(map[int]ErrorCodeEntry, len(errorCodes))
	for _, e := range errorCodes {
		m[e.Code] = e
	}
	return m
}()

// ErrorCodes returns the error-code catalogue.
func ErrorCodes() []ErrorCodeEntry { return slices.Clone(errorCodes) }
