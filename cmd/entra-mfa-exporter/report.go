package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graphclient"
)

// Report kinds: the three MSOnline PowerShell reports of Microsoft's MFA reporting page ("Use the
// sign-ins report to review Azure AD Multi-Factor Authentication events"), which stopped working
// with the MSOnline module's retirement.
const (
	reportRegistered    = "registered"
	reportNotRegistered = "not-registered"
	reportAll           = "all"
)

const reportHelp = `Print the MSOnline PowerShell reports of Microsoft's MFA reporting page ("Use the sign-ins report to review Azure AD Multi-Factor Authentication events"; the MSOnline module is retired), rebuilt from Microsoft Graph: --report=registered (users registered for MFA), --report=not-registered (users not registered), both without disabled accounts, or --report=all (every user with MFA status and methods, disabled accounts included).
Without --per-user-mfa-state, "MFA Status" is the registration state from the userRegistrationDetails report: Capable (registered and allowed by policy), Registered (a method registered but not usable for MFA under policy), Not registered, or Not in report (created since Microsoft last rebuilt the report, hours ago). With --per-user-mfa-state it is the legacy per-user MFA state the MSOnline report showed (Enforced, Enabled or Disabled), read with one Graph call per user.
Needs the application permissions User.Read.All and AuditLog.Read.All (plus Policy.Read.All for --per-user-mfa-state) and a Microsoft Entra ID P1/P2 tenant.`

// reportCommand is the `report users` subcommand. main.go registers it with addReportCommand and
// calls run when it is the parsed command.
type reportCommand struct {
	group    *kingpin.CmdClause // `report`, which `report mfa` joins
	cmd      *kingpin.CmdClause
	report   *string
	format   *string
	tenant   *string
	perUser  *bool
	demo     *bool
	bom      *bool
	progress *string

	// budgetPer replaces the budget window in tests; zero in production.
	budgetPer time.Duration
	// isTerminal tells whether a writer is a terminal; replaced in tests.
	isTerminal func(io.Writer) bool
}

// addReportCommand adds `report users` to app.
func addReportCommand(app *kingpin.Application) *reportCommand {
	rc := &reportCommand{isTerminal: isTerminal}
	report := app.Command("report", "Reports read from Microsoft Graph: per-user MFA registration (users) and the six MFA answers for a period (mfa).")
	rc.group = report
	rc.cmd = report.Command("users", reportHelp)
	rc.report = rc.cmd.Flag("report", "Which report: registered, not-registered or all.").Default(reportAll).Enum(reportRegistered, reportNotRegistered, reportAll)
	rc.format = rc.cmd.Flag("format", "Output format: csv (RFC 4180, UTF-8), json or table.").Default("csv").Enum("csv", "json", "table")
	rc.tenant = rc.cmd.Flag("tenant", "Name of the tenant to report on; required when the configuration has several.").String()
	rc.perUser = rc.cmd.Flag("per-user-mfa-state", "Fill \"MFA Status\" with the legacy per-user MFA state (Enforced/Enabled/Disabled): one beta Graph call per user, paced at 5 requests per 10 s, so about 2 s per user; needs Policy.Read.All.").Bool()
	rc.demo = rc.cmd.Flag("demo", "Report on an embedded simulated tenant instead of Microsoft Graph. The data is simulated.").Bool()
	rc.bom = rc.cmd.Flag("csv.bom", "Start CSV output with a UTF-8 byte order mark, which older Excel versions need to read non-ASCII names correctly.").Bool()
	rc.progress = rc.cmd.Flag("progress", "Progress bar on stderr for --per-user-mfa-state: auto (only when stderr is a terminal), always or never.").Default("auto").Enum("auto", "always", "never")
	return rc
}

// FullCommand is the name kingpin's Parse returns for this command.
func (rc *reportCommand) FullCommand() string { return rc.cmd.FullCommand() }

// run executes the parsed command and returns the process exit code.
func (rc *reportCommand) run(ctx context.Context, configFile string, stdout, stderr io.Writer, logger *slog.Logger) int {
	if err := rc.execute(ctx, configFile, stdout, stderr, logger); err != nil {
		fmt.Fprintf(stderr, "entra-mfa-exporter report users: %v\n", err)
		return 1
	}
	return 0
}

