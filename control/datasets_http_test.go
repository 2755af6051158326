package control

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/internal/fixture"
)

func readFixtureCDN(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixture.DefaultDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseAnonymousPolicyFixture(t *testing.T) {
	d, err := ParseFile(FileAnonymousPolicy, readFixtureCDN(t, FileAnonymousPolicy))
	if err != nil {
		t.Fatal(err)
	}
	p := d.Value.(*AnonymousPolicy)
	if !p.BlockAnonymousVPN || !p.BlockHostingProvider || !p.BlockPublicProxy || p.BlockTorExitNode {
		t.Errorf("flags %+v", p)
	}
	if len(p.IP4Whitelist) != 3 || len(p.IP6Whitelist) != 2 || p.RedirectURL != "http://youvebeenblocked.com" {
		t.Errorf("lists %v %v %q", p.IP4Whitelist, p.IP6Whitelist, p.RedirectURL)
	}
}

func TestParseAnonymousPolicyRejects(t *testing.T) {
	_, err := ParseAnonymousPolicy("anonymous-ip.json", []byte(`{"anonymousIp":{"blockAnonymousVPN":true,"blockHostingProvider":"maybe","blockPublicProxy":true},
	  "ip4Whitelist":["10.0.0.0/40","2001:db8::/32","10.1.0.0/16"],"ip6Whitelist":["1.2.3.0/24"],"redirectUrl":"/relative"}`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`anonymousIp.blockHostingProvider: expected a boolean`,
		`anonymousIp.blockTorExitNode: required boolean is missing`,
		`ip4Whitelist[0]: invalid CIDR "10.0.0.0/40"`,
		`ip4Whitelist[1]: invalid CIDR "2001:db8::/32": not an IPv4 CIDR`,
		`ip6Whitelist[0]: invalid CIDR "1.2.3.0/24": not an IPv6 CIDR`,
		`redirectUrl: redirect URL "/relative" is not an absolute`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestParseRegionalGeoblockFixture(t *testing.T) {
	d, err := ParseFile(FileRegionalGeoblock, readFixtureCDN(t, FileRegionalGeoblock))
	if err != nil {
		t.Fatal(err)
	}
	rg := d.Value.(*RegionalGeoblock)
	if len(rg.Rules) != 6 || len(rg.RulesFor("ds-geoblock-include")) != 3 {
		t.Fatalf("rules %d", len(rg.Rules))
	}
	r := rg.Rules[2]
	if r.RedirectPath != "/redirect_T3" || r.RedirectAbsolute || r.Mode != PostalInclude {
		t.Errorf("rule 2 %+v", r)
	}
	if w := rg.Rules[3].IPWhitelist[1].String(); w != "129.100.252.0/22" {
		t.Errorf("whitelist masked to %s", w)
	}
	if len(rg.Rules[0].CoordinateRanges) != 2 || !rg.Rules[0].CoordinateRanges[0].Contains(12, 55) {
		t.Errorf("ranges %+v", rg.Rules[0].CoordinateRanges)
	}
	if !rg.Rules[5].IsSteeringDS {
		t.Error("isSteeringDS")
	}
}

func TestParseRegionalGeoblockRejects(t *testing.T) {
	_, err := ParseRegionalGeoblock("rg.json", []byte(`{"deliveryServices":[
	  {"deliveryServiceId":"","urlRegex":".*a","redirectUrl":"/x","geoLocation":{"includePostalCode":["A"]}},
	  {"deliveryServiceId":"b","urlRegex":".*loop.*","redirectUrl":"http://h/loop","geoLocation":{"excludePostalCode":["A"]}},
	  {"deliveryServiceId":"c","urlRegex":".*c","redirectUrl":"/rel","isSteeringDS":"true","geoLocation":{"excludePostalCode":["A"]}},
	  {"deliveryServiceId":"d","urlRegex":"(?<=x)d","redirectUrl":"/r","geoLocation":{}},
	  {"deliveryServiceId":"e","urlRegex":".*e","redirectUrl":"/r","geoLocation":{"includePostalCode":["A"],
	     "coordinateRange":[{"minLat":50,"maxLat":10,"minLon":0,"maxLon":1}]},"ipWhiteList":["300.1.1.1/8"]}]}`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`deliveryServices[0].deliveryServiceId: must not be empty`,
		`deliveryServices[1].redirectUrl: delivery service "b": redirect URL "http://h/loop" matches the rule's own urlRegex`,
		`deliveryServices[2].redirectUrl: delivery service "c": a steering rule needs an absolute`,
		`deliveryServices[3].urlRegex: delivery service "d"`,
		`deliveryServices[3].geoLocation: delivery service "d": needs includePostalCode or excludePostalCode`,
		`deliveryServices[4].geoLocation.coordinateRange[0]: warning: invalid coordinate range`,
		`deliveryServices[4].ipWhiteList[0]: invalid CIDR "300.1.1.1/8"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestParseTLSKeysFixture(t *testing.T) {
	d, err := ParseFile(FileTLSKeys, readFixtureCDN(t, FileTLSKeys))
	if err != nil {
		t.Fatal(err)
	}
	k := d.Value.(*TLSKeys)
	// The fixture's http-to-https-test key belongs to another certificate:
	// that entry is rejected, naming the delivery service; the rest load.
	if len(k.Entries) != 4 || len(k.Rejected) != 1 {
		t.Fatalf("entries %d rejected %v", len(k.Entries), k.Rejected)
	}
	if r := k.Rejected[0]; r.DeliveryService != "http-to-https-test" || r.Path != "response[3].certificate" ||
		r.Reason != "private key does not match public key" {
		t.Errorf("rejected %+v", r)
	}
	e, ok := k.Key("https-only-test")
	if !ok || e.Alias != "https-only-test.thecdn.example.com" || len(e.Certificate.Certificate) != 2 || e.Certificate.Leaf == nil {
		t.Errorf("https-only-test: %+v", e)
	}
}

func TestParseTLSKeysRejectsEntries(t *testing.T) {
	good := readFixtureCDN(t, FileTLSKeys)
	crt := base64.StdEncoding.EncodeToString([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	doc := `{"response":[
	 {"deliveryservice":"bad-b64","hostname":"*.a.example.com","certificate":{"crt":"!!!","key":"!!!"}},
	 {"deliveryservice":"bad-pem","hostname":"*.b.example.com","certificate":{"crt":"` + crt + `","key":"` + crt + `"}},
	 {"deliveryservice":"no-host","certificate":{}},
	 "junk"]}`
	k, err := ParseTLSKeys("sslkeys.json", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Entries) != 0 || len(k.Rejected) != 4 {
		t.Fatalf("entries %d rejected %+v", len(k.Entries), k.Rejected)
	}
	if r, ok := k.Rejection("bad-b64"); !ok || !strings.Contains(r.Reason, "not base64") || r.Path != "response[0].certificate.crt" {
		t.Errorf("bad-b64: %+v", r)
	}
	if r, _ := k.Rejection("bad-pem"); r.Path != "response[1].certificate" {
		t.Errorf("bad-pem: %+v", r)
	}
	if !strings.Contains(k.Warnings[0].String(), `sslkeys.json: response[0].certificate.crt: warning: delivery service "bad-b64": certificate rejected: crt: not base64`) {
		t.Errorf("warning %s", k.Warnings[0])
	}
	if _, err := ParseTLSKeys("sslkeys.json", []byte(`{"response":`)); err == nil {
		t.Error("truncated JSON accepted")
	}
	// Expired certificates are kept with a warning.
	k2, err := parseTLSKeys("sslkeys.json", good, time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || len(k2.Entries) != 4 || !strings.Contains(k2.Warnings[0].Message, "expired on 2119-02-11") {
		t.Errorf("expired: %v %d %v", err, len(k2.Entries), k2.Warnings)
	}
}
