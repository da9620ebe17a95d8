package detect

import (
	"fmt"
	"strings"
	"time"
)

// RulesMarkdown renders the rules with the given settings (DefaultSettings for the README) as a
// Markdown table and its notes, so that the documented thresholds cannot drift from the code.
func RulesMarkdown(s Settings) string {
	d := fmtDuration
	var b strings.Builder
	b.WriteString("| kind | rule | public source |\n| --- | --- | --- |\n")
	fmt.Fprintf(&b, "| `%s` | per user, more than %d push failures (`user_declined`, `no_response_to_notification`, `fraud_reported`) within %s, "+
		"or more than %d declines (`user_declined`, `fraud_reported`) within %s; the burst goes on while its rows come less than %s apart. "+
		"Ends in `success` when the user completes MFA (`successfully_completed`, `completed_in_cloud`) at or after its first row and less than %s after its last. "+
		"| Microsoft Sentinel \"MFA spamming followed by successful login\"; Splunk ESCU \"Multiple denied MFA requests for user\" |\n",
		KindFatigue, s.FatigueMoreThan, d(s.FatigueWindow), s.DeclinesMoreThan, d(s.DeclineWindow), d(s.FatigueWindow), d(s.SuccessWindow))
	fmt.Fprintf(&b, "| `%s` | every `fraud_reported` denial; a `user_blocked` denial less than %s after the report (or after the episode's previous block) belongs to it. "+
		"Ends in `success` like the others. | Microsoft Sentinel \"MFA Rejected by User\" and \"Explicit MFA Deny\" |\n",
		KindFraud, d(s.FraudBlockWindow))
	fmt.Fprintf(&b, "| `%s` | per user, at least %d failed steps with method `oath_verification_code` (any reason) across at least %d distinct correlation ids within %s; "+
		"the episode goes on while its rows come less than %s apart. | Elastic \"Entra ID MFA TOTP brute force attempted\" |\n",
		KindOATH, s.OATHMinFailures, s.OATHMinSessions, d(s.OATHWindow), d(s.OATHWindow))
	bounds := make([]string, len(s.PromptBuckets))
	for i, v := range s.PromptBuckets {
		bounds[i] = fmt.Sprint(v)
	}
	fmt.Fprintf(&b, "| prompts per user | MFA prompts of each user over the trailing %s, counted into buckets %s and +Inf. "+
		"| Entra workbook \"Authentication prompts analysis\" |\n\n", d(s.PromptWindow), strings.Join(bounds, ", "))
	b.WriteString(`Windows are half-open and slide over ` + "`createdDateTime`" + `: two rows are within W of each other when
their times differ by less than W. A **prompt** is an MFA attempt that asked the user for something: satisfied rows
that reused an earlier MFA or skipped it (` + "`previously_satisfied`, `claim_in_token`, `claim_by_external_provider`, `skipped_*`" + `)
are not prompts, nor are denials that never reached the user (` + "`user_blocked`" + `, nothing registered, the phone or
device unreachable, service errors, a duplicate or in-progress attempt).

An episode is **open** until no row that could change it can still be read (the reconcile cursor is past its last row
by its gap or the success window, whichever is longer); it is then counted as ended ` + "`denied`" + `, unless a success
ended it first. An episode once counted is never withdrawn. Each user's rows are placed by time, so a late row lands
in its window and may complete an episode; a row read twice counts once.
`)
	return b.String()
}

// fmtDuration writes whole hours and minutes the way the configuration does (1h, 5m, 24h).
func fmtDuration(v time.Duration) string {
	switch {
	case v%time.Hour == 0:
		return fmt.Sprintf("%dh", v/time.Hour)
	case v%time.Minute == 0:
		return fmt.Sprintf("%dm", v/time.Minute)
	}
	return v.String()
}
