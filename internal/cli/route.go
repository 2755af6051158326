package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"time"

	"github.com/signpost-cdn/signpost/control/opsapi"
	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/router/dnsserver"
	"github.com/signpost-cdn/signpost/router/service"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// runRoute is `signpost route`: the data plane.
func runRoute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg service.Config
	var monitors stringList
	fs := newFlagSet("route", "--source SOURCE [--state-dir DIR] [--monitor URL]... [--dns ADDR] [--http ADDR] [--https ADDR] [--api ADDR] [--access-log PATH]", stderr)
	fs.StringVar(&cfg.Source, "source", "", "control source: a snapshot directory, https://[user:pass@]ops-host?cdn=NAME or postgres://...?cdn=NAME[&mode=signpost|trafficops]")
	fs.StringVar(&cfg.SourceCredentials, "source-credentials", "", "file whose first line is user:password for an https:// or postgres:// --source (else the URL's, or $"+opsapi.EnvUser+"/$"+opsapi.EnvPassword+" for the ops API)")
	fs.StringVar(&cfg.StateDir, "state-dir", "", "directory keeping the last good copy of every dataset (served from when the source is unreadable)")
	fs.Var(&monitors, "monitor", "Traffic Monitor base URL polled for /publish/CrStates (repeatable; tried in order with failover)")
	fs.StringVar(&cfg.MonitorConfig, "monitor-config", "", "run a health monitor in this process with this config and follow it (single-host staging)")
	fs.StringVar(&cfg.DNS, "dns", ":53", "DNS listen address, UDP and TCP (empty: off)")
	fs.StringVar(&cfg.HTTP, "http", ":80", "HTTP routing listen address (empty: off)")
	fs.StringVar(&cfg.HTTPS, "https", ":443", "HTTPS routing listen address (empty: off)")
	fs.StringVar(&cfg.API, "api", ":3333", "Traffic Router API, /metrics and /readyz listen address (empty: off)")
	fs.StringVar(&cfg.AccessLog, "access-log", "", "access log path (empty: no access log)")
	fs.Int64Var(&cfg.AccessLogMaxBytes, "access-log-max-bytes", 100<<20, "rotate the access log at this size")
	fs.IntVar(&cfg.AccessLogKeep, "access-log-keep", 10, "rotated access logs to keep")
	fs.DurationVar(&cfg.PollInterval, "poll-interval", 250*time.Millisecond, "how often a snapshot directory is checked for changes")
	fs.IntVar(&cfg.DNSWorkers, "dns-workers", 0, "UDP sockets and workers for DNS (0: one per CPU the process may use)")
	dnsWait := fs.String("dns-wait", "auto", "how idle DNS UDP workers wait: kernel (sleep in recvmmsg, one extra P each), poll (park on epoll), auto (kernel when no --http/--https routing listener is on)")
	hashMode := fs.String("hash-mode", "md5", "consistent hashing: md5 (Traffic Router parity) or xxhash (faster, different placement)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, fs, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	mode, ok := hashring.ParseMode(*hashMode)
	if !ok {
		return usageError(stderr, fs, fmt.Errorf("--hash-mode %q: want md5 or xxhash", *hashMode))
	}
	cfg.HashMode = mode
	cfg.Monitors = monitors
	cfg.Version = version
	cfg.Logger = newLogger(stderr)
	if cfg.DNSWorkers < 0 {
		return usageError(stderr, fs, fmt.Errorf("--dns-workers %d: want 0 (one per CPU) or more", cfg.DNSWorkers))
	}
	if cfg.DNSWait, ok = dnsserver.ParseUDPWait(*dnsWait); !ok {
		return usageError(stderr, fs, fmt.Errorf("--dns-wait %q: want auto, kernel or poll", *dnsWait))
	}
	reserveDNSProcs(&cfg)
	cfg.OnReady = func(a service.Addrs) { printListening(stdout, a) }
	svc, err := service.New(cfg)
	if err != nil {
		return fail(stderr, "route", err)
	}
	if err := svc.Run(ctx); err != nil {
		return fail(stderr, "route", err)
	}
	return 0
}

// reserveDNSProcs settles how the DNS UDP workers wait (cfg.DNSWait) and,
// for the kernel wait, gives every worker a P of its own on top of the
// CPUs the process may use (GOMAXPROCS): a worker asleep in recvmmsg holds
// its P as a running goroutine (dnsserver.WaitKernel), and without a P to
// spare the other goroutines would run only when sysmon preempts it. The
// extra Ps cost nothing while the workers sleep, but they let other
// goroutines run on more threads than CPUs: with HTTP routing in the same
// process that time-slices requests (HTTP p99 1.6 -> 21 ms under wrk on
// one core). So auto picks the kernel wait only for a router without HTTP
// and HTTPS routing listeners. Linux only (elsewhere the workers use the
// portable loop).
func reserveDNSProcs(cfg *service.Config) {
	if cfg.DNS == "" || runtime.GOOS != "linux" {
		cfg.DNSWait = dnsserver.WaitAuto
		return
	}
	if cfg.DNSWait == dnsserver.WaitAuto {
		cfg.DNSWait = dnsserver.WaitPoll
		if cfg.HTTP == "" && cfg.HTTPS == "" {
			cfg.DNSWait = dnsserver.WaitKernel
		}
	}
	procs := runtime.GOMAXPROCS(0)
	if cfg.DNSWorkers == 0 {
		cfg.DNSWorkers = procs
	}
	if cfg.DNSWait != dnsserver.WaitKernel {
		cfg.Logger.Info("dns: UDP workers park on epoll when idle", "workers", cfg.DNSWorkers, "gomaxprocs", procs)
		return
	}
	runtime.GOMAXPROCS(procs + cfg.DNSWorkers)
	cfg.Logger.Info("dns: UDP workers sleep in recvmmsg; GOMAXPROCS raised by one per worker",
		"workers", cfg.DNSWorkers, "gomaxprocs_before", procs, "gomaxprocs", procs+cfg.DNSWorkers)
}

// printListening tells the operator where the router answers, with a dig
// and a curl line to try against the fixture CDN.
func printListening(w io.Writer, a service.Addrs) {
	fmt.Fprintln(w, "signpost route: serving")
	if a.DNS != "" {
		host, port := splitHostPort(a.DNS)
		fmt.Fprintf(w, "  DNS   %s (UDP and TCP)   try: dig @%s -p %s edge.dns-test.thecdn.example.com A\n", a.DNS, host, port)
	}
	if a.HTTP != "" {
		fmt.Fprintf(w, "  HTTP  %s   try: curl -si -H 'Host: tr.http-only-test.thecdn.example.com' 'http://%s/stuff?fakeClientIpAddress=12.34.0.123'\n", a.HTTP, dialable(a.HTTP))
	}
	if a.HTTPS != "" {
		fmt.Fprintf(w, "  HTTPS %s\n", a.HTTPS)
	}
	if a.API != "" {
		fmt.Fprintf(w, "  API   %s   try: curl -s http://%s/crs/stats\n", a.API, dialable(a.API))
	}
}

func splitHostPort(addr string) (string, string) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, "53"
	}
	if h == "" || h == "0.0.0.0" || h == "::" {
		h = "127.0.0.1"
	}
	return h, p
}

func dialable(addr string) string {
	h, p := splitHostPort(addr)
	return net.JoinHostPort(h, p)
}
