//go:build !race

package dnswire

import (
	"testing"
)

func TestAllocs(t *testing.T) {
	in := newBenchInputs(t)
	var q Query
	var w Writer
	zone, _ := AppendName(nil, "thecdn.example.com.")
	ns := mustRR(NewNS("edge-testing-tr-02.thecdn.example.com.", 3600))
	for name, f := range map[string]func(){
		"parse-plain": func() { q.Parse(in.plain) },
		"parse-ecs":   func() { q.Parse(in.ecs) },
		"response": func() {
			q.Parse(in.ecs)
			buildResponse(&w, &q, in)
		},
		"compressed-owner": func() {
			q.Parse(in.plain)
			w.Start(in.buf, &q, q.UDPLimit())
			w.Append(Authority, OwnerName(zone), ns)
			w.Append(Authority, OwnerName(zone), ns)
			w.Finish()
		},
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocs per run, want 0", name, n)
		}
	}
}
