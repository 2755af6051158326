package monitor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/internal/testtool"
	"github.com/signpost-cdn/signpost/monitor/monitortest"
)

// TestWebPageInChromium loads the status page in headless Chromium against
// a monitor with fake caches and checks the rendered tables. The
// screenshot is kept in $SIGNPOST_ARTIFACT_DIR when set, else t.TempDir().
func TestWebPageInChromium(t *testing.T) {
	chromium := testtool.Require(t, "chromium")
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	fleet := newFleet(t, 3, "ds0")
	tm := startFileMonitor(t, fleet.MonitoringConfig(monitortest.ConfigOptions{
		Thresholds: map[string]string{"loadavg": "25.0"},
		DSes:       []monitortest.DSSpec{{XMLID: "ds0"}},
	}), monOpts{})
	fleet.Cache("edge-1").SetLoad(36.37)
	tm.waitCache(t, "edge-1", false, "REPORTED - loadavg too high (36.37 > 25.00)")
	tm.waitCache(t, "edge-0", true, "REPORTED - available")
	tm.waitReady(t)

	outDir := os.Getenv("SIGNPOST_ARTIFACT_DIR")
	if outDir == "" {
		outDir = t.TempDir()
	}
	shot := filepath.Join(outDir, "monitor-page.png")
	args := func(extra ...string) []string {
		return append([]string{
			"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=5000", "--window-size=1400,900",
		}, append(extra, tm.URL+"/")...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dom, err := exec.CommandContext(ctx, chromium, args("--dump-dom")...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	page := string(dom)
	for _, want := range []string{
		`data-ready="true"`,
		`<tr data-cache="edge-0">`, `<tr data-cache="edge-1">`, `<tr data-cache="edge-2">`,
		"REPORTED - loadavg too high (36.37 &gt; 25.00)",
		"REPORTED - available",
		`<tr data-ds="ds0">`,
		"2 of 3 caches available",
		// The event names the address family and the poll kind (health or
		// stat) of the result that flipped the cache's availability first:
		// whichever answered first.
		"Protocol (IPv",
		"REPORTED - available (",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", page)
	}
	if out, err := exec.CommandContext(ctx, chromium, args("--screenshot="+shot)...).CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
		t.Fatalf("no screenshot at %s: %v", shot, err)
	}
	t.Logf("screenshot: %s", shot)
}
