package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// RegistrationCoverage is the dashboard of the authentication-method registration report
// (Graph's userRegistrationDetails): who can do MFA, with which methods, and which admins cannot.
func RegistrationCoverage() (dashboard.Dashboard, error) {
	bd := newBoard("entra-mfa-registration", "Entra ID MFA registration coverage",
		"Who among the enabled users of each tenant can complete MFA, with which methods, and which administrators cannot, from Graph's authentication-method registration report.",
		"entra_registration_users")

	users := sel("entra_registration_users")
	feature := func(f string) string {
		return fmt.Sprintf(`sum by (tenant) (%s) / sum by (tenant) (%s)`, sel("entra_registration_users_with_feature", fmt.Sprintf(`feature="%s"`, f)), users)
	}

	bd.row("Coverage")
	bd.panel(bd.stat("MFA capable",
		"Share of enabled users able to complete MFA: registered for a method the authentication-methods policy allows (recording rule tenant:entra_registration_mfa_capable:ratio).",
		"percentunit", 6, 6,
		instant(sel("tenant:entra_registration_mfa_capable:ratio"), "{{tenant}}")).
		Thresholds(thresholds(step(nil, "red"), step(at(0.9), "orange"), step(at(0.98), "green"))).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraRegistrationCoverageDropped")}))
	bd.panel(bd.stat("MFA registered",
		"Share of enabled users registered for at least one MFA method (recording rule tenant:entra_registration_mfa_registered:ratio).",
		"percentunit", 6, 6,
		instant(sel("tenant:entra_registration_mfa_registered:ratio"), "{{tenant}}")).
		Thresholds(thresholds(step(nil, "red"), step(at(0.9), "orange"), step(at(0.98), "green"))))
	bd.panel(bd.stat("Passwordless capable",
		"Share of enabled users registered for a passwordless method (FIDO2 key, Windows Hello for Business, passkey, Authenticator phone sign-in).",
		"percentunit", 6, 6,
		instant(feature("passwordless_capable"), "{{tenant}}")).
		Thresholds(thresholds(step(nil, "blue"))))
	bd.panel(bd.stat("Admins without MFA",
		"Enabled users holding an administrative role and registered for no MFA method: each one is an account an attacker needs only a password for.",
		"short", 6, 6,
		instant(fmt.Sprintf(`sum by (tenant) (%s)`, sel("entra_registration_users_without_mfa", `admin="true"`)), "{{tenant}}")).
		Thresholds(thresholds(step(nil, "green"), step(at(1), "red"))))
	bd.panel(bd.timeSeries("Coverage trend",
		"MFA-capable and MFA-registered shares of enabled users over time. EntraRegistrationCoverageDropped fires when the capable share falls 5 points below its best value of the last day.",
		"percentunit", 12, 8,
		series(sel("tenant:entra_registration_mfa_capable:ratio"), "capable · {{tenant}}"),
		series(sel("tenant:entra_registration_mfa_registered:ratio"), "registered · {{tenant}}")).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraRegistrationCoverageDropped")}))
	bd.panel(bd.barGauge("MFA capable by user type and role",
		"Share of enabled users able to complete MFA, for members and guests, administrators (admin=true) and others.",
		"percentunit", 12, 8,
		instant(sel("tenant_user_type_admin:entra_registration_mfa_capable:ratio"), "{{user_type}} · admin={{admin}} · {{tenant}}")).
		Min(0).Max(1))

	bd.row("Methods")
	bd.panel(bd.barGauge("Users by registered method",
		"Enabled users registered for each authentication method (a user with several methods counts once per method).",
		"short", 8, 9,
		instant(fmt.Sprintf(`sort_desc(sum by (method) (%s))`, sel("entra_registration_users_by_method")), "{{method}}")))
	bd.panel(bd.barGauge("Users by system-preferred method",
		"Enabled users by the method Entra ID will offer first when system-preferred MFA is enabled.",
		"short", 8, 9,
		instant(fmt.Sprintf(`sort_desc(sum by (method) (%s))`, sel("entra_registration_users_by_system_preferred_method")), "{{method}}")))
	bd.panel(bd.barGauge("Users by user-preferred method",
		"Enabled users by the default method they chose themselves.",
		"short", 8, 9,
		instant(fmt.Sprintf(`sort_desc(sum by (method) (%s))`, sel("entra_registration_users_by_user_preferred_method")), "{{method}}")))

	bd.row("Population and freshness")
	bd.panel(bd.table("Users by feature and user type",
		"Enabled users with each registration feature (MFA registered or capable, passwordless, self-service password reset, system-preferred MFA), for members and guests.",
		"short", 12, 8,
		map[string]string{"feature": "Feature", "user_type": "User type", "Value #A": "Users"},
		tableQuery(fmt.Sprintf(`sum by (feature, user_type) (%s)`, sel("entra_registration_users_with_feature")), "A")))
	bd.panel(bd.barGauge("Enabled and disabled users",
		"Enabled users (the population the shares above are taken of) and disabled users, by user type.",
		"short", 6, 8,
		instant(fmt.Sprintf(`sum by (user_type) (%s)`, users), "enabled · {{user_type}}"),
		instant(fmt.Sprintf(`sum by (user_type) (%s)`, sel("entra_registration_users_disabled")), "disabled · {{user_type}}")))
	bd.panel(bd.stat("Report age",
		"Time since Entra last refreshed the registration report: Microsoft updates it a few times a day, so the figures above can be hours old.",
		"s", 6, 8,
		instant(fmt.Sprintf(`time() - max by (tenant) (%s)`, sel("entra_registration_report_last_updated_timestamp_seconds")), "{{tenant}}")).
		Thresholds(thresholds(step(nil, "green"), step(at(86400), "orange"), step(at(172800), "red"))))
	return bd.build()
}
