package loadtest

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// udpIO sends and receives batches of datagrams on a connected socket.
type udpIO interface {
	// sendBatch sends every buffer and returns how many were sent.
	sendBatch(bufs [][]byte) (int, error)
	// recvBatch blocks until at least one datagram arrives and returns how
	// many it put in bufs (sizes[i] is the length of bufs[i]).
	recvBatch(bufs [][]byte, sizes []int) (int, error)
}

const (
	udpBatch   = 64
	udpMaxResp = 4096
	// numIDs is the number of query IDs (one slot each) per socket.
	numIDs = 1 << 16
)

// udpSlot tracks one outstanding query by ID. at is the scheduled time
// (open loop) or send time (closed loop) in ns since the start, plus one;
// 0 marks a free slot. sent is the actual send time for timeouts.
type udpSlot struct {
	at   atomic.Int64
	sent atomic.Int64
	q    atomic.Uint32
}

// udpEngine drives one connected UDP socket: a sender (paced or windowed),
// a receiver checking every answer, and a sweeper timing out lost queries.
type udpEngine struct {
	cdn     *CDN
	queries []dnsQuery
	rec     *recorder
	s       *sampler
	conn    *net.UDPConn
	io      udpIO
	start   time.Time
	timeout int64

	open     bool
	interval float64 // ns between queries (open loop)
	window   int64   // outstanding queries (closed loop)

	slots    []udpSlot
	inflight atomic.Int64
	wake     chan struct{}
	// stopped ends closed-loop sending by the receiver.
	stopped atomic.Bool

	// sendMu serialises sendOnce: in closed loop the receiver sends the
	// replacement of every answer it handles (one sendmmsg per recvmmsg,
	// no goroutine switch) and the sender only tops the window up.
	sendMu sync.Mutex
	// sender state
	nextID uint16
	next   int
	sent   int64
	tx     [][]byte
	txBufs [][]byte

	// receiver state
	rx    [][]byte
	sizes []int
	// src is the socket's own address: the client the router sees when it
	// does not honour ECS. miss checks answers without a cache.
	src  netip.Addr
	miss missCheck
}

func newUDPEngine(cdn *CDN, queries []dnsQuery, addr string, rec *recorder, s *sampler, offset int) (*udpEngine, error) {
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	conn, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		return nil, err
	}
	_ = conn.SetReadBuffer(4 << 20)
	_ = conn.SetWriteBuffer(4 << 20)
	uio, err := newUDPIO(conn, udpBatch)
	if err != nil {
		conn.Close()
		return nil, err
	}
	e := &udpEngine{cdn: cdn, queries: queries, rec: rec, s: s, conn: conn, io: uio,
		src:   conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(),
		slots: make([]udpSlot, numIDs), wake: make(chan struct{}, 1), next: offset % len(queries),
		nextID: uint16(offset * 7919)}
	e.tx = make([][]byte, udpBatch)
	e.txBufs = make([][]byte, udpBatch)
	e.rx = make([][]byte, udpBatch)
	e.sizes = make([]int, udpBatch)
	for i := range udpBatch {
		e.tx[i] = make([]byte, 512)
		e.rx[i] = make([]byte, udpMaxResp)
	}
	return e, nil
}

func (e *udpEngine) now() int64 { return int64(time.Since(e.start)) }

// sendOnce sends n queries (at most udpBatch). now is the time of the
// batch, read once by the caller: the send time of every query (for
// timeouts, and the latency origin in closed loop). In open loop a query's
// latency origin is its scheduled time, computed from its sequence number.
func (e *udpEngine) sendOnce(n int, now int64) {
	for k := range n {
		q := &e.queries[e.next]
		qi := uint32(e.next)
		e.next++
		if e.next == len(e.queries) {
			e.next = 0
		}
		id := e.nextID
		e.nextID++
		sl := &e.slots[id]
		if old := sl.at.Load(); old != 0 && sl.at.CompareAndSwap(old, 0) {
			// The ID came round while its query was still outstanding.
			e.rec.record(outTimeout, reasonNone, 0)
			e.inflight.Add(-1)
		}
		at := now
		if e.open {
			at = int64(float64(e.sent+int64(k)) * e.interval)
		}
		sl.q.Store(qi)
		sl.sent.Store(now)
		sl.at.Store(at + 1)
		b := e.tx[k][:len(q.wire)]
		copy(b, q.wire)
		b[0], b[1] = byte(id>>8), byte(id)
		e.txBufs[k] = b
	}
	e.inflight.Add(int64(n))
	sent, err := e.io.sendBatch(e.txBufs[:n])
	if err != nil {
		e.noteTransport(err)
		// The unsent ones will time out; keep the count honest.
	}
	e.rec.sent(sent)
	e.sent += int64(n)
}

