package geo

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/signpost-cdn/signpost/internal/fixture"
)

func TestCityKnownAddresses(t *testing.T) {
	c := loadTestCity(t, "geo/GeoIP2-City-Test.mmdb")
	london := Location{Latitude: 51.5142, Longitude: -0.0931, CountryCode: "GB", CountryName: "United Kingdom", City: "London"}
	milton := Location{Latitude: 47.2513, Longitude: -122.3149, CountryCode: "US", CountryName: "United States", City: "Milton", PostalCode: "98354"}
	japan := Location{Latitude: 35.68536, Longitude: 139.75309, CountryCode: "JP", CountryName: "Japan", IsDefault: true}
	for _, tc := range []struct {
		addr string
		want Location
		ok   bool
	}{
		{"81.2.69.142", london, true},
		{"::ffff:81.2.69.142", london, true}, // IPv4-mapped
		{"::81.2.69.142", london, true},      // the IPv4 space of the IPv6 tree
		{"216.160.83.56", milton, true},
		{"2001:218::1", japan, true},
		{"2001:218::1%eth0", japan, true}, // zones are ignored
		{"214.1.1.1", Location{}, false},  // record without coordinates
		{"1.1.1.1", Location{}, false},    // gap (empty map record)
		{"10.0.0.1", Location{}, false},
		{"::1", Location{}, false},
	} {
		got, ok := c.Lookup(netip.MustParseAddr(tc.addr))
		if ok != tc.ok || got != tc.want {
			t.Errorf("Lookup(%s) = %+v, %v; want %+v, %v", tc.addr, got, ok, tc.want, tc.ok)
		}
	}
	if got, ok := c.Lookup(netip.Addr{}); ok {
		t.Errorf("Lookup(zero Addr) = %+v, true", got)
	}
	md := c.Metadata()
	if md.File != "geo/GeoIP2-City-Test.mmdb" || md.DatabaseType != "GeoIP2-City" || md.IPVersion != 6 ||
		md.RecordSize != 28 || md.NodeCount == 0 || md.Records == 0 || md.Entries == 0 || md.Entries > md.Records ||
		md.BuildTime().Unix() != md.BuildEpoch || !strings.Contains(md.Description, "City Test") {
		t.Errorf("Metadata() = %+v", md)
	}
}

