package monitor

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/monitor/monitortest"
)

func TestHealthyFleetAndEndpoints(t *testing.T) {
	fleet := newFleet(t, 3, "ds0")
	tm := startFileMonitor(t, fleet.MonitoringConfig(monitortest.ConfigOptions{
		Thresholds: map[string]string{"loadavg": "25.0", "availableBandwidthInKbps": ">1000"},
		DSes:       []monitortest.DSSpec{{XMLID: "ds0"}},
	}), monOpts{})
	for _, c := range fleet.Caches {
		c.SetKbps(5000)
		c.SetTPS(10)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		code, doc := crStates(t, tm.URL+"/publish/CrStates")
		if code != http.StatusOK {
			return false, "status " + http.StatusText(code)
		}
		for name, c := range doc.Caches {
			if !*c.IsAvailable {
				return false, name + " " + *c.Status
			}
		}
		ds := doc.DeliveryServices["ds0"]
		return len(doc.Caches) == 3 && ds.IsAvailable != nil && *ds.IsAvailable, "ds0 not available yet"
	})
	_, doc := crStates(t, tm.URL+"/publish/CrStates")
	for name, c := range doc.Caches {
		if c.IPv4Available == nil || c.IPv6Available == nil || c.Status == nil || c.LastPoll == nil {
			t.Errorf("%s: CrStates entry lacks a field", name)
		}
		if *c.Status != "REPORTED - available" {
			t.Errorf("%s: status %q", name, *c.Status)
		}
		if _, err := time.Parse(time.RFC3339Nano, *c.LastPoll); err != nil {
			t.Errorf("%s: lastPoll %q: %v", name, *c.LastPoll, err)
		}
		if fleet.HasV6 && (!*c.IPv4Available || !*c.IPv6Available) {
			eventually(t, 3*time.Second, func() (bool, string) {
				cs := tm.State().Caches[name]
				return cs.Local.IPv4 && cs.Local.IPv6, "both families not yet available"
			})
		}
	}
	if d := doc.DeliveryServices["ds0"]; d.DisabledLocations == nil {
		t.Errorf("disabledLocations must be [] not null")
	}
	_, raw := get(t, tm.URL+"/publish/CrStates")
	if !strings.Contains(string(raw), `"disabledLocations":[]`) {
		t.Errorf("CrStates: %s", raw)
	}

	for path, want := range map[string]string{
		"/api/cache-count":           "3",
		"/api/cache-available-count": "3",
		"/api/cache-down-count":      "0",
		"/api/version":               "test",
	} {
		if code, b := get(t, tm.URL+path); code != 200 || string(b) != want {
			t.Errorf("%s = %d %q, want %q", path, code, b, want)
		}
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		_, b := get(t, tm.URL+"/api/bandwidth-kbps")
		var v float64
		_ = json.Unmarshal(b, &v)
		return v > 1000, "bandwidth-kbps " + string(b)
	})
	var statuses map[string]CacheStatus
	_, b := get(t, tm.URL+"/api/cache-statuses")
	if err := json.Unmarshal(b, &statuses); err != nil || len(statuses) != 3 {
		t.Fatalf("cache-statuses: %v %s", err, b)
	}
	if s := statuses["edge-0"]; s.Status != "REPORTED - available" || s.LoadAverage != 0.5 || s.Interfaces["eth0"].Status != "available" {
		t.Errorf("cache-statuses edge-0 = %+v", s)
	}

	var cs struct {
		Caches map[string]map[string][]struct {
			Value string `json:"value"`
			Time  int64  `json:"time"`
			Span  int    `json:"span"`
		} `json:"caches"`
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		_, b = get(t, tm.URL+"/publish/CacheStats/edge-1?stats=ats.proxy.process.http.current_client_connections,loadavg,outBytes")
		_ = json.Unmarshal(b, &cs)
		st := cs.Caches["edge-1"]
		return len(cs.Caches) == 1 && len(st) == 3 && st["ats.proxy.process.http.current_client_connections"][0].Value == "42", string(b)
	})
	if code, _ := get(t, tm.URL+"/publish/CacheStats?hc=x"); code != http.StatusBadRequest {
		t.Errorf("bad hc: %d", code)
	}

	_, b = get(t, tm.URL+"/publish/DsStats?stats=total.tps_total,caches-available,location.total.isAvailable")
	var ds struct {
		DeliveryService map[string]map[string][]struct {
			Value any `json:"value"`
		} `json:"deliveryService"`
	}
	if err := json.Unmarshal(b, &ds); err != nil {
		t.Fatal(err)
	}
	if v := ds.DeliveryService["ds0"]["caches-available"]; len(v) != 1 || v[0].Value != "3" {
		t.Errorf("DsStats: %s", b)
	}
	if _, ok := ds.DeliveryService["ds0"]["location.total.isAvailable"]; !ok {
		t.Errorf("DsStats lacks the legacy location.total.isAvailable: %s", b)
	}

	_, b = get(t, tm.URL+"/publish/StatSummary?stats=ats.proxy.process.http.current_client_connections")
	if !strings.Contains(string(b), `"dpCount":1`) {
		t.Errorf("StatSummary: %s", b)
	}
	_, b = get(t, tm.URL+"/publish/Stats")
	if !strings.Contains(string(b), `"Fetch Count"`) {
		t.Errorf("Stats: %s", b)
	}
	_, b = get(t, tm.URL+"/publish/EventLog")
	if !strings.Contains(string(b), `"events":[`) {
		t.Errorf("EventLog: %s", b)
	}
	_, b = get(t, tm.URL+"/publish/PeerStates")
	if !strings.Contains(string(b), `"peers":{}`) {
		t.Errorf("PeerStates: %s", b)
	}
	_, b = get(t, tm.URL+"/metrics")
	for _, want := range []string{`signpost_monitor_cache_available{cache="edge-0"} 1`, "# TYPE signpost_monitor_polls_total counter", `signpost_monitor_deliveryservice_available{deliveryservice="ds0"} 1`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if code, _ := get(t, tm.URL+"/publish/CrConfig"); code != http.StatusServiceUnavailable {
		t.Errorf("CrConfig without a snapshot: %d", code)
	}
	if code, _ := get(t, tm.URL+"/nope"); code != http.StatusNotFound {
		t.Errorf("unknown path: %d", code)
	}
}

