package mfa

import (
	"math/bits"
	"strings"
	"sync"
)

// The coverage catalogues say why MFA was or was not required: which Entra
// feature demanded it (authenticationRequirementPolicies[].requirementProvider)
// and what each Conditional Access policy did (appliedConditionalAccessPolicies[]
// result and enforcedGrantControls). Every documented enum value has its own
// label; strings outside the catalogue become "other" and are reported in
// Classification.Unknown, like the classifier's other fields.

// Unknown.Field values of the coverage catalogues.
const (
	FieldRequirementProvider = "requirement_provider"
	FieldPolicyResult        = "policy_result"
	FieldGrantControl        = "grant_control"
)

// Requirement source labels (requirementProvider). Every value of Microsoft's
// requirementProvider enum (beta authenticationRequirementPolicy resource) is
// listed; the label is its snake_case form, except "user", whose label says
// what it is (per-user MFA) rather than looking like a user.
const (
	SourcePerUserMFA                              = "per_user_mfa"
	SourceRequest                                 = "request"
	SourceServicePrincipal                        = "service_principal"
	SourceV1ConditionalAccess                     = "v1_conditional_access"
	SourceMultiConditionalAccess                  = "multi_conditional_access"
	SourceTenantSessionRiskPolicy                 = "tenant_session_risk_policy"
	SourceAccountCompromisePolicies               = "account_compromise_policies"
	SourceV1ConditionalAccessDependency           = "v1_conditional_access_dependency"
	SourceV1ConditionalAccessPolicyIDRequested    = "v1_conditional_access_policy_id_requested"
	SourceMFARegistrationByIdentityProtection     = "mfa_registration_required_by_identity_protection_policy"
	SourceBaselineProtection                      = "baseline_protection"
	SourceMFARegistrationByBaselineProtection     = "mfa_registration_required_by_baseline_protection"
	SourceMFARegistrationByMultiConditionalAccess = "mfa_registration_required_by_multi_conditional_access"
	SourceEnforcedForCSPAdmins                    = "enforced_for_csp_admins"
	SourceSecurityDefaults                        = "security_defaults"
	SourceMFARegistrationBySecurityDefaults       = "mfa_registration_required_by_security_defaults"
	SourceProofUpCodeRequest                      = "proof_up_code_request"
	SourceCrossTenantOutboundRule                 = "cross_tenant_outbound_rule"
	SourceGPSLocationCondition                    = "gps_location_condition"
	SourceRiskBasedPolicy                         = "risk_based_policy"
	SourceScopeBasedAuthRequirementPolicy         = "scope_based_auth_requirement_policy"
	SourceAuthenticationStrengths                 = "authentication_strengths"

	// LabelUnknownFutureValue is Graph's placeholder for an enum value newer
	// than the request asked for; it is documented, so it is a label of its
	// own rather than "other".
	LabelUnknownFutureValue = "unknown_future_value"
)

// Texts shared by several coverage entries.
const (
	unknownFutureValueWire   = "unknownFutureValue"
	unknownFutureValueCause  = "Graph hides enum values added after the caller's API version unless the request sends Prefer: include-unknown-enum-members; the exporter sends it, so this should be rare."
	unknownFutureValueAction = "If it grows, check that nothing between the exporter and Graph strips the Prefer header, and report it."
	reportUnknownAction      = "Find the string in the exporter's \"unclassified string\" log line and report it so the catalogue can grow."
	mfaRegistrationAction    = "Nothing if the user registers; users who keep deferring show up in the registration gauges."
	classicPolicyAction      = "Migrate classic policies to current Conditional Access policies."
)

