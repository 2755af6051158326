package monitor

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// vitals are what health evaluation needs from one poll (spec A.7/A.8).
type vitals struct {
	loadAvg      float64
	ifaces       []ifaceSample
	notAvailable bool
	timestamp    time.Time // plugin.system_stats.timestamp_ms when present
}

type ifaceSample struct {
	name      string
	in, out   uint64
	speedMbps float64
}

func (v *vitals) iface(name string) (ifaceSample, bool) {
	for _, s := range v.ifaces {
		if s.name == name {
			return s, true
		}
	}
	return ifaceSample{}, false
}

// astatsVitals extracts the system block of an astats payload.
func astatsVitals(s *Stats) (vitals, error) {
	var v vitals
	var infName, netDev, loadavg []byte
	var speed float64
	haveDev, haveLoad := false, false
	for i := range s.ents {
		e := &s.ents[i]
		if e.group != groupSystem {
			if e.kind == kindNum && string(s.bytes(e.name)) == "plugin.system_stats.timestamp_ms" {
				v.timestamp = time.UnixMilli(int64(e.num))
			}
			continue
		}
		switch string(s.bytes(e.name)) {
		case "inf.name":
			infName = s.bytes(e.str)
		case "inf.speed":
			speed = e.num
		case "proc.net.dev":
			netDev, haveDev = s.bytes(e.str), e.kind == kindStr
		case "proc.loadavg":
			loadavg, haveLoad = s.bytes(e.str), e.kind == kindStr
		case "notAvailable":
			v.notAvailable = e.kind == kindBool && e.num != 0
		}
	}
	if !haveLoad {
		return v, fmt.Errorf("system.proc.loadavg missing")
	}
	fields := bytes.FieldsFunc(loadavg, func(r rune) bool { return r == ' ' || r == '/' || r == '\t' })
	if len(fields) != 6 {
		return v, fmt.Errorf("system.proc.loadavg %q: want 6 fields, got %d", loadavg, len(fields))
	}
	f, ok := parseNum(fields[0])
	if !ok {
		return v, fmt.Errorf("system.proc.loadavg %q: bad one-minute load", loadavg)
	}
	v.loadAvg = f
	if !haveDev {
		return v, fmt.Errorf("system.proc.net.dev missing")
	}
	name, rest, ok := bytes.Cut(netDev, []byte(":"))
	if !ok {
		return v, fmt.Errorf("system.proc.net.dev %q: no ':'", netDev)
	}
	name = bytes.TrimSpace(name)
	if !bytes.Equal(name, infName) {
		return v, fmt.Errorf("system.proc.net.dev interface %q does not match system.inf.name %q", name, infName)
	}
	cols := bytes.Fields(rest)
	if len(cols) < 9 {
		return v, fmt.Errorf("system.proc.net.dev %q: want at least 9 counters, got %d", netDev, len(cols))
	}
	in, ok1 := parseNum(cols[0])
	out, ok2 := parseNum(cols[8])
	if !ok1 || !ok2 || in < 0 || out < 0 {
		return v, fmt.Errorf("system.proc.net.dev %q: bad byte counters", netDev)
	}
	v.ifaces = []ifaceSample{{name: string(name), in: uint64(in), out: uint64(out), speedMbps: speed}}
	return v, nil
}

// sohVitals extracts the system stats of a stats_over_http payload.
func sohVitals(s *Stats) (vitals, error) {
	var v vitals
	var have [4]bool // one, five, fifteen, current_processes
	byName := map[string]*ifaceSample{}
	var order []string
	for i := range s.ents {
		e := &s.ents[i]
		n := s.bytes(e.name)
		num, isNum := e.num, e.kind != kindStr
		if !isNum {
			num, isNum = parseNum(s.bytes(e.str))
		}
		rest, ok := bytes.CutPrefix(n, []byte("plugin.system_stats."))
		if !ok || !isNum {
			continue
		}
		switch string(rest) {
		case "loadavg.one":
			v.loadAvg, have[0] = num/65536, true
			continue
		case "loadavg.five":
			have[1] = true
			continue
		case "loadavg.fifteen":
			have[2] = true
			continue
		case "current_processes":
			have[3] = true
			continue
		case "timestamp_ms":
			v.timestamp = time.UnixMilli(int64(num))
			continue
		}
		netRest, ok := bytes.CutPrefix(rest, []byte("net."))
		if !ok {
			continue
		}
		dot := bytes.LastIndexByte(netRest, '.')
		if dot <= 0 {
			continue
		}
		field := string(netRest[dot+1:])
		if field != "rx_bytes" && field != "tx_bytes" && field != "speed" {
			continue
		}
		ifName := string(netRest[:dot])
		is := byName[ifName]
		if is == nil {
			is = &ifaceSample{name: ifName}
			byName[ifName] = is
			order = append(order, ifName)
		}
		switch field {
		case "rx_bytes":
			is.in = uint64(num)
		case "tx_bytes":
			is.out = uint64(num)
		case "speed":
			is.speedMbps = num
		}
	}
	for i, name := range []string{"loadavg.one", "loadavg.five", "loadavg.fifteen", "current_processes"} {
		if !have[i] {
			return v, fmt.Errorf("plugin.system_stats.%s missing", name)
		}
	}
	if len(order) == 0 {
		return v, fmt.Errorf("no plugin.system_stats.net.<interface> stats")
	}
	for _, n := range order {
		v.ifaces = append(v.ifaces, *byName[n])
	}
	return v, nil
}

