#!/usr/bin/env bash
# The project's test command (the README's second command; .ci/run calls exactly this).
# Installs what a fresh machine lacks (scripts/tools.sh), then, with the Go release of
# scripts/toolchain.sh: gofmt, go vet, staticcheck, govulncheck, and every test with the race
# detector (fuzz seed corpora included; promtool, Chromium and systemd-analyze checks among them).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/toolchain.sh
. scripts/toolchain.sh

echo "== tools"
# A plain eval "$(...)" would carry on after a failed install; tools.sh has printed its error.
if ! tools_env=$(./scripts/tools.sh); then
  echo "test.sh: scripts/tools.sh failed (see its error above)" >&2
  exit 1
fi
eval "$tools_env"
export PROMTOOL PROMETHEUS ALERTMANAGER AMTOOL STATICCHECK GOVULNCHECK GOVULNDB CHROMIUM SYSTEMD_ANALYZE
# Tests that need an external tool fail instead of skipping when it is missing.
export ENTRA_REQUIRE_TOOLS=1

echo "== gofmt"
# The pinned release's gofmt: formatting rules can change between Go releases.
gofmt="$(go env GOROOT)/bin/gofmt"
# shellcheck disable=SC2046 # one argument per file name; the repository has no names with spaces
unformatted=$("$gofmt" -l $(git ls-files '*.go'; git ls-files --others --exclude-standard '*.go'))
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
  # Fails on a vulnerability that the code reaches and that has a fix (scripts/vulngate).
  echo "== govulncheck ($mod)"
  (cd "$mod" && "$GOVULNCHECK" -db "$GOVULNDB" -format json ./...) | go run ./scripts/vulngate
done

# Files tests keep for a reader (the landing page's screenshot, t.ArtifactDir) go to
# .artifacts/<module>/ (TEST_ARTIFACTS to put them elsewhere).
artifacts="${TEST_ARTIFACTS:-$PWD/.artifacts}"
for mod in "${modules[@]}"; do
  echo "== go test ($mod)"
  mkdir -p "$artifacts/$mod"
  (cd "$mod" && go test -race -count=1 -timeout 15m -artifacts -outputdir "$artifacts/$mod" ./...)
done
echo "test artifacts (screenshots): $artifacts"
