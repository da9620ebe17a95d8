package crashtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// iterations is the number of kill/restart cycles per row order; CRASH_ITERATIONS overrides it
// for longer runs. Two orders at 15 each make the 30 kills CI runs.
func iterations(t *testing.T) int {
	if s := os.Getenv("CRASH_ITERATIONS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("CRASH_ITERATIONS=%q: want a positive integer", s)
		}
		return n
	}
	return 15
}

func buildExporter(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "entra-mfa-exporter")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/entra-mfa-exporter")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the exporter: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// exporterProcess is one run of the binary.
type exporterProcess struct {
	cmd  *exec.Cmd
	addr string
	log  *os.File
}

func start(t *testing.T, bin, config, storage, logPath string) *exporterProcess {
	t.Helper()
	addr := freePort(t)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+config, "--storage.path="+storage,
		"--web.listen-address="+addr, "--log.level=info")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return &exporterProcess{cmd: cmd, addr: addr, log: logf}
}

func (p *exporterProcess) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
	p.log.Close()
}

// scrape returns the exporter's metric families, or nil if it does not answer (yet).
func (p *exporterProcess) scrape() map[string]*modelFamily {
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + p.addr + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil
	}
	out := map[string]*modelFamily{}
	for name, f := range fams {
		mf := &modelFamily{counter: f.GetType() == dto.MetricType_COUNTER}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			mf.series = append(mf.series, series{labels, v})
		}
		out[name] = mf
	}
	return out
}

type series struct {
	labels map[string]string
	value  float64
}

func (s series) key(family string) string {
	names := make([]string, 0, len(s.labels))
	for k := range s.labels {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(family)
	for _, k := range names {
		b.WriteString("," + k + "=" + s.labels[k])
	}
	return b.String()
}

type modelFamily struct {
	counter bool
	series  []series
}

func (f *modelFamily) sum() float64 {
	if f == nil {
		return 0
	}
	var s float64
	for _, x := range f.series {
		s += x.value
	}
	return s
}

func (f *modelFamily) value(match map[string]string) float64 {
	if f == nil {
		return 0
	}
	var v float64
	for _, x := range f.series {
		ok := true
		for k, want := range match {
			if x.labels[k] != want {
				ok = false
			}
		}
		if ok {
			v += x.value
		}
	}
	return v
}

// durableCounters are the counters restored from the state file: they must never go down across a
// restart. (Self-metrics such as request counts start from zero in each process, as any exporter's.)
var durableCounters = []string{"entra_signins_total", "entra_signins_by_client_app_total",
	"entra_mfa_attempts_total", "entra_mfa_unclassified_strings_total",
	"entra_signins_by_requirement_source_total", "entra_ca_policy_evaluations_total",
	"entra_signins_by_application_total", "entra_coverage_overflow_total",
	"entra_detection_episodes_started_total", "entra_detection_episodes_ended_total", "entra_detection_rows_dropped_total"}

// monotonic remembers the highest value scraped of every durable counter series.
type monotonic map[string]float64

func (m monotonic) check(t *testing.T, when string, fams map[string]*modelFamily) {
	t.Helper()
	for _, name := range durableCounters {
		f := fams[name]
		if f == nil {
			continue // a family appears with its first series
		}
		for _, s := range f.series {
			k := s.key(name)
			if prev, ok := m[k]; ok && s.value < prev {
				t.Errorf("%s: %s went down: %v after %v", when, k, s.value, prev)
			}
			m[k] = max(m[k], s.value)
		}
	}
}

var eventLabel = map[string]string{simtenant.EventInteractive: "interactive", simtenant.EventNonInteractive: "non_interactive"}

// TestCrashRestartExactlyOnce kills the exporter with SIGKILL at random points (mid-page,
// mid-commit, mid-throttle wait), restarts it each time on the same storage directory, and checks
// that the final counters equal the simulated tenant's ground truth: no row lost, none counted
// twice. It also checks that no durable counter series ever goes down across restarts. It runs
// with Graph's documented default order (newest first) and with rows shuffled within each query,
// since the exporter must not depend on row order.
func TestCrashRestartExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and runs the binary many times")
	}
	bin := buildExporter(t)
	seed := time.Now().UnixNano()
	if s := os.Getenv("CRASH_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("CRASH_SEED=%q: want an integer", s)
		}
	}
	// The seed is printed first, so a failure can be replayed with CRASH_SEED.
	t.Logf("CRASH_SEED=%d", seed)
	for _, order := range []simtenant.Order{simtenant.OrderNewestFirst, simtenant.OrderShuffled} {
		t.Run(order.String(), func(t *testing.T) {
			// Each order has its own simulated tenant, budget and exporter: run them side by side.
			t.Parallel()
			crashRun(t, bin, seed, order)
		})
	}
}