func (e *udpEngine) noteTransport(err error) {
	if e.s.want(outError, reasonTransport) {
		e.s.add(outError, reasonTransport, ProtoDNSUDP, "", "", err.Error())
	}
}

// sendLoop runs until ctx is done.
func (e *udpEngine) sendLoop(ctx context.Context) {
	defer e.stopped.Store(true)
	done := ctx.Done()
	for {
		select {
		case <-done:
			return
		default:
		}
		if e.open {
			now := e.now()
			due := int64(float64(now)/e.interval) + 1 - e.sent
			if due <= 0 {
				// Sleep even for a few microseconds: spinning would
				// starve the receivers (and the router, on a shared core).
				time.Sleep(time.Duration(float64(e.sent)*e.interval) - time.Duration(now))
				continue
			}
			e.sendOnce(int(min(due, udpBatch)), now)
			continue
		}
		e.topUp()
		select {
		case <-e.wake:
		case <-done:
			return
		}
	}
}

// refill is how far the closed-loop window must have drained before the
// receiver sends replacements: half the window, at most a batch. Sending
// every answer's replacement at once settles both sides into batches of a
// few datagrams (each side handles what has arrived since it last looked,
// and a system call per handful of datagrams dominates the cost); waiting
// for a deficit keeps batches large at the price of a window that varies
// between window-refill and window.
func (e *udpEngine) refill() int64 { return max(1, min(udpBatch, e.window/2)) }

// topUp sends queries until the closed-loop window is full.
func (e *udpEngine) topUp() {
	e.sendMu.Lock()
	defer e.sendMu.Unlock()
	for {
		avail := e.window - e.inflight.Load()
		if avail <= 0 {
			return
		}
		e.sendOnce(int(min(avail, udpBatch)), e.now())
	}
}

// recvLoop runs until the socket is closed.
func (e *udpEngine) recvLoop() {
	for {
		n, err := e.io.recvBatch(e.rx, e.sizes)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// ECONNREFUSED from an ICMP port unreachable: the router is
			// down; its queries time out.
			e.noteTransport(err)
			time.Sleep(time.Millisecond)
			continue
		}
		e.handle(n)
	}
}

// handle checks n received answers.
func (e *udpEngine) handle(n int) {
	now := e.now()
	var completed int64
	e.rec.mu.Lock()
	for i := range n {
		msg := e.rx[i][:e.sizes[i]]
		if len(msg) < 12 {
			e.rec.recordLocked(outError, reasonMalformed, 0)
			continue
		}
		sl := &e.slots[uint16(msg[0])<<8|uint16(msg[1])]
		qi := sl.q.Load()
		at := sl.at.Load()
		if at == 0 || !sl.at.CompareAndSwap(at, 0) {
			continue // late answer to a query already timed out
		}
		completed++
		q := &e.queries[qi]
		v := e.cdn.checkDNS(q, msg)
		if v.miss != missNone {
			v = e.miss.dns(e.cdn, q, e.src, v)
		}
		e.rec.recordLocked(v.out, v.why, now-(at-1))
		if v.out != outOK && v.out != outMiss && e.s.want(v.out, v.why) {
			e.s.add(v.out, v.why, ProtoDNSUDP, e.cdn.Services[q.svc].XMLID, q.client.addr.String(), e.miss.detail(v, dnsDetail(q, v, msg)))
		}
	}
	e.rec.mu.Unlock()
	if completed > 0 {
		e.inflight.Add(-completed)
		if !e.open && !e.stopped.Load() && e.window-e.inflight.Load() >= e.refill() {
			e.topUp()
		}
	}
}

// sweep times out queries sent more than timeout ago (all when final).
func (e *udpEngine) sweep(final bool) {
	now := e.now()
	var n int64
	for i := range e.slots {
		sl := &e.slots[i]
		at := sl.at.Load()
		if at == 0 || (!final && now-sl.sent.Load() < e.timeout) {
			continue
		}
		if sl.at.CompareAndSwap(at, 0) {
			e.rec.record(outTimeout, reasonNone, 0)
			n++
		}
	}
	if n > 0 {
		e.inflight.Add(-n)
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
}
