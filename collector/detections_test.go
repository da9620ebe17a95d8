package collector

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/detect"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// detT0 is when the exporter of the detection tests starts; scenarios are played after it.
var detT0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// detEnv is a tenant read through the real client over HTTPS, with one clock for Graph and the
// exporter, moved by the test, and the default detection settings (contractSettings: settle 5m,
// reconcile delay 15m, reconcile interval 5m, poll 1m, look-back 1h).
type detEnv struct {
	*testEnv
	clk     *testClock
	storage string
}

func newDetEnv(t *testing.T, opts simtenant.Options) *detEnv {
	t.Helper()
	clk := &testClock{now: detT0}
	storage := t.TempDir()
	opts.RateLimit, opts.NoPadding = -1, true
	env := newTestEnvWith(t, opts, contractSettings(), clk.Now, clk.Now, storage, nil)
	return &detEnv{testEnv: env, clk: clk, storage: storage}
}

// pollAt moves the clock to detT0+at and polls.
func (e *detEnv) pollAt(t *testing.T, at time.Duration) {
	t.Helper()
	e.clk.Set(detT0.Add(at))
	if err := e.manager.pollOnce(context.Background(), "fixture"); err != nil {
		t.Fatalf("poll at T0+%s: %v", at, err)
	}
}

// pollEvery polls every 5 minutes from T0+from to T0+to.
func (e *detEnv) pollEvery(t *testing.T, from, to time.Duration) {
	t.Helper()
	for at := from; at <= to; at += 5 * time.Minute {
		e.pollAt(t, at)
	}
}

// reload applies a change of the tenant's detections block, as a configuration reload does.
func (e *detEnv) reload(t *testing.T, f func(*config.Detections)) {
	t.Helper()
	e.manager.mu.Lock()
	cfg := e.manager.tenants["fixture"].cfg
	e.manager.mu.Unlock()
	f(&cfg.Detections)
	e.manager.Apply(&config.Config{Tenants: []config.Tenant{cfg}})
}

func (e *detEnv) play(t *testing.T, kind string, start time.Duration, opts simtenant.ScenarioOptions) simtenant.Scenario {
	t.Helper()
	sc, err := e.sim.PlayScenario(kind, detT0.Add(start), opts)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// value sums the series of family name whose labels include match.
func value(t testing.TB, g prometheus.Gatherer, name string, match map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, want := range match {
				if labels[k] != want {
					continue series
				}
			}
			v += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return v
}

// kindFigures are the per-kind detection series of one tenant.
type kindFigures struct {
	started, success, denied, open, usersOpen float64
}

func figures(t testing.TB, g prometheus.Gatherer, kind string) kindFigures {
	t.Helper()
	k := map[string]string{"tenant": "fixture", "kind": kind}
	with := func(l, v string) map[string]string {
		m := map[string]string{"tenant": "fixture", "kind": kind, l: v}
		return m
	}
	return kindFigures{
		started:   value(t, g, "entra_detection_episodes_started_total", k),
		success:   value(t, g, "entra_detection_episodes_ended_total", with("ending", "success")),
		denied:    value(t, g, "entra_detection_episodes_ended_total", with("ending", "denied")),
		open:      value(t, g, "entra_detection_episodes_open", k),
		usersOpen: value(t, g, "entra_detection_users_in_open_episode", k),
	}
}

func checkFigures(t *testing.T, when string, g prometheus.Gatherer, want map[string]kindFigures) {
	t.Helper()
	for _, kind := range detect.Kinds() {
		if got := figures(t, g, kind); got != want[kind] {
			t.Errorf("%s: %s figures %+v, want %+v", when, kind, got, want[kind])
		}
	}
}

// pseudonymOf is the documented pseudonym: "hmac:" and the first 16 bytes, in hex, of
// HMAC-SHA-256 of the lower-cased UPN under the storage directory's key.
func pseudonymOf(t *testing.T, storage, upn string) string {
	t.Helper()
	key, err := os.ReadFile(filepath.Join(storage, "detections-upn.key"))
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.ToLower(upn)))
	return "hmac:" + hex.EncodeToString(m.Sum(nil)[:16])
}

