package geo

import (
	"net/netip"
	"testing"

	"github.com/signpost-cdn/signpost/internal/fixture"
)

func benchCity(b *testing.B, addr string, wantOK bool) {
	c := loadTestCity(b, "geo/GeoIP2-City-Test.mmdb")
	a := netip.MustParseAddr(addr)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := c.Lookup(a); ok != wantOK {
			b.Fatal("unexpected answer")
		}
	}
}

func BenchmarkCityLookupHitV4(b *testing.B)       { benchCity(b, "81.2.69.142", true) }
func BenchmarkCityLookupHitV4Mapped(b *testing.B) { benchCity(b, "::ffff:81.2.69.142", true) }
func BenchmarkCityLookupHitV6(b *testing.B)       { benchCity(b, "2001:218::1", true) }
func BenchmarkCityLookupMissV4(b *testing.B)      { benchCity(b, "10.0.0.1", false) }
func BenchmarkCityLookupMissV6(b *testing.B)      { benchCity(b, "2001:db8::1", false) }

func BenchmarkAnonymousLookupHit(b *testing.B) {
	db := loadTestAnonymous(b)
	a := netip.MustParseAddr("81.2.69.100")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := db.Lookup(a); !ok {
			b.Fatal("miss")
		}
	}
}

func BenchmarkAnonymousLookupMiss(b *testing.B) {
	db := loadTestAnonymous(b)
	a := netip.MustParseAddr("2.38.158.142")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := db.Lookup(a); ok {
			b.Fatal("hit")
		}
	}
}

func BenchmarkDistance(b *testing.B) {
	b.ReportAllocs()
	lat := 39.7392
	var sum float64
	for b.Loop() {
		sum += Distance(lat, -104.9903, 47.6062, -122.3321)
	}
	if sum < 0 {
		b.Fatal(sum)
	}
}

func BenchmarkLoadCityTestDB(b *testing.B) {
	data := fixture.Read(b, "geo/GeoIP2-City-Test.mmdb")
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := LoadCity("GeoIP2-City-Test.mmdb", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseClientAddr(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ParseClientAddr("2001:db8::1/56"); !ok {
			b.Fatal("not ok")
		}
	}
}
