package detect

// Episode kinds. They are label values of the detector's metrics, so the set is fixed.
const (
	KindFatigue = "fatigue"       // push bombing: declined or unanswered push notifications
	KindFraud   = "fraud"         // a fraud report, and the user_blocked denials that follow it
	KindOATH    = "oath_guessing" // failed OATH codes across many sessions
)

// Kinds returns every episode kind in a fixed order, so that a caller can pre-declare series.
func Kinds() []string { return []string{KindFatigue, KindFraud, KindOATH} }

// kindIndex maps a kind to its slot in per-kind arrays; -1 for an unknown kind.
func kindIndex(kind string) int {
	switch kind {
	case KindFatigue:
		return kFatigue
	case KindFraud:
		return kFraud
	case KindOATH:
		return kOATH
	}
	return -1
}

const (
	kFatigue = iota
	kFraud
	kOATH
	nKinds
)

// Episode outcomes. "open" is an episode not yet concluded; the two others are final outcomes,
// each counted once when it is reached.
const (
	OutcomeOpen    = "open"
	OutcomeSuccess = "success" // the user then satisfied MFA: the attacker may be in
	OutcomeDenied  = "denied"  // the episode ended without a success
)

// Labels of the mfa package's catalogue that the rules read. They are copied rather than
// imported so that this package depends on no other package of the project; labels_test.go
// checks every constant whose name starts with mfaOutcome, mfaMethod, mfaSatisfied or mfaDenied
// against mfa's catalogue, so a renamed label fails a test instead of silently matching nothing.
const (
	mfaOutcomeSatisfied = "satisfied"
	mfaOutcomeDenied    = "denied"

	mfaMethodOATH                = "oath_verification_code"
	mfaMethodPreviouslySatisfied = "previously_satisfied"

	// Denials that count toward push bombing (Sentinel: "user declined" or "did not respond to
	// mobile app notification"; a fraud report is a decline the user also reported).
	mfaDeniedUserDeclined  = "user_declined"
	mfaDeniedNoResponse    = "no_response_to_notification"
	mfaDeniedFraudReported = "fraud_reported"
	mfaDeniedUserBlocked   = "user_blocked"

	// Denials that never put a prompt in front of the user (blocked, nothing registered, the
	// service could not reach the phone...) or repeat one already counted: not prompts.
	mfaDeniedNoMethods              = "no_verification_methods_registered"
	mfaDeniedUserNotFound           = "user_not_found"
	mfaDeniedMisconfiguration       = "misconfiguration"
	mfaDeniedServiceError           = "service_error"
	mfaDeniedUnableToReachPhone     = "unable_to_reach_phone"
	mfaDeniedUnableToSendToDevice   = "unable_to_send_notification_to_device"
	mfaDeniedUnableToSend           = "unable_to_send_notification"
	mfaDeniedInvalidPhoneNumber     = "invalid_phone_number_format"
	mfaDeniedDuplicateAttempt       = "duplicate_authentication_attempt"
	mfaDeniedAuthenticationProgress = "authentication_in_progress"

	// Satisfied reasons that mean the user completed a prompt just now (Sentinel's "MFA
	// successfully completed"; completed_in_cloud is the same for a federated user).
	mfaSatisfiedSuccessfullyCompleted = "successfully_completed"
	mfaSatisfiedCompletedInCloud      = "completed_in_cloud"

	// Satisfied reasons without a prompt: an earlier MFA reused, or MFA skipped.
	mfaSatisfiedClaimInToken       = "claim_in_token"
	mfaSatisfiedClaimByExternal    = "claim_by_external_provider"
	mfaSatisfiedSkippedBroker      = "skipped_windows_broker_logon"
	mfaSatisfiedSkippedAppPassword = "skipped_app_password"
	mfaSatisfiedSkippedLocation    = "skipped_location"
	mfaSatisfiedSkippedRegistered  = "skipped_registered_device"
	mfaSatisfiedSkippedRemembered  = "skipped_remembered_device"
)

// notPromptDenied and notPromptSatisfied are the reasons that make an MFA attempt not a prompt.
var (
	notPromptDenied = map[string]bool{
		mfaDeniedUserBlocked: true, mfaDeniedNoMethods: true, mfaDeniedUserNotFound: true,
		mfaDeniedMisconfiguration: true, mfaDeniedServiceError: true, mfaDeniedUnableToReachPhone: true,
		mfaDeniedUnableToSendToDevice: true, mfaDeniedUnableToSend: true, mfaDeniedInvalidPhoneNumber: true,
		mfaDeniedDuplicateAttempt: true, mfaDeniedAuthenticationProgress: true,
	}
	notPromptSatisfied = map[string]bool{
		mfaSatisfiedClaimInToken: true, mfaSatisfiedClaimByExternal: true, mfaSatisfiedSkippedBroker: true,
		mfaSatisfiedSkippedAppPassword: true, mfaSatisfiedSkippedLocation: true,
		mfaSatisfiedSkippedRegistered: true, mfaSatisfiedSkippedRemembered: true,
	}
)