// The router ships GeoLite2-City-Test.mmdb as examples/fixture-cdn/geo.mmdb.
func TestLoadGeoLite2CityTest(t *testing.T) {
	c := loadTestCity(t, "geo/GeoLite2-City-Test.mmdb")
	if md := c.Metadata(); md.DatabaseType != "GeoLite2-City" {
		t.Errorf("DatabaseType = %q", md.DatabaseType)
	}
	got, ok := c.Lookup(netip.MustParseAddr("81.2.69.142"))
	if !ok || got.City != "London" || got.CountryCode != "GB" {
		t.Errorf("Lookup(81.2.69.142) = %+v, %v", got, ok)
	}
	shipped := fixture.RepoRoot(t) + "/examples/fixture-cdn/geo.mmdb"
	if _, err := LoadCity(shipped, mustRead(t, shipped)); err != nil {
		t.Errorf("LoadCity(fixture-cdn geo.mmdb): %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	city := fixture.Read(t, "geo/GeoIP2-City-Test.mmdb")
	for _, tc := range []struct {
		name string
		data []byte
		load func(string, []byte) error
		want []string
	}{
		{"geo.mmdb", fixture.Read(t, "geo/GeoIP2-Country-Test.mmdb"), loadCityErr,
			[]string{"geo.mmdb", `database type "GeoIP2-Country" is not a MaxMind City database`}},
		{"geo.mmdb", fixture.Read(t, "geo/GeoIP2-Anonymous-IP-Test.mmdb"), loadCityErr,
			[]string{"geo.mmdb", `"GeoIP2-Anonymous-IP" is not a MaxMind City database`}},
		{"anonymous-ip.mmdb", city, loadAnonymousErr,
			[]string{"anonymous-ip.mmdb", `"GeoIP2-City" is not a MaxMind Anonymous IP database`}},
		{"geo.mmdb", nil, loadCityErr, []string{"geo.mmdb: empty file"}},
		{"anonymous-ip.mmdb", []byte{}, loadAnonymousErr, []string{"anonymous-ip.mmdb: empty file"}},
		{"geo.mmdb", []byte("this is not a database at all\n"), loadCityErr,
			[]string{"geo.mmdb: not a MaxMind DB file"}},
		{"geo.mmdb", city[:len(city)/2], loadCityErr, []string{"geo.mmdb: not a MaxMind DB file", "truncated"}},
		{"geo.mmdb", append([]byte("\xab\xcd\xefMaxMind.com"), "garbage"...), loadCityErr,
			[]string{"geo.mmdb: invalid MaxMind DB file"}},
	} {
		err := tc.load(tc.name, tc.data)
		if err == nil {
			t.Errorf("%s (%d bytes): no error; want %q", tc.name, len(tc.data), tc.want)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", tc.name, err, w)
			}
		}
	}
}

func loadCityErr(name string, b []byte) error      { _, err := LoadCity(name, b); return err }
func loadAnonymousErr(name string, b []byte) error { _, err := LoadAnonymous(name, b); return err }

// Every truncation and many single-byte corruptions of a real test
// database load or fail cleanly; whatever loads answers lookups.
func TestLoadDamagedNoPanic(t *testing.T) {
	orig := fixture.Read(t, "geo/GeoIP2-City-Test.mmdb")
	addrs := []netip.Addr{netip.MustParseAddr("81.2.69.142"), netip.MustParseAddr("2001:218::1")}
	for n := 0; n < len(orig); n += 37 {
		if c, err := LoadCity("cut.mmdb", orig[:n]); err == nil {
			for _, a := range addrs {
				c.Lookup(a)
			}
		}
	}
	for i := 0; i < len(orig); i += 11 {
		b := bytes.Clone(orig)
		b[i] ^= 0xff
		if c, err := LoadCity("flip.mmdb", b); err == nil {
			for _, a := range addrs {
				c.Lookup(a)
			}
		}
	}
}

// writeDB builds a small database with mmdbwriter.
func writeDB(t testing.TB, opts mmdbwriter.Options, records map[string]mmdbtype.DataType) []byte {
	t.Helper()
	opts.IncludeReservedNetworks = true
	w, err := mmdbwriter.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for cidr, v := range records {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Insert(n, v); err != nil {
			t.Fatalf("insert %s: %v", cidr, err)
		}
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func cityRec(lat, lon float64, extra ...any) mmdbtype.Map {
	m := mmdbtype.Map{
		"location": mmdbtype.Map{"latitude": mmdbtype.Float64(lat), "longitude": mmdbtype.Float64(lon)},
		"country":  mmdbtype.Map{"iso_code": mmdbtype.String("US"), "names": mmdbtype.Map{"en": mmdbtype.String("United States")}},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[mmdbtype.String(extra[i].(string))] = extra[i+1].(mmdbtype.DataType)
	}
	return m
}

func TestLoadCitySynthetic(t *testing.T) {
	names := func(en string) mmdbtype.Map { return mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(en)}} }
	data := writeDB(t, mmdbwriter.Options{DatabaseType: "GeoIP2-City-Europe", RecordSize: 24}, map[string]mmdbtype.DataType{
		"192.0.2.0/24":     cityRec(39.7392, -104.9903, "city", names("Denver")),
		"198.51.100.0/24":  cityRec(37.751, -97.822), // country centroid
		"203.0.113.0/24":   cityRec(37.751, -97.822, "subdivisions", mmdbtype.Slice{names("Kansas")}),
		"203.0.114.0/24":   cityRec(37.751, -97.822, "postal", mmdbtype.Map{"code": mmdbtype.String("66044")}),
		"2001:db8::/32":    mmdbtype.Map{"location": mmdbtype.Map{"latitude": mmdbtype.Float64(10)}}, // no longitude
		"2001:db9::/32":    cityRec(0, 0),                                                            // (0,0) is a valid answer
		"2001:dba::/32":    cityRec(0, 0, "city", mmdbtype.Map{"geoname_id": mmdbtype.Uint32(1)}),    // city without a name
		"192.0.2.128/25":   cityRec(39.7392, -104.9903, "city", names("Denver"), "traits", mmdbtype.Map{"x": mmdbtype.Bool(true)}),
		"198.18.0.0/15":    mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String("US")}},
		"2001:dbb::/32":    mmdbtype.Map{},
		"2001:dbc::/32":    cityRec(-90, 180, "city", names("Edge")),
		"2001:dbd::/32":    cityRec(90, -180, "city", names("Edge")),
		"2001:dbe::/32":    cityRec(1.5, 2.5, "postal", mmdbtype.Map{"code": mmdbtype.String("")}),
		"2001:dbf::/32":    cityRec(1.5, 2.5, "city", names("Denver"), "postal", mmdbtype.Map{"code": mmdbtype.String("80202")}),
		"2001:dc0::/32":    cityRec(39.7392, -104.9903, "city", names("Denver"), "postal", mmdbtype.Map{"code": mmdbtype.String("80202")}),
		"2001:dc1:1::/48":  cityRec(39.7392, -104.9903, "city", names("Denver"), "postal", mmdbtype.Map{"code": mmdbtype.String("80202")}),
		"2001:dc1:2::/48":  cityRec(39.7392, -104.9903, "city", names("Denver"), "postal", mmdbtype.Map{"code": mmdbtype.String("80202")}),
		"2001:dc1:3::/128": cityRec(39.7392, -104.9903, "city", names("Denver"), "postal", mmdbtype.Map{"code": mmdbtype.String("80202")}),
	})
	c, err := LoadCity("synthetic.mmdb", data)
	if err != nil {
		t.Fatal(err)
	}
	us := func(l Location) Location { l.CountryCode, l.CountryName = "US", "United States"; return l }
	for _, tc := range []struct {
		addr string
		want Location
		ok   bool
	}{
		{"192.0.2.1", us(Location{Latitude: 39.7392, Longitude: -104.9903, City: "Denver"}), true},
		{"192.0.2.200", us(Location{Latitude: 39.7392, Longitude: -104.9903, City: "Denver"}), true},
		{"198.51.100.7", us(Location{Latitude: 37.751, Longitude: -97.822, IsDefault: true}), true},
		{"203.0.113.7", us(Location{Latitude: 37.751, Longitude: -97.822}), true},
		{"203.0.114.7", us(Location{Latitude: 37.751, Longitude: -97.822, PostalCode: "66044"}), true},
		{"2001:db8::1", Location{}, false},
		{"2001:db9::1", us(Location{IsDefault: true}), true},
		// TR tests the city *name* (getCity().getName() == null).
		{"2001:dba::1", us(Location{IsDefault: true}), true},
		{"198.18.0.1", Location{}, false},
		{"2001:dbb::1", Location{}, false},
		{"2001:dbc::1", us(Location{Latitude: -90, Longitude: 180, City: "Edge"}), true},
		{"2001:dbd::1", us(Location{Latitude: 90, Longitude: -180, City: "Edge"}), true},
		{"2001:dbe::1", us(Location{Latitude: 1.5, Longitude: 2.5, IsDefault: true}), true},
		{"2001:dc1:3::", us(Location{Latitude: 39.7392, Longitude: -104.9903, City: "Denver", PostalCode: "80202"}), true},
	} {
		got, ok := c.Lookup(netip.MustParseAddr(tc.addr))
		if ok != tc.ok || got != tc.want {
			t.Errorf("Lookup(%s) = %+v, %v; want %+v, %v", tc.addr, got, ok, tc.want, tc.ok)
		}
	}
	md := c.Metadata()
	if md.DatabaseType != "GeoIP2-City-Europe" || md.RecordSize != 24 {
		t.Errorf("Metadata() = %+v", md)
	}
	// Distinct records that decode to the same answer share one entry.
	if md.Entries >= md.Records {
		t.Errorf("Entries %d, Records %d: identical answers are not shared", md.Entries, md.Records)
	}
}

