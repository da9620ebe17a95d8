package simtenant

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// This file makes generated sign-ins say why MFA was or was not required: the requirement
// providers (authenticationRequirementPolicies), the tenant's Conditional Access policies with
// each one's result (appliedConditionalAccessPolicies), and the application signed into. It also
// serves the policy inventory (GET /v1.0/identity/conditionalAccess/policies).
//
// Every choice is drawn from streams of its own (seeded by the row's id, the flow's correlation
// id or the user's id), never from the generator's stream, so that adding coverage did not change
// the sign-ins, methods and reasons a seed produces.

// RoutePolicies is the route of the Conditional Access policy inventory, a key of Stats.Requests
// and a value of Fault.Route.
const RoutePolicies = "/v1.0/identity/conditionalAccess/policies"

// Policy states of the policy API, and the label the exporter is expected to give each.
const (
	PolicyStateOn         = "enabled"
	PolicyStateOff        = "disabled"
	PolicyStateReportOnly = "enabledForReportingButNotEnforced"
)

// Requirement source labels (the exporter's vocabulary) of the providers the generator writes.
const (
	SourcePerUser     = "per_user_mfa"
	SourceCA          = "multi_conditional_access"
	SourceRisk        = "risk_based_policy"
	SourceSessionRisk = "tenant_session_risk_policy"
	SourceRequest     = "request"
	SourceRegisterCA  = "mfa_registration_required_by_multi_conditional_access"
	SourceNone        = "none"
	SourceOther       = "other"
)

// providerWire is the requirementProvider value Graph writes for each source label.
var providerWire = map[string]string{
	SourcePerUser:     "user",
	SourceCA:          "multiConditionalAccess",
	SourceRisk:        "riskBasedPolicy",
	SourceSessionRisk: "tenantSessionRiskPolicy",
	SourceRequest:     "request",
	SourceRegisterCA:  "mfaRegistrationRequiredByMultiConditionalAccess",
}

var providerDetail = map[string]string{
	SourcePerUser:     "Per-user MFA",
	SourceCA:          "Conditional Access",
	SourceRisk:        "Risk-based policy",
	SourceSessionRisk: "Sign-in risk policy",
	SourceRequest:     "Request",
	SourceRegisterCA:  "Conditional Access",
}

// Policy result labels (the exporter's vocabulary) by the wire value Graph writes.
var resultLabel = map[string]string{
	"success":               "success",
	"failure":               "failure",
	"notApplied":            "not_applied",
	"notEnabled":            "not_enabled",
	"reportOnlySuccess":     "report_only_success",
	"reportOnlyFailure":     "report_only_failure",
	"reportOnlyInterrupted": "report_only_interrupted",
	"reportOnlyNotApplied":  "report_only_not_applied",
}

// Strings no catalogue knows, written rarely so that the exporter's "other" paths are exercised.
const (
	unknownProvider = "quantumEntanglementPolicy"
	unknownResult   = "reportOnlyQuantumInterference"
)

// simPolicy is one Conditional Access policy of the simulated tenant.
type simPolicy struct {
	id, name, state string
	rowGrants       []string // enforcedGrantControls, as sign-in rows spell them
	apiGrants       []string // grantControls.builtInControls, as the policy API spells them
	strength        bool     // grantControls.authenticationStrength is set
	session         []string
}

// The tenant's policies, in the order rows list them. Indexes name them in cover.
const (
	polAdminMFA = iota
	polBlockLegacy
	polAllUsersMFA
	polCompliantDevice
	polBlockCountries
	polRiskMFA
	polGuestMFA
	polPhishingResistant
	polPilotMFA
	polBlockDeviceCode
	polRetiredVPN
	numPolicies
)

