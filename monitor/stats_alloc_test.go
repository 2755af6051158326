//go:build !race

package monitor

import (
	"testing"

	"github.com/signpost-cdn/signpost/internal/fixture"
)

func TestDecodeAstatsAllocs(t *testing.T) {
	body := fixture.Read(t, "monitor/astats.json")
	csv := fixture.Read(t, "monitor/astats.csv")
	var s Stats
	if err := s.DecodeJSON(body); err != nil { // grow to size
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = s.DecodeJSON(body) }); n != 0 {
		t.Errorf("DecodeJSON allocs = %v, want 0", n)
	}
	_ = s.DecodeCSV(csv)
	if n := testing.AllocsPerRun(100, func() { _ = s.DecodeCSV(csv) }); n != 0 {
		t.Errorf("DecodeCSV allocs = %v, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = s.LookupNum("proxy.process.http.current_client_connections") }); n != 0 {
		t.Errorf("LookupNum allocs = %v, want 0", n)
	}
}
