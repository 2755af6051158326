package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
)

// Defaults of Config.
const (
	DefaultBatch                = 32
	DefaultTCPIdleTimeout       = 10 * time.Second
	DefaultTCPReadTimeout       = 2 * time.Second
	DefaultTCPWriteTimeout      = 2 * time.Second
	DefaultMaxTCPConns          = 1000
	DefaultMaxTCPConnsPerClient = 50
	DefaultSocketBuffer         = 8 << 20
)

// UDPWait chooses how an idle UDP worker waits for the next datagram.
type UDPWait int

const (
	// WaitAuto sleeps in the kernel (WaitKernel) when the runtime has more
	// Ps than UDP workers (GOMAXPROCS > Workers), else parks (WaitPoll).
	WaitAuto UDPWait = iota
	// WaitKernel sleeps in recvmmsg, as the C servers' threads do: the
	// fewest system calls per query. The sleeping worker keeps its P as a
	// running goroutine (the call is a RawSyscall; the runtime interrupts
	// it with its preemption signal when it needs a safe point), so
	// GOMAXPROCS must exceed Workers or the other goroutines wait for
	// sysmon's preemptions (every 10 ms). `signpost route` raises
	// GOMAXPROCS by the number of workers.
	WaitKernel
	// WaitPoll parks the goroutine on a private epoll instance when the
	// queue is empty (see udpWaiter): right for GOMAXPROCS <= Workers.
	WaitPoll
)

var udpWaitNames = [...]string{WaitAuto: "auto", WaitKernel: "kernel", WaitPoll: "poll"}

// String names the mode as logs, flags and docs do.
func (w UDPWait) String() string {
	if w >= 0 && int(w) < len(udpWaitNames) {
		return udpWaitNames[w]
	}
	return "auto"
}

// ParseUDPWait returns the mode String names s ("auto", "kernel", "poll").
func ParseUDPWait(s string) (UDPWait, bool) {
	for w, name := range udpWaitNames {
		if name == s {
			return UDPWait(w), true
		}
	}
	return WaitAuto, false
}

// Config configures a Server. Zero values take the defaults.
type Config struct {
	// Addr is the "host:port" to bind UDP and TCP to (":53"). With port 0
	// the UDP sockets share the first socket's port, and TCP binds it too.
	// Ignored when UDPConns is set.
	Addr string
	// UDPConns are UDP sockets bound by the caller, one worker each (for
	// several per address, bind them with SO_REUSEPORT). The Server owns and
	// closes them.
	UDPConns []*net.UDPConn
	// TCPListener is a listener bound by the caller (owned and closed by the
	// Server). With UDPConns set and no TCPListener, TCP is not served.
	TCPListener net.Listener
	// Workers is the number of UDP sockets and workers bound from Addr
	// (default GOMAXPROCS).
	Workers int
	// UDPWait is how an idle UDP worker waits for queries (Linux; default
	// WaitAuto).
	UDPWait UDPWait
	// Batch is the number of datagrams read and written per system call
	// (default 32).
	Batch int
	// TCPIdleTimeout closes a TCP connection with no pending message
	// (default 10 s).
	TCPIdleTimeout time.Duration
	// TCPReadTimeout bounds the time from the first byte of a message to its
	// last (default 2 s), against slow senders.
	TCPReadTimeout time.Duration
	// TCPWriteTimeout bounds writing the answers (default 2 s), against
	// clients that do not read.
	TCPWriteTimeout time.Duration
	// MaxTCPConns caps concurrent TCP connections (default 1000); more are
	// accepted and closed at once.
	MaxTCPConns int
	// MaxTCPConnsPerClient caps concurrent TCP connections per client
	// address (default 50).
	MaxTCPConnsPerClient int
	// SocketBuffer is the receive and send buffer size of each UDP socket
	// bound from Addr (default 8 MiB): about 10,000 queued queries, so a
	// stall of tens of milliseconds loses nothing.
	SocketBuffer int
	// Handler answers queries. It may be nil: queries are then dropped
	// (counted as not_ready) until SetHandler installs one.
	Handler Handler
	// Logger receives errors of the listeners (default slog.Default()).
	Logger *slog.Logger

	// portable forces the one-datagram-per-call UDP loop (tests).
	portable bool
}

