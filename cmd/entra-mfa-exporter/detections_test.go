package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/crypto/bcrypt"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/collector"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/simtenant"
)

// detectionsServer runs the exporter on a simulated tenant with half an hour of history and every
// scripted scenario played 15 minutes ago, behind TLS and basic auth (prometheus / s3cret).
type detectionsServer struct {
	base   string
	client *http.Client
	logs   *syncBuffer
	sim    *testSim
	scs    []simtenant.Scenario
}

func startDetectionsServer(t *testing.T, api bool) *detectionsServer {
	t.Helper()
	sim := startSim(t)
	var scs []simtenant.Scenario
	for _, kind := range simtenant.ScenarioKinds {
		sc, err := sim.PlayScenario(kind, time.Now().Add(-15*time.Minute), simtenant.ScenarioOptions{})
		if err != nil {
			t.Fatal(err)
		}
		scs = append(scs, sc)
	}
	cfgFile := filepath.Join(t.TempDir(), "config.yml")
	writeFile(t, cfgFile, sim.config("contoso"))
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig, pool := tlsWebConfig(t, fmt.Sprintf("basic_auth_users:\n  prometheus: %s\n", hash))
	addr, logs := startServer(t, serverOptions{configFile: cfgFile, detectionsAPI: api}, webConfig)
	return &detectionsServer{
		base:   "https://" + addr,
		client: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
		logs:   logs, sim: sim, scs: scs,
	}
}

// get returns the status and body of GET path, with basic auth unless user is empty.
func (s *detectionsServer) get(t *testing.T, path, user, pass string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// scenarioEpisodes counts the listed episodes of the scenarios' users (the random history has
// fraud reports of its own).
func (s *detectionsServer) scenarioEpisodes(t *testing.T) int {
	t.Helper()
	n := 0
	for _, e := range s.episodes(t, "") {
		for _, sc := range s.scs {
			if sc.UserID == e.UserID {
				n++
			}
		}
	}
	return n
}

func (s *detectionsServer) episodes(t *testing.T, query string) []collector.DetectionEpisode {
	t.Helper()
	code, body := s.get(t, "/api/v1/detections"+query, "prometheus", "s3cret")
	if code != http.StatusOK {
		return nil
	}
	var rep collector.DetectionsReport
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	return rep.Episodes
}

// /api/v1/detections is behind the web configuration's TLS and basic auth, like /metrics, and
// lists the scripted scenarios' episodes; --no-web.enable-detections-api removes it.
func TestDetectionsEndpointRequiresWebConfigCredentials(t *testing.T) {
	s := startDetectionsServer(t, true)
	// fatigue, fatigue_success, OATH guessing, fraud then block: four episodes.
	waitFor(t, "the scenarios' four episodes listed", s.logs, func() bool { return s.scenarioEpisodes(t) == 4 })
	for _, tc := range []struct {
		user, pass string
		want       int
	}{
		{"", "", http.StatusUnauthorized},
		{"prometheus", "wrong", http.StatusUnauthorized},
		{"someone", "s3cret", http.StatusUnauthorized},
		{"prometheus", "s3cret", http.StatusOK},
	} {
		code, body := s.get(t, "/api/v1/detections", tc.user, tc.pass)
		if code != tc.want {
			t.Errorf("GET /api/v1/detections as %q/%q: %d, want %d", tc.user, tc.pass, code, tc.want)
		}
		if tc.want != http.StatusOK && bytes.Contains(body, []byte("user_id")) {
			t.Errorf("unauthenticated answer holds episodes: %s", body)
		}
	}
	// Over plain HTTP, nothing: the server speaks TLS only.
	if resp, err := http.Get("http://" + strings.TrimPrefix(s.base, "https://") + "/api/v1/detections"); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if bytes.Contains(body, []byte("user_id")) {
			t.Errorf("plain HTTP got episodes: %s", body)
		}
	}

	byUser := map[string]simtenant.Scenario{}
	for _, sc := range s.scs {
		byUser[sc.UserID] = sc
	}
	for _, e := range s.episodes(t, "") {
		sc, ok := byUser[e.UserID]
		if !ok {
			if e.Kind != "fraud" {
				t.Errorf("a %s episode of a user no scenario attacks: %+v", e.Kind, e)
			}
			continue // a fraud report of the random history
		}
		if len(sc.Episodes) != 1 {
			t.Errorf("an episode of %s, which stays under the thresholds: %+v", sc.Kind, e)
			continue
		}
		want := sc.Episodes[0]
		if e.Tenant != "contoso" || e.Kind != want.Kind || e.Rows != len(want.SignInIDs) || !e.FirstSeen.Equal(want.First) ||
			!e.LastSeen.Equal(want.Last) || e.SignInIDs[0] != want.SignInIDs[0] || e.CorrelationIDs[0] != want.CorrelationIDs[0] {
			t.Errorf("%s episode of %s: %+v, scenario %+v", want.Kind, sc.Kind, e, want)
		}
		if !e.UPNPseudonymised || !strings.HasPrefix(e.UPN, "hmac:") || strings.Contains(e.UPN, sc.UPN) {
			t.Errorf("%s: UPN %q is not pseudonymised", sc.Kind, e.UPN)
		}
		if len(e.IPPrefixes) != 1 || e.IPPrefixes[0] != sc.IPPrefix || len(e.Countries) != 1 || e.Countries[0] != sc.Country {
			t.Errorf("%s: prefixes %v countries %v, want %s %s", sc.Kind, e.IPPrefixes, e.Countries, sc.IPPrefix, sc.Country)
		}
	}
	if got := s.episodes(t, "?kind=fatigue&outcome=success"); len(got) != 1 || got[0].UserID != s.scs[1].UserID {
		t.Errorf("?kind=fatigue&outcome=success: %+v, want the fatigue_success scenario's", got)
	}
	for _, bad := range []string{"?kind=push", "?outcome=maybe", "?who=me"} {
		if code, _ := s.get(t, "/api/v1/detections"+bad, "prometheus", "s3cret"); code != http.StatusBadRequest {
			t.Errorf("GET /api/v1/detections%s: %d, want 400", bad, code)
		}
	}
	if code, _ := s.get(t, "/api/v1/detections", "", ""); code != http.StatusUnauthorized {
		t.Errorf("still open without credentials: %d", code)
	}

	off := startDetectionsServer(t, false)
	waitFor(t, "the exporter without the endpoint to answer", off.logs, func() bool {
		code, _ := off.get(t, "/metrics", "prometheus", "s3cret")
		return code == http.StatusOK
	})
	if code, _ := off.get(t, "/api/v1/detections", "prometheus", "s3cret"); code != http.StatusNotFound {
		t.Errorf("with the endpoint turned off: %d, want 404", code)
	}
}

