package mfa

import "slices"

// resultCodes is the seed's result-code table with our own short wording. The
// codes come from the MFA Server activity report; the exporter reuses them as
// a normalised vocabulary. Note the seed's quirk: SUCCESS_ means "the call or
// message went through", not "MFA succeeded" (SUCCESS_USER_BLOCKED is a
// denial).
var resultCodes = []Entry{
	{"SUCCESS_WITH_PIN", "PIN entered (correct if the authentication succeeded).", nil},
	{"SUCCESS_NO_PIN", "Only # entered.", nil},
	{"SUCCESS_WITH_PIN_BUT_TIMEOUT", "Digits entered but # never pressed.", nil},
	{"SUCCESS_NO_PIN_BUT_TIMEOUT", "Call answered, no input: usually voicemail.", nil},
	{"SUCCESS_PIN_EXPIRED", "PIN expired and not changed.", nil},
	{"SUCCESS_USED_CACHE", "Satisfied from a recent MFA of the same user (cache).", nil},
	{"SUCCESS_BYPASSED_AUTH", "One-time bypass used.", nil},
	{"SUCCESS_USED_IP_BASED_CACHE", "Cache hit for the same user, method, app and IP.", nil},
	{"SUCCESS_USED_APP_BASED_CACHE", "Cache hit for the same user, method and app.", nil},
	{"SUCCESS_INVALID_INPUT", "Invalid phone input (fax, modem, * in the PIN).", nil},
	{"SUCCESS_USER_BLOCKED", "The user's phone number is blocked (also after a fraud alert).", nil},
	{"SUCCESS_SMS_AUTHENTICATED", "Two-way SMS answered with the right one-time code.", nil},
	{"SUCCESS_SMS_SENT", "SMS with the one-time code sent.", nil},
	{"SUCCESS_PHONE_APP_AUTHENTICATED", "Authenticated in the mobile app.", nil},
	{"SUCCESS_OATH_CODE_PENDING", "Asked for an OATH code, no answer.", nil},
	{"SUCCESS_OATH_CODE_VERIFIED", "Valid OATH code entered.", nil},
	{"SUCCESS_FALLBACK_OATH_CODE_VERIFIED", "Primary method denied, fallback OATH code accepted.", nil},
	{"SUCCESS_FALLBACK_SECURITY_QUESTIONS_ANSWERED", "Primary method denied, security questions answered.", nil},
	{"FAILED_PHONE_BUSY", "An MFA for this user is already in progress (often RADIUS clients retrying).", nil},
	{"CONFIG_ISSUE", "Phone unreachable: busy, disconnected, no answer.", nil},
	{"FAILED_INVALID_PHONENUMBER", "Phone number in an invalid format.", nil},
	{"FAILED_USER_HUNGUP_ON_US", "User answered and hung up without pressing a key.", nil},
	{"FAILED_INVALID_EXTENSION", "Extension has invalid characters.", nil},
	{"FAILED_FRAUD_CODE_ENTERED", "User reported fraud during the call; number blocked.", nil},
	{"FAILED_SERVER_ERROR", "The service could not place the call.", nil},
	{"FAILED_SMS_NOT_SENT", "SMS could not be sent.", nil},
	{"FAILED_SMS_OTP_INCORRECT", "Wrong one-time code from the SMS.", nil},
	{"FAILED_SMS_OTP_PIN_INCORRECT", "Wrong one-time code and/or PIN.", nil},
	{"FAILED_SMS_MAX_OTP_RETRY_REACHED", "Too many one-time code attempts.", nil},
	{"FAILED_PHONE_APP_DENIED", "User pressed Deny in the mobile app.", nil},
	{"FAILED_PHONE_APP_INVALID_PIN", "Wrong PIN in the mobile app.", nil},
	{"FAILED_PHONE_APP_PIN_NOT_CHANGED", "Required PIN change in the app not completed.", nil},
	{"FAILED_FRAUD_REPORTED", "User reported fraud in the mobile app.", nil},
	{"FAILED_PHONE_APP_NO_RESPONSE", "No answer to the mobile app notification.", nil},
	{"FAILED_PHONE_APP_ALL_DEVICES_BLOCKED", "All of the user's app devices are blocked.", nil},
	{"FAILED_PHONE_APP_NOTIFICATION_FAILED", "Sending the app notification failed.", nil},
	{"FAILED_PHONE_APP_INVALID_RESULT", "The app returned an invalid result.", nil},
	{"FAILED_OATH_CODE_INCORRECT", "Wrong OATH code.", nil},
	{"FAILED_OATH_CODE_PIN_INCORRECT", "Wrong OATH code and/or PIN.", nil},
	{"FAILED_OATH_CODE_DUPLICATE", "OATH code already used.", nil},
	{"FAILED_OATH_CODE_OLD", "OATH code older than one already used.", nil},
	{"FAILED_OATH_TOKEN_TIMEOUT", "OATH code entered too late.", nil},
	{"FAILED_SECURITY_QUESTIONS_TIMEOUT", "Security answers entered too late.", nil},
	{"FAILED_AUTH_RESULT_TIMEOUT", "The user took too long to complete MFA.", nil},
	{"FAILED_AUTHENTICATION_THROTTLED", "The MFA attempt was throttled by the service.", nil},
}

