package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/collector"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graph"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/graphclient"
	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
)

const reportMFAHelp = `Print the six answers of Microsoft's "review MFA events in the sign-ins report" page for a period of the sign-in log, read from Microsoft Graph: the share of sign-ins protected by MFA, MFA completions by method, denials by reason, distinct users challenged, distinct users who failed, and the common problems (denials by reason and method, failed sign-ins by error code).
The period is read through the same client, request budget (5 requests per 10 s) and classifier as the exporter, and counted exactly as the exporter counts: each row once by id, rows outside the period ignored, the tenant's sign_ins.event_types. Graph keeps sign-ins for 30 days, and rows can appear minutes after their time: the last minutes of a period ending now may still grow.
Ctrl-C prints what was read so far, marked partial. Needs the application permissions AuditLog.Read.All and Directory.Read.All and a Microsoft Entra ID P1/P2 tenant.`

// exitInterrupted is the exit code after Ctrl-C, as shells report a process ended by SIGINT.
const exitInterrupted = 130

// reportMFACommand is the `report mfa` subcommand.
type reportMFACommand struct {
	cmd      *kingpin.CmdClause
	since    *time.Duration
	from, to *string
	tenant   *string
	format   *string
	demo     *bool
	progress *string

	// Test hooks, zero in production: budgetPer replaces the budget window, now the clock,
	// onPage runs after each page is counted (a test cancels the read there).
	budgetPer  time.Duration
	now        func() time.Time
	onPage     func(pages int)
	isTerminal func(io.Writer) bool
}

// addReportMFACommand adds `report mfa` under the report command.
func addReportMFACommand(report *kingpin.CmdClause) *reportMFACommand {
	rc := &reportMFACommand{isTerminal: isTerminal, now: time.Now}
	rc.cmd = report.Command("mfa", reportMFAHelp)
	rc.since = rc.cmd.Flag("since", "Report on the period that ends now (or at --to) and lasts this long, e.g. 1h, 24h, 168h.").Default("24h").Duration()
	rc.from = rc.cmd.Flag("from", "Start of the period (RFC 3339, e.g. 2026-01-31T08:00:00Z, or a UTC date 2026-01-31); replaces --since.").String()
	rc.to = rc.cmd.Flag("to", "End of the period, inclusive (RFC 3339 or a UTC date); default now.").String()
	rc.tenant = rc.cmd.Flag("tenant", "Name of the tenant to report on; required when the configuration has several.").String()
	rc.format = rc.cmd.Flag("format", "Output format: table (readable), csv (RFC 4180), json or markdown.").Default("table").Enum("table", "csv", "json", "markdown")
	rc.demo = rc.cmd.Flag("demo", "Report on an embedded simulated tenant (15 minutes of simulated sign-ins) instead of Microsoft Graph. The data is simulated.").Bool()
	rc.progress = rc.cmd.Flag("progress", "Progress on stderr (pages, rows, time the request budget implies for the rest): auto (only when stderr is a terminal), always or never.").Default("auto").Enum("auto", "always", "never")
	return rc
}

// FullCommand is the name kingpin's Parse returns for this command.
func (rc *reportMFACommand) FullCommand() string { return rc.cmd.FullCommand() }

// run executes the parsed command and returns the process exit code: 0, 1 on error, 130 when
// interrupted (the partial report is printed).
func (rc *reportMFACommand) run(ctx context.Context, configFile string, stdout, stderr io.Writer, logger *slog.Logger) int {
	rep, err := rc.execute(ctx, configFile, stderr, logger)
	if err != nil {
		fmt.Fprintf(stderr, "entra-mfa-exporter report mfa: %v\n", err)
		return 1
	}
	if err := writeMFAReport(stdout, *rc.format, rep); err != nil {
		fmt.Fprintf(stderr, "entra-mfa-exporter report mfa: %v\n", err)
		return 1
	}
	if rep.Partial {
		fmt.Fprintf(stderr, "entra-mfa-exporter report mfa: interrupted; the report above is PARTIAL (%d pages, %d rows read)\n", rep.Pages, rep.Rows.Read)
		return exitInterrupted
	}
	return 0
}

// mfaReport is what `report mfa` prints.
type mfaReport struct {
	Tenant     string
	EventTypes []string
	Answers    collector.Answers
	Partial    bool
	// ReadBackTo is the oldest sign-in time counted: with Graph's documented newest-first order,
	// a partial report covers about [ReadBackTo, To].
	ReadBackTo time.Time
	Pages      int
	Rows       rowStats
}

type rowStats struct {
	Read, Counted, Duplicates, Outside, WithoutID int64
}

