package router

import (
	"runtime"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/loadtest/cdngen"
)

// generatedSet builds a control.Set for a synthetic CDN of the given size.
func generatedSet(tb testing.TB, dss, caches, groups int) *control.Set {
	tb.Helper()
	o, err := cdngen.Scale("medium")
	if err != nil {
		tb.Fatal(err)
	}
	o.DeliveryServices, o.Caches, o.CacheGroups = dss, caches, groups
	files, err := cdngen.Generate(o)
	if err != nil {
		tb.Fatal(err)
	}
	parsed := map[string]control.Dataset{}
	for name, data := range files {
		if !control.KnownFile(name) {
			continue
		}
		d, err := control.ParseFile(name, data)
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		parsed[name] = d
	}
	return control.Assemble(parsed, 1, time.Now())
}

// TestBuildScaleBudget builds a table for 1,000 delivery services and
// 5,000 caches in 500 cache groups and checks the budget of issue 2: under
// 2 s and 500 MiB allocated. `make test` runs it without the race
// detector (whose slowdown makes the figures meaningless); it is skipped
// under -race and in -short mode.
func TestBuildScaleBudget(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("large build: run without -race and -short")
	}
	set := generatedSet(t, 1000, 5000, 500)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	tab, err := NewBuilder(hashring.MD5, nil).Build(set)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("build: %v, %d delivery services, %d caches, %d cache groups, allocated %.1f MiB, live heap %.1f MiB",
		elapsed, len(tab.ds), len(tab.caches), len(tab.locs), float64(allocated)/(1<<20), float64(after.HeapAlloc)/(1<<20))
	// Wall time on shared 2-core machines varies 2-3x with other load:
	// the 2 s target is reported above and fails only at three times it.
	if elapsed > 6*time.Second {
		t.Errorf("build took %v: more than 3x the 2s target", elapsed)
	}
	if allocated > 500<<20 {
		t.Errorf("build allocated %.1f MiB, budget 500 MiB", float64(allocated)/(1<<20))
	}
}

// BenchmarkBuildScale is the same build as a benchmark (cold point cache
// on the first iteration, warm afterwards: a reload).
func BenchmarkBuildScale(b *testing.B) {
	set := generatedSet(b, 1000, 5000, 500)
	bld := NewBuilder(hashring.MD5, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bld.Build(set); err != nil {
			b.Fatal(err)
		}
	}
}
