// Package httpserver serves Traffic Router's HTTP routing (spec 7) on the
// HTTP and HTTPS routing ports and the Traffic Router API (spec 10) with
// /metrics, /healthz and /readyz on the API port, on valyala/fasthttp.
//
// The routing handler does not allocate per request: it loads the
// published per-table data once, works in pooled scratch memory, and hands
// one access-log record to the accesslog Writer (which never blocks).
// Per-table data (SNI certificates, anonymous and regional geo rules,
// logged request headers) is built by Publish, off the request path.
package httpserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/sync/errgroup"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/internal/metrics"
	"github.com/signpost-cdn/signpost/router"
	"github.com/signpost-cdn/signpost/router/accesslog"
)

// Defaults of Limits.
const (
	DefaultMaxHeaderBytes  = 8 << 10
	DefaultMaxBodyBytes    = 64 << 10
	DefaultReadTimeout     = 5 * time.Second
	DefaultWriteTimeout    = 5 * time.Second
	DefaultIdleTimeout     = 60 * time.Second
	DefaultMaxConns        = 10000
	DefaultMaxConnsPerIP   = 0
	DefaultShutdownTimeout = 5 * time.Second
)

// Limits bound what one client can hold. Zero values take the defaults.
type Limits struct {
	// MaxHeaderBytes bounds the request line plus headers (default 8 KiB);
	// larger requests get 431.
	MaxHeaderBytes int
	// MaxBodyBytes bounds a request body (default 64 KiB; bodies are
	// read and ignored); larger requests get 413.
	MaxBodyBytes int
	// ReadTimeout bounds reading one request (default 5 s), against slow
	// senders.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one response (default 5 s), against
	// clients that do not read.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection with no request (default
	// 60 s).
	IdleTimeout time.Duration
	// MaxConns caps concurrent connections per listener (default 10000);
	// connections above it get 503 and are closed.
	MaxConns int
	// MaxConnsPerIP caps concurrent connections per client address (0 =
	// no cap, the default: clients behind one NAT are common).
	MaxConnsPerIP int
	// TimeoutTick is how often the routing ports check the read, write and
	// idle timeouts (default DefaultDeadlineTick, 100 ms): a timeout fires
	// one to two ticks after it is due. See deadlineListener.
	TimeoutTick time.Duration
}

func (l *Limits) applyDefaults() {
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = DefaultReadTimeout
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = DefaultWriteTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.MaxConns <= 0 {
		l.MaxConns = DefaultMaxConns
	}
	if l.TimeoutTick <= 0 {
		l.TimeoutTick = DefaultDeadlineTick
	}
}

// Config configures a Server.
type Config struct {
	// Router holds the current table; required.
	Router *router.Router
	// HTTPAddr, HTTPSAddr and APIAddr are the listen addresses of the
	// routing ports and the API port ("" = not served).
	HTTPAddr, HTTPSAddr, APIAddr string
	// HTTPListener, HTTPSListener and APIListener, when set, are used
	// instead of binding the addresses (owned and closed by the Server;
	// HTTPSListener is a plain TCP listener, the Server adds TLS).
	HTTPListener, HTTPSListener, APIListener net.Listener
	// AccessLog receives one line per routing request (nil = no log).
	AccessLog *accesslog.Writer
	// Metrics receives the HTTP metrics and serves /metrics (nil = a
	// private registry).
	Metrics *metrics.Registry
	// Logger receives errors and certificate problems (nil = slog.Default()).
	Logger *slog.Logger
	// ReloadStatus reports the control source's status for /metrics and
	// /crs/stats (nil = not reported).
	ReloadStatus func() control.Status
	// Limits bound clients.
	Limits Limits
	// Version and Revision are reported by /crs/stats.
	Version, Revision string
}

// Server serves routing and the API. Create it with New, call Publish
// after every router publish (Run publishes the router's current table
// once if that was not done), and Run it.
type Server struct {
	cfg     Config
	log     *slog.Logger
	data    atomic.Pointer[tableData]
	ready   chan struct{}
	once    sync.Once
	pubMu   sync.Mutex
	pool    sync.Pool
	m       *serverMetrics
	start   time.Time
	tallies tallies

	httpLn, httpsLn, apiLn net.Listener
	routing, api           *fasthttp.Server
	tlsConfig              *tls.Config
}

