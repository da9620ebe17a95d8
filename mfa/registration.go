package mfa

import (
	"fmt"
	"strings"
	"unicode"
)

// Registration method labels: the values of the `method` label of the registration gauges. They
// cover userRegistrationDetails.methodsRegistered and systemPreferredAuthenticationMethods, which
// Graph fills from two vocabularies: the documented camelCase enum (microsoftAuthenticatorPush,
// fido2) and, in live data, the older StrongAuthenticationMethods names of MSOnline
// (PhoneAppNotification, Fido2). Both spellings of a method share one label, so a tenant's
// dashboard does not split when Microsoft changes which one it emits.
const (
	RegMethodMobilePhone                     = "mobile_phone"
	RegMethodAlternateMobilePhone            = "alternate_mobile_phone"
	RegMethodOfficePhone                     = "office_phone"
	RegMethodSMS                             = "sms"
	RegMethodVoiceMobile                     = "voice_mobile"
	RegMethodVoiceAlternateMobile            = "voice_alternate_mobile"
	RegMethodVoiceOffice                     = "voice_office"
	RegMethodEmail                           = "email"
	RegMethodAuthenticatorPush               = "microsoft_authenticator_push"
	RegMethodAuthenticatorPasswordless       = "microsoft_authenticator_passwordless"
	RegMethodSoftwareOTP                     = "software_one_time_passcode"
	RegMethodHardwareOTP                     = "hardware_one_time_passcode"
	RegMethodOATH                            = "oath_one_time_passcode"
	RegMethodFIDO2                           = "fido2"
	RegMethodWindowsHello                    = "windows_hello_for_business"
	RegMethodPasskeyDeviceBound              = "passkey_device_bound"
	RegMethodPasskeyDeviceBoundAuthenticator = "passkey_device_bound_authenticator"
	RegMethodPasskeySynced                   = "passkey_synced"
	RegMethodMacOSSecureEnclaveKey           = "macos_secure_enclave_key"
	RegMethodTemporaryAccessPass             = "temporary_access_pass"
	RegMethodSecurityQuestion                = "security_question"
	RegMethodCertificate                     = "certificate"
	RegMethodExternal                        = "external"
)

