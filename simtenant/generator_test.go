package simtenant

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// servedRow is what the consistency test reads back from Graph.
type servedRow struct {
	ID                        string   `json:"id"`
	UserID                    string   `json:"userId"`
	UserPrincipalName         string   `json:"userPrincipalName"`
	IsInteractive             bool     `json:"isInteractive"`
	SignInEventTypes          []string `json:"signInEventTypes"`
	TokenIssuerType           string   `json:"tokenIssuerType"`
	ResourceID                string   `json:"resourceId"`
	AuthenticationRequirement string   `json:"authenticationRequirement"`
	CorrelationID             string   `json:"correlationId"`
	Status                    Status   `json:"status"`
	AuthenticationDetails     []struct {
		Method    string `json:"authenticationMethod"`
		Result    string `json:"authenticationStepResultDetail"`
		Succeeded bool   `json:"succeeded"`
	} `json:"authenticationDetails"`
}

// reverse tables built from the simulator's own wire tables: this checks
// that the JSON says what the generator recorded, not that the exporter's
// catalogue is right.
func reverseTables() (methods, reasons map[string]string) {
	methods, reasons = map[string]string{}, map[string]string{}
	for label, w := range methodWire {
		methods[w.canonical] = label
		for _, v := range w.variants {
			methods[v] = label
		}
	}
	for label, w := range reasonWire {
		reasons[w.canonical] = label
		for _, v := range w.variants {
			reasons[v] = label
		}
		if rest, ok := strings.CutPrefix(w.canonical, "MFA denied; "); ok {
			reasons["MFA Denied; "+rest] = label
		}
	}
	return methods, reasons
}

// truthFromRows recomputes Truth from served JSON.
func truthFromRows(t *testing.T, raws []json.RawMessage) Truth {
	t.Helper()
	methods, reasons := reverseTables()
	tr := Truth{Rows: map[RowKey]int{}, Attempts: map[AttemptKey]int{}}
	challenged, failed := map[string]bool{}, map[string]bool{}
	for _, raw := range raws {
		var r servedRow
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("decoding served row: %v", err)
		}
		if len(r.SignInEventTypes) != 1 || (r.SignInEventTypes[0] == EventInteractive) != r.IsInteractive {
			t.Fatalf("row %s: signInEventTypes %v disagree with isInteractive %v", r.ID, r.SignInEventTypes, r.IsInteractive)
		}
		tr.Rows[RowKey{r.SignInEventTypes[0], r.Status.ErrorCode}]++
		isAttempt := (r.Status.ErrorCode == 0 || r.Status.ErrorCode == 500121 || r.Status.ErrorCode == 50140) &&
			r.AuthenticationRequirement == "multiFactorAuthentication" && strings.HasPrefix(strings.ToUpper(r.Status.AdditionalDetails), "MFA ")
		if !isAttempt {
			continue
		}
		k := AttemptKey{Outcome: OutcomeSatisfied, Reason: ReasonOther, Component: ComponentCloud}
		if r.Status.ErrorCode == 500121 {
			k.Outcome = OutcomeDenied
		}
		if label, ok := reasons[r.Status.AdditionalDetails]; ok {
			k.Reason = label
		}
		for _, s := range r.AuthenticationDetails {
			if s.Result == r.Status.AdditionalDetails {
				k.Method = methods[s.Method]
				if s.Succeeded != (k.Outcome == OutcomeSatisfied) {
					t.Errorf("row %s: MFA step succeeded=%v for outcome %s", r.ID, s.Succeeded, k.Outcome)
				}
			}
		}
		switch r.ResourceID {
		case "radius":
			k.Component = ComponentNPS
			if r.TokenIssuerType != "NPSExtension" {
				t.Errorf("row %s: radius row with token issuer %q", r.ID, r.TokenIssuerType)
			}
		case "adfs":
			k.Component = ComponentADFS
			if r.TokenIssuerType != "ADFederationServicesMFAAdapter" {
				t.Errorf("row %s: adfs row with token issuer %q", r.ID, r.TokenIssuerType)
			}
		}
		tr.Attempts[k]++
		challenged[r.UserID] = true
		if k.Outcome == OutcomeDenied {
			failed[r.UserID] = true
		}
	}
	tr.UsersChallenged, tr.UsersFailed = len(challenged), len(failed)
	return tr
}

