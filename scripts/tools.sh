#!/usr/bin/env bash
# Installs the tools the tests need into .tools/ (nothing system-wide except apt's package lists):
#   promtool (+ prometheus, alertmanager) from Debian's packages, unpacked with dpkg -x;
#   staticcheck from the Go module proxy.
# Idempotent: a tool already present is not fetched again. Prints the paths as KEY=VALUE lines.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD/.tools"
mkdir -p "$root/bin" "$root/deb"

staticcheck_version=v0.8.2

need_apt=()
[ -x "$root/debroot/usr/bin/promtool" ] || need_apt+=(prometheus)
[ -x "$root/debroot/usr/bin/prometheus-alertmanager" ] || need_apt+=(prometheus-alertmanager)
if [ ${#need_apt[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "tools.sh: apt-get not found; install Prometheus 2.42+ and set PROMTOOL" >&2
    exit 1
  fi
  # apt-get download needs package lists; refresh them once if the package is unknown.
  if ! apt-cache show "${need_apt[@]}" >/dev/null 2>&1; then
    apt-get update -qq >&2
  fi
  (cd "$root/deb" && apt-get download -qq "${need_apt[@]}" >&2)
  for deb in "$root"/deb/*.deb; do dpkg -x "$deb" "$root/debroot"; done
fi

if [ ! -x "$root/bin/staticcheck" ]; then
  GOBIN="$root/bin" go install "honnef.co/go/tools/cmd/staticcheck@$staticcheck_version" >&2
fi

echo "PROMTOOL=$root/debroot/usr/bin/promtool"
echo "PROMETHEUS=$root/debroot/usr/bin/prometheus"
echo "ALERTMANAGER=$root/debroot/usr/bin/prometheus-alertmanager"
echo "AMTOOL=$root/debroot/usr/bin/amtool"
echo "STATICCHECK=$root/bin/staticcheck"
