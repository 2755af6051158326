package cdngen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
)

// Random streams: each part of the CDN draws from its own stream, so
// changing one count leaves the other parts as they were.
const (
	streamGroups uint64 = iota + 0x5167
	streamCZ
	streamGeo
	streamDS
	streamHealth
	streamClients
	streamSteering
)

// DS kinds.
type dsKind uint8

const (
	kindHTTP dsKind = iota
	kindDNS
	kindSteering
	kindClientSteering
)

// String is the delivery service type as Traffic Ops names it.
func (k dsKind) String() string {
	switch k {
	case kindDNS:
		return "DNS"
	case kindSteering:
		return "STEERING"
	case kindClientSteering:
		return "CLIENT_STEERING"
	}
	return "HTTP"
}

// namePrefix starts the xml_id of a delivery service of this kind.
func (k dsKind) namePrefix() string {
	switch k {
	case kindDNS:
		return "dns"
	case kindSteering:
		return "steering"
	case kindClientSteering:
		return "csteering"
	}
	return "http"
}

// HTTPS variants of HTTP delivery services.
const (
	httpOnly = iota
	httpsOnly
	httpAndHTTPS
	redirectToHTTPS
)

// group is an edge cache group (and its coverage zone).
type group struct {
	name        string
	lat, lon    float64
	firstCache  int
	caches      int
	methods     []string
	backups     []int
	fallback    bool
	hasBackups  bool
	countryCode string
}

// dsSpec is one delivery service; the remaining fields are derived from its
// index where they are written.
type dsSpec struct {
	id          string
	kind        dsKind
	routingName string
	https       int
	global      bool
	start       int // first cache group of the footprint
	deep        bool
	czOnly      bool
	queryParams []string
	lat, lon    float64 // missLocation
}

// fqdn is the routing name a client asks for: routingName.xmlId.domain.
func (d *dsSpec) fqdn(domain string) string { return d.routingName + "." + d.id + "." + domain }

// plan is the whole CDN in compact form: every file is written from it.
type plan struct {
	o         Options
	countries []country
	groups    []group
	ds        []dsSpec
	regular   int   // delivery services before the steering ones
	httpDS    []int // indexes of HTTP (non-steering) delivery services
	cz        []prefix
	geoNets   []prefix
	cities    []city
	deep      []deepZone
	feds      []int // DNS delivery services with a federation
	down      []bool
	down6     []bool
	cachePad  int
	err       error // set when the counts overflow the address plan
}

// prefix is a network: addr is the IPv4 address, or the top 64 bits of an
// IPv6 address (every generated IPv6 network is /64 or shorter).
type prefix struct {
	addr   uint64
	bits   uint8
	v6     bool
	child  bool  // nested inside a longer prefix of another zone
	parent bool  // has a nested child at its end
	owner  int32 // zone (coverage zones) or record (geo networks)
}

type deepZone struct {
	group int
	nets  []prefix
}

func newPlan(o Options) *plan {
	p := &plan{o: o, countries: countryTable()}
	p.cachePad = len(strconv.Itoa(o.Caches - 1))
	p.planGroups()
	p.planDS()
	p.planCoverage()
	p.planDeep()
	p.planGeo()
	p.planHealth()
	return p
}

func (p *plan) rng(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(p.o.Seed), stream))
}

// mix is a deterministic hash of the seed and a few integers (splitmix64).
func (p *plan) mix(vals ...uint64) uint64 {
	h := uint64(p.o.Seed) ^ 0x9e3779b97f4a7c15
	for _, v := range vals {
		h ^= v + 0x9e3779b97f4a7c15 + h<<6 + h>>2
		h = (h ^ h>>30) * 0xbf58476d1ce4e5b9
		h = (h ^ h>>27) * 0x94d049bb133111eb
		h ^= h >> 31
	}
	return h
}

func pad(prefix string, i, n int) string {
	return fmt.Sprintf("%s-%0*d", prefix, len(strconv.Itoa(max(n-1, 0))), i)
}

// jitter returns a point within about d degrees of (lat, lon), rounded to
// four decimals, latitude kept inside ±80.
func jitter(r *rand.Rand, lat, lon, d float64) (float64, float64) {
	lat += (r.Float64()*2 - 1) * d
	lon += (r.Float64()*2 - 1) * d
	lat = min(max(lat, -80), 80)
	if lon > 180 {
		lon -= 360
	} else if lon < -180 {
		lon += 360
	}
	return round4(lat), round4(lon)
}

func round4(f float64) float64 {
	if f < 0 {
		return -float64(int64(-f*1e4+0.5)) / 1e4
	}
	return float64(int64(f*1e4+0.5)) / 1e4
}