var registrationMethods = []Entry{
	{RegMethodMobilePhone, "Mobile phone registered for SMS and voice calls.", []string{"mobilePhone"},
		"The user registered a mobile number, often the first method they set up.",
		"Fine as a recovery method; users whose only method is a phone should add the Authenticator app or a passkey."},
	{RegMethodAlternateMobilePhone, "Alternate mobile phone registered for voice calls.", []string{"alternateMobilePhone"},
		"The user registered a second mobile number as a backup.",
		"Nothing; voice calls are the weakest method, so it should not be the only one."},
	{RegMethodOfficePhone, "Office phone registered for voice calls.", []string{"officePhone"},
		"The user (or a directory attribute sync) registered a desk phone.",
		"Nothing; voice calls are the weakest method, so it should not be the only one."},
	{RegMethodSMS, "One-time code by SMS (as a system-preferred method).", []string{"sms", "OneWaySMS"},
		"SMS is the strongest method the user has, so system-preferred MFA picks it.",
		"Have these users register the Authenticator app or a passkey: SMS codes can be phished or stolen by SIM swap."},
	{RegMethodVoiceMobile, "Voice call to the mobile phone (as a system-preferred method).", []string{"voiceMobile", "TwoWayVoiceMobile"},
		"A voice call is the strongest method the user has.",
		"Have these users register a stronger method."},
	{RegMethodVoiceAlternateMobile, "Voice call to the alternate mobile phone (as a system-preferred method).", []string{"voiceAlternateMobile", "TwoWayVoiceAlternateMobile"},
		"A voice call to the backup number is the strongest method the user has.",
		"Have these users register a stronger method."},
	{RegMethodVoiceOffice, "Voice call to the office phone (as a system-preferred method).", []string{"voiceOffice", "TwoWayVoiceOffice"},
		"A voice call to the desk phone is the strongest method the user has.",
		"Have these users register a stronger method."},
	{RegMethodEmail, "Email address (self-service password reset only; not an MFA method for members).", []string{"email"},
		"The user registered an email address for self-service password reset.",
		"Nothing; it does not count towards MFA."},
	{RegMethodAuthenticatorPush, "Microsoft Authenticator push notifications.", []string{"microsoftAuthenticatorPush", "PhoneAppNotification", "push"},
		"The user added their account to the Authenticator app with notifications.",
		"Nothing; number matching makes push resistant to fatigue attacks. Passkeys in Authenticator are the next step."},
	{RegMethodAuthenticatorPasswordless, "Microsoft Authenticator passwordless phone sign-in.", []string{"microsoftAuthenticatorPasswordless"},
		"The user enabled phone sign-in in the Authenticator app.",
		"Nothing."},
	{RegMethodSoftwareOTP, "Software OATH token, including the Authenticator app's codes.", []string{"softwareOneTimePasscode", "PhoneAppOTP", "softwareOath"},
		"The user set up the Authenticator app or another app for one-time codes.",
		"Nothing."},
	{RegMethodHardwareOTP, "Hardware OATH token.", []string{"hardwareOneTimePasscode", "hardwareOath"},
		"An administrator assigned a hardware token, typically to users without a smartphone.",
		"Nothing; keep the token inventory current."},
	{RegMethodOATH, "OATH one-time passcode, software or hardware not specified (system-preferred value \"oath\").", []string{"oath"},
		"A one-time code app or token is the strongest method the user has.",
		"Nothing; passkeys would be stronger."},
	{RegMethodFIDO2, "FIDO2 security key.", []string{"fido2"},
		"The user registered a hardware security key (USB, NFC or Bluetooth) as a sign-in method.",
		"Nothing: a phishing-resistant method."},
	{RegMethodWindowsHello, "Windows Hello for Business credential: a PIN or biometric unlocking a key bound to a Windows device.", []string{"windowsHelloForBusiness"},
		"The user provisioned Windows Hello for Business on a device.",
		"Nothing: a phishing-resistant method."},
	{RegMethodPasskeyDeviceBound, "Device-bound passkey on a security key or platform.", []string{"passKeyDeviceBound"},
		"The user registered a passkey that stays on one key or device.",
		"Nothing: a phishing-resistant method."},
	{RegMethodPasskeyDeviceBoundAuthenticator, "Device-bound passkey in Microsoft Authenticator.", []string{"passKeyDeviceBoundAuthenticator"},
		"The user created a passkey inside the Microsoft Authenticator app on their phone.",
		"Nothing: a phishing-resistant method."},
	{RegMethodPasskeySynced, "Synced passkey (iCloud Keychain, Google Password Manager...).", []string{"passKeySynced"},
		"The user registered a passkey that a password manager synchronises across devices.",
		"Nothing; if policy requires device-bound keys, restrict passkey profiles in the authentication methods policy."},
	{RegMethodMacOSSecureEnclaveKey, "Platform credential in the macOS Secure Enclave.", []string{"macOsSecureEnclaveKey"},
		"The Mac was set up with Platform SSO and a Secure Enclave key.",
		"Nothing: a phishing-resistant method."},
	{RegMethodTemporaryAccessPass, "Temporary Access Pass issued by an administrator.", []string{"temporaryAccessPass"},
		"An administrator issued a pass for onboarding or recovery and it has not expired yet.",
		"Check that each pass matches an onboarding or recovery request."},
	{RegMethodSecurityQuestion, "Security questions (self-service password reset only).", []string{"securityQuestion"},
		"The user answered security questions for self-service password reset.",
		"Nothing for MFA; security questions are weak, so prefer other reset methods."},
	{RegMethodCertificate, "Certificate-based authentication.", []string{"x509Certificate", "x509CertificateMultiFactor", "x509CertificateSingleFactor", "certificateBasedAuthentication"},
		"The user has a certificate usable for certificate-based authentication.",
		"Nothing."},
	{RegMethodExternal, "External authentication method (third-party MFA provider).", []string{"externalAuthenticationMethod"},
		"The tenant uses an external authentication method for this user.",
		"Nothing; the provider's own records show the user's enrolment."},
	{LabelNone, "Graph says no method (system-preferred value \"none\").", []string{"none"},
		"The user has no method that system-preferred MFA can use.",
		"Have the user register a method before MFA is required of them."},
	{LabelOther, "A value missing from this catalogue; the raw string is reported as unknown.", nil,
		"Microsoft added a method or a spelling this catalogue does not know.",
		"Find the string in the exporter's \"unclassified string\" log line and report it so the catalogue can grow."},
}

