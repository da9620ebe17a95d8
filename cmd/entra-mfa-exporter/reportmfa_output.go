package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/collector"
)

// The six questions, as Microsoft's "review MFA events in the sign-ins report" page asks them.
var mfaQuestions = [6]string{
	"Was the sign-in protected by MFA?",
	"How did users complete MFA?",
	"Why were users unable to complete MFA?",
	"How many users were challenged for MFA?",
	"How many users were unable to complete the MFA challenge?",
	"What are the common MFA problems?",
}

// topRows is how many lines of the problem rankings the readable formats show; csv and json
// carry every line.
const topRows = 10

func writeMFAReport(w io.Writer, format string, rep *mfaReport) error {
	var err error
	switch format {
	case "json":
		err = writeMFAJSON(w, rep)
	case "csv":
		err = writeMFACSV(w, rep)
	case "markdown":
		err = writeMFAMarkdown(w, rep)
	default:
		err = writeMFATable(w, rep)
	}
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

func utc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func percent(n, of int64) string {
	if of == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(n)/float64(of), 'f', 1, 64) + "%"
}

func shareText(a *collector.Answers) string {
	return percent(a.Satisfied, a.Satisfied+a.NotRequired)
}

// partialNote says what a partial report covers.
func partialNote(rep *mfaReport) string {
	s := fmt.Sprintf("PARTIAL: interrupted after %d pages (%d rows read)", rep.Pages, rep.Rows.Read)
	if !rep.ReadBackTo.IsZero() {
		s += "; with Graph's newest-first order the figures cover about " + utc(rep.ReadBackTo) + " to " + utc(rep.Answers.To)
	}
	return s
}

// --- JSON ---

type jsonMFAReport struct {
	Tenant      string           `json:"tenant"`
	From        string           `json:"from"`
	To          string           `json:"to"`
	Partial     bool             `json:"partial"`
	ReadBackTo  *string          `json:"readBackTo"`
	EventTypes  []string         `json:"eventTypes"`
	Rows        jsonRows         `json:"rows"`
	Protected   jsonProtected    `json:"protected"`
	Completions []jsonMethod     `json:"completions"`
	Denials     []jsonReason     `json:"denials"`
	Users       jsonUsers        `json:"users"`
	Problems    []jsonProblem    `json:"problems"`
	ErrorCodes  []jsonErrorCount `json:"errorCodes"`
}

type jsonRows struct {
	Pages         int   `json:"pages"`
	Read          int64 `json:"read"`
	Counted       int64 `json:"counted"`
	Duplicates    int64 `json:"duplicates"`
	OutsidePeriod int64 `json:"outsidePeriod"`
	WithoutID     int64 `json:"withoutId"`
}

type jsonProtected struct {
	SignIns     int64    `json:"signIns"`
	Satisfied   int64    `json:"satisfied"`
	NotRequired int64    `json:"notRequired"`
	Share       *float64 `json:"share"` // null when no sign-in got through
}

type jsonMethod struct {
	Method string `json:"method"`
	Count  int64  `json:"count"`
}

type jsonReason struct {
	Reason  string `json:"reason"`
	Count   int64  `json:"count"`
	Meaning string `json:"meaning"`
}

type jsonUsers struct {
	Challenged int64 `json:"challenged"`
	Failed     int64 `json:"failed"`
}

type jsonProblem struct {
	Reason string `json:"reason"`
	Method string `json:"method"`
	Count  int64  `json:"count"`
}

type jsonErrorCount struct {
	ErrorCode string `json:"errorCode"`
	Count     int64  `json:"count"`
	Meaning   string `json:"meaning"`
}

func toJSON(rep *mfaReport) jsonMFAReport {
	a := &rep.Answers
	out := jsonMFAReport{
		Tenant: rep.Tenant, From: utc(a.From), To: utc(a.To), Partial: rep.Partial, EventTypes: rep.EventTypes,
		Rows: jsonRows{Pages: rep.Pages, Read: rep.Rows.Read, Counted: rep.Rows.Counted, Duplicates: rep.Rows.Duplicates,
			OutsidePeriod: rep.Rows.Outside, WithoutID: rep.Rows.WithoutID},
		Protected:   jsonProtected{SignIns: a.SignIns, Satisfied: a.Satisfied, NotRequired: a.NotRequired},
		Completions: []jsonMethod{}, Denials: []jsonReason{}, Problems: []jsonProblem{}, ErrorCodes: []jsonErrorCount{},
		Users: jsonUsers{Challenged: a.UsersChallenged, Failed: a.UsersFailed},
	}
	if out.EventTypes == nil {
		out.EventTypes = []string{}
	}
	if !rep.ReadBackTo.IsZero() {
		s := utc(rep.ReadBackTo)
		out.ReadBackTo = &s
	}
	if share, ok := a.ProtectedShare(); ok {
		out.Protected.Share = &share
	}
	for _, c := range a.Completions {
		out.Completions = append(out.Completions, jsonMethod{c.Label, c.N})
	}
	for _, c := range a.Denials {
		out.Denials = append(out.Denials, jsonReason{c.Label, c.N, describe("reason", c.Label)})
	}
	for _, p := range a.Problems {
		out.Problems = append(out.Problems, jsonProblem{p.Reason, p.Method, p.N})
	}
	for _, c := range a.ErrorCodes {
		out.ErrorCodes = append(out.ErrorCodes, jsonErrorCount{c.Label, c.N, describe("error_code", c.Label)})
	}
	return out
}

