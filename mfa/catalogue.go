package mfa

import "slices"

// Entry is one label value of the catalogue. Wire lists the canonical wire
// strings (or, for reasons, fragments of them) that map to Label; matching is
// done on their normalised form, so case, punctuation, apostrophes and the
// Azure AD/Microsoft Entra ID rename need no separate entries.
type Entry struct {
	Label       string
	Description string
	Wire        []string
}

// Label values shared by several dimensions.
const (
	LabelNone  = "none"
	LabelOther = "other"
)

// Requirement labels.
const (
	RequirementSingleFactor = "single_factor"
	RequirementMultiFactor  = "multi_factor"
)

// Result labels (the sign-in's own result, from its error code).
const (
	ResultSuccess     = "success"
	ResultInterrupted = "interrupted"
	ResultFailure     = "failure"
)

// Outcome labels (what happened to MFA in this row).
const (
	OutcomeSatisfied    = "satisfied"
	OutcomeDenied       = "denied"
	OutcomeInterrupted  = "interrupted"
	OutcomeNotAttempted = "not_attempted"
	OutcomeNotRequired  = "not_required"
)

// Component labels.
const (
	ComponentCloud        = "cloud"
	ComponentNPSExtension = "nps_extension"
	ComponentADFSAdapter  = "adfs_adapter"
)

// Method labels.
const (
	MethodMobileAppNotification     = "mobile_app_notification"
	MethodTextMessage               = "text_message"
	MethodPhoneCall                 = "phone_call"
	MethodOATHVerificationCode      = "oath_verification_code"
	MethodFIDO2SecurityKey          = "fido2_security_key"
	MethodWindowsHelloForBusiness   = "windows_hello_for_business"
	MethodPasskey                   = "passkey"
	MethodAuthenticatorPasswordless = "authenticator_passwordless"
	MethodTemporaryAccessPass       = "temporary_access_pass"
	MethodCertificate               = "certificate"
	MethodPreviouslySatisfied       = "previously_satisfied"
	MethodEmailOTP                  = "email_otp"
	MethodExternal                  = "external"
)

// Unknown.Field values.
const (
	FieldMethod          = "method"
	FieldReason          = "reason"
	FieldErrorCode       = "error_code"
	FieldTokenIssuerType = "token_issuer_type"
)

var requirements = []Entry{
	{RequirementSingleFactor, "The sign-in's policies required one factor.", []string{"singleFactorAuthentication"}},
	{RequirementMultiFactor, "The sign-in's policies (per-user MFA, Conditional Access, security defaults...) required MFA.", []string{"multiFactorAuthentication"}},
	{LabelOther, "authenticationRequirement was empty or a value Microsoft added later.", nil},
}

var results = []Entry{
	{ResultSuccess, "errorCode 0: the sign-in succeeded.", []string{"0"}},
	{ResultInterrupted, "An expected interrupt code (MFA prompt coming, registration, keep-me-signed-in, device authentication...): the flow continues in a later row and this row is never a failure.", nil},
	{ResultFailure, "Any other non-zero errorCode, including codes missing from the catalogue.", nil},
}

var outcomes = []Entry{
	{OutcomeSatisfied, "MFA was satisfied in this row: an MFA step succeeded or the row names how MFA was satisfied (including skips and claims). One MFA attempt.", nil},
	{OutcomeDenied, "MFA was required and not satisfied: 500121, 50158, 50088, 50086, 50087, or a failed MFA step with a denied reason. One MFA attempt.", nil},
	{OutcomeInterrupted, "The row is the interrupt announcing MFA or MFA registration (50074, 50076, 50078, 50079, 50072). Not an attempt, not a failure.", nil},
	{OutcomeNotAttempted, "The sign-in stopped before MFA (wrong password, locked or disabled account, Conditional Access block...).", nil},
	{OutcomeNotRequired, "The sign-in succeeded with one factor and nothing in the row involves MFA.", nil},
}

