package geo

import (
	"net/netip"
	"testing"
)

func TestParseClientAddr(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" = not ok
	}{
		{"192.0.2.1", "192.0.2.1"},
		{"192.0.2.1/24", "192.0.2.1"},
		{"2001:db8::1", "2001:db8::1"},
		{"2001:db8::/56", "2001:db8::"},
		{"[2001:db8::1]", "2001:db8::1"},
		{"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
		{"fe80::1%eth0", "fe80::1%eth0"},
		{"", ""},
		{"/24", ""},
		{"example.com", ""},
		{"192.0.2.256", ""},
		{"[192.0.2.1", ""},
	} {
		got, ok := ParseClientAddr(tc.in)
		if tc.want == "" {
			if ok {
				t.Errorf("ParseClientAddr(%q) = %v, true; want not ok", tc.in, got)
			}
			continue
		}
		if !ok || got != netip.MustParseAddr(tc.want) {
			t.Errorf("ParseClientAddr(%q) = %v, %v; want %s", tc.in, got, ok, tc.want)
		}
	}
}
