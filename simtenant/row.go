package simtenant

import (
	"time"
)

// Row is one sign-in as the simulator stores it, shaped like a Graph beta
// signIn. Every field Graph returns is present (with null or empty values
// where Graph writes them) so that clients decode rows of realistic size and
// shape. VisibleAt is not serialised: it is when the row becomes queryable.
type Row struct {
	ID                                   string                  `json:"id"`
	CreatedDateTime                      time.Time               `json:"createdDateTime"`
	UserDisplayName                      string                  `json:"userDisplayName"`
	UserPrincipalName                    string                  `json:"userPrincipalName"`
	UserID                               string                  `json:"userId"`
	UserType                             string                  `json:"userType"`
	AppID                                string                  `json:"appId"`
	AppDisplayName                       string                  `json:"appDisplayName"`
	AppOwnerTenantID                     string                  `json:"appOwnerTenantId"`
	AppTokenProtectionStatus             string                  `json:"appTokenProtectionStatus"`
	IPAddress                            string                  `json:"ipAddress"`
	IPAddressFromResourceProvider        *string                 `json:"ipAddressFromResourceProvider"`
	ClientAppUsed                        string                  `json:"clientAppUsed"`
	ClientCredentialType                 string                  `json:"clientCredentialType"`
	CorrelationID                        string                  `json:"correlationId"`
	ConditionalAccessStatus              string                  `json:"conditionalAccessStatus"`
	ConditionalAccessAudiences           []string                `json:"conditionalAccessAudiences"`
	OriginalRequestID                    string                  `json:"originalRequestId"`
	OriginalTransferMethod               string                  `json:"originalTransferMethod"`
	IsInteractive                        bool                    `json:"isInteractive"`
	IsTenantRestricted                   bool                    `json:"isTenantRestricted"`
	IsThroughGlobalSecureAccess          bool                    `json:"isThroughGlobalSecureAccess"`
	GlobalSecureAccessIPAddress          *string                 `json:"globalSecureAccessIpAddress"`
	AutonomousSystemNumber               int                     `json:"autonomousSystemNumber"`
	AuthenticationProtocol               string                  `json:"authenticationProtocol"`
	IncomingTokenType                    string                  `json:"incomingTokenType"`
	TokenIssuerName                      string                  `json:"tokenIssuerName"`
	TokenIssuerType                      string                  `json:"tokenIssuerType"`
	ProcessingTimeInMilliseconds         int                     `json:"processingTimeInMilliseconds"`
	RiskDetail                           string                  `json:"riskDetail"`
	RiskLevelAggregated                  string                  `json:"riskLevelAggregated"`
	RiskLevelDuringSignIn                string                  `json:"riskLevelDuringSignIn"`
	RiskState                            string                  `json:"riskState"`
	RiskEventTypes                       []string                `json:"riskEventTypes"`
	RiskEventTypesV2                     []string                `json:"riskEventTypes_v2"`
	ResourceDisplayName                  string                  `json:"resourceDisplayName"`
	ResourceID                           string                  `json:"resourceId"`
	ResourceTenantID                     string                  `json:"resourceTenantId"`
	ResourceOwnerTenantID                string                  `json:"resourceOwnerTenantId"`
	HomeTenantID                         string                  `json:"homeTenantId"`
	HomeTenantName                       string                  `json:"homeTenantName"`
	CrossTenantAccessType                string                  `json:"crossTenantAccessType"`
	ServicePrincipalName                 *string                 `json:"servicePrincipalName"`
	ServicePrincipalID                   string                  `json:"servicePrincipalId"`
	ServicePrincipalCredentialKeyID      string                  `json:"servicePrincipalCredentialKeyId"`
	ServicePrincipalCredentialThumbprint string                  `json:"servicePrincipalCredentialThumbprint"`
	FederatedCredentialID                *string                 `json:"federatedCredentialId"`
	UniqueTokenIdentifier                string                  `json:"uniqueTokenIdentifier"`
	SessionID                            string                  `json:"sessionId"`
	SignInEventTypes                     []string                `json:"signInEventTypes"`
	SignInIdentifier                     string                  `json:"signInIdentifier"`
	SignInIdentifierType                 *string                 `json:"signInIdentifierType"`
	SignInTokenProtectionStatus          string                  `json:"signInTokenProtectionStatus"`
	AzureResourceID                      string                  `json:"azureResourceId"`
	FlaggedForReview                     bool                    `json:"flaggedForReview"`
	UserAgent                            string                  `json:"userAgent"`
	AuthenticationRequirement            string                  `json:"authenticationRequirement"`
	AuthenticationRequirementPolicies    []RequirementPolicy     `json:"authenticationRequirementPolicies"`
	AuthenticationMethodsUsed            []string                `json:"authenticationMethodsUsed"`
	AuthenticationContextClassReferences []ContextClassReference `json:"authenticationContextClassReferences"`
	AuthenticationAppDeviceDetails       *AppDeviceDetails       `json:"authenticationAppDeviceDetails"`
	AuthenticationAppPolicyEvalDetails   []AppPolicyEvaluation   `json:"authenticationAppPolicyEvaluationDetails"`
	Status                               Status                  `json:"status"`
	DeviceDetail                         DeviceDetail            `json:"deviceDetail"`
	Location                             Location                `json:"location"`
	AppliedConditionalAccessPolicies     []CAPolicy              `json:"appliedConditionalAccessPolicies"`
	AppliedEventListeners                []EventListener         `json:"appliedEventListeners"`
	AuthenticationDetails                []AuthStep              `json:"authenticationDetails"`
	AuthenticationProcessingDetails      []KeyValue              `json:"authenticationProcessingDetails"`
	NetworkLocationDetails               []NetworkLocation       `json:"networkLocationDetails"`
	SessionLifetimePolicies              []SessionLifetimePolicy `json:"sessionLifetimePolicies"`
	TokenProtectionStatusDetails         TokenProtectionStatus   `json:"tokenProtectionStatusDetails"`
	PrivateLinkDetails                   PrivateLinkDetails      `json:"privateLinkDetails"`
	ManagedServiceIdentity               ManagedServiceIdentity  `json:"managedServiceIdentity"`
	MfaDetail                            *MfaDetail              `json:"mfaDetail"`
	SourceAppClientID                    *string                 `json:"sourceAppClientId"`

	// VisibleAt is when the row starts to be returned by queries (Graph's
	// ingestion delay). The zero value means visible at once.
	VisibleAt time.Time `json:"-"`
}

