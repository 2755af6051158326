// Package dnsload generates the inputs of `make bench-dns`: one small CDN
// served three ways so that the answers correspond query for query.
//
//   - signpost/: a snapshot directory (crconfig.json, czmap.json) for
//     `signpost route`, with config ecsEnable on. The delivery service
//     "geo" (ecsEnabled, routing name "edge", one address per answer) is
//     deployed on one cache per cache group; czmap.json spreads
//     Prefixes random /24s over Groups cache groups. The delivery service
//     "static" carries static DNS entries: www, img, and StaticNames names
//     h0..hN-1 (A, plus AAAA on every fourth).
//   - knot/: Knot DNS serving static.<domain> as a plain zone with the same
//     names, addresses and TTLs.
//   - gdnsd/: gdnsd serving geo.<domain> with the geoip plugin: a nets map of
//     the same /24s over the same number of datacenters, one address per
//     datacenter (the address of that cache group's cache).
//   - dnsperf query files: queries-static.txt (two names), queries-mix.txt
//     (10% NXDOMAIN, 10% AAAA) and queries-ecs.bin, the routed name with a
//     different ECS client subnet in every query, in dnsperf's binary (-B,
//     TCP stream) format; ecs-checks.txt lists subnets with the address both
//     routers must answer.
//
// Generation is deterministic: the same Options give byte-identical files.
// See docs/benchmarks-dns.md.
package dnsload

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
)

// Options sizes the benchmark CDN and names the peers' listen ports.
type Options struct {
	// Seed selects the /24s, their cache groups and the query order.
	Seed uint64
	// Prefixes is the number of coverage zone /24s (all inside 10.0.0.0/8).
	Prefixes int
	// Groups is the number of cache groups (gdnsd datacenters), at most 200.
	Groups int
	// StaticNames is the number of h<i> names in the static zone.
	StaticNames int
	// MixQueries is the number of lines in queries-mix.txt.
	MixQueries int
	// ECSQueries is the number of messages in queries-ecs.bin.
	ECSQueries int
	// EdgeDNSRouting sets config edge.dns.routing in crconfig.json.
	EdgeDNSRouting bool
	// KnotPort and GdnsdPort are the loopback ports the peer configurations
	// listen on.
	KnotPort, GdnsdPort int
}

// Defaults returns the sizes BENCHMARKING.md describes: 2,000 /24s over 10
// datacenters, 1,000 static names, 10,000 mixed queries, 20,000 ECS queries.
func Defaults() Options {
	return Options{
		Seed: 1, Prefixes: 2000, Groups: 10, StaticNames: 1000,
		MixQueries: 10000, ECSQueries: 20000, KnotPort: 5301, GdnsdPort: 5332,
	}
}

// Domain is the CDN domain of the benchmark snapshot.
const Domain = "cdn.test"

// Names the benchmark queries.
const (
	// StaticZone holds the static names (Knot's zone, signpost's "static"
	// delivery service).
	StaticZone = "static." + Domain
	// GeoZone holds the routed name (gdnsd's zone, signpost's "geo"
	// delivery service).
	GeoZone = "geo." + Domain
	// RoutedName is the DNS routing name answered per client subnet.
	RoutedName = "edge." + GeoZone
)

// Validate lists every problem of o in one error.
func (o Options) Validate() error {
	var errs []error
	check := func(name string, v, lo, hi int) {
		if v < lo || v > hi {
			errs = append(errs, fmt.Errorf("%s %d: must be between %d and %d", name, v, lo, hi))
		}
	}
	check("Prefixes", o.Prefixes, 1, 60000)
	check("Groups", o.Groups, 1, 200)
	check("StaticNames", o.StaticNames, 4, 60000)
	check("MixQueries", o.MixQueries, 1, 10000000)
	check("ECSQueries", o.ECSQueries, 1, 10000000)
	check("KnotPort", o.KnotPort, 1, 65535)
	check("GdnsdPort", o.GdnsdPort, 1, 65535)
	if o.Prefixes < o.Groups && o.Prefixes >= 1 && o.Groups >= 1 {
		errs = append(errs, fmt.Errorf("Prefixes %d: must be at least Groups (%d)", o.Prefixes, o.Groups))
	}
	if len(errs) > 0 {
		return fmt.Errorf("dnsload: invalid options: %w", errors.Join(errs...))
	}
	return nil
}