// period resolves --since, --from and --to against now.
func (rc *reportMFACommand) period(now time.Time) (from, to time.Time, err error) {
	to = now
	if *rc.to != "" {
		if to, err = parseReportTime(*rc.to); err != nil {
			return from, to, fmt.Errorf("--to: %w", err)
		}
		if to.After(now) {
			to = now
		}
	}
	if *rc.from != "" {
		if from, err = parseReportTime(*rc.from); err != nil {
			return from, to, fmt.Errorf("--from: %w", err)
		}
	} else {
		if *rc.since <= 0 {
			return from, to, fmt.Errorf("--since must be positive (got %s)", *rc.since)
		}
		from = to.Add(-*rc.since)
	}
	if !from.Before(to) {
		return from, to, fmt.Errorf("the period starts (%s) at or after it ends (%s)", from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	return from, to, nil
}

// parseReportTime reads RFC 3339 or a date (midnight UTC).
func parseReportTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-01-31T08:00:00Z) nor a date (2026-01-31)", s)
}

func (rc *reportMFACommand) execute(ctx context.Context, configFile string, stderr io.Writer, logger *slog.Logger) (*mfaReport, error) {
	var cfg *config.Config
	if *rc.demo {
		demoCfg, _, stop, err := startDemo(ctx, logger, 2)
		if err != nil {
			return nil, fmt.Errorf("starting the simulated tenant: %w", err)
		}
		defer stop()
		cfg = demoCfg
	} else {
		loaded, err := config.Load(configFile)
		if err != nil {
			// The messages quote values from the file: a secret pasted in the wrong place must not
			// reach the terminal.
			return nil, config.RedactFileError(configFile, err)
		}
		cfg = loaded
	}
	tenant, err := pickTenant(cfg, *rc.tenant)
	if err != nil {
		return nil, err
	}
	from, to, err := rc.period(rc.now())
	if err != nil {
		return nil, err
	}
	p, err := collector.NewPeriod(from, to)
	if err != nil {
		return nil, err
	}
	per := graphclient.PacerWindow
	if rc.budgetPer > 0 {
		per = rc.budgetPer
	}
	// A separate process cannot share a running exporter's budget: the report paces itself with
	// a budget of its own (which Graph counts together with the exporter's, so reading a long
	// period slows a running exporter down while it lasts).
	client, err := graphclient.New(tenant, graphclient.Options{Pacer: graph.NewPacer(graphclient.TenantRequests, per), Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", tenant.Name, err)
	}
	bar := progressBar{w: stderr, per: per, from: p.From(), to: p.To(),
		on: *rc.progress == "always" || (*rc.progress == "auto" && rc.isTerminal(stderr))}
	rep := &mfaReport{Tenant: tenant.Name, EventTypes: tenant.SignIns.EventTypes}
	err = client.SignIns(ctx, p.Query(tenant.SignIns), func(page []graph.SignIn) error {
		rep.Pages++
		for i := range page {
			p.Add(&page[i])
		}
		bar.draw(rep.Pages, p.Rows, p.Oldest)
		if rc.onPage != nil {
			rc.onPage(rep.Pages)
		}
		return nil
	})
	bar.done()
	if err != nil {
		if !errors.Is(err, context.Canceled) || ctx.Err() == nil {
			return nil, fmt.Errorf("tenant %s: reading sign-ins: %w", tenant.Name, err)
		}
		rep.Partial = true
	}
	rep.Answers = p.Answers()
	rep.ReadBackTo = p.Oldest
	rep.Rows = rowStats{Read: p.Rows, Counted: rep.Answers.SignIns, Duplicates: p.Duplicates, Outside: p.Outside, WithoutID: p.WithoutID}
	return rep, nil
}

// progressBar draws one status line on stderr, rewritten after each page. Graph gives no total,
// so progress is measured in sign-in time: how far back from the period's end the rows counted
// reach (Graph documents newest-first order; in any other order the estimate is rough but the
// counts are not affected).
type progressBar struct {
	w        io.Writer
	on       bool
	per      time.Duration
	from, to time.Time
	drawn    bool
}

func (b *progressBar) draw(pages int, rows int64, oldest time.Time) {
	if !b.on {
		return
	}
	line := fmt.Sprintf("pages %d · rows %d", pages, rows)
	if span := b.to.Sub(b.from); !oldest.IsZero() && span > 0 {
		done := min(max(float64(b.to.Sub(oldest))/float64(span), 0), 1)
		line += fmt.Sprintf(" · back to %s (%.0f%%)", oldest.UTC().Format("2006-01-02 15:04:05"), done*100)
		if done > 0 && done < 1 {
			left := float64(pages) * (1 - done) / done
			eta := time.Duration(left / graphclient.TenantRequests * float64(b.per))
			line += fmt.Sprintf(" · about %s left at %d requests per %s", roundEstimate(eta), graphclient.TenantRequests, b.per)
		}
	}
	// Pad so that a shorter line fully covers the previous one.
	fmt.Fprintf(b.w, "\r%-100s", line)
	b.drawn = true
}

func (b *progressBar) done() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}

// describe quotes the catalogue's meaning of a label value, first sentence only: a table cell,
// not the `explain` page.
func describe(catalogue, label string) string {
	all := mfa.ExplainAll(catalogue + ":" + label)
	if len(all) == 0 {
		return ""
	}
	d := all[0].Description
	if i := strings.Index(d, ". "); i > 0 {
		d = d[:i+1]
	}
	return d
}
