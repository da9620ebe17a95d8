package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// Coverage is the dashboard of why MFA was or was not required: the requirement sources of the
// sign-ins (Conditional Access, legacy per-user MFA, security defaults, risk policies...), what each
// Conditional Access policy does, what the report-only ones would do if turned on, and which
// applications are signed into without MFA.
func Coverage() (dashboard.Dashboard, error) {
	bd := newBoard("entra-mfa-coverage", "Entra ID MFA coverage",
		"Why MFA was or was not required: requirement sources, Conditional Access policy results with the impact of report-only policies, and the applications signed into without MFA.",
		"entra_signins_by_requirement_source_total")

	sources := "entra_signins_by_requirement_source_total"
	evals := "entra_ca_policy_evaluations_total"
	apps := "entra_signins_by_application_total"
	// withPolicy adds the policy's name, state and grant controls to a vector by (tenant,
	// policy_id); max by collapses the info of several exporter instances.
	withPolicy := func(v string) string {
		return fmt.Sprintf(`(%s) * on (tenant, policy_id) group_left (policy_name, state, grant_controls) max by (tenant, policy_id, policy_name, state, grant_controls) (%s)`,
			v, sel("entra_ca_policy_info"))
	}
	withApp := func(v string) string {
		return fmt.Sprintf(`(%s) * on (tenant, app_id) group_left (app_name) max by (tenant, app_id, app_name) (%s)`, v, sel("entra_application_info"))
	}
	byPolicy := func(matcher string) string {
		return fmt.Sprintf(`sum by (tenant, policy_id) (increase(%s[$__range]))`, sel(evals, matcher))
	}
	policyColumns := map[string]string{"tenant": "Tenant", "policy_id": "Policy id", "policy_name": "Policy", "state": "State", "grant_controls": "Grant controls"}

	// 1. Requirement sources.
	bd.row("Why was MFA required?")
	bd.panel(bd.stacked("Sign-ins by requirement source",
		"Sign-in rows per second by what required MFA (authenticationRequirementPolicies): Conditional Access, legacy per-user MFA, security defaults, a risk policy, the application's request... none: nothing did (single-factor sign-ins, and rows satisfied by a claim already in the token). A row naming two sources counts under each.",
		"cps", 16, 8,
		series(fmt.Sprintf(`sum by (requirement_source) (rate(%s[$__rate_interval]))`, sel(sources)), "{{requirement_source}}")).
		Links([]cog.Builder[dashboard.DashboardLink]{catalogueLink()}))
	bd.panel(bd.stat("MFA from legacy per-user MFA",
		"Share of the multi-factor sign-ins of the last hour whose requirement came (also) from legacy per-user MFA, which Microsoft is retiring in favour of Conditional Access (recording rule tenant:entra_signins_per_user_mfa:ratio_rate1h). EntraPerUserMFAStillInUse reports it.",
		"percentunit", 8, 8,
		instant(sel("tenant:entra_signins_per_user_mfa:ratio_rate1h"), "{{tenant}}")).
		Thresholds(thresholds(step(nil, "green"), step(at(0.001), "blue"))).
		Min(0).Max(1).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraPerUserMFAStillInUse")}))
	bd.panel(bd.table("Requirement source by MFA outcome",
		"Sign-in rows over the selected range by requirement source and MFA outcome: whether what asked for MFA got it (satisfied), met a denial, or saw the user give up at the prompt (interrupted).",
		"short", 12, 9,
		map[string]string{"requirement_source": "Requirement source", "mfa_outcome": "MFA outcome", "Value #A": "Sign-ins"},
		tableQuery(fmt.Sprintf(`sort_desc(sum by (requirement_source, mfa_outcome) (increase(%s[$__range])))`, sel(sources)), "A")).
		Links([]cog.Builder[dashboard.DashboardLink]{catalogueLink()}))
	bd.panel(bd.timeSeries("Per-user MFA share over time",
		"Share of multi-factor sign-ins relying on legacy per-user MFA over one-hour windows: it should fall to zero as users move to Conditional Access.",
		"percentunit", 12, 9,
		series(sel("tenant:entra_signins_per_user_mfa:ratio_rate1h"), "{{tenant}}")).
		Min(0).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraPerUserMFAStillInUse")}))

	// 2. Conditional Access policies.
	bd.row("What do the Conditional Access policies do?")
	applied := byPolicy(`policy_result=~"success|failure"`)
	cols := map[string]string{"Value #A": "Evaluations", "Value #B": "Applied", "Value #C": "Failed", "Value #D": "Failure share"}
	for k, v := range policyColumns {
		cols[k] = v
	}
	bd.panel(bd.table("Policies and their results",
		"Every Conditional Access policy with series of its own: name and state (from the policy inventory with Policy.Read.All, else from the newest sign-in), grant controls, and over the selected range the evaluations listed on sign-ins, those where it applied (its controls were met or not), those that failed, and the failure share of the applied ones. Policies past coverage.max_policies are counted under policy id other and have no row here.",
		"short", 24, 10, cols,
		tableQuery(withPolicy(byPolicy("")), "A"),
		tableQuery(withPolicy(applied), "B"),
		tableQuery(withPolicy(byPolicy(`policy_result="failure"`)), "C"),
		tableQuery(withPolicy(fmt.Sprintf(`(%s or %s * 0) / %s`, byPolicy(`policy_result="failure"`), applied, applied)), "D")).
		OverrideByName("Failure share", []dashboard.DynamicConfigValue{{Id: "unit", Value: "percentunit"}}).
		Links([]cog.Builder[dashboard.DashboardLink]{catalogueLink()}))
	bd.panel(bd.stacked("Evaluations by result",
		"Conditional Access evaluations per second by result, all policies together: success and failure where an enforced policy applied, not_applied where its conditions did not match, report_only_* for report-only policies, not_enabled for policies that are off.",
		"cps", 12, 8,
		series(fmt.Sprintf(`sum by (policy_result) (rate(%s[$__rate_interval]))`, sel(evals)), "{{policy_result}}")).
		Links([]cog.Builder[dashboard.DashboardLink]{catalogueLink()}))
	bd.panel(bd.timeSeries("Failure share by policy",
		"Share of the sign-ins each enforced policy applied to that failed its controls, over 5-minute windows, with the threshold above which EntraCAPolicyFailureSpike fires (twice the policy's share of the previous day, or 50% without a baseline; block-only policies are left out of the alert).",
		"percentunit", 12, 8,
		series(withPolicy(sel("tenant_policy:entra_ca_policy_failure:ratio_rate5m")), "{{policy_name}}"),
		series(withPolicy(sel("tenant_policy:entra_ca_policy_failure:ratio_threshold")), "alert threshold · {{policy_name}}")).
		Min(0).Max(1).
		OverrideByRegexp(dashed("alert threshold.*")).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraCAPolicyFailureSpike")}))

	// 3. Report-only impact.
	bd.row("What would the report-only policies do?")
	wouldApply := byPolicy(`policy_result=~"report_only_success|report_only_failure|report_only_interrupted"`)
	impact := map[string]string{"Value #A": "Would block", "Value #B": "Would prompt", "Value #C": "Would let through", "Value #D": "Block share"}
	for k, v := range policyColumns {
		impact[k] = v
	}
	bd.panel(bd.table("If enabled, this policy would have…",
		"For each report-only policy, over the selected range: the sign-ins it would have blocked (reportOnlyFailure: blocked, or a control such as a compliant device not met), those where it would have prompted the user, for example for MFA (reportOnlyInterrupted), those it would have let through (reportOnlySuccess), and the blocked share of the sign-ins it applied to. Read it before switching a policy from report-only to on.",
		"short", 24, 10, impact,
		tableQuery(withPolicy(byPolicy(`policy_result="report_only_failure"`)), "A"),
		tableQuery(withPolicy(byPolicy(`policy_result="report_only_interrupted"`)), "B"),
		tableQuery(withPolicy(byPolicy(`policy_result="report_only_success"`)), "C"),
		tableQuery(withPolicy(fmt.Sprintf(`(%s or %s * 0) / %s`, byPolicy(`policy_result="report_only_failure"`), wouldApply, wouldApply)), "D")).
		OverrideByName("Block share", []dashboard.DynamicConfigValue{
			{Id: "unit", Value: "percentunit"},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "color-text"}},
			{Id: "thresholds", Value: map[string]any{"mode": "absolute", "steps": []map[string]any{
				{"value": nil, "color": "green"}, {"value": 0.05, "color": "orange"}, {"value": 0.1, "color": "red"}}}},
		}).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraCAReportOnlyPolicyWouldBlock")}))
	bd.panel(bd.timeSeries("Report-only block share",
		"Share of the sign-ins each report-only policy applied to that it would have blocked, over one-hour windows (recording rule tenant_policy:entra_ca_report_only_failure:ratio_rate1h). EntraCAReportOnlyPolicyWouldBlock fires above 10% with at least 20 such sign-ins an hour.",
		"percentunit", 24, 8,
		series(withPolicy(sel("tenant_policy:entra_ca_report_only_failure:ratio_rate1h")), "{{policy_name}}")).
		Min(0).Max(1).
		Thresholds(thresholds(step(nil, "green"), step(at(0.1), "red"))).
		ThresholdsStyle(thresholdsLine()).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraCAReportOnlyPolicyWouldBlock")}))

	// 4. Applications without MFA.
	bd.row("Which applications are signed into without MFA?")
	without := fmt.Sprintf(`sum by (tenant, app_id) (increase(%s[$__range]))`, sel(apps, `mfa_outcome="not_required"`))
	through := fmt.Sprintf(`sum by (tenant, app_id) (increase(%s[$__range]))`, sel(apps, `mfa_outcome=~"satisfied|not_required"`))
	bd.panel(bd.barGauge("Applications by sign-ins without MFA",
		"The fifteen applications with the most sign-ins that got through without MFA (outcome not_required: nothing asked for MFA) over the selected range: the MFA gaps.",
		"short", 12, 10,
		instant(fmt.Sprintf(`topk(15, %s)`, withApp(without)), "{{app_name}}")))
	bd.panel(bd.table("Applications: share of sign-ins without MFA",
		"Per application over the selected range: sign-ins that got through (MFA satisfied or not required), those without MFA, and their share. Rows without an application id (NPS extension, AD FS) count under none, applications past coverage.max_applications under other; neither has a name.",
		"short", 12, 10,
		map[string]string{"tenant": "Tenant", "app_id": "Application id", "app_name": "Application", "Value #A": "Signed in", "Value #B": "Without MFA", "Value #C": "Share without MFA"},
		tableQuery(withApp(through), "A"),
		tableQuery(withApp(without), "B"),
		tableQuery(withApp(fmt.Sprintf(`(%s or %s * 0) / %s`, without, through, through)), "C")).
		OverrideByName("Share without MFA", []dashboard.DynamicConfigValue{{Id: "unit", Value: "percentunit"}}))
	bd.panel(bd.stacked("Sign-ins without MFA by application",
		"Sign-ins per second that got through without MFA, for the ten applications with the most over the selected range.",
		"cps", 16, 8,
		series(withApp(fmt.Sprintf(`sum by (tenant, app_id) (rate(%s[$__rate_interval])) and on (tenant, app_id) topk(10, %s)`,
			sel(apps, `mfa_outcome="not_required"`), without)), "{{app_name}}")))
	bd.panel(bd.barGauge("Distinct ids against the caps",
		"Policy and application ids with series of their own, against coverage.max_policies and coverage.max_applications. Past the cap, new ids count under other (entra_coverage_overflow_total): raise the cap if a real tenant reaches it.",
		"percentunit", 8, 8,
		instant(fmt.Sprintf(`max by (tenant, kind) (%s) / max by (tenant, kind) (%s)`, sel("entra_coverage_values"), sel("entra_coverage_max_values")), "{{kind}} · {{tenant}}")).
		Min(0).Max(1).
		Thresholds(thresholds(step(nil, "green"), step(at(0.8), "orange"), step(at(1), "red"))))
	return bd.build()
}
