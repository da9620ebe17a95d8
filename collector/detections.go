package collector

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/detect"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/metricdef"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
)

// Per-user attack detection, wired into ingestion: every row counted (it passed deduplication)
// is fed to the tenant's detector (detect/), the detector's state is committed in the tenant's
// state file with the cursors and counters, and what metrics, /api/v1/detections and the log show
// is the state of the last successful commit. So a restart exposes exactly what was committed
// (no counter goes down), and the rows read again after it are fed again to a detector that has
// not seen them: an episode is neither lost nor doubled.
//
// Cost: the detector's part of the journal is incremental (detectionsPart, partcache.go): a
// commit writes the head (clock, counters), the users its rows touched or Advance pruned and
// the episodes that changed, not every user prompted in the last day (about 14 MB at 200,000
// users).

// tenantDetections is one tenant's detector and what it last committed. Its methods accept a nil
// receiver (detection not set up): ingestion then runs without it.
type tenantDetections struct {
	tenant string
	logger *slog.Logger
	key    []byte // pseudonymises UPNs (HMAC-SHA-256)

	// pseudonym's reused hash and buffers, under their own lock: the poll and the endpoint
	// pseudonymise concurrently.
	hmu sync.Mutex
	mac hash.Hash
	in  []byte
	sum [sha256.Size]byte
	out [len(pseudonymPrefix) + 32]byte

	// Written by the tenant's poll (under the source's lock), read by scrapes and the endpoint.
	mu      sync.Mutex
	cfg     config.Detections
	det     *detect.Detector // nil when detection is disabled for the tenant
	pending *detect.Snapshot // taken with the state being committed
	shown   *detect.Snapshot // the last committed one
	logged  map[string]bool  // log keys of the episodes already logged (logKey)

	// What the last prepare saw: the part is marshalled again only when it moves.
	prepared    bool
	preparedDet *detect.Detector
	preparedGen uint64
	version     uint64
}

// newTenantDetections builds a tenant's detector from its restored state. A state that does not
// restore is reported and replaced by an empty detector: counting goes on, its counters restart.
func newTenantDetections(tenant string, cfg config.Detections, restored *detect.State, key []byte, logger *slog.Logger) *tenantDetections {
	d := &tenantDetections{tenant: tenant, logger: logger, key: key, logged: map[string]bool{}}
	d.configure(cfg, restored)
	return d
}

// configure (re)builds the detector with cfg; from carries the state across (a restore, or the
// running state on a configuration reload).
func (d *tenantDetections) configure(cfg config.Detections, from *detect.State) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cfg = cfg
	d.pending = nil
	if !cfg.IsEnabled() {
		d.det, d.shown = nil, nil
		return
	}
	s := cfg.Settings()
	var det *detect.Detector
	var err error
	if from != nil {
		det, err = detect.Restore(s, *from)
		if err != nil {
			d.logger.Error("detection state unusable, detection starts afresh (its counters restart from 0)", "tenant", d.tenant, "err", err)
		}
	}
	if det == nil {
		if det, err = detect.New(s); err != nil {
			// The configuration was validated with the same rules: only a bug gets here.
			d.logger.Error("detection settings refused, detection disabled", "tenant", d.tenant, "err", err)
			d.det, d.shown = nil, nil
			return
		}
	}
	d.det = det
	snap := det.Snapshot()
	d.shown = &snap
	// What a restored state holds was committed, and logged after that commit.
	for _, e := range snap.Episodes {
		if k, ok := logKey(e); ok {
			d.logged[k] = true
		}
	}
}

// reconfigure applies a reloaded configuration, keeping the state when detection stays on.
func (d *tenantDetections) reconfigure(cfg config.Detections) {
	if d == nil {
		return
	}
	d.mu.Lock()
	same := d.cfg.IsEnabled() == cfg.IsEnabled() && (!cfg.IsEnabled() || reflect.DeepEqual(d.cfg.Settings(), cfg.Settings()))
	det := d.det
	d.mu.Unlock()
	if same {
		d.mu.Lock()
		d.cfg = cfg // show_upn applies at once
		d.mu.Unlock()
		return
	}
	var st *detect.State
	if det != nil {
		s := det.Export()
		st = &s
	}
	d.configure(cfg, st)
}