// User-preferred method labels (userPreferredMethodForSecondaryAuthentication).
const (
	PrefPush                 = "push"
	PrefOATH                 = "oath"
	PrefVoiceMobile          = "voice_mobile"
	PrefVoiceAlternateMobile = "voice_alternate_mobile"
	PrefVoiceOffice          = "voice_office"
	PrefSMS                  = "sms"
)

var userPreferredMethods = []Entry{
	{PrefPush, "Microsoft Authenticator notification.", []string{"push"},
		"The user chose the Authenticator app as their default.",
		"Nothing."},
	{PrefOATH, "OATH one-time passcode (software or hardware).", []string{"oath"},
		"The user chose one-time codes as their default.",
		"Nothing."},
	{PrefVoiceMobile, "Voice call to the mobile phone.", []string{"voiceMobile"},
		"The user chose a call to their mobile as their default.",
		"Encourage a stronger default such as the Authenticator app; system-preferred MFA does this automatically."},
	{PrefVoiceAlternateMobile, "Voice call to the alternate mobile phone.", []string{"voiceAlternateMobile"},
		"The user chose a call to their backup number as their default.",
		"Encourage a stronger default; system-preferred MFA does this automatically."},
	{PrefVoiceOffice, "Voice call to the office phone.", []string{"voiceOffice"},
		"The user chose a call to their desk phone as their default.",
		"Encourage a stronger default; system-preferred MFA does this automatically."},
	{PrefSMS, "One-time code by SMS.", []string{"sms"},
		"The user chose SMS as their default.",
		"Encourage a stronger default; system-preferred MFA does this automatically."},
	{LabelNone, "No preference set (also when the field is empty or null).", []string{"none", ""},
		"The user never chose a default method, or has none registered.",
		"Nothing by itself; check the user's registered methods."},
	{LabelOther, "A value missing from this list (unknownFutureValue, later additions).", nil,
		"Microsoft added a value to userPreferredMethodForSecondaryAuthentication.",
		"Find the string in the exporter's \"unclassified string\" log line and report it so the catalogue can grow."},
}

// methodKey is the comparison form of a method name: lower case, letters and digits only, so
// "PhoneAppNotification", "phoneAppNotification" and "phone_app_notification" are one key.
func methodKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func indexEntries(es []Entry) map[string]string {
	m := map[string]string{}
	for _, e := range es {
		for _, w := range e.Wire {
			m[methodKey(w)] = e.Label
		}
	}
	return m
}

var (
	registrationMethodIndex = indexEntries(registrationMethods)
	userPreferredIndex      = indexEntries(userPreferredMethods)
)

// RegistrationMethod normalises one value of methodsRegistered or
// systemPreferredAuthenticationMethods to a bounded label. known is false for values outside the
// catalogue, which get "other" and which the caller should report once.
func RegistrationMethod(s string) (label string, known bool) {
	if l, ok := registrationMethodIndex[methodKey(s)]; ok {
		return l, true
	}
	return LabelOther, false
}

// UserPreferredMethod normalises userPreferredMethodForSecondaryAuthentication; empty means
// "none". known is false for values outside the list.
func UserPreferredMethod(s string) (label string, known bool) {
	if l, ok := userPreferredIndex[methodKey(s)]; ok {
		return l, true
	}
	return LabelOther, false
}

// RegistrationMethods lists the registration method labels.
func RegistrationMethods() []Entry { return cloneEntries(registrationMethods) }

// UserPreferredMethods lists the user-preferred method labels.
func UserPreferredMethods() []Entry { return cloneEntries(userPreferredMethods) }

// RegistrationMarkdown renders both label tables for the README, from the same tables the
// normalisers use.
func RegistrationMarkdown() string {
	var b strings.Builder
	entryTable(&b, "Registered and system-preferred methods (`method` on `entra_registration_users_by_method` and `entra_registration_users_by_system_preferred_method`)", registrationMethods)
	b.WriteString("Matching ignores case and any character other than letters and digits, so `Fido2`, `fido2` and `FIDO2` are one method.\n\n")
	entryTable(&b, "User-preferred methods (`method` on `entra_registration_users_by_user_preferred_method`)", userPreferredMethods)
	fmt.Fprintf(&b, "Values outside these tables are counted as `%s`.\n", LabelOther)
	return b.String()
}
