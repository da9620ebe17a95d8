package mfa

import (
	"regexp"
	"strings"
	"testing"
)

func TestRegistrationMethod(t *testing.T) {
	tests := []struct {
		in    string
		want  string
		known bool
	}{
		// The documented enum and the MSOnline-era names seen in live data share labels.
		{"microsoftAuthenticatorPush", RegMethodAuthenticatorPush, true},
		{"PhoneAppNotification", RegMethodAuthenticatorPush, true},
		{"phoneappnotification", RegMethodAuthenticatorPush, true},
		{"push", RegMethodAuthenticatorPush, true},
		{"Fido2", RegMethodFIDO2, true},
		{"fido2", RegMethodFIDO2, true},
		{"FIDO2", RegMethodFIDO2, true},
		{"passKeySynced", RegMethodPasskeySynced, true},
		{"passkey_synced", RegMethodPasskeySynced, true},
		{"passKeyDeviceBound", RegMethodPasskeyDeviceBound, true},
		{"passKeyDeviceBoundAuthenticator", RegMethodPasskeyDeviceBoundAuthenticator, true},
		{"PhoneAppOTP", RegMethodSoftwareOTP, true},
		{"softwareOneTimePasscode", RegMethodSoftwareOTP, true},
		{"hardwareOneTimePasscode", RegMethodHardwareOTP, true},
		{"oath", RegMethodOATH, true},
		{"mobilePhone", RegMethodMobilePhone, true},
		{"alternateMobilePhone", RegMethodAlternateMobilePhone, true},
		{"officePhone", RegMethodOfficePhone, true},
		{"sms", RegMethodSMS, true},
		{"OneWaySMS", RegMethodSMS, true},
		{"voiceMobile", RegMethodVoiceMobile, true},
		{"TwoWayVoiceOffice", RegMethodVoiceOffice, true},
		{"email", RegMethodEmail, true},
		{"windowsHelloForBusiness", RegMethodWindowsHello, true},
		{"macOsSecureEnclaveKey", RegMethodMacOSSecureEnclaveKey, true},
		{"temporaryAccessPass", RegMethodTemporaryAccessPass, true},
		{"securityQuestion", RegMethodSecurityQuestion, true},
		{"microsoftAuthenticatorPasswordless", RegMethodAuthenticatorPasswordless, true},
		{"none", LabelNone, true},
		{"qrCodePin", LabelOther, false},
		{"", LabelOther, false},
		{"unknownFutureValue", LabelOther, false},
	}
	for _, tt := range tests {
		got, known := RegistrationMethod(tt.in)
		if got != tt.want || known != tt.known {
			t.Errorf("RegistrationMethod(%q) = %q, %v; want %q, %v", tt.in, got, known, tt.want, tt.known)
		}
	}
}

func TestUserPreferredMethod(t *testing.T) {
	tests := []struct {
		in    string
		want  string
		known bool
	}{
		{"push", PrefPush, true},
		{"Push", PrefPush, true},
		{"oath", PrefOATH, true},
		{"voiceMobile", PrefVoiceMobile, true},
		{"voiceAlternateMobile", PrefVoiceAlternateMobile, true},
		{"voiceOffice", PrefVoiceOffice, true},
		{"sms", PrefSMS, true},
		{"none", LabelNone, true},
		{"", LabelNone, true},
		{"unknownFutureValue", LabelOther, false},
		{"PhoneAppNotification", LabelOther, false},
	}
	for _, tt := range tests {
		got, known := UserPreferredMethod(tt.in)
		if got != tt.want || known != tt.known {
			t.Errorf("UserPreferredMethod(%q) = %q, %v; want %q, %v", tt.in, got, known, tt.want, tt.known)
		}
	}
}

// Every label is bounded snake_case, listed once, and every wire string maps back to its own
// entry: two entries claiming one spelling would make the result depend on table order.
func TestRegistrationCataloguesAreConsistent(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	for name, tc := range map[string]struct {
		entries []Entry
		norm    func(string) (string, bool)
	}{
		"registration":   {RegistrationMethods(), RegistrationMethod},
		"user_preferred": {UserPreferredMethods(), UserPreferredMethod},
	} {
		labels := map[string]bool{}
		keys := map[string]string{}
		for _, e := range tc.entries {
			if !snake.MatchString(e.Label) {
				t.Errorf("%s: label %q is not snake_case", name, e.Label)
			}
			if labels[e.Label] {
				t.Errorf("%s: label %q listed twice", name, e.Label)
			}
			labels[e.Label] = true
			if e.Description == "" {
				t.Errorf("%s: label %q has no description", name, e.Label)
			}
			for _, w := range e.Wire {
				if prev, dup := keys[methodKey(w)]; dup {
					t.Errorf("%s: %q claimed by %q and %q", name, w, prev, e.Label)
				}
				keys[methodKey(w)] = e.Label
				if got, known := tc.norm(w); got != e.Label || !known {
					t.Errorf("%s: %q normalises to %q (known %v), want %q", name, w, got, known, e.Label)
				}
			}
		}
		if !labels[LabelOther] {
			t.Errorf("%s: no %q entry", name, LabelOther)
		}
	}
}

func TestRegistrationMarkdownListsEveryLabel(t *testing.T) {
	md := RegistrationMarkdown()
	for _, e := range append(RegistrationMethods(), UserPreferredMethods()...) {
		if !strings.Contains(md, "| `"+e.Label+"` |") {
			t.Errorf("markdown lacks a row for %q", e.Label)
		}
	}
	if !strings.Contains(md, "`PhoneAppNotification`") || !strings.Contains(md, "`passKeySynced`") {
		t.Error("markdown lacks the wire strings")
	}
}

func FuzzRegistrationMethod(f *testing.F) {
	for _, s := range []string{"PhoneAppNotification", "Fido2", "passKeySynced", "", "ünïcode", "none"} {
		f.Add(s)
	}
	labels := map[string]bool{}
	for _, e := range RegistrationMethods() {
		labels[e.Label] = true
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, known := RegistrationMethod(s)
		if !labels[got] {
			t.Fatalf("RegistrationMethod(%q) = %q, not a catalogue label", s, got)
		}
		if known == (got == LabelOther) {
			t.Fatalf("RegistrationMethod(%q) = %q with known=%v", s, got, known)
		}
		// Some runes change under ToUpper in ways ToLower does not undo; only where the
		// comparison form is unchanged must the label be.
		upper := strings.ToUpper(s)
		if again, _ := RegistrationMethod(upper); methodKey(upper) == methodKey(s) && again != got {
			t.Fatalf("case changed the label of %q: %q vs %q", s, got, again)
		}
	})
}
