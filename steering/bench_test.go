package steering

import (
	"testing"

	"github.com/signpost-cdn/signpost/hashring"
)

func BenchmarkSelect(b *testing.B) {
	tab, reg := compileFixtureTB(b, "steering.json")
	e := tab.Entry(mustIndex(b, reg, "steering-test-1"))
	h := hashring.Hash("/qwerytuiop/asdfghjkl")
	buf := make([]int32, 0, 8)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendSelect(buf[:0], h, hashring.Dispersion{Limit: 1, Shuffled: true})
	}
}

func BenchmarkOrder5(b *testing.B) {
	tab, reg := compileFixtureTB(b, "steering.json")
	e := tab.Entry(mustIndex(b, reg, "client-steering-diversity-test"))
	h := hashring.Hash("/foo")
	buf := make([]int32, 0, 8)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendOrder(buf[:0], h)
	}
}

func BenchmarkFilter(b *testing.B) {
	tab, reg := compileFixtureTB(b, "steering.json")
	e := tab.Entry(mustIndex(b, reg, "steering-test-1"))
	path := []byte("/qwerytuiop/some/longer/path/to/an/asset.m3u8")
	b.ReportAllocs()
	for b.Loop() {
		_ = e.FilterTarget(path)
	}
}

func BenchmarkGeoSort5(b *testing.B) {
	rs := []GeoKey{colocated(boston, 0), colocated(denver, 2), colocated(seattle, 5), {Order: -1}, colocated(denver, 1)}
	b.ReportAllocs()
	for b.Loop() {
		rs[0], rs[4] = rs[4], rs[0]
		SortByGeo(rs, seattle[0], seattle[1])
	}
}
