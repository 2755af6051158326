package monitor

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func (m *Monitor) dsStats(w http.ResponseWriter, r *http.Request, st *State) {
	f, err := parseFilter(r, "deliveryservices")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if d := pathArg(r, "/publish/DsStats"); d != "" {
		f.hosts = append(f.hosts, d)
	}
	type entry struct {
		Time  int64 `json:"time"`
		Value any   `json:"value"`
	}
	ms := st.Time.UnixMilli()
	out := map[string]map[string][]entry{}
	for _, name := range st.DSNames {
		if len(f.hosts) > 0 && !slices.Contains(f.hosts, name) {
			continue
		}
		d := st.DSes[name]
		stats := map[string][]entry{}
		put := func(k string, v any) {
			if f.wantStat(k) {
				stats[k] = []entry{{ms, v}}
			}
		}
		put("caches-configured", strconv.Itoa(d.CachesConfigured))
		put("caches-reporting", strconv.Itoa(d.CachesReporting))
		put("caches-available", strconv.Itoa(d.CachesAvailable))
		put("error-string", d.Error)
		put("status", "REPORTED")
		put("isHealthy", strconv.FormatBool(d.Local))
		put("isAvailable", strconv.FormatBool(d.Combined))
		put("disabledLocations", []string{})
		agg := func(prefix string, a DSAgg, avail bool, errStr string) {
			for _, kv := range []struct {
				k string
				v float64
			}{{"out_bytes", a.OutBytes}, {"in_bytes", a.InBytes}, {"status_2xx", a.S2xx}, {"status_3xx", a.S3xx},
				{"status_4xx", a.S4xx}, {"status_5xx", a.S5xx}, {"kbps", a.Kbps}, {"tps_2xx", a.Tps2xx},
				{"tps_3xx", a.Tps3xx}, {"tps_4xx", a.Tps4xx}, {"tps_5xx", a.Tps5xx}, {"tps_total", a.TpsTotal}} {
				put(prefix+kv.k, fmtF(kv.v))
			}
			// legacy naming quirk kept (A.15 #9)
			put("location."+prefix+"isAvailable", strconv.FormatBool(avail))
			put("location."+prefix+"error-string", errStr)
		}
		agg("total.", d.Total, d.Combined, d.Error)
		for _, cg := range sortedKeys(d.ByCacheGroup) {
			agg("location."+cg+".", d.ByCacheGroup[cg], d.Combined, d.Error)
		}
		for _, t := range sortedKeys(d.ByType) {
			agg("type."+t+".", d.ByType[t], d.Combined, d.Error)
		}
		out[name] = stats
	}
	writeValue(w, map[string]any{"pp": f.pp, "date": st.Time.UTC().Format(dateLayout), "deliveryService": out})
}

// statSummary summarises each numeric stat over the retained stat history.
func (m *Monitor) statSummary(w http.ResponseWriter, r *http.Request, st *State) {
	f, err := parseFilter(r, "hosts", "cache")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	type summary struct {
		Average   float64 `json:"average"`
		DPCount   int     `json:"dpCount"`
		End       float64 `json:"end"`
		EndTime   int64   `json:"endTime"`
		High      float64 `json:"high"`
		Low       float64 `json:"low"`
		Start     float64 `json:"start"`
		StartTime int64   `json:"startTime"`
	}
	type cacheSum struct {
		Stats          map[string]summary            `json:"stats"`
		InterfaceStats map[string]map[string]summary `json:"interfaceStats"`
	}
	caches := map[string]cacheSum{}
	for _, host := range st.CacheNames {
		c := st.Caches[host]
		if !f.wantHost(host, c.Type) || len(c.StatHistory) == 0 {
			continue
		}
		hist := c.StatHistory
		if f.hc > 0 && len(hist) > f.hc {
			hist = hist[:f.hc]
		}
		latest := hist[0].Stats
		sums := map[string]summary{}
		for i := 0; i < latest.Len(); i++ {
			name := "ats." + string(latest.AppendName(nil, i))
			if !f.wantStat(name) {
				continue
			}
			var s summary
			for j := len(hist) - 1; j >= 0; j-- { // oldest first
				h := hist[j]
				k := indexOf(h.Stats, latest, i)
				if k < 0 {
					continue
				}
				v, ok := h.Stats.Num(k)
				if !ok {
					continue
				}
				t := h.Time.UnixMilli()
				if s.DPCount == 0 {
					s.Start, s.StartTime, s.High, s.Low = v, t, v, v
				}
				s.End, s.EndTime = v, t
				s.High, s.Low = max(s.High, v), min(s.Low, v)
				s.Average += (v - s.Average) / float64(s.DPCount+1)
				s.DPCount++
			}
			if s.DPCount > 0 {
				sums[name] = s
			}
		}
		caches[host] = cacheSum{Stats: sums, InterfaceStats: map[string]map[string]summary{}}
	}
	writeValue(w, map[string]any{"pp": f.pp, "date": st.Time.UTC().Format(dateLayout), "caches": caches})
}

