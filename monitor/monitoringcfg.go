package monitor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The wire types below follow the Traffic Ops monitoring configuration
// (GET /api/5.0/cdns/{cdn}/configs/monitoring, spec A.5). encoding/json
// matches field names case-insensitively, which covers both TO's spelling
// (hostname, hashid, totalKbpsThreshold) and Traffic Monitor's own
// serialization (hostName, hashId, TotalKbpsThreshold).

type wireMonitoring struct {
	TrafficServers   []wireServer               `json:"trafficServers"`
	TrafficMonitors  []wireMonitor              `json:"trafficMonitors"`
	CacheGroups      []wireCacheGroup           `json:"cacheGroups"`
	Profiles         []wireProfile              `json:"profiles"`
	DeliveryServices []wireDS                   `json:"deliveryServices"`
	Config           map[string]json.RawMessage `json:"config"`
	Topologies       map[string]wireTopology    `json:"topologies"`
}

type wireServer struct {
	Profile          string          `json:"profile"`
	Status           string          `json:"status"`
	Port             int             `json:"port"`
	HTTPSPort        int             `json:"httpsPort"`
	CacheGroup       string          `json:"cachegroup"`
	HostName         string          `json:"hostname"`
	FQDN             string          `json:"fqdn"`
	Type             string          `json:"type"`
	HashID           string          `json:"hashid"`
	Interfaces       []wireInterface `json:"interfaces"`
	DeliveryServices []struct {
		XMLID string `json:"xmlId"`
	} `json:"deliveryServices"`
}

type wireInterface struct {
	Name         string   `json:"name"`
	Monitor      bool     `json:"monitor"`
	MaxBandwidth *float64 `json:"maxBandwidth"`
	IPAddresses  []struct {
		Address        string `json:"address"`
		ServiceAddress bool   `json:"serviceAddress"`
	} `json:"ipAddresses"`
}

type wireMonitor struct {
	Profile    string `json:"profile"`
	Status     string `json:"status"`
	Port       int    `json:"port"`
	CacheGroup string `json:"cachegroup"`
	HostName   string `json:"hostname"`
	FQDN       string `json:"fqdn"`
	IP         string `json:"ip"`
	IP6        string `json:"ip6"`
}

type wireCacheGroup struct {
	Name string `json:"name"`
}

type wireProfile struct {
	Name       string                     `json:"name"`
	Type       string                     `json:"type"`
	Parameters map[string]json.RawMessage `json:"parameters"`
}

type wireDS struct {
	XMLID              string   `json:"xmlId"`
	TotalTPSThreshold  float64  `json:"totalTpsThreshold"`
	TotalKbpsThreshold float64  `json:"totalKbpsThreshold"`
	Status             string   `json:"status"`
	Type               string   `json:"type"`
	Topology           string   `json:"topology"`
	HostRegexes        []string `json:"hostRegexes"`
}

type wireTopology struct {
	Nodes []string `json:"nodes"`
}

// cdnConfig is the compiled, immutable monitoring configuration. It is
// built once per accepted document and shared read-only by every service.
type cdnConfig struct {
	raw         []byte // the document as accepted (TO wire format), for the last-known-good copy
	origin      string // file path or URL it came from
	servers     map[string]*server
	serverNames []string // sorted
	dses        map[string]*dsConfig
	dsNames     []string // sorted
	dsMatch     dsMatcher
	self        wireMonitor
	peers       []peerConfig // sorted by host name

	statInterval, healthInterval, peerInterval, opsInterval time.Duration
	healthKeepAlive, statKeepAlive, peerKeepAlive           bool
}

type server struct {
	name, fqdn, typ, cacheGroup, status, profileName string
	profile                                          *profile // nil when the profile is missing
	port, httpsPort                                  int
	iface                                            string // service interface
	v4, v6                                           netip.Addr
	monitored                                        []monitoredIface
	healthURL, statURL                               [2]string // [0] IPv4, [1] IPv6; "" when no address of that family
	dses                                             []string
}

type monitoredIface struct {
	name    string
	maxKbps float64 // 0 = no limit
}