// zoneNet is one coverage zone /24 and the cache group (datacenter) it maps to.
type zoneNet struct {
	prefix netip.Prefix
	group  int
}

// plan holds the random choices every output file derives from.
type plan struct {
	o    Options
	nets []zoneNet // in draw order
	dir  string    // absolute output directory, for peer configurations
}

func newPlan(o Options, dir string) *plan {
	rng := rand.New(rand.NewPCG(o.Seed, 0x646e736c6f6164))
	seen := make(map[uint32]bool, o.Prefixes)
	p := &plan{o: o, dir: dir, nets: make([]zoneNet, 0, o.Prefixes)}
	for len(p.nets) < o.Prefixes {
		// 10.b.c.0/24, avoiding 10.255.x (kept free for misses).
		bc := uint32(rng.IntN(255 * 256))
		if seen[bc] {
			continue
		}
		seen[bc] = true
		// The first Groups prefixes cover every group once; the rest are random.
		g := len(p.nets)
		if g >= o.Groups {
			g = rng.IntN(o.Groups)
		}
		a := netip.AddrFrom4([4]byte{10, byte(bc >> 8), byte(bc), 0})
		p.nets = append(p.nets, zoneNet{netip.PrefixFrom(a, 24), g})
	}
	return p
}

// groupName is the cache group (and gdnsd datacenter) name of group g.
func groupName(g int) string { return fmt.Sprintf("dc%d", g) }

// cacheAddr is the address of the one cache in group g: 192.0.2.20+g
// (198.51.100.x beyond 200 groups is never needed: Groups <= 200).
func cacheAddr(g int) netip.Addr { return netip.AddrFrom4([4]byte{192, 0, 2, byte(20 + g)}) }

// loopbackGroup is the group 127.0.0.0/8 maps to, so that a plain dig from
// loopback gets a routed answer too.
const loopbackGroup = 1

// staticAddr4 and staticAddr6 are the addresses of h<i>.
func staticAddr4(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
}

func staticAddr6(i int) netip.Addr {
	b := netip.MustParseAddr("2001:db8::").As16()
	b[14], b[15] = byte(i>>8), byte(i)
	return netip.AddrFrom16(b)
}

// Generate returns every output file, keyed by its path relative to dir.
// dir must be absolute: the peer configurations name their directories.
func Generate(dir string, o Options) (map[string][]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("dnsload: output directory %q: must be absolute", dir)
	}
	p := newPlan(o, dir)
	files := map[string][]byte{}
	crconfig, err := p.crconfig()
	if err != nil {
		return nil, err
	}
	files["signpost/crconfig.json"] = crconfig
	czmap, err := p.czmap()
	if err != nil {
		return nil, err
	}
	files["signpost/czmap.json"] = czmap
	files["knot/knot.conf"] = p.knotConf()
	files["knot/zones/"+StaticZone+".zone"] = p.staticZone()
	files["gdnsd/config"] = p.gdnsdConfig()
	files["gdnsd/zones/"+GeoZone] = p.geoZone()
	files["queries-static.txt"] = staticQueries()
	files["queries-mix.txt"] = p.mixQueries()
	ecs, err := p.ecsQueries()
	if err != nil {
		return nil, err
	}
	files["queries-ecs.bin"] = ecs
	files["ecs-checks.txt"] = p.ecsChecks()
	return files, nil
}

// Write generates into dir (made absolute), creating the peers' run and
// state directories, and returns the relative paths written, sorted.
func Write(dir string, o Options) ([]string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("dnsload: output directory %q: %w", dir, err)
	}
	files, err := Generate(abs, o)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"knot/run", "knot/db", "gdnsd/run", "gdnsd/state"} {
		if err := os.MkdirAll(filepath.Join(abs, d), 0o755); err != nil {
			return nil, fmt.Errorf("dnsload: %w", err)
		}
	}
	names := make([]string, 0, len(files))
	for name, data := range files {
		path := filepath.Join(abs, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("dnsload: %w", err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, fmt.Errorf("dnsload: %w", err)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}