// dsCounters are one cache's summed remap counters for one delivery service.
type dsCounters struct {
	inBytes, outBytes      float64
	s2xx, s3xx, s4xx, s5xx float64
}

// remapCounters sums the plugin.remap_stats.<fqdn>.<counter> stats per
// delivery service (spec A.7). byXMLID selects the astats-dsnames keying.
// lookup caches fqdn -> delivery service resolutions; it belongs to the
// single caller goroutine.
func remapCounters(s *Stats, m *dsMatcher, byXMLID bool, lookup map[string]string) map[string]*dsCounters {
	out := map[string]*dsCounters{}
	for i := range s.ents {
		e := &s.ents[i]
		if e.group != groupMain || e.kind != kindNum {
			continue
		}
		rest, ok := bytes.CutPrefix(s.bytes(e.name), []byte("plugin.remap_stats."))
		if !ok {
			continue
		}
		dot := bytes.LastIndexByte(rest, '.')
		if dot <= 0 {
			continue
		}
		key, counter := rest[:dot], rest[dot+1:]
		var ds string
		if byXMLID {
			ds = string(key)
		} else if d, hit := lookup[string(key)]; hit {
			ds = d
		} else {
			ds, _ = m.match(string(key))
			lookup[string(key)] = ds
		}
		if ds == "" {
			continue
		}
		c := out[ds]
		if c == nil {
			c = &dsCounters{}
			out[ds] = c
		}
		switch string(counter) {
		case "in_bytes":
			c.inBytes += e.num
		case "out_bytes":
			c.outBytes += e.num
		case "status_2xx":
			c.s2xx += e.num
		case "status_3xx":
			c.s3xx += e.num
		case "status_4xx":
			c.s4xx += e.num
		case "status_5xx":
			c.s5xx += e.num
		}
	}
	return out
}

// dsMatcher maps remap FQDNs to delivery services (spec A.7 "DS lookup").
type dsMatcher struct {
	byLabel map[string]string // `.*\.X\..*` -> X
	literal map[string]string
	regexes []dsRegex
}

type dsRegex struct {
	ds string
	re *regexp.Regexp
}

func (m *dsMatcher) add(ds, pattern string) error {
	if m.byLabel == nil {
		m.byLabel, m.literal = map[string]string{}, map[string]string{}
	}
	if mid, ok := strings.CutPrefix(pattern, `.*\.`); ok {
		if label, ok := strings.CutSuffix(mid, `\..*`); ok && regexp.QuoteMeta(label) == label {
			m.byLabel[label] = ds
			return nil
		}
	}
	if regexp.QuoteMeta(pattern) == pattern {
		m.literal[pattern] = ds
		return nil
	}
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return err
	}
	m.regexes = append(m.regexes, dsRegex{ds: ds, re: re})
	return nil
}

func (m *dsMatcher) match(fqdn string) (string, bool) {
	if _, rest, ok := strings.Cut(fqdn, "."); ok {
		sub, _, _ := strings.Cut(rest, ".")
		if ds, ok := m.byLabel[sub]; ok {
			return ds, true
		}
	}
	if ds, ok := m.literal[fqdn]; ok {
		return ds, true
	}
	for _, r := range m.regexes {
		if r.re.MatchString(fqdn) {
			return r.ds, true
		}
	}
	return "", false
}
