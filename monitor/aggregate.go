package monitor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// aggregator is the single writer of monitor state. It owns every working
// map below (no other goroutine touches them) and publishes immutable State
// versions through Monitor.state.
type aggregator struct {
	m       *Monitor
	notify  chan struct{} // config bus subscription
	results <-chan pollResult
	peerIn  <-chan peerResult

	cur      *configVersion
	caches   map[string]*cacheWork
	peers    map[string]*PeerState
	dsPrev   map[string]map[string]dsSample // cache -> ds -> last sample
	events   []Event                        // oldest first, capped
	evView   []Event                        // published newest-first copy
	evIndex  uint64
	counters Counters
	version  uint64
	ready    bool
	dirty    bool
	override map[string]bool // caches currently kept up only by peers
	dsAvail  map[string]bool // last published local DS availability
}

type cacheWork struct {
	srv        *server
	st         *CacheState
	fam        [2]bool
	results    int
	polled     bool // counts for the start-up gate
	healthHist []sample
	prevStat   *sample
}

type dsSample struct {
	t    time.Time
	c    dsCounters
	rate DSAgg
}

func newAggregator(m *Monitor, notify chan struct{}, results <-chan pollResult, peers <-chan peerResult) *aggregator {
	return &aggregator{
		m: m, notify: notify, results: results, peerIn: peers,
		caches: map[string]*cacheWork{}, peers: map[string]*PeerState{},
		dsPrev: map[string]map[string]dsSample{}, override: map[string]bool{}, dsAvail: map[string]bool{},
		counters: Counters{Start: m.now()},
	}
}

// Run consumes config versions, poll results and peer results until ctx
// ends, publishing a new State at most every PublishInterval.
func (a *aggregator) Run(ctx context.Context) error {
	tick := time.NewTicker(a.m.cfg.PublishInterval.Duration)
	defer tick.Stop()
	a.publish()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-a.notify:
			a.applyConfig(a.m.bus.load())
		case r := <-a.results:
			a.onResult(&r)
		case p := <-a.peerIn:
			a.onPeer(&p)
		case <-tick.C:
			if a.dirty || a.peerAgeChanged() || a.m.configErrors.Load() != a.m.state.Load().Counters.ConfigErrors {
				a.publish()
			}
		}
	}
}

func (a *aggregator) event(typ, name, desc string, av Availability) {
	a.evIndex++
	a.events = append(a.events, Event{Time: a.m.now(), Index: a.evIndex, Description: desc, Name: name, Type: typ,
		Available: av.Available, IPv4: av.IPv4, IPv6: av.IPv6})
	if n := len(a.events) - a.m.cfg.MaxEvents; n > 0 {
		a.events = slices.Delete(a.events, 0, n)
	}
	a.evView = nil
	a.m.log.Info("event", "type", typ, "name", name, "available", av.Available, "description", desc)
}