// wantEpisode is what /api/v1/detections must list for a scenario's episode, written from the
// scenario's script: every field but the id.
func wantEpisode(t *testing.T, storage string, sc simtenant.Scenario, outcome string, final bool) DetectionEpisode {
	t.Helper()
	ep := sc.Episodes[0]
	maxList := detect.DefaultSettings().MaxListLen
	clip := func(s []string) []string { return s[:min(len(s), maxList)] }
	e := detect.Episode{
		Kind: ep.Kind, Outcome: outcome, Final: final, FirstSeen: ep.First, LastSeen: ep.Last,
		Rows: len(ep.SignInIDs), Reasons: ep.Reasons, Methods: ep.Methods,
		Apps:      []detect.App{{ID: sc.AppID, Name: sc.AppName}},
		Countries: []string{sc.Country}, IPPrefixes: []string{sc.IPPrefix},
		UserID: sc.UserID, UPN: pseudonymOf(t, storage, sc.UPN),
		SignInIDs: clip(ep.SignInIDs), CorrelationIDs: clip(ep.CorrelationIDs),
		Truncated: len(ep.SignInIDs) > maxList || len(ep.CorrelationIDs) > maxList,
	}
	if outcome == detect.OutcomeSuccess {
		e.SuccessAt, e.SuccessSignInID = ep.SuccessAt, ep.SuccessSignInID
	}
	return DetectionEpisode{Tenant: "fixture", Episode: e, UPNPseudonymised: true}
}

// checkListed compares the listed episode of each scenario's user with what its script says,
// through the JSON the endpoint serves.
func checkListed(t *testing.T, when string, m *Manager, want []DetectionEpisode) map[string]string {
	t.Helper()
	got := m.Detections(DetectionFilter{}).Episodes
	if len(got) != len(want) {
		t.Errorf("%s: %d episodes listed, want %d: %+v", when, len(got), len(want), got)
	}
	ids := map[string]string{}
	for _, w := range want {
		i := slices.IndexFunc(got, func(g DetectionEpisode) bool { return g.UserID == w.UserID && g.Kind == w.Kind })
		if i < 0 {
			t.Errorf("%s: no %s episode of user %s", when, w.Kind, w.UserID)
			continue
		}
		g := got[i]
		if g.ID == "" {
			t.Errorf("%s: %s episode without id", when, g.Kind)
		}
		ids[g.UserID] = g.ID
		g.ID = ""
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		if string(gj) != string(wj) {
			t.Errorf("%s: %s episode of %s:\n got %s\nwant %s", when, w.Kind, w.UserID, gj, wj)
		}
	}
	return ids
}