// Patterns of personal data a label value must never match.
var (
	guidRE  = regexp.MustCompile(`(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	ipv4RE  = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)
	phoneRE = regexp.MustCompile(`\+?\d[\d ().-]{6,}\d`)
)

// objectIDLabels hold the ids of applications and Conditional Access policies: GUIDs by design,
// and not personal data. They are still checked against every user id read back.
var objectIDLabels = map[string]bool{"app_id": true, "policy_id": true}

// personalData says why a label value looks like a user id, a UPN, an IP address or a phone
// number, or "" when it does not.
func personalData(label, v string, known map[string]string) string {
	if what, ok := known[strings.ToLower(v)]; ok {
		return what
	}
	for k, what := range known {
		if len(k) >= 6 && strings.Contains(strings.ToLower(v), k) {
			return what + " inside"
		}
	}
	if objectIDLabels[label] {
		return "" // a GUID whose digits would pass for a phone number; user ids were checked above
	}
	switch {
	case guidRE.MatchString(v):
		return "a GUID (user object id)"
	case strings.Contains(v, "@"):
		return "an e-mail address or UPN"
	case ipv4RE.MatchString(v):
		return "an IPv4 address"
	case phoneRE.MatchString(v) && len(regexp.MustCompile(`\d`).FindAllString(v, -1)) >= 8:
		return "a phone number"
	}
	if _, err := netParseAddr(v); err == nil {
		return "an IP address"
	}
	return ""
}

// TestNoLabelHoldsPersonalData scrapes every series the exporter exposes, with attack episodes
// detected, and checks each label value against every user id, UPN, display name and IP address
// of the simulated tenant's rows, and against the shapes of user ids, UPNs, IP addresses and
// phone numbers.
func TestNoLabelHoldsPersonalData(t *testing.T) {
	s := startDetectionsServer(t, true)
	waitFor(t, "the scenarios' four episodes listed", s.logs, func() bool { return s.scenarioEpisodes(t) == 4 })

	known := map[string]string{}
	tok, _, err := s.sim.IssueToken()
	if err != nil {
		t.Fatal(err)
	}
	next := s.sim.GraphEndpoint() + "/beta/auditLogs/signIns?$filter=" + url.QueryEscape("createdDateTime ge 2000-01-01T00:00:00Z")
	rows, phones := 0, 0
	for next != "" {
		req, _ := http.NewRequest(http.MethodGet, next, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := s.sim.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Value []struct {
				UserID, UserPrincipalName, UserDisplayName, IPAddress, SignInIdentifier string
				AuthenticationDetails                                                   []struct{ AuthenticationMethodDetail string }
			} `json:"value"`
			Next string `json:"@odata.nextLink"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Value {
			rows++
			for v, what := range map[string]string{r.UserID: "a user id", r.UserPrincipalName: "a UPN", r.UserDisplayName: "a user's name",
				r.IPAddress: "an IP address", r.SignInIdentifier: "a sign-in identifier"} {
				if v != "" {
					known[strings.ToLower(v)] = what
				}
			}
			// The method detail holds the masked phone number or the device of a step.
			for _, d := range r.AuthenticationDetails {
				if d.AuthenticationMethodDetail != "" {
					known[strings.ToLower(d.AuthenticationMethodDetail)] = "an authentication method detail (phone number, device)"
					if strings.HasPrefix(d.AuthenticationMethodDetail, "+") {
						phones++
					}
				}
			}
		}
		next = page.Next
	}
	if rows < 100 || phones == 0 {
		t.Fatalf("only %d rows and %d steps with a phone number read back from the simulated tenant", rows, phones)
	}

	_, body := s.get(t, "/metrics", "prometheus", "s3cret")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	series, detection := 0, 0
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			series++
			if strings.HasPrefix(name, "entra_detection_") {
				detection++
			}
			for _, l := range m.GetLabel() {
				if why := personalData(l.GetName(), l.GetValue(), known); why != "" {
					t.Errorf("%s{%s=%q}: looks like %s", name, l.GetName(), l.GetValue(), why)
				}
			}
		}
	}
	if series < 200 || detection < 20 {
		t.Errorf("%d series scraped, %d of them detection series: the scrape did not cover the exporter", series, detection)
	}
	if started := labelValues(fams, "entra_detection_episodes_started_total", "kind", nil); len(started) != 3 {
		t.Errorf("detection kinds exposed: %v", started)
	}
	// The check itself catches what it is for.
	for _, v := range []string{s.scs[0].UserID, s.scs[0].UPN, s.scs[0].IPAddress, "2001:db8::1", "+33 6 12 34 56 78", "Victim 01"} {
		if personalData("reason", v, known) == "" {
			t.Errorf("the check misses %q", v)
		}
	}
	// A user's id is caught in an object-id label too; an unknown GUID there is an object id.
	if personalData("app_id", s.scs[0].UserID, known) == "" {
		t.Errorf("the check misses a user id in app_id")
	}
	if why := personalData("app_id", "00000002-0000-0ff1-ce00-000000000000", known); why != "" {
		t.Errorf("an application id is taken for %s", why)
	}
}

