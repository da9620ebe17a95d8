package simtenant

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// This file fills the bulky, MFA-irrelevant parts of a row so that rows have
// the size and shape of real beta sign-ins (5-15 KB, most of it conditional
// access policies). None of it affects what a row means for MFA.

type caTemplate struct {
	id, name       string
	grant, session []string
	include        []RuleSatisfied
	exclude        []RuleSatisfied
	strength       bool
}

// caCatalogue is the tenant's conditional access policy set. Its ids come
// from a fixed stream so every run and every tenant shows the same policies.
var caCatalogue = func() []caTemplate {
	names := []struct {
		name    string
		grant   []string
		session []string
	}{
		{"CA001 - Require MFA for administrators", []string{"Mfa"}, nil},
		{"CA002 - Block legacy authentication", []string{"Block"}, nil},
		{"CA003 - Require MFA for all users", []string{"Mfa"}, nil},
		{"CA004 - Require compliant device for Office 365", []string{"RequireCompliantDevice"}, nil},
		{"CA005 - Block access from unsupported countries", []string{"Block"}, nil},
		{"CA006 - Require MFA for Azure management", []string{"Mfa"}, nil},
		{"CA007 - Require password change for high user risk", []string{"Mfa", "PasswordChange"}, nil},
		{"CA008 - Require MFA for medium and high sign-in risk", []string{"Mfa"}, []string{"SignInFrequency"}},
		{"CA009 - Sign-in frequency 12 hours on unmanaged devices", nil, []string{"SignInFrequency", "PersistentBrowserSessionMode"}},
		{"CA010 - Require approved client app on mobile", []string{"RequireApprovedApp", "RequireCompliantApp"}, nil},
		{"CA011 - Guest users require MFA", []string{"Mfa"}, nil},
		{"CA012 - Block device code flow", []string{"Block"}, nil},
		{"CA013 - Require phishing-resistant MFA for admins", []string{"AuthenticationStrength"}, nil},
		{"CA014 - Terms of use for guests", []string{"TermsOfUse"}, nil},
		{"CA015 - App enforced restrictions for SharePoint", nil, []string{"ApplicationEnforcedRestrictions"}},
		{"CA016 - Require MFA to register security info", []string{"Mfa"}, nil},
		{"CA017 - Block service accounts from untrusted locations", []string{"Block"}, nil},
		{"CA018 - Require hybrid joined device for finance apps", []string{"RequireDomainJoinedDevice"}, nil},
		{"CA019 - No persistent browser on unmanaged devices", nil, []string{"PersistentBrowserSessionMode"}},
		{"CA020 - Require MFA for Intune enrollment", []string{"Mfa"}, []string{"SignInFrequency"}},
		{"CA021 - Token protection for Exchange Online", nil, []string{"SecureSignInSession"}},
		{"CA022 - Block authentication transfer", []string{"Block"}, nil},
		{"CA023 - Authentication strength for temporary access pass", []string{"AuthenticationStrength"}, nil},
		{"CA024 - Report-only require compliant device for all apps", []string{"RequireCompliantDevice", "Mfa"}, []string{"CloudAppSecurity"}},
	}
	rng := rand.New(rand.NewPCG(0x5ca1ab1e, 0xca))
	out := make([]caTemplate, len(names))
	for i, n := range names {
		out[i] = caTemplate{
			id:      guid(rng),
			name:    n.name,
			grant:   n.grant,
			session: n.session,
			include: []RuleSatisfied{
				{ConditionalAccessCondition: "application", RuleSatisfied: "allApps"},
				{ConditionalAccessCondition: "users", RuleSatisfied: "allUsers"},
			},
			exclude:  []RuleSatisfied{{ConditionalAccessCondition: "users", RuleSatisfied: "excludedGroups"}},
			strength: n.grant != nil && n.grant[0] == "AuthenticationStrength",
		}
		if i%3 == 0 {
			out[i].include = append(out[i].include, RuleSatisfied{ConditionalAccessCondition: "clientType", RuleSatisfied: "browser"})
		}
	}
	return out
}()

var caResults = []string{"notApplied", "notApplied", "notApplied", "success", "success", "reportOnlyNotApplied", "reportOnlySuccess", "notEnabled"}

