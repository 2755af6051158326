// Package cdngen generates synthetic CDNs for load tests and benchmarks: a
// complete snapshot directory (crconfig.json, crstates.json, czmap.json,
// dczmap.json, steering.json, federations.json and a MaxMind City geo.mmdb)
// in the shapes Traffic Ops and Traffic Monitor emit, plus clients.json, the
// client addresses and routing names a load generator sends queries with.
//
// Generation is deterministic: the same Options (seed included) give
// byte-identical files. Large files are streamed through a fixed buffer; the
// memory held is proportional to the number of prefixes and networks, not to
// the size of the snapshot.
//
// See docs/loadtest-gen.md.
package cdngen

import (
	"errors"
	"fmt"
	"strings"
)

// Options sizes and shapes a synthetic CDN. Scale returns the presets;
// counts may also be set explicitly. Zero values of the derived fields
// (GroupsPerDS, CachesPerGroupPerDS, Routers, Clients, Domain, CDNName, Date)
// select the documented defaults.
type Options struct {
	// Seed selects the random choices; the same Options give the same bytes.
	Seed int64
	// DeliveryServices is the number of delivery services, steering ones
	// included.
	DeliveryServices int
	// Caches is the number of edge caches, spread evenly over CacheGroups.
	Caches int
	// CacheGroups is the number of edge cache groups; each is also a
	// coverage zone of czmap.json.
	CacheGroups int
	// CoverageZonePrefixes is the number of networks in czmap.json, one in
	// four IPv6.
	CoverageZonePrefixes int
	// GeoNetworks is the number of networks in geo.mmdb, one in four IPv6.
	GeoNetworks int
	// DNSShare is the share of (non-steering) delivery services that are DNS
	// delivery services, in [0,1].
	DNSShare float64
	// HTTPSShare is the share of HTTP delivery services that accept HTTPS, in
	// [0,1]; they cycle through HTTPS only, HTTP and HTTPS, and
	// redirect-to-HTTPS.
	HTTPSShare float64
	// SteeringServices is the number of steering delivery services (the
	// second of every four is CLIENT_STEERING). They are the last ones, count towards
	// DeliveryServices, have no caches and steer to HTTP delivery services.
	SteeringServices int
	// DeepZones is the number of deep coverage zones in dczmap.json (at most
	// CacheGroups).
	DeepZones int
	// Federations is the number of DNS delivery services with a federation
	// mapping in federations.json (at most 16 and at most the DNS delivery
	// services).
	Federations int
	// GroupsPerDS is the number of cache groups a delivery service is
	// deployed in; every fiftieth delivery service is deployed in all of
	// them. 0 selects max(min(CacheGroups, 6), CacheGroups/10).
	GroupsPerDS int
	// CachesPerGroupPerDS is how many caches of a cache group serve one
	// delivery service deployed there. 0 selects half the group's caches
	// (rounded up).
	CachesPerGroupPerDS int
	// Routers is the number of Traffic Routers in contentRouters. 0 selects
	// 2 + CacheGroups/200.
	Routers int
	// UnavailableShare is the share of caches crstates.json marks unavailable,
	// in [0,1).
	UnavailableShare float64
	// Clients is the number of coverage zone clients and of geo-only clients
	// in clients.json (a tenth as many miss both). 0 selects
	// min(max(CoverageZonePrefixes, 64), 100000).
	Clients int
	// Domain is the CDN domain (config.domain_name); default
	// "loadtest.example.net".
	Domain string
	// CDNName is stats.CDN_name; default "loadtest".
	CDNName string
	// Date is stats.date in epoch seconds; 0 selects 1700000000 plus the
	// seed modulo 1e6 (always positive, never the wall clock).
	Date int64
}

// Scale returns the options of a named preset: "small" (about the size of
// Traffic Router's test fixture), "medium" (about a tenth of large) and
// "large" (2,000 delivery services, 10,000 caches in 1,000 cache groups,
// 200,000 coverage zone prefixes, 500,000 geo networks). The seed is 1; set
// Options.Seed to vary it.
func Scale(name string) (Options, error) {
	o := Options{Seed: 1, DNSShare: 0.25, HTTPSShare: 0.3, UnavailableShare: 0.02}
	switch name {
	case "small":
		o.DeliveryServices, o.Caches, o.CacheGroups = 24, 36, 9
		o.CoverageZonePrefixes, o.GeoNetworks = 72, 512
		o.SteeringServices, o.DeepZones, o.Federations = 3, 2, 1
	case "medium":
		o.DeliveryServices, o.Caches, o.CacheGroups = 200, 1000, 100
		o.CoverageZonePrefixes, o.GeoNetworks = 20000, 50000
		o.SteeringServices, o.DeepZones, o.Federations = 10, 10, 4
	case "large":
		o.DeliveryServices, o.Caches, o.CacheGroups = 2000, 10000, 1000
		o.CoverageZonePrefixes, o.GeoNetworks = 200000, 500000
		o.SteeringServices, o.DeepZones, o.Federations = 40, 20, 8
	default:
		return Options{}, fmt.Errorf("cdngen: unknown scale %q (want small, medium or large)", name)
	}
	return o.normalize()
}

