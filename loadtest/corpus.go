package loadtest

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
)

// population is where a request's client address was drawn from.
type population uint8

const (
	popCoverageZone population = iota
	popDeep
	popGeo
	popMiss
	popFederation
	numPops
)

var popNames = [numPops]string{"coverageZone", "deepCoverageZone", "geoOnly", "miss", "federation"}

func (p population) String() string { return popNames[p] }

// client is one client address of a request.
type client struct {
	addr netip.Addr
	pop  population
	// svc and cname are set for federation clients: the DNS service whose
	// federation maps the address, and the CNAME expected.
	svc   int
	cname string
}

// dnsQuery is one prebuilt DNS query of the corpus.
type dnsQuery struct {
	wire   []byte // the query with ID 0
	svc    int32
	qtype  uint16
	client client
}

// httpRequest is one prebuilt HTTP request of the corpus.
type httpRequest struct {
	svc    int32
	host   string
	path   string
	url    string // scheme://host/path
	wire   []byte // the HTTP/1.1 request
	client string
	// clientAddr is client parsed (X-MM-Client-IP).
	clientAddr netip.Addr
	pop        population
}

// corpus is every request a run cycles through.
type corpus struct {
	dns   []dnsQuery
	http  []httpRequest
	https []httpRequest
	// services exercised per protocol (indices into CDN.Services).
	dnsSvcs, httpSvcs, httpsSvcs []int
}

// eligible lists the services a protocol can exercise: services with caches
// that do not refuse clients outside coverage zones, of the right type.
func (c *CDN) eligible(p Proto, steering bool) []int {
	var out []int
	for i := range c.Services {
		s := &c.Services[i]
		if s.Caches == 0 || s.CoverageZoneOnly {
			continue
		}
		isSteer := s.Type == TypeSteering || s.Type == TypeClientSteering
		switch p {
		case ProtoDNSUDP, ProtoDNSTCP:
			if s.Type != TypeDNS {
				continue
			}
		case ProtoHTTP:
			if s.Type == TypeDNS || isSteer != steering || !s.AcceptHTTP || s.RedirectToHTTPS {
				continue
			}
		case ProtoHTTPS:
			if s.Type == TypeDNS || isSteer != steering || !s.AcceptHTTPS {
				continue
			}
		}
		out = append(out, i)
	}
	return out
}

// pick returns n of idx chosen by r (all when n is 0 or larger), in order.
func pick(r *rand.Rand, idx []int, n int) []int {
	if n <= 0 || n >= len(idx) {
		return idx
	}
	perm := r.Perm(len(idx))[:n]
	out := make([]int, 0, n)
	keep := make(map[int]bool, n)
	for _, p := range perm {
		keep[p] = true
	}
	for i, v := range idx {
		if keep[i] {
			out = append(out, v)
		}
	}
	return out
}

// clientPicker draws client addresses by population weights.
type clientPicker struct {
	r       *rand.Rand
	cdn     *CDN
	weights [numPops]float64
	total   float64
	pools   [numPops][]client
}

func newClientPicker(r *rand.Rand, cdn *CDN, m Mix, dns bool) *clientPicker {
	cp := &clientPicker{r: r, cdn: cdn}
	if cl := cdn.Clients; cl != nil {
		for _, z := range cl.CoverageZone {
			cp.pools[popCoverageZone] = append(cp.pools[popCoverageZone], client{addr: z.Addr, pop: popCoverageZone})
		}
		for _, z := range cl.DeepCoverageZone {
			cp.pools[popDeep] = append(cp.pools[popDeep], client{addr: z.Addr, pop: popDeep})
		}
		for _, g := range cl.GeoOnly {
			cp.pools[popGeo] = append(cp.pools[popGeo], client{addr: g.Addr, pop: popGeo})
		}
		for _, a := range cl.Miss {
			cp.pools[popMiss] = append(cp.pools[popMiss], client{addr: a, pop: popMiss})
		}
		if dns {
			for _, f := range cl.Federation {
				if i, ok := cdn.byID[f.DeliveryService]; ok && !cdn.Services[i].CoverageZoneOnly {
					cp.pools[popFederation] = append(cp.pools[popFederation], client{addr: f.Addr, pop: popFederation,
						svc: i, cname: strings.ToLower(strings.TrimSuffix(f.CNAME, "."))})
				}
			}
		}
	}
	if len(cp.pools[popMiss]) == 0 {
		// No clients.json: misses from 198.18.0.0/15 (benchmarking range).
		for i := 0; i < 256; i++ {
			a := netip.AddrFrom4([4]byte{198, 18 + byte(r.IntN(2)), byte(r.IntN(256)), byte(1 + r.IntN(254))})
			cp.pools[popMiss] = append(cp.pools[popMiss], client{addr: a, pop: popMiss})
		}
	}
	rest := 1 - m.Miss
	other := m.CoverageZone + m.DeepCoverageZone + m.GeoOnly
	if dns {
		other += m.Federation
	}
	cp.weights[popMiss] = m.Miss
	if other > 0 {
		cp.weights[popCoverageZone] = rest * m.CoverageZone / other
		cp.weights[popDeep] = rest * m.DeepCoverageZone / other
		cp.weights[popGeo] = rest * m.GeoOnly / other
		if dns {
			cp.weights[popFederation] = rest * m.Federation / other
		}
	} else {
		cp.weights[popMiss] = 1
	}
	for p := range cp.weights {
		if len(cp.pools[p]) == 0 {
			cp.weights[popMiss] += cp.weights[p]
			cp.weights[p] = 0
		}
		cp.total += cp.weights[p]
	}
	return cp
}

