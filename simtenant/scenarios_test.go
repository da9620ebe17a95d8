package simtenant

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// scenarioRow is what the scenario tests read of a served row.
type scenarioRow struct {
	ID              string     `json:"id"`
	CreatedDateTime time.Time  `json:"createdDateTime"`
	UserID          string     `json:"userId"`
	UPN             string     `json:"userPrincipalName"`
	CorrelationID   string     `json:"correlationId"`
	IPAddress       string     `json:"ipAddress"`
	AppID           string     `json:"appId"`
	Location        Location   `json:"location"`
	Status          Status     `json:"status"`
	Details         []AuthStep `json:"authenticationDetails"`
}

func (c *fakeClock) Set(at time.Time) {
	c.mu.Lock()
	c.t = at
	c.mu.Unlock()
}

func readRows(t *testing.T, tn *Tenant) []scenarioRow {
	t.Helper()
	tok := token(t, tn)
	var out []scenarioRow
	for _, raw := range readAll(t, tn, signInsURL(tn, "$top", "1000"), tok, nil) {
		var r scenarioRow
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b scenarioRow) int { return a.CreatedDateTime.Compare(b.CreatedDateTime) })
	return out
}

// Each scenario is checked against the rules as the public detection content words them
// (detections.md), reading the rows back from Graph: the expectations of Scenario are what the
// served rows mean.
func TestScenariosMeanWhatTheyClaim(t *testing.T) {
	for _, kind := range ScenarioKinds {
		t.Run(kind, func(t *testing.T) {
			clk := newFakeClock(epoch)
			tn := start(t, Options{Now: clk.Now, RateLimit: -1})
			sc, err := tn.PlayScenario(kind, epoch.Add(time.Minute), ScenarioOptions{})
			if err != nil {
				t.Fatal(err)
			}
			clk.Advance(time.Hour)
			var mine []scenarioRow
			for _, r := range readRows(t, tn) {
				if r.UserID == sc.UserID {
					mine = append(mine, r)
				}
			}
			if len(mine) != sc.Rows {
				t.Fatalf("%d rows served for the scenario's user, Scenario says %d", len(mine), sc.Rows)
			}
			if !mine[0].CreatedDateTime.Equal(sc.Start) || !mine[len(mine)-1].CreatedDateTime.Equal(sc.End) {
				t.Errorf("rows span %s..%s, Scenario says %s..%s", mine[0].CreatedDateTime, mine[len(mine)-1].CreatedDateTime, sc.Start, sc.End)
			}
			// Push failures per Sentinel's wording, declines per Splunk's, OATH failures and
			// their sessions per Elastic's, read from the wire strings.
			var push, declines, oath, fraud, blocked, success []scenarioRow
			sessions := map[string]bool{}
			for _, r := range mine {
				if r.UPN != sc.UPN || r.IPAddress != sc.IPAddress || r.Location.CountryOrRegion != sc.Country || r.AppID != sc.AppID {
					t.Errorf("row %s: user %s, ip %s, country %s, app %s differ from the Scenario", r.ID, r.UPN, r.IPAddress, r.Location.CountryOrRegion, r.AppID)
				}
				d := r.Status.AdditionalDetails
				switch {
				case d == "MFA denied; user declined the authentication":
					push, declines = append(push, r), append(declines, r)
				case d == "MFA denied; user did not respond to mobile app notification":
					push = append(push, r)
				case d == "MFA denied; Phone App Reported Fraud":
					push, declines, fraud = append(push, r), append(declines, r), append(fraud, r)
				case d == "MFA denied; user is blocked":
					blocked = append(blocked, r)
				case d == "MFA successfully completed":
					success = append(success, r)
				case strings.HasPrefix(d, "MFA denied;") && r.Details[len(r.Details)-1].AuthenticationMethod == "OATH verification code":
					oath = append(oath, r)
					sessions[r.CorrelationID] = true
				case r.Status.ErrorCode == 50074:
				default:
					t.Errorf("row %s: unexpected details %q", r.ID, d)
				}
			}
			maxIn := func(rows []scenarioRow, w time.Duration) int {
				best := 0
				for i := range rows {
					n := 0
					for j := i; j < len(rows) && rows[j].CreatedDateTime.Sub(rows[i].CreatedDateTime) < w; j++ {
						n++
					}
					best = max(best, n)
				}
				return best
			}
			fatigue := maxIn(push, 5*time.Minute) > 10 || maxIn(declines, 10*time.Minute) > 9
			guessing := len(oath) >= 20 && len(sessions) >= 10 && maxIn(oath, 9*time.Minute) >= 20
			var kinds []string
			if fatigue {
				kinds = append(kinds, "fatigue")
			}
			if len(fraud) > 0 {
				kinds = append(kinds, "fraud")
			}
			if guessing {
				kinds = append(kinds, "oath_guessing")
			}
			var want []string
			for _, e := range sc.Episodes {
				want = append(want, e.Kind)
			}
			if !slices.Equal(kinds, want) {
				t.Fatalf("the rows meet the rules of %v, Scenario expects %v", kinds, want)
			}
			if len(sc.Episodes) == 0 {
				return
			}
			ep := sc.Episodes[0]
			var members []scenarioRow
			switch ep.Kind {
			case "fatigue":
				members = push
			case "fraud":
				members = append(slices.Clone(fraud), blocked...)
			case "oath_guessing":
				members = oath
			}
			var ids []string
			for _, r := range members {
				ids = append(ids, r.ID)
			}
			if !slices.Equal(ids, ep.SignInIDs) {
				t.Errorf("episode rows %v, Scenario says %v", ids, ep.SignInIDs)
			}
			if !ep.First.Equal(members[0].CreatedDateTime) || !ep.Last.Equal(members[len(members)-1].CreatedDateTime) {
				t.Errorf("episode spans %s..%s, rows %s..%s", ep.First, ep.Last, members[0].CreatedDateTime, members[len(members)-1].CreatedDateTime)
			}
			wantOutcome := "denied"
			for _, s := range success {
				if !s.CreatedDateTime.Before(ep.First) && s.CreatedDateTime.Sub(ep.Last) < 5*time.Minute {
					wantOutcome = "success"
					if ep.SuccessSignInID != s.ID {
						t.Errorf("success row %s, Scenario says %s", s.ID, ep.SuccessSignInID)
					}
				}
			}
			if ep.Outcome != wantOutcome {
				t.Errorf("outcome %s, the rows say %s", ep.Outcome, wantOutcome)
			}
		})
	}
}

