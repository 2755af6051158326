package czf

import (
	"net/netip"
	"testing"
)

func TestSemantics(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      map[string]string
	}{
		{"host routes", `{"coverageZones":{"h":{"network":["10.0.0.1"],"network6":["2001:db8::1"]},"n":{"network":["10.0.0.0/24"]}}}`,
			map[string]string{"10.0.0.1": "h", "10.0.0.2": "n", "2001:db8::1": "h", "2001:db8::2": ""}},
		{"host bits match as the network", `{"coverageZones":{"z":{"network":["10.0.0.77/24"],"network6":["2001:db8::77/32"]}}}`,
			map[string]string{"10.0.0.0": "z", "10.0.0.255": "z", "10.0.1.0": "", "2001:db8:ffff::": "z", "2001:db9::": ""}},
		{"later host-bit variant replaces the entry in effect", `{"coverageZones":{"a":{"network":["10.0.0.0/24"]},"b":{"network":["10.0.0.1/24"]},"c":{"network":["10.0.0.0/24"]}}}`,
			// b replaces a; c differs from b (the entry in effect) and replaces it,
			// exactly as Traffic Router's TreeMap does.
			map[string]string{"10.0.0.9": "c"}},
		{"exact duplicate of the entry in effect is ignored", `{"coverageZones":{"a":{"network":["10.0.0.1/24"]},"b":{"network":["10.0.0.1/24"]}}}`,
			map[string]string{"10.0.0.9": "a"}},
		{"more specifics survive a replaced supernet", `{"coverageZones":{"a":{"network":["10.0.0.1/16","10.0.5.0/24"]},"b":{"network":["10.0.0.0/16"]}}}`,
			map[string]string{"10.0.5.1": "a", "10.0.6.1": "b"}},
		{"IPv4-mapped networks are IPv4", `{"coverageZones":{"m":{"network6":["::ffff:192.0.2.0/120","::ffff:198.51.100.7","0:0:0:0:0:ffff:a4f:3700/24"]}}}`,
			map[string]string{"192.0.2.200": "m", "198.51.100.7": "m", "198.51.100.8": "", "10.79.55.1": "m", "10.79.56.1": "",
				"::ffff:192.0.2.1": "m", "::ffff:0:0": "", "::c000:201": ""}},
		{"families are separate", `{"coverageZones":{"v4":{"network":["0.0.0.0/0"]},"v6":{"network6":["::/0"]}}}`,
			map[string]string{"1.2.3.4": "v4", "255.255.255.255": "v4", "::": "v6", "::1.2.3.4": "v6",
				"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff": "v6", "::ffff:1.2.3.4": "v4"}},
		{"v4 literal under network6 goes to the v4 table", `{"coverageZones":{"z":{"network6":["10.0.0.0/8"],"network":["2001:db8::/32"]}}}`,
			map[string]string{"10.0.0.1": "z", "2001:db8::1": "z", "::a00:1": ""}},
		{"zone of the client address is ignored", `{"coverageZones":{"z":{"network6":["fe80::/10"]}}}`,
			map[string]string{"fe80::1%eth0": "z"}},
		{"edges of the address space", `{"coverageZones":{"lo":{"network":["0.0.0.0/32"],"network6":["::/128"]},"hi":{"network":["255.255.255.255/32"],"network6":["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"]},"all":{"network":["0.0.0.0/0"],"network6":["::/0"]}}}`,
			map[string]string{"0.0.0.0": "lo", "0.0.0.1": "all", "255.255.255.255": "hi", "255.255.255.254": "all",
				"::": "lo", "::1": "all", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff": "hi", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe": "all"}},
		{"spaces, nulls and unknown keys are tolerated", `{"revision":"r","customerName":{"x":[1]},"coverageZones":{"z":{"network":[" 10.0.0.0 / 8 "],"network6":null,"coordinates":null,"caches":[1],"extra":{"a":[true]}}}}`,
			map[string]string{"10.200.0.1": "z"}},
		{"empty", `{"coverageZones":{}}`, map[string]string{"1.2.3.4": "", "::1": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := mustParse(t, tc.doc)
			checkLookups(t, tb, tc.want)
		})
	}
}

