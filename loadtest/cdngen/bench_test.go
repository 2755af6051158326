package cdngen

import "testing"

// BenchmarkGenerateSmall measures generating the small preset in memory
// (not a hot path; it tracks the cost of the generator itself).
func BenchmarkGenerateSmall(b *testing.B) {
	o := mustScale(b, "small")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(o); err != nil {
			b.Fatal(err)
		}
	}
}
