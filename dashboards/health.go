package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// graphBudget is Microsoft Graph's request budget on the identity reports: 5 requests per 10
// seconds per app and tenant, shared by every source of the tenant (the exporter's pacer keeps
// under it).
const graphBudget = 0.5

// ExporterHealth is the dashboard of the exporter itself: is it polling, how far behind is it,
// how does Graph answer, and is the data clean.
func ExporterHealth() (dashboard.Dashboard, error) {
	bd := newBoard("entra-mfa-exporter-health", "Entra ID MFA exporter health",
		"Whether entra-mfa-exporter is polling Microsoft Graph successfully, how far behind it is, how Graph answers, and how clean the data is.",
		"entra_ingest_polls_total")

	bd.row("Polling")
	bd.panel(bd.stat("Time since last successful poll",
		"Seconds since the last poll of each source that completed without error (recording rule tenant_source:entra_ingest_last_success:age_seconds). EntraExporterStaleData fires above three poll intervals and at least 10 minutes.",
		"s", 8, 8,
		instant(sel("tenant_source:entra_ingest_last_success:age_seconds"), "{{tenant}} · {{source}}")).
		Thresholds(thresholds(step(nil, "green"), step(at(300), "orange"), step(at(600), "red"))).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraExporterStaleData")}))
	bd.panel(bd.timeSeries("Failed polls",
		"Share of polls that failed over 5-minute windows, per source (recording rule tenant_source:entra_ingest_polls_failed:ratio_rate5m).",
		"percentunit", 8, 8,
		series(sel("tenant_source:entra_ingest_polls_failed:ratio_rate5m"), "{{tenant}} · {{source}}")).
		Min(0).Max(1).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraExporterStaleData")}))
	bd.panel(bd.timeSeries("Access problems",
		"1 while the last poll of a source failed for want of a licence, a permission or a working credential (reason), else 0.",
		"bool_yes_no", 8, 8,
		series(fmt.Sprintf(`max by (tenant, source, reason) (%s)`, sel("entra_graph_access_problem")), "{{reason}} · {{tenant}} · {{source}}")).
		Min(0).Max(1).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraGraphAccessProblem")}))
	bd.panel(bd.timeSeries("Ingestion lag and settle delay",
		"Age of the newest sign-in time read (lag) and the settle delay the exporter waits on purpose before counting rows: the lag is normally between the settle delay and the settle delay plus one poll interval.",
		"s", 12, 8,
		series(fmt.Sprintf(`min by (tenant, source) (%s)`, sel("entra_ingest_lag_seconds")), "lag · {{tenant}} · {{source}}"),
		series(fmt.Sprintf(`max by (tenant, source) (%s)`, sel("entra_ingest_settle_delay_seconds")), "settle delay · {{tenant}} · {{source}}")).
		Min(0).
		OverrideByRegexp(dashed("settle delay.*")).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraIngestLagHigh")}))
	bd.panel(bd.timeSeries("Lag beyond the settle delay",
		"How far ingestion is behind beyond the settle delay (recording rule tenant_source:entra_ingest_lag_beyond_settle:seconds). EntraIngestLagHigh fires above three poll intervals and at least 5 minutes.",
		"s", 12, 8,
		series(sel("tenant_source:entra_ingest_lag_beyond_settle:seconds"), "{{tenant}} · {{source}}")).
		Min(0).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraIngestLagHigh")}))

	bd.row("Microsoft Graph")
	bd.panel(bd.timeSeries("Graph requests vs budget",
		fmt.Sprintf("Requests per second sent to Microsoft Graph per tenant, retries included. The dashed line is Graph's budget for the identity reports: 5 requests per 10 seconds (%.1f/s) per app and tenant, shared by every source; the exporter paces itself under it, so a tenant at the line is waiting for budget.", graphBudget),
		"reqps", 12, 8,
		series(fmt.Sprintf(`sum by (tenant) (rate(%s[$__rate_interval]))`, sel("entra_graph_requests_total")), "{{tenant}}")).
		Min(0).
		Thresholds(thresholds(step(nil, "green"), step(at(graphBudget), "red"))).
		ThresholdsStyle(thresholdsLine()))
	bd.panel(bd.stacked("Graph responses by status code",
		"Responses from Microsoft Graph per second by HTTP status code (0: no response, a timeout or transport error; 429: throttled).",
		"reqps", 12, 8,
		series(fmt.Sprintf(`sum by (code) (rate(%s[$__rate_interval]))`, sel("entra_graph_requests_total")), "{{code}}")).
		OverrideByName("429", []dashboard.DynamicConfigValue{{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "red"}}}))
	bd.panel(bd.timeSeries("Throttled share (HTTP 429)",
		"Share of Graph responses that were HTTP 429 over 15-minute windows (recording rule tenant_endpoint:entra_graph_requests_throttled:ratio_rate15m). EntraGraphThrottled fires above 25% for 30 minutes.",
		"percentunit", 12, 8,
		series(sel("tenant_endpoint:entra_graph_requests_throttled:ratio_rate15m"), "{{tenant}} · {{endpoint}}")).
		Min(0).Max(1).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraGraphThrottled")}))
	bd.panel(bd.timeSeries("Graph response time (90th percentile)",
		"90th percentile of the time to receive and read one Graph response, per endpoint.",
		"s", 12, 8,
		series(fmt.Sprintf(`histogram_quantile(0.9, sum by (tenant, endpoint, le) (rate(%s[$__rate_interval])))`, sel("entra_graph_request_duration_seconds_bucket")), "{{tenant}} · {{endpoint}}")).
		Min(0))

	bd.row("Data quality")
	bd.panel(bd.timeSeries("Late rows",
		"Rows per second that were not visible yet when the exporter first read their time range, counted later by the reconcile pass. A steady trickle is normal (Entra writes rows late); a rise means Entra is slower than the settle delay allows for.",
		"rowsps", 8, 8,
		series(fmt.Sprintf(`sum by (tenant, source) (rate(%s[$__rate_interval])) or sum by (tenant, source) (rate(%s[$__rate_interval])) * 0`,
			sel("entra_ingest_late_rows_total"), sel("entra_ingest_rows_fetched_total")), "{{tenant}} · {{source}}")).
		Min(0))
	bd.panel(bd.timeSeries("Unclassified strings",
		"Strings from Graph per second that matched no catalogue entry and were counted as \"other\", by field. Anything above zero means the catalogue should learn a new wording: the exporter logs each new string once.",
		"cps", 8, 8,
		series(fmt.Sprintf(`sum by (tenant, field) (rate(%s[$__rate_interval])) or sum by (tenant) (rate(%s[$__rate_interval])) * 0`,
			sel("entra_mfa_unclassified_strings_total"), sel("entra_mfa_attempts_total")), "{{tenant}} · {{field}}")).
		Min(0).
		Links([]cog.Builder[dashboard.DashboardLink]{catalogueLink()}))
	bd.panel(bd.timeSeries("Malformed rows",
		"Rows per second in Graph responses that could not be decoded and were skipped.",
		"rowsps", 8, 8,
		series(fmt.Sprintf(`sum by (tenant, endpoint) (rate(%s[$__rate_interval])) or sum by (tenant, endpoint) (rate(%s[$__rate_interval])) * 0`,
			sel("entra_graph_malformed_rows_total"), sel("entra_graph_requests_total")), "{{tenant}} · {{endpoint}}")).
		Min(0))
	bd.panel(bd.table("Exporter build and configuration",
		"Version of each exporter instance and whether its last configuration reload succeeded (1) or was rejected (0, the previous configuration is still running).",
		"none", 24, 6,
		map[string]string{"instance": "Instance", "version": "Version", "revision": "Revision", "goversion": "Go", "Value #A": "Build info", "Value #B": "Last reload successful"},
		tableQuery(`max by (instance, version, revision, goversion) (entra_exporter_build_info)`, "A"),
		tableQuery(`max by (instance) (entra_exporter_config_last_reload_successful)`, "B")))

	// What the exporter did about Graph misbehaving or its own clock: rows outside the window
	// asked for, time ranges given up on, cursors found in the future, and the detector's memory.
	// Each is 0 in a healthy installation; the panels say so rather than "No data".
	bd.row("Safety nets")
	bd.panel(bd.timeSeries("Rows outside the asked window",
		"Rows per second Graph returned outside the time window of the filter, by side; they are not counted by that read (the read whose window holds them counts them). A steady rate on side=after means Graph ignores the filter's upper bound: every read then costs every row up to now.",
		"rowsps", 8, 8,
		series(fmt.Sprintf(`sum by (tenant, source, side) (rate(%s[$__rate_interval])) or sum by (tenant, source) (rate(%s[$__rate_interval])) * 0`,
			sel("entra_ingest_rows_outside_window_total"), sel("entra_ingest_rows_fetched_total")), "{{side}} · {{tenant}} · {{source}}")).
		Min(0).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraGraphIgnoresFilterBound")}))
	bd.panel(bd.timeSeries("Sign-in time skipped (last hour)",
		"Seconds of sign-in time given up on over the last hour: ranges Graph kept failing to return (malformed pages, paging that loops or never ends) even narrowed to one second. Rows in them that were not counted yet are lost.",
		"s", 8, 8,
		series(lastHourOrZero("entra_ingest_skipped_seconds_total"), "{{tenant}} · {{source}}")).
		Min(0).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraIngestRangeSkipped")}))
	bd.panel(bd.timeSeries("Cursors found in the future (last hour)",
		"Times over the last hour the exporter found its cursors ahead of its clock (a clock that was ahead, a restored state file) and read again from the look-back; remembered ids keep the counts exact.",
		"short", 8, 8,
		series(lastHourOrZero("entra_ingest_cursors_clamped_total"), "{{tenant}} · {{source}}")).
		Min(0).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraIngestCursorsClamped")}))
	bd.panel(bd.timeSeries("Detector: users and rows tracked",
		"Users and sign-in rows the attack detector keeps state for; users stay at most detections.max_users, the detector's memory is about 160 bytes per user.",
		"short", 12, 8,
		series(fmt.Sprintf(`max by (tenant) (%s)`, sel("entra_detection_users_tracked")), "users · {{tenant}}"),
		series(fmt.Sprintf(`max by (tenant) (%s)`, sel("entra_detection_rows_tracked")), "rows · {{tenant}}")).
		Min(0))
	bd.panel(bd.timeSeries("Detector: rows it could not use",
		"MFA rows per second the detector dropped, by reason: user_cap (detections.max_users reached: attacks on new users go unseen), user_row_cap, unattributable, absurd_timestamp, late, duplicate.",
		"rowsps", 12, 8,
		series(fmt.Sprintf(`sum by (tenant, reason) (rate(%s[$__rate_interval])) or sum by (tenant) (rate(%s[$__rate_interval])) * 0`,
			sel("entra_detection_rows_dropped_total"), sel("entra_mfa_attempts_total")), "{{reason}} · {{tenant}}")).
		Min(0))
	return bd.build()
}

// lastHourOrZero is a safety-net counter's increase over the last hour per tenant and source, or
// 0 for every source that polls: the counter has no series until its first increment, and a
// panel should say 0 rather than "No data".
func lastHourOrZero(counter string) string {
	return fmt.Sprintf(`sum by (tenant, source) (increase(%s[1h])) or sum by (tenant, source) (increase(%s[1h])) * 0`,
		sel(counter), sel("entra_ingest_polls_total"))
}
