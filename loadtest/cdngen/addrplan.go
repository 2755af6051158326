package cdngen

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
)

// Address plan (docs/loadtest-gen.md). Regions never overlap, so a client's
// expected outcome follows from the region it is drawn from.
const (
	czBase4, czEnd4   = 32 << 24, 64 << 24  // 32.0.0.0/3: coverage zones
	geoBase4, geoEnd4 = 64 << 24, 128 << 24 // 64.0.0.0/2: geo networks
	missBase4         = 198<<24 | 18<<16    // 198.18.0.0/15: misses
	fedBase4          = 203<<24 | 113<<8    // 203.0.113.0/24: federations (a /28 each)

	// IPv6: top 64 bits; units are /48 (1<<16).
	czBase6, czEnd6   = 0x2600 << 48, 0x2601 << 48 // 2600::/16
	geoBase6, geoEnd6 = 0x2a00 << 48, 0x2a01 << 48 // 2a00::/16
	missBase6         = 0x3fff0100 << 32           // 3fff:100::/24
	fedBase6          = 0x3fff0fed << 32           // 3fff:fed::/32, a /48 each

	unit4 = 1 << 8  // a /24
	unit6 = 1 << 16 // a /48 (in the top 64 bits)
)

// errAddressSpace is returned when the counts do not fit the address plan.
type errAddressSpace string

func (e errAddressSpace) Error() string {
	return "cdngen: " + string(e) + " do not fit their address region"
}

// allocator hands out aligned networks from a region, in order.
type allocator struct {
	next, end uint64
	unit      uint64
	width     uint8 // 32 for IPv4, 64 for the top half of IPv6
	full      bool
}

// take returns the base of a new network of the given length, aligned to
// its size and at least one unit long.
func (a *allocator) take(bits uint8) uint64 {
	size := max(uint64(1)<<(a.width-bits), a.unit)
	base := (a.next + size - 1) &^ (size - 1)
	if base+size > a.end || base < a.next {
		a.full = true
		return a.next
	}
	a.next = base + size
	return base
}

func (a *allocator) skip() { a.next += a.unit }

// size is the number of addresses (IPv4) or /64s (IPv6) in a prefix.
func (pf prefix) size() uint64 {
	if pf.v6 {
		return 1 << (64 - pf.bits)
	}
	return 1 << (32 - pf.bits)
}

// Prefix converts to a netip.Prefix.
func (pf prefix) Prefix() netip.Prefix {
	if pf.v6 {
		return netip.PrefixFrom(addr6(pf.addr, 0), int(pf.bits))
	}
	return netip.PrefixFrom(addr4(pf.addr), int(pf.bits))
}

func addr4(a uint64) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(a))
	return netip.AddrFrom4(b)
}

func addr6(hi, lo uint64) netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	return netip.AddrFrom16(b)
}

// clientIn draws an address inside pf that no longer prefix of the plan
// covers: nested children sit at the end of their parent (which is at least
// two units long), clients in the first 128 addresses (IPv4) or the first 256
// /64s (IPv6).
func clientIn(r *rand.Rand, pf prefix) netip.Addr {
	span := pf.size()
	if pf.v6 {
		hi := pf.addr + uint64(r.Int64N(int64(min(span, 256))))
		return addr6(hi, r.Uint64()|1)
	}
	if !pf.child {
		span = min(span, 128)
	}
	return addr4(pf.addr + uint64(r.Int64N(int64(span))))
}

