package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/detect"
)

func ptr[T any](v T) *T { return &v }

// exampleDetections is the detections block of testdata/good/example.yml, which writes out every
// key with its default.
func exampleDetections() Detections {
	return Detections{
		Enabled: ptr(true), SuccessWindow: ptr(d("5m")), Retention: ptr(d("7d")), MaxEpisodes: ptr(1000),
		MaxUsers: ptr(250000), MaxRowsPerUser: ptr(512),
		Fatigue:      FatigueRule{Window: ptr(d("5m")), MoreThan: ptr(10), DeclineWindow: ptr(d("10m")), DeclinesMoreThan: ptr(9)},
		Fraud:        FraudRule{BlockWindow: ptr(d("1h"))},
		OATHGuessing: OATHGuessingRule{Window: ptr(d("9m")), MinFailures: ptr(20), MinSessions: ptr(10)},
		Prompts:      PromptsRule{Window: ptr(d("24h")), Buckets: []int{1, 2, 5, 10, 20, 50}},
	}
}

// The example says "default X" next to every key: what it sets must be the detector's defaults,
// and an empty block must give the same settings.
func TestDetectionsExampleShowsTheDefaults(t *testing.T) {
	want := detect.DefaultSettings()
	if got := exampleDetections().Settings(); !reflect.DeepEqual(got, want) {
		t.Errorf("example settings:\n%+v\nwant the defaults\n%+v", got, want)
	}
	if got := (Detections{}).Settings(); !reflect.DeepEqual(got, want) {
		t.Errorf("empty block:\n%+v\nwant the defaults\n%+v", got, want)
	}
	if !(Detections{}).IsEnabled() || (Detections{Enabled: ptr(false)}).IsEnabled() {
		t.Error("IsEnabled: absent must mean true, false must mean false")
	}
}

// Each key reaches its own setting (a key wired to the wrong field would pass the defaults test).
func TestDetectionsKeysReachTheirSettings(t *testing.T) {
	cfg, err := Parse([]byte(`tenants:
  - tenant_id: contoso.onmicrosoft.com
    credential: {type: azure_cli}
    detections:
      show_upn: true
      success_window: 3m
      retention: 2d
      max_episodes: 050
      max_users: 0x3e8
      max_rows_per_user: 64
      fatigue: {window: 4m, more_than: 7, decline_window: 11m, declines_more_than: 6}
      fraud: {block_window: 2h}
      oath_guessing: {window: 8m, min_failures: 12, min_sessions: 6}
      prompts: {window: 12h, buckets: [3, 30]}
`), "detections.yml")
	if err != nil {
		t.Fatal(err)
	}
	dt := cfg.Tenants[0].Detections
	if !dt.ShowUPN {
		t.Error("show_upn not read")
	}
	want := detect.DefaultSettings()
	want.SuccessWindow, want.EpisodeRetention, want.MaxEpisodes = 3*time.Minute, 48*time.Hour, 50
	want.MaxUsers, want.MaxEventsPerUser = 1000, 64
	want.FatigueWindow, want.FatigueMoreThan, want.DeclineWindow, want.DeclinesMoreThan = 4*time.Minute, 7, 11*time.Minute, 6
	want.FraudBlockWindow = 2 * time.Hour
	want.OATHWindow, want.OATHMinFailures, want.OATHMinSessions = 8*time.Minute, 12, 6
	want.PromptWindow, want.PromptBuckets = 12*time.Hour, []int{3, 30}
	if got := dt.Settings(); !reflect.DeepEqual(got, want) {
		t.Errorf("settings:\n%+v\nwant\n%+v", got, want)
	}
}

// Every key the detector's validation can reject is one the file can set, and its message
// speaks of keys, not of Go fields.
func TestDetectionErrorsNameKeys(t *testing.T) {
	var errs errorList
	Detections{OATHGuessing: OATHGuessingRule{MinSessions: ptr(21)}}.validate("t", &errs)
	if len(errs) != 1 || errs[0].Path != "t.oath_guessing.min_sessions" ||
		!strings.Contains(errs[0].Msg, "at most oath_guessing.min_failures (20)") {
		t.Errorf("errors = %v", errs)
	}
	for _, k := range detectionKeys {
		if strings.Contains(detectionProblem(k.field+" and "+k.field), k.field) {
			t.Errorf("%s is not rewritten to its key", k.field)
		}
	}
}
