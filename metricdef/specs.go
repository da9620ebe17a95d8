package metricdef

// The table. Each part is one slice; a feature adds its families to its own part. Names follow
// the Prometheus conventions: entra_ prefix, _total for counters, base units (seconds, bytes).

// Microsoft Graph requests, as the client sees them.
var (
	GraphRequests = spec(Counter, "entra_graph_requests_total",
		"HTTP requests sent to Microsoft Graph, by endpoint and status code (0 = no response: timeout or transport error).",
		"tenant", "endpoint", "code")
	GraphDuration = withBuckets(spec(Histogram, "entra_graph_request_duration_seconds",
		"Time to receive and read one Microsoft Graph response.",
		"tenant", "endpoint"), []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120})
	GraphThrottled = spec(Counter, "entra_graph_throttled_total",
		"HTTP 429 responses from Microsoft Graph.",
		"tenant", "endpoint")
	GraphRetries = spec(Counter, "entra_graph_retries_total",
		"Requests to Microsoft Graph retried, by reason (429, 5xx, timeout, transport, truncated).",
		"tenant", "endpoint", "reason")
	MalformedRows = spec(Counter, "entra_graph_malformed_rows_total",
		"Rows in Graph responses that could not be decoded and were skipped.",
		"tenant", "endpoint")
	AccessProblem = spec(Gauge, "entra_graph_access_problem",
		"1 while the last poll of a source failed for want of a licence, a permission or a working credential (reason label), else 0.",
		"tenant", "source", "reason")

	graphSpecs = []*Spec{GraphRequests, GraphDuration, GraphThrottled, GraphRetries, MalformedRows, AccessProblem}
)

// Sign-in ingestion: polls, reads, cursors.
var (
	Polls = spec(Counter, "entra_ingest_polls_total",
		"Polls of a Graph source, successful or not.",
		"tenant", "source")
	PollErrors = spec(Counter, "entra_ingest_poll_errors_total",
		"Polls that failed, by reason (licence, permission, authentication, malformed_page, paging, redirect, throttled, graph_error, state_commit, other).",
		"tenant", "source", "reason")
	LastSuccess = spec(Gauge, "entra_ingest_last_success_timestamp_seconds",
		"Unix time of the last poll that completed without error.",
		"tenant", "source")
	Lag = spec(Gauge, "entra_ingest_lag_seconds",
		"Age of the newest sign-in time read by the fresh poll (now minus its cursor); at least the settle delay.",
		"tenant", "source")
	RowsFetched = spec(Counter, "entra_ingest_rows_fetched_total",
		"Rows received from Graph, including rows re-read, deduplicated or outside the window, by pass (fresh: first read after the settle delay; reconcile: second read; backlog: single read of a range skipped after downtime or at first start).",
		"tenant", "source", "pass")
	RowsDeduplicated = spec(Counter, "entra_ingest_rows_deduplicated_total",
		"Rows received again (the reconcile read, pages fetched again after an error, rows Graph returned twice) and not counted a second time.",
		"tenant", "source")
	RowsOutside = spec(Counter, "entra_ingest_rows_outside_window_total",
		"Rows Graph returned outside the time window they were asked for, by side (before, after); not counted by that read. A steady rate on side=\"after\" means Graph ignores the filter's upper bound and every read costs all rows up to now.",
		"tenant", "source", "side")
	DedupIDs = spec(Gauge, "entra_ingest_dedup_ids",
		"Row ids remembered for deduplication (rows that the reconcile pass may still return).",
		"tenant", "source")
	SettleDelay = spec(Gauge, "entra_ingest_settle_delay_seconds",
		"Configured settle delay: rows younger than this are not counted yet (alert rules compare the lag with it).",
		"tenant", "source")
	PollInterval = spec(Gauge, "entra_ingest_poll_interval_seconds",
		"Configured interval between two polls of a source.",
		"tenant", "source")
	LateRows = spec(Counter, "entra_ingest_late_rows_total",
		"Rows counted by the reconcile pass: they were not visible yet when the fresh poll read their time range.",
		"tenant", "source")
	Lateness = withBuckets(spec(Histogram, "entra_ingest_late_row_age_seconds",
		"Age (now minus createdDateTime) of late rows when the reconcile pass counted them: an upper bound of how late they arrived.",
		"tenant", "source"), []float64{60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 21600, 86400})
	Backlog = spec(Gauge, "entra_ingest_backlog_seconds",
		"Sign-in time still to be read beyond the normal slack: the gaps left by downtime or a first start, plus how far the reconcile cursor is behind now minus the settle delay, reconcile delay and reconcile interval; 0 in steady state.",
		"tenant", "source")
	ClockSteps = spec(Counter, "entra_ingest_clock_steps_total",
		"Fresh reads held back because the wall clock had moved further than the monotonic clock since the last read (a forward clock step).",
		"tenant")
	CursorsClamped = spec(Counter, "entra_ingest_cursors_clamped_total",
		"Times the cursors were found in the future (a clock that was ahead, a restored state file) and ingestion restarted from the look-back.",
		"tenant", "source")
	RangesSkipped = spec(Counter, "entra_ingest_ranges_skipped_total",
		"Time ranges skipped because Graph kept failing to return them (malformed page, next links that loop or never end), even narrowed to the smallest read.",
		"tenant", "source")
	SkippedSeconds = spec(Counter, "entra_ingest_skipped_seconds_total",
		"Seconds of sign-in time skipped with those ranges; rows in them that were not counted yet are lost.",
		"tenant", "source")

	ingestSpecs = []*Spec{Polls, PollErrors, LastSuccess, Lag, RowsFetched, RowsDeduplicated, RowsOutside, DedupIDs, SettleDelay, PollInterval, LateRows, Lateness, Backlog, ClockSteps, CursorsClamped, RangesSkipped, SkippedSeconds}
)

