package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// sel renders a selector of metric with the tenant matcher and extra matchers.
func sel(metric string, matchers ...string) string {
	s := metric + "{" + tenantSel
	for _, m := range matchers {
		s += "," + m
	}
	return s + "}"
}

// dashed draws the series whose name matches re (an alert threshold) as a dashed red line.
func dashed(re string) (string, []dashboard.DynamicConfigValue) {
	return re, []dashboard.DynamicConfigValue{
		{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{10, 10}}},
		{Id: "custom.fillOpacity", Value: 0},
		{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "red"}},
	}
}

// MFAOverview is the dashboard of the six questions of Microsoft's "review MFA events in the
// sign-ins report" page, one row per question.
func MFAOverview() (dashboard.Dashboard, error) {
	bd := newBoard("entra-mfa-overview", "Entra ID MFA overview",
		"Sign-ins and MFA attempts read from the Microsoft Entra ID sign-in log by entra-mfa-exporter: one row per question of the MFA sign-ins report.",
		"entra_signins_total")

	attempts := "entra_mfa_attempts_total"
	signins := "entra_signins_total"

	// 1. Protected by MFA.
	bd.row("1 · Was the sign-in protected by MFA?")
	bd.panel(bd.stat("Sign-ins protected by MFA",
		"Share of the sign-ins that got through (MFA satisfied or not required) in which MFA was satisfied, over the selected range. Denied, interrupted and failed sign-ins did not get through and are not counted.",
		"percentunit", 6, 8,
		instant(fmt.Sprintf(`sum(increase(%s[$__range])) / sum(increase(%s[$__range]))`,
			sel(signins, `mfa_outcome="satisfied"`), sel(signins, `mfa_outcome=~"satisfied|not_required"`)), "protected")).
		Thresholds(thresholds(step(nil, "red"), step(at(0.5), "orange"), step(at(0.8), "green"))).
		Min(0).Max(1))
	bd.panel(bd.timeSeries("Share protected by MFA over time",
		"Share of the sign-ins that got through in which MFA was satisfied, over 5-minute windows (recording rule tenant:entra_signins_mfa_protected:ratio_rate5m).",
		"percentunit", 9, 8,
		series(sel("tenant:entra_signins_mfa_protected:ratio_rate5m"), "{{tenant}}")).
		Min(0).Max(1))
	bd.panel(bd.timeSeries("Share protected by MFA by client app",
		"The same share by client app (browser, mobile and desktop clients, legacy protocols...): legacy protocols that cannot do MFA show up here. The exporter has no per-application label because application names are unbounded.",
		"percentunit", 9, 8,
		series(sel("tenant_client_app:entra_signins_mfa_protected:ratio_rate5m"), "{{client_app}} · {{tenant}}")).
		Min(0).Max(1))
	bd.panel(bd.stacked("Sign-ins by requirement and MFA outcome",
		"Sign-in rows per second by authentication requirement (what the policies asked for) and MFA outcome. An interrupted row is the 50074 prompt that precedes the MFA outcome row, not a failure.",
		"cps", 24, 8,
		series(fmt.Sprintf(`sum by (requirement, mfa_outcome) (rate(%s[$__rate_interval]))`, sel(signins)), "{{requirement}} · {{mfa_outcome}}")).
		Links([]cog.Builder[dashboard.DashboardLink]{catalogueLink()}))

	// 2. How MFA was completed.
	bd.row("2 · How did users complete MFA?")
	bd.panel(bd.stacked("Satisfied MFA by method",
		"MFA attempts satisfied per second, by method. previously_satisfied means an MFA claim from an earlier sign-in was reused.",
		"cps", 12, 8,
		series(fmt.Sprintf(`sum by (method) (rate(%s[$__rate_interval]))`, sel(attempts, `outcome="satisfied"`)), "{{method}}")).
		Links([]cog.Builder[dashboard.DashboardLink]{catalogueLink()}))
	bd.panel(bd.barGauge("Satisfied MFA by reason",
		"MFA attempts satisfied over the selected range, by satisfied reason (how the requirement was met: completed in the cloud, claim in the token, skipped for a trusted location...).",
		"short", 6, 8,
		instant(fmt.Sprintf(`sort_desc(sum by (reason) (increase(%s[$__range])))`, sel(attempts, `outcome="satisfied"`)), "{{reason}}")).
		Links([]cog.Builder[dashboard.DashboardLink]{catalogueLink()}))
	bd.panel(bd.barGauge("Satisfied MFA by component",
		"MFA attempts satisfied over the selected range, by the component that ran the MFA: Entra ID itself, the NPS extension (RADIUS, VPN) or the AD FS adapter.",
		"short", 6, 8,
		instant(fmt.Sprintf(`sort_desc(sum by (component) (increase(%s[$__range])))`, sel(attempts, `outcome="satisfied"`)), "{{component}}")))

	// 3. Why MFA failed.
	bd.row("3 · Why were users unable to complete MFA?")
	bd.panel(bd.timeSeries("Denied share of MFA attempts",
		"Share of MFA attempts denied over 5-minute windows, and the threshold above which EntraMFAFailureRateSpike fires (twice the tenant's share of the previous day, or 50% without a baseline). The alert also needs 50 attempts and 20 denials in 5 minutes.",
		"percentunit", 12, 8,
		series(sel("tenant:entra_mfa_attempts_denied:ratio_rate5m"), "denied · {{tenant}}"),
		series(sel("tenant:entra_mfa_attempts_denied:ratio_threshold"), "alert threshold · {{tenant}}")).
		Min(0).Max(1).
		OverrideByRegexp(dashed("alert threshold.*")).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraMFAFailureRateSpike")}))
	bd.panel(bd.stacked("Denied MFA by reason",
		"MFA attempts denied per second, by denied reason. Delivery reasons (unable_to_send_notification, service_error, unable_to_reach_phone) point to a service or device problem rather than to users.",
		"cps", 12, 8,
		series(fmt.Sprintf(`sum by (reason) (rate(%s[$__rate_interval]))`, sel(attempts, `outcome="denied"`)), "{{reason}}")).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraMFADenialReasonSurge"), catalogueLink()}))
	bd.panel(bd.table("Denied MFA by reason and result code",
		"MFA attempts denied over the selected range by denied reason and MFA result code (the normalised result-code vocabulary of the MFA activity report).",
		"short", 12, 9,
		map[string]string{"reason": "Reason", "result_code": "Result code", "Value #A": "Denied attempts"},
		tableQuery(fmt.Sprintf(`sort_desc(sum by (reason, result_code) (increase(%s[$__range])))`, sel(attempts, `outcome="denied"`)), "A")).
		Links([]cog.Builder[dashboard.DashboardLink]{catalogueLink()}))
	bd.panel(bd.stacked("Failed sign-ins by error code",
		"Sign-in rows with a failure result per second, by sign-in error code (500121: MFA denied; 50126: wrong password; 53003: blocked by Conditional Access...).",
		"cps", 12, 9,
		series(fmt.Sprintf(`sum by (error_code) (rate(%s[$__rate_interval]))`, sel(signins, `result="failure"`)), "{{error_code}}")).
		Links([]cog.Builder[dashboard.DashboardLink]{catalogueLink()}))

	// 4. Users challenged.
	bd.row("4 · How many users were challenged?")
	bd.panel(bd.stat("Users challenged",
		"Distinct users asked for a second factor (prompted, denied or satisfied by performing a method) in each trailing window the exporter is configured with. Users satisfied by a claim in the token are not challenged.",
		"short", 8, 8,
		instant(fmt.Sprintf(`sum by (window) (max by (tenant, window) (%s))`, sel("entra_mfa_users_challenged")), "{{window}}")))
	bd.panel(bd.timeSeries("Users challenged over time",
		"Distinct users challenged in each trailing window, per tenant.",
		"short", 16, 8,
		series(fmt.Sprintf(`max by (tenant, window) (%s)`, sel("entra_mfa_users_challenged")), "{{window}} · {{tenant}}")).
		Min(0))

	// 5. Users who failed.
	bd.row("5 · How many users failed the challenge?")
	bd.panel(bd.stat("Users who failed MFA",
		"Distinct users with at least one denied MFA attempt in each trailing window.",
		"short", 8, 8,
		instant(fmt.Sprintf(`sum by (window) (max by (tenant, window) (%s))`, sel("entra_mfa_users_failed")), "{{window}}")).
		Thresholds(thresholds(step(nil, "orange"))))
	bd.panel(bd.timeSeries("Users who failed over time",
		"Distinct users with a denied MFA attempt in each trailing window, per tenant.",
		"short", 8, 8,
		series(fmt.Sprintf(`max by (tenant, window) (%s)`, sel("entra_mfa_users_failed")), "{{window}} · {{tenant}}")).
		Min(0))
	bd.panel(bd.timeSeries("Share of challenged users who failed",
		"Of the users challenged in a window, the share with at least one denied attempt (recording rule tenant_window:entra_mfa_users_failed:ratio).",
		"percentunit", 8, 8,
		series(sel("tenant_window:entra_mfa_users_failed:ratio"), "{{window}} · {{tenant}}")).
		Min(0).Max(1))

	// 6. Top issues.
	bd.row("6 · What are the common problems?")
	denied := sel(attempts, `outcome="denied"`)
	now := fmt.Sprintf(`sum by (reason, method) (increase(%s[$__range]))`, denied)
	before := fmt.Sprintf(`sum by (reason, method) (increase(%s[$__range] offset $__range))`, denied)
	bd.panel(bd.table("Top issues: denied reason × method",
		"Denied MFA attempts over the selected range by reason and method, their hourly rate, and the change against the previous period of the same length (+100% = doubled). Sort by a column to find the largest or fastest-growing problem.",
		"short", 12, 10,
		map[string]string{"reason": "Reason", "method": "Method", "Value #A": "Denied", "Value #B": "Per hour", "Value #C": "Change vs previous period"},
		tableQuery(fmt.Sprintf(`sort_desc(%s)`, now), "A"),
		tableQuery(fmt.Sprintf(`sum by (reason, method) (rate(%s[$__range])) * 3600`, denied), "B"),
		tableQuery(fmt.Sprintf(`(%s - %s) / %s`, now, before, before), "C")).
		OverrideByName("Change vs previous period", []dashboard.DynamicConfigValue{
			{Id: "unit", Value: "percentunit"},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "color-text"}},
			{Id: "thresholds", Value: map[string]any{"mode": "absolute", "steps": []map[string]any{
				{"value": nil, "color": "green"}, {"value": 0.5, "color": "orange"}, {"value": 1, "color": "red"}}}},
		}).
		Links([]cog.Builder[dashboard.DashboardLink]{catalogueLink()}))
	bd.panel(bd.stat("Fraud reports",
		"MFA prompts users reported as fraudulent over the selected range: each one means someone may hold that user's password.",
		"short", 6, 10,
		instant(fmt.Sprintf(`sum(increase(%s[$__range])) or vector(0)`, sel(attempts, `reason="fraud_reported"`)), "fraud reports")).
		Thresholds(thresholds(step(nil, "green"), step(at(1), "red"))).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraMFAFraudReported")}))
	bd.panel(bd.stat("Push notifications declined or unanswered",
		"Share of Microsoft Authenticator push notifications declined or left unanswered over 10-minute windows, tenant-wide. Push bombing of single users is detected per user: see the Attacks row.",
		"percentunit", 6, 10,
		instant(sel("tenant:entra_mfa_push_rejected:ratio_rate10m"), "{{tenant}}")).
		Thresholds(thresholds(step(nil, "green"), step(at(0.3), "orange"), step(at(0.5), "red"))).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraMFAFatigueEpisode")}))
	bd.panel(bd.barGauge("Top sign-in error codes",
		"The ten most frequent error codes of failed sign-ins over the selected range.",
		"short", 24, 8,
		instant(fmt.Sprintf(`topk(10, sum by (error_code) (increase(%s[$__range])))`, sel(signins, `result="failure"`)), "{{error_code}}")).
		Links([]cog.Builder[dashboard.DashboardLink]{catalogueLink()}))

	bd.attacksRow()
	return bd.build()
}
