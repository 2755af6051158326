package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// maxBody bounds a cache or peer response; a larger body is a poll error.
const maxBody = 32 << 20

// pollService runs one poll loop per cache and poller (health, stat) and
// one per peer, for the current config version. A new config version
// cancels the loops of the previous one and starts new ones; every loop is
// owned by an errgroup derived from Run's context.
type pollService struct {
	m       *Monitor
	notify  chan struct{}
	results chan<- pollResult
	peers   chan<- peerResult
}

// peerResult is one poll of a peer monitor's CrStates?raw.
type peerResult struct {
	host, url string
	time      time.Time
	err       error
	caches    map[string]Availability
	dses      map[string]bool
}

func (p *pollService) Run(ctx context.Context) error {
	var cur *cdnConfig
	for {
		cv := p.m.bus.load()
		if cv == nil || cv.cdn == cur {
			select {
			case <-ctx.Done():
				return nil
			case <-p.notify:
				continue
			}
		}
		cur = cv.cdn
		if err := p.generation(ctx, cur); err != nil || ctx.Err() != nil {
			return err
		}
	}
}

// generation runs the poll loops of one config version until ctx ends or
// a different config version is published, then stops and waits for them.
func (p *pollService) generation(ctx context.Context, cfg *cdnConfig) error {
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(gctx)
	p.start(gctx, g, cfg)
	for {
		select {
		case <-ctx.Done():
		case <-gctx.Done():
		case <-p.notify:
			if cv := p.m.bus.load(); cv == nil || cv.cdn == cfg {
				continue
			}
		}
		break
	}
	cancel()
	return g.Wait()
}

func (p *pollService) start(ctx context.Context, g *errgroup.Group, cfg *cdnConfig) {
	for _, name := range cfg.serverNames {
		srv := cfg.servers[name]
		if !srv.polled() || srv.profile == nil {
			continue
		}
		if srv.profile.pollType == "http" && srv.healthURL[0] == "" && srv.healthURL[1] == "" {
			continue
		}
		g.Go(func() error { return p.cacheLoop(ctx, cfg, srv, healthPoll, cfg.healthInterval, cfg.healthKeepAlive) })
		if p.m.cfg.statPolling() {
			g.Go(func() error { return p.cacheLoop(ctx, cfg, srv, statPoll, cfg.statInterval, cfg.statKeepAlive) })
		}
	}
	for _, peer := range cfg.peers {
		g.Go(func() error { return p.peerLoop(ctx, peer, cfg.peerInterval, cfg.peerKeepAlive) })
	}
}

// families returns the address families a cache is polled over, in
// alternation order (A.6).
func (p *pollService) families(srv *server) []int {
	has := func(f int) bool { return srv.profile.pollType == "noop" || srv.healthURL[f] != "" }
	var fams []int
	switch p.m.cfg.CachePollingProtocol {
	case "ipv4only":
		fams = []int{0}
	case "ipv6only":
		fams = []int{1}
	default:
		fams = []int{0, 1}
	}
	out := fams[:0]
	for _, f := range fams {
		if has(f) {
			out = append(out, f)
		}
	}
	return out
}

// cacheLoop polls one cache with one poller: a random start delay in
// [0, interval), then one poll per interval x 0.97; a tick never starts a
// poll before the previous result was handed over.
func (p *pollService) cacheLoop(ctx context.Context, cfg *cdnConfig, srv *server, kind pollKind, interval time.Duration, keepAlive bool) error {
	fams := p.families(srv)
	if len(fams) == 0 {
		return nil
	}
	interval = interval * 97 / 100
	timer := time.NewTimer(rand.N(interval + 1))
	defer timer.Stop()
	var health Stats // reused: health results keep only vitals
	lookup := map[string]string{}
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		start := time.Now()
		r := p.pollCache(ctx, cfg, srv, kind, fams[i%len(fams)], keepAlive, &health, lookup)
		if ctx.Err() != nil {
			return nil
		}
		select {
		case p.results <- r:
		case <-ctx.Done():
			return nil
		}
		timer.Reset(max(0, interval-time.Since(start)))
	}
}

