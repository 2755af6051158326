package monitor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/internal/fixture"
)

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfigOwnFormat(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "monitor.json", `{
  "hostname": "tm1", "listen": "127.0.0.1:8081", "cdn": "cdn1",
  "ops": {"url": "https://ops.example.net", "username": "tm", "password": "pw"},
  "state_dir": "/var/lib/signpost/monitor", "http_timeout": "3s", "peer_optimistic_quorum_min": 1
}`)
	cfg, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Hostname != "tm1" || cfg.HTTPTimeout.Duration != 3*time.Second || cfg.Ops.Username != "tm" ||
		cfg.MaxEvents != 200 || cfg.CachePollingProtocol != "both" || !cfg.statPolling() {
		t.Errorf("cfg = %+v", cfg)
	}
}

func TestLoadConfigStrictErrorsListEveryProblem(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "monitor.json", `{"hostname": "x", "lisen": ":80", "ops": {"url": "x", "user": "u"}, "bogus": 1}`)
	_, err := LoadConfig(p)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`unknown key "lisen"`, `unknown key "bogus"`, `ops: unknown key "user"`, "monitor.json"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	p = write(t, dir, "bad.json", `{"hostname": "x", "monitoring_file": "m.json", "cache_polling_protocol": "ipv5", "http_timeout": "soon", "max_events": 0}`)
	_, err = LoadConfig(p)
	if err == nil || !strings.Contains(err.Error(), `invalid duration "soon"`) {
		t.Errorf("duration error = %v", err)
	}
	p = write(t, dir, "bad2.json", `{"hostname": "x", "monitoring_file": "m.json", "cache_polling_protocol": "ipv5", "max_events": 0, "http_timeout": "-1s"}`)
	_, err = LoadConfig(p)
	for _, want := range []string{`cache_polling_protocol: want both, ipv4only or ipv6only, got "ipv5"`, "max_events: must be at least 1, got 0", "http_timeout: must be positive"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	p = write(t, dir, "nosrc.json", `{"hostname": "x"}`)
	if _, err = LoadConfig(p); err == nil || !strings.Contains(err.Error(), "no monitoring config source") {
		t.Errorf("no source: %v", err)
	}
}

func TestLoadConfigTrafficMonitorFiles(t *testing.T) {
	dir := t.TempDir()
	tmcfg := write(t, dir, "traffic_monitor.cfg", string(fixture.Read(t, "monitor/traffic_monitor.cfg")))
	// The shipped traffic_ops.cfg has no username; use one that does.
	write(t, dir, "traffic_ops.cfg", `{"username":"tm","password":"pw","url":"https://traffic-ops.example.net","insecure":true,"cdnName":"cdn","httpListener":":8088","httpsListener":"","certFile":"","keyFile":""}`)
	for _, p := range []string{tmcfg, filepath.Join(dir, "traffic_ops.cfg")} {
		cfg, err := LoadConfig(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if cfg.Ops == nil || cfg.Ops.URL != "https://traffic-ops.example.net" || !cfg.Ops.Insecure || cfg.CDN != "cdn" ||
			cfg.Listen != ":8088" || cfg.HTTPTimeout.Duration != 2*time.Second || cfg.PublishInterval.Duration != 20*time.Millisecond ||
			cfg.StateDir != "/opt/traffic_monitor" {
			t.Errorf("%s: cfg = %+v ops=%+v", p, cfg, cfg.Ops)
		}
	}
	// Our format importing them, with an override.
	own := write(t, dir, "signpost.json", `{"import": {"traffic_monitor_cfg": "traffic_monitor.cfg", "traffic_ops_cfg": "traffic_ops.cfg"}, "hostname": "tm9", "state_dir": "/tmp/x"}`)
	cfg, err := LoadConfig(own)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Hostname != "tm9" || cfg.StateDir != "/tmp/x" || cfg.CDN != "cdn" || cfg.Listen != ":8088" {
		t.Errorf("imported cfg = %+v", cfg)
	}
	// The shipped traffic_ops.cfg (empty username) is rejected with a reason.
	dir2 := t.TempDir()
	p := write(t, dir2, "traffic_ops.cfg", string(fixture.Read(t, "monitor/traffic_ops.cfg")))
	if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), "ops.username: empty") {
		t.Errorf("shipped traffic_ops.cfg: %v", err)
	}
	write(t, dir2, "traffic_ops.cfg", `{"username":"a","password":"b","url":"https://x","cdnName":"c","httpsListener":":443"}`)
	if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), "httpsListener") {
		t.Errorf("httpsListener: %v", err)
	}
}

