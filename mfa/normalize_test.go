package mfa

import "testing"

func TestNormalizeReason(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"MFA denied; user declined the authentication", "user declined the authentication"},
		{"MFA Denied:  User declined the authentication.", "user declined the authentication"},
		{"mfa denied; user didn’t respond to mobile app notification", "user did not respond to mobile app notification"},
		{"MFA denied; user didnt respond", "user did not respond"},
		{"MFA denied; user doesn't have any verification methods registered", "user does not have any verification methods registered"},
		{"MFA denied; unable to reach the user`s phone", "unable to reach the users phone"},
		{"MFA completed in Azure AD", "completed in entra"},
		{"MFA completed in Microsoft Entra ID.", "completed in entra"},
		{"MFA completed in Azure Active Directory", "completed in entra"},
		{"MFA requirement satisfied by claim in the token", "satisfied by claim in the token"},
		{"MFA denied; authentication in-progress", "authentication in progress"},
		{"First factor requirement satisfied by claim in the token", "first factor requirement satisfied by claim in the token"},
		{"  \t ", ""},
		{"MFA", ""},
	} {
		if got := normalizeReason(tc.in); got != tc.want {
			t.Errorf("normalizeReason(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPhraseMatcherPrefersLongestFragment(t *testing.T) {
	for _, tc := range []struct {
		in   string
		m    *phraseMatcher
		want string
	}{
		{"MFA denied; unable to send the mobile app notification to the device", deniedMatcher, ReasonUnableToSendNotificationToDevice},
		{"MFA denied; unable to send the mobile app notification", deniedMatcher, ReasonUnableToSendNotification},
		{"MFA denied; user entered incorrect code too many times", deniedMatcher, ReasonIncorrectCodeTooManyTimes},
		{"MFA denied; user entered incorrect code", deniedMatcher, ReasonIncorrectCode},
		{"MFA denied; user entered incorrect PIN", deniedMatcher, ReasonIncorrectPIN},
		{"MFA denied; user never entered the verification code", deniedMatcher, ReasonVerificationCodeNeverEntered},
		{"MFA denied; user declined the authentication request on the device", deniedMatcher, ReasonUserDeclined},
		{"MFA successfully completed in Azure AD", satisfiedMatcher, ReasonSuccessfullyCompleted},
		{"MFA requirement satisfied by claim provided by external provider", satisfiedMatcher, ReasonClaimByExternalProvider},
	} {
		got, ok := tc.m.match(normalizeReason(tc.in))
		if !ok || got != tc.want {
			t.Errorf("match(%q) = %q, %v; want %s", tc.in, got, ok, tc.want)
		}
	}
	// Fragments match on word boundaries only.
	if got, ok := deniedMatcher.match(normalizeReason("MFA denied; defrauded")); ok {
		t.Errorf("\"defrauded\" matched %s", got)
	}
	if got, ok := satisfiedMatcher.match(normalizeReason("MFA denied; user declined the authentication")); ok {
		t.Errorf("a denied string matched satisfied reason %s", got)
	}
}

func TestIsFirstFactorText(t *testing.T) {
	for in, want := range map[string]bool{
		"First factor requirement satisfied by claim in the token": true,
		"Correct password":                                true,
		"Primary authentication":                          true,
		"PRIMARY AUTHENTICATION satisfied":                true,
		"Primary authentications are overrated":           false,
		"MFA required in Azure AD":                        true,
		"MFA required in Microsoft Entra ID":              true,
		"MFA requirement satisfied by claim in the token": false,
		"MFA requirement skipped due to app password":     false,
		"Correct passwords are overrated":                 false,
	} {
		if got := isFirstFactorText(normalizeReason(in)); got != want {
			t.Errorf("isFirstFactorText(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestDocumentedPhrasesMatch feeds the English wording of Microsoft's page
// (mfa-vocabulary.md), bare and behind the wire prefixes, to the matchers.
func TestDocumentedPhrasesMatch(t *testing.T) {
	satisfied := map[string]string{
		"completed in the cloud":                                  ReasonCompletedInCloud,
		"has expired due to the policies configured on tenant":    ReasonExpiredByTenantPolicy,
		"registration prompted":                                   ReasonRegistrationPrompted,
		"satisfied by claim in the token":                         ReasonClaimInToken,
		"satisfied by claim provided by external provider":        ReasonClaimByExternalProvider,
		"satisfied by strong authentication":                      ReasonStrongAuthentication,
		"skipped as flow exercised was Windows broker logon flow": ReasonSkippedWindowsBrokerLogon,
		"skipped due to app password":                             ReasonSkippedAppPassword,
		"skipped due to location":                                 ReasonSkippedLocation,
		"skipped due to registered device":                        ReasonSkippedRegisteredDevice,
		"skipped due to remembered device":                        ReasonSkippedRememberedDevice,
		"successfully completed":                                  ReasonSuccessfullyCompleted,
	}
	denied := map[string]string{
		"authentication in-progress":                                        ReasonAuthenticationInProgress,
		"duplicate authentication attempt":                                  ReasonDuplicateAuthenticationAttempt,
		"entered incorrect code too many times":                             ReasonIncorrectCodeTooManyTimes,
		"invalid authentication":                                            ReasonInvalidAuthentication,
		"invalid mobile app verification code":                              ReasonInvalidMobileAppVerificationCode,
		"misconfiguration":                                                  ReasonMisconfiguration,
		"phone call went to voicemail":                                      ReasonPhoneCallWentToVoicemail,
		"phone number has an invalid format":                                ReasonInvalidPhoneNumberFormat,
		"service error":                                                     ReasonServiceError,
		"unable to reach the user's phone":                                  ReasonUnableToReachPhone,
		"unable to send the mobile app notification to the device":          ReasonUnableToSendNotificationToDevice,
		"unable to send the mobile app notification":                        ReasonUnableToSendNotification,
		"user declined the authentication":                                  ReasonUserDeclined,
		"user did not respond to mobile app notification":                   ReasonNoResponseToNotification,
		"user does not have any verification methods registered":            ReasonNoVerificationMethodsRegistered,
		"user entered incorrect code":                                       ReasonIncorrectCode,
		"user entered incorrect PIN":                                        ReasonIncorrectPIN,
		"user hung up the phone call without succeeding the authentication": ReasonUserHungUp,
		"user is blocked":                                                   ReasonUserBlocked,
		"user never entered the verification code":                          ReasonVerificationCodeNeverEntered,
		"user not found":                                                    ReasonUserNotFound,
		"verification code already used once":                               ReasonVerificationCodeAlreadyUsed,
		"Phone App Reported Fraud":                                          ReasonFraudReported,
	}
	for _, tbl := range []struct {
		m       *phraseMatcher
		phrases map[string]string
		prefix  []string
	}{
		{satisfiedMatcher, satisfied, []string{"", "MFA ", "MFA requirement ", "mfa Requirement "}},
		{deniedMatcher, denied, []string{"", "MFA denied; ", "MFA Denied: ", "mfa denied;"}},
	} {
		for phrase, want := range tbl.phrases {
			for _, p := range tbl.prefix {
				in := p + phrase
				if got, ok := tbl.m.match(normalizeReason(in)); !ok || got != want {
					t.Errorf("match(%q) = %q, %v; want %s", in, got, ok, want)
				}
			}
		}
	}
}
