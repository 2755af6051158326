//go:build !race

package httpserver

import (
	"net"
	"testing"
	"time"
)

// nopConn is a net.Conn whose reads and writes succeed at once.
type nopConn struct{ net.Conn }

func (nopConn) Read(p []byte) (int, error)       { return len(p), nil }
func (nopConn) Write(p []byte) (int, error)      { return len(p), nil }
func (nopConn) SetReadDeadline(time.Time) error  { return nil }
func (nopConn) SetWriteDeadline(time.Time) error { return nil }
func (nopConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1)} }
func (nopConn) Close() error                     { return nil }

// keepAliveRound is one keep-alive request on c: the request read in two
// parts, the response written.
func keepAliveRound(c net.Conn, buf []byte) {
	c.Read(buf)
	c.Read(buf)
	c.Write(buf)
}

func newNopDeadlineConn(tb testing.TB) net.Conn {
	pl := &pipeListener{ch: make(chan net.Conn, 1)}
	pl.ch <- nopConn{}
	dl := newDeadlineListener(pl, connTimeouts{read: time.Second, write: time.Second, idle: time.Minute, tick: DefaultDeadlineTick})
	c, err := dl.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// TestDeadlineConnAllocs: the per-request reads and writes of a routing
// connection allocate nothing.
func TestDeadlineConnAllocs(t *testing.T) {
	c := newNopDeadlineConn(t)
	buf := make([]byte, 128)
	if n := testing.AllocsPerRun(1000, func() { keepAliveRound(c, buf) }); n != 0 {
		t.Errorf("deadlineConn round: %v allocs, want 0", n)
	}
}

// BenchmarkDeadlineConn measures what the timeouts add to one keep-alive
// request (two reads, one write) over a connection that costs nothing.
func BenchmarkDeadlineConn(b *testing.B) {
	c := newNopDeadlineConn(b)
	buf := make([]byte, 128)
	b.ReportAllocs()
	for b.Loop() {
		keepAliveRound(c, buf)
	}
}