var requirementSources = []Entry{
	{SourcePerUserMFA, "Legacy per-user MFA (the user's MFA state is enabled or enforced).", []string{"user"},
		"The user's per-user MFA state is enabled or enforced (the MFA Status column of the MSOnline reports), independent of Conditional Access.",
		"Microsoft recommends moving to Conditional Access: once a policy covers the user, set their per-user MFA state to disabled so that one place decides."},
	{SourceRequest, "The application's request asked for MFA.", []string{"request"},
		"The client or resource requested an MFA claim (for example through the acr or amr claims in its request).",
		"Nothing; the application demands MFA itself."},
	{SourceServicePrincipal, "The application's service principal requires MFA.", []string{"servicePrincipal"},
		"A setting on the resource application's service principal requires MFA for every sign-in to it.",
		"Nothing; move the requirement to a Conditional Access policy if you want it in one place."},
	{SourceV1ConditionalAccess, "Classic (v1) Conditional Access policy.", []string{"v1ConditionalAccess"},
		"A policy of the classic Conditional Access engine required MFA.",
		classicPolicyAction},
	{SourceMultiConditionalAccess, "Conditional Access policy.", []string{"multiConditionalAccess"},
		"A Conditional Access policy with an MFA grant control or an authentication strength applied to the sign-in.",
		"Nothing to fix; the Conditional Access policy results of the same rows show which policy asked for MFA."},
	{SourceTenantSessionRiskPolicy, "Identity Protection's sign-in (session) risk policy.", []string{"tenantSessionRiskPolicy"},
		"Identity Protection judged the session risky and its sign-in risk policy required MFA.",
		"Review the sign-in's risk detections; confirm with the user that the sign-in was theirs."},
	{SourceAccountCompromisePolicies, "Microsoft's protection for accounts whose credentials appear compromised.", []string{"accountCompromisePolicies"},
		"Microsoft's account compromise protection required MFA for a user whose credentials look compromised.",
		"Investigate the user: reset the password if the credentials leaked."},
	{SourceV1ConditionalAccessDependency, "A classic Conditional Access policy on a dependent resource.", []string{"v1ConditionalAccessDependency"},
		"The requested resource depends on another resource whose classic policy required MFA.",
		classicPolicyAction},
	{SourceV1ConditionalAccessPolicyIDRequested, "A classic Conditional Access policy named in the request.", []string{"v1ConditionalAccessPolicyIdRequested"},
		"The request named a classic Conditional Access policy, which required MFA.",
		classicPolicyAction},
	{SourceMFARegistrationByIdentityProtection, "A user without methods had to register one because of Identity Protection's MFA registration policy.", []string{"mfaRegistrationRequiredByIdentityProtectionPolicy"},
		"The user is in scope of the Identity Protection MFA registration policy and had no method yet; the policy lets users skip for up to 14 days.",
		mfaRegistrationAction},
	{SourceBaselineProtection, "Baseline protection policy (predecessor of security defaults).", []string{"baselineProtection"},
		"A retired baseline protection policy required MFA.",
		"Baseline policies are retired: replace them with security defaults or Conditional Access."},
	{SourceMFARegistrationByBaselineProtection, "MFA registration required by a baseline protection policy.", []string{"mfaRegistrationRequiredByBaselineProtection"},
		"A retired baseline protection policy made the user register for MFA.",
		"Replace baseline policies with security defaults or Conditional Access."},
	{SourceMFARegistrationByMultiConditionalAccess, "MFA registration required by a Conditional Access policy.", []string{"mfaRegistrationRequiredByMultiConditionalAccess"},
		"A Conditional Access policy required MFA from a user with no method, so they had to register.",
		mfaRegistrationAction},
	{SourceEnforcedForCSPAdmins, "MFA enforced for a partner (CSP) administrator.", []string{"enforcedForCspAdmins"},
		"Microsoft enforces MFA for partner administrators acting in customer tenants.",
		"Nothing; partner administrators must register MFA in their own tenant."},
	{SourceSecurityDefaults, "Security defaults: Microsoft's preconfigured baseline that makes users register for MFA and prompts administrators and risky sign-ins.", []string{"securityDefaults"},
		"Security defaults are on: MFA for administrators and when Entra deems it necessary for users.",
		"Nothing; move to Conditional Access when you need exclusions or finer control (Conditional Access requires turning security defaults off)."},
	{SourceMFARegistrationBySecurityDefaults, "A user had to register an MFA method because security defaults are on.", []string{"mfaRegistrationRequiredBySecurityDefaults"},
		"Security defaults gave the user 14 days to register and the time is up, or the user was asked to register.",
		mfaRegistrationAction},
	{SourceProofUpCodeRequest, "Proof-up (method registration) code request.", []string{"proofUpCodeRequest"},
		"MFA was required to register or change an authentication method (security info).",
		"Nothing; an unexpected method change by an existing user deserves a look at the audit log."},
	{SourceCrossTenantOutboundRule, "Cross-tenant access outbound rule.", []string{"crossTenantOutboundRule"},
		"An outbound cross-tenant access setting required MFA for a user going to another tenant.",
		"Nothing; the cross-tenant access settings say which partners this covers."},
	{SourceGPSLocationCondition, "GPS-based named location condition.", []string{"gpsLocationCondition"},
		"A Conditional Access policy with a GPS country location asked the Authenticator app for the device's location.",
		"Nothing; users must allow location sharing in the Authenticator app."},
	{SourceRiskBasedPolicy, "Risk-based Conditional Access policy.", []string{"riskBasedPolicy"},
		"A policy with a sign-in or user risk condition required MFA because Identity Protection found risk.",
		"Review the risk detections of these sign-ins; unexpected risk for one user deserves a call to them."},
	{LabelUnknownFutureValue, "Graph's placeholder for an enum value newer than the caller asked for.", []string{unknownFutureValueWire},
		unknownFutureValueCause, unknownFutureValueAction},
	{SourceScopeBasedAuthRequirementPolicy, "Scope-based authentication requirement policy.", []string{"scopeBasedAuthRequirementPolicy"},
		"A policy tied to the permissions (scopes) the application requested required MFA.",
		"Nothing; see which application and scopes were requested."},
	{SourceAuthenticationStrengths, "Authentication strength.", []string{"authenticationStrengths"},
		"A Conditional Access authentication strength (for example phishing-resistant MFA) required specific methods.",
		"Nothing; users without a method of the required strength are denied, so watch their registration."},
	{LabelNone, "The row lists no requirement policy.", nil,
		"The row lists no requirement policy: single-factor sign-ins, and multi-factor rows whose MFA came from a claim already in the token.",
		"Nothing for single-factor rows; the share of none among sign-ins without MFA shows how much nothing required MFA."},
	{LabelOther, "A requirementProvider value missing from this catalogue; the raw string is reported as unknown.", nil,
		"Microsoft added a requirement provider.",
		reportUnknownAction},
}

