# syntax=docker/dockerfile:1
# Multi-stage build: a static binary (CGO off) on a distroless base, run as a non-root user.
# Version data comes in as build arguments, e.g.
#   docker build --build-arg VERSION=$(git describe --tags) --build-arg REVISION=$(git rev-parse HEAD) \
#     --build-arg BRANCH=$(git rev-parse --abbrev-ref HEAD) -t entra-mfa-exporter .
# The Go release is pinned to a patch release (the one in scripts/toolchain.sh; a test keeps the
# two equal), not a floating minor tag: release builds get the standard-library fixes that
# govulncheck checks in CI, and the same build twice gets the same compiler.
ARG GO_VERSION=1.27.3

FROM golang:${GO_VERSION}-bookworm AS build
ARG VERSION=dev
ARG REVISION=unknown
ARG BRANCH=unknown
ARG BUILD_USER=docker
ARG BUILD_DATE=unknown
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
    -ldflags "-s -w \
      -X github.com/prometheus/common/version.Version=${VERSION} \
      -X github.com/prometheus/common/version.Revision=${REVISION} \
      -X github.com/prometheus/common/version.Branch=${BRANCH} \
      -X github.com/prometheus/common/version.BuildUser=${BUILD_USER} \
      -X github.com/prometheus/common/version.BuildDate=${BUILD_DATE}" \
    -o /out/entra-mfa-exporter ./cmd/entra-mfa-exporter
# The state directory (cursors, remembered row ids, counter values) must be writable by the
# non-root user; mount a volume there to keep counts across container restarts.
RUN mkdir -p /out/state

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="entra-mfa-exporter" \
      org.opencontainers.image.description="Prometheus exporter for Microsoft Entra ID sign-in and MFA activity" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/entra-mfa-exporter /bin/entra-mfa-exporter
COPY --from=build --chown=65532:65532 /out/state /var/lib/entra-mfa-exporter
USER 65532:65532
EXPOSE 9905
VOLUME ["/var/lib/entra-mfa-exporter"]
ENTRYPOINT ["/bin/entra-mfa-exporter"]
CMD ["--config.file=/etc/entra-mfa-exporter/config.yml", "--storage.path=/var/lib/entra-mfa-exporter"]
