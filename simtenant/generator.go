package simtenant

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// RowKey groups generated rows by event type and status.errorCode.
type RowKey struct {
	EventType string
	ErrorCode int
}

// AttemptKey groups MFA attempts (rows whose intended outcome is satisfied
// or denied) by the labels the exporter is expected to derive.
type AttemptKey struct {
	Outcome, Method, Reason, Component string
}

// Truth is the generator's record of what it meant to produce, kept from its
// intent rather than by reading the JSON back. Fixture rows and AddRows rows
// are not part of it.
type Truth struct {
	Flows           int
	Rows            map[RowKey]int
	Attempts        map[AttemptKey]int
	UsersChallenged int // distinct users with at least one MFA attempt
	UsersFailed     int // distinct users with at least one denied attempt
	Coverage        CoverageTruth
}

// intent is one generated row as the generator meant it.
type intent struct {
	eventType string
	errorCode int
	attempt   *AttemptKey
	user      int
	visibleAt time.Time
	cov       *rowCoverage
}

type simUser struct {
	id, upn, name          string
	guest, admin, disabled bool
	ip                     string
}

type app struct {
	id, name, resourceID, resourceName, clientApp string
}

var apps = []app{
	{"1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams", "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe", "Microsoft Teams Services", "Mobile Apps and Desktop clients"},
	{"c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal", "797f4846-ba00-4fd7-ba43-dac1f8f63013", "Windows Azure Service Management API", "Browser"},
	{"4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome", "00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online", "Browser"},
	{"27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook Mobile", "00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online", "Mobile Apps and Desktop clients"},
	{"d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office", "00000003-0000-0000-c000-000000000000", "Microsoft Graph", "Mobile Apps and Desktop clients"},
	{"29d9ed98-a469-4536-ade2-f981bc1d605e", "Microsoft Authentication Broker", "00000003-0000-0000-c000-000000000000", "Microsoft Graph", "Mobile Apps and Desktop clients"},
}

type generator struct {
	rng      *rand.Rand
	tenantID string
	scale    float64
	padding  bool
	users    []simUser
	enabled  []int
	disabled []int
	guests   []int

	flows   int
	intents []intent // not folded into settled yet
	// settled aggregates the intents visible by settledAt; folding them keeps the generator's
	// memory bounded by the retention window while Truth stays exact.
	settled   truthAgg
	settledAt time.Time
	nextFold  int

	cov                     coverageGen // coverage.go
	scenarios, scenarioBase int         // scenarios played, index of the first scenario user (scenarios.go)
}

// truthAgg is Truth's counts without the flow count; user sets hold generator user indexes, so
// they are bounded by Options.Users.
type truthAgg struct {
	rows       map[RowKey]int
	attempts   map[AttemptKey]int
	challenged map[int]bool
	failed     map[int]bool
	cov        coverageAgg
}

func newTruthAgg() truthAgg {
	return truthAgg{rows: map[RowKey]int{}, attempts: map[AttemptKey]int{}, challenged: map[int]bool{}, failed: map[int]bool{}, cov: newCoverageAgg()}
}

func (a *truthAgg) add(in *intent) {
	a.rows[RowKey{in.eventType, in.errorCode}]++
	a.cov.add(in.cov)
	if in.attempt != nil {
		a.attempts[*in.attempt]++
		a.challenged[in.user] = true
		if in.attempt.Outcome == OutcomeDenied {
			a.failed[in.user] = true
		}
	}
}

func (a *truthAgg) clone() truthAgg {
	return truthAgg{rows: maps.Clone(a.rows), attempts: maps.Clone(a.attempts), challenged: maps.Clone(a.challenged), failed: maps.Clone(a.failed), cov: a.cov.clone()}
}

// minFold is the fewest pending intents worth a folding pass; passes are spaced so that their
// cost stays proportional to the intents generated.
const minFold = 4096

// fold moves every intent visible by watermark into settled, and, when more than maxPending
// remain, also the earliest-visible ones down to half of maxPending. It runs only once the
// pending intents have doubled since the last pass.
func (g *generator) fold(watermark time.Time, maxPending int) {
	if len(g.intents) < max(g.nextFold, minFold) {
		return
	}
	if len(g.intents) > maxPending {
		vis := make([]time.Time, len(g.intents))
		for i := range g.intents {
			vis[i] = g.intents[i].visibleAt
		}
		slices.SortFunc(vis, time.Time.Compare)
		if wm := vis[len(vis)-maxPending/2-1]; wm.After(watermark) {
			watermark = wm
		}
	}
	if watermark.After(g.settledAt) {
		keep := g.intents[:0]
		for i := range g.intents {
			if g.intents[i].visibleAt.After(watermark) {
				keep = append(keep, g.intents[i])
			} else {
				g.settled.add(&g.intents[i])
			}
		}
		clear(g.intents[len(keep):])
		g.intents = keep
		g.settledAt = watermark
		if cap(g.intents) > 4*max(len(g.intents), minFold) { // give back a backing array sized for a burst
			g.intents = slices.Clone(g.intents)
		}
	}
	g.nextFold = 2 * len(g.intents)
}

