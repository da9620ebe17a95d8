// Package mfa classifies one Microsoft Entra ID sign-in row (beta
// auditLogs/signIns) into bounded labels, and owns the catalogue of label
// values, the wire strings that map to them and their descriptions. It does
// no I/O and no logging: strings it does not recognise come back in
// Classification.Unknown for the caller to count or log.
//
// # Result
//
// The sign-in's own result comes from status.errorCode through the error-code
// catalogue (ErrorCodes): 0 is success; the expected interrupts 50074, 50076,
// 50078, 50079, 50072, 50140, 50097, 50125 and 50199 are interrupted (never a
// failure); every other code, catalogued or not, is failure. Codes outside the
// catalogue get the error_code label "other".
//
// # Outcome (what happened to MFA in this row)
//
//   - 50074, 50076 (MFA prompt coming), 50078 (expired MFA must be renewed),
//     50079, 50072 (must register): interrupted. The row is not an attempt.
//   - 0, and 50140 (keep-me-signed-in, which comes after authentication
//     finished): satisfied when an MFA step is present, or a step detail or
//     additionalDetails names a satisfied reason or mentions MFA, or the
//     requirement was multi-factor; otherwise not_required. A 50140 row after
//     an MFA prompt is therefore satisfied by the method used, and the 0 row
//     that follows it is usually satisfied by claim in the token: two
//     attempts, told apart by result code (SUCCESS_USED_CACHE for the second).
//   - 500121, 50158, 50088, 50086, 50087: denied. The reason comes from the
//     text, else from the code (50088, 50086, 50087: service_error; 50158:
//     invalid_authentication), else "other". 50158 without an MFA step has
//     method "external".
//   - Any other code (50126, 50053, 50057, 53003, ...) and the interrupts
//     unrelated to MFA (50097, 50125, 50199): not_attempted, unless the steps
//     show a succeeded MFA step (satisfied: MFA passed, then e.g. Conditional
//     Access blocked) or a failed MFA step with a denied reason (denied).
//
// An MFA attempt is a row whose outcome is satisfied or denied (IsAttempt).
// One interactive MFA usually writes a 50074 row (not an attempt) and then a
// 0 row (satisfied) or a 500121 row (denied).
//
// # Steps, method and reason
//
// A step is an MFA step when its method is an MFA method. Password and other
// first-factor methods (CloudOnlyPassword included) are not; neither are
// "Previously satisfied" or unknown methods whose detail is a first-factor
// string ("First factor requirement satisfied by claim in the token") or whose
// requirement says primary, in any case. A known MFA method stays an MFA step
// whatever its requirement says (real rows list push steps under "Primary
// authentication"). Steps without a method are never MFA steps, but their
// detail counts as MFA evidence and, when no MFA step decides, as the reason
// text: real non-interactive rows carry such a step, succeeded false, with
// "MFA requirement satisfied by claim in the token". The
// deciding step is the last succeeded MFA step for a satisfied row (the last
// failed one for a denied row), else the last MFA step; its method is the
// row's method, "none" when there is none. Passwordless methods (FIDO2,
// Windows Hello, passkey, Authenticator passwordless, certificate, Temporary
// Access Pass) satisfy MFA in one step.
//
// The reason is read from the deciding step's authenticationStepResultDetail
// (without a deciding step, from the other steps' details, last first), then
// from status.additionalDetails, against the satisfied or the denied table.
// A failed step's "Authentication in progress" on a row that succeeded is a
// snapshot taken before the prompt was answered: it is not a satisfied reason,
// so additionalDetails ("MFA completed in Azure AD") gives the reason. Neutral
// details ("methodSucceeded") are neither reasons nor unknown. Matching ignores case, punctuation, apostrophe style, contractions,
// the "MFA denied;"/"MFA requirement" prefixes and the Azure AD / Microsoft
// Entra ID rename, and takes the longest catalogue fragment the text
// contains. A satisfied row with no reason text at all gets claim_in_token
// for "Previously satisfied" and strong_authentication for passwordless
// methods; otherwise an unmatched text gives "other" and is reported.
//
// # Result code
//
// Satisfied and denied rows get a result code of Microsoft's table (the MFA
// Server activity report's codes, listed on Microsoft's page "Use the
// sign-ins report to review Microsoft Entra multifactor authentication
// events") from the ordered rules of ResultCodeMapping (method, outcome,
// reason and, for 50088 and 50158, error code), each with its rationale; every
// outcome has a fallback rule. Other outcomes get "none", and so does a 50158
// denial by an external provider: every code of the table describes an
// exchange Microsoft's service ran, none a third party's challenge.
//
// # Component
//
// nps_extension when tokenIssuerType is NPSExtension or resourceId is
// "radius"; adfs_adapter for ADFederationServicesMFAAdapter or "adfs";
// cloud otherwise. Issuer types other than AzureAD, ADFederationServices,
// unknownFutureValue and empty are reported as unknown.
//
// # Coverage
//
// ClassifyCoverage, separate from Classify, normalises why MFA was required:
// authenticationRequirementPolicies[].requirementProvider into requirement
// sources (each once per row, "none" when the row lists none) and
// appliedConditionalAccessPolicies[] into one evaluation per policy (result
// and grant controls). Unknown strings are "other" and reported the same way.
//
// # Explain
//
// Every label value of every catalogue carries a meaning, a typical cause and
// what to do (Entry). Explain and ExplainAll find entries by label or wire
// string; ClosestTerms suggests near matches for an unknown term.
package mfa
