package detect

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDefaultSettingsAreValid(t *testing.T) {
	s := DefaultSettings()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	// The public rules' numbers (detections.md): Sentinel more than 10 in 5m, Splunk more than
	// 9 in 10m, Elastic at least 20 across at least 10 sessions in 9m; the workbook's 24h.
	if s.FatigueMoreThan != 10 || s.FatigueWindow != 5*time.Minute || s.DeclinesMoreThan != 9 ||
		s.DeclineWindow != 10*time.Minute || s.OATHMinFailures != 20 || s.OATHMinSessions != 10 ||
		s.OATHWindow != 9*time.Minute || s.SuccessWindow != 5*time.Minute || s.PromptWindow != 24*time.Hour {
		t.Errorf("defaults drifted from the public rules: %+v", s)
	}
	// Default horizon: two of the longest burst window, 10m.
	if h := s.horizon(); h != 20*time.Minute {
		t.Errorf("horizon = %s, want 20m", h)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	tests := []struct {
		field   string
		modify  func(*Settings)
		problem string
	}{
		{"FatigueWindow", func(s *Settings) { s.FatigueWindow = 0 }, "more than 0s"},
		{"FatigueWindow", func(s *Settings) { s.FatigueWindow = 25 * time.Hour }, "at most 24h (got 25h)"},
		{"FatigueMoreThan", func(s *Settings) { s.FatigueMoreThan = 0 }, "at least 1"},
		{"DeclineWindow", func(s *Settings) { s.DeclineWindow = -time.Second }, "got -1s"},
		{"PromptWindow", func(s *Settings) { s.PromptWindow = 8*24*time.Hour + 90*time.Second }, "at most 168h (got 192h1m30s)"},
		{"EpisodeRetention", func(s *Settings) { s.EpisodeRetention = -10 * time.Minute }, "got -10m)"},
		{"DeclinesMoreThan", func(s *Settings) { s.DeclinesMoreThan = -3 }, "got -3"},
		{"SuccessWindow", func(s *Settings) { s.SuccessWindow = 0 }, "more than 0s"},
		{"FraudBlockWindow", func(s *Settings) { s.FraudBlockWindow = 0 }, "more than 0s"},
		{"OATHWindow", func(s *Settings) { s.OATHWindow = 0 }, "more than 0s"},
		{"OATHMinFailures", func(s *Settings) { s.OATHMinFailures = 0 }, "at least 1"},
		{"OATHMinSessions", func(s *Settings) { s.OATHMinSessions = 0 }, "at least 1"},
		{"OATHMinSessions", func(s *Settings) { s.OATHMinSessions = 21 }, "at most OATHMinFailures (20)"},
		{"PromptWindow", func(s *Settings) { s.PromptWindow = 0 }, "more than 0s"},
		{"PromptBuckets", func(s *Settings) { s.PromptBuckets = nil }, "at least one bound"},
		{"PromptBuckets", func(s *Settings) { s.PromptBuckets = []int{1, 5, 5} }, "increase strictly (5 after 5)"},
		{"PromptBuckets", func(s *Settings) { s.PromptBuckets = []int{0, 5} }, "between 1 and 1000 (got 0)"},
		{"PromptBuckets", func(s *Settings) { s.PromptBuckets = []int{1, 5000} }, "between 1 and 1000 (got 5000)"},
		{"MaxFuture", func(s *Settings) { s.MaxFuture = -time.Minute }, "not be negative"},
		{"MaxPast", func(s *Settings) { s.MaxPast = 23 * time.Hour }, "at least PromptWindow, 24h (got 23h)"},
		{"MaxUsers", func(s *Settings) { s.MaxUsers = 0 }, "at least 1"},
		// The OATH rule needs 20 rows of one user at once.
		{"MaxEventsPerUser", func(s *Settings) { s.MaxEventsPerUser = 19 }, "at least 20"},
		{"EpisodeRetention", func(s *Settings) { s.EpisodeRetention = 0 }, "more than 0s"},
		{"MaxEpisodes", func(s *Settings) { s.MaxEpisodes = 0 }, "at least 1"},
		{"MaxListLen", func(s *Settings) { s.MaxListLen = 0 }, "at least 1"},
	}
	for _, tc := range tests {
		t.Run(tc.field+"/"+tc.problem, func(t *testing.T) {
			s := DefaultSettings()
			tc.modify(&s)
			err := s.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate() = %v, want a *FieldError", err)
			}
			if fe.Field != tc.field || !strings.Contains(fe.Problem, tc.problem) {
				t.Errorf("Validate() = %v, want field %s with %q", err, tc.field, tc.problem)
			}
			if !strings.HasPrefix(err.Error(), "detection setting "+tc.field+": ") {
				t.Errorf("message %q does not start with the field", err)
			}
			if _, err := New(s); !errors.As(err, &fe) {
				t.Errorf("New accepted invalid settings: %v", err)
			}
		})
	}
}

func TestNewKeepsItsOwnCopyOfTheBuckets(t *testing.T) {
	s := DefaultSettings()
	d, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	s.PromptBuckets[0] = 999
	if got := d.Settings().PromptBuckets[0]; got != 1 {
		t.Errorf("bucket 0 = %d after the caller changed its slice, want 1", got)
	}
}

// The documented rules follow the settings: other settings, other numbers.
func TestRulesMarkdownFollowsTheSettings(t *testing.T) {
	def := RulesMarkdown(DefaultSettings())
	for _, want := range []string{
		"more than 10 push failures", "within 5m", "more than 9 declines", "within 10m", "less than 1h after the report",
		"at least 20 failed steps", "at least 10 distinct correlation ids within 9m", "trailing 24h", "buckets 1, 2, 5, 10, 20, 50 and +Inf",
	} {
		if !strings.Contains(def, want) {
			t.Errorf("default rules miss %q:\n%s", want, def)
		}
	}
	s := DefaultSettings()
	s.FatigueMoreThan, s.FatigueWindow, s.FraudBlockWindow, s.OATHMinSessions, s.PromptBuckets = 7, 90*time.Second, 30*time.Minute, 4, []int{3, 30}
	other := RulesMarkdown(s)
	for _, want := range []string{"more than 7 push failures", "within 1m30s", "less than 30m after the report", "at least 4 distinct", "buckets 3, 30 and +Inf"} {
		if !strings.Contains(other, want) {
			t.Errorf("rules with other settings miss %q:\n%s", want, other)
		}
	}
}