// Status is signIn.status.
type Status struct {
	ErrorCode         int    `json:"errorCode"`
	FailureReason     string `json:"failureReason"`
	AdditionalDetails string `json:"additionalDetails"`
}

// AuthStep is one entry of authenticationDetails.
type AuthStep struct {
	AuthenticationStepDateTime     time.Time `json:"authenticationStepDateTime"`
	AuthenticationMethod           string    `json:"authenticationMethod"`
	AuthenticationMethodDetail     string    `json:"authenticationMethodDetail"`
	Succeeded                      bool      `json:"succeeded"`
	AuthenticationStepResultDetail string    `json:"authenticationStepResultDetail"`
	AuthenticationStepRequirement  string    `json:"authenticationStepRequirement"`
	StatusSequence                 int       `json:"statusSequence"`
	RequestSequence                int       `json:"RequestSequence"`
}

// RequirementPolicy is one entry of authenticationRequirementPolicies.
type RequirementPolicy struct {
	RequirementProvider string `json:"requirementProvider"`
	Detail              string `json:"detail"`
}

// ContextClassReference is one entry of authenticationContextClassReferences.
type ContextClassReference struct {
	ID     string `json:"id"`
	Detail string `json:"detail"`
}

// AppDeviceDetails is authenticationAppDeviceDetails (Authenticator app info).
type AppDeviceDetails struct {
	AppVersion      string `json:"appVersion"`
	ClientApp       string `json:"clientApp"`
	DeviceID        string `json:"deviceId"`
	OperatingSystem string `json:"operatingSystem"`
}

// AppPolicyEvaluation is one entry of authenticationAppPolicyEvaluationDetails.
type AppPolicyEvaluation struct {
	AdminConfiguration string `json:"adminConfiguration"`
	AuthenticationEval string `json:"authenticationEvaluation"`
	PolicyName         string `json:"policyName"`
	Status             string `json:"status"`
}

// DeviceDetail is signIn.deviceDetail.
type DeviceDetail struct {
	DeviceID        string `json:"deviceId"`
	DisplayName     string `json:"displayName"`
	OperatingSystem string `json:"operatingSystem"`
	Browser         string `json:"browser"`
	IsCompliant     bool   `json:"isCompliant"`
	IsManaged       bool   `json:"isManaged"`
	TrustType       string `json:"trustType"`
}

// Location is signIn.location.
type Location struct {
	City            string         `json:"city"`
	State           string         `json:"state"`
	CountryOrRegion string         `json:"countryOrRegion"`
	GeoCoordinates  GeoCoordinates `json:"geoCoordinates"`
}

// GeoCoordinates is signIn.location.geoCoordinates.
type GeoCoordinates struct {
	Altitude  *float64 `json:"altitude"`
	Latitude  float64  `json:"latitude"`
	Longitude float64  `json:"longitude"`
}

