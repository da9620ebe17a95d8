#!/usr/bin/env bash
# The project's test command (the README's second command; .ci/run calls exactly this).
# Installs what a fresh machine lacks (scripts/tools.sh), then: gofmt, go vet, staticcheck,
# every test with the race detector (fuzz seed corpora included), and promtool checks.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== tools"
eval "$(./scripts/tools.sh)"
export PROMTOOL PROMETHEUS ALERTMANAGER AMTOOL
# Tests that need promtool fail instead of skipping when it is missing.
export ENTRA_REQUIRE_TOOLS=1

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'; git ls-files --others --exclude-standard '*.go'))
if [ -n "$unformatted" ]; then
  echo "not gofmt-formatted:" >&2
  echo "$unformatted" >&2
  exit 1
fi

# dashboards/ is a Go module of its own, so that the Grafana Foundation SDK it uses to validate
# dashboards never becomes a dependency of the exporter binary.
modules=(.)
[ -f dashboards/go.mod ] && modules+=(dashboards)

for mod in "${modules[@]}"; do
  echo "== go vet ($mod)"
  (cd "$mod" && go vet ./...)
  echo "== staticcheck ($mod)"
  (cd "$mod" && "$STATICCHECK" ./...)
done

for mod in "${modules[@]}"; do
  echo "== go test ($mod)"
  (cd "$mod" && go test -race -count=1 -timeout 15m ./...)
done