func (rc *reportCommand) execute(ctx context.Context, configFile string, stdout, stderr io.Writer, logger *slog.Logger) error {
	var cfg *config.Config
	if *rc.demo {
		// The demo tenant generates sign-ins too; they cost little and are not read here.
		demoCfg, _, stop, err := startDemo(ctx, logger, 1)
		if err != nil {
			return fmt.Errorf("starting the simulated tenant: %w", err)
		}
		defer stop()
		cfg = demoCfg
	} else {
		loaded, err := config.Load(configFile)
		if err != nil {
			// The messages quote values from the file: a secret pasted in the wrong place must not
			// reach the terminal.
			return config.RedactFileError(configFile, err)
		}
		cfg = loaded
	}
	tenant, err := pickTenant(cfg, *rc.tenant)
	if err != nil {
		return err
	}
	per := graphclient.PacerWindow
	if rc.budgetPer > 0 {
		per = rc.budgetPer
	}
	// The report is a separate process: it cannot share a running exporter's budget, so it
	// paces itself with a budget of its own.
	client, err := graphclient.New(tenant, graphclient.Options{Pacer: graph.NewPacer(graphclient.TenantRequests, per), Logger: logger})
	if err != nil {
		return fmt.Errorf("tenant %s: %w", tenant.Name, err)
	}
	rows, err := readUserReport(ctx, client)
	if err != nil {
		return fmt.Errorf("tenant %s: %w", tenant.Name, err)
	}
	rows = selectReport(rows, *rc.report)
	if *rc.perUser {
		if err := rc.fillPerUserState(ctx, client, rows, per, stderr); err != nil {
			return fmt.Errorf("tenant %s: %w", tenant.Name, err)
		}
	}
	switch *rc.format {
	case "json":
		return writeReportJSON(stdout, rows)
	case "table":
		return writeReportTable(stdout, rows)
	}
	return writeReportCSV(stdout, rows, *rc.bom)
}

func pickTenant(cfg *config.Config, name string) (config.Tenant, error) {
	var names []string
	for _, t := range cfg.Tenants {
		if t.Name == name || (name == "" && len(cfg.Tenants) == 1) {
			return t, nil
		}
		names = append(names, t.Name)
	}
	if name == "" {
		return config.Tenant{}, fmt.Errorf("the configuration has %d tenants: choose one with --tenant (%s)", len(names), strings.Join(names, ", "))
	}
	return config.Tenant{}, fmt.Errorf("no tenant named %q in the configuration (tenants: %s)", name, strings.Join(names, ", "))
}

// userRow is one line of a report.
type userRow struct {
	id                      string
	UserPrincipalName       string   `json:"userPrincipalName"`
	DisplayName             string   `json:"displayName"`
	MFAStatus               string   `json:"mfaStatus"`
	MFAMethods              []string `json:"mfaMethods"`
	DefaultMethod           string   `json:"defaultMethod"`
	SystemPreferredMethods  []string `json:"systemPreferredMethods"`
	UserType                string   `json:"userType"`
	IsAdmin                 bool     `json:"isAdmin"`
	AccountEnabled          bool     `json:"accountEnabled"`
	InRegistrationReport    bool     `json:"inRegistrationReport"`
	IsMfaRegistered         bool     `json:"isMfaRegistered"`
	IsMfaCapable            bool     `json:"isMfaCapable"`
	IsPasswordlessCapable   bool     `json:"isPasswordlessCapable"`
	IsSsprRegistered        bool     `json:"isSsprRegistered"`
	IsSsprCapable           bool     `json:"isSsprCapable"`
	RegistrationLastUpdated string   `json:"registrationLastUpdated"`
}

// Values of "MFA Status" without --per-user-mfa-state.
const (
	statusCapable       = "Capable"
	statusRegistered    = "Registered"
	statusNotRegistered = "Not registered"
	statusNotInReport   = "Not in report"
)

