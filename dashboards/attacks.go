package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// attacksRow is the MFA overview's row of per-user attack detection: the users under attack now,
// the episodes by kind and how they ended, and the MFA prompts per user. The panels count users
// and episodes; who they are is listed by the exporter's /api/v1/detections, which the panel
// descriptions name.
func (bd *board) attacksRow() {
	started := "entra_detection_episodes_started_total"
	ended := "entra_detection_episodes_ended_total"
	open := "entra_detection_users_in_open_episode"
	prompted := "entra_detection_prompted_users"

	bd.row("Attacks")
	bd.panel(bd.stat("Users under attack now",
		"Users with an attack episode still open, by kind: fatigue (push bombing), fraud (a fraud report and the blocks after it), oath_guessing (OATH codes tried across many sessions). The exporter's /api/v1/detections?outcome=open names them.",
		"short", 8, 8,
		instant(fmt.Sprintf(`sum by (kind) (%s)`, sel(open)), "{{kind}}")).
		Thresholds(thresholds(step(nil, "green"), step(at(1), "red"))).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraMFAFatigueEpisode"), runbookLink("EntraMFAOATHGuessing")}))
	bd.panel(bd.stat("Push bombing followed by an approval",
		"Fatigue episodes that ended with the user completing MFA over the selected range (Sentinel's \"MFA spamming followed by successful login\"): the attacker has probably signed in. /api/v1/detections?kind=fatigue&outcome=success names the users.",
		"short", 8, 8,
		instant(fmt.Sprintf(`sum(increase(%s[$__range]))`, sel(ended, `kind="fatigue"`, `ending="success"`)), "followed by an approval")).
		Thresholds(thresholds(step(nil, "green"), step(at(1), "red"))).
		Links([]cog.Builder[dashboard.DashboardLink]{runbookLink("EntraMFAFatigueFollowedBySuccess")}))
	bd.panel(bd.table("Episodes by kind and ending",
		"Episodes started over the selected range by kind, how many ended in success (the user then completed MFA) or denied, and how many are open now.",
		"short", 8, 8,
		map[string]string{"kind": "Kind", "Value #A": "Started", "Value #B": "Ended in success", "Value #C": "Ended denied", "Value #D": "Open now"},
		tableQuery(fmt.Sprintf(`sum by (kind) (increase(%s[$__range]))`, sel(started)), "A"),
		tableQuery(fmt.Sprintf(`sum by (kind) (increase(%s[$__range]))`, sel(ended, `ending="success"`)), "B"),
		tableQuery(fmt.Sprintf(`sum by (kind) (increase(%s[$__range]))`, sel(ended, `ending="denied"`)), "C"),
		tableQuery(fmt.Sprintf(`sum by (kind) (%s)`, sel("entra_detection_episodes_open")), "D")))
	bd.panel(bd.stacked("Episodes started",
		"Attack episodes started, by kind, per rate interval. Each one is an attack on one user, found by a public detection rule (see the README's Detections section).",
		"short", 12, 8,
		series(fmt.Sprintf(`sum by (kind) (increase(%s[$__rate_interval]))`, sel(started)), "{{kind}}")))
	bd.panel(bd.barGauge("Users prompted more than N times",
		"Users asked for MFA more than N times over the trailing prompt window (24 h by default), the Entra workbook \"Authentication prompts analysis\": many users with dozens of prompts point to over-prompting policies, which train users to approve whatever comes (MFA fatigue exposure).",
		"short", 12, 8,
		// Cumulative counts fall as N grows: sorting by value lists the bounds in order.
		instant(fmt.Sprintf(`sort_desc(scalar(sum(%s)) - sum by (at_most) (%s))`, sel(prompted, `at_most="+Inf"`), sel(prompted, `at_most!="+Inf"`)), "more than {{at_most}}")))
}