func (cp *clientPicker) next() client {
	x := cp.r.Float64() * cp.total
	for p := range cp.weights {
		if w := cp.weights[p]; w > 0 {
			if x < w {
				pool := cp.pools[p]
				return pool[cp.r.IntN(len(pool))]
			}
			x -= w
		}
	}
	pool := cp.pools[popMiss]
	return pool[cp.r.IntN(len(pool))]
}

// buildCorpus prebuilds n requests per protocol with weight.
func buildCorpus(cdn *CDN, cfg Config) (*corpus, error) {
	m := cfg.Mix
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6c6f6164))
	co := &corpus{}
	var problems []string
	if m.DNS+m.DNSTCP > 0 {
		co.dnsSvcs = pick(r, cdn.eligible(ProtoDNSUDP, false), m.DNSServices)
		if len(co.dnsSvcs) == 0 {
			problems = append(problems, "no DNS delivery service with caches to query (coverage-zone-only ones are skipped)")
		} else {
			cp := newClientPicker(r, cdn, m, true)
			for i := 0; i < cfg.Corpus; i++ {
				cl := cp.next()
				svc := co.dnsSvcs[i%len(co.dnsSvcs)]
				if cl.pop == popFederation {
					svc = cl.svc
				}
				qtype := uint16(1)
				if r.Float64() < m.AAAA {
					qtype = 28
				}
				wire, err := appendQuery(nil, cdn.Services[svc].FQDN, qtype, cl.addr)
				if err != nil {
					return nil, fmt.Errorf("loadtest: delivery service %s: %w", cdn.Services[svc].XMLID, err)
				}
				co.dns = append(co.dns, dnsQuery{wire: wire, svc: int32(svc), qtype: qtype, client: cl})
			}
			groupBySize(co.dns, sizeBlock)
		}
	}
	build := func(p Proto, n int) ([]int, []httpRequest) {
		plain := pick(r, cdn.eligible(p, false), n)
		steer := cdn.eligible(p, true)
		if len(plain) == 0 && len(steer) == 0 {
			problems = append(problems, fmt.Sprintf("no delivery service accepting %s with caches", strings.ToUpper(p.String())))
			return nil, nil
		}
		cp := newClientPicker(r, cdn, m, false)
		reqs := make([]httpRequest, 0, cfg.Corpus)
		for i := 0; i < cfg.Corpus; i++ {
			var svc int
			if len(steer) > 0 && (len(plain) == 0 || r.Float64() < m.Steering) {
				svc = steer[r.IntN(len(steer))]
			} else {
				svc = plain[i%len(plain)]
			}
			cl := cp.next()
			path := fmt.Sprintf("/lt/%d/seg-%d.ts?session=%d", r.IntN(1000), i, r.IntN(100000))
			scheme := "http://"
			if p == ProtoHTTPS {
				scheme = "https://"
			}
			host := cdn.Services[svc].FQDN
			wire := "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nX-MM-Client-IP: " + cl.addr.String() +
				"\r\nUser-Agent: signpost-loadtest\r\n\r\n"
			reqs = append(reqs, httpRequest{svc: int32(svc), host: host, path: path, url: scheme + host + path,
				client: cl.addr.String(), clientAddr: cl.addr, pop: cl.pop, wire: []byte(wire)})
		}
		return plain, reqs
	}
	if m.HTTP > 0 {
		co.httpSvcs, co.http = build(ProtoHTTP, m.HTTPServices)
	}
	if m.HTTPS > 0 {
		co.httpsSvcs, co.https = build(ProtoHTTPS, m.HTTPSServices)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("loadtest: %s: %s", cdn.Dir, strings.Join(problems, "; "))
	}
	return co, nil
}

// sizeBlock is the number of consecutive corpus queries ordered by size.
const sizeBlock = 1024

// groupBySize orders every block of n consecutive queries by wire length
// (stable), so that a batch of consecutive queries holds long runs of
// equal-sized datagrams, each sent as one segmented (GSO) message. The
// mix stays the same within every block (a few milliseconds of load).
func groupBySize(qs []dnsQuery, n int) {
	for i := 0; i < len(qs); i += n {
		slices.SortStableFunc(qs[i:min(i+n, len(qs))], func(a, b dnsQuery) int { return len(a.wire) - len(b.wire) })
	}
}

// appendQuery appends a DNS query (ID 0, RD clear) for name/qtype with an
// EDNS OPT record carrying client as an ECS option (/32 for IPv4, /64 for
// IPv6).
func appendQuery(dst []byte, name string, qtype uint16, client netip.Addr) ([]byte, error) {
	dst = append(dst, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1)
	name = strings.TrimSuffix(name, ".")
	for _, l := range strings.Split(name, ".") {
		if l == "" || len(l) > 63 {
			return nil, fmt.Errorf("invalid DNS name %q", name)
		}
		dst = append(dst, byte(len(l)))
		dst = append(dst, l...)
	}
	dst = append(dst, 0)
	dst = binary.BigEndian.AppendUint16(dst, qtype)
	dst = binary.BigEndian.AppendUint16(dst, 1)
	// OPT: root name, type 41, UDP size 1232, TTL 0.
	dst = append(dst, 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0)
	var fam uint16 = 1
	var bits byte = 32
	var addr []byte
	client = client.Unmap()
	if client.Is6() {
		fam, bits = 2, 64
		a := client.As16()
		addr = a[:8]
	} else {
		a := client.As4()
		addr = a[:]
	}
	optLen := 4 + len(addr)
	dst = binary.BigEndian.AppendUint16(dst, uint16(4+optLen))
	dst = binary.BigEndian.AppendUint16(dst, 8)
	dst = binary.BigEndian.AppendUint16(dst, uint16(optLen))
	dst = binary.BigEndian.AppendUint16(dst, fam)
	dst = append(dst, bits, 0)
	dst = append(dst, addr...)
	return dst, nil
}