// Conditional Access policy result labels (appliedConditionalAccessPolicies[].result).
const (
	PolicySuccess               = "success"
	PolicyFailure               = "failure"
	PolicyNotApplied            = "not_applied"
	PolicyNotEnabled            = "not_enabled"
	PolicyUnknown               = "unknown"
	PolicyReportOnlySuccess     = "report_only_success"
	PolicyReportOnlyFailure     = "report_only_failure"
	PolicyReportOnlyNotApplied  = "report_only_not_applied"
	PolicyReportOnlyInterrupted = "report_only_interrupted"
)

var policyResults = []Entry{
	{PolicySuccess, "The policy applied and its grant controls were satisfied.", []string{"success"},
		"The sign-in matched the policy's conditions and, for example, MFA was completed or the device was compliant.",
		"Nothing."},
	{PolicyFailure, "The policy applied and its grant controls were not satisfied (or it blocks): the sign-in was refused.", []string{"failure"},
		"A block policy matched, or the user could not satisfy a required control (MFA not completed, device not compliant...).",
		"A spike on one policy after a change usually means the change locks users out: check the policy's conditions and exclusions, and the grant control."},
	{PolicyNotApplied, "The policy is on but its conditions did not match this sign-in.", []string{"notApplied"},
		"The user, application, location, platform or client app was outside the policy's assignments or excluded.",
		"Nothing; if a policy you expect to apply never does, review its assignments and exclusions."},
	{PolicyNotEnabled, "The policy is turned off.", []string{"notEnabled"},
		"The policy's state is off; Graph still lists it on every row.",
		"Delete policies that stay off, or turn them on (report-only first)."},
	{PolicyUnknown, "Graph could not tell the result.", []string{"unknown", ""},
		"The evaluation result was not recorded; also rows whose result field is empty.",
		"Nothing unless it is frequent; then read a few raw rows."},
	{LabelUnknownFutureValue, "Graph's placeholder for an enum value newer than the caller asked for.", []string{unknownFutureValueWire},
		unknownFutureValueCause, unknownFutureValueAction},
	{PolicyReportOnlySuccess, "Report-only: had the policy been on, its grant controls would have been satisfied.", []string{"reportOnlySuccess"},
		"A report-only policy matched and the sign-in already met its controls (for example MFA was done anyway).",
		"Nothing: turning the policy on would not have disturbed this sign-in."},
	{PolicyReportOnlyFailure, "Report-only: had the policy been on, this sign-in would have failed (blocked or a control not met).", []string{"reportOnlyFailure"},
		"A report-only block policy matched, or the user could not have satisfied a control such as a compliant device.",
		"Before turning the policy on, find who would have been refused and fix their devices or add exclusions; a large share means the policy would lock people out."},
	{PolicyReportOnlyNotApplied, "Report-only: the policy's conditions did not match this sign-in.", []string{"reportOnlyNotApplied"},
		"The sign-in was outside the report-only policy's assignments.",
		"Nothing."},
	{PolicyReportOnlyInterrupted, "Report-only: had the policy been on, the user would have been prompted (for example for MFA).", []string{"reportOnlyInterrupted"},
		"A report-only policy with an MFA or other interactive control matched a sign-in that did not perform it.",
		"These users would see a new prompt once the policy is on: tell them, and check they have a method registered."},
	{LabelOther, "A result value missing from this catalogue; the raw string is reported as unknown.", nil,
		"Microsoft added a policy result value.",
		reportUnknownAction},
}

