package simtenant

// This file is the simulator's own table of wire strings. It is written
// independently of the exporter's catalogue on purpose: tests compare what the
// exporter derives from these strings with the labels recorded here, so a
// shared table would let a wrong phrasing pass unnoticed.

// Method labels (the exporter's vocabulary).
const (
	MethodPush              = "mobile_app_notification"
	MethodSMS               = "text_message"
	MethodPhoneCall         = "phone_call"
	MethodOATH              = "oath_verification_code"
	MethodFIDO2             = "fido2_security_key"
	MethodWHfB              = "windows_hello_for_business"
	MethodPasskey           = "passkey"
	MethodAuthPasswordless  = "authenticator_passwordless"
	MethodTAP               = "temporary_access_pass"
	MethodCertificate       = "certificate"
	MethodPreviouslySatisfy = "previously_satisfied"
	MethodEmailOTP          = "email_otp"
	MethodExternal          = "external"
)

// Outcome, component and catch-all labels.
const (
	OutcomeSatisfied = "satisfied"
	OutcomeDenied    = "denied"

	ComponentCloud = "cloud"
	ComponentNPS   = "nps_extension"
	ComponentADFS  = "adfs_adapter"

	ReasonOther = "other"
)

// Event types as Graph spells them in signInEventTypes.
const (
	EventInteractive    = "interactiveUser"
	EventNonInteractive = "nonInteractiveUser"
)

// Methods lists every method label the generator can produce.
var Methods = []string{
	MethodPush, MethodSMS, MethodPhoneCall, MethodOATH, MethodFIDO2, MethodWHfB, MethodPasskey,
	MethodAuthPasswordless, MethodTAP, MethodCertificate, MethodPreviouslySatisfy, MethodEmailOTP, MethodExternal,
}

// Components lists every component label.
var Components = []string{ComponentCloud, ComponentNPS, ComponentADFS}

// SatisfiedReasons lists the 12 satisfied reason labels in the seed's order.
var SatisfiedReasons = []string{
	"completed_in_cloud", "expired_by_tenant_policy", "registration_prompted", "claim_in_token",
	"claim_by_external_provider", "strong_authentication", "skipped_windows_broker_logon",
	"skipped_app_password", "skipped_location", "skipped_registered_device", "skipped_remembered_device",
	"successfully_completed",
}

// DeniedReasons lists the 22 denied reasons of the seed plus fraud_reported,
// which the cloud log reports as its own string.
var DeniedReasons = []string{
	"authentication_in_progress", "duplicate_authentication_attempt", "incorrect_code_too_many_times",
	"invalid_authentication", "invalid_mobile_app_verification_code", "misconfiguration",
	"phone_call_went_to_voicemail", "invalid_phone_number_format", "service_error", "unable_to_reach_phone",
	"unable_to_send_notification_to_device", "unable_to_send_notification", "user_declined",
	"no_response_to_notification", "no_verification_methods_registered", "incorrect_code", "incorrect_pin",
	"user_hung_up", "user_blocked", "verification_code_never_entered", "user_not_found",
	"verification_code_already_used", "fraud_reported",
}

// methodWire is the authenticationMethod value Graph writes for each label,
// with alternative spellings that older tenants and the documentation use.
var methodWire = map[string]struct {
	canonical string
	detail    string
	variants  []string
}{
	MethodPush:              {canonical: "Mobile app notification"},
	MethodSMS:               {canonical: "Text message", variants: []string{"SMS"}},
	MethodPhoneCall:         {canonical: "Phone call", variants: []string{"Voice"}},
	MethodOATH:              {canonical: "OATH verification code", detail: "Software OATH token", variants: []string{"Software OATH token"}},
	MethodFIDO2:             {canonical: "FIDO2 security key", detail: "YubiKey 5 NFC"},
	MethodWHfB:              {canonical: "Windows Hello for Business"},
	MethodPasskey:           {canonical: "Passkey", detail: "Passkey (device-bound)"},
	MethodAuthPasswordless:  {canonical: "Microsoft Authenticator", detail: "Passwordless phone sign-in"},
	MethodTAP:               {canonical: "Temporary Access Pass"},
	MethodCertificate:       {canonical: "Certificate-based authentication", detail: "X.509 Certificate"},
	MethodPreviouslySatisfy: {canonical: "Previously satisfied"},
	MethodEmailOTP:          {canonical: "Email one-time passcode"},
	MethodExternal:          {canonical: "External authentication method", detail: "Contoso external MFA"},
}

