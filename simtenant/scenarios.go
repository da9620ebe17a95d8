package simtenant

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Scripted attack scenarios. Each one plays on a user of its own (never picked by the random
// flows), with the canonical wire strings, at times it chooses, so that what a detector following
// the public rules (Microsoft Sentinel, Splunk ESCU, Elastic; see detections.md) must find is
// known from the script itself: Scenario.Episodes is written here by hand from the rules, not
// computed by any detector.
const (
	// ScenarioFatigue: 12 push notifications, declined or left unanswered in turn, 15 s apart:
	// more than 10 push failures within 5 minutes, one fatigue episode of 12 rows, no success.
	ScenarioFatigue = "fatigue"
	// ScenarioFatigueSuccess: the same, then the user approves a push 35 s after the last one:
	// the episode ends in success (Sentinel's "MFA spamming followed by successful login").
	ScenarioFatigueSuccess = "fatigue_success"
	// ScenarioSlowDeclines: 10 declines 70 s apart: at most 9 in any 10 minutes and 5 in any 5,
	// under both fatigue thresholds: no episode.
	ScenarioSlowDeclines = "slow_declines"
	// ScenarioOATHGuessing: 22 wrong OATH codes, two per session across 11 sessions, 20 s apart
	// (7 minutes in all): at least 20 failures across at least 10 sessions within 9 minutes, one
	// episode of 22 rows.
	ScenarioOATHGuessing = "oath_guessing"
	// ScenarioFraudBlock: a push reported as fraud, then two pushes denied as user_blocked 2 and
	// 5 minutes later: one fraud episode of 3 rows, no success.
	ScenarioFraudBlock = "fraud_then_block"
	// ScenarioBenign: one declined push, then the user approves the next one 40 s later: no
	// episode.
	ScenarioBenign = "benign"
)

// ScenarioKinds lists every scenario kind.
var ScenarioKinds = []string{ScenarioFatigue, ScenarioFatigueSuccess, ScenarioSlowDeclines, ScenarioOATHGuessing, ScenarioFraudBlock, ScenarioBenign}

// ScenarioOptions vary how a scenario's rows reach Graph, not what they mean.
type ScenarioOptions struct {
	// LateRows makes the last LateRows rows of the attack (the push failures, OATH codes or
	// blocks, not the interrupts nor a final success) visible Lateness after their
	// createdDateTime instead of one second after it.
	LateRows int
	Lateness time.Duration
	// Duplicate serves the first row of the attack twice, as Graph occasionally returns a
	// sign-in twice.
	Duplicate bool
}

// Scenario is a played script: who it targets and what the rules must find.
type Scenario struct {
	Kind                string
	UserID, UPN         string
	IPAddress, IPPrefix string // the attacker's address, and its /24 (IPv4) or /48 (IPv6)
	Country             string
	AppID, AppName      string
	Start, End          time.Time // first and last createdDateTime
	VisibleBy           time.Time // every row is visible from this time
	Prompts             int       // rows that put an MFA prompt in front of the user
	Rows                int       // rows stored (interrupts included; a duplicate counts once)
	Episodes            []ExpectedEpisode
}

// ExpectedEpisode is an episode a scenario is written to produce.
type ExpectedEpisode struct {
	Kind    string // fatigue, fraud, oath_guessing
	Outcome string // success or denied, once the episode is concluded
	First   time.Time
	Last    time.Time
	// SignInIDs are every row of the episode in time order; CorrelationIDs its sessions, in the
	// order of their first row.
	SignInIDs      []string
	CorrelationIDs []string
	Reasons        map[string]int
	Methods        []string
	// SuccessSignInID and SuccessAt name the row that ended the episode in success.
	SuccessSignInID string
	SuccessAt       time.Time
}

// scenarioUsers is how many users the scenarios cycle through; a demo left running reuses them,
// hours apart, rather than growing the population without bound.
const scenarioUsers = 64

// scenarioStep is one row of a script: an MFA outcome (outcome, method, reason) or, with
// interrupt, the 50074 prompt that precedes it.
type scenarioStep struct {
	at                      time.Duration
	session                 int
	interrupt               bool
	outcome, method, reason string
	attack                  bool // a row the detection rules read (not the success, not an interrupt)
}

// script returns the rows of a scenario kind, in time order.
func script(kind string) ([]scenarioStep, error) {
	var steps []scenarioStep
	attempt := func(at time.Duration, session int, outcome, method, reason string, attack bool) {
		steps = append(steps,
			scenarioStep{at: at - 5*time.Second, session: session, interrupt: true},
			scenarioStep{at: at, session: session, outcome: outcome, method: method, reason: reason, attack: attack})
	}
	switch kind {
	case ScenarioFatigue, ScenarioFatigueSuccess:
		for i := range 12 {
			reason := "user_declined"
			if i%2 == 1 {
				reason = "no_response_to_notification"
			}
			attempt(time.Duration(i)*15*time.Second+5*time.Second, i, OutcomeDenied, MethodPush, reason, true)
		}
		if kind == ScenarioFatigueSuccess {
			attempt(165*time.Second+35*time.Second+5*time.Second, 12, OutcomeSatisfied, MethodPush, "successfully_completed", false)
		}
	case ScenarioSlowDeclines:
		for i := range 10 {
			attempt(time.Duration(i)*70*time.Second+5*time.Second, i, OutcomeDenied, MethodPush, "user_declined", true)
		}
	case ScenarioOATHGuessing:
		for i := range 22 {
			at := time.Duration(i)*20*time.Second + 5*time.Second
			if i%2 == 0 {
				attempt(at, i/2, OutcomeDenied, MethodOATH, "incorrect_code", true)
			} else {
				steps = append(steps, scenarioStep{at: at, session: i / 2, outcome: OutcomeDenied, method: MethodOATH, reason: "incorrect_code", attack: true})
			}
		}
	case ScenarioFraudBlock:
		attempt(5*time.Second, 0, OutcomeDenied, MethodPush, "fraud_reported", true)
		attempt(2*time.Minute+5*time.Second, 1, OutcomeDenied, MethodPush, "user_blocked", true)
		attempt(5*time.Minute+5*time.Second, 2, OutcomeDenied, MethodPush, "user_blocked", true)
	case ScenarioBenign:
		attempt(5*time.Second, 0, OutcomeDenied, MethodPush, "user_declined", false)
		attempt(45*time.Second, 1, OutcomeSatisfied, MethodPush, "successfully_completed", false)
	default:
		return nil, fmt.Errorf("simtenant: unknown scenario %q (want one of %v)", kind, ScenarioKinds)
	}
	return steps, nil
}

// attacker is where a scenario's sign-ins come from: an address of the documentation ranges and
// a country, by scenario number (OATH guessing comes over IPv6, the others over IPv4).
func attacker(kind string, n int) (ip, prefix, country string) {
	if kind == ScenarioOATHGuessing {
		return fmt.Sprintf("2001:db8:%x:17::a1", 0x100+n%256), fmt.Sprintf("2001:db8:%x::/48", 0x100+n%256), "NL"
	}
	third := []string{"198.51.100", "203.0.113"}[n%2]
	return fmt.Sprintf("%s.%d", third, 10+n%200), third + ".0/24", []string{"RO", "BR", "VN"}[n%3]
}

// PlayScenario stores the rows of a scenario whose first row is created at start (rows may lie in
// the future: each becomes visible one second after its createdDateTime, or later with
// opts.LateRows). The rows are part of Truth like generated ones.
func (t *Tenant) PlayScenario(kind string, start time.Time, opts ScenarioOptions) (Scenario, error) {
	steps, err := script(kind)
	if err != nil {
		return Scenario{}, err
	}
	if opts.LateRows < 0 || (opts.LateRows > 0 && opts.Lateness <= 0) {
		return Scenario{}, fmt.Errorf("simtenant: LateRows %d needs a positive Lateness", opts.LateRows)
	}
	t.genMu.Lock()
	defer t.genMu.Unlock()
	g := t.gen
	n := g.scenarios
	g.scenarios++
	user := g.scenarioUser(n)
	u := g.users[user]
	ip, prefix, country := attacker(kind, n)
	a := apps[n%len(apps)]
	start = secondsUTC(start)
	sc := Scenario{Kind: kind, UserID: u.id, UPN: u.upn, IPAddress: ip, IPPrefix: prefix, Country: country,
		AppID: a.id, AppName: a.name, Start: start.Add(steps[0].at)}
	attacks := 0
	for _, s := range steps {
		if s.attack {
			attacks++
		}
	}
	sessions := map[int]string{}
	var rows []Row
	var notes []intent
	attackSeen := 0
	for _, s := range steps {
		corr, ok := sessions[s.session]
		if !ok {
			corr = guid(g.rng)
			sessions[s.session] = corr
		}
		f := &flow{end: start.Add(s.at), user: user, corr: corr, app: a, pinnedApp: true}
		if s.interrupt {
			g.interrupt(f, 0, 50074, failureInterrupt)
		} else {
			g.scenarioOutcome(f, s.outcome, s.method, s.reason)
		}
		r, in := f.rows[0], f.notes[0]
		r.IPAddress = ip
		r.Location = Location{City: "", CountryOrRegion: country}
		visible := r.CreatedDateTime.Add(time.Second)
		if s.attack {
			attackSeen++
			if attackSeen > attacks-opts.LateRows {
				visible = r.CreatedDateTime.Add(opts.Lateness)
			}
		}
		r.VisibleAt, in.visibleAt = visible, visible
		if visible.After(sc.VisibleBy) {
			sc.VisibleBy = visible
		}
		rows = append(rows, r)
		notes = append(notes, in)
		sc.End = r.CreatedDateTime
		if s.interrupt {
			continue
		}
		if prompt(s.outcome, s.reason) {
			sc.Prompts++
		}
	}
	sc.Rows = len(rows)
	sc.Episodes = expectedEpisodes(kind, steps, rows)
	stored := rows
	if opts.Duplicate {
		for i, s := range steps {
			if s.attack {
				stored = append(slices.Clone(rows), rows[i])
				break
			}
		}
	}
	g.flows++
	g.intents = append(g.intents, notes...)
	t.storeGenerated(stored)
	return sc, nil
}

// prompt tells whether a scripted outcome put a prompt in front of the user: every one does but
// user_blocked, which Entra answers without asking the user (the Entra workbook "Authentication
// prompts analysis" counts what the user was asked).
func prompt(outcome, reason string) bool {
	return !(outcome == OutcomeDenied && reason == "user_blocked")
}

// expectedEpisodes writes down, for each scenario, the episodes of the public rules (see the
// constants): which rows, which sessions, and how it ends.
func expectedEpisodes(kind string, steps []scenarioStep, rows []Row) []ExpectedEpisode {
	ep := ExpectedEpisode{Outcome: "denied", Reasons: map[string]int{}}
	sessions := map[string]bool{}
	for i, s := range steps {
		if s.interrupt {
			continue
		}
		r := rows[i]
		if !s.attack {
			if s.outcome == OutcomeSatisfied && len(ep.SignInIDs) > 0 {
				ep.Outcome, ep.SuccessSignInID, ep.SuccessAt = "success", r.ID, r.CreatedDateTime
			}
			continue
		}
		if len(ep.SignInIDs) == 0 {
			ep.First = r.CreatedDateTime
		}
		ep.Last = r.CreatedDateTime
		ep.SignInIDs = append(ep.SignInIDs, r.ID)
		if !sessions[r.CorrelationID] {
			sessions[r.CorrelationID] = true
			ep.CorrelationIDs = append(ep.CorrelationIDs, r.CorrelationID)
		}
		ep.Reasons[s.reason]++
		if !slices.Contains(ep.Methods, s.method) {
			ep.Methods = append(ep.Methods, s.method)
		}
	}
	switch kind {
	case ScenarioFatigue, ScenarioFatigueSuccess:
		ep.Kind = "fatigue"
	case ScenarioOATHGuessing:
		ep.Kind = "oath_guessing"
	case ScenarioFraudBlock:
		ep.Kind = "fraud"
	default:
		return nil // slow declines and the benign user stay under every threshold
	}
	return []ExpectedEpisode{ep}
}

// scenarioUser returns the user of scenario n, creating the scenario users on first use. They are
// enabled members that no random flow picks (they are in none of the lists flows draw from).
func (g *generator) scenarioUser(n int) int {
	if g.scenarioBase == 0 {
		g.scenarioBase = len(g.users)
		for i := range scenarioUsers {
			g.users = append(g.users, simUser{
				id: guid(g.rng), name: fmt.Sprintf("Victim %02d", i+1), upn: fmt.Sprintf("victim%02d@contoso.example", i+1),
			})
		}
	}
	return g.scenarioBase + n%scenarioUsers
}

// scenarioOutcome emits an MFA outcome row with the canonical wire strings: a script must mean
// exactly what it says (the random flows' drifted and unknown wordings would change it).
func (g *generator) scenarioOutcome(f *flow, outcome, method, reason string) {
	wire := reasonWire[reason].canonical
	m := methodWire[method]
	step := AuthStep{
		AuthenticationMethod:           m.canonical,
		AuthenticationMethodDetail:     m.detail,
		Succeeded:                      outcome == OutcomeSatisfied,
		AuthenticationStepResultDetail: wire,
		AuthenticationStepRequirement:  "Secondary authentication",
	}
	s := rowSpec{
		interactive: true,
		requirement: "multiFactorAuthentication",
		steps:       []AuthStep{passwordStep(), step},
		details:     wire,
		attempt:     &AttemptKey{Outcome: outcome, Method: method, Reason: reason, Component: ComponentCloud},
	}
	if outcome == OutcomeSatisfied {
		s.failureReason = failureOther
	} else {
		s.errorCode, s.failureReason, s.caStatus = 500121, failureStrongAuth, "notApplied"
	}
	g.emit(f, s)
}

// RunScenarios plays scenarios until ctx is done, for --demo: a fatigue episode first after
// first, then one scenario every every, cycling through the kinds so that each shows up (fatigue
// with and without success every other time).
func (t *Tenant) RunScenarios(ctx context.Context, first, every time.Duration) {
	order := []string{ScenarioFatigue, ScenarioFraudBlock, ScenarioFatigueSuccess, ScenarioOATHGuessing, ScenarioSlowDeclines, ScenarioFatigue, ScenarioBenign, ScenarioFatigueSuccess}
	wait := first
	for i := 0; ; i++ {
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
		if _, err := t.PlayScenario(order[i%len(order)], t.opts.Now(), ScenarioOptions{}); err != nil {
			t.log.Error("playing a scenario", "err", err)
		}
		wait = every
	}
}
