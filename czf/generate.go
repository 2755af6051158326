package czf

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"strconv"
)

// Generate returns a valid, deterministic czmap.json for tests and
// benchmarks (of this package and others): zones zones named "zone-0",
// "zone-1", ..., each with prefixesPerZone networks and coordinates. Three
// networks in four are IPv4 (lengths /8 to /32, mostly /16 to /24), the rest
// IPv6 (/24 to /128, mostly /32 to /64); about one in four is nested inside
// an earlier network of any zone, so lookups exercise longest-prefix
// matching. Random collisions can produce a few duplicates, which Parse
// ignores (Stats.Duplicates). The same seed gives the same bytes.
func Generate(seed int64, zones, prefixesPerZone int) []byte {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	g := generator{rng: rng}
	zones = max(zones, 0)
	prefixesPerZone = max(prefixesPerZone, 0)
	out := make([]byte, 0, 64+zones*(96+prefixesPerZone*24))
	out = append(out, `{"revision":"generated, seed `...)
	out = strconv.AppendInt(out, seed, 10)
	out = append(out, `","customerName":"signpost","coverageZones":{`...)
	var v4, v6 []byte
	for z := range zones {
		v4, v6 = v4[:0], v6[:0]
		for i := range prefixesPerZone {
			if i%4 == 3 {
				v6 = g.appendV6(v6)
			} else {
				v4 = g.appendV4(v4)
			}
		}
		if z > 0 {
			out = append(out, ',')
		}
		out = append(out, "\n\"zone-"...)
		out = strconv.AppendInt(out, int64(z), 10)
		out = append(out, `":{"network":[`...)
		out = append(out, v4...)
		out = append(out, `],"network6":[`...)
		out = append(out, v6...)
		out = append(out, `],"coordinates":{"latitude":`...)
		out = strconv.AppendFloat(out, float64(rng.IntN(1300000)-600000)/1e4, 'f', -1, 64)
		out = append(out, `,"longitude":`...)
		out = strconv.AppendFloat(out, float64(rng.IntN(3600000)-1800000)/1e4, 'f', -1, 64)
		out = append(out, "}}"...)
	}
	out = append(out, "}}\n"...)
	return out
}

type genPrefix struct {
	addr u128
	bits int
}

type generator struct {
	rng    *rand.Rand
	v4, v6 []genPrefix
}

// next picks a network of the given width: nested in an earlier one a quarter
// of the time, else fresh with a length in [lo, hi] biased towards [mlo, mhi].
func (g *generator) next(pool *[]genPrefix, width, lo, mlo, mhi, hi int) genPrefix {
	var p genPrefix
	if n := len(*pool); n > 0 && g.rng.IntN(4) == 0 {
		parent := (*pool)[g.rng.IntN(n)]
		if parent.bits < width {
			p.bits = parent.bits + 1 + g.rng.IntN(min(width-parent.bits, 16))
			p.addr = parent.addr
			// Random host bits below the parent's prefix, then masked to p.bits.
			r := u128{g.rng.Uint64(), g.rng.Uint64()}
			pm := hostMask(width, parent.bits)
			p.addr = u128{p.addr.hi | r.hi&pm.hi, p.addr.lo | r.lo&pm.lo}
		}
	}
	if p.bits == 0 {
		if g.rng.IntN(5) == 0 {
			p.bits = lo + g.rng.IntN(hi-lo+1)
		} else {
			p.bits = mlo + g.rng.IntN(mhi-mlo+1)
		}
		p.addr = u128{g.rng.Uint64(), g.rng.Uint64()}
		if width == 32 {
			p.addr = u128{0, p.addr.lo & 0xffffffff}
		}
	}
	hm := hostMask(width, p.bits)
	p.addr = u128{p.addr.hi &^ hm.hi, p.addr.lo &^ hm.lo}
	*pool = append(*pool, p)
	return p
}

func (g *generator) appendV4(dst []byte) []byte {
	p := g.next(&g.v4, 32, 8, 16, 24, 32)
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(p.addr.lo))
	return appendPrefix(dst, netip.PrefixFrom(netip.AddrFrom4(b), p.bits))
}

func (g *generator) appendV6(dst []byte) []byte {
	p := g.next(&g.v6, 128, 24, 32, 64, 128)
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], p.addr.hi)
	binary.BigEndian.PutUint64(b[8:], p.addr.lo)
	return appendPrefix(dst, netip.PrefixFrom(netip.AddrFrom16(b), p.bits))
}

func appendPrefix(dst []byte, p netip.Prefix) []byte {
	if len(dst) > 0 {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = p.AppendTo(dst)
	return append(dst, '"')
}
