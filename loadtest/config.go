package loadtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Mode is open loop (a target rate) or closed loop (a concurrency).
type Mode string

// Load modes.
const (
	// OpenLoop sends at Rate whatever the router does; latency is measured
	// from each request's scheduled time (coordinated-omission correction).
	OpenLoop Mode = "open"
	// ClosedLoop keeps Concurrency requests outstanding; latency is measured
	// from the actual send.
	ClosedLoop Mode = "closed"
)

// Mix is what the load is made of. Protocol weights split the rate (open
// loop) or the concurrency (closed loop); population weights pick the
// client of each request.
type Mix struct {
	// DNS, DNSTCP, HTTP and HTTPS weigh the protocols (DNS is over UDP).
	DNS    float64 `json:"dns"`
	DNSTCP float64 `json:"dnsTcp"`
	HTTP   float64 `json:"http"`
	HTTPS  float64 `json:"https"`
	// AAAA is the share of DNS queries asking AAAA instead of A.
	AAAA float64 `json:"aaaa"`
	// DNSServices, HTTPServices and HTTPSServices are how many delivery
	// services each protocol exercises (as Traffic Control's load test
	// offers for HTTP and HTTPS); 0 means every eligible one.
	DNSServices   int `json:"dnsServices"`
	HTTPServices  int `json:"httpServices"`
	HTTPSServices int `json:"httpsServices"`
	// Steering is the share of HTTP/HTTPS requests sent to steering
	// delivery services instead of HTTP ones.
	Steering float64 `json:"steering"`
	// Miss is the share of requests from clients in no coverage zone and
	// no geo network (the miss population).
	Miss float64 `json:"miss"`
	// CoverageZone, DeepCoverageZone, GeoOnly and Federation weigh the
	// other client populations of clients.json (Federation applies to DNS).
	CoverageZone     float64 `json:"coverageZone"`
	DeepCoverageZone float64 `json:"deepCoverageZone"`
	GeoOnly          float64 `json:"geoOnly"`
	Federation       float64 `json:"federation"`
}

// DefaultMix is DNS and HTTP in equal parts, 10 % AAAA, 10 % misses, and
// the other clients mostly from coverage zones.
func DefaultMix() Mix {
	return Mix{DNS: 1, HTTP: 1, AAAA: 0.1, Miss: 0.1, CoverageZone: 0.7, DeepCoverageZone: 0.05, GeoOnly: 0.25}
}

// Config is one load test.
type Config struct {
	// DNS, HTTP and HTTPS are the router's addresses (host:port); a
	// protocol with weight needs its address.
	DNS   string `json:"dns,omitempty"`
	HTTP  string `json:"http,omitempty"`
	HTTPS string `json:"https,omitempty"`
	// Snapshot is the snapshot directory the router serves (for checking).
	Snapshot string `json:"snapshot"`
	// CAFile holds PEM certificates trusted for HTTPS; default: the
	// directory's loadtest-ca.pem when present, else the system roots.
	CAFile string `json:"caFile,omitempty"`
	Mode   Mode   `json:"mode"`
	// Rate is requests per second in open loop.
	Rate float64 `json:"rate,omitempty"`
	// Concurrency is outstanding requests in closed loop.
	Concurrency int      `json:"concurrency,omitempty"`
	Duration    Duration `json:"duration"`
	// Timeout is how long a request may take (default 2 s).
	Timeout Duration `json:"timeout"`
	Mix     Mix      `json:"mix"`
	// Seed selects the request corpus.
	Seed int64 `json:"seed"`
	// Sockets is the number of UDP sockets (default 4); Conns the number
	// of HTTP(S)/TCP connections per protocol in open loop (default 64).
	Sockets int `json:"sockets,omitempty"`
	Conns   int `json:"conns,omitempty"`
	// Pipeline is the number of HTTP requests written at once per
	// connection in closed loop (HTTP/1.1 pipelining; default 1, none).
	// Each pipelined request counts toward Concurrency's share as one
	// connection: outstanding requests are connections × Pipeline.
	Pipeline int `json:"pipeline,omitempty"`
	// Corpus is the number of distinct requests per protocol (default 8192).
	Corpus int `json:"corpus,omitempty"`
	// Samples is how many wrong answers and errors are kept (default 20).
	Samples int `json:"samples,omitempty"`
	// CPUProfile, when set, is a file the generator's CPU profile of the
	// sending time is written to (go tool pprof). Not settable over the
	// web API.
	CPUProfile string `json:"-"`
}

