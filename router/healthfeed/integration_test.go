package healthfeed

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/internal/testrun"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/monitor"
	"github.com/signpost-cdn/signpost/monitor/monitortest"
	"github.com/signpost-cdn/signpost/router"
)

// fleetRouter is a router on the fixture CDN reduced to location-0's three
// caches, renamed edge-0..edge-2 after the fake fleet's caches; no
// crstates.json, so health comes from the monitor only.
func fleetRouter(t *testing.T) *router.Router {
	t.Helper()
	rename := map[string]string{"edge-cache-000": "edge-0", "edge-cache-001": "edge-1", "edge-cache-002": "edge-2"}
	set := dirSet(t, fixture.DefaultDir(t), func(name string, data []byte) []byte {
		switch name {
		case control.FileHealth:
			return nil
		case control.FileSnapshot:
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			var servers map[string]json.RawMessage
			if err := json.Unmarshal(doc["contentServers"], &servers); err != nil {
				t.Fatal(err)
			}
			kept := map[string]json.RawMessage{}
			for from, to := range rename {
				kept[to] = servers[from]
			}
			b, err := json.Marshal(kept)
			if err != nil {
				t.Fatal(err)
			}
			doc["contentServers"] = b
			if data, err = json.Marshal(doc); err != nil {
				t.Fatal(err)
			}
		}
		return data
	})
	r := router.New(hashring.MD5, nil)
	if _, err := r.Publish(set); err != nil {
		t.Fatal(err)
	}
	return r
}

// startMonitor runs a real monitor on the fleet until the test ends.
func startMonitor(t *testing.T, fleet *monitortest.Fleet) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "monitoring.json")
	if err := os.WriteFile(p, fleet.MonitoringConfig(monitortest.ConfigOptions{}), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := monitor.DefaultConfig()
	cfg.Hostname = "tm0"
	cfg.MonitoringFile = p
	cfg.PublishInterval = monitor.Duration{Duration: 20 * time.Millisecond}
	cfg.ConfigPollingInterval = monitor.Duration{Duration: 200 * time.Millisecond}
	cfg.HTTPTimeout = monitor.Duration{Duration: 500 * time.Millisecond}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m, err := monitor.New(cfg, monitor.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Listener: ln, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	testrun.Start(t, "monitor Run", 10*time.Second, m.Run)
	return "http://" + ln.Addr().String()
}

// TestFollowsRealMonitor: a fake cache reports itself unavailable; the
// monitor marks it down and the router stops routing to it.
func TestFollowsRealMonitor(t *testing.T) {
	fleet := monitortest.NewFleet(t, monitortest.FleetOptions{N: 3, FillerStats: 50})
	tmURL := startMonitor(t, fleet)
	r := fleetRouter(t)
	f, _ := start(t, Config{Monitors: []string{tmURL}, Router: r, Interval: 100 * time.Millisecond, MaxAge: 5 * time.Second})

	// The monitor answers 503 until every cache was polled; then its
	// health is applied, soon with every cache available.
	eventually(t, 10*time.Second, "monitor health applied, every cache available", func() bool {
		return r.Load().Health().Source != nil && f.Status().LastMonitor != "" &&
			available(t, r, "edge-0") && available(t, r, "edge-1") && available(t, r, "edge-2")
	})
	before := routeR1(t, r)
	if len(before) == 0 {
		t.Fatal("R1 chose no cache")
	}
	victim := before[0]

	fleet.Cache(victim).SetNotAvailable(true)
	began := time.Now()
	eventually(t, 5*time.Second, victim+" unavailable in the router", func() bool { return !available(t, r, victim) })
	t.Logf("%s unavailable in the router %s after the cache reported it", victim, time.Since(began).Round(time.Millisecond))
	if after := routeR1(t, r); len(after) == 0 || slices.Contains(after, victim) {
		t.Errorf("R1 routes to %v (down: %s)", after, victim)
	}
	if st := f.Status(); st.FailOpen || st.Distrusted != nil {
		t.Errorf("status %+v", st)
	}

	fleet.Cache(victim).SetNotAvailable(false)
	eventually(t, 10*time.Second, victim+" available again", func() bool { return available(t, r, victim) })
}