// CAPolicy is one entry of appliedConditionalAccessPolicies (beta shape).
type CAPolicy struct {
	ID                          string                        `json:"id"`
	DisplayName                 string                        `json:"displayName"`
	EnforcedGrantControls       []string                      `json:"enforcedGrantControls"`
	EnforcedSessionControls     []string                      `json:"enforcedSessionControls"`
	Result                      string                        `json:"result"`
	ConditionsSatisfied         string                        `json:"conditionsSatisfied"`
	ConditionsNotSatisfied      string                        `json:"conditionsNotSatisfied"`
	IncludeRulesSatisfied       []RuleSatisfied               `json:"includeRulesSatisfied"`
	ExcludeRulesSatisfied       []RuleSatisfied               `json:"excludeRulesSatisfied"`
	SessionControlsNotSatisfied []string                      `json:"sessionControlsNotSatisfied"`
	AuthenticationStrength      *AuthenticationStrengthResult `json:"authenticationStrength"`
}

// RuleSatisfied is a conditional access rule match.
type RuleSatisfied struct {
	ConditionalAccessCondition string `json:"conditionalAccessCondition"`
	RuleSatisfied              string `json:"ruleSatisfied"`
}

// AuthenticationStrengthResult is a CA policy's authentication strength result.
type AuthenticationStrengthResult struct {
	AuthenticationStrengthID     string `json:"authenticationStrengthId"`
	DisplayName                  string `json:"displayName"`
	AuthenticationStrengthResult string `json:"authenticationStrengthResult"`
}

// EventListener is one entry of appliedEventListeners.
type EventListener struct {
	ID          string `json:"id"`
	HandlerName string `json:"handlerName"`
	HandlerRes  string `json:"handlerResult"`
}

// KeyValue is one entry of authenticationProcessingDetails.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// NetworkLocation is one entry of networkLocationDetails.
type NetworkLocation struct {
	NetworkType  string   `json:"networkType"`
	NetworkNames []string `json:"networkNames"`
}

// SessionLifetimePolicy is one entry of sessionLifetimePolicies.
type SessionLifetimePolicy struct {
	ExpirationRequirement string `json:"expirationRequirement"`
	Detail                string `json:"detail"`
}

// TokenProtectionStatus is tokenProtectionStatusDetails.
type TokenProtectionStatus struct {
	SignInSessionStatus     string `json:"signInSessionStatus"`
	SignInSessionStatusCode int    `json:"signInSessionStatusCode"`
}

// PrivateLinkDetails is privateLinkDetails.
type PrivateLinkDetails struct {
	PolicyID       string `json:"policyId"`
	PolicyName     string `json:"policyName"`
	PolicyTenantID string `json:"policyTenantId"`
	ResourceID     string `json:"resourceId"`
}

// ManagedServiceIdentity is managedServiceIdentity.
type ManagedServiceIdentity struct {
	MsiType              string  `json:"msiType"`
	AssociatedResourceID *string `json:"associatedResourceId"`
	FederatedTokenID     *string `json:"federatedTokenId"`
	FederatedTokenIssuer *string `json:"federatedTokenIssuer"`
}

// MfaDetail is the deprecated mfaDetail; Graph sends null and so does the
// simulator, but the type exists so a caller can build the old shape.
type MfaDetail struct {
	AuthMethod string `json:"authMethod"`
	AuthDetail string `json:"authDetail"`
}

// normalize replaces nil slices by empty ones, because Graph writes [] for
// empty collections and a client might treat null differently.
func (r *Row) normalize() {
	if r.ConditionalAccessAudiences == nil {
		r.ConditionalAccessAudiences = []string{}
	}
	if r.RiskEventTypes == nil {
		r.RiskEventTypes = []string{}
	}
	if r.RiskEventTypesV2 == nil {
		r.RiskEventTypesV2 = []string{}
	}
	if r.SignInEventTypes == nil {
		if r.IsInteractive {
			r.SignInEventTypes = []string{EventInteractive}
		} else {
			r.SignInEventTypes = []string{EventNonInteractive}
		}
	}
	if r.AuthenticationRequirementPolicies == nil {
		r.AuthenticationRequirementPolicies = []RequirementPolicy{}
	}
	if r.AuthenticationMethodsUsed == nil {
		r.AuthenticationMethodsUsed = []string{}
	}
	if r.AuthenticationContextClassReferences == nil {
		r.AuthenticationContextClassReferences = []ContextClassReference{}
	}
	if r.AuthenticationAppPolicyEvalDetails == nil {
		r.AuthenticationAppPolicyEvalDetails = []AppPolicyEvaluation{}
	}
	if r.AppliedConditionalAccessPolicies == nil {
		r.AppliedConditionalAccessPolicies = []CAPolicy{}
	}
	if r.AppliedEventListeners == nil {
		r.AppliedEventListeners = []EventListener{}
	}
	if r.AuthenticationDetails == nil {
		r.AuthenticationDetails = []AuthStep{}
	}
	if r.AuthenticationProcessingDetails == nil {
		r.AuthenticationProcessingDetails = []KeyValue{}
	}
	if r.NetworkLocationDetails == nil {
		r.NetworkLocationDetails = []NetworkLocation{}
	}
	if r.SessionLifetimePolicies == nil {
		r.SessionLifetimePolicies = []SessionLifetimePolicy{}
	}
}
