package czf

import (
	"errors"
	"strings"
	"testing"
)

// The committed corpus (testdata/fuzz/FuzzParse, testdata/fuzz/FuzzParseDeep)
// holds the shared fixtures czf.json, czmap.json and dczmap.json and small
// hand-written files, valid and broken.

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"coverageZones":{"a":{"network":["10.0.0.0/8","10.1.0.0/16"],"network6":["2001:db8::/32"]}}}`))
	f.Add([]byte(`{"coverageZones":{"a":{"network":["10.0.0.1/24"]},"b":{"network":["10.0.0.0/24","10.0.0.0/24"]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzOne(t, data, false) })
}

func FuzzParseDeep(f *testing.F) {
	f.Add([]byte(`{"deepCoverageZones":{"d":{"network":["192.168.42.0/24"],"network6":["fd12:3456::/64"],"caches":["a","","a"]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzOne(t, data, true) })
}

// fuzzOne checks that parsing never panics, that a rejection is an *Error
// naming the file with at least one problem, and that an accepted table
// answers like the naive reference around every network it holds.
func fuzzOne(t *testing.T, data []byte, deep bool) {
	tb, err := parse("fuzz.json", data, deep)
	p := collect("fuzz.json", data, deep)
	if err != nil {
		var e *Error
		if tb != nil || !errors.As(err, &e) || len(e.Problems) == 0 || len(p.probs) == 0 {
			t.Fatalf("bad rejection: table %v, error %v", tb, err)
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, "fuzz.json: ") {
				t.Fatalf("error line %q does not name the file", line)
			}
		}
		return
	}
	if len(p.probs) > 0 || tb.Len() != len(p.zones) || tb.Deep() != deep {
		t.Fatalf("accepted with problems %v or wrong zone count %d/%d", p.probs, tb.Len(), len(p.zones))
	}
	for i := range tb.Len() {
		if z := tb.Zone(i); (!z.HasCoordinates && (z.Latitude != 0 || z.Longitude != 0)) || (!deep && z.Caches != nil) {
			t.Fatalf("zone %d inconsistent: %+v", i, *z)
		}
	}
	held := naiveHeld(p.entries)
	checkAgainstNaive(t, tb, held, probes(held, 64))
}
