package monitor

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// routes builds the HTTP API (spec A.13), the page and /metrics. Every
// handler loads one State and answers from it alone.
func (m *Monitor) routes() http.Handler {
	mux := http.NewServeMux()
	api := func(path string, h func(http.ResponseWriter, *http.Request, *State), gated bool) {
		wrapped := func(w http.ResponseWriter, r *http.Request) {
			st := m.state.Load()
			if gated && !st.Ready {
				http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
				return
			}
			h(w, r, st)
		}
		mux.HandleFunc("GET "+path, wrapped)
		mux.HandleFunc("GET "+path+"/", wrapped)
	}
	api("/publish/CrStates", m.crStates, true)
	api("/publish/CrConfig", m.crConfig, true)
	api("/publish/CacheStats", m.cacheStats, true)
	api("/publish/DsStats", m.dsStats, true)
	api("/publish/EventLog", m.eventLog, true)
	api("/publish/PeerStates", m.peerStates, true)
	api("/publish/Stats", m.stats, true)
	api("/publish/StatSummary", m.statSummary, true)
	api("/api/cache-statuses", m.cacheStatuses, true)
	api("/api/bandwidth-kbps", m.bandwidthKbps, true)
	api("/api/bandwidth-capacity-kbps", m.bandwidthCapacity, true)
	api("/api/cache-count", m.cacheCount, true)
	api("/api/cache-available-count", m.cacheAvailableCount, true)
	api("/api/cache-down-count", m.cacheDownCount, true)
	api("/api/version", m.apiVersion, false)
	api("/metrics", m.metrics, false)
	m.webRoutes(mux)
	return commonHeaders(mux)
}

// commonHeaders adds Traffic Monitor's Permissions-Policy header and gzip
// when the client accepts it.
func commonHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Permissions-Policy", "interest-cohort=()")
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Add("Vary", "Accept-Encoding")
		gz := gzip.NewWriter(w)
		defer gz.Close()
		next.ServeHTTP(gzipWriter{ResponseWriter: w, gz: gz}, r)
	})
}

var _ http.ResponseWriter = gzipWriter{}

type gzipWriter struct {
	http.ResponseWriter
	gz *gzip.Writer
}

func (g gzipWriter) Write(b []byte) (int, error) { return g.gz.Write(b) }

func writeJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func writeValue(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	writeJSON(w, b)
}

func (m *Monitor) crStates(w http.ResponseWriter, r *http.Request, st *State) {
	q := r.URL.Query()
	if _, raw := q["raw"]; raw {
		writeJSON(w, st.RawCrStatesJSON())
		return
	}
	if !st.QuorumOK {
		m.log.Warn(fmt.Sprintf("number of peers available (%d/%d) is less than the minimum number of %d required for optimistic peer quorum",
			st.PeersAvailable, len(st.PeerNames), m.cfg.PeerOptimisticQuorumMin))
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, st.CrStatesJSON())
}

