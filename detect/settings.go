package detect

import (
	"fmt"
	"strings"
	"time"
)

// Settings are the thresholds, windows and bounds of the detector. Every window is half-open
// and slides over createdDateTime: rows at t1 <= t2 are within W of each other when t2-t1 < W
// (so two rows exactly W apart are not).
type Settings struct {
	// MFA fatigue (push bombing), rule 1 (Microsoft Sentinel, "MFA spamming followed by successful
	// login"): more than FatigueMoreThan push failures (user_declined,
	// no_response_to_notification, fraud_reported) within FatigueWindow. FatigueWindow is also the
	// gap that ends a burst: a push failure later than that after the burst's last one does not
	// belong to it.
	FatigueWindow   time.Duration
	FatigueMoreThan int
	// MFA fatigue, rule 2 (Splunk ESCU, "multiple denied MFA requests for user"): more than
	// DeclinesMoreThan declines (user_declined, fraud_reported) within DeclineWindow.
	DeclineWindow    time.Duration
	DeclinesMoreThan int
	// SuccessWindow: an episode ends in success when the user completes MFA at or after the
	// episode's first row and within SuccessWindow of its last row (Sentinel's 5 minutes).
	SuccessWindow time.Duration
	// FraudBlockWindow: a user_blocked denial belongs to the fraud report it follows when it comes
	// within this window of the report or of the previous block of the same episode.
	FraudBlockWindow time.Duration
	// OATH code guessing (Elastic, "Entra ID MFA TOTP brute force attempted"): at least
	// OATHMinFailures failed OATH-code steps across at least OATHMinSessions distinct correlation
	// ids within OATHWindow. OATHWindow is also the gap that ends the episode.
	OATHWindow      time.Duration
	OATHMinFailures int
	OATHMinSessions int
	// Over-prompting (Entra workbook "Authentication prompts analysis"): prompts per user over the
	// trailing PromptWindow, counted into PromptBuckets (strictly increasing).
	PromptWindow  time.Duration
	PromptBuckets []int

	// Rows created more than MaxFuture after now or more than MaxPast before it are absurd:
	// rejected and counted.
	MaxFuture time.Duration
	MaxPast   time.Duration

	// MaxUsers caps the users tracked; rows of new users beyond it are dropped and counted.
	MaxUsers int
	// MaxEventsPerUser caps the rows kept for one user's detection windows; the oldest goes.
	MaxEventsPerUser int
	// Concluded episodes are listed for EpisodeRetention after their last row, at most
	// MaxEpisodes of them (the oldest go first). Open episodes are always listed.
	EpisodeRetention time.Duration
	MaxEpisodes      int
	// MaxListLen caps each list of an episode (sign-in ids, correlation ids, apps, ...).
	MaxListLen int
}

// DefaultSettings returns the defaults. The detection thresholds are those of the public rules
// named on each field.
func DefaultSettings() Settings {
	return Settings{
		FatigueWindow:    5 * time.Minute,
		FatigueMoreThan:  10,
		DeclineWindow:    10 * time.Minute,
		DeclinesMoreThan: 9,
		SuccessWindow:    5 * time.Minute,
		FraudBlockWindow: time.Hour,
		OATHWindow:       9 * time.Minute,
		OATHMinFailures:  20,
		OATHMinSessions:  10,
		PromptWindow:     24 * time.Hour,
		PromptBuckets:    []int{1, 2, 5, 10, 20, 50},
		MaxFuture:        time.Hour,
		MaxPast:          30 * 24 * time.Hour, // Entra keeps sign-ins 30 days
		MaxUsers:         250_000,
		MaxEventsPerUser: 512,
		EpisodeRetention: 7 * 24 * time.Hour,
		MaxEpisodes:      1000,
		MaxListLen:       20,
	}
}

// Limits that keep the state bounded whatever the configuration says.
const (
	maxWindow      = 24 * time.Hour
	maxPromptBound = 1000
)

// FieldError is a Settings field with an invalid value; Field is the Go field name, which the
// configuration loader maps to its key and line.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return "detection setting " + e.Field + ": " + e.Problem }

