# Convenience targets; scripts/test.sh is the source of truth for what CI runs.
# Builds and tests use the Go release of scripts/toolchain.sh, as the scripts do.
export GOTOOLCHAIN := $(shell sed -n 's/^export GOTOOLCHAIN=//p' scripts/toolchain.sh)
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH   ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
PKG      := github.com/prometheus/common/version
LDFLAGS  := -X $(PKG).Version=$(VERSION) -X $(PKG).Revision=$(REVISION) -X $(PKG).Branch=$(BRANCH) \
            -X $(PKG).BuildUser=$(USER) -X $(PKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

.PHONY: build test lint vulncheck demo bench fuzz
build:
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o entra-mfa-exporter ./cmd/entra-mfa-exporter
test:
	./scripts/test.sh
lint:
	tools=$$(./scripts/tools.sh) && eval "$$tools" && go vet ./... && $$STATICCHECK ./...
vulncheck:
	tools=$$(./scripts/tools.sh) && eval "$$tools" && \
	  $$GOVULNCHECK -db "$$GOVULNDB" -format json ./... | go run ./scripts/vulngate
demo:
	go run ./cmd/entra-mfa-exporter --demo
bench:
	./scripts/bench.sh
fuzz:
	go test ./mfa -run '^$$' -fuzz FuzzClassify -fuzztime 60s
	go test ./graph -run '^$$' -fuzz FuzzDecodePage -fuzztime 60s