var places = []Location{
	{City: "Paris", State: "Paris", CountryOrRegion: "FR", GeoCoordinates: GeoCoordinates{Latitude: 48.85341, Longitude: 2.3488}},
	{City: "Lyon", State: "Auvergne-Rhone-Alpes", CountryOrRegion: "FR", GeoCoordinates: GeoCoordinates{Latitude: 45.74846, Longitude: 4.84671}},
	{City: "London", State: "England", CountryOrRegion: "GB", GeoCoordinates: GeoCoordinates{Latitude: 51.50853, Longitude: -0.12574}},
	{City: "Seattle", State: "Washington", CountryOrRegion: "US", GeoCoordinates: GeoCoordinates{Latitude: 47.60621, Longitude: -122.33207}},
	{City: "Berlin", State: "Land Berlin", CountryOrRegion: "DE", GeoCoordinates: GeoCoordinates{Latitude: 52.52437, Longitude: 13.41053}},
	{City: "Amsterdam", State: "Noord-Holland", CountryOrRegion: "NL", GeoCoordinates: GeoCoordinates{Latitude: 52.37403, Longitude: 4.88969}},
	{City: "Montreal", State: "Quebec", CountryOrRegion: "CA", GeoCoordinates: GeoCoordinates{Latitude: 45.50884, Longitude: -73.58781}},
	{City: "Singapore", State: "Singapore", CountryOrRegion: "SG", GeoCoordinates: GeoCoordinates{Latitude: 1.28967, Longitude: 103.85007}},
}

var devices = []struct {
	os, browser, trust string
	managed            bool
}{
	{"Windows 10", "Edge 124.0.2478", "Azure AD joined", true},
	{"Windows10", "Chrome 125.0.6422", "Hybrid Azure AD joined", true},
	{"MacOs", "Safari 17.4", "Azure AD registered", false},
	{"Ios 17.5.1", "Mobile Safari 17.5", "", false},
	{"Android 14", "Chrome Mobile 125.0", "", false},
	{"Windows 11", "Rich Client 5.2.2", "Azure AD joined", true},
}

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Teams/6.9.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36",
	"Windows-AzureAD-Authentication-Provider/1.0",
}