// Server serves DNS over UDP and TCP. Create it with New (which binds the
// sockets, so bind errors surface at once), install the handler once the
// first routing table exists, and call Run.
type Server struct {
	cfg     Config
	udp     []*net.UDPConn
	dstInfo []bool // per UDP socket: it reports destinations (recvDestination)
	tcp     net.Listener
	handler atomic.Pointer[handlerRef]
	stats   *Stats
	log     *slog.Logger

	tcpAccepted, tcpRejected atomic.Uint64
	tcpActive                atomic.Int64
	mu                       sync.Mutex
	perClient                map[netip.Addr]int
	conns                    map[net.Conn]struct{}
	stopping                 atomic.Bool // no more connections; open ones end at their next read
	running                  atomic.Bool
}

// New validates cfg, applies defaults and binds the sockets.
func New(cfg Config) (*Server, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.UDPWait == WaitAuto {
		cfg.UDPWait = WaitPoll
		if runtime.GOMAXPROCS(0) > cfg.Workers {
			cfg.UDPWait = WaitKernel
		}
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Batch > 1024 {
		return nil, fmt.Errorf("dnsserver: config Batch: %d is above the limit 1024", cfg.Batch)
	}
	if cfg.TCPIdleTimeout <= 0 {
		cfg.TCPIdleTimeout = DefaultTCPIdleTimeout
	}
	if cfg.TCPReadTimeout <= 0 {
		cfg.TCPReadTimeout = DefaultTCPReadTimeout
	}
	if cfg.TCPWriteTimeout <= 0 {
		cfg.TCPWriteTimeout = DefaultTCPWriteTimeout
	}
	if cfg.MaxTCPConns <= 0 {
		cfg.MaxTCPConns = DefaultMaxTCPConns
	}
	if cfg.SocketBuffer <= 0 {
		cfg.SocketBuffer = DefaultSocketBuffer
	}
	if cfg.MaxTCPConnsPerClient <= 0 {
		cfg.MaxTCPConnsPerClient = DefaultMaxTCPConnsPerClient
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, perClient: make(map[netip.Addr]int), conns: make(map[net.Conn]struct{})}
	if cfg.Handler != nil {
		s.handler.Store(&handlerRef{cfg.Handler})
	}
	if len(cfg.UDPConns) > 0 {
		s.udp, s.tcp = cfg.UDPConns, cfg.TCPListener
	} else if err := s.bind(); err != nil {
		return nil, err
	}
	if err := s.reportDestinations(); err != nil {
		return nil, err
	}
	// One shard per UDP worker plus one per TCP connection slot group.
	s.stats = newStats(len(s.udp) + tcpShards)
	return s, nil
}

// reportDestinations asks every UDP socket bound to a wildcard address for
// its datagrams' destinations (recvDestination), so that answers leave
// from the address each query was sent to. It runs before Run serves, and
// for sockets this Server bound right after their bind: only a datagram
// queued before it would be answered from the kernel's choice.
func (s *Server) reportDestinations() error {
	s.dstInfo = make([]bool, len(s.udp))
	for i, c := range s.udp {
		on, err := recvDestination(c)
		if err != nil {
			if len(s.cfg.UDPConns) == 0 {
				s.unbind()
			}
			return fmt.Errorf("dnsserver: UDP socket %s: %w", c.LocalAddr(), err)
		}
		s.dstInfo[i] = on
	}
	if len(s.dstInfo) > 0 && s.dstInfo[0] {
		s.log.Info("dns: UDP on a wildcard address: each answer leaves from the address its query was sent to (packet info)",
			"addr", s.udp[0].LocalAddr().String(), "sockets", len(s.udp))
	}
	return nil
}

// tcpShards is the number of counter shards TCP connections spread over.
const tcpShards = 8

func (s *Server) bind() error {
	if s.cfg.Addr == "" {
		return errors.New("dnsserver: config Addr: empty, and no UDPConns given")
	}
	host, port, err := net.SplitHostPort(s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("dnsserver: config Addr: %q: %w", s.cfg.Addr, err)
	}
	// With port 0 the kernel picks the UDP port; TCP may find it taken, so
	// retry with a fresh port a few times.
	tries := 1
	if port == "0" {
		tries = 20
	}
	for try := 1; ; try++ {
		err = s.bindOnce(net.JoinHostPort(host, port))
		if err == nil || try == tries {
			return err
		}
	}
}

func (s *Server) bindOnce(addr string) error {
	lc := net.ListenConfig{Control: reusePort}
	for i := range s.cfg.Workers {
		pc, err := lc.ListenPacket(context.Background(), "udp", addr)
		if err != nil {
			s.unbind()
			return fmt.Errorf("dnsserver: bind UDP %s (socket %d of %d): %w", addr, i+1, s.cfg.Workers, err)
		}
		uc := pc.(*net.UDPConn)
		setSocketBuffers(uc, s.cfg.SocketBuffer)
		dontFragment(uc)
		s.udp = append(s.udp, uc)
		if i == 0 {
			addr = uc.LocalAddr().String() // a port 0 resolved to a real port
		}
	}
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		s.unbind()
		return fmt.Errorf("dnsserver: bind TCP %s: %w", addr, err)
	}
	s.tcp = ln
	return nil
}

