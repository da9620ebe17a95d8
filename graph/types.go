package graph

import "time"

// SignIn is the lean subset of a beta signIn row that the exporter reads. Rows arrive whole
// ($select is refused on sign-ins), so decoding into this small struct rather than the full model
// is what keeps a 5-15 MB page cheap.
type SignIn struct {
	ID                        string                 `json:"id"`
	CreatedDateTime           time.Time              `json:"createdDateTime"`
	CorrelationID             string                 `json:"correlationId"`
	UserID                    string                 `json:"userId"`
	AppID                     string                 `json:"appId"`
	AppDisplayName            string                 `json:"appDisplayName"`
	ClientAppUsed             string                 `json:"clientAppUsed"`
	IsInteractive             bool                   `json:"isInteractive"`
	UserType                  string                 `json:"userType"`
	ConditionalAccessStatus   string                 `json:"conditionalAccessStatus"`
	TokenIssuerType           string                 `json:"tokenIssuerType"`
	ResourceID                string                 `json:"resourceId"`
	SignInEventTypes          []string               `json:"signInEventTypes"`
	Status                    Status                 `json:"status"`
	AuthenticationRequirement string                 `json:"authenticationRequirement"`
	AuthenticationDetails     []AuthenticationDetail `json:"authenticationDetails"`
}

// Status is a sign-in's outcome; ErrorCode 0 means success.
type Status struct {
	ErrorCode         int    `json:"errorCode"`
	FailureReason     string `json:"failureReason"`
	AdditionalDetails string `json:"additionalDetails"`
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