var components = []Entry{
	{ComponentCloud, "MFA performed by Microsoft Entra ID itself (tokenIssuerType AzureAD, ADFederationServices, unknownFutureValue or empty).", []string{"AzureAD", "ADFederationServices", "unknownFutureValue"}},
	{ComponentNPSExtension, "MFA performed for a RADIUS client through the NPS extension.", []string{"NPSExtension", "resourceId radius"}},
	{ComponentADFSAdapter, "MFA performed through the AD FS MFA adapter.", []string{"ADFederationServicesMFAAdapter", "resourceId adfs"}},
}

// firstFactorMethods are step methods that prove the first factor only. A row
// whose steps are all of this kind has method "none".
var firstFactorMethods = []string{
	"Password", "Password Hash Sync", "Pass-through Authentication", "Federated",
	"Federated single-factor", "Seamless SSO", "Integrated Windows Authentication",
}

var methods = []Entry{
	{MethodMobileAppNotification, "Approve a push notification in Microsoft Authenticator (second factor).",
		[]string{"Mobile app notification", "Authenticator App", "Microsoft Authenticator app notification", "Notification through mobile app", "PhoneAppNotification"}},
	{MethodTextMessage, "One-time code sent by SMS.",
		[]string{"Text message", "SMS", "OneWaySMS"}},
	{MethodPhoneCall, "Voice call answered with # (mobile, alternate mobile or office phone).",
		[]string{"Phone call", "Voice", "Alternate mobile phone", "Office phone", "Voice call", "TwoWayVoiceMobile", "TwoWayVoiceAlternateMobile", "TwoWayVoiceOffice"}},
	{MethodOATHVerificationCode, "Time-based code from a software or hardware OATH token, including the Authenticator app's code.",
		[]string{"OATH verification code", "Software OATH token", "Hardware OATH token", "Mobile app verification code", "PhoneAppOTP"}},
	{MethodFIDO2SecurityKey, "FIDO2 security key (passwordless; satisfies MFA in one step).",
		[]string{"FIDO2 security key", "FIDO2", "Security key"}},
	{MethodWindowsHelloForBusiness, "Windows Hello for Business (passwordless; satisfies MFA in one step).",
		[]string{"Windows Hello for Business", "Windows Hello"}},
	{MethodPasskey, "Passkey, device-bound or synced (passwordless; satisfies MFA in one step).",
		[]string{"Passkey", "Passkey (device-bound)", "Passkey (synced)", "Passkey (Microsoft Authenticator)"}},
	{MethodAuthenticatorPasswordless, "Microsoft Authenticator passwordless phone sign-in (satisfies MFA in one step).",
		[]string{"Microsoft Authenticator", "Passwordless phone sign-in", "Microsoft Authenticator (passwordless)"}},
	{MethodTemporaryAccessPass, "Temporary Access Pass issued by an administrator (satisfies MFA in one step).",
		[]string{"Temporary Access Pass", "TAP"}},
	{MethodCertificate, "Certificate-based authentication (smart card or software certificate; satisfies MFA in one step when configured as multifactor).",
		[]string{"Certificate-based authentication", "X.509 Certificate", "X509Certificate", "Certificate"}},
	{MethodPreviouslySatisfied, "No new proof: an MFA claim already in the session or token was reused.",
		[]string{"Previously satisfied", "Satisfied by token"}},
	{MethodEmailOTP, "One-time passcode sent by email (guests, self-service password reset).",
		[]string{"Email verification code", "Email one-time passcode", "Email OTP", "Email"}},
	{MethodExternal, "External authentication method or Conditional Access custom control (third-party MFA provider).",
		[]string{"External authentication method", "External authentication methods", "Custom control", "Custom controls"}},
	{LabelNone, "No MFA step in the row: only first-factor steps (password, federation...) or no steps at all.", firstFactorMethods},
	{LabelOther, "A step method missing from this catalogue; the raw string is reported as unknown.", nil},
}

// passwordless methods satisfy MFA on their own: one step proves possession
// and inherence (or is an administrator-issued strong credential).
var passwordless = map[string]bool{
	MethodFIDO2SecurityKey:          true,
	MethodWindowsHelloForBusiness:   true,
	MethodPasskey:                   true,
	MethodAuthenticatorPasswordless: true,
	MethodCertificate:               true,
	MethodTemporaryAccessPass:       true,
}