func newGenerator(opts Options) *generator {
	g := &generator{
		rng:      rand.New(rand.NewPCG(uint64(opts.Seed), 0x51a7e5)),
		tenantID: opts.TenantID,
		scale:    opts.LatenessScale,
		padding:  !opts.NoPadding,
		settled:  newTruthAgg(),
	}
	for i := 1; i <= opts.Users; i++ {
		u := simUser{id: guid(g.rng), name: fmt.Sprintf("User %03d", i), upn: fmt.Sprintf("user%03d@contoso.example", i)}
		switch r := g.rng.Float64(); {
		case r < 0.04:
			u.disabled = true
		case r < 0.12:
			u.guest = true
			u.upn = fmt.Sprintf("user%03d_fabrikam.example#EXT#@contoso.example", i)
		case r < 0.15:
			u.admin = true
		}
		u.ip = fmt.Sprintf("%s.%d", []string{"192.0.2", "198.51.100", "203.0.113"}[g.rng.IntN(3)], 1+g.rng.IntN(254))
		g.users = append(g.users, u)
		idx := len(g.users) - 1
		if u.disabled {
			g.disabled = append(g.disabled, idx)
		} else {
			g.enabled = append(g.enabled, idx)
		}
		if u.guest {
			g.guests = append(g.guests, idx)
		}
	}
	if len(g.enabled) == 0 { // tiny populations: keep flows possible
		g.enabled = append(g.enabled, 0)
		g.users[0].disabled = false
	}
	return g
}

// flowKinds are the weighted sign-in scenarios. Weights are per flow, not
// per row; rare reasons get enough weight that each shows up within a few
// thousand flows.
var flowKinds = []struct {
	name   string
	weight float64
	run    func(*generator, *flow)
}{
	{"single_factor", 17, (*generator).flowSingleFactor},
	{"noninteractive_single_factor", 10, (*generator).flowNonInteractiveSingle},
	{"noninteractive_claim", 9, (*generator).flowNonInteractiveClaim},
	{"interactive_claim", 6, (*generator).flowInteractiveClaim},
	{"push", 14, (*generator).flowPush},
	{"text_message", 4, (*generator).flowSMS},
	{"phone_call", 2.5, (*generator).flowPhoneCall},
	{"oath", 3, (*generator).flowOATH},
	{"passwordless", 7, (*generator).flowPasswordless},
	{"wrong_password", 4, (*generator).flowWrongPassword},
	{"ca_block", 2, (*generator).flowCABlock},
	{"disabled_account", 0.8, (*generator).flowDisabled},
	{"nps_extension", 2.5, (*generator).flowNPS},
	{"adfs_adapter", 2, (*generator).flowADFS},
	{"skipped", 5, (*generator).flowSkipped},
	{"registration", 1.2, (*generator).flowRegistration},
	{"expired", 1.2, (*generator).flowExpired},
	{"external", 1.2, (*generator).flowExternal},
	{"email_otp", 1.2, (*generator).flowEmailOTP},
	{"denied_any", 7, (*generator).flowDeniedAny},
	{"fraud", 0.5, (*generator).flowFraud},
	{"fatigue", 0.3, (*generator).flowFatigue},
}

var flowWeightTotal = func() float64 {
	s := 0.0
	for _, k := range flowKinds {
		s += k.weight
	}
	return s
}()

// flow collects the rows of one scenario. end is the generator-clock time of
// the last row; earlier rows are back-dated so no row lies in the future.
type flow struct {
	end  time.Time
	skew time.Duration
	user int
	corr string
	app  app
	// pinnedApp keeps app on every row of the flow (scripted scenarios name their application);
	// otherwise the coverage model picks the flow's application (coverage.go).
	pinnedApp bool
	rows      []Row
	notes     []intent
}

// generate runs one randomly chosen flow ending at end.
func (g *generator) generate(end time.Time, skew time.Duration) ([]Row, []intent) {
	f := g.newFlow(end, skew, g.pickEnabled())
	x := g.rng.Float64() * flowWeightTotal
	for _, k := range flowKinds {
		if x < k.weight {
			k.run(g, f)
			break
		}
		x -= k.weight
	}
	if len(f.rows) == 0 { // float rounding fell past the last kind
		g.flowSingleFactor(f)
	}
	return g.finish(f)
}

func (g *generator) newFlow(end time.Time, skew time.Duration, user int) *flow {
	return &flow{end: end, skew: skew, user: user, corr: guid(g.rng), app: apps[g.rng.IntN(len(apps))]}
}

