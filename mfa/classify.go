package mfa

import (
	"strconv"
	"strings"
)

// Step is one entry of Graph's authenticationDetails[].
type Step struct {
	Method       string // authenticationMethod, e.g. "Mobile app notification"
	MethodDetail string // authenticationMethodDetail
	ResultDetail string // authenticationStepResultDetail, e.g. "MFA denied; user declined the authentication"
	Requirement  string // authenticationStepRequirement (often empty: not relied on)
	Succeeded    bool
}

// SignIn is the subset of a beta signIn the classifier reads.
type SignIn struct {
	ErrorCode                 int    // status.errorCode
	FailureReason             string // status.failureReason
	AdditionalDetails         string // status.additionalDetails
	AuthenticationRequirement string // singleFactorAuthentication | multiFactorAuthentication
	Steps                     []Step
	TokenIssuerType           string // AzureAD, ADFederationServices, NPSExtension, ADFederationServicesMFAAdapter, unknownFutureValue
	ResourceID                string // "radius" for NPS extension events, "adfs" for AD FS adapter events

	// Coverage inputs, read by ClassifyCoverage only.
	RequirementProviders []string        // authenticationRequirementPolicies[].requirementProvider
	Policies             []AppliedPolicy // appliedConditionalAccessPolicies[]
}

// Classification is the set of labels for one sign-in row.
type Classification struct {
	Requirement string // single_factor | multi_factor | other
	Result      string // success | interrupted | failure
	Outcome     string // satisfied | denied | interrupted | not_attempted | not_required
	Method      string // normalised method; "none" when no MFA step is involved
	Reason      string // satisfied or denied reason; "none" when the outcome carries no reason
	ResultCode  string // result code of Microsoft's table; "none" for rows that are not attempts (and 50158 external denials)
	ErrorCode   string // errorCode in decimal if catalogued, else "other"
	Component   string // cloud | nps_extension | adfs_adapter
	Unknown     []Unknown
}

// Unknown is an input string that fell to "other", returned so the caller can
// count or log it and the catalogue can grow. Field is one of "method",
// "reason", "error_code", "token_issuer_type" (from Classify) and
// "requirement_provider", "policy_result", "grant_control" (from
// ClassifyCoverage).
type Unknown struct{ Field, Value string }

// IsAttempt reports whether the row is one MFA attempt: its outcome is
// satisfied or denied. Interrupt rows are not attempts.
func IsAttempt(c Classification) bool {
	return c.Outcome == OutcomeSatisfied || c.Outcome == OutcomeDenied
}

// step is a Step with its method resolved.
type step struct {
	*Step
	method string
	mfa    bool
}

// Classify labels one sign-in row. It never fails: anything it does not
// recognise becomes "other" and is listed in Unknown.
func Classify(in SignIn) Classification {
	c := Classification{
		Requirement: requirementLabel(in.AuthenticationRequirement),
		Method:      LabelNone,
		Reason:      LabelNone,
		ResultCode:  LabelNone,
	}
	c.Component = c.componentOf(in)

	handling := HandlingFailure
	if e, ok := errorCodeByCode[in.ErrorCode]; ok {
		c.ErrorCode, c.Result, handling = e.Label, e.Result, e.Handling
	} else {
		c.ErrorCode, c.Result = LabelOther, ResultFailure
		c.addUnknown(FieldErrorCode, strconv.Itoa(in.ErrorCode))
	}

	// Rows list one to three steps: a fixed buffer keeps them off the heap.
	var stepBuf [8]step
	steps := c.resolveSteps(in.Steps, stepBuf[:0])

	var deciding *step
	afterFailed := false
	switch handling {
	case HandlingMFAInterrupt:
		c.Outcome = OutcomeInterrupted
		// The method being prompted, if the row already names one.
		if d := lastMFA(steps, anyStep); d != nil {
			c.Method = d.method
		}
		return c

	case HandlingSuccess, HandlingPostAuthInterrupt:
		deciding, afterFailed = decidingSucceeded(steps)
		if deciding == nil && !mentionsMFA(in, steps) && c.Requirement != RequirementMultiFactor {
			c.Outcome = OutcomeNotRequired
			return c
		}
		c.Outcome = OutcomeSatisfied
		c.Reason = c.satisfiedReason(in, deciding, steps)

	case HandlingMFAFailure:
		c.Outcome = OutcomeDenied
		deciding = lastMFA(steps, failedStep)
		if deciding == nil {
			deciding = lastMFA(steps, anyStep)
		}
		c.Reason = c.deniedReason(in, deciding, steps, true)

	default: // HandlingFailure: before MFA unless the steps say otherwise.
		if d := lastMFA(steps, succeededStep); d != nil {
			deciding, afterFailed = decidingSucceeded(steps)
			c.Outcome = OutcomeSatisfied
			c.Reason = c.satisfiedReason(in, deciding, steps)
			break
		}
		d := lastMFA(steps, failedStep)
		if d == nil || !anyDeniedText(in, d) {
			c.Outcome = OutcomeNotAttempted
			return c
		}
		deciding = d
		c.Outcome = OutcomeDenied
		c.Reason = c.deniedReason(in, deciding, steps, false)
	}

	if deciding != nil {
		c.Method = deciding.method
	} else if in.ErrorCode == 50158 {
		// 50158 is the external provider's failure even when the row lists no
		// step for it.
		c.Method = MethodExternal
	}
	c.ResultCode = resultCode(&c, afterFailed)
	return c
}

