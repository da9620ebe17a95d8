package main

import (
	"fmt"
	"io"
	"net"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
)

// defaultListenAddress is the exporter's port; 9905 was free in the Prometheus default port
// allocation list when the project started.
const defaultListenAddress = ":9905"

// Commands as kingpin's Parse names them.
const (
	commandServe       = "serve"
	commandCheckConfig = "check-config"
)

// cli is a parsed command line.
type cli struct {
	command    string
	configFile string
	log        *promslog.Config
	server     serverOptions // serve; logger is set by run
	report     *reportCommand
	reportMFA  *reportMFACommand
	explain    *explainCommand
}

// parseArgs parses the command line. Help and usage go to stdout, parse errors to stderr.
func parseArgs(args []string, stdout, stderr io.Writer) (*cli, error) {
	app := kingpin.New("entra-mfa-exporter", "Prometheus exporter for Microsoft Entra ID sign-in and MFA activity, read from Microsoft Graph.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	app.Version(version.Print("entra-mfa-exporter"))
	app.HelpFlag.Short('h')

	c := &cli{log: &promslog.Config{Writer: stderr}}
	app.Flag("config.file", "Path of the configuration file.").Default("entra-mfa-exporter.yml").StringVar(&c.configFile)
	flag.AddFlags(app, c.log)

	serve := app.Command(commandServe, "Run the exporter (the default command).").Default()
	o := &c.server
	serve.Flag("demo", "Run against an embedded simulated tenant instead of Microsoft Graph (no Azure account needed). The data is simulated. Listens on 127.0.0.1 unless --web.listen-address is given.").BoolVar(&o.demo)
	serve.Flag("demo.flows-per-second", "Sign-in flows per second the simulated tenant generates in --demo.").Default("2").Float64Var(&o.demoRate)
	serve.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&o.metricsPath)
	serve.Flag("web.enable-lifecycle", "Enable POST /-/reload, which reloads the configuration file (as Prometheus's flag of the same name does). SIGHUP reloads it either way.").BoolVar(&o.enableLifecycle)
	serve.Flag("web.enable-detections-api", "Serve GET /api/v1/detections: the attack episodes per user, with user ids and (pseudonymised) UPNs, behind the same --web.config.file TLS and basic auth as the metrics. --no-web.enable-detections-api turns it off; the detection metrics stay.").Default("true").BoolVar(&o.detectionsAPI)
	serve.Flag("storage.path", "Directory for the per-tenant state (cursors, remembered row ids, counter values) that makes counting exactly-once across restarts. Empty disables persistence. --demo uses a temporary directory.").Default("data").StringVar(&o.storagePath)
	shardFlag := serve.Flag("tenants.shard", "Serve only the tenants of shard K of N (K/N, 1-based), to split tenants across replicas that share one configuration file. A tenant belongs to shard (FNV-1a 32-bit hash of its name, as UTF-8) mod N + 1.").Default("1/1").String()
	o.web = kingpinflag.AddFlags(serve, defaultListenAddress)
	var listenSet bool
	serve.GetFlag("web.listen-address").IsSetByUser(&listenSet)

	app.Command(commandCheckConfig, "Validate the configuration file and exit (0 when valid).")
	c.report = addReportCommand(app)
	c.reportMFA = addReportMFACommand(c.report.group)
	c.explain = addExplainCommand(app)

	cmd, err := app.Parse(args)
	if err != nil {
		return nil, err
	}
	c.command = cmd
	if cmd == commandServe {
		if o.shard, err = parseShard(*shardFlag); err != nil {
			return nil, fmt.Errorf("--tenants.shard: %w", err)
		}
		if o.demo && !listenSet {
			*o.web.WebListenAddresses = loopbackOnly(*o.web.WebListenAddresses)
		}
	}
	return c, nil
}

// loopbackOnly puts the demo on 127.0.0.1: it exists to be tried on a workstation, and its burst
// endpoint and simulated data have no business on a shared network unless asked for.
func loopbackOnly(addrs []string) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		_, port, err := net.SplitHostPort(a)
		if err != nil {
			out[i] = a // vsock:// and other forms the toolkit understands: left as given
			continue
		}
		out[i] = net.JoinHostPort("127.0.0.1", port)
	}
	return out
}