var simPolicies = func() []simPolicy {
	ps := []simPolicy{
		polAdminMFA:          {name: "CA001 - Require MFA for administrators", state: PolicyStateOn, rowGrants: []string{"Mfa"}, apiGrants: []string{"mfa"}},
		polBlockLegacy:       {name: "CA002 - Block legacy authentication", state: PolicyStateOn, rowGrants: []string{"Block"}, apiGrants: []string{"block"}},
		polAllUsersMFA:       {name: "CA003 - Require MFA for all users", state: PolicyStateOn, rowGrants: []string{"Mfa"}, apiGrants: []string{"mfa"}},
		polCompliantDevice:   {name: "CA004 - Require compliant device for Office 365", state: PolicyStateReportOnly, rowGrants: []string{"RequireCompliantDevice"}, apiGrants: []string{"compliantDevice"}},
		polBlockCountries:    {name: "CA005 - Block access from unsupported countries", state: PolicyStateOn, rowGrants: []string{"Block"}, apiGrants: []string{"block"}},
		polRiskMFA:           {name: "CA008 - Require MFA for medium and high sign-in risk", state: PolicyStateOn, rowGrants: []string{"Mfa"}, apiGrants: []string{"mfa"}, session: []string{"SignInFrequency"}},
		polGuestMFA:          {name: "CA011 - Guest users require MFA", state: PolicyStateOn, rowGrants: []string{"Mfa"}, apiGrants: []string{"mfa"}},
		polPhishingResistant: {name: "CA013 - Require phishing-resistant MFA for admins", state: PolicyStateReportOnly, rowGrants: []string{"RequireAuthenticationStrength:Phishing-resistant MFA"}, strength: true},
		polPilotMFA:          {name: "CA020 - Require MFA for all apps (pilot)", state: PolicyStateReportOnly, rowGrants: []string{"Mfa"}, apiGrants: []string{"mfa"}},
		polBlockDeviceCode:   {name: "CA022 - Block device code flow", state: PolicyStateReportOnly, rowGrants: []string{"Block"}, apiGrants: []string{"block"}},
		polRetiredVPN:        {name: "CA030 - Require MFA for legacy VPN (retired)", state: PolicyStateOff, rowGrants: []string{"Mfa"}, apiGrants: []string{"mfa"}},
	}
	rng := rand.New(rand.NewPCG(0xca11c1e5, 0x12))
	for i := range ps {
		ps[i].id = guid(rng)
	}
	return ps
}()

// simApp is an application users sign into. clientApp matches the generator's apps, so a browser
// flow signs into a web application; weights say how often single-factor and MFA flows pick it
// (the "gap" applications draw most of the single-factor sign-ins, as in a real tenant where a
// few line-of-business apps sit outside the MFA policies).
type simApp struct {
	id, name, clientApp string
	single, multi       float64
}

const (
	browser = "Browser"
	mobile  = "Mobile Apps and Desktop clients"
)