func requirementLabel(s string) string {
	switch lowerTrimmed(s) {
	case "singlefactorauthentication":
		return RequirementSingleFactor
	case "multifactorauthentication":
		return RequirementMultiFactor
	}
	return LabelOther
}

// componentOf prefers NPS over AD FS when both signals disagree; they never do
// in real rows, and a fixed order keeps the result deterministic.
func (c *Classification) componentOf(in SignIn) string {
	issuer := lowerTrimmed(in.TokenIssuerType)
	resource := lowerTrimmed(in.ResourceID)
	switch {
	case issuer == "npsextension" || resource == "radius":
		return ComponentNPSExtension
	case issuer == "adfederationservicesmfaadapter" || resource == "adfs":
		return ComponentADFSAdapter
	}
	switch issuer {
	case "", "azuread", "adfederationservices", "unknownfuturevalue":
	default:
		c.addUnknown(FieldTokenIssuerType, in.TokenIssuerType)
	}
	return ComponentCloud
}

func (c *Classification) addUnknown(field, value string) {
	for _, u := range c.Unknown {
		if u.Field == field && u.Value == value {
			return
		}
	}
	c.Unknown = append(c.Unknown, Unknown{Field: field, Value: value})
}

// resolveSteps maps every step's method. A step counts as an MFA step when its
// method is an MFA method; "Previously satisfied" and unknown methods are not
// MFA steps when their detail or requirement says they proved the first
// factor, which is how non-interactive rows reuse a first-factor claim. The
// requirement is trusted for these two kinds only: real rows list push steps
// under "Primary authentication" too, so a known MFA method stays an MFA step
// whatever its requirement says.
//
// Steps without a method are kept as non-MFA steps: real non-interactive rows
// carry a methodless step (succeeded false) whose detail is the only place
// that says "MFA requirement satisfied by claim in the token".
func (c *Classification) resolveSteps(in []Step, out []step) []step {
	for i := range in {
		s := &in[i]
		raw := strings.TrimSpace(s.Method)
		if raw == "" {
			out = append(out, step{Step: s, method: LabelNone})
			continue
		}
		mi := lookupMethod(raw)
		label := mi.label
		if !mi.known {
			label = LabelOther
			c.addUnknown(FieldMethod, s.Method)
		}
		isMFA := label != LabelNone
		if isMFA && (label == MethodPreviouslySatisfied || label == LabelOther) {
			if analyzeText(s.ResultDetail).firstFactor || isPrimaryRequirement(s.Requirement) {
				isMFA = false
			}
		}
		out = append(out, step{Step: s, method: label, mfa: isMFA})
	}
	return out
}

// isPrimaryRequirement reports a step requirement naming the first factor:
// "Primary authentication", in any case ("Primary Authentication" occurs in
// real rows). The other requirements seen ("Multi-factor authentication",
// "MFA", "MultiConditionalAccess", "User": the last two name the provider that
// demanded MFA) all mean an MFA step, which is what an unqualified step of
// these kinds is taken to be anyway.
func isPrimaryRequirement(s string) bool {
	return strings.Contains(lowerTrimmed(s), "primary")
}

// Which steps lastMFA looks for. (An enum rather than a predicate: a step passed to a function
// value would move the caller's step buffer to the heap.)
const (
	anyStep = iota
	succeededStep
	failedStep
)

// lastMFA returns the last MFA step of the kind asked for.
func lastMFA(steps []step, kind int) *step {
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i].mfa && (kind == anyStep || steps[i].Succeeded == (kind == succeededStep)) {
			return &steps[i]
		}
	}
	return nil
}

