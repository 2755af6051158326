package httpserver

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultDeadlineTick is how often the routing listeners' deadlines are
// checked: read, write and idle timeouts fire up to one tick late.
const DefaultDeadlineTick = 250 * time.Millisecond

// aborted marks a deadline that the sweeper has enforced on the socket.
const aborted = -1

// deadlineListener wraps the routing listeners so that the read, write and
// idle timeouts cost an atomic store per request instead of a runtime timer
// update.
//
// fasthttp sets three deadlines per keep-alive request (idle, read, write).
// On a *net.TCPConn each is a netpoll timer modification (lock, timer heap)
// plus a clock read; together about 9 % of the routing port's CPU under
// load. Here SetReadDeadline and SetWriteDeadline only record the wanted
// time, and a sweeper goroutine, every tick, moves the deadline of any
// connection whose recorded time has passed onto the socket, in the past:
// the blocked Read or Write returns the same timeout error as with a real
// deadline. A deadline already in the past (fasthttp's shutdown) goes to
// the socket at once (due means not after the last sweep).
type deadlineListener struct {
	net.Listener
	now   atomic.Int64 // the last sweep's time, Unix nanoseconds
	mu    sync.Mutex
	conns map[*deadlineConn]struct{}
}

func newDeadlineListener(ln net.Listener) *deadlineListener {
	l := &deadlineListener{Listener: ln, conns: make(map[*deadlineConn]struct{})}
	l.now.Store(time.Now().UnixNano())
	return l
}

func (l *deadlineListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	dc := &deadlineConn{Conn: c, ln: l}
	l.mu.Lock()
	l.conns[dc] = struct{}{}
	l.mu.Unlock()
	return dc, nil
}

// sweep enforces every recorded deadline that is not after now.
func (l *deadlineListener) sweep(now time.Time) {
	n := now.UnixNano()
	l.now.Store(n)
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		c.enforce(&c.rd, n, c.Conn.SetReadDeadline)
		c.enforce(&c.wd, n, c.Conn.SetWriteDeadline)
	}
}

// runSweeper sweeps every tick until done is closed.
func (l *deadlineListener) runSweeper(tick time.Duration, done <-chan struct{}) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			l.sweep(now)
		}
	}
}

func (l *deadlineListener) remove(c *deadlineConn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

// deadlineConn records deadlines for its listener's sweeper. rd and wd hold
// the wanted deadline in Unix nanoseconds, 0 for none, or aborted once the
// sweeper has put a past deadline on the socket (the next Set call then
// replaces it on the socket too). mu orders the sweeper's socket call
// before that replacement.
type deadlineConn struct {
	net.Conn
	ln     *deadlineListener
	rd, wd atomic.Int64
	mu     sync.Mutex
	closed atomic.Bool
}

var pastDeadline = time.Unix(1, 0)

func (c *deadlineConn) enforce(d *atomic.Int64, now int64, set func(time.Time) error) {
	v := d.Load()
	if v <= 0 || v > now {
		return
	}
	c.mu.Lock()
	if d.CompareAndSwap(v, aborted) {
		_ = set(pastDeadline)
	}
	c.mu.Unlock()
}

func (c *deadlineConn) record(d *atomic.Int64, t time.Time, set func(time.Time) error) error {
	var v int64
	if !t.IsZero() {
		v = max(t.UnixNano(), 1)
		if v <= c.ln.now.Load() {
			// Due before the last sweep (fasthttp's shutdown sets the
			// current time): enforce now, as a socket deadline would.
			c.mu.Lock()
			d.Store(aborted)
			err := set(t)
			c.mu.Unlock()
			return err
		}
	}
	if d.Swap(v) == aborted {
		c.mu.Lock()
		err := set(time.Time{})
		c.mu.Unlock()
		return err
	}
	return nil
}

func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	return c.record(&c.rd, t, c.Conn.SetReadDeadline)
}

func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	return c.record(&c.wd, t, c.Conn.SetWriteDeadline)
}

func (c *deadlineConn) SetDeadline(t time.Time) error {
	return errors.Join(c.SetReadDeadline(t), c.SetWriteDeadline(t))
}

func (c *deadlineConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.ln.remove(c)
	}
	return c.Conn.Close()
}