func (m *Monitor) crConfig(w http.ResponseWriter, _ *http.Request, st *State) {
	if st.CrConfig == nil {
		http.Error(w, "no CDN snapshot available", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Age", strconv.Itoa(int(m.now().Sub(st.CrConfigTime).Seconds())))
	writeJSON(w, st.CrConfig)
}

// filter is the hc/stats/wildcard/type/hosts query filter of A.13.
type filter struct {
	hc       int
	stats    []string
	wildcard bool
	typ      string
	hosts    []string
	pp       string
}

func parseFilter(r *http.Request, hostKeys ...string) (filter, error) {
	f := filter{hc: 1}
	q := r.URL.Query()
	var pp []string
	for _, k := range sortedKeys(q) {
		v := q.Get(k)
		pp = append(pp, k+"=["+v+"]")
		switch {
		case k == "hc":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return f, fmt.Errorf("invalid hc %q: want a non-negative integer", v)
			}
			f.hc = n
		case k == "stats":
			f.stats = splitList(v)
		case k == "wildcard":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return f, fmt.Errorf("invalid wildcard %q", v)
			}
			f.wildcard = b
		case k == "type":
			f.typ = strings.ToUpper(v)
		case slices.Contains(hostKeys, k):
			f.hosts = append(f.hosts, splitList(v)...)
		case v == "" && len(hostKeys) > 0:
			f.hosts = append(f.hosts, k) // bare ?<host>
		default:
			return f, fmt.Errorf("unknown query parameter %q", k)
		}
	}
	f.pp = strings.Join(pp, ", ")
	return f, nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (f *filter) wantStat(name string) bool {
	if len(f.stats) == 0 {
		return true
	}
	for _, s := range f.stats {
		if (f.wildcard && strings.Contains(name, s)) || name == s {
			return true
		}
	}
	return false
}

func (f *filter) wantHost(name, typ string) bool {
	if f.typ != "" && !strings.HasPrefix(strings.ToUpper(typ), f.typ) {
		return false
	}
	return len(f.hosts) == 0 || slices.Contains(f.hosts, name)
}

// pathArg returns the path element after prefix ("/publish/CacheStats/x").
func pathArg(r *http.Request, prefix string) string {
	rest := strings.TrimPrefix(r.URL.Path, prefix)
	rest = strings.Trim(rest, "/")
	if u, err := url.PathUnescape(rest); err == nil {
		return u
	}
	return rest
}

const dateLayout = "Mon Jan 02 15:04:05 UTC 2006"

func appendHeader(dst []byte, pp string, now time.Time) []byte {
	dst = append(dst, `{"pp":`...)
	dst = appendJSONString(dst, pp)
	dst = append(dst, `,"date":`...)
	dst = appendJSONString(dst, now.UTC().Format(dateLayout))
	return dst
}

func appendHistEntry(dst []byte, value string, t time.Time) []byte {
	dst = append(dst, `{"value":`...)
	dst = appendJSONString(dst, value)
	dst = append(dst, `,"time":`...)
	dst = strconv.AppendInt(dst, t.UnixMilli(), 10)
	return append(dst, `,"span":1}`...)
}

func fmtF(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }

// computedStats lists the computed stats of a cache (A.8) as strings.
func computedStats(c *CacheState) [][2]string {
	avail := c.Combined.Available
	return [][2]string{
		{"availableBandwidthInKbps", fmtF(c.MaxKbps - c.KbpsOut)},
		{"availableBandwidthInMbps", fmtF((c.MaxKbps - c.KbpsOut) / 1000)},
		{"bandwidth", fmtF(c.KbpsOut)},
		{"error-string", cmpOr(c.PollError, "false")},
		{"gbps", fmtF(c.KbpsOut / 1e6)},
		{"isAvailable", strconv.FormatBool(avail)},
		{"isHealthy", strconv.FormatBool(c.Local.Available)},
		{"kbps", fmtF(c.KbpsOut)},
		{"loadavg", fmtF(c.LoadAvg)},
		{"maxKbps", fmtF(c.MaxKbps)},
		{"queryTime", strconv.FormatInt(c.QueryTime.Milliseconds(), 10)},
		{"status", c.TOStatus},
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (m *Monitor) cacheStats(w http.ResponseWriter, r *http.Request, st *State) {
	f, err := parseFilter(r, "hosts", "cache")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if h := pathArg(r, "/publish/CacheStats"); h != "" {
		f.hosts = append(f.hosts, h)
	}
	b := appendHeader(nil, f.pp, st.Time)
	b = append(b, `,"caches":{`...)
	first := true
	var name []byte
	for _, host := range st.CacheNames {
		c := st.Caches[host]
		if !f.wantHost(host, c.Type) || !c.polled() {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, host)
		b = append(b, ":{"...)
		n := 0
		sep := func() {
			if n > 0 {
				b = append(b, ',')
			}
			n++
		}
		for _, kv := range computedStats(c) {
			if f.wantStat(kv[0]) {
				sep()
				b = appendJSONString(b, kv[0])
				b = append(b, ":["...)
				b = appendHistEntry(b, kv[1], c.LastPoll)
				b = append(b, ']')
			}
		}
		for _, is := range c.Interfaces {
			if is.Status == "not found in polled data" {
				continue
			}
			for _, kv := range [][2]string{{"inBytes", strconv.FormatUint(is.InBytes, 10)}, {"outBytes", strconv.FormatUint(is.OutBytes, 10)}, {"speed", fmtF(is.SpeedMbps)}} {
				if f.wantStat(kv[0]) {
					sep()
					b = appendJSONString(b, kv[0])
					b = append(b, ":["...)
					b = appendHistEntry(b, kv[1], c.LastPoll)
					b = append(b, ']')
				}
			}
			break
		}
		hist := c.StatHistory
		if f.hc > 0 && len(hist) > f.hc {
			hist = hist[:f.hc]
		}
		if len(hist) > 0 {
			latest := hist[0].Stats
			for i := 0; i < latest.Len(); i++ {
				name = append(append(name[:0], "ats."...), latest.AppendName(nil, i)...)
				if !f.wantStat(string(name)) {
					continue
				}
				sep()
				b = appendJSONBytesString(b, name)
				b = append(b, ":["...)
				for j, h := range hist {
					if j > 0 {
						b = append(b, ',')
					}
					var v []byte
					if k := indexOf(h.Stats, latest, i); k >= 0 {
						v = h.Stats.AppendValue(nil, k)
					}
					b = appendHistEntry(b, string(v), h.Time)
				}
				b = append(b, ']')
			}
		}
		b = append(b, '}')
	}
	b = append(b, "}}"...)
	writeJSON(w, b)
}

// indexOf finds stat i of ref in s (same index first, then a scan).
func indexOf(s, ref *Stats, i int) int {
	if s == ref {
		return i
	}
	name := ref.AppendName(nil, i)
	if i < s.Len() && string(s.AppendName(nil, i)) == string(name) {
		return i
	}
	for k := 0; k < s.Len(); k++ {
		if string(s.AppendName(nil, k)) == string(name) {
			return k
		}
	}
	return -1
}

func (c *CacheState) polled() bool { return !c.HealthTime.IsZero() || !c.StatTime.IsZero() }

func (m *Monitor) eventLog(w http.ResponseWriter, _ *http.Request, st *State) {
	type ev struct {
		Time        int64  `json:"time"`
		Index       uint64 `json:"index"`
		Description string `json:"description"`
		Name        string `json:"name"`
		Hostname    string `json:"hostname"`
		Type        string `json:"type"`
		Available   bool   `json:"isAvailable"`
		IPv4        bool   `json:"ipv4Available"`
		IPv6        bool   `json:"ipv6Available"`
	}
	out := struct {
		Events []ev `json:"events"`
	}{Events: make([]ev, 0, len(st.Events))}
	for _, e := range st.Events {
		out.Events = append(out.Events, ev{e.Time.Unix(), e.Index, e.Description, e.Name, e.Name, e.Type, e.Available, e.IPv4, e.IPv6})
	}
	writeValue(w, out)
}

func (m *Monitor) peerStates(w http.ResponseWriter, r *http.Request, st *State) {
	f, err := parseFilter(r, "peers")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	type pv struct {
		Value bool `json:"value"`
		IPv4  bool `json:"ipv4Available"`
		IPv6  bool `json:"ipv6Available"`
	}
	peers := map[string]map[string][]pv{}
	for _, name := range st.PeerNames {
		if len(f.hosts) > 0 && !slices.Contains(f.hosts, name) {
			continue
		}
		ps := st.Peers[name]
		caches := map[string][]pv{}
		for host, a := range ps.Caches {
			caches[host] = []pv{{a.Available, a.IPv4, a.IPv6}}
		}
		peers[name] = caches
	}
	writeValue(w, map[string]any{"pp": f.pp, "date": st.Time.UTC().Format(dateLayout), "peers": peers})
}

func (m *Monitor) stats(w http.ResponseWriter, _ *http.Request, st *State) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	oldest, oldestMS := "", int64(0)
	for _, name := range st.PeerNames {
		ps := st.Peers[name]
		if age := st.Time.Sub(ps.LastPoll).Milliseconds(); oldest == "" || age > oldestMS {
			oldest, oldestMS = name, age
		}
	}
	mb := func(b uint64) string { return strconv.FormatUint(b>>20, 10) }
	writeValue(w, map[string]any{"stats": map[string]any{
		"version":                      m.version,
		"name":                         m.cfg.Hostname,
		"uptime":                       strconv.FormatInt(int64(st.Time.Sub(st.Counters.Start).Seconds()), 10),
		"Fetch Count":                  strconv.FormatUint(st.Counters.HealthPolls+st.Counters.StatPolls, 10),
		"Error Count":                  strconv.FormatUint(st.Counters.PollErrors, 10),
		"Iteration Count":              strconv.FormatUint(st.Version, 10),
		"Max Memory (MB)":              mb(ms.Sys),
		"Total Memory (MB)":            mb(ms.HeapSys),
		"Free Memory (MB)":             mb(ms.HeapIdle),
		"Goroutines":                   runtime.NumGoroutine(),
		"Memory Bytes Allocated":       ms.HeapAlloc,
		"Total Bytes Allocated":        ms.TotalAlloc,
		"System Bytes Allocated":       ms.Sys,
		"gc-cpu-fraction":              ms.GCCPUFraction,
		"Last Garbage Collection":      ms.LastGC / 1e6,
		"Oldest Polled Peer":           oldest,
		"Oldest Polled Peer Time (ms)": oldestMS,
	}})
}

func (m *Monitor) cacheCount(w http.ResponseWriter, _ *http.Request, st *State) {
	writeJSON(w, strconv.AppendInt(nil, int64(len(st.CacheNames)), 10))
}

func (m *Monitor) cacheAvailableCount(w http.ResponseWriter, _ *http.Request, st *State) {
	n := 0
	for _, c := range st.Caches {
		if c.Local.Available {
			n++
		}
	}
	writeJSON(w, strconv.AppendInt(nil, int64(n), 10))
}

func (m *Monitor) cacheDownCount(w http.ResponseWriter, _ *http.Request, st *State) {
	n := 0
	for _, c := range st.Caches {
		if !c.Local.Available && c.TOStatus == "REPORTED" {
			n++
		}
	}
	writeJSON(w, strconv.AppendInt(nil, int64(n), 10))
}

func (m *Monitor) bandwidthKbps(w http.ResponseWriter, _ *http.Request, st *State) {
	var sum float64
	for _, c := range st.Caches {
		sum += c.KbpsOut
	}
	writeJSON(w, strconv.AppendFloat(nil, sum, 'f', 6, 64))
}

func (m *Monitor) bandwidthCapacity(w http.ResponseWriter, _ *http.Request, st *State) {
	var sum float64
	for _, c := range st.Caches {
		sum += c.MaxKbps
	}
	writeJSON(w, strconv.AppendInt(nil, int64(sum), 10))
}

func (m *Monitor) apiVersion(w http.ResponseWriter, _ *http.Request, _ *State) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(m.version))
}
