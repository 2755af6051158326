package control

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// minimal is the spec §1.14 example.
const minimal = `{"config":{"domain_name":"mycdn.example.com","geolocation.polling.url":"https://x/GeoLite2-City.mmdb.gz",
  "coveragezone.polling.url":"https://x/czf.json","ttls":{"A":"3600","AAAA":"3600","NS":"3600","SOA":"86400"},
  "soa":{"admin":"twelve_monkeys","expire":"604800","minimum":"30","refresh":"28800","retry":"7200"},
  "dnssec.enabled":"false"},
 "stats":{"CDN_name":"mycdn","date":1700000000,"tm_host":"to.example.com"},
 "monitors":{"tm1":{"fqdn":"tm1.example.com","port":80,"status":"ONLINE"}},
 "contentRouters":{"tr1":{"fqdn":"tr1.example.com","ip":"10.0.0.1","ip6":"","location":"tr-cg","port":80,"api.port":"3333","status":"ONLINE"}},
 "trafficRouterLocations":{"tr-cg":{"latitude":40,"longitude":-100}},
 "edgeLocations":{"cg1":{"latitude":40,"longitude":-100,"backupLocations":{"fallbackToClosest":"true"},"localizationMethods":["CZ","DEEP_CZ","GEO"]}},
 "contentServers":{"edge1":{"locationId":"cg1","cacheGroup":"cg1","fqdn":"edge1.example.com","hashId":"edge1","hashCount":999,
   "ip":"10.1.0.1","ip6":"fd00::1/64","port":80,"httpsPort":443,"status":"REPORTED","type":"EDGE",
   "deliveryServices":{"demo1":["edge1.demo1.mycdn.example.com"]}}},
 "deliveryServices":{"demo1":{"routingName":"video","coverageZoneOnly":"false","domains":["demo1.mycdn.example.com"],
   "matchsets":[{"protocol":"HTTP","matchlist":[{"regex":".*\\.demo1\\..*","match-type":"HOST"}]}],
   "ttls":{"A":"60","AAAA":"60","NS":"3600","SOA":"86400"},"protocol":{"acceptHttps":"false","redirectToHttps":"false"},
   "sslEnabled":"false","dispersion":{"limit":1,"shuffled":"true"},"missLocation":{"lat":41.88,"long":-87.63},
   "ip6RoutingEnabled":"true","deepCachingType":"NEVER","consistentHashQueryParams":[],"responseHeaders":{}}}}`