// observe feeds one counted row.
func (d *tenantDetections) observe(r *graph.SignIn, c mfa.Classification, now time.Time) {
	if d == nil || !mfa.IsAttempt(c) {
		return // only MFA attempts matter to the rules
	}
	d.mu.Lock()
	det, clear := d.det, d.cfg.ShowUPN
	d.mu.Unlock()
	if det == nil {
		return
	}
	ev := detect.Event{
		ID: r.ID, Time: r.CreatedDateTime, UserID: r.UserID, UPN: r.UserPrincipalName, CorrelationID: r.CorrelationID,
		AppID: r.AppID, AppName: r.AppDisplayName, Country: r.Location.CountryOrRegion, IPAddress: r.IPAddress,
		Outcome: c.Outcome, Method: c.Method, Reason: c.Reason,
	}
	if !clear {
		// The hash only for rows whose UPN the detector may keep; the others need none.
		if ev.KeepsUPN() {
			ev.UPN = d.pseudonym(ev.UPN)
		} else {
			ev.UPN = ""
		}
	}
	det.Observe(now, ev)
}

// prepare moves the detector's time and returns the version of its part (versionedPart): it
// moves when the detector's state changed since the last call, and only then is a snapshot
// taken to show once the commit succeeded (promote). final is the time before which no row
// will be read any more.
func (d *tenantDetections) prepare(now, final time.Time) uint64 {
	if d == nil {
		return 0
	}
	d.mu.Lock()
	det := d.det
	d.mu.Unlock()
	var gen uint64
	if det != nil {
		det.Advance(now, final)
		gen = det.Generation()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.prepared && det == d.preparedDet && gen == d.preparedGen {
		return d.version
	}
	d.prepared, d.preparedDet, d.preparedGen = true, det, gen
	d.version++
	if det != nil {
		snap := det.Snapshot()
		d.pending = &snap
	}
	return d.version
}

// current is the running detector, nil when detection is off.
func (d *tenantDetections) current() *detect.Detector {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.det
}

// state is the detector's whole state (tests compare it with what a restart restores).
func (d *tenantDetections) state() *detect.State {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	det := d.det
	d.mu.Unlock()
	if det == nil {
		return nil
	}
	st := det.Export()
	return &st
}

// promote shows the snapshot of the state just committed, and logs the episodes whose outcome
// it decided.
func (d *tenantDetections) promote() {
	if d == nil {
		return
	}
	d.mu.Lock()
	snap := d.pending
	if snap == nil {
		d.mu.Unlock()
		return
	}
	prev := d.shown
	d.shown, d.pending = snap, nil
	if prev != nil && sameListing(prev.Episodes, snap.Episodes) {
		// The detector kept its listing (no episode changed): nothing new to log.
		d.mu.Unlock()
		return
	}
	clear := d.cfg.ShowUPN
	logged := make(map[string]bool, len(d.logged))
	var toLog []detect.Episode
	for _, e := range snap.Episodes {
		k, ok := logKey(e)
		if !ok {
			continue
		}
		if !d.logged[k] {
			toLog = append(toLog, *e) // a copy: the snapshot's episodes are shared
		}
		logged[k] = true // only the listed episodes are remembered: the set stays bounded
	}
	d.logged = logged
	d.mu.Unlock()
	for _, e := range toLog {
		e.UPN = d.shownUPN(e.UPN, clear)
		d.logger.Warn("MFA attack episode on a user", episodeAttrs(d.tenant, e)...)
	}
}

// sameListing reports the same listing of a detector: Snapshot shares it while no episode
// changes, and never modifies one made.
func sameListing(a, b []*detect.Episode) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// logKey identifies an episode for the log, once its outcome is known: a success as soon as it
// is seen (the episode may still grow, but it ended in success for good), a denial when the
// episode is concluded. Open episodes are not logged yet.
func logKey(e *detect.Episode) (string, bool) {
	switch {
	case e.Outcome == detect.OutcomeSuccess:
		return "s\x1f" + e.Kind + "\x1f" + e.UserID + "\x1f" + e.SuccessSignInID, true
	case e.Final:
		return "f\x1f" + e.ID, true
	}
	return "", false
}

func episodeAttrs(tenant string, e detect.Episode) []any {
	apps := make([]string, len(e.Apps))
	for i, a := range e.Apps {
		apps[i] = a.Name + " (" + a.ID + ")"
	}
	attrs := []any{"tenant", tenant, "kind", e.Kind, "outcome", e.Outcome, "episode_id", e.ID,
		"first_seen", e.FirstSeen, "last_seen", e.LastSeen, "rows", e.Rows, "reasons", e.Reasons,
		"methods", e.Methods, "apps", apps, "countries", e.Countries, "ip_prefixes", e.IPPrefixes,
		"user_id", e.UserID, "upn", e.UPN, "sign_in_ids", e.SignInIDs, "correlation_ids", e.CorrelationIDs}
	if e.SuccessSignInID != "" {
		attrs = append(attrs, "success_at", e.SuccessAt, "success_sign_in_id", e.SuccessSignInID)
	}
	return attrs
}

// snapshot returns the last committed snapshot and whether UPNs are shown in clear; nil when
// detection is disabled.
func (d *tenantDetections) snapshot() (*detect.Snapshot, bool) {
	if d == nil {
		return nil, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.shown, d.cfg.ShowUPN
}

// pseudonymPrefix starts every pseudonymised UPN; a UPN has no colon, so nothing else does.
const pseudonymPrefix = "hmac:"

// pseudonym is a keyed hash of the UPN (case-folded, as Entra compares UPNs): stable for a
// storage directory, so the same user has the same pseudonym across episodes and restarts, and
// useless without the key to anyone who does not already know the UPN.
func (d *tenantDetections) pseudonym(upn string) string {
	if upn == "" {
		return ""
	}
	d.hmu.Lock()
	defer d.hmu.Unlock()
	if d.mac == nil {
		d.mac = hmac.New(sha256.New, d.key)
	}
	// One hash reused (Reset keeps the keyed state), buffers reused: the only allocation is the
	// returned string.
	d.mac.Reset()
	d.in = appendLower(d.in[:0], upn)
	d.mac.Write(d.in)
	sum := d.mac.Sum(d.sum[:0])
	out := append(d.out[:0], pseudonymPrefix...)
	out = hex.AppendEncode(out, sum[:16])
	return string(out)
}

// appendLower appends strings.ToLower(s) to b, without the string strings.ToLower makes.
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return append(b, strings.ToLower(s)...) // Unicode case folding: rare in UPNs
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// shownUPN is the UPN as the endpoint and the log show it: pseudonymised unless the
// configuration says otherwise (a UPN stored in clear while show_upn was on is pseudonymised
// once it is off).
func (d *tenantDetections) shownUPN(upn string, clear bool) string {
	if clear || upn == "" || strings.HasPrefix(upn, pseudonymPrefix) {
		return upn
	}
	return d.pseudonym(upn)
}

// detectionFinal is the time before which no row will be read any more: the reconcile cursor,
// or the start of the oldest gap when the backlog pass still has older rows to read (the
// reconcile cursor steps over gaps before they are read).
func detectionFinal(c cursors) time.Time {
	f := c.Reconcile
	if len(c.Gaps) > 0 && c.Gaps[0].From.Before(f) {
		f = c.Gaps[0].From
	}
	return f
}

// restoredDetections is the detector's part of a restored state, if any.
func restoredDetections(st *tenantState) *detect.State {
	if st == nil {
		return nil
	}
	return st.Detections
}

// setDetections applies a reloaded detections block.
func (s *signInSource) setDetections(cfg config.Detections) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.det.reconfigure(cfg)
}

// UPN pseudonymisation key: 32 random bytes in a file of the storage directory, created on first
// use. It never leaves the directory; whoever can read the directory can read the state files,
// which hold the user ids anyway.
const upnKeyFile = "detections-upn.key"

// loadUPNKey reads the storage directory's key, creating it if there is none. Without a storage
// directory the key is random for the process: pseudonyms then change at every start.
func loadUPNKey(dir string) ([]byte, error) {
	if dir == "" {
		return randomKey()
	}
	p := filepath.Join(dir, upnKeyFile)
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return createUPNKey(dir, p)
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", p, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	key, err := io.ReadAll(io.LimitReader(f, 65))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("%s holds %d bytes, want 32; move it away to have a new key made (pseudonyms then change)", p, len(key))
	}
	return key, nil
}

