package cdngen

import (
	"fmt"
	"io"
	"strconv"
)

// writeCrStates writes crstates.json as Traffic Monitor publishes it (spec
// §2): every cache, available except the share UnavailableShare (and one in
// a hundred without IPv6); every delivery service available with no
// disabled locations.
func (p *plan) writeCrStates(w io.Writer) (int64, error) {
	o := newOut(w)
	o.raw(`{"caches":{`)
	for c := range p.down {
		o.raw("\n")
		o.key(p.cacheName(c), c == 0)
		o.raw("{")
		o.kbool("ipv4Available", !p.down[c], true)
		o.kbool("ipv6Available", !p.down[c] && !p.down6[c], false)
		o.kbool("isAvailable", !p.down[c], false)
		if p.down[c] {
			o.kv("status", "REPORTED - availableBandwidthInKbps too low", false)
		} else {
			o.kv("status", "REPORTED", false)
		}
		o.raw("}")
		o.maybeFlush()
	}
	o.raw("},\n\"deliveryServices\":{")
	for i := range p.ds {
		o.raw("\n")
		o.key(p.ds[i].id, i == 0)
		o.raw(`{"disabledLocations":[],"isAvailable":true}`)
		o.maybeFlush()
	}
	o.raw("}}\n")
	o.flush()
	return o.n, o.err
}

// writeCZMap writes czmap.json: one coverage zone per cache group, named
// after it, with its coordinates, network (IPv4) and network6 (IPv6) lists.
func (p *plan) writeCZMap(w io.Writer) (int64, error) {
	o := newOut(w)
	o.raw(`{"coverageZones":{`)
	ng := p.o.CacheGroups
	for g := range p.groups {
		gr := &p.groups[g]
		o.raw("\n")
		o.key(gr.name, g == 0)
		o.raw("{")
		writeCoordinates(o, gr.lat, gr.lon)
		for _, v6 := range []bool{false, true} {
			if v6 {
				o.key("network6", false)
			} else {
				o.key("network", false)
			}
			o.raw("[")
			n := 0
			for k := g; k < len(p.cz); k += ng {
				if p.cz[k].v6 != v6 {
					continue
				}
				if n > 0 {
					o.raw(",")
				}
				n++
				o.b = appendPrefix(o.b, p.cz[k])
				o.maybeFlush()
			}
			o.raw("]")
		}
		o.raw("}")
	}
	o.raw("},\n")
	o.kv("customerName", "signpost-loadtest", true)
	o.kv("revision", "cdngen seed "+strconv.FormatInt(p.o.Seed, 10), false)
	o.raw("}\n")
	o.flush()
	return o.n, o.err
}

func writeCoordinates(o *out, lat, lon float64) {
	o.key("coordinates", true)
	o.raw("{")
	o.kfloat("latitude", lat, true)
	o.kfloat("longitude", lon, false)
	o.raw("}")
}

func appendPrefix(b []byte, pf prefix) []byte {
	b = append(b, '"')
	b = pf.Prefix().AppendTo(b)
	return append(b, '"')
}

// deepName is the name of deep zone d: its cache group's name with a
// "deep-" prefix (Traffic Router calls the location "deep.<name>").
func (p *plan) deepName(d int) string { return "deep-" + p.groups[p.deep[d].group].name }

// deepCaches lists the caches of deep zone d: the first half (rounded up)
// of its cache group's caches.
func (p *plan) deepCaches(d int) []string {
	gr := &p.groups[p.deep[d].group]
	names := make([]string, 0, (gr.caches+1)/2)
	for i := range (gr.caches + 1) / 2 {
		names = append(names, p.cacheName(gr.firstCache+i))
	}
	return names
}

// writeDCZMap writes dczmap.json.
func (p *plan) writeDCZMap(w io.Writer) (int64, error) {
	o := newOut(w)
	o.raw(`{"deepCoverageZones":{`)
	for d := range p.deep {
		gr := &p.groups[p.deep[d].group]
		o.raw("\n")
		o.key(p.deepName(d), d == 0)
		o.raw("{")
		o.key("caches", true)
		o.strs(p.deepCaches(d)...)
		o.raw(",")
		writeCoordinates(o, gr.lat, gr.lon)
		for _, v6 := range []bool{false, true} {
			if v6 {
				o.key("network6", false)
			} else {
				o.key("network", false)
			}
			o.raw("[")
			n := 0
			for _, pf := range p.deep[d].nets {
				if pf.v6 == v6 {
					if n > 0 {
						o.raw(",")
					}
					n++
					o.b = appendPrefix(o.b, pf)
				}
			}
			o.raw("]")
		}
		o.raw("}")
	}
	o.raw("}}\n")
	o.flush()
	return o.n, o.err
}

