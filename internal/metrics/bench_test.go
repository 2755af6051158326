package metrics

import (
	"testing"
	"time"
)

func BenchmarkCounterInc(b *testing.B) {
	c := NewRegistry(Options{}).Counter("c_total", "")
	b.ReportAllocs()
	for b.Loop() {
		c.Inc()
	}
}

func BenchmarkCounterAdd(b *testing.B) {
	c := NewRegistry(Options{}).Counter("c_total", "")
	b.ReportAllocs()
	for b.Loop() {
		c.Add(2)
	}
}

func BenchmarkCounterIncParallel(b *testing.B) {
	c := NewRegistry(Options{}).Counter("c_total", "")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Inc()
		}
	})
}

// BenchmarkUnshardedIncParallel is the baseline: one atomic shared by every goroutine.
func BenchmarkUnshardedIncParallel(b *testing.B) {
	c := NewRegistry(Options{Shards: 1}).Counter("c_total", "")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Inc()
		}
	})
}

func BenchmarkObserveDuration(b *testing.B) {
	h := NewRegistry(Options{}).Histogram("h_seconds", "", LatencyBuckets())
	b.ReportAllocs()
	for b.Loop() {
		h.ObserveDuration(1500 * time.Microsecond)
	}
}

func BenchmarkObserveParallel(b *testing.B) {
	h := NewRegistry(Options{}).Histogram("h_seconds", "", LatencyBuckets())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.Observe(0.0015)
		}
	})
}

func BenchmarkGaugeAddParallel(b *testing.B) {
	g := NewRegistry(Options{}).Gauge("g", "")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			g.Add(1)
		}
	})
}

func BenchmarkAppendText(b *testing.B) {
	r := NewRegistry(Options{})
	v := r.CounterVec("q_total", "", "rtype", "ds")
	for _, rt := range []string{"CZ", "GEO", "MISS"} {
		for _, ds := range []string{"a", "b", "c", "d"} {
			v.With(rt, ds).Inc()
		}
	}
	r.Histogram("h_seconds", "", LatencyBuckets()).Observe(0.01)
	buf := make([]byte, 0, 8192)
	b.ReportAllocs()
	for b.Loop() {
		buf = r.AppendText(buf[:0])
	}
}
