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
	{RegMethodMobilePhone, "Mobile phone registered for SMS and voice calls.", []string{"mobilePhone"}},
	{RegMethodAlternateMobilePhone, "Alternate mobile phone registered for voice calls.", []string{"alternateMobilePhone"}},
	{RegMethodOfficePhone, "Office phone registered for voice calls.", []string{"officePhone"}},
	{RegMethodSMS, "One-time code by SMS (as a system-preferred method).", []string{"sms", "OneWaySMS"}},
	{RegMethodVoiceMobile, "Voice call to the mobile phone (as a system-preferred method).", []string{"voiceMobile", "TwoWayVoiceMobile"}},
	{RegMethodVoiceAlternateMobile, "Voice call to the alternate mobile phone (as a system-preferred method).", []string{"voiceAlternateMobile", "TwoWayVoiceAlternateMobile"}},
	{RegMethodVoiceOffice, "Voice call to the office phone (as a system-preferred method).", []string{"voiceOffice", "TwoWayVoiceOffice"}},
	{RegMethodEmail, "Email address (self-service password reset only; not an MFA method for members).", []string{"email"}},
	{RegMethodAuthenticatorPush, "Microsoft Authenticator push notifications.", []string{"microsoftAuthenticatorPush", "PhoneAppNotification", "push"}},
	{RegMethodAuthenticatorPasswordless, "Microsoft Authenticator passwordless phone sign-in.", []string{"microsoftAuthenticatorPasswordless"}},
	{RegMethodSoftwareOTP, "Software OATH token, including the Authenticator app's codes.", []string{"softwareOneTimePasscode", "PhoneAppOTP", "softwareOath"}},
	{RegMethodHardwareOTP, "Hardware OATH token.", []string{"hardwareOneTimePasscode", "hardwareOath"}},
	{RegMethodOATH, "OATH one-time passcode, software or hardware not specified (system-preferred value \"oath\").", []string{"oath"}},
	{RegMethodFIDO2, "FIDO2 security key.", []string{"fido2"}},
	{RegMethodWindowsHello, "Windows Hello for Business.", []string{"windowsHelloForBusiness"}},
	{RegMethodPasskeyDeviceBound, "Device-bound passkey on a security key or platform.", []string{"passKeyDeviceBound"}},
	{RegMethodPasskeyDeviceBoundAuthenticator, "Device-bound passkey in Microsoft Authenticator.", []string{"passKeyDeviceBoundAuthenticator"}},
	{RegMethodPasskeySynced, "Synced passkey (iCloud Keychain, Google Password Manager...).", []string{"passKeySynced"}},
	{RegMethodMacOSSecureEnclaveKey, "Platform credential in the macOS Secure Enclave.", []string{"macOsSecureEnclaveKey"}},
	{RegMethodTemporaryAccessPass, "Temporary Access Pass issued by an administrator.", []string{"temporaryAccessPass"}},
	{RegMethodSecurityQuestion, "Security questions (self-service password reset only).", []string{"securityQuestion"}},
	{RegMethodCertificate, "Certificate-based authentication.", []string{"x509Certificate", "x509CertificateMultiFactor", "x509CertificateSingleFactor", "certificateBasedAuthentication"}},
	{RegMethodExternal, "External authentication method (third-party MFA provider).", []string{"externalAuthenticationMethod"}},
	{LabelNone, "Graph says no method (system-preferred value \"none\").", []string{"none"}},
	{LabelOther, "A value missing from this catalogue; the raw string is reported as unknown.", nil},
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
	{PrefPush, "Microsoft Authenticator notification.", []string{"push"}},
	{PrefOATH, "OATH one-time passcode (software or hardware).", []string{"oath"}},
	{PrefVoiceMobile, "Voice call to the mobile phone.", []string{"voiceMobile"}},
	{PrefVoiceAlternateMobile, "Voice call to the alternate mobile phone.", []string{"voiceAlternateMobile"}},
	{PrefVoiceOffice, "Voice call to the office phone.", []string{"voiceOffice"}},
	{PrefSMS, "One-time code by SMS.", []string{"sms"}},
	{LabelNone, "No preference set (also when the field is empty or null).", []string{"none", ""}},
	{LabelOther, "A value missing from this list (unknownFutureValue, later additions).", nil},
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
