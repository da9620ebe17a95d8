package graphtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// RealisticSignInPage builds a page of rows that differ from one another the way a real tenant's
// rows do, for measuring decoders (SignInPage repeats one row, which flatters any decoder that
// remembers the row before). The rows have the shape the simulated tenant serves (simtenant.Row,
// every beta field, Graph's key order), and what varies follows a tenant of a few thousand users:
//
//   - newest first, as Graph serves; flows of one user (one correlationId) start at random times,
//     so an interactive MFA flow (interrupt, then outcome seconds later, sometimes keep me signed
//     in) interleaves with others, and a client's burst of non-interactive token requests lands
//     as a run of consecutive rows, one per resource;
//   - a flow keeps its user, device, IP address, location, user agent and session, as real flows
//     do; users have one or two devices, sign in from an office egress address shared with
//     colleagues or from home, and now and then from elsewhere;
//   - each row lists every Conditional Access policy of the tenant in the same order, with a
//     result that follows from the policy's scope (users, applications, client, location) and
//     the row's outcome, and its grant and session controls;
//   - status, requirement, authentication steps and methods, risk, token issuer, resource and
//     processing details follow the flow's kind, with the strings real rows carry
//     (/work/shared/reference/real-vocabulary.md, graph-api.md).
//
// Rows are 5-15 KB (about 10 on average); the page is the same bytes on every call.
func RealisticSignInPage(rows int) ([]byte, error) {
	g := newRealGen()
	var all []simtenant.Row
	at := realPageNow
	for len(all) < rows+64 { // flows near the oldest edge may still add rows between others
		at = at.Add(-time.Duration(g.rng.ExpFloat64() * float64(realFlowGap)))
		all = append(all, g.flow(at)...)
	}
	// Graph orders by createdDateTime, newest first; rows of one second keep their flow's order.
	slices.SortStableFunc(all, func(a, b simtenant.Row) int { return b.CreatedDateTime.Compare(a.CreatedDateTime) })
	all = all[:rows]
	var buf bytes.Buffer
	buf.Grow(rows * 11 << 10)
	buf.WriteString(`{"@odata.context":"https://graph.microsoft.com/beta/$metadata#auditLogs/signIns","value":[`)
	for i := range all {
		if i > 0 {
			buf.WriteByte(',')
		}
		b, err := json.Marshal(&all[i])
		if err != nil {
			return nil, err
		}
		buf.Write(b)
	}
	buf.WriteString(`],"@odata.nextLink":"https://graph.microsoft.com/beta/auditLogs/signIns?$top=1000&$skiptoken=` +
		`c2lnbklucy9lNmE4YjJhNy0xZjQ2LTQ4ZjgtOWQwZC0zYjVhMGQ3YzlmNGUvMjAyNi0xMS0yNVQxMTowMDowMFo"}`)
	return buf.Bytes(), nil
}

var realPageNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// realFlowGap is the mean time between flows: about 20 rows a minute, a tenant of a few thousand
// active users during office hours.
const realFlowGap = 8 * time.Second

const realTenantID = "7d5c2f1e-3b4a-4c8d-9e0f-1a2b3c4d5e6f"

type realPlace struct {
	city, state, country string
	lat, lon             float64
}

// Offices and homes: coordinates are those Graph gives for the city of the address, so the same
// address always has the same location.
var realPlaces = []realPlace{
	{"Paris", "Paris", "FR", 48.85341, 2.3488}, {"Lyon", "Auvergne-Rhone-Alpes", "FR", 45.74846, 4.84671},
	{"Nanterre", "Hauts-de-Seine", "FR", 48.89198, 2.20675}, {"Lille", "Hauts-de-France", "FR", 50.63297, 3.05858},
	{"London", "England", "GB", 51.50853, -0.12574}, {"Manchester", "England", "GB", 53.48095, -2.23743},
	{"Berlin", "Land Berlin", "DE", 52.52437, 13.41053}, {"Munich", "Bayern", "DE", 48.13743, 11.57549},
	{"Amsterdam", "Noord-Holland", "NL", 52.37403, 4.88969}, {"Madrid", "Madrid", "ES", 40.4165, -3.70256},
	{"Seattle", "Washington", "US", 47.60621, -122.33207}, {"New York", "New York", "US", 40.71427, -74.00597},
	{"Montreal", "Quebec", "CA", 45.50884, -73.58781}, {"Singapore", "Singapore", "SG", 1.28967, 103.85007},
}

var realFirst = []string{"Camille", "Lucas", "Emma", "Hugo", "Chloe", "Louis", "Manon", "Gabriel", "Lea", "Arthur",
	"Olivia", "Noah", "Amelia", "Jack", "Sophie", "Ben", "Hannah", "Felix", "Mia", "Jonas", "Sara", "Daniel", "Priya", "Wei"}
var realLast = []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau", "Smith",
	"Jones", "Taylor", "Brown", "Muller", "Schmidt", "Schneider", "de Vries", "Garcia", "Lopez", "Tan", "Nguyen", "Kumar"}

type realDeviceKind struct {
	os, browser, trust string
	managed, mobile    bool
	agent              string
}