func compareTruth(t *testing.T, got, want Truth) {
	t.Helper()
	for k, n := range want.Rows {
		if got.Rows[k] != n {
			t.Errorf("rows %v: served %d, truth %d", k, got.Rows[k], n)
		}
	}
	for k, n := range want.Attempts {
		if got.Attempts[k] != n {
			t.Errorf("attempts %v: served %d, truth %d", k, got.Attempts[k], n)
		}
	}
	if len(got.Rows) != len(want.Rows) || len(got.Attempts) != len(want.Attempts) {
		t.Errorf("key sets differ: rows %d vs %d, attempts %d vs %d", len(got.Rows), len(want.Rows), len(got.Attempts), len(want.Attempts))
	}
	if got.UsersChallenged != want.UsersChallenged || got.UsersFailed != want.UsersFailed {
		t.Errorf("users challenged/failed: served %d/%d, truth %d/%d", got.UsersChallenged, got.UsersFailed, want.UsersChallenged, want.UsersFailed)
	}
}

const bothTypes = "signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')"

var preferAll = map[string]string{"Prefer": "include-unknown-enum-members"}

// backfilled starts a tenant with about 3,000 flows over the 50 minutes
// before epoch.
func backfilled(t *testing.T, opts Options) (*Tenant, *fakeClock) {
	t.Helper()
	clock := newFakeClock(epoch)
	opts.Now = clock.Now
	opts.RateLimit = -1
	tn := start(t, opts)
	tn.Backfill(epoch.Add(-50*time.Minute), epoch, 1)
	return tn, clock
}

func TestTruthMatchesServedRows(t *testing.T) {
	tn, clock := backfilled(t, Options{Seed: 3, NoPadding: true})
	clock.Advance(time.Hour) // everything has settled
	rows := readAll(t, tn, signInsURL(tn, "$filter", bothTypes), token(t, tn), preferAll)
	truth := tn.Truth()
	if truth.Flows < 2500 {
		t.Fatalf("only %d flows", truth.Flows)
	}
	total := 0
	for _, n := range truth.Rows {
		total += n
	}
	if len(rows) != total {
		t.Fatalf("served %d rows, truth has %d", len(rows), total)
	}
	compareTruth(t, truthFromRows(t, rows), truth)
}

func TestTruthVisibleByFollowsLateness(t *testing.T) {
	tn, _ := backfilled(t, Options{Seed: 4, NoPadding: true})
	rows := readAll(t, tn, signInsURL(tn, "$filter", bothTypes), token(t, tn), preferAll)
	all, visible := tn.Truth(), tn.TruthVisibleBy(epoch)
	sum := func(m map[RowKey]int) (n int) {
		for _, v := range m {
			n += v
		}
		return n
	}
	if sum(visible.Rows) >= sum(all.Rows) {
		t.Fatalf("no row is still in flight at the end of the backfill (%d of %d visible)", sum(visible.Rows), sum(all.Rows))
	}
	if len(rows) != sum(visible.Rows) {
		t.Errorf("served %d rows, %d visible by truth", len(rows), sum(visible.Rows))
	}
	compareTruth(t, truthFromRows(t, rows), visible)
}

func TestGeneratorCoversVocabulary(t *testing.T) {
	tn, _ := backfilled(t, Options{Seed: 1, NoPadding: true})
	truth := tn.Truth()
	methods, reasons := map[string]int{}, map[string]map[string]int{OutcomeSatisfied: {}, OutcomeDenied: {}}
	components := map[string]int{}
	for k, n := range truth.Attempts {
		methods[k.Method] += n
		reasons[k.Outcome][k.Reason] += n
		components[k.Component] += n
	}
	for _, m := range Methods {
		if methods[m] == 0 {
			t.Errorf("method %s never generated", m)
		}
	}
	for _, r := range append(slices.Clone(SatisfiedReasons), ReasonOther) {
		if reasons[OutcomeSatisfied][r] == 0 {
			t.Errorf("satisfied reason %s never generated", r)
		}
	}
	for _, r := range append(slices.Clone(DeniedReasons), ReasonOther) {
		if reasons[OutcomeDenied][r] == 0 {
			t.Errorf("denied reason %s never generated", r)
		}
	}
	for _, c := range Components {
		if components[c] == 0 {
			t.Errorf("component %s never generated", c)
		}
	}
	for _, code := range []int{0, 50074, 500121, 50140, 50126, 53003, 50057, 50078, 50079} {
		if truth.Rows[RowKey{EventInteractive, code}] == 0 {
			t.Errorf("no interactive row with error %d", code)
		}
	}
	if truth.Rows[RowKey{EventNonInteractive, 0}] == 0 {
		t.Error("no non-interactive rows")
	}
	if truth.UsersChallenged == 0 || truth.UsersFailed == 0 || truth.UsersFailed >= truth.UsersChallenged || truth.UsersChallenged > 500 {
		t.Errorf("users challenged %d failed %d", truth.UsersChallenged, truth.UsersFailed)
	}

	// Wording drift must reach the wire.
	var all bytes.Buffer
	for _, s := range tn.store.rows {
		all.Write(s.full)
	}
	for _, variant := range []string{"MFA Denied; ", "didn't respond", "didn\u2019t respond", "Microsoft Entra ID",
		"skipped due to location", "quantum entanglement lost", `"Voice"`, `"SMS"`} {
		if !bytes.Contains(all.Bytes(), []byte(variant)) {
			t.Errorf("no generated row contains %q", variant)
		}
	}
}