// Grant control labels (appliedConditionalAccessPolicies[].enforcedGrantControls).
// Sign-in rows spell them as the portal's internal names ("Mfa",
// "RequireCompliantDevice"), the policy API as its builtInControls enum
// ("mfa", "compliantDevice"); both spellings share a label so that a policy
// inventory read from the policy API joins the sign-in counts.
const (
	GrantMFA                    = "mfa"
	GrantBlock                  = "block"
	GrantCompliantDevice        = "compliant_device"
	GrantDomainJoinedDevice     = "domain_joined_device"
	GrantApprovedApplication    = "approved_application"
	GrantCompliantApplication   = "compliant_application"
	GrantPasswordChange         = "password_change"
	GrantAuthenticationStrength = "authentication_strength"
)

var grantControls = []Entry{
	{GrantMFA, "Require multifactor authentication.", []string{"Mfa", "Require multi-factor authentication"},
		"A policy grants access only after MFA.",
		"Nothing; combine with the policy result to see whether MFA was completed."},
	{GrantBlock, "Block access.", []string{"Block", "Block access"},
		"A block policy: legacy authentication, blocked locations or platforms, risky sign-ins.",
		"Nothing for intended blocks; a report-only block with many matches would lock those sign-ins out once on."},
	{GrantCompliantDevice, "Require the device to be marked as compliant (Intune).", []string{"compliantDevice", "RequireCompliantDevice", "Require device to be marked as compliant"},
		"A policy requires an Intune-compliant device.",
		"Failures mean unmanaged or non-compliant devices: check them in Intune."},
	{GrantDomainJoinedDevice, "Require a Microsoft Entra hybrid joined device.", []string{"domainJoinedDevice", "RequireDomainJoinedDevice", "Require Hybrid Azure AD joined device", "Require Microsoft Entra hybrid joined device"},
		"A policy requires a hybrid-joined (domain-joined) device.",
		"Failures mean personal or unjoined devices: check the device's join state."},
	{GrantApprovedApplication, "Require an approved client app.", []string{"approvedApplication", "RequireApprovedApp", "Require approved client app"},
		"A policy allows only approved client apps, usually on mobile devices.",
		"Failures mean a non-approved app (for example a phone's built-in mail app): users switch to Outlook mobile or another approved app."},
	{GrantCompliantApplication, "Require an app protection policy.", []string{"compliantApplication", "RequireCompliantApp", "Require app protection policy"},
		"A policy requires an app protected by an Intune app protection policy.",
		"Failures mean the app has no protection policy assigned for the user: check Intune app protection."},
	{GrantPasswordChange, "Require a password change (user risk remediation).", []string{"passwordChange", "RequirePasswordChange"},
		"A user risk policy requires a secure password change, always together with MFA.",
		"Nothing; the user's risk is remediated when they change the password."},
	{GrantAuthenticationStrength, "Require an authentication strength (a set of allowed methods, e.g. phishing-resistant MFA).", []string{"authenticationStrength", "RequireAuthenticationStrength"},
		"A policy requires methods of a given strength; sign-in rows append the strength's name after a colon.",
		"Failures mean the user has no method of that strength: have them register one (for example a passkey)."},
	{LabelUnknownFutureValue, "Graph's placeholder for an enum value newer than the caller asked for.", []string{unknownFutureValueWire},
		unknownFutureValueCause, unknownFutureValueAction},
	{LabelNone, "The policy enforces no grant control.", nil,
		"Session-control-only policies, and policies that did not apply, often list no grant control.",
		"Nothing."},
	{LabelOther, "A grant control missing from this catalogue, including custom controls and terms of use, which carry tenant-chosen names.", nil,
		"A custom control or terms of use (named by the tenant), or a control Microsoft added.",
		"Nothing for your own custom controls and terms of use; for anything else, find the string in the exporter's \"unclassified string\" log line and report it."},
}

