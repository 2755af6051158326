package dnsserver

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/signpost-cdn/signpost/internal/dnswire"
)

// tcpConnState is the per-connection buffers, pooled across connections:
// rx starts small and grows once to the largest message when a client
// announces one; tx holds one framed response of up to 65535 bytes; out
// coalesces the answers to pipelined queries into one write.
type tcpConnState struct {
	rx  []byte
	tx  []byte
	out []byte
	// handler is the handler's per-worker state (Response.HandlerState),
	// kept with the pooled buffers so that it outlives the connection.
	handler any
	// io reads and writes the connection (tcp_io.go).
	io *connIO
}

const (
	tcpRxInitial = 1024
	tcpOutCap    = 16 << 10
)

func newTCPConnState() any {
	return &tcpConnState{
		rx:  make([]byte, tcpRxInitial),
		tx:  make([]byte, 2+dnswire.MaxTCPSize),
		out: make([]byte, 0, tcpOutCap),
		io:  newConnIO(),
	}
}

// admit registers a connection under the caps; false means reject.
func (s *Server) admit(c net.Conn, client netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping.Load() || len(s.conns) >= s.cfg.MaxTCPConns || s.perClient[client] >= s.cfg.MaxTCPConnsPerClient {
		return false
	}
	s.conns[c] = struct{}{}
	s.perClient[client]++
	return true
}

func (s *Server) release(c net.Conn, client netip.Addr) {
	s.mu.Lock()
	delete(s.conns, c)
	if s.perClient[client] <= 1 {
		delete(s.perClient, client)
	} else {
		s.perClient[client]--
	}
	s.mu.Unlock()
}

// serveTCP accepts connections until the listener closes. The accept loop
// never waits on a client: each admitted connection gets its own goroutine
// and its own buffers, so slow TCP clients cannot delay UDP or each other.
func (s *Server) serveTCP(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	pool := sync.Pool{New: newTCPConnState}
	next := 0
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// EMFILE and friends: back off briefly instead of spinning.
			s.log.Warn("dnsserver: TCP accept", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		var client netip.Addr
		if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			client = ta.AddrPort().Addr().Unmap()
		}
		if !s.admit(c, client) {
			s.tcpRejected.Add(1)
			c.Close()
			continue
		}
		s.tcpAccepted.Add(1)
		s.tcpActive.Add(1)
		proc := s.newProcessor(len(s.udp) + next%tcpShards)
		next++
		wg.Go(func() {
			st := pool.Get().(*tcpConnState)
			proc.r.state = st.handler
			st.io.attach(c)
			s.serveConn(c, proc, st)
			st.io.detach()
			st.handler, proc.r.state = proc.r.state, nil
			pool.Put(st)
			c.Close()
			s.release(c, client)
			s.tcpActive.Add(-1)
		})
	}
}

// serveConn answers the queries of one connection in order (RFC 7766
// pipelining: the client may send several before reading). It returns on
// EOF, on a read or write timeout, on a message shorter than a header, or
// when the server stops.
func (s *Server) serveConn(c net.Conn, p *Processor, st *tcpConnState) {
	var client netip.AddrPort
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		client = ta.AddrPort()
		client = netip.AddrPortFrom(client.Addr().Unmap(), client.Port())
	}
	rx := st.rx
	r, w := 0, 0
	var msgStart time.Time
	for {
		// Answer every complete message in the buffer.
		for w-r >= 2 {
			n := int(binary.BigEndian.Uint16(rx[r:]))
			if n < dnswire.HeaderLen {
				s.flushTCP(st)
				return
			}
			if w-r-2 < n {
				break
			}
			resp := p.Serve(st.tx[2:2], rx[r+2:r+2+n], client, TCP)
			r += 2 + n
			msgStart = time.Now()
			if resp == nil {
				continue
			}
			binary.BigEndian.PutUint16(st.tx, uint16(len(resp)))
			framed := st.tx[:2+len(resp)]
			if len(st.out)+len(framed) > cap(st.out) && !s.flushTCP(st) {
				return
			}
			if len(framed) > cap(st.out) {
				if !s.writeTCP(st.io, framed) {
					return
				}
				continue
			}
			st.out = append(st.out, framed...)
		}
		if !s.flushTCP(st) {
			return
		}
		// Keep the partial message at the start of the buffer.
		copy(rx, rx[r:w])
		w -= r
		r = 0
		if w >= 2 {
			if need := 2 + int(binary.BigEndian.Uint16(rx)); need > len(rx) {
				grown := make([]byte, 2+dnswire.MaxTCPSize)
				copy(grown, rx[:w])
				rx, st.rx = grown, grown
			}
		}
		var deadline time.Time
		if w == 0 {
			deadline = time.Now().Add(s.cfg.TCPIdleTimeout)
		} else {
			deadline = msgStart.Add(s.cfg.TCPReadTimeout)
		}
		if c.SetReadDeadline(deadline) != nil {
			return
		}
		// stop() sets stopping before it puts a past deadline on every
		// connection; a stop that came between the two calls above had its
		// deadline replaced by ours, so look again after setting it.
		if s.stopping.Load() {
			return
		}
		n, err := st.io.Read(rx[w:])
		if n > 0 && w == 0 {
			msgStart = time.Now()
		}
		w += n
		if err != nil && n == 0 {
			return
		}
	}
}

// flushTCP writes the coalesced answers; false means the connection is done.
func (s *Server) flushTCP(st *tcpConnState) bool {
	if len(st.out) == 0 {
		return true
	}
	ok := s.writeTCP(st.io, st.out)
	st.out = st.out[:0]
	return ok
}

// writeTCP writes b to x's connection within the write timeout; false
// means the connection is done.
func (s *Server) writeTCP(x *connIO, b []byte) bool {
	if x.c.SetWriteDeadline(time.Now().Add(s.cfg.TCPWriteTimeout)) != nil {
		return false
	}
	return x.Write(b) == nil
}
