package czf

import (
	"math/rand/v2"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// refEntry is a network in effect in the naive reference.
type refEntry struct {
	pfx  netip.Prefix // masked
	raw  netip.Addr   // as written
	zone int
}

// naiveHeld applies Traffic Router's insertion rules to the entries in
// order, independently of the interval code: an entry for a network already
// held is ignored when its bytes are equal and replaces the holder otherwise.
func naiveHeld(entries []rawEntry) []refEntry {
	var held []refEntry
next:
	for _, e := range entries {
		pfx := netip.PrefixFrom(e.addr, e.bits).Masked()
		for i := range held {
			if held[i].pfx == pfx {
				if held[i].raw != e.addr {
					held[i].raw, held[i].zone = e.addr, int(e.zone)
				}
				continue next
			}
		}
		held = append(held, refEntry{pfx: pfx, raw: e.addr, zone: int(e.zone)})
	}
	return held
}

// naiveLookup scans every network for the longest one containing a.
func naiveLookup(held []refEntry, a netip.Addr) (int, bool) {
	a = a.Unmap().WithZone("")
	best, bits := -1, -1
	for _, h := range held {
		if h.pfx.Contains(a) && h.pfx.Bits() > bits {
			best, bits = h.zone, h.pfx.Bits()
		}
	}
	return best, best >= 0
}

// probes returns addresses around every held network: first and last
// address and their neighbours, and the IPv4-mapped form of IPv4 ones.
func probes(held []refEntry, limit int) []netip.Addr {
	var out []netip.Addr
	for i, h := range held {
		if i == limit {
			break
		}
		first := h.pfx.Addr()
		last := lastAddr(h.pfx)
		out = append(out, first, last, first.Prev(), last.Next(), h.raw)
		if first.Is4() {
			out = append(out, netip.AddrFrom16(first.As16()), netip.AddrFrom16(last.Next().As16()))
		}
	}
	return out
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// checkAgainstNaive compares Lookup with the naive reference on addrs.
func checkAgainstNaive(t testing.TB, tb *Table, held []refEntry, addrs []netip.Addr) {
	t.Helper()
	for _, a := range addrs {
		if !a.IsValid() {
			continue
		}
		wz, wok := naiveLookup(held, a)
		gz, gok := tb.Lookup(a)
		if gz != wz || gok != wok {
			t.Fatalf("Lookup(%s) = %d, %v; naive reference says %d, %v", a, gz, gok, wz, wok)
		}
		if gok && tb.Zone(gz) == nil {
			t.Fatalf("Zone(%d) nil", gz)
		}
	}
}

// randomCIDR makes overlapping, nested and duplicate networks by drawing
// addresses from a small space and lengths from the whole range.
func randomCIDR(r *rand.Rand, v6 bool) string {
	if !v6 {
		a := netip.AddrFrom4([4]byte{10, byte(r.IntN(3)), byte(r.IntN(3) * 64), byte(r.IntN(4) * 64)})
		if r.IntN(8) == 0 {
			a = netip.AddrFrom4([4]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
		}
		switch r.IntN(10) {
		case 0:
			return a.String() // host route
		case 1:
			return "::ffff:" + a.String() + "/" + strconv.Itoa(96+r.IntN(33)) // mapped, IPv6-form mask
		case 2:
			return "0:0:0:0:0:ffff:" + a.String() + "/" + strconv.Itoa(r.IntN(33)) // mapped, IPv4 mask
		}
		return a.String() + "/" + strconv.Itoa(r.IntN(33))
	}
	var b [16]byte
	b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
	b[4] = byte(r.IntN(3) * 0x40)
	b[15] = byte(r.IntN(2))
	if r.IntN(8) == 0 {
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
	}
	a := netip.AddrFrom16(b)
	if a.Is4In6() {
		a = netip.AddrFrom16([16]byte{1})
	}
	if r.IntN(10) == 0 {
		return a.String()
	}
	bits := r.IntN(129)
	if r.IntN(2) == 0 {
		bits = 24 + r.IntN(24) // around the interesting bytes
	}
	return a.String() + "/" + strconv.Itoa(bits)
}

func randomDoc(r *rand.Rand, deep bool) string {
	var b strings.Builder
	root := rootCZ
	if deep {
		root = rootDCZ
	}
	b.WriteString(`{"` + root + `":{`)
	var written []string
	for z := range 1 + r.IntN(6) {
		if z > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"z` + strconv.Itoa(z) + `":{`)
		for k, key := range []string{"network", "network6"} {
			if k > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + key + `":[`)
			for i := range r.IntN(12) {
				if i > 0 {
					b.WriteByte(',')
				}
				s := randomCIDR(r, key == "network6")
				if len(written) > 0 && r.IntN(6) == 0 {
					s = written[r.IntN(len(written))] // exact duplicate, maybe across families
				}
				written = append(written, s)
				b.WriteString(strconv.Quote(s))
			}
			b.WriteByte(']')
		}
		b.WriteString(`,"caches":["c` + strconv.Itoa(z) + `"]}`)
	}
	b.WriteString("}}")
	return b.String()
}

// TestLPMAgainstNaive is the property test: for random files of nested,
// overlapping and duplicate networks in both families, Lookup agrees with a
// linear scan for the longest matching network on every boundary address
// and on random addresses.
func TestLPMAgainstNaive(t *testing.T) {
	for seed := range uint64(400) {
		r := rand.New(rand.NewPCG(seed, 7))
		deep := seed%2 == 1
		doc := randomDoc(r, deep)
		p := collect("rand.json", []byte(doc), deep)
		if len(p.probs) > 0 {
			t.Fatalf("seed %d: generated file rejected: %v\n%s", seed, (&Error{File: "rand.json", Problems: p.probs}), doc)
		}
		tb, err := parse("rand.json", []byte(doc), deep)
		if err != nil {
			t.Fatal(err)
		}
		held := naiveHeld(p.entries)
		addrs := probes(held, -1)
		for range 200 {
			cidr := randomCIDR(r, r.IntN(2) == 0)
			a, _, _ := parseCIDR(cidr)
			if r.IntN(2) == 0 && a.IsValid() {
				b := a.AsSlice()
				b[len(b)-1] ^= byte(r.IntN(256))
				a, _ = netip.AddrFromSlice(b)
			}
			addrs = append(addrs, a)
		}
		checkAgainstNaive(t, tb, held, addrs)
		// The same with the first-level index forced on.
		indexed := build("rand.json", p.root, deep, p.zones, p.entries, 0)
		if indexed.idx4 == nil && indexed.stats.Prefixes4 > 0 || indexed.idx6 == nil && indexed.stats.Prefixes6 > 0 {
			t.Fatal("index not built")
		}
		checkAgainstNaive(t, indexed, held, addrs)
		st := tb.Stats()
		n4, n6 := 0, 0
		for _, h := range held {
			if h.pfx.Addr().Is4() {
				n4++
			} else {
				n6++
			}
		}
		if st.Prefixes4 != n4 || st.Prefixes6 != n6 || st.Prefixes4+st.Prefixes6+st.Duplicates+st.Overrides != len(p.entries) {
			t.Fatalf("seed %d: stats %+v, naive %d v4 %d v6 of %d entries", seed, st, n4, n6, len(p.entries))
		}
	}
}

// TestLPMGenerated checks the generated large file against the reference on
// a sample (the naive scan is quadratic).
func TestLPMGenerated(t *testing.T) {
	data := Generate(42, 200, 20)
	p := collect("gen.json", data, false)
	if len(p.probs) > 0 {
		t.Fatal(&Error{File: "gen.json", Problems: p.probs})
	}
	tb, err := Parse("gen.json", data)
	if err != nil {
		t.Fatal(err)
	}
	held := naiveHeld(p.entries)
	if tb.idx4 == nil || tb.idx6 == nil {
		t.Fatalf("no first-level index on %+v", tb.Stats())
	}
	addrs := probes(held, 500)
	checkAgainstNaive(t, tb, held, addrs)
	plain := build("gen.json", p.root, false, p.zones, p.entries, 1<<30)
	if plain.idx4 != nil || plain.idx6 != nil {
		t.Fatal("index built")
	}
	checkAgainstNaive(t, plain, held, addrs)
	if !strings.HasPrefix(string(Generate(42, 200, 20)), string(data[:100])) || string(Generate(42, 200, 20)) != string(data) {
		t.Error("Generate is not deterministic")
	}
	if tb.Len() != 200 || len(p.entries) != 4000 {
		t.Errorf("Len %d, %d entries", tb.Len(), len(p.entries))
	}
}

// TestSearchBranchFree checks the classic and the branch-free searches
// against sort.Search on every size up to 70, probes below, between, at and
// above the starts.
func TestSearchBranchFree(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for n := 0; n <= 70; n++ {
		s4 := make([]uint32, n)
		s6 := make([]u128, n)
		v := uint32(r.IntN(3))
		for i := range s4 {
			s4[i] = v
			s6[i] = u128{uint64(v) >> 2, uint64(v) << 62} // v << 62
			v += 1 + uint32(r.IntN(3))
		}
		if n > 0 {
			s4[n-1] = ^uint32(0) - uint32(r.IntN(2))
			s6[n-1] = u128{^uint64(0), ^uint64(0) - uint64(r.IntN(2))}
		}
		for x := uint32(0); x <= v+2; x++ {
			want := sort.Search(n, func(i int) bool { return s4[i] > x }) - 1
			check4(t, s4, x, want)
		}
		for _, x := range []uint32{^uint32(0) - 1, ^uint32(0)} {
			check4(t, s4, x, sort.Search(n, func(i int) bool { return s4[i] > x })-1)
		}
		var probes []u128
		for _, s := range s6 {
			probes = append(probes, s, u128{s.hi, s.lo - 1}, u128{s.hi, s.lo + 1}, u128{s.hi - 1, s.lo}, u128{s.hi + 1, 0})
		}
		probes = append(probes, u128{}, u128{^uint64(0), ^uint64(0)})
		for _, x := range probes {
			want := sort.Search(n, func(i int) bool { return x.less(s6[i]) }) - 1
			if got := search6(s6, x); got != want {
				t.Fatalf("search6(n=%d, %v) = %d, want %d", n, x, got, want)
			}
			if n == 0 {
				continue
			}
			if got := search6Wide(s6, x); got != want {
				t.Fatalf("search6Wide(n=%d, %v) = %d, want %d", n, x, got, want)
			}
		}
	}
}

func check4(t *testing.T, starts []uint32, x uint32, want int) {
	t.Helper()
	s := make([]span4, len(starts))
	for i, v := range starts {
		s[i] = span4{start: v, zone: int32(i)}
	}
	if got := search4(s, x); got != want {
		t.Fatalf("search4(n=%d, %#x) = %d, want %d", len(s), x, got, want)
	}
	if len(s) == 0 {
		return
	}
	if got := search4Wide(s, x); got != want {
		t.Fatalf("search4Wide(n=%d, %#x) = %d, want %d", len(s), x, got, want)
	}
}