// readUserReport reads the user list (every account, as Get-MsolUser -All did) and joins the
// registration report onto it. Report rows of users no longer in the directory are dropped: the
// report is hours old and still lists deleted users.
func readUserReport(ctx context.Context, client *graph.Client) ([]*userRow, error) {
	var rows []*userRow
	byID := map[string]*userRow{}
	err := client.Users(ctx, func(page []graph.User) error {
		for _, u := range page {
			r := &userRow{
				id: u.ID, UserPrincipalName: u.UserPrincipalName, UserType: u.UserType, AccountEnabled: u.Enabled(),
				MFAStatus: statusNotInReport, MFAMethods: []string{}, SystemPreferredMethods: []string{},
			}
			rows = append(rows, r)
			byID[u.ID] = r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the user list: %w", err)
	}
	err = client.RegistrationDetails(ctx, func(page []graph.RegistrationDetail) error {
		for _, d := range page {
			r, ok := byID[d.ID]
			if !ok {
				continue
			}
			r.InRegistrationReport = true
			r.DisplayName = d.UserDisplayName
			if d.UserType != "" {
				r.UserType = d.UserType
			}
			if d.UserPrincipalName != "" {
				r.UserPrincipalName = d.UserPrincipalName
			}
			r.IsAdmin, r.IsMfaRegistered, r.IsMfaCapable = d.IsAdmin, d.IsMfaRegistered, d.IsMfaCapable
			r.IsPasswordlessCapable, r.IsSsprRegistered, r.IsSsprCapable = d.IsPasswordlessCapable, d.IsSsprRegistered, d.IsSsprCapable
			r.MFAMethods = append([]string{}, d.MethodsRegistered...)
			r.SystemPreferredMethods = append([]string{}, d.SystemPreferredAuthenticationMethods...)
			r.DefaultMethod = d.UserPreferredMethodForSecondaryAuthentication
			if !d.LastUpdatedDateTime.IsZero() {
				r.RegistrationLastUpdated = d.LastUpdatedDateTime.UTC().Format(time.RFC3339)
			}
			switch {
			case d.IsMfaCapable:
				r.MFAStatus = statusCapable
			case d.IsMfaRegistered:
				r.MFAStatus = statusRegistered
			default:
				r.MFAStatus = statusNotRegistered
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the registration report: %w", err)
	}
	// Lower-case UserType as the report writes it, so one column does not mix Member and member.
	for _, r := range rows {
		r.UserType = strings.ToLower(r.UserType)
	}
	slices.SortStableFunc(rows, func(a, b *userRow) int {
		return strings.Compare(strings.ToLower(a.UserPrincipalName), strings.ToLower(b.UserPrincipalName))
	})
	return rows, nil
}

// selectReport keeps the rows of one of the MSOnline reports. Users not yet in the registration
// report count as not registered: MSOnline showed a new user with no strong authentication
// methods, and an admin chasing registrations wants to see them.
func selectReport(rows []*userRow, kind string) []*userRow {
	if kind == reportAll {
		return rows
	}
	out := make([]*userRow, 0, len(rows))
	for _, r := range rows {
		if !r.AccountEnabled {
			continue
		}
		if r.IsMfaRegistered == (kind == reportRegistered) {
			out = append(out, r)
		}
	}
	return out
}

// estimateDuration is how long n paced requests take when the budget is whole at the start:
// the first window's worth go at once, then one window per further batch.
func estimateDuration(n int, per time.Duration) time.Duration {
	if n <= graphclient.TenantRequests {
		return 0
	}
	batches := (n - 1) / graphclient.TenantRequests
	return time.Duration(batches) * per
}

// roundEstimate shows whole seconds for the real budget; only tests use windows under a second.
func roundEstimate(d time.Duration) time.Duration {
	if d < time.Second {
		return d
	}
	return d.Round(time.Second)
}

// fillPerUserState replaces "MFA Status" with the legacy per-user state, one call per user. A
// missing permission or licence stops at the first call: every other call would fail the same
// way. A user deleted since the user list was read gets "Unknown".
func (rc *reportCommand) fillPerUserState(ctx context.Context, client *graph.Client, rows []*userRow, per time.Duration, stderr io.Writer) error {
	n := len(rows)
	fmt.Fprintf(stderr, "reading the per-user MFA state of %d users: one Graph request each, at most %d per %s; this takes about %s\n",
		n, graphclient.TenantRequests, per, roundEstimate(estimateDuration(n, per)))
	showBar := *rc.progress == "always" || (*rc.progress == "auto" && rc.isTerminal(stderr))
	for i, r := range rows {
		state, err := client.PerUserMFAState(ctx, r.id)
		var api *graph.APIError
		switch {
		case errors.As(err, &api) && api.StatusCode == http.StatusNotFound:
			r.MFAStatus = "Unknown"
		case err != nil:
			if showBar {
				fmt.Fprintln(stderr)
			}
			return fmt.Errorf("reading the per-user MFA state: %w", err)
		default:
			r.MFAStatus = titleState(state)
		}
		if showBar {
			drawProgress(stderr, i+1, n)
		}
	}
	if showBar {
		fmt.Fprintln(stderr)
	}
	return nil
}

// titleState writes perUserMfaState as MSOnline's StrongAuthenticationRequirements.State did.
func titleState(s string) string {
	if s == "" {
		return "Disabled"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func drawProgress(w io.Writer, done, total int) {
	const width = 30
	filled := width
	if total > 0 {
		filled = done * width / total
	}
	fmt.Fprintf(w, "\r[%s%s] %d/%d", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), done, total)
}

// isTerminal reports whether w is a character device, the usual test for an interactive terminal;
// redirected output gets no progress bar, so logs and files stay clean.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

var csvHeader = []string{
	"UserPrincipalName", "DisplayName", "MFA Status", "MFA Methods", "Default Method", "System Preferred Methods",
	"User Type", "Is Admin", "Account Enabled", "MFA Registered", "MFA Capable", "Passwordless Capable",
	"SSPR Registered", "SSPR Capable", "Registration Last Updated",
}

// psBool writes booleans as PowerShell's Export-Csv did, so spreadsheets built on the old report
// keep working.
func psBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func (r *userRow) record() []string {
	return []string{
		r.UserPrincipalName, r.DisplayName, r.MFAStatus, strings.Join(r.MFAMethods, ", "), r.DefaultMethod,
		strings.Join(r.SystemPreferredMethods, ", "), r.UserType, psBool(r.IsAdmin), psBool(r.AccountEnabled),
		psBool(r.IsMfaRegistered), psBool(r.IsMfaCapable), psBool(r.IsPasswordlessCapable), psBool(r.IsSsprRegistered),
		psBool(r.IsSsprCapable), r.RegistrationLastUpdated,
	}
}

// writeReportCSV writes RFC 4180 CSV: CRLF line ends, fields quoted when they hold a comma, quote
// or line break, UTF-8 text.
func writeReportCSV(w io.Writer, rows []*userRow, bom bool) error {
	if bom {
		if _, err := io.WriteString(w, "\uFEFF"); err != nil {
			return fmt.Errorf("writing CSV: %w", err)
		}
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	for _, r := range rows {
		if err := cw.Write(r.record()); err != nil {
			return fmt.Errorf("writing CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}

func writeReportJSON(w io.Writer, rows []*userRow) error {
	if rows == nil {
		rows = []*userRow{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rows); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

func writeReportTable(w io.Writer, rows []*userRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USER PRINCIPAL NAME\tMFA STATUS\tMFA METHODS\tTYPE\tADMIN\tENABLED\tCAPABLE\tPASSWORDLESS")
	for _, r := range rows {
		methods := strings.Join(r.MFAMethods, ", ")
		if methods == "" {
			methods = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.UserPrincipalName, r.MFAStatus, methods, r.UserType,
			yesNo(r.IsAdmin), yesNo(r.AccountEnabled), yesNo(r.IsMfaCapable), yesNo(r.IsPasswordlessCapable))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing table: %w", err)
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