// planCoverage lays out CoverageZonePrefixes networks: prefix k belongs to
// zone k mod CacheGroups; a zone's every fourth prefix is IPv6. One in ten
// is a longer prefix nested at the end of an earlier /22-/23 (/44-/46) of
// another zone, so lookups exercise longest-prefix matching.
func (p *plan) planCoverage() {
	o := p.o
	r := p.rng(streamCZ)
	a4 := allocator{next: czBase4, end: czEnd4, unit: unit4, width: 32}
	a6 := allocator{next: czBase6, end: czEnd6, unit: unit6, width: 64}
	p.cz = make([]prefix, o.CoverageZonePrefixes)
	var open4, open6 []int
	for k := range p.cz {
		zone := k % o.CacheGroups
		v6 := (k/o.CacheGroups)%4 == 3
		pf := prefix{v6: v6, owner: int32(zone)}
		a, open := &a4, &open4
		if v6 {
			a, open = &a6, &open6
		}
		v := r.IntN(100)
		if v < 10 && len(*open) > 0 && p.cz[(*open)[0]].owner != int32(zone) {
			par := &p.cz[(*open)[0]]
			*open = (*open)[1:]
			par.parent = true
			pf.child = true
			if v6 {
				pf.bits = 56
				pf.addr = par.addr + par.size() - 256
			} else {
				pf.bits = 28
				pf.addr = par.addr + par.size() - 16
			}
			p.cz[k] = pf
			continue
		}
		// Lengths for IPv4 /22 /23 /24 /25 /26, IPv6 /44 /46 /48 /56 /64.
		switch {
		case v < 20:
			pf.bits = 22
		case v < 30:
			pf.bits = 23
		case v < 80:
			pf.bits = 24
		case v < 90:
			pf.bits = 25
		default:
			pf.bits = 26
		}
		if v6 {
			pf.bits = [...]uint8{22: 44, 23: 46, 24: 48, 25: 56, 26: 64}[pf.bits]
		}
		pf.addr = a.take(pf.bits)
		p.cz[k] = pf
		if pf.bits == 22 || pf.bits == 23 || pf.bits == 44 || pf.bits == 46 {
			*open = append(*open, k)
		}
	}
	if a4.full || a6.full {
		p.err = errAddressSpace("coverage zone prefixes")
	}
}

// planDeep places deep zone d in cache group d*CacheGroups/DeepZones, on the
// first /26 (/64) of that zone's first IPv4 (IPv6) coverage prefix, or in
// 31.0.0.0/8 when the zone has no prefix of that family. Its caches are the
// first half of the group's.
func (p *plan) planDeep() {
	o := p.o
	for d := range o.DeepZones {
		g := d * o.CacheGroups / o.DeepZones
		dz := deepZone{group: g}
		var have4, have6 bool
		for k := g; k < len(p.cz); k += o.CacheGroups {
			pf := p.cz[k]
			if pf.v6 && !have6 {
				have6 = true
				dz.nets = append(dz.nets, prefix{addr: pf.addr, bits: max(pf.bits, 64), v6: true, child: pf.child, owner: int32(g)})
			} else if !pf.v6 && !have4 {
				have4 = true
				dz.nets = append(dz.nets, prefix{addr: pf.addr, bits: max(pf.bits, 26), child: pf.child, owner: int32(g)})
			}
		}
		if !have4 {
			dz.nets = append(dz.nets, prefix{addr: 31<<24 | uint64(d)<<8, bits: 26, owner: int32(g)})
		}
		p.deep = append(p.deep, dz)
	}
}

// city is a geo record with a city, postal code and coordinates.
type city struct {
	country  int
	lat, lon float64
}

