package mfa

import "slices"

// resultCodes is the result-code table of Microsoft's page "Use the sign-ins
// report to review Microsoft Entra multifactor authentication events" (codes
// of the MFA Server activity report) with our own short wording. The exporter
// reuses them as a normalised vocabulary. Note the report's quirk: SUCCESS_
// means "the call or message went through", not "MFA succeeded"
// (SUCCESS_USER_BLOCKED is a denial).
var resultCodes = []Entry{
	{"SUCCESS_WITH_PIN", "PIN entered (correct if the authentication succeeded).", nil,
		"A satisfied sign-in with a key-based method (FIDO2, Windows Hello, passkey, certificate) or an external or unknown method; a denied phone call with a wrong PIN.",
		"Nothing for satisfied rows; on denied rows, see the incorrect_pin reason."},
	{"SUCCESS_NO_PIN", "Only # entered.", nil,
		"The user answered an MFA phone call with #.",
		"Nothing; consider moving phone-call users to the Authenticator app."},
	{"SUCCESS_WITH_PIN_BUT_TIMEOUT", "Digits entered but # never pressed.", nil, neverCause, neverAction},
	{"SUCCESS_NO_PIN_BUT_TIMEOUT", "Call answered, no input: usually voicemail.", nil,
		"The MFA call went to voicemail (reason phone_call_went_to_voicemail).",
		"Ask the user to answer the call, or better, to use the Authenticator app."},
	{"SUCCESS_PIN_EXPIRED", "PIN expired and not changed.", nil, neverCause, neverAction},
	{"SUCCESS_USED_CACHE", "Satisfied from a recent MFA of the same user (cache).", nil,
		"MFA satisfied by a claim in the token, a \"Previously satisfied\" step, a remembered device, or a row with no MFA step of its own.",
		"Nothing; the share of these grows with session length, which sign-in frequency controls."},
	{"SUCCESS_BYPASSED_AUTH", "One-time bypass used.", nil,
		"MFA skipped for an app password, a Windows broker logon or a registered device, or satisfied by a Temporary Access Pass.",
		"Review the skips: app passwords and device exemptions are MFA the user never performed; Temporary Access Passes should match an onboarding or recovery request."},
	{"SUCCESS_USED_IP_BASED_CACHE", "Cache hit for the same user, method, app and IP.", nil,
		"MFA skipped because the client's IP address is trusted (reason skipped_location).",
		"Review the trusted IP ranges and named locations: everything behind them signs in without MFA."},
	{"SUCCESS_USED_APP_BASED_CACHE", "Cache hit for the same user, method and app.", nil, neverCause, neverAction},
	{"SUCCESS_INVALID_INPUT", "Invalid phone input (fax, modem, * in the PIN).", nil, neverCause, neverAction},
	{"SUCCESS_USER_BLOCKED", "The user's phone number is blocked (also after a fraud alert).", nil,
		"A denial because the user is blocked for MFA (reason user_blocked).",
		"Check the MFA block list and any fraud report before unblocking the user."},
	{"SUCCESS_SMS_AUTHENTICATED", "Two-way SMS answered with the right one-time code.", nil,
		"The user entered the right code from a text message or an email one-time passcode.",
		"Nothing; consider moving SMS users to the Authenticator app or passkeys."},
	{"SUCCESS_SMS_SENT", "SMS with the one-time code sent.", nil,
		"A denial where the SMS code was sent and never entered.",
		"Check that SMS reach the user's country and carrier; otherwise the user abandoned the prompt."},
	{"SUCCESS_PHONE_APP_AUTHENTICATED", "Authenticated in the mobile app.", nil,
		"The user approved a push or a passwordless phone sign-in in Microsoft Authenticator.",
		"Nothing."},
	{"SUCCESS_OATH_CODE_PENDING", "Asked for an OATH code, no answer.", nil,
		"A denial where an OATH code was asked for and never entered.",
		"Nothing unless it repeats for a user; then ask whether they still have the token."},
	{"SUCCESS_OATH_CODE_VERIFIED", "Valid OATH code entered.", nil,
		"The user entered a valid code from the Authenticator app or a token.",
		"Nothing."},
	{"SUCCESS_FALLBACK_OATH_CODE_VERIFIED", "Primary method denied, fallback OATH code accepted.", nil,
		"An earlier MFA step in the same row failed (for example an unanswered push) and the user then entered an OATH code.",
		"Nothing; if it is frequent for one user, their primary method is not working for them."},
	{"SUCCESS_FALLBACK_SECURITY_QUESTIONS_ANSWERED", "Primary method denied, security questions answered.", nil, neverCause, neverAction},
	{"FAILED_PHONE_BUSY", "An MFA for this user is already in progress (often RADIUS clients retrying).", nil,
		"A denial with reason authentication_in_progress or duplicate_authentication_attempt.",
		"For VPN and RADIUS clients, raise the client's timeout and turn off its retries."},
	{"CONFIG_ISSUE", "Phone unreachable: busy, disconnected, no answer.", nil,
		"A denial because the phone could not be reached, MFA is misconfigured, the user has no method or is unknown to the MFA service.",
		"Check the user's registered methods and the authentication methods policy; explain the row's reason for the specific fix."},
	{"FAILED_INVALID_PHONENUMBER", "Phone number in an invalid format.", nil,
		"The registered number lacks a country code or has extra characters.",
		"Correct the number in international format in the user's authentication methods."},
	{"FAILED_USER_HUNGUP_ON_US", "User answered and hung up without pressing a key.", nil,
		"The user hung up the MFA call, possibly because they did not start the sign-in.",
		"Ask the user; if they were not signing in, reset their password."},
	{"FAILED_INVALID_EXTENSION", "Extension has invalid characters.", nil, neverCause, neverAction},
	{"FAILED_FRAUD_CODE_ENTERED", "User reported fraud during the call; number blocked.", nil,
		"The user reported fraud during an MFA phone call.",
		"Treat it as a compromised password: reset it and investigate where the sign-in came from."},
	{"FAILED_SERVER_ERROR", "The service could not place the call.", nil,
		"A service error (reason service_error, or error codes 50086 and 50087).",
		"Check Microsoft's service health; a spike across users is the service, not the users."},
	{"FAILED_SMS_NOT_SENT", "SMS could not be sent.", nil,
		"A service error while sending a text message.",
		"Check service health and SMS delivery for the user's country."},
	{"FAILED_SMS_OTP_INCORRECT", "Wrong one-time code from the SMS.", nil,
		"The user typed a wrong code from a text message or an email one-time passcode.",
		"Occasional ones need nothing; repeated ones for one user deserve a call to the user."},
	{"FAILED_SMS_OTP_PIN_INCORRECT", "Wrong one-time code and/or PIN.", nil,
		"A wrong PIN with a text-message method.",
		"Occasional ones need nothing; repeated ones for one user deserve a call to the user."},
	{"FAILED_SMS_MAX_OTP_RETRY_REACHED", "Too many one-time code attempts.", nil,
		"The user entered wrong codes too many times (reason incorrect_code_too_many_times).",
		"Ask the user; if they were not signing in, someone is guessing codes with their password: reset it."},
	{"FAILED_PHONE_APP_DENIED", "User pressed Deny in the mobile app.", nil,
		"The user rejected a prompt (reason user_declined), often because they did not start the sign-in.",
		"Ask the user; a Deny they did not expect means someone has their password: reset it."},
	{"FAILED_PHONE_APP_INVALID_PIN", "Wrong PIN in the mobile app.", nil,
		"A wrong PIN with the app or a key-based method.",
		"Occasional ones need nothing; the user resets a forgotten PIN on the device."},
	{"FAILED_PHONE_APP_PIN_NOT_CHANGED", "Required PIN change in the app not completed.", nil, neverCause, neverAction},
	{"FAILED_FRAUD_REPORTED", "User reported fraud in the mobile app.", nil,
		"The user reported an unexpected prompt as fraud.",
		"Treat it as a compromised password: reset it, investigate the sign-in, then unblock the user if the fraud report blocked them."},
	{"FAILED_PHONE_APP_NO_RESPONSE", "No answer to the mobile app notification.", nil,
		"The user ignored or did not see a push notification; a series of them can be an MFA fatigue attack.",
		"Many for one user in a short time: treat as an attack and reset the password. Otherwise nothing."},
	{"FAILED_PHONE_APP_ALL_DEVICES_BLOCKED", "All of the user's app devices are blocked.", nil, neverCause, neverAction},
	{"FAILED_PHONE_APP_NOTIFICATION_FAILED", "Sending the app notification failed.", nil,
		"The push notification could not be sent or delivered (stale device registration, push service failure).",
		"Have the user re-add the account in the Authenticator app; for many users at once, check service health."},
	{"FAILED_PHONE_APP_INVALID_RESULT", "The app returned an invalid result.", nil,
		"A denial whose reason is invalid_authentication: the MFA response was not valid.",
		"Retry; if it repeats for one user, have them register the method again."},
	{"FAILED_OATH_CODE_INCORRECT", "Wrong OATH code.", nil,
		"A wrong code from the Authenticator app or a token, including an invalid mobile app verification code.",
		"Check the phone's or token's clock; repeated failures for one user deserve a call."},
	{"FAILED_OATH_CODE_PIN_INCORRECT", "Wrong OATH code and/or PIN.", nil,
		"The user typed a wrong PIN together with the code of a hardware or software OATH token (reason incorrect_pin).",
		"Occasional ones need nothing; repeated ones deserve a call to the user."},
	{"FAILED_OATH_CODE_DUPLICATE", "OATH code already used.", nil,
		"The user entered a one-time code a second time.",
		"Wait for the next code; nothing to fix."},
	{"FAILED_OATH_CODE_OLD", "OATH code older than one already used.", nil, neverCause, neverAction},
	{"FAILED_OATH_TOKEN_TIMEOUT", "OATH code entered too late.", nil, neverCause, neverAction},
	{"FAILED_SECURITY_QUESTIONS_TIMEOUT", "Security answers entered too late.", nil, neverCause, neverAction},
	{"FAILED_AUTH_RESULT_TIMEOUT", "The user took too long to complete MFA.", nil,
		"A denial whose reason is unknown or absent, or a code that was never entered with a method other than SMS or OATH.",
		"Read the row's reason; if it is other, find the text in the exporter's \"unclassified string\" log line."},
	{"FAILED_AUTHENTICATION_THROTTLED", "The MFA attempt was throttled by the service.", nil,
		"Error code 50088: the limit on telecom (call and SMS) MFA for the user or tenant was reached, often by repeated attempts.",
		"Look for a script or an attacker retrying the sign-in; move users off telecom methods."},
}

