package control

import (
	"os"
	"strings"
	"testing"

	"github.com/signpost-cdn/signpost/internal/fixture"
)

func readFixture(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(fixture.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func fixtureSnapshot(t *testing.T) *Snapshot {
	t.Helper()
	s, err := ParseSnapshot("CrConfig.json", readFixture(t, "atc/CrConfig.json"))
	if err != nil {
		t.Fatalf("ParseSnapshot: %v", err)
	}
	return s
}

func TestParseSnapshotFixtureCounts(t *testing.T) {
	s := fixtureSnapshot(t)
	checks := []struct {
		name      string
		got, want int
	}{
		{"deliveryServices", len(s.DeliveryServices), 24},
		{"contentServers", len(s.ContentServers), 24},
		{"edgeLocations", len(s.EdgeLocations), 9},
		{"contentRouters", len(s.ContentRouters), 10},
		{"trafficRouterLocations", len(s.TrafficRouterLocations), 2},
		{"monitors", len(s.Monitors), 2},
		{"topologies", len(s.Topologies), 0},
		{"ignored caches", s.IgnoredContentServers, 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, c.got, c.want)
		}
	}
	if len(s.Hash) != 64 {
		t.Errorf("hash %q", s.Hash)
	}
	// Document order is kept.
	if s.DeliveryServices[0].ID != "https-only-test" || s.DeliveryServices[23].ID != "dns-test" {
		t.Errorf("DS order: first %q last %q", s.DeliveryServices[0].ID, s.DeliveryServices[23].ID)
	}
	if s.ContentServers[0].ID != "edge-cache-000" || s.ContentRouters[0].ID != "testing-tr-02" || s.EdgeLocations[8].Name != "location-csd" {
		t.Errorf("order: %q %q %q", s.ContentServers[0].ID, s.ContentRouters[0].ID, s.EdgeLocations[8].Name)
	}
	for i, ds := range s.DeliveryServices {
		if got, ok := s.DeliveryService(ds.ID); !ok || got != &s.DeliveryServices[i] {
			t.Errorf("index of %q broken", ds.ID)
		}
	}
}

func TestParseSnapshotFixtureConfig(t *testing.T) {
	s := fixtureSnapshot(t)
	c := s.Config
	if c.DomainName != "thecdn.example.com" {
		t.Errorf("domain %q", c.DomainName)
	}
	if !c.EdgeDNSRouting || !c.EdgeHTTPRouting || c.ConsistentDNSRouting || c.DNSSECEnabled {
		t.Errorf("routing flags %+v", c)
	}
	if c.EdgeDNSLimit != 4 || c.EdgeHTTPLimit != 4 || !c.RegexSuperhack || !c.DNSSECAllowExpiredKeys {
		t.Errorf("defaults: %d %d %v %v", c.EdgeDNSLimit, c.EdgeHTTPLimit, c.RegexSuperhack, c.DNSSECAllowExpiredKeys)
	}
	if c.SOA.Minimum.Or(0) != 30 || c.NegativeTTL() != 30 || c.SOA.Admin != "operations@thecdn.example.com" {
		t.Errorf("soa %+v", c.SOA)
	}
	for rt, want := range map[string]int64{"A": 3600, "AAAA": 3600, "NS": 3600, "SOA": 7200, "DS": 60} {
		if got, ok := c.TTLs.Get(rt); !ok || got != want {
			t.Errorf("ttls.%s = %d,%v want %d", rt, got, ok, want)
		}
	}
	if _, ok := c.TTLs.Get("DNSKEY"); ok {
		t.Error("ttls.DNSKEY should be unset")
	}
	if c.SteeringInterval != 15000 || c.SteeringURL != "http://${toHostname}/api/5.0/steering" {
		t.Errorf("steering %d %q", c.SteeringInterval, c.SteeringURL)
	}
	if c.CoverageZoneURL != "http://localhost:8889/czf.json" || c.DeepCoverageZoneURL != "http://localhost:8889/dczmap.json" {
		t.Errorf("czf urls %q %q", c.CoverageZoneURL, c.DeepCoverageZoneURL)
	}
	if strings.Join(c.RequestHeaders, ",") != "Accept,Date" {
		t.Errorf("requestHeaders %v", c.RequestHeaders)
	}
	if c.Raw["weight"] != "1.0" || c.Raw["ttls"] != `{"AAAA":"3600","SOA":"7200","A":"3600","DS":"60","NS":"3600"}` {
		t.Errorf("raw %q %q", c.Raw["weight"], c.Raw["ttls"])
	}
	st := s.Stats
	if st.Date != 1465084800 || st.CDNName != "thecdn" || st.OpsHost() != "localhost:8889" {
		t.Errorf("stats %+v", st)
	}
}

func TestParseSnapshotFixtureDeliveryServices(t *testing.T) {
	s := fixtureSnapshot(t)
	ds, ok := s.DeliveryService("https-only-test")
	if !ok {
		t.Fatal("https-only-test missing")
	}
	if ds.RoutingName != "tr" || ds.CoverageZoneOnly || ds.Domain() != "https-only-test.thecdn.example.com" || ds.IsDNS {
		t.Errorf("basic fields %+v", ds)
	}
	if ds.Protocol != (Protocol{AcceptHTTP: false, AcceptHTTPS: true}) || !ds.SSLEnabled {
		t.Errorf("protocol %+v ssl %v", ds.Protocol, ds.SSLEnabled)
	}
	if ds.ConsistentHashPattern == nil || ds.ConsistentHashRegex != "/.*?(/.*?/).*?(.m3u8)" {
		t.Errorf("consistent hash regex %q", ds.ConsistentHashRegex)
	} else if got := ds.ConsistentHashPattern.FindStringSubmatch("/path12341234/some_stream_name1234/some_info4321.m3u8"); len(got) != 3 || got[1]+got[2] != "/some_stream_name1234/.m3u8" {
		t.Errorf("pattern groups %q", got)
	}
	if ds.MissLocation == nil || ds.MissLocation.Lat != 41.881944 || ds.MissLocation.Long != -87.627778 {
		t.Errorf("missLocation %+v", ds.MissLocation)
	}
	if ds.Dispersion != (Dispersion{Limit: 1, Shuffled: true}) || !ds.AppendQueryString || ds.DeepCachingType != DeepCachingNever {
		t.Errorf("defaults %+v %v %v", ds.Dispersion, ds.AppendQueryString, ds.DeepCachingType)
	}
	if len(ds.MatchSets) != 1 || len(ds.MatchSets[0].Matches) != 1 {
		t.Fatalf("matchsets %+v", ds.MatchSets)
	}
	m := ds.MatchSets[0].Matches[0]
	if m.Type != MatchHost || m.Regex != `.*\.https-only-test\..*` || m.Pattern != `(.*\.|^)https-only-test\..*` {
		t.Errorf("match %+v", m)
	}
	for host, want := range map[string]bool{
		"tr.https-only-test.thecdn.example.com": true,
		"https-only-test.thecdn.example.com":    true, // superhack
		"TR.HTTPS-ONLY-TEST.thecdn.example.com": true,
		"xhttps-only-test.thecdn.example.com":   false,
	} {
		if got := m.Compiled.MatchString(host); got != want {
			t.Errorf("match %q = %v, want %v", host, got, want)
		}
	}

	dns, _ := s.DeliveryService("dns-test")
	if !dns.IsDNS || dns.MaxDNSIPsForLocation != 2 || dns.RoutingName != "edge" {
		t.Errorf("dns-test %+v", dns)
	}
	// No dispersion object: maxDnsIpsForLocation is the limit.
	if dns.Dispersion != (Dispersion{Limit: 2, Shuffled: true}) {
		t.Errorf("dns-test dispersion %+v", dns.Dispersion)
	}
	if dns.BypassDNS == nil || dns.BypassDNS.CNAME != "www.example.com" || dns.BypassDNS.TTL.Or(-1) != 30 || dns.BypassDNS.IP.IsValid() {
		t.Errorf("dns bypass %+v", dns.BypassDNS)
	}
	if dns.Protocol != (Protocol{AcceptHTTP: true}) {
		t.Errorf("default protocol %+v", dns.Protocol)
	}

	fed, _ := s.DeliveryService("federation-test")
	if len(fed.MatchSets) != 2 || fed.MatchSets[1].Matches[0].Pattern != `.*\.dee-ehs-06\..*` {
		t.Errorf("superhack only on the first match of the first matchset: %+v", fed.MatchSets)
	}
	if len(fed.StaticDNSEntries) != 1 || fed.StaticDNSEntries[0] != (StaticDNSEntry{Name: "mm", Type: "CNAME", Value: "foo.bar.baz.net.", TTL: 30}) {
		t.Errorf("static entries %+v", fed.StaticDNSEntries)
	}

	st2, _ := s.DeliveryService("steering-test-2")
	if st2.Dispersion.Limit != 2 || len(st2.ResponseHeaders) != 2 || st2.ResponseHeaders[0] != (Header{"Foo", "bar"}) {
		t.Errorf("steering-test-2 %+v %+v", st2.Dispersion, st2.ResponseHeaders)
	}
	st1, _ := s.DeliveryService("steering-test-1")
	if st1.BypassHTTP == nil || st1.BypassHTTP.FQDN != "steering-test-1.overflowcdn.net" || st1.BypassHTTP.Port.Or(0) != 80 || len(st1.StaticDNSEntries) != 2 {
		t.Errorf("steering-test-1 %+v", st1)
	}
	if strings.Join(st1.RequestHeaders, ",") != "X-MoneyTrace" {
		t.Errorf("requestHeaders %v", st1.RequestHeaders)
	}
	csd, _ := s.DeliveryService("csd-target-1")
	if csd.DeepCachingType != DeepCachingAlways {
		t.Error("csd-target-1 deep caching")
	}
	// soa.minimum "3 0" is unparsable: unset, with a warning.
	if csd.SOA.Minimum.OK || csd.SOA.Expire.Or(0) != 604800 {
		t.Errorf("csd soa %+v", csd.SOA)
	}
	st3, _ := s.DeliveryService("steering-target-3")
	if len(st3.GeoEnabled) != 1 || st3.GeoEnabled[0][0] != (KeyValue{"countryCode", "US"}) {
		t.Errorf("geoEnabled %+v", st3.GeoEnabled)
	}
	foundWarning := false
	for _, w := range s.Warnings {
		if w.Path == `deliveryServices["csd-target-1"].soa.minimum` && w.Value == "3 0" && w.Warning {
			foundWarning = true
		}
	}
	if !foundWarning {
		t.Errorf("no warning for soa.minimum \"3 0\": %v", s.Warnings)
	}
}

func TestParseSnapshotFixtureServers(t *testing.T) {
	s := fixtureSnapshot(t)
	c, ok := s.ContentServer("edge-cache-000")
	if !ok {
		t.Fatal("edge-cache-000 missing")
	}
	if !c.Known || c.LocationID != "location-0" || c.HashID != "edge-cache-001@xmpp.cdn.example.com" || c.HashCount != 1000 || c.Port != 8090 {
		t.Errorf("cache %+v", c)
	}
	if c.IP.String() != "12.34.0.100" || c.IP6.String() != "2001:dead:beef:0:c::10" {
		t.Errorf("addresses %v %v", c.IP, c.IP6)
	}
	if len(c.DeliveryServices) != 3 || c.DeliveryServices[0].XMLID != "https-only-test" || c.DeliveryServices[0].FQDN != "edge-cache-001.https-only-test.thecdn.example.com" {
		t.Errorf("refs %+v", c.DeliveryServices)
	}
	el, _ := s.EdgeLocation("location-0")
	if el.Latitude != 40.1178 || el.Longitude != -107.48025 || el.Localization != (Localization{true, true, true}) || !el.FallbackToClosest || el.BackupLocations != nil {
		t.Errorf("edge location %+v", el)
	}
	r, _ := s.ContentRouter("edge-testing-tr-08")
	if r.Location != "location-9" || r.APIPort != 3333 || r.Port != 80 || r.IP6.String() != "2001:dead:beef:124:1::8" {
		t.Errorf("router %+v", r)
	}
	m, _ := s.Monitor("testing-tmonitor-01")
	if m.Status != "ONLINE" || m.Port != 80 || m.FQDN != "testing-tmonitor-01.cdn.example.com" {
		t.Errorf("monitor %+v", m)
	}
	// dc-chicago is not a traffic router location: a warning, not an error.
	n := 0
	for _, w := range s.Warnings {
		if strings.Contains(w.Message, `location "dc-chicago" is not in trafficRouterLocations`) {
			n++
		}
	}
	if n != 2 {
		t.Errorf("dc-chicago warnings: %d", n)
	}
}

func TestParseSnapshotWrapped(t *testing.T) {
	data := readFixture(t, "atc/CrConfig.json")
	wrapped := append(append([]byte(`{"response":`), data...), '}')
	s, err := ParseSnapshot("crconfig.json", wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.DeliveryServices) != 24 {
		t.Errorf("wrapped: %d DSes", len(s.DeliveryServices))
	}
}

func BenchmarkParseSnapshotFixture(b *testing.B) {
	data, err := os.ReadFile(fixture.Path(b, "atc/CrConfig.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseSnapshot("CrConfig.json", data); err != nil {
			b.Fatal(err)
		}
	}
}