func (p *plan) planGroups() {
	o := p.o
	r := p.rng(streamGroups)
	p.groups = make([]group, o.CacheGroups)
	per, extra := o.Caches/o.CacheGroups, o.Caches%o.CacheGroups
	next := 0
	for g := range p.groups {
		c := &p.countries[r.IntN(len(p.countries))]
		gr := &p.groups[g]
		gr.name = pad("cg", g, o.CacheGroups)
		gr.countryCode = c.code
		gr.lat, gr.lon = jitter(r, c.lat, c.lon, 6)
		gr.firstCache = next
		gr.caches = per
		if g < extra {
			gr.caches++
		}
		next += gr.caches
		switch v := r.IntN(20); {
		case v == 0:
			gr.methods = []string{"CZ"}
		case v == 1:
			gr.methods = []string{"CZ", "GEO"}
		default:
			gr.methods = []string{"CZ", "DEEP_CZ", "GEO"}
		}
		gr.fallback = true
		if o.CacheGroups > 2 && r.IntN(10) == 0 {
			gr.hasBackups = true
			gr.backups = []int{(g + 1) % o.CacheGroups, (g + 2) % o.CacheGroups}
			gr.fallback = r.IntN(2) == 0
		}
	}
}

func (p *plan) planDS() {
	o := p.o
	r := p.rng(streamDS)
	p.regular = o.DeliveryServices - o.SteeringServices
	p.ds = make([]dsSpec, o.DeliveryServices)
	nHTTP := 0
	for i := range p.ds {
		d := &p.ds[i]
		switch {
		case i >= p.regular:
			d.kind = kindSteering
			if (i-p.regular)%4 == 1 {
				d.kind = kindClientSteering
			}
		case pick(i, o.DNSShare):
			d.kind = kindDNS
		}
		d.id = pad(d.kind.namePrefix(), i, o.DeliveryServices)
		d.routingName = "tr"
		switch d.kind {
		case kindDNS:
			d.routingName = "edge"
			if i%10 == 9 {
				d.routingName = "cdn"
			}
		case kindHTTP:
			if i%10 == 9 {
				d.routingName = "video"
			}
			if pick(nHTTP, o.HTTPSShare) {
				d.https = 1 + nHTTP%3
			}
			nHTTP++
			p.httpDS = append(p.httpDS, i)
			d.deep = i%20 == 7
			if i%5 == 2 {
				d.queryParams = []string{"session", "quality"}
			}
		}
		d.global = i%50 == 0
		d.start = int(p.mix(1, uint64(i)) % uint64(o.CacheGroups))
		d.czOnly = d.kind != kindSteering && d.kind != kindClientSteering && i%50 == 25
		c := &p.countries[r.IntN(len(p.countries))]
		d.lat, d.lon = jitter(r, c.lat, c.lon, 2)
	}
	for i := 0; i < p.regular && len(p.feds) < o.Federations; i++ {
		if p.ds[i].kind == kindDNS {
			p.feds = append(p.feds, i)
		}
	}
}

// inGroup reports whether regular delivery service d is deployed in cache
// group g: a global one everywhere, the others in GroupsPerDS groups spread
// evenly from a per-service start.
func (p *plan) inGroup(d, g int) bool {
	ds := &p.ds[d]
	if ds.global {
		return true
	}
	n := p.o.CacheGroups
	step := n / p.o.GroupsPerDS
	off := (g - ds.start + n) % n
	return off%step == 0 && off/step < p.o.GroupsPerDS
}

// servedBy reports whether the cache at position pos of group g (with n
// caches) serves delivery service d deployed there: a window of
// CachesPerGroupPerDS caches starting at a per-(d,g) offset.
func (p *plan) servedBy(d, g, pos, n int) bool {
	k := p.o.CachesPerGroupPerDS
	if k == 0 {
		k = (n + 1) / 2
	}
	k = min(k, n)
	o := int(p.mix(2, uint64(d), uint64(g)) % uint64(n))
	return (pos-o+n)%n < k
}

// groupDS lists the regular delivery services deployed in group g.
func (p *plan) groupDS(g int, dst []int) []int {
	dst = dst[:0]
	for d := range p.regular {
		if p.inGroup(d, g) {
			dst = append(dst, d)
		}
	}
	return dst
}

func (p *plan) cacheName(i int) string {
	return fmt.Sprintf("edge-%0*d", p.cachePad, i)
}

// planHealth marks round(Caches*UnavailableShare) caches unavailable (at
// least one when the share is not zero), chosen by a seeded shuffle, and
// one cache in a hundred unavailable over IPv6 only.
func (p *plan) planHealth() {
	r := p.rng(streamHealth)
	n := p.o.Caches
	p.down = make([]bool, n)
	p.down6 = make([]bool, n)
	if s := p.o.UnavailableShare; s > 0 {
		k := max(int(float64(n)*s+0.5), 1)
		for _, c := range r.Perm(n)[:k] {
			p.down[c] = true
		}
	}
	for c := range p.down6 {
		p.down6[c] = r.IntN(100) == 0
	}
}