// Shared texts of the result codes no mapping rule produces: they describe
// MFA Server features (PIN mode, phone extensions, security questions) that
// cloud sign-ins never report.
const (
	neverCause  = "Only MFA Server (PIN mode, phone extensions, security questions) reported this; cloud sign-in rows never map to it."
	neverAction = "Nothing: the exporter never produces this code; it is listed so that every code of Microsoft's table has an entry."
)

// resultCodeNone is the result_code of rows that are not MFA attempts, and of
// denials no code of Microsoft's table describes.
var resultCodeNone = Entry{LabelNone, "No result code: the row is not an MFA attempt, or it is a 50158 denial by an external provider, which no code of Microsoft's table describes.", nil,
	"Interrupts, failures before MFA and single-factor sign-ins; and external MFA providers (custom controls, external authentication methods) whose challenge was not satisfied.",
	"Nothing for non-attempts; for 50158 denials, read the external provider's logs for the user and time."}

// ResultCodeRule is one row of the documented mapping from a classified MFA
// attempt to a result code of Microsoft's table. Rules are tried in order; the first whose
// conditions all hold gives the code. An empty condition matches anything.
type ResultCodeRule struct {
	Outcome   string   // satisfied | denied
	Methods   []string // method labels; empty: any method
	Reasons   []string // reason labels; empty: any reason
	ErrorCode string   // error-code label; empty: any
	// AfterFailedStep restricts the rule to rows where an earlier MFA step
	// failed before the deciding one succeeded (a fallback method).
	AfterFailedStep bool
	Code            string
	Rationale       string
}

