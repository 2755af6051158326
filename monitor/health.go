package monitor

import (
	"strings"
	"time"
)

type pollKind uint8

const (
	healthPoll pollKind = iota
	statPoll
)

func (k pollKind) String() string {
	if k == statPoll {
		return "stat"
	}
	return "health"
}

// pollResult is what a cache poller hands to the aggregator. It is not
// modified after it is sent.
type pollResult struct {
	host      string
	kind      pollKind
	fam       int // 0 IPv4, 1 IPv6
	time      time.Time
	queryTime time.Duration
	err       error
	vit       vitals
	stats     *Stats                 // stat polls only; nil on error
	ds        map[string]*dsCounters // stat polls only
}

// sample is one (time, out bytes per interface) point for kbps.
type sample struct {
	t   time.Time
	out map[string]uint64
}

// computed holds the computed stats of spec A.8 for one result.
type computed struct {
	kbpsOut, maxKbps, loadAvg float64
	queryTime                 time.Duration
	ifaces                    []IfaceState
}

func (c *computed) lookup(stat string) (float64, bool) {
	switch stat {
	case "availableBandwidthInKbps":
		return c.maxKbps - c.kbpsOut, true
	case "availableBandwidthInMbps":
		return (c.maxKbps - c.kbpsOut) / 1000, true
	case "bandwidth", "kbps":
		return c.kbpsOut, true
	case "gbps":
		return c.kbpsOut / 1e6, true
	case "maxKbps":
		return c.maxKbps, true
	case "loadavg":
		return c.loadAvg, true
	case "queryTime":
		return float64(c.queryTime) / float64(time.Millisecond), true
	}
	return 0, false
}

// computeVitals derives kbps and the per-interface view of one result
// against a previous sample (spec A.8): only interfaces that are monitored
// and present in the polled data count.
func computeVitals(srv *server, r *pollResult, prev *sample) computed {
	c := computed{loadAvg: r.vit.loadAvg, queryTime: r.queryTime}
	for _, mi := range srv.monitored {
		is := IfaceState{Name: mi.name}
		smp, ok := r.vit.iface(mi.name)
		if r.err != nil || !ok {
			is.Status = "not found in polled data"
			c.ifaces = append(c.ifaces, is)
			continue
		}
		is.InBytes, is.OutBytes, is.SpeedMbps = smp.in, smp.out, smp.speedMbps
		if prev != nil {
			if po, ok := prev.out[mi.name]; ok && po != 0 && smp.out >= po {
				if secs := r.time.Sub(prev.t).Seconds(); secs > 0 {
					is.KbpsOut = float64(smp.out-po) * 8 / 1000 / secs
				}
			}
		}
		is.Available = true
		is.Status = "available"
		if mi.maxKbps > 0 && mi.maxKbps < is.KbpsOut {
			is.Available = false
			is.Status = "maximum bandwidth exceeded"
		}
		c.kbpsOut += is.KbpsOut
		c.maxKbps += smp.speedMbps * 1000
		c.ifaces = append(c.ifaces, is)
	}
	return c
}

// evaluate returns the verdict and reason for one result (spec A.9 steps
// 1-4). Raw-stat thresholds are checked only for stat results.
func evaluate(srv *server, r *pollResult, c *computed) (bool, string) {
	var up bool
	var reason string
	switch {
	case srv.profile == nil:
		return false, "ERROR - server profile missing in Traffic Ops monitor config"
	case srv.status == "ONLINE":
		return true, "ONLINE - available"
	case srv.status == "ADMIN_DOWN":
		if r.err == nil && !r.vit.notAvailable {
			reason = "ADMIN_DOWN - available"
		} else {
			reason = "ADMIN_DOWN - unavailable"
		}
	case srv.status != "REPORTED":
		up = false
		if r.err == nil {
			reason = srv.status + " - available; invalid status"
		} else {
			reason = srv.status + " - unavailable; invalid status"
		}
	case r.err != nil:
		reason = "REPORTED - " + r.err.Error()
	case r.vit.notAvailable:
		reason = "REPORTED - system.notAvailable == true"
	default:
		up, reason = true, "REPORTED - available"
		for _, t := range srv.profile.thresholds {
			v, ok := c.lookup(t.Stat)
			if !ok {
				if r.kind != statPoll || r.stats == nil {
					continue
				}
				if v, ok = r.stats.LookupNum(t.Stat); !ok {
					continue
				}
			}
			if !t.Holds(v) {
				up, reason = false, "REPORTED - "+t.Violation(v)
				break
			}
		}
	}
	var b strings.Builder
	b.WriteString(reason)
	for _, is := range c.ifaces {
		if is.Available {
			continue
		}
		up = false
		b.WriteString("; ")
		b.WriteString(is.Name)
		b.WriteString(": ")
		b.WriteString(is.Status)
	}
	return up, b.String()
}

// overall combines the family verdicts per cache_polling_protocol (A.9.6).
func overall(protocol string, srv *server, v4, v6 bool) bool {
	switch protocol {
	case "ipv4only":
		return v4
	case "ipv6only":
		return v6
	}
	switch {
	case !srv.v4.IsValid():
		return v6
	case !srv.v6.IsValid():
		return v4
	}
	return v4 || v6
}
