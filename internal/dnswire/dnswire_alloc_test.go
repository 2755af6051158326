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
	one := benchOriginSet(t, "tr0.thecdn.example.com.")
	two := benchOriginSet(t, "tr0.thecdn.example.com.", "tr1.thecdn.example.com.")
	// originSet answers the ECS query with an A record and the set in
	// order (nil: the stored order), reporting whether the set was written.
	originSet := func(set *OriginSet, order []uint8) bool {
		q.Parse(in.ecs)
		w.Start(in.buf, &q, q.UDPLimit())
		w.Append(Answer, OwnerAt(QuestionOffset), in.a1)
		ok := w.AppendOriginSet(Authority, set, order)
		w.Finish()
		return ok
	}
	if !originSet(one, nil) || !originSet(two, []uint8{1, 0}) {
		t.Fatal("origin set not written")
	}
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
		"origin-set":       func() { originSet(one, nil) },
		"origin-set-order": func() { originSet(two, []uint8{1, 0}) },
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocs per run, want 0", name, n)
		}
	}
}