// decorate fills the bulky fields of r. Fields already set are kept.
func decorate(r *Row, rng *rand.Rand) {
	if r.DeviceDetail == (DeviceDetail{}) {
		d := devices[rng.IntN(len(devices))]
		r.DeviceDetail = DeviceDetail{OperatingSystem: d.os, Browser: d.browser, TrustType: d.trust, IsManaged: d.managed, IsCompliant: d.managed && rng.IntN(4) > 0}
		if d.trust != "" {
			r.DeviceDetail.DeviceID = guid(rng)
			r.DeviceDetail.DisplayName = fmt.Sprintf("CONTOSO-%05d", rng.IntN(100000))
		}
	}
	if r.Location == (Location{}) {
		loc := places[rng.IntN(len(places))]
		// Graph writes five decimals.
		loc.GeoCoordinates.Latitude = math.Round((loc.GeoCoordinates.Latitude+(rng.Float64()-0.5)/10)*1e5) / 1e5
		loc.GeoCoordinates.Longitude = math.Round((loc.GeoCoordinates.Longitude+(rng.Float64()-0.5)/10)*1e5) / 1e5
		r.Location = loc
	}
	if r.UserAgent == "" {
		r.UserAgent = userAgents[rng.IntN(len(userAgents))]
	}
	if len(r.AppliedConditionalAccessPolicies) == 0 {
		n := 8 + rng.IntN(8)
		perm := rng.Perm(len(caCatalogue))[:n]
		for _, i := range perm {
			tpl := caCatalogue[i]
			p := CAPolicy{
				ID:                          tpl.id,
				DisplayName:                 tpl.name,
				EnforcedGrantControls:       nonNil(tpl.grant),
				EnforcedSessionControls:     nonNil(tpl.session),
				Result:                      caResults[rng.IntN(len(caResults))],
				ConditionsSatisfied:         "none",
				ConditionsNotSatisfied:      "none",
				IncludeRulesSatisfied:       []RuleSatisfied{},
				ExcludeRulesSatisfied:       []RuleSatisfied{},
				SessionControlsNotSatisfied: []string{},
			}
			if p.Result != "notEnabled" {
				p.ConditionsSatisfied = "application,users"
				p.IncludeRulesSatisfied = tpl.include
				if rng.IntN(3) == 0 {
					p.ConditionsNotSatisfied = "location"
					p.ExcludeRulesSatisfied = tpl.exclude
				}
			}
			if tpl.strength {
				p.AuthenticationStrength = &AuthenticationStrengthResult{
					AuthenticationStrengthID:     "00000000-0000-0000-0000-000000000004",
					DisplayName:                  "Phishing-resistant MFA",
					AuthenticationStrengthResult: "notApplied",
				}
			}
			r.AppliedConditionalAccessPolicies = append(r.AppliedConditionalAccessPolicies, p)
		}
	}
	if len(r.NetworkLocationDetails) == 0 {
		r.NetworkLocationDetails = []NetworkLocation{{NetworkType: "namedNetwork", NetworkNames: []string{"Contoso HQ", "Contoso VPN egress"}}}
		if rng.IntN(2) == 0 {
			r.NetworkLocationDetails = append(r.NetworkLocationDetails, NetworkLocation{NetworkType: "trustedNamedLocation", NetworkNames: []string{"Contoso HQ"}})
		}
	}
	if len(r.AuthenticationProcessingDetails) == 0 {
		r.AuthenticationProcessingDetails = []KeyValue{
			{Key: "Legacy TLS (TLS 1.0, 1.1, 3DES)", Value: "False"},
			{Key: "Is CAE Token", Value: []string{"True", "False"}[rng.IntN(2)]},
			{Key: "Root Key Type", Value: "Unknown"},
			{Key: "Oauth Scope Info", Value: `["email","openid","profile","User.Read","Files.ReadWrite.All","Sites.ReadWrite.All","Mail.ReadWrite","Calendars.ReadWrite"]`},
			{Key: "Azure AD App Authentication Library", Value: "Family: MSAL Library: MSAL.Desktop 4.61.3.0 Platform: .NET"},
		}
	}
	if len(r.SessionLifetimePolicies) == 0 {
		r.SessionLifetimePolicies = []SessionLifetimePolicy{
			{ExpirationRequirement: "rememberMultifactorAuthenticationOnTrustedDevices", Detail: "Remember MFA on trusted devices"},
		}
		if rng.IntN(2) == 0 {
			r.SessionLifetimePolicies = append(r.SessionLifetimePolicies, SessionLifetimePolicy{ExpirationRequirement: "signInFrequencyPeriodicReauthentication", Detail: "Sign-in frequency periodic reauthentication"})
		}
	}
	if len(r.AuthenticationContextClassReferences) == 0 && rng.IntN(4) == 0 {
		r.AuthenticationContextClassReferences = []ContextClassReference{{ID: "c1", Detail: "required"}}
	}
	if len(r.ConditionalAccessAudiences) == 0 {
		r.ConditionalAccessAudiences = []string{"00000003-0000-0000-c000-000000000000", "00000002-0000-0ff1-ce00-000000000000"}
	}
	if r.UniqueTokenIdentifier == "" {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		r.UniqueTokenIdentifier = base64.RawURLEncoding.EncodeToString(b[:])
	}
	if r.SessionID == "" {
		r.SessionID = guid(rng)
	}
	if r.OriginalRequestID == "" {
		r.OriginalRequestID = guid(rng)
	}
	if r.ProcessingTimeInMilliseconds == 0 {
		r.ProcessingTimeInMilliseconds = 40 + rng.IntN(400)
	}
	if r.AutonomousSystemNumber == 0 {
		r.AutonomousSystemNumber = 64496 + rng.IntN(16)
	}
	r.TokenProtectionStatusDetails = TokenProtectionStatus{SignInSessionStatus: "unbound", SignInSessionStatusCode: 1002}
	r.ManagedServiceIdentity = ManagedServiceIdentity{MsiType: "none"}
	if r.RiskDetail == "" {
		r.RiskDetail, r.RiskLevelAggregated, r.RiskLevelDuringSignIn, r.RiskState = "none", "none", "none", "none"
	}
	if r.AppTokenProtectionStatus == "" {
		r.AppTokenProtectionStatus, r.SignInTokenProtectionStatus = "none", "none"
	}
	if r.AuthenticationProtocol == "" {
		r.AuthenticationProtocol, r.IncomingTokenType, r.OriginalTransferMethod = "none", "none", "none"
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// guid draws a version-4 style GUID from rng, so ids are deterministic for
// a seed.
func guid(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	a = (a &^ (0xf << 12)) | (0x4 << 12)
	b = (b &^ (0x3 << 62)) | (0x2 << 62)
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// secondsUTC rounds like Graph, which writes whole seconds.
func secondsUTC(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }
