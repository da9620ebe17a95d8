package mfa

import (
	"fmt"
	"strings"
)

// outcomeRules is the prose of the outcome rules, kept next to the tables it
// explains so the README cannot drift from the classifier's documentation.
const outcomeRules = `The sign-in's **result** comes from ` + "`status.errorCode`" + `: 0 is ` + "`success`" + `, the expected
interrupts listed below are ` + "`interrupted`" + ` (never a failure), anything else is ` + "`failure`" + `.

The MFA **outcome** of a row:

- 50074, 50076 (MFA prompt coming), 50078 (expired MFA must be renewed), 50079, 50072 (must register):
  ` + "`interrupted`" + `. Not an attempt.
- 0, and 50140 (keep-me-signed-in, after authentication): ` + "`satisfied`" + ` when an MFA step is present, a step
  detail or additionalDetails names a satisfied reason or mentions MFA, or the requirement was multi-factor;
  otherwise ` + "`not_required`" + `. A 50140 row after a prompt is satisfied by the method used; the 0 row after it is
  usually satisfied by claim in the token (result code ` + "`SUCCESS_USED_CACHE`" + `).
- 500121, 50158, 50088, 50086, 50087: ` + "`denied`" + `. Reason from the text, else from the code (50088, 50086,
  50087: ` + "`service_error`" + `; 50158: ` + "`invalid_authentication`" + `), else ` + "`other`" + `. 50158 without an MFA step has
  method ` + "`external`" + `.
- Any other code (wrong password, locked or disabled account, Conditional Access block, ...) and interrupts unrelated
  to MFA (50097, 50125, 50199): ` + "`not_attempted`" + `, unless a succeeded MFA step shows MFA passed before the sign-in
  failed (` + "`satisfied`" + `) or a failed MFA step carries a denied reason (` + "`denied`" + `).

An **MFA attempt** is a row whose outcome is ` + "`satisfied`" + ` or ` + "`denied`" + `. The **method** is the deciding MFA step's
(last succeeded for satisfied, last failed for denied), ` + "`none`" + ` when the row has only first-factor steps. The
**reason** is read from that step's result detail, then from additionalDetails, ignoring case, punctuation,
apostrophes, contractions, the "MFA denied;" / "MFA requirement" prefixes and Azure AD vs Microsoft Entra ID; the
longest matching fragment wins. Unmatched strings become ` + "`other`" + ` and are reported as unknown.`

// MarkdownTables renders the catalogue and the rules as Markdown sections for
// the README.
func MarkdownTables() string {
	var b strings.Builder
	b.WriteString("### Outcome rules\n\n")
	b.WriteString(outcomeRules)
	b.WriteString("\n\n")

	entryTable(&b, "Requirements (`requirement`)", requirements)
	entryTable(&b, "Results (`result`)", results)
	entryTable(&b, "Outcomes (`outcome`)", outcomes)
	entryTable(&b, "Components (`component`)", components)
	entryTable(&b, "Methods (`method`)", methods)
	entryTable(&b, "Client apps (`client_app`, on `entra_signins_by_client_app_total`)", clientApps)
	entryTable(&b, "Satisfied reasons (`reason`)", satisfiedReasons)
	entryTable(&b, "Denied reasons (`reason`)", deniedReasons)
	entryTable(&b, "Reason fallbacks (`reason`)", reasonFallbacks)

	b.WriteString("### Result codes (`result_code`)\n\n")
	b.WriteString("`none` for rows that are not MFA attempts, and for 50158 denials by an external provider (see the mapping). The codes come from the MFA Server activity report, as listed on Microsoft's page on reviewing MFA events in the sign-ins report; ")
	b.WriteString("`SUCCESS_` there means the call or message went through, not that MFA succeeded.\n\n")
	b.WriteString("| code | meaning | produced |\n| --- | --- | --- |\n")
	for _, e := range resultCodes {
		produced := "yes"
		if !resultCodeProduced[e.Label] {
			produced = "no (MFA Server only)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", e.Label, cell(e.Description), produced)
	}
	fmt.Fprintf(&b, "| `%s` | %s | yes |\n", resultCodeNone.Label, cell(resultCodeNone.Description))
	b.WriteString("\n")

	b.WriteString("### Result-code mapping\n\n")
	b.WriteString("Rules are tried in order; the first that matches gives the code. An empty cell matches anything.\n\n")
	b.WriteString("| # | outcome | method | reason | error code | code | rationale |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	for i, r := range resultCodeRules {
		method := codeList(r.Methods)
		if r.AfterFailedStep {
			method += " (after a failed MFA step)"
		}
		fmt.Fprintf(&b, "| %d | `%s` | %s | %s | %s | `%s` | %s |\n",
			i+1, r.Outcome, method, codeList(r.Reasons), codeList(nonEmpty(r.ErrorCode)), r.Code, cell(r.Rationale))
	}
	b.WriteString("\n")

	b.WriteString("### Error codes (`error_code`)\n\n")
	b.WriteString("Codes outside this table are labelled `other` (and reported as unknown).\n\n")
	b.WriteString("| code | result | outcome handling | meaning |\n| --- | --- | --- | --- |\n")
	for _, e := range errorCodes {
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", e.Label, e.Result, handlingText[e.Handling], cell(e.Description))
	}
	fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", errorCodeOther.Label, errorCodeOther.Result, handlingText[errorCodeOther.Handling], cell(errorCodeOther.Description))
	b.WriteString("\n")

	coverageTables(&b)
	return b.String()
}

