package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

// loadDashboards decodes every committed dashboard strictly with the SDK's types. The SDK needs
// its panel and query plugins registered to decode panel options and Prometheus targets.
func loadDashboards(t *testing.T) map[string]dashboard.Dashboard {
	t.Helper()
	plugins.RegisterDefaultPlugins()
	paths, err := filepath.Glob("grafana/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 4 {
		t.Fatalf("want 4 dashboards in grafana/, found %v", paths)
	}
	out := map[string]dashboard.Dashboard{}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		d, err := decodeDashboard(raw)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[p] = d
	}
	return out
}

// decodeDashboard decodes a dashboard strictly with the SDK's types.
func decodeDashboard(raw []byte) (dashboard.Dashboard, error) {
	var d dashboard.Dashboard
	if err := sdkError(d.UnmarshalJSONStrict(raw)); err != nil {
		return d, fmt.Errorf("strict decode: %w", err)
	}
	// v0.0.22's PanelOrRowPanel.UnmarshalJSONStrict returns early on the typed-nil error of a
	// successful panel decode, leaving both fields nil; decode each panel again, strictly, so that
	// the checks (and Validate) see them.
	var doc struct{ Panels []json.RawMessage }
	if err := json.Unmarshal(raw, &doc); err != nil {
		return d, fmt.Errorf("decode panels: %w", err)
	}
	if len(doc.Panels) != len(d.Panels) {
		return d, fmt.Errorf("%d panels decoded, %d in the file", len(d.Panels), len(doc.Panels))
	}
	for i, rp := range doc.Panels {
		var kind struct{ Type string }
		if err := json.Unmarshal(rp, &kind); err != nil {
			return d, fmt.Errorf("panels[%d]: %w", i, err)
		}
		if kind.Type == "row" {
			row := &dashboard.RowPanel{}
			if err := sdkError(row.UnmarshalJSONStrict(rp)); err != nil {
				return d, fmt.Errorf("panels[%d]: strict decode: %w", i, err)
			}
			d.Panels[i] = dashboard.PanelOrRowPanel{RowPanel: row}
			continue
		}
		panel := &dashboard.Panel{}
		if err := sdkError(panel.UnmarshalJSONStrict(rp)); err != nil {
			return d, fmt.Errorf("panels[%d]: strict decode: %w", i, err)
		}
		// The same early return drops every target: decode them one by one.
		var pt struct{ Targets []json.RawMessage }
		if err := json.Unmarshal(rp, &pt); err != nil {
			return d, fmt.Errorf("panels[%d]: %w", i, err)
		}
		panel.Targets = nil
		for j, tr := range pt.Targets {
			q := &prometheus.Dataquery{}
			if err := sdkError(q.UnmarshalJSONStrict(tr)); err != nil {
				return d, fmt.Errorf("panels[%d].targets[%d]: strict decode: %w", i, j, err)
			}
			panel.Targets = append(panel.Targets, q)
		}
		d.Panels[i] = dashboard.PanelOrRowPanel{Panel: panel}
	}
	return d, nil
}

// panelsOf lists the non-row panels of a dashboard, including panels inside collapsed rows.
func panelsOf(d dashboard.Dashboard) []dashboard.Panel {
	var out []dashboard.Panel
	for _, p := range d.Panels {
		if p.Panel != nil {
			out = append(out, *p.Panel)
		}
		if p.RowPanel != nil {
			out = append(out, p.RowPanel.Panels...)
		}
	}
	return out
}

func promTargets(t *testing.T, p dashboard.Panel) []*prometheus.Dataquery {
	t.Helper()
	var out []*prometheus.Dataquery
	for _, q := range p.Targets {
		pq, ok := q.(*prometheus.Dataquery)
		if !ok {
			t.Fatalf("panel %q: target %T is not a Prometheus query", deref(p.Title), q)
		}
		out = append(out, pq)
	}
	return out
}

