package main

import (
	"bytes"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/version"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/collector"
)

// The landing page answers the six questions for the last hour and the last 24 hours, and shows
// each tenant's health, from the exporter's own committed state (collector.Manager.Summary): no
// Graph call, no waiting for a poll, nothing Prometheus or Grafana must provide. It is served by
// the same server as /metrics, so web.config.file's TLS and basic auth cover it too. Every value
// goes through html/template, which escapes it for its context: error texts quote Graph's
// answers, which the exporter does not control.

// landingWindows are the periods the page shows, with their column titles.
var landingWindows = []struct {
	d     time.Duration
	title string
	id    string // data-window attribute, for scripts and the browser test
}{
	{time.Hour, "Last hour", "1h"},
	{24 * time.Hour, "Last 24 hours", "24h"},
}

// landingTop is how many lines of each ranking the page shows.
const landingTop = 10

type landingOptions struct {
	links   []landingLink
	demo    bool
	summary func(...time.Duration) []collector.TenantSummary
	now     func() time.Time
	logger  *slog.Logger
}

type landingLink struct {
	Address, Text, Description string
}

// landingData is what the template renders.
type landingData struct {
	Version string
	Links   []landingLink
	Demo    bool
	Now     string
	Windows []string
	Tenants []landingTenant
}

type landingTenant struct {
	Name    string
	Sources []landingSource
	Figures []landingFigure
	Lists   []landingList
}

type landingSource struct {
	Name, LastSuccess, Lag, Error, State string
}

// landingFigure is one line of the answers table: one value per window.
type landingFigure struct {
	Question string // "1".."6"
	Title    string
	ID       string // data-figure
	Values   []string
}

// landingList is a ranking, one column per window.
type landingList struct {
	Question, Title, ID string
	Columns             [][]landingItem
}

type landingItem struct {
	Key, Label, Value, Meaning string
}

