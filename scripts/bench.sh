#!/usr/bin/env bash
# Prints the project's performance figures (nothing here is asserted as a timing in a unit test):
#   - graph: decoding a 1,000-row page of realistic 5-15 KB sign-in rows (MB/s, allocations);
#   - mfa: classifying one sign-in row;
#   - collector: one compressed simulated day through the real pipeline: rows counted vs ground
#     truth, fetches per row (target <= 2), Graph requests per 1,000 rows, p50/p99 delay from
#     createdDateTime to counted, late rows, peak heap, state size.
# ENTRA_DAY_FLOWS_PER_SECOND (default 0.3) sets the simulated day's traffic.
set -euo pipefail
cd "$(dirname "$0")/.."
# The figures are those of the Go release that release builds use.
# shellcheck source=scripts/toolchain.sh
. scripts/toolchain.sh
go test -run '^$' -bench 'BenchmarkDecodePage' -benchmem ./graph
go test -run '^$' -bench 'BenchmarkClassify' -benchmem ./mfa
go test -run '^$' -bench 'BenchmarkCompressedDay' -benchtime 1x ./collector