var simApps = func() []simApp {
	apps := []simApp{
		// The generator's own six applications keep their ids.
		{"1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams", mobile, 6, 14},
		{"c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal", browser, 0.5, 8},
		{"4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome", browser, 6, 12},
		{"27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook Mobile", mobile, 5, 12},
		{"d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office", mobile, 5, 10},
		{"29d9ed98-a469-4536-ade2-f981bc1d605e", "Microsoft Authentication Broker", mobile, 3, 8},
		{"", "Contoso HR Portal", browser, 9, 1},
		{"", "Contoso Intranet", browser, 8, 1},
		{"", "Legacy Timesheet", browser, 7, 0.2},
		{"", "Contoso Expenses", browser, 3, 3},
		{"", "Contoso Payroll", browser, 1, 3},
		{"", "Contoso Partner Portal", browser, 2, 2},
		{"", "Contoso Field Service", mobile, 4, 1},
		{"", "ServiceNow", browser, 2, 4},
		{"", "Salesforce", browser, 2, 5},
		{"", "Workday", browser, 1, 4},
		{"", "Zoom", mobile, 4, 2},
		{"", "Slack", mobile, 2, 3},
		{"", "GitHub Enterprise Cloud", browser, 0.5, 4},
		{"", "Atlassian Cloud", browser, 1, 4},
		{"", "Adobe Acrobat Sign", browser, 1, 1},
		{"", "DocuSign", browser, 1, 1},
		{"", "Box", browser, 1, 2},
		{"", "Tableau Cloud", browser, 1, 1},
		{"", "SAP Concur", browser, 1, 2},
		{"", "Miro", browser, 1, 1},
		{"", "Figma", browser, 0.5, 1},
		{"", "Cisco Webex", mobile, 1, 1},
		{"", "AWS IAM Identity Center", browser, 0.2, 3},
		{"", "Smartsheet", browser, 0.5, 1},
		{"", "Power BI", mobile, 1, 3},
		{"", "OneDrive", mobile, 2, 4},
		{"", "Microsoft Edge", browser, 2, 3},
		{"", "Intune Company Portal", mobile, 1, 2},
		{"", "Azure CLI", mobile, 0.2, 2},
		{"", "Visual Studio", mobile, 0.3, 2},
	}
	rng := rand.New(rand.NewPCG(0xa995, 0x34))
	for i := range apps {
		if apps[i].id == "" {
			apps[i].id = guid(rng)
		}
	}
	return apps
}()

// passwordlessOrStrong are the methods that meet a phishing-resistant authentication strength.
var phishingResistant = map[string]bool{MethodFIDO2: true, MethodWHfB: true, MethodPasskey: true, MethodCertificate: true}

// PolicyKey is one Conditional Access evaluation in CoverageTruth: the policy's id and the result
// label the exporter is expected to derive.
type PolicyKey struct {
	ID, Result string
}

// CoverageTruth is what the generated rows say about why MFA was required, in the exporter's
// labels: rows per requirement source (a row listing several counts under each, a row listing
// none under "none", an unknown provider under "other"), evaluations per policy and result, rows
// per application id ("none" for rows without an appId). Like Truth it comes from the
// generator's intent. Rows served without appliedConditionalAccessPolicies (SetPolicyReadAll)
// still count their evaluations here.
type CoverageTruth struct {
	Sources  map[string]int
	Policies map[PolicyKey]int
	Apps     map[string]int
}

// rowCoverage is one row's coverage as the generator meant it, kept small: a day of intents
// holds one per row.
type rowCoverage struct {
	app     string
	sources []string
	results []uint8     // per simPolicies index: index into resultWires, or resultInExtra
	extra   []PolicyKey // flood policies and unknown results
}

// resultWires indexes results compactly in rowCoverage.
var resultWires = []string{"success", "failure", "notApplied", "notEnabled", "reportOnlySuccess", "reportOnlyFailure", "reportOnlyInterrupted", "reportOnlyNotApplied"}

// resultInExtra marks a policy whose evaluation is recorded in rowCoverage.extra instead.
const resultInExtra = 255

func resultIndex(wire string) uint8 {
	return uint8(slices.Index(resultWires, wire))
}

type coverageAgg struct {
	sources  map[string]int
	policies map[PolicyKey]int
	apps     map[string]int
}

func newCoverageAgg() coverageAgg {
	return coverageAgg{sources: map[string]int{}, policies: map[PolicyKey]int{}, apps: map[string]int{}}
}

func (a *coverageAgg) add(c *rowCoverage) {
	if c == nil {
		return
	}
	a.apps[c.app]++
	for _, s := range c.sources {
		a.sources[s]++
	}
	for i, r := range c.results {
		if r == resultInExtra {
			continue
		}
		a.policies[PolicyKey{simPolicies[i].id, resultLabel[resultWires[r]]}]++
	}
	for _, k := range c.extra {
		a.policies[k]++
	}
}

func (a *coverageAgg) clone() coverageAgg {
	return coverageAgg{sources: maps.Clone(a.sources), policies: maps.Clone(a.policies), apps: maps.Clone(a.apps)}
}