// TestDetectionScenariosEndToEnd plays every scripted scenario through the simulated tenant and
// the real client, and checks the exact episode counters, gauges, the endpoint's listing and the
// log, while the episodes are open and once they are concluded. fraud.block_window is 10m here,
// so that the fraud episode concludes within the hour of the simulated tenant's access token.
//
// Timeline (rows are visible one second after they are created; the reconcile cursor, which
// concludes episodes, trails now by 20 minutes):
//
//	T0+2m       every scenario starts, each on its own user; the last rows are the slow
//	            declines' at T0+12m35s
//	T0+20m      the fresh read has read every row (up to T0+15m): episodes started, open
//	T0+55m      the reconcile cursor is at T0+35m, past every episode's last row by its gap
//	            (fraud: 10m after the last block, at T0+7m10s) and every row by two windows
func TestDetectionScenariosEndToEnd(t *testing.T) {
	env := newDetEnv(t, simtenant.Options{})
	env.reload(t, func(d *config.Detections) { d.Fraud.BlockWindow = new(config.Duration(10 * time.Minute)) })
	env.pollAt(t, 0)
	scs := map[string]simtenant.Scenario{}
	for _, kind := range simtenant.ScenarioKinds {
		scs[kind] = env.play(t, kind, 2*time.Minute, simtenant.ScenarioOptions{})
	}
	env.pollEvery(t, 5*time.Minute, 20*time.Minute)

	// Open: fatigue_success already ended in success (its approval was read with the burst).
	checkFigures(t, "T0+20m", env.reg, map[string]kindFigures{
		"fatigue":       {started: 2, success: 1, open: 1, usersOpen: 1},
		"fraud":         {started: 1, open: 1, usersOpen: 1},
		"oath_guessing": {started: 1, open: 1, usersOpen: 1},
	})
	// The rows the rules keep: 12 push failures (fatigue), 12 and a success (fatigue_success),
	// 10 declines, 22 OATH failures, a fraud report and 2 blocks, a decline and a success.
	if got := value(t, env.reg, "entra_detection_rows_tracked", nil); got != 62 {
		t.Errorf("T0+20m: rows tracked %v, want 62", got)
	}
	open := []DetectionEpisode{
		wantEpisode(t, env.storage, scs[simtenant.ScenarioFatigue], "open", false),
		wantEpisode(t, env.storage, scs[simtenant.ScenarioFatigueSuccess], "success", false),
		wantEpisode(t, env.storage, scs[simtenant.ScenarioOATHGuessing], "open", false),
		wantEpisode(t, env.storage, scs[simtenant.ScenarioFraudBlock], "open", false),
	}
	idsOpen := checkListed(t, "T0+20m", env.manager, open)

	env.pollEvery(t, 25*time.Minute, 55*time.Minute)
	checkFigures(t, "T0+55m", env.reg, map[string]kindFigures{
		"fatigue":       {started: 2, success: 1, denied: 1},
		"fraud":         {started: 1, denied: 1},
		"oath_guessing": {started: 1, denied: 1},
	})
	concluded := []DetectionEpisode{
		wantEpisode(t, env.storage, scs[simtenant.ScenarioFatigue], "denied", true),
		wantEpisode(t, env.storage, scs[simtenant.ScenarioFatigueSuccess], "success", true),
		wantEpisode(t, env.storage, scs[simtenant.ScenarioOATHGuessing], "denied", true),
		wantEpisode(t, env.storage, scs[simtenant.ScenarioFraudBlock], "denied", true),
	}
	idsFinal := checkListed(t, "T0+55m", env.manager, concluded)
	if !reflect.DeepEqual(idsOpen, idsFinal) {
		t.Errorf("episode ids changed as they concluded: %v, then %v", idsOpen, idsFinal)
	}

	// Prompts per user over 24h, from the scripts: fraud 1, benign 2, slow declines 10,
	// fatigue 12, fatigue_success 13, OATH guessing 22.
	for bound, want := range map[string]float64{"1": 1, "2": 2, "5": 2, "10": 3, "20": 5, "50": 6, "+Inf": 6} {
		if got := value(t, env.reg, "entra_detection_prompted_users", map[string]string{"at_most": bound}); got != want {
			t.Errorf("prompted users at_most=%s: %v, want %v", bound, got, want)
		}
	}
	// Every row of the scenarios is now more than two windows behind the reconcile cursor: only
	// the prompt lists of the six users are kept.
	if got := value(t, env.reg, "entra_detection_users_tracked", nil); got != 6 {
		t.Errorf("users tracked %v, want the 6 scenario users", got)
	}
	if got := value(t, env.reg, "entra_detection_rows_tracked", nil); got != 0 {
		t.Errorf("rows tracked %v once every row left the windows, want 0", got)
	}
	if got := value(t, env.reg, "entra_detection_rows_dropped_total", nil); got != 0 {
		t.Errorf("rows dropped %v, want 0", got)
	}

	// Filters of the endpoint.
	if got := env.manager.Detections(DetectionFilter{Kind: "fatigue", Outcome: "success"}).Episodes; len(got) != 1 || got[0].UserID != scs[simtenant.ScenarioFatigueSuccess].UserID {
		t.Errorf("kind=fatigue outcome=success lists %+v", got)
	}
	if got := env.manager.Detections(DetectionFilter{UserID: scs[simtenant.ScenarioFraudBlock].UserID}).Episodes; len(got) != 1 || got[0].Kind != "fraud" {
		t.Errorf("user_id filter lists %+v", got)
	}
	if got := env.manager.Detections(DetectionFilter{Tenant: "other"}).Episodes; len(got) != 0 {
		t.Errorf("tenant=other lists %+v", got)
	}

	// The log: each episode once, when its outcome is known, with the user id and the
	// pseudonym, never the UPN.
	logs := env.logs.String()
	if n := strings.Count(logs, "MFA attack episode on a user"); n != 4 {
		t.Errorf("%d episode log lines, want 4:\n%s", n, logs)
	}
	for _, sc := range scs {
		if strings.Contains(logs, sc.UPN) {
			t.Errorf("the log holds the UPN %s", sc.UPN)
		}
		if len(sc.Episodes) > 0 && !strings.Contains(logs, sc.UserID) {
			t.Errorf("the log does not name user %s", sc.UserID)
		}
	}
	state, err := os.ReadFile(filepath.Join(env.storage, "fixture.state")) // the tenant's journal
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scs {
		if strings.Contains(string(state), sc.UPN) {
			t.Errorf("the state file holds the UPN %s", sc.UPN)
		}
	}
}

