// Package monitor is Signpost's health monitor, a Traffic Monitor
// compatible service: it polls caches (astats / stats_over_http), applies
// the health thresholds of the monitoring config, computes delivery
// service availability, combines its verdicts optimistically with peer
// monitors, and serves CrStates and the rest of Traffic Monitor's API plus
// a status page and Prometheus metrics.
//
// Every component is a service with Run(ctx) error owned by one errgroup.
// One goroutine (the aggregator) owns all working state and publishes
// immutable State versions through an atomic pointer; HTTP handlers answer
// each request from the single version they loaded.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Version is reported at /api/version when Deps.Version is empty.
const Version = "signpost-monitor-dev"

// Deps are the monitor's optional dependencies.
type Deps struct {
	// Logger receives operational logs and events. Default: slog.Default().
	Logger *slog.Logger
	// Listener, when set, is served instead of listening on Config.Listen.
	Listener net.Listener
	// Transport is used for cache, peer and ops API requests. Default: a
	// tuned clone of http.DefaultTransport.
	Transport http.RoundTripper
	// Version is reported at /api/version and in the User-Agent.
	Version string
	// Now returns the current time. Default: time.Now.
	Now func() time.Time
}

// Monitor is one health monitor instance.
type Monitor struct {
	cfg        *Config
	log        *slog.Logger
	deps       Deps
	now        func() time.Time
	version    string
	userAgent  string
	client     *http.Client
	clientNoKA *http.Client
	bus        configBus
	state      atomic.Pointer[State]
	handler    http.Handler

	configErrors atomic.Uint64

	source *sourceService
	poller *pollService
	agg    *aggregator
}

// New builds a monitor from a validated configuration.
func New(cfg *Config, deps Deps) (*Monitor, error) {
	if cfg == nil {
		return nil, errors.New("monitor: nil config")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	m := &Monitor{cfg: cfg, log: deps.Logger, deps: deps, now: deps.Now, version: deps.Version}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.version == "" {
		m.version = Version
	}
	m.userAgent = "signpost-monitor/" + m.version
	rt, rtNoKA := deps.Transport, deps.Transport
	if rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 0 // no global cap
		t.MaxIdleConnsPerHost = 4
		t.IdleConnTimeout = 2 * time.Minute
		t.ForceAttemptHTTP2 = false
		rt = t
		nt := t.Clone()
		nt.DisableKeepAlives = true
		rtNoKA = nt
	}
	m.client = &http.Client{Transport: rt, CheckRedirect: noRedirect}
	m.clientNoKA = &http.Client{Transport: rtNoKA, CheckRedirect: noRedirect}
	m.source = &sourceService{m: m}
	if cfg.Ops != nil {
		oc, err := newOpsClient(cfg, deps.Transport, m.userAgent)
		if err != nil {
			return nil, err
		}
		m.source.ops = oc
	}
	results := make(chan pollResult, 4096)
	peers := make(chan peerResult, 64)
	m.agg = newAggregator(m, m.bus.subscribe(), results, peers)
	m.poller = &pollService{m: m, notify: m.bus.subscribe(), results: results, peers: peers}
	m.agg.publish()
	m.handler = m.routes()
	return m, nil
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Handler returns the HTTP API and page (what Run serves).
func (m *Monitor) Handler() http.Handler { return m.handler }

// State returns the current state version.
func (m *Monitor) State() *State { return m.state.Load() }

// Run runs every service until ctx ends or one fails. It serves the
// handler on Deps.Listener or Config.Listen.
func (m *Monitor) Run(ctx context.Context) error {
	ln := m.deps.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", m.cfg.Listen); err != nil {
			return fmt.Errorf("monitor: listen: %w", err)
		}
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return m.agg.Run(ctx) })
	g.Go(func() error { return m.poller.Run(ctx) })
	g.Go(func() error { return m.source.Run(ctx) })
	g.Go(func() error { return m.serve(ctx, ln) })
	return g.Wait()
}

// serve is the HTTP service: it serves until ctx ends, then shuts down.
func (m *Monitor) serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           m.handler,
		ReadTimeout:       m.cfg.ServeReadTimeout.Duration,
		ReadHeaderTimeout: m.cfg.ServeReadTimeout.Duration,
		WriteTimeout:      m.cfg.ServeWriteTimeout.Duration,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }() // stopped by Shutdown below; Run waits for it
	select {
	case err := <-errc:
		return fmt.Errorf("monitor: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Connections that never sent a request keep Shutdown waiting;
		// close what is left.
		m.log.Debug("monitor: shutdown incomplete, closing", "error", err)
		_ = srv.Close()
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("monitor: serve: %w", serr)
	}
	return nil
}