func TestParseSnapshotMinimal(t *testing.T) {
	s, err := ParseSnapshot("min.json", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	c := s.ContentServers[0]
	if c.HashCount != 999 || !c.Known || c.IP6.String() != "fd00::1" || c.HTTPSPort != 443 {
		t.Errorf("cache %+v", c)
	}
	ds := s.DeliveryServices[0]
	if ds.RoutingName != "video" || !ds.Protocol.AcceptHTTP || ds.ConsistentHashQueryParams != nil || !ds.IP6RoutingEnabled {
		t.Errorf("ds %+v", ds)
	}
	if s.Config.SOA.Admin != "twelve_monkeys" || s.Config.NegativeTTL() != 30 {
		t.Errorf("soa %+v", s.Config.SOA)
	}
	if len(s.Warnings) != 0 {
		t.Errorf("warnings: %v", s.Warnings)
	}
}

// edit returns minimal with old replaced by new (exactly once).
func edit(t *testing.T, old, new string) []byte {
	t.Helper()
	if strings.Count(minimal, old) != 1 {
		t.Fatalf("edit: %q occurs %d times", old, strings.Count(minimal, old))
	}
	return []byte(strings.Replace(minimal, old, new, 1))
}

func TestParseSnapshotRejects(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want []string // every error line, exactly
	}{
		{"truncated", []byte(minimal[:200]), []string{
			"f.json: invalid JSON: unexpected end of input at byte 200 (truncated file?)"}},
		{"empty", nil, []string{"f.json: invalid JSON: empty input"}},
		{"trailing", []byte(minimal + "{}"), []string{
			"f.json: invalid JSON: data after the top-level value at byte " + strconv.Itoa(len(minimal))}},
		{"not an object", []byte(`[1]`), []string{"f.json: snapshot must be a JSON object, got array"}},
		{"missing sections", []byte(`{"config":{"domain_name":"a.b","geolocation.polling.url":"u","coveragezone.polling.url":"u"}}`), []string{
			"f.json: stats: required object is missing",
			"f.json: contentServers: required object is missing",
			"f.json: contentRouters: required object is missing",
			"f.json: deliveryServices: required object is missing",
			"f.json: edgeLocations: required object is missing",
			"f.json: monitors: required object is missing"}},
		{"wrong section type", edit(t, `"edgeLocations":{"cg1"`, `"edgeLocations":[],"x":{"cg1"`), []string{
			"f.json: edgeLocations: expected an object, got array"}},
		{"missing ds fields", edit(t, `"routingName":"video","coverageZoneOnly":"false",`, ``), []string{
			`f.json: deliveryServices["demo1"].routingName: required field is missing`,
			`f.json: deliveryServices["demo1"].coverageZoneOnly: required field is missing`}},
		{"bad regex", edit(t, `".*\\.demo1\\..*"`, `"(abc"`), []string{
			`f.json: deliveryServices["demo1"].matchsets[0].matchlist[0].regex: delivery service "demo1": regex "(abc" does not compile: missing closing ): ` + "`(?i)^(?:(abc)$`"}},
		{"java lookahead", edit(t, `".*\\.demo1\\..*"`, `"(?!x).*\\.demo1\\..*"`), []string{
			`f.json: deliveryServices["demo1"].matchsets[0].matchlist[0].regex: delivery service "demo1": regex "(?!x).*\\.demo1\\..*" uses negative lookahead (?!...), which Go regular expressions (RE2) do not support`}},
		{"java backreference", edit(t, `".*\\.demo1\\..*"`, `"(a)\\1"`), []string{
			`f.json: deliveryServices["demo1"].matchsets[0].matchlist[0].regex: delivery service "demo1": regex "(a)\\1" uses backreference \1, which Go regular expressions (RE2) do not support`}},
		{"bad match type", edit(t, `"match-type":"HOST"`, `"match-type":"host"`), []string{
			`f.json: deliveryServices["demo1"].matchsets[0].matchlist[0]["match-type"]: unknown match-type "host"; expected "HOST", "PATH" or "HEADER"`}},
		{"no matchlist", edit(t, `"matchlist":[{"regex":".*\\.demo1\\..*","match-type":"HOST"}]`, `"x":1`), []string{
			`f.json: deliveryServices["demo1"].matchsets[0].matchlist: required field is missing`}},
		{"empty domains", edit(t, `"domains":["demo1.mycdn.example.com"]`, `"domains":[]`), []string{
			`f.json: deliveryServices["demo1"].domains: domains must be a non-empty array when present`}},
		{"no online monitor", edit(t, `"tm1.example.com","port":80,"status":"ONLINE"`, `"tm1.example.com","port":80,"status":"OFFLINE"`), []string{
			`f.json: monitors: no monitor has status "ONLINE"; at least one is required`}},
		{"monitor fields", edit(t, `"tm1":{"fqdn":"tm1.example.com","port":80,"status":"ONLINE"}`, `"tm1":{},"tm2":{"fqdn":"x","status":"ONLINE"}`), []string{
			`f.json: monitors["tm1"].fqdn: required string is missing`,
			`f.json: monitors["tm1"].status: required string is missing`}},
		{"cache fields", edit(t, `"fqdn":"edge1.example.com","hashId":"edge1","hashCount":999,
   "ip":"10.1.0.1",`, ``), []string{
			`f.json: contentServers["edge1"].fqdn: required field is missing`,
			`f.json: contentServers["edge1"].ip: required field is missing`}},
		{"bad port", edit(t, `"port":80,"httpsPort"`, `"port":"eighty","httpsPort"`), []string{
			`f.json: contentServers["edge1"].port: invalid port "eighty"`}},
		{"fqdn without dot", edit(t, `["edge1.demo1.mycdn.example.com"]`, `["edge1"]`), []string{
			`f.json: contentServers["edge1"].deliveryServices["demo1"][0]: invalid FQDN "edge1" for delivery service "demo1": it must contain a '.'; please verify the HOST regex(es)`}},
		{"stats", edit(t, `"date":1700000000,"tm_host":"to.example.com"`, `"date":"yesterday"`), []string{
			`f.json: stats.date: expected epoch seconds, got "yesterday"`,
			`f.json: stats.tm_host: stats needs tm_host or to_host`}},
		{"config urls", edit(t, `"domain_name":"mycdn.example.com","geolocation.polling.url":"https://x/GeoLite2-City.mmdb.gz",
  "coveragezone.polling.url":"https://x/czf.json",`, ``), []string{
			`f.json: config.domain_name: required string is missing`,
			`f.json: config["geolocation.polling.url"]: required string is missing (nor is alt.geolocation.polling.url set)`,
			`f.json: config["coveragezone.polling.url"]: required string is missing`}},
		{"ds not an object", edit(t, `"deliveryServices":{"demo1":{`, `"deliveryServices":{"bad":3,"demo1":{`), []string{
			`f.json: deliveryServices["bad"]: expected an object, got number`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseSnapshot("f.json", c.data)
			if err == nil {
				t.Fatalf("accepted: %+v", s)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error type %T", err)
			}
			var got []string
			for _, p := range ve.Errors() {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

func TestParseSnapshotWarnings(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"unknown backup location", edit(t, `"backupLocations":{"fallbackToClosest":"true"}`, `"backupLocations":{"list":["cg1","nowhere"]}`),
			`f.json: edgeLocations["cg1"].backupLocations.list[1]: warning: backup location "nowhere" is not an edge location; it is skipped`},
		{"header without target", edit(t, `"matchlist":[{"regex":".*\\.demo1\\..*","match-type":"HOST"}]`,
			`"matchlist":[{"regex":".*\\.demo1\\..*","match-type":"HOST"},{"regex":"x","match-type":"HEADER"}]`),
			`f.json: deliveryServices["demo1"].matchsets[0].matchlist[1].target: warning: delivery service "demo1": HEADER match without target can never match; its matchset is skipped`},
		{"unknown cache group", edit(t, `"locationId":"cg1"`, `"locationId":"cg9"`),
			`f.json: contentServers["edge1"].locationId: warning: locationId "cg9" is not an edge location; cache ignored`},
		{"bad consistent hash regex", edit(t, `"deepCachingType":"NEVER"`, `"deepCachingType":"always","consistentHashRegex":"(?<=a)b"`),
			`f.json: deliveryServices["demo1"].consistentHashRegex: warning: delivery service "demo1": consistentHashRegex "(?<=a)b" uses lookbehind (?<=...), which Go regular expressions (RE2) do not support; the request path is hashed instead`},
		{"bad soa", edit(t, `"minimum":"30"`, `"minimum":"3 0"`),
			`f.json: config.soa.minimum: warning: expected an integer, got "3 0"; treated as absent`},
		{"edge location without coordinates", edit(t, `"latitude":40,"longitude":-100,"backupLocations"`, `"backupLocations"`),
			`f.json: edgeLocations["cg1"]: warning: latitude and longitude are required numbers; cache group skipped`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseSnapshot("f.json", c.data)
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			var got []string
			for _, w := range s.Warnings {
				got = append(got, w.String())
			}
			found := false
			for _, g := range got {
				found = found || g == c.want
			}
			if !found {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), c.want)
			}
		})
	}
}

