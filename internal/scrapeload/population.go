package main

import (
	"fmt"
	"strings"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
)

// The label population of a large tenant, as durable counter series the exporter restores from
// its state at start: every catalogued reason, method, result code, error code and client app,
// in the combinations rows produce them, plus stand-ins for the Conditional Access policy and
// application families (300 policies, 500 applications) that other branches add. The stand-ins
// are series of entra_signins_by_client_app_total whose client_app value is a policy or
// application GUID: the same number of series, label values of the same length, in a family of
// the same shape as entra_signins_by_application_total, so the exposition costs what it will.

// series is one counter series: family id (collector/counters.go) and label values in order.
type series struct {
	family string
	labels []string
	value  float64
}

const (
	policies     = 300
	applications = 500
)

func population() []series {
	var out []series
	add := func(family string, value float64, labels ...string) {
		out = append(out, series{family: family, labels: labels, value: value})
	}
	n := 0.0
	next := func() float64 { n++; return 1000 + n*7 }

	// entra_signins_total: event type x requirement x every error code, each with the outcomes
	// its result allows.
	outcomesFor := map[string][]string{
		"success":     {"satisfied", "not_required"},
		"interrupted": {"interrupted"},
		"failure":     {"denied", "not_attempted"},
	}
	for _, et := range []string{"interactive", "non_interactive"} {
		for _, req := range mfa.Requirements() {
			for _, ec := range mfa.ErrorCodes() {
				for _, oc := range outcomesFor[ec.Result] {
					add("s", next(), et, req.Label, ec.Result, oc, ec.Label)
				}
			}
		}
	}
	// entra_mfa_attempts_total: every method with every reason of each outcome, result codes in
	// turn so that every one appears, cloud for all, NPS extension and AD FS adapter for a third.
	codes := mfa.ResultCodes()
	ci := 0
	for mi, m := range mfa.Methods() {
		for _, o := range []struct {
			outcome string
			reasons []mfa.Entry
		}{{"satisfied", mfa.SatisfiedReasons()}, {"denied", mfa.DeniedReasons()}} {
			for _, r := range o.reasons {
				components := []string{"cloud"}
				if mi%3 == 0 {
					components = append(components, "nps_extension", "adfs_adapter")
				}
				for _, comp := range components {
					add("a", next(), m.Label, o.outcome, r.Label, codes[ci%len(codes)].Label, comp)
					ci++
				}
			}
		}
	}
	// entra_signins_by_client_app_total: every client app x requirement x outcome.
	for _, app := range mfa.ClientApps() {
		for _, req := range mfa.Requirements() {
			for _, oc := range mfa.Outcomes() {
				add("c", next(), app.Label, req.Label, oc.Label)
			}
		}
	}
	for _, f := range []string{"method", "reason", "error_code", "token_issuer_type"} {
		add("u", next(), f)
	}
	// Stand-ins: 300 policies x 4 results and their info series; 500 applications x 4
	// requirement/outcome pairs and their info series.
	for p := range policies {
		id := guid(1, p)
		for _, res := range []string{"success", "failure", "not_applied", "report_only_success", "info"} {
			add("c", next(), "policy-"+id, res, "not_required")
		}
	}
	for a := range applications {
		id := guid(2, a)
		for _, pair := range [][2]string{{"multi_factor", "satisfied"}, {"single_factor", "not_required"}, {"multi_factor", "denied"}, {"multi_factor", "interrupted"}, {"other", "info"}} {
			add("c", next(), id, pair[0], pair[1])
		}
	}
	return out
}

func guid(kind, i int) string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", kind*0x1000000+i*7919, i%0xffff, i%0xfff, (i*31)%0xfff, i*104729)
}

// counterKey is the state's key of a series (collector/counters.go: family id and label values
// joined by U+001F).
func counterKey(s series) string {
	return s.family + "\x1f" + strings.Join(s.labels, "\x1f")
}