func (g *generator) finish(f *flow) ([]Row, []intent) {
	g.flows++
	for i := range f.notes {
		f.rows[i].VisibleAt = f.notes[i].visibleAt
	}
	g.intents = append(g.intents, f.notes...)
	return f.rows, f.notes
}

func (g *generator) pickEnabled() int { return g.enabled[g.rng.IntN(len(g.enabled))] }

// rowSpec describes one row of a flow.
type rowSpec struct {
	ago            time.Duration // before flow end
	interactive    bool
	errorCode      int
	failureReason  string
	details        string
	requirement    string
	steps          []AuthStep
	attempt        *AttemptKey
	caStatus       string
	tokenIssuer    string
	resourceID     string
	resourceName   string
	appName, appID string
}

func (g *generator) emit(f *flow, s rowSpec) {
	u := g.users[f.user]
	genAt := f.end.Add(-s.ago)
	created := secondsUTC(genAt.Add(f.skew))
	r := Row{
		ID:                                   guid(g.rng),
		CreatedDateTime:                      created,
		UserDisplayName:                      u.name,
		UserPrincipalName:                    u.upn,
		UserID:                               u.id,
		UserType:                             "member",
		AppID:                                f.app.id,
		AppDisplayName:                       f.app.name,
		AppOwnerTenantID:                     "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
		IPAddress:                            u.ip,
		ClientAppUsed:                        f.app.clientApp,
		ClientCredentialType:                 "none",
		CorrelationID:                        f.corr,
		ConditionalAccessStatus:              s.caStatus,
		IsInteractive:                        s.interactive,
		TokenIssuerName:                      "",
		TokenIssuerType:                      "AzureAD",
		ResourceDisplayName:                  f.app.resourceName,
		ResourceID:                           f.app.resourceID,
		ResourceTenantID:                     g.tenantID,
		ResourceOwnerTenantID:                g.tenantID,
		HomeTenantID:                         g.tenantID,
		HomeTenantName:                       "Contoso",
		CrossTenantAccessType:                "none",
		ServicePrincipalID:                   "",
		SignInIdentifier:                     u.upn,
		AuthenticationRequirement:            s.requirement,
		Status:                               Status{ErrorCode: s.errorCode, FailureReason: s.failureReason, AdditionalDetails: s.details},
		AuthenticationDetails:                s.steps,
		AuthenticationRequirementPolicies:    []RequirementPolicy{},
		AuthenticationMethodsUsed:            []string{},
		SignInEventTypes:                     []string{EventInteractive},
		AuthenticationContextClassReferences: nil,
	}
	if u.guest {
		r.UserType = "guest"
		r.HomeTenantID = "2f8c4b1a-9d3e-4f5a-8b6c-7d8e9f0a1b2c"
		r.HomeTenantName = "Fabrikam"
		r.CrossTenantAccessType = "b2bCollaboration"
	}
	if !s.interactive {
		r.SignInEventTypes = []string{EventNonInteractive}
	}
	if s.caStatus == "" {
		r.ConditionalAccessStatus = "success"
	}
	if s.tokenIssuer != "" {
		r.TokenIssuerType = s.tokenIssuer
		r.ResourceID, r.ResourceDisplayName = s.resourceID, s.resourceName
		r.AppID, r.AppDisplayName = s.appID, s.appName
		r.ClientAppUsed = "Other clients"
	}
	for i := range r.AuthenticationDetails {
		r.AuthenticationDetails[i].AuthenticationStepDateTime = created
		if m := r.AuthenticationDetails[i].AuthenticationMethod; m != "" && m != "Previously satisfied" && !slices.Contains(r.AuthenticationMethodsUsed, m) {
			r.AuthenticationMethodsUsed = append(r.AuthenticationMethodsUsed, m)
		}
	}
	if g.padding {
		decorate(&r, g.rng)
	}
	cov := g.coverRow(&r, &s, u, f) // after decorate, whose draws it must not disturb
	eventType := EventInteractive
	if !s.interactive {
		eventType = EventNonInteractive
	}
	f.rows = append(f.rows, r)
	f.notes = append(f.notes, intent{
		eventType: eventType,
		errorCode: s.errorCode,
		attempt:   s.attempt,
		user:      f.user,
		visibleAt: genAt.Add(g.lateness(s.attempt != nil)),
		cov:       cov,
	})
}

// latenessQuantiles are points of the ingestion-delay distribution in
// seconds: median 40 s, 95th percentile 2 min, 99th 5 min.
var latenessQuantiles = []struct{ p, secs float64 }{
	{0, 3}, {0.5, 40}, {0.95, 120}, {0.99, 300}, {1, 540},
}