func TestCompileMonitoringFixture(t *testing.T) {
	raw := fixture.Read(t, "monitor/monitoring-internal.json")
	c, err := compileMonitoring("monitoring-internal.json", raw, "trafficmonitor")
	if err != nil {
		t.Fatal(err)
	}
	s := c.servers["server0"]
	if s == nil || s.fqdn != "server0.monitor-integration.test" || s.port != 30000 {
		t.Fatalf("server0 = %+v", s)
	}
	if want := "http://172.22.0.2:30000/_astats?application=system&inf.name=bond0"; s.healthURL[0] != want {
		t.Errorf("health URL = %q, want %q", s.healthURL[0], want)
	}
	if want := "http://172.22.0.2:30000/_astats?application=&inf.name=bond0"; s.statURL[0] != want {
		t.Errorf("stat URL = %q", s.statURL[0])
	}
	if s.healthURL[1] != "" {
		t.Errorf("no IPv6 address but URL %q", s.healthURL[1])
	}
	// TM's own serialization keeps thresholds in health_threshold objects.
	if th := s.profile.thresholds; len(th) != 1 || th[0] != (Threshold{Stat: "kbps", Cmp: CmpLess, Val: 20000}) {
		t.Errorf("thresholds = %+v", th)
	}
	if s.profile.timeout != 10*time.Millisecond || s.profile.historyCount != 1 {
		t.Errorf("profile = %+v", s.profile)
	}
	if c.statInterval != 2*time.Second || c.peerInterval != 30*time.Millisecond {
		t.Errorf("intervals: %v %v", c.statInterval, c.peerInterval)
	}
	if d := c.dses["ds0"]; d == nil || d.kbpsThreshold != 1000000 || len(d.caches) != 2 {
		t.Errorf("ds0 = %+v", d)
	}
}

