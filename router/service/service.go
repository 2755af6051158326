// Package service runs `signpost route`: a control source feeding the
// router, the DNS and HTTP listeners answering from the current table, the
// access log and the metrics. Every goroutine belongs to one errgroup tied
// to the caller's context.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/control/dir"
	"github.com/signpost-cdn/signpost/control/opsapi"
	"github.com/signpost-cdn/signpost/control/postgres"
	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/internal/metrics"
	"github.com/signpost-cdn/signpost/monitor"
	"github.com/signpost-cdn/signpost/router"
	"github.com/signpost-cdn/signpost/router/accesslog"
	"github.com/signpost-cdn/signpost/router/dnsserver"
	"github.com/signpost-cdn/signpost/router/healthfeed"
)

// Config is the route service's configuration (the `signpost route` flags).
type Config struct {
	// Source is a snapshot directory path, an ops API URL
	// (https://user:pass@host) or a postgres:// URL.
	Source string
	// SourceCredentials is a file holding "user:password" for an ops API
	// or postgres:// source (instead of credentials in the URL).
	SourceCredentials string
	// StateDir keeps the last good copy of every dataset.
	StateDir string
	// Monitors are Traffic Monitor URLs polled for health.
	Monitors []string
	// DNS, HTTP, HTTPS and API are listen addresses; empty turns one off.
	DNS, HTTP, HTTPS, API string
	// DNSWorkers is the number of UDP sockets and workers (0: GOMAXPROCS)
	// and DNSWait how they wait (dnsserver.Config).
	DNSWorkers int
	DNSWait    dnsserver.UDPWait
	// AccessLog is the access log path ("" = no access log, "-" = stderr).
	AccessLog string
	// AccessLogMaxBytes and AccessLogKeep rotate the access log.
	AccessLogMaxBytes int64
	AccessLogKeep     int
	// HashMode is the consistent-hash mode (MD5 for Traffic Router parity).
	HashMode hashring.Mode
	// PollInterval is how often a snapshot directory is checked.
	PollInterval time.Duration
	Logger       *slog.Logger
	// Version is reported by the API.
	Version string
	// MonitorConfig, when set, runs a health monitor in this process
	// (single-host staging) and follows it like a --monitor URL.
	MonitorConfig string
	// OnReady, when set, is called once the first table serves.
	OnReady func(Addrs)
}

// Addrs are the bound listener addresses (useful with port 0).
type Addrs struct {
	DNS, HTTP, HTTPS, API string
}

// publisher is a listener that compiles per-table data (zones,
// certificates) when a table is published.
type publisher interface {
	Publish(t *router.Table) error
}

type publishTable = *router.Table

// publishFunc adapts a function to publisher.
type publishFunc func(t publishTable) error

func (f publishFunc) Publish(t *router.Table) error { return f(t) }

// Service is one running router process.
type Service struct {
	cfg     Config
	log     *slog.Logger
	router  *router.Router
	metrics *metrics.Registry
	alog    *accesslog.Writer
	source  control.Source
	status  func() control.Status

	mu         sync.Mutex
	publishers []publisher
	ready      bool
	lastErr    error
	lastErrAt  time.Time
	readyFn    func()

	follower *healthfeed.Follower
	monitor  *monitor.Monitor

	reloads, reloadErrors *metrics.Counter
	generation            *metrics.Gauge
}