// lateness draws an ingestion delay by log-linear interpolation between the
// quantiles; 2% of MFA outcome rows fall in the 10-15 minute tail that
// Microsoft documents for MFA events.
func (g *generator) lateness(mfa bool) time.Duration {
	u := g.rng.Float64()
	tail := g.rng.Float64()
	if g.scale < 0 {
		return 0
	}
	var secs float64
	if mfa && tail < 0.02 {
		secs = 600 + 300*u
	} else {
		for i := 1; i < len(latenessQuantiles); i++ {
			a, b := latenessQuantiles[i-1], latenessQuantiles[i]
			if u <= b.p {
				frac := (u - a.p) / (b.p - a.p)
				secs = math.Exp(math.Log(a.secs) + frac*(math.Log(b.secs)-math.Log(a.secs)))
				break
			}
		}
	}
	return time.Duration(secs * g.scale * float64(time.Second))
}

// phrase picks the wire string for a reason label: mostly canonical, about
// 5% a drifted wording, 0.5% a string no catalogue knows (truth "other").
func (g *generator) phrase(outcome, reason string) (wire, truthReason string) {
	w := reasonWire[reason]
	x := g.rng.Float64()
	switch {
	case x < 0.005:
		if outcome == OutcomeDenied {
			return unknownDenied[g.rng.IntN(len(unknownDenied))], ReasonOther
		}
		return unknownSatisfied[g.rng.IntN(len(unknownSatisfied))], ReasonOther
	case x < 0.055:
		variants := w.variants
		if outcome == OutcomeDenied {
			variants = append(slices.Clip(variants), "MFA Denied; "+w.canonical[len("MFA denied; "):])
		}
		if len(variants) > 0 {
			return variants[g.rng.IntN(len(variants))], reason
		}
	}
	return w.canonical, reason
}

func (g *generator) methodName(method string) (name, detail string) {
	m := methodWire[method]
	if len(m.variants) > 0 && g.rng.Float64() < 0.03 {
		return m.variants[g.rng.IntN(len(m.variants))], m.detail
	}
	return m.canonical, m.detail
}

// maskedPhone is the phone number a text message or call went to, as the sign-in log shows it:
// masked but for the last two digits, which differ between users (personal data all the same:
// the exporter must never put it in a label).
func maskedPhone(user int) string {
	return fmt.Sprintf("+1 XXXXXXXX%02d", user%100)
}

func passwordStep() AuthStep {
	return AuthStep{AuthenticationMethod: "Password", AuthenticationMethodDetail: "Password Hash Sync", Succeeded: true, AuthenticationStepResultDetail: detailCorrectPwd, AuthenticationStepRequirement: "Primary authentication", StatusSequence: 0, RequestSequence: 0}
}

func claimFirstStep() AuthStep {
	return AuthStep{AuthenticationMethod: "Previously satisfied", Succeeded: true, AuthenticationStepResultDetail: detailFirstByClaim, AuthenticationStepRequirement: "Primary authentication"}
}

var singleStepMethods = map[string]bool{
	MethodFIDO2: true, MethodWHfB: true, MethodPasskey: true, MethodAuthPasswordless: true, MethodTAP: true, MethodCertificate: true,
}

// mfaOutcome emits the row that carries an MFA attempt's outcome.
// With kmsi the row is the keep-me-signed-in interrupt written after the
// MFA step succeeded.
func (g *generator) mfaOutcome(f *flow, ago time.Duration, interactive bool, outcome, method, reason, component string, kmsi bool) {
	wire, truthReason := g.phrase(outcome, reason)
	name, detail := g.methodName(method)
	if method == MethodSMS || method == MethodPhoneCall {
		detail = maskedPhone(f.user)
	}
	mfa := AuthStep{
		AuthenticationMethod:           name,
		AuthenticationMethodDetail:     detail,
		Succeeded:                      outcome == OutcomeSatisfied,
		AuthenticationStepResultDetail: wire,
		AuthenticationStepRequirement:  "Secondary authentication",
		StatusSequence:                 g.rng.IntN(1 << 20),
	}
	var steps []AuthStep
	switch {
	case component != ComponentCloud || singleStepMethods[method]:
		steps = []AuthStep{mfa}
	case method == MethodPreviouslySatisfy || !interactive:
		steps = []AuthStep{claimFirstStep(), mfa}
	case g.rng.IntN(4) == 0:
		steps = []AuthStep{claimFirstStep(), mfa}
	default:
		steps = []AuthStep{passwordStep(), mfa}
	}
	s := rowSpec{
		ago:         ago,
		interactive: interactive,
		requirement: "multiFactorAuthentication",
		steps:       steps,
		details:     wire,
		attempt:     &AttemptKey{Outcome: outcome, Method: method, Reason: truthReason, Component: component},
	}
	switch {
	case kmsi:
		s.errorCode, s.failureReason = 50140, failureKMSI
	case outcome == OutcomeSatisfied:
		s.failureReason = failureOther
	default:
		s.errorCode, s.failureReason, s.caStatus = 500121, failureStrongAuth, "notApplied"
	}
	switch component {
	case ComponentNPS:
		s.tokenIssuer, s.resourceID, s.resourceName = "NPSExtension", "radius", "RADIUS"
		s.appID, s.appName = "", "NPS Extension"
	case ComponentADFS:
		s.tokenIssuer, s.resourceID, s.resourceName = "ADFederationServicesMFAAdapter", "adfs", "AD FS"
		s.appID, s.appName = "", "AD FS MFA Adapter"
	}
	g.emit(f, s)
}

