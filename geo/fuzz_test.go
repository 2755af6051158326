package geo

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadCity feeds arbitrary bytes to LoadCity (and LoadAnonymous): no
// input may panic or hang, and whatever loads must answer lookups. The
// committed corpus (testdata/fuzz/FuzzLoadCity) holds a truncated copy of
// GeoIP2-City-Test.mmdb (the tree and data kept, the tail cut inside the
// metadata) and the whole GeoLite2-City-Test.mmdb; the shared fixtures
// are added when present.
func FuzzLoadCity(f *testing.F) {
	for _, name := range []string{"GeoIP2-City-Test.mmdb", "GeoIP2-Anonymous-IP-Test.mmdb", "GeoIP2-Country-Test.mmdb"} {
		// Seeds only: fuzzing must not depend on the shared fixtures.
		if b, err := os.ReadFile(filepath.Join("..", "..", "shared", "testdata", "geo", name)); err == nil {
			f.Add(b)
			f.Add(b[:len(b)*3/4])
		}
	}
	f.Add([]byte{})
	f.Add([]byte("\xab\xcd\xefMaxMind.com"))
	addrs := []netip.Addr{
		netip.MustParseAddr("81.2.69.142"), netip.MustParseAddr("::ffff:1.2.3.4"),
		netip.MustParseAddr("2001:218::1"), netip.MustParseAddr("::"), netip.MustParseAddr("ffff::1"),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if c, err := LoadCity("fuzz.mmdb", data); err == nil {
			for _, a := range addrs {
				if loc, ok := c.Lookup(a); ok && !validCoordinates(loc.Latitude, loc.Longitude) {
					t.Fatalf("Lookup(%s) = %+v: invalid coordinates", a, loc)
				}
			}
			_ = c.Metadata()
		} else if err.Error() == "" {
			t.Fatal("empty error message")
		}
		if a, err := LoadAnonymous("fuzz.mmdb", data); err == nil {
			for _, addr := range addrs {
				a.Lookup(addr)
			}
		}
	})
}
