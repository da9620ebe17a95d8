package graph

import "time"

// SignIn is the lean subset of a beta signIn row that the exporter reads. Rows arrive whole
// ($select is refused on sign-ins), so decoding only these fields rather than the full model is
// what keeps a 5-15 MB page cheap. The JSON tags name the wire fields; the page decoder
// (decode.go) reads exactly these and is tested against encoding/json decoding into this struct.
//
// Every string is bounded in length (see the limits in decode.go): identifiers longer than any
// Graph identifier make the row malformed, other strings are cut at a limit far above real values.
//
// Memory: strings never point into the response body. ID and UserID have allocations of their own
// (callers keep them for deduplication and user windows); CorrelationID, UserPrincipalName and
// IPAddress share one small allocation per row; other strings are shared between the rows of a
// read. The slices of one page's rows are cut from shared arrays, so a caller that keeps a slice
// after the page keeps the page's arrays with it: copy what you keep.
type SignIn struct {
	ID                                string                            `json:"id"`
	CreatedDateTime                   time.Time                         `json:"createdDateTime"`
	CorrelationID                     string                            `json:"correlationId"`
	UserID                            string                            `json:"userId"`
	UserPrincipalName                 string                            `json:"userPrincipalName"`
	UserType                          string                            `json:"userType"`
	AppID                             string                            `json:"appId"`
	AppDisplayName                    string                            `json:"appDisplayName"`
	IPAddress                         string                            `json:"ipAddress"`
	Location                          Location                          `json:"location"`
	ClientAppUsed                     string                            `json:"clientAppUsed"`
	IsInteractive                     bool                              `json:"isInteractive"`
	ConditionalAccessStatus           string                            `json:"conditionalAccessStatus"`
	TokenIssuerType                   string                            `json:"tokenIssuerType"`
	ResourceID                        string                            `json:"resourceId"`
	SignInEventTypes                  []string                          `json:"signInEventTypes"`
	Status                            Status                            `json:"status"`
	AuthenticationRequirement         string                            `json:"authenticationRequirement"`
	AuthenticationRequirementPolicies []AuthenticationRequirementPolicy `json:"authenticationRequirementPolicies"`
	AuthenticationDetails             []AuthenticationDetail            `json:"authenticationDetails"`
	AppliedConditionalAccessPolicies  []AppliedConditionalAccessPolicy  `json:"appliedConditionalAccessPolicies"`
}

// Status is a sign-in's outcome; ErrorCode 0 means success.
type Status struct {
	ErrorCode         int    `json:"errorCode"`
	FailureReason     string `json:"failureReason"`
	AdditionalDetails string `json:"additionalDetails"`
}

// Location is where the sign-in came from; only the country is kept (two-letter code).
type Location struct {
	CountryOrRegion string `json:"countryOrRegion"`
}

// AuthenticationDetail is one authentication step of a sign-in.
type AuthenticationDetail struct {
	AuthenticationMethod           string    `json:"authenticationMethod"`
	AuthenticationMethodDetail     string    `json:"authenticationMethodDetail"`
	AuthenticationStepRequirement  string    `json:"authenticationStepRequirement"`
	AuthenticationStepResultDetail string    `json:"authenticationStepResultDetail"`
	AuthenticationStepDateTime     time.Time `json:"authenticationStepDateTime"`
	Succeeded                      bool      `json:"succeeded"`
}

// AuthenticationRequirementPolicy says why the sign-in required what it required: requirement
// providers such as "user" (legacy per-user MFA), "multiConditionalAccess", "securityDefaults".
type AuthenticationRequirementPolicy struct {
	RequirementProvider string `json:"requirementProvider"`
	Detail              string `json:"detail"`
}

// AppliedConditionalAccessPolicy is one Conditional Access policy's evaluation for the sign-in.
// Result is an open enum: success, failure, notApplied, notEnabled, reportOnlySuccess,
// reportOnlyFailure, reportOnlyInterrupted, reportOnlyNotApplied, ...
type AppliedConditionalAccessPolicy struct {
	ID                      string   `json:"id"`
	DisplayName             string   `json:"displayName"`
	Result                  string   `json:"result"`
	EnforcedGrantControls   []string `json:"enforcedGrantControls"`
	EnforcedSessionControls []string `json:"enforcedSessionControls"`
}