func (a *coverageAgg) export() CoverageTruth {
	return CoverageTruth{Sources: a.sources, Policies: a.policies, Apps: a.apps}
}

// coverageGen holds what the coverage of generated rows depends on besides the row: renamed
// policies, the flood knob and whether the app may read policies. Its own lock, so the inventory
// handler never waits for a backfill holding the generator.
type coverageGen struct {
	mu         sync.Mutex
	names      map[string]string // policy id -> name, once renamed
	floodPols  int               // distinct policies still to flood
	floodApps  int               // distinct applications still to flood
	floodNext  uint64
	policyDeny atomic.Bool // the app lacks Policy.Read.All
}

func (c *coverageGen) policyName(i int) string {
	if n, ok := c.names[simPolicies[i].id]; ok {
		return n
	}
	return simPolicies[i].name
}

// floodPerRow is how many new policies one flooded row lists: a hostile tenant reaches 10,000
// distinct policies in a hundred rows.
const floodPerRow = 100

// rowFacts is what cover needs to know about a row.
type rowFacts struct {
	errorCode   int
	interactive bool
	multi       bool   // authenticationRequirement multiFactorAuthentication
	outcome     string // satisfied or denied for MFA attempts, else ""
	method      string
	component   string
	admin       bool
	guest       bool
}

// perUserMFA tells whether a user has legacy per-user MFA enabled: most administrators (set up
// before Conditional Access) and a few others.
func perUserMFA(u simUser) bool {
	x := streamOf(u.id, 0x9e1).Float64()
	if u.admin {
		return x < 0.6
	}
	return x < 0.08
}

func streamOf(key string, salt uint64) *rand.Rand {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return rand.New(rand.NewPCG(h.Sum64(), salt))
}