func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

func (s *Server) closeAll() {
	for _, c := range s.udp {
		c.Close()
	}
	if s.tcp != nil {
		s.tcp.Close()
	}
}

// unbind closes a partial bind so that bindOnce can retry.
func (s *Server) unbind() {
	s.closeAll()
	s.udp, s.tcp = nil, nil
}

// UDPAddr returns the local address of the first UDP socket.
func (s *Server) UDPAddr() netip.AddrPort {
	return s.udp[0].LocalAddr().(*net.UDPAddr).AddrPort()
}

// TCPAddr returns the TCP listener's address (invalid without TCP).
func (s *Server) TCPAddr() netip.AddrPort {
	if s.tcp == nil {
		return netip.AddrPort{}
	}
	ap, _ := netip.ParseAddrPort(s.tcp.Addr().String())
	return ap
}

// SetHandler installs (or replaces) the handler; queries arriving before
// the first call are dropped. Safe to call while Run serves.
func (s *Server) SetHandler(h Handler) {
	if h == nil {
		s.handler.Store(nil)
		return
	}
	s.handler.Store(&handlerRef{h})
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Snapshot {
	snap := s.stats.Snapshot()
	snap.TCPAccepted = s.tcpAccepted.Load()
	snap.TCPRejected = s.tcpRejected.Load()
	snap.TCPActive = s.tcpActive.Load()
	return snap
}

func (s *Server) newProcessor(shardIdx int) *Processor {
	return &Processor{handler: &s.handler, shard: &s.stats.shards[shardIdx]}
}

// Run serves until ctx ends, then stops every goroutine it started, closes
// the sockets and returns nil; it returns an error when a listener fails
// for good. Run may be called once.
func (s *Server) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("dnsserver: Run called twice")
	}
	g, gctx := errgroup.WithContext(ctx)
	for i, c := range s.udp {
		proc := s.newProcessor(i)
		g.Go(func() error { return s.serveUDP(gctx, c, s.dstInfo[i], proc) })
	}
	if s.tcp != nil {
		g.Go(func() error { return s.serveTCP(gctx) })
	}
	g.Go(func() error {
		<-gctx.Done()
		s.stop()
		return nil
	})
	err := g.Wait()
	s.closeAll()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// stop unblocks every reader: UDP sockets (of the portable loop; the Linux
// workers wake by themselves when ctx ends, see serveUDP's wake) and TCP
// connections get a deadline in the past, the TCP listener is closed.
func (s *Server) stop() {
	past := time.Unix(1, 0)
	for _, c := range s.udp {
		c.SetDeadline(past)
	}
	if s.tcp != nil {
		s.tcp.Close()
	}
	s.mu.Lock()
	s.stopping.Store(true)
	for c := range s.conns {
		c.SetDeadline(past)
	}
	s.mu.Unlock()
}
