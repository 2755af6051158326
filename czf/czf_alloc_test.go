//go:build !race

package czf

import (
	"net/netip"
	"testing"
)

func TestLookupAllocs(t *testing.T) {
	tb := mustParse(t, `{"coverageZones":{"a":{"network":["10.0.0.0/8","10.1.0.0/16"],"network6":["2001:db8::/32","2001:db8:1::/48"]}}}`)
	for _, addr := range []string{"10.1.2.3", "2001:db8:1::1", "192.0.2.1", "2001:db9::1", "::ffff:10.1.2.3"} {
		a := netip.MustParseAddr(addr)
		allocs := testing.AllocsPerRun(1000, func() {
			if _, ok := tb.Lookup(a); ok && a.IsLoopback() {
				t.Fail()
			}
		})
		if allocs != 0 {
			t.Errorf("Lookup(%s): %v allocs, want 0", addr, allocs)
		}
	}
}

func TestLookupAllocsLarge(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		tb, addrs := benchSetup(t, v6)
		i := 0
		allocs := testing.AllocsPerRun(10000, func() {
			tb.Lookup(addrs[i&(len(addrs)-1)])
			i++
		})
		if allocs != 0 {
			t.Errorf("Lookup (v6 %v) on 100,000 networks: %v allocs, want 0", v6, allocs)
		}
	}
}
