package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Where the documentation lives. Dashboards are imported into Grafana instances that cannot see
// the repository checkout, so links point at the published repository.
const (
	repoURL       = "https://github.com/entra-mfa-exporter/entra-mfa-exporter"
	runbooksURL   = repoURL + "/blob/main/docs/runbooks.md"
	catalogueURL  = repoURL + "/blob/main/README.md#classification"
	metricsURL    = repoURL + "/blob/main/README.md#metrics"
	dashboardsURL = repoURL + "/blob/main/docs/dashboards.md"
	dashboardTag  = "entra-mfa-exporter"

	// tenantSel is the label matcher every query carries; the variable allows several tenants and
	// "All" (.*), hence =~.
	tenantSel = `tenant=~"$tenant"`
)

// File is one generated dashboard: its file name under grafana/ and its JSON.
type File struct {
	Name string
	JSON []byte
}

// Generate builds every dashboard and renders it as the JSON committed under grafana/.
func Generate() ([]File, error) {
	builders := []struct {
		name  string
		build func() (dashboard.Dashboard, error)
	}{
		{"mfa-overview.json", MFAOverview},
		{"registration-coverage.json", RegistrationCoverage},
		{"exporter-health.json", ExporterHealth},
		{"coverage.json", Coverage},
	}
	var out []File
	for _, b := range builders {
		d, err := b.build()
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", b.name, err)
		}
		data, err := Render(d)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", b.name, err)
		}
		out = append(out, File{Name: b.name, JSON: data})
	}
	return out, nil
}

// Render marshals a dashboard the way the committed files are written: two-space indentation,
// no HTML escaping (PromQL is full of < and >), trailing newline.
func Render(d dashboard.Dashboard) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("encode dashboard: %w", err)
	}
	return buf.Bytes(), nil
}

// board carries what every dashboard shares: the variables, the links and a panel id counter
// (Grafana needs ids unique within a dashboard; assigning them here keeps the JSON stable).
type board struct {
	b      *dashboard.DashboardBuilder
	nextID uint32
}

func newBoard(uid, title, description, tenantMetric string) *board {
	b := dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags([]string{dashboardTag}).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Refresh("1m").
		Time("now-6h", "now").
		Timezone(common.TimeZoneBrowser).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").
			Label("Data source").
			Type("prometheus")).
		WithVariable(dashboard.NewQueryVariableBuilder("tenant").
			Label("Tenant").
			Description("Value of the exporter's tenant label (the name given to the tenant in its configuration).").
			Datasource(datasourceRef()).
			Query(dashboard.StringOrMap{String: cog.ToPtr(fmt.Sprintf("label_values(%s, tenant)", tenantMetric))}).
			Definition(fmt.Sprintf("label_values(%s, tenant)", tenantMetric)).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc).
			Multi(true).
			IncludeAll(true).
			AllValue(".*")).
		Link(dashboard.NewDashboardLinkBuilder("Other entra-mfa-exporter dashboards").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{dashboardTag}).
			AsDropdown(true).
			IncludeVars(true).
			KeepTime(true)).
		Link(externalLink("Runbooks", runbooksURL, "What each alert means and what to do")).
		Link(externalLink("Reasons and codes", catalogueURL, "Catalogue of MFA methods, reasons, result codes and error codes")).
		Link(externalLink("Metrics", metricsURL, "Every metric the exporter exposes")).
		Link(externalLink("About these dashboards", dashboardsURL, "The question each row answers"))
	return &board{b: b}
}

func externalLink(title, url, tooltip string) *dashboard.DashboardLinkBuilder {
	return dashboard.NewDashboardLinkBuilder(title).
		Type(dashboard.DashboardLinkTypeLink).
		Url(url).
		Tooltip(tooltip).
		Icon("doc").
		TargetBlank(true)
}

// runbookLink is a panel link to the runbook section of the alert the panel is about.
func runbookLink(alert string) cog.Builder[dashboard.DashboardLink] {
	return externalLink("Runbook: "+alert, runbooksURL+"#"+strings.ToLower(alert), "What "+alert+" means and what to do")
}

func catalogueLink() cog.Builder[dashboard.DashboardLink] {
	return externalLink("Reasons and codes", catalogueURL, "What each label value means")
}

func datasourceRef() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}
}

