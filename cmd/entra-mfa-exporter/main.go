// Command entra-mfa-exporter exposes Microsoft Entra ID sign-in and MFA activity, read from
// Microsoft Graph, as Prometheus metrics.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/version"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
)

func init() {
	// Builds without -ldflags (go run, go test) would expose empty build_info labels.
	if version.Version == "" {
		version.Version = "dev"
	}
	if version.Branch == "" {
		version.Branch = "unknown"
	}
	if version.Revision == "" {
		version.Revision = "unknown"
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses args and runs the chosen command until ctx is done; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseArgs(args, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "entra-mfa-exporter: %v\n", err)
		return 2
	}
	logger := promslog.New(c.log)

	switch c.command {
	case commandCheckConfig:
		return checkConfig(c.configFile, stdout, stderr)
	case c.report.FullCommand():
		return c.report.run(ctx, c.configFile, stdout, stderr, logger)
	case c.reportMFA.FullCommand():
		return c.reportMFA.run(ctx, c.configFile, stdout, stderr, logger)
	case c.explain.FullCommand():
		return c.explain.run(stdout, stderr)
	case commandServe:
		c.server.configFile, c.server.logger = c.configFile, logger
		if err := runServer(ctx, c.server); err != nil {
			logger.Error("exporter stopped", "err", err)
			return 1
		}
		return 0
	}
	return 2
}

// checkConfig validates the configuration file. Its errors quote the values they reject, so
// secret-looking ones are redacted: the output lands in terminals and CI logs.
func checkConfig(file string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(file)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", config.RedactFileError(file, err))
		return 1
	}
	fmt.Fprintf(stdout, "%s: valid, %d tenant(s)\n", file, len(cfg.Tenants))
	return 0
}