// decidingSucceeded picks the step that satisfied MFA: the last succeeded MFA
// step, else the last MFA step at all. afterFailed reports a failed MFA step
// before it (the user fell back to another method).
func decidingSucceeded(steps []step) (*step, bool) {
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i].mfa && steps[i].Succeeded {
			for j := 0; j < i; j++ {
				if steps[j].mfa && !steps[j].Succeeded {
					return &steps[i], true
				}
			}
			return &steps[i], false
		}
	}
	return lastMFA(steps, anyStep), false
}

// candidateTexts are the strings a reason is read from, in order: the
// deciding step's detail, then the row's additionalDetails. Without a deciding
// step, the details of the row's other steps (last first) come before
// additionalDetails: a methodless step may be the only one that names the
// reason. First-factor and neutral strings are skipped by the callers; they
// are not MFA reasons.
func candidateTexts(in *SignIn, deciding *step, steps []step, out []string) []string {
	if deciding != nil {
		out = append(out, deciding.ResultDetail)
	} else {
		for i := len(steps) - 1; i >= 0; i-- {
			out = append(out, steps[i].ResultDetail)
		}
	}
	out = append(out, in.AdditionalDetails)
	return out
}

func (c *Classification) satisfiedReason(in SignIn, deciding *step, steps []step) string {
	var buf [9]string
	texts := candidateTexts(&in, deciding, steps, buf[:0])
	if r := c.matchReason(texts, true); r != "" {
		return r
	}
	if hasReasonText(texts) {
		return LabelOther
	}
	// No text at all: infer what the method itself implies.
	if deciding != nil {
		switch {
		case deciding.method == MethodPreviouslySatisfied:
			return ReasonClaimInToken
		case passwordless[deciding.method]:
			return ReasonStrongAuthentication
		}
	}
	return LabelOther
}

// codeReasons are the denied reasons implied by an error code when the row's
// text names none: these codes are themselves the reason.
var codeReasons = map[int]string{
	50088: ReasonServiceError,          // telecom call limit: the service refused to call
	50086: ReasonServiceError,          // non-retryable strong-authentication error
	50087: ReasonServiceError,          // transient strong-authentication error
	50158: ReasonInvalidAuthentication, // the external provider returned no valid MFA claim
}

func (c *Classification) deniedReason(in SignIn, deciding *step, steps []step, useCode bool) string {
	var buf [9]string
	texts := candidateTexts(&in, deciding, steps, buf[:0])
	if r := c.matchReasonQuiet(texts, false); r != "" {
		return r
	}
	if r, ok := codeReasons[in.ErrorCode]; ok && useCode {
		return r
	}
	c.reportTexts(texts)
	return LabelOther
}

// matchReason returns the first text's label (satisfied or denied reasons),
// or "" after reporting every unmatched text as unknown.
func (c *Classification) matchReason(texts []string, satisfied bool) string {
	if r := c.matchReasonQuiet(texts, satisfied); r != "" {
		return r
	}
	c.reportTexts(texts)
	return ""
}

func (c *Classification) matchReasonQuiet(texts []string, satisfied bool) string {
	for _, t := range texts {
		info := analyzeText(t)
		if info.notAReason {
			continue
		}
		r := info.denied
		if satisfied {
			r = info.satisfied
		}
		if r != "" {
			return r
		}
	}
	return ""
}

func (c *Classification) reportTexts(texts []string) {
	for _, t := range texts {
		if analyzeText(t).notAReason {
			continue
		}
		c.addUnknown(FieldReason, strings.TrimSpace(t))
	}
}

func hasReasonText(texts []string) bool {
	for _, t := range texts {
		if !analyzeText(t).notAReason {
			return true
		}
	}
	return false
}

// mentionsMFA reports MFA evidence in a row without an MFA step: a known
// satisfied reason in any step detail or in additionalDetails, or a string
// that names MFA even if this catalogue does not know it yet (so a new wording
// is reported rather than silently counted as not_required).
func mentionsMFA(in SignIn, steps []step) bool {
	for i := 0; i <= len(steps); i++ {
		t := in.AdditionalDetails
		if i < len(steps) {
			t = steps[i].ResultDetail
		}
		info := analyzeText(t)
		if info.notAReason {
			continue
		}
		if info.satisfied != "" || info.namesMFA {
			return true
		}
	}
	return false
}

// anyDeniedText reports whether a failure row that is not an MFA error code
// still carries a denied reason for its failed MFA step; only then is it
// counted as denied rather than as a failure before MFA.
func anyDeniedText(in SignIn, d *step) bool {
	var buf [2]string
	for _, t := range candidateTexts(&in, d, nil, buf[:0]) {
		info := analyzeText(t)
		if !info.notAReason && info.denied != "" {
			return true
		}
	}
	return false
}