func (a *aggregator) applyConfig(cv *configVersion) {
	if cv == nil || cv == a.cur {
		return
	}
	if a.cur != nil && a.cur.cdn == cv.cdn {
		a.cur = cv // only the snapshot changed
		a.dirty = true
		return
	}
	a.cur = cv
	a.counters.ConfigLoads++
	cfg := cv.cdn
	next := make(map[string]*cacheWork, len(cfg.servers))
	for _, name := range cfg.serverNames {
		srv := cfg.servers[name]
		cw := a.caches[name]
		if cw == nil {
			cw = &cacheWork{}
		}
		cw.srv = srv
		st := &CacheState{Name: name, Type: srv.typ, CacheGroup: srv.cacheGroup, TOStatus: srv.status, Poller: "unknown"}
		if cw.st != nil {
			cp := *cw.st
			st = &cp
			st.Type, st.CacheGroup, st.TOStatus = srv.typ, srv.cacheGroup, srv.status
		}
		switch {
		case srv.status == "ONLINE":
			cw.fam = [2]bool{srv.v4.IsValid(), srv.v6.IsValid()}
			st.Local = Availability{Available: true, IPv4: cw.fam[0], IPv6: cw.fam[1]}
			st.Reason, cw.polled = "", true
			st.Interfaces = nil
		case !srv.polled():
			cw.fam = [2]bool{}
			st.Local, st.Reason, cw.polled = Availability{}, "", true
		case srv.profile == nil:
			cw.fam = [2]bool{}
			st.Local, cw.polled = Availability{}, true
			st.Reason = "ERROR - server profile missing in Traffic Ops monitor config"
		case srv.profile.pollType == "http" && srv.healthURL[0] == "" && srv.healthURL[1] == "":
			cw.fam = [2]bool{}
			st.Local, cw.polled = Availability{}, true
			st.Reason = srv.status + " - no service address to poll"
		}
		if !srv.v4.IsValid() {
			cw.fam[0] = false
		}
		if !srv.v6.IsValid() {
			cw.fam[1] = false
		}
		cw.st = st
		next[name] = cw
	}
	for name := range a.caches {
		if next[name] == nil {
			delete(a.dsPrev, name)
			delete(a.override, name)
		}
	}
	a.caches = next
	for name := range a.peers {
		if !slices.ContainsFunc(cfg.peers, func(p peerConfig) bool { return p.host == name }) {
			delete(a.peers, name)
		}
	}
	a.dirty = true
}

func (a *aggregator) onResult(r *pollResult) {
	if r.kind == statPoll {
		a.counters.StatPolls++
	} else {
		a.counters.HealthPolls++
	}
	if r.err != nil {
		a.counters.PollErrors++
	}
	cw := a.caches[r.host]
	if cw == nil || a.cur == nil {
		return // the cache left the config while the poll ran
	}
	srv := cw.srv
	cur := sample{t: r.time}
	if r.err == nil {
		cur.out = make(map[string]uint64, len(r.vit.ifaces))
		for _, is := range r.vit.ifaces {
			cur.out[is.name] = is.out
		}
	}
	var prev *sample
	if r.kind == statPoll {
		prev = cw.prevStat
		if r.err == nil {
			cw.prevStat = &cur
		}
	} else {
		// Spec A.8 quirk kept: the health pipeline measures kbps against
		// the oldest entry of its history.count-long history.
		if len(cw.healthHist) > 0 {
			oldest := cw.healthHist[0] // copy: the slice is shifted below
			prev = &oldest
		}
		if r.err == nil {
			hc := 1
			if srv.profile != nil {
				hc = srv.profile.historyCount
			}
			cw.healthHist = append(cw.healthHist, cur)
			if n := len(cw.healthHist) - hc; n > 0 {
				cw.healthHist = slices.Delete(cw.healthHist, 0, n)
			}
		}
	}
	comp := computeVitals(srv, r, prev)
	up, reason := evaluate(srv, r, &comp)

	// Address families and the two-result rule (A.9.5).
	if cw.results == 0 {
		cw.fam = [2]bool{}
	} else {
		cw.fam[r.fam] = up
	}
	if !srv.v4.IsValid() {
		cw.fam[0] = false
	}
	if !srv.v6.IsValid() {
		cw.fam[1] = false
	}
	cw.results++
	if r.err != nil || r.vit.notAvailable || cw.results >= 2 {
		cw.polled = true
	}

	old := cw.st
	st := *old
	st.Local = Availability{Available: overall(a.m.cfg.CachePollingProtocol, srv, cw.fam[0], cw.fam[1]), IPv4: cw.fam[0], IPv6: cw.fam[1]}
	st.Reason, st.Poller = reason, r.kind.String()
	st.LastPoll = r.time
	if !r.vit.timestamp.IsZero() {
		st.LastPoll = r.vit.timestamp
	}
	st.QueryTime = r.queryTime
	st.Interfaces = comp.ifaces
	st.PollError = ""
	if r.err != nil {
		st.PollError = r.err.Error()
	} else {
		st.LoadAvg, st.KbpsOut, st.MaxKbps = comp.loadAvg, comp.kbpsOut, comp.maxKbps
	}
	if r.kind == statPoll {
		if !st.StatTime.IsZero() {
			st.StatSpan = r.time.Sub(st.StatTime)
		}
		st.StatTime = r.time
		if r.stats != nil {
			if v, ok := r.stats.LookupNum("proxy.process.http.current_client_connections"); ok {
				st.Connections, st.HasConnection = v, true
			}
			keep := min(a.m.cfg.MaxStatHistory, max(1, srvHistory(srv)))
			hist := make([]*StatSample, 0, keep)
			hist = append(hist, &StatSample{Time: r.time, Stats: r.stats})
			hist = append(hist, old.StatHistory[:min(len(old.StatHistory), keep-1)]...)
			st.StatHistory = hist
			a.onDSCounters(r.host, r.time, r.ds)
		}
	} else {
		if !st.HealthTime.IsZero() {
			st.HealthSpan = r.time.Sub(st.HealthTime)
		}
		st.HealthTime = r.time
	}
	cw.st = &st
	if old.Local.Available != st.Local.Available {
		fam := "IPv4"
		if r.fam == 1 {
			fam = "IPv6"
		}
		a.event(srv.typ, srv.name, fmt.Sprintf("Protocol (%s) %s (%s) ", fam, reason, r.kind), st.Local)
	}
	a.dirty = true
}