// sdkError turns the SDK's typed-nil error into a real nil. In v0.0.22 both UnmarshalJSONStrict
// and Validate return a nil cog.BuildErrors on success, which is a non-nil error interface.
func sdkError(err error) error {
	if be, ok := err.(cog.BuildErrors); ok && len(be) == 0 {
		return nil
	}
	return err
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func TestDashboardsValidate(t *testing.T) {
	wantUIDs := map[string]string{
		"grafana/mfa-overview.json":          "entra-mfa-overview",
		"grafana/registration-coverage.json": "entra-mfa-registration",
		"grafana/exporter-health.json":       "entra-mfa-exporter-health",
		"grafana/coverage.json":              "entra-mfa-coverage",
	}
	for path, d := range loadDashboards(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			// v0.0.22 returns a typed-nil cog.BuildErrors on success: a non-nil interface holding
			// an empty slice, so err != nil would always fail.
			if err := sdkError(d.Validate()); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if uid := deref(d.Uid); uid != wantUIDs[path] {
				t.Errorf("uid = %q, want the stable %q", uid, wantUIDs[path])
			}
			if d.SchemaVersion < 39 {
				t.Errorf("schemaVersion %d is not the current Grafana schema", d.SchemaVersion)
			}
			vars := map[string]dashboard.VariableModel{}
			for _, v := range d.Templating.List {
				vars[v.Name] = v
			}
			if v, ok := vars["datasource"]; !ok || v.Type != "datasource" || deref(deref(v.Query).String) != "prometheus" {
				t.Errorf("missing a datasource variable of type prometheus: %+v", v)
			}
			if v, ok := vars["tenant"]; !ok || v.Type != "query" || deref(deref(v.Datasource).Uid) != "${datasource}" {
				t.Errorf("missing a tenant query variable on ${datasource}: %+v", v)
			}
			var links []string
			for _, l := range d.Links {
				links = append(links, deref(l.Url))
			}
			for _, want := range []string{runbooksURL, catalogueURL} {
				if !strings.Contains(strings.Join(links, " "), want) {
					t.Errorf("no dashboard link to %s", want)
				}
			}
			ids := map[uint32]bool{}
			for _, p := range d.Panels {
				if p.RowPanel != nil {
					ids[p.RowPanel.Id] = true
				}
			}
			for _, p := range panelsOf(d) {
				title := deref(p.Title)
				if p.Id == nil || ids[*p.Id] {
					t.Errorf("panel %q: missing or duplicate id", title)
				} else {
					ids[*p.Id] = true
				}
				if strings.TrimSpace(deref(p.Description)) == "" {
					t.Errorf("panel %q has no description", title)
				}
				if p.FieldConfig == nil || deref(p.FieldConfig.Defaults.Unit) == "" {
					t.Errorf("panel %q has no unit", title)
				}
				if deref(deref(p.Datasource).Uid) != "${datasource}" {
					t.Errorf("panel %q does not use ${datasource}", title)
				}
				targets := promTargets(t, p)
				if len(targets) == 0 {
					t.Errorf("panel %q has no query", title)
				}
				for _, q := range targets {
					if deref(deref(q.Datasource).Uid) != "${datasource}" {
						t.Errorf("panel %q: query %q does not use ${datasource}", title, q.Expr)
					}
					// Every query is filtered by the tenant variable, except the exporter's own
					// build and reload gauges, which have no tenant label.
					if !strings.Contains(q.Expr, tenantSel) && !strings.Contains(q.Expr, "entra_exporter_") {
						t.Errorf("panel %q: query %q ignores the tenant variable", title, q.Expr)
					}
				}
			}
		})
	}
}

// TestOverviewRowsAnswerTheSixQuestions keeps the MFA overview's structure: one row per question,
// in order, then the Attacks row (per-user detections).
func TestOverviewRowsAnswerTheSixQuestions(t *testing.T) {
	d := loadDashboards(t)["grafana/mfa-overview.json"]
	var rows []string
	for _, p := range d.Panels {
		if p.RowPanel != nil {
			rows = append(rows, deref(p.RowPanel.Title))
		}
	}
	if len(rows) != 7 || rows[6] != "Attacks" {
		t.Fatalf("rows = %q, want 6 questions and Attacks", rows)
	}
	for i, r := range rows[:6] {
		if !regexp.MustCompile(`^` + string(rune('1'+i)) + ` · .+\?$`).MatchString(r) {
			t.Errorf("row %d = %q, want question %d", i, r, i+1)
		}
	}
}

// TestRenderIsStableJSON guards the renderer: the committed JSON must be valid JSON that Grafana
// reads, without HTML escapes in PromQL.
func TestRenderIsStableJSON(t *testing.T) {
	files, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !json.Valid(f.JSON) {
			t.Errorf("%s: invalid JSON", f.Name)
		}
		if strings.Contains(string(f.JSON), `\u003c`) || strings.Contains(string(f.JSON), `\u003e`) {
			t.Errorf("%s: HTML-escaped PromQL", f.Name)
		}
	}
}

// TestStrictDecodeRejectsBadDashboards proves the decoding above can fail: each fixture breaks
// one thing a lenient decoder would let through.
func TestStrictDecodeRejectsBadDashboards(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for _, name := range []string{"unknown-dashboard-key.json", "unknown-panel-key.json", "unknown-target-key.json"} {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := decodeDashboard(raw); err == nil {
				t.Fatal("decoded without error")
			}
		})
	}
}
