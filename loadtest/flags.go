package loadtest

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// BindFlags registers the flags of `signpost loadtest run` on fs and
// returns a function building the Config after fs.Parse. Every problem
// (malformed weights, unknown names, bad values) is reported at once.
func BindFlags(fs *flag.FlagSet) func() (Config, error) {
	d := DefaultMix()
	dns := fs.String("dns", "", "router DNS address host:port (UDP, and TCP when the mix has dns-tcp)")
	httpA := fs.String("http", "", "router HTTP address host:port")
	httpsA := fs.String("https", "", "router HTTPS address host:port")
	snap := fs.String("snapshot", "", "snapshot directory the router serves (answers are checked against it)")
	ca := fs.String("ca", "", "PEM file of CAs trusted for HTTPS (default: SNAPSHOT/loadtest-ca.pem if present, else system roots)")
	mode := fs.String("mode", "closed", "closed (keep --concurrency outstanding) or open (send at --rate)")
	rate := fs.Float64("rate", 0, "open loop: requests per second, all protocols together")
	conc := fs.Int("concurrency", 64, "closed loop: outstanding requests, all protocols together")
	dur := fs.Duration("duration", 10*time.Second, "how long to send")
	timeout := fs.Duration("timeout", 2*time.Second, "per-request timeout")
	mix := fs.String("mix", "dns=1,http=1", "protocol weights: dns (UDP), dns-tcp, http, https")
	pops := fs.String("clients", fmt.Sprintf("cz=%g,deep=%g,geo=%g,federation=%g", d.CoverageZone, d.DeepCoverageZone, d.GeoOnly, d.Federation),
		"client population weights from clients.json: cz, deep, geo, federation")
	miss := fs.Float64("miss", d.Miss, "share of requests from clients in no coverage zone and no geo network")
	aaaa := fs.Float64("aaaa", d.AAAA, "share of DNS queries asking AAAA")
	steering := fs.Float64("steering", 0, "share of HTTP(S) requests to steering delivery services")
	dnsN := fs.Int("dns-services", 0, "number of DNS delivery services to query (0: all)")
	httpN := fs.Int("http-services", 0, "number of HTTP delivery services to request (0: all)")
	httpsN := fs.Int("https-services", 0, "number of HTTPS delivery services to request (0: all)")
	seed := fs.Int64("seed", 1, "corpus seed")
	sockets := fs.Int("sockets", 4, "UDP sockets")
	conns := fs.Int("conns", 64, "open loop: connections per TCP protocol")
	corpusN := fs.Int("corpus", 8192, "distinct requests per protocol")
	pipeline := fs.Int("pipeline", 1, "closed loop: HTTP requests pipelined per connection")
	cpuprofile := fs.String("cpuprofile", "", "write the generator's CPU profile (go tool pprof) to FILE")
	return func() (Config, error) {
		c := Config{DNS: *dns, HTTP: *httpA, HTTPS: *httpsA, Snapshot: *snap, CAFile: *ca, Mode: Mode(*mode),
			Rate: *rate, Concurrency: *conc, Duration: Duration(*dur), Timeout: Duration(*timeout), Seed: *seed,
			Sockets: *sockets, Conns: *conns, Corpus: *corpusN, Pipeline: *pipeline, CPUProfile: *cpuprofile}
		c.Mix = Mix{AAAA: *aaaa, Miss: *miss, Steering: *steering, DNSServices: *dnsN, HTTPServices: *httpN, HTTPSServices: *httpsN}
		var errs []error
		if err := parseWeights("--mix", *mix, map[string]*float64{"dns": &c.Mix.DNS, "dns-tcp": &c.Mix.DNSTCP,
			"http": &c.Mix.HTTP, "https": &c.Mix.HTTPS}); err != nil {
			errs = append(errs, err)
		}
		if err := parseWeights("--clients", *pops, map[string]*float64{"cz": &c.Mix.CoverageZone,
			"deep": &c.Mix.DeepCoverageZone, "geo": &c.Mix.GeoOnly, "federation": &c.Mix.Federation}); err != nil {
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			return Config{}, err
		}
		return c, c.withDefaults().Validate()
	}
}

// parseWeights parses "name=weight,..." into dst; names not given are 0.
func parseWeights(flagName, s string, dst map[string]*float64) error {
	for _, p := range dst {
		*p = 0
	}
	var bad []string
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		p, known := dst[strings.TrimSpace(k)]
		if !ok || !known {
			names := make([]string, 0, len(dst))
			for n := range dst {
				names = append(names, n)
			}
			bad = append(bad, fmt.Sprintf("%q: want name=weight with name one of %s", kv, strings.Join(sortStrings(names), ", ")))
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 {
			bad = append(bad, fmt.Sprintf("%q: weight must be a number >= 0", kv))
			continue
		}
		*p = f
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s %q: %s", flagName, s, strings.Join(bad, "; "))
	}
	return nil
}

func sortStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

// ProgressPrinter returns a progress callback writing one line a second to
// w: rewritten in place when w is a terminal, appended otherwise.
func ProgressPrinter(w io.Writer) func(Progress) {
	term := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			term = true
		}
	}
	return func(p Progress) {
		l := p.Last
		line := fmt.Sprintf("%5.0fs  %9.0f req/s  ok %d  expected misses %d  wrong %d  errors %d  timeouts %d  p50 %.3fms  p99 %.3fms  p99.9 %.3fms",
			p.Elapsed.Seconds(), l.Rate, p.Total.OK, p.Total.ExpectedMisses, p.Total.Wrong, p.Total.Errors, p.Total.Timeouts,
			l.Latency.P50, l.Latency.P99, l.Latency.P999)
		if term {
			fmt.Fprint(w, "\r\033[K"+line)
		} else {
			fmt.Fprintln(w, line)
		}
	}
}