// A fatigue burst whose last two push failures become visible 12 minutes late: the fresh read
// sees 10 (not more than 10: no episode), the reconcile read finds the other two, which complete
// the episode.
func TestDetectionLateRowCompletesEpisode(t *testing.T) {
	env := newDetEnv(t, simtenant.Options{})
	env.pollAt(t, 0)
	sc := env.play(t, simtenant.ScenarioFatigue, 2*time.Minute, simtenant.ScenarioOptions{LateRows: 2, Lateness: 12 * time.Minute})
	// Rows 2m05s..4m50s; the fresh read passes T0+5m at the T0+10m poll; the late rows appear at
	// T0+16m35s and T0+16m50s, and the reconcile read of [.., T0+5m] runs at T0+25m.
	env.pollEvery(t, 5*time.Minute, 20*time.Minute)
	checkFigures(t, "before the reconcile read", env.reg, map[string]kindFigures{})
	if got := value(t, env.reg, "entra_detection_rows_tracked", nil); got != 10 {
		t.Errorf("rows tracked before the reconcile read: %v, want the 10 on-time push failures", got)
	}
	env.pollAt(t, 25*time.Minute)
	if got := value(t, env.reg, "entra_ingest_late_rows_total", nil); got != 2 {
		t.Errorf("late rows %v, want 2", got)
	}
	checkFigures(t, "after the reconcile read", env.reg, map[string]kindFigures{"fatigue": {started: 1, open: 1, usersOpen: 1}})
	checkListed(t, "after the reconcile read", env.manager, []DetectionEpisode{wantEpisode(t, env.storage, sc, "open", false)})
	env.pollEvery(t, 30*time.Minute, 40*time.Minute)
	checkFigures(t, "concluded", env.reg, map[string]kindFigures{"fatigue": {started: 1, denied: 1}})
	checkListed(t, "concluded", env.manager, []DetectionEpisode{wantEpisode(t, env.storage, sc, "denied", true)})
}