// Satisfied reason labels.
const (
	ReasonCompletedInCloud          = "completed_in_cloud"
	ReasonExpiredByTenantPolicy     = "expired_by_tenant_policy"
	ReasonRegistrationPrompted      = "registration_prompted"
	ReasonClaimInToken              = "claim_in_token"
	ReasonClaimByExternalProvider   = "claim_by_external_provider"
	ReasonStrongAuthentication      = "strong_authentication"
	ReasonSkippedWindowsBrokerLogon = "skipped_windows_broker_logon"
	ReasonSkippedAppPassword        = "skipped_app_password"
	ReasonSkippedLocation           = "skipped_location"
	ReasonSkippedRegisteredDevice   = "skipped_registered_device"
	ReasonSkippedRememberedDevice   = "skipped_remembered_device"
	ReasonSuccessfullyCompleted     = "successfully_completed"
)

var satisfiedReasons = []Entry{
	{ReasonCompletedInCloud, "MFA completed in the cloud (Microsoft Entra ID), e.g. for a federated user.",
		[]string{"MFA completed in Azure AD", "MFA completed in Microsoft Entra ID", "completed in the cloud"}},
	{ReasonExpiredByTenantPolicy, "An earlier MFA expired under the tenant's policies and was renewed.",
		[]string{"MFA has expired due to the policies configured on tenant", "expired due to the policies configured on tenant", "expired due to the policies configured on the tenant"}},
	{ReasonRegistrationPrompted, "The user was prompted to register a method, and registering satisfied MFA.",
		[]string{"MFA registration prompted", "registration prompted"}},
	{ReasonClaimInToken, "An MFA claim already in the token satisfied the requirement (no prompt).",
		[]string{"MFA requirement satisfied by claim in the token", "satisfied by claim in the token"}},
	{ReasonClaimByExternalProvider, "A federated identity provider or external provider supplied the MFA claim.",
		[]string{"MFA requirement satisfied by claim provided by external provider", "satisfied by claim provided by external provider"}},
	{ReasonStrongAuthentication, "The sign-in itself used a strong (multifactor) credential.",
		[]string{"MFA requirement satisfied by strong authentication", "satisfied by strong authentication"}},
	{ReasonSkippedWindowsBrokerLogon, "MFA skipped because the flow was a Windows broker logon.",
		[]string{"MFA requirement skipped as flow exercised was Windows broker logon flow", "Windows broker logon flow"}},
	{ReasonSkippedAppPassword, "MFA skipped because a legacy client used an app password.",
		[]string{"MFA requirement skipped due to app password", "skipped due to app password"}},
	{ReasonSkippedLocation, "MFA skipped for a trusted location or IP address.",
		[]string{"MFA requirement skipped due to IP address", "skipped due to location", "skipped due to trusted location", "skipped due to trusted IP address"}},
	{ReasonSkippedRegisteredDevice, "MFA skipped because the device is registered.",
		[]string{"MFA requirement skipped due to registered device", "skipped due to registered device"}},
	{ReasonSkippedRememberedDevice, "MFA skipped because the user chose to remember MFA on this device.",
		[]string{"MFA requirement skipped due to remembered device", "skipped due to remembered device"}},
	{ReasonSuccessfullyCompleted, "The user completed the MFA prompt in this sign-in.",
		[]string{"MFA successfully completed", "successfully completed", "completed successfully"}},
}

