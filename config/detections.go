package config

import (
	"errors"
	"strings"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/detect"
)

// Detections tunes the per-user attack detection of a tenant (MFA fatigue, fraud reports, OATH
// code guessing, prompts per user). Every key is optional: an absent key takes the default of
// the public rule it comes from (detect.DefaultSettings). Pointers tell an absent key from an
// explicit zero, which is then rejected rather than silently replaced by the default.
type Detections struct {
	// Enabled turns the detection of the tenant off when false; default true.
	Enabled *bool `yaml:"enabled,omitempty"`
	// ShowUPN lists the users' UPNs in clear in /api/v1/detections and the log. By default they
	// are pseudonymised with a keyed hash whose key stays in the storage directory.
	ShowUPN bool `yaml:"show_upn"`
	// SuccessWindow: an episode ends in success when the user completes MFA within this time of
	// the episode's last row.
	SuccessWindow *Duration `yaml:"success_window,omitempty"`
	// Retention and MaxEpisodes bound the concluded episodes listed.
	Retention   *Duration `yaml:"retention,omitempty"`
	MaxEpisodes *int      `yaml:"max_episodes,omitempty"`
	// MaxUsers and MaxRowsPerUser bound the detector's memory.
	MaxUsers       *int `yaml:"max_users,omitempty"`
	MaxRowsPerUser *int `yaml:"max_rows_per_user,omitempty"`

	Fatigue      FatigueRule      `yaml:"fatigue"`
	Fraud        FraudRule        `yaml:"fraud"`
	OATHGuessing OATHGuessingRule `yaml:"oath_guessing"`
	Prompts      PromptsRule      `yaml:"prompts"`
}

// FatigueRule is MFA fatigue (push bombing): more than MoreThan push failures within Window, or
// more than DeclinesMoreThan declines within DeclineWindow.
type FatigueRule struct {
	Window           *Duration `yaml:"window,omitempty"`
	MoreThan         *int      `yaml:"more_than,omitempty"`
	DeclineWindow    *Duration `yaml:"decline_window,omitempty"`
	DeclinesMoreThan *int      `yaml:"declines_more_than,omitempty"`
}

// FraudRule: a user_blocked denial within BlockWindow of a fraud report belongs to its episode.
type FraudRule struct {
	BlockWindow *Duration `yaml:"block_window,omitempty"`
}

// OATHGuessingRule: at least MinFailures failed OATH codes across at least MinSessions sessions
// within Window.
type OATHGuessingRule struct {
	Window      *Duration `yaml:"window,omitempty"`
	MinFailures *int      `yaml:"min_failures,omitempty"`
	MinSessions *int      `yaml:"min_sessions,omitempty"`
}

// PromptsRule: the distribution of MFA prompts per user over the trailing Window, counted into
// Buckets.
type PromptsRule struct {
	Window  *Duration `yaml:"window,omitempty"`
	Buckets []int     `yaml:"buckets,omitempty"`
}

// IsEnabled reports whether detection runs for the tenant; true unless set to false.
func (d Detections) IsEnabled() bool { return d.Enabled == nil || *d.Enabled }

// detectionKeys maps each configurable detect.Settings field to its key under detections.
var detectionKeys = []struct{ field, key string }{
	{"FatigueWindow", "fatigue.window"},
	{"FatigueMoreThan", "fatigue.more_than"},
	{"DeclineWindow", "fatigue.decline_window"},
	{"DeclinesMoreThan", "fatigue.declines_more_than"},
	{"SuccessWindow", "success_window"},
	{"FraudBlockWindow", "fraud.block_window"},
	{"OATHWindow", "oath_guessing.window"},
	{"OATHMinFailures", "oath_guessing.min_failures"},
	{"OATHMinSessions", "oath_guessing.min_sessions"},
	{"PromptWindow", "prompts.window"},
	{"PromptBuckets", "prompts.buckets"},
	{"MaxUsers", "max_users"},
	{"MaxEventsPerUser", "max_rows_per_user"},
	{"EpisodeRetention", "retention"},
	{"MaxEpisodes", "max_episodes"},
}