func srvHistory(srv *server) int {
	if srv.profile == nil {
		return 1
	}
	return srv.profile.historyCount
}

// onDSCounters stores one cache's DS counters and per-second rates against
// the previous sample; a counter going backwards keeps the previous rate
// and becomes the new base (A.10).
func (a *aggregator) onDSCounters(host string, t time.Time, ds map[string]*dsCounters) {
	prevAll := a.dsPrev[host]
	next := make(map[string]dsSample, len(ds))
	for name, c := range ds {
		s := dsSample{t: t, c: *c}
		if p, ok := prevAll[name]; ok {
			s.rate = p.rate
			if secs := t.Sub(p.t).Seconds(); secs > 0 {
				rate := func(now, before float64, keep float64) float64 {
					if now < before {
						return keep
					}
					return (now - before) / secs
				}
				s.rate.Kbps = rate(c.outBytes, p.c.outBytes, p.rate.Kbps*125) / 125
				s.rate.Tps2xx = rate(c.s2xx, p.c.s2xx, p.rate.Tps2xx)
				s.rate.Tps3xx = rate(c.s3xx, p.c.s3xx, p.rate.Tps3xx)
				s.rate.Tps4xx = rate(c.s4xx, p.c.s4xx, p.rate.Tps4xx)
				s.rate.Tps5xx = rate(c.s5xx, p.c.s5xx, p.rate.Tps5xx)
				s.rate.TpsTotal = s.rate.Tps2xx + s.rate.Tps3xx + s.rate.Tps4xx + s.rate.Tps5xx
			}
		}
		next[name] = s
	}
	a.dsPrev[host] = next
}

func (a *aggregator) onPeer(p *peerResult) {
	a.counters.PeerPolls++
	if a.cur == nil || !slices.ContainsFunc(a.cur.cdn.peers, func(pc peerConfig) bool { return pc.host == p.host }) {
		return
	}
	old := a.peers[p.host]
	ps := &PeerState{Name: p.host, URL: p.url, OK: p.err == nil, LastPoll: p.time}
	if p.err != nil {
		a.counters.PeerErrors++
		ps.Error = p.err.Error()
		if old != nil {
			// keep the last good states for PeerStates display
			ps.Caches, ps.DSes = old.Caches, old.DSes
		}
	} else {
		ps.Caches, ps.DSes = p.caches, p.dses
	}
	if old == nil || old.LastPoll.IsZero() || old.OK != ps.OK {
		desc := "Peer is reachable"
		if !ps.OK {
			desc = "Peer is unreachable: " + ps.Error
		}
		a.event("PEER", p.host, desc, Availability{Available: ps.OK})
	}
	a.peers[p.host] = ps
	a.dirty = true
}

