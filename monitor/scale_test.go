//go:build !race

package monitor

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/monitor/monitortest"
)

// The scale test runs a monitor against SIGNPOST_MONITOR_SCALE_CACHES
// (default 1000) fake caches served by a helper process (this test binary
// re-executed), with a 1 s health and a 5 s stat interval, and measures the
// monitor process's CPU (getrusage) and memory over the window. Run it with
//
//	SIGNPOST_MONITOR_SCALE=1 go test -run '^TestScale$' -v -timeout 10m ./monitor/
const (
	scaleEnv       = "SIGNPOST_MONITOR_SCALE"
	fleetHelperEnv = "SIGNPOST_MONITOR_FLEET_HELPER"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestScaleFleetHelper is the fake fleet process of TestScale; it does
// nothing unless started by TestScale.
func TestScaleFleetHelper(t *testing.T) {
	out := os.Getenv(fleetHelperEnv)
	if out == "" {
		t.Skip("helper process for TestScale")
	}
	n := envInt("SIGNPOST_MONITOR_SCALE_CACHES", 1000)
	fleet, err := monitortest.StartFleet(monitortest.FleetOptions{N: n, SpreadAddresses: true, IPv4Only: true, DeliveryServices: []string{"ds0", "ds1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer fleet.Close()
	for _, c := range fleet.Caches {
		c.SetKbps(100000)
		c.SetTPS(50)
	}
	doc := fleet.MonitoringConfig(monitortest.ConfigOptions{
		HealthMS: 1000, StatMS: 5000, PeerMS: 1000, TOMS: 60000, TimeoutMS: 2000,
		Thresholds: map[string]string{"loadavg": "25.0", "availableBandwidthInKbps": ">1000"},
		DSes:       []monitortest.DSSpec{{XMLID: "ds0"}, {XMLID: "ds1"}},
	})
	if err := os.WriteFile(out, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	fmt.Println("FLEET-READY")
	_, _ = io.Copy(io.Discard, os.Stdin) // run until the parent closes stdin
}

func TestScale(t *testing.T) {
	if os.Getenv(scaleEnv) == "" || testing.Short() {
		t.Skipf("set %s=1 to run the scale test", scaleEnv)
	}
	n := envInt("SIGNPOST_MONITOR_SCALE_CACHES", 1000)
	window := time.Duration(envInt("SIGNPOST_MONITOR_SCALE_SECONDS", 30)) * time.Second
	docPath := filepath.Join(t.TempDir(), "monitoring.json")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	helper := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestScaleFleetHelper$")
	helper.Env = append(os.Environ(), fleetHelperEnv+"="+docPath)
	stdin, err := helper.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	helper.Stderr = os.Stderr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = helper.Wait() }()
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && sc.Text() != "FLEET-READY" {
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }() // drained until the helper exits

	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	tm := startFileMonitor(t, doc, monOpts{cfg: func(c *Config) {
		c.ConfigPollingInterval = Duration{time.Minute}
		c.PublishInterval = Duration{100 * time.Millisecond}
	}})
	eventually(t, 30*time.Second, func() (bool, string) {
		st := tm.State()
		avail := 0
		for _, c := range st.Caches {
			if c.Local.Available {
				avail++
			}
		}
		return st.Ready && avail == n, fmt.Sprintf("ready=%v available=%d/%d", st.Ready, avail, n)
	})
	time.Sleep(5 * time.Second) // warm-up: kbps and DS rates settle

	before := tm.State().Counters
	ru0, t0 := rusage(t), time.Now()
	time.Sleep(window)
	ru1, wall := rusage(t), time.Since(t0)
	after := tm.State().Counters

	cpu := (ru1 - ru0).Seconds() / wall.Seconds()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	health := after.HealthPolls - before.HealthPolls
	stat := after.StatPolls - before.StatPolls
	errs := after.PollErrors - before.PollErrors
	wantHealth := float64(n) * wall.Seconds() / (0.97 * 1)
	wantStat := float64(n) * wall.Seconds() / (0.97 * 5)
	t.Logf("caches=%d window=%s cpu=%.3f cores health_polls=%d (%.1f%% of schedule) stat_polls=%d (%.1f%%) errors=%d",
		n, wall.Round(time.Millisecond), cpu, health, 100*float64(health)/wantHealth, stat, 100*float64(stat)/wantStat, errs)
	t.Logf("memory: rss=%s heap_inuse=%dMiB sys=%dMiB goroutines=%d gc_cycles=%d",
		rss(), ms.HeapInuse>>20, ms.Sys>>20, runtime.NumGoroutine(), ms.NumGC)
	if cpu >= 0.5 {
		t.Errorf("monitor used %.3f cores, want < 0.5", cpu)
	}
	if float64(health) < 0.95*wantHealth || float64(stat) < 0.95*wantStat {
		t.Errorf("intervals not kept: %d health polls (want ~%.0f), %d stat polls (want ~%.0f)", health, wantHealth, stat, wantStat)
	}
	if errs > 0 {
		t.Errorf("%d poll errors", errs)
	}
	if st := tm.State(); st.DSes["ds0"] == nil || !st.DSes["ds0"].Local || st.DSes["ds0"].Total.Kbps < float64(n)*50000 {
		t.Errorf("ds0 = %+v", st.DSes["ds0"])
	}
}

func rusage(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
