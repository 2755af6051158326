// Package monitortest provides test doubles for the health monitor: a fleet
// of fake caches serving astats or stats_over_http payloads whose load,
// bandwidth, request rate and failures a test controls, a builder for the
// matching Traffic Ops monitoring config, and a fake Traffic Ops.
//
// The fleet serves every cache from one loopback listener (IPv4 and, when
// available, IPv6 on the same port) and tells caches apart by the Host
// header, which the monitor sets to the cache's FQDN.
package monitortest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Format is the payload format of a fake cache.
type Format string

// Payload formats.
const (
	Astats        Format = "astats"
	StatsOverHTTP Format = "stats_over_http"
)

// Mode is a failure mode of a fake cache.
type Mode int

// Failure modes.
const (
	OK        Mode = iota // a well-formed payload
	HTTP500               // status 500
	Garbage               // 200 with a body that is not a payload
	Truncated             // 200 with the payload cut in half
	Malformed             // 200 with valid JSON missing the system stats
)

// FleetOptions configure NewFleet.
type FleetOptions struct {
	N         int    // number of caches (default 3)
	Prefix    string // cache host name prefix (default "edge")
	Domain    string // FQDN suffix (default "fleet.test")
	Format    Format // default Astats
	Interface string // interface name (default "eth0")
	// DeliveryServices are the routing labels each cache carries remap
	// stats for (plugin.remap_stats.<cache>.<ds>.<domain>.*).
	DeliveryServices []string
	// FillerStats adds this many constant stats to each payload so it has
	// a realistic size (default 450, about the size of a real astats).
	FillerStats int
	// IPv4Only disables the IPv6 listener.
	IPv4Only bool
	// SpreadAddresses gives cache i its own loopback address
	// 127.1.(i/250).(i%250+1), all on the fleet's port, so that a monitor
	// keeps one connection per cache as it would in production. IPv4 only.
	SpreadAddresses bool
}

// Fleet is a set of fake caches behind one listener.
type Fleet struct {
	Caches []*Cache
	Port   int
	HasV6  bool

	opts   FleetOptions
	byHost map[string]*Cache
	srv    *http.Server
	lns    []net.Listener
	wg     sync.WaitGroup
}

// Cache is one fake cache. Its setters are safe for concurrent use.
type Cache struct {
	Name, FQDN string
	Addr       string // service IPv4 address

	healthPolls, statPolls atomic.Int64

	mu           sync.Mutex
	load         float64
	kbps         float64
	tps          float64
	speedMbps    float64
	mode         Mode
	delay        time.Duration
	notAvailable bool
	outBytes     float64
	reqs         float64
	last         time.Time
	filler       []byte
}

// NewFleet starts a fleet; it is closed by tb.Cleanup.
func NewFleet(tb testing.TB, opts FleetOptions) *Fleet {
	tb.Helper()
	f, err := StartFleet(opts)
	if err != nil {
		tb.Fatalf("monitortest: %v", err)
	}
	tb.Cleanup(f.Close)
	return f
}

// StartFleet starts a fleet outside a test (the scale test's helper
// process uses it). Close stops it.
func StartFleet(opts FleetOptions) (*Fleet, error) {
	if opts.N == 0 {
		opts.N = 3
	}
	if opts.Prefix == "" {
		opts.Prefix = "edge"
	}
	if opts.Domain == "" {
		opts.Domain = "fleet.test"
	}
	if opts.Format == "" {
		opts.Format = Astats
	}
	if opts.Interface == "" {
		opts.Interface = "eth0"
	}
	if opts.FillerStats == 0 {
		opts.FillerStats = 450
	}
	f := &Fleet{opts: opts, byHost: map[string]*Cache{}}
	for i := range opts.N {
		name := opts.Prefix + "-" + strconv.Itoa(i)
		c := &Cache{Name: name, FQDN: name + "." + opts.Domain, Addr: "127.0.0.1", load: 0.5, speedMbps: 10000, outBytes: 1e9}
		if opts.SpreadAddresses {
			c.Addr = "127.1." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250+1)
		}
		c.filler = fillerStats(opts.Format, opts.FillerStats, i)
		f.Caches = append(f.Caches, c)
		f.byHost[c.FQDN] = c
	}
	if err := f.listen(); err != nil {
		for _, l := range f.lns {
			_ = l.Close()
		}
		return nil, err
	}
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serve), ReadHeaderTimeout: 10 * time.Second}
	for _, l := range f.lns {
		f.wg.Add(1)
		go func() { // stopped by Close (Shutdown)
			defer f.wg.Done()
			_ = f.srv.Serve(l)
		}()
	}
	return f, nil
}

