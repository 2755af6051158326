package control

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signpost-cdn/signpost/internal/fixture"
)

func TestParseCrStatesFixture(t *testing.T) {
	h, err := ParseCrStates("CrStates", readFixture(t, "atc/CrStates"))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Caches) != 103 || len(h.DeliveryServices) != 23 {
		t.Errorf("counts %d %d", len(h.Caches), len(h.DeliveryServices))
	}
	c, ok := h.Cache("edge-cache-025")
	if !ok || c.IsAvailable || !c.IPv4Available || !c.IPv6Available {
		t.Errorf("edge-cache-025 %+v", c)
	}
	// "@..." suffix of a hashId-style id is removed.
	if c, ok := h.Cache("edge-cache-001@xmpp.cdn.example.com"); !ok || !c.IsAvailable {
		t.Errorf("suffix lookup %+v %v", c, ok)
	}
	d, ok := h.DeliveryService("steering-test-1")
	if !ok || !d.IsAvailable || !d.HasDisabledLocations || len(d.DisabledLocations) != 0 {
		t.Errorf("ds state %+v", d)
	}
	if _, ok := h.Cache("nope"); ok {
		t.Error("unknown cache found")
	}
}

func TestParseCrStatesShapes(t *testing.T) {
	h, err := ParseCrStates("h.json", []byte(`{"caches":{"e1":{"isAvailable":"false","ipv6Available":false,"status":"REPORTED"}},
		"deliveryServices":{"d1":{"isAvailable":false,"disabledLocations":["cg2"]},"d2":{}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c := h.Caches[0]; c.IsAvailable || !c.IPv4Available || c.IPv6Available || c.Status != "REPORTED" {
		t.Errorf("cache %+v", c)
	}
	if d, _ := h.DeliveryService("d1"); d.IsAvailable || d.DisabledLocations[0] != "cg2" {
		t.Errorf("d1 %+v", d)
	}
	if d, _ := h.DeliveryService("d2"); !d.IsAvailable || d.HasDisabledLocations {
		t.Errorf("d2 %+v", d)
	}
	for _, bad := range []struct{ in, want string }{
		{`{"deliveryServices":{}}`, "h.json: caches: required object is missing"},
		{`{"caches":{"e1":true}}`, `h.json: caches["e1"]: expected an object, got boolean`},
		{`{"caches":`, "h.json: invalid JSON: unexpected end of input at byte 10 (truncated file?)"},
	} {
		if _, err := ParseCrStates("h.json", []byte(bad.in)); err == nil || err.Error() != bad.want {
			t.Errorf("%s: got %v, want %s", bad.in, err, bad.want)
		}
	}
}

func TestParseSteeringFixtures(t *testing.T) {
	s, err := ParseSteering("steering.json", readFixture(t, "atc/steering.json"))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, e := range s.Entries {
		names = append(names, e.DeliveryService)
	}
	if got := strings.Join(names, ","); got != "steering-test-1,steering-test-2,client-steering-test-1,client-steering-diversity-test,client-steering-test-2" {
		t.Errorf("entries %s", got)
	}
	e, ok := s.Entry("steering-test-1")
	if !ok || e.ClientSteering || len(e.Targets) != 2 || e.Targets[1] != (SteeringTarget{DeliveryService: "steering-target-2", Weight: 9000}) {
		t.Fatalf("steering-test-1 %+v", e)
	}
	if len(e.Filters) != 2 || e.Filters[1].DeliveryService != "steering-target-2" ||
		!e.Filters[1].Compiled.MatchString("/qwerytuiop/force-to-target-2/asdfghjkl") ||
		e.Filters[1].Compiled.MatchString("/qwerytuiop/FORCE-TO-TARGET-2/asdfghjkl") {
		t.Errorf("filters %+v", e.Filters)
	}
	if c, _ := s.Entry("client-steering-test-1"); !c.ClientSteering {
		t.Error("clientSteering")
	}
	s2, err := ParseSteering("steering2.json", readFixture(t, "atc/steering2.json"))
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := s2.Entry("steering-test-1"); e.Targets[0].Weight != 2000 || e.Targets[1].Weight != 8000 {
		t.Errorf("steering2 %+v", e.Targets)
	}
	if s.Hash == s2.Hash {
		t.Error("hashes equal")
	}
}

func TestParseSteeringShapes(t *testing.T) {
	s, err := ParseSteering("s.json", []byte(`{"alerts":[],"response":[{"deliveryService":"ds","clientSteering":"true","extra":1,
		"targets":[{"deliveryService":"t1","order":"-1","geoOrder":2,"latitude":"39.7","longitude":-104.9}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	tg := s.Entries[0].Targets[0]
	if tg.Order != -1 || tg.GeoOrder != 2 || !tg.HasGeolocation() || !s.Entries[0].ClientSteering {
		t.Errorf("target %+v", tg)
	}
	if len(s.Warnings) != 1 || s.Warnings[0].String() != `s.json: response[0].extra: warning: unknown key "extra" ignored (Traffic Router would reject the document)` {
		t.Errorf("warnings %v", s.Warnings)
	}
	_, err = ParseSteering("s.json", []byte(`{"response":[{"targets":[{"weight":1}],"filters":[{"pattern":"(?=a)","deliveryService":"t"}]}]}`))
	want := `s.json: response[0].deliveryService: required field is missing
s.json: response[0].targets[0].deliveryService: required field is missing
s.json: response[0].filters[0].pattern: steering "": pattern "(?=a)" uses lookahead (?=...), which Go regular expressions (RE2) do not support`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestParseFederationsFixture(t *testing.T) {
	f, err := ParseFederations("federations.json", readFixture(t, "atc/federations.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Entries) != 1 || f.Entries[0].DeliveryService != "federation-test" || len(f.Entries[0].Mappings) != 3 {
		t.Fatalf("entries %+v", f.Entries)
	}
	m := f.Entries[0].Mappings[0]
	if m.CNAME != "foo.kabletown.net." || m.TTL != 30 || len(m.Resolve4) != 3 || len(m.Resolve6) != 3 {
		t.Errorf("mapping %+v", m)
	}
	for _, c := range []struct {
		ip   string
		want bool
	}{{"12.34.10.1", true}, {"11.22.33.44", true}, {"12.34.10.2", false}, {"fe80::202:b3ff:fe1e:8330", true}, {"::ffff:12.34.10.1", true}} {
		got, ok := f.Lookup("federation-test", netip.MustParseAddr(c.ip))
		if ok != c.want || (ok && got.CNAME != "foo.kabletown.net.") {
			t.Errorf("%s: %v %+v", c.ip, ok, got)
		}
	}
	if _, ok := f.Lookup("other", netip.MustParseAddr("12.34.10.1")); ok {
		t.Error("other DS matched")
	}
}

func TestParseFederationsOverlapAndErrors(t *testing.T) {
	// Quirk 14 fixed: the overlapping /24 after the /16 is kept.
	f, err := ParseFederations("f.json", []byte(`{"response":[{"deliveryService":"d","mappings":[
		{"cname":"a.example.net","ttl":30,"resolve4":["192.168.10.11/16","192.168.20.22/24","bogus","10.0.0.1","2001:db8::/32"]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	m := f.Entries[0].Mappings[0]
	if len(m.Resolve4) != 3 || m.Resolve4[1].String() != "192.168.20.0/24" || m.Resolve4[2].String() != "10.0.0.1/32" || m.CNAME != "a.example.net." {
		t.Errorf("resolve4 %v %q", m.Resolve4, m.CNAME)
	}
	if len(f.Warnings) != 2 || f.Warnings[0].String() != `f.json: response[0].mappings[0].resolve4[2]: warning: invalid CIDR "bogus"; skipped` {
		t.Errorf("warnings %v", f.Warnings)
	}
	_, err = ParseFederations("f.json", []byte(`{"response":[{"deliveryService":"d","mappings":[{"ttl":"x"}]}]}`))
	want := "f.json: response[0].mappings[0].cname: required field is missing\nf.json: response[0].mappings[0].ttl: invalid TTL \"x\""
	if err == nil || err.Error() != want {
		t.Errorf("got %v", err)
	}
}

func TestValidatePath(t *testing.T) {
	dir := filepath.Join(fixture.RepoRoot(t), "examples", "fixture-cdn")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("no examples/fixture-cdn")
	}
	if _, err := ValidatePath(dir); err != nil {
		t.Errorf("fixture-cdn: %v", err)
	}
	ps, err := ValidatePath(fixture.Path(t, "atc/CrConfig.json"))
	if err != nil || len(ps) == 0 || ps[0].File != "CrConfig.json" {
		t.Errorf("single file: %v %v", err, ps)
	}

	tmp := t.TempDir()
	if _, err := ValidatePath(tmp); err == nil || err.Error() != "crconfig.json: required file is missing from "+tmp {
		t.Errorf("empty dir: %v", err)
	}
	os.WriteFile(filepath.Join(tmp, FileSnapshot), []byte(minimal), 0o644)
	os.WriteFile(filepath.Join(tmp, FileFederations), []byte(`{"response":[{"mappings":[]}]}`), 0o644)
	os.WriteFile(filepath.Join(tmp, FileTLSKeys), []byte(`{"response":`), 0o644)
	_, err = ValidatePath(tmp)
	var ve *ValidationError
	if !errors.As(err, &ve) || err.Error() != "federations.json: response[0].deliveryService: required field is missing\nsslkeys.json: invalid JSON: unexpected end of input at byte 12 (truncated file?)" {
		t.Errorf("dir: %v", err)
	}
	if _, err := ValidatePath(filepath.Join(tmp, FileFederations)); err == nil {
		t.Error("single federations file accepted")
	}
	if _, err := ValidatePath(filepath.Join(tmp, "nope")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing path: %v", err)
	}
}