type profile struct {
	name, typ    string
	url          string
	format       string // astats, astats-dsnames, stats_over_http, noop
	pollType     string // http, noop
	timeout      time.Duration
	historyCount int
	thresholds   []Threshold // sorted by stat name
}

type dsConfig struct {
	name          string
	kbpsThreshold float64
	tpsThreshold  float64
	caches        []string // sorted
}

type peerConfig struct {
	host, url string
}

// polled reports whether the server's TO status makes it a polled cache.
func (s *server) polled() bool { return s.status == "REPORTED" || s.status == "ADMIN_DOWN" }

// decodeMonitoring accepts the document bare or wrapped as {"response": ...}.
func decodeMonitoring(b []byte) (*wireMonitoring, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, err
	}
	if r, ok := probe["response"]; ok && len(probe) <= 2 {
		b = r
	}
	var w wireMonitoring
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// compileMonitoring decodes, validates and compiles a monitoring document
// for the monitor named self. Every problem is reported, each naming the
// origin, the JSON path and the value.
func compileMonitoring(origin string, raw []byte, self string) (*cdnConfig, error) {
	w, err := decodeMonitoring(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", origin, err)
	}
	var errs []error
	bad := func(path string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", origin, path, fmt.Sprintf(format, args...)))
	}
	c := &cdnConfig{
		raw: bytes.Clone(raw), origin: origin,
		servers: map[string]*server{}, dses: map[string]*dsConfig{},
		healthKeepAlive: true, statKeepAlive: true, peerKeepAlive: true,
	}
	ms := func(key string, required bool) time.Duration {
		v, ok := w.Config[key]
		if !ok {
			if required {
				bad("config", "missing %q", key)
			}
			return 0
		}
		var f float64
		if err := json.Unmarshal(v, &f); err != nil || f <= 0 || f > float64(math.MaxInt64/int64(time.Millisecond)) {
			bad(fmt.Sprintf("config[%q]", key), "want a positive number of milliseconds, got %s", v)
			return 0
		}
		return time.Duration(f * float64(time.Millisecond))
	}
	c.statInterval = ms("health.polling.interval", true)
	c.healthInterval = ms("heartbeat.polling.interval", false)
	if c.healthInterval == 0 {
		c.healthInterval = c.statInterval
	}
	c.peerInterval = ms("peers.polling.interval", true)
	c.opsInterval = ms("tm.polling.interval", false)
	keep := func(key string) bool {
		v, ok := w.Config[key]
		if !ok {
			return true
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = string(v)
		}
		return strings.HasPrefix(s, "t") || strings.HasPrefix(s, "T")
	}
	c.healthKeepAlive = keep("health.polling.keepalive")
	c.statKeepAlive = keep("stat.polling.keepalive")
	c.peerKeepAlive = keep("peer.polling.keepalive")

	profiles := map[string]*profile{}
	for i, wp := range w.Profiles {
		p, perrs := compileProfile(fmt.Sprintf("profiles[%d]", i), wp)
		for _, e := range perrs {
			errs = append(errs, fmt.Errorf("%s: %w", origin, e))
		}
		profiles[wp.Name] = p
	}

	topo := map[string][]string{}
	for name, t := range w.Topologies {
		topo[name] = t.Nodes
	}

	for i, ws := range w.TrafficServers {
		path := fmt.Sprintf("trafficServers[%d]", i)
		if ws.HostName == "" {
			bad(path+".hostname", "empty")
			continue
		}
		s := &server{
			name: ws.HostName, fqdn: ws.FQDN, typ: ws.Type, cacheGroup: ws.CacheGroup, status: ws.Status,
			profileName: ws.Profile, profile: profiles[ws.Profile], port: ws.Port, httpsPort: ws.HTTPSPort,
		}
		for j, in := range ws.Interfaces {
			for k, ip := range in.IPAddresses {
				if !ip.ServiceAddress {
					continue
				}
				addr, err := parseInetAddr(ip.Address)
				if err != nil {
					bad(fmt.Sprintf("%s.interfaces[%d].ipAddresses[%d].address", path, j, k), "invalid address %q", ip.Address)
					continue
				}
				if addr.Is4() && !s.v4.IsValid() {
					s.v4, s.iface = addr, in.Name
				} else if addr.Is6() && !s.v6.IsValid() {
					s.v6, s.iface = addr, in.Name
				}
			}
			if in.Monitor {
				mi := monitoredIface{name: in.Name}
				if in.MaxBandwidth != nil {
					mi.maxKbps = *in.MaxBandwidth
				}
				s.monitored = append(s.monitored, mi)
			}
		}
		for _, d := range ws.DeliveryServices {
			s.dses = append(s.dses, d.XMLID)
		}
		if s.polled() && s.profile != nil && s.profile.pollType == "http" {
			if s.profile.url == "" {
				bad(path, "profile %q has no health.polling.url", ws.Profile)
			} else if err := s.buildURLs(); err != nil {
				bad(path, "%v", err)
			}
		}
		c.servers[s.name] = s // duplicates: last wins, as in Traffic Monitor
	}
	c.serverNames = sortedKeys(c.servers)

	selfFound := false
	for i, m := range w.TrafficMonitors {
		if m.HostName == "" {
			bad(fmt.Sprintf("trafficMonitors[%d].hostname", i), "empty")
		}
		if m.HostName == self {
			c.self, selfFound = m, true
		}
	}
	if !selfFound {
		bad("trafficMonitors", "this monitor's host name %q is not listed", self)
	} else {
		for _, m := range w.TrafficMonitors {
			if m.HostName == self || m.Status != c.self.Status {
				continue
			}
			host := m.FQDN
			if host == "" {
				host = m.HostName
			}
			port := m.Port
			if port == 0 {
				port = 80
			}
			c.peers = append(c.peers, peerConfig{
				host: m.HostName,
				url:  "http://" + netJoin(host, port) + "/publish/CrStates?raw",
			})
		}
		slices.SortFunc(c.peers, func(a, b peerConfig) int { return strings.Compare(a.host, b.host) })
	}

	var regexErrs []error
	for i, d := range w.DeliveryServices {
		if d.XMLID == "" {
			bad(fmt.Sprintf("deliveryServices[%d].xmlId", i), "empty")
			continue
		}
		dc := &dsConfig{name: d.XMLID, kbpsThreshold: d.TotalKbpsThreshold, tpsThreshold: d.TotalTPSThreshold}
		c.dses[d.XMLID] = dc
		for j, re := range d.HostRegexes {
			if err := c.dsMatch.add(d.XMLID, re); err != nil {
				regexErrs = append(regexErrs, fmt.Errorf("%s: deliveryServices[%d].hostRegexes[%d]: %q: %w", origin, i, j, re, err))
			}
		}
		members := map[string]bool{}
		for _, s := range c.servers {
			if slices.Contains(s.dses, d.XMLID) {
				members[s.name] = true
			}
		}
		if d.Topology != "" {
			for _, cg := range topo[d.Topology] {
				for _, s := range c.servers {
					if s.cacheGroup == cg {
						members[s.name] = true
					}
				}
			}
		}
		dc.caches = sortedKeys(members)
	}
	errs = append(errs, regexErrs...)
	c.dsNames = sortedKeys(c.dses)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func compileProfile(path string, wp wireProfile) (*profile, []error) {
	p := &profile{name: wp.Name, typ: wp.Type, format: "astats", pollType: "http", timeout: 2 * time.Second, historyCount: 1}
	var errs []error
	str := func(key string) string {
		v, ok := wp.Parameters[key]
		if !ok {
			return ""
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
		return strings.TrimSpace(string(v))
	}
	num := func(key string) (float64, bool) {
		s := str(key)
		if s == "" {
			return 0, false
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.parameters[%q]: not a number: %q", path, key, s))
			return 0, false
		}
		return f, true
	}
	p.url = str("health.polling.url")
	if f := str("health.polling.format"); f != "" {
		p.format = f
	}
	switch p.format {
	case "astats", "astats-dsnames", "stats_over_http", "noop":
	default:
		errs = append(errs, fmt.Errorf("%s.parameters[\"health.polling.format\"]: unsupported format %q (want astats, astats-dsnames, stats_over_http or noop)", path, p.format))
	}
	if t := str("health.polling.type"); t != "" {
		p.pollType = t
	}
	if p.format == "noop" {
		p.pollType = "noop"
	}
	if p.pollType != "http" && p.pollType != "noop" {
		errs = append(errs, fmt.Errorf("%s.parameters[\"health.polling.type\"]: unsupported type %q (want http or noop)", path, p.pollType))
	}
	if ms, ok := num("health.connection.timeout"); ok && ms > 0 {
		p.timeout = time.Duration(ms * float64(time.Millisecond))
	}
	if n, ok := num("history.count"); ok && n >= 1 {
		p.historyCount = int(n)
	}
	seen := map[string]bool{}
	for key := range wp.Parameters {
		stat, ok := strings.CutPrefix(key, "health.threshold.")
		if !ok {
			continue
		}
		val := str(key)
		t, err := ParseThreshold(stat, val)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.parameters[%q]: %w", path, key, err))
			continue
		}
		seen[stat] = true
		p.thresholds = append(p.thresholds, t)
	}
	// Traffic Monitor's own serialization (tmconfig.backup, its test
	// fixtures) stores thresholds as health_threshold objects; TM ignores
	// them when reading (spec A.15 quirk 8). We honour them.
	if raw, ok := wp.Parameters["health_threshold"]; ok {
		var objs map[string]struct {
			Comparator string  `json:"comparator"`
			Val        float64 `json:"val"`
		}
		if err := json.Unmarshal(raw, &objs); err != nil {
			errs = append(errs, fmt.Errorf("%s.parameters[\"health_threshold\"]: %w", path, err))
		}
		for stat, o := range objs {
			if seen[stat] {
				continue
			}
			t, err := ParseThreshold(stat, o.Comparator+strconv.FormatFloat(o.Val, 'g', -1, 64))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.parameters[\"health_threshold\"][%q]: %w", path, stat, err))
				continue
			}
			p.thresholds = append(p.thresholds, t)
		}
	}
	slices.SortFunc(p.thresholds, func(a, b Threshold) int { return strings.Compare(a.Stat, b.Stat) })
	return p, errs
}