func (bd *board) id() uint32 {
	bd.nextID++
	return bd.nextID
}

func (bd *board) row(title string) {
	bd.b.WithRow(dashboard.NewRowBuilder(title).Id(bd.id()))
}

func (bd *board) panel(p cog.Builder[dashboard.Panel]) {
	bd.b.WithPanel(p)
}

func (bd *board) build() (dashboard.Dashboard, error) {
	d, err := bd.b.Build()
	if err != nil {
		return dashboard.Dashboard{}, fmt.Errorf("dashboard builder: %w", err)
	}
	return d, nil
}

// series is a range query drawn over time.
func series(expr, legend string) cog.Builder[variants.Dataquery] {
	return prometheus.NewDataqueryBuilder().
		Datasource(datasourceRef()).
		Expr(expr).
		LegendFormat(legend).
		Range()
}

// instant is a query evaluated once at the end of the range, for stats, bar gauges and tables.
func instant(expr, legend string) cog.Builder[variants.Dataquery] {
	return prometheus.NewDataqueryBuilder().
		Datasource(datasourceRef()).
		Expr(expr).
		LegendFormat(legend).
		Instant()
}

// tableQuery is an instant query in table format; refID names its value column "Value #refID".
func tableQuery(expr, refID string) cog.Builder[variants.Dataquery] {
	return prometheus.NewDataqueryBuilder().
		Datasource(datasourceRef()).
		Expr(expr).
		Format(prometheus.PromQueryFormatTable).
		RefId(refID).
		Instant()
}

func thresholds(steps ...dashboard.Threshold) *dashboard.ThresholdsConfigBuilder {
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(steps)
}

func step(value *float64, color string) dashboard.Threshold {
	return dashboard.Threshold{Value: value, Color: color}
}

func at(v float64) *float64 { return &v }

func (bd *board) timeSeries(title, description, unit string, w, h uint32, queries ...cog.Builder[variants.Dataquery]) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Id(bd.id()).
		Title(title).
		Description(description).
		Unit(unit).
		Datasource(datasourceRef()).
		Targets(queries).
		Span(w).Height(h).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true).
			Calcs([]string{"mean", "lastNotNull"}))
}

// stacked is a time series whose series add up (counts by a label), drawn as stacked areas.
func (bd *board) stacked(title, description, unit string, w, h uint32, queries ...cog.Builder[variants.Dataquery]) *timeseries.PanelBuilder {
	return bd.timeSeries(title, description, unit, w, h, queries...).
		FillOpacity(40).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal))
}

func (bd *board) stat(title, description, unit string, w, h uint32, queries ...cog.Builder[variants.Dataquery]) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Id(bd.id()).
		Title(title).
		Description(description).
		Unit(unit).
		Datasource(datasourceRef()).
		Targets(queries).
		Span(w).Height(h).
		GraphMode(common.BigValueGraphModeNone).
		ColorMode(common.BigValueColorModeValue).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false))
}

func (bd *board) barGauge(title, description, unit string, w, h uint32, queries ...cog.Builder[variants.Dataquery]) *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().
		Id(bd.id()).
		Title(title).
		Description(description).
		Unit(unit).
		Datasource(datasourceRef()).
		Targets(queries).
		Span(w).Height(h).
		Orientation(common.VizOrientationHorizontal).
		DisplayMode(common.BarGaugeDisplayModeBasic).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
		Thresholds(thresholds(step(nil, "blue")))
}

// table shows instant table queries merged on their labels; columns maps "Value #A" style names
// (and label names) to headers, and hides the timestamp.
func (bd *board) table(title, description, unit string, w, h uint32, columns map[string]string, queries ...cog.Builder[variants.Dataquery]) *table.PanelBuilder {
	rename := map[string]any{}
	for k, v := range columns {
		rename[k] = v
	}
	return table.NewPanelBuilder().
		Id(bd.id()).
		Title(title).
		Description(description).
		Unit(unit).
		Datasource(datasourceRef()).
		Targets(queries).
		Span(w).Height(h).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"})).
		WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
		WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
			"excludeByName": map[string]any{"Time": true},
			"renameByName":  rename,
		}})
}

// thresholdsLine draws a panel's thresholds as dashed lines across the graph.
func thresholdsLine() *common.GraphThresholdsStyleConfigBuilder {
	return common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed)
}