// The durable state of each tenant.
var (
	StateCommits = spec(Counter, "entra_state_commits_total",
		"Commits of the tenant's durable state (cursors, remembered ids, counters), by result (success, error).",
		"tenant", "result")
	StateBytes = spec(Gauge, "entra_state_size_bytes",
		"Size of the tenant's state journal after the last commit (it grows with each commit until compacted).",
		"tenant")
	StateWritten = spec(Counter, "entra_state_written_bytes_total",
		"Bytes written to the tenant's state journal: what commits appended and compactions rewrote.",
		"tenant")
	StateLastCommit = spec(Gauge, "entra_state_last_commit_timestamp_seconds",
		"Unix time of the last successful state commit.",
		"tenant")
	StateRestore = spec(Counter, "entra_state_restores_total",
		"State loads at start or tenant (re)configuration, by result: restored, none (no file: start from the look-back), corrupt (moved aside, start from the look-back), error.",
		"tenant", "result")

	stateSpecs = []*Spec{StateCommits, StateBytes, StateWritten, StateLastCommit, StateRestore}
)

// The durable counters: committed with the cursors, restored after a restart (collector/counters.go).
var (
	SignIns = spec(Counter, "entra_signins_total",
		"Sign-in rows counted, by event type, authentication requirement, result, MFA outcome and sign-in error code.",
		"tenant", "event_type", "requirement", "result", "mfa_outcome", "error_code")
	SignInsByClientApp = spec(Counter, "entra_signins_by_client_app_total",
		"Sign-in rows counted, by client app used (normalised), authentication requirement and MFA outcome.",
		"tenant", "client_app", "requirement", "mfa_outcome")
	MFAAttempts = spec(Counter, "entra_mfa_attempts_total",
		"MFA attempts (sign-in rows whose MFA outcome is satisfied or denied), by method, outcome, reason, result code and the component that ran the MFA.",
		"tenant", "method", "outcome", "reason", "result_code", "component")
	UnclassifiedStrings = spec(Counter, "entra_mfa_unclassified_strings_total",
		"Strings from Graph that matched no catalogue entry and were counted as \"other\", by field.",
		"tenant", "field")

	countSpecs = []*Spec{SignIns, SignInsByClientApp, MFAAttempts, UnclassifiedStrings}
)

// Distinct users over trailing windows (collector/users.go).
var (
	UsersChallenged = spec(Gauge, "entra_mfa_users_challenged",
		"Distinct users asked for a second factor (prompted, denied, or satisfied by performing a method) with a sign-in inside the trailing window.",
		"tenant", "window")
	UsersFailed = spec(Gauge, "entra_mfa_users_failed",
		"Distinct users with at least one denied MFA attempt inside the trailing window.",
		"tenant", "window")
	UsersTracked = spec(Gauge, "entra_mfa_users_tracked",
		"Users remembered (as salted hashes) for the distinct-user gauges.",
		"tenant")

	userSpecs = []*Spec{UsersChallenged, UsersFailed, UsersTracked}
)