// ResultCodeRule is one row of the documented mapping from a classified MFA
// attempt to a seed result code. Rules are tried in order; the first whose
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
		Rationale: "Skipped because of the client's IP address: the only seed success keyed on the IP."},
	{Outcome: OutcomeSatisfied, Reasons: []string{ReasonSkippedAppPassword, ReasonSkippedWindowsBrokerLogon, ReasonSkippedRegisteredDevice}, Code: "SUCCESS_BYPASSED_AUTH",
		Rationale: "A rule let the sign-in through without MFA: the cloud counterpart of a bypass."},
	{Outcome: OutcomeSatisfied, Methods: []string{MethodTemporaryAccessPass}, Code: "SUCCESS_BYPASSED_AUTH",
		Rationale: "No seed code: a Temporary Access Pass is the administrator-issued successor of the one-time bypass."},
	{Outcome: OutcomeSatisfied, Methods: []string{MethodOATHVerificationCode}, AfterFailedStep: true, Code: "SUCCESS_FALLBACK_OATH_CODE_VERIFIED",
		Rationale: "An earlier MFA step of the same row failed and an OATH code then succeeded."},
	{Outcome: OutcomeSatisfied, Methods: appMethods, Code: "SUCCESS_PHONE_APP_AUTHENTICATED",
		Rationale: "Approved in Microsoft Authenticator (push or passwordless phone sign-in)."},
	{Outcome: OutcomeSatisfied, Methods: messageOTP, Code: "SUCCESS_SMS_AUTHENTICATED",
		Rationale: "Right one-time code from a message; email OTP has no seed code and follows SMS, the same flow on another channel."},
	{Outcome: OutcomeSatisfied, Methods: []string{MethodPhoneCall}, Code: "SUCCESS_NO_PIN",
		Rationale: "Cloud phone calls are answered with # only (standard mode)."},
	{Outcome: OutcomeSatisfied, Methods: []string{MethodOATHVerificationCode}, Code: "SUCCESS_OATH_CODE_VERIFIED",
		Rationale: "Valid OATH code."},
	{Outcome: OutcomeSatisfied, Methods: keyGestureMethod, Code: "SUCCESS_WITH_PIN",
		Rationale: "No seed code: FIDO2, Windows Hello, passkeys and certificates unlock a key with a local PIN or biometric, the nearest to a correct PIN."},
	{Outcome: OutcomeSatisfied, Methods: []string{LabelNone}, Code: "SUCCESS_USED_CACHE",
		Rationale: "Fallback: no MFA step in the row, so the proof came from an earlier or external authentication (claims, strong authentication, completed elsewhere)."},
	{Outcome: OutcomeSatisfied, Code: "SUCCESS_WITH_PIN",
		Rationale: "Fallback for external and unknown methods: an interactive proof the seed has no code for, grouped with the passwordless methods."},

	// Denied: an error code that names the cause wins over any text.
	{Outcome: OutcomeDenied, ErrorCode: "50088", Code: "FAILED_AUTHENTICATION_THROTTLED",
		Rationale: "50088: telecom MFA call limit reached, i.e. throttled."},
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
		Rationale: "The seed's only code for too many wrong codes."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonIncorrectPIN}, Methods: []string{MethodPhoneCall}, Code: "SUCCESS_WITH_PIN",
		Rationale: "The seed reports a denied call with a PIN as SUCCESS_WITH_PIN (PIN entered, wrong)."},
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
		Rationale: "Phone unreachable (the seed's meaning) or the user's MFA set-up is unusable (the code's name)."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonInvalidPhoneNumberFormat}, Code: "FAILED_INVALID_PHONENUMBER",
		Rationale: "Invalid phone number format."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonUserBlocked}, Code: "SUCCESS_USER_BLOCKED",
		Rationale: "User blocked (the seed's code for it, despite the SUCCESS_ prefix)."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonAuthenticationInProgress, ReasonDuplicateAuthenticationAttempt}, Code: "FAILED_PHONE_BUSY",
		Rationale: "Another MFA for the user already in progress."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonServiceError}, Methods: []string{MethodTextMessage}, Code: "FAILED_SMS_NOT_SENT",
		Rationale: "Service error while sending an SMS."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonServiceError}, Code: "FAILED_SERVER_ERROR",
		Rationale: "Service error (also 50086/50087)."},
	{Outcome: OutcomeDenied, Reasons: []string{ReasonInvalidAuthentication}, Code: "FAILED_PHONE_APP_INVALID_RESULT",
		Rationale: "The authentication response was not valid (also 50158's external provider)."},
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

// ResultCodes returns the 45 seed result codes. Codes no rule of
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
