package collector

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// expectedAnswers reads the six answers off an exposition (the hand-derived
// testdata/expected.prom): the sums the dashboards compute from the counters, and the 1d user
// gauges.
func expectedAnswers(t *testing.T, fams map[string]*dto.MetricFamily) Answers {
	t.Helper()
	labels := func(m *dto.Metric) map[string]string {
		out := map[string]string{}
		for _, l := range m.GetLabel() {
			out[l.GetName()] = l.GetValue()
		}
		return out
	}
	tl := tally{}
	for _, m := range fams["entra_signins_total"].GetMetric() {
		l, v := labels(m), int64(m.GetCounter().GetValue())
		tl[keySignIns] += v
		switch l["mfa_outcome"] {
		case "satisfied":
			tl[keySatisfied] += v
		case "not_required":
			tl[keyNotRequired] += v
		}
		if l["result"] == "failure" {
			tl["e:"+l["error_code"]] += v
		}
	}
	for _, m := range fams["entra_mfa_attempts_total"].GetMetric() {
		l, v := labels(m), int64(m.GetCounter().GetValue())
		if l["outcome"] == "satisfied" {
			tl["m:"+l["method"]] += v
		} else {
			tl["d:"+l["reason"]+":"+l["method"]] += v
		}
	}
	a := tl.answers(time.Time{}, time.Time{})
	for _, m := range fams["entra_mfa_users_challenged"].GetMetric() {
		if labels(m)["window"] == "1d" {
			a.UsersChallenged = int64(m.GetGauge().GetValue())
		}
	}
	for _, m := range fams["entra_mfa_users_failed"].GetMetric() {
		if labels(m)["window"] == "1d" {
			a.UsersFailed = int64(m.GetGauge().GetValue())
		}
	}
	a.UsersKnown = true
	return a
}

func readExpected(t *testing.T) Answers {
	t.Helper()
	f, err := os.Open("testdata/expected.prom")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(f)
	if err != nil {
		t.Fatal(err)
	}
	return expectedAnswers(t, fams)
}