// Graph serves the first push failure twice, in every order mode: it counts once, in the counters
// and in the episode.
func TestDetectionRowServedTwice(t *testing.T) {
	for _, order := range []simtenant.Order{simtenant.OrderNewestFirst, simtenant.OrderAscending, simtenant.OrderShuffled} {
		t.Run(order.String(), func(t *testing.T) {
			env := newDetEnv(t, simtenant.Options{Order: order, PageSize: 7})
			env.pollAt(t, 0)
			sc := env.play(t, simtenant.ScenarioFatigueSuccess, 2*time.Minute, simtenant.ScenarioOptions{Duplicate: true})
			env.pollEvery(t, 5*time.Minute, 40*time.Minute)
			if got := value(t, env.reg, "entra_ingest_rows_deduplicated_total", nil); got < 1 {
				t.Errorf("rows deduplicated %v: the duplicate was not served", got)
			}
			if got := value(t, env.reg, "entra_detection_rows_dropped_total", map[string]string{"reason": "duplicate"}); got != 0 {
				t.Errorf("the detector was fed the duplicate (%v)", got)
			}
			checkFigures(t, "concluded", env.reg, map[string]kindFigures{"fatigue": {started: 1, success: 1}})
			checkListed(t, "concluded", env.manager, []DetectionEpisode{wantEpisode(t, env.storage, sc, "success", true)})
		})
	}
}

// Restarts in the middle of an episode, before it starts (8 of its 12 rows read) and while it is
// open (all read, not concluded), neither lose nor double it; the counters start where they were
// committed.
func TestDetectionRestartMidEpisode(t *testing.T) {
	env := newDetEnv(t, simtenant.Options{})
	env.pollAt(t, 0)
	sc := env.play(t, simtenant.ScenarioFatigue, time.Minute, simtenant.ScenarioOptions{})
	// Push failures at T0+1m05s + 15s*i; the fresh read at T0+8m reads up to T0+3m: 8 of them.
	env.pollAt(t, 8*time.Minute)
	if got := value(t, env.reg, "entra_detection_rows_tracked", nil); got != 8 {
		t.Fatalf("rows tracked before the first restart: %v, want 8", got)
	}
	m := env.manager
	restart := func() {
		m.Stop()
		var reg *prometheus.Registry
		m, reg, _ = restartManager(t, env.testEnv, env.storage, env.clk.Now)
		env.manager, env.reg = m, reg
	}
	restart()
	if got := value(t, env.reg, "entra_detection_rows_tracked", nil); got != 8 {
		t.Errorf("rows tracked after the restart: %v, want the 8 committed", got)
	}
	env.pollAt(t, 10*time.Minute)
	checkFigures(t, "episode open", env.reg, map[string]kindFigures{"fatigue": {started: 1, open: 1, usersOpen: 1}})
	ids := checkListed(t, "episode open", env.manager, []DetectionEpisode{wantEpisode(t, env.storage, sc, "open", false)})
	restart()
	checkFigures(t, "restarted with the episode open", env.reg, map[string]kindFigures{"fatigue": {started: 1, open: 1, usersOpen: 1}})
	env.pollEvery(t, 15*time.Minute, 35*time.Minute)
	checkFigures(t, "concluded", env.reg, map[string]kindFigures{"fatigue": {started: 1, denied: 1}})
	if again := checkListed(t, "concluded", env.manager, []DetectionEpisode{wantEpisode(t, env.storage, sc, "denied", true)}); !reflect.DeepEqual(ids, again) {
		t.Errorf("the episode's id changed across the restart: %v, then %v", ids, again)
	}
}

