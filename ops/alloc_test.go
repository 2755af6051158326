//go:build !race

package ops

import "testing"

// TestHeaderParsingAlloc: the per-request header checks do not allocate.
func TestHeaderParsingAlloc(t *testing.T) {
	e := newEntry([]byte("{}"), []byte("gz"), [32]byte{1})
	inm := `W/"nope", ` + e.etagGz
	n := testing.AllocsPerRun(100, func() {
		if !acceptsGzip("br;q=1.0, gzip;q=0.8, *;q=0.1") || acceptsGzip("gzip;q=0") {
			t.Fatal("acceptsGzip")
		}
		if !etagMatch(inm, e) || etagMatch(`"other"`, e) {
			t.Fatal("etagMatch")
		}
	})
	if n != 0 {
		t.Fatalf("header parsing allocates %v times per request", n)
	}
}
