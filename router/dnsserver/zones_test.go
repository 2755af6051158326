package dnsserver

import (
	"testing"

	"github.com/signpost-cdn/signpost/internal/dnswire"
)

// TestFindZoneRoutingOwner: routing owners share the origins table, and
// findZone reports a name as its zone's routing owner only for the owner
// itself, never for names below it or for DS queries; owners that are
// origins themselves, or that lie in another zone, are left out of the
// table (and are never the routing owner of the zone findZone returns).
func TestFindZoneRoutingOwner(t *testing.T) {
	w := func(s string) []byte {
		b, err := dnswire.AppendName(nil, s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := &zoneBuilder{c: &compiled{byOrigin: map[string]int32{}}}
	for i, z := range []struct{ origin, owner string }{
		{"cdn.test", ""},
		{"geo.cdn.test", "edge.geo.cdn.test"},
		{"http.cdn.test", "tr.http.cdn.test"},    // the owner is an origin too
		{"tr.http.cdn.test", ""},                 //
		{"deep.cdn.test", "x.sub.deep.cdn.test"}, // the owner lies in another zone
		{"sub.deep.cdn.test", ""},
	} {
		zz := zone{origin: w(z.origin)}
		if z.owner != "" {
			zz.routingOwner = w(z.owner)
		}
		b.c.zones = append(b.c.zones, zz)
		b.c.byOrigin[string(zz.origin)] = int32(i)
		b.c.originLens[len(zz.origin)>>6] |= 1 << (len(zz.origin) & 63)
	}
	b.indexOwners()
	b.c.origins = newNameTable(b.c.byOrigin)
	c := b.c
	for i, want := range []bool{false, true, false, false, false, false} {
		z := &c.zones[i]
		v, ok := c.origins.get(z.routingOwner)
		if indexed := z.routingOwner != nil && ok && v == int32(i)|ownerBit; indexed != want {
			t.Errorf("zone %s: owner indexed %v, want %v", z.origin, indexed, want)
		}
	}
	for _, tc := range []struct {
		name    string
		qtype   uint16
		zone    int32
		atOwner bool
	}{
		{"edge.geo.cdn.test", dnswire.TypeA, 1, true},
		{"edge.geo.cdn.test", dnswire.TypeAAAA, 1, true},
		{"edge.geo.cdn.test", typeDS, 1, false},
		{"a.edge.geo.cdn.test", dnswire.TypeA, 1, false},
		{"a.edge.geo.cdn.test", typeDS, 1, false},
		{"geo.cdn.test", dnswire.TypeA, 1, false},
		{"geo.cdn.test", typeDS, 0, false},
		{"other.geo.cdn.test", dnswire.TypeA, 1, false},
		{"tr.http.cdn.test", dnswire.TypeA, 3, false},
		{"x.sub.deep.cdn.test", dnswire.TypeA, 5, false},
		{"cdn.test", dnswire.TypeA, 0, false},
		{"example.org", dnswire.TypeA, -1, false},
	} {
		zi, atOwner := c.findZone(w(tc.name), tc.qtype)
		if zi != tc.zone || atOwner != tc.atOwner {
			t.Errorf("findZone(%s, %d) = %d, %v; want %d, %v", tc.name, tc.qtype, zi, atOwner, tc.zone, tc.atOwner)
		}
	}
}