// coverageTables renders the catalogues that say why MFA was or was not
// required.
func coverageTables(b *strings.Builder) {
	b.WriteString("### Requirement sources (`requirement_source`)\n\n")
	b.WriteString("From `authenticationRequirementPolicies[].requirementProvider` (beta sign-ins). A row listing several providers ")
	b.WriteString("counts once under each (a provider listed twice counts once); a row listing none counts under `none`. ")
	b.WriteString("Matching ignores case and any character other than letters and digits.\n\n")
	entryRows(b, requirementSources)
	b.WriteString("### Conditional Access policy results (`policy_result`)\n\n")
	b.WriteString("From `appliedConditionalAccessPolicies[].result`, one evaluation per policy listed on the row. ")
	b.WriteString("The `report_only_*` values say what a report-only policy would have done had it been on. ")
	b.WriteString("Graph omits the list without `Policy.Read.All` (or `Policy.Read.ConditionalAccess`).\n\n")
	entryRows(b, policyResults)
	b.WriteString("### Conditional Access grant controls (`grant_control`)\n\n")
	b.WriteString("From `appliedConditionalAccessPolicies[].enforcedGrantControls`. Sign-in rows and the policy API spell the ")
	b.WriteString("controls differently; both spellings share a label. `RequireAuthenticationStrength:<name>` drops the ")
	b.WriteString("tenant-chosen name. Custom controls and terms of use carry tenant-chosen names and count as `other`.\n\n")
	entryRows(b, grantControls)
}

var handlingText = map[string]string{
	HandlingSuccess:           "satisfied or not_required",
	HandlingMFAInterrupt:      "interrupted",
	HandlingPostAuthInterrupt: "as for success",
	HandlingMFAFailure:        "denied",
	HandlingFailure:           "not_attempted unless steps show MFA",
}

func entryTable(b *strings.Builder, title string, es []Entry) {
	fmt.Fprintf(b, "### %s\n\n", title)
	entryRows(b, es)
}

func entryRows(b *strings.Builder, es []Entry) {
	b.WriteString("| label | wire strings | description |\n| --- | --- | --- |\n")
	for _, e := range es {
		wire := make([]string, len(e.Wire))
		for i, w := range e.Wire {
			wire[i] = "`" + cell(w) + "`"
		}
		fmt.Fprintf(b, "| `%s` | %s | %s |\n", e.Label, strings.Join(wire, ", "), cell(e.Description))
	}
	b.WriteString("\n")
}

func codeList(xs []string) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = "`" + x + "`"
	}
	return strings.Join(out, ", ")
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// cell keeps a value from breaking the table it sits in.
func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}