func TestGeneratorDeterministic(t *testing.T) {
	dump := func(seed int64) [][]byte {
		clock := newFakeClock(epoch)
		tn := start(t, Options{Seed: seed, Now: clock.Now})
		tn.Backfill(epoch.Add(-10*time.Minute), epoch, 0.5)
		tn.mu.Lock()
		defer tn.mu.Unlock()
		var out [][]byte
		for _, s := range tn.store.rows {
			out = append(out, s.full)
		}
		return out
	}
	a, b, c := dump(11), dump(11), dump(12)
	if len(a) < 100 {
		t.Fatalf("only %d rows", len(a))
	}
	if !slices.EqualFunc(a, b, bytes.Equal) {
		t.Error("two tenants with the same seed generated different rows")
	}
	if slices.EqualFunc(a, c, bytes.Equal) {
		t.Error("different seeds generated the same rows")
	}
}

func TestGeneratedRowSizeAndShape(t *testing.T) {
	tn, clock := backfilled(t, Options{Seed: 5})
	_ = clock
	tn.mu.Lock()
	rows := slices.Clone(tn.store.rows)
	tn.mu.Unlock()
	if len(rows) < 1000 {
		t.Fatalf("only %d rows", len(rows))
	}
	upn := regexp.MustCompile(`^user\d{3}(_fabrikam\.example#EXT#)?@contoso\.example$`)
	guidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, s := range rows {
		if n := len(s.full); n < 5000 || n > 15000 {
			t.Errorf("row %s is %d bytes", s.id, n)
		}
		var m struct {
			UPN      string `json:"userPrincipalName"`
			UserID   string `json:"userId"`
			MFA      any    `json:"mfaDetail"`
			Policies []struct {
				Grant []string `json:"enforcedGrantControls"`
			} `json:"appliedConditionalAccessPolicies"`
			Location struct {
				Geo struct {
					Lat float64 `json:"latitude"`
				} `json:"geoCoordinates"`
			} `json:"location"`
		}
		if err := json.Unmarshal(s.full, &m); err != nil {
			t.Fatal(err)
		}
		if !upn.MatchString(m.UPN) || !guidRE.MatchString(m.UserID) || !guidRE.MatchString(s.id) {
			t.Errorf("row %s: identity fields %q %q", s.id, m.UPN, m.UserID)
		}
		if m.MFA != nil || len(m.Policies) < 8 || m.Location.Geo.Lat == 0 {
			t.Errorf("row %s lacks realistic bulk: mfaDetail %v, %d policies", s.id, m.MFA, len(m.Policies))
		}
	}
}

func quantile(xs []float64, p float64) float64 {
	sort.Float64s(xs)
	return xs[int(p*float64(len(xs)-1))]
}

func TestLatenessDistribution(t *testing.T) {
	draw := func(scale float64, mfa bool) []float64 {
		g := newGenerator(Options{Seed: 9, Users: 10, LatenessScale: scale})
		out := make([]float64, 20000)
		for i := range out {
			out[i] = g.lateness(mfa).Seconds()
		}
		return out
	}
	plain := draw(1, false)
	checks := []struct {
		p, lo, hi float64
	}{{0.5, 35, 45}, {0.95, 110, 130}, {0.99, 270, 330}}
	for _, c := range checks {
		if q := quantile(slices.Clone(plain), c.p); q < c.lo || q > c.hi {
			t.Errorf("p%.0f = %.0f s, want %v-%v", c.p*100, q, c.lo, c.hi)
		}
	}
	tail := 0
	for _, s := range draw(1, true) {
		if s >= 600 {
			if s > 900 {
				t.Fatalf("MFA tail beyond 15 min: %.0f s", s)
			}
			tail++
		}
	}
	if tail < 200 || tail > 600 {
		t.Errorf("%d of 20000 MFA rows in the 10-15 min tail, want about 2%%", tail)
	}
	if q := quantile(draw(0.02, false), 0.5); q < 0.6 || q > 1 {
		t.Errorf("LatenessScale 0.02: median %.2f s", q)
	}
	for _, s := range draw(-1, true) {
		if s != 0 {
			t.Fatalf("negative LatenessScale gave %.1f s", s)
		}
	}
}