// CacheStatus is one value of /api/cache-statuses.
type CacheStatus struct {
	Type                  string                     `json:"type"`
	LoadAverage           float64                    `json:"load_average"`
	QueryTimeMS           int64                      `json:"query_time_ms"`
	HealthTimeMS          int64                      `json:"health_time_ms"`
	StatTimeMS            int64                      `json:"stat_time_ms"`
	StatSpanMS            int64                      `json:"stat_span_ms"`
	HealthSpanMS          int64                      `json:"health_span_ms"`
	Status                string                     `json:"status"`
	StatusPoller          string                     `json:"status_poller"`
	BandwidthKbps         float64                    `json:"bandwidth_kbps"`
	BandwidthCapacityKbps float64                    `json:"bandwidth_capacity_kbps"`
	ConnectionCount       *float64                   `json:"connection_count,omitempty"`
	IPv4Available         bool                       `json:"ipv4_available"`
	IPv6Available         bool                       `json:"ipv6_available"`
	CombinedAvailable     bool                       `json:"combined_available"`
	Interfaces            map[string]InterfaceStatus `json:"interfaces"`
	// Extensions for the status page.
	TOStatus   string `json:"to_status"`
	CacheGroup string `json:"cachegroup"`
	Available  bool   `json:"local_available"`
}

// InterfaceStatus is one interface of a CacheStatus.
type InterfaceStatus struct {
	Status        string  `json:"status"`
	StatusPoller  string  `json:"status_poller"`
	BandwidthKbps float64 `json:"bandwidth_kbps"`
	Available     bool    `json:"available"`
}

func cacheStatusOf(c *CacheState) CacheStatus {
	cs := CacheStatus{
		Type: c.Type, LoadAverage: c.LoadAvg, QueryTimeMS: c.QueryTime.Milliseconds(),
		StatSpanMS: c.StatSpan.Milliseconds(), HealthSpanMS: c.HealthSpan.Milliseconds(),
		Status: c.Reason, StatusPoller: c.Poller, BandwidthKbps: c.KbpsOut, BandwidthCapacityKbps: c.MaxKbps,
		IPv4Available: c.Local.IPv4, IPv6Available: c.Local.IPv6, CombinedAvailable: c.Combined.Available,
		Interfaces: map[string]InterfaceStatus{}, TOStatus: c.TOStatus, CacheGroup: c.CacheGroup, Available: c.Local.Available,
	}
	if !c.HealthTime.IsZero() {
		cs.HealthTimeMS = c.HealthTime.UnixMilli()
	}
	if !c.StatTime.IsZero() {
		cs.StatTimeMS = c.StatTime.UnixMilli()
	}
	if c.HasConnection {
		v := c.Connections
		cs.ConnectionCount = &v
	}
	if c.TOStatus == "ONLINE" {
		cs.Status = "ONLINE - available"
	}
	for _, is := range c.Interfaces {
		status := is.Status
		if status == "not found in polled data" {
			status = "unavailable - interface not found"
		}
		cs.Interfaces[is.Name] = InterfaceStatus{Status: status, StatusPoller: c.Poller, BandwidthKbps: is.KbpsOut, Available: is.Available}
	}
	return cs
}

func (m *Monitor) cacheStatuses(w http.ResponseWriter, _ *http.Request, st *State) {
	out := make(map[string]CacheStatus, len(st.Caches))
	for name, c := range st.Caches {
		out[name] = cacheStatusOf(c)
	}
	writeValue(w, out)
}