// TestDetectionHostileGraphData: 10,000 distinct users each declining a push within one minute,
// rows without a user id, and rows dated decades ahead that Graph returns anyway (its clock
// skewed, the filter's upper bound ignored). The detector keeps at most max_users users and
// counts the rows it drops; the rows without a user are counted as unattributable; the rows of
// 2096 lie outside the window read, so ingestion does not count them
// (entra_ingest_rows_outside_window_total) and they never reach the detector.
func TestDetectionHostileGraphData(t *testing.T) {
	env := newDetEnv(t, simtenant.Options{PageSize: 1000, IgnoreUpperBound: true, LatenessScale: -1})
	// The cap, set by a configuration reload.
	env.reload(t, func(d *config.Detections) { d.MaxUsers = new(2000) })
	env.pollAt(t, 0)

	at := detT0.Add(2 * time.Minute)
	var rows []map[string]any
	decline := func(id, user string, created time.Time) map[string]any {
		return map[string]any{
			"id": id, "createdDateTime": created.Format(time.RFC3339), "userId": user, "userPrincipalName": user + "@contoso.example",
			"isInteractive": true, "signInEventTypes": []string{"interactiveUser"}, "correlationId": "c-" + id,
			"ipAddress": "192.0.2.1", "authenticationRequirement": "multiFactorAuthentication",
			"status": map[string]any{"errorCode": 500121, "failureReason": "Authentication failed during strong authentication request.",
				"additionalDetails": "MFA denied; user declined the authentication"},
			"authenticationDetails": []map[string]any{
				{"authenticationMethod": "Password", "succeeded": true, "authenticationStepResultDetail": "Correct password", "authenticationStepRequirement": "Primary authentication"},
				{"authenticationMethod": "Mobile app notification", "succeeded": false, "authenticationStepResultDetail": "MFA denied; user declined the authentication", "authenticationStepRequirement": "Secondary authentication"},
			},
		}
	}
	for i := range 10_000 {
		rows = append(rows, decline("flood-"+strconv.Itoa(i), "u-"+strconv.Itoa(i), at.Add(time.Duration(i%60)*time.Second)))
	}
	for i := range 7 {
		rows = append(rows, decline("anon-"+strconv.Itoa(i), "", at))
	}
	data, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.sim.LoadFixture(strings.NewReader(string(data))); err != nil {
		t.Fatal(err)
	}
	truthRows := func() int {
		n := 0
		for _, c := range env.sim.Truth().Rows {
			n += c
		}
		return n
	}
	env.sim.SetClockSkew(70 * 365 * 24 * time.Hour)
	env.sim.Backfill(at, at.Add(time.Minute), 1)
	env.sim.SetClockSkew(0)
	future := truthRows()
	if future == 0 {
		t.Fatal("no row dated in the future was generated")
	}
	env.pollAt(t, 10*time.Minute)

	if got := value(t, env.reg, "entra_signins_total", nil); got != 10_007 {
		t.Errorf("sign-ins counted %v, want the 10,000 users' and the 7 anonymous rows", got)
	}
	// Every read returns them (the bound is ignored) and leaves them out.
	if got := value(t, env.reg, "entra_ingest_rows_outside_window_total", map[string]string{"side": "after"}); got < float64(future) {
		t.Errorf("rows outside the window %v, want at least the %d dated 70 years ahead", got, future)
	}
	if got := value(t, env.reg, "entra_detection_users_tracked", nil); got != 2000 {
		t.Errorf("users tracked %v, want the cap, 2000", got)
	}
	for reason, want := range map[string]float64{"user_cap": 8000, "unattributable": 7, "absurd_timestamp": 0, "late": 0} {
		if got := value(t, env.reg, "entra_detection_rows_dropped_total", map[string]string{"reason": reason}); got != want {
			t.Errorf("rows dropped (%s) %v, want %v", reason, got, want)
		}
	}
	if got := value(t, env.reg, "entra_detection_episodes_started_total", nil); got != 0 {
		t.Errorf("episodes started %v: one decline per user is no attack", got)
	}
	// What the cap bounds, the state file shows: 2000 users of one prompt and one row each.
	if got := value(t, env.reg, "entra_detection_rows_tracked", nil); got != 2000 {
		t.Errorf("rows tracked %v, want 2000", got)
	}
}