// steeringTargets returns the HTTP delivery services steering service j
// (0-based among the steering ones) steers to: two to four consecutive HTTP
// delivery services from a per-service start.
func (p *plan) steeringTargets(j int) []int {
	n := min(2+j%3, len(p.httpDS))
	start := int(p.mix(3, uint64(j)) % uint64(len(p.httpDS)))
	t := make([]int, n)
	for i := range t {
		t[i] = p.httpDS[(start+i)%len(p.httpDS)]
	}
	return t
}

// writeSteering writes steering.json in the ops API /steering shape (spec
// §8.1). The j-th steering service (j from 0) has weighted targets when
// j%4 is 0, is a client steering service mixing orders and weights when it
// is 1, has geo-ordered targets when 2 and ordered targets when 3. Every
// other service has path filters.
func (p *plan) writeSteering(w io.Writer) (int64, error) {
	o := newOut(w)
	r := p.rng(streamSteering)
	o.raw(`{"response":[`)
	for i := p.regular; i < len(p.ds); i++ {
		j := i - p.regular
		d := &p.ds[i]
		if j > 0 {
			o.raw(",")
		}
		o.raw("\n{")
		o.kbool("clientSteering", d.kind == kindClientSteering, true)
		o.kv("deliveryService", d.id, false)
		targets := p.steeringTargets(j)
		if j%2 == 0 {
			o.key("filters", false)
			o.raw("[")
			for t, ti := range targets[:2] {
				if t > 0 {
					o.raw(",")
				}
				o.raw("{")
				o.kv("deliveryService", p.ds[ti].id, true)
				o.kv("pattern", ".*/force-to-"+p.ds[ti].id+"/.*", false)
				o.raw("}")
			}
			o.raw("]")
		}
		o.key("targets", false)
		o.raw("[")
		for t, ti := range targets {
			if t > 0 {
				o.raw(",")
			}
			o.raw("{")
			o.kv("deliveryService", p.ds[ti].id, true)
			switch {
			case d.kind == kindClientSteering:
				o.kistr("order", int64(t/2), false)
				o.kistr("weight", int64(1000+r.IntN(9000)), false)
			case j%4 == 0:
				o.kistr("weight", int64(1000*(1+r.IntN(9))), false)
			case j%4 == 3:
				o.kint("order", int64(t-1), false)
			default:
				c := &p.countries[r.IntN(len(p.countries))]
				o.kint("geoOrder", int64(t%2), false)
				o.kfloat("latitude", c.lat, false)
				o.kfloat("longitude", c.lon, false)
				o.kint("weight", int64(100*(t+1)), false)
			}
			o.raw("}")
		}
		o.raw("]}")
	}
	o.raw("]}\n")
	o.flush()
	return o.n, o.err
}

// fedCNAME is the CNAME of federation k's matching mapping.
func fedCNAME(k int) string { return fmt.Sprintf("fed-%d.origin.example.org.", k) }

// fedNets returns federation k's IPv4 /28 and IPv6 /48.
func fedNets(k int) (v4, v6 prefix) {
	return prefix{addr: fedBase4 + uint64(k)*16, bits: 28, child: true},
		prefix{addr: fedBase6 + uint64(k)<<16, bits: 48, v6: true}
}

// writeFederations writes federations.json in the ops API
// /federations/all shape (spec §3.3): per federated DNS delivery service a
// mapping with one IPv4 /28 and one IPv6 /48, then a mapping without
// resolvers (which never matches, as in Traffic Router's fixture).
func (p *plan) writeFederations(w io.Writer) (int64, error) {
	o := newOut(w)
	o.raw(`{"response":[`)
	for k, d := range p.feds {
		if k > 0 {
			o.raw(",")
		}
		v4, v6 := fedNets(k)
		o.raw("\n{")
		o.kv("deliveryService", p.ds[d].id, true)
		o.key("mappings", false)
		o.raw("[{")
		o.kv("cname", fedCNAME(k), true)
		o.key("resolve4", false)
		o.strs(v4.Prefix().String())
		o.key("resolve6", false)
		o.strs(v6.Prefix().String())
		o.kistr("ttl", 30, false)
		o.raw("},{")
		o.kv("cname", "fallback.example.org.", true)
		o.kistr("ttl", 60, false)
		o.raw("}]}")
	}
	o.raw("]}\n")
	o.flush()
	return o.n, o.err
}
