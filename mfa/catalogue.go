package mfa

import "slices"

// Entry is one label value of a catalogue. Wire lists the canonical wire
// strings (or, for reasons, fragments of them) that map to Label; matching is
// done on their normalised form, so case, punctuation, apostrophes and the
// Azure AD/Microsoft Entra ID rename need no separate entries. Description
// says what the value means, Cause what typically produces it and Action what
// an administrator does about it: the README tables and Explain read the same
// entry.
type Entry struct {
	Label       string
	Description string
	Wire        []string
	Cause       string
	Action      string
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
	{RequirementSingleFactor, "The sign-in's policies required one factor.", []string{"singleFactorAuthentication"},
		"No per-user MFA, no matching Conditional Access policy and no security defaults applied to this user, application and location; also most non-interactive token refreshes.",
		"If this user or application ought to be protected, see which policy should have applied: the requirement source and Conditional Access policy results of these rows show what was evaluated."},
	{RequirementMultiFactor, "The sign-in's policies (per-user MFA, Conditional Access, security defaults...) required MFA.", []string{"multiFactorAuthentication"},
		"Per-user MFA, a Conditional Access policy with an MFA grant or an authentication strength, security defaults or a risk-based policy applied.",
		"Nothing to fix here; the outcome and reason say whether MFA was then satisfied or denied."},
	{LabelOther, "authenticationRequirement was empty or a value Microsoft added later.", nil,
		"Rows Graph returns without the field (some legacy and service flows) or an enum value newer than this catalogue.",
		"If the share is large, read a few raw rows for the value and report it so the catalogue can grow."},
}

var results = []Entry{
	{ResultSuccess, "errorCode 0: the sign-in succeeded.", []string{"0"},
		"A completed sign-in: credentials accepted and every policy satisfied.",
		"Nothing."},
	{ResultInterrupted, "An expected interrupt code (MFA prompt coming, registration, keep-me-signed-in, device authentication...): the flow continues in a later row and this row is never a failure.", nil,
		"The service needs another round trip: it is about to prompt for MFA, ask the user to register, offer keep-me-signed-in or ask for device credentials.",
		"Nothing by itself: the row with the same correlation id that follows tells how it ended. Many interrupts without a following attempt mean users abandon the prompt."},
	{ResultFailure, "Any other non-zero errorCode, including codes missing from the catalogue.", nil,
		"Wrong passwords, locked or disabled accounts, Conditional Access blocks, denied MFA, application misconfiguration.",
		"Break the failures down by error_code and explain the largest codes; a burst of password failures across many users can be password spraying."},
}

var outcomes = []Entry{
	{OutcomeSatisfied, "MFA was satisfied in this row: an MFA step succeeded or the row names how MFA was satisfied (including skips and claims). One MFA attempt.", nil,
		"The user completed a prompt, or an earlier MFA claim, a trusted location, a remembered device or a passwordless credential fulfilled the requirement.",
		"Nothing; the method and reason say how. Watch the skipped_* reasons: they count MFA the user never performed."},
	{OutcomeDenied, "MFA was required and not satisfied: 500121, 50158, 50088, 50086, 50087, or a failed MFA step with a denied reason. One MFA attempt.", nil,
		"The user declined or ignored the prompt, typed a wrong code, could not be reached or has no method; the service or an external provider failed; or someone holding the password could not pass MFA.",
		"Break the denials down by reason. Many denials for one user with no success around them suggest a stolen password or MFA fatigue: ask the user, and reset the password if they were not signing in."},
	{OutcomeInterrupted, "The row is the interrupt announcing MFA or MFA registration (50074, 50076, 50078, 50079, 50072). Not an attempt, not a failure.", nil,
		"The first row of almost every interactive MFA sign-in, and the prompt to register a method.",
		"Nothing; the attempt is the row that follows. Far more interrupts than attempts means users abandon the prompt."},
	{OutcomeNotAttempted, "The sign-in stopped before MFA (wrong password, locked or disabled account, Conditional Access block...).", nil,
		"The first factor failed, the account is locked or disabled, or a Conditional Access or device requirement blocked the sign-in before any prompt.",
		"Look at the error_code breakdown; these are not MFA problems, but password failures from many users at once are worth an alert."},
	{OutcomeNotRequired, "The sign-in succeeded with one factor and nothing in the row involves MFA.", nil,
		"No policy required MFA for this sign-in and no MFA claim was present: an application outside Conditional Access, a trusted location policy, a legacy protocol.",
		"If MFA should apply, find the gap: the client_app breakdown (legacy protocols cannot do MFA), the requirement source and the Conditional Access results of these rows."},
}