// Denied reason labels.
const (
	ReasonAuthenticationInProgress         = "authentication_in_progress"
	ReasonDuplicateAuthenticationAttempt   = "duplicate_authentication_attempt"
	ReasonIncorrectCodeTooManyTimes        = "incorrect_code_too_many_times"
	ReasonInvalidAuthentication            = "invalid_authentication"
	ReasonInvalidMobileAppVerificationCode = "invalid_mobile_app_verification_code"
	ReasonMisconfiguration                 = "misconfiguration"
	ReasonPhoneCallWentToVoicemail         = "phone_call_went_to_voicemail"
	ReasonInvalidPhoneNumberFormat         = "invalid_phone_number_format"
	ReasonServiceError                     = "service_error"
	ReasonUnableToReachPhone               = "unable_to_reach_phone"
	ReasonUnableToSendNotificationToDevice = "unable_to_send_notification_to_device"
	ReasonUnableToSendNotification         = "unable_to_send_notification"
	ReasonUserDeclined                     = "user_declined"
	ReasonNoResponseToNotification         = "no_response_to_notification"
	ReasonNoVerificationMethodsRegistered  = "no_verification_methods_registered"
	ReasonIncorrectCode                    = "incorrect_code"
	ReasonIncorrectPIN                     = "incorrect_pin"
	ReasonUserHungUp                       = "user_hung_up"
	ReasonUserBlocked                      = "user_blocked"
	ReasonVerificationCodeNeverEntered     = "verification_code_never_entered"
	ReasonUserNotFound                     = "user_not_found"
	ReasonVerificationCodeAlreadyUsed      = "verification_code_already_used"
	ReasonFraudReported                    = "fraud_reported"
)

var deniedReasons = []Entry{
	{ReasonAuthenticationInProgress, "Another MFA for this user was still in progress.",
		[]string{"MFA denied; authentication in-progress", "authentication in progress", "authentication already in progress"}},
	{ReasonDuplicateAuthenticationAttempt, "The same authentication was submitted twice (often a retrying RADIUS client).",
		[]string{"MFA denied; duplicate authentication attempt"}},
	{ReasonIncorrectCodeTooManyTimes, "The user entered a wrong code too many times.",
		[]string{"MFA denied; entered incorrect code too many times"}},
	{ReasonInvalidAuthentication, "The authentication response was not valid.",
		[]string{"MFA denied; invalid authentication"}},
	{ReasonInvalidMobileAppVerificationCode, "The verification code from the mobile app was wrong.",
		[]string{"MFA denied; invalid mobile app verification code"}},
	{ReasonMisconfiguration, "MFA is misconfigured for this user or tenant.",
		[]string{"MFA denied; misconfiguration"}},
	{ReasonPhoneCallWentToVoicemail, "The MFA call was answered by voicemail.",
		[]string{"MFA denied; phone call went to voicemail", "call went to voicemail"}},
	{ReasonInvalidPhoneNumberFormat, "The user's phone number has an invalid format.",
		[]string{"MFA denied; phone number has an invalid format", "invalid phone number format"}},
	{ReasonServiceError, "The MFA service failed (also used for 50086/50087 transient errors and 50088 telecom limits).",
		[]string{"MFA denied; service error"}},
	{ReasonUnableToReachPhone, "The user's phone could not be reached.",
		[]string{"MFA denied; unable to reach the user's phone", "unable to reach user's phone"}},
	{ReasonUnableToSendNotificationToDevice, "The mobile app notification could not be delivered to the device.",
		[]string{"MFA denied; unable to send the mobile app notification to the device"}},
	{ReasonUnableToSendNotification, "The mobile app notification could not be sent.",
		[]string{"MFA denied; unable to send the mobile app notification"}},
	{ReasonUserDeclined, "The user pressed Deny.",
		[]string{"MFA denied; user declined the authentication", "declined the authentication"}},
	{ReasonNoResponseToNotification, "The user did not answer the mobile app notification.",
		[]string{"MFA denied; user did not respond to mobile app notification", "user did not respond to the mobile app notification"}},
	{ReasonNoVerificationMethodsRegistered, "The user has no MFA method registered.",
		[]string{"MFA denied; user does not have any verification methods registered", "user does not have any verification method registered"}},
	{ReasonIncorrectCode, "The user entered a wrong code.",
		[]string{"MFA denied; user entered incorrect code", "user entered an incorrect code"}},
	{ReasonIncorrectPIN, "The user entered a wrong PIN.",
		[]string{"MFA denied; user entered incorrect PIN", "user entered an incorrect PIN"}},
	{ReasonUserHungUp, "The user hung up the MFA call without completing it.",
		[]string{"MFA denied; user hung up the phone call without succeeding the authentication", "user hung up the phone call", "user hung up"}},
	{ReasonUserBlocked, "The user is blocked for MFA (by an administrator or after a fraud report).",
		[]string{"MFA denied; user is blocked", "user blocked"}},
	{ReasonVerificationCodeNeverEntered, "A code was sent or asked for and never entered.",
		[]string{"MFA denied; user never entered the verification code", "verification code never entered"}},
	{ReasonUserNotFound, "The MFA service has no record of the user.",
		[]string{"MFA denied; user not found"}},
	{ReasonVerificationCodeAlreadyUsed, "The code had already been used once.",
		[]string{"MFA denied; verification code already used once", "verification code already used"}},
	{ReasonFraudReported, "The user reported the prompt as fraud (app or phone call).",
		[]string{"MFA denied; Phone App Reported Fraud", "fraud reported", "user reported fraud", "fraud"}},
}