// metrics writes Prometheus text exposition format.
func (m *Monitor) metrics(w http.ResponseWriter, _ *http.Request, st *State) {
	var b []byte
	help := func(name, typ, text string) {
		b = append(b, "# HELP "...)
		b = append(b, name...)
		b = append(b, ' ')
		b = append(b, text...)
		b = append(b, "\n# TYPE "...)
		b = append(b, name...)
		b = append(b, ' ')
		b = append(b, typ...)
		b = append(b, '\n')
	}
	sample := func(name, labels string, v float64) {
		b = append(b, name...)
		if labels != "" {
			b = append(b, '{')
			b = append(b, labels...)
			b = append(b, '}')
		}
		b = append(b, ' ')
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
		b = append(b, '\n')
	}
	label := func(k, v string) string { return k + `="` + promEscape(v) + `"` }
	b01 := func(x bool) float64 {
		if x {
			return 1
		}
		return 0
	}
	help("signpost_monitor_ready", "gauge", "1 once every polled cache has been polled.")
	sample("signpost_monitor_ready", "", b01(st.Ready))
	help("signpost_monitor_state_version", "counter", "State versions published.")
	sample("signpost_monitor_state_version", "", float64(st.Version))
	help("signpost_monitor_polls_total", "counter", "Cache polls by poller.")
	sample("signpost_monitor_polls_total", label("poller", "health"), float64(st.Counters.HealthPolls))
	sample("signpost_monitor_polls_total", label("poller", "stat"), float64(st.Counters.StatPolls))
	help("signpost_monitor_poll_errors_total", "counter", "Cache polls that failed.")
	sample("signpost_monitor_poll_errors_total", "", float64(st.Counters.PollErrors))
	help("signpost_monitor_peer_polls_total", "counter", "Peer polls.")
	sample("signpost_monitor_peer_polls_total", "", float64(st.Counters.PeerPolls))
	help("signpost_monitor_peer_errors_total", "counter", "Peer polls that failed.")
	sample("signpost_monitor_peer_errors_total", "", float64(st.Counters.PeerErrors))
	help("signpost_monitor_config_loads_total", "counter", "Monitoring config versions applied.")
	sample("signpost_monitor_config_loads_total", "", float64(st.Counters.ConfigLoads))
	help("signpost_monitor_config_errors_total", "counter", "Failed monitoring config refreshes.")
	sample("signpost_monitor_config_errors_total", "", float64(st.Counters.ConfigErrors))
	help("signpost_monitor_peers_available", "gauge", "Peers whose last poll succeeded and is fresh.")
	sample("signpost_monitor_peers_available", "", float64(st.PeersAvailable))
	help("signpost_monitor_quorum_ok", "gauge", "0 while the optimistic quorum is active and unmet.")
	sample("signpost_monitor_quorum_ok", "", b01(st.QuorumOK))
	help("signpost_monitor_cache_available", "gauge", "Combined availability per cache.")
	for _, n := range st.CacheNames {
		sample("signpost_monitor_cache_available", label("cache", n), b01(st.Caches[n].Combined.Available))
	}
	help("signpost_monitor_cache_local_available", "gauge", "This monitor's own verdict per cache.")
	for _, n := range st.CacheNames {
		sample("signpost_monitor_cache_local_available", label("cache", n), b01(st.Caches[n].Local.Available))
	}
	help("signpost_monitor_cache_kbps", "gauge", "Outgoing kbps per cache.")
	for _, n := range st.CacheNames {
		sample("signpost_monitor_cache_kbps", label("cache", n), st.Caches[n].KbpsOut)
	}
	help("signpost_monitor_cache_loadavg", "gauge", "One-minute load average per cache.")
	for _, n := range st.CacheNames {
		sample("signpost_monitor_cache_loadavg", label("cache", n), st.Caches[n].LoadAvg)
	}
	help("signpost_monitor_deliveryservice_available", "gauge", "Combined availability per delivery service.")
	for _, n := range st.DSNames {
		sample("signpost_monitor_deliveryservice_available", label("deliveryservice", n), b01(st.DSes[n].Combined))
	}
	help("signpost_monitor_peer_available", "gauge", "Availability per peer monitor.")
	for _, n := range st.PeerNames {
		sample("signpost_monitor_peer_available", label("peer", n), b01(st.Peers[n].Available))
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write(b)
}

func promEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
