package czf

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/signpost-cdn/signpost/internal/fixture"
)

// lookupName returns the zone name for addr, or "" on a miss.
func lookupName(t *testing.T, tb *Table, addr string) string {
	t.Helper()
	z, ok := tb.Lookup(netip.MustParseAddr(addr))
	if !ok {
		if z != -1 {
			t.Errorf("Lookup(%s) miss returned zone %d, want -1", addr, z)
		}
		return ""
	}
	return tb.Zone(z).Name
}

func mustParse(t *testing.T, doc string) *Table {
	t.Helper()
	tb, err := Parse("czmap.json", []byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tb
}

// NetworkNodeUnitTest (spec §15.5).
func TestNetworkNodeVectors(t *testing.T) {
	t.Run("itMatchesIpsInOverlappingSubnets", func(t *testing.T) {
		tb := mustParse(t, `{"revision":"Mon Dec 21 15:04:01 2015","customerName":"Kabletown",
			"coverageZones":{"us-co-denver":{
			"network":["192.168.55.0/24","192.168.6.0/24","192.168.0.0/16"],
			"network6":["0:0:0:0:0:ffff:a4f:3700/24"]}}}`)
		if got := lookupName(t, tb, "192.168.55.2"); got != "us-co-denver" {
			t.Errorf("192.168.55.2 -> %q, want us-co-denver", got)
		}
		// The IPv4-mapped network6 entry is IPv4 10.79.55.0/24.
		if got := lookupName(t, tb, "10.79.55.9"); got != "us-co-denver" {
			t.Errorf("10.79.55.9 -> %q, want us-co-denver", got)
		}
		if got := lookupName(t, tb, "192.169.0.1"); got != "" {
			t.Errorf("192.169.0.1 -> %q, want miss", got)
		}
	})
	t.Run("itDoesIpV6", func(t *testing.T) {
		tb := mustParse(t, `{"coverageZones":{"us-co-denver":{
			"network":["192.168.55.0/24","192.168.6.0/24","192.168.0.0/16"],
			"network6":["1234:5678::/64","1234:5679::/64"]}}}`)
		if got := lookupName(t, tb, "1234:5678::1"); got != "us-co-denver" {
			t.Errorf("1234:5678::1 -> %q, want us-co-denver", got)
		}
		if got := lookupName(t, tb, "1234:567a::1"); got != "" {
			t.Errorf("1234:567a::1 -> %q, want miss", got)
		}
	})
	for _, tc := range []struct{ name, doc, want string }{
		{"itRejectsInvalidIpV4Network",
			`{"coverageZones":{"us-co-denver":{"network":["192.168.55.0/40","192.168.6.0/24","192.168.0.0/16"],"network6":["1234:5678::/64","1234:5679::/64"]}}}`,
			`czmap.json: coverageZones["us-co-denver"].network[0]: invalid CIDR "192.168.55.0/40": mask longer than 32`},
		{"itRejectsInvalidIpV6Network",
			`{"coverageZones":{"us-co-denver":{"network":["192.168.55.0/24","192.168.6.0/24","192.168.0.0/16"],"network6":["1234:5678::/64","zyx:5679::/64"]}}}`,
			`czmap.json: coverageZones["us-co-denver"].network6[1]: invalid CIDR "zyx:5679::/64": bad address "zyx:5679::"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb, err := Parse("czmap.json", []byte(tc.doc))
			if tb != nil || err == nil {
				t.Fatalf("Parse accepted the file")
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got %s\nwant %s", err, tc.want)
			}
		})
	}
	t.Run("itDoesNotAddDuplicates", func(t *testing.T) {
		tb := mustParse(t, `{"coverageZones":{
			"a":{"network":["192.168.0.0/16","192.168.1.0/24"]},
			"b":{"network":["192.168.1.0/24"]}}}`)
		if got := lookupName(t, tb, "192.168.1.1"); got != "a" {
			t.Errorf("192.168.1.1 -> %q, want a (first insertion wins)", got)
		}
		st := tb.Stats()
		if st.Duplicates != 1 || st.Prefixes4 != 2 {
			t.Errorf("stats %+v, want 1 duplicate, 2 prefixes", st)
		}
		want := []string{`czmap.json: coverageZones["b"].network[0]: duplicate network "192.168.1.0/24" ignored (first at coverageZones["a"].network[1])`}
		if !slices.Equal(tb.Warnings(), want) {
			t.Errorf("warnings\n got %q\nwant %q", tb.Warnings(), want)
		}
	})
	t.Run("itPutsAllSubnetsUnderSuperNet", func(t *testing.T) {
		// Subnets first, then the supernet that adopts them: the subnets stay
		// more specific whatever the insertion order.
		for _, doc := range []string{
			`{"coverageZones":{"s1":{"network":["192.168.6.0/24"]},"s2":{"network":["192.168.55.0/24"]},"net":{"network":["192.168.0.0/16"]}}}`,
			`{"coverageZones":{"net":{"network":["192.168.0.0/16"]},"s2":{"network":["192.168.55.0/24"]},"s1":{"network":["192.168.6.0/24"]}}}`,
		} {
			tb := mustParse(t, doc)
			for addr, want := range map[string]string{
				"192.168.6.1": "s1", "192.168.55.255": "s2", "192.168.7.0": "net",
				"192.168.0.0": "net", "192.168.255.255": "net", "192.169.0.0": "",
			} {
				if got := lookupName(t, tb, addr); got != want {
					t.Errorf("%s -> %q, want %q", addr, got, want)
				}
			}
		}
	})
	t.Run("itSupportsDeepCaches", func(t *testing.T) {
		tb, err := ParseDeep("dczmap.json", []byte(`{"revision":"x","customerName":"Kabletown",
			"deepCoverageZones":{"us-co-denver":{
			"network":["192.168.55.0/24","192.168.6.0/24","192.168.0.0/16"],
			"network6":["1234:5678::/64","1234:5679::/64"],
			"caches":["host1","host2","","host1"]}}}`))
		if err != nil {
			t.Fatal(err)
		}
		z, ok := tb.Lookup(netip.MustParseAddr("192.168.55.100"))
		if !ok {
			t.Fatal("miss")
		}
		if got := tb.Zone(z).Caches; !slices.Equal(got, []string{"host1", "host2"}) {
			t.Errorf("caches %q", got)
		}
	})
}

type golden struct {
	name     string
	lat, lon float64
	hasCoord bool
	caches   []string
}

func checkZones(t *testing.T, tb *Table, want []golden) {
	t.Helper()
	if tb.Len() != len(want) {
		t.Fatalf("Len %d, want %d", tb.Len(), len(want))
	}
	for i, w := range want {
		z := tb.Zone(i)
		if z.Name != w.name || z.HasCoordinates != w.hasCoord || z.Latitude != w.lat ||
			z.Longitude != w.lon || !slices.Equal(z.Caches, w.caches) {
			t.Errorf("zone %d = %+v, want %+v", i, *z, w)
		}
	}
}

func checkLookups(t *testing.T, tb *Table, want map[string]string) {
	t.Helper()
	for addr, w := range want {
		if got := lookupName(t, tb, addr); got != w {
			t.Errorf("%s -> %q, want %q", addr, got, w)
		}
	}
}

func TestFixtureCZF(t *testing.T) {
	tb, err := Parse("czf.json", fixture.Read(t, "atc/czf.json"))
	if err != nil {
		t.Fatal(err)
	}
	lons := []float64{-106.480250, -120, -110, -100, -90, -80, -115, -105, -95, -85}
	lats := []float64{39.117800, 48, 48, 48, 48, 48, 35, 35, 35, 48}
	var want []golden
	for i := range 10 {
		want = append(want, golden{name: "cache-group-" + string(rune('0'+i)), lat: lats[i], lon: lons[i], hasCoord: true})
	}
	checkZones(t, tb, want)
	checkLookups(t, tb, map[string]string{
		"12.34.0.123":   "cache-group-0", // spec §15.3 R1
		"12.34.3.5":     "cache-group-3", // R11
		"12.34.7.9":     "cache-group-7", // R7
		"12.34.8.77":    "cache-group-8", // R8
		"100.3.3.123":   "cache-group-3", // R17
		"12.34.0.5":     "cache-group-0", // D2
		"10.9.15.255":   "cache-group-9",
		"10.9.16.0":     "",
		"111.222.5.1":   "cache-group-5",
		"12.34.10.1":    "", // D3: CZ miss
		"127.0.0.1":     "", // D1
		"192.168.42.10": "",
		// The v6 entries of each family share one network: 2001:DEAD:BEEF:N::/48
		// is 2001:dead:beef::/48 with host bits for every N (likewise the /37 and
		// /26). Traffic Router's tree replaces the entry in effect with each
		// later one (TreeMap.put on an equal key), so cache-group-9, the last,
		// answers for all of them; this package does the same (Stats.Overrides).
		"2001:dead:beef:3::1": "cache-group-9",
		"2001:dead:beef:0::1": "cache-group-9",
		"2001:cafe:f00d:5::1": "cache-group-9",
		"2601:ac1d:7::1":      "cache-group-9",
		"2001:dead:bef0::1":   "",
		"::ffff:12.34.3.5":    "cache-group-3", // IPv4-mapped client: looked up as IPv4
	})
	st := tb.Stats()
	if st.Prefixes4 != 40 || st.Prefixes6 != 3 || st.Overrides != 27 || st.Duplicates != 0 || st.Zones != 10 {
		t.Errorf("stats %+v", st)
	}
	if len(tb.Warnings()) != maxWarnings {
		t.Errorf("%d warnings, want %d", len(tb.Warnings()), maxWarnings)
	}
	if w := tb.Warnings()[0]; w != `czf.json: coverageZones["cache-group-1"].network6[0]: network "2001:DEAD:BEEF:1::/48" replaces "2001:DEAD:BEEF:0::/48" at coverageZones["cache-group-0"].network6[0]` {
		t.Errorf("first warning %s", w)
	}
}

func TestFixtureCZMap(t *testing.T) {
	tb, err := Parse("czmap.json", fixture.Read(t, "atc/czmap.json"))
	if err != nil {
		t.Fatal(err)
	}
	checkZones(t, tb, []golden{{name: "CDN_in_a_Box_Edge", lat: 38.897663, lon: -77.036574, hasCoord: true}})
	checkLookups(t, tb, map[string]string{
		"192.168.8.1":                    "CDN_in_a_Box_Edge",
		"192.168.9.255":                  "CDN_in_a_Box_Edge",
		"192.168.10.0":                   "",
		"1234:5678::1":                   "CDN_in_a_Box_Edge",
		"1234:5679::ffff:ffff:ffff:ffff": "CDN_in_a_Box_Edge",
		"1234:5679:0:1::":                "",
		"1234:567a::":                    "",
	})
	if tb.Deep() || tb.Name() != "czmap.json" {
		t.Errorf("Deep %v Name %q", tb.Deep(), tb.Name())
	}
}

func TestFixtureDCZMap(t *testing.T) {
	data := fixture.Read(t, "atc/dczmap.json")
	tb, err := ParseDeep("dczmap.json", data)
	if err != nil {
		t.Fatal(err)
	}
	checkZones(t, tb, []golden{
		{name: "cache-group-01", caches: []string{"host1", "host2", "host3", "host4"}},
		{name: "csd-group", caches: []string{"edge-cache-csd-1", "edge-cache-csd-2"}},
	})
	checkLookups(t, tb, map[string]string{
		"192.168.42.10": "csd-group", // spec §15.3 R16
		"fd12:3456::1":  "csd-group",
		"192.168.8.8":   "cache-group-01",
		"1234:5679::8":  "cache-group-01",
		"12.34.0.123":   "",
	})
	if !tb.Deep() {
		t.Error("Deep() false")
	}
	// The deep file is not a coverage zone file and vice versa.
	var e *Error
	if _, err := Parse("dczmap.json", data); !errors.As(err, &e) ||
		err.Error() != `dczmap.json: missing key "coverageZones"` {
		t.Errorf("Parse(dczmap) error %v", err)
	}
	if _, err := ParseDeep("czmap.json", fixture.Read(t, "atc/czmap.json")); err == nil ||
		err.Error() != `czmap.json: missing key "deepCoverageZones"` {
		t.Errorf("ParseDeep(czmap) error %v", err)
	}
}