func newLandingHandler(o landingOptions) http.Handler {
	if o.now == nil {
		o.now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		var buf bytes.Buffer
		if err := landingTemplate.Execute(&buf, buildLanding(o)); err != nil {
			o.logger.Error("rendering the landing page", "err", err)
			http.Error(w, "cannot render the landing page (see the exporter's log)", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(buf.Bytes())
	})
}

func buildLanding(o landingOptions) landingData {
	now := o.now()
	d := landingData{Version: version.Info(), Demo: o.demo, Now: stamp(now)}
	for _, l := range o.links {
		// Relative, as the toolkit's landing page writes them: a reverse proxy serving the
		// exporter under a path prefix keeps them working.
		l.Address = strings.TrimPrefix(l.Address, "/")
		d.Links = append(d.Links, l)
	}
	durations := make([]time.Duration, len(landingWindows))
	for i, w := range landingWindows {
		durations[i] = w.d
		d.Windows = append(d.Windows, w.title)
	}
	var tenants []collector.TenantSummary
	if o.summary != nil {
		tenants = o.summary(durations...)
	}
	for _, ts := range tenants {
		d.Tenants = append(d.Tenants, landingTenantOf(ts, now))
	}
	return d
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// ago writes a duration for people: whole seconds, minutes or hours.
func ago(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < 2*time.Minute:
		return d.Truncate(time.Second).String()
	case d < 2*time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return fmt.Sprintf("%.1fh", d.Hours())
}

func sourceName(s string) string {
	switch s {
	case "signIns":
		return "Sign-in log"
	case "userRegistrationDetails":
		return "Registration report"
	}
	return s
}

func landingTenantOf(ts collector.TenantSummary, now time.Time) landingTenant {
	lt := landingTenant{Name: ts.Tenant}
	for _, s := range ts.Sources {
		ls := landingSource{Name: sourceName(s.Source), LastSuccess: "never", Lag: "-", State: "ok"}
		if !s.LastSuccess.IsZero() {
			ls.LastSuccess = stamp(s.LastSuccess) + " (" + ago(now.Sub(s.LastSuccess)) + " ago)"
		}
		if !s.CountedTo.IsZero() {
			ls.Lag = ago(now.Sub(s.CountedTo))
		}
		switch {
		case !s.Enabled:
			ls.State, ls.LastSuccess = "disabled", "-"
		case s.ErrorReason != "":
			ls.State, ls.Error = "error", s.ErrorReason+": "+s.Error
		case s.LastSuccess.IsZero():
			ls.State = "waiting"
			ls.Error = "waiting for the first poll"
		}
		lt.Sources = append(lt.Sources, ls)
	}
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	fig := func(q, title, id string, value func(a *collector.Answers) string) {
		f := landingFigure{Question: q, Title: title, ID: id}
		for i := range ts.Periods {
			f.Values = append(f.Values, value(&ts.Periods[i]))
		}
		lt.Figures = append(lt.Figures, f)
	}
	users := func(v func(a *collector.Answers) int64) func(a *collector.Answers) string {
		return func(a *collector.Answers) string {
			if !a.UsersKnown {
				return "n/a (beyond sign_ins.user_windows)"
			}
			return n(v(a))
		}
	}
	fig("1", "Sign-ins protected by MFA (of those that got through)", "protected_share", shareText)
	fig("1", "Sign-in rows counted", "sign_ins", func(a *collector.Answers) string { return n(a.SignIns) })
	fig("1", "…with MFA satisfied", "satisfied", func(a *collector.Answers) string { return n(a.Satisfied) })
	fig("1", "…with MFA not required", "not_required", func(a *collector.Answers) string { return n(a.NotRequired) })
	fig("2", "MFA completions", "completions", func(a *collector.Answers) string { return n(a.Completed()) })
	fig("3", "MFA denials", "denials", func(a *collector.Answers) string { return n(a.Denied()) })
	fig("4", "Users challenged for MFA", "users_challenged", users(func(a *collector.Answers) int64 { return a.UsersChallenged }))
	fig("5", "Users who failed the MFA challenge", "users_failed", users(func(a *collector.Answers) int64 { return a.UsersFailed }))

	list := func(q, title, id string, items func(a *collector.Answers) []landingItem) {
		l := landingList{Question: q, Title: title, ID: id}
		for i := range ts.Periods {
			all := items(&ts.Periods[i])
			l.Columns = append(l.Columns, all[:min(landingTop, len(all))])
		}
		lt.Lists = append(lt.Lists, l)
	}
	list("2", "Completions by method", "completions_by_method", func(a *collector.Answers) []landingItem {
		var out []landingItem
		for _, c := range a.Completions {
			out = append(out, landingItem{Key: c.Label, Label: c.Label, Value: n(c.N)})
		}
		return out
	})
	list("3", "Denials by reason", "denials_by_reason", func(a *collector.Answers) []landingItem {
		var out []landingItem
		for _, c := range a.Denials {
			out = append(out, landingItem{Key: c.Label, Label: c.Label, Value: n(c.N), Meaning: describe("reason", c.Label)})
		}
		return out
	})
	list("6", "Top problems: denials by reason and method", "problems", func(a *collector.Answers) []landingItem {
		var out []landingItem
		for _, p := range a.Problems {
			out = append(out, landingItem{Key: p.Reason + "/" + p.Method, Label: p.Reason + " · " + p.Method, Value: n(p.N)})
		}
		return out
	})
	list("6", "Top problems: failed sign-ins by error code", "error_codes", func(a *collector.Answers) []landingItem {
		var out []landingItem
		for _, c := range a.ErrorCodes {
			out = append(out, landingItem{Key: c.Label, Label: c.Label, Value: n(c.N), Meaning: describe("error_code", c.Label)})
		}
		return out
	})
	return lt
}

var landingTemplate = template.Must(template.New("landing").Funcs(template.FuncMap{
	"winid": func(i int) string { return landingWindows[i].id },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>Entra MFA Exporter</title>
<style>
body { font-family: -apple-system, "Segoe UI", Roboto, "Liberation Sans", sans-serif; margin: 0; color: #1f2328; }
header { background: #e6522c; color: #fff; padding: 0.8rem 1rem; }
header h1 { margin: 0; font-size: 1.4rem; }
main { padding: 1rem; max-width: 80rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #d0d7de; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.state-error { color: #b42318; font-weight: bold; }
.state-waiting { color: #9a6700; }
.demo { background: #fff3cd; border: 1px solid #e0b000; padding: 0.5rem 1rem; font-weight: bold; }
.lists { display: flex; flex-wrap: wrap; gap: 1.5rem; }
.meaning { color: #57606a; font-size: 0.9em; }
small { color: #57606a; }
</style>
</head>
<body>
<header><h1>Entra MFA Exporter</h1></header>
<main>
<p>Prometheus exporter for Microsoft Entra ID sign-in and MFA activity. Version: {{.Version}}</p>
<ul>
{{- range .Links}}
<li><a href="{{.Address}}">{{.Text}}</a>{{if .Description}}: {{.Description}}{{end}}</li>
{{- end}}
</ul>
{{if .Demo}}<p class="demo">DEMO MODE: the data is simulated by an embedded fake tenant, not read from Microsoft Entra ID.</p>{{end}}
<p><small>As of {{.Now}} (the page reloads every minute). Figures count the sign-in rows the exporter has committed, by their time (createdDateTime), as /metrics does; rows younger than the settle delay are not counted yet, and the periods start at a 5-minute boundary. <code>entra-mfa-exporter explain TERM</code> explains any reason, method or code.</small></p>
{{if not .Tenants}}<p>No tenant configured.</p>{{end}}
{{- range $t := .Tenants}}
<section class="tenant" data-tenant="{{$t.Name}}">
<h2>Tenant {{$t.Name}}</h2>
<h3>Health</h3>
<table class="health">
<tr><th>Source</th><th>Last successful poll</th><th>Lag</th><th>Current error</th></tr>
{{- range $t.Sources}}
<tr data-source="{{.Name}}"><td>{{.Name}}</td><td>{{.LastSuccess}}</td><td>{{.Lag}}</td><td class="state-{{.State}}">{{if .Error}}{{.Error}}{{else}}{{.State}}{{end}}</td></tr>
{{- end}}
</table>
<h3>The six answers</h3>
<table class="answers">
<tr><th>#</th><th>Figure</th>{{range $.Windows}}<th>{{.}}</th>{{end}}</tr>
{{- range $t.Figures}}
<tr data-figure="{{.ID}}"><td>{{.Question}}</td><td>{{.Title}}</td>{{range $i, $v := .Values}}<td class="num" data-window="{{winid $i}}">{{$v}}</td>{{end}}</tr>
{{- end}}
</table>
{{- range $l := $t.Lists}}
<h3>{{$l.Question}}. {{$l.Title}}</h3>
<div class="lists">
{{- range $i, $col := $l.Columns}}
<table class="ranking" data-list="{{$l.ID}}" data-window="{{winid $i}}">
<tr><th colspan="{{if eq $l.ID "denials_by_reason" "error_codes"}}3{{else}}2{{end}}">{{index $.Windows $i}}</th></tr>
{{- range $col}}
<tr data-key="{{.Key}}"><td>{{.Label}}</td><td class="num">{{.Value}}</td>{{if or (eq $l.ID "denials_by_reason") (eq $l.ID "error_codes")}}<td class="meaning">{{.Meaning}}</td>{{end}}</tr>
{{- else}}
<tr><td colspan="2">none</td></tr>
{{- end}}
</table>
{{- end}}
</div>
{{- end}}
</section>
{{- end}}
</main>
</body>
</html>
`))