var components = []Entry{
	{ComponentCloud, "MFA performed by Microsoft Entra ID itself (tokenIssuerType AzureAD, ADFederationServices, unknownFutureValue or empty).", []string{"AzureAD", "ADFederationServices", "unknownFutureValue"},
		"Ordinary sign-ins to Microsoft Entra ID and the applications that use it.",
		"Nothing."},
	{ComponentNPSExtension, "MFA performed for a RADIUS client through the NPS extension.", []string{"NPSExtension", "resourceId radius"},
		"VPN, Wi-Fi or Remote Desktop Gateway sign-ins that a Network Policy Server forwards to Entra MFA.",
		"Denials here often come from RADIUS clients that give up or retry before the user answers: raise the RADIUS client's timeout (Microsoft suggests 30 to 60 seconds) and check the NPS server's event log."},
	{ComponentADFSAdapter, "MFA performed through the AD FS MFA adapter.", []string{"ADFederationServicesMFAAdapter", "resourceId adfs"},
		"Federated sign-ins where AD FS calls Entra MFA as its additional authentication provider.",
		"When denials rise, read the AD FS server's event log for the same request; consider moving authentication from AD FS to Microsoft Entra ID."},
}

// firstFactorMethods are step methods that prove the first factor only. A row
// whose steps are all of this kind has method "none".
var firstFactorMethods = []string{
	"Password", "Password Hash Sync", "Pass-through Authentication", "Federated",
	"Federated single-factor", "Seamless SSO", "Integrated Windows Authentication", "CloudOnlyPassword",
}

