# shellcheck shell=bash
# Sourced by the scripts (and read by the Makefile and the Dockerfile test): the Go release that
# tests and release builds use. go.mod's `go` line stays lower so that a machine's own Go still
# runs the README's demo command; the go command fetches this release from the module proxy on
# first use (about 10 s) and caches it. Exported here because a machine that sets
# GOTOOLCHAIN=local (as Go's own go.env does on the project's machines) ignores a `toolchain`
# line in go.mod. go1.27.3 is the first release on which govulncheck finds no reachable
# standard-library vulnerability in this module (go1.26.8 had 12, HTTP/2 ones among them).
export GOTOOLCHAIN=go1.27.3