// sameFigures compares everything but the period bounds.
func sameFigures(t *testing.T, what string, got, want Answers) {
	t.Helper()
	got.From, got.To, want.From, want.To = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// fixtureRowsSince counts the distinct rows of testdata/signins.json created at or after from,
// read straight from the JSON.
func fixtureRowsSince(t *testing.T, from time.Time) int64 {
	t.Helper()
	var rows []struct {
		ID      string    `json:"id"`
		Created time.Time `json:"createdDateTime"`
	}
	if err := json.Unmarshal(loadFixture(t), &rows); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range rows {
		if !r.Created.Before(from) {
			ids[r.ID] = true
		}
	}
	return int64(len(ids))
}

// The landing page's answers come from the summary ring filled by the ingestion: over a window
// holding every fixture row they equal the hand-derived counters of testdata/expected.prom; a
// shorter window holds exactly the rows created since its (bucket-rounded) start; they survive a
// restart; and the health shows the last poll.
func TestSummaryAnswersEqualCounters(t *testing.T) {
	clk := &testClock{now: fixtureEpoch.Add(36 * time.Minute)}
	storage := t.TempDir()
	env := newTestEnv(t, simtenant.Options{PageSize: 25, RateLimit: -1}, fixtureSignIns(), clk.Now, storage)
	if err := env.sim.LoadFixture(bytes.NewReader(loadFixture(t))); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Duration{36 * time.Minute, 61 * time.Minute, 90 * time.Minute, 95 * time.Minute} {
		clk.Set(fixtureEpoch.Add(at))
		if err := env.poll(t); err != nil {
			t.Fatalf("poll at epoch+%v: %v", at, err)
		}
	}
	compareWithFixture(t, env.reg, fixtureFamilies...)
	want := readExpected(t)

	sum := env.manager.Summary(time.Hour, 24*time.Hour)
	if len(sum) != 1 || sum[0].Tenant != "fixture" || len(sum[0].Periods) != 2 {
		t.Fatalf("summary = %+v", sum)
	}
	day := sum[0].Periods[1]
	sameFigures(t, "24h answers", day, want)
	if !day.From.Equal(fixtureEpoch.Add(95*time.Minute - 24*time.Hour)) {
		t.Errorf("24h window starts at %v", day.From)
	}
	if share, ok := day.ProtectedShare(); !ok || share <= 0 || share >= 1 {
		t.Errorf("protected share = %v, %v", share, ok)
	}
	hour := sum[0].Periods[0]
	if hour.SignIns != 0 || !hour.From.Equal(fixtureEpoch.Add(35*time.Minute)) {
		t.Errorf("1h at epoch+95m (no rows after epoch+31m): %d rows from %v", hour.SignIns, hour.From)
	}

	// At epoch+77m the last hour starts at epoch+17m, rounded up to the bucket at epoch+20m.
	clk.Set(fixtureEpoch.Add(77 * time.Minute))
	hour = env.manager.Summary(time.Hour)[0].Periods[0]
	if !hour.From.Equal(fixtureEpoch.Add(20 * time.Minute)) {
		t.Errorf("1h at epoch+77m starts at %v, want epoch+20m", hour.From)
	}
	if want := fixtureRowsSince(t, fixtureEpoch.Add(20*time.Minute)); hour.SignIns != want || want == 0 {
		t.Errorf("1h at epoch+77m: %d rows, want %d (rows created since epoch+20m)", hour.SignIns, want)
	}
	if hour.SignIns >= day.SignIns || !hour.UsersKnown || hour.UsersChallenged > day.UsersChallenged {
		t.Errorf("1h %+v not a part of 24h %+v", hour, day)
	}
	clk.Set(fixtureEpoch.Add(95 * time.Minute))

	health := sum[0].Sources
	if len(health) != 2 || health[0].Source != "signIns" || health[1].Source != "userRegistrationDetails" {
		t.Fatalf("sources = %+v", health)
	}
	if s := health[0]; !s.LastSuccess.Equal(fixtureEpoch.Add(95*time.Minute)) || s.ErrorReason != "" || s.Error != "" ||
		!s.CountedTo.Equal(fixtureEpoch.Add(90*time.Minute)) {
		t.Errorf("sign-in health = %+v, want last success at epoch+95m, counted to epoch+90m (settle 5m), no error", s)
	}
	if s := health[1]; !s.Enabled || !s.LastSuccess.IsZero() {
		t.Errorf("registration health = %+v, want enabled and never polled (manual mode polls sign-ins only)", s)
	}

	// The ring is the journal's "summary" part, a JSON blob.
	state, err := os.ReadFile(filepath.Join(storage, "fixture.state"))
	if err != nil || !bytes.Contains(state, []byte(`{"bucket_seconds":300`)) {
		t.Errorf("state journal lacks the summary ring (err %v)", err)
	}
	m2, _, _ := restartManager(t, env, storage, clk.Now)
	after := m2.Summary(24 * time.Hour)[0]
	sameFigures(t, "24h answers after a restart", after.Periods[0], want)
	if !after.Sources[0].CountedTo.Equal(fixtureEpoch.Add(90 * time.Minute)) {
		t.Errorf("after a restart, counted to %v", after.Sources[0].CountedTo)
	}
}

// A failed commit keeps the summary's counts pending with the counters: the page never shows a
// row /metrics does not.
func TestSummaryFollowsCommits(t *testing.T) {
	clk := &testClock{now: fixtureEpoch.Add(36 * time.Minute)}
	storage := filepath.Join(t.TempDir(), "state")
	if err := os.WriteFile(storage, []byte("a file where the directory should be"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := newTestEnv(t, simtenant.Options{PageSize: 50, RateLimit: -1}, fixtureSignIns(), clk.Now, storage)
	if err := env.sim.LoadFixture(bytes.NewReader(loadFixture(t))); err != nil {
		t.Fatal(err)
	}
	if err := env.poll(t); err == nil {
		t.Fatal("poll with an unwritable storage path succeeded")
	}
	s := env.manager.Summary(24 * time.Hour)[0]
	if n := s.Periods[0].SignIns; n != 0 {
		t.Errorf("%d rows shown although nothing was committed", n)
	}
	if s.Sources[0].ErrorReason != "state_commit" || !strings.Contains(s.Sources[0].Error, "committing state failed") {
		t.Errorf("health after a failed commit = %+v", s.Sources[0])
	}
	if err := os.Remove(storage); err != nil {
		t.Fatal(err)
	}
	clk.Set(fixtureEpoch.Add(37 * time.Minute))
	if err := env.poll(t); err != nil {
		t.Fatal(err)
	}
	s = env.manager.Summary(24 * time.Hour)[0]
	if n, counters := s.Periods[0].SignIns, env.sum(t, "entra_signins_total"); n != 186-17 || float64(n) != counters {
		t.Errorf("after a good commit: %d rows shown, counters %v, want %d", n, counters, 186-17)
	}
	if s.Sources[0].ErrorReason != "" || !s.Sources[0].LastSuccess.Equal(clk.Now()) {
		t.Errorf("health after recovery = %+v", s.Sources[0])
	}
}

func TestSummaryShowsAccessProblem(t *testing.T) {
	clk := &testClock{now: fixtureEpoch.Add(36 * time.Minute)}
	env := newTestEnv(t, simtenant.Options{RateLimit: -1}, fixtureSignIns(), clk.Now, t.TempDir())
	env.sim.InjectFault(simtenant.Fault{Kind: simtenant.FaultLicense, Count: 100})
	_ = env.poll(t)
	h := env.manager.Summary()[0].Sources[0]
	if h.ErrorReason != "licence" || !strings.Contains(h.Error, "P1") || !h.LastSuccess.IsZero() {
		t.Errorf("health without a licence = %+v", h)
	}
}

// decodeFixture decodes testdata/signins.json as the Graph client's types (the JSON tags name
// the wire fields).
func decodeFixture(t *testing.T) []graph.SignIn {
	t.Helper()
	var rows []graph.SignIn
	if err := json.Unmarshal(loadFixture(t), &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// A Period counts like the exporter: the fixture's rows give the hand-derived figures, whatever
// rows outside the period, without an id or repeated are added around them.
func TestPeriodCountsLikeTheExporter(t *testing.T) {
	rows := decodeFixture(t)
	from, to := fixtureEpoch, fixtureEpoch.Add(31*time.Minute)
	p, err := NewPeriod(from.Add(300*time.Millisecond), to.Add(999*time.Millisecond)) // truncated to whole seconds
	if err != nil {
		t.Fatal(err)
	}
	extra := []graph.SignIn{
		{ID: "before", CreatedDateTime: from.Add(-time.Millisecond), UserID: "u-before", Status: graph.Status{ErrorCode: 500121}},
		{ID: "after", CreatedDateTime: to.Add(time.Second), UserID: "u-after", Status: graph.Status{ErrorCode: 500121}},
		{ID: "", CreatedDateTime: from.Add(time.Minute), UserID: "u-noid"},
		rows[5], // served twice
	}
	for i := range rows {
		p.Add(&rows[i])
		if i == len(rows)/2 {
			for j := range extra {
				p.Add(&extra[j])
			}
		}
	}
	got := p.Answers()
	if !got.From.Equal(from) || !got.To.Equal(to) {
		t.Errorf("period [%v, %v], want [%v, %v]", got.From, got.To, from, to)
	}
	sameFigures(t, "period answers", got, readExpected(t))
	// 187 fixture rows (one id twice) + 4 extra rows.
	if p.Rows != 191 || p.Duplicates != 2 || p.Outside != 2 || p.WithoutID != 1 {
		t.Errorf("rows %d, duplicates %d, outside %d, without id %d; want 191, 2, 2, 1", p.Rows, p.Duplicates, p.Outside, p.WithoutID)
	}
	if !p.Oldest.Equal(from) {
		t.Errorf("oldest row counted at %v, want %v", p.Oldest, from)
	}
	if _, err := NewPeriod(to, from); err == nil {
		t.Error("a period ending before it starts was accepted")
	}
}

// A row's half-second beyond the period's last second is inside it, as the exporter's windows
// accept it (Graph filters at whole seconds); a whole second beyond is not.
func TestPeriodUpperBound(t *testing.T) {
	to := fixtureEpoch.Add(time.Hour)
	p, _ := NewPeriod(fixtureEpoch, to)
	p.Add(&graph.SignIn{ID: "a", CreatedDateTime: to.Add(500 * time.Millisecond)})
	p.Add(&graph.SignIn{ID: "b", CreatedDateTime: to.Add(time.Second)})
	if a := p.Answers(); a.SignIns != 1 || p.Outside != 1 {
		t.Errorf("counted %d, outside %d; want 1 and 1", a.SignIns, p.Outside)
	}
}

// The ring keeps 24 hours of buckets, whatever the dates it is fed.
func TestSummaryRingIsBounded(t *testing.T) {
	now := fixtureEpoch.Add(48 * time.Hour)
	r := restoreSummary(nil)
	c := mfa.Classification{Outcome: mfa.OutcomeNotRequired, Result: mfa.ResultSuccess}
	for i := range 10_000 {
		// Every minute over a week before and after now.
		r.observe(now.Add(time.Duration(i-5000)*2*time.Minute), now, c)
	}
	r.promote(now, now)
	st := r.export()
	// 24h + 5m of buckets: [now-24h, now+5m], both ends' buckets included.
	if n := len(st.Buckets); n > int(summaryHorizon/summaryBucket)+2 {
		t.Errorf("%d buckets kept, want at most %d", n, int(summaryHorizon/summaryBucket)+2)
	}
	// Rows every 2 minutes from now-24h to now+4m (now+5m is the furthest kept): 723.
	if a := r.answers(now, 24*time.Hour); a.SignIns != 723 {
		t.Errorf("24h holds %d rows, want 723", a.SignIns)
	}
	// Later, the old buckets go.
	r.promote(now, now.Add(23*time.Hour))
	if n := len(r.export().Buckets); n > int(time.Hour/summaryBucket)+2 {
		t.Errorf("%d buckets kept 23 hours later, want at most %d", n, int(time.Hour/summaryBucket)+2)
	}
	// A ring of another bucket size is not reused.
	st.BucketSeconds = 60
	if r2 := restoreSummary(&tenantState{Summary: st}); len(r2.committed) != 0 {
		t.Error("a ring with another bucket size was restored")
	}
}