// reasonWire maps a reason label to the phrase Graph writes in
// status.additionalDetails and authenticationStepResultDetail, plus the
// drifted wordings seen across years (case, "didn't", "Microsoft Entra ID",
// curly apostrophes). Each variant still means the same label.
var reasonWire = map[string]struct {
	canonical string
	variants  []string
}{
	"completed_in_cloud":           {"MFA completed in Azure AD", []string{"MFA completed in Microsoft Entra ID", "MFA Completed in Azure AD"}},
	"expired_by_tenant_policy":     {"MFA requirement has expired due to the policies configured on tenant", []string{"MFA Requirement has expired due to the policies configured on tenant"}},
	"registration_prompted":        {"MFA registration prompted", []string{"MFA Registration prompted"}},
	"claim_in_token":               {"MFA requirement satisfied by claim in the token", []string{"MFA Requirement satisfied by claim in the token"}},
	"claim_by_external_provider":   {"MFA requirement satisfied by claim provided by external provider", []string{"MFA requirement satisfied by claim provided by External Provider"}},
	"strong_authentication":        {"MFA requirement satisfied by strong authentication", []string{"MFA Requirement satisfied by strong authentication"}},
	"skipped_windows_broker_logon": {"MFA requirement skipped as flow exercised was Windows broker logon flow", nil},
	"skipped_app_password":         {"MFA requirement skipped due to app password", nil},
	"skipped_location":             {"MFA requirement skipped due to IP address", []string{"MFA requirement skipped due to location"}},
	"skipped_registered_device":    {"MFA requirement skipped due to registered device", nil},
	"skipped_remembered_device":    {"MFA requirement skipped due to remembered device", nil},
	"successfully_completed":       {"MFA successfully completed", []string{"MFA Successfully completed"}},

	"authentication_in_progress":            {"MFA denied; authentication in-progress", nil},
	"duplicate_authentication_attempt":      {"MFA denied; duplicate authentication attempt", nil},
	"incorrect_code_too_many_times":         {"MFA denied; entered incorrect code too many times", nil},
	"invalid_authentication":                {"MFA denied; invalid authentication", nil},
	"invalid_mobile_app_verification_code":  {"MFA denied; invalid mobile app verification code", nil},
	"misconfiguration":                      {"MFA denied; misconfiguration", nil},
	"phone_call_went_to_voicemail":          {"MFA denied; phone call went to voicemail", nil},
	"invalid_phone_number_format":           {"MFA denied; phone number has an invalid format", nil},
	"service_error":                         {"MFA denied; service error", nil},
	"unable_to_reach_phone":                 {"MFA denied; unable to reach the user's phone", []string{"MFA denied; unable to reach the user\u2019s phone"}},
	"unable_to_send_notification_to_device": {"MFA denied; unable to send the mobile app notification to the device", nil},
	"unable_to_send_notification":           {"MFA denied; unable to send the mobile app notification", nil},
	"user_declined":                         {"MFA denied; user declined the authentication", nil},
	"no_response_to_notification":           {"MFA denied; user did not respond to mobile app notification", []string{"MFA denied; user didn't respond to mobile app notification", "MFA denied; user didn\u2019t respond to mobile app notification"}},
	"no_verification_methods_registered":    {"MFA denied; user does not have any verification methods registered", []string{"MFA denied; user doesn't have any verification methods registered", "MFA denied; user doesn\u2019t have any verification methods registered"}},
	"incorrect_code":                        {"MFA denied; user entered incorrect code", nil},
	"incorrect_pin":                         {"MFA denied; user entered incorrect PIN", nil},
	"user_hung_up":                          {"MFA denied; user hung up the phone call without succeeding the authentication", nil},
	"user_blocked":                          {"MFA denied; user is blocked", nil},
	"verification_code_never_entered":       {"MFA denied; user never entered the verification code", nil},
	"user_not_found":                        {"MFA denied; user not found", nil},
	"verification_code_already_used":        {"MFA denied; verification code already used once", nil},
	"fraud_reported":                        {"MFA denied; Phone App Reported Fraud", nil},
}

// unknownPhrases are strings no catalogue knows; rows carrying them must be
// counted with reason "other".
var unknownSatisfied = []string{
	"MFA requirement satisfied by interpretive dance",
	"MFA requirement satisfied by quorum of carrier pigeons",
}

var unknownDenied = []string{
	"MFA denied; quantum entanglement lost",
	"MFA denied; carrier pigeon did not return",
}

// deniedMethods says which methods can plausibly produce each denied reason.
var deniedMethods = map[string][]string{
	"authentication_in_progress":            {MethodPush, MethodPhoneCall},
	"duplicate_authentication_attempt":      {MethodPush},
	"incorrect_code_too_many_times":         {MethodSMS, MethodOATH},
	"invalid_authentication":                {MethodPush, MethodSMS},
	"invalid_mobile_app_verification_code":  {MethodPush},
	"misconfiguration":                      {MethodPhoneCall, MethodPush},
	"phone_call_went_to_voicemail":          {MethodPhoneCall},
	"invalid_phone_number_format":           {MethodPhoneCall, MethodSMS},
	"service_error":                         {MethodPush, MethodSMS, MethodPhoneCall},
	"unable_to_reach_phone":                 {MethodPhoneCall},
	"unable_to_send_notification_to_device": {MethodPush},
	"unable_to_send_notification":           {MethodPush},
	"user_declined":                         {MethodPush},
	"no_response_to_notification":           {MethodPush},
	"no_verification_methods_registered":    {MethodSMS, MethodPhoneCall},
	"incorrect_code":                        {MethodSMS, MethodOATH},
	"incorrect_pin":                         {MethodPhoneCall},
	"user_hung_up":                          {MethodPhoneCall},
	"user_blocked":                          {MethodPhoneCall, MethodPush},
	"verification_code_never_entered":       {MethodSMS, MethodOATH},
	"user_not_found":                        {MethodPush},
	"verification_code_already_used":        {MethodOATH},
	"fraud_reported":                        {MethodPush, MethodPhoneCall},
}

// Fixed Entra texts for the non-MFA outcomes the generator writes.
const (
	failureOther       = "Other."
	failureStrongAuth  = "Authentication failed during strong authentication request."
	failureInterrupt   = "Strong Authentication is required."
	failureKMSI        = "This error occurred due to 'Keep me signed in' interrupt when the user was signing in."
	failurePassword    = "Error validating credentials due to invalid username or password."
	failureCABlock     = "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."
	failureDisabled    = "User account is disabled. The account has been disabled by an administrator."
	detailMFARequired  = "MFA required in Azure AD"
	detailCorrectPwd   = "Correct password"
	detailWrongPwd     = "Invalid username or password or Invalid on-premise username or password."
	detailFirstByClaim = "First factor requirement satisfied by claim in the token"
)