func (g *generator) interrupt(f *flow, ago time.Duration, code int, reason string) {
	g.emit(f, rowSpec{
		ago: ago, interactive: true, errorCode: code, failureReason: reason, details: detailMFARequired,
		requirement: "multiFactorAuthentication", steps: []AuthStep{passwordStep()}, caStatus: "notApplied",
	})
}

// challenge is the usual interactive MFA: a 50074 interrupt, then the
// outcome row sharing its correlationId. After a success the user is
// sometimes asked "Stay signed in?": the outcome row is then a 50140
// interrupt that carries the MFA step (the MFA itself succeeded), and a
// final 0 row follows, satisfied by the claim in the token. Both are
// satisfied rows, so both count as attempts.
func (g *generator) challenge(f *flow, outcome, method, reason string) {
	withKMSI := outcome == OutcomeSatisfied && g.rng.IntN(10) < 3
	outcomeAgo := time.Duration(0)
	if withKMSI {
		outcomeAgo = time.Duration(2+g.rng.IntN(5)) * time.Second
	}
	g.interrupt(f, outcomeAgo+time.Duration(8+g.rng.IntN(40))*time.Second, 50074, failureInterrupt)
	g.mfaOutcome(f, outcomeAgo, true, outcome, method, reason, ComponentCloud, withKMSI)
	if withKMSI {
		g.mfaOutcome(f, 0, true, OutcomeSatisfied, MethodPreviouslySatisfy, "claim_in_token", ComponentCloud, false)
	}
}

func (g *generator) deniedFor(method string, weights map[string]int) string {
	// Walk DeniedReasons (fixed order) rather than the map, so the draw is
	// deterministic.
	total := 0
	for _, r := range DeniedReasons {
		total += weights[r]
	}
	x := g.rng.IntN(total)
	for _, r := range DeniedReasons {
		if x < weights[r] {
			return r
		}
		x -= weights[r]
	}
	panic("simtenant: denied reason weights for " + method + " are inconsistent")
}

func (g *generator) methodChallenge(f *flow, method string, satisfiedShare float64, denied map[string]int) {
	if g.rng.Float64() < satisfiedShare {
		reason := "successfully_completed"
		if g.rng.IntN(100) < 40 {
			reason = "completed_in_cloud"
		}
		g.challenge(f, OutcomeSatisfied, method, reason)
		return
	}
	g.challenge(f, OutcomeDenied, method, g.deniedFor(method, denied))
}

func (g *generator) flowPush(f *flow) {
	g.methodChallenge(f, MethodPush, 0.88, map[string]int{
		"user_declined": 35, "no_response_to_notification": 40, "unable_to_send_notification_to_device": 5,
		"unable_to_send_notification": 4, "invalid_mobile_app_verification_code": 6, "duplicate_authentication_attempt": 4,
		"authentication_in_progress": 3, "fraud_reported": 2, "service_error": 1,
	})
}

func (g *generator) flowSMS(f *flow) {
	g.methodChallenge(f, MethodSMS, 0.85, map[string]int{
		"incorrect_code": 40, "verification_code_never_entered": 35, "incorrect_code_too_many_times": 10,
		"invalid_phone_number_format": 5, "service_error": 5, "invalid_authentication": 5,
	})
}

func (g *generator) flowPhoneCall(f *flow) {
	g.methodChallenge(f, MethodPhoneCall, 0.8, map[string]int{
		"phone_call_went_to_voicemail": 35, "user_hung_up": 25, "unable_to_reach_phone": 15,
		"incorrect_pin": 10, "invalid_phone_number_format": 5, "misconfiguration": 5, "user_blocked": 5,
	})
}

func (g *generator) flowOATH(f *flow) {
	g.methodChallenge(f, MethodOATH, 0.9, map[string]int{
		"incorrect_code": 60, "verification_code_already_used": 20, "incorrect_code_too_many_times": 10, "verification_code_never_entered": 10,
	})
}

func (g *generator) flowSingleFactor(f *flow) {
	g.emit(f, rowSpec{interactive: true, failureReason: failureOther, requirement: "singleFactorAuthentication", steps: []AuthStep{passwordStep()}, caStatus: "notApplied"})
}