func TestNotReadyAnswers503(t *testing.T) {
	fleet := newFleet(t, 1)
	fleet.Caches[0].SetDelay(time.Hour) // never answers within the timeout below
	tm := startFileMonitor(t, fleet.MonitoringConfig(monitortest.ConfigOptions{TimeoutMS: 60000}), monOpts{})
	if code, _ := get(t, tm.URL+"/publish/CrStates"); code != http.StatusServiceUnavailable {
		t.Errorf("CrStates before the first polls: %d, want 503", code)
	}
	if code, _ := get(t, tm.URL+"/api/version"); code != http.StatusOK {
		t.Errorf("version is not gated: %d", code)
	}
	if code, _ := get(t, tm.URL+"/"); code != http.StatusOK {
		t.Errorf("page is not gated: %d", code)
	}
}

func TestThresholdsAndBandwidth(t *testing.T) {
	fleet := newFleet(t, 3)
	tm := startFileMonitor(t, fleet.MonitoringConfig(monitortest.ConfigOptions{
		Thresholds:       map[string]string{"loadavg": "25.0", "availableBandwidthInKbps": ">1750000"},
		MaxBandwidthKbps: 500000,
	}), monOpts{})
	for _, c := range fleet.Caches {
		c.SetSpeedMbps(10000) // 10,000,000 kbps capacity
	}
	fleet.Cache("edge-0").SetLoad(36.37)
	fleet.Cache("edge-1").SetKbps(9000000) // 1,000,000 kbps headroom < 1,750,000
	fleet.Cache("edge-2").SetKbps(100000)
	tm.waitCache(t, "edge-0", false, "REPORTED - loadavg too high (36.37 > 25.00)")
	eventually(t, 5*time.Second, func() (bool, string) {
		r := tm.State().Caches["edge-1"].Reason
		return strings.HasPrefix(r, "REPORTED - availableBandwidthInKbps too low (") && strings.Contains(r, " < 1750000.00)"), r
	})
	tm.waitCache(t, "edge-2", true, "REPORTED - available")

	// maxBandwidth (kbps) on the interface: 600,000 kbps > 500,000.
	fleet.Cache("edge-2").SetKbps(600000)
	tm.waitCache(t, "edge-2", false, "REPORTED - available; eth0: maximum bandwidth exceeded")
	// Recovery.
	fleet.Cache("edge-0").SetLoad(1)
	tm.waitCache(t, "edge-0", true, "REPORTED - available")
}

func TestStatusSemantics(t *testing.T) {
	fleet := newFleet(t, 4)
	tm := startFileMonitor(t, fleet.MonitoringConfig(monitortest.ConfigOptions{
		Statuses: map[string]string{"edge-0": "ONLINE", "edge-1": "OFFLINE", "edge-2": "ADMIN_DOWN"},
	}), monOpts{})
	// edge-0 ONLINE: available at once, never polled, even while broken.
	fleet.Cache("edge-0").SetMode(monitortest.HTTP500)
	tm.waitCache(t, "edge-0", true, "")
	tm.waitCache(t, "edge-3", true, "REPORTED - available")
	tm.waitCache(t, "edge-2", false, "ADMIN_DOWN - available")
	tm.waitReady(t)
	st := tm.State()
	if c := st.Caches["edge-1"]; c.Local.Available || c.Reason != "" || !c.LastPoll.IsZero() {
		t.Errorf("OFFLINE cache = %+v", c)
	}
	for _, name := range []string{"edge-0", "edge-1"} {
		if h, s := fleet.Cache(name).Polls(); h+s != 0 {
			t.Errorf("%s was polled (%d health, %d stat)", name, h, s)
		}
	}
	if h, _ := fleet.Cache("edge-2").Polls(); h == 0 {
		t.Errorf("ADMIN_DOWN cache was not polled")
	}
	if c := st.Caches["edge-0"]; !c.LastPoll.IsZero() || c.Reason != "" {
		t.Errorf("ONLINE cache in CrStates: %+v", c)
	}
	var statuses map[string]CacheStatus
	_, b := get(t, tm.URL+"/api/cache-statuses")
	_ = json.Unmarshal(b, &statuses)
	if statuses["edge-0"].Status != "ONLINE - available" {
		t.Errorf("cache-statuses ONLINE: %+v", statuses["edge-0"])
	}
	if code, b := get(t, tm.URL+"/api/cache-down-count"); code != 200 || string(b) != "0" {
		t.Errorf("cache-down-count = %s (ADMIN_DOWN and OFFLINE are not REPORTED)", b)
	}
}

