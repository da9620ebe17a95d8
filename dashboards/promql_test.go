package dashboards

import (
	"slices"
	"testing"
)

func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up`, []string{"up"}},
		{`sum by (tenant) (rate(entra_mfa_attempts_total{outcome="denied",reason=~"a|b"}[5m]))`, []string{"entra_mfa_attempts_total"}},
		{`a:b:c / on (tenant) group_left (x) d_total offset 1h`, []string{"a:b:c", "d_total"}},
		{`sum(increase(x{tenant=~"$tenant"}[$__range] offset $__range)) or vector(0)`, []string{"x"}},
		{`histogram_quantile(0.9, sum by (le) (rate(h_bucket[${__rate_interval}])))`, []string{"h_bucket"}},
		{`m > bool 1e3 and n unless ignoring(a, b) o`, []string{"m", "n", "o"}},
		{`label_values(entra_signins_total, tenant)`, []string{"entra_signins_total", "tenant"}},
		{`topk(10, sum without (instance) (m{a="}{[("}))`, []string{"m"}},
		{"# comment with words\nfoo", []string{"foo"}},
		{`time() - max by (tenant) (g)`, []string{"g"}},
	} {
		if got := MetricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("MetricNames(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}