func (g *generator) flowNonInteractiveSingle(f *flow) {
	n := 1 + g.rng.IntN(3)
	for i := range n {
		g.emit(f, rowSpec{
			ago: time.Duration(n-1-i) * time.Duration(30+g.rng.IntN(300)) * time.Second, failureReason: failureOther,
			requirement: "singleFactorAuthentication", steps: []AuthStep{claimFirstStep()}, caStatus: "notApplied",
		})
	}
}

func (g *generator) flowNonInteractiveClaim(f *flow) {
	n := 1 + g.rng.IntN(3)
	for i := range n {
		g.mfaOutcome(f, time.Duration(n-1-i)*time.Duration(30+g.rng.IntN(300))*time.Second, false,
			OutcomeSatisfied, MethodPreviouslySatisfy, "claim_in_token", ComponentCloud, false)
	}
}

func (g *generator) flowInteractiveClaim(f *flow) {
	g.mfaOutcome(f, 0, true, OutcomeSatisfied, MethodPreviouslySatisfy, "claim_in_token", ComponentCloud, false)
}

var passwordlessMethods = []string{MethodFIDO2, MethodWHfB, MethodPasskey, MethodAuthPasswordless, MethodTAP, MethodCertificate}

func (g *generator) flowPasswordless(f *flow) {
	m := passwordlessMethods[g.rng.IntN(len(passwordlessMethods))]
	g.mfaOutcome(f, 0, true, OutcomeSatisfied, m, "strong_authentication", ComponentCloud, false)
}

func (g *generator) flowWrongPassword(f *flow) {
	step := passwordStep()
	step.Succeeded, step.AuthenticationStepResultDetail = false, detailWrongPwd
	g.emit(f, rowSpec{interactive: true, errorCode: 50126, failureReason: failurePassword, requirement: "singleFactorAuthentication", steps: []AuthStep{step}, caStatus: "notApplied"})
}

func (g *generator) flowCABlock(f *flow) {
	g.emit(f, rowSpec{interactive: true, errorCode: 53003, failureReason: failureCABlock, requirement: "singleFactorAuthentication", steps: []AuthStep{passwordStep()}, caStatus: "failure"})
}

func (g *generator) flowDisabled(f *flow) {
	if len(g.disabled) > 0 {
		f.user = g.disabled[g.rng.IntN(len(g.disabled))]
	}
	g.emit(f, rowSpec{interactive: true, errorCode: 50057, failureReason: failureDisabled, requirement: "singleFactorAuthentication", steps: []AuthStep{}, caStatus: "notApplied"})
}

// component flows: the NPS extension and the AD FS adapter write one row per
// MFA, without the cloud interrupt.
func (g *generator) componentFlow(f *flow, component string, methods []string, denied map[string][]string) {
	m := methods[g.rng.IntN(len(methods))]
	if g.rng.Float64() < 0.75 {
		g.mfaOutcome(f, 0, true, OutcomeSatisfied, m, "successfully_completed", component, false)
		return
	}
	reasons := denied[m]
	g.mfaOutcome(f, 0, true, OutcomeDenied, m, reasons[g.rng.IntN(len(reasons))], component, false)
}

func (g *generator) flowNPS(f *flow) {
	g.componentFlow(f, ComponentNPS, []string{MethodPush, MethodPush, MethodPhoneCall}, map[string][]string{
		MethodPush:      {"user_declined", "no_response_to_notification", "authentication_in_progress", "user_not_found"},
		MethodPhoneCall: {"phone_call_went_to_voicemail", "user_hung_up", "no_verification_methods_registered", "authentication_in_progress"},
	})
}

func (g *generator) flowADFS(f *flow) {
	g.componentFlow(f, ComponentADFS, []string{MethodPush, MethodOATH, MethodPhoneCall}, map[string][]string{
		MethodPush:      {"user_declined", "no_response_to_notification"},
		MethodOATH:      {"incorrect_code", "verification_code_already_used"},
		MethodPhoneCall: {"user_hung_up", "phone_call_went_to_voicemail"},
	})
}

var skippedReasons = []string{"skipped_windows_broker_logon", "skipped_app_password", "skipped_location", "skipped_registered_device", "skipped_remembered_device"}

func (g *generator) flowSkipped(f *flow) {
	r := skippedReasons[g.rng.IntN(len(skippedReasons))]
	g.mfaOutcome(f, 0, true, OutcomeSatisfied, MethodPreviouslySatisfy, r, ComponentCloud, false)
}

func (g *generator) flowRegistration(f *flow) {
	m := []string{MethodPush, MethodSMS}[g.rng.IntN(2)]
	g.interrupt(f, time.Duration(30+g.rng.IntN(120))*time.Second, 50079,
		"Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication.")
	g.mfaOutcome(f, 0, true, OutcomeSatisfied, m, "registration_prompted", ComponentCloud, false)
}

