package czf

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// The benchmark file: 1,000 zones of 100 networks (75,000 IPv4 and 25,000
// IPv6, about a quarter nested).
const (
	benchZones           = 1000
	benchPrefixesPerZone = 100
)

// benchSetup parses the 100,000-network file and picks addresses: half inside
// networks of the file (random host bits), half random, of one family.
func benchSetup(tb testing.TB, v6 bool) (*Table, []netip.Addr) {
	tb.Helper()
	data := Generate(1, benchZones, benchPrefixesPerZone)
	t, err := Parse("bench.json", data)
	if err != nil {
		tb.Fatal(err)
	}
	p := collect("bench.json", data, false)
	var inside []rawEntry
	for _, e := range p.entries {
		if e.addr.Is6() == v6 {
			inside = append(inside, e)
		}
	}
	r := rand.New(rand.NewPCG(2, 3))
	addrs := make([]netip.Addr, 4096)
	for i := range addrs {
		var b [16]byte
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		if i%2 == 0 {
			// The first 24 (IPv4) or 64 (IPv6) bits of a network in the file.
			src := inside[r.IntN(len(inside))].addr.AsSlice()
			keep := 3
			if v6 {
				keep = 8
			}
			copy(b[:keep], src[:keep])
		}
		if v6 {
			addrs[i] = netip.AddrFrom16(b)
		} else {
			addrs[i] = netip.AddrFrom4([4]byte(b[:4]))
		}
	}
	return t, addrs
}

func benchLookup(b *testing.B, v6 bool) {
	t, addrs := benchSetup(b, v6)
	hits := 0
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := t.Lookup(addrs[i&(len(addrs)-1)]); ok {
			hits++
		}
		i++
	}
	b.ReportMetric(float64(hits)/float64(i), "hits/op")
}

// BenchmarkLookup4 looks up IPv4 addresses in the 100,000-network file.
func BenchmarkLookup4(b *testing.B) { benchLookup(b, false) }

// BenchmarkLookup6 looks up IPv6 addresses in the 100,000-network file.
func BenchmarkLookup6(b *testing.B) { benchLookup(b, true) }

// BenchmarkParse100k parses and flattens the 100,000-network file.
func BenchmarkParse100k(b *testing.B) {
	data := Generate(1, benchZones, benchPrefixesPerZone)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("bench.json", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGenerate100k measures the generator used by other packages.
func BenchmarkGenerate100k(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Generate(1, benchZones, benchPrefixesPerZone)
	}
}

// BenchmarkLookup4Clustered looks up clients of a table like bench-dns's
// (loadtest/dnsload): 2,000 random /24 networks of 10.0.0.0/8 in 10 zones,
// a table that stays in cache, with about 16 intervals per index bucket.
func BenchmarkLookup4Clustered(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	var nets [10][]string
	var addrs []netip.Addr
	seen := map[int]bool{}
	for len(seen) < 2000 {
		bc := r.IntN(255 * 256)
		if seen[bc] {
			continue
		}
		seen[bc] = true
		z := r.IntN(len(nets))
		nets[z] = append(nets[z], strconv.Quote(fmt.Sprintf("10.%d.%d.0/24", bc>>8, bc&255)))
		addrs = append(addrs, netip.AddrFrom4([4]byte{10, byte(bc >> 8), byte(bc), byte(r.Uint32())}))
	}
	var sb strings.Builder
	sb.WriteString(`{"coverageZones":{`)
	for i := range nets {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `"dc%d":{"network":[%s]}`, i, strings.Join(nets[i], ","))
	}
	sb.WriteString(`}}`)
	t, err := Parse("czmap.json", []byte(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	qs := make([]netip.Addr, 20000)
	for i := range qs {
		qs[i] = addrs[r.IntN(len(addrs))]
	}
	hits := 0
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := t.Lookup(qs[i%len(qs)]); ok {
			hits++
		}
		i++
	}
	if hits != i {
		b.Fatalf("%d of %d lookups hit", hits, i)
	}
}