func TestLoadCityIPv4Tree(t *testing.T) {
	for _, size := range []int{24, 28, 32} {
		data := writeDB(t, mmdbwriter.Options{DatabaseType: "GeoLite2-City", IPVersion: 4, RecordSize: size},
			map[string]mmdbtype.DataType{"192.0.2.0/24": cityRec(1, 2)})
		c, err := LoadCity("v4.mmdb", data)
		if err != nil {
			t.Fatalf("record size %d: %v", size, err)
		}
		for _, tc := range []struct {
			addr string
			ok   bool
		}{{"192.0.2.9", true}, {"::ffff:192.0.2.9", true}, {"192.0.3.1", false}, {"2001:db8::1", false}} {
			if _, ok := c.Lookup(netip.MustParseAddr(tc.addr)); ok != tc.ok {
				t.Errorf("record size %d: Lookup(%s) ok = %v, want %v", size, tc.addr, ok, tc.ok)
			}
		}
	}
}

func TestLoadCityBadRecordsListed(t *testing.T) {
	recs := map[string]mmdbtype.DataType{
		"192.0.2.0/24":    cityRec(91, 0),
		"198.51.100.0/24": cityRec(0, -180.5),
		"2001:db8::/32":   mmdbtype.String("not a map"),
		"203.0.113.0/24":  mmdbtype.Map{"location": mmdbtype.Map{"latitude": mmdbtype.String("40"), "longitude": mmdbtype.Float64(1)}},
		"203.0.114.0/24":  cityRec(1, 2),
	}
	for i := range 12 {
		recs[fmt.Sprintf("2001:db9:%x::/48", i)] = cityRec(100+float64(i), 0)
	}
	_, err := LoadCity("bad.mmdb", writeDB(t, mmdbwriter.Options{DatabaseType: "GeoIP2-City"}, recs))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	t.Log(msg)
	for _, w := range []string{
		"bad.mmdb: record at data offset",
		"(network 192.0.2.0/24): location (91, 0) is not a valid latitude/longitude",
		"bad.mmdb: 6 more bad records not listed",
	} {
		if !strings.Contains(msg, w) {
			t.Errorf("error does not contain %q:\n%s", w, msg)
		}
	}
	if n := strings.Count(msg, "\n") + 1; n != maxProblems+1 {
		t.Errorf("error has %d lines, want %d:\n%s", n, maxProblems+1, msg)
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