var (
	appMethods       = []string{MethodMobileAppNotification, MethodAuthenticatorPasswordless}
	messageOTP       = []string{MethodTextMessage, MethodEmailOTP}
	keyGestureMethod = []string{MethodFIDO2SecurityKey, MethodWindowsHelloForBusiness, MethodPasskey, MethodCertificate}
)

var resultCodeRules = []ResultCodeRule{
	// Satisfied: reasons that say no fresh proof was given come first, since
	// they hold whatever method the row names.
	{Outcome: OutcomeSatisfied, Reasons: []string{ReasonClaimInToken}, Code: "SUCCESS_USED_CACHE",
		Rationale: "An MFA claim from an earlier sign-in was reused: the cloud form of the MFA cache."},
	{Outcome: OutcomeSatisfied, Methods: []string{MethodPreviouslySatisfied}, Code: "SUCCESS_USED_CACHE",
		Rationale: "\"Previously satisfied\" is the step form of the same cache."},
	{Outcome: OutcomeSatisfied, Reasons: []string{ReasonSkippedRememberedDevice}, Code: "SUCCESS_USED_CACHE",
		Rationale: "Remember-MFA-on-this-device reuses an earlier MFA of the same user."},
	{Outcome: OutcomeSatisfied, Reasons: []string{ReasonSkippedLocation}, Code: "SUCCESS_USED_IP_BASED_CACHE",
		Rationale: "Skipped because of the client's IP address: the only success code of the table keyed on the IP."},
	{Outcome: OutcomeSatisfied, Reasons: []string{ReasonSkippedAppPassword, ReasonSkippedWindowsBrokerLogon, ReasonSkippedRegisteredDevice}, Code: "SUCCESS_BYPASSED_AUTH",
		Rationale: "A rule let the sign-in through without MFA: the cloud counterpart of a bypass."},
	{Outcome: OutcomeSatisfied, Methods: []string{MethodTemporaryAccessPass}, Code: "SUCCESS_BYPASSED_AUTH",
		Rationale: "No code of the table fits: a Temporary Access Pass is the administrator-issued successor of the one-time bypass."},
	{Outcome: OutcomeSatisfied, Methods: []string{MethodOATHVerificationCode}, AfterFailedStep: true, Code: "SUCCESS_FALLBACK_OATH_CODE_VERIFIED",
		Rationale: "An earlier MFA step of the same row failed and an OATH code then succeeded."},
	{Outcome: OutcomeSatisfied, Methods: appMethods, Code: "SUCCESS_PHONE_APP_AUTHENTICATED",
		Rationale: "Approved in Microsoft Authenticator (push or passwordless phone sign-in)."},
	{Outcome: OutcomeSatisfied, Methods: messageOTP, Code: "SUCCESS_SMS_AUTHENTICATED",
		Rationale: "Right one-time code from a message; email OTP has no code of its own and follows SMS, the same flow on another channel."},
	{Outcome: OutcomeSatisfied, Methods: []string{MethodPhoneCall}, Code: "SUCCESS_NO_PIN",
		Rationale: "Cloud phone calls are answered with # only (standard mode)."},
	{Outcome: OutcomeSatisfied, Methods: []string{MethodOATHVerificationCode}, Code: "SUCCESS_OATH_CODE_VERIFIED",
		Rationale: "Valid OATH code."},
	{Outcome: OutcomeSatisfied, Methods: keyGestureMethod, Code: "SUCCESS_WITH_PIN",
		Rationale: "No code of the table fits: FIDO2, Windows Hello, passkeys and certificates unlock a key with a local PIN or biometric, the nearest to a correct PIN."},
	{Outcome: OutcomeSatisfied, Methods: []string{LabelNone}, Code: "SUCCESS_USED_CACHE",
		Rationale: "Fallback: no MFA step in the row, so the proof came from an earlier or external authentication (claims, strong authentication, completed elsewhere)."},
	{Outcome: OutcomeSatisfied, Code: "SUCCESS_WITH_PIN",
		Rationale: "Fallback for external and unknown methods: an interactive proof the table has no code for, grouped with the passwordless methods."},

	// Denied: an error code that names the cause wins over any text.
	{Outcome: OutcomeDenied, ErrorCode: "50088", Code: "FAILED_AUTHENTICATION_THROTTLED",
		Rationale: "50088: telecom MFA call limit reached, i.e. throttled."},
	{Outcome: OutcomeDenied, ErrorCode: "50158", Methods: []string{MethodExternal}, Code: LabelNone,
		Rationale: "50158 with an external provider: every code of Microsoft's table describes a call, text, app or token exchange run by Microsoft, while here a third party ran the challenge and Entra only learnt that it was not satisfied. No code says that, so none is given; method external and error code 50158 say it."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonFraudReported}, Methods: []string{MethodPhoneCall}, Code: "FAILED_FRAUD_CODE_ENTERED",
		Rationale: "Fraud reported during a phone call."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonFraudReported}, Code: "FAILED_FRAUD_REPORTED",
		Rationale: "Fraud reported in the app (the wire string is \"Phone App Reported Fraud\")."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonUserDeclined}, Code: "FAILED_PHONE_APP_DENIED",
		Rationale: "Deny pressed: only the app offers a Deny button."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonNoResponseToNotification}, Code: "FAILED_PHONE_APP_NO_RESPONSE",
		Rationale: "No answer to the app notification."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonUnableToSendNotification, ReasonUnableToSendNotificationToDevice}, Code: "FAILED_PHONE_APP_NOTIFICATION_FAILED",
		Rationale: "The notification could not be sent or delivered."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonInvalidMobileAppVerificationCode}, Code: "FAILED_OATH_CODE_INCORRECT",
		Rationale: "The app's verification code is an OATH TOTP code."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonIncorrectCode}, Methods: messageOTP, Code: "FAILED_SMS_OTP_INCORRECT",
		Rationale: "Wrong one-time code from a text message (email OTP follows SMS)."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonIncorrectCode}, Code: "FAILED_OATH_CODE_INCORRECT",
		Rationale: "Wrong code with any other or no method: OATH codes are the other typed codes."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonIncorrectCodeTooManyTimes}, Code: "FAILED_SMS_MAX_OTP_RETRY_REACHED",
		Rationale: "The table's only code for too many wrong codes."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonIncorrectPIN}, Methods: []string{MethodPhoneCall}, Code: "SUCCESS_WITH_PIN",
		Rationale: "The MFA Server report gives a denied call with a PIN as SUCCESS_WITH_PIN (PIN entered, wrong)."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonIncorrectPIN}, Methods: []string{MethodTextMessage}, Code: "FAILED_SMS_OTP_PIN_INCORRECT",
		Rationale: "Wrong code and/or PIN with a text message."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonIncorrectPIN}, Methods: []string{MethodOATHVerificationCode}, Code: "FAILED_OATH_CODE_PIN_INCORRECT",
		Rationale: "Wrong code and/or PIN with an OATH token."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonIncorrectPIN}, Code: "FAILED_PHONE_APP_INVALID_PIN",
		Rationale: "Wrong PIN with the app or a key-based method: the PIN is checked on the device."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonVerificationCodeAlreadyUsed}, Code: "FAILED_OATH_CODE_DUPLICATE",
		Rationale: "Code already used once."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonVerificationCodeNeverEntered}, Methods: []string{MethodTextMessage}, Code: "SUCCESS_SMS_SENT",
		Rationale: "The SMS went out and its code was never entered."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonVerificationCodeNeverEntered}, Methods: []string{MethodOATHVerificationCode}, Code: "SUCCESS_OATH_CODE_PENDING",
		Rationale: "Asked for an OATH code, no answer."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonVerificationCodeNeverEntered}, Code: "FAILED_AUTH_RESULT_TIMEOUT",
		Rationale: "Code never entered with any other method: the user did not finish in time."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonPhoneCallWentToVoicemail}, Code: "SUCCESS_NO_PIN_BUT_TIMEOUT",
		Rationale: "Call answered by voicemail, no input."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonUserHungUp}, Code: "FAILED_USER_HUNGUP_ON_US",
		Rationale: "User hung up."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonUnableToReachPhone, ReasonMisconfiguration, ReasonNoVerificationMethodsRegistered, ReasonUserNotFound}, Code: "CONFIG_ISSUE",
		Rationale: "Phone unreachable (the meaning in Microsoft's table) or the user's MFA set-up is unusable (the code's name)."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonInvalidPhoneNumberFormat}, Code: "FAILED_INVALID_PHONENUMBER",
		Rationale: "Invalid phone number format."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonUserBlocked}, Code: "SUCCESS_USER_BLOCKED",
		Rationale: "User blocked (the table's code for it, despite the SUCCESS_ prefix)."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonAuthenticationInProgress, ReasonDuplicateAuthenticationAttempt}, Code: "FAILED_PHONE_BUSY",
		Rationale: "Another MFA for the user already in progress."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonServiceError}, Methods: []string{MethodTextMessage}, Code: "FAILED_SMS_NOT_SENT",
		Rationale: "Service error while sending an SMS."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonServiceError}, Code: "FAILED_SERVER_ERROR",
		Rationale: "Service error (also 50086/50087)."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonInvalidAuthentication}, Code: "FAILED_PHONE_APP_INVALID_RESULT",
		Rationale: "The authentication response was not valid."},
	{Outcome: OutcomeDenied, Code: "FAILED_AUTH_RESULT_TIMEOUT",
		Rationale: "Fallback for unknown reasons: MFA was not completed and the row does not say why."},
}