func netParseAddr(v string) (net.IP, error) {
	if ip := net.ParseIP(v); ip != nil {
		return ip, nil
	}
	return nil, fmt.Errorf("not an address")
}

// POST /-/demo/burst?kind=fatigue plays the push bombing of one user: 12 push notifications
// declined or unanswered, each after its 50074 prompt, from now on; GET is refused.
func TestBurstFatigueBombsOneUser(t *testing.T) {
	sim, err := simtenant.Start(simtenant.Options{NoPadding: true, LatenessScale: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	rows := func() int {
		n := 0
		for _, c := range sim.Truth().Rows {
			n += c
		}
		return n
	}
	h := burstHandler(sim)
	before := rows()
	rec := httptest.NewRecorder()
	h(rec, httptest.NewRequest(http.MethodGet, "/-/demo/burst?kind=fatigue", nil))
	if rec.Code != http.StatusMethodNotAllowed || rows() != before {
		t.Fatalf("GET: %d, %d rows added", rec.Code, rows()-before)
	}
	rec = httptest.NewRecorder()
	h(rec, httptest.NewRequest(http.MethodPost, "/-/demo/burst?kind=fatigue", nil))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), "simulated push bombing of user ") {
		t.Fatalf("POST: %d %q", rec.Code, rec.Body.String())
	}
	if got := rows() - before; got != 24 {
		t.Errorf("%d rows added, want 12 prompts and 12 push failures", got)
	}
	denied := 0
	for k, c := range sim.Truth().Attempts {
		if k.Outcome == simtenant.OutcomeDenied && k.Method == simtenant.MethodPush {
			denied += c
		}
	}
	if denied != 12 {
		t.Errorf("%d push denials, want 12", denied)
	}
}