func TestScenarioLateRowsAndDuplicates(t *testing.T) {
	clk := newFakeClock(epoch)
	tn := start(t, Options{Now: clk.Now, RateLimit: -1})
	sc, err := tn.PlayScenario(ScenarioFatigue, epoch, ScenarioOptions{LateRows: 2, Lateness: 20 * time.Minute, Duplicate: true})
	if err != nil {
		t.Fatal(err)
	}
	ep := sc.Episodes[0]
	// When the last attack row is created plus a second, all but the two late ones are served,
	// and the first attack row twice.
	clk.Set(ep.Last.Add(time.Second))
	served := readRows(t, tn)
	count := map[string]int{}
	for _, r := range served {
		count[r.ID]++
	}
	for i, id := range ep.SignInIDs {
		want := 1
		switch {
		case i == 0:
			want = 2
		case i >= len(ep.SignInIDs)-2:
			want = 0
		}
		if count[id] != want {
			t.Errorf("attack row %d served %d times, want %d", i, count[id], want)
		}
	}
	if !sc.VisibleBy.Equal(ep.Last.Add(20 * time.Minute)) {
		t.Errorf("VisibleBy %s, want the last row's time plus the lateness", sc.VisibleBy)
	}
	clk.Set(sc.VisibleBy)
	served = readRows(t, tn)
	if len(served) != sc.Rows+1 {
		t.Errorf("%d rows served once all are visible, want %d and the duplicate", len(served), sc.Rows)
	}
	// The truth counts the row Graph returns twice once.
	total := 0
	for _, n := range tn.Truth().Rows {
		total += n
	}
	if total != sc.Rows {
		t.Errorf("truth holds %d rows, want %d", total, sc.Rows)
	}
	if _, err := tn.PlayScenario("nonsense", epoch, ScenarioOptions{}); err == nil {
		t.Error("an unknown scenario was played")
	}
	if _, err := tn.PlayScenario(ScenarioFatigue, epoch, ScenarioOptions{LateRows: 1}); err == nil {
		t.Error("late rows without a lateness were accepted")
	}
}

// Scenario users are never picked by the random flows (which would change what the scenario
// means), and each scenario gets its own user.
func TestScenarioUsersAreTheirOwn(t *testing.T) {
	clk := newFakeClock(epoch)
	tn := start(t, Options{Now: clk.Now, RateLimit: -1, Users: 20, NoPadding: true, LatenessScale: -1})
	a, err := tn.PlayScenario(ScenarioBenign, epoch.Add(-2*time.Hour), ScenarioOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := tn.PlayScenario(ScenarioBenign, epoch.Add(-2*time.Hour), ScenarioOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.UserID == b.UserID || a.UPN == b.UPN {
		t.Fatalf("two scenarios share user %s", a.UserID)
	}
	tn.Backfill(epoch.Add(-time.Hour), epoch, 3)
	n := 0
	for _, r := range readRows(t, tn) {
		if r.UserID == a.UserID || r.UserID == b.UserID {
			n++
		}
	}
	if n != a.Rows+b.Rows {
		t.Errorf("scenario users have %d rows, want only their scenarios' %d", n, a.Rows+b.Rows)
	}
}