// ScaleNames lists the presets Scale knows, smallest first.
func ScaleNames() []string { return []string{"small", "medium", "large"} }

// Limits of the address plan (docs/loadtest-gen.md, "Address plan").
const (
	maxPrefixes    = 1 << 20
	maxGeoNetworks = 1500000
	maxCaches      = 1 << 22
	maxFederations = 16
)

// normalize fills the derived defaults and checks every field, listing every
// problem.
func (o Options) normalize() (Options, error) {
	var errs []string
	bad := func(field string, v any, msg string) {
		errs = append(errs, fmt.Sprintf("%s %v: %s", field, v, msg))
	}
	count := func(field string, v, lo, hi int) {
		if v < lo || v > hi {
			bad(field, v, fmt.Sprintf("must be between %d and %d", lo, hi))
		}
	}
	share := func(field string, v float64, hiOpen bool) {
		switch {
		case !(v >= 0 && v <= 1):
			bad(field, v, "must be a share in [0,1]")
		case hiOpen && v == 1:
			bad(field, v, "must be below 1")
		}
	}
	count("DeliveryServices", o.DeliveryServices, 1, 1<<20)
	count("CacheGroups", o.CacheGroups, 1, 1<<20)
	count("Caches", o.Caches, max(o.CacheGroups, 1), maxCaches)
	count("CoverageZonePrefixes", o.CoverageZonePrefixes, 0, maxPrefixes)
	count("GeoNetworks", o.GeoNetworks, 0, maxGeoNetworks)
	count("SteeringServices", o.SteeringServices, 0, max(o.DeliveryServices-2, 0))
	count("DeepZones", o.DeepZones, 0, max(o.CacheGroups, 0))
	count("GroupsPerDS", o.GroupsPerDS, 0, max(o.CacheGroups, 0))
	count("CachesPerGroupPerDS", o.CachesPerGroupPerDS, 0, maxCaches)
	count("Routers", o.Routers, 0, 1000)
	count("Clients", o.Clients, 0, 1<<24)
	share("DNSShare", o.DNSShare, false)
	share("HTTPSShare", o.HTTPSShare, false)
	share("UnavailableShare", o.UnavailableShare, true)
	if o.Date < 0 {
		bad("Date", o.Date, "must not be negative")
	}
	if len(errs) == 0 {
		regular := o.DeliveryServices - o.SteeringServices
		dns := shareCount(regular, o.DNSShare)
		if o.SteeringServices > 0 && regular-dns < 2 {
			bad("SteeringServices", o.SteeringServices, fmt.Sprintf("needs at least 2 HTTP delivery services to steer to, have %d", regular-dns))
		}
		count("Federations", o.Federations, 0, min(dns, maxFederations))
	}
	if o.Domain == "" {
		o.Domain = "loadtest.example.net"
	}
	o.Domain = strings.ToLower(strings.TrimSuffix(o.Domain, "."))
	if !validDomain(o.Domain) {
		bad("Domain", fmt.Sprintf("%q", o.Domain), "must be a DNS name of at least two labels of letters, digits and '-'")
	}
	if o.CDNName == "" {
		o.CDNName = "loadtest"
	}
	if len(errs) > 0 {
		return Options{}, errors.New("cdngen: invalid options: " + strings.Join(errs, "; "))
	}
	if o.Date == 0 {
		o.Date = 1700000000 + (o.Seed%1000000+1000000)%1000000
	}
	if o.GroupsPerDS == 0 {
		o.GroupsPerDS = max(min(o.CacheGroups, 6), o.CacheGroups/10)
	}
	if o.Routers == 0 {
		o.Routers = 2 + o.CacheGroups/200
	}
	if o.Clients == 0 {
		o.Clients = min(max(o.CoverageZonePrefixes, 64), 100000)
	}
	return o, nil
}

// shareCount is how many of n items a share selects (items i for which
// floor((i+1)*s) > floor(i*s), as pick does).
func shareCount(n int, s float64) int {
	c := 0
	for i := range n {
		if pick(i, s) {
			c++
		}
	}
	return c
}

// pick spreads a share evenly over indexes: it selects item i when the
// running count floor((i+1)*s) increases.
func pick(i int, s float64) bool {
	return int(float64(i+1)*s) > int(float64(i)*s)
}

func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 || len(d) > 200 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