// Validate returns a *FieldError for the first invalid field, in declaration order.
func (s Settings) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	windows := []struct {
		name string
		v    time.Duration
	}{
		{"FatigueWindow", s.FatigueWindow}, {"DeclineWindow", s.DeclineWindow},
		{"SuccessWindow", s.SuccessWindow}, {"FraudBlockWindow", s.FraudBlockWindow},
		{"OATHWindow", s.OATHWindow},
	}
	counts := map[string]int{
		"FatigueMoreThan": s.FatigueMoreThan, "DeclinesMoreThan": s.DeclinesMoreThan,
		"OATHMinFailures": s.OATHMinFailures, "OATHMinSessions": s.OATHMinSessions,
	}
	check := func(name string) error {
		for _, w := range windows {
			if w.name == name && (w.v <= 0 || w.v > maxWindow) {
				return bad(name, "must be more than 0s and at most %s (got %s)", short(maxWindow), short(w.v))
			}
		}
		if v, ok := counts[name]; ok && v < 1 {
			return bad(name, "must be at least 1 (got %d)", v)
		}
		return nil
	}
	for _, name := range []string{"FatigueWindow", "FatigueMoreThan", "DeclineWindow", "DeclinesMoreThan",
		"SuccessWindow", "FraudBlockWindow", "OATHWindow", "OATHMinFailures", "OATHMinSessions"} {
		if err := check(name); err != nil {
			return err
		}
	}
	if s.OATHMinSessions > s.OATHMinFailures {
		return bad("OATHMinSessions", "must be at most OATHMinFailures (%d): each failure has one session (got %d)", s.OATHMinFailures, s.OATHMinSessions)
	}
	if s.PromptWindow <= 0 || s.PromptWindow > 7*maxWindow {
		return bad("PromptWindow", "must be more than 0s and at most %s (got %s)", short(7*maxWindow), short(s.PromptWindow))
	}
	if len(s.PromptBuckets) == 0 {
		return bad("PromptBuckets", "must list at least one bound")
	}
	for i, b := range s.PromptBuckets {
		if b < 1 || b > maxPromptBound {
			return bad("PromptBuckets", "bound %d must be between 1 and %d (got %d)", i, maxPromptBound, b)
		}
		if i > 0 && b <= s.PromptBuckets[i-1] {
			return bad("PromptBuckets", "bounds must increase strictly (%d after %d)", b, s.PromptBuckets[i-1])
		}
	}
	if s.MaxFuture < 0 {
		return bad("MaxFuture", "must not be negative (got %s)", short(s.MaxFuture))
	}
	if s.MaxPast < s.PromptWindow {
		return bad("MaxPast", "must be at least PromptWindow, %s (got %s)", short(s.PromptWindow), short(s.MaxPast))
	}
	if s.MaxUsers < 1 {
		return bad("MaxUsers", "must be at least 1 (got %d)", s.MaxUsers)
	}
	if need := max(s.FatigueMoreThan+1, s.DeclinesMoreThan+1, s.OATHMinFailures); s.MaxEventsPerUser < need {
		return bad("MaxEventsPerUser", "must be at least %d, or a rule can never fire (got %d)", need, s.MaxEventsPerUser)
	}
	if s.EpisodeRetention <= 0 {
		return bad("EpisodeRetention", "must be more than 0s (got %s)", short(s.EpisodeRetention))
	}
	if s.MaxEpisodes < 1 {
		return bad("MaxEpisodes", "must be at least 1 (got %d)", s.MaxEpisodes)
	}
	if s.MaxListLen < 1 {
		return bad("MaxListLen", "must be at least 1 (got %d)", s.MaxListLen)
	}
	return nil
}

// short writes a duration without its zero trailing units (24h rather than 24h0m0s), the way
// the configuration file writes them, since the loader quotes these messages to the operator.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// span is the longest window of the burst rules.
func (s Settings) span() time.Duration {
	return max(s.FatigueWindow, s.DeclineWindow, s.OATHWindow, s.SuccessWindow)
}

// horizon is how long before the final time a row is kept for the detection windows. Rows fed
// from now on are created at or after the final time; they need the rows one window before them
// (to count) and one gap before them (to chain), so rows older than two windows before the final
// time can go. Fraud episodes, which reach further, are kept by their own range.
func (s Settings) horizon() time.Duration {
	return 2 * s.span()
}

// gap is how far from an episode's rows another row still joins it.
func (s Settings) gap(k int) time.Duration {
	switch k {
	case kFatigue:
		return s.FatigueWindow
	case kFraud:
		return s.FraudBlockWindow
	}
	return s.OATHWindow
}

// concludeAfter is how long after an episode's last row the final time must be for no row to
// change the episode any more: neither a row joining it (gap) nor a success ending it.
func (s Settings) concludeAfter(k int) time.Duration {
	return max(s.gap(k), s.SuccessWindow)
}

// promptKeep is how many prompt times are kept per user: one more than the largest bound is
// enough to tell "more than the largest bound" from "exactly it".
func (s Settings) promptKeep() int { return s.PromptBuckets[len(s.PromptBuckets)-1] + 1 }
