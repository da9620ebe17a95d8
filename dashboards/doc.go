// Package dashboards builds the Grafana dashboards of entra-mfa-exporter from Go code with the
// Grafana Foundation SDK, and holds the Prometheus rule files, their promtool unit tests and the
// end-to-end test that runs every dashboard query and every rule against a real Prometheus fed by
// the exporter's demo mode.
//
// The committed JSON under grafana/ and the PrometheusRule manifest under kubernetes/ are
// generated: `go test -run TestGenerated -update` rewrites them, and the same test fails when they
// differ from what the code produces. This package is a Go module of its own so that the SDK never
// becomes a dependency of the exporter binary.
package dashboards