var realDeviceKinds = []realDeviceKind{
	{"Windows10", "Edge 131.0.0", "Azure AD joined", true, false, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"},
	{"Windows10", "Chrome 131.0.0", "Hybrid Azure AD joined", true, false, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},
	{"Windows10", "Rich Client 4.66.1.0", "Azure AD joined", true, false, "Windows-AzureAD-Authentication-Provider/1.0"},
	{"MacOs", "Safari 18.1", "Azure AD registered", true, false, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"},
	{"MacOs", "Chrome 131.0.0", "", false, false, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},
	{"Ios 18.1.1", "Mobile Safari 18.1", "Azure AD registered", true, true, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"},
	{"Ios 17.6.1", "Rich Client 1.2.3", "", false, true, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Teams/6.19.1"},
	{"Android 14", "Chrome Mobile 131.0.6778", "Azure AD registered", true, true, "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"},
	{"Android 13", "Rich Client 4.2411.1", "", false, true, "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230901.001)"},
	{"Linux", "Firefox 133.0", "", false, false, "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"},
}

type realResource struct{ id, name string }

var (
	resGraph      = realResource{"00000003-0000-0000-c000-000000000000", "Microsoft Graph"}
	resExchange   = realResource{"00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online"}
	resSharePoint = realResource{"00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online"}
	resAzureMgmt  = realResource{"797f4846-ba00-4fd7-ba43-dac1f8f63013", "Windows Azure Service Management API"}
	resAAD        = realResource{"00000002-0000-0000-c000-000000000000", "Windows Azure Active Directory"}
	resTeams      = realResource{"cc15fd57-2c6c-4117-a88c-83b1d56b4bbe", "Microsoft Teams Services"}
	resSubstrate  = realResource{"4e9b8b9a-1001-4017-8dd1-6e8f25e19d13", "Substrate Context Service"}
	resOneDrive   = realResource{"ab9b8c07-8f02-4f72-87fa-80105867a763", "OneDrive SyncEngine"}
)

type realApp struct {
	id, name, client string
	resources        []realResource
	library          string
	scopes           string
	mobileOnly       bool
}

var realApps = []realApp{
	{"1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams", "Mobile Apps and Desktop clients", []realResource{resTeams, resGraph, resSharePoint, resExchange, resSubstrate}, "Family: MSAL Library: MSAL.Desktop 4.66.1.0 Platform: .NET", `["openid","profile","offline_access","User.Read","Team.ReadBasic.All","Chat.ReadWrite","Files.ReadWrite.All"]`, false},
	{"4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome", "Browser", []realResource{resSharePoint, resGraph, resExchange}, "", `["openid","profile","email","User.Read"]`, false},
	{"d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office", "Mobile Apps and Desktop clients", []realResource{resExchange, resSharePoint, resGraph, resSubstrate}, "Family: MSAL Library: MSAL.Desktop 4.61.3.0 Platform: .NET", `["openid","profile","offline_access","Mail.ReadWrite","Files.ReadWrite.All","Sites.ReadWrite.All"]`, false},
	{"27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook Mobile", "Mobile Apps and Desktop clients", []realResource{resExchange, resSubstrate, resGraph}, "Family: MSAL Library: MSAL.iOS 1.6.1 Platform: iOS", `["openid","profile","offline_access","Mail.ReadWrite","Calendars.ReadWrite","Contacts.ReadWrite"]`, true},
	{"ab9b8c07-8f02-4f72-87fa-80105867a763", "OneDrive SyncEngine", "Mobile Apps and Desktop clients", []realResource{resSharePoint, resOneDrive}, "Family: MSAL Library: MSAL.Desktop 4.66.1.0 Platform: .NET", `["openid","profile","offline_access","Files.ReadWrite.All"]`, false},
	{"29d9ed98-a469-4536-ade2-f981bc1d605e", "Microsoft Authentication Broker", "Mobile Apps and Desktop clients", []realResource{resAAD, resGraph}, "Family: MSAL Library: MSAL.Android 5.4.0 Platform: Android", `["openid","profile","offline_access"]`, true},
	{"38aa3b87-a06d-4817-b275-7a316988d93b", "Windows Sign In", "Mobile Apps and Desktop clients", []realResource{resAAD}, "", `["openid","profile"]`, false},
	{"c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal", "Browser", []realResource{resAzureMgmt, resGraph}, "", `["openid","profile","user_impersonation"]`, false},
	{"04b07795-8ddb-461a-bbee-02f9e1bf7b46", "Microsoft Azure CLI", "Mobile Apps and Desktop clients", []realResource{resAzureMgmt, resGraph}, "Family: MSAL Library: MSAL.Python 1.31.0 Platform: Python", `["https://management.core.windows.net//.default","offline_access","openid","profile"]`, false},
	{"de8bc8b5-d9f9-48b1-a8ad-b748da725064", "Graph Explorer", "Browser", []realResource{resGraph}, "Family: MSAL Library: MSAL.JS 3.27.0 Platform: JS", `["openid","profile","User.Read","Directory.Read.All","AuditLog.Read.All"]`, false},
	{"2793995e-0a7d-40d7-bd35-6968ba142197", "My Apps", "Browser", []realResource{resGraph}, "", `["openid","profile","User.Read"]`, false},
	{"00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online", "Exchange Web Services", []realResource{resExchange}, "", `[]`, false},
	{"9bc3ab49-b65d-410a-85ad-de819febfddc", "SharePoint Online Web Client Extensibility", "Browser", []realResource{resSharePoint, resGraph}, "", `["openid","profile","Sites.Read.All"]`, false},
	{"5e3ce6c0-2b1f-4285-8d4b-75ee78787346", "Contoso Expenses", "Browser", []realResource{resGraph}, "Family: MSAL Library: MSAL.JS 2.38.1 Platform: JS", `["openid","profile","User.Read"]`, false},
	{"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "Contoso HR Portal", "Browser", []realResource{resGraph}, "", `["openid","profile","email"]`, false},
	{"f4c1e7a2-8b3d-4e6f-9a0b-1c2d3e4f5a6b", "Salesforce", "Browser", []realResource{{"f4c1e7a2-8b3d-4e6f-9a0b-1c2d3e4f5a6b", "Salesforce"}}, "", `[]`, false},
}

// realPolicy is a Conditional Access policy of the tenant. Its scope decides which rows it applies
// to; state is enabled, reportOnly or disabled.
type realPolicy struct {
	id, name       string
	grant, session []string
	state          string
	admins, guests bool     // only admins / only guests (else all users)
	apps           []string // application ids, nil for all applications
	legacyOnly     bool     // only legacy clients (Exchange Web Services)
	untrustedOnly  bool     // only outside the trusted locations
	unmanagedOnly  bool     // only on unmanaged devices
	mobileOnly     bool     // only iOS and Android
	strength       bool
}

var realPolicies = func() []realPolicy {
	rng := rand.New(rand.NewPCG(0xca, 0x11))
	azure := []string{"c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "04b07795-8ddb-461a-bbee-02f9e1bf7b46"}
	office := []string{"1fec8e78-bce4-4aaf-ab1b-5451cc387264", "4765445b-32c6-49b0-83e6-1d93765276ca", "d3590ed6-52b3-4102-aeff-aad2292ab01c", "27922004-5251-4030-b22d-91ecd9a37ea4", "ab9b8c07-8f02-4f72-87fa-80105867a763"}
	ps := []realPolicy{
		{name: "CA001 - Require MFA for administrators", grant: []string{"Mfa"}, state: "enabled", admins: true},
		{name: "CA002 - Block legacy authentication", grant: []string{"Block"}, state: "enabled", legacyOnly: true},
		{name: "CA003 - Require MFA for all users outside trusted locations", grant: []string{"Mfa"}, state: "enabled", untrustedOnly: true},
		{name: "CA004 - Require compliant or hybrid joined device for Office 365", grant: []string{"RequireCompliantDevice", "RequireDomainJoinedDevice"}, state: "reportOnly", apps: office},
		{name: "CA005 - Block access from unsupported countries", grant: []string{"Block"}, state: "enabled", untrustedOnly: true},
		{name: "CA006 - Require MFA for Azure management", grant: []string{"Mfa"}, state: "enabled", apps: azure},
		{name: "CA007 - Require password change for high user risk", grant: []string{"Mfa", "PasswordChange"}, state: "enabled"},
		{name: "CA008 - Require MFA for medium and high sign-in risk", grant: []string{"Mfa"}, session: []string{"SignInFrequency"}, state: "enabled"},
		{name: "CA009 - Sign-in frequency 12 hours on unmanaged devices", session: []string{"SignInFrequency", "PersistentBrowserSessionMode"}, state: "enabled", unmanagedOnly: true},
		{name: "CA010 - Require approved client app on mobile", grant: []string{"RequireApprovedApp", "RequireCompliantApp"}, state: "enabled", mobileOnly: true},
		{name: "CA011 - Guest users require MFA", grant: []string{"Mfa"}, state: "enabled", guests: true},
		{name: "CA012 - Block device code flow", grant: []string{"Block"}, state: "disabled"},
		{name: "CA013 - Require phishing-resistant MFA for admins", grant: []string{}, state: "reportOnly", admins: true, strength: true},
		{name: "CA014 - Terms of use for guests", grant: []string{"TermsOfUse"}, state: "enabled", guests: true},
		{name: "CA015 - App enforced restrictions for SharePoint", session: []string{"ApplicationEnforcedRestrictions"}, state: "enabled", apps: []string{"9bc3ab49-b65d-410a-85ad-de819febfddc"}, unmanagedOnly: true},
		{name: "CA016 - Require MFA to register security info", grant: []string{"Mfa"}, state: "enabled", apps: []string{"2793995e-0a7d-40d7-bd35-6968ba142197"}, untrustedOnly: true},
		{name: "CA017 - No persistent browser on unmanaged devices", session: []string{"PersistentBrowserSessionMode"}, state: "reportOnly", unmanagedOnly: true},
		{name: "CA018 - Token protection for Exchange Online", session: []string{"SecureSignInSession"}, state: "disabled", apps: []string{"00000002-0000-0ff1-ce00-000000000000"}},
		{name: "CA019 - Require MFA for all users", grant: []string{"Mfa"}, state: "reportOnly"},
		{name: "CA020 - Block access for risky service accounts", grant: []string{"Block"}, state: "enabled", admins: true, untrustedOnly: true},
	}
	for i := range ps {
		ps[i].id = realGUID(rng)
		if ps[i].grant == nil {
			ps[i].grant = []string{}
		}
		if ps[i].session == nil {
			ps[i].session = []string{}
		}
	}
	return ps
}()

type realDevice struct {
	kind        realDeviceKind
	id, name    string
	isCompliant bool
}

type realUser struct {
	id, name, upn  string
	guest, admin   bool
	home, office   int    // realPlaces
	homeIP, workIP string // the office's egress address is shared with colleagues
	devices        []realDevice
	sessions       []string // a session per device, kept across flows
}

type realGen struct {
	rng     *rand.Rand
	users   []realUser
	officeI []string
}

func newRealGen() *realGen {
	g := &realGen{rng: rand.New(rand.NewPCG(0x7ea1, 0xfa9e))}
	// Offices: their egress addresses, one per office (in places 0, 2, 4, 6, 8 and 10).
	for o := range 6 {
		g.officeI = append(g.officeI, fmt.Sprintf("203.0.113.%d", 10+o*7))
	}
	for i := range 3000 {
		first, last := realFirst[g.rng.IntN(len(realFirst))], realLast[g.rng.IntN(len(realLast))]
		u := realUser{id: realGUID(g.rng), name: first + " " + last}
		u.upn = fmt.Sprintf("%s.%s%d@contoso.example", lower(first), lower(last), i)
		switch x := g.rng.Float64(); {
		case x < 0.08:
			u.guest = true
			u.upn = fmt.Sprintf("%s.%s%d_fabrikam.example#EXT#@contoso.onmicrosoft.com", lower(first), lower(last), i)
		case x < 0.11:
			u.admin = true
		}
		office := g.rng.IntN(6)
		u.office = office * 2
		u.workIP = g.officeI[office]
		u.home = g.rng.IntN(len(realPlaces))
		u.homeIP = fmt.Sprintf("%s.%d", []string{"198.51.100", "192.0.2", "100.64.12", "100.72.3"}[g.rng.IntN(4)], 1+g.rng.IntN(254))
		for d := range 1 + g.rng.IntN(2) {
			var kind realDeviceKind
			if d == 0 {
				kind = realDeviceKinds[g.rng.IntN(5)] // a computer
			} else {
				kind = realDeviceKinds[5+g.rng.IntN(4)] // a phone
			}
			dev := realDevice{kind: kind, isCompliant: kind.managed && g.rng.IntN(5) > 0}
			if kind.trust != "" {
				dev.id = realGUID(g.rng)
				dev.name = fmt.Sprintf("CONTOSO-%s%05d", map[bool]string{true: "M", false: "L"}[kind.mobile], g.rng.IntN(100000))
			}
			u.devices = append(u.devices, dev)
			u.sessions = append(u.sessions, realGUID(g.rng))
		}
		g.users = append(g.users, u)
	}
	return g
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			b[i] = c + 'a' - 'A'
		case c == ' ':
			b[i] = '-'
		}
	}
	return string(b)
}

func realGUID(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	a = (a &^ (0xf << 12)) | (0x4 << 12)
	b = (b &^ (0x3 << 62)) | (0x2 << 62)
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// realCtx is what one flow keeps on all its rows.
type realCtx struct {
	u         *realUser
	dev       realDevice
	session   string
	app       realApp
	ip        string
	place     realPlace
	trusted   bool
	corr      string
	risk      string // "none", "low", "medium"
	federated bool
}

// flow draws one sign-in flow ending at end and returns its rows, oldest first.
func (g *realGen) flow(end time.Time) []simtenant.Row {
	u := &g.users[g.rng.IntN(len(g.users))]
	di := g.rng.IntN(len(u.devices))
	c := realCtx{u: u, dev: u.devices[di], session: u.sessions[di], corr: realGUID(g.rng), risk: "none"}
	for {
		c.app = realApps[g.rng.IntN(len(realApps))]
		if !c.app.mobileOnly || c.dev.kind.mobile {
			break
		}
	}
	switch x := g.rng.Float64(); {
	case x < 0.55 && !c.dev.kind.mobile:
		c.ip, c.place, c.trusted = u.workIP, realPlaces[u.office], true
	case x < 0.95:
		c.ip, c.place = u.homeIP, realPlaces[u.home]
	default: // travelling
		p := g.rng.IntN(len(realPlaces))
		c.ip, c.place = fmt.Sprintf("%d.%d.%d.%d", 20+g.rng.IntN(180), g.rng.IntN(256), g.rng.IntN(256), 1+g.rng.IntN(254)), realPlaces[p]
	}
	if g.rng.IntN(40) == 0 {
		c.risk = []string{"low", "medium"}[g.rng.IntN(2)]
	}
	c.federated = u.id[0] < '2' // users of the federated domain, about one in eight

	var rows []simtenant.Row
	add := func(ago time.Duration, interactive bool, res realResource, st simtenant.Status, requirement string, steps []simtenant.AuthStep, caStatus string) {
		rows = append(rows, g.row(&c, end.Add(-ago), interactive, res, st, requirement, steps, caStatus))
	}
	res := c.app.resources[0]
	method, methodDetail := g.mfaMethod(&c)
	switch x := g.rng.Float64() * 100; {
	case x < 45: // a client refreshing its tokens: one row per resource, in the same second or two
		n := 1 + g.rng.IntN(len(c.app.resources))
		code := 0
		if g.rng.IntN(25) == 0 {
			code = []int{50058, 70044, 50173, 50133}[g.rng.IntN(4)]
		}
		mfa := g.rng.IntN(3) > 0
		for i := range n {
			st, steps, req := g.claimOutcome(&c, code, mfa, false)
			add(time.Duration(n-1-i)*time.Duration(g.rng.IntN(1500))*time.Millisecond, false, c.app.resources[i], st, req, steps, "success")
		}
	case x < 60: // interactive, MFA already in the token
		st, steps, req := g.claimOutcome(&c, 0, true, true)
		add(0, true, res, st, req, steps, "success")
	case x < 70: // interactive, single factor at a trusted location
		add(0, true, res, simtenant.Status{FailureReason: "Other."}, "singleFactorAuthentication",
			[]simtenant.AuthStep{g.passwordStep(&c, true, "Correct password")}, realCAStatus(&c, false))
	case x < 88: // interactive MFA: interrupt, then the outcome when the user answers
		answer := time.Duration(6+g.rng.IntN(50)) * time.Second
		add(answer+time.Duration(1+g.rng.IntN(4))*time.Second, true, res,
			simtenant.Status{ErrorCode: 50074, FailureReason: "Strong Authentication is required.", AdditionalDetails: "MFA required in Azure AD"},
			"multiFactorAuthentication", []simtenant.AuthStep{g.passwordStep(&c, true, "Correct password")}, "notApplied")
		ok := g.rng.IntN(8) > 0
		st := simtenant.Status{FailureReason: "Other.", AdditionalDetails: "MFA successfully completed"}
		detail := "MFA successfully completed"
		if method == "Mobile app notification" && g.rng.IntN(2) == 0 {
			st.AdditionalDetails = "MFA completed in Azure AD"
		}
		if !ok {
			st = simtenant.Status{ErrorCode: 500121, FailureReason: "Authentication failed during strong authentication request.", AdditionalDetails: "The user didn't complete the MFA prompt. They may have decided not to authenticate, timed out while doing work elsewhere, or has an issue with their authentication setup."}
			detail = []string{"MFA denied; user declined the authentication", "MFA denied; user did not respond to mobile app notification", "MFA denied; invalid verification code"}[g.rng.IntN(3)]
		}
		steps := []simtenant.AuthStep{g.passwordStep(&c, true, "Correct password"),
			{AuthenticationMethod: method, AuthenticationMethodDetail: methodDetail, Succeeded: ok, AuthenticationStepResultDetail: detail, AuthenticationStepRequirement: "Multi-factor authentication", StatusSequence: 1 + g.rng.IntN(1<<20)}}
		add(0, true, res, st, "multiFactorAuthentication", steps, realCAStatus(&c, !ok))
		if ok && g.rng.IntN(3) == 0 { // keep me signed in
			rows = append(rows, g.row(&c, end.Add(time.Duration(2+g.rng.IntN(6))*time.Second), true, res,
				simtenant.Status{ErrorCode: 50140, FailureReason: "This error occurred due to 'Keep me signed in' interrupt when the user was signing in.", AdditionalDetails: "MFA successfully completed"},
				"multiFactorAuthentication", []simtenant.AuthStep{{AuthenticationMethod: "Previously satisfied", Succeeded: true, AuthenticationStepResultDetail: "MFA requirement satisfied by claim in the token"}}, "success"))
		}
	case x < 93: // passwordless
		m := []string{"FIDO2 security key", "Windows Hello for Business", "Passkey (device-bound)", "Microsoft Authenticator (passwordless)"}[g.rng.IntN(4)]
		add(0, true, res, simtenant.Status{FailureReason: "Other."}, "multiFactorAuthentication",
			[]simtenant.AuthStep{{AuthenticationMethod: m, Succeeded: true, AuthenticationStepResultDetail: "MFA successfully completed", AuthenticationStepRequirement: "Primary authentication"}}, realCAStatus(&c, false))
	case x < 97: // wrong password
		add(0, true, res, simtenant.Status{ErrorCode: 50126, FailureReason: "Error validating credentials due to invalid username or password."},
			"singleFactorAuthentication", []simtenant.AuthStep{g.passwordStep(&c, false, "Invalid username or password or Invalid on-premise username or password.")}, "notApplied")
	default: // blocked by Conditional Access
		add(0, true, res, simtenant.Status{ErrorCode: 53003, FailureReason: "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."},
			"singleFactorAuthentication", []simtenant.AuthStep{g.passwordStep(&c, true, "Correct password")}, "failure")
	}
	return rows
}

func realCAStatus(c *realCtx, failed bool) string {
	switch {
	case failed:
		return "failure"
	case c.trusted && !c.u.admin && !c.u.guest:
		return "notApplied"
	}
	return "success"
}

func (g *realGen) mfaMethod(c *realCtx) (method, detail string) {
	switch x := g.rng.IntN(20); {
	case x < 12:
		return "Mobile app notification", ""
	case x < 15:
		return "OATH verification code", "Microsoft Authenticator app"
	case x < 17:
		return "Text message", "+X XXXXXXXX" + fmt.Sprintf("%02d", c.u.id[1]%100)
	case x < 18:
		return "Phone call", "+X XXXXXXXX" + fmt.Sprintf("%02d", c.u.id[2]%100)
	}
	return "Microsoft Authenticator (passwordless)", ""
}

func (g *realGen) passwordStep(c *realCtx, ok bool, detail string) simtenant.AuthStep {
	md := []string{"Password Hash Sync", "Password in the cloud", "Pass-through Authentication"}[int(c.u.id[3])%3]
	if c.federated {
		md = "Forms Authentication"
	}
	return simtenant.AuthStep{AuthenticationMethod: "Password", AuthenticationMethodDetail: md, Succeeded: ok,
		AuthenticationStepResultDetail: detail, AuthenticationStepRequirement: "Primary authentication"}
}

// claimOutcome is a row satisfied by the token the client already holds.
func (g *realGen) claimOutcome(c *realCtx, code int, mfa, interactive bool) (simtenant.Status, []simtenant.AuthStep, string) {
	st := simtenant.Status{ErrorCode: code, FailureReason: "Other."}
	detail, req := "First factor requirement satisfied by claim in the token", "singleFactorAuthentication"
	if mfa {
		detail, req = "MFA requirement satisfied by claim in the token", "multiFactorAuthentication"
		st.AdditionalDetails = "MFA requirement satisfied by claim in the token"
	}
	switch code {
	case 50058:
		st.FailureReason = "Silent sign-in request failed. The user needs to sign in interactively."
	case 70044:
		st.FailureReason = "The session has expired or is invalid due to sign-in frequency checks by conditional access."
	case 50173:
		st.FailureReason = "The provided grant has expired due to it being revoked, a fresh auth token is needed."
	case 50133:
		st.FailureReason = "Session is invalid due to expiration or recent password change."
	}
	steps := []simtenant.AuthStep{{AuthenticationMethod: "Previously satisfied", Succeeded: true, AuthenticationStepResultDetail: detail}}
	if mfa && interactive {
		steps = append([]simtenant.AuthStep{{AuthenticationMethod: "Previously satisfied", Succeeded: true, AuthenticationStepResultDetail: "First factor requirement satisfied by claim in the token"}}, steps...)
	}
	if mfa && g.rng.IntN(6) == 0 { // real rows also carry a step with no method at all
		steps = append(steps, simtenant.AuthStep{Succeeded: false, AuthenticationStepResultDetail: "MFA requirement satisfied by claim in the token"})
	}
	return st, steps, req
}

func (g *realGen) row(c *realCtx, at time.Time, interactive bool, res realResource, st simtenant.Status, requirement string, steps []simtenant.AuthStep, caStatus string) simtenant.Row {
	created := at.UTC().Truncate(time.Second)
	u := c.u
	r := simtenant.Row{
		ID: realGUID(g.rng), CreatedDateTime: created,
		UserDisplayName: u.name, UserPrincipalName: u.upn, UserID: u.id, UserType: "member",
		AppID: c.app.id, AppDisplayName: c.app.name, AppOwnerTenantID: "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
		AppTokenProtectionStatus: "none", IPAddress: c.ip, ClientAppUsed: c.app.client, ClientCredentialType: "none",
		CorrelationID: c.corr, ConditionalAccessStatus: caStatus,
		ConditionalAccessAudiences: []string{res.id},
		OriginalRequestID:          realGUID(g.rng), OriginalTransferMethod: "none",
		IsInteractive: interactive, AutonomousSystemNumber: asn(c.ip),
		AuthenticationProtocol: "none", IncomingTokenType: "none", TokenIssuerType: "AzureAD",
		ProcessingTimeInMilliseconds: 20 + g.rng.IntN(400),
		RiskDetail:                   "none", RiskLevelAggregated: "none", RiskLevelDuringSignIn: "none", RiskState: "none",
		RiskEventTypes: []string{}, RiskEventTypesV2: []string{},
		ResourceDisplayName: res.name, ResourceID: res.id, ResourceTenantID: realTenantID, ResourceOwnerTenantID: realTenantID,
		HomeTenantID: realTenantID, HomeTenantName: "Contoso", CrossTenantAccessType: "none",
		UniqueTokenIdentifier: realTokenID(g.rng), SessionID: c.session,
		SignInEventTypes: []string{"interactiveUser"}, SignInIdentifier: u.upn, SignInTokenProtectionStatus: "none",
		UserAgent:                 c.dev.kind.agent,
		AuthenticationRequirement: requirement,
		Status:                    st,
		DeviceDetail: simtenant.DeviceDetail{DeviceID: c.dev.id, DisplayName: c.dev.name, OperatingSystem: c.dev.kind.os,
			Browser: c.dev.kind.browser, IsCompliant: c.dev.isCompliant, IsManaged: c.dev.kind.managed, TrustType: c.dev.kind.trust},
		Location: simtenant.Location{City: c.place.city, State: c.place.state, CountryOrRegion: c.place.country,
			GeoCoordinates: simtenant.GeoCoordinates{Latitude: c.place.lat, Longitude: c.place.lon}},
		AppliedEventListeners:                []simtenant.EventListener{},
		AuthenticationDetails:                steps,
		TokenProtectionStatusDetails:         simtenant.TokenProtectionStatus{SignInSessionStatus: "unbound", SignInSessionStatusCode: 1002},
		ManagedServiceIdentity:               simtenant.ManagedServiceIdentity{MsiType: "none"},
		AuthenticationContextClassReferences: []simtenant.ContextClassReference{},
		AuthenticationAppPolicyEvalDetails:   []simtenant.AppPolicyEvaluation{},
	}
	if u.guest {
		r.UserType = "guest"
		r.HomeTenantID, r.HomeTenantName, r.CrossTenantAccessType = "2f8c4b1a-9d3e-4f5a-8b6c-7d8e9f0a1b2c", "Fabrikam", "b2bCollaboration"
	}
	if !interactive {
		r.SignInEventTypes = []string{"nonInteractiveUser"}
	}
	if c.federated && interactive {
		r.TokenIssuerType, r.TokenIssuerName = "ADFederationServices", "sts.contoso.example"
	}
	if c.risk != "none" {
		r.RiskLevelDuringSignIn, r.RiskLevelAggregated = c.risk, c.risk
		r.RiskEventTypes, r.RiskEventTypesV2 = []string{"unfamiliarFeatures"}, []string{"unfamiliarFeatures"}
		r.RiskState, r.RiskDetail = "atRisk", "none"
		if st.ErrorCode == 0 && requirement == "multiFactorAuthentication" {
			r.RiskState, r.RiskDetail = "remediated", "userPassedMFADrivenByRiskBasedPolicy"
		}
	}
	switch {
	case requirement != "multiFactorAuthentication":
		r.AuthenticationRequirementPolicies = []simtenant.RequirementPolicy{}
	case u.admin:
		r.AuthenticationRequirementPolicies = []simtenant.RequirementPolicy{{RequirementProvider: "multiConditionalAccess", Detail: "Conditional Access"}, {RequirementProvider: "authenticationStrengths", Detail: "Authentication Strengths"}}
	case c.risk != "none":
		r.AuthenticationRequirementPolicies = []simtenant.RequirementPolicy{{RequirementProvider: "riskBasedPolicy", Detail: "Risk-based policy"}}
	default:
		r.AuthenticationRequirementPolicies = []simtenant.RequirementPolicy{{RequirementProvider: "multiConditionalAccess", Detail: "Conditional Access"}}
	}
	r.AuthenticationMethodsUsed = []string{}
	for i := range r.AuthenticationDetails {
		s := &r.AuthenticationDetails[i]
		s.AuthenticationStepDateTime = created
		if m := s.AuthenticationMethod; m != "" && m != "Previously satisfied" && !slices.Contains(r.AuthenticationMethodsUsed, m) {
			r.AuthenticationMethodsUsed = append(r.AuthenticationMethodsUsed, m)
		}
	}
	r.AppliedConditionalAccessPolicies = g.policies(c, st.ErrorCode, caStatus)
	if c.trusted {
		r.NetworkLocationDetails = []simtenant.NetworkLocation{{NetworkType: "trustedNamedLocation", NetworkNames: []string{"Contoso offices"}},
			{NetworkType: "namedNetwork", NetworkNames: []string{"Contoso HQ", "Contoso VPN egress"}}}
	} else {
		r.NetworkLocationDetails = []simtenant.NetworkLocation{}
	}
	r.AuthenticationProcessingDetails = []simtenant.KeyValue{
		{Key: "Legacy TLS (TLS 1.0, 1.1, 3DES)", Value: "False"},
		{Key: "Is CAE Token", Value: []string{"True", "False"}[int(r.ID[0])%2]},
		{Key: "Root Key Type", Value: "Unknown"},
	}
	if c.app.scopes != "[]" {
		r.AuthenticationProcessingDetails = append(r.AuthenticationProcessingDetails, simtenant.KeyValue{Key: "Oauth Scope Info", Value: c.app.scopes})
	}
	if c.app.library != "" {
		r.AuthenticationProcessingDetails = append(r.AuthenticationProcessingDetails, simtenant.KeyValue{Key: "Azure AD App Authentication Library", Value: c.app.library})
	}
	if c.dev.kind.trust != "" {
		r.AuthenticationProcessingDetails = append(r.AuthenticationProcessingDetails, simtenant.KeyValue{Key: "Device Authentication Method", Value: "PRT"})
	}
	r.SessionLifetimePolicies = []simtenant.SessionLifetimePolicy{}
	if !c.dev.kind.managed {
		r.SessionLifetimePolicies = append(r.SessionLifetimePolicies, simtenant.SessionLifetimePolicy{ExpirationRequirement: "signInFrequencyPeriodicReauthentication", Detail: "Sign-in frequency periodic reauthentication"})
	}
	if requirement == "multiFactorAuthentication" && interactive {
		r.SessionLifetimePolicies = append(r.SessionLifetimePolicies, simtenant.SessionLifetimePolicy{ExpirationRequirement: "rememberMultifactorAuthenticationOnTrustedDevices", Detail: "Remember MFA on trusted devices"})
	}
	return r
}

// asn is the address's autonomous system: one per address block.
func asn(ip string) int {
	h := 0
	for i := 0; i < len(ip) && ip[i] != '.'; i++ {
		h = h*31 + int(ip[i])
	}
	return 3215 + h%5000
}

func realTokenID(rng *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// policies lists every policy of the tenant, in the tenant's order, with its result for this row.
func (g *realGen) policies(c *realCtx, code int, caStatus string) []simtenant.CAPolicy {
	out := make([]simtenant.CAPolicy, 0, len(realPolicies))
	preAuth := code == 50126 // credentials never validated: nothing was evaluated
	for _, p := range realPolicies {
		cp := simtenant.CAPolicy{
			ID: p.id, DisplayName: p.name, EnforcedGrantControls: p.grant, EnforcedSessionControls: p.session,
			ConditionsSatisfied: "none", ConditionsNotSatisfied: "none",
			IncludeRulesSatisfied: []simtenant.RuleSatisfied{}, ExcludeRulesSatisfied: []simtenant.RuleSatisfied{},
			SessionControlsNotSatisfied: []string{},
		}
		applies := !preAuth
		notSatisfied := ""
		switch {
		case p.admins && !c.u.admin, p.guests && !c.u.guest:
			applies, notSatisfied = false, "users"
		case p.apps != nil && !slices.Contains(p.apps, c.app.id):
			applies, notSatisfied = false, "application"
		case p.legacyOnly && c.app.client != "Exchange Web Services":
			applies, notSatisfied = false, "clientType"
		case p.untrustedOnly && c.trusted:
			applies, notSatisfied = false, "location"
		case p.unmanagedOnly && c.dev.kind.managed:
			applies, notSatisfied = false, "devicePlatform"
		case p.mobileOnly && !c.dev.kind.mobile:
			applies, notSatisfied = false, "devicePlatform"
		case slices.Contains(p.grant, "PasswordChange") || slices.Contains(p.session, "SignInFrequency") && slices.Contains(p.grant, "Mfa"):
			if c.risk == "none" {
				applies, notSatisfied = false, "signInRisk"
			}
		}
		if notSatisfied != "" && !preAuth {
			cp.ConditionsNotSatisfied = notSatisfied
		}
		result := "notApplied"
		if applies {
			cp.ConditionsSatisfied = "application,users"
			cp.IncludeRulesSatisfied = []simtenant.RuleSatisfied{{ConditionalAccessCondition: "application", RuleSatisfied: "allApps"}, {ConditionalAccessCondition: "users", RuleSatisfied: "allUsers"}}
			if p.apps != nil {
				cp.IncludeRulesSatisfied[0].RuleSatisfied = "appId"
			}
			if c.u.guest && (p.guests || p.admins) {
				cp.IncludeRulesSatisfied[1].RuleSatisfied = "guest"
			}
			switch {
			case caStatus == "failure" && slices.Contains(p.grant, "Block"):
				result = "failure"
			case caStatus == "failure" && slices.Contains(p.grant, "Mfa"):
				result = "failure"
			case caStatus == "notApplied":
				result = "notApplied"
				cp.ConditionsSatisfied, cp.IncludeRulesSatisfied = "none", []simtenant.RuleSatisfied{}
			case slices.Contains(p.grant, "Block"):
				result, cp.ConditionsNotSatisfied = "notApplied", "location"
			default:
				result = "success"
			}
		}
		switch p.state {
		case "disabled":
			result = "notEnabled"
			cp.ConditionsSatisfied, cp.ConditionsNotSatisfied = "none", "none"
			cp.IncludeRulesSatisfied = []simtenant.RuleSatisfied{}
		case "reportOnly":
			switch result {
			case "success":
				result = "reportOnlySuccess"
				if slices.Contains(p.grant, "RequireCompliantDevice") && !c.dev.isCompliant {
					result = "reportOnlyFailure"
				}
			case "failure":
				result = "reportOnlyFailure"
			default:
				result = "reportOnlyNotApplied"
			}
		}
		cp.Result = result
		if p.strength {
			cp.AuthenticationStrength = &simtenant.AuthenticationStrengthResult{AuthenticationStrengthID: "00000000-0000-0000-0000-000000000004",
				DisplayName: "Phishing-resistant MFA", AuthenticationStrengthResult: map[bool]string{true: "satisfied", false: "notApplied"}[result == "reportOnlySuccess"]}
		}
		if result == "success" && len(p.session) > 0 && !c.dev.kind.managed && g.rng.IntN(4) == 0 {
			cp.SessionControlsNotSatisfied = []string{p.session[0]}
		}
		out = append(out, cp)
	}
	return out
}