func (f *Fleet) listen() error {
	first := f.Caches[0].Addr
	ln, err := net.Listen("tcp", first+":0")
	if err != nil {
		return err
	}
	f.lns = append(f.lns, ln)
	f.Port = ln.Addr().(*net.TCPAddr).Port
	if f.opts.SpreadAddresses {
		for _, c := range f.Caches[1:] {
			l, err := net.Listen("tcp", net.JoinHostPort(c.Addr, strconv.Itoa(f.Port)))
			if err != nil {
				return err
			}
			f.lns = append(f.lns, l)
		}
		return nil
	}
	if !f.opts.IPv4Only {
		if ln6, err := net.Listen("tcp", "[::1]:"+strconv.Itoa(f.Port)); err == nil {
			f.lns = append(f.lns, ln6)
			f.HasV6 = true
		}
	}
	return nil
}

// Close stops the fleet.
func (f *Fleet) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := f.srv.Shutdown(ctx); err != nil {
		_ = f.srv.Close()
	}
	f.wg.Wait()
}

// Cache returns the cache with the given host name.
func (f *Fleet) Cache(name string) *Cache {
	for _, c := range f.Caches {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// SetLoad sets the one-minute load average.
func (c *Cache) SetLoad(v float64) { c.mu.Lock(); c.load = v; c.mu.Unlock() }

// SetKbps sets the outgoing bandwidth: the byte counters advance at this
// rate between polls.
func (c *Cache) SetKbps(v float64) { c.mu.Lock(); c.kbps = v; c.mu.Unlock() }

// SetTPS sets the request rate reported in the 2xx remap counters.
func (c *Cache) SetTPS(v float64) { c.mu.Lock(); c.tps = v; c.mu.Unlock() }

// SetSpeedMbps sets the interface speed.
func (c *Cache) SetSpeedMbps(v float64) { c.mu.Lock(); c.speedMbps = v; c.mu.Unlock() }

// SetMode sets the failure mode.
func (c *Cache) SetMode(m Mode) { c.mu.Lock(); c.mode = m; c.mu.Unlock() }

// SetDelay delays every response (a slow cache).
func (c *Cache) SetDelay(d time.Duration) { c.mu.Lock(); c.delay = d; c.mu.Unlock() }

// SetNotAvailable sets the astats system.notAvailable flag.
func (c *Cache) SetNotAvailable(v bool) { c.mu.Lock(); c.notAvailable = v; c.mu.Unlock() }

// Polls returns how many health and stat polls the cache answered.
func (c *Cache) Polls() (health, stat int64) { return c.healthPolls.Load(), c.statPolls.Load() }

func (f *Fleet) serve(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	c := f.byHost[host]
	if c == nil {
		http.Error(w, "unknown cache "+host, http.StatusNotFound)
		return
	}
	health := r.URL.Query().Get("application") == "system"
	if health {
		c.healthPolls.Add(1)
	} else {
		c.statPolls.Add(1)
	}
	csv := strings.Contains(r.Header.Get("Accept"), "text/csv")
	body, mode, delay := c.payload(f.opts, !health, csv)
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	switch mode {
	case HTTP500:
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	case Garbage:
		body = []byte("<html>this is not a stats payload</html>")
	case Truncated:
		body = body[:len(body)/2]
	}
	if csv {
		w.Header().Set("Content-Type", "text/csv")
	} else {
		w.Header().Set("Content-Type", "text/json")
	}
	_, _ = w.Write(body)
}

// payload renders the cache's current payload and advances its counters.
func (c *Cache) payload(opts FleetOptions, full, csv bool) ([]byte, Mode, time.Duration) {
	c.mu.Lock()
	now := time.Now()
	if !c.last.IsZero() {
		dt := now.Sub(c.last).Seconds()
		c.outBytes += c.kbps * 125 * dt
		c.reqs += c.tps * dt
	}
	c.last = now
	p := snapshot{load: c.load, speed: c.speedMbps, out: uint64(c.outBytes), reqs: uint64(c.reqs), notAvail: c.notAvailable}
	mode, delay, filler := c.mode, c.delay, c.filler
	c.mu.Unlock()
	if mode == Malformed {
		return []byte(`{"ats": {"server": "9.2.3"}, "system": {"inf.name": "` + opts.Interface + `"}}`), OK, delay
	}
	if !full {
		filler = nil
	}
	var dses []string
	if full {
		dses = opts.DeliveryServices
	}
	return render(opts, c.Name, p, filler, dses, csv), mode, delay
}

type snapshot struct {
	load, speed float64
	out, reqs   uint64
	notAvail    bool
}

// ErrNoCache is returned by Lookup for an unknown host.
var ErrNoCache = errors.New("monitortest: no such cache")

// Lookup returns the cache serving the given FQDN.
func (f *Fleet) Lookup(fqdn string) (*Cache, error) {
	if c := f.byHost[fqdn]; c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNoCache, fqdn)
}