// New validates cfg and binds the listeners, so bind errors surface at
// once. Nothing is served before Run.
func New(cfg Config) (*Server, error) {
	if cfg.Router == nil {
		return nil, errors.New("httpserver: config Router is nil")
	}
	cfg.Limits.applyDefaults()
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.NewRegistry(metrics.Options{})
	}
	s := &Server{cfg: cfg, log: cfg.Logger, ready: make(chan struct{}), start: time.Now()}
	s.pool.New = func() any { return new(work) }
	s.m = newServerMetrics(cfg.Metrics, s)
	s.tlsConfig = &tls.Config{
		MinVersion:     tls.VersionTLS12,
		MaxVersion:     tls.VersionTLS13,
		GetCertificate: s.getCertificate,
	}
	var err error
	bind := func(ln net.Listener, addr, what string) (net.Listener, error) {
		if ln != nil || addr == "" {
			return ln, nil
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("httpserver: %s listener: %w", what, err)
		}
		return l, nil
	}
	if s.httpLn, err = bind(cfg.HTTPListener, cfg.HTTPAddr, "HTTP"); err == nil {
		if s.httpsLn, err = bind(cfg.HTTPSListener, cfg.HTTPSAddr, "HTTPS"); err == nil {
			s.apiLn, err = bind(cfg.APIListener, cfg.APIAddr, "API")
		}
	}
	if err != nil {
		s.closeListeners()
		return nil, err
	}
	lim := cfg.Limits
	flog := fastLogger{s.log}
	s.routing = &fasthttp.Server{
		Handler:            s.serveRouting,
		ErrorHandler:       s.serveError,
		ReadBufferSize:     lim.MaxHeaderBytes,
		MaxRequestBodySize: lim.MaxBodyBytes,
		// No ReadTimeout, WriteTimeout or IdleTimeout: the routing
		// listeners' deadlineListener keeps them (deadlines.go).
		Concurrency:                  lim.MaxConns,
		MaxConnsPerIP:                lim.MaxConnsPerIP,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		DisablePreParseMultipartForm: true,
		CloseOnShutdown:              true,
		Logger:                       flog,
	}
	s.api = &fasthttp.Server{
		Handler:               s.serveAPI,
		ErrorHandler:          s.serveError,
		ReadBufferSize:        lim.MaxHeaderBytes,
		MaxRequestBodySize:    lim.MaxBodyBytes,
		ReadTimeout:           lim.ReadTimeout,
		WriteTimeout:          lim.WriteTimeout,
		IdleTimeout:           lim.IdleTimeout,
		Concurrency:           lim.MaxConns,
		MaxConnsPerIP:         lim.MaxConnsPerIP,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		CloseOnShutdown:       true,
		Logger:                flog,
	}
	return s, nil
}

func (s *Server) closeListeners() {
	for _, ln := range []net.Listener{s.httpLn, s.httpsLn, s.apiLn} {
		if ln != nil {
			ln.Close()
		}
	}
}

// HTTPAddr, HTTPSAddr and APIAddr return the bound addresses (nil when
// the port is not served).
func (s *Server) HTTPAddr() net.Addr  { return addrOf(s.httpLn) }
func (s *Server) HTTPSAddr() net.Addr { return addrOf(s.httpsLn) }
func (s *Server) APIAddr() net.Addr   { return addrOf(s.apiLn) }

func addrOf(ln net.Listener) net.Addr {
	if ln == nil {
		return nil
	}
	return ln.Addr()
}

// Run serves until ctx ends, then stops accepting, lets requests in flight
// finish (up to DefaultShutdownTimeout) and returns. The API port serves at
// once (/readyz says whether routing is ready); the routing ports accept
// only once a table is published (connections wait in the backlog).
func (s *Server) Run(ctx context.Context) error {
	if s.data.Load() == nil {
		if t := s.cfg.Router.Load(); t != nil {
			if err := s.Publish(t); err != nil {
				return err
			}
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	if s.apiLn != nil {
		g.Go(func() error { return s.api.Serve(s.apiLn) })
	}
	// serveRouting serves ln with the timeouts kept by a deadlineListener
	// above TLS (when tlsConfig is set).
	timeouts := connTimeouts{read: s.cfg.Limits.ReadTimeout, write: s.cfg.Limits.WriteTimeout,
		idle: s.cfg.Limits.IdleTimeout, tick: s.cfg.Limits.TimeoutTick}
	var dls []*deadlineListener
	serveRouting := func(raw net.Listener, tlsConfig *tls.Config) {
		ln := raw
		if tlsConfig != nil {
			ln = tls.NewListener(raw, tlsConfig)
		}
		dl := newDeadlineListener(ln, timeouts)
		dls = append(dls, dl)
		// The sweeper runs until Serve returns: timeouts and draining
		// go on during the shutdown.
		served := make(chan struct{})
		g.Go(func() error {
			dl.runSweeper(served)
			return nil
		})
		g.Go(func() error {
			defer close(served)
			select {
			case <-s.ready:
			case <-gctx.Done():
				return nil
			}
			return s.routing.Serve(dl)
		})
	}
	if s.httpLn != nil {
		serveRouting(s.httpLn, nil)
	}
	if s.httpsLn != nil {
		serveRouting(s.httpsLn, s.tlsConfig)
	}
	g.Go(func() error {
		<-gctx.Done()
		// Connections waiting for a request are cut now rather than when
		// fasthttp counts them idle (5 s after accept for a fresh one).
		for _, dl := range dls {
			dl.drain()
		}
		sctx, cancel := context.WithTimeout(context.Background(), DefaultShutdownTimeout)
		defer cancel()
		err := errors.Join(s.routing.ShutdownWithContext(sctx), s.api.ShutdownWithContext(sctx))
		s.closeListeners()
		return err
	})
	err := g.Wait()
	if ctx.Err() != nil && err == nil {
		return nil
	}
	return err
}

// fastLogger sends fasthttp's messages to slog.
type fastLogger struct{ log *slog.Logger }

func (l fastLogger) Printf(format string, args ...any) {
	l.log.Warn("httpserver: " + fmt.Sprintf(format, args...))
}

// serveError answers requests fasthttp could not parse or read.
func (s *Server) serveError(ctx *fasthttp.RequestCtx, err error) {
	status := fasthttp.StatusBadRequest
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.As(err, &small):
		status = fasthttp.StatusRequestHeaderFieldsTooLarge
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		status = fasthttp.StatusRequestEntityTooLarge
	}
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		status = fasthttp.StatusRequestTimeout
	}
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.SetConnectionClose()
	s.m.status(status)
}