func TestCoordinates(t *testing.T) {
	tb := mustParse(t, `{"coverageZones":{
		"num":{"coordinates":{"latitude":38.897663,"longitude":-77.036574}},
		"str":{"coordinates":{"longitude":"-106.480250","latitude":" 39.1178 "}},
		"exp":{"coordinates":{"latitude":"1e1","longitude":-1E1}},
		"none":{},
		"null":{"coordinates":null},
		"emptyobj":{"coordinates":{}},
		"zero":{"coordinates":{"latitude":0,"longitude":"0"}}}}`)
	checkZones(t, tb, []golden{
		{name: "num", lat: 38.897663, lon: -77.036574, hasCoord: true},
		{name: "str", lat: 39.1178, lon: -106.480250, hasCoord: true},
		{name: "exp", lat: 10, lon: -10, hasCoord: true},
		{name: "none"},
		{name: "null"},
		{name: "emptyobj"},
		{name: "zero", hasCoord: true},
	})
}

func TestDeepWithoutCoordinates(t *testing.T) {
	tb, err := ParseDeep("dczmap.json", []byte(`{"deepCoverageZones":{"d":{"network":["10.0.0.0/8"]},"e":{"caches":null,"coordinates":{"latitude":1,"longitude":2}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	// Absent coordinates: callers place "deep.d" at (0,0) as Traffic Router does.
	checkZones(t, tb, []golden{{name: "d"}, {name: "e", lat: 1, lon: 2, hasCoord: true}})
	// Parse ignores "caches".
	tb = mustParse(t, `{"coverageZones":{"z":{"caches":["a"]}}}`)
	if tb.Zone(0).Caches != nil {
		t.Errorf("Caches %q in a coverage zone file", tb.Zone(0).Caches)
	}
}

func TestNilAndInvalid(t *testing.T) {
	var tb *Table
	if z, ok := tb.Lookup(netip.MustParseAddr("1.2.3.4")); ok || z != -1 {
		t.Errorf("nil table lookup = %d, %v", z, ok)
	}
	if tb.Len() != 0 || tb.Name() != "" || tb.Deep() || tb.Stats() != (Stats{}) || tb.Warnings() != nil {
		t.Error("nil table accessors")
	}
	var zero Table
	if _, ok := zero.Lookup(netip.MustParseAddr("::1")); ok {
		t.Error("zero table hit")
	}
	full := mustParse(t, `{"coverageZones":{"z":{"network":["0.0.0.0/0"],"network6":["::/0"]}}}`)
	if z, ok := full.Lookup(netip.Addr{}); ok || z != -1 {
		t.Errorf("invalid address lookup = %d, %v", z, ok)
	}
}

func TestStatsAndIntervals(t *testing.T) {
	// Adjacent intervals with the same zone are merged.
	tb := mustParse(t, `{"coverageZones":{"a":{"network":["10.0.0.0/8","10.0.0.0/9","10.128.0.0/9"]},"b":{"network":["10.64.0.0/10"]}}}`)
	st := tb.Stats()
	// [0,10/8) none, [10.0/8,10.64/10) a, b, [10.128/9..] a, after 11/8 none.
	if st.Prefixes4 != 4 || st.Intervals4 != 5 || st.Intervals6 != 0 || st.Prefixes6 != 0 {
		t.Errorf("stats %+v", st)
	}
	checkLookups(t, tb, map[string]string{"10.63.255.255": "a", "10.64.0.0": "b", "10.127.255.255": "b", "10.128.0.0": "a", "11.0.0.0": ""})
}

func TestNetwork6InsertedBeforeNetwork(t *testing.T) {
	// network is written first, but network6 entries are inserted first: the
	// mapped entry is in effect and the network entry is its duplicate.
	tb := mustParse(t, `{"coverageZones":{"a":{"network":["10.0.0.0/8"],"network6":["::ffff:10.0.0.0/104"]}}}`)
	want := `czmap.json: coverageZones["a"].network[0]: duplicate network "10.0.0.0/8" ignored (first at coverageZones["a"].network6[0])`
	if w := tb.Warnings(); len(w) != 1 || w[0] != want {
		t.Errorf("warnings %q, want %q", w, want)
	}
	checkLookups(t, tb, map[string]string{"10.1.2.3": "a"})
}