// resultCodeProduced is derived from the rules, so ResultCodes() cannot claim a
// code is produced when no rule yields it.
var resultCodeProduced = func() map[string]bool {
	m := map[string]bool{}
	for _, r := range resultCodeRules {
		m[r.Code] = true
	}
	return m
}()

// ResultCodes returns the 45 result codes of Microsoft's table. Codes no rule of
// ResultCodeMapping produces (MFA Server-only features such as PIN mode,
// extensions and security questions) say so in their description.
func ResultCodes() []Entry {
	out := cloneEntries(resultCodes)
	for i := range out {
		if !resultCodeProduced[out[i].Label] {
			out[i].Description += " " + neverProduced
		}
	}
	return out
}

const neverProduced = "(Never produced: MFA Server only.)"

// ResultCodeProduced reports whether some mapping rule yields code.
func ResultCodeProduced(code string) bool { return resultCodeProduced[code] }

// ResultCodeMapping returns the ordered mapping rules.
func ResultCodeMapping() []ResultCodeRule {
	out := slices.Clone(resultCodeRules)
	for i := range out {
		out[i].Methods = slices.Clone(out[i].Methods)
		out[i].Reasons = slices.Clone(out[i].Reasons)
	}
	return out
}

// resultCode applies the first matching rule. Every satisfied and denied
// classification matches at least the fallback rule of its outcome.
func resultCode(c *Classification, afterFailedStep bool) string {
	for i := range resultCodeRules {
		r := &resultCodeRules[i]
		if r.Outcome != c.Outcome ||
			(len(r.Methods) > 0 && !slices.Contains(r.Methods, c.Method)) ||
			(len(r.Reasons) > 0 && !slices.Contains(r.Reasons, c.Reason)) ||
			(r.ErrorCode != "" && r.ErrorCode != c.ErrorCode) ||
			(r.AfterFailedStep && !afterFailedStep) {
			continue
		}
		return r.Code
	}
	return LabelNone
}