func (g *generator) flowExpired(f *flow) {
	m := []string{MethodPush, MethodSMS, MethodOATH}[g.rng.IntN(3)]
	g.interrupt(f, time.Duration(10+g.rng.IntN(40))*time.Second, 50078,
		"Presented multi-factor authentication has expired due to policies configured by your administrator, you must refresh your multi-factor authentication to access the resource.")
	g.mfaOutcome(f, 0, true, OutcomeSatisfied, m, "expired_by_tenant_policy", ComponentCloud, false)
}

func (g *generator) flowExternal(f *flow) {
	g.mfaOutcome(f, 0, true, OutcomeSatisfied, MethodExternal, "claim_by_external_provider", ComponentCloud, false)
}

func (g *generator) flowEmailOTP(f *flow) {
	if len(g.guests) > 0 {
		f.user = g.guests[g.rng.IntN(len(g.guests))]
	}
	g.challenge(f, OutcomeSatisfied, MethodEmailOTP, "successfully_completed")
}

// flowDeniedAny spreads denials evenly over every denied reason so that
// rare reasons appear in modest samples.
func (g *generator) flowDeniedAny(f *flow) {
	r := DeniedReasons[g.rng.IntN(len(DeniedReasons))]
	ms := deniedMethods[r]
	g.challenge(f, OutcomeDenied, ms[g.rng.IntN(len(ms))], r)
}

func (g *generator) flowFraud(f *flow) {
	m := []string{MethodPush, MethodPush, MethodPhoneCall}[g.rng.IntN(3)]
	g.challenge(f, OutcomeDenied, m, "fraud_reported")
}

// flowFatigue is push bombing: one user gets 6-15 prompts within about five
// minutes, declines or ignores them, then often gives in or reports fraud.
func (g *generator) flowFatigue(f *flow) {
	n := 6 + g.rng.IntN(10)
	g.fatigue(f, n)
	switch x := g.rng.IntN(10); {
	case x < 5:
		g.challenge(f, OutcomeSatisfied, MethodPush, "successfully_completed")
	case x < 7:
		g.challenge(f, OutcomeDenied, MethodPush, "fraud_reported")
	}
}

func (g *generator) fatigue(f *flow, n int) {
	step := 300 * time.Second / time.Duration(n+1)
	for i := range n {
		reason := []string{"user_declined", "no_response_to_notification"}[g.rng.IntN(2)]
		ago := time.Duration(n-i) * step
		g.interrupt(f, ago+5*time.Second, 50074, failureInterrupt)
		g.mfaOutcome(f, ago, true, OutcomeDenied, MethodPush, reason, ComponentCloud, false)
	}
}

// truth aggregates intents; visibleBy, when non-zero, keeps only rows visible at that time.
// Folded intents count as visible: they all are by settledAt, which stays before any time a
// reader can still ask about (now minus Options.Retention).
func (g *generator) truth(visibleBy time.Time) Truth {
	agg := g.settled.clone()
	for i := range g.intents {
		if !visibleBy.IsZero() && visibleBy.Before(g.intents[i].visibleAt) {
			continue
		}
		agg.add(&g.intents[i])
	}
	return Truth{Flows: g.flows, Rows: agg.rows, Attempts: agg.attempts, UsersChallenged: len(agg.challenged), UsersFailed: len(agg.failed), Coverage: agg.cov.export()}
}

// Truth returns what the generator has produced so far.
func (t *Tenant) Truth() Truth {
	t.genMu.Lock()
	defer t.genMu.Unlock()
	return t.gen.truth(time.Time{})
}

// TruthVisibleBy is Truth restricted to rows visible at the given time,
// which is what a client that has read everything available can know. The
// flow count is not restricted. With Options.Retention set it is exact for
// times after now minus Retention: the generator keeps older rows only as
// totals, counted as visible.
func (t *Tenant) TruthVisibleBy(at time.Time) Truth {
	t.genMu.Lock()
	defer t.genMu.Unlock()
	return t.gen.truth(at)
}

// storeGenerated marshals and stores generated rows (under genMu, so that
// Truth never counts a row the store does not have yet).
func (t *Tenant) storeGenerated(rows []Row) {
	stored := make([]*storedRow, 0, len(rows))
	for i := range rows {
		s, err := storeRow(&rows[i])
		if err != nil {
			panic(fmt.Sprintf("simtenant: marshalling generated row: %v", err))
		}
		stored = append(stored, s)
	}
	now := t.opts.Now()
	t.mu.Lock()
	for _, s := range stored {
		t.store.put(s, false)
	}
	t.pruneLocked(now)
	t.mu.Unlock()
	var watermark time.Time
	if t.opts.Retention > 0 {
		watermark = now.Add(-t.opts.Retention)
	}
	t.gen.fold(watermark, t.opts.MaxRows)
}

