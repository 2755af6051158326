package httpserver

import (
	"crypto/tls"
	"errors"
	"math"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultDeadlineTick is how often the routing listeners' timeouts are
// checked: a read, write or idle timeout fires between one and two ticks
// after it is due, never before.
const DefaultDeadlineTick = 100 * time.Millisecond

// aborted marks a deadline that the sweeper has enforced on the socket.
const aborted = -1

// connTimeouts are the limits a deadlineListener keeps.
type connTimeouts struct {
	read  time.Duration // from a request's first byte to its last
	write time.Duration // one response
	idle  time.Duration // between keep-alive requests
	tick  time.Duration
}

// deadlineListener keeps the read, write and idle timeouts of the routing
// listeners itself, for fasthttp runs them with no timeouts of its own.
//
// fasthttp would read the clock and set a socket deadline three times per
// keep-alive request (idle, read, write); on a *net.TCPConn each is a
// netpoll timer update. Measured against a bare fasthttp 302 server, those
// cost about 10 % of the throughput. Here a connection computes its
// deadlines from a coarse clock (the time of the sweeper's last pass, an
// atomic load) and records them with an atomic store; the sweeper
// goroutine, every tick, puts any deadline that has passed onto the socket,
// in the past, so the blocked Read or Write returns the usual timeout
// error. Deadlines are the coarse time plus the timeout plus one tick, so a
// timeout never fires early.
//
// The wrapper sits above TLS (the TLS handshake counts as reading the
// connection's first request) and exposes the *tls.Conn's Handshake and
// ConnectionState, so fasthttp still knows the connection is TLS.
type deadlineListener struct {
	net.Listener
	t        connTimeouts
	now      atomic.Int64 // the coarse clock: Unix nanoseconds of the last sweep
	draining atomic.Bool  // shutting down: connections between requests are cut
	mu       sync.Mutex
	conns    map[*deadlineConn]struct{}
}

func newDeadlineListener(ln net.Listener, t connTimeouts) *deadlineListener {
	l := &deadlineListener{Listener: ln, t: t, conns: make(map[*deadlineConn]struct{})}
	l.now.Store(time.Now().UnixNano())
	return l
}

func (l *deadlineListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	dc := &deadlineConn{Conn: c, ln: l}
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		if a, ok := netip.AddrFromSlice(ta.IP); ok {
			dc.peer = a.Unmap()
		}
	}
	// The first request's read timeout runs from the accept.
	dc.rd.Store(l.deadline(l.t.read))
	l.mu.Lock()
	l.conns[dc] = struct{}{}
	l.mu.Unlock()
	if tc, ok := c.(*tls.Conn); ok {
		return &deadlineTLSConn{deadlineConn: dc, tc: tc}, nil
	}
	return dc, nil
}

// deadline returns the deadline for a timeout d starting now, or 0 (none)
// when d is 0.
func (l *deadlineListener) deadline(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return l.now.Load() + int64(d+l.t.tick)
}

// sweep enforces every recorded deadline that is not after now; while
// draining, also the read deadline of every connection between requests.
func (l *deadlineListener) sweep(now time.Time) {
	n := now.UnixNano()
	l.now.Store(n)
	draining := l.draining.Load()
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		if draining && !c.inRequest.Load() {
			c.enforce(&c.rd, math.MaxInt64, c.Conn.SetReadDeadline)
		} else {
			c.enforce(&c.rd, n, c.Conn.SetReadDeadline)
		}
		c.enforce(&c.wd, n, c.Conn.SetWriteDeadline)
	}
}

// drain starts cutting the connections that wait for a request (a fresh
// one, or a keep-alive one between requests) at once and at every sweep
// from now on, so that a shutdown does not wait for their timeouts;
// requests in progress finish (fasthttp closes their connections after
// the response).
func (l *deadlineListener) drain() {
	l.draining.Store(true)
	l.sweep(time.Now())
}

// runSweeper advances the coarse clock and sweeps every tick until done is
// closed.
func (l *deadlineListener) runSweeper(done <-chan struct{}) {
	t := time.NewTicker(l.t.tick)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			l.sweep(time.Now())
		}
	}
}

