package control

import (
	"net/netip"
	"testing"
)

func benchFederations(tb testing.TB) *Federations {
	f, err := ParseFederations("f.json", []byte(`{"response":[{"deliveryService":"d","mappings":[
		{"cname":"a.","ttl":30,"resolve4":["10.0.0.0/8","192.168.0.0/16"],"resolve6":["2001:db8::/32"]},
		{"cname":"b.","ttl":30,"resolve4":["12.34.10.1/32"]}]}]}`))
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func BenchmarkFederationsLookup(b *testing.B) {
	f := benchFederations(b)
	addr := netip.MustParseAddr("12.34.10.1")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := f.Lookup("d", addr); !ok {
			b.Fatal("miss")
		}
	}
}