// The pseudonymisation key is made once, 0600, and reused: the same UPN keeps its pseudonym
// across restarts. A key file of the wrong size is refused, not overwritten.
func TestUPNKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	k1, err := loadUPNKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, upnKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || len(k1) != 32 {
		t.Errorf("key file mode %v, key %d bytes", fi.Mode().Perm(), len(k1))
	}
	k2, err := loadUPNKey(dir)
	if err != nil || !slices.Equal(k1, k2) {
		t.Errorf("second load: %v, same key %v", err, slices.Equal(k1, k2))
	}
	d := &tenantDetections{key: k1}
	if a, b := d.pseudonym("Alice@Contoso.example"), d.pseudonym("alice@contoso.example"); a != b || !strings.HasPrefix(a, "hmac:") || len(a) != len("hmac:")+32 {
		t.Errorf("pseudonyms %q and %q", a, b)
	}
	if d.pseudonym("alice@contoso.example") == (&tenantDetections{key: make([]byte, 32)}).pseudonym("alice@contoso.example") {
		t.Error("the pseudonym does not depend on the key")
	}
	if err := os.WriteFile(filepath.Join(dir, upnKeyFile), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadUPNKey(dir); err == nil || !strings.Contains(err.Error(), "holds 5 bytes") {
		t.Errorf("short key: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, upnKeyFile)); string(got) != "short" {
		t.Error("the bad key file was overwritten")
	}
}

// show_upn lists the UPN in clear; turning it off again pseudonymises every listed UPN, even
// those stored in clear meanwhile. Disabling detection removes the tenant's detection series.
func TestDetectionReloadShowUPNAndDisable(t *testing.T) {
	env := newDetEnv(t, simtenant.Options{})
	reload := func(f func(*config.Detections)) { env.reload(t, f) }
	reload(func(d *config.Detections) { d.ShowUPN = true })
	env.pollAt(t, 0)
	sc := env.play(t, simtenant.ScenarioFraudBlock, 2*time.Minute, simtenant.ScenarioOptions{})
	env.pollAt(t, 15*time.Minute)
	eps := env.manager.Detections(DetectionFilter{}).Episodes
	if len(eps) != 1 || eps[0].UPN != sc.UPN || eps[0].UPNPseudonymised {
		t.Fatalf("show_upn: listed %+v, want the clear UPN %s", eps, sc.UPN)
	}
	// A threshold changes: the state is kept.
	reload(func(d *config.Detections) { d.ShowUPN = false; d.Fatigue.MoreThan = new(5) })
	eps = env.manager.Detections(DetectionFilter{}).Episodes
	if len(eps) != 1 || eps[0].UPN != pseudonymOf(t, env.storage, sc.UPN) || !eps[0].UPNPseudonymised {
		t.Fatalf("show_upn off: listed %+v, want the pseudonym", eps)
	}
	if got := figures(t, env.reg, "fraud"); got.started != 1 {
		t.Errorf("after the reload: fraud started %v, want the 1 kept", got.started)
	}
	reload(func(d *config.Detections) { d.Enabled = new(false) })
	if got := value(t, env.reg, "entra_detection_episodes_started_total", nil); got != 0 || len(env.manager.Detections(DetectionFilter{}).Episodes) != 0 {
		t.Errorf("disabled: series or episodes remain")
	}
	env.pollAt(t, 20*time.Minute) // ingestion goes on without it
}

// An attack inside the look-back at the first start is read by the backlog pass after the fresh
// and reconcile cursors have jumped over it: the detector must not treat the gap as final (the
// reconcile cursor steps over gaps before they are read), or it would drop the rows as late.
func TestDetectionAttackInTheBacklog(t *testing.T) {
	// Small pages: the backlog read commits (and moves the detector's time) between its pages.
	env := newDetEnv(t, simtenant.Options{PageSize: 4})
	sc := env.play(t, simtenant.ScenarioFatigueSuccess, -50*time.Minute, simtenant.ScenarioOptions{})
	env.pollAt(t, 0)
	if got := value(t, env.reg, "entra_ingest_backlog_seconds", nil); got != 0 {
		t.Errorf("backlog %vs left after the first poll", got)
	}
	checkFigures(t, "first poll", env.reg, map[string]kindFigures{"fatigue": {started: 1, success: 1}})
	if got := value(t, env.reg, "entra_detection_rows_dropped_total", map[string]string{"reason": "late"}); got != 0 {
		t.Errorf("%v rows dropped as late", got)
	}
	env.pollEvery(t, 5*time.Minute, 10*time.Minute)
	checkListed(t, "concluded", env.manager, []DetectionEpisode{wantEpisode(t, env.storage, sc, "success", true)})
}
