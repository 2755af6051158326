//go:build !race

package control

import (
	"net/netip"
	"testing"
)

func TestFederationsLookupAllocs(t *testing.T) {
	f := benchFederations(t)
	v4, v6 := netip.MustParseAddr("12.34.10.1"), netip.MustParseAddr("2001:db8::1")
	if n := testing.AllocsPerRun(100, func() {
		f.Lookup("d", v4)
		f.Lookup("d", v6)
		f.Lookup("x", v4)
	}); n != 0 {
		t.Errorf("Lookup allocates %v per run", n)
	}
}