// MFA registration state (collector/registration.go).
var (
	RegistrationUsers = spec(Gauge, "entra_registration_users",
		"Enabled users in the authentication-methods registration report (joined with the user list), by user type and admin role.",
		"tenant", "user_type", "admin")
	RegistrationUsersDisabled = spec(Gauge, "entra_registration_users_disabled",
		"Disabled accounts (accountEnabled false) in the user list; they are left out of every other registration gauge, as Microsoft's MSOnline MFA reports leave out blocked accounts.",
		"tenant", "user_type")
	RegistrationUsersWithFeature = spec(Gauge, "entra_registration_users_with_feature",
		"Enabled users for whom the registration report sets a feature flag (mfa_registered, mfa_capable, passwordless_capable, sspr_registered, sspr_enabled, sspr_capable, system_preferred_enabled).",
		"tenant", "feature", "user_type", "admin")
	RegistrationUsersByMethod = spec(Gauge, "entra_registration_users_by_method",
		"Enabled users with a method registered (normalised method name; a user counts once under each of their methods).",
		"tenant", "method", "user_type", "admin")
	RegistrationUsersBySystemPreferred = spec(Gauge, "entra_registration_users_by_system_preferred_method",
		"Enabled users by system-preferred MFA method (normalised; none when Graph names none).",
		"tenant", "method", "user_type", "admin")
	RegistrationUsersByUserPreferred = spec(Gauge, "entra_registration_users_by_user_preferred_method",
		"Enabled users by the MFA method they chose as default (userPreferredMethodForSecondaryAuthentication).",
		"tenant", "method", "user_type", "admin")
	RegistrationUsersWithoutMFA = spec(Gauge, "entra_registration_users_without_mfa",
		"Enabled users not registered for MFA (isMfaRegistered false): the \"users not registered for MFA\" report of Microsoft's MFA reporting page, counted.",
		"tenant", "user_type", "admin")
	RegistrationReportLastUpdated = spec(Gauge, "entra_registration_report_last_updated_timestamp_seconds",
		"Newest lastUpdatedDateTime in the registration report: Microsoft rebuilds the report with a lag of hours, so this tells how current the registration gauges are.",
		"tenant")

	registrationSpecs = []*Spec{RegistrationUsers, RegistrationUsersDisabled, RegistrationUsersWithFeature,
		RegistrationUsersByMethod, RegistrationUsersBySystemPreferred, RegistrationUsersByUserPreferred,
		RegistrationUsersWithoutMFA, RegistrationReportLastUpdated}
)

// The exporter process: build information (prometheus/common's version collector, named
// entra_exporter), configuration reloads (config/safeconfig.go) and the metrics endpoint.
var (
	BuildInfo = spec(Gauge, "entra_exporter_build_info",
		"A metric with a constant '1' value labeled by version, revision, branch, goversion from which entra_exporter was built, and the goos and goarch for the build.",
		"branch", "goarch", "goos", "goversion", "revision", "tags", "version")
	ConfigLastReloadSuccessful = spec(Gauge, "entra_exporter_config_last_reload_successful",
		"Whether the last configuration reload attempt was successful (1) or not (0).")
	ConfigLastReloadSuccessTimestamp = spec(Gauge, "entra_exporter_config_last_reload_success_timestamp_seconds",
		"Timestamp of the last successful configuration reload.")

	// ScrapeRequests: requests for /metrics by how the shared cache served them (scrapecache/,
	// cmd/entra-mfa-exporter/http.go). Under many scrapers nearly all are shared; waited grows
	// when renderings cannot keep up.
	ScrapeRequests = spec(Counter, "entra_exporter_scrape_requests_total",
		"Requests for the metrics endpoint, by how the cache shared between scrapers served them: shared (a rendering already made, at once), waited (after waiting for a rendering shared with other requests), alone (rendered for the request alone).",
		"served")

	configSpecs = []*Spec{BuildInfo, ConfigLastReloadSuccessful, ConfigLastReloadSuccessTimestamp, ScrapeRequests}
)

