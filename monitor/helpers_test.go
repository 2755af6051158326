package monitor

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/internal/testrun"

	"github.com/signpost-cdn/signpost/monitor/monitortest"
)

// testMonitor is a running monitor for a test.
type testMonitor struct {
	*Monitor
	URL  string
	Port int
}

type monOpts struct {
	host      string
	cfg       func(*Config)
	transport http.RoundTripper
	ln        net.Listener
}

// listen reserves a loopback port for a monitor.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func port(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }

func quietLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startFileMonitor writes the monitoring config to a file and runs a
// monitor on it until the test ends.
func startFileMonitor(t *testing.T, monitoring []byte, o monOpts) *testMonitor {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "monitoring.json")
	if err := os.WriteFile(p, monitoring, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Hostname = "tm0"
	if o.host != "" {
		cfg.Hostname = o.host
	}
	cfg.MonitoringFile = p
	cfg.PublishInterval = Duration{20 * time.Millisecond}
	cfg.ConfigPollingInterval = Duration{200 * time.Millisecond}
	cfg.HTTPTimeout = Duration{500 * time.Millisecond}
	if o.cfg != nil {
		o.cfg(cfg)
	}
	return runMonitor(t, cfg, o)
}

func runMonitor(t *testing.T, cfg *Config, o monOpts) *testMonitor {
	t.Helper()
	ln := o.ln
	if ln == nil {
		ln = listen(t)
	}
	m, err := New(cfg, Deps{Logger: quietLogger(t), Listener: ln, Transport: o.transport, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	testrun.Start(t, "Run", 10*time.Second, m.Run)
	return &testMonitor{Monitor: m, URL: "http://" + ln.Addr().String(), Port: port(ln)}
}

// eventually polls cond until it reports true or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("condition not met within %s: %s", timeout, last)
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

type crStatesDoc struct {
	Caches map[string]struct {
		IsAvailable   *bool   `json:"isAvailable"`
		IPv4Available *bool   `json:"ipv4Available"`
		IPv6Available *bool   `json:"ipv6Available"`
		Status        *string `json:"status"`
		LastPoll      *string `json:"lastPoll"`
	} `json:"caches"`
	DeliveryServices map[string]struct {
		DisabledLocations []string `json:"disabledLocations"`
		IsAvailable       *bool    `json:"isAvailable"`
	} `json:"deliveryServices"`
}

func crStates(t *testing.T, url string) (int, crStatesDoc) {
	t.Helper()
	code, b := get(t, url)
	var doc crStatesDoc
	if code == http.StatusOK {
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("CrStates %s: %v\n%s", url, err, b)
		}
	}
	return code, doc
}

// cacheIs waits until the monitor's local state for a cache has the given
// availability and reason.
func (tm *testMonitor) waitCache(t *testing.T, name string, avail bool, reason string) {
	t.Helper()
	eventually(t, 5*time.Second, func() (bool, string) {
		c := tm.State().Caches[name]
		if c == nil {
			return false, "no cache " + name
		}
		if c.Local.Available == avail && (reason == "" || c.Reason == reason) {
			return true, ""
		}
		return false, name + ": available=" + strconv.FormatBool(c.Local.Available) + " reason=" + strconv.Quote(c.Reason)
	})
}

// partition is a RoundTripper that fails requests to blocked ports.
type partition struct {
	base    http.RoundTripper
	blocked map[string]bool // port -> blocked
}

func (p *partition) RoundTrip(r *http.Request) (*http.Response, error) {
	if p.blocked[r.URL.Port()] {
		return nil, errors.New("network partition (test)")
	}
	return p.base.RoundTrip(r)
}

func newFleet(t *testing.T, n int, dses ...string) *monitortest.Fleet {
	return monitortest.NewFleet(t, monitortest.FleetOptions{N: n, DeliveryServices: dses, FillerStats: 50})
}

func (tm *testMonitor) waitReady(t *testing.T) {
	t.Helper()
	eventually(t, 5*time.Second, func() (bool, string) { return tm.State().Ready, "not ready" })
}

func stringContains(s, sub string) bool { return strings.Contains(s, sub) }