func TestParseSnapshotSemantics(t *testing.T) {
	// HEADER matchset dropped, HOST-only matchset kept; target lower-cased.
	s, err := ParseSnapshot("f.json", edit(t, `"matchsets":[{"protocol":"HTTP","matchlist":[{"regex":".*\\.demo1\\..*","match-type":"HOST"}]}]`,
		`"matchsets":[{"protocol":"HTTP","matchlist":[{"regex":".*\\.demo1\\..*","match-type":"HOST"},{"regex":"x","match-type":"HEADER"}]},`+
			`{"protocol":"HTTP","matchlist":[{"regex":".*\\.demo2\\..*","match-type":"HOST"},{"regex":"ab.*","match-type":"HEADER","target":"X-Foo"}]},`+
			`{"protocol":"DNS","matchlist":[{"regex":"/p/.*","match-type":"PATH"}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	ds := s.DeliveryServices[0]
	if len(ds.MatchSets) != 2 || !ds.IsDNS {
		t.Fatalf("matchsets %+v", ds.MatchSets)
	}
	if h := ds.MatchSets[0].Matches[1]; h.Type != MatchHeader || h.Target != "x-foo" || !h.Compiled.MatchString("ABC") || h.Compiled.MatchString("xab") {
		t.Errorf("header match %+v", h)
	}
	// The superhack applies only to the first match of the first matchset,
	// which was dropped: nothing is rewritten.
	if ds.MatchSets[0].Matches[0].Pattern != `.*\.demo2\..*` {
		t.Errorf("pattern %q", ds.MatchSets[0].Matches[0].Pattern)
	}

	// Superhack disabled by config.
	s, err = ParseSnapshot("f.json", edit(t, `"dnssec.enabled":"false"`, `"dnssec.enabled":"false","confighandler.regex.superhack.enabled":"false"`))
	if err != nil {
		t.Fatal(err)
	}
	if m := s.DeliveryServices[0].MatchSets[0].Matches[0]; m.Pattern != m.Regex || m.Compiled.MatchString("demo1.mycdn.example.com") {
		t.Errorf("superhack not disabled: %+v", m)
	}

	// Dispersion: limit 0 ignored; absent -> maxDnsIpsForLocation.
	s, _ = ParseSnapshot("f.json", edit(t, `"dispersion":{"limit":1,"shuffled":"true"}`, `"dispersion":{"limit":"0","shuffled":false}`))
	if d := s.DeliveryServices[0].Dispersion; d != (Dispersion{Limit: 1, Shuffled: false}) {
		t.Errorf("dispersion %+v", d)
	}
	s, _ = ParseSnapshot("f.json", edit(t, `"dispersion":{"limit":1,"shuffled":"true"}`, `"maxDnsIpsForLocation":"3"`))
	if d := s.DeliveryServices[0].Dispersion; d != (Dispersion{Limit: 3, Shuffled: true}) {
		t.Errorf("dispersion fallback %+v", d)
	}

	// consistentHashQueryParams: empty ignored, duplicates collapse.
	s, _ = ParseSnapshot("f.json", edit(t, `"consistentHashQueryParams":[]`, `"consistentHashQueryParams":["b","","a","b"]`))
	if got := strings.Join(s.DeliveryServices[0].ConsistentHashQueryParams, ","); got != "b,a" {
		t.Errorf("query params %q", got)
	}

	// localizationMethods: unknown skipped; empty -> all.
	s, _ = ParseSnapshot("f.json", edit(t, `"localizationMethods":["CZ","DEEP_CZ","GEO"]`, `"localizationMethods":["GEO",7]`))
	if l := s.EdgeLocations[0].Localization; l != (Localization{Geo: true}) {
		t.Errorf("localization %+v", l)
	}
	s, _ = ParseSnapshot("f.json", edit(t, `"localizationMethods":["CZ","DEEP_CZ","GEO"]`, `"localizationMethods":["XX"]`))
	if l := s.EdgeLocations[0].Localization; l != (Localization{true, true, true}) {
		t.Errorf("localization %+v", l)
	}

	// backupLocations / fallbackToClosest (quirk 7: the flag is honoured as written).
	fb := []struct {
		backup string
		list   []string
		fall   bool
	}{
		{`"backupLocations":{"fallbackToClosest":"true"}`, nil, true},
		{`"backupLocations":{"fallbackToClosest":"false"}`, nil, false},
		{`"backupLocations":{}`, nil, true},
		{`"backupLocations":{"list":["cg1"]}`, []string{"cg1"}, false},
		{`"backupLocations":{"list":["cg1"],"fallbackToClosest":"true"}`, []string{"cg1"}, true},
		{`"x":1`, nil, true},
	}
	for _, f := range fb {
		s, err := ParseSnapshot("f.json", edit(t, `"backupLocations":{"fallbackToClosest":"true"}`, f.backup))
		if err != nil {
			t.Fatal(err)
		}
		el := s.EdgeLocations[0]
		if el.FallbackToClosest != f.fall || strings.Join(el.BackupLocations, ",") != strings.Join(f.list, ",") {
			t.Errorf("%s: got %+v", f.backup, el)
		}
	}

	// Lenient scalars (§1.2): numeric strings, numbers as booleans, ints as floats.
	s, err = ParseSnapshot("f.json", edit(t, `"coverageZoneOnly":"false"`, `"coverageZoneOnly":1,"maxDnsIpsForLocation":"2.9","ecsEnabled":" true "`))
	if err != nil {
		t.Fatal(err)
	}
	if ds := s.DeliveryServices[0]; !ds.CoverageZoneOnly || ds.MaxDNSIPsForLocation != 2 || !ds.ECSEnabled {
		t.Errorf("coercion %+v", ds)
	}
}

func TestSupersedes(t *testing.T) {
	a, _ := ParseSnapshot("f.json", []byte(minimal))
	same, _ := ParseSnapshot("f.json", []byte(minimal))
	changedSameDate, _ := ParseSnapshot("f.json", edit(t, `"CDN_name":"mycdn"`, `"CDN_name":"mycdn2"`))
	older, _ := ParseSnapshot("f.json", edit(t, `"date":1700000000`, `"date":1600000000`))
	newer, _ := ParseSnapshot("f.json", edit(t, `"date":1700000000`, `"date":1800000000`))
	cases := []struct {
		s, prev *Snapshot
		ok      bool
		anomaly bool
		reason  string
	}{
		{a, nil, true, false, "first snapshot"},
		{same, a, false, false, "unchanged (same sha256)"},
		{changedSameDate, a, true, true, "content changed but stats.date did not increase (1700000000); accepted"},
		{older, a, true, true, "stats.date went backwards (1700000000 -> 1600000000); accepted as a rollback"},
		{newer, a, true, false, "newer stats.date 1800000000"},
	}
	for i, c := range cases {
		ok, reason := c.s.Supersedes(c.prev)
		if ok != c.ok || reason != c.reason || c.s.DateAnomaly(c.prev) != c.anomaly {
			t.Errorf("%d: got %v %q anomaly %v", i, ok, reason, c.s.DateAnomaly(c.prev))
		}
	}
}