// peerFresh reports whether a peer's last good poll is recent enough to
// count (A.11: younger than 2 x (peer interval + http timeout)).
func (a *aggregator) peerFresh(ps *PeerState, now time.Time) bool {
	if ps == nil || !ps.OK || a.cur == nil {
		return false
	}
	return now.Sub(ps.LastPoll) < 2*(a.cur.cdn.peerInterval+a.m.cfg.HTTPTimeout.Duration)
}

func (a *aggregator) peerAgeChanged() bool {
	st := a.m.state.Load()
	if st == nil {
		return true
	}
	now := a.m.now()
	for _, name := range st.PeerNames {
		if st.Peers[name].Available != a.peerFresh(a.peers[name], now) {
			return true
		}
	}
	return false
}

// publish builds and stores a new State version from the working data.
func (a *aggregator) publish() {
	a.dirty = false
	a.version++
	now := a.m.now()
	st := &State{Version: a.version, Time: now, Counters: a.counters}
	st.Counters.ConfigErrors = a.m.configErrors.Load()
	if a.cur == nil {
		st.Caches, st.DSes, st.Peers = map[string]*CacheState{}, map[string]*DSState{}, map[string]*PeerState{}
		a.m.state.Store(st)
		return
	}
	cfg := a.cur.cdn
	st.ConfigFrom = a.cur.origin
	st.CrConfig, st.CrConfigTime = a.cur.crconfig, a.cur.crconfigTime

	// Peers and quorum (A.11).
	st.Peers = make(map[string]*PeerState, len(cfg.peers))
	anyOK := false
	var avail []*PeerState
	for _, pc := range cfg.peers {
		ps := a.peers[pc.host]
		if ps == nil {
			ps = &PeerState{Name: pc.host, URL: pc.url, Error: "not polled yet"}
			a.peers[pc.host] = ps
		}
		if fresh := a.peerFresh(ps, now); fresh != ps.Available {
			cp := *ps
			cp.Available = fresh
			ps = &cp
			a.peers[pc.host] = ps
		}
		st.Peers[pc.host] = ps
		st.PeerNames = append(st.PeerNames, pc.host)
		anyOK = anyOK || ps.OK
		if ps.Available {
			avail = append(avail, ps)
		}
	}
	st.PeersAvailable = len(avail)
	st.QuorumActive = a.m.cfg.PeerOptimisticQuorumMin > 0 && len(cfg.peers) > 1
	st.QuorumOK = !st.QuorumActive || st.PeersAvailable >= a.m.cfg.PeerOptimisticQuorumMin

	// Caches: combine optimistically with the available peers.
	if !a.ready {
		ready := true
		for _, cw := range a.caches {
			ready = ready && cw.polled
		}
		a.ready = ready
	}
	st.Ready = a.ready
	st.Caches = make(map[string]*CacheState, len(a.caches))
	st.CacheNames = cfg.serverNames
	for _, name := range cfg.serverNames {
		cw := a.caches[name]
		comb := a.combine(name, cw.st.Local, anyOK, avail)
		if comb != cw.st.Combined {
			cp := *cw.st
			cp.Combined = comb
			cw.st = &cp
		}
		st.Caches[name] = cw.st
	}

	a.publishDSes(st, avail)

	if a.evView == nil {
		a.evView = make([]Event, len(a.events))
		for i, e := range a.events {
			a.evView[len(a.events)-1-i] = e
		}
	}
	st.Events = a.evView
	st.Counters = a.counters
	st.Counters.ConfigErrors = a.m.configErrors.Load()
	a.m.state.Store(st)
}