func createUPNKey(dir, p string) ([]byte, error) {
	key, err := randomKey()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating storage directory: %w", err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return loadUPNKey(dir) // made by someone else meanwhile
	}
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", p, err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing %s: %w", p, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("syncing %s: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("closing %s: %w", p, err)
	}
	return key, nil
}

func randomKey() ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("drawing a key: %w", err)
	}
	return key, nil
}

// DetectionFilter selects episodes; empty fields select all.
type DetectionFilter struct {
	Tenant, Kind, Outcome, UserID string
}

// DetectionEpisode is an episode as /api/v1/detections lists it: the detector's episode with its
// tenant, the UPN pseudonymised unless the tenant's show_upn is set.
type DetectionEpisode struct {
	Tenant string `json:"tenant"`
	detect.Episode
	UPNPseudonymised bool `json:"upn_pseudonymised"`
}

// DetectionsReport is the body of /api/v1/detections.
type DetectionsReport struct {
	// Episodes: open ones first, then by last row, newest first; tenants in name order.
	Episodes []DetectionEpisode `json:"episodes"`
}

// Detections lists the committed episodes of every tenant that match f.
func (m *Manager) Detections(f DetectionFilter) DetectionsReport {
	m.mu.Lock()
	names := make([]string, 0, len(m.tenants))
	dets := map[string]*tenantDetections{}
	for name, r := range m.tenants {
		names = append(names, name)
		dets[name] = r.source.det
	}
	m.mu.Unlock()
	slices.Sort(names)
	out := DetectionsReport{Episodes: []DetectionEpisode{}}
	for _, name := range names {
		if f.Tenant != "" && f.Tenant != name {
			continue
		}
		d := dets[name]
		snap, clear := d.snapshot()
		if snap == nil {
			continue
		}
		for _, ep := range snap.Episodes {
			e := *ep // a copy: the snapshot's episodes are shared
			if (f.Kind != "" && e.Kind != f.Kind) || (f.Outcome != "" && e.Outcome != f.Outcome) || (f.UserID != "" && e.UserID != f.UserID) {
				continue
			}
			e.UPN = d.shownUPN(e.UPN, clear)
			out.Episodes = append(out.Episodes, DetectionEpisode{Tenant: name, Episode: e, UPNPseudonymised: !clear && e.UPN != ""})
		}
	}
	return out
}

