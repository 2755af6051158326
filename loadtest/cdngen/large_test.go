package cdngen

import (
	"os"
	"testing"
	"time"
)

// TestLargeScale writes the large preset and checks the budget of the
// brief: under 60 s and under 2 GiB peak RSS. It runs only with
// SIGNPOST_LARGE=1 (it writes about 100 MB); afterwards it loads the
// directory through control, czf and geo and checks the clients like the
// small and medium presets.
func TestLargeScale(t *testing.T) {
	if os.Getenv("SIGNPOST_LARGE") != "1" {
		t.Skip("set SIGNPOST_LARGE=1 to generate the large preset")
	}
	o := mustScale(t, "large")
	dir := t.TempDir()
	sum, err := Write(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	rss := maxRSS()
	t.Logf("large: Write took %v, peak RSS %.0f MiB, %d bytes, %d assignments",
		sum.Elapsed, float64(rss)/(1<<20), sum.Bytes(), sum.Assignments)
	for _, f := range sum.Files {
		t.Logf("  %-18s %12d bytes", f.Name, f.Bytes)
	}
	if sum.Elapsed > 60*time.Second {
		t.Errorf("Write took %v, budget 60s", sum.Elapsed)
	}
	if rss > 2<<30 {
		t.Errorf("peak RSS %d bytes, budget 2 GiB", rss)
	}
	start := time.Now()
	l := load(t, dir, sum)
	t.Logf("large: validated and loaded in %v (peak RSS now %.0f MiB)", time.Since(start), float64(maxRSS())/(1<<20))
	checkShape(t, l)
	checkClients(t, l)
}
