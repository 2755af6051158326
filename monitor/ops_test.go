package monitor

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/monitor/monitortest"
)

func opsConfig(t *testing.T, url, stateDir string) *Config {
	cfg := DefaultConfig()
	cfg.Hostname = "tm0"
	cfg.CDN = "cdn1"
	cfg.Ops = &OpsConfig{URL: url, Username: "tm", Password: "secret"}
	cfg.StateDir = stateDir
	cfg.PublishInterval = Duration{20 * time.Millisecond}
	cfg.HTTPTimeout = Duration{time.Second}
	return cfg
}

func TestOpsSourceLoginLKGAndFallback(t *testing.T) {
	fleet := newFleet(t, 2)
	ops := monitortest.NewOps(t, "tm", "secret", "cdn1")
	doc := fleet.MonitoringConfig(monitortest.ConfigOptions{TOMS: 100})
	ops.SetMonitoring(doc)
	ops.SetSnapshot([]byte(`{"response":` + string(monitortest.Snapshot("cdn1", 1700000000)) + `}`))
	stateDir := t.TempDir()

	tm := runMonitor(t, opsConfig(t, ops.URL, stateDir), monOpts{})
	tm.waitCache(t, "edge-1", true, "REPORTED - available")
	tm.waitReady(t)
	if ops.Logins.Load() != 1 {
		t.Errorf("logins = %d, want 1", ops.Logins.Load())
	}
	code, b := get(t, tm.URL+"/publish/CrConfig")
	if code != 200 || !bytes.Contains(b, []byte(`"CDN_name":"cdn1"`)) || bytes.Contains(b, []byte(`"response"`)) {
		t.Errorf("CrConfig = %d %s", code, b)
	}
	lkg, err := os.ReadFile(filepath.Join(stateDir, lkgMonitoring))
	if err != nil || !bytes.Equal(lkg, doc) {
		t.Fatalf("last good copy not written as fetched: %v", err)
	}

	// An expired session is renewed by logging in again.
	ops.ExpireSessions()
	eventually(t, 5*time.Second, func() (bool, string) { return ops.Logins.Load() >= 2, "no new login" })

	// Ops down: the monitor keeps its config and keeps serving.
	ops.SetDown(true)
	before := ops.Requests.Load()
	eventually(t, 5*time.Second, func() (bool, string) { return ops.Requests.Load() > before+2, "no retries" })
	if code, _ := get(t, tm.URL+"/publish/CrStates"); code != 200 {
		t.Errorf("CrStates while ops is down: %d", code)
	}
	if tm.State().Counters.ConfigErrors == 0 {
		t.Errorf("config errors not counted")
	}

	// A new monitor with the API unreachable starts from the last good copy.
	ops.Close()
	tm2 := runMonitor(t, opsConfig(t, ops.URL, stateDir), monOpts{})
	tm2.waitCache(t, "edge-0", true, "REPORTED - available")
	tm2.waitReady(t)
	if got := tm2.State().ConfigFrom; got != "last good copy "+filepath.Join(stateDir, lkgMonitoring) {
		t.Errorf("config origin = %q", got)
	}
	if code, b := get(t, tm2.URL+"/publish/CrConfig"); code != 200 || !bytes.Contains(b, []byte(`"cdn1"`)) {
		t.Errorf("CrConfig from the last good copy = %d %s", code, b)
	}
}

func TestOpsBadCredentials(t *testing.T) {
	fleet := newFleet(t, 1)
	ops := monitortest.NewOps(t, "tm", "secret", "cdn1")
	ops.SetMonitoring(fleet.MonitoringConfig(monitortest.ConfigOptions{}))
	cfg := opsConfig(t, ops.URL, t.TempDir())
	cfg.Ops.Password = "wrong"
	cfg.ConfigPollingInterval = Duration{50 * time.Millisecond}
	tm := runMonitor(t, cfg, monOpts{})
	eventually(t, 5*time.Second, func() (bool, string) {
		return tm.State().Counters.ConfigErrors > 0, "no config error"
	})
	if tm.State().Ready || tm.State().ConfigFrom != "" {
		t.Errorf("a monitor without config must not be ready")
	}
}