// buildURLs derives the per-family health and stat URLs (spec A.6).
func (s *server) buildURLs() error {
	tmpl := s.profile.url
	for fam, addr := range []netip.Addr{s.v4, s.v6} {
		if !addr.IsValid() {
			continue
		}
		host := addr.String()
		if fam == 1 {
			host = "[" + host + "]"
		}
		u := strings.ReplaceAll(tmpl, "${hostname}", host)
		u = strings.ReplaceAll(u, "${interface_name}", s.iface)
		pu, err := url.Parse(u)
		if err != nil {
			return fmt.Errorf("health.polling.url %q: %v", tmpl, err)
		}
		if pu.Port() == "" {
			switch {
			case pu.Scheme == "http" && s.port != 0:
				pu.Host = netJoin(pu.Hostname(), s.port)
			case pu.Scheme == "https" && s.httpsPort != 0:
				pu.Host = netJoin(pu.Hostname(), s.httpsPort)
			}
			u = pu.String()
		}
		var health string
		if strings.Contains(u, "application=plugin.remap") {
			health = strings.ReplaceAll(u, "application=plugin.remap", "application=system")
		} else {
			// plain substring replacement, as Traffic Monitor does: a template
			// already asking for application=system becomes systemsystem
			health = strings.ReplaceAll(u, "application=", "application=system")
		}
		s.healthURL[fam] = health
		s.statURL[fam] = strings.Replace(health, "application=system", "application=", 1)
	}
	return nil
}

func netJoin(host string, port int) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

// parseInetAddr parses a Postgres inet text ("10.0.0.1", "fc01::1/64").
func parseInetAddr(s string) (netip.Addr, error) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	return netip.ParseAddr(s)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
