//go:build !race

package geo

import (
	"net/netip"
	"testing"
)

func TestCityLookupAllocs(t *testing.T) {
	c := loadTestCity(t, "geo/GeoIP2-City-Test.mmdb")
	for _, tc := range []struct {
		name, addr string
		ok         bool
	}{
		{"hit v4", "81.2.69.142", true},
		{"hit v4-mapped", "::ffff:81.2.69.142", true},
		{"hit v6", "2001:218::1", true},
		{"miss v4", "10.0.0.1", false},
		{"miss v6", "2001:db8::1", false},
		{"record without coordinates", "214.1.1.1", false},
	} {
		a := netip.MustParseAddr(tc.addr)
		var sink Location
		allocs := testing.AllocsPerRun(1000, func() {
			loc, ok := c.Lookup(a)
			if ok != tc.ok {
				panic("unexpected answer for " + tc.addr)
			}
			sink = loc
		})
		if allocs != 0 {
			t.Errorf("%s: Lookup(%s) allocates %v times", tc.name, tc.addr, allocs)
		}
		_ = sink
	}
	if allocs := testing.AllocsPerRun(100, func() { c.Lookup(netip.Addr{}) }); allocs != 0 {
		t.Errorf("Lookup(invalid) allocates %v times", allocs)
	}
}

func TestAnonymousLookupAllocs(t *testing.T) {
	db := loadTestAnonymous(t)
	for _, s := range []string{"81.2.69.100", "abcd:1000::ff", "2.38.158.142", "2001:418:9807::1"} {
		a := netip.MustParseAddr(s)
		if allocs := testing.AllocsPerRun(1000, func() { db.Lookup(a) }); allocs != 0 {
			t.Errorf("Lookup(%s) allocates %v times", s, allocs)
		}
	}
}

func TestDistanceAndDefaultsAllocs(t *testing.T) {
	overrides := map[string]Point{"US": {37.751, -97.822}}
	loc := Location{Latitude: 38, Longitude: -97, CountryCode: "US", IsDefault: true}
	miss := &Point{41.88, -87.63}
	var sink float64
	if allocs := testing.AllocsPerRun(1000, func() {
		p, _ := ApplyDefaultOverride(loc, overrides, miss)
		sink += Distance(p.Latitude, p.Longitude, 39, -104)
	}); allocs != 0 {
		t.Errorf("ApplyDefaultOverride+Distance allocate %v times", allocs)
	}
	_ = sink
}

func TestParseClientAddrAllocs(t *testing.T) {
	for _, s := range []string{"192.0.2.1/24", "[2001:db8::1]", "::ffff:192.0.2.1", "not an address", ""} {
		if allocs := testing.AllocsPerRun(1000, func() { ParseClientAddr(s) }); allocs != 0 {
			t.Errorf("ParseClientAddr(%q) allocates %v times", s, allocs)
		}
	}
	// Budget: malformed text made only of address characters reaches
	// netip.ParseAddr, whose error value allocates once.
	if allocs := testing.AllocsPerRun(1000, func() { ParseClientAddr("1.2.3") }); allocs > 1 {
		t.Errorf("ParseClientAddr(\"1.2.3\") allocates %v times, budget 1", allocs)
	}
}