// cover fills r's requirement providers, Conditional Access policies and application, and returns
// the row's coverage for Truth. corr is the flow's correlation id: the choices that concern the
// whole flow (application, risk) are drawn from it, the per-row ones from the row id.
func (c *coverageGen) cover(r *Row, f rowFacts, u simUser, corr string, padded bool) *rowCoverage {
	flow := streamOf(corr, 0xf10)
	row := streamOf(r.ID, 0x70)
	cov := &rowCoverage{}

	// The application: the flow's, picked among those of its client type.
	if r.TokenIssuerType == "AzureAD" || r.TokenIssuerType == "" {
		a := pickApp(flow.Float64(), r.ClientAppUsed, f.multi)
		r.AppID, r.AppDisplayName = a.id, a.name
	}
	riskRoll, perUserRoll := flow.Float64(), flow.Float64()

	// Requirement providers: only multi-factor rows name one.
	var sources []string
	risky := false
	switch {
	case !f.multi:
	case f.component != ComponentCloud:
		sources = []string{SourceRequest}
	case f.errorCode == 50079:
		sources = []string{SourceRegisterCA}
	case riskRoll < 0.04:
		sources, risky = []string{SourceRisk}, true
	case riskRoll < 0.06:
		sources, risky = []string{SourceSessionRisk}, true
	case perUserMFA(u) && perUserRoll < 0.5:
		sources = []string{SourcePerUser}
	case perUserMFA(u):
		sources = []string{SourceCA, SourcePerUser}
	default:
		sources = []string{SourceCA}
	}
	r.AuthenticationRequirementPolicies = make([]RequirementPolicy, 0, len(sources)+1)
	for _, s := range sources {
		r.AuthenticationRequirementPolicies = append(r.AuthenticationRequirementPolicies, RequirementPolicy{RequirementProvider: providerWire[s], Detail: providerDetail[s]})
	}
	cov.sources = sources
	if f.multi && row.Float64() < 0.003 {
		r.AuthenticationRequirementPolicies = append(r.AuthenticationRequirementPolicies, RequirementPolicy{RequirementProvider: unknownProvider, Detail: "Quantum policy"})
		cov.sources = append(slices.Clip(cov.sources), SourceOther)
	}
	if len(cov.sources) == 0 {
		cov.sources = []string{SourceNone}
	}

	// Policy results.
	results := make([]string, numPolicies)
	for i, p := range simPolicies {
		switch p.state {
		case PolicyStateOff:
			results[i] = "notEnabled"
		case PolicyStateReportOnly:
			results[i] = "reportOnlyNotApplied"
		default:
			results[i] = "notApplied"
		}
	}
	succeeded := f.errorCode == 0 || f.errorCode == 50140
	enforced := ""
	switch {
	case f.outcome == OutcomeSatisfied:
		enforced = "success"
	case f.outcome == OutcomeDenied:
		enforced = "failure"
	}
	if enforced != "" && f.component == ComponentCloud {
		switch {
		case risky:
			results[polRiskMFA] = enforced
		case slices.Contains(sources, SourceCA) || slices.Contains(sources, SourceRegisterCA):
			switch {
			case f.admin:
				results[polAdminMFA] = enforced
			case f.guest:
				results[polGuestMFA] = enforced
			default:
				results[polAllUsersMFA] = enforced
			}
		}
	}
	if f.errorCode == 53003 { // blocked by Conditional Access
		if flow.IntN(3) == 0 {
			results[polBlockLegacy] = "failure"
		} else {
			results[polBlockCountries] = "failure"
		}
	}
	if !f.guest && f.interactive && succeeded && f.component == ComponentCloud {
		if row.Float64() < 0.7 {
			results[polCompliantDevice] = "reportOnlySuccess"
		} else {
			results[polCompliantDevice] = "reportOnlyFailure"
		}
	}
	if f.admin && f.outcome == OutcomeSatisfied {
		if phishingResistant[f.method] {
			results[polPhishingResistant] = "reportOnlySuccess"
		} else {
			results[polPhishingResistant] = "reportOnlyInterrupted"
		}
	}
	if !f.guest && succeeded && f.component == ComponentCloud {
		switch {
		case !f.multi && f.interactive:
			results[polPilotMFA] = "reportOnlyInterrupted"
		case f.outcome == OutcomeSatisfied:
			results[polPilotMFA] = "reportOnlySuccess"
		}
	}
	if !f.multi && f.interactive && succeeded && row.Float64() < 0.04 {
		results[polBlockDeviceCode] = "reportOnlyFailure"
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	// Graph lists every policy of the tenant on every row: that list is the bulk NoPadding
	// leaves out (flooded policies, which a test asks for, are listed all the same).
	r.AppliedConditionalAccessPolicies = []CAPolicy{}
	unknown := row.Float64() < 0.002
	if padded {
		cov.results = make([]uint8, numPolicies)
		for i, p := range simPolicies {
			wire := results[i]
			cov.results[i] = resultIndex(wire)
			r.AppliedConditionalAccessPolicies = append(r.AppliedConditionalAccessPolicies, caEntry(p.id, c.policyName(i), wire, p.rowGrants, p.session, p.strength, padded))
		}
	}
	if padded && unknown {
		// One evaluation carries a result no catalogue knows: it counts as "other", not as
		// what the policy would otherwise have shown.
		i := polPilotMFA
		r.AppliedConditionalAccessPolicies[i].Result = unknownResult
		cov.results[i] = resultInExtra
		cov.extra = append(cov.extra, PolicyKey{simPolicies[i].id, SourceOther})
	}
	conditionalAccessStatus(r, results)

	if c.floodApps > 0 {
		c.floodApps--
		c.floodNext++
		r.AppID, r.AppDisplayName = floodID(0xa, c.floodNext), fmt.Sprintf("Flood application %d", c.floodNext)
	}
	for n := min(c.floodPols, floodPerRow); n > 0; n-- {
		c.floodPols--
		c.floodNext++
		id := floodID(0xc, c.floodNext)
		wire := resultWires[row.IntN(len(resultWires))]
		r.AppliedConditionalAccessPolicies = append(r.AppliedConditionalAccessPolicies, caEntry(id, fmt.Sprintf("Flood policy %d", c.floodNext), wire, []string{"Mfa"}, nil, false, padded))
		cov.extra = append(cov.extra, PolicyKey{id, resultLabel[wire]})
	}
	cov.app = r.AppID
	if cov.app == "" {
		cov.app = SourceNone
	}
	return cov
}

func floodID(kind, n uint64) string {
	return fmt.Sprintf("f100d%03x-0000-4000-8000-%012x", kind, n)
}

// conditionalAccessStatus sets the row's overall status from its enforced policies: failure when
// one failed, success when one succeeded, notApplied otherwise (report-only results do not count).
func conditionalAccessStatus(r *Row, results []string) {
	status := "notApplied"
	for _, res := range results {
		switch res {
		case "failure":
			r.ConditionalAccessStatus = "failure"
			return
		case "success":
			status = "success"
		}
	}
	r.ConditionalAccessStatus = status
}

func caEntry(id, name, result string, grants, session []string, strength, padded bool) CAPolicy {
	p := CAPolicy{
		ID: id, DisplayName: name, Result: result,
		EnforcedGrantControls: nonNil(grants), EnforcedSessionControls: nonNil(session),
		IncludeRulesSatisfied: []RuleSatisfied{}, ExcludeRulesSatisfied: []RuleSatisfied{}, SessionControlsNotSatisfied: []string{},
	}
	if padded {
		p.ConditionsSatisfied, p.ConditionsNotSatisfied = "none", "none"
		if result != "notEnabled" && !strings.HasSuffix(result, "otApplied") {
			p.ConditionsSatisfied = "application,users"
			p.IncludeRulesSatisfied = []RuleSatisfied{
				{ConditionalAccessCondition: "application", RuleSatisfied: "allApps"},
				{ConditionalAccessCondition: "users", RuleSatisfied: "allUsers"},
			}
		}
	}
	if strength {
		p.AuthenticationStrength = &AuthenticationStrengthResult{
			AuthenticationStrengthID:     "00000000-0000-0000-0000-000000000004",
			DisplayName:                  "Phishing-resistant MFA",
			AuthenticationStrengthResult: "notApplied",
		}
	}
	return p
}

func pickApp(x float64, clientApp string, multi bool) simApp {
	weight := func(a simApp) float64 {
		if a.clientApp != clientApp {
			return 0
		}
		if multi {
			return a.multi
		}
		return a.single
	}
	total := 0.0
	for _, a := range simApps {
		total += weight(a)
	}
	if total == 0 {
		return simApps[0]
	}
	x *= total
	for _, a := range simApps {
		if x < weight(a) {
			return a
		}
		x -= weight(a)
	}
	return simApps[len(simApps)-1]
}

// FloodCoverage makes the rows generated from now on carry policies and applications never seen
// before, as a hostile or broken Graph could: policies distinct policy ids in all (a hundred new
// ones per row, on top of the tenant's own) and apps distinct application ids (one per row), each
// a valid GUID. The flood ends when both are used up; FloodRemaining tells how much is left.
func (t *Tenant) FloodCoverage(policies, apps int) {
	c := &t.gen.cov
	c.mu.Lock()
	defer c.mu.Unlock()
	c.floodPols += max(policies, 0)
	c.floodApps += max(apps, 0)
}

// FloodRemaining returns the distinct policies and applications FloodCoverage has still to emit.
func (t *Tenant) FloodRemaining() (policies, apps int) {
	c := &t.gen.cov
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.floodPols, c.floodApps
}

// SetPolicyReadAll grants or withdraws the app's Policy.Read.All permission (granted by default).
// Without it, as in Graph, the policy inventory answers 403 Authorization_RequestDenied and
// sign-in rows are served without appliedConditionalAccessPolicies.
func (t *Tenant) SetPolicyReadAll(granted bool) { t.gen.cov.policyDeny.Store(!granted) }

// ErrNoPolicy is returned by RenamePolicy for an id the tenant does not have.
var ErrNoPolicy = fmt.Errorf("simtenant: no such policy")

// RenamePolicy renames one of the tenant's policies: the inventory and the rows generated from
// now on carry the new name (rows already stored keep the old one, as Graph's do).
func (t *Tenant) RenamePolicy(id, name string) error {
	if !slices.ContainsFunc(simPolicies, func(p simPolicy) bool { return p.id == id }) {
		return fmt.Errorf("%w: %q", ErrNoPolicy, id)
	}
	c := &t.gen.cov
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.names == nil {
		c.names = map[string]string{}
	}
	c.names[id] = name
	return nil
}

// PolicyInfo describes one of the simulated tenant's Conditional Access policies.
type PolicyInfo struct {
	ID, Name, State string
	// GrantControls are the policy API's builtInControls, plus "authenticationStrength".
	GrantControls []string
}

// Policies lists the tenant's Conditional Access policies (not the flooded ones).
func (t *Tenant) Policies() []PolicyInfo {
	c := &t.gen.cov
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]PolicyInfo, len(simPolicies))
	for i, p := range simPolicies {
		g := slices.Clone(p.apiGrants)
		if p.strength {
			g = append(g, "authenticationStrength")
		}
		out[i] = PolicyInfo{ID: p.id, Name: c.policyName(i), State: p.state, GrantControls: g}
	}
	return out
}