// Settings returns the detector's settings: the defaults, overridden by the keys that are set.
// It does not validate them (Validate does, naming the keys).
func (d Detections) Settings() detect.Settings {
	s := detect.DefaultSettings()
	dur := func(dst *time.Duration, v *Duration) {
		if v != nil {
			*dst = time.Duration(*v)
		}
	}
	num := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	dur(&s.FatigueWindow, d.Fatigue.Window)
	num(&s.FatigueMoreThan, d.Fatigue.MoreThan)
	dur(&s.DeclineWindow, d.Fatigue.DeclineWindow)
	num(&s.DeclinesMoreThan, d.Fatigue.DeclinesMoreThan)
	dur(&s.SuccessWindow, d.SuccessWindow)
	dur(&s.FraudBlockWindow, d.Fraud.BlockWindow)
	dur(&s.OATHWindow, d.OATHGuessing.Window)
	num(&s.OATHMinFailures, d.OATHGuessing.MinFailures)
	num(&s.OATHMinSessions, d.OATHGuessing.MinSessions)
	dur(&s.PromptWindow, d.Prompts.Window)
	if d.Prompts.Buckets != nil {
		s.PromptBuckets = append([]int(nil), d.Prompts.Buckets...)
	}
	num(&s.MaxUsers, d.MaxUsers)
	num(&s.MaxEventsPerUser, d.MaxRowsPerUser)
	dur(&s.EpisodeRetention, d.Retention)
	num(&s.MaxEpisodes, d.MaxEpisodes)
	return s
}

// validate reports every invalid key. The detector's own validation is the one source of the
// limits; each field it rejects is reported under its key and put back to its default, so that
// the next round finds the next mistake and the operator gets all of them at once.
func (d Detections) validate(p string, errs *errorList) {
	if !d.IsEnabled() {
		return // a disabled block may keep whatever values it had
	}
	s := d.Settings()
	def := detect.DefaultSettings()
	reported := map[string]bool{}
	for range 2*len(detectionKeys) + 1 {
		err := s.Validate()
		if err == nil {
			return
		}
		var fe *detect.FieldError
		if !errors.As(err, &fe) {
			errs.add(p, "%v", err)
			return
		}
		key := detectionKey(fe.Field)
		if key == "" {
			// A field the file cannot set: a bug, but say what the detector said.
			errs.add(p, "%v", err)
			return
		}
		if reported[fe.Field] {
			// Its default does not fit the other values either (a limit that depends on
			// them): the mistake is reported once; make it fit to look further.
			if !satisfy(&s, fe.Field) {
				return
			}
			continue
		}
		reported[fe.Field] = true
		errs.add(p+"."+key, "%s", detectionProblem(fe.Problem))
		if !resetField(&s, def, fe.Field) {
			return
		}
	}
}

// satisfy sets a field whose limit depends on other fields to a value within it.
func satisfy(s *detect.Settings, field string) bool {
	switch field {
	case "OATHMinSessions":
		s.OATHMinSessions = s.OATHMinFailures
	case "MaxEventsPerUser":
		s.MaxEventsPerUser = max(s.FatigueMoreThan+1, s.DeclinesMoreThan+1, s.OATHMinFailures)
	default:
		return false
	}
	return true
}

func detectionKey(field string) string {
	for _, k := range detectionKeys {
		if k.field == field {
			return k.key
		}
	}
	return ""
}

// detectionProblem rewrites the detector's field names in a message into their keys.
func detectionProblem(problem string) string {
	for _, k := range detectionKeys {
		problem = strings.ReplaceAll(problem, k.field, k.key)
	}
	return problem
}

// resetField puts one field of s back to its default; false for a field it does not know.
func resetField(s *detect.Settings, def detect.Settings, field string) bool {
	switch field {
	case "FatigueWindow":
		s.FatigueWindow = def.FatigueWindow
	case "FatigueMoreThan":
		s.FatigueMoreThan = def.FatigueMoreThan
	case "DeclineWindow":
		s.DeclineWindow = def.DeclineWindow
	case "DeclinesMoreThan":
		s.DeclinesMoreThan = def.DeclinesMoreThan
	case "SuccessWindow":
		s.SuccessWindow = def.SuccessWindow
	case "FraudBlockWindow":
		s.FraudBlockWindow = def.FraudBlockWindow
	case "OATHWindow":
		s.OATHWindow = def.OATHWindow
	case "OATHMinFailures":
		s.OATHMinFailures = def.OATHMinFailures
	case "OATHMinSessions":
		s.OATHMinSessions = def.OATHMinSessions
	case "PromptWindow":
		s.PromptWindow = def.PromptWindow
	case "PromptBuckets":
		s.PromptBuckets = def.PromptBuckets
	case "MaxUsers":
		s.MaxUsers = def.MaxUsers
	case "MaxEventsPerUser":
		s.MaxEventsPerUser = def.MaxEventsPerUser
	case "EpisodeRetention":
		s.EpisodeRetention = def.EpisodeRetention
	case "MaxEpisodes":
		s.MaxEpisodes = def.MaxEpisodes
	default:
		return false
	}
	return true
}