func (p *pollService) pollCache(ctx context.Context, cfg *cdnConfig, srv *server, kind pollKind, fam int, keepAlive bool, health *Stats, lookup map[string]string) pollResult {
	r := pollResult{host: srv.name, kind: kind, fam: fam}
	prof := srv.profile
	if prof.pollType == "noop" {
		r.time = p.m.now()
		r.vit = vitals{ifaces: []ifaceSample{{name: "bond0", speedMbps: 20000}}}
		return r
	}
	u := srv.healthURL[fam]
	if kind == statPoll {
		u = srv.statURL[fam]
	}
	body, ctype, qt, err := p.m.fetch(ctx, u, srv.fqdn, prof.timeout, keepAlive)
	r.time, r.queryTime = p.m.now(), qt
	if err != nil {
		r.err = fmt.Errorf("fetch error: %w", err)
		return r
	}
	st := health
	if kind == statPoll {
		st = &Stats{}
	}
	if strings.HasPrefix(ctype, "text/csv") {
		err = st.DecodeCSV(body)
	} else {
		err = st.DecodeJSON(body)
	}
	if err != nil {
		r.err = fmt.Errorf("decode error: %s payload: %w", prof.format, err)
		return r
	}
	if prof.format == "stats_over_http" {
		r.vit, err = sohVitals(st)
	} else {
		r.vit, err = astatsVitals(st)
	}
	if err != nil {
		r.err = fmt.Errorf("decode error: %w", err)
		return r
	}
	if kind == statPoll {
		r.stats = st
		r.ds = remapCounters(st, &cfg.dsMatch, prof.format == "astats-dsnames", lookup)
	}
	return r
}

// fetch GETs a URL with the monitor's headers and a per-request timeout.
// Any non-2xx status, transport error or body error is an error.
func (m *Monitor) fetch(ctx context.Context, u, host string, timeout time.Duration, keepAlive bool) ([]byte, string, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", 0, err
	}
	req.Header.Set("User-Agent", m.userAgent)
	req.Header.Set("Accept", m.cfg.HTTPPollingFormat)
	if host != "" {
		req.Host = host
	}
	client := m.client
	if !keepAlive {
		client = m.clientNoKA
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", time.Since(start), timeoutText(err, timeout)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	qt := time.Since(start)
	if err != nil {
		return nil, "", qt, timeoutText(err, timeout)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, "", qt, fmt.Errorf("bad HTTP status: %d", resp.StatusCode)
	}
	if len(body) > maxBody {
		return nil, "", qt, fmt.Errorf("response larger than %d bytes", maxBody)
	}
	return body, resp.Header.Get("Content-Type"), qt, nil
}

func timeoutText(err error, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("timeout after %s", timeout)
	}
	return err
}

func (p *pollService) peerLoop(ctx context.Context, peer peerConfig, interval time.Duration, keepAlive bool) error {
	interval = interval * 97 / 100
	timer := time.NewTimer(rand.N(interval + 1))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		start := time.Now()
		r := peerResult{host: peer.host, url: peer.url}
		body, _, _, err := p.m.fetch(ctx, peer.url, "", p.m.cfg.HTTPTimeout.Duration, keepAlive)
		r.time = p.m.now()
		if err == nil {
			r.caches, r.dses, err = decodePeerCrStates(body)
		}
		r.err = err
		if ctx.Err() != nil {
			return nil
		}
		select {
		case p.peers <- r:
		case <-ctx.Done():
			return nil
		}
		timer.Reset(max(0, interval-time.Since(start)))
	}
}

// decodePeerCrStates decodes a peer's CrStates. The document must be a
// JSON object with a "caches" member.
func decodePeerCrStates(b []byte) (map[string]Availability, map[string]bool, error) {
	var doc struct {
		Caches map[string]struct {
			IsAvailable   bool `json:"isAvailable"`
			IPv4Available bool `json:"ipv4Available"`
			IPv6Available bool `json:"ipv6Available"`
		} `json:"caches"`
		DeliveryServices map[string]struct {
			IsAvailable bool `json:"isAvailable"`
		} `json:"deliveryServices"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("decode error: CrStates: %w", err)
	}
	if doc.Caches == nil {
		return nil, nil, errors.New("decode error: CrStates: no \"caches\" object")
	}
	caches := make(map[string]Availability, len(doc.Caches))
	for k, v := range doc.Caches {
		caches[k] = Availability{Available: v.IsAvailable, IPv4: v.IPv4Available, IPv6: v.IPv6Available}
	}
	dses := make(map[string]bool, len(doc.DeliveryServices))
	for k, v := range doc.DeliveryServices {
		dses[k] = v.IsAvailable
	}
	return caches, dses, nil
}
