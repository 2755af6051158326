package czf

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func zoneDoc(zone string) string { return `{"coverageZones":{"z":` + zone + `}}` }

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []string // one line per problem
	}{
		{"empty file", ``, []string{`f.json: invalid JSON: unexpected end of input at byte 0 (truncated file?)`}},
		{"truncated", `{"coverageZones":{"z":{"network":["10.0.0.0/8"`,
			[]string{`f.json: coverageZones["z"].network: invalid JSON: unexpected end of input at byte 46 (truncated file?)`}},
		{"truncated after problem", `{"coverageZones":{"z":{"network":["10.0.0.0/33",`,
			[]string{
				`f.json: coverageZones["z"].network[0]: invalid CIDR "10.0.0.0/33": mask longer than 32`,
				`f.json: coverageZones["z"].network: invalid JSON: unexpected end of input at byte 48 (truncated file?)`,
			}},
		{"syntax error", `{"coverageZones":{"z":{"network":["10.0.0.0/8" "x"]}}}`,
			[]string{`f.json: coverageZones["z"].network: invalid JSON at byte 47: invalid character '"' after array element`}},
		{"not an object", `["coverageZones"]`, []string{`f.json: expected a JSON object, got an array`}},
		{"missing root", `{"revision":"x"}`, []string{`f.json: missing key "coverageZones"`}},
		{"trailing data", `{"coverageZones":{}} {}`, []string{`f.json: unexpected data after the top-level object at byte 22`}},
		{"trailing garbage", "{\"coverageZones\":{}}\n x", []string{`f.json: unexpected data after the top-level object at byte 23`}},
		{"root not object", `{"coverageZones":["a"]}`, []string{`f.json: coverageZones: expected an object of zones, got an array`}},
		{"root null", `{"coverageZones":null}`, []string{`f.json: coverageZones: expected an object of zones, got null`}},
		{"duplicate root", `{"coverageZones":{},"coverageZones":{}}`, []string{`f.json: coverageZones: duplicate key "coverageZones"`}},
		{"zone not object", zoneDoc(`"x"`), []string{`f.json: coverageZones["z"]: expected a zone object, got string "x"`}},
		{"duplicate zone", `{"coverageZones":{"z":{},"y":{},"z":{}}}`, []string{`f.json: coverageZones["z"]: duplicate zone name`}},
		{"network not array", zoneDoc(`{"network":"10.0.0.0/8"}`),
			[]string{`f.json: coverageZones["z"].network: expected an array of CIDR strings, got string "10.0.0.0/8"`}},
		{"network6 object", zoneDoc(`{"network6":{"a":[1]}}`),
			[]string{`f.json: coverageZones["z"].network6: expected an array of CIDR strings, got an object`}},
		{"duplicate network key", zoneDoc(`{"network":[],"network":[]}`),
			[]string{`f.json: coverageZones["z"].network: duplicate key "network"`}},
		{"wrong element types", zoneDoc(`{"network":[10,true,null,["1.2.3.4"],{"a":1},"1.2.3.4"]}`), []string{
			`f.json: coverageZones["z"].network[0]: expected a CIDR string, got number 10`,
			`f.json: coverageZones["z"].network[1]: expected a CIDR string, got boolean true`,
			`f.json: coverageZones["z"].network[2]: expected a CIDR string, got null`,
			`f.json: coverageZones["z"].network[3]: expected a CIDR string, got an array`,
			`f.json: coverageZones["z"].network[4]: expected a CIDR string, got an object`,
		}},
		{"bad CIDRs", zoneDoc(`{"network6":["zyx:5679::/64","1234::/129","1234::/-1","::ffff:1.2.3.0/64","fe80::1%eth0/64","::ffff:1.2.3.0/129"],
			"network":["192.168.55.0/40","10.0.0.0/x","10.0.0.0/","","10.1","010.0.0.0/8","host.example.com","10.0.0.0/24/8","10.0.0.0/99999999999"]}`), []string{
			`f.json: coverageZones["z"].network6[0]: invalid CIDR "zyx:5679::/64": bad address "zyx:5679::"`,
			`f.json: coverageZones["z"].network6[1]: invalid CIDR "1234::/129": mask longer than 128`,
			`f.json: coverageZones["z"].network6[2]: invalid CIDR "1234::/-1": mask "-1" is not a number`,
			`f.json: coverageZones["z"].network6[3]: invalid CIDR "::ffff:1.2.3.0/64": mask 64 on an IPv4-mapped address must be 0-32 (IPv4 form) or 96-128 (IPv6 form)`,
			`f.json: coverageZones["z"].network6[4]: invalid CIDR "fe80::1%eth0/64": address "fe80::1%eth0" has an IPv6 zone`,
			`f.json: coverageZones["z"].network6[5]: invalid CIDR "::ffff:1.2.3.0/129": mask longer than 128`,
			`f.json: coverageZones["z"].network[0]: invalid CIDR "192.168.55.0/40": mask longer than 32`,
			`f.json: coverageZones["z"].network[1]: invalid CIDR "10.0.0.0/x": mask "x" is not a number`,
			`f.json: coverageZones["z"].network[2]: invalid CIDR "10.0.0.0/": mask "" is not a number`,
			`f.json: coverageZones["z"].network[3]: invalid CIDR "": empty network`,
			`f.json: coverageZones["z"].network[4]: invalid CIDR "10.1": bad address "10.1"`,
			`f.json: coverageZones["z"].network[5]: invalid CIDR "010.0.0.0/8": bad address "010.0.0.0"`,
			`f.json: coverageZones["z"].network[6]: invalid CIDR "host.example.com": bad address "host.example.com"`,
			`f.json: coverageZones["z"].network[7]: invalid CIDR "10.0.0.0/24/8": mask "24/8" is not a number`,
			`f.json: coverageZones["z"].network[8]: invalid CIDR "10.0.0.0/99999999999": mask longer than 32`,
		}},
		{"coordinates wrong types", zoneDoc(`{"coordinates":{"latitude":true,"longitude":[1]}}`), []string{
			`f.json: coverageZones["z"].coordinates.latitude: expected a number or numeric string, got boolean true`,
			`f.json: coverageZones["z"].coordinates.longitude: expected a number or numeric string, got an array`,
		}},
		{"coordinates not numeric", zoneDoc(`{"coordinates":{"latitude":"north","longitude":"NaN"}}`), []string{
			`f.json: coverageZones["z"].coordinates.latitude: invalid latitude string "north"`,
			`f.json: coverageZones["z"].coordinates.longitude: invalid longitude string "NaN"`,
		}},
		{"coordinates null value", zoneDoc(`{"coordinates":{"latitude":null,"longitude":1}}`), []string{
			`f.json: coverageZones["z"].coordinates.latitude: expected a number or numeric string, got null`,
		}},
		{"coordinates out of range", zoneDoc(`{"coordinates":{"latitude":90.5,"longitude":"-180.01"}}`), []string{
			`f.json: coverageZones["z"].coordinates.latitude: latitude number 90.5 out of range [-90, 90]`,
			`f.json: coverageZones["z"].coordinates.longitude: longitude string "-180.01" out of range [-180, 180]`,
		}},
		{"coordinates half", zoneDoc(`{"coordinates":{"latitude":1}}`),
			[]string{`f.json: coverageZones["z"].coordinates: latitude without longitude`}},
		{"coordinates other half", zoneDoc(`{"coordinates":{"longitude":"1"}}`),
			[]string{`f.json: coverageZones["z"].coordinates: longitude without latitude`}},
		{"coordinates not object", zoneDoc(`{"coordinates":[1,2]}`),
			[]string{`f.json: coverageZones["z"].coordinates: expected an object with latitude and longitude, got an array`}},
		{"problems in several zones", `{"coverageZones":{"a":{"network":["1.2.3.4/33"]},"b":7,"c":{"network6":["::/200"]}}}`, []string{
			`f.json: coverageZones["a"].network[0]: invalid CIDR "1.2.3.4/33": mask longer than 32`,
			`f.json: coverageZones["b"]: expected a zone object, got number 7`,
			`f.json: coverageZones["c"].network6[0]: invalid CIDR "::/200": mask longer than 128`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb, err := Parse("f.json", []byte(tc.doc))
			if err == nil || tb != nil {
				t.Fatalf("Parse accepted %s", tc.doc)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T, want *Error", err)
			}
			if e.File != "f.json" || len(e.Problems) != len(tc.want) {
				t.Errorf("File %q, %d problems, want %d", e.File, len(e.Problems), len(tc.want))
			}
			if got := err.Error(); got != strings.Join(tc.want, "\n") {
				t.Errorf("error\n got:\n%s\nwant:\n%s", got, strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestParseDeepRejects(t *testing.T) {
	doc := `{"deepCoverageZones":{"d":{"caches":["a",5,"b",{}],"network":["1.2.3.0/24"]},"e":{"caches":"host1"}}}`
	_, err := ParseDeep("dczmap.json", []byte(doc))
	want := `dczmap.json: deepCoverageZones["d"].caches[1]: expected a cache host name string, got number 5
dczmap.json: deepCoverageZones["d"].caches[3]: expected a cache host name string, got an object
dczmap.json: deepCoverageZones["e"].caches: expected an array of cache host names, got string "host1"`
	if err == nil || err.Error() != want {
		t.Errorf("error\n got:\n%v\nwant:\n%s", err, want)
	}
}

func TestErrorTruncatesLongLists(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"coverageZones":{"z":{"network":[`)
	for i := range 60 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"bad` + strconv.Itoa(i) + `"`)
	}
	b.WriteString(`]}}}`)
	_, err := Parse("f.json", []byte(b.String()))
	var e *Error
	if !errors.As(err, &e) || len(e.Problems) != 60 {
		t.Fatalf("err %v", err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 51 || lines[50] != "f.json: ... and 10 more problems" {
		t.Errorf("%d lines, last %q", len(lines), lines[len(lines)-1])
	}
}
