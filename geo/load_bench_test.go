package geo

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// syntheticCity writes a City-shaped database of n networks (half IPv4
// /24-/28, half IPv6 /48-/64) sharing n/4 distinct records built like real
// GeoIP2-City records (8-language names for continent, country, registered
// country, subdivision and city; location; postal).
func syntheticCity(tb testing.TB, n int) []byte {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	langs := []string{"de", "en", "es", "fr", "ja", "pt-BR", "ru", "zh-CN"}
	names := func(base string) mmdbtype.Map {
		m := mmdbtype.Map{}
		for _, l := range langs {
			m[mmdbtype.String(l)] = mmdbtype.String(base + "-" + l)
		}
		return m
	}
	place := func(kind string, id int) mmdbtype.Map {
		return mmdbtype.Map{"geoname_id": mmdbtype.Uint32(id), "names": names(kind + strconv.Itoa(id))}
	}
	records := make([]mmdbtype.Map, max(n/4, 1))
	for i := range records {
		c := i % 250
		records[i] = mmdbtype.Map{
			"continent":          place("continent", c%7),
			"country":            mmdbtype.Map{"iso_code": mmdbtype.String(fmt.Sprintf("C%d", c)), "names": names("country" + strconv.Itoa(c))},
			"registered_country": place("country", c),
			"subdivisions":       mmdbtype.Slice{place("sub", i%5000)},
			"city":               place("city", i),
			"postal":             mmdbtype.Map{"code": mmdbtype.String(strconv.Itoa(10000 + i%90000))},
			"location": mmdbtype.Map{
				"accuracy_radius": mmdbtype.Uint16(rng.IntN(1000)),
				"latitude":        mmdbtype.Float64(rng.Float64()*180 - 90),
				"longitude":       mmdbtype.Float64(rng.Float64()*360 - 180),
				"time_zone":       mmdbtype.String("Area/Zone"),
			},
		}
	}
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-City", RecordSize: 28, IncludeReservedNetworks: true})
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		var ipn net.IPNet
		if i%2 == 0 {
			ip := net.IPv4(byte(1+rng.IntN(222)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))).To4()
			ipn = net.IPNet{IP: ip, Mask: net.CIDRMask(24+rng.IntN(5), 32)}
		} else {
			ip := make(net.IP, 16)
			ip[0] = 0x24 // 2400::/8: clear of the aliased 2001::/32 and 2002::/16
			ip[1] = byte(rng.IntN(256))
			for j := 2; j < 8; j++ {
				ip[j] = byte(rng.IntN(256))
			}
			ipn = net.IPNet{IP: ip, Mask: net.CIDRMask(48+rng.IntN(17), 128)}
		}
		ipn.IP = ipn.IP.Mask(ipn.Mask)
		if err := w.Insert(&ipn, records[rng.IntN(len(records))]); err != nil {
			tb.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkLoadCitySynthetic measures LoadCity on a synthetic City
// database. GEO_BENCH_NETWORKS sets its size (default 20000 networks);
// see docs/geolocation.md for the figures at larger sizes.
func BenchmarkLoadCitySynthetic(b *testing.B) {
	n := 20000
	if s := os.Getenv("GEO_BENCH_NETWORKS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("GEO_BENCH_NETWORKS=%q: want a positive integer", s)
		}
		n = v
	}
	data := syntheticCity(b, n)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var c *City
	for b.Loop() {
		var err error
		if c, err = LoadCity("synthetic.mmdb", data); err != nil {
			b.Fatal(err)
		}
	}
	md := c.Metadata()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(md.NodeCount), "nodes")
	b.ReportMetric(float64(md.Records), "records")
	b.ReportMetric(float64(len(data))/1e6, "file-MB")
	// Heap kept by the loaded City beyond the file bytes.
	b.ReportMetric(float64(int64(ms.HeapAlloc)-int64(before.HeapAlloc))/1e6, "table-MB")
	runtime.KeepAlive(c)
}