func (a *aggregator) combine(name string, local Availability, anyOK bool, avail []*PeerState) Availability {
	if local.IPv4 && local.IPv6 {
		return local
	}
	if !anyOK {
		return Availability{Available: local.IPv4 || local.IPv6 || local.Available, IPv4: local.IPv4, IPv6: local.IPv6}
	}
	c := Availability{Available: local.IPv4 || local.IPv6 || local.Available, IPv4: local.IPv4, IPv6: local.IPv6}
	var on []string
	for _, ps := range avail {
		pa, ok := ps.Caches[name]
		if !ok {
			continue
		}
		if pa.Available {
			c.Available = true
			on = append(on, ps.Name)
		}
		c.IPv4 = c.IPv4 || pa.IPv4
		c.IPv6 = c.IPv6 || pa.IPv6
	}
	overridden := c.Available && !local.Available
	if overridden != a.override[name] {
		a.override[name] = overridden
		desc := "Health protocol override condition cleared; healthy locally"
		if overridden {
			desc = "Health protocol override condition detected; healthy on (at least) " + strings.Join(on, ", ")
		} else if !c.Available {
			desc = "Health protocol override condition irrelevant; not online on any peers"
		}
		a.event(a.caches[name].srv.typ, name, desc, c)
	}
	return c
}

// publishDSes computes delivery service stats and availability (A.10).
func (a *aggregator) publishDSes(st *State, avail []*PeerState) {
	cfg := a.cur.cdn
	st.DSes = make(map[string]*DSState, len(cfg.dses))
	names := slices.Clone(cfg.dsNames)
	for _, ps := range avail {
		for n := range ps.DSes {
			if _, ok := cfg.dses[n]; !ok && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	st.DSNames = names
	for _, name := range names {
		d := &DSState{Name: name, ByCacheGroup: map[string]DSAgg{}, ByType: map[string]DSAgg{}}
		if dc := cfg.dses[name]; dc != nil {
			d.CachesConfigured = len(dc.caches)
			for _, host := range dc.caches {
				cs := st.Caches[host]
				if cs == nil {
					continue
				}
				if cs.Combined.Available {
					d.CachesAvailable++
				}
				smp, ok := a.dsPrev[host][name]
				if !ok {
					continue
				}
				d.CachesReporting++
				add := func(g DSAgg) DSAgg {
					g.InBytes += smp.c.inBytes
					g.OutBytes += smp.c.outBytes
					g.S2xx += smp.c.s2xx
					g.S3xx += smp.c.s3xx
					g.S4xx += smp.c.s4xx
					g.S5xx += smp.c.s5xx
					g.Kbps += smp.rate.Kbps
					g.Tps2xx += smp.rate.Tps2xx
					g.Tps3xx += smp.rate.Tps3xx
					g.Tps4xx += smp.rate.Tps4xx
					g.Tps5xx += smp.rate.Tps5xx
					g.TpsTotal += smp.rate.TpsTotal
					return g
				}
				d.Total = add(d.Total)
				d.ByCacheGroup[cs.CacheGroup] = add(d.ByCacheGroup[cs.CacheGroup])
				d.ByType[cs.Type] = add(d.ByType[cs.Type])
			}
			switch {
			case !a.m.cfg.statPolling():
				d.Error = "stat polling disabled"
			case d.CachesAvailable == 0:
				d.Error = "no available caches"
			case dc.tpsThreshold > 0 && d.Total.TpsTotal > dc.tpsThreshold:
				d.Error = fmt.Sprintf("total.tps_total too high (%.2f > %.2f)", d.Total.TpsTotal, dc.tpsThreshold)
			case dc.kbpsThreshold > 0 && d.Total.Kbps > dc.kbpsThreshold:
				d.Error = fmt.Sprintf("total.kbps too high (%.2f > %.2f)", d.Total.Kbps, dc.kbpsThreshold)
			default:
				d.Local = true
			}
			if prev, seen := a.dsAvail[name]; !seen || prev != d.Local {
				a.dsAvail[name] = d.Local
				desc := "Available caches"
				if !d.Local {
					desc = "Unavailable err: " + d.Error
				}
				if seen || !d.Local && d.Error != "no available caches" {
					a.event("DELIVERYSERVICE", name, desc, Availability{Available: d.Local})
				}
			}
		}
		d.Combined = d.Local
		for _, ps := range avail {
			d.Combined = d.Combined || ps.DSes[name]
		}
		st.DSes[name] = d
	}
}