var reasonFallbacks = []Entry{
	{LabelNone, "The outcome carries no reason (interrupted, not_attempted, not_required).", nil},
	{LabelOther, "A satisfied or denied row whose reason text matches nothing in the catalogue (the text is reported as unknown), or that carries no reason text at all.", nil},
}

var (
	satisfiedMatcher = newPhraseMatcher(satisfiedReasons)
	deniedMatcher    = newPhraseMatcher(deniedReasons)
	methodByName     = buildMethodIndex()
)

func buildMethodIndex() map[string]string {
	idx := map[string]string{}
	for _, e := range methods {
		for _, w := range e.Wire {
			idx[normalizeName(w)] = e.Label
		}
	}
	return idx
}

// Requirements returns the authenticationRequirement labels.
func Requirements() []Entry { return cloneEntries(requirements) }

// Results returns the sign-in result labels.
func Results() []Entry { return cloneEntries(results) }

// Outcomes returns the MFA outcome labels.
func Outcomes() []Entry { return cloneEntries(outcomes) }

// Components returns the component labels.
func Components() []Entry { return cloneEntries(components) }

// Methods returns the method labels, including "none" and "other".
func Methods() []Entry { return cloneEntries(methods) }

// SatisfiedReasons returns the 12 documented ways MFA is satisfied.
func SatisfiedReasons() []Entry { return cloneEntries(satisfiedReasons) }

// DeniedReasons returns the 22 documented denial reasons plus fraud_reported.
func DeniedReasons() []Entry { return cloneEntries(deniedReasons) }

// ReasonFallbacks returns the reason labels that are not reasons: "none" and
// "other".
func ReasonFallbacks() []Entry { return cloneEntries(reasonFallbacks) }

// cloneEntries keeps callers from mutating the tables the classifier reads.
func cloneEntries(in []Entry) []Entry {
	out := make([]Entry, len(in))
	for i, e := range in {
		out[i] = Entry{Label: e.Label, Description: e.Description, Wire: slices.Clone(e.Wire)}
	}
	return out
}

// LabelValues returns, for each Classification field (keyed by its metric
// label name), every value Classify can return, so that a collector can
// pre-declare series and a test can check the classifier stays inside them.
func LabelValues() map[string][]string {
	labels := func(es ...[]Entry) []string {
		var out []string
		for _, e := range es {
			for _, x := range e {
				out = append(out, x.Label)
			}
		}
		return out
	}
	codes := []string{LabelNone}
	for _, e := range resultCodes {
		if resultCodeProduced[e.Label] {
			codes = append(codes, e.Label)
		}
	}
	errs := make([]string, 0, len(errorCodes)+1)
	for _, e := range errorCodes {
		errs = append(errs, e.Label)
	}
	errs = append(errs, LabelOther)
	return map[string][]string{
		"requirement": labels(requirements),
		"result":      labels(results),
		"outcome":     labels(outcomes),
		"method":      labels(methods),
		"reason":      labels(satisfiedReasons, deniedReasons, reasonFallbacks),
		"result_code": codes,
		"error_code":  errs,
		"component":   labels(components),
	}
}
