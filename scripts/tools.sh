#!/usr/bin/env bash
# Installs what the tests need and a fresh Debian machine lacks, and prints the paths as KEY=VALUE
# lines on stdout (everything else goes to stderr):
#   - the Go release of scripts/toolchain.sh (the go command fetches it from the module proxy);
#   - promtool, prometheus, alertmanager and amtool: Debian's packages, unpacked into .tools/
#     with dpkg -x (no system install);
#   - staticcheck and govulncheck, built from the Go module proxy with that Go release;
#   - an offline vulnerability database for govulncheck, indexed from the Go module
#     golang.org/x/vulndb with its own cmd/indexdb (no network beyond the module proxy);
#   - chromium (the landing page's browser test), systemd-analyze and /bin/kill (the systemd
#     unit's test): Debian's packages, installed system-wide with apt-get (needs root).
# Idempotent: what is present is not fetched again. Go tools are kept per Go release and tool
# version, the database per vulndb version (ENTRA_VULNDB_VERSION=latest takes the newest one).
# A tool that cannot be installed stops the script with a message naming it: tests never skip in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/toolchain.sh
. scripts/toolchain.sh
root="$PWD/.tools"
mkdir -p "$root/deb"

staticcheck_version=v0.8.2
govulncheck_version=v1.9.0
vulndb_version=${ENTRA_VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}

fail() {
  echo "tools.sh: $*" >&2
  exit 1
}

# Fetches the Go release now, so that a failure names the toolchain rather than the first tool.
go version >&2 || fail "cannot get Go $GOTOOLCHAIN through the module proxy (GOTOOLCHAIN=$GOTOOLCHAIN)"

apt_updated=
apt_update() {
  [ -n "$apt_updated" ] && return
  apt-get update -qq >&2 || fail "apt-get update failed"
  apt_updated=1
}

# apt_install PACKAGE... installs Debian packages system-wide.
apt_install() {
  command -v apt-get >/dev/null || fail "apt-get not found; install $* yourself"
  [ "$(id -u)" = 0 ] || fail "installing $* needs root (apt-get install -y $*)"
  apt_update
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2 || fail "apt-get install -y $* failed"
}

# go_tool NAME PACKAGE VERSION prints the path of NAME built from PACKAGE@VERSION with the pinned
# Go release, building it first if needed. A tool built by an older Go can fail to load code of a
# newer standard library, hence one directory per release.
go_tool() {
  local dir="$root/go/$GOTOOLCHAIN/$1@$3"
  if [ ! -x "$dir/$1" ]; then
    echo "tools.sh: building $2@$3" >&2
    GOBIN="$dir" go install "$2@$3" >&2 || fail "go install $2@$3 failed"
  fi
  echo "$dir/$1"
}

# Prometheus tools from Debian's packages, unpacked.
need_deb=()
[ -x "$root/debroot/usr/bin/promtool" ] || need_deb+=(prometheus)
[ -x "$root/debroot/usr/bin/prometheus-alertmanager" ] || need_deb+=(prometheus-alertmanager)
if [ ${#need_deb[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || fail "apt-get not found; install Prometheus 2.42+ and Alertmanager and set PROMTOOL, PROMETHEUS, ALERTMANAGER and AMTOOL"
  # apt-get download needs package lists; refresh them once if a package is unknown.
  apt-cache show "${need_deb[@]}" >/dev/null 2>&1 || apt_update
  (cd "$root/deb" && apt-get download -qq "${need_deb[@]}" >&2) || fail "apt-get download ${need_deb[*]} failed"
  for deb in "$root"/deb/*.deb; do
    dpkg -x "$deb" "$root/debroot" || fail "dpkg -x $deb failed"
  done
fi
for t in promtool prometheus prometheus-alertmanager amtool; do
  [ -x "$root/debroot/usr/bin/$t" ] || fail "$t missing from $root/debroot after unpacking Debian's packages"
done

staticcheck=$(go_tool staticcheck honnef.co/go/tools/cmd/staticcheck "$staticcheck_version")
govulncheck=$(go_tool govulncheck golang.org/x/vuln/cmd/govulncheck "$govulncheck_version")

# The vulnerability database, built once per vulndb version. The module holds the OSV reports
# (data/osv); indexdb writes the layout govulncheck reads (index/*.json, ID/*.json). Commands run
# from / so that the repository's go.mod is neither consulted nor changed.
if [ "$vulndb_version" = latest ]; then
  vulndb_version=$(cd / && go list -m -f '{{.Version}}' golang.org/x/vulndb@latest) || fail "cannot resolve golang.org/x/vulndb@latest"
fi
vulndb="$root/vulndb/$vulndb_version"
if [ ! -f "$vulndb/index/db.json" ]; then
  indexdb=$(go_tool indexdb golang.org/x/vulndb/cmd/indexdb "$vulndb_version")
  src=$(cd / && go mod download -json "golang.org/x/vulndb@$vulndb_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') ||
    fail "go mod download golang.org/x/vulndb@$vulndb_version failed"
  [ -d "$src/data/osv" ] || fail "golang.org/x/vulndb@$vulndb_version has no data/osv directory"
  rm -rf "$vulndb.tmp"
  "$indexdb" -vulns "$src/data/osv" -out "$vulndb.tmp" >&2 || fail "indexing golang.org/x/vulndb@$vulndb_version failed"
  mv "$vulndb.tmp" "$vulndb"
fi

# System packages: Chromium for the browser test, systemd-analyze for the unit test.
command -v chromium >/dev/null || apt_install chromium
chromium=$(command -v chromium) || fail "chromium not on PATH after apt-get install chromium"
"$chromium" --headless --no-sandbox --version >&2 || fail "$chromium does not start"
command -v systemd-analyze >/dev/null || apt_install systemd
# The unit's ExecReload runs /bin/kill, which systemd-analyze verify checks for (Debian: procps).
[ -x /bin/kill ] || apt_install procps
systemd_analyze=$(command -v systemd-analyze) || fail "systemd-analyze not on PATH after apt-get install systemd"

echo "PROMTOOL=$root/debroot/usr/bin/promtool"
echo "PROMETHEUS=$root/debroot/usr/bin/prometheus"
echo "ALERTMANAGER=$root/debroot/usr/bin/prometheus-alertmanager"
echo "AMTOOL=$root/debroot/usr/bin/amtool"
echo "STATICCHECK=$staticcheck"
echo "GOVULNCHECK=$govulncheck"
echo "GOVULNDB=file://$vulndb"
echo "CHROMIUM=$chromium"
echo "SYSTEMD_ANALYZE=$systemd_analyze"