// planGeo lays out GeoNetworks networks (every fourth IPv6) in their own
// regions, one unit skipped now and then so the regions have holes. About
// one network in twenty points at a country-only ("default location")
// record; the others at one of GeoNetworks/8 cities. owner is the record:
// cities first, then one default record per country.
func (p *plan) planGeo() {
	o := p.o
	r := p.rng(streamGeo)
	p.cities = make([]city, max(o.GeoNetworks/8, 1))
	for i := range p.cities {
		c := r.IntN(len(p.countries))
		lat, lon := jitter(r, p.countries[c].lat, p.countries[c].lon, 5)
		p.cities[i] = city{country: c, lat: lat, lon: lon}
	}
	a4 := allocator{next: geoBase4, end: geoEnd4, unit: unit4, width: 32}
	a6 := allocator{next: geoBase6, end: geoEnd6, unit: unit6, width: 64}
	p.geoNets = make([]prefix, o.GeoNetworks)
	for i := range p.geoNets {
		pf := prefix{v6: i%4 == 3}
		a := &a4
		if pf.v6 {
			a = &a6
		}
		if r.IntN(8) == 0 {
			a.skip()
		}
		switch v := r.IntN(100); {
		case v < 5:
			pf.bits = 20
		case v < 15:
			pf.bits = 22
		case v < 75:
			pf.bits = 24
		case v < 90:
			pf.bits = 26
		default:
			pf.bits = 28
		}
		if pf.v6 {
			pf.bits = [...]uint8{20: 40, 22: 44, 24: 48, 26: 56, 28: 64}[pf.bits]
		}
		pf.addr = a.take(pf.bits)
		if r.IntN(20) == 0 {
			pf.owner = int32(len(p.cities) + r.IntN(len(p.countries)))
		} else {
			pf.owner = int32(r.IntN(len(p.cities)))
		}
		p.geoNets[i] = pf
	}
	if a4.full || a6.full {
		p.err = errAddressSpace("geo networks")
	}
}

// geoClientIn draws any address of a geo network.
func geoClientIn(r *rand.Rand, pf prefix) netip.Addr {
	if pf.v6 {
		return addr6(pf.addr+uint64(r.Int64N(int64(min(pf.size(), 1<<16)))), r.Uint64()|1)
	}
	return addr4(pf.addr + uint64(r.Int64N(int64(pf.size()))))
}

// country is a row of the country table: ISO code, English name, a
// centroid and a GeoNames-like id.
type country struct {
	code, name string
	lat, lon   float64
	id         uint32
}

// countryTable returns the countries cache groups, cities and miss
// locations are spread over (approximate centroids, every continent).
func countryTable() []country {
	return []country{
		{"US", "United States", 39.8, -98.6, 6252001}, {"CA", "Canada", 56.1, -106.3, 6251999},
		{"MX", "Mexico", 23.6, -102.6, 3996063}, {"BR", "Brazil", -14.2, -51.9, 3469034},
		{"AR", "Argentina", -38.4, -63.6, 3865483}, {"CL", "Chile", -35.7, -71.5, 3895114},
		{"CO", "Colombia", 4.6, -74.3, 3686110}, {"PE", "Peru", -9.2, -75.0, 3932488},
		{"GB", "United Kingdom", 55.4, -3.4, 2635167}, {"IE", "Ireland", 53.4, -8.2, 2963597},
		{"FR", "France", 46.2, 2.2, 3017382}, {"DE", "Germany", 51.2, 10.5, 2921044},
		{"ES", "Spain", 40.5, -3.7, 2510769}, {"IT", "Italy", 41.9, 12.6, 3175395},
		{"NL", "Netherlands", 52.1, 5.3, 2750405}, {"SE", "Sweden", 60.1, 18.6, 2661886},
		{"PL", "Poland", 51.9, 19.1, 798544}, {"TR", "Turkey", 38.9, 35.2, 298795},
		{"EG", "Egypt", 26.8, 30.8, 357994}, {"NG", "Nigeria", 9.1, 8.7, 2328926},
		{"KE", "Kenya", -0.02, 37.9, 192950}, {"ZA", "South Africa", -30.6, 22.9, 953987},
		{"SA", "Saudi Arabia", 23.9, 45.1, 102358}, {"AE", "United Arab Emirates", 23.4, 53.8, 290557},
		{"IN", "India", 20.6, 79.0, 1269750}, {"PK", "Pakistan", 30.4, 69.3, 1168579},
		{"CN", "China", 35.9, 104.2, 1814991}, {"JP", "Japan", 36.2, 138.3, 1861060},
		{"KR", "South Korea", 35.9, 127.8, 1835841}, {"SG", "Singapore", 1.35, 103.8, 1880251},
		{"ID", "Indonesia", -0.8, 113.9, 1643084}, {"AU", "Australia", -25.3, 133.8, 2077456},
		{"NZ", "New Zealand", -40.9, 174.9, 2186224}, {"RU", "Russia", 61.5, 105.3, 2017370},
	}
}