// Applications returns the id and name of every application the generator signs into.
func Applications() map[string]string {
	out := make(map[string]string, len(simApps))
	for _, a := range simApps {
		out[a.id] = a.name
	}
	return out
}

// policyFields are the conditionalAccessPolicy properties the inventory serves and $select may
// name.
var policyFields = []string{"id", "displayName", "state", "createdDateTime", "modifiedDateTime", "conditions", "grantControls", "sessionControls"}

// handlePolicies serves GET /v1.0/identity/conditionalAccess/policies. List policies documents
// $select, $top, $skip, $filter, $orderby and $count; $select, $top and the next links' $skiptoken
// are simulated, the others answer 400 (not simulated). Policies come in id order.
func (t *Tenant) handlePolicies(w http.ResponseWriter, r *http.Request) {
	if _, ok := t.admit(w, r, RoutePolicies); !ok {
		return
	}
	if t.gen.cov.policyDeny.Load() {
		writeGraphError(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return
	}
	values := r.URL.Query()
	selects := policyFields
	offset, top := 0, t.opts.PageSize
	for k, v := range values {
		if len(v) > 1 {
			writeGraphError(w, http.StatusBadRequest, "BadRequest", "Query option '"+k+"' was specified more than once, but it must be specified at most once.")
			return
		}
		switch k {
		case "$select":
			selects = []string{"id"}
			for _, f := range strings.Split(v[0], ",") {
				f = strings.TrimSpace(f)
				if !slices.Contains(policyFields, f) {
					writeGraphError(w, http.StatusBadRequest, "BadRequest", "Could not find a property named '"+f+"' on type 'microsoft.graph.conditionalAccessPolicy'.")
					return
				}
				if !slices.Contains(selects, f) {
					selects = append(selects, f)
				}
			}
		case "$top":
			n, err := strconv.Atoi(v[0])
			if err != nil || n < 1 || n > maxTop {
				writeGraphError(w, http.StatusBadRequest, "BadRequest", "Invalid page size specified: '"+v[0]+"'.")
				return
			}
			top = min(n, t.opts.PageSize)
		case "$skiptoken":
			tok, err := decodeListToken(v[0], values)
			if err != nil {
				writeGraphError(w, http.StatusBadRequest, "BadRequest", err.Error())
				return
			}
			offset = tok.Offset
		default:
			writeGraphError(w, http.StatusBadRequest, "BadRequest", "Query option '"+strings.TrimPrefix(k, "$")+"' is not supported by the simulated tenant.")
			return
		}
	}
	policies := t.Policies()
	slices.SortFunc(policies, func(a, b PolicyInfo) int { return strings.Compare(a.ID, b.ID) })
	lo := min(offset, len(policies))
	hi := min(lo+top, len(policies))
	page := make([]map[string]any, 0, hi-lo)
	for _, p := range policies[lo:hi] {
		full := policyObject(p)
		out := make(map[string]any, len(selects))
		for _, f := range selects {
			out[f] = full[f]
		}
		page = append(page, out)
	}
	body := map[string]any{"@odata.context": t.base + "/v1.0/$metadata#identity/conditionalAccess/policies", "value": page}
	if hi < len(policies) {
		body["@odata.nextLink"] = t.base + RoutePolicies + "?" + nextQuery(values, encodeListToken(values, hi, 0))
	}
	w.Header().Set("request-id", requestID())
	writeJSON(w, http.StatusOK, body)
}

// policyObject is a policy as the v1.0 API returns it (conditions reduced to the essentials).
func policyObject(p PolicyInfo) map[string]any {
	created := time.Date(2024, 5, 14, 9, 30, 0, 0, time.UTC)
	obj := map[string]any{
		"id": p.ID, "displayName": p.Name, "state": p.State,
		"createdDateTime": created.Format(time.RFC3339), "modifiedDateTime": created.Add(90 * 24 * time.Hour).Format(time.RFC3339),
		"conditions": map[string]any{
			"clientAppTypes": []string{"all"},
			"applications":   map[string]any{"includeApplications": []string{"All"}, "excludeApplications": []string{}},
			"users":          map[string]any{"includeUsers": []string{"All"}, "excludeUsers": []string{}, "excludeGroups": []string{"5d3c7a1e-2b4f-4e8a-9c6d-1f0e2a3b4c5d"}},
		},
		"sessionControls": nil,
	}
	var builtIn []string
	strength := false
	for _, g := range p.GrantControls {
		if g == "authenticationStrength" {
			strength = true
		} else {
			builtIn = append(builtIn, g)
		}
	}
	if builtIn == nil {
		builtIn = []string{}
	}
	grant := map[string]any{"operator": "OR", "builtInControls": builtIn, "customAuthenticationFactors": []string{}, "termsOfUse": []string{}, "authenticationStrength": nil}
	if strength {
		grant["authenticationStrength"] = map[string]any{
			"id": "00000000-0000-0000-0000-000000000004", "displayName": "Phishing-resistant MFA",
			"policyType": "builtIn", "requirementsSatisfied": "mfa",
			"allowedCombinations": []string{"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"},
		}
	}
	obj["grantControls"] = grant
	return obj
}

// withoutPolicies drops appliedConditionalAccessPolicies from a served row, as Graph does for an
// app without Policy.Read.All.
func withoutPolicies(b []byte) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return b
	}
	delete(m, "appliedConditionalAccessPolicies")
	out, err := json.Marshal(m)
	if err != nil {
		return b
	}
	return out
}

// coverRow is the generator's hook: it describes the row being emitted to cover.
func (g *generator) coverRow(r *Row, s *rowSpec, u simUser, f *flow) *rowCoverage {
	facts := rowFacts{
		errorCode: s.errorCode, interactive: s.interactive, multi: s.requirement == "multiFactorAuthentication",
		component: ComponentCloud, admin: u.admin, guest: u.guest,
	}
	if s.attempt != nil {
		facts.outcome, facts.method, facts.component = s.attempt.Outcome, s.attempt.Method, s.attempt.Component
	}
	cov := g.cov.cover(r, facts, u, f.corr, g.padding)
	if f.pinnedApp {
		r.AppID, r.AppDisplayName = f.app.id, f.app.name
		cov.app = f.app.id
	}
	return cov
}