// Duration is a time.Duration that encodes to JSON as a string ("10s").
type Duration time.Duration

// MarshalJSON encodes d as "1.5s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON accepts "1.5s" or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("duration: want a string like \"10s\", got %s", b)
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// withDefaults fills zero fields.
func (c Config) withDefaults() Config {
	if c.Mode == "" {
		c.Mode = ClosedLoop
	}
	if c.Timeout <= 0 {
		c.Timeout = Duration(2 * time.Second)
	}
	if c.Sockets <= 0 {
		c.Sockets = 4
	}
	if c.Conns <= 0 {
		c.Conns = 64
	}
	if c.Corpus <= 0 {
		c.Corpus = 8192
	}
	if c.Pipeline <= 0 {
		c.Pipeline = 1
	}
	if c.Samples <= 0 {
		c.Samples = 20
	}
	if c.Mode == ClosedLoop && c.Concurrency <= 0 {
		c.Concurrency = 64
	}
	return c
}

// Validate lists every problem of the configuration in one error.
func (c Config) Validate() error {
	var ps []string
	bad := func(field string, v any, msg string) {
		ps = append(ps, fmt.Sprintf("%s %v: %s", field, v, msg))
	}
	if c.Snapshot == "" {
		ps = append(ps, "snapshot: required (the snapshot directory the router serves)")
	}
	switch c.Mode {
	case OpenLoop:
		if c.Rate <= 0 {
			bad("rate", c.Rate, "must be > 0 in open loop")
		}
	case ClosedLoop:
		if c.Concurrency <= 0 {
			bad("concurrency", c.Concurrency, "must be > 0 in closed loop")
		}
	default:
		bad("mode", strconv.Quote(string(c.Mode)), `must be "open" or "closed"`)
	}
	if c.Duration <= 0 {
		bad("duration", time.Duration(c.Duration), "must be > 0")
	}
	m := c.Mix
	for _, w := range []struct {
		name string
		v    float64
	}{{"mix.dns", m.DNS}, {"mix.dnsTcp", m.DNSTCP}, {"mix.http", m.HTTP}, {"mix.https", m.HTTPS},
		{"mix.coverageZone", m.CoverageZone}, {"mix.deepCoverageZone", m.DeepCoverageZone},
		{"mix.geoOnly", m.GeoOnly}, {"mix.federation", m.Federation}} {
		if w.v < 0 {
			bad(w.name, w.v, "must be >= 0")
		}
	}
	for _, s := range []struct {
		name string
		v    float64
	}{{"mix.aaaa", m.AAAA}, {"mix.steering", m.Steering}, {"mix.miss", m.Miss}} {
		if s.v < 0 || s.v > 1 {
			bad(s.name, s.v, "must be a share in [0,1]")
		}
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"mix.dnsServices", m.DNSServices}, {"mix.httpServices", m.HTTPServices}, {"mix.httpsServices", m.HTTPSServices}} {
		if n.v < 0 {
			bad(n.name, n.v, "must be >= 0")
		}
	}
	if m.DNS+m.DNSTCP+m.HTTP+m.HTTPS <= 0 {
		ps = append(ps, "mix: every protocol weight is 0")
	}
	for _, a := range []struct {
		name, addr string
		w          float64
	}{{"dns", c.DNS, m.DNS + m.DNSTCP}, {"http", c.HTTP, m.HTTP}, {"https", c.HTTPS, m.HTTPS}} {
		if a.w > 0 && a.addr == "" {
			bad(a.name, `""`, "an address is required when the mix sends "+a.name)
		}
		if a.addr != "" {
			if _, _, err := net.SplitHostPort(a.addr); err != nil {
				bad(a.name, strconv.Quote(a.addr), "want host:port")
			}
		}
	}
	if len(ps) > 0 {
		return errors.New("loadtest: invalid configuration: " + strings.Join(ps, "; "))
	}
	return nil
}