func writeMFAJSON(w io.Writer, rep *mfaReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(toJSON(rep))
}

// --- CSV ---

// mfaCSVHeader: one record per figure, so that one file holds every table (a spreadsheet pivots
// it by section).
var mfaCSVHeader = []string{"section", "key", "detail", "value", "meaning"}

func writeMFACSV(w io.Writer, rep *mfaReport) error {
	a := &rep.Answers
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	recs := [][]string{mfaCSVHeader,
		{"report", "tenant", "", rep.Tenant, ""},
		{"report", "from", "", utc(a.From), ""},
		{"report", "to", "", utc(a.To), ""},
		{"report", "partial", "", strconv.FormatBool(rep.Partial), ""},
		{"report", "rows_read", "", n(rep.Rows.Read), ""},
		{"report", "rows_duplicate", "", n(rep.Rows.Duplicates), ""},
		{"report", "rows_outside_period", "", n(rep.Rows.Outside), ""},
		{"report", "rows_without_id", "", n(rep.Rows.WithoutID), ""},
		{"protected", "sign_ins", "", n(a.SignIns), ""},
		{"protected", "satisfied", "", n(a.Satisfied), ""},
		{"protected", "not_required", "", n(a.NotRequired), ""},
	}
	if share, ok := a.ProtectedShare(); ok {
		recs = append(recs, []string{"protected", "share", "", strconv.FormatFloat(share, 'f', 4, 64), ""})
	}
	for _, c := range a.Completions {
		recs = append(recs, []string{"completions", c.Label, "", n(c.N), ""})
	}
	for _, c := range a.Denials {
		recs = append(recs, []string{"denials", c.Label, "", n(c.N), describe("reason", c.Label)})
	}
	recs = append(recs, []string{"users", "challenged", "", n(a.UsersChallenged), ""}, []string{"users", "failed", "", n(a.UsersFailed), ""})
	for _, p := range a.Problems {
		recs = append(recs, []string{"problems", p.Reason, p.Method, n(p.N), ""})
	}
	for _, c := range a.ErrorCodes {
		recs = append(recs, []string{"error_codes", c.Label, "", n(c.N), describe("error_code", c.Label)})
	}
	if err := cw.WriteAll(recs); err != nil {
		return err
	}
	return cw.Error()
}

// --- table ---