func (l *deadlineListener) remove(c *deadlineConn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

// deadlineConn is one connection of a deadlineListener. rd and wd hold the
// deadline in Unix nanoseconds, 0 for none, or aborted once the sweeper has
// put a past deadline on the socket; mu orders the sweeper's socket call
// before the clearing call of the next want. inRequest tells a read that
// continues a request from one that waits for the next; the connection's
// goroutine writes it, and the sweeper reads it while draining.
type deadlineConn struct {
	net.Conn
	ln        *deadlineListener
	rd, wd    atomic.Int64
	mu        sync.Mutex
	inRequest atomic.Bool
	served    atomic.Bool // a response was written: later requests are keep-alive
	closed    atomic.Bool
	peer      netip.Addr // the remote address, unmapped (invalid if not TCP)
}

var pastDeadline = time.Unix(1, 0)

func (c *deadlineConn) enforce(d *atomic.Int64, now int64, set func(time.Time) error) {
	v := d.Load()
	if v == aborted || v > now || v == 0 && now != math.MaxInt64 {
		return
	}
	c.mu.Lock()
	if d.CompareAndSwap(v, aborted) {
		_ = set(pastDeadline)
	}
	c.mu.Unlock()
}

// want records the deadline v for d; after an enforced deadline the
// socket's past deadline is cleared first.
func (c *deadlineConn) want(d *atomic.Int64, v int64, set func(time.Time) error) error {
	if d.Swap(v) == aborted {
		c.mu.Lock()
		err := set(time.Time{})
		c.mu.Unlock()
		return err
	}
	return nil
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	t := &c.ln.t
	if !c.inRequest.Load() && c.served.Load() {
		// Waiting for the next keep-alive request.
		if err := c.want(&c.rd, c.ln.deadline(t.idle), c.Conn.SetReadDeadline); err != nil {
			return 0, err
		}
	}
	n, err := c.Conn.Read(p)
	if n > 0 && !c.inRequest.Load() {
		c.inRequest.Store(true)
		if c.served.Load() {
			// A request started: the read timeout runs from its first byte.
			c.want(&c.rd, c.ln.deadline(t.read), c.Conn.SetReadDeadline)
		}
	}
	return n, err
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	if err := c.want(&c.wd, c.ln.deadline(c.ln.t.write), c.Conn.SetWriteDeadline); err != nil {
		return 0, err
	}
	n, err := c.Conn.Write(p)
	// No write deadline between responses; one the sweeper has just
	// enforced stays marked, so that the next want clears the socket's.
	if v := c.wd.Load(); v != aborted {
		c.wd.CompareAndSwap(v, 0)
	}
	c.inRequest.Store(false)
	c.served.Store(true)
	return n, err
}

// SetReadDeadline, SetWriteDeadline and SetDeadline take effect at once on
// the socket (fasthttp calls them only to stop connections at shutdown);
// the timeouts then resume with the next read or write.
func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	return c.setNow(&c.rd, t, c.Conn.SetReadDeadline)
}

func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	return c.setNow(&c.wd, t, c.Conn.SetWriteDeadline)
}

func (c *deadlineConn) SetDeadline(t time.Time) error {
	return errors.Join(c.SetReadDeadline(t), c.SetWriteDeadline(t))
}

func (c *deadlineConn) setNow(d *atomic.Int64, t time.Time, set func(time.Time) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.IsZero() {
		d.Store(0)
	} else {
		d.Store(aborted) // the socket holds it; the next want clears it
	}
	return set(t)
}

// peerAddr returns the remote address decoded at accept (also for a
// deadlineTLSConn, which embeds the deadlineConn).
func (c *deadlineConn) peerAddr() netip.Addr { return c.peer }

func (c *deadlineConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.ln.remove(c)
	}
	return c.Conn.Close()
}

// deadlineTLSConn is a deadlineConn over a *tls.Conn; fasthttp recognizes
// TLS connections by these two methods.
type deadlineTLSConn struct {
	*deadlineConn
	tc *tls.Conn
}

// Both connection types give the handler the peer decoded at accept.
var _ interface{ peerAddr() netip.Addr } = (*deadlineTLSConn)(nil)

func (c *deadlineTLSConn) Handshake() error                     { return c.tc.Handshake() }
func (c *deadlineTLSConn) ConnectionState() tls.ConnectionState { return c.tc.ConnectionState() }