// Per-user attack detections (collector/detections.go, detect/). Episodes are counted by kind
// (fatigue, fraud, oath_guessing); who they concern is only in /api/v1/detections, never in a label.
var (
	DetectionEpisodesStarted = spec(Counter, "entra_detection_episodes_started_total",
		"Attack episodes detected on single users, by kind (fatigue: push bombing; fraud: a fraud report; oath_guessing: OATH codes guessed across sessions). Committed with the cursors: exact across restarts. The users are listed by /api/v1/detections.",
		"tenant", "kind")
	DetectionEpisodesEnded = spec(Counter, "entra_detection_episodes_ended_total",
		"Attack episodes that ended, by kind and ending: success (the user then completed MFA: the attacker may be in) or denied (concluded without a success).",
		"tenant", "kind", "ending")
	DetectionEpisodesOpen = spec(Gauge, "entra_detection_episodes_open",
		"Attack episodes still open (not ended: rows may still join them), by kind.",
		"tenant", "kind")
	DetectionUsersInOpenEpisode = spec(Gauge, "entra_detection_users_in_open_episode",
		"Users with an attack episode still open, by kind.",
		"tenant", "kind")
	DetectionPromptedUsers = spec(Gauge, "entra_detection_prompted_users",
		"Users prompted for MFA at least once and at most at_most times over the trailing prompt window (detections.prompts.window, default 24h), cumulative like histogram buckets; at_most=\"+Inf\" counts every user prompted. Users prompted more than N times: the +Inf value minus the at_most=N value.",
		"tenant", "at_most")
	DetectionUsersTracked = spec(Gauge, "entra_detection_users_tracked",
		"Users the detector keeps state for (prompts in the prompt window, or rows in a detection window); at most detections.max_users.",
		"tenant")
	DetectionRowsTracked = spec(Gauge, "entra_detection_rows_tracked",
		"Sign-in rows the detector keeps for its detection windows.",
		"tenant")
	DetectionRowsDropped = spec(Counter, "entra_detection_rows_dropped_total",
		"MFA rows the detector could not use, by reason: user_cap (a new user while detections.max_users were tracked), user_row_cap (a user's oldest row, beyond detections.max_rows_per_user), unattributable (no user id), absurd_timestamp (created far from now), late (too old for the window it belonged to), duplicate (fed twice; the collector's deduplication should keep this at 0).",
		"tenant", "reason")

	detectionSpecs = []*Spec{DetectionEpisodesStarted, DetectionEpisodesEnded, DetectionEpisodesOpen, DetectionUsersInOpenEpisode,
		DetectionPromptedUsers, DetectionUsersTracked, DetectionRowsTracked, DetectionRowsDropped}
)

// Why MFA was or was not required, Conditional Access, applications (collector/coverage.go).
// Policy and application ids are bounded per tenant by the coverage section of the configuration.
var (
	SignInsByRequirementSource = spec(Counter, "entra_signins_by_requirement_source_total",
		"Sign-in rows counted, by requirement source (authenticationRequirementPolicies[].requirementProvider: a row listing several counts once under each, a row listing none under none), authentication requirement and MFA outcome.",
		"tenant", "requirement_source", "requirement", "mfa_outcome")
	CAPolicyEvaluations = spec(Counter, "entra_ca_policy_evaluations_total",
		"Conditional Access policy evaluations listed on the sign-in rows counted (one per policy per row), by policy id and result; policy_id is other past the tenant's max_policies.",
		"tenant", "policy_id", "policy_result")
	CAPolicyInfo = spec(Gauge, "entra_ca_policy_info",
		"1 for each Conditional Access policy with series of its own: its current display name, state (enabled, disabled, report_only, deleted: gone from the inventory, unknown) and grant controls (comma-separated grant_control labels, none when it has none), from the policy inventory when Policy.Read.All allows reading it, else from the newest sign-in row listing it (the id when nothing named it).",
		"tenant", "policy_id", "policy_name", "state", "grant_controls")
	SignInsByApplication = spec(Counter, "entra_signins_by_application_total",
		"Sign-in rows counted, by application id (appId; none when empty, other past the tenant's max_applications), authentication requirement and MFA outcome.",
		"tenant", "app_id", "requirement", "mfa_outcome")
	ApplicationInfo = spec(Gauge, "entra_application_info",
		"1 for each application with series of its own, with the display name of the newest sign-in row counted for it (the id when no row named it).",
		"tenant", "app_id", "app_name")
	CoverageOverflow = spec(Counter, "entra_coverage_overflow_total",
		"Policy evaluations (kind policy) and sign-in rows (kind application) counted under id other: because the tenant already had max_policies or max_applications ids with series of their own (reason cap), or because Graph sent an id that is not a GUID (reason invalid_id).",
		"tenant", "kind", "reason")
	CoverageValues = spec(Gauge, "entra_coverage_values",
		"Distinct policy ids (kind policy) and application ids (kind application) with series of their own.",
		"tenant", "kind")
	CoverageMaxValues = spec(Gauge, "entra_coverage_max_values",
		"The configured cap on those ids: coverage.max_policies and coverage.max_applications.",
		"tenant", "kind")

	coverageSpecs = []*Spec{SignInsByRequirementSource, CAPolicyEvaluations, CAPolicyInfo, SignInsByApplication,
		ApplicationInfo, CoverageOverflow, CoverageValues, CoverageMaxValues}
)

func withBuckets(s *Spec, b []float64) *Spec {
	s.Buckets = b
	return s
}