func writeMFATable(w io.Writer, rep *mfaReport) error {
	a := &rep.Answers
	var b strings.Builder
	fmt.Fprintf(&b, "MFA sign-in report for tenant %s, %s to %s\n", rep.Tenant, utc(a.From), utc(a.To))
	fmt.Fprintf(&b, "%d sign-in rows counted (event types: %s); %d rows read, %d repeated, %d outside the period, %d without id.\n",
		a.SignIns, strings.Join(rep.EventTypes, ", "), rep.Rows.Read, rep.Rows.Duplicates, rep.Rows.Outside, rep.Rows.WithoutID)
	if rep.Partial {
		fmt.Fprintf(&b, "%s.\n", partialNote(rep))
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(cells ...string) { fmt.Fprintln(tw, "   "+strings.Join(cells, "\t")) }
	flush := func() { _ = tw.Flush() } // writes to a strings.Builder cannot fail

	fmt.Fprintf(&b, "\n1. %s\n", mfaQuestions[0])
	fmt.Fprintf(&b, "   %s of the %d sign-ins that got through were protected by MFA (%d satisfied MFA, %d did not require it).\n",
		shareText(a), a.Satisfied+a.NotRequired, a.Satisfied, a.NotRequired)

	fmt.Fprintf(&b, "\n2. %s\n", mfaQuestions[1])
	if len(a.Completions) == 0 {
		b.WriteString("   No MFA completed.\n")
	} else {
		row("METHOD", "COMPLETIONS", "SHARE")
		for _, c := range a.Completions {
			row(c.Label, strconv.FormatInt(c.N, 10), percent(c.N, a.Completed()))
		}
		flush()
	}

	fmt.Fprintf(&b, "\n3. %s\n", mfaQuestions[2])
	if len(a.Denials) == 0 {
		b.WriteString("   No MFA denied.\n")
	} else {
		fmt.Fprintf(&b, "   %d MFA attempts denied (%s of attempts).\n", a.Denied(), percent(a.Denied(), a.Denied()+a.Completed()))
		row("REASON", "DENIALS", "MEANING")
		for _, c := range a.Denials {
			row(c.Label, strconv.FormatInt(c.N, 10), describe("reason", c.Label))
		}
		flush()
	}

	fmt.Fprintf(&b, "\n4. %s\n   %d distinct users.\n", mfaQuestions[3], a.UsersChallenged)
	fmt.Fprintf(&b, "\n5. %s\n   %d distinct users (%s of those challenged).\n", mfaQuestions[4], a.UsersFailed, percent(a.UsersFailed, a.UsersChallenged))

	fmt.Fprintf(&b, "\n6. %s\n", mfaQuestions[5])
	if len(a.Problems) == 0 {
		b.WriteString("   Denials by reason and method: none.\n")
	} else {
		b.WriteString("   Denials by reason and method:\n")
		row("REASON", "METHOD", "DENIALS")
		for _, p := range a.Problems[:min(topRows, len(a.Problems))] {
			row(p.Reason, p.Method, strconv.FormatInt(p.N, 10))
		}
		flush()
		more(&b, len(a.Problems))
	}
	if len(a.ErrorCodes) == 0 {
		b.WriteString("   Failed sign-ins by error code: none.\n")
	} else {
		b.WriteString("   Failed sign-ins by error code:\n")
		row("CODE", "SIGN-INS", "MEANING")
		for _, c := range a.ErrorCodes[:min(topRows, len(a.ErrorCodes))] {
			row(c.Label, strconv.FormatInt(c.N, 10), describe("error_code", c.Label))
		}
		flush()
		more(&b, len(a.ErrorCodes))
	}
	b.WriteString("\n`entra-mfa-exporter explain TERM` explains any reason, method, result code or error code.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func more(b *strings.Builder, n int) {
	if n > topRows {
		fmt.Fprintf(b, "   ... and %d more (--format=csv or json lists all).\n", n-topRows)
	}
}

// --- Markdown ---

// mdCell makes text safe inside a GitHub-flavoured Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Join(strings.Fields(s), " ")
}

func mdTable(b *strings.Builder, header []string, align []string, rows [][]string) {
	b.WriteString("| " + strings.Join(header, " | ") + " |\n")
	b.WriteString("| " + strings.Join(align, " | ") + " |\n")
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = mdCell(c)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	b.WriteString("\n")
}

func mdMore(b *strings.Builder, n int) {
	if n > topRows {
		fmt.Fprintf(b, "And %d more (`--format=csv` or `json` lists all).\n\n", n-topRows)
	}
}

func writeMFAMarkdown(w io.Writer, rep *mfaReport) error {
	a := &rep.Answers
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	var b strings.Builder
	fmt.Fprintf(&b, "# MFA sign-in report: %s\n\n", mdCell(rep.Tenant))
	fmt.Fprintf(&b, "Period %s to %s; %d sign-in rows counted (event types: %s).\n\n", utc(a.From), utc(a.To), a.SignIns, strings.Join(rep.EventTypes, ", "))
	if rep.Partial {
		fmt.Fprintf(&b, "**%s.**\n\n", partialNote(rep))
	}
	fmt.Fprintf(&b, "## 1. %s\n\n", mfaQuestions[0])
	mdTable(&b, []string{"Sign-ins", "Satisfied MFA", "MFA not required", "Protected share"}, []string{"---:", "---:", "---:", "---:"},
		[][]string{{n(a.SignIns), n(a.Satisfied), n(a.NotRequired), shareText(a)}})

	fmt.Fprintf(&b, "## 2. %s\n\n", mfaQuestions[1])
	var rows [][]string
	for _, c := range a.Completions {
		rows = append(rows, []string{c.Label, n(c.N), percent(c.N, a.Completed())})
	}
	mdTable(&b, []string{"Method", "Completions", "Share"}, []string{"---", "---:", "---:"}, rows)

	fmt.Fprintf(&b, "## 3. %s\n\n", mfaQuestions[2])
	rows = nil
	for _, c := range a.Denials {
		rows = append(rows, []string{c.Label, n(c.N), describe("reason", c.Label)})
	}
	mdTable(&b, []string{"Reason", "Denials", "Meaning"}, []string{"---", "---:", "---"}, rows)

	fmt.Fprintf(&b, "## 4. %s\n\n%d distinct users.\n\n", mfaQuestions[3], a.UsersChallenged)
	fmt.Fprintf(&b, "## 5. %s\n\n%d distinct users (%s of those challenged).\n\n", mfaQuestions[4], a.UsersFailed, percent(a.UsersFailed, a.UsersChallenged))

	fmt.Fprintf(&b, "## 6. %s\n\n### Denials by reason and method\n\n", mfaQuestions[5])
	rows = nil
	for _, p := range a.Problems[:min(topRows, len(a.Problems))] {
		rows = append(rows, []string{p.Reason, p.Method, n(p.N)})
	}
	mdTable(&b, []string{"Reason", "Method", "Denials"}, []string{"---", "---", "---:"}, rows)
	mdMore(&b, len(a.Problems))
	b.WriteString("### Failed sign-ins by error code\n\n")
	rows = nil
	for _, c := range a.ErrorCodes[:min(topRows, len(a.ErrorCodes))] {
		rows = append(rows, []string{c.Label, n(c.N), describe("error_code", c.Label)})
	}
	mdTable(&b, []string{"Error code", "Sign-ins", "Meaning"}, []string{"---", "---:", "---"}, rows)
	mdMore(&b, len(a.ErrorCodes))
	_, err := io.WriteString(w, b.String())
	return err
}