// New validates cfg and prepares the service; Run starts it.
func New(cfg Config) (*Service, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Source == "" {
		return nil, errors.New("route: --source is required (a snapshot directory, https://user:pass@ops-host or postgres://...)")
	}
	if !cfg.HashMode.Valid() {
		cfg.HashMode = hashring.MD5
	}
	s := &Service{cfg: cfg, log: cfg.Logger, metrics: metrics.NewRegistry(metrics.Options{})}
	s.router = router.New(cfg.HashMode, cfg.Logger)
	switch {
	case strings.HasPrefix(cfg.Source, "postgres://"), strings.HasPrefix(cfg.Source, "postgresql://"):
		opts, err := postgres.ParseSource(cfg.Source, cfg.SourceCredentials)
		if err != nil {
			return nil, fmt.Errorf("route: --source: %w", err)
		}
		opts.StateDir, opts.Logger = cfg.StateDir, cfg.Logger
		src, err := postgres.New(opts)
		if err != nil {
			return nil, fmt.Errorf("route: --source: %w", err)
		}
		s.source, s.status = src, src.Status
	case strings.HasPrefix(cfg.Source, "https://"), strings.HasPrefix(cfg.Source, "http://"):
		opts, err := opsapi.ParseSource(cfg.Source, cfg.SourceCredentials, os.Getenv)
		if err != nil {
			return nil, fmt.Errorf("route: --source: %w", err)
		}
		opts.StateDir, opts.Logger = cfg.StateDir, cfg.Logger
		src, err := opsapi.New(opts)
		if err != nil {
			return nil, fmt.Errorf("route: --source: %w", err)
		}
		s.source, s.status = src, src.Status
	default:
		src := dir.New(cfg.Source, dir.Options{StateDir: cfg.StateDir, Logger: cfg.Logger, PollInterval: cfg.PollInterval})
		s.source, s.status = src, src.Status
	}
	if cfg.AccessLog != "" {
		alc := accesslog.Config{Path: cfg.AccessLog, MaxBytes: cfg.AccessLogMaxBytes, Keep: cfg.AccessLogKeep}
		w, err := accesslog.New(alc)
		if err != nil {
			return nil, fmt.Errorf("route: --access-log %s: %w", cfg.AccessLog, err)
		}
		s.alog = w
	}
	if cfg.MonitorConfig != "" {
		mc, err := monitor.LoadConfig(cfg.MonitorConfig)
		if err != nil {
			return nil, fmt.Errorf("route: --monitor-config: %w", err)
		}
		m, err := monitor.New(mc, monitor.Deps{Logger: cfg.Logger.With("component", "monitor"), Version: cfg.Version})
		if err != nil {
			return nil, fmt.Errorf("route: --monitor-config: %w", err)
		}
		s.monitor = m
		s.cfg.Monitors = append([]string{"http://" + dialAddr(mc.Listen)}, s.cfg.Monitors...)
	}
	if len(s.cfg.Monitors) > 0 {
		f, err := healthfeed.New(healthfeed.Config{
			Monitors: s.cfg.Monitors, Router: s.router, StateDir: cfg.StateDir,
			Logger: cfg.Logger.With("component", "health"), Metrics: s.metrics,
		})
		if err != nil {
			return nil, fmt.Errorf("route: --monitor: %w", err)
		}
		s.follower = f
	}
	s.reloads = s.metrics.Counter("signpost_table_builds_total", "Routing tables built and published.")
	s.reloadErrors = s.metrics.Counter("signpost_table_build_errors_total", "Dataset sets that failed to build into a table (the previous table kept serving).")
	s.generation = s.metrics.Gauge("signpost_table_generation", "Generation of the routing table serving queries.")
	return s, nil
}

// Router returns the service's router.
func (s *Service) Router() *router.Router { return s.router }

// Metrics returns the service's metrics registry.
func (s *Service) Metrics() *metrics.Registry { return s.metrics }

// addPublisher registers a listener that must see every published table.
func (s *Service) addPublisher(p publisher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.publishers = append(s.publishers, p)
}

// publish builds a table from set and hands it to every listener. A build
// error leaves the previous table serving.
func (s *Service) publish(set *control.Set) {
	t, err := s.router.Publish(set)
	if err != nil {
		s.reloadErrors.Inc()
		s.recordError(err)
		s.log.Error("routing table not built; the previous table keeps serving", "generation", set.Generation, "error", err)
		return
	}
	s.mu.Lock()
	pubs := append([]publisher(nil), s.publishers...)
	s.mu.Unlock()
	for _, p := range pubs {
		if err := p.Publish(t); err != nil {
			s.recordError(err)
			s.log.Error("listener rejected the new table", "generation", t.Generation, "error", err)
		}
	}
	s.reloads.Inc()
	s.generation.Set(float64(t.Generation))
	snap := t.Snapshot()
	s.log.Info("routing table published", "generation", t.Generation, "cdn", snap.Stats.CDNName,
		"deliveryServices", len(t.DeliveryServices()), "caches", len(t.Caches()), "cacheGroups", len(t.Locations()),
		"downCaches", t.Health().DownCaches())
	s.mu.Lock()
	first := !s.ready
	s.ready = true
	fn := s.readyFn
	s.mu.Unlock()
	if first && fn != nil {
		fn()
	}
}

func (s *Service) recordError(err error) {
	s.mu.Lock()
	s.lastErr, s.lastErrAt = err, time.Now()
	s.mu.Unlock()
}

// Ready reports whether a table serves.
func (s *Service) Ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ready
}

// HealthStatus returns the health follower's status (ok false without
// --monitor).
func (s *Service) HealthStatus() (healthfeed.Status, bool) {
	if s.follower == nil {
		return healthfeed.Status{}, false
	}
	return s.follower.Status(), true
}

// dialAddr turns a listen address into one to dial on this host.
func dialAddr(listen string) string {
	if strings.HasPrefix(listen, ":") {
		return "127.0.0.1" + listen
	}
	return listen
}

// Run serves until ctx ends or a component fails.
func (s *Service) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	if s.alog != nil {
		g.Go(func() error { return s.alog.Run(ctx) })
	}
	if err := s.startListeners(ctx, g); err != nil {
		return err
	}
	if s.monitor != nil {
		g.Go(func() error { return s.monitor.Run(ctx) })
	}
	if s.follower != nil {
		g.Go(func() error { return s.follower.Run(ctx) })
	}
	g.Go(func() error { return s.source.Run(ctx, s.publish) })
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
