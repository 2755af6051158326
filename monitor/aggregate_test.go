package monitor

import (
	"errors"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/monitor/monitortest"
)

// newTestAggregator builds a monitor that is not running and feeds its
// aggregator by hand.
func newTestAggregator(t *testing.T, doc []byte) (*Monitor, *aggregator) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Hostname = "tm0"
	cfg.MonitoringFile = "unused.json"
	m, err := New(cfg, Deps{Logger: quietLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	cdn, err := compileMonitoring("test", doc, "tm0")
	if err != nil {
		t.Fatal(err)
	}
	m.agg.applyConfig(&configVersion{cdn: cdn, origin: "test"})
	m.agg.publish()
	return m, m.agg
}

func okResult(host string, fam int, at time.Time, out uint64) pollResult {
	return pollResult{host: host, kind: healthPoll, fam: fam, time: at,
		vit: vitals{loadAvg: 1, ifaces: []ifaceSample{{name: "eth0", out: out, speedMbps: 1000}}}}
}

func TestTwoResultsBeforeAvailable(t *testing.T) {
	fleet := newFleet(t, 1)
	m, a := newTestAggregator(t, fleet.MonitoringConfig(monitortest.ConfigOptions{NoIPv6: true}))
	now := time.Now()
	r := okResult("edge-0", 0, now, 1000)
	a.onResult(&r)
	a.publish()
	c := m.State().Caches["edge-0"]
	if c.Local.Available || c.Reason != "REPORTED - available" {
		t.Fatalf("after one good result: %+v", c.Local)
	}
	if m.State().Ready {
		t.Errorf("ready after one result")
	}
	r = okResult("edge-0", 0, now.Add(time.Second), 126000) // 125,000 bytes in 1 s = 1000 kbps
	a.onResult(&r)
	a.publish()
	c = m.State().Caches["edge-0"]
	if !c.Local.Available || !c.Local.IPv4 || c.Local.IPv6 || !m.State().Ready {
		t.Fatalf("after two good results: %+v ready=%v", c.Local, m.State().Ready)
	}
	if c.KbpsOut != 1000 || c.MaxKbps != 1e6 {
		t.Errorf("kbps = %v max = %v", c.KbpsOut, c.MaxKbps)
	}
	ev := m.State().Events
	if len(ev) != 1 || ev[0].Description != "Protocol (IPv4) REPORTED - available (health) " || ev[0].Type != "EDGE" {
		t.Errorf("events = %+v", ev)
	}
}

func TestEvaluationReasons(t *testing.T) {
	fleet := newFleet(t, 3)
	doc := fleet.MonitoringConfig(monitortest.ConfigOptions{
		Statuses: map[string]string{"edge-1": "ADMIN_DOWN"},
	})
	m, a := newTestAggregator(t, doc)
	now := time.Now()
	fail := pollResult{host: "edge-0", kind: statPoll, time: now, err: errors.New("fetch error: bad HTTP status: 500")}
	a.onResult(&fail)
	fail2 := pollResult{host: "edge-1", kind: healthPoll, time: now, err: errors.New("fetch error: refused")}
	a.onResult(&fail2)
	a.publish()
	st := m.State()
	if got := st.Caches["edge-0"].Reason; got != "REPORTED - fetch error: bad HTTP status: 500; eth0: not found in polled data" {
		t.Errorf("errored poll reason = %q", got)
	}
	if got := st.Caches["edge-1"].Reason; got != "ADMIN_DOWN - unavailable; eth0: not found in polled data" {
		t.Errorf("ADMIN_DOWN reason = %q", got)
	}
	if st.Ready {
		t.Errorf("ready although edge-2 was never polled")
	}
	// A cache missing from the config is ignored.
	ghost := okResult("ghost", 0, now, 1)
	a.onResult(&ghost)
}

func TestMissingProfile(t *testing.T) {
	raw := []byte(`{"trafficServers": [{"hostname": "e1", "status": "REPORTED", "profile": "NOPE",
  "interfaces": [{"name": "eth0", "monitor": true, "ipAddresses": [{"address": "127.0.0.1", "serviceAddress": true}]}]}],
  "trafficMonitors": [{"hostname": "tm0", "status": "ONLINE"}],
  "config": {"health.polling.interval": 1000, "peers.polling.interval": 1000}}`)
	m, _ := newTestAggregator(t, raw)
	c := m.State().Caches["e1"]
	if c.Local.Available || c.Reason != "ERROR - server profile missing in Traffic Ops monitor config" {
		t.Errorf("missing profile: %+v", c)
	}
	if !m.State().Ready {
		t.Errorf("a cache that cannot be polled must not hold the start-up gate")
	}
}