func TestCompileMonitoringSpecExample(t *testing.T) {
	raw := `{"response": {
  "trafficServers": [{"profile": "ATS_EDGE_TIER_CACHE", "status": "REPORTED", "port": 80, "cachegroup": "CDN_in_a_Box_Edge",
    "hostname": "edge", "fqdn": "edge.infra.ciab.test", "type": "EDGE", "hashid": "edge",
    "interfaces": [{"name": "eth0", "monitor": true, "mtu": 1500, "maxBandwidth": null,
      "ipAddresses": [{"address": "172.16.239.100", "gateway": null, "serviceAddress": true},
                      {"address": "fc01:9400:1000:8::100/64", "gateway": null, "serviceAddress": true}]}],
    "deliveryServices": [{"xmlId": "demo1"}]}],
  "trafficMonitors": [{"profile": "RASCAL-Traffic_Monitor", "status": "ONLINE", "port": 80, "cachegroup": "CDN_in_a_Box_Edge",
    "hostname": "trafficmonitor", "fqdn": "trafficmonitor.infra.ciab.test", "ip": "172.16.239.40", "ip6": "fc01:9400:1000:8::40"},
    {"profile": "RASCAL-Traffic_Monitor", "status": "ONLINE", "port": 8080, "hostname": "tm2", "fqdn": "tm2.example"},
    {"profile": "RASCAL-Traffic_Monitor", "status": "OFFLINE", "port": 80, "hostname": "tm3", "fqdn": "tm3.example"}],
  "cacheGroups": [{"name": "CDN_in_a_Box_Edge", "coordinates": {"latitude": 38.897663, "longitude": -77.036574}}],
  "profiles": [{"name": "ATS_EDGE_TIER_CACHE", "type": "EDGE", "parameters": {
      "health.connection.timeout": 2000,
      "health.polling.url": "http://${hostname}/_astats?application=&inf.name=${interface_name}",
      "health.polling.format": "astats",
      "health.threshold.availableBandwidthInKbps": ">1750000",
      "health.threshold.loadavg": "25.0",
      "health.threshold.queryTime": 1000,
      "history.count": 30}},
    {"name": "CCR_CIAB", "type": "CCR", "parameters": {}}],
  "deliveryServices": [{"xmlId": "demo1", "totalTpsThreshold": 0, "status": "REPORTED", "totalKbpsThreshold": 0,
    "type": "HTTP", "topology": "", "hostRegexes": [".*\\.demo1\\..*"]}],
  "config": {"health.polling.interval": 6000, "heartbeat.polling.interval": 3000, "peers.polling.interval": 3000, "tm.polling.interval": 2000},
  "topologies": {"demo1-top": {"nodes": ["CDN_in_a_Box_Edge"]}}}}`
	c, err := compileMonitoring("spec", []byte(raw), "trafficmonitor")
	if err != nil {
		t.Fatal(err)
	}
	s := c.servers["edge"]
	if s.healthURL[1] != "http://[fc01:9400:1000:8::100]:80/_astats?application=system&inf.name=eth0" {
		t.Errorf("IPv6 URL = %q", s.healthURL[1])
	}
	if len(s.profile.thresholds) != 3 || s.profile.historyCount != 30 || c.healthInterval != 3*time.Second || c.statInterval != 6*time.Second {
		t.Errorf("profile %+v intervals %v %v", s.profile, c.healthInterval, c.statInterval)
	}
	if len(c.peers) != 1 || c.peers[0].url != "http://tm2.example:8080/publish/CrStates?raw" {
		t.Errorf("peers (same status as self only) = %+v", c.peers)
	}
	if ds, _ := c.dsMatch.match("edge.demo1.mycdn.ciab.test"); ds != "demo1" {
		t.Errorf("ds match = %q", ds)
	}
}

func TestCompileMonitoringErrorsListEveryProblem(t *testing.T) {
	raw := `{"trafficServers": [{"hostname": "e1", "status": "REPORTED", "profile": "P",
    "interfaces": [{"name": "eth0", "ipAddresses": [{"address": "999.1.1.1", "serviceAddress": true}]}]}],
  "trafficMonitors": [{"hostname": "tm0", "status": "ONLINE"}],
  "profiles": [{"name": "P", "parameters": {"health.threshold.loadavg": ">=abc", "health.polling.format": "vstats", "health.polling.url": "http://${hostname}/"}}],
  "deliveryServices": [{"xmlId": "d", "hostRegexes": ["(a"]}],
  "config": {"peers.polling.interval": "soon"}}`
	_, err := compileMonitoring("mon.json", []byte(raw), "tm-missing")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`mon.json: config: missing "health.polling.interval"`,
		`mon.json: config["peers.polling.interval"]: want a positive number of milliseconds, got "soon"`,
		`mon.json: profiles[0].parameters["health.threshold.loadavg"]: invalid threshold ">=abc"`,
		`mon.json: profiles[0].parameters["health.polling.format"]: unsupported format "vstats"`,
		`mon.json: trafficServers[0].interfaces[0].ipAddresses[0].address: invalid address "999.1.1.1"`,
		`mon.json: trafficMonitors: this monitor's host name "tm-missing" is not listed`,
		`mon.json: deliveryServices[0].hostRegexes[0]: "(a"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
