package accesslog

import (
	"math"
	"net/netip"
	"testing"
)

func TestCoordinates(t *testing.T) {
	tests := []struct {
		v         float64
		http, dns string
	}{
		{39.7528, "39.75", "39.75"},
		{-104.9997, "-104.99", "-104.99"},
		{40.0, "40.00", "40.0"},
		{-87.0, "-87.00", "-87.0"},
		{0.5, "0.50", ".5"},
		{-0.5, "-0.50", "-.5"},
		{0.0, "0.00", ".0"},
		{math.Copysign(0, -1), "-0.00", "-.0"},
		{-0.001, "-0.00", "-.0"},
		{0.29, "0.29", ".29"},   // shortest digits "0.29", not the binary 0.28999…
		{12.1, "12.10", "12.1"}, // trailing zero dropped by ".##"
		{0.05, "0.05", ".05"},
		{179.999999, "179.99", "179.99"},
		{1e-7, "0.00", ".0"},
	}
	for _, tt := range tests {
		if got := string(appendCoordHTTP(nil, tt.v)); got != tt.http {
			t.Errorf("HTTP coordinate %v = %q, want %q", tt.v, got, tt.http)
		}
		if got := string(appendCoordDNS(nil, tt.v)); got != tt.dns {
			t.Errorf("DNS coordinate %v = %q, want %q", tt.v, got, tt.dns)
		}
	}
}

func TestMillis3(t *testing.T) {
	tests := []struct {
		ns   int64
		want string
	}{
		{0, "0.000"}, {499, "0.000"}, {500, "0.001"}, {123998, "0.124"}, {788899, "0.789"},
		{125000000, "125.000"}, {789123000, "789.123"}, {1999999999, "2000.000"}, {-5, "0.000"},
	}
	for _, tt := range tests {
		if got := string(appendMillis3(nil, tt.ns)); got != tt.want {
			t.Errorf("appendMillis3(%d) = %q, want %q", tt.ns, got, tt.want)
		}
	}
}

func TestEpochMillis(t *testing.T) {
	tests := []struct {
		ms   int64
		want string
	}{
		{144140678000, "144140678.000"}, {1700000000007, "1700000000.007"},
		{1700000000070, "1700000000.070"}, {5, "0.005"}, {-1500, "-1.-500"}, {-5, "0.-05"},
	}
	for _, tt := range tests {
		if got := string(appendEpochMillis(nil, tt.ms)); got != tt.want {
			t.Errorf("appendEpochMillis(%d) = %q, want %q", tt.ms, got, tt.want)
		}
	}
}

func TestJavaIP(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.168.7.6", "192.168.7.6"},
		{"2001:dead:beef:124:1::2", "2001:dead:beef:124:1:0:0:2"},
		{"::1", "0:0:0:0:0:0:0:1"},
		{"::", "0:0:0:0:0:0:0:0"},
		{"::ffff:10.1.2.3", "10.1.2.3"},
		{"fe80::a%eth0", "fe80:0:0:0:0:0:0:a%eth0"},
		{"2001:0db8:00ff:0f00:000f:0:0:0", "2001:db8:ff:f00:f:0:0:0"},
	}
	for _, tt := range tests {
		if got := string(appendJavaIP(nil, netip.MustParseAddr(tt.in))); got != tt.want {
			t.Errorf("appendJavaIP(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := string(appendJavaIP(nil, netip.Addr{})); got != "-" {
		t.Errorf("invalid addr = %q, want -", got)
	}
}

func TestName(t *testing.T) {
	tests := []struct {
		wire []byte
		want string
		ok   bool
	}{
		{[]byte{0}, ".", true},
		{[]byte("\x03www\x07Example\x03com\x00"), "www.Example.com.", true},
		{[]byte("\x0aJohn Wayne\x00"), `John\032Wayne.`, true},
		{[]byte("\x07a.b;c@$\x00"), `a\.b\;c\@\$.`, true},
		{[]byte("\x04\"()\\\x00"), `\"\(\)\\.`, true},
		{[]byte("\x02\x00\xff\x00"), `\000\255.`, true},
		{[]byte("\x05abc"), "", false},
		{[]byte("\x03abc"), "abc.", false},
	}
	for _, tt := range tests {
		got, ok := appendName(nil, tt.wire)
		if ok != tt.ok || (ok && string(got) != tt.want) {
			t.Errorf("appendName(%q) = %q, %v; want %q, %v", tt.wire, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRData(t *testing.T) {
	tests := []struct {
		name string
		a    DNSAnswer
		want string
	}{
		{"A", DNSAnswer{Type: 1, RData: []byte{10, 0, 0, 1}}, "10.0.0.1"},
		{"AAAA mapped", DNSAnswer{Type: 28, RData: netip.MustParseAddr("::ffff:1.2.3.4").AsSlice()}, "0:0:0:0:0:ffff:102:304"},
		{"NS", DNSAnswer{Type: 2, RData: []byte("\x03ns1\x03cdn\x00")}, "ns1.cdn."},
		{"MX", DNSAnswer{Type: 15, RData: []byte("\x00\x0a\x02mx\x00")}, "10 mx."},
		{"SRV", DNSAnswer{Type: 33, RData: []byte("\x00\x01\x00\x02\x00\x50\x01t\x00")}, "1 2 80 t."},
		{"SOA", DNSAnswer{Type: 6, RData: append([]byte("\x02ns\x00\x05admin\x00"),
			0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 3, 0x84)}, "ns. admin. 1 2 3 4 900"},
		{"TXT", DNSAnswer{Type: 16, RData: []byte("\x05a\"b\\c\x02\x01z")}, `"a\"b\\c" "\001z"`},
		{"Text wins", DNSAnswer{Type: 46, RData: []byte{1}, Text: []byte("A 8 3 30 ...")}, "A 8 3 30 ..."},
		{"SPF", DNSAnswer{Type: 99, RData: []byte("\x03v=1")}, `"v=1"`},
		{"unknown", DNSAnswer{Type: 65280, RData: []byte{0xab, 0x01}}, `\# 2 AB01`},
		{"malformed A", DNSAnswer{Type: 1, RData: []byte{1, 2, 3}}, `\# 3 010203`},
		{"malformed CNAME", DNSAnswer{Type: 5, RData: []byte("\x05ab")}, `\# 3 056162`},
	}
	for _, tt := range tests {
		if got := string(appendRData(nil, &tt.a)); got != tt.want {
			t.Errorf("%s: appendRData = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestJavaTrim(t *testing.T) {
	b := []byte("x=  a b \t")
	if got := string(javaTrimFrom(b, 2)); got != "x=a b" {
		t.Errorf("javaTrimFrom = %q", got)
	}
}
