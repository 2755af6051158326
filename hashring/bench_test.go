package hashring

import (
	"fmt"
	"testing"
)

// benchRing is a cache group of n caches with 999 points each (Traffic
// Ops' default hashCount), with its reference items.
func benchRing(tb testing.TB, mode Mode, n int) (*Ring, []refItem) {
	tb.Helper()
	pc := NewPointCache(mode)
	members := make([]Member, n)
	items := make([]refItem, n)
	for i := range n {
		p := pc.Get(fmt.Sprintf("edge-cache-%03d@xmpp.cdn.example.com", i), 999)
		members[i] = Member{Points: p}
		items[i] = refItem{pts: p.vals}
	}
	r, err := NewRing(members)
	if err != nil {
		tb.Fatal(err)
	}
	return r, items
}

// benchHashes are request hashes spread over the ring.
func benchHashes(mode Mode) []float64 {
	hs := make([]float64, 256)
	for i := range hs {
		hs[i] = mode.Hash(fmt.Sprintf("/path/to/some/asset-%d.m3u8", i))
	}
	return hs
}

const benchString = "/live/channel-7/segment-000123.ts?x=abc" // 40 bytes

func BenchmarkHash(b *testing.B) {
	for _, mode := range []Mode{MD5, XXHash} {
		b.Run(mode.String(), func(b *testing.B) {
			b.ReportAllocs()
			var sink float64
			for b.Loop() {
				sink += mode.Hash(benchString)
			}
			_ = sink
		})
	}
	b.Run("reference-big", func(b *testing.B) {
		b.ReportAllocs()
		var sink float64
		for b.Loop() {
			sink += refH(MD5, benchString)
		}
		_ = sink
	})
}

// BenchmarkOrder compares the ring with the reference implementation on a
// five-cache group with 999 points per cache, given the request hash.
func BenchmarkOrder(b *testing.B) {
	r, items := benchRing(b, MD5, 5)
	hs := benchHashes(MD5)
	dst := make([]int32, 0, 16)
	avail := []bool{true, false, true, true, true}
	for _, k := range []int{1, 5} {
		name := "k1"
		if k == 5 {
			name = "full"
		}
		b.Run(name+"/ring", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				dst = r.AppendNearest(dst[:0], hs[i&255], k, nil)
				i++
			}
		})
		b.Run(name+"/ring-avail", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			pred := func(m int) bool { return avail[m] }
			for b.Loop() {
				dst = r.AppendNearest(dst[:0], hs[i&255], k, pred)
				i++
			}
		})
		b.Run(name+"/reference", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				o := refOrder(items, hs[i&255])
				_ = o[:min(k, len(o))]
				i++
			}
		})
	}
	b.Run("dispersed-limit2-shuffled", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			dst = r.AppendDispersed(dst[:0], hs[i&255], Dispersion{Limit: 2, Shuffled: true}, nil)
			i++
		}
	})
}

// BenchmarkOrderLarge covers rings past the stack scratch (pooled).
func BenchmarkOrderLarge(b *testing.B) {
	r, items := benchRing(b, MD5, 100)
	hs := benchHashes(MD5)
	dst := make([]int32, 0, 128)
	b.Run("k1/ring", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			dst = r.AppendNearest(dst[:0], hs[i&255], 1, nil)
			i++
		}
	})
	b.Run("full/ring", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			dst = r.AppendOrder(dst[:0], hs[i&255], nil)
			i++
		}
	})
	b.Run("full/reference", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = refOrder(items, hs[i&255])
			i++
		}
	})
}

func BenchmarkNewPoints(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = NewPoints(MD5, "edge-cache-001@xmpp.cdn.example.com", 999)
	}
}