var methods = []Entry{
	{MethodMobileAppNotification, "Approve a push notification in Microsoft Authenticator (second factor).",
		[]string{"Mobile app notification", "Authenticator App", "Microsoft Authenticator app notification", "Notification through mobile app", "PhoneAppNotification"},
		"The Authenticator app is the user's default or chosen second factor.",
		"Nothing for successes. For denials read the reason: repeated no_response_to_notification or user_declined for one user can be an MFA fatigue attack."},
	{MethodTextMessage, "One-time code sent by SMS.",
		[]string{"Text message", "SMS", "OneWaySMS"},
		"SMS is the user's default method or the only one registered.",
		"SMS codes can be phished or stolen by SIM swap: move these users to the Authenticator app or passkeys (the registration gauges show who has nothing stronger)."},
	{MethodPhoneCall, "Voice call answered with # (mobile, alternate mobile or office phone).",
		[]string{"Phone call", "Voice", "Alternate mobile phone", "Office phone", "Voice call", "TwoWayVoiceMobile", "TwoWayVoiceAlternateMobile", "TwoWayVoiceOffice"},
		"A voice call is the user's default method or the only one registered.",
		"Voice calls are the weakest method and are throttled by telecom limits: move these users to the Authenticator app or passkeys."},
	{MethodOATHVerificationCode, "Time-based code from a software or hardware OATH token, including the Authenticator app's code.",
		[]string{"OATH verification code", "Software OATH token", "Hardware OATH token", "Mobile app verification code", "PhoneAppOTP"},
		"The user typed a code from the Authenticator app or a token, often because push was unavailable or the phone was offline.",
		"Nothing for successes; wrong, reused or late codes show in the reason. Codes can be phished: prefer phishing-resistant methods for administrators."},
	{MethodFIDO2SecurityKey, "FIDO2 security key (passwordless; satisfies MFA in one step).",
		[]string{"FIDO2 security key", "FIDO2", "Security key"},
		"The user registered a security key and signed in with it.",
		"Nothing: a phishing-resistant method."},
	{MethodWindowsHelloForBusiness, "Windows Hello for Business (passwordless; satisfies MFA in one step).",
		[]string{"Windows Hello for Business", "Windows Hello"},
		"The user signed in to a Windows device with a Hello PIN or biometric.",
		"Nothing: a phishing-resistant method."},
	{MethodPasskey, "Passkey, device-bound or synced (passwordless; satisfies MFA in one step).",
		[]string{"Passkey", "Passkey (device-bound)", "Passkey (synced)", "Passkey (Microsoft Authenticator)"},
		"The user registered a passkey (in Authenticator, a platform or a password manager) and signed in with it.",
		"Nothing: a phishing-resistant method."},
	{MethodAuthenticatorPasswordless, "Microsoft Authenticator passwordless phone sign-in (satisfies MFA in one step).",
		[]string{"Microsoft Authenticator", "Passwordless phone sign-in", "Microsoft Authenticator (passwordless)"},
		"The user enabled phone sign-in in the Authenticator app.",
		"Nothing."},
	{MethodTemporaryAccessPass, "Temporary Access Pass issued by an administrator (satisfies MFA in one step).",
		[]string{"Temporary Access Pass", "TAP"},
		"An administrator issued a pass to onboard a user or to recover a lost device.",
		"Check that every use matches an onboarding or recovery request; a pass used outside one is an incident (someone with administrator rights issued it)."},
	{MethodCertificate, "Certificate-based authentication (smart card or software certificate; satisfies MFA in one step when configured as multifactor).",
		[]string{"Certificate-based authentication", "X.509 Certificate", "X509Certificate", "Certificate"},
		"Certificate-based authentication is configured and the user presented a certificate.",
		"Nothing for successes; failures usually come from revocation lists or username bindings in the certificate-based authentication settings."},
	{MethodPreviouslySatisfied, "No new proof: an MFA claim already in the session or token was reused.",
		[]string{"Previously satisfied", "Satisfied by token", "Claim in access token"},
		"Token refreshes and single sign-on inside the session lifetime; most non-interactive rows look like this.",
		"Nothing; Conditional Access sign-in frequency decides how long an earlier MFA is reused."},
	{MethodEmailOTP, "One-time passcode sent by email (guests, self-service password reset).",
		[]string{"Email verification code", "Email one-time passcode", "Email OTP", "Email"},
		"Guests signing in with an email one-time passcode, or self-service password reset.",
		"Email is not an MFA method for members: if members use it, review the authentication methods policy."},
	{MethodExternal, "External authentication method or Conditional Access custom control (third-party MFA provider).",
		[]string{"External authentication method", "External authentication methods", "Custom control", "Custom controls"},
		"A third-party provider (external authentication method or custom control) runs the MFA; also 50158 rows that name no step.",
		"The provider decides the result: read its logs for the same user and time. Microsoft presents external authentication methods as the successor of custom controls: plan the move."},
	{LabelNone, "No MFA step in the row: only first-factor steps (password, federation...) or no steps at all.", firstFactorMethods,
		"Single-factor sign-ins, MFA satisfied by a claim or a skip without a step of its own, and failures before MFA.",
		"Nothing by itself; the outcome says whether MFA was needed."},
	{LabelOther, "A step method missing from this catalogue; the raw string is reported as unknown.", nil,
		"Microsoft added or renamed an authentication method.",
		"Find the string in the exporter's \"unclassified string\" log line (field method) and report it so the catalogue can grow."},
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
		[]string{"MFA completed in Azure AD", "MFA completed in Microsoft Entra ID", "completed in the cloud"},
		"The user answered Entra's own MFA prompt; federated users (AD FS or another identity provider) get this wording when Entra rather than their provider did the MFA.",
		"Nothing."},
	{ReasonExpiredByTenantPolicy, "An earlier MFA expired under the tenant's policies and was renewed.",
		[]string{"MFA has expired due to the policies configured on tenant", "expired due to the policies configured on tenant", "expired due to the policies configured on the tenant"},
		"A Conditional Access sign-in frequency or the tenant's MFA lifetime ran out, so the user proved MFA again.",
		"Nothing; if users complain about frequent prompts, review the sign-in frequency of the policies that applied."},
	{ReasonRegistrationPrompted, "The user was prompted to register a method, and registering satisfied MFA.",
		[]string{"MFA registration prompted", "registration prompted"},
		"New users, a registration campaign or an MFA registration policy made the user register during sign-in.",
		"Expected during onboarding. A registration by an existing user who did not ask for it can be an attacker adding their own method: check the audit log's method registrations."},
	{ReasonClaimInToken, "An MFA claim already in the token satisfied the requirement (no prompt).",
		[]string{"MFA requirement satisfied by claim in the token", "satisfied by claim in the token"},
		"Refresh tokens and single sign-on sessions carry the MFA claim of an earlier interactive MFA.",
		"Nothing; its share grows with session length, which Conditional Access sign-in frequency controls."},
	{ReasonClaimByExternalProvider, "A federated identity provider or external provider supplied the MFA claim.",
		[]string{"MFA requirement satisfied by claim provided by external provider", "satisfied by claim provided by external provider"},
		"A federated identity provider whose MFA claim the domain's federation settings accept, or an external authentication method.",
		"Make sure the provider really performs MFA: a misconfigured identity provider can send an MFA claim for a password-only sign-in."},
	{ReasonStrongAuthentication, "The sign-in itself used a strong (multifactor) credential.",
		[]string{"MFA requirement satisfied by strong authentication", "satisfied by strong authentication"},
		"A passwordless credential (FIDO2 key, Windows Hello, passkey, certificate, phone sign-in) proved both factors at once.",
		"Nothing: this is the outcome to aim for."},
	{ReasonSkippedWindowsBrokerLogon, "MFA skipped because the flow was a Windows broker logon.",
		[]string{"MFA requirement skipped as flow exercised was Windows broker logon flow", "Windows broker logon flow"},
		"A Windows device sign-in through the Web Account Manager broker, which Entra exempts from the MFA prompt.",
		"Usually nothing; remember that no MFA was performed in these rows."},
	{ReasonSkippedAppPassword, "MFA skipped because a legacy client used an app password.",
		[]string{"MFA requirement skipped due to app password", "skipped due to app password"},
		"A legacy client signed in with an app password, which per-user MFA allows in place of MFA.",
		"App passwords bypass MFA: move the client to modern authentication, then disallow app passwords in the per-user MFA service settings."},
	{ReasonSkippedLocation, "MFA skipped for a trusted location or IP address.",
		[]string{"MFA requirement skipped due to IP address", "skipped due to location", "skipped due to trusted location", "skipped due to trusted IP address"},
		"The client's address is in the per-user MFA trusted IPs or in a location a Conditional Access policy excludes.",
		"Review the trusted ranges: a broad range, or a VPN or proxy egress that outsiders share, skips MFA for everyone behind it."},
	{ReasonSkippedRegisteredDevice, "MFA skipped because the device is registered.",
		[]string{"MFA requirement skipped due to registered device", "skipped due to registered device"},
		"A policy exempts registered, joined or compliant devices from the MFA prompt.",
		"Check that the exemption is meant to cover merely registered devices rather than compliant or joined ones."},
	{ReasonSkippedRememberedDevice, "MFA skipped because the user chose to remember MFA on this device.",
		[]string{"MFA requirement skipped due to remembered device", "skipped due to remembered device"},
		"The per-user MFA setting \"remember multifactor authentication on trusted devices\" (up to 365 days) is on and the user ticked it.",
		"Prefer Conditional Access sign-in frequency to the per-user remember setting, which belongs to the legacy per-user MFA."},
	{ReasonSuccessfullyCompleted, "The user completed the MFA prompt in this sign-in.",
		[]string{"MFA successfully completed", "successfully completed", "completed successfully"},
		"The user answered the prompt (push, code, call) during this sign-in.",
		"Nothing."},
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
		[]string{"MFA denied; authentication in-progress", "authentication in progress", "authentication already in progress"},
		"Two sign-ins at once (several tabs or apps, or a RADIUS client retrying) while the first prompt was pending; on a successful row, a snapshot taken before the prompt was answered.",
		"Usually harmless. For VPN and RADIUS clients, raise the client's timeout and turn off its retries so one prompt is answered once."},
	{ReasonDuplicateAuthenticationAttempt, "The same authentication was submitted twice (often a retrying RADIUS client).",
		[]string{"MFA denied; duplicate authentication attempt"},
		"A RADIUS client resent a request whose MFA was already running.",
		"Raise the RADIUS client's timeout and turn off its retries."},
	{ReasonIncorrectCodeTooManyTimes, "The user entered a wrong code too many times.",
		[]string{"MFA denied; entered incorrect code too many times"},
		"Repeated typing mistakes, a token with a drifting clock, or someone guessing codes.",
		"Ask the user; if they were not signing in, their password is known to someone else: reset it."},
	{ReasonInvalidAuthentication, "The authentication response was not valid.",
		[]string{"MFA denied; invalid authentication"},
		"A malformed or expired MFA response; for 50158 rows, an external provider that returned no satisfying result.",
		"Retry; if it repeats for one user, have them register the method again; for external providers read the provider's logs."},
	{ReasonInvalidMobileAppVerificationCode, "The verification code from the mobile app was wrong.",
		[]string{"MFA denied; invalid mobile app verification code"},
		"A mistyped or expired code from the Authenticator app, or a phone whose clock is wrong.",
		"Have the user set the phone's time automatically; register the app again if it persists."},
	{ReasonMisconfiguration, "MFA is misconfigured for this user or tenant.",
		[]string{"MFA denied; misconfiguration"},
		"The user's only registered method is disabled by policy, or the tenant's MFA or NPS extension settings are inconsistent.",
		"Compare the authentication methods policy with the user's registered methods; for NPS, check the extension's certificate and configuration."},
	{ReasonPhoneCallWentToVoicemail, "The MFA call was answered by voicemail.",
		[]string{"MFA denied; phone call went to voicemail", "call went to voicemail"},
		"The user did not pick up and the call went to voicemail.",
		"Ask the user to answer or switch to the Authenticator app; voice calls are the weakest method."},
	{ReasonInvalidPhoneNumberFormat, "The user's phone number has an invalid format.",
		[]string{"MFA denied; phone number has an invalid format", "invalid phone number format"},
		"A number registered without its country code or with extra characters.",
		"Correct the number in the user's authentication methods in international format (+country code, number)."},
	{ReasonServiceError, "The MFA service failed (also used for 50086/50087 transient errors and 50088 telecom limits).",
		[]string{"MFA denied; service error"},
		"A transient fault of Microsoft's MFA service or of the telecom provider, or the telecom call limit.",
		"Check the Microsoft 365 and Azure service health; a spike across many users at once is the service, not the users."},
	{ReasonUnableToReachPhone, "The user's phone could not be reached.",
		[]string{"MFA denied; unable to reach the user's phone", "unable to reach user's phone"},
		"The phone was off, out of coverage, or the number changed.",
		"Have the user update the number or register the Authenticator app."},
	{ReasonUnableToSendNotificationToDevice, "The mobile app notification could not be delivered to the device.",
		[]string{"MFA denied; unable to send the mobile app notification to the device"},
		"The device's push registration is stale: new phone, reinstalled app, or notifications turned off.",
		"Have the user remove and add the account again in the Authenticator app."},
	{ReasonUnableToSendNotification, "The mobile app notification could not be sent.",
		[]string{"MFA denied; unable to send the mobile app notification"},
		"The push service (Apple or Google) or Microsoft's notification service failed, or the app is gone.",
		"Retry; for one user repeatedly, register the app again; for many users, check service health."},
	{ReasonUserDeclined, "The user pressed Deny.",
		[]string{"MFA denied; user declined the authentication", "declined the authentication"},
		"The user rejected a prompt, often because they did not start the sign-in.",
		"Ask the user: a Deny they did not expect means someone has their password. Reset it and check where the sign-in came from."},
	{ReasonNoResponseToNotification, "The user did not answer the mobile app notification.",
		[]string{"MFA denied; user did not respond to mobile app notification", "user did not respond to the mobile app notification"},
		"The user did not see or ignored the push; a series of them is the signature of an MFA fatigue attack.",
		"Many in a short time for one user: treat it as an attack, reset the password and ask the user. Otherwise nothing."},
	{ReasonNoVerificationMethodsRegistered, "The user has no MFA method registered.",
		[]string{"MFA denied; user does not have any verification methods registered", "user does not have any verification method registered"},
		"MFA is required but the user never registered a method, or their methods were deleted.",
		"Have the user register at https://aka.ms/mfasetup, or issue a Temporary Access Pass; the registration gauges count users without a method."},
	{ReasonIncorrectCode, "The user entered a wrong code.",
		[]string{"MFA denied; user entered incorrect code", "user entered an incorrect code"},
		"A typing mistake, an expired code, or the code of another account or token.",
		"Occasional ones need nothing; repeated ones for one user deserve a call to the user."},
	{ReasonIncorrectPIN, "The user entered a wrong PIN.",
		[]string{"MFA denied; user entered incorrect PIN", "user entered an incorrect PIN"},
		"A wrong PIN in a PIN-protected call, app or key.",
		"Occasional ones need nothing; the user resets a forgotten PIN on the device or with the help desk."},
	{ReasonUserHungUp, "The user hung up the MFA call without completing it.",
		[]string{"MFA denied; user hung up the phone call without succeeding the authentication", "user hung up the phone call", "user hung up"},
		"The user hung up, possibly because they did not start the sign-in.",
		"Ask the user; if they were not signing in, their password is known: reset it."},
	{ReasonUserBlocked, "The user is blocked for MFA (by an administrator or after a fraud report).",
		[]string{"MFA denied; user is blocked", "user blocked"},
		"An administrator blocked the user in the MFA block/unblock list, or a fraud report blocked them automatically.",
		"Find the block under Entra ID > Protection > Multifactor authentication > Block/unblock users; investigate the fraud report, then unblock once the user is verified."},
	{ReasonVerificationCodeNeverEntered, "A code was sent or asked for and never entered.",
		[]string{"MFA denied; user never entered the verification code", "verification code never entered"},
		"The user abandoned the prompt, or the SMS never arrived.",
		"For SMS, check delivery in the user's country and carrier; otherwise nothing."},
	{ReasonUserNotFound, "The MFA service has no record of the user.",
		[]string{"MFA denied; user not found"},
		"A user not yet known to the MFA service (very new or just synchronised) or a deleted user.",
		"Retry later; if it persists for an existing user, open a support case with Microsoft."},
	{ReasonVerificationCodeAlreadyUsed, "The code had already been used once.",
		[]string{"MFA denied; verification code already used once", "verification code already used"},
		"The user retried quickly and entered the same one-time code twice.",
		"Wait for the next code; nothing to fix."},
	{ReasonFraudReported, "The user reported the prompt as fraud (app or phone call).",
		[]string{"MFA denied; Phone App Reported Fraud", "fraud reported", "user reported fraud", "fraud"},
		"The user received a prompt they did not expect and reported it (report suspicious activity).",
		"Treat it as a compromised password: reset it, review where the sign-in came from and the user's recent activity; depending on settings the user is now blocked or at high risk."},
}

var reasonFallbacks = []Entry{
	{LabelNone, "The outcome carries no reason (interrupted, not_attempted, not_required).", nil,
		"Interrupt rows, failures before MFA and single-factor sign-ins have no MFA reason.",
		"Nothing."},
	{LabelOther, "A satisfied or denied row whose reason text matches nothing in the catalogue (the text is reported as unknown), or that carries no reason text at all.", nil,
		"New wording from Microsoft, or a row whose steps and additionalDetails are empty.",
		"Find the text in the exporter's \"unclassified string\" log line (field reason) and report it so the catalogue can grow."},
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
		out[i] = e
		out[i].Wire = slices.Clone(e.Wire)
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