// Backfill generates flows ending inside [from, to) as a Poisson process of
// flowsPerSecond. A flow's earlier rows (the interrupt before an outcome,
// push bombing, a chain of token refreshes) are dated up to 11 minutes before
// its end. Its time grows with the number of flows; what it leaves in memory
// is bounded by Options.Retention and Options.MaxRows like every other row.
func (t *Tenant) Backfill(from, to time.Time, flowsPerSecond float64) {
	if flowsPerSecond <= 0 || !to.After(from) {
		return
	}
	skew := t.clockSkew()
	t.genMu.Lock()
	defer t.genMu.Unlock()
	at := from
	for {
		at = at.Add(time.Duration(t.gen.rng.ExpFloat64() / flowsPerSecond * float64(time.Second)))
		if !at.Before(to) {
			return
		}
		rows, _ := t.gen.generate(at, skew)
		t.storeGenerated(rows)
	}
}

// Run generates flows in real time, stamped with Options.Now, until ctx is
// done. Arrivals are a Poisson process of flowsPerSecond.
func (t *Tenant) Run(ctx context.Context, flowsPerSecond float64) {
	if flowsPerSecond <= 0 {
		return
	}
	for {
		t.genMu.Lock()
		wait := time.Duration(t.gen.rng.ExpFloat64() / flowsPerSecond * float64(time.Second))
		t.genMu.Unlock()
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-t.closed:
			timer.Stop()
			return
		case <-timer.C:
		}
		skew := t.clockSkew()
		t.genMu.Lock()
		now := t.opts.Now()
		rows, notes := t.gen.generate(now, skew)
		t.gen.startAt(rows, len(notes), now.Add(skew))
		t.storeGenerated(rows)
		t.genMu.Unlock()
	}
}

// startAt moves a flow generated "ending now" so that it starts now instead. A flow's earlier
// rows are dated up to minutes before its end; generated in real time, they would become visible
// the moment they are stored, that is minutes after their createdDateTime, and look like
// extremely late rows that no real tenant produces. Shifted, every row is written at its own
// time and only the lateness model makes it late. n is the number of intents the flow recorded
// (the last n in g.intents).
func (g *generator) startAt(rows []Row, n int, start time.Time) {
	if len(rows) == 0 {
		return
	}
	first := rows[0].CreatedDateTime
	for _, r := range rows {
		if r.CreatedDateTime.Before(first) {
			first = r.CreatedDateTime
		}
	}
	d := start.Truncate(time.Second).Sub(first)
	if d <= 0 {
		return
	}
	for i := range rows {
		rows[i].CreatedDateTime = rows[i].CreatedDateTime.Add(d)
		rows[i].VisibleAt = rows[i].VisibleAt.Add(d)
		for j := range rows[i].AuthenticationDetails {
			rows[i].AuthenticationDetails[j].AuthenticationStepDateTime = rows[i].AuthenticationDetails[j].AuthenticationStepDateTime.Add(d)
		}
	}
	for i := len(g.intents) - n; i < len(g.intents); i++ {
		g.intents[i].visibleAt = g.intents[i].visibleAt.Add(d)
	}
}

// BurstFatigue is the Burst kind for push bombing of a single user.
const BurstFatigue = "mfa_fatigue"

// Burst emits n denied MFA attempts now. kind is a denied reason label
// (each attempt goes to a random user, by push when the reason allows it)
// or BurstFatigue (n push denials for one user within five minutes).
func (t *Tenant) Burst(kind string, n int) error {
	if n <= 0 || n > MaxBurst {
		return fmt.Errorf("simtenant: burst size must be between 1 and %d, got %d", MaxBurst, n)
	}
	methods, ok := deniedMethods[kind]
	if !ok && kind != BurstFatigue {
		return fmt.Errorf("simtenant: unknown burst kind %q (want a denied reason label or %q)", kind, BurstFatigue)
	}
	skew := t.clockSkew()
	t.genMu.Lock()
	defer t.genMu.Unlock()
	g := t.gen
	now := t.opts.Now()
	if kind == BurstFatigue {
		f := g.newFlow(now, skew, g.pickEnabled())
		g.fatigue(f, n)
		rows, _ := g.finish(f)
		t.storeGenerated(rows)
		return nil
	}
	method := methods[0]
	if slices.Contains(methods, MethodPush) {
		method = MethodPush
	}
	for range n {
		f := g.newFlow(now.Add(-time.Duration(g.rng.IntN(30))*time.Second), skew, g.pickEnabled())
		g.challenge(f, OutcomeDenied, method, kind)
		rows, _ := g.finish(f)
		t.storeGenerated(rows)
	}
	return nil
}
