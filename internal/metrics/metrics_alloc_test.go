//go:build !race

package metrics

import (
	"testing"
	"time"
)

func TestHotPathAllocs(t *testing.T) {
	r := NewRegistry(Options{})
	c := r.CounterVec("c_total", "", "k").With("v")
	g := r.Gauge("g", "")
	h := r.Histogram("h_seconds", "", LatencyBuckets())
	for name, f := range map[string]func(){
		"Inc":             c.Inc,
		"Add":             func() { c.Add(3) },
		"AddShard":        func() { c.AddShard(3, 1) },
		"Gauge.Set":       func() { g.Set(1.5) },
		"Gauge.Add":       func() { g.Add(1.5) },
		"Observe":         func() { h.Observe(0.003) },
		"ObserveDuration": func() { h.ObserveDuration(1500 * time.Microsecond) },
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocs, want 0", name, n)
		}
	}
}