var (
	detStartedDesc  = metricdef.DetectionEpisodesStarted.Desc()
	detEndedDesc    = metricdef.DetectionEpisodesEnded.Desc()
	detOpenDesc     = metricdef.DetectionEpisodesOpen.Desc()
	detUsersDesc    = metricdef.DetectionUsersInOpenEpisode.Desc()
	detPromptedDesc = metricdef.DetectionPromptedUsers.Desc()
	detTrackedDesc  = metricdef.DetectionUsersTracked.Desc()
	detRowsDesc     = metricdef.DetectionRowsTracked.Desc()
	detDroppedDesc  = metricdef.DetectionRowsDropped.Desc()
)

// detectionsCollector exposes each tenant's committed detection figures. Every kind, ending,
// bucket and reason is exposed from the start (at 0), so that alert rules see the first episode
// as an increase.
type detectionsCollector struct{ m *Manager }

func (c *detectionsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{detStartedDesc, detEndedDesc, detOpenDesc, detUsersDesc, detPromptedDesc, detTrackedDesc, detRowsDesc, detDroppedDesc} {
		ch <- d
	}
}

func (c *detectionsCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	dets := map[string]*tenantDetections{}
	for name, r := range c.m.tenants {
		dets[name] = r.source.det
	}
	c.m.mu.Unlock()
	for tenant, d := range dets {
		snap, _ := d.snapshot()
		if snap == nil {
			continue
		}
		collectSnapshot(tenant, snap, ch)
	}
}

func collectSnapshot(tenant string, s *detect.Snapshot, ch chan<- prometheus.Metric) {
	counter := func(desc *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), append([]string{tenant}, labels...)...)
	}
	gauge := func(desc *prometheus.Desc, v int, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(v), append([]string{tenant}, labels...)...)
	}
	for _, k := range s.Kinds {
		counter(detStartedDesc, k.Started, k.Kind)
		counter(detEndedDesc, k.EndedSuccess, k.Kind, detect.OutcomeSuccess)
		counter(detEndedDesc, k.EndedDenied, k.Kind, detect.OutcomeDenied)
		gauge(detOpenDesc, k.Open, k.Kind)
		gauge(detUsersDesc, k.UsersOpen, k.Kind)
	}
	p := s.Prompts
	for i, b := range p.Bounds {
		gauge(detPromptedDesc, p.AtMost[i], strconv.Itoa(b))
	}
	gauge(detPromptedDesc, p.Users, "+Inf")
	gauge(detTrackedDesc, s.Self.TrackedUsers)
	gauge(detRowsDesc, s.Self.TrackedRows)
	for _, r := range []struct {
		reason string
		v      uint64
	}{
		{"user_cap", s.Self.CapHits}, {"user_row_cap", s.Self.RowCapHits}, {"unattributable", s.Self.Unattributable},
		{"absurd_timestamp", s.Self.AbsurdTimestamps}, {"late", s.Self.LateRows}, {"duplicate", s.Self.Duplicates},
	} {
		counter(detDroppedDesc, r.v, r.reason)
	}
}