func crashRun(t *testing.T, bin string, seed int64, order simtenant.Order) {
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(order)+7))
	sim, err := simtenant.Start(simtenant.Options{Seed: seed, Users: 200, PageSize: 400, LatenessScale: -1, Order: order})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	// 90 minutes of sign-ins, all visible now: the exporter needs about a minute of request
	// budget to read them, so the kills land while it pages, commits and waits for the budget.
	// (Late rows are covered by the collector's tests; here every row is visible from the start,
	// so the ground truth is fixed.)
	now := time.Now()
	sim.Backfill(now.Add(-90*time.Minute), now.Add(-2*time.Minute), 1)
	// Scripted attacks among them, each on a user of its own, so that their episodes are known
	// from the scripts (the random flows add fraud reports and, now and then, push bombing).
	scripted := playScripts(t, sim, now)

	dir := t.TempDir()
	ca, secret := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "secret")
	if err := sim.WriteCACert(ca); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secret, []byte(sim.ClientSecret()), 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config.yml")
	cfg := fmt.Sprintf(`tenants:
  - name: crash
    tenant_id: %s
    cloud: custom
    authority_host: %s
    graph_endpoint: %s
    ca_file: %s
    credential: {type: client_secret, client_id: %s, client_secret_file: %s}
    sign_ins:
      poll_interval: 10s
      settle_delay: 10s
      reconcile_delay: 1m
      reconcile_interval: 10s
      lookback: 2h
      event_types: [interactive, non_interactive]
`, sim.TenantID(), sim.AuthorityHost(), sim.GraphEndpoint(), ca, sim.ClientID(), secret)
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	storage := filepath.Join(dir, "state")
	logPath := filepath.Join(dir, "exporter.log")
	defer func() {
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			t.Logf("exporter log (last 6000 bytes):\n%s", tail(data, 6000))
		}
	}()

	seen := monotonic{}
	n := iterations(t)
	// committed records whether a killed run was seen to commit: then its state file holds a
	// transaction and the last run must restore it. (A run can also commit after its last
	// scrape; that is why the check below is strict only when a commit was seen.)
	committed := false
	for i := range n {
		p := start(t, bin, config, storage, logPath)
		started := time.Now()
		// Even iterations die at a random point of the first seconds, where a run authenticates,
		// reads its first page, commits and waits for the request budget. Odd ones die at a
		// random point of the two seconds after their first commit was seen, so that the state
		// always moves forward (on a loaded machine every run could otherwise die before its
		// first commit) and later commits are interrupted too.
		life := time.Duration(50+rng.IntN(3500)) * time.Millisecond
		afterCommit := i%2 == 1
		deadline := started.Add(life)
		if afterCommit {
			deadline = started.Add(30 * time.Second) // until the first commit is seen
		}
		runCommitted := false
		for time.Now().Before(deadline) {
			if fams := p.scrape(); fams != nil {
				seen.check(t, fmt.Sprintf("iteration %d", i), fams)
				if fams["entra_state_commits_total"].value(map[string]string{"result": "success"}) > 0 && !runCommitted {
					runCommitted = true
					if afterCommit {
						deadline = time.Now().Add(time.Duration(rng.IntN(2000)) * time.Millisecond)
					}
				}
			}
			time.Sleep(time.Duration(20+rng.IntN(200)) * time.Millisecond)
		}
		p.kill()
		if afterCommit && !runCommitted {
			t.Fatalf("iteration %d: no commit seen in the 30 s after start", i)
		}
		committed = committed || runCommitted
		t.Logf("iteration %d: killed after %v, commit seen: %v", i, time.Since(started).Round(time.Millisecond), runCommitted)
	}

	// A last run catches up: it must count everything once. It is done when every ground-truth
	// row is counted, nothing is left to read (backlog 0) and no row id is remembered any more:
	// then no read can return a counted row again, so a double count would already show.
	truth := sim.Truth()
	want := 0
	for _, c := range truth.Rows {
		want += c
	}
	p := start(t, bin, config, storage, logPath)
	defer p.kill()
	var fams map[string]*modelFamily
	// The killed runs leave most of the 90 minutes to the last one (each dies while re-reading
	// the first pages of its first slice), which then needs about 3 minutes of request budget
	// (2m34s and 2m31s on a quiet machine; "caught up" below). The limit leaves room for a loaded
	// machine. Progress is logged every 10 s, so a run that does not make it shows where it
	// stalled.
	const catchUpLimit = 8 * time.Minute
	lastStart := time.Now()
	catchUp := lastStart.Add(catchUpLimit)
	nextReport := lastStart
	caughtUp := false
	for time.Now().Before(catchUp) {
		if f := p.scrape(); f != nil {
			fams = f
			seen.check(t, "last run", f)
			if time.Now().After(nextReport) {
				nextReport = time.Now().Add(10 * time.Second)
				tl := map[string]string{"tenant": "crash"}
				t.Logf("last run +%v: rows %v/%d, backlog %vs, dedup ids %v, fetched fresh %v reconcile %v backlog %v, requests %v, throttled %v",
					time.Since(lastStart).Round(time.Second), f["entra_signins_total"].sum(), want,
					f["entra_ingest_backlog_seconds"].value(tl), f["entra_ingest_dedup_ids"].value(tl),
					f["entra_ingest_rows_fetched_total"].value(map[string]string{"pass": "fresh"}),
					f["entra_ingest_rows_fetched_total"].value(map[string]string{"pass": "reconcile"}),
					f["entra_ingest_rows_fetched_total"].value(map[string]string{"pass": "backlog"}),
					byLabel(f["entra_graph_requests_total"], "endpoint"), f["entra_graph_throttled_total"].sum())
			}
			done := f["entra_signins_total"].sum() >= float64(want) &&
				f["entra_ingest_backlog_seconds"].value(map[string]string{"tenant": "crash"}) == 0 &&
				f["entra_ingest_dedup_ids"].value(map[string]string{"tenant": "crash"}) == 0 &&
				len(f["entra_ingest_dedup_ids"].series) > 0
			if done && allFinal(p.detections(), scripted) {
				caughtUp = true
				break
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	if fams == nil {
		t.Fatal("the last exporter run never answered")
	}
	if !caughtUp {
		t.Errorf("the last run had not counted every row, drained its backlog and concluded every scripted episode after %v (its progress is logged above); the comparisons below show what was missing", catchUpLimit)
	} else {
		t.Logf("the last run caught up in %v", time.Since(lastStart).Round(time.Second))
	}
	t.Logf("order %s: %d kill/restart cycles; ground truth: %d flows, %d rows; fetched %v rows",
		order, n, truth.Flows, want, fams["entra_ingest_rows_fetched_total"].sum())

	gotRows := map[string]float64{}
	for _, s := range fams["entra_signins_total"].series {
		gotRows[s.labels["event_type"]+"/"+s.labels["error_code"]] += s.value
	}
	wantRows := map[string]float64{}
	for k, c := range truth.Rows {
		wantRows[eventLabel[k.EventType]+"/"+strconv.Itoa(k.ErrorCode)] += float64(c)
	}
	compare(t, "sign-in rows by event_type/error_code", gotRows, wantRows)

	gotAttempts := map[string]float64{}
	for _, s := range fams["entra_mfa_attempts_total"].series {
		l := s.labels
		gotAttempts[l["outcome"]+"/"+l["method"]+"/"+l["reason"]+"/"+l["component"]] += s.value
	}
	wantAttempts := map[string]float64{}
	for k, c := range truth.Attempts {
		wantAttempts[k.Outcome+"/"+k.Method+"/"+k.Reason+"/"+k.Component] += float64(c)
	}
	compare(t, "MFA attempts by outcome/method/reason/component", gotAttempts, wantAttempts)
	compareCoverage(t, fams, truth.Coverage)

	compareEpisodes(t, p.detections(), scripted, fams, truth)

	// The last run loads the killed runs' state once, and never finds it corrupt or unreadable.
	restores := map[string]float64{}
	for _, s := range fams["entra_state_restores_total"].series {
		restores[s.labels["result"]] += s.value
	}
	wantLoads := map[string]float64{"restored": 1}
	if !committed && restores["none"] == 1 {
		wantLoads = map[string]float64{"none": 1} // no killed run was seen to commit, and none did
	}
	compare(t, "last run: state loads by result", restores, wantLoads)
}

// compareCoverage checks the coverage counters against the generator's record: rows by
// requirement source, policy evaluations by policy and result, rows by application.
func compareCoverage(t *testing.T, fams map[string]*modelFamily, truth simtenant.CoverageTruth) {
	t.Helper()
	sum := func(family string, key func(map[string]string) string) map[string]float64 {
		out := map[string]float64{}
		for _, s := range fams[family].series {
			out[key(s.labels)] += s.value
		}
		return out
	}
	want := map[string]float64{}
	for k, n := range truth.Sources {
		want[k] += float64(n)
	}
	compare(t, "sign-in rows by requirement source", sum("entra_signins_by_requirement_source_total",
		func(l map[string]string) string { return l["requirement_source"] }), want)
	want = map[string]float64{}
	for k, n := range truth.Policies {
		want[k.ID+"/"+k.Result] += float64(n)
	}
	compare(t, "policy evaluations by policy/result", sum("entra_ca_policy_evaluations_total",
		func(l map[string]string) string { return l["policy_id"] + "/" + l["policy_result"] }), want)
	want = map[string]float64{}
	for k, n := range truth.Apps {
		want[k] += float64(n)
	}
	compare(t, "sign-in rows by application", sum("entra_signins_by_application_total",
		func(l map[string]string) string { return l["app_id"] }), want)
	if len(truth.Policies) == 0 || len(truth.Apps) < 10 {
		t.Errorf("the simulated tenant produced %d policy/result pairs and %d applications: nothing to check", len(truth.Policies), len(truth.Apps))
	}
	if n := fams["entra_coverage_overflow_total"].sum(); n != 0 {
		t.Errorf("%v evaluations or rows over the caps, want none: the simulated tenant stays under the defaults", n)
	}
}

func compare(t *testing.T, what string, got, want map[string]float64) {
	t.Helper()
	var diffs []string
	for k, w := range want {
		if got[k] != w {
			diffs = append(diffs, fmt.Sprintf("  %s: got %v, want %v", k, got[k], w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && g != 0 {
			diffs = append(diffs, fmt.Sprintf("  %s: got %v, want 0", k, g))
		}
	}
	if len(diffs) > 0 {
		t.Errorf("%s differ from the ground truth (%d keys):\n%s", what, len(diffs), strings.Join(diffs, "\n"))
	}
}

// byLabel sums a family's series by the values of one label.
func byLabel(f *modelFamily, label string) map[string]float64 {
	out := map[string]float64{}
	if f != nil {
		for _, s := range f.series {
			out[s.labels[label]] += s.value
		}
	}
	return out
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return strings.Join(lines, "\n")
}

// scripts are the scripted attacks of the crash test, by start before now: each ends early enough
// to be concluded by the last run (fraud's episode lasts an hour after its last block).
var scripts = []struct {
	kind  string
	start time.Duration
	opts  simtenant.ScenarioOptions
}{
	{simtenant.ScenarioFraudBlock, -88 * time.Minute, simtenant.ScenarioOptions{}},
	{simtenant.ScenarioFatigue, -75 * time.Minute, simtenant.ScenarioOptions{}},
	{simtenant.ScenarioFatigueSuccess, -65 * time.Minute, simtenant.ScenarioOptions{}},
	{simtenant.ScenarioOATHGuessing, -55 * time.Minute, simtenant.ScenarioOptions{}},
	{simtenant.ScenarioSlowDeclines, -45 * time.Minute, simtenant.ScenarioOptions{}},
	{simtenant.ScenarioBenign, -30 * time.Minute, simtenant.ScenarioOptions{}},
	{simtenant.ScenarioFatigueSuccess, -25 * time.Minute, simtenant.ScenarioOptions{Duplicate: true}},
	{simtenant.ScenarioFatigue, -15 * time.Minute, simtenant.ScenarioOptions{}},
}

func playScripts(t *testing.T, sim *simtenant.Tenant, now time.Time) []simtenant.Scenario {
	t.Helper()
	var out []simtenant.Scenario
	for _, s := range scripts {
		sc, err := sim.PlayScenario(s.kind, now.Add(s.start), s.opts)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sc)
	}
	return out
}

// listedEpisode is what the crash test reads of /api/v1/detections.
type listedEpisode struct {
	ID              string    `json:"id"`
	Kind            string    `json:"kind"`
	Outcome         string    `json:"outcome"`
	Final           bool      `json:"final"`
	FirstSeen       time.Time `json:"first_seen"`
	LastSeen        time.Time `json:"last_seen"`
	Rows            int       `json:"rows"`
	UserID          string    `json:"user_id"`
	SignInIDs       []string  `json:"sign_in_ids"`
	SuccessSignInID string    `json:"success_sign_in_id"`
}

// detections returns the episodes the exporter lists, nil if it does not answer.
func (p *exporterProcess) detections() []listedEpisode {
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + p.addr + "/api/v1/detections")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var rep struct {
		Episodes []listedEpisode `json:"episodes"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&rep) != nil {
		return nil
	}
	return rep.Episodes
}

// allFinal tells whether every scripted episode is listed and concluded.
func allFinal(listed []listedEpisode, scripted []simtenant.Scenario) bool {
	final := map[string]int{}
	for _, e := range listed {
		if e.Final {
			final[e.UserID]++
		}
	}
	for _, sc := range scripted {
		if final[sc.UserID] != len(sc.Episodes) {
			return false
		}
	}
	return true
}

// compareEpisodes checks the episodes against the ground truth: each scripted attack's episode
// exactly as its script says (kind, ending, rows, first sign-in ids), none for the scripts that
// stay under the thresholds, one fraud episode per fraud report generated (random ones included),
// and no OATH guessing but the scripted one.
func compareEpisodes(t *testing.T, listed []listedEpisode, scripted []simtenant.Scenario, fams map[string]*modelFamily, truth simtenant.Truth) {
	t.Helper()
	byUser := map[string][]listedEpisode{}
	for _, e := range listed {
		byUser[e.UserID] = append(byUser[e.UserID], e)
	}
	want := map[string]float64{}
	for _, sc := range scripted {
		got := byUser[sc.UserID]
		if len(got) != len(sc.Episodes) {
			t.Errorf("%s (user %s): %d episodes listed, the script has %d: %+v", sc.Kind, sc.UserID, len(got), len(sc.Episodes), got)
			continue
		}
		for i, w := range sc.Episodes {
			g := got[i]
			ids := w.SignInIDs[:min(len(w.SignInIDs), 20)]
			if g.Kind != w.Kind || g.Outcome != w.Outcome || !g.Final || g.Rows != len(w.SignInIDs) ||
				!g.FirstSeen.Equal(w.First) || !g.LastSeen.Equal(w.Last) || !slices.Equal(g.SignInIDs, ids) || g.SuccessSignInID != w.SuccessSignInID {
				t.Errorf("%s (user %s): listed %+v, the script says %s %s, %d rows %s..%s, success %q", sc.Kind, sc.UserID, g,
					w.Kind, w.Outcome, len(w.SignInIDs), w.First, w.Last, w.SuccessSignInID)
			}
			want[w.Kind]++
		}
	}
	fraud := 0
	for k, c := range truth.Attempts {
		if k.Outcome == simtenant.OutcomeDenied && k.Reason == "fraud_reported" {
			fraud += c
		}
	}
	started := func(kind string) float64 {
		return fams["entra_detection_episodes_started_total"].value(map[string]string{"kind": kind})
	}
	if got := started("fraud"); got != float64(fraud) {
		t.Errorf("fraud episodes started: %v, want one per fraud report generated, %d", got, fraud)
	}
	if got := started("oath_guessing"); got != want["oath_guessing"] {
		t.Errorf("OATH guessing episodes started: %v, want the %v scripted", got, want["oath_guessing"])
	}
	if got := started("fatigue"); got < want["fatigue"] {
		t.Errorf("fatigue episodes started: %v, fewer than the %v scripted", got, want["fatigue"])
	}
	t.Logf("episodes started: fatigue %v (%v scripted), fraud %v, oath_guessing %v", started("fatigue"), want["fatigue"], started("fraud"), started("oath_guessing"))
}
