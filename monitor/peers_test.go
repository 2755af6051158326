package monitor

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/monitor/monitortest"
)

// threeMonitors starts monitors tm0..tm2 that are each other's peers; the
// partitions map blocks ports per monitor.
func threeMonitors(t *testing.T, fleet *monitortest.Fleet, quorum int, block func(i int, ports []int) []int) []*testMonitor {
	t.Helper()
	lns := []net.Listener{listen(t), listen(t), listen(t)}
	ports := []int{port(lns[0]), port(lns[1]), port(lns[2])}
	var specs []monitortest.MonitorSpec
	for i, p := range ports {
		specs = append(specs, monitortest.MonitorSpec{Host: "tm" + strconv.Itoa(i), Addr: "127.0.0.1", Port: p})
	}
	doc := fleet.MonitoringConfig(monitortest.ConfigOptions{Monitors: specs, DSes: []monitortest.DSSpec{{XMLID: "ds0"}}})
	var out []*testMonitor
	for i := range 3 {
		pt := &partition{base: http.DefaultTransport, blocked: map[string]bool{}}
		for _, p := range block(i, ports) {
			pt.blocked[strconv.Itoa(p)] = true
		}
		out = append(out, startFileMonitor(t, doc, monOpts{
			host: "tm" + strconv.Itoa(i), ln: lns[i], transport: pt,
			cfg: func(c *Config) { c.PeerOptimisticQuorumMin = quorum },
		}))
	}
	return out
}

func TestPeersOptimisticCombination(t *testing.T) {
	fleet := newFleet(t, 3, "ds0")
	// tm2 cannot reach any cache, but reaches its peers.
	tms := threeMonitors(t, fleet, 1, func(i int, _ []int) []int {
		if i == 2 {
			return []int{fleet.Port}
		}
		return nil
	})
	tm2 := tms[2]
	eventually(t, 8*time.Second, func() (bool, string) {
		code, comb := crStates(t, tm2.URL+"/publish/CrStates")
		if code != http.StatusOK {
			return false, "combined: HTTP " + strconv.Itoa(code)
		}
		for name, c := range comb.Caches {
			if !*c.IsAvailable {
				return false, name + " not available in the combined view"
			}
		}
		ds := comb.DeliveryServices["ds0"]
		return len(comb.Caches) == 3 && ds.IsAvailable != nil && *ds.IsAvailable, "ds0 not combined-available"
	})
	_, raw := crStates(t, tm2.URL+"/publish/CrStates?raw")
	for name, c := range raw.Caches {
		if *c.IsAvailable {
			t.Errorf("raw %s available on the partitioned monitor", name)
		}
		if *c.Status == "" {
			t.Errorf("raw %s has no local status", name)
		}
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		n := tm2.State().PeersAvailable
		return n == 2, "peers available = " + strconv.Itoa(n)
	})
	_, b := get(t, tm2.URL+"/publish/PeerStates")
	if !contains(b, `"tm0":{`) || !contains(b, `"ipv4Available":true`) {
		t.Errorf("PeerStates: %s", b)
	}
	// The healthy monitors agree among themselves.
	_, comb0 := crStates(t, tms[0].URL+"/publish/CrStates")
	for name, c := range comb0.Caches {
		if !*c.IsAvailable {
			t.Errorf("tm0: %s unavailable", name)
		}
	}
}

func TestPeersQuorum(t *testing.T) {
	fleet := newFleet(t, 2)
	// tm0 is cut off from both peers; quorum min 1 -> its combined CrStates is 503.
	tms := threeMonitors(t, fleet, 1, func(i int, ports []int) []int {
		if i == 0 {
			return []int{ports[1], ports[2]}
		}
		return []int{ports[0]}
	})
	for _, tm := range tms {
		tm.waitReady(t)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		code, _ := get(t, tms[0].URL+"/publish/CrStates")
		return code == http.StatusServiceUnavailable, "tm0 combined CrStates: " + strconv.Itoa(code)
	})
	if code, _ := get(t, tms[0].URL+"/publish/CrStates?raw"); code != http.StatusOK {
		t.Errorf("raw must not be affected by quorum: %d", code)
	}
	// tm1 reaches tm2 (one peer >= min 1): served.
	eventually(t, 5*time.Second, func() (bool, string) {
		code, _ := get(t, tms[1].URL+"/publish/CrStates")
		return code == http.StatusOK, "tm1 combined CrStates: " + strconv.Itoa(code)
	})
}

func TestPeerAnsweringGarbage(t *testing.T) {
	fleet := newFleet(t, 2)
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"caches": 42`))
	}))
	t.Cleanup(garbage.Close)
	gport := garbage.Listener.Addr().(*net.TCPAddr).Port
	ln := listen(t)
	doc := fleet.MonitoringConfig(monitortest.ConfigOptions{Monitors: []monitortest.MonitorSpec{
		{Host: "tm0", Addr: "127.0.0.1", Port: port(ln)},
		{Host: "bad", Addr: "127.0.0.1", Port: gport},
	}})
	tm := startFileMonitor(t, doc, monOpts{ln: ln})
	eventually(t, 5*time.Second, func() (bool, string) {
		p := tm.State().Peers["bad"]
		if p == nil {
			return false, "no peer"
		}
		return !p.OK && p.Error != "" && p.Error != "not polled yet", p.Error
	})
	t.Logf("peer error: %s", tm.State().Peers["bad"].Error)
	tm.waitCache(t, "edge-0", true, "REPORTED - available")
	tm.waitReady(t)
	if code, _ := get(t, tm.URL+"/publish/CrStates"); code != http.StatusOK {
		t.Errorf("CrStates with a garbage peer: %d", code)
	}
	_, b := get(t, tm.URL+"/publish/EventLog")
	if !contains(b, "Peer is unreachable: decode error") {
		t.Errorf("no peer event: %s", b)
	}
}

func contains(b []byte, s string) bool { return len(b) > 0 && stringContains(string(b), s) }