func TestBurst(t *testing.T) {
	clock := newFakeClock(epoch)
	tn := start(t, Options{Now: clock.Now, RateLimit: -1, LatenessScale: -1, NoPadding: true})
	if err := tn.Burst("user_declined", 40); err != nil {
		t.Fatal(err)
	}
	if err := tn.Burst("verification_code_already_used", 3); err != nil {
		t.Fatal(err)
	}
	tr := tn.Truth()
	denied := map[string]int{}
	for k, n := range tr.Attempts {
		if k.Outcome != OutcomeDenied || k.Component != ComponentCloud {
			t.Errorf("burst produced %v", k)
		}
		denied[k.Method] += n
	}
	if denied[MethodPush] != 40 || denied[MethodOATH] != 3 {
		t.Errorf("denied attempts by method %v, want 40 push and 3 OATH", denied)
	}
	rows := readAll(t, tn, signInsURL(tn, "$filter", "createdDateTime ge "+epoch.Add(-time.Hour).Format(time.RFC3339)), token(t, tn), nil)
	if len(rows) != 86 { // interrupt + outcome per attempt
		t.Errorf("served %d rows, want 86", len(rows))
	}
	compareTruth(t, truthFromRows(t, rows), tr)

	if err := tn.Burst("made_up", 1); err == nil {
		t.Error("unknown burst kind accepted")
	}
	if err := tn.Burst("user_declined", 0); err == nil {
		t.Error("empty burst accepted")
	}

	fat := start(t, Options{Now: clock.Now, LatenessScale: -1, NoPadding: true})
	if err := fat.Burst(BurstFatigue, 12); err != nil {
		t.Fatal(err)
	}
	ft := fat.Truth()
	if ft.UsersFailed != 1 || ft.UsersChallenged != 1 {
		t.Errorf("fatigue burst: %d users failed, %d challenged; want one user", ft.UsersFailed, ft.UsersChallenged)
	}
	n := 0
	for k, c := range ft.Attempts {
		if k.Method != MethodPush || k.Outcome != OutcomeDenied {
			t.Errorf("fatigue produced %v", k)
		}
		n += c
	}
	if n != 12 {
		t.Errorf("fatigue: %d attempts, want 12", n)
	}
}

func TestClockSkew(t *testing.T) {
	clock := newFakeClock(epoch)
	tn := start(t, Options{Now: clock.Now, RateLimit: -1, LatenessScale: -1, NoPadding: true})
	tn.SetClockSkew(-10 * time.Minute)
	if err := tn.Burst("user_declined", 5); err != nil {
		t.Fatal(err)
	}
	rows := readAll(t, tn, signInsURL(tn, "$filter", "createdDateTime ge "+epoch.Add(-time.Hour).Format(time.RFC3339)), token(t, tn), nil)
	if len(rows) != 10 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, raw := range rows {
		var h rowHead
		_ = json.Unmarshal(raw, &h)
		lag := epoch.Sub(h.CreatedDateTime)
		if lag < 10*time.Minute || lag > 12*time.Minute {
			t.Errorf("row %s created %v before the generator clock, want 10-12 min", h.ID, lag)
		}
	}
}

func TestRunGeneratesUntilCancelled(t *testing.T) {
	tn := start(t, Options{LatenessScale: -1, NoPadding: true, RateLimit: -1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		tn.Run(ctx, 500)
		close(done)
	}()
	deadline := time.After(30 * time.Second)
	for tn.Truth().Flows < 20 {
		select {
		case <-deadline:
			t.Fatal("Run produced fewer than 20 flows in 30 s")
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	<-done
	flows := tn.Truth().Flows
	tn.Run(ctx, 500) // returns at once on a cancelled context
	if tn.Truth().Flows != flows {
		t.Error("Run generated after its context was cancelled")
	}
	total := 0
	for _, n := range tn.Truth().Rows {
		total += n
	}
	if got := tn.Stats().RowsStored; got != total {
		t.Errorf("store has %d rows, truth %d", got, total)
	}
}