func TestSelfReportedUnavailable(t *testing.T) {
	fleet := newFleet(t, 2)
	tm := startFileMonitor(t, fleet.MonitoringConfig(monitortest.ConfigOptions{}), monOpts{})
	fleet.Cache("edge-1").SetNotAvailable(true)
	tm.waitCache(t, "edge-1", false, "REPORTED - system.notAvailable == true")
	tm.waitCache(t, "edge-0", true, "REPORTED - available")
}

func TestDeliveryServiceThresholds(t *testing.T) {
	fleet := newFleet(t, 2, "ds-tps", "ds-kbps", "ds-ok")
	tm := startFileMonitor(t, fleet.MonitoringConfig(monitortest.ConfigOptions{
		DSes: []monitortest.DSSpec{
			{XMLID: "ds-tps", TotalTPSThreshold: 100},
			{XMLID: "ds-kbps", TotalKbpsThreshold: 50000},
			{XMLID: "ds-ok", TotalTPSThreshold: 1e9, TotalKbpsThreshold: 1e12},
		},
	}), monOpts{})
	for _, c := range fleet.Caches {
		c.SetTPS(80)     // 160 tps total across two caches > 100
		c.SetKbps(40000) // 80,000 kbps total > 50,000
	}
	eventually(t, 8*time.Second, func() (bool, string) {
		st := tm.State()
		tps, kbps, ok := st.DSes["ds-tps"], st.DSes["ds-kbps"], st.DSes["ds-ok"]
		if tps == nil || kbps == nil || ok == nil {
			return false, "missing DS"
		}
		good := !tps.Local && strings.HasPrefix(tps.Error, "total.tps_total too high (") &&
			!kbps.Local && strings.HasPrefix(kbps.Error, "total.kbps too high (") && ok.Local
		return good, tps.Error + " | " + kbps.Error + " | ok=" + ok.Error
	})
	tm.waitReady(t)
	_, doc := crStates(t, tm.URL+"/publish/CrStates")
	if *doc.DeliveryServices["ds-tps"].IsAvailable || !*doc.DeliveryServices["ds-ok"].IsAvailable {
		t.Errorf("CrStates DS availability wrong")
	}
	// All caches down -> DS unavailable.
	for _, c := range fleet.Caches {
		c.SetMode(monitortest.HTTP500)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		d := tm.State().DSes["ds-ok"]
		return !d.Local && d.Error == "no available caches", d.Error
	})
}

func TestBadInputMarksOnlyTheCulprit(t *testing.T) {
	fleet := newFleet(t, 6)
	tm := startFileMonitor(t, fleet.MonitoringConfig(monitortest.ConfigOptions{TimeoutMS: 150}), monOpts{})
	fleet.Cache("edge-0").SetMode(monitortest.HTTP500)
	fleet.Cache("edge-1").SetMode(monitortest.Garbage)
	fleet.Cache("edge-2").SetMode(monitortest.Truncated)
	fleet.Cache("edge-3").SetMode(monitortest.Malformed)
	fleet.Cache("edge-4").SetDelay(2 * time.Second)
	want := map[string]string{
		"edge-0": "REPORTED - fetch error: bad HTTP status: 500; eth0: not found in polled data",
		"edge-1": "REPORTED - decode error: astats payload: offset 0: expected '{', found '<'; eth0: not found in polled data",
		"edge-2": "REPORTED - decode error: astats payload: offset ",
		"edge-3": "REPORTED - decode error: system.proc.loadavg missing; eth0: not found in polled data",
		"edge-4": "REPORTED - fetch error: timeout after 150ms; eth0: not found in polled data",
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		st := tm.State()
		for name, w := range want {
			c := st.Caches[name]
			if c == nil {
				return false, "no config yet"
			}
			if c.Local.Available || !strings.HasPrefix(c.Reason, w) {
				return false, name + ": " + c.Reason
			}
		}
		return st.Caches["edge-5"].Local.Available, "edge-5 not available"
	})
	if code, _ := get(t, tm.URL+"/publish/CrStates"); code != http.StatusOK {
		t.Errorf("monitor stopped serving: %d", code)
	}
}