var (
	requirementSourceIndex = indexEntries(requirementSources)
	policyResultIndex      = indexEntries(policyResults)
	grantControlIndex      = indexEntries(grantControls)
)

// RequirementSource normalises one requirementProvider value. known is false
// for values outside the catalogue, which get "other"; an empty value is
// "none" (the row names no provider).
func RequirementSource(s string) (label string, known bool) {
	if strings.TrimSpace(s) == "" {
		return LabelNone, true
	}
	if i := requirementSourceMemo.get(s, func(s string) methodInfo {
		l, ok := requirementSourceIndex[methodKey(s)]
		return methodInfo{label: l, known: ok}
	}); i.known {
		return i.label, true
	}
	return LabelOther, false
}

// Memos of the normalised coverage strings (cache.go): methodKey allocates, rows repeat them.
var requirementSourceMemo, policyResultMemo, grantControlMemo memo[methodInfo]

// PolicyResult normalises one appliedConditionalAccessPolicies[].result
// value; empty is "unknown", values outside the catalogue are "other" with
// known false.
func PolicyResult(s string) (label string, known bool) {
	if i := policyResultMemo.get(s, func(s string) methodInfo {
		l, ok := policyResultIndex[methodKey(s)]
		return methodInfo{label: l, known: ok}
	}); i.known {
		return i.label, true
	}
	return LabelOther, false
}

// GrantControl normalises one enforcedGrantControls value. Sign-in rows write
// an authentication strength as "RequireAuthenticationStrength:<name>"; the
// name is the tenant's and is dropped. Empty values are "none".
func GrantControl(s string) (label string, known bool) {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	if strings.TrimSpace(s) == "" {
		return LabelNone, true
	}
	if i := grantControlMemo.get(s, func(s string) methodInfo {
		l, ok := grantControlIndex[methodKey(s)]
		return methodInfo{label: l, known: ok}
	}); i.known {
		return i.label, true
	}
	return LabelOther, false
}

// RequirementSources lists the requirement source labels.
func RequirementSources() []Entry { return cloneEntries(requirementSources) }

// PolicyResults lists the Conditional Access policy result labels.
func PolicyResults() []Entry { return cloneEntries(policyResults) }

// GrantControls lists the grant control labels.
func GrantControls() []Entry { return cloneEntries(grantControls) }

// AppliedPolicy is one entry of Graph's appliedConditionalAccessPolicies[].
type AppliedPolicy struct {
	ID            string   // id: the policy's object id
	Result        string   // result, e.g. "reportOnlyFailure"
	GrantControls []string // enforcedGrantControls, e.g. ["Mfa"]
}

