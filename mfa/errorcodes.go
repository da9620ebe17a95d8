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
	Cause       string // what typically produces the code
	Action      string // what an administrator does about it
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

func ec(code int, result, handling, desc, cause, action string) ErrorCodeEntry {
	return ErrorCodeEntry{Code: code, Label: strconv.Itoa(code), Result: result, Handling: handling, Description: desc, Cause: cause, Action: action}
}

var errorCodes = []ErrorCodeEntry{
	ec(0, ResultSuccess, HandlingSuccess, "Success: the sign-in completed.",
		"Credentials were accepted and every policy, MFA included, was satisfied.",
		"Nothing."),
	// Interrupts that announce MFA: the user is about to be prompted (or must
	// register), so the row is neither an attempt nor a failure.
	ec(50074, ResultInterrupted, HandlingMFAInterrupt, "Strong authentication is required: interrupt before the MFA prompt.",
		"A policy requires MFA and the session has no MFA claim yet: the first row of an interactive MFA sign-in.",
		"Nothing; the following row with the same correlation id is the attempt. Many 50074 rows without a following attempt mean users abandon the prompt."),
	ec(50076, ResultInterrupted, HandlingMFAInterrupt, "MFA required by policy / location change: the client retries with MFA.",
		"A Conditional Access policy or a new location requires MFA for a client that has only a single-factor token.",
		"Nothing; the client should prompt. Repeated 50076 for a non-interactive client means it cannot prompt: sign in again interactively."),
	ec(50078, ResultInterrupted, HandlingMFAInterrupt, "The presented MFA expired under tenant policy: the user must refresh MFA.",
		"Sign-in frequency or the MFA lifetime ran out.",
		"Nothing; the user proves MFA again (reason expired_by_tenant_policy)."),
	ec(50079, ResultInterrupted, HandlingMFAInterrupt, "The user must register for MFA.",
		"MFA is required and the user has no method, or a registration policy or campaign asks them to register.",
		"Nothing if the registration follows; if not, help the user register (https://aka.ms/mfasetup) or issue a Temporary Access Pass."),
	ec(50072, ResultInterrupted, HandlingMFAInterrupt, "The user must enrol their second factor (MFA registration).",
		"The user is asked to register a second factor, often on first sign-in.",
		"Nothing if the registration follows; otherwise help the user register."),
	ec(50140, ResultInterrupted, HandlingPostAuthInterrupt, "Keep-me-signed-in interrupt after authentication.",
		"The \"Stay signed in?\" prompt shown after the user authenticated.",
		"Nothing; the setting is in company branding."),
	ec(50097, ResultInterrupted, HandlingFailure, "Device authentication is required: the client retries with device credentials.",
		"A policy requires a known device and the client first came without device credentials.",
		"Nothing when a success follows; otherwise check the device's registration and the browser or client's support for device authentication."),
	ec(50125, ResultInterrupted, HandlingFailure, "Sign-in interrupted by a password reset or password registration entry.",
		"The user is sent to reset or register password reset information.",
		"Nothing."),
	ec(50199, ResultInterrupted, HandlingFailure, "User confirmation required for security reasons (interrupt).",
		"A confirmation page shown for some redirects, for example to native apps.",
		"Nothing."),
	// MFA failures.
	ec(500121, ResultFailure, HandlingMFAFailure, "Authentication failed during the strong authentication request (MFA denied, unanswered or wrong code).",
		"The user declined, ignored or failed the MFA prompt; the row's reason says which.",
		"Explain the row's reason; many for one user with no success around them suggest a stolen password."),
	ec(50158, ResultFailure, HandlingMFAFailure, "External security challenge (external MFA provider or custom control) not satisfied.",
		"A custom control, external authentication method or federated provider did not complete its challenge: the user cancelled or timed out, or the provider failed.",
		"Read the external provider's logs for the same user and time; a success usually follows when the user completes the challenge."),
	ec(50088, ResultFailure, HandlingMFAFailure, "Limit on telecom MFA calls reached.",
		"Too many MFA calls or texts for the user in a short time, often a script or an attacker retrying.",
		"Find what is retrying; move users off telecom methods."),
	ec(50086, ResultFailure, HandlingMFAFailure, "Non-retryable error during strong authentication.",
		"An MFA service fault that a retry will not fix for this request.",
		"Check Microsoft's service health; if it persists for one user, open a support case."),
	ec(50087, ResultFailure, HandlingMFAFailure, "Transient error during strong authentication.",
		"A transient MFA service fault.",
		"Retry; check service health when it spikes."),
	// Failures before (or unrelated to) MFA.
	ec(50126, ResultFailure, HandlingFailure, "Invalid user name or password.",
		"A mistyped or stale password, a device or app with an old password, or password guessing.",
		"Many accounts failing from few addresses is password spraying: block the addresses and check that MFA covers every application."),
	ec(50053, ResultFailure, HandlingFailure, "Account locked (smart lockout) or sign-in from a malicious IP blocked.",
		"Repeated wrong passwords triggered smart lockout, or the address is known to be malicious.",
		"Find the source of the failed attempts; a stale password on a device is the usual benign cause."),
	ec(50055, ResultFailure, HandlingFailure, "Password expired.",
		"The password is older than the password expiry policy allows.",
		"The user changes the password; review whether expiry is still wanted."),
	ec(50056, ResultFailure, HandlingFailure, "Invalid or empty password.",
		"The user has no password in the directory or the client sent none.",
		"Check the account's authentication setup and the client."),
	ec(50057, ResultFailure, HandlingFailure, "User account disabled.",
		"Someone keeps using a disabled account: a departed user, a script or an attacker.",
		"Find the device or script still using it and stop it."),
	ec(50034, ResultFailure, HandlingFailure, "User account not found in the directory.",
		"A typo in the user name, a deleted user, or user enumeration.",
		"Many different unknown names from one address is enumeration: block the address."),
	ec(50144, ResultFailure, HandlingFailure, "On-premises Active Directory password expired.",
		"The user's on-premises password expired (password hash sync or pass-through authentication).",
		"The user changes the password on-premises."),
	ec(50133, ResultFailure, HandlingFailure, "Session invalid due to password expiration or recent password change.",
		"The password changed or expired after the session started.",
		"The user signs in again."),
	ec(50132, ResultFailure, HandlingFailure, "Session invalid: password changed or single sign-on artifact invalid.",
		"The password changed or the single sign-on session was revoked.",
		"The user signs in again."),
	ec(50173, ResultFailure, HandlingFailure, "Fresh authentication token needed: the grant expired after a password change or revocation.",
		"Tokens were revoked or the password changed.",
		"The user signs in again."),
	ec(50089, ResultFailure, HandlingFailure, "Flow token expired: the user took too long.",
		"The sign-in page was left open too long, often during an MFA prompt.",
		"The user starts the sign-in again."),
	ec(50058, ResultFailure, HandlingFailure, "Silent sign-in failed: no usable session (user not signed in).",
		"An application tried to sign in silently without a session; common and usually harmless in non-interactive rows.",
		"Nothing unless users report prompts; the application falls back to an interactive sign-in."),
	ec(50011, ResultFailure, HandlingFailure, "Reply URL does not match the application's configuration.",
		"The application's redirect URI is not registered.",
		"The application's owner fixes the redirect URIs in its app registration."),
	ec(50020, ResultFailure, HandlingFailure, "User from an identity provider that is not allowed in this tenant.",
		"A guest or a personal Microsoft account tried to sign in where it is not allowed.",
		"Invite the user as a guest, or fix the application's supported account types."),
	ec(50105, ResultFailure, HandlingFailure, "User not assigned to a role for the application.",
		"The application requires assignment and the user is not assigned.",
		"Assign the user or a group to the application, if they should have access."),
	ec(50131, ResultFailure, HandlingFailure, "Conditional Access: device not in the required state.",
		"A policy requires a device state (compliant, joined) that the device does not have.",
		"Check the device in Intune or Entra ID devices."),
	ec(50196, ResultFailure, HandlingFailure, "Client loop detected.",
		"An application requested tokens in a tight loop.",
		"The application's owner fixes its token caching."),
	ec(53000, ResultFailure, HandlingFailure, "Conditional Access: device not compliant.",
		"A policy requires a compliant device and the device is not compliant or not enrolled.",
		"Check the device's compliance state in Intune."),
	ec(53001, ResultFailure, HandlingFailure, "Conditional Access: device not domain joined.",
		"A policy requires a hybrid-joined device.",
		"Join the device, or use a joined device."),
	ec(53002, ResultFailure, HandlingFailure, "Conditional Access: application not approved.",
		"A policy requires an approved client app.",
		"Use an approved app such as Outlook mobile."),
	ec(53003, ResultFailure, HandlingFailure, "Blocked by Conditional Access.",
		"A Conditional Access policy with a block grant applied.",
		"Read the row's Conditional Access policy results to find the policy; expected for blocked locations and legacy authentication."),
	ec(53004, ResultFailure, HandlingFailure, "MFA registration blocked due to risk.",
		"Identity Protection found risk and refused to let the user register MFA methods.",
		"Investigate the user's risk; remediate (password reset by an administrator) before registration."),
	ec(53011, ResultFailure, HandlingFailure, "User blocked due to risk in the home tenant.",
		"The user's home tenant flagged them as risky.",
		"The user's home tenant must remediate the risk."),
	ec(530032, ResultFailure, HandlingFailure, "Blocked by tenant security policy.",
		"A tenant-wide security policy (for example security defaults or a risk policy) blocked the sign-in.",
		"Check which security policy applies to the user."),
	ec(530034, ResultFailure, HandlingFailure, "Delegated authentication blocked by security policy.",
		"A security policy blocked a delegated (on-behalf-of) sign-in.",
		"Check the security policy and the application's delegation."),
	ec(530035, ResultFailure, HandlingFailure, "Blocked by security defaults.",
		"Security defaults blocked the sign-in, typically legacy authentication.",
		"Move the client to modern authentication."),
	ec(530003, ResultFailure, HandlingFailure, "Conditional Access: the device must be managed.",
		"A policy requires a managed device.",
		"Enrol the device or use a managed one."),
	ec(16000, ResultFailure, HandlingFailure, "Interaction required: several accounts or none signed in.",
		"Silent sign-in cannot pick an account; common and harmless in non-interactive rows.",
		"Nothing; the application prompts the user."),
	ec(65001, ResultFailure, HandlingFailure, "User or administrator has not consented to the application.",
		"The application needs permissions nobody granted.",
		"Review the permissions and grant admin consent if the application is trusted."),
	ec(70043, ResultFailure, HandlingFailure, "Refresh token expired under Conditional Access sign-in frequency.",
		"Sign-in frequency requires a new sign-in.",
		"Nothing; the user signs in again."),
	ec(70044, ResultFailure, HandlingFailure, "Session expired or revoked.",
		"The session reached its maximum lifetime, or an administrator revoked the user's sessions (for example after a password reset).",
		"Nothing; the user signs in again."),
	ec(700082, ResultFailure, HandlingFailure, "Refresh token expired due to inactivity.",
		"The refresh token was unused for 90 days.",
		"Nothing; the user signs in again."),
	ec(70046, ResultFailure, HandlingFailure, "Reauthentication required.",
		"The session or a policy requires a fresh sign-in.",
		"Nothing; the user signs in again."),
	ec(90072, ResultFailure, HandlingFailure, "Guest account from another tenant must be added to this tenant first.",
		"A user from another tenant signed in without being invited.",
		"Invite the user as a guest if they should have access."),
	ec(500011, ResultFailure, HandlingFailure, "Resource principal not found in the tenant.",
		"The application or API requested is not provisioned in the tenant.",
		"An administrator consents to or provisions the application."),
	ec(700016, ResultFailure, HandlingFailure, "Application not found in the tenant.",
		"A wrong client id or an application from another tenant that is not consented.",
		"Check the client id; consent to the application if it is legitimate."),
	ec(7000215, ResultFailure, HandlingFailure, "Invalid client secret.",
		"An application sent a wrong or expired secret.",
		"Rotate the secret in the application's configuration."),
	ec(7000218, ResultFailure, HandlingFailure, "Client assertion or secret missing.",
		"A confidential client sent no credential.",
		"Fix the application's credential configuration."),
	ec(81010, ResultFailure, HandlingFailure, "Seamless SSO failed: Kerberos ticket expired or invalid.",
		"The device's Kerberos ticket for seamless single sign-on is expired or invalid.",
		"Nothing usually (the user signs in with a password); roll over the seamless SSO Kerberos key if it is widespread."),
	ec(81012, ResultFailure, HandlingFailure, "Seamless SSO: signed-in user differs from the user trying to sign in.",
		"The Windows session belongs to another user than the one signing in.",
		"Nothing; the user signs in with their own credentials."),
	ec(50155, ResultFailure, HandlingFailure, "Device authentication failed.",
		"The device's certificate or registration is invalid or the device was deleted.",
		"Re-register the device."),
}

// errorCodeOther describes the "other" error_code label: codes outside the
// catalogue, kept out of the label to bound its values.
var errorCodeOther = ErrorCodeEntry{Label: LabelOther, Result: ResultFailure, Handling: HandlingFailure,
	Description: "Any error code not listed in the catalogue.",
	Cause:       "A rarer failure, or a code Microsoft introduced after this catalogue was written.",
	Action:      "Find the code in the exporter's \"unclassified string\" log line (field error_code), look it up on Microsoft's AADSTS error code page, and report it if it concerns MFA."}

var errorCodeByCode = func() map[int]ErrorCodeEntry {
	m := make(map[int]ErrorCodeEntry, len(errorCodes))
	for _, e := range errorCodes {
		m[e.Code] = e
	}
	return m
}()

// ErrorCodes returns the error-code catalogue.
func ErrorCodes() []ErrorCodeEntry { return slices.Clone(errorCodes) }
