package dnsserver

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client *net.TCPConn) {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.DialTCP("tcp", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.AcceptTCP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// TestConnIORaw: on a TCP connection connIO takes the raw path; a write
// far larger than the socket buffers goes out whole through EAGAIN waits
// while the peer reads slowly; reads return what arrived and io.EOF after
// the peer closes; a write to a peer that never reads ends at the write
// deadline with the same error net.Conn gives.
func TestConnIORaw(t *testing.T) {
	server, client := tcpPair(t)
	x := newConnIO()
	x.attach(server)
	if x.rc == nil {
		t.Fatal("connIO on a *net.TCPConn: no RawConn, raw path not taken")
	}

	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	got := make(chan []byte)
	go func() {
		var b bytes.Buffer
		buf := make([]byte, 4096)
		for b.Len() < len(big) {
			n, err := client.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
			if b.Len() < 1<<20 {
				time.Sleep(time.Millisecond) // slow at first: the sender must wait
			}
		}
		got <- b.Bytes()
	}()
	if err := server.SetWriteDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := x.Write(big); err != nil {
		t.Fatalf("write of %d bytes: %v", len(big), err)
	}
	if b := <-got; !bytes.Equal(b, big) {
		t.Fatalf("peer read %d bytes, want the %d written", len(b), len(big))
	}

	if _, err := client.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := x.Read(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read: %q, %v; want \"hello\"", buf[:n], err)
	}
	_ = server.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := x.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read with nothing sent: %v, want the read deadline", err)
	}
	_ = server.SetReadDeadline(time.Time{})

	// A peer that never reads: once the socket buffers (autotuned, several
	// MiB on loopback) are full, the write waits for room until its
	// deadline.
	_ = server.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	for range 64 {
		if err = x.Write(big); err != nil {
			break
		}
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write to a peer that does not read: %v, want the write deadline", err)
	}

	client.Close()
	for {
		if _, err = x.Read(buf); err != nil {
			break
		}
	}
	if err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after the peer closed: %v, want io.EOF (or a reset, unread data was pending)", err)
	}
	x.detach()
	if x.c != nil || x.rc != nil {
		t.Fatal("detach kept the connection")
	}
}

// hiddenConn hides the connection's syscall.Conn, as a wrapping listener
// (TLS, a proxy-protocol reader) would.
type hiddenConn struct{ net.Conn }

type hidingListener struct{ net.Listener }

func (l hidingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return hiddenConn{c}, nil
}

// TestTCPWrappedListener: connections that are not a syscall.Conn are
// served through net.Conn's own Read and Write.
func TestTCPWrappedListener(t *testing.T) {
	uc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{UDPConns: []*net.UDPConn{uc}, TCPListener: hidingListener{ln}, Handler: newStaticHandler(t)})
	for range 3 {
		r := exchange(t, "tcp", s.TCPAddr().String(), newQuery("a.test.example.", dns.TypeA))
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			t.Fatalf("over a wrapped connection: %v", r)
		}
	}
}