// PolicyEvaluation is one AppliedPolicy with its result and grant controls
// normalised. ID is passed through unchanged: bounding the number of policies
// is the caller's business.
type PolicyEvaluation struct {
	ID            string
	Result        string   // a PolicyResults label
	GrantControls []string // GrantControls labels, deduplicated in catalogue order; ["none"] when empty
}

// Coverage is the normalised coverage of one sign-in row.
type Coverage struct {
	// Sources are the requirement source labels of the row, each once (a row
	// listing a provider twice counts once under it), in catalogue order;
	// ["none"] when the row lists no provider.
	Sources []string
	// Policies holds one evaluation per applied policy, in the row's order.
	Policies []PolicyEvaluation
	// Unknown lists the strings that fell to "other", with Field one of
	// FieldRequirementProvider, FieldPolicyResult and FieldGrantControl.
	Unknown []Unknown
}

// ClassifyCoverage normalises the row's requirement providers and applied
// Conditional Access policies. Like Classify it never fails and does no I/O.
func ClassifyCoverage(in SignIn) Coverage {
	var cov Coverage
	report := func(field, value string) {
		for _, u := range cov.Unknown {
			if u.Field == field && u.Value == value {
				return
			}
		}
		cov.Unknown = append(cov.Unknown, Unknown{Field: field, Value: value})
	}
	cov.Sources = labelSet(requirementSources, &requirementSourceSets, in.RequirementProviders, FieldRequirementProvider, RequirementSource, report)
	if len(in.Policies) > 0 {
		cov.Policies = make([]PolicyEvaluation, len(in.Policies))
		for i, p := range in.Policies {
			r, known := PolicyResult(p.Result)
			if !known {
				report(FieldPolicyResult, p.Result)
			}
			cov.Policies[i] = PolicyEvaluation{ID: p.ID, Result: r,
				GrantControls: labelSet(grantControls, &grantControlSets, p.GrantControls, FieldGrantControl, GrantControl, report)}
		}
	}
	return cov
}

// labelSet normalises values to the distinct labels they map to, in catalogue
// order (so the result does not depend on the order Graph lists them), and
// reports the values that fell to "other". Values that map to "none" (empty
// strings) add nothing; an empty result is ["none"].
//
// Every row calls it: the result is one of few sets, memoised per catalogue by
// the set of catalogue entries it holds, and shared (callers must not modify it).
func labelSet(cat []Entry, sets *labelSetMemo, values []string, field string, norm func(string) (string, bool), report func(field, value string)) []string {
	var mask uint64
	some := false
	for _, v := range values {
		l, known := norm(v)
		if !known {
			report(field, v)
		}
		if l == LabelNone {
			continue
		}
		some = true
		for i, e := range cat {
			if e.Label == l {
				mask |= 1 << i
			}
		}
	}
	if !some {
		return noneLabels[:1:1]
	}
	return sets.get(cat, mask)
}

var noneLabels = []string{LabelNone}

// labelSetMemo holds a catalogue's label sets by the bit mask of the entries they hold.
type labelSetMemo struct {
	mu sync.RWMutex
	m  map[uint64][]string
}

var requirementSourceSets, grantControlSets labelSetMemo

func init() {
	// The masks have a bit per entry.
	if len(requirementSources) > 64 || len(grantControls) > 64 {
		panic("mfa: a coverage catalogue outgrew labelSet's 64-bit mask")
	}
}

func (c *labelSetMemo) get(cat []Entry, mask uint64) []string {
	c.mu.RLock()
	out, ok := c.m[mask]
	c.mu.RUnlock()
	if ok {
		return out[:len(out):len(out)]
	}
	out = make([]string, 0, bits.OnesCount64(mask))
	for i, e := range cat {
		if mask&(1<<i) != 0 {
			out = append(out, e.Label)
		}
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= memoEntries {
		c.m = map[uint64][]string{} // rows list few combinations; a flood of others starts over
	}
	c.m[mask] = out
	c.mu.Unlock()
	return out[:len(out):len(out)]
}
